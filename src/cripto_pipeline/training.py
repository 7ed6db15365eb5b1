"""Next-period direction models, evaluated walk-forward beside naive baselines (Glue side).

Target: ``1`` if the next bar of the same symbol closes higher than this one (``log(close[t+1] /
close[t]) > 0``), else ``0`` (a flat bar counts as "not up"). The last bar of each symbol has no
target and is dropped.

Evaluation: ``n_folds`` expanding-window folds over the *distinct timestamps* (all symbols of one
timestamp land in the same fold), from scikit-learn's ``TimeSeriesSplit`` with ``gap=1``: the
last training timestamp before each test fold is dropped because its target is the close of
the first test bar, i.e. it would leak the test period into training.

Compared on every fold:

- baselines: ``always_up`` (predict up), ``persistence`` (predict the last bar's direction) and
  ``buy_and_hold`` (a return, not a classifier: holding every symbol over the test fold);
- models: scikit-learn ``logistic_regression`` (scaled), ``random_forest`` (depth/leaf capped)
  and ``hist_gradient_boosting`` (shallow), all single-threaded with fixed seeds.

The strategy return of a classifier is "long when it predicts up, flat otherwise", equal-weight
across symbols, compounded over the test folds, beside buy-and-hold over the same bars.
The best model is the one with the highest mean walk-forward balanced accuracy (ties: accuracy,
then name); it is refit on all rows. Whether it beats the baselines is computed from the numbers
and stored in the metrics (``comparison``), in two separate comparisons: as a classifier (accuracy
and balanced accuracy vs the best baseline) and as a trading signal net of
:data:`cripto_pipeline.strategy.FEE_RATE` (vs buy-and-hold). It is a win only if it wins both — it
often does not: daily direction is close to a coin flip, and an hourly signal that trades often
pays more in fees than it earns.

The per-fold out-of-sample predictions are kept (:class:`OutOfSample`), so the report draws the
walk-forward's own signal instead of fitting every fold again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from . import sample_blocks, strategy
from .exceptions import TrainingDataError
from .features import FEATURE_COLUMNS, MIN_TRAINING_ROWS

TARGET_COLUMN = "target_up"
NEXT_RETURN_COLUMN = "next_log_return"
TARGET_DEFINITION = "1 if log(close[t+1] / close[t]) > 0 for the same symbol, else 0"
STRATEGY_DEFINITION = (
    "long when the classifier predicts up, flat otherwise; equal weight across symbols; returns compounded "
    "over the test folds; summary strategy_return: no fees, slippage or spread; comparison "
    "strategy_net_return: fee_rate paid per position change, no slippage or spread"
)
SELECTION_METRIC = "balanced_accuracy"
BASELINES = ("always_up", "persistence")
METRIC_NAMES = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class WalkForwardSettings:
    """How the walk-forward evaluation splits time."""

    n_folds: int = 5
    gap: int = 1  # timestamps dropped between train and test; >= 1 for a 1-step target (see module doc)
    horizon: int = 1  # bars ahead the target looks


def model_candidates(seed: int = 0) -> Dict[str, BaseEstimator]:
    """The scikit-learn models compared (fresh, unfitted). Sizes keep hourly data at a few seconds."""
    return {
        "logistic_regression": Pipeline(
            [("scale", StandardScaler()), ("model", LogisticRegression(C=1.0, max_iter=1000))]
        ),
        # Shallow trees on 30 % bootstrap samples: unlimited-depth forests took minutes on 100 k rows.
        "random_forest": RandomForestClassifier(
            n_estimators=30,
            max_depth=4,
            min_samples_leaf=50,
            max_samples=0.3,
            max_features="sqrt",
            n_jobs=1,
            random_state=seed,
        ),
        "hist_gradient_boosting": HistGradientBoostingClassifier(
            max_iter=50,
            learning_rate=0.1,
            max_depth=3,
            min_samples_leaf=20,
            early_stopping=False,
            random_state=seed,
        ),
    }


@dataclass
class OutOfSample:
    """The walk-forward's out-of-sample predictions of every model and baseline, for the report."""

    #: One row per test bar of every fold: timestamp, symbol, fold, TARGET_COLUMN,
    #: NEXT_RETURN_COLUMN, then per model/baseline ``<name>`` (0/1) and ``<name>_score`` (P(up), NaN if none).
    frame: pd.DataFrame
    #: Every model as fitted on the last training window (its test rows are ``last_test``).
    last_models: Dict[str, BaseEstimator]
    #: The last fold's test rows (features and target): out of sample for ``last_models``.
    last_test: pd.DataFrame

    def signal(self, name: str) -> pd.DataFrame:
        """``name``'s predictions as timestamp, symbol, fold, y_true, y_pred, score, next_log_return."""
        frame = self.frame
        return pd.DataFrame(
            {
                "timestamp": frame["timestamp"],
                "symbol": frame["symbol"],
                "fold": frame["fold"],
                "y_true": frame[TARGET_COLUMN],
                "y_pred": frame[name],
                "score": frame[f"{name}_score"],
                "next_log_return": frame[NEXT_RETURN_COLUMN],
            }
        )


