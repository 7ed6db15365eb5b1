"""cripto_pipeline.training, choosing and judging: select_best on hand-made summaries (the selection
metric decides, accuracy breaks its ties, then the name; a missing metric counts as 0),
compare_with_baselines and verdict with every field and sentence written out, and the model
candidates' settings, all asserted literally (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cripto_pipeline import training


def _stats(balanced, accuracy):
    return {"balanced_accuracy_mean": balanced, "accuracy_mean": accuracy}


def test_the_highest_balanced_accuracy_wins_over_a_higher_accuracy_and_an_earlier_name():
    summary = {"a_model": _stats(0.55, 0.90), "b_model": _stats(0.60, 0.50), "c_model": _stats(0.58, 0.95)}
    assert training.select_best(summary, ["a_model", "b_model", "c_model"]) == "b_model"
    assert training.select_best(summary, ["c_model", "a_model"]) == "c_model"


def test_a_tie_on_balanced_accuracy_is_broken_by_the_higher_accuracy():
    summary = {"a_model": _stats(0.50, 0.60), "b_model": _stats(0.50, 0.70)}
    assert training.select_best(summary, ["a_model", "b_model"]) == "b_model"
    assert training.select_best(summary, ["b_model", "a_model"]) == "b_model"


def test_a_full_tie_is_broken_by_the_alphabetically_first_name():
    summary = {"b_model": _stats(0.50, 0.60), "a_model": _stats(0.50, 0.60), "c_model": _stats(0.50, 0.60)}
    assert training.select_best(summary, ["c_model", "b_model", "a_model"]) == "a_model"


def test_a_missing_balanced_accuracy_counts_as_zero():
    # a_model has none (one class in every test fold): b_model's 0.1 beats it, whatever the accuracies.
    summary = {"a_model": _stats(None, 0.90), "b_model": _stats(0.10, 0.20)}
    assert training.select_best(summary, ["a_model", "b_model"]) == "b_model"
    # ...and it ties with an explicit 0.0, so accuracy decides.
    summary = {"a_model": _stats(None, 0.90), "b_model": _stats(0.0, 0.20)}
    assert training.select_best(summary, ["b_model", "a_model"]) == "a_model"


def test_a_missing_accuracy_counts_as_zero_on_a_balanced_accuracy_tie():
    summary = {"a_model": _stats(0.50, None), "b_model": _stats(0.50, 0.10)}
    assert training.select_best(summary, ["a_model", "b_model"]) == "b_model"


def test_only_the_named_models_are_candidates():
    summary = {"always_up": _stats(0.99, 0.99), "a_model": _stats(0.40, 0.50)}
    assert training.select_best(summary, ["a_model"]) == "a_model"


def _signal(rows):
    """(day, symbol, y_pred, next_log_return) -> a signal as OutOfSample.signal returns it."""
    frame = pd.DataFrame(rows, columns=["day", "symbol", "y_pred", "next_log_return"])
    frame["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["y_true"] = (frame["next_log_return"] > 0).astype(int)
    return frame


def test_every_field_of_a_comparison_written_out():
    # Long on a +10 % log bar, flat on a -10 % one: in and out, two fees: exp(0.1) x 0.999**2 = 1.1029617.
    # Buy-and-hold: one entry fee, exp(0.1 - 0.1) x 0.999 = 0.999.
    signal = _signal([(0, "A", 1, 0.10), (1, "A", 0, -0.10)])
    summary = {
        "m": {"accuracy_mean": 0.60, "balanced_accuracy_mean": 0.58, "strategy_return": 2.5},
        "always_up": {"accuracy_mean": 0.55, "balanced_accuracy_mean": 0.50},
        "persistence": {"accuracy_mean": 0.57, "balanced_accuracy_mean": None},
        "buy_and_hold": {"return": 2.0},
    }
    comparison = training.compare_with_baselines(summary, "m", signal)
    net = comparison.pop("strategy_net_return")
    assert net == pytest.approx(1.1029617, abs=1e-7)
    assert comparison == {
        "model": "m",
        "model_accuracy_mean": 0.60,
        "model_balanced_accuracy_mean": 0.58,
        "best_baseline_accuracy_mean": 0.57,
        "best_baseline_balanced_accuracy_mean": 0.50,
        "model_strategy_return": 2.5,
        "buy_and_hold_return": 2.0,
        "beats_best_baseline_accuracy": True,
        "beats_best_baseline_balanced_accuracy": True,
        "beats_buy_and_hold_return": True,
        "beats_always_up_accuracy": True,
        "beats_persistence_accuracy": True,
        "beats_baselines_classification": True,
        "fee_rate": 0.001,
        "buy_and_hold_net_return": pytest.approx(0.999, abs=1e-12),
        "beats_buy_and_hold_net_of_fees": True,
        "beats_all_baselines": True,
        "verdict": "classification: beats the baselines (60.0 % vs 57.0 %); net of 0.10 % fees: beats "
                   "buy-and-hold (1.103 vs 0.999)",
    }


def test_the_best_baseline_is_the_higher_of_the_two_on_each_measure():
    signal = _signal([(0, "A", 1, 0.10)])
    summary = {
        "m": {"accuracy_mean": 0.56, "balanced_accuracy_mean": 0.52, "strategy_return": 0.5},
        "always_up": {"accuracy_mean": 0.55, "balanced_accuracy_mean": None},
        "persistence": {"accuracy_mean": 0.51, "balanced_accuracy_mean": 0.53},
        "buy_and_hold": {"return": 0.5},
    }
    comparison = training.compare_with_baselines(summary, "m", signal)
    assert comparison["best_baseline_accuracy_mean"] == 0.55
    assert comparison["best_baseline_balanced_accuracy_mean"] == 0.53
    assert comparison["beats_best_baseline_accuracy"] is True
    assert comparison["beats_best_baseline_balanced_accuracy"] is False  # 0.52 vs persistence's 0.53
    assert comparison["beats_buy_and_hold_return"] is False  # 0.5 vs 0.5: a tie is no win
    assert comparison["beats_baselines_classification"] is False
    # the same signal on both sides: long on every bar is buy-and-hold, fees included
    assert comparison["strategy_net_return"] == pytest.approx(comparison["buy_and_hold_net_return"])
    assert comparison["beats_buy_and_hold_net_of_fees"] is False
    assert comparison["beats_all_baselines"] is False


def test_no_balanced_accuracy_on_either_side_is_a_tie_at_zero_and_no_win():
    signal = _signal([(0, "A", 1, 0.10)])
    summary = {
        "m": {"accuracy_mean": 0.60, "balanced_accuracy_mean": None, "strategy_return": 0.5},
        "always_up": {"accuracy_mean": 0.55, "balanced_accuracy_mean": None},
        "persistence": {"accuracy_mean": 0.51, "balanced_accuracy_mean": None},
        "buy_and_hold": {"return": 0.4},
    }
    comparison = training.compare_with_baselines(summary, "m", signal)
    assert comparison["best_baseline_balanced_accuracy_mean"] == 0.0
    assert comparison["model_balanced_accuracy_mean"] is None
    assert comparison["beats_best_baseline_balanced_accuracy"] is False
    assert comparison["beats_buy_and_hold_return"] is True


def test_a_model_that_beats_one_baseline_but_not_the_other_says_which():
    signal = _signal([(0, "A", 1, 0.10)])
    summary = {
        "m": {"accuracy_mean": 0.53, "balanced_accuracy_mean": 0.6, "strategy_return": 0.5},
        "always_up": {"accuracy_mean": 0.55, "balanced_accuracy_mean": 0.5},
        "persistence": {"accuracy_mean": 0.53, "balanced_accuracy_mean": 0.5},
        "buy_and_hold": {"return": 0.4},
    }
    comparison = training.compare_with_baselines(summary, "m", signal)
    assert comparison["beats_always_up_accuracy"] is False
    assert comparison["beats_persistence_accuracy"] is False  # equal is not better
    summary["persistence"]["accuracy_mean"] = 0.52
    comparison = training.compare_with_baselines(summary, "m", signal)
    assert comparison["beats_always_up_accuracy"] is False
    assert comparison["beats_persistence_accuracy"] is True


def test_a_fee_rate_given_is_the_one_paid_and_reported():
    # One bar of two symbols at a 1 % fee: long A (+10 %), flat B (+30 %).
    signal = _signal([(0, "A", 1, 0.10), (0, "B", 0, 0.30)])
    summary = {
        "m": {"accuracy_mean": 0.6, "balanced_accuracy_mean": 0.6, "strategy_return": 0.5},
        "always_up": {"accuracy_mean": 0.5, "balanced_accuracy_mean": 0.5},
        "persistence": {"accuracy_mean": 0.5, "balanced_accuracy_mean": 0.5},
        "buy_and_hold": {"return": 0.4},
    }
    comparison = training.compare_with_baselines(summary, "m", signal, fee_rate=0.01)
    assert comparison["fee_rate"] == 0.01
    # equal weight: model exp((0.1 + log 0.99 + 0) / 2) = 1.0460015; buy-and-hold, both entered:
    # exp((0.1 + 0.3 + 2 log 0.99) / 2) = 1.2091887
    assert comparison["strategy_net_return"] == pytest.approx(1.0460015, abs=1e-7)
    assert comparison["buy_and_hold_net_return"] == pytest.approx(1.2091887, abs=1e-7)
    assert comparison["verdict"] == (
        "classification: beats the baselines (60.0 % vs 50.0 %); net of 1.00 % fees: loses to buy-and-hold "
        "(1.046 vs 1.209)")


def _comparison(classification, trading, net, hold=0.95, accuracy=0.5456, baseline=0.5521, fee=0.001):
    return {"beats_baselines_classification": classification, "beats_buy_and_hold_net_of_fees": trading,
            "strategy_net_return": net, "buy_and_hold_net_return": hold, "model_accuracy_mean": accuracy,
            "best_baseline_accuracy_mean": baseline, "fee_rate": fee}


@pytest.mark.parametrize("comparison, expected", [
    (_comparison(False, False, 0.9876),
     "classification: does not beat the baselines (54.6 % vs 55.2 %); net of 0.10 % fees: loses to buy-and-hold "
     "(0.988 vs 0.950)"),
    (_comparison(True, True, 1.0),  # exactly 1.0: no money lost
     "classification: beats the baselines (54.6 % vs 55.2 %); net of 0.10 % fees: beats buy-and-hold "
     "(1.000 vs 0.950)"),
    (_comparison(True, True, 0.9999),
     "classification: beats the baselines (54.6 % vs 55.2 %); net of 0.10 % fees: beats buy-and-hold "
     "(1.000 vs 0.950), but loses money"),
    (_comparison(False, True, 1.25, hold=1.2, fee=0.0025),
     "classification: does not beat the baselines (54.6 % vs 55.2 %); net of 0.25 % fees: beats buy-and-hold "
     "(1.250 vs 1.200)"),
    (_comparison(True, False, 1.5, hold=1.6),
     "classification: beats the baselines (54.6 % vs 55.2 %); net of 0.10 % fees: loses to buy-and-hold "
     "(1.500 vs 1.600)"),
])
def test_the_verdict_sentence(comparison, expected):
    assert training.verdict(comparison) == expected


def test_the_model_candidates_and_their_settings():
    candidates = training.model_candidates()
    assert list(candidates) == ["logistic_regression", "random_forest", "hist_gradient_boosting"]
    logistic = candidates["logistic_regression"]
    assert isinstance(logistic, Pipeline)
    assert [name for name, _ in logistic.steps] == ["scale", "model"]
    assert type(logistic.steps[0][1]) is StandardScaler
    assert type(logistic.steps[1][1]) is LogisticRegression
    assert (logistic.steps[1][1].C, logistic.steps[1][1].max_iter) == (1.0, 1000)
    forest = candidates["random_forest"]
    assert type(forest) is RandomForestClassifier
    assert {k: forest.get_params()[k] for k in ("n_estimators", "max_depth", "min_samples_leaf", "max_samples",
                                                 "max_features", "n_jobs", "random_state")} == {
        "n_estimators": 30, "max_depth": 4, "min_samples_leaf": 50, "max_samples": 0.3, "max_features": "sqrt",
        "n_jobs": 1, "random_state": 0}
    boosting = candidates["hist_gradient_boosting"]
    assert type(boosting) is HistGradientBoostingClassifier
    assert {k: boosting.get_params()[k] for k in ("max_iter", "learning_rate", "max_depth", "min_samples_leaf",
                                                   "early_stopping", "random_state")} == {
        "max_iter": 50, "learning_rate": 0.1, "max_depth": 3, "min_samples_leaf": 20, "early_stopping": False,
        "random_state": 0}


def test_the_seed_reaches_both_randomised_models_and_each_call_builds_fresh_models():
    seeded = training.model_candidates(seed=7)
    assert seeded["random_forest"].random_state == 7
    assert seeded["hist_gradient_boosting"].random_state == 7
    assert training.model_candidates(7)["random_forest"] is not seeded["random_forest"]
