"""Monitoring on the real stack (issue 13): a good run's metrics are readable with GetMetricData, the
"Glue runs by state and duration" widget has data after a failing and a good Glue run, the dashboard
names only metrics that exist, and a Lambda error drives its alarm to ALARM. Alarms evaluate
10 s periods locally (terraform/env/local.tfvars), a value AWS accepts too."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cripto_ops import dashboard
from cripto_pipeline import glue_runs, run_metrics
from tests.support.polling import wait_for

REPO = Path(__file__).resolve().parents[3]
DAILY = REPO / "data" / "samples" / "coinbase_btcusd_daily.csv"

pytestmark = pytest.mark.timeout(600)

#: Metrics AWS publishes itself, by namespace (AWS's "Lambda metrics" / "SQS metrics" pages). The free
#: emulation publishes only some (Invocations, Errors after a first error, SQS queue depths), so
#: for these the test checks the name and that the dimension names a resource of this stack.
AWS_METRICS = {
    "AWS/Lambda": {"Invocations", "Errors", "Throttles", "Duration"},
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible"},
}


@pytest.fixture(scope="module")
def good_run(deployed_stack, follower_factory):
    """One fresh run under its own dataset, so its metrics are this run's alone."""
    dataset = f"mon-{uuid.uuid4().hex[:8]}"
    return follower_factory().upload_and_follow(DAILY, f"raw/{dataset}.csv")


@pytest.fixture(scope="module")
def follower_factory(aws_client, deployed_stack):
    from cripto_ops.follow import Budgets, RunFollower

    return lambda: RunFollower(aws_client("s3"), aws_client("glue"), aws_client("logs"), deployed_stack,
                               Budgets(features=120, trigger=120, training=300))


@pytest.fixture(scope="module")
def failed_run(aws_client, deployed_stack):
    """A real training run that ends FAILED: its features key is not one, so the script raises at once."""
    glue = aws_client("glue")
    run_id = glue.start_job_run(JobName=deployed_stack.glue_job_name,
                                Arguments={"--features_key": "mon/not-a-features-key"})["JobRunId"]
    wait_for(f"run {run_id} FAILED", lambda: glue.get_job_run(
        JobName=deployed_stack.glue_job_name, RunId=run_id)["JobRun"]["JobRunState"] == "FAILED", 180, 1)
    return run_id


@pytest.fixture(scope="module")
def glue_runs_recorded(aws_client, deployed_stack, good_run, failed_run):
    """The glue-run-metrics function's log line for the good run and for the failing run, by run id:
    EventBridge delivered both "Glue Job State Change" events and the metrics were published."""
    logs = aws_client("logs")
    group = f"/aws/lambda/{deployed_stack.raw['glue_runs_lambda_name']}"
    wanted = {good_run.glue_run_id, failed_run}
    since_ms = int((datetime.now(timezone.utc) - timedelta(hours=1)).timestamp() * 1000)

    def recorded():
        found = {}
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms):
            for event in page.get("events", []):
                text = event["message"].strip()
                record = json.loads(text) if text.startswith("{") else {}
                if record.get("message") == "glue run recorded" and record.get("job_run_id") in wanted:
                    found[record["job_run_id"]] = record
        return found if set(found) == wanted else None

    return wait_for(f"glue-run-metrics records of {sorted(wanted)}", recorded, 120, 1)


def _metric_values(cloudwatch, namespace: str, name: str, dataset: str):
    end = datetime.now(timezone.utc) + timedelta(minutes=1)
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": run_metrics.DIMENSION, "Value": dataset}]},
            "Period": 60, "Stat": "Maximum"}}],
        StartTime=end - timedelta(hours=1), EndTime=end)
    return result["MetricDataResults"][0]["Values"]


