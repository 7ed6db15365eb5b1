"""Glue API errors, one class per AWS error code (HTTP 400 + ``{"__type", "message"}`` at the edge),
and the reasons a job run fails."""

from __future__ import annotations


class GlueError(Exception):
    """Base of every error the Glue API returns to clients."""

    code = "InternalServiceException"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EntityNotFoundException(GlueError):
    """A job, job run or tagged resource does not exist."""

    code = "EntityNotFoundException"


class AlreadyExistsException(GlueError):
    """A job with this name already exists."""

    code = "AlreadyExistsException"


class InvalidInputException(GlueError):
    """The request does not match the operation's input shape or breaks a Glue rule."""

    code = "InvalidInputException"


class ConcurrentRunsExceededException(GlueError):
    """Starting a run would exceed the job's ExecutionProperty.MaxConcurrentRuns."""

    code = "ConcurrentRunsExceededException"


class InternalServiceException(GlueError):
    """An unexpected failure inside this service (a bug: see the service log)."""

    code = "InternalServiceException"
    status = 500


class UnknownOperationException(GlueError):
    """The X-Amz-Target names an operation this service does not implement."""

    code = "UnknownOperationException"


class InvalidStateTransition(Exception):
    """A job run was asked to make a move its transition table forbids (a service bug, not a client error)."""


# ----- why a job run FAILED (become the run's ErrorMessage; never sent as API errors) -------------
class JobRunFailure(Exception):
    """A job run cannot be executed; the message is what GetJobRun shows as ErrorMessage."""


class UnsupportedJobCommand(JobRunFailure):
    """The job's Command.Name / PythonVersion is not one this service executes."""


class InterpreterNotConfigured(JobRunFailure):
    """No usable interpreter is configured for the job's Python version."""


class RuntimeSetupFailed(JobRunFailure):
    """The job runtime (awsglue stub) could not be prepared from the configured interpreter."""


class AwsEndpointUnavailable(JobRunFailure):
    """The local AWS endpoint (LocalStack) did not answer while the run was being prepared."""


class ScriptNotFound(JobRunFailure):
    """Command.ScriptLocation does not point to a readable S3 object."""


class ExtraPyFileUnavailable(JobRunFailure):
    """An --extra-py-files entry is missing from S3 or has an unsupported type."""


class ModuleInstallFailed(JobRunFailure):
    """pip could not install --additional-python-modules."""
