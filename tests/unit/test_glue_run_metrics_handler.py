"""The glue-run-metrics handler (lambdas/glue_run_metrics/handler.py) with literal expectations: the
warning line of a run Glue no longer has, and a GetJobRun answer without ExecutionTime."""

from __future__ import annotations

import json
from typing import List

import pytest
from botocore.exceptions import ClientError

from .conftest import load_event, load_module

EVENT = "glue_job_state_change_failed.json"
JOB = "cripto-ml-pipeline-model-training-dev"
RUN = "jr_3c9f6a1be0d24b7e8f5a6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f"


class _Glue:
    def __init__(self, job_run=None, missing: bool = False) -> None:
        self.job_run, self.missing, self.requests = job_run, missing, []

    def get_job_run(self, **request):
        self.requests.append(request)
        if self.missing:
            raise ClientError({"Error": {"Code": "EntityNotFoundException", "Message": "no such run"}}, "GetJobRun")
        return {"JobRun": self.job_run}


class _CloudWatch:
    def __init__(self) -> None:
        self.requests: List[dict] = []

    def put_metric_data(self, **request):
        self.requests.append(request)


@pytest.fixture
def metrics_handler(aws_env, monkeypatch):
    monkeypatch.setenv("METRICS_NAMESPACE", "proj/dev")
    module = load_module("lambdas/glue_run_metrics/handler.py", "glue_run_metrics_exact_under_test")
    module.cloudwatch = _CloudWatch()
    return module


def _lines(text: str) -> List[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_run_glue_no_longer_has_logs_one_warning_naming_the_run(metrics_handler, context, capsys):
    metrics_handler.glue = _Glue(missing=True)
    result = metrics_handler.handler(load_event(EVENT), context)
    assert metrics_handler.glue.requests == [{"JobName": JOB, "RunId": RUN}]
    assert result == {"job_name": JOB, "job_run_id": RUN, "state": "FAILED", "execution_seconds": None}
    (warning,) = [line for line in _lines(capsys.readouterr().out) if line["level"] == "WARNING"]
    assert warning["message"] == "run not found; counted without its duration"
    assert warning["job_run_id"] == RUN and warning["service"] == "glue-run-metrics"
    # counted without a duration: only the per-state GlueRuns counts, no GlueRunSeconds
    (request,) = metrics_handler.cloudwatch.requests
    assert {datum["MetricName"] for datum in request["MetricData"]} == {"GlueRuns"}


def test_a_run_without_execution_time_is_recorded_as_zero_seconds(metrics_handler, context):
    metrics_handler.glue = _Glue(job_run={"Id": RUN, "JobRunState": "FAILED"})
    result = metrics_handler.handler(load_event(EVENT), context)
    assert result["execution_seconds"] == 0.0 and isinstance(result["execution_seconds"], float)
    (request,) = metrics_handler.cloudwatch.requests
    seconds = [datum["Value"] for datum in request["MetricData"] if datum["MetricName"] == "GlueRunSeconds"]
    assert seconds == [0.0]


def test_execution_time_is_returned_as_float_seconds(metrics_handler):
    metrics_handler.glue = _Glue(job_run={"Id": RUN, "ExecutionTime": 41})
    run = metrics_handler.glue_runs.FinishedRun(JOB, RUN, "SUCCEEDED")
    assert metrics_handler.execution_seconds(run) == 41.0
