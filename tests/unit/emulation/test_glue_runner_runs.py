"""localaws.glue.runner: whole job runs through the real backend and runner, with real job processes
(this interpreter running a small script), S3 and CloudWatch replaced by in-memory fakes: outcomes,
argv and environment, logs, stop, timeout, internal errors, orphan reaping and the Spark setup (issue 16:
the runner was exercised only by the integration suite)."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from localaws.glue import runner as runner_module
from localaws.glue.backend import RESTART_MESSAGE, GlueBackend
from localaws.glue.config import Settings
from localaws.glue.models import JobRunState
from localaws.glue.runner import JobRunner

REGION = "eu-west-3"
TERMINAL = {JobRunState.SUCCEEDED, JobRunState.FAILED, JobRunState.TIMEOUT, JobRunState.STOPPED}


class FakeS3:
    def __init__(self, objects: dict) -> None:
        self.objects = objects

    def get_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                              "GetObject")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


class FakeLogs:
    class exceptions:  # noqa: N801 - as botocore names it
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], list[str]] = {}

    def create_log_group(self, **kwargs):
        pass

    def create_log_stream(self, **kwargs):
        pass

    def put_log_events(self, logGroupName, logStreamName, logEvents):
        self.events.setdefault((logGroupName, logStreamName), []).extend(e["message"] for e in logEvents)


class FakeDirs:
    """RuntimeDirs without an awsglue installation: an empty runtime dir per interpreter."""

    def __init__(self, root: Path) -> None:
        self.root, self.asked = root, []

    def for_interpreter(self, python: str) -> Path:
        self.asked.append(python)
        path = self.root / "runtime"
        (path / "awsglue").mkdir(parents=True, exist_ok=True)
        return path


JOB_SCRIPT = b"""
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "path": os.environ["PYTHONPATH"], "cwd": os.getcwd(),
                  "region": os.environ["AWS_REGION"], "glue": os.environ["AWS_ENDPOINT_URL_GLUE"],
                  "aws": os.environ["AWS_ENDPOINT_URL"], "tmp": os.environ["TMPDIR"]}))
mode = dict(zip(sys.argv[1::2], sys.argv[2::2])).get("--mode", "ok")
if mode == "raise":
    raise ValueError("bad input in the job")
if mode == "exit":
    sys.exit(4)
if mode == "sleep":
    import time
    open(os.path.join(os.environ["TMPDIR"], "started"), "w").close()
    time.sleep(300)
