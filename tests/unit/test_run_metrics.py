"""Run metrics are plain data computed from a stage's summary (no AWS); handlers publish them."""
import pytest

from cripto_pipeline import run_metrics


def _by_name(metrics):
    return {m.name: m for m in metrics}


def test_feature_metrics_only_for_written_features():
    written = {"status": "features_written", "dataset": "btc", "rows": 1736}
    metrics = _by_name(run_metrics.feature_metrics(written, 0.25))
    assert metrics["Rows"].value == 1736 and metrics["FeatureSeconds"].value == 0.25
    assert {m.dataset for m in metrics.values()} == {"btc"}
    for status in ("rejected", "duplicate", "superseded"):
        assert run_metrics.feature_metrics({"status": status, "dataset": "btc"}, 0.1) == []


def test_feature_seconds_leave_out_the_debounce_wait():
    """A several-file run's invocation slept 20 s for the burst to end, then built for 3.5 s."""
    written = {"status": "features_written", "dataset": "btc", "rows": 10, "debounce_wait_s": 20.0}
    assert _by_name(run_metrics.feature_metrics(written, 23.5))["FeatureSeconds"].value == 3.5


def test_training_metrics_margin_and_beats_flag():
    summary = {"dataset": "btc", "training_seconds": 3.5, "accuracy_mean": 0.56, "balanced_accuracy_mean": 0.52,
               "best_baseline_accuracy_mean": 0.552, "beats_all_baselines": False}
    metrics = _by_name(run_metrics.training_metrics(summary))
    assert metrics["MarginOverBestBaseline"].value == pytest.approx(0.008)
    assert metrics["BeatsBaselines"].value == 0.0
    assert metrics["ModelBalancedAccuracy"].value == 0.52 and metrics["TrainingSeconds"].value == 3.5
    assert _by_name(run_metrics.training_metrics({**summary, "beats_all_baselines": True}))["BeatsBaselines"].value == 1.0


def test_training_metrics_skip_undefined_accuracy():
    summary = {"dataset": "btc", "training_seconds": 1.0, "accuracy_mean": None, "balanced_accuracy_mean": None,
               "best_baseline_accuracy_mean": 0.5, "beats_all_baselines": False}
    assert set(_by_name(run_metrics.training_metrics(summary))) == {"TrainingSeconds", "BeatsBaselines"}


def test_put_metric_data_requests_shape_and_batching():
    metrics = [run_metrics.Metric("Rows", i, "btc") for i in range(1001)]
    requests = run_metrics.put_metric_data_requests("ns", metrics)
    assert [len(r["MetricData"]) for r in requests] == [1000, 1]
    datum = requests[0]["MetricData"][0]
    assert requests[0]["Namespace"] == "ns"
    assert datum["Dimensions"] == [{"Name": "dataset", "Value": "btc"}] and datum["Unit"] == "Count"


def test_beats_baselines_is_0_for_a_better_classifier_whose_signal_loses_to_fees():
    from cripto_pipeline import training

    from .test_training import _signal, _summary

    # Every direction right (100 % vs 50 % accuracy), but four 0.10 % fees eat the 0.2 % it earns.
    signal = _signal([(0, "A", 1, 0.001), (1, "A", 0, -0.001), (2, "A", 1, 0.001), (3, "A", 0, -0.001)])
    comparison = training.compare_with_baselines(
        _summary(1.0, 1.0, 0.002, up_acc=0.5, up_bal=0.5), "logistic_regression", signal
    )
    assert comparison["beats_baselines_classification"] and not comparison["beats_buy_and_hold_net_of_fees"]
    summary = {"dataset": "btc", "training_seconds": 1.0, "accuracy_mean": 1.0, "balanced_accuracy_mean": 1.0,
               "best_baseline_accuracy_mean": 0.5, "beats_all_baselines": comparison["beats_all_baselines"]}
    metrics = _by_name(run_metrics.training_metrics(summary))
    assert metrics["BeatsBaselines"].value == 0.0
    assert metrics["MarginOverBestBaseline"].value == pytest.approx(0.5)  # the classification margin stays visible


def test_every_training_metric_is_of_the_summarys_dataset():
    summary = {"dataset": "eth", "training_seconds": 2.0, "accuracy_mean": 0.6, "balanced_accuracy_mean": 0.55,
               "best_baseline_accuracy_mean": 0.5, "beats_all_baselines": True}
    metrics = run_metrics.training_metrics(summary)
    assert [(m.name, m.dataset) for m in metrics] == [
        ("TrainingSeconds", "eth"), ("BeatsBaselines", "eth"), ("ModelAccuracy", "eth"),
        ("MarginOverBestBaseline", "eth"), ("ModelBalancedAccuracy", "eth")]
