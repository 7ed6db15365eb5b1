"""cripto_pipeline.training, the walk-forward itself, asserted literally: the target of a few hand-made
bars, the folds and their refusals, UTC handling, the per-fold metrics of every baseline and of a
stand-in model (P(up) = x) on a 14-row labelled frame worked out by hand, their summaries, the kept
out-of-sample rows and the signal the report reads (issue 16)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_limits

from cripto_pipeline import training
from cripto_pipeline.exceptions import TrainingDataError

# ---- add_target ------------------------------------------------------------------------------------


def _bars():
    # A: 100, 110, 110 (flat), 99; B: 50, 40, 60; rows shuffled, closes as Python numbers (object column)
    rows = [("B", 1, 40), ("A", 3, 99), ("A", 0, 100), ("B", 2, 60), ("A", 2, 110), ("B", 0, 50), ("A", 1, 110)]
    frame = pd.DataFrame(rows, columns=["symbol", "day", "close"])
    frame["timestamp"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["close"] = frame["close"].astype(object)
    frame["tag"] = [f"{s}{t.day}" for s, t in zip(frame["symbol"], frame["timestamp"])]
    return frame


def test_the_target_is_the_next_bar_of_the_same_symbol_and_a_flat_bar_is_not_up():
    labelled = training.add_target(_bars())
    assert list(labelled.columns) == ["symbol", "close", "timestamp", "tag", "next_log_return", "target_up"]
    assert list(labelled.index) == [0, 1, 2, 3, 4]
    # sorted by (timestamp, symbol); each symbol's last bar (A on day 4, B on day 3) has no target
    assert list(labelled["tag"]) == ["A1", "B1", "A2", "B2", "A3"]
    assert labelled["next_log_return"].tolist() == pytest.approx(
        [0.0953101798, -0.2231435513, 0.0, 0.4054651081, -0.1053605157])  # log(110/100), log(40/50), ...
    assert labelled["target_up"].tolist() == [1, 0, 0, 1, 0]
    assert labelled["target_up"].dtype == np.dtype("int64")


def test_a_horizon_of_two_bars_looks_two_closes_ahead():
    labelled = training.add_target(_bars(), horizon=2)
    assert list(labelled["tag"]) == ["A1", "B1", "A2"]
    assert labelled["next_log_return"].tolist() == pytest.approx(
        [0.0953101798, 0.1823215568, -0.1053605157])  # log(110/100), log(60/50), log(99/110)
    assert labelled["target_up"].tolist() == [1, 1, 0]


# ---- walk_forward_splits ---------------------------------------------------------------------------


def _days(times, rows):
    return sorted({int(d) for d in times.iloc[rows].dt.day})


def test_a_gap_as_long_as_the_horizon_is_allowed_and_drops_that_many_timestamps():
    times = pd.Series(pd.date_range("2024-01-01", periods=9, freq="D"))
    splits = training.walk_forward_splits(times, training.WalkForwardSettings(n_folds=2, gap=2, horizon=2))
    # 9 timestamps in 3 parts of 3; two dropped before each test: days 2-3, then 5-6
    assert [(_days(times, train), _days(times, test)) for train, test in splits] == [
        ([1], [4, 5, 6]), ([1, 2, 3, 4], [7, 8, 9])]


def test_positions_follow_the_input_order_and_zones_are_compared_in_utc():
    # Four instants given in Paris time, out of order, two symbols each: 10:00 Paris is 09:00 UTC.
    utc = pd.to_datetime(["2024-01-01 09:00", "2024-01-01 10:00", "2024-01-01 11:00", "2024-01-01 12:00"], utc=True)
    order = [3, 0, 2, 1, 0, 3, 1, 2]
    times = pd.Series(utc[order]).dt.tz_convert("Europe/Paris")
    splits = training.walk_forward_splits(times, training.WalkForwardSettings(n_folds=1 + 1, gap=1))
    # TimeSeriesSplit(2, gap=1) over 4 instants: train [0], test [2]; train [0, 1], test [3]
    assert [(list(train), list(test)) for train, test in splits] == [([1, 4], [2, 7]), ([1, 3, 4, 6], [0, 5])]


def test_gap_below_the_horizon_is_refused_naming_both():
    times = pd.Series(pd.date_range("2024-01-01", periods=30, freq="D"))
    with pytest.raises(TrainingDataError) as caught:
        training.walk_forward_splits(times, training.WalkForwardSettings(gap=1, horizon=2))
    assert str(caught.value) == "gap=1 < horizon=2 would leak test prices into training."


@pytest.mark.parametrize("folds, reason", [
    (5, "Cannot have number of folds=6 greater than the number of samples=3."),
    (2, "Too many splits=2 for number of samples=3 with test_size=1 and gap=1."),
])
def test_too_few_timestamps_for_the_folds_are_refused_with_the_count(folds, reason):
    # six rows but three distinct timestamps: the count is of timestamps
    times = pd.Series(pd.date_range("2024-01-01", periods=3, freq="D").repeat(2))
    with pytest.raises(TrainingDataError) as caught:
        training.walk_forward_splits(times, training.WalkForwardSettings(n_folds=folds, gap=1))
    assert str(caught.value) == f"Too few timestamps (3) for {folds} folds: {reason}"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_default_settings_are_five_folds_a_gap_of_one_and_a_one_bar_horizon():
    assert training.WalkForwardSettings() == training.WalkForwardSettings(n_folds=5, gap=1, horizon=1)
    times = pd.Series(pd.date_range("2024-01-01", periods=12, freq="D"))
    # 12 timestamps in 6 parts of 2: tests start at the third, training ends one before each test
    assert [(_days(times, a), _days(times, b)) for a, b in training.walk_forward_splits(times)] == [
        ([1], [3, 4]), ([1, 2, 3], [5, 6]), ([1, 2, 3, 4, 5], [7, 8]), ([1, 2, 3, 4, 5, 6, 7], [9, 10]),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], [11, 12])]


def test_instants_of_a_coarser_resolution_come_out_in_nanoseconds():
    micro = pd.Series(pd.to_datetime(["2024-07-01 02:00:00.000001"])).astype("datetime64[us]")
    values = training._naive_utc(micro)
    assert values.dtype == np.dtype("datetime64[ns]")
    assert list(values) == [np.datetime64("2024-07-01T02:00:00.000001000", "ns")]


def test_utc_instants_come_out_naive_and_naive_ones_unchanged():
    paris = pd.Series(pd.to_datetime(["2024-07-01 02:00"]).tz_localize("Europe/Paris"))
    assert list(training._naive_utc(paris)) == [np.datetime64("2024-07-01T00:00:00", "ns")]
    naive = pd.Series(pd.to_datetime(["2024-07-01 02:00"]))
    values = training._naive_utc(naive)
    assert values.dtype == np.dtype("datetime64[ns]")
    assert list(values) == [np.datetime64("2024-07-01T02:00:00", "ns")]


# ---- per-fold measures -----------------------------------------------------------------------------


def test_the_six_metrics_of_one_fold():
    y_true = np.array([1, 0, 1, 1, 0])
    y_pred = np.array([1, 1, 0, 1, 0])
    score = np.array([0.9, 0.6, 0.4, 0.8, 0.3])
    # TP 2, FP 1, FN 1, TN 1: precision 2/3, recall 2/3; balanced (2/3 + 1/2) / 2; AUC: 6 pairs, 5 ordered
    assert training._metrics(y_true, y_pred, score) == {
        "accuracy": 0.6, "balanced_accuracy": pytest.approx(7 / 12), "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3), "f1": pytest.approx(2 / 3), "roc_auc": pytest.approx(5 / 6)}
    assert training._metrics(y_true, y_pred, None)["roc_auc"] is None


def test_undefined_metrics_are_zero_or_none():
    # one class only: no balanced accuracy, no AUC; no positive predicted or present: 0, not 1
    assert training._metrics(np.array([0, 0]), np.array([0, 0]), np.array([0.2, 0.3])) == {
        "accuracy": 1.0, "balanced_accuracy": None, "precision": 0.0, "recall": 0.0, "f1": 0.0, "roc_auc": None}
    assert training._metrics(np.array([1, 1]), np.array([0, 0]), np.array([0.2, 0.3])) == {
        "accuracy": 0.0, "balanced_accuracy": None, "precision": 0.0, "recall": 0.0, "f1": 0.0, "roc_auc": None}


def test_undefined_precision_recall_and_f1_are_zero_silently():
    # scikit-learn warns (UndefinedMetricWarning) unless told what an undefined ratio is: the Glue log stays clean
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        only_down = training._metrics(np.array([0, 0, 1]), np.array([0, 0, 0]), None)
        nothing_up = training._metrics(np.array([0, 0]), np.array([0, 0]), None)
    assert (only_down["precision"], only_down["recall"], only_down["f1"]) == (0.0, 0.0, 0.0)
    assert (nothing_up["precision"], nothing_up["recall"], nothing_up["f1"]) == (0.0, 0.0, 0.0)


def test_the_log_return_is_the_long_bars_summed_over_the_symbols():
    assert training._log_return(np.array([1, 0, 1]), np.array([0.02, 0.5, -0.01]), 2) == pytest.approx(0.005)
    assert training._log_return(np.array([1, 1]), np.array([0.03, 0.01]), 1) == pytest.approx(0.04)


def test_the_baselines_predict_up_and_the_last_bars_direction():
    test = pd.DataFrame({"ret_1": [0.01, 0.0, -0.02, 0.005]})
    predictions = training._baseline_predictions(test)
    assert list(predictions) == ["always_up", "persistence"]
    up, up_score = predictions["always_up"]
    assert up.tolist() == [1, 1, 1, 1] and up.dtype == np.dtype("int64") and up_score is None
    last, last_score = predictions["persistence"]
    assert last.tolist() == [1, 0, 0, 1] and last.dtype == np.dtype("int64")  # a flat last bar is not up
    assert last_score.tolist() == [1.0, 0.0, 0.0, 1.0] and last_score.dtype == np.dtype("float64")


def _fold(result):
    return {"results": {"m": result}}


def test_a_summary_is_the_mean_and_population_spread_of_the_folds_that_have_each_metric():
    def result(accuracy, balanced, log_return):
        return {"accuracy": accuracy, "balanced_accuracy": balanced, "precision": 0.5, "recall": 1.0,
                "f1": 0.0, "roc_auc": None, "strategy_log_return": log_return}

    folds = [_fold(result(0.5, 0.6, 0.1)), _fold(result(0.8, None, -0.3)), _fold(result(0.2, 0.4, 0.05))]
    assert training._summary(folds, "m") == {
        "accuracy_mean": pytest.approx(0.5), "accuracy_std": pytest.approx(math.sqrt(0.06)),
        "balanced_accuracy_mean": pytest.approx(0.5), "balanced_accuracy_std": pytest.approx(0.1),
        "precision_mean": 0.5, "precision_std": 0.0, "recall_mean": 1.0, "recall_std": 0.0,
        "f1_mean": 0.0, "f1_std": 0.0, "roc_auc_mean": None, "roc_auc_std": None,
        "strategy_return": pytest.approx(math.exp(-0.15) - 1)}


# ---- evaluate --------------------------------------------------------------------------------------


class Scorer(BaseEstimator, ClassifierMixin):
    """P(up) = x, the first feature; remembers how many rows it was fit on."""

    fits: list = []

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.fitted_rows_ = len(y)
        Scorer.fits.append((len(y), int(np.sum(y))))
        return self

    def predict_proba(self, X):
        return np.column_stack([1 - X[:, 0], X[:, 0]])


def scorer_only():
    return {"scorer": Scorer()}


#: (day, block, x, ret_1, target, next_log_return); two blocks of one real symbol, A.
ROWS = [
    (0, "A#000", 0.3, 0.01, 1, 0.01), (0, "A#001", 0.3, -0.01, 0, -0.01),
    (1, "A#000", 0.3, 0.01, 1, 0.01), (1, "A#001", 0.3, -0.01, 0, -0.01),
    (2, "A#000", 0.3, 0.01, 1, 0.01), (2, "A#001", 0.3, 0.01, 0, -0.01),
    (3, "A#000", 0.9, 0.01, 1, 0.02), (3, "A#001", 0.2, -0.01, 0, -0.005),
    (4, "A#000", 0.5, 0.0, 1, 0.03), (4, "A#001", 0.7, -0.02, 0, -0.04),
    (5, "A#000", 0.8, 0.03, 0, -0.01), (5, "A#001", 0.6, -0.01, 0, -0.03),
    (6, "A#000", 0.95, -0.02, 0, -0.02), (6, "A#001", 0.1, 0.01, 0, -0.01),
]


def _labelled(rows=ROWS):
    frame = pd.DataFrame(rows, columns=["day", "symbol", "x", "ret_1", "target_up", "next_log_return"])
    frame.insert(0, "timestamp", pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(frame.pop("day"), unit="D"))
    return frame


TWO_FOLDS = training.WalkForwardSettings(n_folds=2, gap=1)


@pytest.fixture(autouse=True)
def _clear_fits():
    Scorer.fits.clear()


def _without_timing(folds):
    for fold in folds:
        seconds = fold["results"]["scorer"].pop("fit_seconds")
        assert isinstance(seconds, float) and 0 <= seconds < 10
    return folds


def test_every_fold_of_a_hand_worked_walk_forward():
    # 7 days, 2 folds of 2 test days from day 3 (days 3-4, then 5-6); training ends a day before each.
    # Fold 0, y = 1 0 1 0: the stand-in says 1 0 0 1 (x = 0.5 is not above 0.5), persistence 1 0 0 0
    # (ret_1 = 0 is not up). Fold 1: nothing goes up; the stand-in says 1 1 1 0, persistence 1 0 0 1.
    # One real symbol (two blocks of A): the strategy's log return is the plain sum over long bars.
    evaluation = training.evaluate(_labelled(), ["x"], TWO_FOLDS, candidates=scorer_only)
    assert list(evaluation) == ["folds", "summary", "models", "out_of_sample"]
    assert evaluation["models"] == ["scorer"]
    assert Scorer.fits == [(4, 2), (8, 4)]
    folds = _without_timing(evaluation["folds"])
    assert folds == [
        {"fold": 0, "train_rows": 4, "test_rows": 4,
         "train_start": "2024-01-01T00:00:00+00:00", "train_end": "2024-01-02T00:00:00+00:00",
         "test_start": "2024-01-04T00:00:00+00:00", "test_end": "2024-01-05T00:00:00+00:00",
         "test_up_share": 0.5, "buy_and_hold_log_return": pytest.approx(0.005),
         "buy_and_hold_return": pytest.approx(math.exp(0.005) - 1),
         "results": {
             "scorer": {"accuracy": 0.5, "balanced_accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5,
                        "roc_auc": 0.75, "strategy_log_return": pytest.approx(-0.02)},
             "always_up": {"accuracy": 0.5, "balanced_accuracy": 0.5, "precision": 0.5, "recall": 1.0,
                           "f1": pytest.approx(2 / 3), "roc_auc": None, "strategy_log_return": pytest.approx(0.005)},
             "persistence": {"accuracy": 0.75, "balanced_accuracy": 0.75, "precision": 1.0, "recall": 0.5,
                             "f1": pytest.approx(2 / 3), "roc_auc": 0.75,
                             "strategy_log_return": pytest.approx(0.02)}}},
        {"fold": 1, "train_rows": 8, "test_rows": 4,
         "train_start": "2024-01-01T00:00:00+00:00", "train_end": "2024-01-04T00:00:00+00:00",
         "test_start": "2024-01-06T00:00:00+00:00", "test_end": "2024-01-07T00:00:00+00:00",
         "test_up_share": 0.0, "buy_and_hold_log_return": pytest.approx(-0.07),
         "buy_and_hold_return": pytest.approx(math.exp(-0.07) - 1),
         "results": {
             "scorer": {"accuracy": 0.25, "balanced_accuracy": None, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                        "roc_auc": None, "strategy_log_return": pytest.approx(-0.06)},
             "always_up": {"accuracy": 0.0, "balanced_accuracy": None, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                           "roc_auc": None, "strategy_log_return": pytest.approx(-0.07)},
             "persistence": {"accuracy": 0.5, "balanced_accuracy": None, "precision": 0.0, "recall": 0.0,
                             "f1": 0.0, "roc_auc": None, "strategy_log_return": pytest.approx(-0.02)}}},
    ]
    assert list(folds[0]["results"]) == ["scorer", "always_up", "persistence"]


def test_the_summary_of_the_hand_worked_walk_forward():
    summary = training.evaluate(_labelled(), ["x"], TWO_FOLDS, candidates=scorer_only)["summary"]
    approx = pytest.approx
    assert summary == {
        "scorer": {"accuracy_mean": 0.375, "accuracy_std": 0.125, "balanced_accuracy_mean": 0.5,
                   "balanced_accuracy_std": 0.0, "precision_mean": 0.25, "precision_std": 0.25, "recall_mean": 0.25,
                   "recall_std": 0.25, "f1_mean": 0.25, "f1_std": 0.25, "roc_auc_mean": 0.75, "roc_auc_std": 0.0,
                   "strategy_return": approx(math.exp(-0.08) - 1)},
        "always_up": {"accuracy_mean": 0.25, "accuracy_std": 0.25, "balanced_accuracy_mean": 0.5,
                      "balanced_accuracy_std": 0.0, "precision_mean": 0.25, "precision_std": 0.25, "recall_mean": 0.5,
                      "recall_std": 0.5, "f1_mean": approx(1 / 3), "f1_std": approx(1 / 3), "roc_auc_mean": None,
                      "roc_auc_std": None, "strategy_return": approx(math.exp(-0.065) - 1)},
        "persistence": {"accuracy_mean": 0.625, "accuracy_std": 0.125, "balanced_accuracy_mean": 0.75,
                        "balanced_accuracy_std": 0.0, "precision_mean": 0.5, "precision_std": 0.5,
                        "recall_mean": 0.25, "recall_std": 0.25, "f1_mean": approx(1 / 3), "f1_std": approx(1 / 3),
                        "roc_auc_mean": 0.75, "roc_auc_std": 0.0, "strategy_return": approx(0.0, abs=1e-12)},
        "buy_and_hold": {"return": approx(math.exp(-0.065) - 1)},
    }


def test_the_out_of_sample_rows_of_every_fold_are_kept_for_the_report():
    labelled = _labelled()
    kept = training.evaluate(labelled, ["x"], TWO_FOLDS, candidates=scorer_only)["out_of_sample"]
    frame = kept.frame
    assert list(frame.columns) == ["timestamp", "symbol", "fold", "target_up", "next_log_return", "always_up",
                                   "always_up_score", "persistence", "persistence_score", "scorer", "scorer_score"]
    assert list(frame.index) == list(range(8))
    assert [t.day for t in frame["timestamp"]] == [4, 4, 5, 5, 6, 6, 7, 7]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["symbol"].tolist() == ["A#000", "A#001"] * 4
    assert frame["fold"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert frame["target_up"].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert frame["next_log_return"].tolist() == [0.02, -0.005, 0.03, -0.04, -0.01, -0.03, -0.02, -0.01]
    assert frame["always_up"].tolist() == [1] * 8 and frame["always_up_score"].isna().all()
    assert frame["persistence"].tolist() == [1, 0, 0, 0, 1, 0, 0, 1]
    assert frame["persistence_score"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert frame["scorer"].tolist() == [1, 0, 0, 1, 1, 1, 1, 0]
    assert frame["scorer_score"].tolist() == [0.9, 0.2, 0.5, 0.7, 0.8, 0.6, 0.95, 0.1]
    # predictions are 0/1 integers, scores floats (NaN where a baseline has none), as the report reads them
    assert {c: str(t) for c, t in frame.dtypes.items() if c not in ("timestamp", "symbol")} == {
        "fold": "int64", "target_up": "int64", "next_log_return": "float64", "always_up": "int64",
        "always_up_score": "float64", "persistence": "int64", "persistence_score": "float64", "scorer": "int64",
        "scorer_score": "float64"}
    # the models as fitted on the last training window (days 1-4, 8 rows), and that window's test rows
    assert list(kept.last_models) == ["scorer"] and kept.last_models["scorer"].fitted_rows_ == 8
    assert kept.last_test.equals(labelled.iloc[10:14])


def test_a_signal_is_one_models_columns_under_the_reports_names():
    kept = training.evaluate(_labelled(), ["x"], TWO_FOLDS, candidates=scorer_only)["out_of_sample"]
    signal = kept.signal("persistence")
    assert list(signal.columns) == ["timestamp", "symbol", "fold", "y_true", "y_pred", "score", "next_log_return"]
    assert signal["y_true"].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert signal["y_pred"].tolist() == [1, 0, 0, 0, 1, 0, 0, 1]
    assert signal["score"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert signal["fold"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert signal["symbol"].tolist() == ["A#000", "A#001"] * 4
    assert [t.day for t in signal["timestamp"]] == [4, 4, 5, 5, 6, 6, 7, 7]
    assert signal["next_log_return"].tolist() == [0.02, -0.005, 0.03, -0.04, -0.01, -0.03, -0.02, -0.01]


def test_each_real_symbol_weighs_the_same_in_the_strategy_return():
    # the same rows, the two blocks renamed as two symbols: every log return is halved
    rows = [(d, "B" if s == "A#001" else "A", *rest) for d, s, *rest in ROWS]
    folds = training.evaluate(_labelled(rows), ["x"], TWO_FOLDS, candidates=scorer_only)["folds"]
    assert [f["buy_and_hold_log_return"] for f in folds] == pytest.approx([0.0025, -0.035])
    assert [f["results"]["scorer"]["strategy_log_return"] for f in folds] == pytest.approx([-0.01, -0.03])


def test_a_training_window_with_one_class_is_refused_naming_the_fold():
    rows = [(d, s, x, r, 1 if d < 2 else t, n) for d, s, x, r, t, n in ROWS]  # days 0-1: everything up
    with pytest.raises(TrainingDataError) as caught:
        training.evaluate(_labelled(rows), ["x"], TWO_FOLDS, candidates=scorer_only)
    assert str(caught.value) == "Fold 0: the training window has only one class; use a longer history."
    assert Scorer.fits == []


def test_without_settings_or_candidates_five_folds_of_the_three_models():
    # 7 days in 6 parts of 1: five folds, the first training on day 0 alone (both classes)
    with threadpool_limits(limits=1):  # as train() runs it: OpenMP threads on a busy machine crawl
        evaluation = training.evaluate(_labelled(), ["x"])
    assert evaluation["models"] == ["logistic_regression", "random_forest", "hist_gradient_boosting"]
    assert [(f["train_rows"], f["test_rows"]) for f in evaluation["folds"]] == [
        (2, 2), (4, 2), (6, 2), (8, 2), (10, 2)]
