"""Unit tests of the Glue service's API fidelity (issue 9, "The Glue API as AWS documents it" and
"Events"): per-run parameters, retries by JobRunId, BatchGetJobs, job run queuing (WAITING), the
completion callback behind "Glue Job State Change" events, and every response of every implemented
operation checked against botocore's output shapes. Requests go through ``GlueResponses.dispatch``
(the same parsing and serialisation as over HTTP); the runner is a recorder, so no processes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.model import Shape
from localaws.glue.events import DETAIL_TYPE, SOURCE, job_state_change_detail, put_events_entry
from localaws.glue.exceptions import ConcurrentRunsExceededException, InvalidInputException
from localaws.glue.backend import GlueBackend
from localaws.glue.models import JobRunState
from localaws.glue.responses import GlueResponses, _service_model

REGION = "eu-west-1"
ROLE = "arn:aws:iam::000000000000:role/r"
SHELL = {"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://b/job.py"}
SPARK = {"Name": "glueetl", "PythonVersion": "3", "ScriptLocation": "s3://b/etl.py"}


class Recorder:
    """Stands in for the runner and the event sender."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.finished: list[tuple[str, str]] = []

    def start(self, job, run) -> None:
        self.started.append(run.id)

    def stop(self, run) -> None:
        self.stopped.append(run.id)

    def finish(self, run) -> None:
        self.finished.append((run.id, run.state.value))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def backend(tmp_path, recorder) -> GlueBackend:
    return GlueBackend(tmp_path, recorder.start, recorder.stop, recorder.finish)


@pytest.fixture
def api(backend):
    responses = GlueResponses(backend)

    def call(operation: str, **params: Any) -> dict[str, Any]:
        return responses.dispatch(f"AWSGlue.{operation}", json.dumps(params).encode(), REGION)

    call.responses = responses  # type: ignore[attr-defined]
    return call


def _finish(backend: GlueBackend, run_id: str, outcome: JobRunState, message: str | None = None) -> None:
    if backend._runs[run_id].state is JobRunState.STARTING:
        assert backend.mark_running(run_id)
    backend.finish_run(run_id, outcome, message)


# ----- per-run parameters --------------------------------------------------------------------------
def test_run_keeps_its_own_parameters_and_defaults_the_rest_from_the_job(api):
    api(
        "CreateJob",
        Name="etl",
        Role=ROLE,
        Command=SPARK,
        GlueVersion="4.0",
        WorkerType="G.1X",
        NumberOfWorkers=4,
        SecurityConfiguration="job-sec",
        NotificationProperty={"NotifyDelayAfter": 5},
        ExecutionClass="STANDARD",
        ExecutionProperty={"MaxConcurrentRuns": 5},
    )
    default = api("StartJobRun", JobName="etl")["JobRunId"]
    shown = api("GetJobRun", JobName="etl", RunId=default)["JobRun"]
    assert (shown["WorkerType"], shown["NumberOfWorkers"]) == ("G.1X", 4)
    assert shown["SecurityConfiguration"] == "job-sec"
    assert shown["NotificationProperty"] == {"NotifyDelayAfter": 5}
    assert shown["ExecutionClass"] == "STANDARD" and shown["Timeout"] == 2880
    assert "Arguments" not in shown  # AWS omits an empty map

    own = api(
        "StartJobRun",
        JobName="etl",
        WorkerType="G.2X",
        NumberOfWorkers=10,
        Timeout=30,
        SecurityConfiguration="run-sec",
        NotificationProperty={"NotifyDelayAfter": 1},
        ExecutionClass="FLEX",
    )["JobRunId"]
    runs = {r["Id"]: r for r in api("GetJobRuns", JobName="etl")["JobRuns"]}
    assert (runs[own]["WorkerType"], runs[own]["NumberOfWorkers"], runs[own]["Timeout"]) == ("G.2X", 10, 30)
    assert runs[own]["SecurityConfiguration"] == "run-sec" and runs[own]["ExecutionClass"] == "FLEX"
    assert runs[own]["NotificationProperty"] == {"NotifyDelayAfter": 1}
    assert runs[default]["WorkerType"] == "G.1X"  # the other run is untouched


