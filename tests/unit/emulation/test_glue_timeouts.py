"""Glue's Timeout, as the README promises it: in minutes, per job, overridable per run (StartJobRun)."""

from __future__ import annotations

from localaws.glue.config import Settings
from localaws.glue.backend import GlueBackend

COMMAND = {"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://b/job.py"}
ROLE = "arn:aws:iam::000000000000:role/r"


def _backend(tmp_path) -> GlueBackend:
    return GlueBackend(tmp_path, lambda job, run: None, lambda run: None)


def test_a_run_takes_its_jobs_timeout_unless_it_sets_its_own(tmp_path):
    backend = _backend(tmp_path)
    backend.create_job({"Name": "job", "Role": ROLE, "Command": dict(COMMAND), "Timeout": 7,
                        "ExecutionProperty": {"MaxConcurrentRuns": 2}})
    inherited = backend.start_job_run({"JobName": "job"}, "us-east-1")
    own = backend.start_job_run({"JobName": "job", "Timeout": 3}, "us-east-1")
    assert (inherited.timeout, own.timeout) == (7, 3)
    assert backend.get_job_run("job", own.id).as_dict()["Timeout"] == 3
    assert backend.get_job_run("job", inherited.id).as_dict()["Timeout"] == 7
    assert backend.get_job("job").as_dict()["Timeout"] == 7  # the run's Timeout does not change the job


def test_default_job_timeout_is_glues_2880_minutes(tmp_path):
    backend = _backend(tmp_path)
    backend.create_job({"Name": "job", "Role": ROLE, "Command": dict(COMMAND)})
    assert backend.start_job_run({"JobName": "job"}, "us-east-1").timeout == 2880


def test_timeout_minutes_last_60_seconds_unless_the_test_setting_shortens_them():
    assert Settings.from_env({}).seconds_per_minute == 60.0
    assert Settings.from_env({"LOCALAWS_GLUE_SECONDS_PER_MINUTE": "2"}).seconds_per_minute == 2.0
