"""Glue Python shell job cripto-model-training: features -> walk-forward evaluation -> model artifacts.

Arguments (set by the glue-trigger Lambda): ``--bucket`` and ``--features_key``
(``features/<dataset>/<run_id>/features.parquet``). Reads the run's manifest and Parquet file,
trains with cripto_pipeline (shipped with ``--extra-py-files``), writes
``models/<dataset>/<run_id>/{model.joblib, features.json, metrics.json, lineage.json}`` and then,
only after all of them succeeded and only if this run is the newest, ``models/<dataset>/latest.json``.
Any failure raises: the job run ends FAILED and latest.json keeps pointing at the previous model.

Runs on AWS Glue Python shell 3.9 (analytics library set). The S3 client takes its endpoint and
credentials from the environment, as on AWS.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Dict, List, Optional

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline import layout, pipeline

logger = logging.getLogger("cripto-model-training")


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _get_json_or_none(s3: Any, bucket: str, key: str) -> Optional[Dict[str, Any]]:
    try:
        return json.loads(_get(s3, bucket, key))
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise


def _put(s3: Any, bucket: str, obj: pipeline.ObjectToWrite) -> None:
    s3.put_object(Bucket=bucket, **obj.put_arguments)


def run(s3: Any, bucket: str, features_key: str, job_run_id: Optional[str] = None) -> Dict[str, Any]:
    """Train on one run's features and publish the artifacts; returns the outcome summary."""
    keys = layout.parse_features_key(features_key)
    manifest = json.loads(_get(s3, bucket, keys.manifest))
    outcome = pipeline.train_from_features(
        features_key, manifest, _get(s3, bucket, keys.features), job_run_id=job_run_id
    )
    for obj in outcome.writes:
        _put(s3, bucket, obj)
    # Read-compare-write, so a run that finishes late never replaces a newer model. Two runs of one dataset
    # finishing within milliseconds could still race (the Glue runtime's botocore 1.24 predates S3
    # conditional writes); the pointer then names a valid, slightly older model until the next run.
    latest = pipeline.latest_pointer(outcome, _get_json_or_none(s3, bucket, keys.latest))
    if latest is not None:
        _put(s3, bucket, latest)
    summary = {**outcome.summary, "latest_updated": latest is not None}
    logger.info(json.dumps({"message": "model written", **summary}, default=str))
    return summary


def _optional_argument(argv: List[str], name: str) -> Optional[str]:
    """Glue adds --JOB_RUN_ID (among others) to argv; absent when the script is run by hand."""
    flag = f"--{name}"
    for index, value in enumerate(argv):
        if value == flag and index + 1 < len(argv):
            return argv[index + 1]
        if value.startswith(flag + "="):
            return value.split("=", 1)[1]
    return None


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    # Imported here so unit tests can import this module without the Glue libraries.
    from awsglue.utils import getResolvedOptions

    argv = list(sys.argv if argv is None else argv)
    args = getResolvedOptions(argv, ["bucket", "features_key"])
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    return run(
        boto3.client("s3"), args["bucket"], args["features_key"], _optional_argument(argv, "JOB_RUN_ID")
    )


if __name__ == "__main__":
    main()
