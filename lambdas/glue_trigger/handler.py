"""Lambda cripto-glue-trigger: features/<dataset>/<run_id>/features.parquet created -> Glue job run.

Starts GLUE_JOB_NAME with --bucket and --features_key. botocore retries throttling; a busy job
(ConcurrentRunsExceededException) gets a bounded backoff here; if Glue still refuses, the error is
raised so the async invocation retries, then goes to the failure destination: never dropped silently.
Env: GLUE_JOB_NAME, LOG_LEVEL, START_MAX_ATTEMPTS, START_BACKOFF_SECONDS (see cripto_pipeline.config).
"""

from __future__ import annotations

import boto3
from botocore.config import Config

from cripto_pipeline import config, events, layout, logs, retry

SETTINGS = config.GlueTriggerSettings.from_env()
logger = logs.get_logger("glue-trigger", SETTINGS.log_level)
_RETRIES = Config(retries={"mode": "standard", "max_attempts": SETTINGS.start_max_attempts})
glue = boto3.client("glue", config=_RETRIES)
BUSY = "ConcurrentRunsExceededException"  # the job already runs MaxConcurrentRuns times


def handler(event, context):
    return {"job_runs": [start(ref) for ref in events.parse_s3_event(event)]}


def _log_backoff(error: Exception, delay: float) -> None:
    logger.warning("glue job busy; backing off", extra={"fields": {"delay_seconds": delay}})


def start(ref: events.S3ObjectRef) -> dict:
    run = layout.parse_features_key(ref.key)  # raises on keys outside the layout: a misconfigured trigger
    arguments = {"--bucket": ref.bucket, "--features_key": ref.key}
    response = retry.call_with_backoff(
        lambda: glue.start_job_run(JobName=SETTINGS.glue_job_name, Arguments=arguments),
        lambda error: retry.error_code(error) == BUSY, SETTINGS.backoff_delays(), _log_backoff,
    )  # fmt: skip
    result = {"job_name": SETTINGS.glue_job_name, "job_run_id": response["JobRunId"], "run_id": run.run_id}
    logger.info("glue job run started", extra={"fields": {**result, "features_key": ref.key}})
    return {**result, "dataset": run.dataset}
