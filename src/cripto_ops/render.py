"""Tables for the terminal (rich). Data comes in as plain dicts/dataclasses; nothing here calls AWS."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rich.table import Table

from cripto_ops.stages import REPORT_STAGE, STAGES, TOTAL


def pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def stage_table(durations: Dict[str, float]) -> Table:
    """A run's stage times (cripto_ops.stages: the same as `cripto status --run`), the total upload -> model,
    then the report, which follows the model."""
    table = Table("stage", "seconds")
    for _, stage in STAGES:
        if stage in durations:
            table.add_row(stage, f"{durations[stage]:.2f}")
    if TOTAL in durations:
        table.add_row("[bold]upload -> model[/]", f"[bold]{durations[TOTAL]:.2f}[/]")
    if REPORT_STAGE in durations:
        table.add_row("report (after the model)", f"{durations[REPORT_STAGE]:.2f}")
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


_ALARM_STYLE = {"ALARM": "bold red", "OK": "green", "INSUFFICIENT_DATA": "dim"}


def alarm_table(alarms: List[Any]) -> Table:
    """Alarm states (cripto_ops.alarms.AlarmState), ALARM first (descriptions: `cripto alarms --format json`)."""
    table = Table("alarm", "state", "since (UTC)", title="alarms")
    for alarm in alarms:
        style = _ALARM_STYLE.get(alarm.state, "")
        since = f"{alarm.since:%Y-%m-%d %H:%M:%S}" if alarm.since else ""
        table.add_row(alarm.name, f"[{style}]{alarm.state}[/]" if style else alarm.state, since)
    return table
