"""The report's HTML: one self-contained page (plots embedded as base64 PNGs, no scripts, no
external files), every value HTML-escaped.

The headline states the two comparisons of ``metrics.json["comparison"]`` separately — as a
classifier vs the baselines, and as a trading signal net of fees vs buy-and-hold — and calls the
run a win only when it wins both without losing money. Older metrics.json files without those keys
show "n/a".
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..routing import training_rows
from ..strategy import FEE_RATE
from .analysis import ReportData
from .usage import TRIGGER_SECONDS_ESTIMATE, CostInputs

#: At most this many gaps in the coverage table.
TOP_GAPS = 10

_CSS = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}img{max-width:100%}.verdict{background:#f3f3f3;
padding:.5em}.best{font-weight:bold}code{font-size:.9em}h2{border-bottom:1px solid #ddd;margin-top:1.6em}"""


def spark_note(inputs: CostInputs) -> str:
    """What the Spark feature job's line is priced from ('' for features built by the Lambda)."""
    if inputs.spark_unknown:
        return f" Spark feature job: not priced ({_e(inputs.spark_unknown)}); see <code>cripto status</code>."
    return "".join(
        f" Spark feature job: {dpu:g} DPU × {seconds:.1f} s (run start → manifest, recorded by the job before "
        f"its run ended; Glue bills at least 1 minute; <code>cripto status</code> shows Glue's final time)."
        for dpu, seconds in inputs.spark_runs
    )


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _growth(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


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


def _outcome(flag: Optional[bool], yes: str, no: str) -> str:
    return "n/a" if flag is None else yes if flag else no


def headline(comparison: Dict[str, Any]) -> str:
    """The verdict paragraph (HTML): the classification and the net-of-fees comparison, then the overall call."""
    c = comparison
    net, fee_rate = c.get("strategy_net_return"), c.get("fee_rate")
    classification = _outcome(
        c.get("beats_baselines_classification"), "it beats the baselines", "it does <b>not</b> beat the baselines"
    )
    trading = _outcome(c.get("beats_buy_and_hold_net_of_fees"), "it beats buy-and-hold", "it <b>loses</b> to buy-and-hold")
    fees = "n/a" if fee_rate is None else f"{100 * fee_rate:.2f} %"
    loses_money = net is not None and net < 1.0
    if c.get("beats_all_baselines") is None or net is None:
        overall = "Overall: n/a (metrics.json predates the net-of-fees comparison)."
    elif c["beats_all_baselines"] and not loses_money:
        overall = "Overall: it beats every baseline, as a classifier and net of fees."
    else:
        overall = "Overall: <b>not a win</b>" + (": its signal loses money net of fees." if loses_money else ".")
    return (
        f'<p class="verdict">Classification: {classification} (accuracy '
        f"{_pct(c.get('model_accuracy_mean'))} vs {_pct(c.get('best_baseline_accuracy_mean'))}, balanced accuracy "
        f"{_pct(c.get('model_balanced_accuracy_mean'))} vs {_pct(c.get('best_baseline_balanced_accuracy_mean'))}). "
        f"Net of {fees} fees: its signal turns 1 into {_growth(net)}, buy-and-hold into "
        f"{_growth(c.get('buy_and_hold_net_return'))}: {trading}. {overall}</p>"
    )


def render_html(data: ReportData, plots: Dict[str, bytes]) -> str:
    """The report page; every value is HTML-escaped."""
    metrics, best = data.metrics, data.metrics["best_model"]
    summary = metrics.get("summary", {})
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
        f"{'inputs.json' if inputs.spark_runs or inputs.spark_unknown else 'features'} written, an upper bound)"
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
        f"{_e(metrics.get('selection_metric'))}). Target: {_e(metrics.get('target'))}.</p>",
        headline(metrics.get("comparison", {})),
        training_rows_line(data.manifest),
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
        f"{inputs.stored_bytes:,} bytes stored for a month.{spark_note(inputs)}</p>",
        _table(["component", "USD"], cost_rows),
        "</body></html>",
    ]
    return "\n".join(parts)


def training_rows_line(manifest: Dict[str, Any]) -> str:
    """Which engine built the features and on how many of their rows training ran (from the manifest)."""
    rows = training_rows(manifest)
    engine = "the Glue Spark feature job" if rows["engine"] == "spark" else "the feature Lambda (pandas)"
    total, used = rows["rows_total"], rows["rows_sampled"]
    method = (rows["sample"] or {}).get("method", "all rows")
    if used is None or total is None:
        share = "every row of the features file"
    else:
        share = f"all {used:,} rows" if used == total else f"{used:,} of {total:,} rows ({_e(method)} sample)"
    return f"<p>Features built by {engine}; training ran on {share}.</p>"
