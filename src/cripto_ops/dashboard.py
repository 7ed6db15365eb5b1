"""The stack's CloudWatch dashboard as data: its metric widgets parsed into GetMetricData queries,
and the values fetched for a time window. cripto_ops.dashboard_page draws them; nothing here plots."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Set, Tuple

from botocore.exceptions import ClientError

from cripto_ops.exceptions import OpsError
from cripto_ops.stack import StackOutputs

#: (namespace, metric name, ((dimension name, value), ...)) — one CloudWatch metric.
MetricKey = Tuple[str, str, Tuple[Tuple[str, str], ...]]


@dataclass
class Series:
    """One line of a widget: a metric with a statistic, or a metric-math expression."""

    query_id: str
    label: str
    metric: Optional[MetricKey] = None
    stat: Optional[str] = None
    expression: Optional[str] = None
    timestamps: List[datetime] = field(default_factory=list)
    values: List[float] = field(default_factory=list)
    error: Optional[str] = None

    def query(self, period: int) -> Dict[str, Any]:
        if self.expression is not None:
            return {"Id": self.query_id, "Expression": self.expression, "Label": self.label}
        namespace, name, dimensions = self.metric  # type: ignore[misc]
        return {"Id": self.query_id, "Label": self.label, "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions]},
            "Period": period, "Stat": self.stat}}


@dataclass
class Widget:
    """One metric widget: title, period, its lines and horizontal annotations (label, value)."""

    title: str
    period: int
    series: List[Series]
    annotations: List[Tuple[str, float]]


def _series(row: List[Any], defaults: Dict[str, Any], index: int) -> Series:
    options = row[-1] if row and isinstance(row[-1], dict) else {}
    parts = row[:-1] if options else row
    query_id = options.get("id") or f"m{index}"
    if not re.match(r"^[a-z][a-zA-Z0-9_]*$", query_id):
        raise OpsError(f"Dashboard metric id {query_id!r} is not a valid GetMetricData id.")
    if "expression" in options:
        return Series(query_id, options.get("label", options["expression"]), expression=options["expression"])
    if len(parts) < 2 or len(parts) % 2 or any(not isinstance(p, str) or p == "." for p in parts):
        raise OpsError(f"Unsupported dashboard metric row {row!r}: write every row out in full.")
    namespace, name, rest = parts[0], parts[1], parts[2:]
    dimensions = tuple(zip(rest[0::2], rest[1::2]))
    stat = options.get("stat") or defaults.get("stat") or "Average"
    label = options.get("label") or " ".join([name, *(v for _, v in dimensions), f"({stat})"])
    return Series(query_id, label, metric=(namespace, name, dimensions), stat=stat)


def parse_widgets(body: Dict[str, Any]) -> List[Widget]:
    """The metric widgets of a dashboard body (other widget types are skipped)."""
    widgets = []
    for widget in body.get("widgets", []):
        if widget.get("type") != "metric":
            continue
        props = widget.get("properties", {})
        rows = props.get("metrics", [])
        series = [_series(row, props, i) for i, row in enumerate(rows)]
        annotations = [(a.get("label", ""), float(a["value"]))
                       for a in props.get("annotations", {}).get("horizontal", []) if "value" in a]
        widgets.append(Widget(props.get("title", ""), int(props.get("period", 300)), series, annotations))
    return widgets


def referenced_metrics(body: Dict[str, Any]) -> Set[MetricKey]:
    """Every metric a dashboard body names (expressions excluded)."""
    return {s.metric for w in parse_widgets(body) for s in w.series if s.metric is not None}


def load_body(cloudwatch: Any, stack: StackOutputs) -> Dict[str, Any]:
    name = stack.raw.get("dashboard_name")
    if not name:
        raise OpsError("The deployed stack has no dashboard: redeploy it (`make deploy-local` / `make deploy-aws`).")
    return json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])


def fetch(cloudwatch: Any, widgets: List[Widget], since: timedelta, now: Optional[datetime] = None) -> None:
    """Fill every series with GetMetricData values over [now - since, now]. If the endpoint refuses a
    widget's request (e.g. metric math on an emulation), its metrics are fetched one by one and each
    refused query keeps its error on its series instead of failing the page."""
    end = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = end - since
    for widget in widgets:
        try:
            _fetch(cloudwatch, widget.series, widget.period, start, end)
            continue
        except ClientError:
            pass
        for series in widget.series:
            if series.expression is not None:
                series.error = "metric math not answered by this endpoint"
                continue
            try:
                _fetch(cloudwatch, [series], widget.period, start, end)
            except ClientError as error:
                details = error.response.get("Error", {})
                series.error = f"{details.get('Code', 'error')}: {details.get('Message', '')}"[:120]


def _fetch(cloudwatch: Any, series: List[Series], period: int, start: datetime, end: datetime) -> None:
    by_id = {s.query_id: s for s in series}
    for s in series:
        s.timestamps, s.values = [], []
    # An expression's inputs are in the same request: one widget is one request.
    for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[s.query(period) for s in series], StartTime=start, EndTime=end,
            ScanBy="TimestampAscending"):
        for result in page.get("MetricDataResults", []):
            target = by_id.get(result["Id"])
            if target is not None:
                target.timestamps.extend(result.get("Timestamps", []))
                target.values.extend(result.get("Values", []))
