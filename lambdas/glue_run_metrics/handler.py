"""Lambda cripto-glue-run-metrics: "Glue Job State Change" event (EventBridge) -> CloudWatch metrics.

Every finished run of the watched Glue job counts under ``GlueRuns`` by its final state, and its
duration (GetJobRun's ExecutionTime) goes to ``GlueRunSeconds`` (cripto_pipeline.glue_runs): runs that
crash, time out or are stopped are counted too, which the job cannot do for itself. Errors raise, so
EventBridge's asynchronous invocation retries and then hands the event to the failed-events queue.
Env: METRICS_NAMESPACE, LOG_LEVEL.
"""

from __future__ import annotations

from typing import Optional

import boto3
from botocore.exceptions import ClientError

from cripto_pipeline import config, events, glue_runs, logs

SETTINGS = config.GlueRunMetricsSettings.from_env()
logger = logs.get_logger("glue-run-metrics", SETTINGS.log_level)
glue = boto3.client("glue")
cloudwatch = boto3.client("cloudwatch")


@logs.inject_lambda_context(logger)
def handler(event: dict, context: events.LambdaContext) -> dict:
    run = glue_runs.parse_state_change(event)
    seconds = execution_seconds(run)
    data = glue_runs.metric_data(run, seconds)
    if data:
        cloudwatch.put_metric_data(Namespace=SETTINGS.metrics_namespace, MetricData=data)
    fields = {"job_name": run.job_name, "job_run_id": run.run_id, "state": run.state, "execution_seconds": seconds}
    logger.info("glue run recorded" if data else "not a final state; nothing recorded", extra={"fields": fields})
    return fields


def execution_seconds(run: glue_runs.FinishedRun) -> Optional[float]:
    """The run's ExecutionTime; None (count only) when Glue no longer has the run."""
    try:
        found = glue.get_job_run(JobName=run.job_name, RunId=run.run_id)["JobRun"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityNotFoundException":
            raise
        logger.warning("run not found; counted without its duration", extra={"fields": {"job_run_id": run.run_id}})
        return None
    return float(found.get("ExecutionTime", 0))
