"""Lambda cripto-glue-trigger: features/<dataset>/<run_id>/features.parquet created -> Glue job run.

Starts GLUE_JOB_NAME with --bucket and --features_key, exactly once per features file: the start is
claimed first with a conditional put of features/<dataset>/<run_id>/glue-start.json, which then
records the job run id; a redelivered or concurrent event finds the claim and reports that run
(cripto_pipeline.start_claims describes the claim's states and the recovery of a dead claimant).
A busy job (MaxConcurrentRuns reached: ConcurrentRunsExceededException) or throttling gets exponential
backoff until this invocation's deadline; then the function hands the record on to a fresh
asynchronous invocation of itself and returns. After START_MAX_WAIT_SECONDS since the features file was written it raises
instead, so Lambda's async retries and then the failed-events queue take the record: it ends in a
Glue run or in that queue, never dropped. Env: GLUE_JOB_NAME, LOG_LEVEL, START_* (cripto_pipeline.config).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Optional

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cripto_pipeline import config, events, layout, logs, retry, start_claims

SETTINGS = config.GlueTriggerSettings.from_env()
logger = logs.get_logger("glue-trigger", SETTINGS.log_level)
glue = boto3.client("glue", config=Config(retries={"mode": "standard", "max_attempts": 5}))
lambda_client = boto3.client("lambda")
s3 = boto3.client("s3")
#: How often a delivery that found another delivery's live claim looks for the job run id, in seconds.
CLAIM_POLL_SECONDS = 1.0
#: Worth waiting for: the job already runs MaxConcurrentRuns times, or Glue throttles the account.
BUSY = frozenset({"ConcurrentRunsExceededException", "ThrottlingException"})


@logs.inject_lambda_context(logger)
def handler(event: dict, context: events.LambdaContext) -> dict:
    remaining = context.get_remaining_time_in_millis() / 1000.0 - config.START_DEADLINE_MARGIN_SECONDS
    deadline = time.monotonic() + remaining
    refs = events.parse_s3_event(event)
    results = [start(ref, deadline, context.aws_request_id) for ref in refs]
    records = event.get("Records", [])
    waiting = [record for record, result in zip(records, results) if result["status"] == "waiting"]
    if waiting:  # still busy at this invocation's deadline: continue in a fresh invocation
        lambda_client.invoke(FunctionName=context.invoked_function_arn, InvocationType="Event",
                             Payload=json.dumps({"Records": waiting}).encode())
    return {"job_runs": results}


def _log_backoff(error: Exception, delay: float) -> None:
    fields = {"delay_seconds": delay, "error": retry.error_code(error)}
    logger.warning("glue job busy; backing off", extra={"fields": fields})


def existing_run(features_key: str, since: datetime) -> dict:
    """A run of the job for ``features_key`` started after ``since`` (newest runs come first), or {}."""
    for page in glue.get_paginator("get_job_runs").paginate(JobName=SETTINGS.glue_job_name):
        for run in page.get("JobRuns", []):
            if run.get("Arguments", {}).get("--features_key") == features_key:
                return run
        if any(run["StartedOn"] < since for run in page.get("JobRuns", [])):
            return {}
    return {}


def _read_claim(bucket: str, key: str) -> tuple:
    response = s3.get_object(Bucket=bucket, Key=key)
    return start_claims.StartClaim.from_json(response["Body"].read()), response["ETag"]


def _put_claim(bucket: str, key: str, claim: start_claims.StartClaim, **condition) -> Optional[str]:
    """Conditional put of the claim; its new ETag, or None when the condition failed (someone else won)."""
    try:
        return s3.put_object(Bucket=bucket, Key=key, Body=claim.to_json(), ContentType="application/json",
                             **condition)["ETag"]
    except ClientError as error:
        if retry.error_code(error) in events.CONDITION_FAILED_CODES:
            return None
        raise


def acquire(ref: events.S3ObjectRef, keys: layout.RunKeys, me: str, deadline: float) -> tuple:
    """Own the start claim of ``ref`` -> ("owned", etag), or ("started", job_run_id), or ("waiting", None)."""
    lease = time.time() + max(0.0, deadline - time.monotonic()) + config.START_DEADLINE_MARGIN_SECONDS
    mine = start_claims.StartClaim(ref.key, me, lease)
    etag = _put_claim(ref.bucket, keys.start_claim, mine, IfNoneMatch="*")
    while etag is None:
        found, found_etag = _read_claim(ref.bucket, keys.start_claim)
        action = start_claims.decide(found, me, time.time())
        if action == start_claims.REPORT:
            return "started", found.job_run_id
        if action == start_claims.TAKE_OVER:
            # The previous owner may have died between StartJobRun and recording the run id.
            run = existing_run(ref.key, events.event_datetime(ref))
            if run:
                _put_claim(ref.bucket, keys.start_claim, found.started(run["Id"]), IfMatch=found_etag)
                return "started", run["Id"]
            etag = _put_claim(ref.bucket, keys.start_claim, mine, IfMatch=found_etag)
            continue
        if time.monotonic() + CLAIM_POLL_SECONDS > deadline:
            return "waiting", None  # the owner is still at it: look again in a fresh invocation
        time.sleep(CLAIM_POLL_SECONDS)
    return "owned", etag


def start(ref: events.S3ObjectRef, deadline: float, me: str = "") -> dict:
    run = layout.parse_features_key(ref.key)  # raises on keys outside the layout: a misconfigured trigger
    fields = {"job_name": SETTINGS.glue_job_name, "run_id": run.run_id, "dataset": run.dataset}
    written = events.event_datetime(ref)
    state, value = acquire(ref, run, me, deadline)
    if state == "started":
        logger.info("glue job run already started", extra={"fields": {**fields, "job_run_id": value}})
        return {**fields, "job_run_id": value, "status": "already_started"}
    if state == "waiting":
        logger.info("another delivery is starting this run; continuing in a new invocation", extra={"fields": fields})
        return {**fields, "status": "waiting"}
    claim = start_claims.StartClaim(ref.key, me, 0.0)
    arguments = {"--bucket": ref.bucket, "--features_key": ref.key}
    try:
        response = retry.call_with_backoff(
            lambda: glue.start_job_run(JobName=SETTINGS.glue_job_name, Arguments=arguments),
            lambda error: retry.error_code(error) in BUSY, SETTINGS.backoff_delays(), _log_backoff,
            deadline=deadline,
        )  # fmt: skip
    except ClientError as error:
        # Not started: free the claim so the next delivery (or our own continuation) takes it over at once.
        _put_claim(ref.bucket, run.start_claim, claim.released(), IfMatch=value)
        waited = (datetime.now(timezone.utc) - written).total_seconds()
        if retry.error_code(error) not in BUSY or waited > SETTINGS.start_max_wait_seconds:
            raise
        logger.warning("glue job still busy; continuing in a new invocation",
                       extra={"fields": {**fields, "waited_seconds": round(waited, 1)}})
        return {**fields, "status": "waiting"}
    job_run_id = response["JobRunId"]
    _put_claim(ref.bucket, run.start_claim, claim.started(job_run_id), IfMatch=value)
    logger.info("glue job run started", extra={"fields": {**fields, "job_run_id": job_run_id,
                                                          "features_key": ref.key}})
    return {**fields, "job_run_id": job_run_id, "status": "started"}
