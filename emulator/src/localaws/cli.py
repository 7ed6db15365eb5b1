"""``localaws``: start, stop and inspect the Docker-less local AWS.

Every option has an environment variable, so a Makefile can set them once::

    localaws up     # start LocalStack + the Glue-compatible service, wait until healthy
    localaws ps     # what runs, where, since when
    localaws logs glue -f
    localaws down   # stop exactly what `up` started
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Dict, Tuple

import click

from localaws import compose
from localaws.exceptions import LauncherError


def _parse_runtimes(pairs: Tuple[str, ...]) -> Dict[str, Path]:
    runtimes: Dict[str, Path] = {}
    for pair in pairs:
        for item in filter(None, (part.strip() for part in pair.split(","))):
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise click.BadParameter(f"expected RUNTIME=INTERPRETER, got {item!r}")
            runtimes[name] = Path(path)
    return runtimes


def _settings(ctx: click.Context):
    from localaws.launcher import Settings

    opts = ctx.obj
    return Settings(
        home=Path(opts["home"]).resolve(),
        localstack_python=Path(opts["localstack_python"]),
        localstack_port=opts["localstack_port"],
        glue_python=Path(opts["glue_service_python"]) if opts["glue_service_python"] else None,
        glue_port=opts["glue_port"],
        lambda_runtimes=_parse_runtimes(opts["lambda_runtime"]),
        glue_runtimes=_parse_runtimes(opts["glue_runtime"]),
        services=opts["services"],
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--home", envvar="LOCALAWS_HOME", default=".local", type=click.Path(file_okay=False),
              help="Directory for all state, logs, pid files and temp files. [env: LOCALAWS_HOME]")
@click.option("--localstack-port", envvar="LOCALSTACK_PORT", default=4566, type=click.IntRange(1, 65535),
              help="LocalStack gateway port. [env: LOCALSTACK_PORT]")
@click.option("--glue-port", envvar="GLUE_PORT", default=4567, type=click.IntRange(1, 65535),
              help="Glue-compatible service port. [env: GLUE_PORT]")
@click.option("--localstack-python", envvar="LOCALAWS_LOCALSTACK_PYTHON", default=sys.executable,
              help="Interpreter of the environment with localstack-core. [env: LOCALAWS_LOCALSTACK_PYTHON]")
@click.option("--glue-service-python", envvar="LOCALAWS_GLUE_SERVICE_PYTHON", default=sys.executable,
              help="Interpreter that runs the Glue-compatible service; empty to not start it. "
                   "[env: LOCALAWS_GLUE_SERVICE_PYTHON]")
@click.option("--lambda-runtime", envvar="LOCALAWS_LAMBDA_RUNTIMES", multiple=True,
              help="RUNTIME=INTERPRETER for Lambda functions, e.g. python3.12=/venv/bin/python "
                   "(repeatable or comma-separated; python3.x only). [env: LOCALAWS_LAMBDA_RUNTIMES]")
@click.option("--glue-runtime", envvar="LOCALAWS_GLUE_RUNTIMES", multiple=True,
              help="RUNTIME=INTERPRETER for Glue jobs: 3.9=/venv/bin/python (pythonshell PythonVersion), "
                   "spark-5.0=/venv/bin/python (glueetl GlueVersion 5.0); other runtimes are refused. "
                   "[env: LOCALAWS_GLUE_RUNTIMES]")
@click.option("--services", envvar="LOCALAWS_SERVICES", default="",
              help="Comma-separated LocalStack services to offer, e.g. s3,lambda,sqs; empty offers every "
                   "service (glue is kept whenever the Glue service runs). [env: LOCALAWS_SERVICES]")
@click.option("--mode", envvar="LOCALAWS_MODE", default="auto", type=click.Choice(["auto", "host", "compose"]),
              help="host: local processes; compose: containers (needs a Docker engine); auto: compose "
                   "when a Docker engine answers, else host. [env: LOCALAWS_MODE]")
@click.option("--compose-file", envvar="LOCALAWS_COMPOSE_FILE", default="docker-compose.yml",
              type=click.Path(dir_okay=False), help="Compose file for compose mode. [env: LOCALAWS_COMPOSE_FILE]")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def main(ctx: click.Context, debug: bool, **options) -> None:
    """Docker-less local AWS: LocalStack on the host, Lambda as local processes, a Glue-compatible
    job service."""
    ctx.obj = dict(options, debug=debug)


def _fail(ctx: click.Context, error: Exception) -> None:
    from rich.console import Console

    if ctx.obj.get("debug"):
        raise error
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {error}", highlight=False)
    ctx.exit(1)


@main.command()
@click.pass_context
def up(ctx: click.Context) -> None:
    """Start the services that are not running yet and wait until all are healthy (idempotent)."""
    from rich.console import Console

    from localaws import launcher

    console = Console(stderr=True)
    began = time.monotonic()
    try:
        mode, reason = compose.choose_mode(ctx.obj["mode"])
        console.print(reason, highlight=False)
        if mode == "compose":
            with console.status("docker compose up (first run builds the Glue image) ..."):
                console.print(compose.up(Path(ctx.obj["compose_file"])), highlight=False)
            return
        settings = _settings(ctx)
        with console.status("starting local AWS ...") as spinner:
            def progress(message: str) -> None:
                spinner.update(message)
                console.print(f"  {message}", highlight=False)

            statuses = launcher.start(settings, on_progress=progress)
    except LauncherError as error:
        _fail(ctx, error)
        return
    console.print(f"local AWS is up ({time.monotonic() - began:.1f} s):", highlight=False)
    for entry in statuses:
        console.print(f"  {entry.name:<11} {entry.url}", highlight=False)


@main.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop exactly the processes `up` started (and their children); remove temp directories."""
    from rich.console import Console

    from localaws import launcher

    console = Console(stderr=True)
    try:
        if ctx.obj["mode"] != "host" and compose.engine_problem() is None:
            compose.down(Path(ctx.obj["compose_file"]))
        launcher.stop(_settings(ctx), on_progress=lambda msg: console.print(f"  {msg}", highlight=False))
    except LauncherError as error:
        _fail(ctx, error)
        return
    console.print("local AWS is down")


