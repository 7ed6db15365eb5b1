#!/usr/bin/env python3
"""End-to-end run: upload the BTC daily sample and follow it to a trained model, through AWS APIs.

Run by `make e2e` after `make deploy-local` (the Makefile sets the local endpoints); pointed at AWS
credentials it does the same against a real deployment. Exits non-zero with the failing stage's
evidence (error report or CloudWatch log lines) when any stage fails.

Env vars: E2E_FILE (default data/samples/coinbase_btcusd_daily.csv), E2E_KEY (default raw.csv),
          STACK_ENV (local | aws, which Terraform state names the stack; default local).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import boto3
from rich.console import Console
from rich.table import Table

from cripto_ops.exceptions import OpsError, StageFailed
from cripto_ops.follow import RunFollower, RunResult
from cripto_ops.stack import REPO_ROOT, load_outputs

STAGES = ("upload", "features", "trigger", "training", "model")


def summary_tables(result: RunResult) -> list:
    stages = Table("stage", "seconds", title=f"run {result.run_id} of dataset '{result.dataset}'")
    for stage in STAGES:
        stages.add_row(stage, f"{result.durations.get(stage, float('nan')):.2f}")
    stages.add_row("[bold]upload -> model[/]", f"[bold]{result.total_s:.2f}[/]")

    metrics = result.metrics
    models = Table("model / baseline", "accuracy", "balanced acc.", "strategy return",
                   title=f"walk-forward ({metrics.get('walk_forward', {}).get('n_folds', '?')} folds); "
                         f"best: {metrics.get('best_model')}")
    for name, stats in sorted(metrics.get("summary", {}).items()):
        if not isinstance(stats, dict) or "accuracy_mean" not in stats:
            continue
        style = "bold green" if name == metrics.get("best_model") else ""
        models.add_row(f"[{style}]{name}[/]" if style else name, _pct(stats.get("accuracy_mean")),
                       _pct(stats.get("balanced_accuracy_mean")), _pct(stats.get("strategy_return")))
    buy_and_hold = metrics.get("summary", {}).get("buy_and_hold", {})
    models.add_row("buy_and_hold", "", "", _pct(buy_and_hold.get("return")))
    return [stages, models]


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def main() -> int:
    console = Console(stderr=True)
    data = Path(os.environ.get("E2E_FILE", REPO_ROOT / "data" / "samples" / "coinbase_btcusd_daily.csv"))
    raw_key = os.environ.get("E2E_KEY", "raw.csv")
    try:
        stack = load_outputs(os.environ.get("STACK_ENV", "local"))
        with console.status("starting ...") as spinner:
            follower = RunFollower(
                boto3.client("s3"), boto3.client("glue"), boto3.client("logs"), stack,
                on_progress=lambda stage, message: spinner.update(f"[bold]{stage}[/]: {message}"),
                on_stage_done=lambda stage, seconds: console.print(f"  [green]✓[/] {stage:<9} {seconds:6.2f} s"),
            )
            console.print(f"e2e: {data.name} -> s3://{stack.bucket_name}/{raw_key}")
            result = follower.upload_and_follow(data, raw_key)
    except StageFailed as failure:
        console.print(f"[bold red]e2e failed:[/] {failure}")
        if failure.evidence:
            console.print(failure.evidence, highlight=False, markup=False)
        return 1
    except OpsError as error:
        console.print(f"[bold red]e2e failed:[/] {error}")
        return 1

    for table in summary_tables(result):
        console.print(table)
    for key, size in result.artifacts.items():
        console.print(f"  s3://{stack.bucket_name}/{key}  ({size:,} bytes)", highlight=False)
    comparison = result.metrics.get("comparison", {})
    if "beats_all_baselines" in comparison:
        verdict = "beats" if comparison["beats_all_baselines"] else "does NOT beat"
        console.print(f"The selected model {verdict} every baseline on walk-forward accuracy.")
    console.print("[bold green]e2e passed[/] — the emulation stays up for exploration (`make down` stops it).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
