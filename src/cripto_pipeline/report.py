"""The HTML report of one training run: how the model did, against what, on which data, at what cost.

The Glue job builds it *after* the model artifacts and ``latest.json`` are written, so a report
failure never blocks a model. The page is self-contained (plots are PNGs embedded as base64
``data:`` URIs; no scripts, no external files): it opens from S3, a laptop or an e-mail alike.

Sections:

- walk-forward metrics per fold, every model beside the baselines (from ``metrics.json``);
- equity of the selected model's out-of-sample signal vs buy-and-hold, net of :data:`FEE_RATE`;
- the confusion matrix of that signal;
- feature importances (impurity importances for forests, standardised coefficients for logistic
  regression, permutation importance on the last test fold otherwise);
- data coverage: rows per period and per symbol, gaps in the time series;
- the lineage (``lineage.json``) and the run's estimated AWS cost (:mod:`cripto_pipeline.costs`).

``metrics.json`` keeps only aggregates, so the out-of-sample signal is *replayed*: the selected
model is fitted on every walk-forward training window with the same folds and seeds as
:func:`cripto_pipeline.training.evaluate`, and the replay's per-fold accuracy is checked against the
stored one (a mismatch is shown in the report, never hidden).

matplotlib is imported inside :func:`render_plots` only: the Lambda functions never import this
module, and the Glue job gets matplotlib through ``--additional-python-modules`` (terraform/glue.tf).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from . import costs, layout
from .pipeline import ObjectToWrite, Outcome, model_from_bytes, parquet_to_frame

HTML_TYPE = "text/html; charset=utf-8"
#: Trading fee per position change (an entry or an exit), as a fraction of the traded value: 0.10 %,
#: a typical spot taker fee on large exchanges (retail tiers are often higher; slippage and spread
#: come on top and are not modelled).
FEE_RATE = 0.001
TRIGGER_SECONDS_ESTIMATE = costs.TRIGGER_BILLED_SECONDS
#: At most this many features in the importance chart and gaps in the coverage table.
TOP_FEATURES = 15
TOP_GAPS = 10
#: A step between two bars longer than this many times the usual step is a gap.
GAP_FACTOR = 1.5
REPLAY_TOLERANCE = 1e-9
#: Shuffles per feature for permutation importance (models without built-in importances).
PERMUTATION_REPEATS = 3
FIGURE_DPI = 100
#: Points per curve drawn (hourly data has tens of thousands; drawing them all took seconds in Glue).
MAX_PLOT_POINTS = 1000
#: Rows of the last test fold used for permutation importance (its cost grows with rows x features).
PERMUTATION_MAX_ROWS = 2000


# --- inputs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostInputs:
    """What the job measured or was told about the resources its run used."""

    glue_dpu: Optional[float]
    glue_seconds: float
    #: (memory MB, seconds) of the feature Lambda: seconds bounded by upload -> features written.
    feature_lambda: Optional[Tuple[float, float]] = None
    trigger_lambda_memory_mb: Optional[float] = None
    #: Key -> bytes of the objects under the run's features/ and models/ prefixes.
    run_objects: Mapping[str, int] = field(default_factory=dict)

    @property
    def stored_bytes(self) -> int:
        return costs.stored_bytes(self.run_objects)

    def usage(self) -> costs.RunUsage:
        return costs.run_usage(self.glue_dpu, self.glue_seconds, self.run_objects, self.feature_lambda,
                               self.trigger_lambda_memory_mb)


@dataclass(frozen=True)
class JobResources:
    """What the Glue job knows about the resources of its run (job arguments set by Terraform)."""

    glue_dpu: Optional[float] = None
    feature_lambda_memory_mb: Optional[float] = None
    trigger_lambda_memory_mb: Optional[float] = None

    def cost_inputs(
        self,
        glue_seconds: float,
        manifest: Dict[str, Any],
        features_written_at: Optional[datetime],
        run_objects: Mapping[str, int],
    ) -> CostInputs:
        """CostInputs with the feature Lambda's duration bounded by upload event -> features object written."""
        event_time = (manifest.get("raw") or {}).get("event_time")
        uploaded = pd.Timestamp(event_time).to_pydatetime() if event_time else None
        seconds = costs.feature_lambda_seconds(uploaded, features_written_at)
        return CostInputs(
            glue_dpu=self.glue_dpu,
            glue_seconds=glue_seconds,
            feature_lambda=(self.feature_lambda_memory_mb, seconds)
            if self.feature_lambda_memory_mb and seconds is not None
            else None,
            trigger_lambda_memory_mb=self.trigger_lambda_memory_mb,
            run_objects=run_objects,
        )


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
    notes: List[str] = field(default_factory=list)


