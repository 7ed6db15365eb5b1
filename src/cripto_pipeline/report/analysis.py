"""The report's numbers, computed from a training result and the run's inputs (no plotting, no AWS).

The signal is the walk-forward's own: :class:`cripto_pipeline.training.OutOfSample` holds every
fold's out-of-sample predictions, so nothing is fitted again here (a refit of every fold used to make
the report slower than the training it describes). Equity curves come from
:mod:`cripto_pipeline.strategy`, the same computation as ``metrics.json``'s net-of-fees comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from .. import costs, layout, sample_blocks, strategy
from ..pipeline import Outcome, parquet_to_frame
from .usage import CostInputs

#: A step between two bars longer than this many times the usual step is a gap.
GAP_FACTOR = 1.5
#: Shuffles per feature for permutation importance (models without built-in importances).
PERMUTATION_REPEATS = 3
#: Rows of the last test fold used for permutation importance (its cost grows with rows x features).
PERMUTATION_MAX_ROWS = 2000


@dataclass
class ReportData:
    """Everything the page shows, computed (no plotting yet)."""

    metrics: Dict[str, Any]
    lineage: Dict[str, Any]
    manifest: Dict[str, Any]
    predictions: pd.DataFrame  # timestamp, symbol, fold, y_true, y_pred, score, next_log_return
    equity: pd.DataFrame  # per timestamp: model_gross, model_net, buy_and_hold_net (1.0 = start)
    confusion: np.ndarray  # [[tn, fp], [fn, tp]]
    importance_kind: str
    importances: pd.Series  # feature -> importance, sorted by magnitude
    coverage: "Coverage"
    cost: Dict[str, float]
    cost_inputs: CostInputs


@dataclass
class Coverage:
    """Rows per period and per symbol, and the gaps between consecutive bars."""

    period: str  # pandas offset alias of the counting period (e.g. "D", "M")
    rows_per_period: pd.DataFrame  # index: period start, columns: symbols
    symbols: List[Dict[str, Any]]  # symbol, rows, first, last, step, gaps (count), missing_bars
    gaps: List[Dict[str, Any]]  # symbol, after, before, missing_bars (largest first)


def confusion_matrix(predictions: pd.DataFrame) -> np.ndarray:
    """2x2 counts: rows = actual (down, up), columns = predicted (down, up)."""
    matrix = np.zeros((2, 2), dtype="int64")
    np.add.at(
        matrix,
        (predictions["y_true"].to_numpy(dtype="int64"), predictions["y_pred"].to_numpy(dtype="int64")),
        1,
    )
    return matrix


def feature_importances(
    model: Any, columns: Sequence[str], test: Optional[pd.DataFrame] = None
) -> Tuple[str, pd.Series]:
    """(what the numbers are, importance per feature sorted by magnitude) for a fitted model."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(final, "feature_importances_"):
        kind, values = (
            "impurity importance (mean decrease in impurity)",
            np.asarray(final.feature_importances_),
        )
    elif hasattr(final, "coef_"):
        kind = "coefficient on standardised features (sign: pushes towards 'up' when positive)"
        values = np.asarray(final.coef_).ravel()
    elif test is not None and len(test):
        from sklearn.inspection import permutation_importance
        from threadpoolctl import threadpool_limits

        from ..training import TARGET_COLUMN

        kind = "permutation importance on the last test fold (drop in balanced accuracy)"
        test = test.iloc[-PERMUTATION_MAX_ROWS:]  # the most recent rows
        # One OpenMP thread: HistGradientBoosting's predict oversubscribes small hosts
        # (hourly BTC sample on 2 cores: 12 s -> 0.7 s).
        with threadpool_limits(limits=1):
            result = permutation_importance(
                model,
                test[list(columns)].to_numpy(),
                test[TARGET_COLUMN].to_numpy(),
                scoring="balanced_accuracy",
                n_repeats=PERMUTATION_REPEATS,
                random_state=0,
                n_jobs=1,
            )
        values = result.importances_mean
    else:
        return "not available for this model", pd.Series(dtype="float64")
    series = pd.Series(values, index=list(columns), dtype="float64")
    return kind, series.reindex(series.abs().sort_values(ascending=False).index)


