"""What `cripto status` prints: a compact list that fits 80 columns, a wide table, one run in detail, JSON.

Nothing here calls AWS: runs come in as :class:`RunStatus`, costs as ``{run_id: USD per component or None}``
(:func:`cripto_ops.usage.run_cost`).

JSON (``--format json``), schema version :data:`SCHEMA_VERSION`; fields are only ever added::

    {"schema_version": 1,
     "runs": [{"dataset", "run_id", "state", "is_latest", "raw_key", "raw_version_id", "feature_rows",
               "engine" (pandas | spark), "training_rows", "training_sample" (e.g. all rows, time-stratified),
               "spark_run_id", "spark_state" (the Spark feature job's run that builds or built the features),
               "spark_dpu", "spark_execution_s" (Glue's ExecutionTime, once that run is final),
               "spark_recorded_s" (run start -> manifest, as the Spark job recorded it; priced until then),
               "glue_run_id", "glue_state", "error", "duplicate_of", "artifacts_prefix", "report_key",
               "durations_s": {"features", "trigger", "waiting", "training", "total", "report"},
               "best_model", "comparison": metrics.json's comparison as written (model_accuracy_mean,
               best_baseline_accuracy_mean, beats_all_baselines; newer runs also
               beats_baselines_classification, strategy_net_return, buy_and_hold_net_return, fee_rate,
               beats_buy_and_hold_net_of_fees, verdict), "glue_execution_s", "glue_max_capacity", "cost_usd",
               "cost_usd_by_component": {"lambda_compute", "lambda_requests", "glue", "glue_spark",
                                         "s3_requests", "s3_storage_month", "total"}}, ...],
     "alarms": [{"name", "state", "reason", "since", "description"}, ...]}

Times are seconds (stages as defined in :mod:`cripto_ops.stages`), accuracies and returns fractions
(0.543, not 54.3), ``cost_usd`` US dollars; a value that is not known (yet) is ``null``.
"""
from __future__ import annotations

import textwrap
from typing import Any, Dict, List, Optional, Sequence

from rich.markup import escape
from rich.table import Table

from cripto_ops.render import pct
from cripto_ops.runs import RunStatus
from cripto_ops.stages import REPORT_STAGE, STAGES, TOTAL

SCHEMA_VERSION = 1
#: RunStatus fields kept out of the JSON: the inputs of the cost, which is there.
_JSON_OMITS = ("objects", "feature_lambda_s")
_STATE_STYLE = {"SUCCEEDED": "green", "REJECTED": "red", "FAILED": "red", "TIMEOUT": "red", "ERROR": "red",
                "STOPPED": "yellow", "TRAINING": "cyan", "FEATURES": "cyan"}
_COMPACT_HEADER = ("dataset", "run", "state", "total s")


def as_json(runs: Sequence[RunStatus], costs: Dict[str, Optional[Dict[str, float]]],
            alarms: Sequence[Any]) -> Dict[str, Any]:
    """The ``--format json`` document (see the module docstring); ``costs``: run id -> USD per component."""
    entries = []
    for run in runs:
        entry = {key: value for key, value in run.as_dict().items() if key not in _JSON_OMITS}
        cost = costs.get(run.run_id)
        entry["cost_usd"], entry["cost_usd_by_component"] = (cost["total"], cost) if cost else (None, None)
        entries.append(entry)
    return {"schema_version": SCHEMA_VERSION, "runs": entries, "alarms": [alarm.as_dict() for alarm in alarms]}