@dataclass
class Coverage:
    """Rows per period and per symbol, and the gaps between consecutive bars."""

    period: str  # pandas offset alias of the counting period (e.g. "D", "M")
    rows_per_period: pd.DataFrame  # index: period start, columns: symbols
    symbols: List[Dict[str, Any]]  # symbol, rows, first, last, step, gaps (count), missing_bars
    gaps: List[Dict[str, Any]]  # symbol, after, before, missing_bars (largest first)


# --- computations ----------------------------------------------------------------------------------


def replay_out_of_sample(
    features: pd.DataFrame, columns: Sequence[str], model_name: str, walk_forward: Dict[str, Any]
) -> Tuple[pd.DataFrame, Any, pd.DataFrame]:
    """Out-of-sample predictions of ``model_name`` on every walk-forward test fold.

    Returns the predictions, the model fitted on the last training window and that window's test rows
    (for permutation importance).
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from . import training

    settings = training.WalkForwardSettings(
        n_folds=int(walk_forward["n_folds"]),
        gap=int(walk_forward["gap"]),
        horizon=int(walk_forward["horizon"]),
    )
    labelled = training.add_target(features, settings.horizon)
    template = training.model_candidates()[model_name]
    parts, model, test = [], None, labelled.iloc[:0]
    with threadpool_limits(limits=1):  # as training does: one thread is faster on small hosts
        for number, (train_rows, test_rows) in enumerate(
            training.walk_forward_splits(labelled["timestamp"], settings)
        ):
            train, test = labelled.iloc[train_rows], labelled.iloc[test_rows]
            model = clone(template)
            model.fit(train[list(columns)].to_numpy(), train[training.TARGET_COLUMN].to_numpy())
            score = model.predict_proba(test[list(columns)].to_numpy())[:, 1]
            parts.append(
                pd.DataFrame(
                    {
                        "timestamp": test["timestamp"].to_numpy(),
                        "symbol": test["symbol"].to_numpy(),
                        "fold": number,
                        "y_true": test[training.TARGET_COLUMN].to_numpy(),
                        "y_pred": (score > 0.5).astype("int64"),
                        "score": score,
                        "next_log_return": test[training.NEXT_RETURN_COLUMN].to_numpy(),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True), model, test


def equity_curves(predictions: pd.DataFrame, fee_rate: float = FEE_RATE) -> pd.DataFrame:
    """Growth of 1 unit: the model's long/flat signal (gross and net of fees) and buy-and-hold (net).

    The signal at bar t holds the symbol from t to t+1 (the target's horizon). A fee of ``fee_rate``
    is paid on every position change (flat before the first test bar); buy-and-hold pays it once, on
    entry. Symbols are equally weighted, as in the training metrics. Open positions are marked to
    market at the end (no exit fee).
    """
    ordered = predictions.sort_values(["symbol", "timestamp"], kind="mergesort")
    position = ordered["y_pred"].astype("float64")
    previous = position.groupby(ordered["symbol"], sort=False).shift(1).fillna(0.0)
    fee = math.log1p(-fee_rate)
    gross = position * ordered["next_log_return"]
    first_bar = ~ordered["symbol"].duplicated()
    frame = pd.DataFrame(
        {
            "timestamp": ordered["timestamp"],
            "model_gross": gross,
            "model_net": gross + (position - previous).abs() * fee,
            "buy_and_hold_net": ordered["next_log_return"] + first_bar.astype("float64") * fee,
        }
    )
    per_time = frame.groupby("timestamp", sort=True).mean()
    return np.exp(per_time.cumsum())


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

        from .training import TARGET_COLUMN

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
    """Rows per period (day for intraday data, month for daily data) and gaps, per symbol."""
    times = features["timestamp"]
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    frame = pd.DataFrame({"timestamp": times, "symbol": features["symbol"].astype(str)})
    frame = frame.sort_values(["symbol", "timestamp"], kind="mergesort")
    steps = frame.groupby("symbol", sort=False)["timestamp"].diff()
    usual = steps.dropna().median() if steps.notna().any() else pd.Timedelta(0)
    period = "D" if pd.Timedelta(0) < usual < pd.Timedelta(days=1) else "M"
    counts = frame.groupby([frame["timestamp"].dt.to_period(period), "symbol"]).size().unstack(fill_value=0)
    counts.index = counts.index.to_timestamp()
    symbols, gaps = [], []
    for symbol, group in frame.groupby("symbol", sort=True):
        diffs = group["timestamp"].diff()
        step = diffs.median() if diffs.notna().any() else pd.Timedelta(0)
        holes = diffs[diffs > step * GAP_FACTOR] if step > pd.Timedelta(0) else diffs.iloc[:0]
        missing, previous = 0, group["timestamp"].shift(1)
        for position, delta in holes.items():
            bars = int(round(delta / step)) - 1
            missing += bars
            gaps.append(
                {
                    "symbol": symbol,
                    "after": previous.loc[position],
                    "before": group["timestamp"].loc[position],
                    "missing_bars": bars,
                }
            )
        symbols.append(
            {
                "symbol": symbol,
                "rows": int(len(group)),
                "first": group["timestamp"].iloc[0],
                "last": group["timestamp"].iloc[-1],
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
    """Gather the report's numbers from a training outcome and the run's inputs (no AWS calls)."""
    written = {obj.key: obj for obj in outcome.writes}
    keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
    metrics = json.loads(written[keys.metrics].body)
    lineage = json.loads(written[keys.lineage].body)
    columns = json.loads(written[keys.feature_list].body)
    model = model_from_bytes(written[keys.model].body)
    features = parquet_to_frame(parquet)
    best = metrics["best_model"]
    predictions, last_model, last_test = replay_out_of_sample(
        features, columns, best, metrics["walk_forward"]
    )
    notes = []
    stored = [fold["results"][best]["accuracy"] for fold in metrics["folds"]]
    replayed = [float((part["y_true"] == part["y_pred"]).mean()) for _, part in predictions.groupby("fold")]
    if len(stored) != len(replayed) or any(abs(a - b) > REPLAY_TOLERANCE for a, b in zip(stored, replayed)):
        notes.append(
            f"The replayed signal's per-fold accuracy {[round(v, 4) for v in replayed]} differs from "
            f"metrics.json {[round(v, 4) for v in stored]}: curves below may not match the metrics."
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(final, "feature_importances_") or hasattr(final, "coef_"):
        kind, importances = feature_importances(model, columns)
    else:  # no built-in importances: permutation importance, measured out of sample on the last fold
        kind, importances = feature_importances(last_model, columns, last_test)
    return ReportData(
        metrics=metrics,
        lineage=lineage,
        manifest=manifest,
        predictions=predictions,
        equity=equity_curves(predictions),
        confusion=confusion_matrix(predictions),
        importance_kind=kind,
        importances=importances,
        coverage=data_coverage(features),
        cost=costs.run_cost(cost_inputs.usage()),
        cost_inputs=cost_inputs,
        notes=notes,
    )


# --- plots -----------------------------------------------------------------------------------------


def render_plots(data: ReportData) -> Dict[str, bytes]:
    """PNG bytes per plot name (``folds``, ``equity``, ``confusion``, ``importance``, ``coverage``)."""
    import matplotlib

    matplotlib.use("Agg")  # no display in Glue (and none wanted elsewhere)
    from matplotlib.figure import Figure  # Figure objects, not pyplot: no global state between runs

    plots = {}
    for name, draw in (
        ("folds", _plot_folds),
        ("equity", _plot_equity),
        ("confusion", _plot_confusion),
        ("importance", _plot_importance),
        ("coverage", _plot_coverage),
    ):
        figure = Figure(figsize=(8.0, 3.8), dpi=FIGURE_DPI, layout="constrained")
        draw(figure, data)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plots[name] = buffer.getvalue()
    return plots


def _plot_folds(figure: Any, data: ReportData) -> None:
    metrics, axes = data.metrics, figure.subplots()
    folds = metrics["folds"]
    names = list(folds[0]["results"])
    width = 0.8 / max(1, len(names))
    every = [fold["results"][name]["accuracy"] for fold in folds for name in names]
    for index, name in enumerate(names):
        values = [fold["results"][name]["accuracy"] for fold in folds]
        hatch = "//" if name in metrics.get("baselines", []) else None
        edge = "black" if name == metrics["best_model"] else None
        axes.bar(
            np.arange(len(folds)) + index * width, values, width, label=name, hatch=hatch, edgecolor=edge
        )
    axes.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    axes.set_xticks(np.arange(len(folds)) + width * (len(names) - 1) / 2)
    axes.set_xticklabels([f"fold {f['fold']}\n{str(f['test_start'])[:10]}" for f in folds], fontsize=8)
    axes.set_ylabel("accuracy")
    axes.set_ylim(min(0.3, min(every) - 0.05), max(0.75, max(every) + 0.05))  # same scale across runs
    axes.set_title("Walk-forward accuracy per test fold (hatched: baselines)")
    axes.legend(fontsize=7, ncol=3, loc="upper left")


def _plot_equity(figure: Any, data: ReportData) -> None:
    axes, equity = figure.subplots(), data.equity
    step = max(1, len(equity) // MAX_PLOT_POINTS)  # 800 px wide: more points only cost drawing time
    equity = equity.iloc[::step] if step == 1 else pd.concat([equity.iloc[::step], equity.iloc[-1:]])
    best = data.metrics["best_model"]
    axes.plot(equity.index, equity["model_net"], label=f"{best} signal, net of {FEE_RATE:.2%} fees")
    axes.plot(equity.index, equity["model_gross"], label=f"{best} signal, no fees", linestyle=":", alpha=0.8)
    axes.plot(equity.index, equity["buy_and_hold_net"], label="buy and hold (one entry fee)", color="grey")
    axes.axhline(1.0, color="black", linewidth=0.6)
    axes.set_yscale("log")  # crypto prices move by orders of magnitude within a few folds
    axes.set_ylabel("growth of 1 (log scale)")
    axes.set_title("Out-of-sample equity over the test folds (long/flat, equal weight across symbols)")
    axes.legend(fontsize=8)


def _plot_confusion(figure: Any, data: ReportData) -> None:
    axes, matrix = figure.subplots(), data.confusion
    axes.imshow(matrix, cmap="Blues")
    total = max(1, int(matrix.sum()))
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        axes.text(column, row, f"{count}\n{count / total:.1%}", ha="center", va="center", color=colour)
    axes.set_xticks([0, 1])
    axes.set_xticklabels(["predicted down/flat", "predicted up"])
    axes.set_yticks([0, 1])
    axes.set_yticklabels(["actual down/flat", "actual up"])
    axes.set_title(f"Confusion matrix of {data.metrics['best_model']}, all test folds")


def _plot_importance(figure: Any, data: ReportData) -> None:
    axes = figure.subplots()
    top = data.importances.head(TOP_FEATURES)[::-1]
    if top.empty:
        axes.text(0.5, 0.5, data.importance_kind, ha="center", va="center")
        axes.set_axis_off()
        return
    axes.barh(top.index, top.to_numpy(), color=["tab:red" if v < 0 else "tab:blue" for v in top.to_numpy()])
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(f"Feature importance: {data.importance_kind}", fontsize=9)


def _plot_coverage(figure: Any, data: ReportData) -> None:
    axes, counts = figure.subplots(), data.coverage.rows_per_period
    for symbol in counts.columns:
        axes.step(counts.index, counts[symbol], where="post", label=str(symbol))
    unit = "day" if data.coverage.period == "D" else "month"
    axes.set_ylabel(f"feature rows per {unit}")
    axes.set_ylim(bottom=0)
    axes.set_title(f"Data coverage ({sum(s['gaps'] for s in data.coverage.symbols)} gap(s) between bars)")
    axes.legend(fontsize=8)


# --- HTML ------------------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}img{max-width:100%}.note{background:#fff6d5;
padding:.5em}.best{font-weight:bold}code{font-size:.9em}h2{border-bottom:1px solid #ddd;margin-top:1.6em}"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _img(plots: Dict[str, bytes], name: str, alt: str) -> str:
    encoded = base64.b64encode(plots[name]).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{encoded}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"l" if i < left else ""}">{cell}</td>' for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _flatten(document: Any, prefix: str = "") -> List[Tuple[str, Any]]:
    if isinstance(document, dict):
        return [item for key, value in document.items() for item in _flatten(value, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), document)]


def render_html(data: ReportData, plots: Dict[str, bytes]) -> str:
    """The report page; every value is HTML-escaped."""
    metrics, best = data.metrics, data.metrics["best_model"]
    comparison = metrics.get("comparison", {})
    summary = metrics.get("summary", {})
    verdict = "beats" if comparison.get("beats_all_baselines") else "does <b>not</b> beat"
    names = [n for n in summary if n != "buy_and_hold"]
    summary_rows = [
        [
            f'<span class="{"best" if n == best else ""}">{_e(n)}</span>',
            _pct(summary[n].get("accuracy_mean")),
            _pct(summary[n].get("balanced_accuracy_mean")),
            _pct(summary[n].get("roc_auc_mean")),
            _pct(summary[n].get("strategy_return")),
        ]
        for n in names
    ]
    summary_rows.append(["buy_and_hold", "", "", "", _pct(summary.get("buy_and_hold", {}).get("return"))])
    fold_rows = [
        [
            _e(f["fold"]),
            _e(str(f["test_start"])[:10]),
            _e(str(f["test_end"])[:10]),
            _e(f["train_rows"]),
            _e(f["test_rows"]),
            _pct(f["test_up_share"]),
        ]
        + [_pct(f["results"][n]["accuracy"]) for n in names]
        + [_pct(f["buy_and_hold_return"])]
        for f in metrics["folds"]
    ]
    equity_end = data.equity.iloc[-1] if len(data.equity) else None
    tn, fp, fn, tp = (int(v) for v in data.confusion.ravel())
    coverage = data.coverage
    coverage_rows = [
        [
            _e(s["symbol"]),
            _e(f"{s['rows']:,}"),
            _e(s["first"]),
            _e(s["last"]),
            _e(s["step"]),
            _e(s["gaps"]),
            _e(s["missing_bars"]),
        ]
        for s in coverage.symbols
    ]
    gap_rows = [
        [_e(g["symbol"]), _e(g["after"]), _e(g["before"]), _e(g["missing_bars"])]
        for g in coverage.gaps[:TOP_GAPS]
    ]
    inputs = data.cost_inputs
    cost_rows = [[_e(name.replace("_", " ")), f"{value:.6f}"] for name, value in data.cost.items()]
    lambda_note = (
        f"feature Lambda {inputs.feature_lambda[0]:.0f} MB × {inputs.feature_lambda[1]:.2f} s (upload → "
        f"features written, an upper bound)"
        if inputs.feature_lambda
        else "feature Lambda not measured here (see <code>cripto status</code>)"
    )
    warnings = data.manifest.get("warnings") or []
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Run {_e(metrics.get('run_id'))} of {_e(metrics.get('dataset'))}</title><style>{_CSS}</style></head><body>",
        f"<h1>Training run <code>{_e(metrics.get('run_id'))}</code> of dataset <code>{_e(metrics.get('dataset'))}</code></h1>",
        f"<p>Generated {generated}. Selected model: <b>{_e(best)}</b> (highest mean walk-forward "
        f"{_e(metrics.get('selection_metric'))}); it {verdict} every baseline. Target: {_e(metrics.get('target'))}.</p>",
        "".join(f'<p class="note">{_e(n)}</p>' for n in data.notes),
        "<h2>Walk-forward evaluation vs baselines</h2>",
        f"<p>{_e(metrics['walk_forward'].get('n_folds'))} expanding-window folds split on "
        f"{_e(metrics['walk_forward'].get('split_on'))}, gap {_e(metrics['walk_forward'].get('gap'))}.</p>",
        _table(
            ["model / baseline", "accuracy", "balanced acc.", "ROC AUC", "strategy return (no fees)"],
            summary_rows,
        ),
        _img(plots, "folds", "accuracy per fold"),
        _table(
            ["fold", "test from", "test to", "train rows", "test rows", "up share"] + names + ["buy & hold"],
            fold_rows,
            left=3,
        ),
        "<h2>Equity of the signal vs buy-and-hold</h2>",
        f"<p>Fee assumption: <b>{FEE_RATE:.2%} of the traded value per position change</b> (entry or exit); "
        "buy-and-hold pays it once. No spread or slippage; open positions are marked to market at the end. "
        f"Strategy: {_e(metrics.get('strategy'))}.</p>",
        _img(plots, "equity", "equity curves"),
        ""
        if equity_end is None
        else _table(
            ["curve", "final growth of 1"],
            [
                [f"{_e(best)} net of fees", f"{equity_end['model_net']:.3f}"],
                [f"{_e(best)} without fees", f"{equity_end['model_gross']:.3f}"],
                ["buy and hold, net", f"{equity_end['buy_and_hold_net']:.3f}"],
            ],
        ),
        "<h2>Confusion matrix</h2>",
        _img(plots, "confusion", "confusion matrix"),
        f"<p>{tp + fp} bars predicted up ({tp} right), {tn + fn} predicted down/flat ({tn} right), "
        f"over {tn + fp + fn + tp} out-of-sample bars.</p>",
        "<h2>Feature importance</h2>",
        f"<p>{_e(data.importance_kind)}, of the model refit on all rows unless stated otherwise.</p>",
        _img(plots, "importance", "feature importance"),
        "<h2>Data coverage</h2>",
        _img(plots, "coverage", "rows per period"),
        _table(
            ["symbol", "feature rows", "first", "last", "usual step", "gaps", "missing bars"], coverage_rows
        ),
        _table(["symbol", "gap after", "next bar", "missing bars"], gap_rows)
        if gap_rows
        else "<p>No gaps.</p>",
        "<p>Input warnings (repaired automatically): "
        + (_e("; ".join(map(str, warnings))) or "none")
        + "</p>",
        "<h2>Lineage</h2>",
        _table(["field", "value"], [[_e(k), _e(v)] for k, v in _flatten(data.lineage)]),
        "<h2>Estimated AWS cost of this run</h2>",
        f"<p>us-east-1 on-demand prices (<code>cripto_pipeline.costs</code>), free tiers ignored. Glue: "
        f"{_e(inputs.glue_dpu)} DPU × {inputs.glue_seconds:.1f} s measured in the job (Python shell bills at least "
        f"1 minute); {lambda_note}; trigger Lambda {TRIGGER_SECONDS_ESTIMATE} s assumed; S3 requests of one run and "
        f"{inputs.stored_bytes:,} bytes stored for a month.</p>",
        _table(["component", "USD"], cost_rows),
        "</body></html>",
    ]
    return "\n".join(parts)


def build_report(
    outcome: Outcome, manifest: Dict[str, Any], parquet: bytes, cost_inputs: CostInputs
) -> ObjectToWrite:
    """``models/<dataset>/<run_id>/report.html`` for a training outcome (needs matplotlib)."""
    data = build_report_data(outcome, manifest, parquet, cost_inputs)
    page = render_html(data, render_plots(data))
    keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
    return ObjectToWrite(keys.report, page.encode("utf-8"), HTML_TYPE)
