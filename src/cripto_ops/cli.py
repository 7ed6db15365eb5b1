"""``cripto``: see what the pipeline did — runs, logs, reports — and push a file through it.

Works the same against the local emulation (the Makefile sets the endpoints) and a real AWS account
(your usual credentials): it only calls AWS APIs and reads the stack's names from Terraform outputs.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import click

from cripto_ops.exceptions import OpsError, StageFailed


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _stack(ctx: click.Context):
    from cripto_ops.stack import load_outputs

    if "stack" not in ctx.obj:
        ctx.obj["stack"] = load_outputs(ctx.obj["env"])
    return ctx.obj["stack"]


def _client(ctx: click.Context, service: str):
    return _stack(ctx).client(service)


class CliGroup(click.Group):
    """Turns OpsError into one red line and exit 1 (a traceback only with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StageFailed as failure:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            console = _console(stderr=True)
            console.print(f"[bold red]error:[/] {failure}", soft_wrap=True)
            if failure.evidence:
                console.print(failure.evidence, markup=False)
            ctx.exit(1)
        except OpsError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _console(stderr=True).print(f"[bold red]error:[/] {error}", soft_wrap=True)
            ctx.exit(1)


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--env", "env", default="local", type=click.Choice(["local", "aws"]), envvar="STACK_ENV",
              help="Which deployment's Terraform outputs name the stack. [env: STACK_ENV]")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def main(ctx: click.Context, env: str, debug: bool) -> None:
    """Operate the cripto-ml-pipeline: status, logs, run, report."""
    ctx.obj = {"env": env, "debug": debug}


@main.command()
@click.option("--dataset", help="Only this dataset (default: every dataset).")
@click.option("--run", "run_id", metavar="RUN_ID", help="One run in detail (with --dataset): every field, cost per "
              "component.")