"""


class Harness:
    def __init__(self, tmp_path: Path, seconds_per_minute: float = 60.0, objects=None) -> None:
        self.settings = Settings(host="127.0.0.1", port=1, state_dir=tmp_path / "state",
                                 aws_endpoint="http://127.0.0.1:9", python_interpreters={"3.9": sys.executable},
                                 seconds_per_minute=seconds_per_minute)
        self.runner = JobRunner(self.settings, "http://127.0.0.1:2")
        self.logs = FakeLogs()
        self.runner.aws._clients[("logs", REGION)] = self.logs
        self.runner.aws._clients[("s3", REGION)] = FakeS3(objects if objects is not None else {
            ("code", "jobs/job.py"): JOB_SCRIPT})
        self.runner.runtime_dirs = FakeDirs(tmp_path)
        self.backend = GlueBackend(self.settings.state_dir, self.runner.start, self.runner.request_stop)
        self.runner.backend = self.backend

    def job(self, name: str = "job", **extra) -> str:
        command = {"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://code/jobs/job.py",
                   **extra.pop("Command", {})}
        return self.backend.create_job({"Name": name, "Role": "r", "Command": command, **extra})

    def start(self, name: str = "job", **params):
        return self.backend.start_job_run({"JobName": name, **params}, REGION)

    def wait(self, run_id: str, job: str = "job", states=TERMINAL):
        for _ in range(200):  # bounded: 10 s, where a run takes well under a second (the Timeout test: 2 s)
            run = self.backend.get_job_run(job, run_id)
            if run.state in states and (states is not TERMINAL or self.runner.in_flight() == 0):
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} stayed {run.state}")

    def run_dir(self, run_id: str) -> Path:
        return self.settings.state_dir / "runs" / run_id


def _json_line(lines):
    import json
    return json.loads(next(line for line in lines if line.startswith("{")))


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
    run = h.start(Arguments={"--mode": "sleep"})
    h.wait(run.id, states={JobRunState.RUNNING})
    started = h.run_dir(run.id) / "tmp" / "started"
    for _ in range(200):
        if started.exists():
            break
        time.sleep(0.05)
    pid = h.backend.get_job_run("job", run.id).pid
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
    run = h.start(Arguments={"--mode": "sleep"})
    started = h.run_dir(run.id) / "tmp" / "started"
    for _ in range(200):
        if started.exists():
            break
        time.sleep(0.05)
    pid = h.backend.get_job_run("job", run.id).pid
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


class Lines:
    def __init__(self) -> None:
        self.lines = []

    def write(self, line: str) -> None:
        self.lines.append(line)


def _spark_python(tmp_path: Path) -> str:
    env = tmp_path / "glue-spark"
    (env / "bin").mkdir(parents=True)
    (env / "jars").mkdir()
    for name in runner_module.spark.S3A_JARS:
        (env / "jars" / name).write_bytes(b"jar")
    return str(env / "bin" / "python")


def test_the_spark_setup_of_a_glueetl_run(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    h = Harness(tmp_path, objects={("code", "lib/extra.jar"): b"x"})
    h.job("spark", Command={"Name": "glueetl"}, GlueVersion="5.0", WorkerType="G.1X", NumberOfWorkers=2)
    run = h.start("spark", NumberOfWorkers=3)
    python, run_dir, output = _spark_python(tmp_path), tmp_path / "run", Lines()
    arguments = {"--enable-metrics": "true", "--extra-jars": "s3://code/lib/extra.jar",
                 "--conf": "spark.hadoop.fs.s3a.endpoint=http://elsewhere --conf spark.sql.x=1"}
    env = h.runner._spark_setup(h.backend.get_job("spark"), run, arguments, python, run_dir, output)
    conf_dir = run_dir / "spark-conf"
    assert env == {"SPARK_CONF_DIR": str(conf_dir), "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python,
                   "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_DIRS": str(run_dir / "tmp")}
    assert h.backend.get_job_run("spark", run.id).dpus == 3.0  # the run's NumberOfWorkers, G.1X = 1 DPU each
    assert output.lines[0].startswith("[localaws-glue] capacity: 3 x G.1X = 3 DPU")
    assert output.lines[1:] == [
        "[localaws-glue] --enable-metrics=true: accepted, no local effect\n",
        "[localaws-glue] --conf spark.hadoop.fs.s3a.endpoint ignored: S3 access stays on the local emulation\n"]
    defaults = (conf_dir / "spark-defaults.conf").read_text().splitlines()
    jars = [str(Path(python).parent.parent / "jars" / n) for n in runner_module.spark.S3A_JARS]
    assert f"spark.jars {','.join(jars + [str(run_dir / 'extra-jars' / 'extra.jar')])}" in defaults
    assert "spark.hadoop.fs.s3a.endpoint http://127.0.0.1:9" in defaults and "spark.sql.x 1" in defaults
    assert "spark.hadoop.fs.s3a.endpoint http://elsewhere" not in defaults
    assert (run_dir / "extra-jars" / "extra.jar").read_bytes() == b"x"


def test_the_runs_own_worker_type_wins_over_the_jobs(tmp_path):
    h = Harness(tmp_path)
    h.job("spark", Command={"Name": "glueetl"}, GlueVersion="5.0", WorkerType="G.1X", NumberOfWorkers=2)
    run, output = h.start("spark", WorkerType="G.2X"), Lines()
    h.runner._spark_setup(h.backend.get_job("spark"), run, {}, _spark_python(tmp_path), tmp_path / "r", output)
    assert h.backend.get_job_run("spark", run.id).dpus == 4.0  # 2 x G.2X (2 DPU each)
    assert output.lines[0].startswith("[localaws-glue] capacity: 2 x G.2X = 4 DPU")


def test_the_spark_setup_takes_the_jobs_workers_or_max_capacity(tmp_path):
    h = Harness(tmp_path)
    h.job("w", Command={"Name": "glueetl"}, GlueVersion="5.0", WorkerType="G.2X", NumberOfWorkers=2)
    h.job("m", Command={"Name": "glueetl"}, GlueVersion="5.0", MaxCapacity=4.0)
    python = _spark_python(tmp_path)
    for name, dpus, described in (("w", 4.0, "2 x G.2X = 4 DPU"), ("m", 4.0, "MaxCapacity 4 DPU = 4 DPU")):
        run, output = h.start(name), Lines()
        h.runner._spark_setup(h.backend.get_job(name), run, {}, python, tmp_path / name, output)
        assert h.backend.get_job_run(name, run.id).dpus == dpus
        assert output.lines[0].startswith(f"[localaws-glue] capacity: {described}"), output.lines[0]
        assert len(output.lines) == 1


def test_a_spark_run_runs_in_the_spark_interpreter_with_the_awsglue_stub(tmp_path, monkeypatch):
    h = Harness(tmp_path)
    python = _spark_python(tmp_path)
    # the Spark "interpreter" is a link to this one: the job script runs and prints what it was given
    os.symlink(sys.executable, python)
    h.settings = Settings(**{**h.settings.__dict__, "spark_python": python})
    h.runner.settings = h.settings
    h.job("spark", Command={"Name": "glueetl"}, GlueVersion="5.0")
    run = h.wait(h.start("spark").id, job="spark")
    assert run.state is JobRunState.SUCCEEDED, run.error_message
    seen = _json_line(h.logs.events[("/aws-glue/jobs/output", run.id)])
    assert seen["argv"][-4:] == ["--JOB_RUN_ID", run.id, "--JOB_NAME", "spark"]
    assert (tmp_path / "runtime" / "awsglue" / "context.py").is_file()
    assert (h.run_dir(run.id) / "spark-conf" / "spark-defaults.conf").is_file()
    assert run.dpus == 10.0 and run.log_group_name == "/aws-glue/jobs"


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