@dataclass
class TrainingResult:
    """The refit best model and everything measured on the way."""

    model: BaseEstimator
    best_model: str
    feature_columns: List[str]
    metrics: Dict[str, Any] = field(default_factory=dict)
    out_of_sample: Optional[OutOfSample] = None


def add_target(frame: pd.DataFrame, horizon: int = 1) -> pd.DataFrame:
    """Add NEXT_RETURN_COLUMN and TARGET_COLUMN per symbol; drop rows whose target is unknown.

    Rows are returned sorted by (timestamp, symbol) so that positional splits follow time.
    """
    ordered = frame.sort_values(["symbol", "timestamp"], kind="mergesort")
    log_close = np.log(ordered["close"].astype("float64"))
    next_return = log_close.groupby(ordered["symbol"], sort=False).shift(-horizon) - log_close
    labelled = ordered.assign(**{NEXT_RETURN_COLUMN: next_return})
    labelled = labelled[labelled[NEXT_RETURN_COLUMN].notna()]
    labelled[TARGET_COLUMN] = (labelled[NEXT_RETURN_COLUMN] > 0).astype("int64")
    return labelled.sort_values(["timestamp", "symbol"], kind="mergesort").reset_index(drop=True)


def walk_forward_splits(
    timestamps: pd.Series, settings: WalkForwardSettings = WalkForwardSettings()
) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Row positions (train, test) per fold, split on distinct timestamps (see module doc)."""
    if settings.gap < settings.horizon:
        raise TrainingDataError(
            f"gap={settings.gap} < horizon={settings.horizon} would leak test prices into training."
        )
    values = _naive_utc(timestamps)
    distinct = np.unique(values)
    position = np.searchsorted(distinct, values)
    splitter = TimeSeriesSplit(n_splits=settings.n_folds, gap=settings.gap)
    try:
        folds = list(splitter.split(distinct))
    except ValueError as error:
        raise TrainingDataError(
            f"Too few timestamps ({len(distinct)}) for {settings.n_folds} folds: {error}"
        ) from None
    splits = []
    for train_times, test_times in folds:
        train = np.flatnonzero(position <= train_times.max())
        test = np.flatnonzero((position >= test_times.min()) & (position <= test_times.max()))
        splits.append((train, test))
    return splits


def _naive_utc(timestamps: pd.Series) -> np.ndarray:
    """datetime64[ns] values in UTC (tz-aware Series would otherwise give slow object arrays)."""
    if getattr(timestamps.dt, "tz", None) is not None:
        timestamps = timestamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return timestamps.to_numpy(dtype="datetime64[ns]")


def _metrics(
    y_true: np.ndarray, y_pred: np.ndarray, score: Optional[np.ndarray]
) -> Dict[str, Optional[float]]:
    both_classes = len(np.unique(y_true)) == 2
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)) if both_classes else None,
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, score)) if both_classes and score is not None else None,
    }


def _log_return(positions: np.ndarray, next_return: np.ndarray, n_symbols: int) -> float:
    """Summed log return of an equal-weight long/flat portfolio over the given bars."""
    return float(np.sum(positions * next_return) / n_symbols)


def _baseline_predictions(test: pd.DataFrame) -> Dict[str, Tuple[np.ndarray, Optional[np.ndarray]]]:
    always_up = np.ones(len(test), dtype="int64")
    # The previous bar's direction: ret_1 is log(close[t] / close[t-1]), known at t.
    persistence = (test["ret_1"].to_numpy() > 0).astype("int64")
    return {"always_up": (always_up, None), "persistence": (persistence, persistence.astype("float64"))}


def _summary(folds: List[Dict[str, Any]], name: str) -> Dict[str, Any]:
    summary: Dict[str, Any] = {}
    for metric in METRIC_NAMES:
        values = [f["results"][name][metric] for f in folds if f["results"][name][metric] is not None]
        summary[f"{metric}_mean"] = float(np.mean(values)) if values else None
        summary[f"{metric}_std"] = float(np.std(values)) if values else None
    log_total = sum(f["results"][name]["strategy_log_return"] for f in folds)
    summary["strategy_return"] = math.expm1(log_total)
    return summary


def evaluate(
    labelled: pd.DataFrame,
    feature_columns: Sequence[str],
    settings: WalkForwardSettings = WalkForwardSettings(),
    candidates: Optional[Callable[[], Dict[str, BaseEstimator]]] = None,
) -> Dict[str, Any]:
    """Walk-forward evaluation of models and baselines on ``labelled`` (output of add_target)."""
    make_models = candidates or model_candidates
    columns = list(feature_columns)
    # Equal weight per real symbol: a Spark sample's blocks of one symbol are one position over time.
    n_symbols = int(sample_blocks.real_symbols(labelled["symbol"]).nunique())
    folds: List[Dict[str, Any]] = []
    predicted: List[pd.DataFrame] = []
    fitted: Dict[str, BaseEstimator] = {}
    for number, (train_rows, test_rows) in enumerate(walk_forward_splits(labelled["timestamp"], settings)):
        train, test = labelled.iloc[train_rows], labelled.iloc[test_rows]
        if train[TARGET_COLUMN].nunique() < 2:
            raise TrainingDataError(
                f"Fold {number}: the training window has only one class; use a longer history."
            )
        y_test = test[TARGET_COLUMN].to_numpy()
        next_return = test[NEXT_RETURN_COLUMN].to_numpy()
        results: Dict[str, Dict[str, Any]] = {}
        predictions = _baseline_predictions(test)
        for name, model in make_models().items():
            started = time.perf_counter()
            model.fit(train[columns].to_numpy(), train[TARGET_COLUMN].to_numpy())
            score = model.predict_proba(test[columns].to_numpy())[:, 1]
            predictions[name] = ((score > 0.5).astype("int64"), score)
            results[name] = {"fit_seconds": time.perf_counter() - started}
            fitted[name] = model
        for name, (y_pred, score) in predictions.items():
            results.setdefault(name, {}).update(_metrics(y_test, y_pred, score))
            results[name]["strategy_log_return"] = _log_return(y_pred, next_return, n_symbols)
        predicted.append(_out_of_sample_rows(test, number, predictions))
        buy_and_hold = _log_return(np.ones(len(test)), next_return, n_symbols)
        folds.append(
            {
                "fold": number,
                "train_rows": int(len(train)),
                "test_rows": int(len(test)),
                "train_start": train["timestamp"].min().isoformat(),
                "train_end": train["timestamp"].max().isoformat(),
                "test_start": test["timestamp"].min().isoformat(),
                "test_end": test["timestamp"].max().isoformat(),
                "test_up_share": float(y_test.mean()),
                "buy_and_hold_log_return": buy_and_hold,
                "buy_and_hold_return": math.expm1(buy_and_hold),
                "results": results,
            }
        )
    names = list(folds[0]["results"])
    summary = {name: _summary(folds, name) for name in names}
    summary["buy_and_hold"] = {"return": math.expm1(sum(f["buy_and_hold_log_return"] for f in folds))}
    return {
        "folds": folds,
        "summary": summary,
        "models": [n for n in names if n not in BASELINES],
        "out_of_sample": OutOfSample(pd.concat(predicted, ignore_index=True), fitted, test),
    }


def _out_of_sample_rows(
    test: pd.DataFrame, fold: int, predictions: Dict[str, Tuple[np.ndarray, Optional[np.ndarray]]]
) -> pd.DataFrame:
    columns: Dict[str, Any] = {
        # Series, not to_numpy(): tz-aware timestamps would become an object array.
        "timestamp": test["timestamp"].reset_index(drop=True),
        "symbol": test["symbol"].reset_index(drop=True),
        "fold": fold,
        TARGET_COLUMN: test[TARGET_COLUMN].to_numpy(),
        NEXT_RETURN_COLUMN: test[NEXT_RETURN_COLUMN].to_numpy(),
    }
    for name, (y_pred, score) in predictions.items():
        columns[name] = y_pred
        columns[f"{name}_score"] = np.full(len(test), np.nan) if score is None else score
    return pd.DataFrame(columns)


def select_best(summary: Dict[str, Any], models: Sequence[str]) -> str:
    """Highest mean balanced accuracy; ties broken by accuracy, then by name."""

    def key(name: str) -> Tuple[float, float, str]:
        stats = summary[name]
        return (stats[f"{SELECTION_METRIC}_mean"] or 0.0, stats["accuracy_mean"] or 0.0, name)

    return sorted(models, key=lambda n: (-key(n)[0], -key(n)[1], n))[0]


def compare_with_baselines(
    summary: Dict[str, Any], best: str, signal: pd.DataFrame, fee_rate: float = strategy.FEE_RATE
) -> Dict[str, Any]:
    """Booleans (and the numbers behind them) saying whether ``best`` beats each baseline.

    Two comparisons, kept apart: as a classifier (``beats_baselines_classification``: accuracy
    and balanced accuracy above the best classification baseline) and as a trading signal
    (``beats_buy_and_hold_net_of_fees``: growth of 1 of ``signal`` — ``best``'s out-of-sample
    predictions, :meth:`OutOfSample.signal` — net of ``fee_rate`` above buy-and-hold's).
    ``beats_all_baselines`` needs both, so a signal that loses money to fees is never a win.
    ``verdict`` states both in one sentence.
    """
    stats = summary[best]
    best_baseline_accuracy = max(summary[b]["accuracy_mean"] for b in BASELINES)
    best_baseline_balanced = max((summary[b]["balanced_accuracy_mean"] or 0.0) for b in BASELINES)
    comparison = {
        "model": best,
        "model_accuracy_mean": stats["accuracy_mean"],
        "model_balanced_accuracy_mean": stats["balanced_accuracy_mean"],
        "best_baseline_accuracy_mean": best_baseline_accuracy,
        "best_baseline_balanced_accuracy_mean": best_baseline_balanced,
        "model_strategy_return": stats["strategy_return"],
        "buy_and_hold_return": summary["buy_and_hold"]["return"],
    }
    comparison["beats_best_baseline_accuracy"] = stats["accuracy_mean"] > best_baseline_accuracy
    comparison["beats_best_baseline_balanced_accuracy"] = (
        stats["balanced_accuracy_mean"] or 0.0
    ) > best_baseline_balanced
    comparison["beats_buy_and_hold_return"] = stats["strategy_return"] > summary["buy_and_hold"]["return"]
    for baseline in BASELINES:
        comparison[f"beats_{baseline}_accuracy"] = stats["accuracy_mean"] > summary[baseline]["accuracy_mean"]
    comparison["beats_baselines_classification"] = bool(
        comparison["beats_best_baseline_accuracy"] and comparison["beats_best_baseline_balanced_accuracy"]
    )
    equity = strategy.equity_curves(signal, fee_rate)
    comparison["fee_rate"] = fee_rate
    comparison["strategy_net_return"] = strategy.final_growth(equity, "model_net")
    comparison["buy_and_hold_net_return"] = strategy.final_growth(equity, "buy_and_hold_net")
    comparison["beats_buy_and_hold_net_of_fees"] = bool(
        comparison["strategy_net_return"] > comparison["buy_and_hold_net_return"]
    )
    comparison["beats_all_baselines"] = bool(
        comparison["beats_baselines_classification"] and comparison["beats_buy_and_hold_net_of_fees"]
    )
    comparison["verdict"] = verdict(comparison)
    return comparison


def verdict(comparison: Dict[str, Any]) -> str:
    """One sentence stating the classification and the net-of-fees comparison, each with its numbers."""
    classification = "beats" if comparison["beats_baselines_classification"] else "does not beat"
    trading = "beats" if comparison["beats_buy_and_hold_net_of_fees"] else "loses to"
    net = comparison["strategy_net_return"]
    # Beating a falling buy-and-hold can still lose money: say so rather than let "beats" read as a win.
    money = ", but loses money" if trading == "beats" and net < 1.0 else ""
    return (
        f"classification: {classification} the baselines ({100 * comparison['model_accuracy_mean']:.1f} % vs "
        f"{100 * comparison['best_baseline_accuracy_mean']:.1f} %); net of {100 * comparison['fee_rate']:.2f} % "
        f"fees: {trading} buy-and-hold ({net:.3f} vs {comparison['buy_and_hold_net_return']:.3f}){money}"
    )


def train(
    features: pd.DataFrame,
    feature_columns: Sequence[str] = FEATURE_COLUMNS,
    settings: WalkForwardSettings = WalkForwardSettings(),
    candidates: Optional[Callable[[], Dict[str, BaseEstimator]]] = None,
) -> TrainingResult:
    """Label, evaluate walk-forward, pick the best model and refit it on every labelled row."""
    started = time.perf_counter()
    columns = list(feature_columns)
    missing = [c for c in columns + ["timestamp", "symbol", "close", "ret_1"] if c not in features.columns]
    if missing:
        raise TrainingDataError(f"The features frame lacks column(s): {', '.join(missing)}.")
    labelled = add_target(features, settings.horizon)
    if len(labelled) < MIN_TRAINING_ROWS:
        raise TrainingDataError(
            f"{len(labelled)} labelled rows; walk-forward evaluation needs {MIN_TRAINING_ROWS}."
        )
    make_models = candidates or model_candidates
    # HistGradientBoosting uses OpenMP; on small Glue/Lambda hosts one thread beats oversubscribed threads.
    with threadpool_limits(limits=1):
        evaluation = evaluate(labelled, columns, settings, make_models)
        best = select_best(evaluation["summary"], evaluation["models"])
        out_of_sample: OutOfSample = evaluation["out_of_sample"]
        model = clone(make_models()[best])
        model.fit(labelled[columns].to_numpy(), labelled[TARGET_COLUMN].to_numpy())
    metrics = {
        "target": TARGET_DEFINITION,
        "selection_metric": SELECTION_METRIC,
        "walk_forward": {
            "n_folds": settings.n_folds,
            "gap": settings.gap,
            "horizon": settings.horizon,
            "split_on": "distinct timestamps (expanding window)",
        },
        "rows": {
            "labelled": int(len(labelled)),
            "symbols": int(sample_blocks.real_symbols(labelled["symbol"]).nunique()),
            "up_share": float(labelled[TARGET_COLUMN].mean()),
        },
        "models": {name: repr(est) for name, est in make_models().items()},
        "baselines": list(BASELINES) + ["buy_and_hold"],
        "strategy": STRATEGY_DEFINITION,
        "best_model": best,
        "summary": evaluation["summary"],
        "comparison": compare_with_baselines(evaluation["summary"], best, out_of_sample.signal(best)),
        "folds": evaluation["folds"],
        "refit_rows": int(len(labelled)),
        "training_seconds": time.perf_counter() - started,
    }
    return TrainingResult(
        model=model, best_model=best, feature_columns=columns, metrics=metrics, out_of_sample=out_of_sample
    )