def data_coverage(features: pd.DataFrame) -> Coverage:
    """Rows per period (day for intraday data, month for daily data) and gaps, per symbol.

    A Spark sample's blocks (``<symbol>#<span>``, cripto_pipeline.sample_blocks) count under their real
    symbol; gaps are looked for within each block, as the spans between blocks are the sample's choice.
    """
    times = features["timestamp"]
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    series = features["symbol"].astype(str)
    frame = pd.DataFrame({"timestamp": times, "series": series, "symbol": sample_blocks.real_symbols(series)})
    frame = frame.sort_values(["series", "timestamp"], kind="mergesort")
    within = frame.groupby("series", sort=False)["timestamp"]
    frame["step"], frame["previous"] = within.diff(), within.shift(1)
    steps = frame["step"]
    usual = steps.dropna().median() if steps.notna().any() else pd.Timedelta(0)
    period = "D" if pd.Timedelta(0) < usual < pd.Timedelta(days=1) else "M"
    counts = frame.groupby([frame["timestamp"].dt.to_period(period), "symbol"]).size().unstack(fill_value=0)
    counts.index = counts.index.to_timestamp()
    symbols, gaps = [], []
    for symbol, group in frame.groupby("symbol", sort=True):
        diffs = group["step"]
        step = diffs.median() if diffs.notna().any() else pd.Timedelta(0)
        holes = diffs[diffs > step * GAP_FACTOR] if step > pd.Timedelta(0) else diffs.iloc[:0]
        missing = 0
        for position, delta in holes.items():
            bars = int(round(delta / step)) - 1
            missing += bars
            gaps.append(
                {
                    "symbol": symbol,
                    "after": group["previous"].loc[position],
                    "before": group["timestamp"].loc[position],
                    "missing_bars": bars,
                }
            )
        symbols.append(
            {
                "symbol": symbol,
                "rows": int(len(group)),
                "first": group["timestamp"].min(),
                "last": group["timestamp"].max(),
                "step": step,
                "gaps": int(len(holes)),
                "missing_bars": missing,
            }
        )
    gaps.sort(key=lambda gap: (-gap["missing_bars"], gap["after"]))
    return Coverage(period=period, rows_per_period=counts, symbols=symbols, gaps=gaps)


def build_report_data(
    outcome: Outcome, manifest: Dict[str, Any], parquet: bytes, cost_inputs: CostInputs
) -> ReportData:
    """Gather the report's numbers from a training outcome and the run's inputs (no AWS calls).

    ``outcome`` is :func:`cripto_pipeline.pipeline.train_from_features`'s, with its in-memory
    ``training`` result (the refit model and the walk-forward's out-of-sample predictions).
    """
    if outcome.training is None or outcome.training.out_of_sample is None:
        raise ValueError("The report needs the training outcome of this process (outcome.training).")
    written = {obj.key: obj for obj in outcome.writes}
    keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
    metrics = json.loads(written[keys.metrics].body)
    lineage = json.loads(written[keys.lineage].body)
    result, best = outcome.training, metrics["best_model"]
    out_of_sample, columns = result.out_of_sample, result.feature_columns
    predictions = out_of_sample.signal(best)
    final = result.model.steps[-1][1] if hasattr(result.model, "steps") else result.model
    if hasattr(final, "feature_importances_") or hasattr(final, "coef_"):
        kind, importances = feature_importances(result.model, columns)
    else:  # no built-in importances: permutation importance, measured out of sample on the last fold
        kind, importances = feature_importances(
            out_of_sample.last_models[best], columns, out_of_sample.last_test
        )
    return ReportData(
        metrics=metrics,
        lineage=lineage,
        manifest=manifest,
        predictions=predictions,
        equity=strategy.equity_curves(predictions),
        confusion=confusion_matrix(predictions),
        importance_kind=kind,
        importances=importances,
        coverage=data_coverage(parquet_to_frame(parquet)),
        cost=costs.run_cost(cost_inputs.usage()),
        cost_inputs=cost_inputs,
    )
