"""localaws.glue.backend: the service's bookkeeping of jobs and runs, asserted with literal values, a
controlled clock and callbacks that try to change what they are handed (issue 16: found by mutation)."""

from __future__ import annotations

import json
import logging
import types

import pytest
from localaws.glue import backend as backend_module
from localaws.glue.backend import RESTART_MESSAGE, GlueBackend
from localaws.glue.exceptions import (AlreadyExistsException, ConcurrentRunsExceededException,
                                      EntityNotFoundException, InvalidInputException, InvalidStateTransition)
from localaws.glue.models import JobRunState

SHELL = {"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://b/job.py"}
SPARK = {"Name": "glueetl", "ScriptLocation": "s3://b/spark.py"}
ARN = "arn:aws:glue:eu-west-1:000000000000:job/"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


class Listener:
    """Records the callbacks, and scribbles on every object it is handed: the backend must hand copies."""

    def __init__(self) -> None:
        self.started, self.stopped, self.finished = [], [], []

    def start(self, job, run) -> None:
        self.started.append((job.name, run.id, run.state))
        job.definition["Command"]["ScriptLocation"] = "s3://scribbled"
        run.arguments["--scribbled"] = "yes"

    def stop(self, run) -> None:
        self.stopped.append(run.id)
        run.arguments["--scribbled"] = "yes"

    def finish(self, run) -> None:
        self.finished.append((run.id, run.state, run.error_message))
        run.arguments["--scribbled"] = "yes"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(backend_module, "time", types.SimpleNamespace(time=clock.time))
    return clock


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def backend(tmp_path, listener, clock) -> GlueBackend:
    return GlueBackend(tmp_path / "state", listener.start, listener.stop, listener.finish)


def _create(backend: GlueBackend, name: str = "job", command=SHELL, **extra) -> str:
    return backend.create_job({"Name": name, "Role": "r", "Command": dict(command), **extra})


def _succeed(backend: GlueBackend, run_id: str) -> None:
    assert backend.mark_running(run_id) is True
    backend.finish_run(run_id, JobRunState.SUCCEEDED)


def _untouched(backend: GlueBackend, job: str, run_id: str) -> None:
    assert backend.get_job(job).command["ScriptLocation"].startswith("s3://b/")
    assert "--scribbled" not in backend.get_job_run(job, run_id).arguments


def test_the_state_dir_is_created_with_its_parents_and_the_file_is_readable_json(tmp_path, listener, clock):
    backend = GlueBackend(tmp_path / "a" / "b" / "c", listener.start, listener.stop)
    _create(backend)
    text = (tmp_path / "a" / "b" / "c" / "state.json").read_text()
    assert text.startswith('{\n "version": 1,\n "jobs": [\n  {\n   "name": "job",')  # one-space indents
    assert sorted(p.name for p in (tmp_path / "a" / "b" / "c").iterdir()) == ["state.json"]


def test_a_job_keeps_its_name_out_of_its_definition_its_tags_and_its_times(backend, clock):
    clock.now = 1234.5
    _create(backend, Tags={"team": "ml"}, GlueVersion="3.0")
    job = backend.get_job("job")
    assert "Name" not in job.definition and job.definition["GlueVersion"] == "3.0"
    assert job.tags == {"team": "ml"}
    assert (job.created_on, job.last_modified_on) == (1234.5, 1234.5)
    clock.now = 2000.0
    backend.update_job("job", {"Role": "r", "Command": dict(SHELL)})
    job = backend.get_job("job")
    assert (job.created_on, job.last_modified_on) == (1234.5, 2000.0)
    with pytest.raises(AlreadyExistsException) as caught:
        _create(backend)
    assert caught.value.message == "Job with name job already exists."
    with pytest.raises(EntityNotFoundException) as caught:
        backend.get_job("nope")
    assert caught.value.message == "Job nope not found."


def test_what_the_backend_hands_out_are_copies(backend):
    _create(backend, Tags={"t": "1"})
    backend.get_job("job").definition["Command"]["ScriptLocation"] = "s3://changed"
    backend.list_jobs()[0].definition["Command"]["ScriptLocation"] = "s3://changed"
    backend.list_jobs({"t": "1"})[0].tags["t"] = "2"
    assert backend.get_job("job").command["ScriptLocation"] == "s3://b/job.py"
    assert backend.get_job("job").tags == {"t": "1"}
    run = backend.start_job_run({"JobName": "job", "Arguments": {"--a": "1"}}, "eu-west-1")
    run.arguments["--a"] = "changed"
    backend.get_job_run("job", run.id).arguments["--a"] = "changed"
    backend.get_job_runs("job")[0].arguments["--a"] = "changed"
    backend.get_job_runs("job")[0].state = JobRunState.FAILED
    stored = backend.get_job_run("job", run.id)
    assert stored.arguments == {"--a": "1"} and stored.state is JobRunState.STARTING
    _untouched(backend, "job", run.id)  # on_run_started scribbled on its own copies


