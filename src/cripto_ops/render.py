"""Tables for the terminal (rich). Data comes in as plain dicts/dataclasses; nothing here calls AWS."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rich.table import Table

from cripto_ops.follow import RunResult
from cripto_ops.runs import RunStatus

STAGES = ("upload", "features", "trigger", "training", "model")  # "report" is shown apart: it follows the model
_STATE_STYLE = {"SUCCEEDED": "green", "REJECTED": "red", "FAILED": "red", "TIMEOUT": "red", "ERROR": "red",
                "STOPPED": "yellow", "TRAINING": "cyan", "FEATURES": "cyan"}


def pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def stage_table(result: RunResult) -> Table:
    table = Table("stage", "seconds")
    for stage in STAGES:
        if stage in result.durations:
            table.add_row(stage, f"{result.durations[stage]:.2f}")
    table.add_row("[bold]upload -> model[/]", f"[bold]{result.total_s:.2f}[/]")
    if "report" in result.durations:
        table.add_row("report (after the model)", f"{result.durations['report']:.2f}")
    return table


def metrics_table(metrics: Dict[str, Any]) -> Table:
    """Every model and baseline side by side (walk-forward means), best model highlighted."""
    best = metrics.get("best_model")
    folds = metrics.get("walk_forward", {}).get("n_folds", "?")
    table = Table("model / baseline", "accuracy", "balanced acc.", "strategy return",
                  title=f"walk-forward evaluation, {folds} folds (best: {best})")
    summary = metrics.get("summary", {})
    for name, stats in sorted(summary.items()):
        if not isinstance(stats, dict) or "accuracy_mean" not in stats:
            continue
        label = f"[bold green]{name}[/]" if name == best else name
        table.add_row(label, pct(stats.get("accuracy_mean")), pct(stats.get("balanced_accuracy_mean")),
                      pct(stats.get("strategy_return")))
    if "buy_and_hold" in summary:
        table.add_row("buy_and_hold", "", "", pct(summary["buy_and_hold"].get("return")))
    return table


def status_table(runs: List[RunStatus], costs: Dict[str, Optional[float]]) -> Table:
    table = Table("dataset", "run", "state", "raw (version)", "rows", "glue run", "features s",
                  "trigger s", "training s", "total s", "model acc. vs best baseline", "cost $", "artifacts / error")
    for run in runs:
        style = _STATE_STYLE.get(run.state, "")
        state = f"[{style}]{run.state}[/]" if style else run.state
        if run.is_latest:
            state += " [bold](latest)[/]"
        raw = f"{run.raw_key or ''} ({(run.raw_version_id or '-')[:8]})"
        comparison = ""
        if run.model_accuracy is not None:
            verdict = "beats" if run.beats_all_baselines else "does not beat"
            comparison = f"{run.best_model}: {pct(run.model_accuracy)} vs {pct(run.best_baseline_accuracy)} ({verdict})"
        where = run.error if run.error else (run.artifacts_prefix if run.state == "SUCCEEDED" else "")
        if run.duplicate_of:
            where = f"same content as run {run.duplicate_of}"
        if run.state == "SUCCEEDED" and not run.report_key:
            where += " [yellow](no report: see `cripto logs training`)[/]"
        cost = costs.get(run.run_id)
        table.add_row(
            run.dataset, run.run_id, state, raw, "" if run.feature_rows is None else f"{run.feature_rows:,}",
            (run.glue_run_id or "")[:14], _dur(run, "features"), _dur(run, "trigger"), _dur(run, "training"),
            _dur(run, "total"), comparison, "" if cost is None else f"{cost:.5f}", where or "",
        )
    return table


def _dur(run: RunStatus, stage: str) -> str:
    value = run.durations_s.get(stage)
    return "" if value is None else f"{value:.2f}"


_ALARM_STYLE = {"ALARM": "bold red", "OK": "green", "INSUFFICIENT_DATA": "dim"}


def alarm_table(alarms: List[Any]) -> Table:
    """Alarm states (cripto_ops.alarms.AlarmState), ALARM first (descriptions: `cripto alarms --format json`)."""
    table = Table("alarm", "state", "since (UTC)", title="alarms")
    for alarm in alarms:
        style = _ALARM_STYLE.get(alarm.state, "")
        since = f"{alarm.since:%Y-%m-%d %H:%M:%S}" if alarm.since else ""
        table.add_row(alarm.name, f"[{style}]{alarm.state}[/]" if style else alarm.state, since)
    return table
