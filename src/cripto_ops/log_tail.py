"""`aws logs tail`-style reading of the pipeline's CloudWatch log groups."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, Iterator, List, Optional

from cripto_ops.exceptions import OpsError
from cripto_ops.stack import StackOutputs

GLUE_OUTPUT_GROUP = "/aws-glue/python-jobs/output"
GLUE_ERROR_GROUP = "/aws-glue/python-jobs/error"
COMPONENTS = ("feature", "trigger", "training", "spark")

_SINCE_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    group: str
    stream: str
    message: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=timezone.utc)


def log_groups(stack: StackOutputs, component: Optional[str]) -> List[str]:
    """The log groups of one component (or all of them)."""
    groups = {
        "feature": [f"/aws/lambda/{stack.feature_lambda_name}"],
        "trigger": [f"/aws/lambda/{stack.trigger_lambda_name}"],
        "training": [GLUE_OUTPUT_GROUP, GLUE_ERROR_GROUP],
        # The Spark feature job's driver logs (large datasets), named by the stack's output.
        "spark": list(stack.raw.get("glue_spark_log_group_names") or []),
    }
    if component is None:
        return [group for name in COMPONENTS for group in groups[name]]
    if not groups[component]:
        raise OpsError(f"The stack has no {component} log groups (output glue_spark_log_group_names): deploy it "
                       "with terraform/glue_spark.tf (`make deploy-local`).")
    return groups[component]


def parse_since(value: str, now: Optional[datetime] = None) -> int:
    """``10m`` / ``2h`` / ``1d`` / ``30s`` -> epoch milliseconds that long ago."""
    match = _SINCE_RE.match(value.strip())
    if not match:
        raise OpsError(f"--since {value!r}: use a number and a unit, e.g. 30s, 10m, 2h, 1d.")
    delta = timedelta(**{_UNITS[match[2]]: int(match[1])})
    return int(((now or datetime.now(timezone.utc)) - delta).timestamp() * 1000)


def read(logs_client, groups: List[str], since_ms: int, follow: bool = False,
         poll_seconds: float = 1.0, stop: Callable[[], bool] = lambda: False) -> Iterator[LogLine]:
    """Yield log lines of ``groups`` from ``since_ms`` in time order; with ``follow``, keep polling
    (until ``stop()`` is true) and yield new lines once each."""
    seen: Dict[str, None] = {}
    cursor = since_ms
    while True:
        batch: List[LogLine] = []
        for group in groups:
            try:
                pages = logs_client.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=cursor)
                for page in pages:
                    for event in page.get("events", []):
                        if event["eventId"] in seen:
                            continue
                        seen[event["eventId"]] = None
                        batch.append(LogLine(event["timestamp"], group, event.get("logStreamName", ""),
                                             event["message"].rstrip("\n")))
            except logs_client.exceptions.ResourceNotFoundException:
                continue  # the group appears with the component's first run
        batch.sort(key=lambda line: line.timestamp_ms)
        yield from batch
        if batch:
            cursor = batch[-1].timestamp_ms
        if not follow or stop():
            return
        time.sleep(poll_seconds)
