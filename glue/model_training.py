"""Glue Python shell job cripto-model-training: features -> walk-forward evaluation -> model artifacts.

Arguments (set by the glue-trigger Lambda): ``--bucket`` and ``--features_key``
(``features/<dataset>/<run_id>/features.parquet``). Reads the run's manifest and Parquet file,
trains with cripto_pipeline (shipped with ``--extra-py-files``), writes
``models/<dataset>/<run_id>/{model.joblib, features.json, metrics.json, lineage.json}`` and then,
only after all of them succeeded and only if this run is the newest, ``models/<dataset>/latest.json``.
Any failure up to there raises: the job run ends FAILED and latest.json keeps pointing at the previous model.

Last, ``report.html`` (cripto_pipeline.report; matplotlib from ``--additional-python-modules``). A
report failure is logged and recorded in the run's summary line, and the run still SUCCEEDS: the
model is already published. Optional arguments for the report's cost estimate: ``--glue_dpu``,
``--feature_lambda_memory_mb``, ``--trigger_lambda_memory_mb`` (set by Terraform). With
``--metrics_namespace`` the model's quality and training time go to CloudWatch (PutMetricData: Glue
Python shell logs are not parsed as Embedded Metric Format); a metrics failure is logged only.

Runs on AWS Glue Python shell 3.9 (analytics library set). The S3 client takes its endpoint and
credentials from the environment, as on AWS. Logs are JSON lines on stdout (cripto_pipeline.logs, as
in the Lambdas), tracebacks inside their line; a failed run also logs "training failed" before raising.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Any, Dict, List, Optional

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline import layout, logs, pipeline, report, run_metrics

logger = logs.get_logger("model-training")


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


#: A missing key: S3 answers 404 NoSuchKey only to a caller allowed s3:ListBucket on that key's
#: prefix; otherwise 403 AccessDenied. The role's ListBucket is conditioned on s3:prefix, which a
#: GetObject request does not carry, so on AWS a missing latest.json (the first run of a dataset)
#: answers 403. The role may read every latest.json (iam.tf: ReadLatestPointers), so a 403 on it
#: can only mean "absent".
MISSING_CODES = frozenset({"NoSuchKey", "404"})
DENIED_CODES = frozenset({"AccessDenied", "403"})


def _get_json_or_none(s3: Any, bucket: str, key: str) -> Optional[Dict[str, Any]]:
    """The JSON object at ``key``, or None if it does not exist (404, or 403 without ListBucket)."""
    try:
        return json.loads(_get(s3, bucket, key))
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in MISSING_CODES:
            return None
        if code in DENIED_CODES:
            logger.info("access denied reading the pointer: treated as absent (S3 answers 403 for a missing "
                        "key without s3:ListBucket)", extra={"fields": {"key": key}})
            return None
        raise


def _put(s3: Any, bucket: str, obj: pipeline.ObjectToWrite) -> None:
    s3.put_object(Bucket=bucket, **obj.put_arguments)


def run(
    s3: Any,
    bucket: str,
    features_key: str,
    job_run_id: Optional[str] = None,
    resources: Optional[report.JobResources] = None,
    started: Optional[float] = None,
    metrics_namespace: Optional[str] = None,
) -> Dict[str, Any]:
    """Train on one run's features and publish the artifacts, then metrics and the report; returns the summary.

    ``resources`` and ``started`` (time.monotonic() at job start) feed the report's cost estimate.
    """
    started = time.monotonic() if started is None else started
    keys = layout.parse_features_key(features_key)
    manifest = json.loads(_get(s3, bucket, keys.manifest))
    features = s3.get_object(Bucket=bucket, Key=keys.features)
    parquet = features["Body"].read()
    outcome = pipeline.train_from_features(features_key, manifest, parquet, job_run_id=job_run_id)
    for obj in outcome.writes:
        _put(s3, bucket, obj)
    # Read-compare-write, so a run that finishes late never replaces a newer model. Two runs of one dataset
    # finishing within milliseconds could still race (the Glue runtime's botocore 1.24 predates S3
    # conditional writes); the pointer then names a valid, slightly older model until the next run.
    latest = pipeline.latest_pointer(outcome, _get_json_or_none(s3, bucket, keys.latest))
    if latest is not None:
        _put(s3, bucket, latest)
    summary = {**outcome.summary, "latest_updated": latest is not None}
    logger.info("model written", extra={"fields": summary})
    _publish_metrics(metrics_namespace, outcome.summary)
    summary["report"] = _publish_report(
        s3, bucket, outcome, manifest, parquet, features.get("LastModified"), resources, started
    )
    return summary


def _publish_metrics(namespace: Optional[str], summary: Dict[str, Any]) -> None:
    """PutMetricData of the run's metrics; never raises, because the model is already published."""
    if not namespace:
        return
    try:
        cloudwatch = boto3.client("cloudwatch")
        for request in run_metrics.put_metric_data_requests(namespace, run_metrics.training_metrics(summary)):
            cloudwatch.put_metric_data(**request)
    except Exception as error:  # any failure (permissions, endpoint): log it; the run stays SUCCEEDED
        logger.error("metrics not published", extra={"fields": {"error": f"{type(error).__name__}: {error}"}})