def test_list_jobs_by_name_and_by_every_tag(backend):
    _create(backend, "b", Tags={"team": "ml", "env": "dev"})
    _create(backend, "a", Tags={"team": "ml"})
    _create(backend, "c")
    assert [j.name for j in backend.list_jobs()] == ["a", "b", "c"]
    assert [j.name for j in backend.list_jobs({"team": "ml"})] == ["a", "b"]
    assert [j.name for j in backend.list_jobs({"team": "ml", "env": "dev"})] == ["b"]
    assert [j.name for j in backend.list_jobs({"team": "ops"})] == []


def test_tags_by_arn_even_for_a_name_with_colons(backend):
    _create(backend, "a:b")
    backend.tag_resource(ARN + "a:b", {"k": "v", "x": "y"})
    backend.untag_resource(ARN + "a:b", ["x", "never-set"])
    assert backend.get_tags(ARN + "a:b") == {"k": "v"}
    _create(backend, "x")
    for arn in ("arn:aws:s3:eu-west-1:000000000000:job/x", "arn:aws:glue:job/x",
                "arn:aws:glue:eu-west-1:000000000000:table/x"):
        with pytest.raises(InvalidInputException) as caught:
            backend.get_tags(arn)
        assert caught.value.message == f"{arn} is not a Glue job ARN (arn:aws:glue:<region>:<account>:job/<name>)."
    with pytest.raises(EntityNotFoundException) as caught:
        backend.get_tags(ARN + "gone")
    assert caught.value.message == f"Resource {ARN}gone not found."


def test_a_run_takes_its_settings_from_the_request_else_from_the_job(backend, clock):
    _create(backend, "spark", SPARK, GlueVersion="5.0", WorkerType="G.1X", NumberOfWorkers=2,
            NotificationProperty={"NotifyDelayAfter": 5})
    clock.now = 1500.0
    run = backend.start_job_run({"JobName": "spark", "NumberOfWorkers": 4}, "ap-south-1")
    assert run.id.startswith("jr_") and len(run.id) == 67 and int(run.id[3:], 16) >= 0
    assert (run.region, run.glue_version, run.started_on, run.last_modified_on) == ("ap-south-1", "5.0", 1500.0,
                                                                                    1500.0)
    assert run.settings == {"WorkerType": "G.1X", "NumberOfWorkers": 4, "NotificationProperty": {"NotifyDelayAfter": 5}}
    assert run.log_group_name == "/aws-glue/jobs"
    assert (run.attempt, run.previous_run_id, run.queuing, run.timeout) == (0, None, False, 2880)
    _create(backend, "shell")
    shell = backend.start_job_run({"JobName": "shell", "Timeout": 7}, "eu-west-1")
    assert shell.log_group_name == "/aws-glue/python-jobs" and shell.timeout == 7 and shell.glue_version == "0.9"
    assert len({run.id, shell.id}) == 2


def test_a_retry_by_run_id_repeats_the_arguments_unless_given(backend):
    _create(backend)
    first = backend.start_job_run({"JobName": "job", "Arguments": {"--a": "1"}}, "eu-west-1")
    backend.finish_run(first.id, JobRunState.FAILED, "boom")
    again = backend.start_job_run({"JobName": "job", "JobRunId": first.id}, "eu-west-1")
    assert (again.arguments, again.attempt, again.previous_run_id) == ({"--a": "1"}, 1, first.id)
    backend.finish_run(again.id, JobRunState.FAILED, "boom")
    other = backend.start_job_run({"JobName": "job", "JobRunId": again.id, "Arguments": {"--b": "2"}}, "eu-west-1")
    assert (other.arguments, other.attempt) == ({"--b": "2"}, 2)
    with pytest.raises(EntityNotFoundException) as caught:
        backend.start_job_run({"JobName": "job", "JobRunId": "jr_nope"}, "eu-west-1")
    assert caught.value.message == "Job Run jr_nope for job job not found."


def test_overriding_non_overridable_arguments_is_refused_naming_them(backend):
    _create(backend, NonOverridableArguments={"--a": "1", "--b": "2", "--c": "3"})
    with pytest.raises(InvalidInputException) as caught:
        backend.start_job_run({"JobName": "job", "Arguments": {"--c": "x", "--a": "x", "--z": "x"}}, "eu-west-1")
    assert caught.value.message == "Arguments --a, --c are non-overridable for job job; remove them from the run."


