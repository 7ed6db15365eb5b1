"""Lambda cripto-feature-engineering: S3 upload (raw.csv, raw/<dataset>.csv, raw/<dataset>/<file>.csv) -> features.

One file up to MAX_RAW_BYTES: claims the content (conditional put of features/<dataset>/_content/<sha256>.json),
then writes features/<dataset>/<run_id>/manifest.json and features.parquet (its creation starts training);
identical content already claimed by another run gets duplicate-of.json instead (no second training run).
A file of a several-file dataset (raw/<dataset>/<file>.csv) waits DEBOUNCE_SECONDS after its upload, lists
the dataset and goes on only if it is the newest file: a burst of uploads gives one run over every file
(cripto_pipeline.routing explains the debounce and the run claim). A dataset above MAX_RAW_BYTES (one file,
or several in total) goes to the Glue Spark job SPARK_FEATURES_JOB_NAME: inputs.json, then StartJobRun.
Rejected input gets errors/<dataset>/<run_id>.json, returned, not raised: a retry cannot fix a bad file.
Unexpected errors raise, so the async invocation retries. Rows and seconds of a written run go to
CloudWatch metrics (cripto_pipeline.run_metrics).
Env: LOG_LEVEL, MAX_RAW_BYTES, METRICS_NAMESPACE, DEBOUNCE_SECONDS, SPARK_FEATURES_JOB_NAME.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import List, Optional

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline.exceptions import InvalidKeyError
from cripto_pipeline import config, dataset_build, events, layout, logs, pipeline, routing, run_metrics

SETTINGS = config.FeatureEngineeringSettings.from_env()
logger = logs.get_logger("feature-engineering", SETTINGS.log_level)
s3 = boto3.client("s3")
cloudwatch = boto3.client("cloudwatch")
glue = boto3.client("glue")


@logs.inject_lambda_context(logger)
def handler(event: dict, context: events.LambdaContext) -> dict:
    return {"results": [process(ref, context.aws_request_id) for ref in events.parse_s3_event(event)]}


def process(ref: events.S3ObjectRef, me: str = "") -> dict:
    started, outcome = time.monotonic(), None
    try:
        dataset = _dataset(ref.key)
        if dataset is not None and layout.is_multi_file_key(ref.key):
            outcome = process_dataset(ref, dataset, me)
        else:
            outcome = process_file(ref, dataset, me)
        if outcome.claim is not None:
            outcome = pipeline.covered_by(outcome, claim(ref.bucket, outcome.claim))
        for obj in outcome.writes:  # in order: the manifest exists before the Parquet file triggers training
            s3.put_object(Bucket=ref.bucket, **obj.put_arguments)
        if outcome.status == "spark_requested":
            outcome.summary.update(start_spark(ref.bucket, outcome.summary))
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if outcome is not None and outcome.status == "spark_requested" and code in events.CONDITION_FAILED_CODES:
            outcome = spark_requested_before(ref.bucket, outcome.summary, me)  # inputs.json existed
        else:
            outcome = pipeline.condition_failed(ref, error.operation_name, code)
        if outcome is None:
            raise
    logger.log(outcome.log_level, outcome.summary["status"], extra={"fields": {"bucket": ref.bucket, **outcome.summary}})
    # FeatureSeconds measures the build: the debounce wait (in the summary) is left out there, not in the bill.
    publish(run_metrics.feature_metrics(outcome.summary, time.monotonic() - started))
    return outcome.summary


def _dataset(key: str) -> Optional[str]:
    try:
        return layout.dataset_from_raw_key(key)
    except InvalidKeyError:
        return None  # build_features writes the errors/_invalid-key/ report


def process_file(ref: events.S3ObjectRef, dataset: Optional[str], me: str) -> pipeline.Outcome:
    """One-file dataset: pandas up to MAX_RAW_BYTES, the Spark job above it."""
    if dataset is not None and SETTINGS.spark_features_job_name:
        size = ref.size if ref.size is not None else s3.head_object(Bucket=ref.bucket, Key=ref.key,
                                                                     **ref.get_selector())["ContentLength"]
        if size > SETTINGS.max_raw_bytes:
            obj = routing.object_from_event(ref, size)
            reason = routing.spark_reason([obj], SETTINGS.max_raw_bytes)
            return dataset_build.spark_request(dataset, pipeline.run_id_for(ref), _newest(ref, size), [obj], reason, me)
    response = s3.get_object(Bucket=ref.bucket, Key=ref.key, **ref.get_selector())
    data = response["Body"].read(SETTINGS.max_raw_bytes + 1)  # never more than the limit in memory
    return pipeline.build_features(ref, data, max_raw_bytes=SETTINGS.max_raw_bytes)


def process_dataset(ref: events.S3ObjectRef, dataset: str, me: str) -> pipeline.Outcome:
    """One file of a several-file dataset: debounce, then one run over every current file."""
    wait = routing.quiet_wait(events.event_datetime(ref), datetime.now(timezone.utc), SETTINGS.debounce_seconds)
    time.sleep(wait)
    debounce = routing.debounce_record(wait, datetime.now(timezone.utc))
    files = list_files(ref.bucket, dataset)
    decision = routing.debounce(files, ref)
    run_id = pipeline.run_id_for(ref)
    if decision != routing.PROCEED:
        return pipeline.Outcome(decision, summary={"status": decision, "dataset": dataset, "key": ref.key,
                                                   "run_id": run_id, "files": len(files),
                                                   "debounce_wait_s": debounce["waited_s"]})  # fmt: skip
    newest = _newest(ref, next(obj.size for obj in files if obj.key == ref.key))
    if routing.engine_for(files, SETTINGS.max_raw_bytes) == routing.SPARK:
        if not SETTINGS.spark_features_job_name:
            return dataset_build.too_large(dataset, run_id, newest, files, SETTINGS.max_raw_bytes)
        reason = routing.spark_reason(files, SETTINGS.max_raw_bytes)
        return _waited(dataset_build.spark_request(dataset, run_id, newest, files, reason, me, debounce), debounce)
    read = [(obj, s3.get_object(Bucket=ref.bucket, Key=obj.key, **obj.selector())["Body"].read()) for obj in files]
    newest.update(sha256=next(dataset_build.file_identity(ref.bucket, obj, data)["sha256"]
                              for obj, data in read if obj.key == ref.key))  # fmt: skip
    return _waited(dataset_build.build_dataset_features(ref.bucket, dataset, run_id, newest, read,
                                                        max_raw_bytes=SETTINGS.max_raw_bytes, debounce=debounce),
                   debounce)  # fmt: skip


def _waited(outcome: pipeline.Outcome, debounce: dict) -> pipeline.Outcome:
    """The outcome with the debounce wait in its summary (logged; run_metrics leaves it out of FeatureSeconds)."""
    outcome.summary["debounce_wait_s"] = debounce["waited_s"]
    return outcome


def _newest(ref: events.S3ObjectRef, size: int) -> dict:
    """The ``raw`` identity of the upload that started the run (as a one-file run records it)."""
    return {"bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id, "etag": ref.etag,
            "event_time": ref.event_time, "size_bytes": size, "sha256": None}  # fmt: skip


def list_files(bucket: str, dataset: str) -> List[routing.RawObject]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=layout.raw_dataset_prefix(dataset))
    return routing.current_files(dataset, (entry for page in pages for entry in page.get("Versions", [])))


def start_spark(bucket: str, summary: dict) -> dict:
    """StartJobRun of the Spark feature job for the run whose inputs.json this invocation wrote."""
    arguments = routing.spark_arguments(bucket, summary["dataset"], summary["run_id"])
    job_run_id = glue.start_job_run(JobName=SETTINGS.spark_features_job_name, Arguments=arguments)["JobRunId"]
    return {"status": "spark_started", "job_name": SETTINGS.spark_features_job_name, "job_run_id": job_run_id}


def spark_requested_before(bucket: str, request: dict, me: str) -> pipeline.Outcome:
    """inputs.json already existed: a duplicate delivery (nothing to do), or a Lambda retry of the request that
    wrote it (start the job unless a run of it exists; see routing.spark_start_action)."""
    keys = layout.run_keys(request["dataset"], request["run_id"])
    existing = json.loads(s3.get_object(Bucket=bucket, Key=keys.inputs)["Body"].read())
    summary = {**request, "status": "spark_already_requested"}
    if routing.spark_start_action(existing, me) == routing.CHECK_RUNS:
        run = existing_spark_run(keys.run_id)
        summary.update({"status": "spark_already_started", "job_run_id": run["Id"]} if run else start_spark(bucket, request))
    return pipeline.Outcome(summary["status"], summary=summary)


def existing_spark_run(run_id: str) -> dict:
    for page in glue.get_paginator("get_job_runs").paginate(JobName=SETTINGS.spark_features_job_name):
        for run in page.get("JobRuns", []):
            if run.get("Arguments", {}).get("--run_id") == run_id:
                return run
    return {}


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