def comparison_parts(run: RunStatus) -> List[str]:
    """The model against the best baseline; then net of fees against buy-and-hold ("n/a" for older runs)."""
    comparison = run.comparison or {}
    if comparison.get("model_accuracy_mean") is None:
        return []
    classification = comparison.get("beats_baselines_classification")
    if classification is None:  # metrics.json written before the net-of-fees verdict
        classification = comparison.get("beats_all_baselines")
    parts = [f"{run.best_model}: {pct(comparison['model_accuracy_mean'])} vs "
             f"{pct(comparison.get('best_baseline_accuracy_mean'))} best baseline ({_beats(classification)})"]
    strategy, buy_and_hold = comparison.get("strategy_net_return"), comparison.get("buy_and_hold_net_return")
    if strategy is None or buy_and_hold is None:
        return parts + ["net of fees: n/a"]
    fee = f" {100 * comparison['fee_rate']:.2f} %" if comparison.get("fee_rate") is not None else ""
    return parts + [f"net of{fee} fees: {strategy:.2f} vs {buy_and_hold:.2f} buy-and-hold "
                    f"({_beats(comparison.get('beats_buy_and_hold_net_of_fees'))})"]


def comparison_text(run: RunStatus) -> str:
    return "; ".join(comparison_parts(run))


def _beats(value: Optional[bool]) -> str:
    return "n/a" if value is None else ("beats" if value else "does not beat")


def _state(run: RunStatus) -> str:
    return run.state + (" (latest)" if run.is_latest else "")


def _seconds(run: RunStatus, stage: str) -> str:
    value = run.durations_s.get(stage)
    return "" if value is None else f"{value:.2f}"


def _note(run: RunStatus) -> str:
    """What the compact and wide views say under a run that is not a finished model (or lacks its report)."""
    if run.duplicate_of:
        return f"same content as run {run.duplicate_of}"
    if run.error:
        return run.error
    if run.state == "SUCCEEDED" and not run.report_key:
        return "no report: see `cripto logs training`"
    return ""


def compact_lines(runs: Sequence[RunStatus], width: int) -> List[str]:
    """One line per run (dataset, run, state, total), then its comparison or error indented below,
    wrapped at ``width``: readable at 80 columns and in a pipe. Rich markup, values escaped."""
    rows = [(run.dataset, run.run_id, _state(run), _seconds(run, TOTAL)) for run in runs]
    widths = [max(len(row[i]) for row in rows + [_COMPACT_HEADER]) for i in range(len(_COMPACT_HEADER))]
    lines = [_compact_row(_COMPACT_HEADER, widths, bold=True)]
    for run, row in zip(runs, rows):
        style = _STATE_STYLE.get(run.state)
        lines.append(_compact_row(row, widths, state_style=style))
        for detail in comparison_parts(run) + [training_rows_text(run), _note(run)]:
            for part in textwrap.wrap(detail, width=max(20, width - 4), break_on_hyphens=False):
                lines.append("    " + escape(part))
    return lines


def _compact_row(values: Sequence[str], widths: Sequence[int], bold: bool = False,
                 state_style: Optional[str] = None) -> str:
    cells = [value.ljust(width) for value, width in zip(values, widths)]
    cells[-1] = values[-1].rjust(widths[-1])
    marked = [escape(cell) for cell in cells]
    if state_style:  # style the state only, not its padding
        marked[2] = f"[{state_style}]{escape(values[2])}[/]" + " " * (widths[2] - len(values[2]))
    line = "  ".join(marked).rstrip()
    return f"[bold]{line}[/]" if bold else line


def training_rows_text(run: RunStatus) -> str:
    """Which engine built the features and on how many rows training ran ('' before the manifest exists)."""
    if run.engine is None:
        return ""
    built = "Spark feature job" if run.engine == "spark" else "feature Lambda (pandas)"
    if run.training_rows is None:
        return f"features: {built}, " + (f"run {run.spark_run_id[:12]}… {run.spark_state}" if run.spark_run_id
                                         else "running")
    if run.training_rows == run.feature_rows:
        return f"features: {built}; trained on all {run.training_rows:,} rows"
    return (f"features: {built}; trained on {run.training_rows:,} of {run.feature_rows or 0:,} rows "
            f"({run.training_sample} sample)")


def rows_text(run: RunStatus) -> str:
    """Feature rows, and the rows training ran on when it used a sample of them."""
    if run.feature_rows is None:
        return ""
    if run.training_rows is None or run.training_rows == run.feature_rows:
        return f"{run.feature_rows:,}"
    return f"{run.feature_rows:,} ({run.training_rows:,} trained)"


