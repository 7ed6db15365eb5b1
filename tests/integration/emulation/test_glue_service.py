"""Black-box tests of the Glue-compatible service (``python -m localaws.glue``) with a real LocalStack.

Each module run starts its own service process (a free port, a state dir under pytest's tmp dir)
wired to the LocalStack of ``AWS_ENDPOINT_URL``, so it can restart it and give it test settings:
``LOCALAWS_GLUE_SECONDS_PER_MINUTE=2`` makes a ``Timeout`` of 1 minute last 2 s (the API still
speaks minutes). Jobs run on ``LOCALAWS_GLUE_PYTHON3_9`` or ``.venvs/glue-pythonshell-3.9``.
All checks go through a boto3 Glue client and assert on what AWS would return.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support.net import free_port
from support.polling import wait_for

REPO = Path(__file__).resolve().parents[3]
TOOLS_PYTHON = sys.executable
GLUE_PYTHON = os.environ.get("LOCALAWS_GLUE_PYTHON3_9", str(REPO / ".venvs/glue-pythonshell-3.9/bin/python"))
SECONDS_PER_MINUTE = 2
TERMINAL = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"}
ROLE = "arn:aws:iam::000000000000:role/glue-test"

pytestmark = pytest.mark.timeout(300)


class GlueService:
    """One ``python -m localaws.glue`` process; restartable on the same port and state dir."""

    def __init__(self, state_dir: Path, aws_endpoint: str, python: str | None, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = state_dir
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALAWS_GLUE_")}
        self.env.update(
            {
                "LOCALAWS_GLUE_PORT": str(self.port),
                "LOCALAWS_GLUE_STATE_DIR": str(state_dir),
                "LOCALAWS_GLUE_AWS_ENDPOINT": aws_endpoint,
                "LOCALAWS_GLUE_SECONDS_PER_MINUTE": str(SECONDS_PER_MINUTE),
                # Host credentials the service must never hand to a job.
                "AWS_PROFILE": "host-profile-must-not-leak",
                "AWS_SESSION_TOKEN": "host-token-must-not-leak",
            }
        )
        if python:
            self.env["LOCALAWS_GLUE_PYTHON3_9"] = python
        self.process: subprocess.Popen | None = None

    def client(self):
        """A boto3 Glue client for this service; no client-side retries, so errors surface as they are."""
        return boto3.client(
            "glue",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [TOOLS_PYTHON, "-m", "localaws.glue"], env=self.env, stdout=log, stderr=log
        )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"Glue service exited with {self.process.returncode}; see {self.log_path}")
            try:
                return (
                    json.load(urllib.request.urlopen(f"{self.url}/health", timeout=1))["status"] == "running"
                )
            except OSError:
                return False

        wait_for("the Glue service health check", healthy, 20)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def service(endpoint_url: str, tmp_path_factory) -> GlueService:
    if not os.access(GLUE_PYTHON, os.X_OK):
        pytest.fail(
            f"No Glue job interpreter at {GLUE_PYTHON}: run `ONLY=glue-pythonshell-3.9 scripts/bootstrap.sh` "
            f"or set LOCALAWS_GLUE_PYTHON3_9."
        )
    base = tmp_path_factory.mktemp("glue-service")
    svc = GlueService(base / "state", endpoint_url, GLUE_PYTHON, base / "service.log")
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def glue(service: GlueService):
    return service.client()


@pytest.fixture
def make_job(glue, s3, bucket, unique_name):
    """Factory: upload ``script`` and create a pythonshell 3.9 job for it; deleted after the test."""
    created: list[str] = []

    def make(script: str, **job_args) -> str:
        name = unique_name("job")
        key = f"scripts/{name}.py"
        s3.put_object(Bucket=bucket, Key=key, Body=textwrap.dedent(script).encode())
        command = {"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": f"s3://{bucket}/{key}"}
        command.update(job_args.pop("Command", {}))
        glue.create_job(Name=name, Role=ROLE, Command=command, MaxCapacity=0.0625, **job_args)
        created.append(name)
        return name

    yield make
    for name in created:
        glue.delete_job(JobName=name)


def wait_run(glue, job: str, run_id: str, timeout: float = 90) -> dict:
    def settled():
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        return run if run["JobRunState"] in TERMINAL else None

    return wait_for(f"run {run_id} of {job} to finish", settled, timeout)


def read_json(s3, bucket: str, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def log_messages(logs, group: str, stream: str) -> list[str]:
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    return [e["message"] for e in events]


def error_code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


# ----- runs --------------------------------------------------------------------------------------
ECHO_SCRIPT = """
    import json, os, sys
    import boto3
    from awsglue.utils import getResolvedOptions

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "bucket", "greeting", "mode"])
    report = {
        "args": args,
        "argv": sys.argv,
        "python": list(sys.version_info[:2]),
        "env": {k: v for k, v in os.environ.items() if k.startswith("AWS_")},
    }
    import pandas, sklearn
    report["libs"] = {"pandas": pandas.__version__, "sklearn": sklearn.__version__}
    boto3.client("s3").put_object(Bucket=args["bucket"], Key="out/" + args["JOB_RUN_ID"] + ".json",
                                  Body=json.dumps(report))
