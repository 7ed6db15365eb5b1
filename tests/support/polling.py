"""Bounded polling: every wait in the suites ends in a value or a TimeoutError, never silently."""
from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], Optional[T]], timeout: float = 30.0, interval: float = 0.2) -> T:
    """Call ``probe`` until it returns something truthy and return that; raise TimeoutError naming
    ``what`` once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