def _publish_report(
    s3: Any,
    bucket: str,
    outcome: pipeline.Outcome,
    manifest: Dict[str, Any],
    parquet: bytes,
    features_written_at: Optional[datetime],
    resources: Optional[report.JobResources],
    started: float,
) -> Dict[str, Any]:
    """Write report.html; never raises, because the model it describes is already published."""
    try:
        listing = _run_listing(s3, bucket, outcome)
        keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
        inputs = (resources or report.JobResources()).cost_inputs(
            time.monotonic() - started, manifest, features_written_at,
            {key: item["Size"] for key, item in listing.items()}, listing.get(keys.inputs, {}).get("LastModified"),
        )
        obj = report.build_report(outcome, manifest, parquet, inputs)  # imports matplotlib
        _put(s3, bucket, obj)
    except Exception as error:  # any failure (no matplotlib, a plot, S3): log and record; the run stays SUCCEEDED
        fields = {"run_id": outcome.summary["run_id"], "error": f"{type(error).__name__}: {error}"}
        logger.exception("report failed", extra={"fields": fields})
        return {"written": False, "error": f"{type(error).__name__}: {error}"}
    logger.info("report written", extra={"fields": {"key": obj.key, "bytes": len(obj.body)}})
    return {"written": True, "key": obj.key}


def _run_listing(s3: Any, bucket: str, outcome: pipeline.Outcome) -> Dict[str, Dict[str, Any]]:
    """Key -> ListObjectsV2 entry under the run's features/ and models/ prefixes (its S3 cost, and when a
    Spark-built run's inputs.json was written; a handful of objects: one page each)."""
    keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
    return {item["Key"]: item for prefix in (keys.features_prefix, keys.models_prefix)
            for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}


def _optional_argument(argv: List[str], name: str) -> Optional[str]:
    """Glue adds --JOB_RUN_ID (among others) to argv; absent when the script is run by hand."""
    flag = f"--{name}"
    for index, value in enumerate(argv):
        if value == flag and index + 1 < len(argv):
            return argv[index + 1]
        if value.startswith(flag + "="):
            return value.split("=", 1)[1]
    return None


def _optional_number(argv: List[str], name: str) -> Optional[float]:
    value = _optional_argument(argv, name)
    return float(value) if value else None


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    started = time.monotonic()
    # Imported here so unit tests can import this module without the Glue libraries.
    from awsglue.utils import getResolvedOptions

    argv = list(sys.argv if argv is None else argv)
    args = getResolvedOptions(argv, ["bucket", "features_key"])
    resources = report.JobResources(
        glue_dpu=_optional_number(argv, "glue_dpu"),
        feature_lambda_memory_mb=_optional_number(argv, "feature_lambda_memory_mb"),
        trigger_lambda_memory_mb=_optional_number(argv, "trigger_lambda_memory_mb"),
    )
    s3, job_run_id = boto3.client("s3"), _optional_argument(argv, "JOB_RUN_ID")
    try:
        return run(s3, args["bucket"], args["features_key"], job_run_id, resources, started,
                   _optional_argument(argv, "metrics_namespace"))
    except Exception as error:
        logger.exception("training failed", extra={"fields": {"features_key": args["features_key"],
                                                              "job_run_id": job_run_id}})
        _record_failure(s3, args["bucket"], args["features_key"], job_run_id, error)
        raise  # the Glue run ends FAILED with this error; latest.json still names the last good model


def _record_failure(
    s3: Any, bucket: str, features_key: str, job_run_id: Optional[str], error: Exception
) -> None:
    """Write models/<dataset>/<run_id>/status.json (state FAILED, the error); never hides ``error``.

    A TIMEOUT or a lost process cannot be written from here: Glue's run record (GetJobRun) has those.
    """
    try:
        status = pipeline.failure_status(features_key, error, job_run_id)
        if status is not None:
            _put(s3, bucket, status)
    except Exception as secondary:  # recording must never replace the original error
        logger.error("could not record the failure", extra={"fields": {"error": repr(secondary)}})


if __name__ == "__main__":
    main()