def test_python_shell_run_capacity(api):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, ExecutionProperty={"MaxConcurrentRuns": 5})
    small = api("GetJobRun", JobName="shell", RunId=api("StartJobRun", JobName="shell")["JobRunId"])["JobRun"]
    assert (small["MaxCapacity"], small["AllocatedCapacity"]) == (0.0625, 0)
    big_id = api("StartJobRun", JobName="shell", MaxCapacity=1.0)["JobRunId"]
    big = api("GetJobRun", JobName="shell", RunId=big_id)["JobRun"]
    assert (big["MaxCapacity"], big["AllocatedCapacity"]) == (1.0, 1)
    legacy_id = api("StartJobRun", JobName="shell", AllocatedCapacity=1)["JobRunId"]
    assert api("GetJobRun", JobName="shell", RunId=legacy_id)["JobRun"]["MaxCapacity"] == 1.0
    with pytest.raises(InvalidInputException, match="Allocated Capacity or Max Capacity"):
        api("StartJobRun", JobName="shell", AllocatedCapacity=1, MaxCapacity=1.0)
    with pytest.raises(InvalidInputException, match="0.0625 or 1.0"):
        api("StartJobRun", JobName="shell", MaxCapacity=2.0)
    with pytest.raises(InvalidInputException, match="WorkerType"):
        api("StartJobRun", JobName="shell", WorkerType="G.1X", NumberOfWorkers=2)


# ----- retries by JobRunId -------------------------------------------------------------------------
def test_start_job_run_with_job_run_id_retries_that_run(api, backend):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL)
    first = api("StartJobRun", JobName="shell", Arguments={"--x": "1"})["JobRunId"]
    _finish(backend, first, JobRunState.FAILED, "boom")
    retry = api("StartJobRun", JobName="shell", JobRunId=first)["JobRunId"]
    shown = api("GetJobRun", JobName="shell", RunId=retry)["JobRun"]
    assert retry != first
    assert shown["PreviousRunId"] == first and shown["Attempt"] == 1
    assert shown["Arguments"] == {"--x": "1"}  # the retry repeats the run it retries
    with pytest.raises(Exception, match="not found"):
        api("StartJobRun", JobName="shell", JobRunId="jr_nope")


# ----- BatchGetJobs --------------------------------------------------------------------------------
def test_batch_get_jobs(api):
    api("CreateJob", Name="a", Role=ROLE, Command=SHELL)
    api("CreateJob", Name="b", Role=ROLE, Command=SHELL)
    result = api("BatchGetJobs", JobNames=["b", "missing", "a"])
    assert [job["Name"] for job in result["Jobs"]] == ["b", "a"]
    assert result["JobsNotFound"] == ["missing"]
    assert result["Jobs"][0]["Command"]["Name"] == "pythonshell"


# ----- job run queuing -----------------------------------------------------------------------------
def test_without_queuing_a_busy_job_refuses(api):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL)
    api("StartJobRun", JobName="shell")
    with pytest.raises(ConcurrentRunsExceededException):
        api("StartJobRun", JobName="shell")


@pytest.mark.parametrize("on_job", [True, False], ids=["job-setting", "run-setting"])
def test_queued_runs_wait_and_start_in_order(api, backend, recorder, on_job):
    extra = {"JobRunQueuingEnabled": True} if on_job else {}
    run_extra = {} if on_job else {"JobRunQueuingEnabled": True}
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, **extra)
    first = api("StartJobRun", JobName="shell", **run_extra)["JobRunId"]
    second = api("StartJobRun", JobName="shell", **run_extra)["JobRunId"]
    third = api("StartJobRun", JobName="shell", **run_extra)["JobRunId"]

    def state(run_id: str) -> str:
        return api("GetJobRun", JobName="shell", RunId=run_id)["JobRun"]["JobRunState"]

    assert [state(r) for r in (first, second, third)] == ["STARTING", "WAITING", "WAITING"]
    assert recorder.started == [first]
    assert api("GetJobRun", JobName="shell", RunId=second)["JobRun"]["JobRunQueuingEnabled"] is True
    _finish(backend, first, JobRunState.SUCCEEDED)
    assert recorder.started == [first, second] and state(third) == "WAITING"
    _finish(backend, second, JobRunState.FAILED, "x")
    assert recorder.started == [first, second, third] and state(third) == "STARTING"


def test_a_run_setting_overrides_the_job_setting(api):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, JobRunQueuingEnabled=True)
    api("StartJobRun", JobName="shell")
    with pytest.raises(ConcurrentRunsExceededException):
        api("StartJobRun", JobName="shell", JobRunQueuingEnabled=False)