def test_good_run_publishes_its_metrics_readable_with_get_metric_data(aws_client, deployed_stack, good_run):
    cloudwatch, namespace = aws_client("cloudwatch"), deployed_stack.raw["metrics_namespace"]
    values = {name: wait_for(f"{name} of {good_run.dataset}",
                             lambda n=name: _metric_values(cloudwatch, namespace, n, good_run.dataset), 60)
              for name in run_metrics.UNITS}
    s3 = aws_client("s3")
    manifest = json.loads(s3.get_object(Bucket=deployed_stack.bucket_name, Key=good_run.features_key.rsplit("/", 1)[0]
                                        + "/manifest.json")["Body"].read())
    comparison = good_run.metrics["comparison"]
    assert values["Rows"] == [manifest["rows"]["features"]]
    assert values["ModelAccuracy"] == [pytest.approx(comparison["model_accuracy_mean"])]
    assert values["ModelBalancedAccuracy"] == [pytest.approx(comparison["model_balanced_accuracy_mean"])]
    assert values["MarginOverBestBaseline"] == [pytest.approx(
        comparison["model_accuracy_mean"] - comparison["best_baseline_accuracy_mean"])]
    assert values["BeatsBaselines"] == [1.0 if comparison["beats_all_baselines"] else 0.0]
    assert values["TrainingSeconds"] == [pytest.approx(good_run.metrics["training_seconds"])]
    assert 0 < values["FeatureSeconds"][0] < good_run.durations["features"] + 1


def test_glue_runs_by_state_and_duration_widgets_have_data(aws_client, deployed_stack, good_run, failed_run,
                                                           glue_runs_recorded):
    glue, cloudwatch = aws_client("glue"), aws_client("cloudwatch")
    job = deployed_stack.glue_job_name
    for run_id, state in ((good_run.glue_run_id, "SUCCEEDED"), (failed_run, "FAILED")):
        record = glue_runs_recorded[run_id]
        assert record["state"] == state and record["job_name"] == job
        # The duration published is the run's own ExecutionTime (the event carries none).
        assert record["execution_seconds"] == glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["ExecutionTime"]

    # The dashboard's own widgets, fetched the way `make dashboard` fetches them.
    widgets = [w for w in dashboard.parse_widgets(dashboard.load_body(cloudwatch, deployed_stack))
               if any(s.metric and s.metric[1] in (glue_runs.GLUE_RUNS, glue_runs.GLUE_RUN_SECONDS) for s in w.series)]
    assert [sorted(s.label for s in w.series) for w in widgets] == [sorted(glue_runs.FINAL_STATES), ["ExecutionTime"]]
    counts, durations = widgets
    dashboard.fetch(cloudwatch, widgets, timedelta(hours=1), datetime.now(timezone.utc) + timedelta(minutes=1))
    by_state = {s.label: s for s in counts.series}
    for state in glue_runs.FINAL_STATES:  # every state has points: 1 for its runs, 0 for the others'
        assert by_state[state].values and not by_state[state].error, (state, by_state[state])
    assert sum(by_state["SUCCEEDED"].values) >= 1 and sum(by_state["FAILED"].values) >= 1
    (duration,) = durations.series
    assert duration.values and max(duration.values) >= glue_runs_recorded[good_run.glue_run_id]["execution_seconds"]


def test_dashboard_names_only_metrics_that_exist(aws_client, deployed_stack, good_run, glue_runs_recorded):
    cloudwatch = aws_client("cloudwatch")
    body = dashboard.load_body(cloudwatch, deployed_stack)
    referenced = dashboard.referenced_metrics(body)
    existing = {(m["Namespace"], m["MetricName"], tuple((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
                for page in cloudwatch.get_paginator("list_metrics").paginate() for m in page["Metrics"]}
    functions = {deployed_stack.feature_lambda_name, deployed_stack.trigger_lambda_name,
                 deployed_stack.raw["glue_runs_lambda_name"]}
    queue = deployed_stack.raw["failed_events_queue_url"].rsplit("/", 1)[1]
    ours = [m for m in referenced if m[0] not in AWS_METRICS]
    assert ours and len(ours) < len(referenced)
    # The default dataset's metrics exist once any run of it happened; the good run is another
    # dataset, so compare names by substituting it.
    for namespace, name, dimensions in ours:
        if dimensions and dimensions[0][0] == run_metrics.DIMENSION:
            dimensions = ((run_metrics.DIMENSION, good_run.dataset),)
        assert (namespace, name, dimensions) in existing, f"dashboard names {namespace} {name}, which no run publishes"
    for namespace, name, dimensions in referenced - set(ours):
        assert name in AWS_METRICS[namespace], f"{namespace} has no metric {name}"
        assert dict(dimensions) in ([{"FunctionName": f} for f in functions] + [{"QueueName": queue}])


def test_lambda_error_drives_its_errors_alarm_to_alarm(aws_client, deployed_stack):
    lam, cloudwatch = aws_client("lambda"), aws_client("cloudwatch")
    alarm_name = f"{deployed_stack.raw['alarm_name_prefix']}feature-errors"
    assert cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"], "the errors alarm is deployed"
    # An upload event whose object does not exist: GetObject fails with NoSuchKey, the handler raises.
    missing = f"raw/mon-missing-{uuid.uuid4().hex[:8]}.csv"
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
                          "eventTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                          "s3": {"bucket": {"name": deployed_stack.bucket_name},
                                 "object": {"key": missing, "size": 10}}}]}
    response = lam.invoke(FunctionName=deployed_stack.feature_lambda_name, Payload=json.dumps(event).encode())
    payload = response["Payload"].read()
    assert response.get("FunctionError") and b"NoSuchKey" in payload, payload[:500]

    def in_alarm():
        alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
        return alarm if alarm["StateValue"] == "ALARM" else None

    alarm = wait_for(f"{alarm_name} in ALARM", in_alarm, 180, 2)
    assert "Threshold Crossed" in alarm["StateReason"]


