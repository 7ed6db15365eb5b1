"""Finished Glue runs as metrics: the pure mapping (cripto_pipeline.glue_runs) and the thin
glue-run-metrics handler with stubbed Glue and CloudWatch clients."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cripto_pipeline import glue_runs
from cripto_pipeline.exceptions import ConfigurationError, InvalidEventError

from .conftest import load_event, load_module

WHEN = datetime(2026, 12, 1, 10, 15, 42, tzinfo=timezone.utc)
EVENT = "glue_job_state_change_failed.json"


def test_parse_state_change_reads_job_run_and_state():
    run = glue_runs.parse_state_change(load_event(EVENT))
    assert run == glue_runs.FinishedRun("cripto-ml-pipeline-model-training-dev",
                                        load_event(EVENT)["detail"]["jobRunId"], "FAILED")


@pytest.mark.parametrize("change", [
    {"source": "aws.s3"}, {"detail-type": "Glue Job Run Status"}, {"detail": None}, {"detail": {"state": "FAILED"}},
])
def test_parse_state_change_refuses_other_events_naming_what_is_wrong(change):
    event = {**copy.deepcopy(load_event(EVENT)), **change}
    with pytest.raises(InvalidEventError, match="Glue Job State Change|lacks"):
        glue_runs.parse_state_change(event)


@pytest.mark.parametrize("state", glue_runs.FINAL_STATES)
def test_a_finished_run_counts_one_for_its_state_and_zero_for_the_others(state):
    data = glue_runs.metric_data(glue_runs.FinishedRun("job", "jr_1", state), 73.0, WHEN)
    counts = {tuple((d["Name"], d["Value"]) for d in datum["Dimensions"]): datum["Value"]
              for datum in data if datum["MetricName"] == glue_runs.GLUE_RUNS}
    assert counts == {(("JobName", "job"), ("State", s)): (1.0 if s == state else 0.0) for s in glue_runs.FINAL_STATES}
    (seconds,) = [d for d in data if d["MetricName"] == glue_runs.GLUE_RUN_SECONDS]
    assert seconds["Value"] == 73.0 and seconds["Unit"] == "Seconds"
    assert seconds["Dimensions"] == [{"Name": "JobName", "Value": "job"}]
    assert {d["Timestamp"] for d in data} == {WHEN}


def test_unknown_duration_is_left_out_and_a_non_final_state_gives_nothing():
    data = glue_runs.metric_data(glue_runs.FinishedRun("job", "jr_1", "TIMEOUT"), None, WHEN)
    assert [d["MetricName"] for d in data] == [glue_runs.GLUE_RUNS] * len(glue_runs.FINAL_STATES)
    assert glue_runs.metric_data(glue_runs.FinishedRun("job", "jr_1", "RUNNING"), 5.0, WHEN) == []


def test_final_states_are_the_ones_terraform_lists():
    from tests.support import hcl

    (block,) = [b for b in hcl.load("monitoring.tf")["locals"] if "glue_final_states" in b]
    assert tuple(hcl.unquote(s) for s in block["glue_final_states"]) == glue_runs.FINAL_STATES


@pytest.fixture
def handler_module(aws_env, monkeypatch):
    monkeypatch.setenv("METRICS_NAMESPACE", "proj/dev")
    module = load_module("lambdas/glue_run_metrics/handler.py", "glue_runs_handler_under_test")
    module.glue = boto3.client("glue", region_name="us-east-1")
    module.cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    return module


def test_handler_publishes_the_count_and_the_runs_execution_time(handler_module, context):
    event = load_event(EVENT)
    run_id, job = event["detail"]["jobRunId"], event["detail"]["jobName"]
    with Stubber(handler_module.glue) as glue, Stubber(handler_module.cloudwatch) as cloudwatch:
        glue.add_response("get_job_run", {"JobRun": {"Id": run_id, "JobRunState": "FAILED", "ExecutionTime": 41}},
                          {"JobName": job, "RunId": run_id})
        cloudwatch.add_response("put_metric_data", {}, {"Namespace": "proj/dev", "MetricData": ANY})
        result = handler_module.handler(event, context)
        cloudwatch.assert_no_pending_responses()
    assert result == {"job_name": job, "job_run_id": run_id, "state": "FAILED", "execution_seconds": 41.0}


def test_handler_counts_a_run_glue_no_longer_has_without_duration(handler_module, context):
    event = load_event(EVENT)
    with Stubber(handler_module.glue) as glue, Stubber(handler_module.cloudwatch) as cloudwatch:
        glue.add_client_error("get_job_run", "EntityNotFoundException", "no such run")
        cloudwatch.add_response("put_metric_data", {}, {"Namespace": "proj/dev", "MetricData": ANY})
        assert handler_module.handler(event, context)["execution_seconds"] is None


def test_handler_raises_other_glue_errors_so_the_event_is_retried(handler_module, context):
    from botocore.exceptions import ClientError

    with Stubber(handler_module.glue) as glue:
        glue.add_client_error("get_job_run", "AccessDeniedException", "no")
        with pytest.raises(ClientError):
            handler_module.handler(load_event(EVENT), context)


def test_handler_needs_the_metrics_namespace(aws_env, monkeypatch):
    monkeypatch.delenv("METRICS_NAMESPACE", raising=False)
    with pytest.raises(ConfigurationError, match="METRICS_NAMESPACE"):
        load_module("lambdas/glue_run_metrics/handler.py", "glue_runs_handler_without_namespace")
