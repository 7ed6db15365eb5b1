"""Lambda runtime for one local execution environment; runs INSIDE the function's interpreter.

Standard library only and Python 3.9-compatible: the interpreter is the one configured for the
function's runtime, whose environment holds boto3/botocore and nothing from LocalStack or our tools.
The executor starts it as ``python -s -u worker.py ...`` with a clean environment (the one
LocalStack computes for the function, see ``environment.build_environment``).

It speaks LocalStack's executor-endpoint protocol, as LocalStack's Go init does in Docker:

1. import the handler (the init phase), then ``POST {LOCALSTACK_RUNTIME_ENDPOINT}/status/<id>/ready``;
2. serve ``POST /invoke`` (``invoke-id``, ``invoked-function-arn``, ``payload``, ``trace-id``) on the
   listening socket inherited from the executor, answering 200 at once;
3. run the handler on the main thread, then ``POST .../invocations/<id>/logs`` followed by
   ``.../response`` (the JSON result) or ``.../error`` (``errorMessage``, ``errorType``,
   ``requestId``, ``stackTrace``, shaped like AWS's Python runtime interface client).

Logs: the executor points this process's stdout and stderr at one append-only file, so prints,
``logging`` and output of child processes are all captured at the file-descriptor level. Each
invocation reads that file, appends ``END``/``REPORT`` and truncates it.

Timeouts are enforced by the executor, not here: a thread in this interpreter cannot interrupt a
handler that holds the GIL or blocks in C code, and the environment must be killed anyway.

The formatting helpers below are also imported by the executor (for the logs of invocations it
ends itself), which is why running this file is guarded by ``__main__``.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import importlib
import json
import logging
import math
import os
import queue
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from typing import Any, Callable

# Marker for tests and debugging: which executor runs this environment (the docker executor
# never sets it).
EXECUTOR_MARKER_VAR = "LOCALAWS_LAMBDA_EXECUTOR"
EXECUTOR_NAME = "local-process"

# awslambdaric joins the lines of an error log entry with "\r" so CloudWatch keeps one event,
# and replaces the stack trace's indentation with no-break spaces.
_ERROR_LINE_SEPARATOR = "\r"
_ERROR_INDENT = "\u00a0"
_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"

_current_request_id = ""


# --------------------------------------------------------------------------------------------
# Formatting shared with the executor
# --------------------------------------------------------------------------------------------


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_lines(
    request_id: str,
    duration_ms: float,
    memory_size_mb: str,
    max_memory_used_mb: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
) -> str:
    """``END`` and ``REPORT`` lines in AWS's field order (Init Duration only on a cold start)."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\t"
        f"Memory Size: {memory_size_mb} MB\tMax Memory Used: {max_memory_used_mb} MB\t"
    )
    if init_duration_ms is not None:
        report += f"Init Duration: {init_duration_ms:.2f} ms\t"
    if status:
        report += f"Status: {status}\t"
    return f"END RequestId: {request_id}\n{report}\n"


def make_error(
    message: str, error_type: str, stack_trace: list[str] | None, request_id: str = ""
) -> dict[str, Any]:
    """An error payload in the shape of awslambdaric's ``make_error``."""
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


def error_log_entry(error: dict[str, Any]) -> str:
    """``[ERROR] Type: message`` plus the stack trace, as one CloudWatch event (awslambdaric text format)."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    stack_trace = error.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append(_ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    return _ERROR_LINE_SEPARATOR.join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# The context object handed to handlers (attributes as in awslambdaric's LambdaContext)
# --------------------------------------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None


class LambdaContext:
    def __init__(self, request_id: str, invoked_function_arn: str, deadline_epoch_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as on AWS (awslambdaric reads the environment variable).
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.client_context = None
        self.identity = CognitoIdentity()
        self.tenant_id = None
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_epoch_ms - int(time.time() * 1000))

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


# --------------------------------------------------------------------------------------------
# Init phase
# --------------------------------------------------------------------------------------------


class _Fault(Exception):
    """An init failure, reported like AWS as the result of the invocations that follow it."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error = make_error(message, error_type, stack_trace)
        self.reported = False  # returned as an invocation's result at least once


