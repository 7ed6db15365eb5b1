"""Pipeline metrics as plain data: what one run publishes to CloudWatch, under one namespace with
``dataset`` as the only dimension. No AWS calls here; the Lambda handler and the Glue job publish the
result with PutMetricData to the namespace named by ``METRICS_NAMESPACE`` (Lambda,
config.py) or ``--metrics_namespace`` (Glue job) (README "Monitoring" says why not Embedded Metric Format).

Metric names are a contract with Terraform (alarms, dashboard in terraform/dashboard.tf) and with
``cripto_ops.dashboard``: change them in all three places or nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

DIMENSION = "dataset"

ROWS = "Rows"
FEATURE_SECONDS = "FeatureSeconds"
TRAINING_SECONDS = "TrainingSeconds"
MODEL_ACCURACY = "ModelAccuracy"
MODEL_BALANCED_ACCURACY = "ModelBalancedAccuracy"
MARGIN_OVER_BEST_BASELINE = "MarginOverBestBaseline"
BEATS_BASELINES = "BeatsBaselines"

#: Every metric a run can publish, with its CloudWatch unit.
UNITS = {
    ROWS: "Count",
    FEATURE_SECONDS: "Seconds",
    TRAINING_SECONDS: "Seconds",
    MODEL_ACCURACY: "None",
    MODEL_BALANCED_ACCURACY: "None",
    MARGIN_OVER_BEST_BASELINE: "None",
    BEATS_BASELINES: "None",
}


@dataclass(frozen=True)
class Metric:
    """One value of one metric for one dataset."""

    name: str
    value: float
    dataset: str

    def as_datum(self, timestamp: Optional[datetime] = None) -> Dict[str, Any]:
        """The MetricData entry of a PutMetricData request."""
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": DIMENSION, "Value": self.dataset}],
            "Timestamp": timestamp or datetime.now(timezone.utc),
            "Value": float(self.value),
            "Unit": UNITS[self.name],
        }


def feature_metrics(summary: Mapping[str, Any], seconds: float) -> List[Metric]:
    """Metrics of a feature-engineering outcome; none unless features were written.

    ``seconds``: the invocation's time; ``FeatureSeconds`` is that minus the summary's ``debounce_wait_s``
    (a several-file dataset's quiet period: waiting, not feature work; Lambda bills it all the same, and
    the cost estimate keeps it)."""
    if summary.get("status") != "features_written":
        return []
    dataset = summary["dataset"]
    build = max(0.0, seconds - float(summary.get("debounce_wait_s") or 0.0))
    return [Metric(ROWS, summary["rows"], dataset), Metric(FEATURE_SECONDS, build, dataset)]


def training_metrics(summary: Mapping[str, Any]) -> List[Metric]:
    """Metrics of a training outcome's summary (pipeline.train_from_features)."""
    dataset = summary["dataset"]
    metrics = [
        Metric(TRAINING_SECONDS, summary["training_seconds"], dataset),
        Metric(BEATS_BASELINES, 1.0 if summary["beats_all_baselines"] else 0.0, dataset),
    ]
    accuracy, baseline = summary.get("accuracy_mean"), summary.get("best_baseline_accuracy_mean")
    if accuracy is not None:
        metrics.append(Metric(MODEL_ACCURACY, accuracy, dataset))
        if baseline is not None:
            metrics.append(Metric(MARGIN_OVER_BEST_BASELINE, accuracy - baseline, dataset))
    if summary.get("balanced_accuracy_mean") is not None:
        metrics.append(Metric(MODEL_BALANCED_ACCURACY, summary["balanced_accuracy_mean"], dataset))
    return metrics


def put_metric_data_requests(namespace: str, metrics: List[Metric]) -> List[Dict[str, Any]]:
    """PutMetricData keyword arguments for ``metrics`` (at most 1000 data per request)."""
    data = [m.as_datum() for m in metrics]
    return [{"Namespace": namespace, "MetricData": data[i : i + 1000]} for i in range(0, len(data), 1000)]