def test_failing_glue_run_drives_the_glue_failure_alert_to_an_sqs_subscriber(aws_client, deployed_stack):
    """Glue's "Glue Job State Change" event (FAILED) -> the stack's EventBridge rule -> the encrypted
    alerts topic -> an SQS queue subscribed to it, as an operator's own subscriber would be."""
    sns, sqs, glue = aws_client("sns"), aws_client("sqs"), aws_client("glue")
    topic_arn = deployed_stack.raw["alerts_topic_arn"]
    queue_url = sqs.create_queue(QueueName=f"mon-alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": queue_arn,
                       "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}],
    })})
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    try:
        # Not a features key: the job script raises at once and the run ends FAILED (nothing is written).
        run_id = glue.start_job_run(JobName=deployed_stack.glue_job_name,
                                    Arguments={"--features_key": "mon/not-a-features-key"})["JobRunId"]
        wait_for(f"run {run_id} FAILED", lambda: glue.get_job_run(
            JobName=deployed_stack.glue_job_name, RunId=run_id)["JobRun"]["JobRunState"] == "FAILED", 180, 1)

        def alert_for_run():
            for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2,
                                               MaxNumberOfMessages=10).get("Messages", []):
                event = json.loads(json.loads(message["Body"])["Message"])
                if event.get("detail", {}).get("jobRunId") == run_id:
                    return event
            return None

        event = wait_for(f"Glue-failure alert for {run_id}", alert_for_run, 60, 0)
        assert event["source"] == "aws.glue" and event["detail-type"] == "Glue Job State Change"
        assert event["detail"]["jobName"] == deployed_stack.glue_job_name
        assert event["detail"]["state"] == "FAILED"
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)


def test_succeeded_glue_run_is_not_alerted(aws_client, deployed_stack):
    """The rule's pattern keeps SUCCEEDED runs off the alerts topic (only FAILED/TIMEOUT/STOPPED)."""
    events = aws_client("events")
    rule = events.describe_rule(Name=deployed_stack.raw["glue_failure_rule_name"])
    pattern = json.loads(rule["EventPattern"])
    assert sorted(pattern["detail"]["state"]) == ["FAILED", "STOPPED", "TIMEOUT"]
    succeeded = {"source": "aws.glue", "detail-type": "Glue Job State Change", "id": str(uuid.uuid4()),
                 "account": "000000000000", "time": "2026-12-01T00:00:00Z", "region": "us-east-1",
                 "resources": [], "version": "0",
                 "detail": {"jobName": deployed_stack.glue_job_name, "state": "SUCCEEDED"}}
    failed = {**succeeded, "detail": {**succeeded["detail"], "state": "FAILED"}}
    assert not events.test_event_pattern(EventPattern=rule["EventPattern"], Event=json.dumps(succeeded))["Result"]
    assert events.test_event_pattern(EventPattern=rule["EventPattern"], Event=json.dumps(failed))["Result"]
