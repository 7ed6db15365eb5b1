"""localaws.glue.runner: whole job runs through the real backend and runner, with real job processes
(this interpreter running a small script), S3 and CloudWatch replaced by in-memory fakes: outcomes,
argv and environment, logs, stop, timeout, internal errors, orphan reaping (the Spark setup: test_glue_runner_spark) (issue 16:
the runner was exercised only by the integration suite)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from localaws.glue import runner as runner_module
from localaws.glue.backend import RESTART_MESSAGE, GlueBackend
from localaws.glue.models import JobRunState
from localaws.glue.runner import JobRunner

from glue_run_harness import JOB_SCRIPT, REGION, Harness, _json_line


def test_a_python_shell_run_gets_glues_argv_and_an_environment_of_the_emulation(tmp_path):
    h = Harness(tmp_path)
    h.job(DefaultArguments={"--day": "1", "--mode": "ok"}, NonOverridableArguments={"--fixed": "f"})
    run = h.wait(h.start(Arguments={"--day": "2"}).id)
    assert run.state is JobRunState.SUCCEEDED and run.error_message is None and run.pid is None
    out = (h.run_dir(run.id) / "output.log").read_text().splitlines()
    seen = _json_line(out)
    assert seen["argv"] == ["--job-bookmark-option", "job-bookmark-disable", "--scriptLocation",
                            "s3://code/jobs/job.py", "--job-language", "python", "--day", "2", "--mode", "ok",
                            "--fixed", "f", "--JOB_RUN_ID", run.id, "--JOB_NAME", "job"]
    assert seen["path"] == str(tmp_path / "runtime")
    assert (seen["cwd"], seen["region"], seen["glue"], seen["aws"]) == (
        str(h.run_dir(run.id)), REGION, "http://127.0.0.1:2", "http://127.0.0.1:9")
    assert seen["tmp"] == str(h.run_dir(run.id) / "tmp") and (h.run_dir(run.id) / "tmp").is_dir()
    assert (h.run_dir(run.id) / "glue-python-scripts" / "job.py").read_bytes() == JOB_SCRIPT
    assert _json_line(h.logs.events[("/aws-glue/python-jobs/output", run.id)]) == seen
    assert h.runner.runtime_dirs.asked == [sys.executable]


def test_a_script_that_raises_fails_with_its_exception_line_in_the_error_log(tmp_path):
    h = Harness(tmp_path)
    h.job()
    run = h.wait(h.start(Arguments={"--mode": "raise"}).id)
    assert (run.state, run.error_message) == (JobRunState.FAILED, "ValueError: bad input in the job")
    assert "ValueError: bad input in the job" in h.logs.events[("/aws-glue/python-jobs/error", run.id)]
    run = h.wait(h.start(Arguments={"--mode": "exit"}).id)
    assert (run.state, run.error_message) == (JobRunState.FAILED, "Command failed with exit code 4.")


def test_a_missing_script_fails_the_run_naming_it_in_the_error_log(tmp_path):
    h = Harness(tmp_path, objects={})
    h.job()
    run = h.wait(h.start().id)
    message = ("Cannot fetch the job script s3://code/jobs/job.py: NoSuchKey (The specified key does not exist.). "
               "Upload the script there or fix Command.ScriptLocation.")
    assert (run.state, run.error_message) == (JobRunState.FAILED, message)
    assert (h.run_dir(run.id) / "error.log").read_text() == f"[localaws-glue] {message}\n"
    assert h.logs.events[("/aws-glue/python-jobs/error", run.id)] == [f"[localaws-glue] {message}"]


@pytest.mark.parametrize(("command", "message"), [
    ({"Name": "gluestreaming"}, "Command.Name 'gluestreaming' is not executed by this Glue emulation: only "
     "'pythonshell' and 'glueetl' (GlueVersion 5.0) jobs run locally (Ray and streaming jobs need real AWS Glue)."),
    ({"PythonVersion": "3"}, "Python shell PythonVersion '3' is not emulated (supported: 3.9). Set "
     "Command.PythonVersion to 3.9."),
])
def test_a_job_this_emulation_cannot_run_fails_saying_why(tmp_path, command, message):
    h = Harness(tmp_path)
    h.job(Command=command)
    run = h.wait(h.start().id)
    assert (run.state, run.error_message) == (JobRunState.FAILED, message)


def test_a_job_without_python_version_is_python_3_not_emulated(tmp_path):
    h = Harness(tmp_path)
    h.backend.create_job({"Name": "job", "Role": "r", "Command": {"Name": "pythonshell",
                                                                  "ScriptLocation": "s3://code/jobs/job.py"}})
    job = h.backend.get_job("job")
    job.definition["Command"].pop("PythonVersion")
    with pytest.raises(Exception) as caught:
        h.runner._interpreter(job, h.start())
    assert str(caught.value).startswith("Python shell PythonVersion '3' is not emulated")


def test_a_spark_job_needs_glue_5(tmp_path):
    h = Harness(tmp_path)
    h.job(Command={"Name": "glueetl", "PythonVersion": "3"}, GlueVersion="4.0")
    run = h.wait(h.start().id)
    assert run.state is JobRunState.FAILED
    assert run.error_message.startswith("glueetl jobs with GlueVersion '4.0' are not emulated")
    assert ("/aws-glue/jobs/error", run.id) in h.logs.events


def test_the_timeout_ends_the_run_as_timeout(tmp_path):
    h = Harness(tmp_path, seconds_per_minute=1.0)
    h.job()
    run = h.wait(h.start(Arguments={"--mode": "sleep"}, Timeout=2).id)
    assert (run.state, run.error_message) == (JobRunState.TIMEOUT,
                                              "Job run timed out after 2 minute(s) (the run's Timeout).")
    assert run.completed_on - run.started_on >= 2.0


def test_a_stop_request_stops_the_running_process(tmp_path):
    h = Harness(tmp_path)
    h.job()
    run, pid = h.start_sleeping()
    assert pid and h.runner.in_flight() == 1
    threads = [t for t in threading.enumerate() if t.name == f"run-{run.id[:11]}"]
    assert len(threads) == 1 and threads[0].daemon  # named after its run; never keeps the service alive
    h.backend.batch_stop_job_run("job", [run.id])
    done = h.wait(run.id)
    assert (done.state, done.error_message, done.pid) == (JobRunState.STOPPED, None, None)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_run_stopped_before_it_runs_ends_stopped_without_a_process(tmp_path, caplog):
    h = Harness(tmp_path)
    h.job()
    h.runner.start = lambda job, run: None  # the backend announces it, the runner has not picked it up yet
    h.backend._on_run_started = h.runner.start
    run = h.start()
    h.backend.batch_stop_job_run("job", [run.id])
    control = runner_module.RunControl(run_dir=h.run_dir(run.id))
    with caplog.at_level(logging.ERROR, logger="localaws.glue.runner"):
        JobRunner._execute(h.runner, h.backend.get_job("job"), h.backend.get_job_run("job", run.id), control)
    assert h.backend.get_job_run("job", run.id).state is JobRunState.STOPPED
    assert [r for r in caplog.records if r.name == "localaws.glue.runner"] == []
    assert not h.run_dir(run.id).exists()


def test_an_internal_error_fails_the_run_pointing_at_the_service_log(tmp_path, monkeypatch, caplog):
    h = Harness(tmp_path)
    h.job()

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(runner_module, "glue_argv", broken)
    with caplog.at_level(logging.ERROR, logger="localaws.glue.runner"):
        run = h.wait(h.start().id)
    assert (run.state, run.error_message) == (
        JobRunState.FAILED, "Internal error in the Glue emulation: KeyError('boom') (see the service log).")
    assert [r.getMessage() for r in caplog.records if r.name == "localaws.glue.runner"] == [
        f"run {run.id} of job crashed the runner"]


def test_modules_installed_for_the_run_are_removed_after_it(tmp_path, monkeypatch):
    h = Harness(tmp_path)
    h.job()
    seen = {}

    def install(cache, python, arguments, run_id, control, deadline, output, error, wheels):
        target = control.run_dir / "python-modules"
        target.mkdir(parents=True)
        output.write("[pip] to the output log")
        error.write("[pip] to the error log")
        seen.update(cache=cache, python=python, arguments=arguments, run_id=run_id, wheels=wheels.region,
                    deadline=deadline - time.monotonic())
        return target

    monkeypatch.setattr(runner_module, "install_modules", install)
    run = h.wait(h.start(Arguments={"--additional-python-modules": "probe==1.0"}).id)
    assert run.state is JobRunState.SUCCEEDED
    seen_path = _json_line((h.run_dir(run.id) / "output.log").read_text().splitlines())["path"]
    assert seen_path == f"{tmp_path / 'runtime'}:{h.run_dir(run.id) / 'python-modules'}"
    assert not (h.run_dir(run.id) / "python-modules").exists()
    assert "[pip] to the output log" in h.logs.events[("/aws-glue/python-jobs/output", run.id)]
    assert "[pip] to the error log" in h.logs.events[("/aws-glue/python-jobs/error", run.id)]
    assert seen["cache"] is h.runner.module_cache and seen["python"] == sys.executable
    assert (seen["arguments"], seen["run_id"], seen["wheels"]) == ({"--additional-python-modules": "probe==1.0"},
                                                                   run.id, REGION)
    assert 2880 * 60 - 60 < seen["deadline"] <= 2880 * 60  # the run's Timeout in minutes, in seconds


def test_shutdown_kills_the_processes_and_leaves_the_runs_for_the_next_start(tmp_path, monkeypatch):
    crashed = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)  # the run's thread must end quietly
    h = Harness(tmp_path)
    h.job()
    run, pid = h.start_sleeping()
    h.runner.shutdown()
    for _ in range(200):
        if h.runner.in_flight() == 0:
            break
        time.sleep(0.05)
    assert h.backend.get_job_run("job", run.id).state is JobRunState.RUNNING
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert crashed == []


def test_an_orphan_that_is_gone_is_forgotten(tmp_path):
    h = Harness(tmp_path)
    h.job()
    h.runner.start = lambda job, run: None
    h.backend._on_run_started = h.runner.start
    run = h.start()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    h.backend.set_pid(run.id, gone.pid)
    runner = JobRunner(h.settings, "http://127.0.0.1:2")
    runner.backend = GlueBackend(h.settings.state_dir, lambda j, r: None, lambda r: None)
    runner.reap_orphans()
    assert runner.backend.orphaned_pids() == []


def test_orphans_of_a_crashed_service_are_killed_only_when_pid_and_run_dir_match(tmp_path, caplog):
    h = Harness(tmp_path)
    h.job(ExecutionProperty={"MaxConcurrentRuns": 2})
    h.runner.start = lambda job, run: None
    h.backend._on_run_started = h.runner.start
    ours, other = h.start(), h.start()
    marker = str(h.run_dir(ours.id))
    sleeper = "import time; time.sleep(300)"
    orphan = subprocess.Popen([sys.executable, "-c", sleeper, marker], start_new_session=True)
    stranger = subprocess.Popen([sys.executable, "-c", sleeper, "elsewhere"], start_new_session=True)
    try:
        h.backend.set_pid(ours.id, orphan.pid)
        h.backend.set_pid(other.id, stranger.pid)
        restarted = Harness.__new__(Harness)
        restarted.runner = JobRunner(h.settings, "http://127.0.0.1:2")
        restarted.runner.backend = GlueBackend(h.settings.state_dir, lambda j, r: None, lambda r: None)
        assert sorted(restarted.runner.backend.orphaned_pids()) == sorted([(ours.id, orphan.pid),
                                                                           (other.id, stranger.pid)])
        with caplog.at_level(logging.WARNING, logger="localaws.glue.runner"):
            restarted.runner.reap_orphans()
        assert [r.getMessage() for r in caplog.records if r.name == "localaws.glue.runner"] == [
            f"killing process group {orphan.pid} left over from run {ours.id}"]
        assert orphan.wait(timeout=30) == -signal.SIGKILL
        assert stranger.poll() is None, "a process without the run's directory on its command line is not ours"
        assert restarted.runner.backend.orphaned_pids() == []
        assert restarted.runner.backend.get_job_run("job", ours.id).error_message == RESTART_MESSAGE
    finally:
        for process in (orphan, stranger):
            process.kill()
            process.wait()


def test_reaping_needs_the_backend(tmp_path):
    runner = JobRunner(Harness(tmp_path).settings, "http://127.0.0.1:2")
    with pytest.raises(RuntimeError) as caught:
        runner.reap_orphans()
    assert str(caught.value) == "JobRunner.backend must be set before runs are recovered"
    with pytest.raises(RuntimeError) as caught:
        runner._execute(None, None, None)
    assert str(caught.value) == "JobRunner.backend must be set before runs start"
    assert runner._pid_recorder(None) is None


def test_the_runner_keeps_one_client_per_service_and_region(tmp_path):
    runner = JobRunner(Harness(tmp_path).settings, "http://127.0.0.1:2")
    assert runner.aws.endpoint == "http://127.0.0.1:9" and runner.self_endpoint == "http://127.0.0.1:2"
    assert runner.client("s3", REGION) is runner.aws.client("s3", REGION)
    assert runner.client("s3", REGION).meta.region_name == REGION
    assert runner.runtime_dirs.root == tmp_path / "state" / "runtime"
    assert runner.module_cache.root == tmp_path / "state" / "python-modules-cache"
    assert runner.in_flight() == 0 and runner.backend is None


def test_extra_py_files_are_on_the_path_after_the_runtime(tmp_path):
    script = b"import helper, os; print(helper.VALUE); print(os.environ['PYTHONPATH'])\n"
    h = Harness(tmp_path, objects={("code", "jobs/job.py"): script, ("code", "lib/helper.py"): b"VALUE = 'helped'\n"})
    h.job(DefaultArguments={"--extra-py-files": "s3://code/lib/helper.py"})
    run = h.wait(h.start().id)
    assert run.state is JobRunState.SUCCEEDED, run.error_message
    out = (h.run_dir(run.id) / "output.log").read_text().splitlines()
    assert out == ["helped", f"{tmp_path / 'runtime'}:{h.run_dir(run.id) / 'extra-py-files'}"]


def test_only_the_last_50_lines_of_stderr_name_the_error(tmp_path):
    script = (b"import sys\nsys.stderr.write('Traceback (most recent call last):\\n' + 'noise\\n' * %d)\n"
              b"sys.exit(1)\n")
    for lines, message in ((50, "Command failed with exit code 1."), (49, "noise")):
        h = Harness(tmp_path / str(lines), objects={("code", "jobs/job.py"): script % lines})
        h.job()
        run = h.wait(h.start().id)
        assert (run.state, run.error_message) == (JobRunState.FAILED, message)


def test_a_retried_run_is_not_queued(tmp_path):
    h = Harness(tmp_path)
    h.job(MaxRetries=1)
    run = h.wait(h.start(Arguments={"--mode": "exit"}).id)
    retry = h.wait(next(r.id for r in h.backend.get_job_runs("job") if r.previous_run_id == run.id))
    assert retry.attempt == 1 and retry.queuing is False
    assert retry.as_dict()["JobRunQueuingEnabled"] is False
