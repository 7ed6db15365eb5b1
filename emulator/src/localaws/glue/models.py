"""Glue jobs and job runs: the model objects (PascalCase ``as_dict`` as AWS returns them), the job-run
state machine, and Glue's rules for job definitions and run capacities. The backend that holds them is
:mod:`.backend`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from .exceptions import InvalidInputException

PYTHON_SHELL = "pythonshell"
GLUE_ETL = "glueetl"  # Spark jobs
# Glue's documented defaults for what a CreateJob request leaves out (botocore's Glue model docs and
# https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html). GetJob returns them, and Terraform
# reads them back into Optional+Computed attributes, so they must be stable across reads.
DEFAULT_TIMEOUT_MINUTES = 2880
DEFAULT_GLUE_VERSION = "0.9"
DEFAULT_PYTHON_VERSION = "3"  # "Jobs that you create with the AWS CLI default to Python 3" (3.6)
PYTHON_SHELL_CAPACITIES = (0.0625, 1.0)
MAX_TIMEOUT_MINUTES = 10080
PYTHON_SHELL_LOG_GROUP = "/aws-glue/python-jobs"
SPARK_LOG_GROUP = "/aws-glue/jobs"  # glueetl runs (their driver logs: /aws-glue/jobs/output, /error)


class JobRunState(str, Enum):
    WAITING = "WAITING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"


# The only moves a run may make. FAILED is reachable from every live state because a run can fail
# before its process starts (missing script, no interpreter) and because in-flight runs are failed
# when the service restarts.
# WAITING is job run queuing: a run above MaxConcurrentRuns waits for a free slot (or is stopped
# before it ever started, so it has no process to wait for).
TRANSITIONS: dict[JobRunState, tuple[JobRunState, ...]] = {
    JobRunState.WAITING: (JobRunState.STARTING, JobRunState.STOPPED, JobRunState.FAILED),
    JobRunState.STARTING: (JobRunState.RUNNING, JobRunState.STOPPING, JobRunState.FAILED),
    JobRunState.RUNNING: (
        JobRunState.SUCCEEDED,
        JobRunState.FAILED,
        JobRunState.TIMEOUT,
        JobRunState.STOPPING,
    ),
    JobRunState.STOPPING: (JobRunState.STOPPED, JobRunState.FAILED),
    JobRunState.STOPPED: (),
    JobRunState.SUCCEEDED: (),
    JobRunState.FAILED: (),
    JobRunState.TIMEOUT: (),
}
LIVE_STATES = frozenset(s for s, targets in TRANSITIONS.items() if targets)
# Runs that hold one of the job's MaxConcurrentRuns slots.
ACTIVE_STATES = LIVE_STATES - {JobRunState.WAITING}
# StartJobRun parameters a run keeps, defaulted from the job where the request leaves them out
# (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-jobs-runs.html, StartJobRun and JobRun).
RUN_PARAMETERS_FROM_JOB = (
    "WorkerType",
    "NumberOfWorkers",
    "SecurityConfiguration",
    "NotificationProperty",
    "ExecutionClass",
)


@dataclass
class Job:
    """A job definition; ``definition`` holds the CreateJob/JobUpdate attributes (PascalCase) + defaults."""

    name: str
    definition: dict[str, Any]
    created_on: float
    last_modified_on: float
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def command(self) -> dict[str, str]:
        return self.definition["Command"]

    @property
    def default_arguments(self) -> dict[str, str]:
        return self.definition.get("DefaultArguments", {})

    @property
    def non_overridable_arguments(self) -> dict[str, str]:
        return self.definition.get("NonOverridableArguments", {})

    @property
    def max_concurrent_runs(self) -> int:
        return self.definition["ExecutionProperty"].get("MaxConcurrentRuns", 1)

    @property
    def max_retries(self) -> int:
        return self.definition.get("MaxRetries", 0)

    @property
    def is_python_shell(self) -> bool:
        return self.command.get("Name") == PYTHON_SHELL

    def as_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            **copy.deepcopy(self.definition),
            "CreatedOn": self.created_on,
            "LastModifiedOn": self.last_modified_on,
        }


@dataclass
class JobRun:
    """One attempt at running a job. Timestamps are epoch seconds; ``pid``/``region`` are internal."""

    id: str
    job_name: str
    arguments: dict[str, str]
    timeout: int
    max_capacity: float | None
    glue_version: str | None
    region: str
    started_on: float
    last_modified_on: float
    state: JobRunState = JobRunState.STARTING
    attempt: int = 0
    previous_run_id: str | None = None
    completed_on: float | None = None
    running_since: float | None = None
    execution_time: int = 0
    error_message: str | None = None
    pid: int | None = None
    # The run's own settings (StartJobRun, else the job's): PascalCase keys of RUN_PARAMETERS_FROM_JOB.
    settings: dict[str, Any] = field(default_factory=dict)
    queuing: bool = False
    log_group_name: str = PYTHON_SHELL_LOG_GROUP
    dpus: float | None = None  # billed DPUs, reported by the runner (glueetl runs)
    dpu_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "Attempt": self.attempt,
            "JobName": self.job_name,
            "JobMode": "SCRIPT",
            "JobRunQueuingEnabled": self.queuing,
            "StartedOn": self.started_on,
            "LastModifiedOn": self.last_modified_on,
            "JobRunState": self.state.value,
            "PredecessorRuns": [],
            # Deprecated whole-DPU view of MaxCapacity (0 for a 1/16-DPU Python shell run).
            "AllocatedCapacity": int(self.max_capacity or 0),
            "ExecutionTime": self.execution_time,
            "Timeout": self.timeout,
            "LogGroupName": self.log_group_name,
        }
        optional = {
            # AWS leaves out Arguments when the run had none (GetJobRun of a run started without).
            "Arguments": dict(self.arguments) or None,
            "PreviousRunId": self.previous_run_id,
            "CompletedOn": self.completed_on,
            "ErrorMessage": self.error_message,
            "MaxCapacity": self.max_capacity,
            "GlueVersion": self.glue_version,
            **copy.deepcopy(self.settings),
            "DPUSeconds": self.dpu_seconds,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    def to_state(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> JobRun:
        return cls(**{**data, "state": JobRunState(data["state"])})


def apply_job_defaults(definition: dict[str, Any]) -> dict[str, Any]:
    """Validate a CreateJob/JobUpdate body against Glue's rules and fill in what Glue defaults."""
    spec = copy.deepcopy(definition)
    spec.pop("Tags", None)
    command = spec.get("Command") or {}
    if not command.get("ScriptLocation"):
        raise InvalidInputException("Command.ScriptLocation is required.")
    command.setdefault("Name", "glueetl")
    is_shell = command["Name"] == PYTHON_SHELL
    if is_shell:
        command.setdefault("PythonVersion", DEFAULT_PYTHON_VERSION)
        if spec.get("WorkerType") or spec.get("NumberOfWorkers"):
            raise InvalidInputException(
                "WorkerType and NumberOfWorkers are not supported for pythonshell jobs; use MaxCapacity."
            )
        spec.setdefault("MaxCapacity", PYTHON_SHELL_CAPACITIES[0])
        if float(spec["MaxCapacity"]) not in PYTHON_SHELL_CAPACITIES:
            raise InvalidInputException("MaxCapacity for a pythonshell job must be 0.0625 or 1.0.")
    spec["Command"] = command
    spec.setdefault("Timeout", DEFAULT_TIMEOUT_MINUTES)
    if not 1 <= int(spec["Timeout"]) <= MAX_TIMEOUT_MINUTES:
        raise InvalidInputException(f"Timeout must be between 1 and {MAX_TIMEOUT_MINUTES} minutes.")
    spec.setdefault("MaxRetries", 0)
    spec.setdefault("GlueVersion", DEFAULT_GLUE_VERSION)
    spec.setdefault("JobMode", "SCRIPT")
    execution = spec.setdefault("ExecutionProperty", {})
    execution.setdefault("MaxConcurrentRuns", 1)
    if execution["MaxConcurrentRuns"] < 1:
        raise InvalidInputException("ExecutionProperty.MaxConcurrentRuns must be at least 1.")
    return spec


