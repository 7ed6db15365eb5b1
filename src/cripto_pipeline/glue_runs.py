"""Finished Glue runs as metrics (pure: no AWS calls): a "Glue Job State Change" event from EventBridge
-> the CloudWatch data the glue-run-metrics Lambda publishes.

Glue's own job metrics exist only for Spark jobs, and a run that crashes, times out or is stopped
cannot report itself; Glue's state-change event reaches EventBridge for every one of them
(https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html).
Each finished run counts 1 under ``GlueRuns`` for its final state and 0 for the other final states
(so every state's line exists and reads 0 rather than "no data"), and its ``ExecutionTime`` (seconds,
from GetJobRun: the event carries no duration) goes to ``GlueRunSeconds``. Both carry the job name;
the names are a contract with terraform/dashboard.tf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from .exceptions import InvalidEventError

GLUE_RUNS = "GlueRuns"
GLUE_RUN_SECONDS = "GlueRunSeconds"
JOB_DIMENSION = "JobName"
STATE_DIMENSION = "State"
#: The states a Glue run ends in, each with a "Glue Job State Change" event.
FINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED")
DETAIL_TYPE = "Glue Job State Change"


@dataclass(frozen=True)
class FinishedRun:
    """One Glue run that reached a final state."""

    job_name: str
    run_id: str
    state: str


def parse_state_change(event: Mapping[str, Any]) -> FinishedRun:
    """The run a "Glue Job State Change" event reports; InvalidEventError for anything else."""
    detail = event.get("detail")
    if event.get("source") != "aws.glue" or event.get("detail-type") != DETAIL_TYPE or not isinstance(detail, dict):
        raise InvalidEventError(
            f"Expected an aws.glue {DETAIL_TYPE!r} event, got source={event.get('source')!r} "
            f"detail-type={event.get('detail-type')!r}: check the EventBridge rule's pattern."
        )
    missing = [name for name in ("jobName", "jobRunId", "state") if not detail.get(name)]
    if missing:
        raise InvalidEventError(f"The {DETAIL_TYPE!r} event lacks {', '.join(missing)}.")
    return FinishedRun(detail["jobName"], detail["jobRunId"], detail["state"])


def metric_data(run: FinishedRun, execution_seconds: Optional[float],
                timestamp: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """PutMetricData entries for ``run``: the per-state counts, then its duration when known. A state
    outside FINAL_STATES (not a final one) gives no data."""
    if run.state not in FINAL_STATES:
        return []
    when = timestamp or datetime.now(timezone.utc)
    data = [{"MetricName": GLUE_RUNS, "Timestamp": when, "Unit": "Count",
             "Value": 1.0 if state == run.state else 0.0,
             "Dimensions": [{"Name": JOB_DIMENSION, "Value": run.job_name},
                            {"Name": STATE_DIMENSION, "Value": state}]}
            for state in FINAL_STATES]
    if execution_seconds is not None:
        data.append({"MetricName": GLUE_RUN_SECONDS, "Timestamp": when, "Unit": "Seconds",
                     "Value": float(execution_seconds),
                     "Dimensions": [{"Name": JOB_DIMENSION, "Value": run.job_name}]})
    return data
