"""Lambda cripto-feature-engineering: S3 upload (raw.csv, raw/<dataset>.csv) -> features.

Writes features/<dataset>/<run_id>/manifest.json, then features.parquet (its creation starts training),
or errors/<dataset>/<run_id>.json for rejected input, which is returned, not raised: a retry cannot fix
a bad file. Unexpected errors raise, so the async invocation retries. Env: LOG_LEVEL, MAX_RAW_BYTES.
"""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline import config, events, logs, pipeline

SETTINGS = config.FeatureEngineeringSettings.from_env()
logger = logs.get_logger("feature-engineering", SETTINGS.log_level)
s3 = boto3.client("s3")


def handler(event, context):
    return {"results": [process(ref) for ref in events.parse_s3_event(event)]}


def process(ref: events.S3ObjectRef) -> dict:
    try:
        response = s3.get_object(Bucket=ref.bucket, Key=ref.key, **ref.get_selector())
        data = response["Body"].read(SETTINGS.max_raw_bytes + 1)  # never more than the limit in memory
        outcome = pipeline.build_features(ref, data, max_raw_bytes=SETTINGS.max_raw_bytes)
        for obj in outcome.writes:  # in order: the manifest exists before the Parquet file triggers training
            s3.put_object(Bucket=ref.bucket, **obj.put_arguments)
    except ClientError as error:
        outcome = pipeline.condition_failed(ref, error.operation_name, error.response["Error"]["Code"])
        if outcome is None:
            raise
    logger.log(outcome.log_level, outcome.status, extra={"fields": {"bucket": ref.bucket, **outcome.summary}})
    return outcome.summary