"""


def test_run_succeeds_with_glue_argv_and_local_endpoints(glue, s3, bucket, make_job, service):
    job = make_job(
        ECHO_SCRIPT,
        DefaultArguments={"--bucket": bucket, "--greeting": "default", "--mode": "job"},
        NonOverridableArguments={"--fixed": "yes"},
    )
    run_id = glue.start_job_run(JobName=job, Arguments={"--greeting": "from-run"})["JobRunId"]
    run = wait_run(glue, job, run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["Id"] == run_id and run["JobName"] == job and run["Attempt"] == 0
    assert run["Arguments"] == {"--greeting": "from-run"}  # the run's own arguments, as Glue reports them
    assert run["StartedOn"] <= run["CompletedOn"] and run["LastModifiedOn"] == run["CompletedOn"]
    assert isinstance(run["ExecutionTime"], int) and run["Timeout"] == 2880 and run["MaxCapacity"] == 0.0625

    report = read_json(s3, bucket, f"out/{run_id}.json")
    args = report["args"]
    assert args["JOB_NAME"] == job and args["JOB_RUN_ID"] == run_id
    assert (args["greeting"], args["mode"], args["bucket"]) == ("from-run", "job", bucket)
    argv = report["argv"]
    assert Path(argv[0]).name == f"{job}.py"
    assert argv[argv.index("--fixed") + 1] == "yes"
    assert argv[argv.index("--scriptLocation") + 1].endswith(f"{job}.py")
    assert report["python"] == [3, 9]
    assert report["libs"] == {"pandas": "1.4.2", "sklearn": "1.0.2"}
    env = report["env"]
    assert env["AWS_ENDPOINT_URL"] == service.env["LOCALAWS_GLUE_AWS_ENDPOINT"]
    assert env["AWS_ACCESS_KEY_ID"] == "test" and env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env


def test_script_exception_fails_the_run_with_its_message(glue, make_job):
    job = make_job("""
        def main():
            raise ValueError("boom: the input is empty")
        main()
    """)
    run = wait_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: boom: the input is empty"
    assert "CompletedOn" in run


def test_a_run_holds_the_memory_of_its_capacity(glue, logs, make_job):
    # 1.2 GiB written (so resident) and held: above the 1 GB of MaxCapacity 0.0625, within the 16 GB of 1 DPU.
    job = make_job("""
        import time
        block = b"x" * (1200 * 1024 * 1024)
        time.sleep(2)
        print("held", len(block))
    """)
    small = wait_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert (small["JobRunState"], small["MaxCapacity"]) == ("FAILED", 0.0625)
    assert small["ErrorMessage"].startswith("Job run used ")
    assert "above the 1,024 MiB a Python shell run has at MaxCapacity 0.0625" in small["ErrorMessage"]
    assert any("Start it with MaxCapacity 1" in line
               for line in log_messages(logs, "/aws-glue/python-jobs/error", small["Id"]))
    large = wait_run(glue, job, glue.start_job_run(JobName=job, MaxCapacity=1.0)["JobRunId"])
    assert (large["JobRunState"], large["MaxCapacity"]) == ("SUCCEEDED", 1.0)


def test_failed_run_is_retried_max_retries_times(glue, make_job):
    job = make_job("raise SystemExit('exit with a message')\n", MaxRetries=1)
    first = glue.start_job_run(JobName=job)["JobRunId"]
    assert wait_run(glue, job, first)["JobRunState"] == "FAILED"

    def retry():
        runs = glue.get_job_runs(JobName=job)["JobRuns"]
        return runs[0] if len(runs) == 2 and runs[0]["JobRunState"] in TERMINAL else None

    second = wait_for("the retry run to finish", retry, 60)
    assert (second["Attempt"], second["PreviousRunId"], second["JobRunState"]) == (1, first, "FAILED")
    # A retry is created in the same step that settles the failed attempt, so none can be pending.
    assert len(glue.get_job_runs(JobName=job)["JobRuns"]) == 2


def test_missing_script_fails_the_run(glue, bucket):
    name = f"missing-{os.getpid()}"
    location = f"s3://{bucket}/scripts/does-not-exist.py"
    glue.create_job(
        Name=name,
        Role=ROLE,
        Command={"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": location},
    )
    try:
        run = wait_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    finally:
        glue.delete_job(JobName=name)
    assert run["JobRunState"] == "FAILED"
    assert location in run["ErrorMessage"] and "NoSuchKey" in run["ErrorMessage"]


# A job that records its pid in S3 (so a test can watch the process) and then sleeps.
SLEEPING_JOB = """
import os, sys, time, boto3
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["bucket"])
s3 = boto3.client("s3")
s3.put_object(Bucket=args["bucket"], Key="pids/" + args["JOB_RUN_ID"], Body=str(os.getpid()))
time.sleep(600)
"""


def test_timeout_kills_the_process(glue, s3, bucket, make_job):
    job = make_job(
        SLEEPING_JOB,
        DefaultArguments={"--bucket": bucket},
        Timeout=1,
    )
    started = time.monotonic()
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(glue, job, run_id, timeout=60)
    elapsed = time.monotonic() - started

    assert run["JobRunState"] == "TIMEOUT"
    assert "timed out" in run["ErrorMessage"] and run["Timeout"] == 1
    assert SECONDS_PER_MINUTE <= elapsed < SECONDS_PER_MINUTE + 10
    pid = int(s3.get_object(Bucket=bucket, Key=f"pids/{run_id}")["Body"].read())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


SLEEPER = """
    import time
    time.sleep(600)