def _usd(cost: Optional[Dict[str, float]], component: str) -> str:
    return "" if not cost or cost.get(component) is None else f"{cost[component]:.5f}"


def spark_usage_text(run: RunStatus) -> str:
    """The Spark feature job's DPUs x seconds and where the seconds come from ('' if not known)."""
    if run.spark_dpu is None:
        return ""
    if run.spark_execution_s is not None:
        return f"{run.spark_dpu:g} DPU x {run.spark_execution_s:.1f} s (Glue ExecutionTime)"
    if run.spark_recorded_s is not None:
        return f"{run.spark_dpu:g} DPU x {run.spark_recorded_s:.1f} s (recorded by the job; run not final)"
    return ""


def wide_table(runs: Sequence[RunStatus], costs: Dict[str, Optional[Dict[str, float]]]) -> Table:
    """Every column (raw object, rows, Glue run, each stage, the Spark feature job's cost, the run's cost,
    artifacts): wider than a terminal. ``costs``: run id -> USD per component (or None)."""
    stage_names = [stage for _, stage in STAGES]
    table = Table("dataset", "run", "state", "raw (version)", "rows", "engine", "glue run",
                  *[f"{stage} s" for stage in stage_names], "total s", "report s",
                  "model vs best baseline", "spark $", "cost $", "artifacts / error")
    for run in runs:
        style = _STATE_STYLE.get(run.state, "")
        state = f"[{style}]{_state(run)}[/]" if style else _state(run)
        cost = costs.get(run.run_id)
        spark = _usd(cost, "glue_spark") if run.engine == "spark" else ""
        where = _note(run) or (run.artifacts_prefix if run.state == "SUCCEEDED" else "")
        table.add_row(
            run.dataset, run.run_id, state, f"{run.raw_key or ''} ({(run.raw_version_id or '-')[:8]})",
            rows_text(run), run.engine or "", run.glue_run_id or "",
            *[_seconds(run, stage) for stage in stage_names], _seconds(run, TOTAL), _seconds(run, REPORT_STAGE),
            escape(comparison_text(run)), spark, _usd(cost, "total"), escape(where or ""),
        )
    return table


def detail_table(run: RunStatus, cost: Optional[Dict[str, float]]) -> Table:
    """One run, one field per line (fits 80 columns): everything the wide table has, and the cost breakdown."""
    table = Table(title=f"run {run.run_id} of dataset '{run.dataset}'", show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")  # a Glue run id is 67 characters: folded, never cut
    fields = [
        ("state", _state(run)), ("raw", f"{run.raw_key or ''} (version {run.raw_version_id or '-'})"),
        ("feature rows", "" if run.feature_rows is None else f"{run.feature_rows:,}"),
        ("features built by", {"pandas": "feature Lambda (pandas)", "spark": "Glue Spark feature job"}.get(
            run.engine or "", run.engine or "")),
        ("training rows", "" if run.training_rows is None else f"{run.training_rows:,} ({run.training_sample})"),
        ("spark run", run.spark_run_id or ""), ("spark state", run.spark_state or ""),
        ("spark usage", spark_usage_text(run)),
        ("glue run", run.glue_run_id or ""), ("glue state", run.glue_state or ""),
    ]
    fields += [(f"{stage} s", _seconds(run, stage)) for _, stage in STAGES if stage in run.durations_s]
    fields += [("total s (upload -> model)", _seconds(run, TOTAL)),
               ("report s (after the model)", _seconds(run, REPORT_STAGE)),
               ("model vs baselines", comparison_text(run)), ("verdict", (run.comparison or {}).get("verdict") or ""),
               ("artifacts", run.artifacts_prefix if run.state == "SUCCEEDED" else ""), ("note", _note(run))]
    for component, usd in (cost or {}).items():
        fields.append((f"cost $ {component}", f"{usd:.6f}"))
    for name, value in fields:
        if value:
            table.add_row(name, escape(value))
    return table
