"""cripto_pipeline.training.train, asserted literally on a tiny hand-made frame: two symbols over 101 days
(A alternates 100, 101, 100, ...; B rises by 1 a day), a single feature ``x`` and a stand-in model that
does not learn (P(up) = x), so every count and share is known: the metrics document's fields, the
walk-forward settings it records, the labelled-row minimum at its boundary, the missing-column message,
the refit, and the one-thread limit around fitting (issue 16)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_info, threadpool_limits

from cripto_pipeline import training
from cripto_pipeline.exceptions import TrainingDataError


class Scorer(BaseEstimator, ClassifierMixin):
    """P(up) = the first feature; records how many rows each fit saw and OpenMP's thread count then."""

    fits: list = []

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.fitted_rows_ = len(y)
        threads = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"]
        Scorer.fits.append((len(y), threads))
        return self

    def predict_proba(self, X):
        return np.column_stack([1 - X[:, 0], X[:, 0]])


def scorer_only():
    return {"scorer": Scorer()}


def _frame(days=101, names=("A", "B")):
    """A: 100, 101, 100, ... (up on even days, down on odd ones); B: 100, 101, 102, ... (always up).
    x = 0.9 after a down bar, else 0.1 (so the stand-in predicts "up" only after a fall)."""
    times = pd.date_range("2024-01-01", periods=days, freq="D", tz="UTC")
    parts = []
    for name, closes in ((names[0], [100.0 + (t % 2) for t in range(days)]),
                         (names[1], [100.0 + t for t in range(days)])):
        part = pd.DataFrame({"timestamp": times, "symbol": name, "close": closes})
        part["ret_1"] = np.log(part["close"]).diff().fillna(0.0)
        part["x"] = np.where(part["ret_1"] < 0, 0.9, 0.1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(autouse=True)
def _clear_fits():
    Scorer.fits.clear()


def test_the_metrics_document_of_a_tiny_run_field_by_field():
    result = training.train(_frame(), ["x"], candidates=scorer_only)
    metrics = result.metrics
    assert list(metrics) == ["target", "selection_metric", "walk_forward", "rows", "models", "baselines",
                             "strategy", "best_model", "summary", "comparison", "folds", "refit_rows",
                             "training_seconds"]
    assert metrics["target"] == "1 if log(close[t+1] / close[t]) > 0 for the same symbol, else 0"
    assert metrics["selection_metric"] == "balanced_accuracy"
    assert metrics["walk_forward"] == {"n_folds": 5, "gap": 1, "horizon": 1,
                                       "split_on": "distinct timestamps (expanding window)"}
    # 2 x 100 labelled rows (each symbol's last day has no target); A up on 50 days, B on all 100.
    assert metrics["rows"] == {"labelled": 200, "symbols": 2, "up_share": 0.75}
    assert metrics["models"] == {"scorer": "Scorer()"}
    assert metrics["baselines"] == ["always_up", "persistence", "buy_and_hold"]
    assert metrics["strategy"] == (
        "long when the classifier predicts up, flat otherwise; equal weight across symbols; returns compounded "
        "over the test folds; summary strategy_return: no fees, slippage or spread; comparison "
        "strategy_net_return: fee_rate paid per position change, no slippage or spread")
    assert metrics["best_model"] == "scorer" and result.best_model == "scorer"
    assert metrics["refit_rows"] == 200
    assert isinstance(metrics["training_seconds"], float) and 0 <= metrics["training_seconds"] < 10
    # 100 labelled days in 5 folds of 16 test days, from day 20; the first trains on days 0-18 (gap 1).
    assert [(f["train_rows"], f["test_rows"]) for f in metrics["folds"]] == [
        (38, 32), (70, 32), (102, 32), (134, 32), (166, 32)]
    # Every test fold: A up on 8 of 16 days, B on 16: always-up is right on 24 of 32 bars. The stand-in
    # is right on every A bar and wrong on every B bar (16 of 32); persistence the other way round.
    summary = metrics["summary"]
    assert summary["always_up"]["accuracy_mean"] == pytest.approx(0.75)
    assert summary["scorer"]["accuracy_mean"] == pytest.approx(0.5)
    assert summary["scorer"]["balanced_accuracy_mean"] == pytest.approx(2 / 3)  # (8/24 + 8/8) / 2
    assert summary["persistence"]["balanced_accuracy_mean"] == pytest.approx(1 / 3)  # (16/24 + 0/8) / 2
    comparison = metrics["comparison"]
    assert (comparison["model"], comparison["model_accuracy_mean"], comparison["best_baseline_accuracy_mean"]) == (
        "scorer", pytest.approx(0.5), pytest.approx(0.75))
    assert comparison["beats_baselines_classification"] is False
    # the walk-forward's own predictions are kept: 5 folds of 32 test bars
    assert len(result.out_of_sample.frame) == 160
    assert result.feature_columns == ["x"]


def test_the_best_model_is_refit_on_every_labelled_row():
    result = training.train(_frame(), ["x"], candidates=scorer_only)
    assert type(result.model) is Scorer
    assert result.model.fitted_rows_ == 200
    # five folds, then the refit
    assert [rows for rows, _threads in Scorer.fits] == [38, 70, 102, 134, 166, 200]
    assert result.model is not result.out_of_sample.last_models["scorer"]


def test_fitting_runs_with_one_openmp_thread_whatever_the_callers_limit():
    with threadpool_limits(limits=2, user_api="openmp"):
        training.train(_frame(), ["x"], candidates=scorer_only)
    assert len(Scorer.fits) == 6
    assert all(threads and set(threads) == {1} for _rows, threads in Scorer.fits), Scorer.fits


@pytest.mark.parametrize("names, symbols", [(("A", "B"), 2), (("A#000", "A#001"), 1)])
def test_the_symbols_counted_are_the_real_ones_not_the_sample_blocks(names, symbols):
    metrics = training.train(_frame(names=names), ["x"], candidates=scorer_only).metrics
    assert metrics["rows"]["symbols"] == symbols


def test_the_walk_forward_settings_given_are_used_and_recorded():
    settings = training.WalkForwardSettings(n_folds=3, gap=2, horizon=2)
    metrics = training.train(_frame(days=102), ["x"], settings, candidates=scorer_only).metrics
    assert metrics["walk_forward"] == {"n_folds": 3, "gap": 2, "horizon": 2,
                                       "split_on": "distinct timestamps (expanding window)"}
    # horizon 2: each symbol's last two days have no target; 2 x 100 rows remain
    assert metrics["rows"]["labelled"] == 200 and metrics["refit_rows"] == 200
    assert len(metrics["folds"]) == 3


def test_exactly_the_minimum_of_labelled_rows_is_enough():
    assert training.train(_frame(days=101), ["x"], candidates=scorer_only).metrics["rows"]["labelled"] == 200


def test_one_row_short_of_the_minimum_is_refused_with_the_count():
    with pytest.raises(TrainingDataError) as caught:
        training.train(_frame(days=100), ["x"], candidates=scorer_only)
    assert str(caught.value) == "198 labelled rows; walk-forward evaluation needs 200."


def test_the_horizon_decides_how_many_rows_are_labelled():
    # 101 days: horizon 1 leaves 200 labelled rows, horizon 2 only 198
    settings = training.WalkForwardSettings(gap=2, horizon=2)
    with pytest.raises(TrainingDataError) as caught:
        training.train(_frame(days=101), ["x"], settings, candidates=scorer_only)
    assert str(caught.value) == "198 labelled rows; walk-forward evaluation needs 200."


def test_missing_columns_are_named_in_order():
    frame = _frame().drop(columns=["x", "ret_1"])
    with pytest.raises(TrainingDataError) as caught:
        training.train(frame, ["x"], candidates=scorer_only)
    assert str(caught.value) == "The features frame lacks column(s): x, ret_1."
    with pytest.raises(TrainingDataError) as caught:
        training.train(_frame().drop(columns=["close"]), ["x"], candidates=scorer_only)
    assert str(caught.value) == "The features frame lacks column(s): close."


def test_without_candidates_the_three_scikit_learn_models_are_compared_and_the_best_refit():
    result = training.train(_frame(), ["x"])
    metrics = result.metrics
    assert list(metrics["models"]) == ["logistic_regression", "random_forest", "hist_gradient_boosting"]
    assert metrics["models"]["random_forest"].startswith("RandomForestClassifier(")
    assert metrics["best_model"] in metrics["models"]
    assert type(result.model) is type(training.model_candidates()[metrics["best_model"]])
    assert result.model.n_features_in_ == 1
    assert list(metrics["summary"]) == ["logistic_regression", "random_forest", "hist_gradient_boosting",
                                        "always_up", "persistence", "buy_and_hold"]