def test_concurrent_runs_exceeded_names_the_job_and_a_new_run_queues_behind_waiting_ones(backend, listener):
    _create(backend)
    first = backend.start_job_run({"JobName": "job"}, "eu-west-1")
    with pytest.raises(ConcurrentRunsExceededException) as caught:
        backend.start_job_run({"JobName": "job"}, "eu-west-1")
    assert caught.value.message == "Concurrent runs exceeded for job"
    waiting = backend.start_job_run({"JobName": "job", "JobRunQueuingEnabled": True}, "eu-west-1")
    assert waiting.state is JobRunState.WAITING
    # a free slot appears without a run ending (the job now allows 2): the queue still goes first
    backend.update_job("job", {"Role": "r", "Command": dict(SHELL), "ExecutionProperty": {"MaxConcurrentRuns": 2}})
    behind = backend.start_job_run({"JobName": "job", "JobRunQueuingEnabled": True}, "eu-west-1")
    assert behind.state is JobRunState.WAITING
    _succeed(backend, first.id)
    states = {r.id: r.state for r in backend.get_job_runs("job")}
    assert states[waiting.id] is JobRunState.STARTING and states[behind.id] is JobRunState.STARTING
    assert [s[1] for s in listener.started] == [first.id, waiting.id, behind.id]
    _untouched(backend, "job", waiting.id)


def test_runs_are_listed_newest_first(backend, clock):
    _create(backend, ExecutionProperty={"MaxConcurrentRuns": 3})
    ids = []
    for now in (10.0, 30.0, 20.0):
        clock.now = now
        ids.append(backend.start_job_run({"JobName": "job"}, "eu-west-1").id)
    assert [r.id for r in backend.get_job_runs("job")] == [ids[1], ids[2], ids[0]]


def test_execution_time_and_billed_dpu_seconds_with_the_one_minute_minimum(backend, clock):
    _create(backend, "spark", SPARK, ExecutionProperty={"MaxConcurrentRuns": 3})
    cases = [(20, 2.0, 120.0), (95, 1.5, 142.5), (61, 0.333, 20.31)]
    for elapsed, dpus, billed in cases:
        clock.now = 1000.0
        run = backend.start_job_run({"JobName": "spark"}, "eu-west-1")
        clock.now = 1010.0
        assert backend.mark_running(run.id) is True
        assert backend.get_job_run("spark", run.id).running_since == 1010.0
        backend.set_dpus(run.id, dpus)
        clock.now = 1010.0 + elapsed
        backend.finish_run(run.id, JobRunState.SUCCEEDED)
        done = backend.get_job_run("spark", run.id)
        assert (done.completed_on, done.execution_time, done.dpus, done.dpu_seconds) == (1010.0 + elapsed, elapsed,
                                                                                         dpus, billed)
    shell = backend.start_job_run({"JobName": "spark"}, "eu-west-1")
    backend.finish_run(shell.id, JobRunState.FAILED, "never ran")
    assert backend.get_job_run("spark", shell.id).execution_time == 0
    assert backend.get_job_run("spark", shell.id).dpu_seconds is None


def test_a_failed_run_is_retried_with_its_own_timeout_capacity_region_and_queuing(backend, listener, clock):
    _create(backend, MaxRetries=1)
    run = backend.start_job_run({"JobName": "job", "Timeout": 7, "MaxCapacity": 1.0, "Arguments": {"--a": "1"}},
                                "sa-east-1")
    clock.now += 1
    backend.finish_run(run.id, JobRunState.FAILED, "boom")
    retry = backend.get_job_runs("job")[0]
    assert retry.id != run.id and retry.previous_run_id == run.id and retry.attempt == 1
    assert (retry.timeout, retry.max_capacity, retry.region, retry.arguments) == (7, 1.0, "sa-east-1", {"--a": "1"})
    assert listener.started[-1][1] == retry.id
    _untouched(backend, "job", retry.id)
    assert listener.finished[0] == (run.id, JobRunState.FAILED, "boom")
    assert "--scribbled" not in backend.get_job_run("job", run.id).arguments


