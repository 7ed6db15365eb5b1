"""The report's plots: PNG bytes drawn from :class:`~cripto_pipeline.report.analysis.ReportData`.

matplotlib is imported inside :func:`render_plots` only: the Lambda functions never import it, and
the Glue job gets it through ``--additional-python-modules`` (terraform/glue.tf). Figure objects,
not pyplot: no global state carries over between runs in one process.
"""

from __future__ import annotations

import io
from typing import Any, Dict, Sequence

import numpy as np
import pandas as pd

from ..strategy import FEE_RATE
from .analysis import ReportData

FIGURE_DPI = 100
#: Figure margins as fractions of the 800 x 380 px figure: room for tick labels, titles and axis labels.
MARGINS = {"left": 0.08, "right": 0.98, "bottom": 0.12, "top": 0.91}
#: Two-line fold labels below the folds plot; feature names left of the importance bars.
WIDER_MARGINS = {"folds": {"bottom": 0.16}, "importance": {"left": 0.2}}
#: At most this many features in the importance chart.
TOP_FEATURES = 15
#: Points per curve drawn (hourly data has tens of thousands; drawing them all took seconds in Glue).
MAX_PLOT_POINTS = 1000


def render_plots(data: ReportData) -> Dict[str, bytes]:
    """PNG bytes per plot name (``folds``, ``equity``, ``confusion``, ``importance``, ``coverage``)."""
    import matplotlib

    matplotlib.use("Agg")  # no display in Glue (and none wanted elsewhere)
    from matplotlib.figure import Figure

    plots = {}
    for name, draw in (
        ("folds", plot_folds),
        ("equity", plot_equity),
        ("confusion", plot_confusion),
        ("importance", plot_importance),
        ("coverage", plot_coverage),
    ):
        # Fixed margins (MARGINS, wider where the labels are) rather than layout="constrained": the
        # constrained layout draws every figure twice, a third of the plots' time.
        figure = Figure(figsize=(8.0, 3.8), dpi=FIGURE_DPI)
        figure.subplots_adjust(**{**MARGINS, **WIDER_MARGINS.get(name, {})})
        draw(figure, data)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plots[name] = buffer.getvalue()
    return plots


def plot_folds(figure: Any, data: ReportData) -> None:
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


def plot_equity(figure: Any, data: ReportData) -> None:
    axes, equity = figure.subplots(), data.equity
    step = max(1, len(equity) // MAX_PLOT_POINTS)  # 800 px wide: more points only cost drawing time
    equity = equity.iloc[::step] if step == 1 else pd.concat([equity.iloc[::step], equity.iloc[-1:]])
    times = equity.index
    if getattr(times, "tz", None) is not None:  # naive UTC: tz-aware dates go through a slow conversion
        times = times.tz_convert("UTC").tz_localize(None)
    best = data.metrics["best_model"]
    axes.plot(times, equity["model_net"], label=f"{best} signal, net of {FEE_RATE:.2%} fees")
    axes.plot(times, equity["model_gross"], label=f"{best} signal, no fees", linestyle=":", alpha=0.8)
    axes.plot(times, equity["buy_and_hold_net"], label="buy and hold (one entry fee)", color="grey")
    axes.set_xlabel("UTC")
    axes.axhline(1.0, color="black", linewidth=0.6)
    axes.set_yscale("log")  # crypto prices move by orders of magnitude within a few folds
    # Plain numbers ("0.5", "10") instead of the default 10^x labels: those go through mathtext,
    # whose parser set-up alone costs more than drawing the rest of the plot.
    axes.yaxis.set_major_formatter(_plain_numbers())
    axes.yaxis.set_minor_formatter(_plain_numbers(leading_digits="25"))
    axes.set_ylabel("growth of 1 (log scale)")
    axes.set_title("Out-of-sample equity over the test folds (long/flat, equal weight across symbols)")
    axes.legend(fontsize=8)


def plot_confusion(figure: Any, data: ReportData) -> None:
    axes, matrix = figure.subplots(), data.confusion
    image = axes.imshow(matrix, cmap="Blues")
    total = max(1, int(matrix.sum()))
    for (row, column), count in np.ndenumerate(matrix):
        # The cell's own colour decides: imshow spreads the colour map from the smallest count to the
        # largest, so "more than half the largest count" can still be a nearly white cell.
        colour = text_colour_on(image.cmap(image.norm(count)))
        axes.text(column, row, f"{count}\n{count / total:.1%}", ha="center", va="center", color=colour)
    axes.set_xticks([0, 1])
    axes.set_xticklabels(["predicted down/flat", "predicted up"])
    axes.set_yticks([0, 1])
    axes.set_yticklabels(["actual down/flat", "actual up"])
    axes.set_title(f"Confusion matrix of {data.metrics['best_model']}, all test folds")


def plot_importance(figure: Any, data: ReportData) -> None:
    axes = figure.subplots()
    top = data.importances.head(TOP_FEATURES)[::-1]
    if top.empty:
        axes.text(0.5, 0.5, data.importance_kind, ha="center", va="center")
        axes.set_axis_off()
        return
    axes.barh(top.index, top.to_numpy(), color=["tab:red" if v < 0 else "tab:blue" for v in top.to_numpy()])
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(f"Feature importance: {data.importance_kind}", fontsize=9)


def plot_coverage(figure: Any, data: ReportData) -> None:
    axes, counts = figure.subplots(), data.coverage.rows_per_period
    for symbol in counts.columns:
        axes.step(counts.index, counts[symbol], where="post", label=str(symbol))
    unit = "day" if data.coverage.period == "D" else "month"
    axes.set_ylabel(f"feature rows per {unit}")
    axes.set_ylim(bottom=0)
    axes.set_title(f"Data coverage ({sum(s['gaps'] for s in data.coverage.symbols)} gap(s) between bars)")
    axes.legend(fontsize=8)


def _plain_numbers(leading_digits: str = "123456789") -> Any:
    """Tick labels like "0.05" or "20", only for ticks whose leading digit is in ``leading_digits``."""
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _position: Any) -> str:
        text = f"{value:g}"
        return text if text.lstrip("0.")[:1] in leading_digits else ""

    return FuncFormatter(label)


def text_colour_on(background: Sequence[float]) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with ``background`` (RGB(A), 0..1)."""
    luminance = _relative_luminance(background)
    # WCAG contrast ratios (L1 + 0.05) / (L2 + 0.05) against black (L = 0) and white (L = 1).
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def _relative_luminance(rgb: Sequence[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour with channels in 0..1."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