"""


def test_max_concurrent_runs_and_stop(glue, make_job):
    job = make_job(SLEEPER, ExecutionProperty={"MaxConcurrentRuns": 1})
    first = glue.start_job_run(JobName=job)["JobRunId"]
    wait_for(
        "RUNNING",
        lambda: glue.get_job_run(JobName=job, RunId=first)["JobRun"]["JobRunState"] == "RUNNING",
        10,
    )

    with pytest.raises(ClientError) as exc_info:
        glue.start_job_run(JobName=job)
    assert error_code(exc_info) == "ConcurrentRunsExceededException"

    answer = glue.batch_stop_job_run(JobName=job, JobRunIds=[first, "jr_unknown"])
    assert answer["SuccessfulSubmissions"] == [{"JobName": job, "JobRunId": first}]
    assert [e["JobRunId"] for e in answer["Errors"]] == ["jr_unknown"]
    assert answer["Errors"][0]["ErrorDetail"]["ErrorCode"] == "EntityNotFoundException"
    run = wait_run(glue, job, first, timeout=20)
    assert run["JobRunState"] == "STOPPED"

    # The slot is free again.
    second = glue.start_job_run(JobName=job)["JobRunId"]
    glue.batch_stop_job_run(JobName=job, JobRunIds=[second])
    assert wait_run(glue, job, second, timeout=20)["JobRunState"] == "STOPPED"
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    assert [r["Id"] for r in runs] == [second, first]  # newest first


def test_logs_stream_to_cloudwatch_while_running(glue, s3, logs, bucket, make_job):
    job = make_job(
        """
        import sys, time, boto3
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["bucket"])
        print("early output line")
        print("early error line", file=sys.stderr)
        s3 = boto3.client("s3")
        deadline = time.time() + 60
        while time.time() < deadline:  # wait for the test to see the early lines, then finish
            if s3.list_objects_v2(Bucket=args["bucket"], Prefix="release/" + args["JOB_RUN_ID"])["KeyCount"]:
                break
            time.sleep(0.2)
        print("late output line")
    """,
        DefaultArguments={"--bucket": bucket},
    )
    run_id = glue.start_job_run(JobName=job)["JobRunId"]

    wait_for(
        "early stdout",
        lambda: "early output line" in log_messages(logs, "/aws-glue/python-jobs/output", run_id),
        20,
    )
    wait_for(
        "early stderr",
        lambda: "early error line" in log_messages(logs, "/aws-glue/python-jobs/error", run_id),
        20,
    )
    assert glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING"

    s3.put_object(Bucket=bucket, Key=f"release/{run_id}", Body=b"")
    assert wait_run(glue, job, run_id)["JobRunState"] == "SUCCEEDED"
    assert log_messages(logs, "/aws-glue/python-jobs/output", run_id) == [
        "early output line",
        "late output line",
    ]


def test_extra_py_files_are_importable(glue, s3, bucket, make_job):
    s3.put_object(Bucket=bucket, Key="libs/helper_module.py", Body=b"VALUE = 'from a .py file'\n")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped_pkg/__init__.py", "VALUE = 'from a .zip file'\n")
    s3.put_object(Bucket=bucket, Key="libs/zipped.zip", Body=archive.getvalue())
    job = make_job(
        """
        import sys, boto3
        from awsglue.utils import getResolvedOptions
        import helper_module, zipped_pkg
        args = getResolvedOptions(sys.argv, ["bucket"])
        body = helper_module.VALUE + " | " + zipped_pkg.VALUE
        boto3.client("s3").put_object(Bucket=args["bucket"], Key="imports/" + args["JOB_RUN_ID"], Body=body)
    """,
        DefaultArguments={
            "--bucket": bucket,
            "--extra-py-files": f"s3://{bucket}/libs/helper_module.py,s3://{bucket}/libs/zipped.zip",
        },
    )
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(glue, job, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    body = s3.get_object(Bucket=bucket, Key=f"imports/{run_id}")["Body"].read().decode()
    assert body == "from a .py file | from a .zip file"


def test_additional_python_modules_are_installed_per_run(glue, s3, bucket, make_job):
    # Needs the package index (as AWS Glue does). tabulate is not part of the analytics set.
    job = make_job(
        """
        import sys, boto3, tabulate
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["bucket"])
        key = "modules/" + args["JOB_RUN_ID"]
        boto3.client("s3").put_object(Bucket=args["bucket"], Key=key, Body=tabulate.__version__)
    """,
        DefaultArguments={"--bucket": bucket, "--additional-python-modules": "tabulate==0.9.0"},
    )
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(glue, job, run_id, timeout=180)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert s3.get_object(Bucket=bucket, Key=f"modules/{run_id}")["Body"].read() == b"0.9.0"


def test_restart_keeps_jobs_and_history_and_fails_runs_in_flight(glue, s3, bucket, make_job, service):
    job = make_job(
        """
        import os, sys, time, boto3
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["bucket", "sleep"])
        s3 = boto3.client("s3")
        s3.put_object(Bucket=args["bucket"], Key="pids/" + args["JOB_RUN_ID"], Body=str(os.getpid()))
        time.sleep(float(args["sleep"]))
    """,
        DefaultArguments={"--bucket": bucket, "--sleep": "0"},
        ExecutionProperty={"MaxConcurrentRuns": 2},
        Tags={"team": "data"},
    )
    done = glue.start_job_run(JobName=job)["JobRunId"]
    assert wait_run(glue, job, done)["JobRunState"] == "SUCCEEDED"
    in_flight = glue.start_job_run(JobName=job, Arguments={"--sleep": "600"})["JobRunId"]
    pid = int(wait_for("the job's pid", lambda: _object_or_none(s3, bucket, f"pids/{in_flight}"), 30))

    service.stop(signal.SIGKILL)  # a crash: nothing gets to clean up
    service.start()

    assert glue.get_job(JobName=job)["Job"]["DefaultArguments"]["--sleep"] == "0"
    assert job in glue.list_jobs(Tags={"team": "data"})["JobNames"]
    assert glue.get_job_run(JobName=job, RunId=done)["JobRun"]["JobRunState"] == "SUCCEEDED"
    lost = glue.get_job_run(JobName=job, RunId=in_flight)["JobRun"]
    assert lost["JobRunState"] == "FAILED" and "restarted" in lost["ErrorMessage"]
    wait_for(f"orphaned job process {pid} to be killed", lambda: not _alive(pid), 10)


def test_sigterm_kills_job_processes_and_restart_fails_their_runs(glue, s3, bucket, make_job, service):
    job = make_job(
        SLEEPING_JOB,
        DefaultArguments={"--bucket": bucket},
    )
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    pid = int(wait_for("the job's pid", lambda: _object_or_none(s3, bucket, f"pids/{run_id}"), 30))

    service.stop(signal.SIGTERM)
    wait_for(f"job process {pid} to die with the service", lambda: not _alive(pid), 10)
    service.start()

    run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "FAILED" and "restarted" in run["ErrorMessage"]


def _object_or_none(s3, bucket: str, key: str) -> bytes | None:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of the (dead) service may linger as a zombie until reparented and reaped.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_missing_interpreter_fails_the_run_naming_the_setting(endpoint_url, s3, bucket, tmp_path):
    svc = GlueService(tmp_path / "state", endpoint_url, python=None, log_path=tmp_path / "service.log")
    svc.start()
    try:
        glue = svc.client()
        s3.put_object(Bucket=bucket, Key="scripts/noop.py", Body=b"print('hi')\n")
        glue.create_job(
            Name="noop",
            Role=ROLE,
            Command={
                "Name": "pythonshell",
                "PythonVersion": "3.9",
                "ScriptLocation": f"s3://{bucket}/scripts/noop.py",
            },
        )
        run = wait_run(glue, "noop", glue.start_job_run(JobName="noop")["JobRunId"], timeout=20)
    finally:
        svc.stop()
    assert run["JobRunState"] == "FAILED"
    assert "LOCALAWS_GLUE_PYTHON3_9" in run["ErrorMessage"]


def test_unreachable_aws_endpoint_fails_the_run_naming_it(tmp_path):
    dead_endpoint = f"http://127.0.0.1:{free_port()}"
    svc = GlueService(tmp_path / "state", dead_endpoint, GLUE_PYTHON, log_path=tmp_path / "service.log")
    svc.start()
    try:
        glue = svc.client()
        glue.create_job(
            Name="orphan",
            Role=ROLE,
            Command={"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://nowhere/job.py"},
        )
        run = wait_run(glue, "orphan", glue.start_job_run(JobName="orphan")["JobRunId"], timeout=60)
    finally:
        svc.stop()
    assert run["JobRunState"] == "FAILED"
    assert dead_endpoint in run["ErrorMessage"] and "LOCALAWS_GLUE_AWS_ENDPOINT" in run["ErrorMessage"]


def test_the_emulations_glue_service_runs_a_job(aws_client, glue_endpoint_url, s3, bucket, unique_name):
    """The service of the running emulation (AWS_ENDPOINT_URL_GLUE, e.g. from `make up`) is wired up:
    it answers, has an interpreter, and its jobs reach the same LocalStack as this suite."""
    try:
        health = json.load(urllib.request.urlopen(f"{glue_endpoint_url}/health", timeout=3))
    except OSError as exc:
        pytest.fail(f"No Glue service answers at {glue_endpoint_url} ({exc}). Start it with `make up`.")
    assert health["status"] == "running"
    glue = aws_client("glue")
    name = unique_name("wired")
    s3.put_object(
        Bucket=bucket,
        Key=f"scripts/{name}.py",
        Body=textwrap.dedent(f"""
        import boto3
        boto3.client("s3").put_object(Bucket="{bucket}", Key="wired/{name}", Body=b"ok")
    """).encode(),
    )
    glue.create_job(
        Name=name,
        Role=ROLE,
        Command={
            "Name": "pythonshell",
            "PythonVersion": "3.9",
            "ScriptLocation": f"s3://{bucket}/scripts/{name}.py",
        },
    )
    try:
        run = wait_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    finally:
        glue.delete_job(JobName=name)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert s3.get_object(Bucket=bucket, Key=f"wired/{name}")["Body"].read() == b"ok"


# ----- API surface -------------------------------------------------------------------------------
def test_job_crud_tags_and_errors(glue, make_job):
    job = make_job("print('x')\n", DefaultArguments={"--a": "1"}, Tags={"owner": "tests"})
    got = glue.get_job(JobName=job)["Job"]
    assert got["Command"] == {
        "Name": "pythonshell",
        "PythonVersion": "3.9",
        "ScriptLocation": got["Command"]["ScriptLocation"],
    }
    assert (got["MaxCapacity"], got["Timeout"], got["ExecutionProperty"]) == (
        0.0625,
        2880,
        {"MaxConcurrentRuns": 1},
    )
    assert got["CreatedOn"] == got["LastModifiedOn"]

    with pytest.raises(ClientError) as exc_info:
        glue.create_job(Name=job, Role=ROLE, Command=got["Command"])
    assert error_code(exc_info) == "AlreadyExistsException"

    update = {"Role": ROLE, "Command": got["Command"], "Timeout": 5, "Description": "updated"}
    glue.update_job(JobName=job, JobUpdate=update)
    updated = glue.get_job(JobName=job)["Job"]
    assert (updated["Timeout"], updated["Description"]) == (5, "updated")
    assert "DefaultArguments" not in updated  # UpdateJob replaces the whole definition
    assert updated["LastModifiedOn"] > updated["CreatedOn"]

    arn = f"arn:aws:glue:us-east-1:000000000000:job/{job}"
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"stage": "dev"})
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"owner": "tests", "stage": "dev"}
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["owner"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"stage": "dev"}
    assert glue.list_jobs(Tags={"stage": "dev"})["JobNames"] == [job]
    assert job in [j["Name"] for j in glue.get_jobs()["Jobs"]]

    with pytest.raises(ClientError) as exc_info:
        glue.get_job(JobName="no-such-job")
    assert error_code(exc_info) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc_info:
        glue.start_job_run(JobName="no-such-job")
    assert error_code(exc_info) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc_info:
        glue.get_job_run(JobName=job, RunId="jr_missing")
    assert error_code(exc_info) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc_info:
        glue.create_job(Name=job + "-big", Role=ROLE, Command=got["Command"], MaxCapacity=3.0)
    assert error_code(exc_info) == "InvalidInputException"


def test_server_validates_input_against_the_glue_model(service):
    request = urllib.request.Request(
        service.url + "/",
        data=json.dumps({"Name": "x"}).encode(),
        method="POST",
        headers={"X-Amz-Target": "AWSGlue.CreateJob", "Content-Type": "application/x-amz-json-1.1"},
    )
    with pytest.raises(urllib.error.HTTPError) as exc_info:
        urllib.request.urlopen(request, timeout=5)
    assert exc_info.value.code == 400
    body = json.loads(exc_info.value.read())
    assert body["__type"] == "InvalidInputException"
    assert "Role" in body["message"] and "Command" in body["message"]


def test_pagination(glue, make_job):
    names = sorted(make_job("print(1)\n") for _ in range(3))
    job = names[0]
    ids = [glue.start_job_run(JobName=job)["JobRunId"]]
    wait_run(glue, job, ids[0])
    ids.append(glue.start_job_run(JobName=job)["JobRunId"])
    wait_run(glue, job, ids[1])
    first = glue.get_job_runs(JobName=job, MaxResults=1)
    second = glue.get_job_runs(JobName=job, MaxResults=1, NextToken=first["NextToken"])
    assert [first["JobRuns"][0]["Id"], second["JobRuns"][0]["Id"]] == ids[::-1]
    assert "NextToken" not in second
    listed = [
        n
        for page in glue.get_paginator("list_jobs").paginate(PaginationConfig={"PageSize": 2})
        for n in page["JobNames"]
    ]
    assert set(names) <= set(listed)


# ----- Terraform ---------------------------------------------------------------------------------
def terraform_mirror() -> Path | None:
    for candidate in (os.environ.get("TF_PROVIDER_MIRROR"), "/opt/tf-plugins"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_glue_job_round_trip_has_no_diff(service, endpoint_url, glue, tmp_path, unique_name):
    mirror = terraform_mirror()
    if mirror is None:
        pytest.fail(
            "No Terraform provider mirror: set TF_PROVIDER_MIRROR to a filesystem mirror with hashicorp/aws."
        )
    workdir = tmp_path / "tf"
    shutil.copytree(Path(__file__).with_name("terraform_glue"), workdir)
    cli_config = tmp_path / "terraform.rc"
    cli_config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_DATA_DIR": str(tmp_path / "tf-data"),
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ENDPOINT_URL_GLUE": service.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_S3_USE_PATH_STYLE": "true",
        }
    )
    name = unique_name("tf-job")
    variables = ["-var", f"job_name={name}", "-var", f"bucket_name={name}-scripts"]

    def tf(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["terraform", *args],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    init = tf("init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stdout + init.stderr
    try:
        apply = tf("apply", "-input=false", "-auto-approve", "-no-color", *variables)
        assert apply.returncode == 0, apply.stdout + apply.stderr
        job = glue.get_job(JobName=name)["Job"]
        assert job["Command"]["PythonVersion"] == "3.9" and job["ExecutionClass"] == "STANDARD"
        assert job["NonOverridableArguments"] == {"--environment": "local"}
        spark_job = glue.get_job(JobName=f"{name}-spark")["Job"]
        assert (spark_job["GlueVersion"], spark_job["WorkerType"], spark_job["NumberOfWorkers"]) == ("5.0", "G.1X", 2)
        assert spark_job["Command"]["Name"] == "glueetl"

        plan = tf("plan", "-input=false", "-detailed-exitcode", "-no-color", *variables)
        assert plan.returncode == 0, "second plan is not empty:\n" + plan.stdout + plan.stderr
    finally:
        destroy = tf("destroy", "-input=false", "-auto-approve", "-no-color", *variables)
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    with pytest.raises(ClientError) as exc_info:
        glue.get_job(JobName=name)
    assert error_code(exc_info) == "EntityNotFoundException"


# ----- job run queuing and state-change events (issue 9) -----------------------------------------
def test_queued_runs_wait_then_run_one_after_another(glue, make_job):
    job = make_job("import time; time.sleep(1)", ExecutionProperty={"MaxConcurrentRuns": 1},
                   JobRunQueuingEnabled=True)
    ids = [glue.start_job_run(JobName=job)["JobRunId"] for _ in range(3)]
    states = [glue.get_job_run(JobName=job, RunId=i)["JobRun"]["JobRunState"] for i in ids[1:]]
    assert states == ["WAITING", "WAITING"]
    runs = [wait_run(glue, job, i) for i in ids]
    assert [r["JobRunState"] for r in runs] == ["SUCCEEDED"] * 3
    assert runs[0]["CompletedOn"] < runs[1]["CompletedOn"] < runs[2]["CompletedOn"]  # in order, one slot
    assert all(r["JobRunQueuingEnabled"] for r in runs)


def test_a_failed_run_puts_its_state_change_event_to_eventbridge(glue, make_job, aws_client, unique_name):
    events, sqs = aws_client("events"), aws_client("sqs")
    job = make_job("raise ValueError('boom: no rows')")
    name = unique_name("glue-events")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(
        {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"], "detail": {"jobName": [job]}}))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        run_id = glue.start_job_run(JobName=job)["JobRunId"]
        assert wait_run(glue, job, run_id)["JobRunState"] == "FAILED"

        def delivered():
            messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
            return json.loads(messages[0]["Body"]) if messages else None

        event = wait_for("the Glue Job State Change event in SQS", delivered, 60)
        assert (event["source"], event["detail-type"]) == ("aws.glue", "Glue Job State Change")
        assert event["detail"] == {
            "jobName": job,
            "severity": "ERROR",
            "state": "FAILED",
            "jobRunId": run_id,
            "message": f"JobName:{job} and JobRunId:{run_id} failed to execute with exception "
                       "ValueError: boom: no rows",
        }
    finally:
        events.remove_targets(Rule=name, Ids=["queue"])
        events.delete_rule(Name=name)
        sqs.delete_queue(QueueUrl=queue_url)
