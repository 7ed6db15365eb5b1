"""localaws.glue.supervision and module_cache's pip step with real child processes (short Python
children, or a shell script standing in for an interpreter): exit codes, streamed output, the process
group, stop requests and the deadline (issue 16: these ran only in integration before)."""

from __future__ import annotations

import collections
import os
import stat
import sys
import threading
import time
from pathlib import Path

import pytest
from localaws.glue import module_cache, supervision
from localaws.glue.exceptions import ModuleInstallFailed
from localaws.glue.supervision import RunControl, Stopped, TimedOut, supervise

FAR = float("inf")


class Shipper:
    """A LogShipper without CloudWatch: the lines it was given."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line.rstrip("\r\n"))

    def pump(self, pipe) -> None:
        for raw in iter(pipe.readline, b""):
            self.write(raw.decode())
        pipe.close()


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _supervise(tmp_path, code: str, env=None, deadline=FAR, control=None, on_start=None):
    control = control or RunControl(tmp_path)
    output, error, tail = Shipper(), Shipper(), collections.deque(maxlen=5)
    rc = supervise(_child(code), env if env is not None else {"MARK": "m"}, tmp_path, control, deadline, output,
                   error, tail, on_start=on_start)
    return rc, output.lines, error.lines, list(tail), control


def test_a_child_runs_in_its_own_group_with_the_given_env_and_dir_and_its_output_is_streamed(tmp_path):
    pids = []
    code = ("import os, sys; print('out', os.environ.get('MARK'), os.environ.get('HOME')); "
            "print(os.getcwd()); print(os.getpgid(0) == os.getpid()); sys.stdout.flush(); "
            "print('err line', file=sys.stderr); print(repr(sys.stdin.read()), file=sys.stderr); sys.exit(3)")
    rc, out, err, tail, control = _supervise(tmp_path, code, on_start=pids.append)
    assert rc == 3
    assert out == ["out m None", str(tmp_path), "True"]
    assert err == ["err line", "''"] and tail == ["err line", "''"]
    assert control.process is None and len(pids) == 1 and pids[0] > 0


def test_the_stderr_tail_keeps_the_last_lines_without_line_ends(tmp_path):
    code = "import sys\nfor i in range(8): print('e%d' % i, file=sys.stderr)\n"
    rc, _, err, tail, _ = _supervise(tmp_path, code)
    assert rc == 0 and err == [f"e{i}" for i in range(8)] and tail == ["e3", "e4", "e5", "e6", "e7"]


def test_a_stop_requested_before_the_start_starts_nothing(tmp_path):
    control = RunControl(tmp_path)
    control.stop.set()
    started = []
    with pytest.raises(Stopped):
        _supervise(tmp_path, "open('started', 'w')", control=control, on_start=started.append)
    assert started == [] and not (tmp_path / "started").exists()


def _wait_for(path: Path) -> None:
    for _ in range(100):  # bounded: 10 s, where the child needs well under a second
        if path.exists():
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never appeared")


def test_a_stop_request_kills_the_whole_process_group(tmp_path):
    control = RunControl(tmp_path)
    # the child starts a grandchild in its group, then both sleep; the grandchild writes its pid
    code = ("import subprocess, sys, time\n"
            "g = subprocess.Popen([sys.executable, '-c', 'import os, time; open(\"gc\", \"w\").write(str(os.getpid())); "
            "time.sleep(300)'])\n"
            "time.sleep(300)\n")
    result = {}

    def run():
        try:
            _supervise(tmp_path, code, env=dict(os.environ), control=control)
        except Stopped:
            result["stopped"] = True

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for(tmp_path / "gc")
    while not (tmp_path / "gc").read_text():
        time.sleep(0.05)
    grandchild = int((tmp_path / "gc").read_text())
    pumps = [t for t in threading.enumerate() if "(pump" in t.name]
    assert len(pumps) == 2 and all(t.daemon for t in pumps)  # never keep the service from exiting
    assert control.process is not None and control.process.pid != grandchild
    control.stop.set()
    thread.join(timeout=10)
    assert result == {"stopped": True} and control.process is None
    for _ in range(100):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the grandchild outlived the stop: the group was not killed")


def test_a_used_up_deadline_times_out_and_kills_the_child(tmp_path):
    pids = []
    with pytest.raises(TimedOut):
        _supervise(tmp_path, "import time; time.sleep(300)", deadline=time.monotonic() + 0.5, on_start=pids.append)
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_kill_group_ignores_a_process_that_is_none_or_gone(tmp_path):
    supervision.kill_group(None)
    rc, *_ = _supervise(tmp_path, "pass")
    assert rc == 0


@pytest.mark.parametrize(("tail", "rc", "message"), [
    (["Traceback (most recent call last):", '  File "x.py"', "ValueError: bad", "  "], 1, "ValueError: bad"),
    (["warning", "", "Traceback (most recent call last):", "KeyError: 'c'", "after"], 1, "after"),
    (["plain failure"], 2, "Command failed with exit code 2."),
    ([], -9, "Job process was killed by signal 9."),
    (["  Traceback (most recent call last):", "x"], 1, "Command failed with exit code 1."),
])
def test_error_message(tail, rc, message):
    assert supervision.error_message(collections.deque(tail), rc) == message


def _fake_interpreter(tmp_path: Path, rc: int, stdout: str = "", stderr: str = "") -> str:
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\n"
                      f"printf '%s\\n' \"$@\" > {tmp_path / 'argv'}\n"
                      f"env > {tmp_path / 'env'}\n"
                      f"printf '{stdout}'\nprintf '{stderr}' >&2\nexit {rc}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_pip_runs_with_the_options_and_the_index_settings_and_streams_its_output(tmp_path, monkeypatch):
    for name in list(os.environ):  # the host's job-inherited, index and proxy variables: only those below
        if name in module_cache.base_env() or name.startswith(module_cache.PIP_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.invalid/simple")
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    python = _fake_interpreter(tmp_path, 0, stdout="Successfully installed probe-1.0\\n")
    output, error = Shipper(), Shipper()
    module_cache._pip_install(python, ["probe==1.0", "other==2 -i https://x.invalid"], ["--no-deps"],
                              tmp_path / "target", RunControl(tmp_path), FAR, output, error)
    assert (tmp_path / "argv").read_text().splitlines() == [
        "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-warn-script-location", "--target",
        str(tmp_path / "target"), "--no-deps", "probe==1.0", "other==2", "-i", "https://x.invalid"]
    env = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines() if "=" in line)
    assert env["PIP_INDEX_URL"] == "https://mirror.invalid/simple" and env["https_proxy"] == "http://proxy.invalid:3128"
    assert "AWS_PROFILE" not in env
    assert module_cache.pip_env() == {"PATH": "/usr/bin:/bin", "PIP_INDEX_URL": "https://mirror.invalid/simple",
                                      "https_proxy": "http://proxy.invalid:3128"}
    assert output.lines == ["Successfully installed probe-1.0"] and error.lines == []


def test_only_the_last_20_lines_of_pip_are_searched_for_its_error(tmp_path):
    python = _fake_interpreter(tmp_path, 1, stderr="ERROR: early\\n" + "\\n" * 20)
    with pytest.raises(ModuleInstallFailed) as caught:
        module_cache._pip_install(python, ["a==1"], [], tmp_path / "t", RunControl(tmp_path), FAR, Shipper(),
                                  Shipper())
    assert str(caught.value) == "Installing --additional-python-modules a==1 failed: exit code 1"
    python = _fake_interpreter(tmp_path, 1, stderr="ERROR: early\\n" + "\\n" * 19)
    with pytest.raises(ModuleInstallFailed) as caught:
        module_cache._pip_install(python, ["a==1"], [], tmp_path / "t", RunControl(tmp_path), FAR, Shipper(),
                                  Shipper())
    assert str(caught.value) == "Installing --additional-python-modules a==1 failed: ERROR: early"


def test_pip_stops_at_the_runs_deadline_and_writes_its_errors_to_the_error_log(tmp_path):
    python = _fake_interpreter(tmp_path, 0, stderr="WARNING: slow index\\n")
    error = Shipper()
    module_cache._pip_install(python, ["a==1"], [], tmp_path / "t", RunControl(tmp_path), FAR, Shipper(), error)
    assert error.lines == ["WARNING: slow index"]
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(TimedOut):
        module_cache._pip_install(str(slow), ["a==1"], [], tmp_path / "t", RunControl(tmp_path),
                                  time.monotonic() + 0.5, Shipper(), Shipper())


@pytest.mark.parametrize(("stderr", "rc", "last"), [
    ("ERROR: No matching distribution found for probe==9\\n\\n", 1, "ERROR: No matching distribution found for probe==9"),
    ("", 2, "exit code 2"),
])
def test_a_failed_pip_install_names_the_modules_and_pips_last_line(tmp_path, stderr, rc, last):
    python = _fake_interpreter(tmp_path, rc, stderr=stderr)
    with pytest.raises(ModuleInstallFailed) as caught:
        module_cache._pip_install(python, ["probe==9", "x==1"], [], tmp_path / "t", RunControl(tmp_path), FAR,
                                  Shipper(), Shipper())
    assert str(caught.value) == f"Installing --additional-python-modules probe==9, x==1 failed: {last}"


def test_pip_install_argv_literally(tmp_path):
    wheel = str(tmp_path / "probe-1.0-py3-none-any.whl")
    head = ["py", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-warn-script-location",
            "--target", str(tmp_path / "t")]
    assert module_cache.pip_install_argv("py", [wheel], [], tmp_path / "t") == head + ["--no-index", wheel]
    # --no-index given by the user is not repeated
    assert module_cache.pip_install_argv("py", [wheel], ["--no-index"], tmp_path / "t") == head + ["--no-index", wheel]
    assert module_cache.pip_install_argv("py", ["a==1"], ["-q"], tmp_path / "t") == head + ["-q", "a==1"]


def test_the_child_reads_no_input_and_its_stderr_is_decoded_leniently(tmp_path):
    read, write = os.pipe()
    os.write(write, b"typed at the service's terminal\n")
    os.close(write)
    saved = os.dup(0)
    os.dup2(read, 0)  # what the service itself would read: the child must not
    try:
        code = ("import sys; print(repr(sys.stdin.read())); sys.stdout.flush(); "
                "sys.stderr.buffer.write(b'bad \\xff byte\\n' + b'trailing  \\n' + b'endsX\\n'); sys.exit(1)")
        rc, out, err, tail, _ = _supervise(tmp_path, code)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read)
    assert rc == 1 and out == ["''"]
    assert err == ["bad \ufffd byte", "trailing  ", "endsX"] and tail == ["bad \ufffd byte", "trailing  ", "endsX"]


def test_a_grandchild_holding_the_pipes_does_not_hold_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(supervision, "PUMP_JOIN_SECONDS", 0.5)
    # the grandchild inherits the child's pipes and writes 'late' 10 s after the child has exited
    late = "import time; time.sleep(10); open('late', 'w').close()"
    code = (f"import subprocess, sys; g = subprocess.Popen([sys.executable, '-c', {late!r}]); "
            "open('gc', 'w').write(str(g.pid)); print('child done')")
    rc, out, _, _, _ = _supervise(tmp_path, code, env=dict(os.environ))
    grandchild = int((tmp_path / "gc").read_text())
    try:
        assert rc == 0 and out == ["child done"]
        assert not (tmp_path / "late").exists()  # supervise returned without waiting for the grandchild
    finally:
        os.kill(grandchild, 9)