def test_a_waiting_run_can_be_stopped_and_never_starts(api, backend, recorder):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, JobRunQueuingEnabled=True)
    first = api("StartJobRun", JobName="shell")["JobRunId"]
    waiting = api("StartJobRun", JobName="shell")["JobRunId"]
    result = api("BatchStopJobRun", JobName="shell", JobRunIds=[waiting])
    assert result["SuccessfulSubmissions"] == [{"JobName": "shell", "JobRunId": waiting}]
    assert api("GetJobRun", JobName="shell", RunId=waiting)["JobRun"]["JobRunState"] == "STOPPED"
    _finish(backend, first, JobRunState.SUCCEEDED)
    assert recorder.started == [first]
    assert (waiting, "STOPPED") in recorder.finished


# ----- terminal states and their events ------------------------------------------------------------
def test_every_terminal_state_is_announced_once(api, backend, recorder, tmp_path):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, ExecutionProperty={"MaxConcurrentRuns": 9})
    ids = [api("StartJobRun", JobName="shell")["JobRunId"] for _ in range(5)]
    _finish(backend, ids[0], JobRunState.SUCCEEDED)
    _finish(backend, ids[1], JobRunState.FAILED, "KeyError: 'close'")
    _finish(backend, ids[2], JobRunState.TIMEOUT, "timed out")
    api("BatchStopJobRun", JobName="shell", JobRunIds=[ids[3]])
    backend.finish_run(ids[3], JobRunState.SUCCEEDED)  # the process exits after the stop request
    backend.finish_run(ids[0], JobRunState.FAILED)  # a late second report changes nothing
    assert recorder.finished == [
        (ids[0], "SUCCEEDED"),
        (ids[1], "FAILED"),
        (ids[2], "TIMEOUT"),
        (ids[3], "STOPPED"),
    ]
    restarted = Recorder()
    GlueBackend(tmp_path, restarted.start, restarted.stop, restarted.finish)  # ids[4] was in flight
    assert restarted.finished == [(ids[4], "FAILED")]


def test_state_change_event_has_aws_shape(api, backend):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, ExecutionProperty={"MaxConcurrentRuns": 9})
    ok, bad, slow = (api("StartJobRun", JobName="shell")["JobRunId"] for _ in range(3))
    _finish(backend, ok, JobRunState.SUCCEEDED)
    _finish(backend, bad, JobRunState.FAILED, "ValueError: no rows")
    _finish(backend, slow, JobRunState.TIMEOUT, "timed out")
    assert job_state_change_detail(backend.get_job_run("shell", ok)) == {
        "jobName": "shell",
        "severity": "INFO",
        "state": "SUCCEEDED",
        "jobRunId": ok,
        "message": "Job run succeeded",
    }
    failed = job_state_change_detail(backend.get_job_run("shell", bad))
    assert failed["severity"] == "ERROR" and failed["state"] == "FAILED"
    assert failed["message"] == f"JobName:shell and JobRunId:{bad} failed to execute with exception ValueError: no rows"
    assert job_state_change_detail(backend.get_job_run("shell", slow))["severity"] == "WARN"
    entry = put_events_entry(backend.get_job_run("shell", ok))
    assert (entry["Source"], entry["DetailType"]) == (SOURCE, DETAIL_TYPE) == ("aws.glue", "Glue Job State Change")
    assert json.loads(entry["Detail"])["jobRunId"] == ok


# ----- every response against botocore's output shapes ---------------------------------------------
_PY_TYPES = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float),
    "list": list,
    "map": dict,
    "structure": dict,
}


