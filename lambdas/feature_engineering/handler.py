"""Lambda cripto-feature-engineering: S3 upload (raw.csv, raw/<dataset>.csv) -> features.

Claims the content (conditional put of features/<dataset>/_content/<sha256>.json), then writes
features/<dataset>/<run_id>/manifest.json and features.parquet (its creation starts training); identical
content already claimed by another run gets duplicate-of.json instead (no second training run).
Rejected input gets errors/<dataset>/<run_id>.json, returned, not raised: a retry cannot fix a bad file.
Unexpected errors raise, so the async invocation retries. Rows and seconds of a written run go to
CloudWatch metrics (cripto_pipeline.run_metrics). Env: LOG_LEVEL, MAX_RAW_BYTES, METRICS_NAMESPACE.
"""

from __future__ import annotations

import json
import time

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline import config, events, logs, pipeline, run_metrics

SETTINGS = config.FeatureEngineeringSettings.from_env()
logger = logs.get_logger("feature-engineering", SETTINGS.log_level)
s3 = boto3.client("s3")
cloudwatch = boto3.client("cloudwatch")


@logs.inject_lambda_context(logger)
def handler(event: dict, context: events.LambdaContext) -> dict:
    return {"results": [process(ref) for ref in events.parse_s3_event(event)]}


def process(ref: events.S3ObjectRef) -> dict:
    started = time.monotonic()
    try:
        response = s3.get_object(Bucket=ref.bucket, Key=ref.key, **ref.get_selector())
        data = response["Body"].read(SETTINGS.max_raw_bytes + 1)  # never more than the limit in memory
        outcome = pipeline.build_features(ref, data, max_raw_bytes=SETTINGS.max_raw_bytes)
        if outcome.claim is not None:
            outcome = pipeline.covered_by(outcome, claim(ref.bucket, outcome.claim))
        for obj in outcome.writes:  # in order: the manifest exists before the Parquet file triggers training
            s3.put_object(Bucket=ref.bucket, **obj.put_arguments)
    except ClientError as error:
        outcome = pipeline.condition_failed(ref, error.operation_name, error.response["Error"]["Code"])
        if outcome is None:
            raise
    logger.log(outcome.log_level, outcome.status, extra={"fields": {"bucket": ref.bucket, **outcome.summary}})
    publish(run_metrics.feature_metrics(outcome.summary, time.monotonic() - started))
    return outcome.summary


def publish(metrics: list) -> None:
    """Send the run's metrics; a monitoring outage is logged, never fails the already-written run."""
    if not SETTINGS.metrics_namespace or not metrics:
        return
    try:
        for request in run_metrics.put_metric_data_requests(SETTINGS.metrics_namespace, metrics):
            cloudwatch.put_metric_data(**request)
    except ClientError as error:
        logger.warning("metrics not published", extra={"fields": {"error": str(error)}})


def claim(bucket: str, obj: pipeline.ObjectToWrite) -> dict:
    """Create the content claim, or read the one that exists (whoever wrote it first owns the content)."""
    try:
        s3.put_object(Bucket=bucket, **obj.put_arguments)
        return json.loads(obj.body)
    except ClientError as error:
        if error.response["Error"]["Code"] not in events.CONDITION_FAILED_CODES:
            raise
    return json.loads(s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read())