@click.option("--limit", default=10, type=click.IntRange(1, 1000), help="Newest runs per dataset.")
@click.option("--wide", is_flag=True, help="Every column (raw object, rows, Glue run, each stage, cost, artifacts) "
              "in one table as wide as it needs.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              help="json: runs and alarms for scripts (schema: cripto_ops.status_view).")
@click.pass_context
def status(ctx: click.Context, dataset: Optional[str], run_id: Optional[str], limit: int, wide: bool,
           output_format: str) -> None:
    """Recent runs per dataset, newest first: state, model vs the best baseline (classification, then
    net of fees vs buy-and-hold) and total time upload -> model; then the state of every alarm of the
    stack (ALARM first). Fits 80 columns; --wide, --run and --format json show the rest."""
    from cripto_ops import render, status_view, usage
    from cripto_ops.alarms import alarm_states
    from cripto_ops.runs import RunCatalog

    if run_id and not dataset:
        raise click.UsageError("--run needs --dataset (run ids are per dataset).")
    stack = _stack(ctx)
    catalog = RunCatalog(_client(ctx, "s3"), _client(ctx, "glue"), stack)
    datasets = [dataset] if dataset else catalog.datasets()
    runs = [run for name in datasets for run in catalog.runs(name, limit, run_id)]
    if run_id and not runs:
        raise OpsError(f"No run {run_id} of dataset '{dataset}' in s3://{stack.bucket_name} (see `cripto status`).")
    settings = usage.stack_settings(_client(ctx, "lambda"), stack)
    breakdowns = {run.run_id: usage.run_cost(run, settings) for run in runs}
    alarms = alarm_states(_client(ctx, "cloudwatch"), stack) if not run_id else []
    if output_format == "json":
        click.echo(json.dumps(status_view.as_json(runs, breakdowns, alarms), indent=2, default=str))
        return
    console = _console()
    if run_id:
        console.print(status_view.detail_table(runs[0], breakdowns[run_id]))
        return
    if runs and wide:
        from rich.measure import Measurement

        table = status_view.wide_table(runs, breakdowns)
        # As wide as the table needs, also in a pipe (where rich would assume 80 columns): a terminal
        # narrower than that wraps the lines instead of cutting every cell to "…".
        needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
        console.width = max(console.width, needed)
        console.print(table)
    elif runs:
        for line in status_view.compact_lines(runs, console.width):
            console.print(line, soft_wrap=True)
    else:
        console.print(f"No runs yet in s3://{stack.bucket_name}: upload raw.csv or raw/<dataset>.csv "
                      "(or `cripto run FILE`).")
    if alarms:
        console.print(render.alarm_table(alarms))
        firing = [alarm.name for alarm in alarms if alarm.state == "ALARM"]
        if firing:
            console.print(f"[bold red]{len(firing)} alarm(s) firing[/]: {', '.join(firing)} — README "
                          "\"Monitoring\" says what each means and what to do.", soft_wrap=True)


@main.command()
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
def alarms(ctx: click.Context, output_format: str) -> None:
    """State of every alarm of the stack, ALARM first, with what each one watches."""
    from cripto_ops import render
    from cripto_ops.alarms import alarm_states

    states = alarm_states(_client(ctx, "cloudwatch"), _stack(ctx))
    if output_format == "json":
        click.echo(json.dumps([alarm.as_dict() for alarm in states], indent=2))
    elif states:
        _console().print(render.alarm_table(states))
    else:
        _console().print("The deployed stack has no alarms: redeploy it (`make deploy-local`) to add monitoring.")


@main.command()
@click.argument("component", required=False, type=click.Choice(["feature", "trigger", "training", "spark"]))
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.option("--since", default="1h", help="How far back to start: 30s, 10m, 2h, 1d.")
@click.pass_context
def logs(ctx: click.Context, component: Optional[str], follow: bool, since: str) -> None:
    """CloudWatch logs of the feature Lambda, the trigger Lambda, the training job and/or the Spark feature job."""
    from cripto_ops import log_tail

    from rich.text import Text

    groups = log_tail.log_groups(_stack(ctx), component)
    console = _console()
    try:
        for line in log_tail.read(_client(ctx, "logs"), groups, log_tail.parse_since(since), follow):
            # A Text, not a markup string: a message is printed as written, "[bold]" in JSON included.
            where = f"{line.time:%Y-%m-%dT%H:%M:%S}Z {line.group} {line.stream[:20]}"
            console.print(Text.assemble((where, "dim"), " ", line.message), soft_wrap=True)
    except KeyboardInterrupt:
        pass


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", help="Upload to raw/<DATASET>.csv (default: raw.csv, dataset 'default').")
@click.pass_context
def run(ctx: click.Context, file: Path, dataset: Optional[str]) -> None:
    """Upload FILE and follow its run stage by stage until the model is there (or the error report)."""
    from cripto_ops import render
    from cripto_ops.follow import RunFollower
    from cripto_pipeline import layout

    raw_key = layout.raw_key(dataset)
    stack = _stack(ctx)
    console = _console(stderr=True)
    console.print(f"{file} -> s3://{stack.bucket_name}/{raw_key}")
    began = time.monotonic()
    with console.status("uploading ...") as spinner:
        # While waiting: the step and the seconds elapsed. The stage times, printed below once the run
        # has ended, come from the run's own timestamps (cripto_ops.stages), as in `cripto status`.
        follower = RunFollower(
            _client(ctx, "s3"), _client(ctx, "glue"), _client(ctx, "logs"), stack,
            on_progress=lambda step, message: spinner.update(
                f"[bold]{step}[/]: {message} ({time.monotonic() - began:.0f} s)"),
            on_step_done=lambda step: console.print(f"  [green]✓[/] {step}"),
        )
        result = follower.upload_and_follow(file, raw_key)
    out = _console()
    if result.duplicate_run_id:
        out.print(f"Same content as an earlier upload: no new run; showing run {result.run_id}, which covers it "
                  "(change the file to train again).")
    out.print(f"run {result.run_id} of dataset '{result.dataset}'", soft_wrap=True)
    out.print(render.stage_table(result.durations))
    out.print(render.metrics_table(result.metrics))
    for key, size in result.artifacts.items():
        out.print(f"  s3://{stack.bucket_name}/{key}  ({size:,} bytes)")
    comparison = result.metrics.get("comparison", {})
    if comparison.get("verdict"):
        out.print(f"The selected model ({result.metrics.get('best_model')}): {comparison['verdict']}", soft_wrap=True)
    elif "beats_all_baselines" in comparison:
        verdict = "beats" if comparison["beats_all_baselines"] else "does NOT beat"
        out.print(f"The selected model ({result.metrics.get('best_model')}) {verdict} every baseline "
                  "(best baseline accuracy and balanced accuracy, buy-and-hold return before fees; walk-forward means; "
                  "a metrics.json written before the net-of-fees verdict).")


@main.command()
@click.option("--since", default="3h", help="Time window ending now: 30m, 3h, 1d.")
@click.option("--output-dir", default="reports", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write dashboard.html and dashboard.png.")
@click.pass_context
def dashboard(ctx: click.Context, since: str, output_dir: Path) -> None:
    """Render the stack's CloudWatch dashboard from GetMetricData into OUTPUT_DIR/dashboard.{html,png}
    and print the HTML file's path (the emulation has no console to show it)."""
    from datetime import datetime, timezone

    from cripto_ops import dashboard as dash
    from cripto_ops import dashboard_page
    from cripto_ops.log_tail import parse_since

    now = datetime.now(timezone.utc)
    window = now - datetime.fromtimestamp(parse_since(since, now) / 1000, timezone.utc)
    stack = _stack(ctx)
    # One retry at most: a statistic the endpoint cannot compute fails fast and is noted on its graph.
    cloudwatch = stack.client("cloudwatch", retries={"max_attempts": 2, "mode": "standard"})
    widgets = dash.parse_widgets(dash.load_body(cloudwatch, stack))
    with _console(stderr=True).status(f"GetMetricData for {len(widgets)} widgets ..."):
        dash.fetch(cloudwatch, widgets, window, now)
    title = f"{stack.raw['dashboard_name']} (last {since})"
    png = dashboard_page.render_png(widgets, output_dir / "dashboard.png", title, now - window, now)
    page = dashboard_page.render_html(widgets, png, output_dir / "dashboard.html", title,
                                      (f"{now - window:%Y-%m-%d %H:%M}", f"{now:%Y-%m-%d %H:%M}"))
    click.echo(str(page.resolve()))


@main.command()
@click.argument("dataset", required=False, default="default")
@click.option("--output-dir", default="reports", type=click.Path(file_okay=False, path_type=Path),
              help="Where to save the report.")
@click.pass_context
def report(ctx: click.Context, dataset: str, output_dir: Path) -> None:
    """Download the latest run's HTML report of DATASET and print its path."""
    from cripto_ops.report_download import fetch_latest_report

    path = fetch_latest_report(_client(ctx, "s3"), _stack(ctx), dataset, output_dir)
    click.echo(str(path.resolve()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
