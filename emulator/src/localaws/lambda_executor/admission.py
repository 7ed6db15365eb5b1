"""Refuse, at CreateFunction / UpdateFunctionConfiguration, a function whose runtime has no local
interpreter, with a client error that names the runtimes available and how to add one.

Without this, LocalStack accepts the function and its version preparation fails later: the function
ends in ``Failed`` and infrastructure tools (Terraform) wait for minutes for ``Active``. Rejecting
the request up front is what a user needs, and matches how AWS rejects a runtime it does not offer
(``InvalidParameterValueException``).

Loaded by LocalStack as an ``on_infra_start`` hook (entry point in ``emulator/pyproject.toml``); it
does nothing unless ``LAMBDA_RUNTIME_EXECUTOR=local-process`` selects this package's executor.
"""
from __future__ import annotations

import os

from localstack.runtime import hooks

from localaws.lambda_executor.runtimes import refusal


@hooks.on_infra_start(should_load=lambda: os.environ.get("LAMBDA_RUNTIME_EXECUTOR") == "local-process")
def refuse_functions_without_a_local_runtime() -> None:
    from localstack.aws.api.lambda_ import InvalidParameterValueException
    from localstack.services.lambda_.provider import LambdaProvider
    from localstack.utils.patch import patch

    def check(request) -> None:
        message = refusal(request.get("Runtime"))
        if message:
            raise InvalidParameterValueException(message, Type="User")

    @patch(LambdaProvider.create_function)
    def create_function(fn, self, context, request, *args, **kwargs):
        check(request)
        return fn(self, context, request, *args, **kwargs)

    @patch(LambdaProvider.update_function_configuration)
    def update_function_configuration(fn, self, context, request, *args, **kwargs):
        check(request)
        return fn(self, context, request, *args, **kwargs)
