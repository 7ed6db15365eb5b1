"""Compose mode: the same services as containers, driven through the `docker compose` CLI.

Chosen when a Docker engine answers (or forced with ``--mode compose``); the compose file belongs
to the project using localaws and must publish the same ports as host mode.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

from localaws.exceptions import LauncherError

ENGINE_PROBE_TIMEOUT_S = 5


def engine_problem() -> Optional[str]:
    """None if a Docker engine answers, else why not (in words a user can act on)."""
    docker = shutil.which("docker")
    if docker is None:
        return "the `docker` command is not installed"
    try:
        probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                               text=True, timeout=ENGINE_PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within {ENGINE_PROBE_TIMEOUT_S} s"
    if probe.returncode != 0:
        last_line = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return f"no Docker engine answers ({last_line})"
    return None


def choose_mode(requested: str) -> tuple:
    """``auto`` -> (``compose``|``host``, reason); explicit modes are checked and returned."""
    problem = engine_problem()
    if requested == "host":
        return "host", "host mode requested"
    if requested == "compose":
        if problem:
            raise LauncherError(
                f"compose mode needs a Docker engine, but {problem}. Start Docker, or run in host "
                "mode (MODE=host), which needs no Docker."
            )
        return "compose", "compose mode requested"
    if problem:
        return "host", f"host mode: {problem}"
    return "compose", "compose mode: a Docker engine answers"


def _compose(compose_file: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    if not compose_file.is_file():
        raise LauncherError(f"compose file {compose_file} not found (set --compose-file / LOCALAWS_COMPOSE_FILE).")
    command: List[str] = [shutil.which("docker") or "docker", "compose", "-f", str(compose_file), *args]
    result = subprocess.run(command, text=True, capture_output=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise LauncherError(f"`{' '.join(command)}` failed:\n{result.stderr.strip()[-2000:]}")
    return result


def up(compose_file: Path) -> str:
    """Build and start the services, waiting for their health checks."""
    _compose(compose_file, "up", "--detach", "--build", "--wait")
    return _compose(compose_file, "ps").stdout


def down(compose_file: Path) -> None:
    _compose(compose_file, "down")


def ps(compose_file: Path) -> str:
    return _compose(compose_file, "ps").stdout
