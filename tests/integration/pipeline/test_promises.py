"""README promises checked on the deployed local stack (issue 16): S3 conditional reads (If-Match) on an
unversioned bucket, the notification's suffix filter, and the trigger's existing-run check with its
GetJobRuns pagination and cut-off. Black-box: real S3, real Lambda invocations, real Glue runs; dataset names
are unique per run."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from cripto_pipeline import layout, start_claims
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


def _event_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _runs_of(glue, job: str, features_key: str) -> List[Dict[str, Any]]:
    return [r for page in glue.get_paginator("get_job_runs").paginate(JobName=job) for r in page["JobRuns"]
            if r.get("Arguments", {}).get("--features_key") == features_key]


def _stop(glue, job: str, run_ids: List[str]) -> None:
    """Stop the runs (BatchStopJobRun takes 25 ids a call), newest first so no queued one gets promoted."""
    for start in range(0, len(run_ids), 25):
        glue.batch_stop_job_run(JobName=job, JobRunIds=run_ids[start:start + 25])


def test_trigger_pages_past_newer_runs_to_the_existing_run_and_stops_at_the_cut_off(aws_client, deployed_stack):
    """README: the trigger starts no second Glue run for a features file even when the run that started it
    is not on GetJobRuns' first page (an owner that died between StartJobRun and recording the run id:
    its claim is free, and the trigger asks Glue); it stops paging at the first page that reaches back
    before the features event (older runs cannot be this file's), and then starts the run."""
    s3, glue, lam = aws_client("s3"), aws_client("glue"), aws_client("lambda")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    dataset = _unique("paged-runs")
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    keys = layout.run_keys(dataset, run_id)
    features_key = keys.features
    # Only the claim is written (no features file, so no S3 notification): the trigger reads neither.
    written = datetime.now(timezone.utc)
    time.sleep(1.0)  # the run below starts strictly after the features event
    dead_owner = start_claims.StartClaim(features_key, "dead-owner-request", lease_expires=1.0)
    s3.put_object(Bucket=bucket, Key=keys.start_claim, Body=dead_owner.to_json())
    owned = glue.start_job_run(JobName=job, Arguments={"--bucket": bucket, "--features_key": features_key})["JobRunId"]
    # Newer runs of the same job push that run off the first page (queued above MaxConcurrentRuns, then stopped).
    padding = [glue.start_job_run(JobName=job, Arguments={
        "--features_key": layout.run_keys(f"{dataset}-pad", run_id).features})["JobRunId"] for _ in range(100)]
    try:
        _stop(glue, job, list(reversed(padding)) + [owned])
        first = glue.get_job_runs(JobName=job)  # the page size the trigger's paginator gets (no MaxResults)
        first_ids = [r["Id"] for r in first["JobRuns"]]
        assert first.get("NextToken") and owned not in first_ids and set(padding[-len(first_ids):]) <= set(first_ids)

        event = _s3_event(bucket, features_key, '"0123456789abcdef0123456789abcdef"', 1234, _event_time(written))
        (found,) = _invoke(lam, deployed_stack.trigger_lambda_name, event)["job_runs"]
        assert (found["status"], found["job_run_id"]) == ("already_started", owned), found
        assert [r["Id"] for r in _runs_of(glue, job, features_key)] == [owned]
        claim = start_claims.StartClaim.from_json(s3.get_object(Bucket=bucket, Key=keys.start_claim)["Body"].read())
        assert claim.job_run_id == owned

        # Same file, but its event is newer than every run: the first page already reaches back before it,
        # so the trigger stops there, never sees the older run on page 2, and starts one.
        s3.put_object(Bucket=bucket, Key=keys.start_claim, Body=dead_owner.released().to_json())
        later = _s3_event(bucket, features_key, '"0123456789abcdef0123456789abcdef"', 1234,
                          _event_time(datetime.now(timezone.utc)))
        (started,) = _invoke(lam, deployed_stack.trigger_lambda_name, later)["job_runs"]
        assert started["status"] == "started" and started["job_run_id"] != owned, started
        assert sorted(r["Id"] for r in _runs_of(glue, job, features_key)) == sorted([owned, started["job_run_id"]])
        _stop(glue, job, [started["job_run_id"]])
    finally:  # best effort: nothing of this test keeps the job's slots busy
        states = {r["Id"]: r["JobRunState"] for page in glue.get_paginator("get_job_runs").paginate(JobName=job)
                  for r in page["JobRuns"]}
        live = [i for i, state in states.items() if state in ("WAITING", "STARTING", "RUNNING") and dataset in
                json.dumps(glue.get_job_run(JobName=job, RunId=i)["JobRun"].get("Arguments", {}))]
        if live:
            _stop(glue, job, live)
