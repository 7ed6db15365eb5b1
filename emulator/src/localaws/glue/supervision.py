"""Process supervision of a job run: one child at a time in its own process group, its output streamed
to CloudWatch Logs, killed on a stop request, when the run's ``Timeout`` is used up, or when its process
tree uses more memory than the run's capacity has (:mod:`.memory`).

The runner uses it for both children of a run: ``pip install`` of ``--additional-python-modules``
and the job's interpreter itself.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .cloudwatch import LogShipper
from .memory import MemoryWatch, OutOfMemory

POLL_INTERVAL = 0.1  # how often a supervised process is checked for exit, stop request and deadline
# How long the output pumps may go on after the child exited: a grandchild that inherited its pipes may keep
# them open; the run ends anyway.
PUMP_JOIN_SECONDS = 10


@dataclass
class RunControl:
    """What the service thread needs to stop one run."""

    run_dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen | None = None


class Stopped(Exception):
    """The run was stopped (BatchStopJobRun) while it was being prepared or run."""


class TimedOut(Exception):
    """The run used up its Timeout."""


def supervise(
    argv: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    control: RunControl,
    deadline: float,
    output: LogShipper,
    error: LogShipper,
    stderr_tail: collections.deque[str],
    on_start: Callable[[int], None] | None = None,
    memory_limit: int | None = None,
) -> int:
    """Run a child in its own process group, stream its output; raise on stop, timeout or memory.

    ``on_start`` receives the child's pid (the runner records the job process's pid so that a
    restarted service can reap it). ``memory_limit``: bytes the child and its descendants may hold
    resident together (None: no limit); above it the group is killed and :class:`OutOfMemory` raised.
    """
    if control.stop.is_set():
        raise Stopped()
    process = subprocess.Popen(
        list(argv),
        cwd=str(cwd),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    control.process = process
    if on_start is not None:
        on_start(process.pid)

    def pump_stderr() -> None:
        stderr = process.stderr
        if stderr is None:  # Popen was given stderr=PIPE; None would be a programming error
            raise RuntimeError("job process has no stderr pipe")
        for raw in iter(stderr.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            stderr_tail.append(line.rstrip("\r\n"))
            error.write(line)
        stderr.close()

    if process.stdout is None:  # Popen was given stdout=PIPE
        raise RuntimeError("job process has no stdout pipe")
    pumps = [
        threading.Thread(target=output.pump, args=(process.stdout,), daemon=True),
        threading.Thread(target=pump_stderr, daemon=True),
    ]
    for pump in pumps:
        pump.start()
    watch = MemoryWatch(process.pid, memory_limit) if memory_limit is not None else None
    try:
        while process.poll() is None:
            if watch is not None:
                try:
                    watch.check()
                except OutOfMemory:
                    kill_group(process)
                    raise
            if control.stop.wait(POLL_INTERVAL):
                kill_group(process)
                raise Stopped()
            if time.monotonic() >= deadline:
                kill_group(process)
                raise TimedOut()
    finally:
        process.wait()
        control.process = None
        for pump in pumps:
            pump.join(timeout=PUMP_JOIN_SECONDS)
    return process.returncode


def kill_group(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass  # exited in between


def error_message(stderr_tail: collections.deque[str], rc: int) -> str:
    """ErrorMessage of a failed script: the exception line of its last traceback, as Glue reports it."""
    lines = [line for line in stderr_tail if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        return lines[-1].strip()
    if rc < 0:
        return f"Job process was killed by signal {-rc}."
    return f"Command failed with exit code {rc}."