def test_batch_stop_reports_each_refusal_in_glues_shape(backend, listener):
    _create(backend)
    _create(backend, "other")
    live = backend.start_job_run({"JobName": "job", "Arguments": {"--a": "1"}}, "eu-west-1")
    theirs = backend.start_job_run({"JobName": "other"}, "eu-west-1")
    ok, errors = backend.batch_stop_job_run("job", [live.id, "jr_gone", theirs.id])
    assert ok == [{"JobName": "job", "JobRunId": live.id}]
    assert errors == [
        {"JobName": "job", "JobRunId": "jr_gone",
         "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "Job Run jr_gone not found."}},
        {"JobName": "job", "JobRunId": theirs.id,
         "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": f"Job Run {theirs.id} not found."}},
    ]
    assert listener.stopped == [live.id]
    assert "--scribbled" not in backend.get_job_run("job", live.id).arguments
    backend.finish_run(live.id, JobRunState.SUCCEEDED)
    assert backend.get_job_run("job", live.id).state is JobRunState.STOPPED
    ok, errors = backend.batch_stop_job_run("job", [live.id])
    assert ok == []
    assert errors == [{"JobName": "job", "JobRunId": live.id, "ErrorDetail": {
        "ErrorCode": "InvalidInputException",
        "ErrorMessage": f"Job Run {live.id} is STOPPED; only WAITING, STARTING or RUNNING runs can be stopped."}}]


def test_deleting_a_job_drops_its_runs_and_stops_the_live_ones_only(backend, listener):
    _create(backend, ExecutionProperty={"MaxConcurrentRuns": 2})
    _create(backend, "other")
    done = backend.start_job_run({"JobName": "job"}, "eu-west-1")
    _succeed(backend, done.id)
    live = backend.start_job_run({"JobName": "job"}, "eu-west-1")
    kept = backend.start_job_run({"JobName": "other"}, "eu-west-1")
    assert backend.delete_job("job") == "job"
    assert listener.stopped == [live.id]
    with pytest.raises(EntityNotFoundException):
        backend.get_job("job")
    assert [r.id for r in backend.get_job_runs("other")] == [kept.id]
    assert backend.delete_job("job") == "job"  # deleting a missing job succeeds
    assert listener.stopped == [live.id]
    backend.finish_run(live.id, JobRunState.SUCCEEDED)  # its process ends later: nothing left to record
    assert [name for name, *_ in listener.finished] == [done.id]


def test_a_restart_fails_in_flight_runs_and_lists_only_their_processes(tmp_path, listener, clock, caplog):
    first = GlueBackend(tmp_path, listener.start, listener.stop)
    _create(first, ExecutionProperty={"MaxConcurrentRuns": 3})
    in_flight = first.start_job_run({"JobName": "job"}, "eu-west-1")
    first.set_pid(in_flight.id, 4242)
    no_pid = first.start_job_run({"JobName": "job"}, "eu-west-1")
    ended = first.start_job_run({"JobName": "job"}, "eu-west-1")
    _succeed(first, ended.id)
    first.set_pid(ended.id, 5151)
    with caplog.at_level(logging.WARNING, logger="localaws.glue.backend"):
        second = GlueBackend(tmp_path, listener.start, listener.stop, listener.finish)
    assert second.orphaned_pids() == [(in_flight.id, 4242)]
    assert second.get_job_run("job", no_pid.id).error_message == RESTART_MESSAGE
    assert [r.getMessage() for r in caplog.records] == [
        "marked 2 run(s) that were in flight at the last shutdown as FAILED"]


def test_a_state_file_without_jobs_or_runs_loads_empty(tmp_path, listener):
    (tmp_path / "state.json").write_text(json.dumps({"version": 1}))
    backend = GlueBackend(tmp_path, listener.start, listener.stop)
    assert backend.list_jobs() == []


def test_a_failing_listener_is_logged_naming_the_run(tmp_path, listener, clock, caplog):
    def broken(run):
        raise RuntimeError("listener bug")

    backend = GlueBackend(tmp_path, listener.start, listener.stop, broken)
    _create(backend)
    run = backend.start_job_run({"JobName": "job"}, "eu-west-1")
    with caplog.at_level(logging.ERROR, logger="localaws.glue.backend"):
        _succeed(backend, run.id)
    assert [r.getMessage() for r in caplog.records] == [f"on_run_finished failed for run {run.id}"]
    assert backend.get_job_run("job", run.id).state is JobRunState.SUCCEEDED


def test_a_move_the_state_machine_forbids_names_the_run_and_both_states(backend):
    _create(backend)
    run = backend.start_job_run({"JobName": "job"}, "eu-west-1")
    with pytest.raises(InvalidStateTransition) as caught:
        GlueBackend._transition(run, JobRunState.SUCCEEDED)
    assert str(caught.value) == f"job run {run.id}: STARTING -> SUCCEEDED is not allowed"
