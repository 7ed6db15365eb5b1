"""Lambda cripto-glue-trigger: features/<dataset>/<run_id>/features.parquet created -> Glue job run.

Starts GLUE_JOB_NAME with --bucket and --features_key, exactly once per features file (at 1 DPU, with
--glue_dpu, when the file is above LARGE_RUN_FEATURES_BYTES: cripto_pipeline.training_capacity), backing off
while the job is busy and handing a record still waiting at the invocation's deadline on to a fresh
asynchronous invocation of itself. The decisions are cripto_pipeline.glue_start's (the claim's states:
cripto_pipeline.start_claims); this module holds the AWS calls. Env: GLUE_JOB_NAME, LOG_LEVEL, START_*, LARGE_RUN_*
(cripto_pipeline.config).
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Iterable, Optional, Tuple

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cripto_pipeline import config, events, glue_start, logs, retry, start_claims

SETTINGS = config.GlueTriggerSettings.from_env()
logger = logs.get_logger("glue-trigger", SETTINGS.log_level)
glue = boto3.client("glue", config=Config(retries={"mode": "standard", "max_attempts": 5}))
lambda_client = boto3.client("lambda")
s3 = boto3.client("s3")


@logs.inject_lambda_context(logger)
def handler(event: dict, context: events.LambdaContext) -> dict:
    deadline = glue_start.invocation_deadline(context.get_remaining_time_in_millis(), time.monotonic())
    results = [start(ref, deadline, context.aws_request_id) for ref in events.parse_s3_event(event)]
    waiting = glue_start.waiting_records(event.get("Records", []), results)
    if waiting:  # still busy at this invocation's deadline: continue in a fresh invocation
        lambda_client.invoke(FunctionName=context.invoked_function_arn, InvocationType="Event",
                             Payload=json.dumps({"Records": waiting}).encode())
    return {"job_runs": results}


def start(ref: events.S3ObjectRef, deadline: float, me: str = "") -> dict:
    return glue_start.start(CALLS, ref, me, deadline, SETTINGS, logger)


def _read_claim(bucket: str, key: str) -> Tuple[start_claims.StartClaim, str]:
    response = s3.get_object(Bucket=bucket, Key=key)
    return start_claims.StartClaim.from_json(response["Body"].read()), response["ETag"]


def _put_claim(bucket: str, key: str, claim: start_claims.StartClaim, **condition: str) -> Optional[str]:
    try:
        return s3.put_object(Bucket=bucket, Key=key, Body=claim.to_json(), ContentType="application/json",
                             **condition)["ETag"]
    except ClientError as error:
        if retry.error_code(error) in events.CONDITION_FAILED_CODES:
            return None
        raise


def _job_run_pages() -> Iterable[Dict[str, Any]]:
    return glue.get_paginator("get_job_runs").paginate(JobName=SETTINGS.glue_job_name)


def _start_job_run(request: Dict[str, Any]) -> str:
    return glue.start_job_run(JobName=SETTINGS.glue_job_name, **request)["JobRunId"]


CALLS = glue_start.AwsCalls(read_claim=_read_claim, put_claim=_put_claim, job_run_pages=_job_run_pages,
                            start_job_run=_start_job_run)
