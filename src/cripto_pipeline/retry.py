"""Bounded retries with backoff for calls that fail transiently (no AWS knowledge here)."""

from __future__ import annotations

import time
from typing import Callable, Optional, Sequence, TypeVar

T = TypeVar("T")


def call_with_backoff(
    call: Callable[[], T],
    is_retryable: Callable[[Exception], bool],
    delays: Sequence[float],
    on_retry: Optional[Callable[[Exception, float], None]] = None,
    sleep: Callable[[float], None] = time.sleep,
    deadline: Optional[float] = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``call()``; on a retryable exception wait the next of ``delays`` and try again.

    At most ``len(delays) + 1`` attempts, and none that would start after ``deadline`` (a ``clock()``
    value). The last exception (or any non-retryable one) is re-raised unchanged, so the caller's
    failure handling (e.g. Lambda's async retries) still applies.
    """
    for delay in delays:
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - filtered by is_retryable, re-raised otherwise
            if not is_retryable(error):
                raise
            if deadline is not None and clock() + delay > deadline:
                raise
            if on_retry is not None:
                on_retry(error, delay)
            sleep(delay)
    return call()  # the last attempt: whatever it raises reaches the caller unchanged


def error_code(error: BaseException) -> Optional[str]:
    """The AWS error code of a botocore ClientError (duck-typed, so this module needs no botocore)."""
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
