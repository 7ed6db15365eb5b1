"""What the executor reports for an invocation it ends itself (a timeout, a runtime that exited), in
AWS's words; the worker reports every other outcome."""

from __future__ import annotations

import signal
import time


def timeout_error(request_id: str, timeout_seconds: float) -> dict[str, str]:
    """The error AWS (and LocalStack's Docker init) returns when a function times out."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds",
    }


def timeout_log_line(request_id: str, timeout_seconds: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
    return f"{stamp} {request_id} Task timed out after {timeout_seconds:.2f} seconds\n"


def exit_error(request_id: str, returncode: int) -> dict[str, str]:
    """The error AWS returns when the runtime process exits during an invocation."""
    if returncode < 0:
        reason = f"signal: {signal.Signals(-returncode).name[3:].lower()}"
    else:
        reason = f"exit status {returncode}"
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
    }
