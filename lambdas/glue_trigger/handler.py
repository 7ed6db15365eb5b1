"""Lambda cripto-glue-trigger: features/<dataset>/<run_id>/features.parquet created -> Glue job run.

Starts GLUE_JOB_NAME with --bucket and --features_key, once per features file: a run that already
exists for the file (a redelivered event) is reported, not repeated. A busy job (MaxConcurrentRuns
reached: ConcurrentRunsExceededException) or throttling gets exponential backoff until this
invocation's deadline; then the function hands the record on to a fresh asynchronous invocation of
itself and returns. After START_MAX_WAIT_SECONDS since the features file was written it raises
instead, so Lambda's async retries and then the failed-events queue take the record: it ends in a
Glue run or in that queue, never dropped. Env: GLUE_JOB_NAME, LOG_LEVEL, START_* (cripto_pipeline.config).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cripto_pipeline import config, events, layout, logs, retry

SETTINGS = config.GlueTriggerSettings.from_env()
logger = logs.get_logger("glue-trigger", SETTINGS.log_level)
glue = boto3.client("glue", config=Config(retries={"mode": "standard", "max_attempts": 5}))
lambda_client = boto3.client("lambda")
#: Worth waiting for: the job already runs MaxConcurrentRuns times, or Glue throttles the account.
BUSY = frozenset({"ConcurrentRunsExceededException", "ThrottlingException"})


def handler(event, context):
    remaining = context.get_remaining_time_in_millis() / 1000.0 - config.START_DEADLINE_MARGIN_SECONDS
    deadline = time.monotonic() + remaining
    refs = events.parse_s3_event(event)
    results = [start(ref, deadline) for ref in refs]
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


def start(ref: events.S3ObjectRef, deadline: float) -> dict:
    run = layout.parse_features_key(ref.key)  # raises on keys outside the layout: a misconfigured trigger
    fields = {"job_name": SETTINGS.glue_job_name, "run_id": run.run_id, "dataset": run.dataset}
    written = events.event_datetime(ref)
    found = existing_run(ref.key, written)
    if found:
        logger.info("glue job run already started", extra={"fields": {**fields, "job_run_id": found["Id"]}})
        return {**fields, "job_run_id": found["Id"], "status": "already_started"}
    arguments = {"--bucket": ref.bucket, "--features_key": ref.key}
    try:
        response = retry.call_with_backoff(
            lambda: glue.start_job_run(JobName=SETTINGS.glue_job_name, Arguments=arguments),
            lambda error: retry.error_code(error) in BUSY, SETTINGS.backoff_delays(), _log_backoff,
            deadline=deadline,
        )  # fmt: skip
    except ClientError as error:
        waited = (datetime.now(timezone.utc) - written).total_seconds()
        if retry.error_code(error) not in BUSY or waited > SETTINGS.start_max_wait_seconds:
            raise
        logger.warning("glue job still busy; continuing in a new invocation",
                       extra={"fields": {**fields, "waited_seconds": round(waited, 1)}})
        return {**fields, "status": "waiting"}
    logger.info("glue job run started", extra={"fields": {**fields, "job_run_id": response["JobRunId"],
                                                          "features_key": ref.key}})
    return {**fields, "job_run_id": response["JobRunId"], "status": "started"}