def _user_frames(tb: Any) -> list[str]:
    """Stack trace without this file's frames, as ``traceback.format_list`` strings."""
    frames = traceback.extract_tb(tb)
    this_file = os.path.abspath(__file__)
    while frames and os.path.abspath(frames[0].filename) == this_file:
        frames.pop(0)
    # Plain tuples, as awslambdaric passes: no 3.11+ column carets in the trace.
    return traceback.format_list([(f.filename, f.lineno, f.name, f.line) for f in frames])


def load_handler(handler: str) -> Callable[[Any, LambdaContext], Any]:
    """Import ``module.function`` (``dir/module.function`` allowed) with awslambdaric's error kinds."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _Fault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    except Exception as exc:  # module-level code failed: AWS reports the exception's own class
        raise _Fault(type(exc).__name__, str(exc), _user_frames(exc.__traceback__)) from None
    except SystemExit as exc:  # sys.exit() at import: the runtime exits during init on AWS
        raise _Fault("Runtime.ExitError", f"Runtime exited with error: exit status {exc.code}") from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request_id
        return True


def _setup_logging() -> None:
    """The root handler AWS's Python runtime installs, so ``logging`` output reaches CloudWatch."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.terminator = ""  # the format already ends with a newline, as awslambdaric's does
    handler.setFormatter(logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _isolate_sys_path(prepend: list[str]) -> None:
    """Drop this file's directory (Python put it first) and put code and layer paths in front.

    Order as on AWS: the function code (``/var/task``), then the layers'
    ``python/lib/pythonX.Y/site-packages`` and ``python`` (``/opt/...``), then the interpreter's
    standard library and site-packages (where the runtime's boto3 lives, so bundled copies win).
    """
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path[:0] = prepend


def _watch_lifeline(fd: int, env_dir: str) -> None:
    """Clean up and kill this process group when the executor's process dies, however it dies.

    The executor holds the write end of a pipe; reading returns EOF only once every copy of it is
    closed. The executor closes it only after killing this process itself, so EOF here means
    LocalStack exited without stopping the environment (e.g. SIGKILL): remove the environment's
    directory (its private /tmp) and end the group, which includes the handler's child processes.
    """

    def watch() -> None:
        while os.read(fd, 1):
            pass
        shutil.rmtree(env_dir, ignore_errors=True)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


# --------------------------------------------------------------------------------------------
# Protocol with LocalStack
# --------------------------------------------------------------------------------------------


def _post(url: str, body: bytes) -> None:
    """POST to LocalStack's runtime endpoint.

    Plain http.client, not urllib: no proxy variables from the function's environment apply, and it
    is the cheapest client in the standard library (this runs twice per invocation).
    """
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    try:
        connection.request("POST", parts.path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status >= 300:
            raise http.client.HTTPException(
                f"LocalStack answered HTTP {response.status} to POST {parts.path}"
            )
    finally:
        connection.close()


class _InvokeServer(http.server.HTTPServer):
    invocations: queue.Queue[dict[str, Any]]


class _InvokeRequestHandler(http.server.BaseHTTPRequestHandler):
    server: _InvokeServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/invoke":
            self.send_error(404)
            return
        invocation = json.loads(body)
        # Answer before queueing: once queued, the handler may end this process (os._exit) at once.
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")
        self.wfile.flush()
        self.server.invocations.put(invocation)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence access logs: stderr is the function's log."""


def _serve(listen_fd: int) -> queue.Queue[dict[str, Any]]:
    server = _InvokeServer(("127.0.0.1", 0), _InvokeRequestHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=listen_fd)  # bound and listening, inherited from the executor
    server.invocations = queue.Queue()
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()
    return server.invocations


class Runtime:
    """Runs invocations one at a time on the main thread and reports them to LocalStack."""

    def __init__(self, output_path: str, spawned_at: float) -> None:
        self.endpoint = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
        self.runtime_id = os.environ["LOCALSTACK_RUNTIME_ID"]
        self.version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_size = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.timeout_seconds = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        self.output_path = output_path
        self.spawned_at = spawned_at
        self.init_duration_ms: float | None = None
        self.handler: Callable[[Any, LambdaContext], Any] | None = None
        self.fault: _Fault | None = None

    def init(self) -> None:
        self._load()
        # From the executor's spawn, so interpreter start-up counts, as it does on AWS.
        self.init_duration_ms = max(0.0, time.time() - self.spawned_at) * 1000
        _post(f"{self.endpoint}/status/{self.runtime_id}/ready", b"{}")

    def _load(self) -> None:
        try:
            self.handler, self.fault = load_handler(os.environ.get("_HANDLER", "")), None
        except _Fault as fault:
            self.fault = fault
            sys.stdout.write(error_log_entry(fault.error))

    def invoke(self, request: dict[str, Any]) -> None:
        global _current_request_id
        request_id = request["invoke-id"]
        _current_request_id = request_id
        if request.get("trace-id"):
            os.environ["_X_AMZN_TRACE_ID"] = request["trace-id"]
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        if self.fault is not None and self.fault.reported:
            # AWS retries a failed init before the next invocation; Python re-imports a module whose
            # import failed, so this process can retry it itself.
            self._load()
        sys.stdout.write(start_line(request_id, self.version))
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.timeout_seconds * 1000)
        body, error = self._run_handler(request, request_id, deadline_ms)
        duration_ms = (time.monotonic() - started) * 1000
        if error is not None and self.fault is None:  # an init fault was logged when it happened
            sys.stdout.write(error_log_entry(error))
        sys.stdout.flush()
        sys.stderr.flush()
        logs = self._take_output() + end_lines(
            request_id, duration_ms, self.memory_size, peak_memory_mb(), self.init_duration_ms
        )
        self.init_duration_ms = None  # only the first invocation of an environment is a cold start
        prefix = f"{self.endpoint}/invocations/{request_id}"
        _post(f"{prefix}/logs", json.dumps({"logs": logs}).encode())
        if error is None:
            _post(f"{prefix}/response", body)
        else:
            _post(f"{prefix}/error", json.dumps(error).encode())

    def _run_handler(self, request: dict[str, Any], request_id: str, deadline_ms: int):
        if self.fault is not None:
            self.fault.reported = True
            return None, dict(self.fault.error, requestId=request_id)
        try:
            event = json.loads(request.get("payload") or "{}")
        except ValueError as exc:
            return None, make_error(
                f"Unable to unmarshal input: {exc}", "Runtime.UnmarshalError", None, request_id
            )
        context = LambdaContext(request_id, request.get("invoked-function-arn", ""), deadline_ms)
        try:
            result = self.handler(event, context)  # type: ignore[misc]
        except Exception as exc:
            return None, make_error(str(exc), type(exc).__name__, _user_frames(exc.__traceback__), request_id)
        try:
            return json.dumps(result).encode(), None
        except (TypeError, ValueError) as exc:
            return None, make_error(
                f"Unable to marshal response: {exc}", "Runtime.MarshalError", None, request_id
            )

    def _take_output(self) -> str:
        """Everything written to stdout/stderr since the last invocation; then empty the file."""
        with open(self.output_path, "rb") as output:
            data = output.read()
        # Writers use O_APPEND, so after truncation they continue at the new end of file.
        os.truncate(self.output_path, 0)
        return data.decode("utf-8", errors="replace")


def peak_memory_mb(pid: int | str = "self") -> int:
    """Peak RSS of a process in MB, 0 if unknown (VmHWM: ``ru_maxrss`` counts the pre-exec parent)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(1, int(line.split()[1]) // 1024)  # kB
    except OSError:
        pass
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Lambda runtime worker for localaws' local-process executor")
    parser.add_argument("--listen-fd", type=int, required=True, help="inherited listening socket for /invoke")
    parser.add_argument(
        "--lifeline-fd", type=int, required=True, help="pipe whose EOF means: executor is gone"
    )
    parser.add_argument("--env-dir", required=True, help="the environment's directory, removed if orphaned")
    parser.add_argument("--output", required=True, help="file this process's stdout/stderr append to")
    parser.add_argument(
        "--spawned-at", type=float, required=True, help="epoch seconds the executor started us"
    )
    parser.add_argument("--code-dir", required=True, help="unzipped function code (the /var/task equivalent)")
    parser.add_argument("--path", action="append", default=[], help="sys.path entries after the code dir")
    args = parser.parse_args(argv)

    _watch_lifeline(args.lifeline_fd, args.env_dir)
    _isolate_sys_path([args.code_dir, *args.path])
    os.chdir(args.code_dir)  # AWS starts the runtime in /var/task
    _setup_logging()
    invocations = _serve(args.listen_fd)
    runtime = Runtime(args.output, args.spawned_at)
    runtime.init()
    while True:
        runtime.invoke(invocations.get())


if __name__ == "__main__":
    main()
