"""localaws.glue.memory: a Python shell run holds the memory of its capacity, as on AWS (1 GB at
MaxCapacity 0.0625, 16 GB at 1), with real child processes: the supervision kills a process tree above the
limit, and a whole run through the real runner fails with a message that says what to do."""

from __future__ import annotations

import collections
import sys
import time

import pytest
from localaws.glue.memory import MemoryWatch, OutOfMemory, python_shell_memory_limit
from localaws.glue.models import JobRunState
from localaws.glue.runner import out_of_memory_message
from localaws.glue.supervision import RunControl, supervise

from glue_run_harness import Harness
from test_glue_supervision import Shipper

MIB = 1024**2
# Writes every byte (b"x" * n), so the pages are resident, then holds them.
HOLD = "import sys, time; block = b'x' * ({mib} * 1024 * 1024); sys.stdout.write('held\\n'); sys.stdout.flush(); time.sleep({sleep})"


def test_the_limit_is_the_capacitys_share_of_16_gb_per_dpu():
    assert python_shell_memory_limit(0.0625) == 1_073_741_824
    assert python_shell_memory_limit(1.0) == 17_179_869_184
    assert python_shell_memory_limit(None) == 1_073_741_824  # the Python shell default capacity


def _supervise(tmp_path, code: str, memory_limit):
    output, error, tail = Shipper(), Shipper(), collections.deque(maxlen=5)
    control = RunControl(tmp_path)
    rc = supervise([sys.executable, "-c", code], {}, tmp_path, control, float("inf"), output, error, tail,
                   memory_limit=memory_limit)
    return rc, output.lines


def test_a_process_tree_above_the_limit_is_killed(tmp_path):
    began = time.monotonic()
    with pytest.raises(OutOfMemory) as raised:
        _supervise(tmp_path, HOLD.format(mib=300, sleep=30), memory_limit=200 * MIB)
    assert raised.value.limit == 200 * MIB and raised.value.used > 200 * MIB
    assert time.monotonic() - began < 20  # killed, not waited out (the child would hold on for 30 s)


def test_a_child_process_counts_towards_the_limit(tmp_path):
    # The parent holds little (an idle interpreter, ~10-20 MiB); its child fills 300 MiB: only the tree's sum
    # can pass the 200 MiB limit. (The kill comes as soon as it does, possibly before the child has written
    # all of its 300 MiB: what was used is above the limit, not necessarily above 300 MiB.)
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', " + repr(HOLD.format(mib=300, sleep=30))
            + "])")
    with pytest.raises(OutOfMemory) as raised:
        _supervise(tmp_path, code, memory_limit=200 * MIB)
    assert raised.value.used > 200 * MIB


def test_a_process_within_the_limit_runs_to_its_end(tmp_path):
    rc, lines = _supervise(tmp_path, HOLD.format(mib=50, sleep=1), memory_limit=400 * MIB)
    assert (rc, lines) == (0, ["held"])


def test_the_watch_measures_at_most_every_half_second():
    watch = MemoryWatch(pid=sys.maxsize, limit=0)  # no such process: a measurement finds nothing
    watch.check()
    first = watch.next_check
    watch.check()  # within the interval: not measured again
    assert watch.next_check == first and 0.4 < first - time.monotonic() <= 0.5


def test_the_error_message_names_the_use_the_limit_and_the_fix():
    message = out_of_memory_message(OutOfMemory(1_300 * MIB, 1_024 * MIB), 0.0625)
    assert message.startswith("Job run used 1,300 MiB of memory, above the 1,024 MiB a Python shell run has "
                              "at MaxCapacity 0.0625 (1 DPU = 16 GB)")
    assert "Start it with MaxCapacity 1" in message and "LOCALAWS_GLUE_MEMORY_LIMITS=0" in message


RUN_SCRIPT = b"""
import sys
block = b"x" * (int(sys.argv[sys.argv.index("--mib") + 1]) * 1024 * 1024)
import time; time.sleep(2)
"""


@pytest.fixture
def harness(tmp_path):
    h = Harness(tmp_path, objects={("code", "jobs/job.py"): RUN_SCRIPT})
    h.job(MaxCapacity=0.0625)
    return h


def test_a_run_above_its_capacitys_memory_fails_and_one_at_1_dpu_succeeds(harness):
    small = harness.wait(harness.start(Arguments={"--mib": "1300"}).id)
    assert small.state is JobRunState.FAILED
    assert small.error_message.startswith("Job run used ") and "above the 1,024 MiB" in small.error_message
    large = harness.wait(harness.start(Arguments={"--mib": "1300"}, MaxCapacity=1.0).id)
    assert (large.state, large.error_message) == (JobRunState.SUCCEEDED, None)


def test_memory_limits_can_be_switched_off(tmp_path):
    h = Harness(tmp_path, objects={("code", "jobs/job.py"): RUN_SCRIPT})
    h.runner.settings = h.settings = type(h.settings)(**{**h.settings.__dict__, "memory_limits": False})
    h.job(MaxCapacity=0.0625)
    run = h.wait(h.start(Arguments={"--mib": "1300"}).id)
    assert (run.state, run.error_message) == (JobRunState.SUCCEEDED, None)


def test_the_setting_is_on_unless_set_to_0():
    from localaws.glue.config import Settings

    assert Settings.from_env({}).memory_limits is True
    assert Settings.from_env({"LOCALAWS_GLUE_MEMORY_LIMITS": "1"}).memory_limits is True
    assert Settings.from_env({"LOCALAWS_GLUE_MEMORY_LIMITS": "0"}).memory_limits is False


def test_out_of_memory_carries_what_was_used_and_the_limit():
    error = OutOfMemory(5, 7)
    assert (error.used, error.limit, error.args) == (5, 7, (5, 7))


def test_the_message_names_the_runs_own_capacity_or_the_default():
    exc = OutOfMemory(20_000 * MIB, 16_384 * MIB)
    assert "above the 16,384 MiB a Python shell run has at MaxCapacity 1.0 (1 DPU" in out_of_memory_message(exc, 1.0)
    assert "run has at MaxCapacity 0.0625 (1 DPU" in out_of_memory_message(exc, None)


def test_only_the_runs_own_process_tree_is_measured(tmp_path):
    # This process holds 300 MiB more than the limit; the child holds almost nothing: the run is within it.
    ballast = b"x" * (300 * MIB)
    rc, lines = _supervise(tmp_path, HOLD.format(mib=1, sleep=1), memory_limit=200 * MIB)
    assert (rc, lines, len(ballast)) == (0, ["held"], 300 * MIB)


def test_a_run_killed_for_memory_names_its_own_capacity_in_the_message_and_the_error_log(tmp_path, monkeypatch):
    from localaws.glue import runner as runner_module

    monkeypatch.setattr(runner_module, "python_shell_memory_limit", lambda capacity: 200 * MIB)  # not 16 GB
    h = Harness(tmp_path, objects={("code", "jobs/job.py"): RUN_SCRIPT})
    h.job(MaxCapacity=0.0625)
    run = h.wait(h.start(Arguments={"--mib": "300"}, MaxCapacity=1.0).id)
    assert run.state is JobRunState.FAILED and "run has at MaxCapacity 1.0 (1 DPU" in run.error_message
    assert any(line.startswith("[localaws-glue] Job run used ")
               for line in h.logs.events[("/aws-glue/python-jobs/error", run.id)])
