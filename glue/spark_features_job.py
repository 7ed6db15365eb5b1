"""Glue 5.0 Spark job cripto-spark-features: a large dataset's raw files -> features (issue 12).

Arguments (StartJobRun, set by whoever routes the dataset here): ``--bucket``, ``--dataset``,
``--run_id``. Optional: ``--training_sample_rows`` (rows of features.parquet, default 1,000,000),
``--validation_chunk_bytes`` (largest piece of a raw file validated at once on the driver, default
the feature Lambda's MAX_RAW_BYTES). Glue adds ``--JOB_RUN_ID``.

Reads ``features/<dataset>/<run_id>/inputs.json`` (the raw keys and versions), validates each raw file
with the Lambda's rules (cripto_pipeline.large_inputs; the validated rows are staged under
``validated/`` and deleted at the end), then cripto_pipeline.spark_job checks across files, computes
the features and draws the sample. Writes, in order: ``parts/part-*.parquet`` (all feature rows),
``manifest.json``, and LAST ``features.parquet`` (the sample: its creation starts training). The
manifest's ``spark_usage`` is the job's own DPUs and seconds so far (GetJobRun of ``--JOB_NAME`` /
``--JOB_RUN_ID``, glue:GetJobRun on this job only): training starts before this run ends, so the report
prices that record (cripto_pipeline.costs). Rejected
input writes only ``errors/<dataset>/<run_id>.json`` and the run still SUCCEEDS (a retry cannot fix a
file); anything else raises and the run FAILS. Logs: JSON lines on stdout (cripto_pipeline.logs).
S3 through boto3 and Spark's ``s3://`` filesystem, endpoints and credentials from the environment.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline import config, costs, events, large_inputs, layout, logs, pipeline
from cripto_pipeline.exceptions import InputRejectedError

logger = logs.get_logger("spark-features")
READ_BLOCK_BYTES = 8 * 1024 * 1024


def _optional_argument(argv: List[str], name: str) -> Optional[str]:
    flag = f"--{name}"
    for index, value in enumerate(argv):
        if value == flag and index + 1 < len(argv):
            return argv[index + 1]
    return None


def validate_and_stage(s3: Any, bucket: str, inputs: large_inputs.JobInputs, keys: layout.RunKeys,
                       chunk_bytes: int) -> List[large_inputs.FileSummary]:  # fmt: skip
    """Validate every raw file (one chunk in memory at a time) and stage its rows as Parquet."""
    summaries = []
    for number, raw in enumerate(inputs.raw):
        body = s3.get_object(Bucket=bucket, Key=raw.key, **raw.get_selector())["Body"]
        for item in large_inputs.validate_file(number, raw, body.iter_chunks(READ_BLOCK_BYTES),
                                               chunk_bytes=chunk_bytes, default_symbol=inputs.dataset,
                                               bucket=bucket):  # fmt: skip
            if isinstance(item, large_inputs.FileSummary):
                summaries.append(item)
                logger.info("file validated", extra={"fields": {"key": raw.key, "rows": item.rows}})
            else:
                s3.put_object(Bucket=bucket, Key=keys.validated_part(number, item.chunk_number),
                              Body=large_inputs.chunk_to_parquet(item), ContentType=pipeline.PARQUET_TYPE)  # fmt: skip
    return summaries


def put_if_absent(s3: Any, bucket: str, key: str, body: bytes) -> bool:
    """PutObject with ``If-None-Match: *``; False when the object already exists (412).

    The header is added to the request directly: Glue 5.0's boto3 (1.34) predates PutObject's
    ``IfNoneMatch`` parameter, while S3 has honoured the header since 2024-08.
    """

    def add_header(request: Any, **_: Any) -> None:
        request.headers["If-None-Match"] = "*"

    s3.meta.events.register_first("before-sign.s3.PutObject", add_header, unique_id="cripto-if-none-match")
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=pipeline.PARQUET_TYPE)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] not in events.CONDITION_FAILED_CODES:
            raise
        logger.info("features already written by an earlier run: kept", extra={"fields": {"key": key}})
        return False
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", unique_id="cripto-if-none-match")


def own_usage(glue: Any, job_name: Optional[str], job_run_id: Optional[str]) -> Dict[str, Any]:
    """The manifest's ``spark_usage``: this run's DPUs and seconds so far (costs.spark_usage_record).

    Never raises (the features matter more than their cost): a script run by hand, or a role without
    glue:GetJobRun on this job, records why the usage is unknown, and the report says so.
    """
    if glue is None or not job_name or not job_run_id:
        return {"job_run_id": job_run_id, "dpu": None, "seconds": None,
                "error": "not started by Glue (no --JOB_NAME / --JOB_RUN_ID): no run to read"}  # fmt: skip
    try:
        job_run = glue.get_job_run(JobName=job_name, RunId=job_run_id)["JobRun"]
        return costs.spark_usage_record(job_run, datetime.now(timezone.utc))
    except (ClientError, ValueError) as error:
        message = (f"{type(error).__name__}: {error}. The role needs glue:GetJobRun on job {job_name} "
                   "(terraform/glue_spark.tf) for the report to price this run.")  # fmt: skip
        logger.warning("own run not read: Spark cost unknown", extra={"fields": {"error": message}})
        return {"job_run_id": job_run_id, "dpu": None, "seconds": None, "error": message}


def delete_prefix(s3: Any, bucket: str, prefix: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def run(session: Any, s3: Any, bucket: str, dataset: str, run_id: str, sample_rows: int, chunk_bytes: int,
        job_run_id: Optional[str], glue: Any = None, job_name: Optional[str] = None) -> Dict[str, Any]:  # fmt: skip
    from cripto_pipeline import spark_job  # pyspark: only here, in the Spark job

    started = time.monotonic()
    keys = layout.run_keys(dataset, run_id)
    inputs = large_inputs.parse_inputs(s3.get_object(Bucket=bucket, Key=keys.inputs)["Body"].read(), dataset, run_id)
    logger.info("inputs", extra={"fields": {"files": len(inputs.raw), "bytes": sum(r.size for r in inputs.raw),
                                            "reason": inputs.reason}})  # fmt: skip
    summaries: List[large_inputs.FileSummary] = []
    try:
        summaries = validate_and_stage(s3, bucket, inputs, keys, chunk_bytes)
        result = spark_job.build_feature_set(session, f"s3://{bucket}/{keys.validated_prefix}",
                                             f"s3://{bucket}/{keys.parts_prefix}", [r.key for r in inputs.raw],
                                             sample_rows)  # fmt: skip
    except InputRejectedError as error:
        culprit = next((s.identity for s in summaries if s.identity["key"] == error.where.get("key")), None)
        if culprit is None and error.where.get("key"):
            raw = next(r for r in inputs.raw if r.key == error.where["key"])
            culprit = {"bucket": bucket, "key": raw.key, "version_id": raw.version_id, "etag": raw.etag,
                       "size_bytes": raw.size}  # fmt: skip
        everything = large_inputs.raw_summary(bucket, dataset, [s.identity for s in summaries])
        report = large_inputs.error_report(inputs, error, culprit, everything)
        s3.put_object(Bucket=bucket, Key=keys.error, Body=pipeline.to_json_bytes(report),
                      ContentType=pipeline.JSON_TYPE)  # fmt: skip
        delete_prefix(s3, bucket, keys.validated_prefix)
        summary = {"status": "rejected", "dataset": dataset, "run_id": run_id, "error": error.kind,
                   "error_key": keys.error, "reason": error.what}  # fmt: skip
        logger.warning("rejected", extra={"fields": summary})
        return summary
    usage = own_usage(glue, job_name, job_run_id)
    manifest = spark_job.spark_manifest(bucket, inputs, keys, summaries, result, job_run_id, usage)
    s3.put_object(Bucket=bucket, Key=keys.manifest, Body=pipeline.to_json_bytes(manifest),
                  ContentType=pipeline.JSON_TYPE)  # fmt: skip
    # Conditional, as in the Lambda: a repeated run must not create it again (that would train twice).
    created = put_if_absent(s3, bucket, keys.features, pipeline.frame_to_parquet(result.sample))
    delete_prefix(s3, bucket, keys.validated_prefix)
    seconds = time.monotonic() - started
    summary = {"status": "features_written", "dataset": dataset, "run_id": run_id, "features_key": keys.features,
               "rows_total": result.rows_total, "rows_sampled": len(result.sample), "seconds": round(seconds, 1),
               "rows_per_second": round(manifest["rows"]["raw"] / seconds, 1) if seconds else None,
               "features_created": created}  # fmt: skip
    logger.info("features written", extra={"fields": summary})
    return summary


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    from awsglue.utils import getResolvedOptions
    from pyspark.sql import SparkSession

    argv = list(sys.argv if argv is None else argv)
    args = getResolvedOptions(argv, ["bucket", "dataset", "run_id"])
    sample_rows = int(_optional_argument(argv, "training_sample_rows") or config.DEFAULT_TRAINING_SAMPLE_ROWS)
    chunk_bytes = int(_optional_argument(argv, "validation_chunk_bytes") or config.DEFAULT_MAX_RAW_BYTES)
    session = (
        SparkSession.builder.appName("cripto-spark-features")
        .config("spark.sql.session.timeZone", "UTC")  # the features' calendar columns are UTC
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")  # parts/: Parquet only
        .getOrCreate()
    )
    s3, glue = boto3.client("s3"), boto3.client("glue")
    try:
        return run(session, s3, args["bucket"], args["dataset"], args["run_id"], sample_rows, chunk_bytes,
                   _optional_argument(argv, "JOB_RUN_ID"), glue, _optional_argument(argv, "JOB_NAME"))  # fmt: skip
    except Exception:
        logger.exception("spark features failed", extra={"fields": {"dataset": args["dataset"],
                                                                     "run_id": args["run_id"]}})  # fmt: skip
        raise
    finally:
        session.stop()


if __name__ == "__main__":
    main()