def check_run_capacity(job: Job, params: dict[str, Any]) -> None:
    """StartJobRun's capacity rules (AWS: "Do not set Max Capacity if using WorkerType and
    NumberOfWorkers"; AllocatedCapacity is the deprecated name of MaxCapacity, so not both)."""
    if params.get("AllocatedCapacity") is not None and params.get("MaxCapacity") is not None:
        raise InvalidInputException("Please set only Allocated Capacity or Max Capacity.")
    if job.is_python_shell:
        if params.get("WorkerType") or params.get("NumberOfWorkers"):
            raise InvalidInputException(
                "WorkerType and NumberOfWorkers are not supported for pythonshell jobs; use MaxCapacity."
            )
        capacity = params.get("MaxCapacity", params.get("AllocatedCapacity"))
        if capacity is not None and float(capacity) not in PYTHON_SHELL_CAPACITIES:
            raise InvalidInputException("MaxCapacity for a pythonshell job must be 0.0625 or 1.0.")
    elif params.get("MaxCapacity") is not None and (params.get("WorkerType") or params.get("NumberOfWorkers")):
        raise InvalidInputException("Do not set MaxCapacity together with WorkerType and NumberOfWorkers.")


def validate_name(name: str) -> None:
    # Glue's NameString: 1-255 chars of the single-line string pattern (botocore checks the length).
    if any(ch in name for ch in "\r\n\t") or name != name.strip():
        raise InvalidInputException(f"Invalid job name {name!r}: no leading/trailing spaces or line breaks.")