@main.command()
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
def ps(ctx: click.Context, output_format: str) -> None:
    """Show each service: state, pid, endpoint, uptime, log file. Exit 1 if any is not running."""
    from rich.console import Console
    from rich.table import Table

    from localaws import launcher

    if ctx.obj["mode"] == "compose":
        try:
            click.echo(compose.ps(Path(ctx.obj["compose_file"])))
        except LauncherError as error:
            _fail(ctx, error)
        return
    try:
        statuses = launcher.status(_settings(ctx))
    except LauncherError as error:
        _fail(ctx, error)
        return
    if output_format == "json":
        click.echo(json.dumps([entry.as_dict() for entry in statuses], indent=2))
    else:
        table = Table("service", "state", "pid", "endpoint", "uptime", "log")
        colours = {"running": "green", "unhealthy": "yellow"}
        for entry in statuses:
            colour = colours.get(entry.state, "red")
            uptime = "" if entry.uptime_s is None else f"{entry.uptime_s:.0f} s"
            table.add_row(entry.name, f"[{colour}]{entry.state}[/]", str(entry.pid or ""), entry.url,
                          uptime, str(entry.log_file))
        Console().print(table)
    ctx.exit(0 if all(entry.state == "running" for entry in statuses) else 1)


@main.command()
@click.argument("service", type=click.Choice(["localstack", "glue"]))
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option("-n", "--tail", "tail_lines", default=50, type=click.IntRange(0), help="Lines to show first.")
@click.pass_context
def logs(ctx: click.Context, service: str, follow: bool, tail_lines: int) -> None:
    """Print a service's process log (what it wrote to stdout/stderr)."""
    path = Path(ctx.obj["home"]) / "logs" / f"{service}.log"
    if not path.exists():
        _fail(ctx, LauncherError(f"no log for {service} at {path}: has it been started (`localaws up`)?"))
        return
    with open(path, errors="replace") as handle:
        lines = handle.readlines()
        sys.stdout.writelines(lines[-tail_lines:] if tail_lines else [])
        while follow:
            line = handle.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.2)


if __name__ == "__main__":  # pragma: no cover
    main()
