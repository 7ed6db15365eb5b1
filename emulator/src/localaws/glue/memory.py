"""The memory a Python shell job run has on AWS, and the watch that holds a local run to it.

AWS gives a Python shell run the memory of its capacity: 1 DPU is 16 GB, and the two capacities a run may
have are 0.0625 DPU (1 GB) and 1 DPU (16 GB) (https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html).
A run that needs more is killed there. Without a limit here, a job that fits the host but not its
capacity succeeds locally and dies on its first run on AWS, so the supervision measures the resident memory
of the run's whole process tree while it runs and kills it once the sum passes the limit.

Spark (``glueetl``) runs are not limited: locally the driver and every executor share one JVM, whose
memory has no counterpart in a worker type's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

#: AWS: "a DPU is a relative measure of processing power that consists of 4 vCPUs of compute capacity and
#: 16 GB of memory".
DPU_MEMORY_BYTES = 16 * 1024**3
#: Seconds between two measurements: listing a process's descendants reads the whole process table, and
#: growing by a gigabyte takes a job longer than this.
CHECK_INTERVAL = 0.5
#: The Python shell default capacity when neither the run nor the job names one.
DEFAULT_PYTHON_SHELL_CAPACITY = 0.0625


def python_shell_memory_limit(max_capacity: float | None) -> int:
    """Bytes of memory a Python shell run has at ``max_capacity`` DPUs (None: the 0.0625 default)."""
    capacity = DEFAULT_PYTHON_SHELL_CAPACITY if max_capacity is None else max_capacity
    return int(capacity * DPU_MEMORY_BYTES)


class OutOfMemory(Exception):
    """The run's processes used more memory than its capacity has."""

    def __init__(self, used: int, limit: int):
        super().__init__(used, limit)
        self.used, self.limit = used, limit


@dataclass
class MemoryWatch:
    """Resident memory of one process and its descendants, checked against a limit in bytes."""

    pid: int
    limit: int
    next_check: float = 0.0

    def check(self) -> None:
        """Raise :class:`OutOfMemory` when the tree's resident memory is above the limit (measured at most
        every :data:`CHECK_INTERVAL` seconds; calls in between return at once)."""
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + CHECK_INTERVAL
        used = 0
        try:
            root = psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return  # exited in between: the supervision sees its exit status
        for process in tree:
            try:
                used += process.memory_info().rss
            except psutil.Error:
                pass  # a child that exited in between holds no memory
        if used > self.limit:
            raise OutOfMemory(used, self.limit)
