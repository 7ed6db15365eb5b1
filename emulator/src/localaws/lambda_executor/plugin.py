"""plux entry point: ``LAMBDA_RUNTIME_EXECUTOR=local-process`` selects this executor.

Declared in ``emulator/pyproject.toml`` under ``localstack.lambda.runtime_executor``. Importing this
module must stay cheap (LocalStack loads every plugin's entry point to list them), so the executor
and its dependencies are imported only in :meth:`LocalProcessExecutorPlugin.load`.
"""

from __future__ import annotations

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class LocalProcessExecutorPlugin(RuntimeExecutorPlugin):
    """Runs Lambda execution environments as subprocesses of a per-runtime interpreter."""

    name = "local-process"

    def load(self, *args, **kwargs):
        from localaws.lambda_executor.executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor
