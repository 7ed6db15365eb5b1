"""`localaws up / ps / down` on a second, private emulation (own ports and home directory).

Runs the real CLI as a user would; the interpreters come from the same variables `make up` sets.
"""
from __future__ import annotations

import json
import re
import socket
import urllib.request
from pathlib import Path

import psutil


def _service_pids(localaws) -> dict:
    return {s["name"]: s["pid"] for s in json.loads(localaws("ps", "--format", "json", check=False).stdout)}


def test_up_is_idempotent_and_down_leaves_nothing_behind(private_emulation):
    localaws, env = private_emulation
    localaws("up")
    first = _service_pids(localaws)
    assert set(first) == {"localstack", "glue"} and all(first.values()), first
    family = []
    for pid in first.values():
        proc = psutil.Process(pid)
        family += [proc] + proc.children(recursive=True)

    again = localaws("up")
    assert "already running" in again.stderr
    assert _service_pids(localaws) == first, "a second `up` must not start new processes"

    status = json.loads(localaws("ps", "--format", "json").stdout)
    assert {s["state"] for s in status} == {"running"}

    localaws("down")
    gone, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"processes left after down: {[p.pid for p in alive]}"
    home = Path(env["LOCALAWS_HOME"])
    assert not (home / "tmp").exists()
    assert not list((home / "run").glob("*.json"))
    assert localaws("ps", check=False).returncode == 1


def test_up_fails_clearly_when_a_port_is_taken(private_emulation):
    localaws, env = private_emulation
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["LOCALSTACK_PORT"])))
        squatter.listen()
        result = localaws("up", check=False)
    assert result.returncode == 1
    assert f"port {env['LOCALSTACK_PORT']} is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_up_fails_clearly_when_an_interpreter_is_missing(private_emulation, tmp_path):
    localaws, env = private_emulation
    env["LOCALAWS_LOCALSTACK_PYTHON"] = str(tmp_path / "no-such-python")
    result = localaws("up", check=False)
    assert result.returncode == 1
    assert "no-such-python does not exist" in result.stderr
    assert "make bootstrap" in result.stderr


# What LocalStack logs when it looks for a Docker it does not need: `docker ps` failing ("Cannot connect
# to the Docker daemon at unix:///var/run/docker.sock"), or the LocalStack 1.x setting's "Please mount
# the Docker socket /var/run/docker.sock".
DOCKER_SOCKET_ADVICE = re.compile(r"docker\.sock|docker daemon|docker socket", re.IGNORECASE)


def test_host_mode_logs_nothing_about_a_docker_socket(private_emulation):
    """Even for a user whose shell still has LocalStack 1.x's LAMBDA_EXECUTOR=local, and after
    /_localstack/info (which tools call; its first answer computes a machine id, asking Docker)."""
    localaws, env = private_emulation
    env["LAMBDA_EXECUTOR"] = "local"
    localaws("up")
    port = env["LOCALSTACK_PORT"]
    for path in ("/_localstack/info", "/_localstack/health"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
    localaws("down")  # LocalStack exits: whatever it printed is in the log file now
    log = (Path(env["LOCALAWS_HOME"]) / "logs" / "localstack.log").read_text()
    assert "Ready." in log, log[-2000:]
    assert not [line for line in log.splitlines() if DOCKER_SOCKET_ADVICE.search(line)]
