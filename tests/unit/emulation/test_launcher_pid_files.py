"""A pid file names the process `up` started, and keeps naming it when the wall clock is stepped.

On Linux a process's start time is derived from the kernel's boot time, which moves whenever the
clock is stepped (NTP on a freshly booted VM). These tests step it by shifting what psutil reports.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from localaws.launcher import Settings, _start_stamp, status


@pytest.fixture
def child():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(home: Path) -> Settings:
    # No Glue service, and a port nothing listens on: the state is about the pid file alone.
    return Settings(home=home, localstack_python=Path(sys.executable), glue_python=None,
                    localstack_port=_free_port())


def _record(home: Path, record: dict) -> None:
    (home / "run").mkdir(parents=True, exist_ok=True)
    (home / "run" / "localstack.json").write_text(json.dumps(record))


def _state(home: Path) -> str:
    (localstack,) = status(_settings(home))
    return localstack.state


def _step_the_clock(monkeypatch, seconds: float) -> None:
    """What a clock step does to psutil on Linux: boot time and every start time move together."""
    boot_time, create_time = psutil.boot_time, psutil.Process.create_time
    monkeypatch.setattr(psutil, "boot_time", lambda: boot_time() + seconds)
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: create_time(self) + seconds)


def test_the_started_process_is_ours(tmp_path, child):
    _record(tmp_path, {"pid": child.pid, **_start_stamp(child.pid)})
    assert _state(tmp_path) == "unhealthy"  # ours, running, and not answering on its port


def test_a_clock_step_after_the_start_does_not_orphan_the_process(tmp_path, child, monkeypatch):
    _record(tmp_path, {"pid": child.pid, **_start_stamp(child.pid)})
    _step_the_clock(monkeypatch, 37.0)
    assert _state(tmp_path) == "unhealthy"
    (localstack,) = status(_settings(tmp_path))
    assert localstack.pid == child.pid


def test_a_recycled_pid_is_not_ours(tmp_path, child):
    stamp = _start_stamp(child.pid)
    _record(tmp_path, {"pid": child.pid, "create_time": stamp["create_time"] - 5,
                       "since_boot": stamp["since_boot"] - 5})
    assert _state(tmp_path) == "stale"


def test_a_pid_file_from_before_since_boot_was_recorded_still_names_its_process(tmp_path, child):
    _record(tmp_path, {"pid": child.pid, "create_time": _start_stamp(child.pid)["create_time"]})
    assert _state(tmp_path) == "unhealthy"


def test_a_start_time_off_by_more_than_a_hundredth_of_a_second_is_another_process(tmp_path, child):
    stamp = _start_stamp(child.pid)
    _record(tmp_path, {"pid": child.pid, "create_time": stamp["create_time"] + 0.02,
                       "since_boot": stamp["since_boot"] - 0.02})
    assert _state(tmp_path) == "stale"


def test_no_pid_file_is_stopped(tmp_path):
    assert _state(tmp_path) == "stopped"
