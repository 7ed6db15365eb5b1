"""The harness of the Glue runner's unit tests: the real backend and runner, real job processes, S3 and
CloudWatch Logs replaced by in-memory fakes, the awsglue runtime dir by an empty one."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

from botocore.exceptions import ClientError
from localaws.glue.backend import GlueBackend
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

    def start_sleeping(self, job: str = "job"):
        """A run whose script sleeps, once its process is up: (run, pid)."""
        run = self.start(job, Arguments={"--mode": "sleep"})
        started = self.run_dir(run.id) / "tmp" / "started"
        for _ in range(200):  # bounded: 10 s, where a process starts in well under a second
            if started.exists():
                break
            time.sleep(0.05)
        return run, self.backend.get_job_run(job, run.id).pid

    def run_dir(self, run_id: str) -> Path:
        return self.settings.state_dir / "runs" / run_id


def _json_line(lines):
    return json.loads(next(line for line in lines if line.startswith("{")))

