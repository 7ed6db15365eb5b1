"""A real pipeline run ends in a "Glue Job State Change" event that an EventBridge rule delivers to
SQS, as AWS Glue's events do (issue 9, "Events"). Black box: the rule, the queue and the run are real;
the event is read from the queue."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DAILY = REPO / "data" / "samples" / "coinbase_btcusd_daily.csv"
EVENT_WAIT_SECONDS = 60


def test_a_pipeline_run_puts_a_glue_job_state_change_event(aws_client, deployed_stack, follower, tmp_path):
    events, sqs = aws_client("events"), aws_client("sqs")
    name = f"glue-state-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": [deployed_stack.glue_job_name]},
    }
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": queue_arn,
                       "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}],
    })})
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        # Fresh bytes under a fresh key, so the upload is a new Glue run (not a duplicate of an earlier one).
        sample = tmp_path / f"{name}.csv"
        sample.write_text("".join(DAILY.read_text().splitlines(keepends=True)[:-2]))
        result = follower.upload_and_follow(sample, f"raw/{name}.csv")
        assert result.glue_run_id, "the upload started a Glue run"

        received = _wait_for_event(sqs, queue_url, result.glue_run_id)
        assert received["source"] == "aws.glue" and received["detail-type"] == "Glue Job State Change"
        assert received["resources"] == [] and received["version"] == "0"
        assert received["detail"] == {
            "jobName": deployed_stack.glue_job_name,
            "severity": "INFO",
            "state": "SUCCEEDED",
            "jobRunId": result.glue_run_id,
            "message": "Job run succeeded",
        }
    finally:
        events.remove_targets(Rule=name, Ids=["queue"])
        events.delete_rule(Name=name)
        sqs.delete_queue(QueueUrl=queue_url)


def _wait_for_event(sqs, queue_url: str, job_run_id: str) -> dict:
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    seen = []
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            seen.append(event.get("detail"))
            if event.get("detail", {}).get("jobRunId") == job_run_id:
                return event
    raise AssertionError(f"no Glue Job State Change event for {job_run_id} within {EVENT_WAIT_SECONDS} s; saw {seen}")