def _conforms(value: Any, shape: Shape, path: str) -> list[str]:
    """Problems of ``value`` against ``shape``: unknown members, wrong types, missing required ones,
    empty collections below the top level (AWS leaves out an empty map or list inside an object)."""
    expected = _PY_TYPES.get(shape.type_name)
    if expected is None:
        return [f"{path}: unexpected shape type {shape.type_name}"]
    if not isinstance(value, expected) or (shape.type_name in ("integer", "long", "double") and isinstance(value, bool)):
        return [f"{path}: {type(value).__name__} is not a {shape.type_name}"]
    problems: list[str] = []
    if shape.type_name == "structure":
        for name in set(value) - set(shape.members):
            problems.append(f"{path}.{name}: not a member of {shape.name}")
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required member missing")
        for name, member_value in value.items():
            if name in shape.members:
                member = shape.members[name]
                if member.type_name in ("list", "map") and not member_value and path.count(".") >= 1:
                    problems.append(f"{path}.{name}: empty {member.type_name} (AWS omits it)")
                problems += _conforms(member_value, member, f"{path}.{name}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            problems += _conforms(item, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            problems += _conforms(key, shape.key, f"{path}{{key}}")
            problems += _conforms(item, shape.value, f"{path}[{key!r}]")
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        problems.append(f"{path}: {value!r} is not one of {enum}")
    return problems


# PredecessorRuns is always sent, empty, by AWS's GetJobRun (observed in published responses).
ALWAYS_SENT = {"PredecessorRuns"}


def test_every_response_of_every_operation_matches_botocore(api, backend):
    arn = f"arn:aws:glue:{REGION}:000000000000:job/shell"
    calls: list[tuple[str, dict[str, Any]]] = [
        ("CreateJob", {"Name": "shell", "Role": ROLE, "Command": SHELL, "JobRunQueuingEnabled": True,
                       "DefaultArguments": {"--a": "1"}, "Tags": {"team": "ml"}}),
        ("CreateJob", {"Name": "etl", "Role": ROLE, "Command": SPARK, "WorkerType": "G.1X",
                       "NumberOfWorkers": 2, "ExecutionClass": "STANDARD"}),
        ("GetJob", {"JobName": "shell"}),
        ("GetJobs", {}),
        ("GetJobs", {"MaxResults": 1}),
        ("BatchGetJobs", {"JobNames": ["shell", "missing"]}),
        ("ListJobs", {}),
        ("ListJobs", {"Tags": {"team": "ml"}}),
        ("UpdateJob", {"JobName": "etl", "JobUpdate": {"Role": ROLE, "Command": SPARK}}),
        ("TagResource", {"ResourceArn": arn, "TagsToAdd": {"k": "v"}}),
        ("GetTags", {"ResourceArn": arn}),
        ("UntagResource", {"ResourceArn": arn, "TagsToRemove": ["k"]}),
        ("StartJobRun", {"JobName": "shell"}),
        ("StartJobRun", {"JobName": "shell", "Arguments": {"--b": "2"}}),
        ("StartJobRun", {"JobName": "etl", "WorkerType": "G.2X", "NumberOfWorkers": 3}),
        ("GetJobRuns", {"JobName": "shell"}),
        ("GetJobRuns", {"JobName": "etl", "MaxResults": 1}),
        ("BatchStopJobRun", {"JobName": "shell", "JobRunIds": ["jr_missing"]}),
        ("DeleteJob", {"JobName": "gone"}),
    ]
    problems: list[str] = []
    responses: dict[str, list[dict]] = {}
    for operation, params in calls:
        result = api(operation, **params)
        responses.setdefault(operation, []).append(result)
    # A finished, a waiting and a stopped run, then GetJobRun of each.
    runs = api("GetJobRuns", JobName="shell")["JobRuns"]
    _finish(backend, runs[-1]["Id"], JobRunState.FAILED, "boom")
    for run in api("GetJobRuns", JobName="shell")["JobRuns"]:
        responses.setdefault("GetJobRun", []).append(api("GetJobRun", JobName="shell", RunId=run["Id"]))
    waiting = api("StartJobRun", JobName="shell")["JobRunId"]
    responses["BatchStopJobRun"].append(api("BatchStopJobRun", JobName="shell", JobRunIds=[waiting]))
    responses["DeleteJob"].append(api("DeleteJob", JobName="etl"))

    assert set(responses) == set(api.responses.operations), "an implemented operation is not exercised"
    for operation, results in responses.items():
        shape = _service_model.operation_model(operation).output_shape
        for result in results:
            found = _conforms(result, shape, operation) if shape else ([] if result == {} else ["not empty"])
            problems += [p for p in found if not any(p.endswith(f".{n}: empty list (AWS omits it)") for n in ALWAYS_SENT)]
    assert problems == []


def test_jobs_with_retries_do_not_queue(api):
    api("CreateJob", Name="shell", Role=ROLE, Command=SHELL, JobRunQueuingEnabled=True, MaxRetries=1)
    api("StartJobRun", JobName="shell")
    with pytest.raises(ConcurrentRunsExceededException):
        api("StartJobRun", JobName="shell")
