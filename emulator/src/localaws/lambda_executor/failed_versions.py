"""Make a function version in ``Failed`` deletable and updatable, as on AWS.

When a version's preparation fails (the executor's ``prepare_version`` raised: a container image,
an interpreter that vanished, code that does not unzip), LocalStack 2026.3.0 marks it ``Failed`` and
drops its version manager, which it registers only for versions that became Active. Its
``LambdaService`` then answers for that version as if the manager had to exist:

- ``stop_version`` (DeleteFunction, DeleteFunction with a qualifier) raises ``ValueError("Unable to
  find version manager ...")``, an HTTP 500, and the function cannot be deleted;
- ``update_version`` (UpdateFunctionConfiguration, UpdateFunctionCode) raises ``ValueError("... cannot
  be updated if an old one is not running")`` after the provider has already stored the new
  configuration as ``InProgress``, so infrastructure tools wait for an update that never ends.

On AWS both succeed: deleting a Failed function removes it, and an update prepares the function
again (``Failed`` -> ``Pending`` -> ``Active`` or ``Failed``). The patches below do that: stopping a
version that has no manager has nothing to stop, and updating one with no running predecessor
prepares the new configuration as CreateFunction does.

Loaded by LocalStack as an ``on_infra_start`` hook (entry point in ``emulator/pyproject.toml``); it
does nothing unless ``LAMBDA_RUNTIME_EXECUTOR=local-process`` selects this package's executor.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import Future

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


@hooks.on_infra_start(should_load=lambda: os.environ.get("LAMBDA_RUNTIME_EXECUTOR") == "local-process")
def let_failed_functions_be_deleted_and_updated() -> None:
    from localstack.services.lambda_ import hooks as lambda_hooks
    from localstack.services.lambda_.invocation.lambda_models import FunctionVersion
    from localstack.services.lambda_.invocation.lambda_service import LambdaService
    from localstack.utils.patch import patch

    def has_manager(service: LambdaService, qualified_arn: str) -> bool:
        with service.lambda_version_manager_lock:
            return qualified_arn in service.lambda_running_versions or qualified_arn in service.lambda_starting_versions

    @patch(LambdaService.stop_version)
    def stop_version(fn, self: LambdaService, qualified_arn: str) -> None:
        if has_manager(self, qualified_arn):
            return fn(self, qualified_arn)
        LOG.debug("Version %s never became Active: nothing to stop", qualified_arn)
        event_manager = self.event_managers.pop(qualified_arn, None)
        if event_manager:
            self.task_executor.submit(event_manager.stop)
        # CreateFunction ran the create hook for this version: keep the pair symmetric.
        lambda_hooks.delete_function_version.run(qualified_arn)

    @patch(LambdaService.update_version)
    def update_version(fn, self: LambdaService, new_version: FunctionVersion) -> Future[None]:
        if new_version.config.capacity_provider_config or new_version.qualified_arn in self.lambda_running_versions:
            return fn(self, new_version)
        # Its predecessor Failed. (One still starting makes create_function_version answer
        # ResourceConflictException, "An update is in progress", as AWS does.)
        LOG.debug("Version %s has no running predecessor: preparing it anew", new_version.qualified_arn)
        return self.create_function_version(function_version=new_version)
