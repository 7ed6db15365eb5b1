"""README promises checked on the deployed local stack (issue 16): S3 conditional reads (If-Match) on an
unversioned bucket, the notification's suffix filter, and the trigger's existing-run check.
Black-box: real S3, real Lambda invocations, real Glue runs; dataset names are unique per run."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from support.polling import wait_for

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[3]
DAILY = REPO / "data" / "samples" / "coinbase_btcusd_daily.csv"
EVENT = json.loads((REPO / "tests" / "events" / "s3_put_raw_default.json").read_text())


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _s3_event(bucket: str, key: str, etag: str, size: int, event_time: str) -> Dict[str, Any]:
    event = copy.deepcopy(EVENT)
    record = event["Records"][0]
    record["eventTime"] = event_time
    record["s3"]["bucket"].update({"name": bucket, "arn": f"arn:aws:s3:::{bucket}"})
    record["s3"]["object"] = {"key": key, "size": size, "eTag": etag.strip('"'), "sequencer": "0A1B2C3D4E5F678901"}
    return event


def _invoke(lam, function: str, event: Dict[str, Any]) -> Dict[str, Any]:
    response = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


def _keys(s3, bucket: str, prefix: str) -> List[str]:
    return [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]


def test_unversioned_bucket_reads_with_if_match_and_skips_an_overwritten_object(aws_client, deployed_stack):
    """README: conditional writes and reads (If-Match): without versioning the feature Lambda reads the
    object the event names by its ETag; an object overwritten since the event is "superseded"."""
    s3, lam = aws_client("s3"), aws_client("lambda")
    bucket = _unique("ifmatch")
    s3.create_bucket(Bucket=bucket)  # unversioned, no notifications: only the direct invocations below
    key, body = "raw/ifmatch.csv", DAILY.read_bytes()
    first = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
    second = s3.put_object(Bucket=bucket, Key=key, Body=body + b"\n")["ETag"]
    assert first != second
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    (stale,) = _invoke(lam, deployed_stack.feature_lambda_name, _s3_event(bucket, key, first, len(body), now))[
        "results"]
    assert stale["status"] == "superseded" and stale["key"] == key
    assert _keys(s3, bucket, "features/") == [] and _keys(s3, bucket, "errors/") == []

    (current,) = _invoke(lam, deployed_stack.feature_lambda_name,
                         _s3_event(bucket, key, second, len(body) + 1, now))["results"]
    assert current["status"] == "features_written", current
    assert current["features_key"] in _keys(s3, bucket, "features/ifmatch/")


def test_notification_filters_ignore_other_suffixes_and_prefixes(aws_client, deployed_stack):
    """README: notifications with prefix/suffix filters: raw.csv and raw/<dataset>.csv start the
    pipeline; raw/<x>.txt and other/<x>.csv do not."""
    s3, logs = aws_client("s3"), aws_client("logs")
    bucket = deployed_stack.bucket_name
    name = _unique("filter")
    since_ms = int(time.time() * 1000) - 5000
    header_only = b"timestamp,open,high,low,close,volume\n"
    for key in (f"raw/{name}.txt", f"other/{name}.csv", f"raw/{name}/nested.csv.gz"):
        s3.put_object(Bucket=bucket, Key=key, Body=header_only)
    s3.put_object(Bucket=bucket, Key=f"raw/{name}.csv", Body=header_only)  # the control: it is processed
    wait_for("the control upload's error report", lambda: _keys(s3, bucket, f"errors/{name}/") or None, 120)
    time.sleep(5)  # events of the earlier uploads, had they been delivered, would have been handled by now

    group = f"/aws/lambda/{deployed_stack.feature_lambda_name}"
    messages = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=since_ms) for e in page.get("events", [])]
    handled = [json.loads(m) for m in messages if name in m and m.lstrip().startswith("{")]
    # one invocation outcome, the control's; none for the .txt, the other prefix or the nested .csv.gz
    assert [(r.get("dataset"), r.get("status")) for r in handled] == [(name, "rejected")], handled
    assert _keys(s3, bucket, f"features/{name}/") == []
    assert [k for k in _keys(s3, bucket, "errors/_invalid-key/") if name in k] == []


def test_trigger_finds_the_existing_run_and_starts_no_second_one(aws_client, deployed_stack, follower):
    """README: the trigger starts no second Glue run for a features file ("glue job run already started")."""
    s3, glue, lam = aws_client("s3"), aws_client("glue"), aws_client("lambda")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    dataset = _unique("existing-run")
    result = follower.upload_and_follow(DAILY, f"raw/{dataset}.csv")
    runs = [r for page in glue.get_paginator("get_job_runs").paginate(JobName=job) for r in page["JobRuns"]
            if r.get("Arguments", {}).get("--features_key") == result.features_key]
    assert len(runs) == 1
    head = s3.head_object(Bucket=bucket, Key=result.features_key)
    event = _s3_event(bucket, result.features_key, head["ETag"], head["ContentLength"],
                      head["LastModified"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    (again,) = _invoke(lam, deployed_stack.trigger_lambda_name, event)["job_runs"]
    assert (again["status"], again["job_run_id"]) == ("already_started", runs[0]["Id"])
    after = [r for page in glue.get_paginator("get_job_runs").paginate(JobName=job) for r in page["JobRuns"]
             if r.get("Arguments", {}).get("--features_key") == result.features_key]
    assert [r["Id"] for r in after] == [runs[0]["Id"]]
