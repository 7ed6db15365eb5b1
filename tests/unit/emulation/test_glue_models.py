"""Unit tests of the Glue service's models (backend rules, run state machine, persistence) and its
pure helpers (argv, pagination, request validation). No processes, no network."""

from __future__ import annotations

import collections
import json

import pytest
from localaws.glue import models
from localaws.glue.exceptions import (
    AlreadyExistsException,
    ConcurrentRunsExceededException,
    EntityNotFoundException,
    InvalidInputException,
    InvalidStateTransition,
    UnknownOperationException,
)
from localaws.glue.backend import RESTART_MESSAGE, STATE_FILE_VERSION, GlueBackend
from localaws.glue.models import TRANSITIONS, JobRunState
from localaws.glue.responses import GlueResponses, paginate
from localaws.glue.job_env import glue_argv
from localaws.glue.supervision import error_message

COMMAND = {"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://b/job.py"}
ROLE = "arn:aws:iam::000000000000:role/r"


class Recorder:
    """Stands in for the runner: records what the backend asks it to start and stop."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []
        self.stopped: list[str] = []

    def start(self, job, run) -> None:
        self.started.append((job.name, run.id))

    def stop(self, run) -> None:
        self.stopped.append(run.id)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def backend(tmp_path, recorder) -> GlueBackend:
    return GlueBackend(tmp_path, recorder.start, recorder.stop)


def create(backend: GlueBackend, name: str = "job", **extra) -> str:
    return backend.create_job({"Name": name, "Role": ROLE, "Command": dict(COMMAND), **extra})


# ----- state machine -------------------------------------------------------------------------------
def test_transition_table_shape():
    terminal = {JobRunState.SUCCEEDED, JobRunState.FAILED, JobRunState.TIMEOUT, JobRunState.STOPPED}
    assert {s for s, targets in TRANSITIONS.items() if not targets} == terminal
    for state in models.LIVE_STATES:
        assert JobRunState.FAILED in TRANSITIONS[state]  # setup failures and service restarts
    assert JobRunState.SUCCEEDED not in TRANSITIONS[JobRunState.STARTING]  # must have run first
    assert TRANSITIONS[JobRunState.STOPPING] == (JobRunState.STOPPED, JobRunState.FAILED)


def test_run_lifecycle(backend, recorder):
    create(backend)
    run = backend.start_job_run({"JobName": "job", "Arguments": {"--x": "1"}}, "eu-west-1")
    assert recorder.started == [("job", run.id)]
    assert run.state is JobRunState.STARTING and run.id.startswith("jr_") and len(run.id) == 67
    assert backend.mark_running(run.id)
    backend.finish_run(run.id, JobRunState.SUCCEEDED)
    done = backend.get_job_run("job", run.id)
    assert done.state is JobRunState.SUCCEEDED and done.completed_on >= done.started_on
    assert not backend.mark_running(run.id)  # settled runs stay settled
    with pytest.raises(InvalidStateTransition):
        GlueBackend._transition(done, JobRunState.RUNNING)
    shown = done.as_dict()
    assert shown["JobRunState"] == "SUCCEEDED" and shown["Arguments"] == {"--x": "1"}
    assert "ErrorMessage" not in shown and shown["LogGroupName"] == "/aws-glue/python-jobs"


def test_stop_wins_over_the_process_outcome(backend, recorder):
    create(backend)
    run = backend.start_job_run({"JobName": "job"}, "us-east-1")
    backend.mark_running(run.id)
    ok, errors = backend.batch_stop_job_run("job", [run.id, "jr_nope"])
    assert ok == [{"JobName": "job", "JobRunId": run.id}] and recorder.stopped == [run.id]
    assert errors[0]["ErrorDetail"]["ErrorCode"] == "EntityNotFoundException"
    assert backend.get_job_run("job", run.id).state is JobRunState.STOPPING
    backend.finish_run(run.id, JobRunState.SUCCEEDED)  # the process happened to exit meanwhile
    assert backend.get_job_run("job", run.id).state is JobRunState.STOPPED


def test_max_concurrent_runs(backend):
    create(backend, ExecutionProperty={"MaxConcurrentRuns": 2})
    first = backend.start_job_run({"JobName": "job"}, "us-east-1")
    backend.start_job_run({"JobName": "job"}, "us-east-1")
    with pytest.raises(ConcurrentRunsExceededException):
        backend.start_job_run({"JobName": "job"}, "us-east-1")
    backend.mark_running(first.id)
    backend.finish_run(first.id, JobRunState.FAILED, "x")
    backend.start_job_run({"JobName": "job"}, "us-east-1")  # a slot is free again


def test_failed_run_is_retried_up_to_max_retries(backend, recorder):
    create(backend, MaxRetries=1)
    run = backend.start_job_run({"JobName": "job", "Arguments": {"--a": "b"}}, "us-east-1")
    backend.mark_running(run.id)
    backend.finish_run(run.id, JobRunState.FAILED, "boom")
    assert len(recorder.started) == 2
    retry = backend.get_job_run("job", recorder.started[1][1])
    assert (retry.attempt, retry.previous_run_id, retry.arguments) == (1, run.id, {"--a": "b"})
    backend.mark_running(retry.id)
    backend.finish_run(retry.id, JobRunState.FAILED, "boom")
    assert len(recorder.started) == 2  # MaxRetries reached


def test_non_overridable_arguments_cannot_be_overridden(backend):
    create(backend, NonOverridableArguments={"--env": "prod"})
    with pytest.raises(InvalidInputException, match="--env"):
        backend.start_job_run({"JobName": "job", "Arguments": {"--env": "dev"}}, "us-east-1")


# ----- jobs ----------------------------------------------------------------------------------------
def test_job_defaults_are_glues(backend):
    create(backend)
    job = backend.get_job("job").as_dict()
    assert job["MaxCapacity"] == 0.0625 and job["Timeout"] == 2880 and job["MaxRetries"] == 0
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1} and job["GlueVersion"] == "0.9"
    assert "ExecutionClass" not in job  # echoed only when set: Terraform reads it as Optional, not Computed
    create(backend, "legacy", Command={"Name": "pythonshell", "ScriptLocation": "s3://b/k.py"})
    assert backend.get_job("legacy").command["PythonVersion"] == "3"


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"MaxCapacity": 2.0}, "0.0625 or 1.0"),
        ({"WorkerType": "G.1X", "NumberOfWorkers": 2}, "MaxCapacity"),
        ({"Timeout": 20000}, "Timeout"),
    ],
)
def test_job_rules(backend, extra, message):
    with pytest.raises(InvalidInputException, match=message):
        create(backend, **extra)


def test_job_errors_and_tags(backend):
    create(backend, Tags={"a": "1"})
    with pytest.raises(AlreadyExistsException):
        create(backend)
    with pytest.raises(EntityNotFoundException):
        backend.get_job("missing")
    arn = "arn:aws:glue:us-east-1:000000000000:job/job"
    backend.tag_resource(arn, {"b": "2"})
    backend.untag_resource(arn, ["a"])
    assert backend.get_tags(arn) == {"b": "2"}
    with pytest.raises(EntityNotFoundException):
        backend.get_tags("arn:aws:glue:us-east-1:000000000000:job/missing")
    with pytest.raises(InvalidInputException):
        backend.get_tags("arn:aws:s3:::bucket")
    assert backend.delete_job("job") == "job" and backend.delete_job("job") == "job"  # idempotent


def test_state_survives_a_restart_and_in_flight_runs_fail(tmp_path, recorder):
    first = GlueBackend(tmp_path, recorder.start, recorder.stop)
    create(first)
    finished = first.start_job_run({"JobName": "job"}, "us-east-1")
    first.mark_running(finished.id)
    first.finish_run(finished.id, JobRunState.SUCCEEDED)
    create(first, "other")
    lost = first.start_job_run({"JobName": "other"}, "us-east-1")
    first.mark_running(lost.id)
    first.set_pid(lost.id, 4242)

    second = GlueBackend(tmp_path, recorder.start, recorder.stop)
    assert [j.name for j in second.list_jobs()] == ["job", "other"]
    assert second.get_job_run("job", finished.id).state is JobRunState.SUCCEEDED
    failed = second.get_job_run("other", lost.id)
    assert failed.state is JobRunState.FAILED and failed.error_message == RESTART_MESSAGE
    assert second.orphaned_pids() == [(lost.id, 4242)]
    assert json.loads((tmp_path / "state.json").read_text())["version"] == STATE_FILE_VERSION


# ----- responses and argv --------------------------------------------------------------------------
def test_paginate():
    items = list(range(5))
    assert paginate(items, {"MaxResults": 2}) == ([0, 1], "2")
    assert paginate(items, {"MaxResults": 2, "NextToken": "4"}) == ([4], None)
    with pytest.raises(InvalidInputException):
        paginate(items, {"NextToken": "garbage"})


def test_dispatch_validates_with_the_glue_model(backend):
    responses = GlueResponses(backend)
    with pytest.raises(InvalidInputException, match="Command"):
        responses.dispatch("AWSGlue.CreateJob", b'{"Name": "x", "Role": "r"}', "us-east-1")
    with pytest.raises(InvalidInputException, match="Timeout"):
        responses.dispatch("AWSGlue.StartJobRun", b'{"JobName": "x", "Timeout": 0}', "us-east-1")
    with pytest.raises(UnknownOperationException):
        responses.dispatch("AWSGlue.CreateCrawler", b"{}", "us-east-1")
    body = json.dumps({"Name": "x", "Role": ROLE, "Command": COMMAND}).encode()
    assert responses.dispatch("AWSGlue.CreateJob", body, "us-east-1") == {"Name": "x"}
    job = responses.dispatch("AWSGlue.GetJob", b'{"JobName": "x"}', "us-east-1")["Job"]
    assert isinstance(job["CreatedOn"], float)  # JSON protocol: epoch seconds


def test_glue_argv(backend):
    create(backend, DefaultArguments={"--a": "default", "--b": "default"})
    job = backend.get_job("job")
    run = backend.start_job_run({"JobName": "job", "Arguments": {"--b": "run"}}, "us-east-1")
    argv = glue_argv(job, run, {**job.default_arguments, **run.arguments, "--JOB_NAME": "spoofed"})
    assert argv[:6] == [
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--scriptLocation",
        "s3://b/job.py",
        "--job-language",
        "python",
    ]
    assert argv[6:10] == ["--a", "default", "--b", "run"]
    assert argv[10:] == ["--JOB_RUN_ID", run.id, "--JOB_NAME", "job"]


def test_error_message_is_the_traceback_exception_line():
    tail = collections.deque(
        ["Traceback (most recent call last):", '  File "x.py", line 1', "KeyError: 'col'", ""]
    )
    assert error_message(tail, 1) == "KeyError: 'col'"
    assert error_message(collections.deque(["plain stderr"]), 3) == "Command failed with exit code 3."
    assert error_message(collections.deque(), -9) == "Job process was killed by signal 9."
