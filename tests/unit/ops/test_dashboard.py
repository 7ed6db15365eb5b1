"""Dashboard bodies parse into GetMetricData queries; refused queries end up on their series."""
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from cripto_ops import dashboard
from cripto_ops.exceptions import OpsError

BODY = {"widgets": [
    {"type": "text", "properties": {"markdown": "hi"}},
    {"type": "metric", "properties": {"title": "errors", "period": 60, "stat": "Sum",
                                      "annotations": {"horizontal": [{"label": "timeout", "value": 3000}]},
                                      "metrics": [
                                          ["AWS/Lambda", "Invocations", "FunctionName", "f", {"id": "inv"}],
                                          ["AWS/Lambda", "Errors", "FunctionName", "f", {"id": "err", "stat": "Maximum"}],
                                          [{"expression": "100 * err / inv", "id": "rate", "label": "rate"}],
                                      ]}},
]}


def test_metric_widgets_become_queries():
    (widget,) = dashboard.parse_widgets(BODY)
    assert widget.title == "errors" and widget.period == 60 and widget.annotations == [("timeout", 3000.0)]
    inv, err, rate = widget.series
    assert inv.query(60)["MetricStat"]["Stat"] == "Sum" and err.query(60)["MetricStat"]["Stat"] == "Maximum"
    assert inv.query(60)["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": "f"}]
    assert rate.query(60) == {"Id": "rate", "Expression": "100 * err / inv", "Label": "rate"}
    assert dashboard.referenced_metrics(BODY) == {("AWS/Lambda", "Invocations", (("FunctionName", "f"),)),
                                                  ("AWS/Lambda", "Errors", (("FunctionName", "f"),))}


def test_shorthand_rows_are_refused_with_a_clear_error():
    body = {"widgets": [{"type": "metric", "properties": {"metrics": [["AWS/Lambda", "Errors"], [".", "Invocations"]]}}]}
    with pytest.raises(OpsError, match="write every row out in full"):
        dashboard.parse_widgets(body)


class RefusesMath:
    """A CloudWatch client that answers metric queries but refuses expressions (as the emulation does)."""

    def get_paginator(self, _name):
        return self

    def paginate(self, MetricDataQueries, **_):
        if any("Expression" in q for q in MetricDataQueries):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "no math"}}, "GetMetricData")
        now = datetime(2026, 12, 1, tzinfo=timezone.utc)
        return [{"MetricDataResults": [{"Id": q["Id"], "Timestamps": [now], "Values": [2.0]} for q in MetricDataQueries]}]


def test_a_refused_expression_is_noted_and_the_metrics_still_load():
    (widget,) = dashboard.parse_widgets(BODY)
    dashboard.fetch(RefusesMath(), [widget], timedelta(hours=1))
    inv, err, rate = widget.series
    assert inv.values == [2.0] and err.values == [2.0] and inv.error is None
    assert rate.values == [] and "metric math" in rate.error
