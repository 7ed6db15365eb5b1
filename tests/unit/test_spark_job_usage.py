"""The Spark feature job records its own run's DPUs and seconds in its manifest (the report's Spark cost)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from .conftest import load_module


@pytest.fixture(scope="module")
def job():
    return load_module("glue/spark_features_job.py", "spark_features_job_under_test")


class OwnRun:
    """GetJobRun of the job's own run, as Glue answers it."""

    def __init__(self, job_run=None, error=None):
        self.job_run, self.error, self.calls = job_run, error, []

    def get_job_run(self, JobName, RunId):
        self.calls.append((JobName, RunId))
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "GetJobRun")
        return {"JobRun": self.job_run}


def test_the_job_records_its_workers_and_the_seconds_since_its_run_started(job):
    started = datetime.now(timezone.utc) - timedelta(seconds=95)
    glue = OwnRun({"Id": "jr_big", "WorkerType": "G.1X", "NumberOfWorkers": 10, "StartedOn": started})
    usage = job.own_usage(glue, "spark-features", "jr_big")
    assert glue.calls == [("spark-features", "jr_big")]
    assert (usage["job_run_id"], usage["dpu"]) == ("jr_big", 10.0) and 95 <= usage["seconds"] < 120


def test_without_its_run_the_job_records_why_and_still_writes_its_features(job):
    denied = job.own_usage(OwnRun(error="AccessDeniedException"), "spark-features", "jr_big")
    assert (denied["dpu"], denied["seconds"]) == (None, None)
    assert "AccessDeniedException" in denied["error"] and "glue:GetJobRun" in denied["error"]
    by_hand = job.own_usage(OwnRun(), None, None)
    assert by_hand["dpu"] is None and "--JOB_RUN_ID" in by_hand["error"]
