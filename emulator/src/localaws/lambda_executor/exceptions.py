"""Failure kinds of the local-process Lambda executor.

LocalStack turns an exception from ``prepare_version`` into the function's ``Failed`` state
(its message becomes ``StateReason``) and one from ``start``/``invoke`` into a failed invocation,
so every message says what to do next.
"""

from __future__ import annotations


class LocalExecutorError(Exception):
    """Base class of every error raised by the local-process executor."""


class UnsupportedFunctionError(LocalExecutorError):
    """The function's package type or runtime cannot run as a local process."""


class RuntimeNotConfiguredError(LocalExecutorError):
    """No interpreter is configured for the function's runtime."""


class InterpreterNotFoundError(LocalExecutorError):
    """The configured interpreter path does not exist or is not executable."""


class EnvironmentStartError(LocalExecutorError):
    """The runtime process exited or stayed silent before reporting ready."""


class InvokeDeliveryError(LocalExecutorError):
    """An invocation could not be handed to the runtime process."""
