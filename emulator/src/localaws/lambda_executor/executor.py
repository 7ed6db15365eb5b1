"""LocalStack ``RuntimeExecutor`` that runs each execution environment as a local subprocess.

Selected with ``LAMBDA_RUNTIME_EXECUTOR=local-process``. Reads, from LocalStack's environment:

- ``LOCALAWS_LAMBDA_RUNTIME_<RUNTIME>``: interpreter per runtime (see :mod:`.runtimes`);
- ``LOCALAWS_LAMBDA_ENV_<NAME>``: added to every function's environment as ``<NAME>`` (below the
  function's own variables). The launcher uses it to send functions' Glue calls to the
  Glue-compatible service (``AWS_ENDPOINT_URL_GLUE``): LocalStack itself has no Glue;
- LocalStack's own ``GATEWAY_LISTEN``, ``HOSTNAME_FROM_LAMBDA``, ``LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT``.

One environment = one ``worker.py`` process in its own session (process group), with:

- a clean environment: LocalStack's computed variables for the function (credentials,
  ``AWS_ENDPOINT_URL``, the function's variables, ``_HANDLER``, ``AWS_LAMBDA_*``...) over a minimal
  base (``PATH``, ``LANG``, ``LD_LIBRARY_PATH``, ``HOME``); nothing else from LocalStack's process;
- a private directory ``<TMPDIR>/localaws-lambda-envs/<fn>-<id>/`` holding its ``TMPDIR``
  (``tmp/``), ``HOME`` and captured output; removed on stop;
- ``LAMBDA_TASK_ROOT`` = the unzipped code, ``/opt`` = the merged layers (:mod:`.layers`).

Timeouts: the executor waits ``Timeout`` seconds for the result; past that it kills the process
group and answers with AWS's ``Sandbox.Timedout`` error. A runtime that exits mid-invocation yields
``Runtime.ExitError``. Either way the next invocation of this environment starts a fresh process
(with an ``Init Duration``), as AWS re-initialises a sandbox after a timeout or crash.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeoutError
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

from localaws.lambda_executor import hot_reload, invocation_errors, worker
from localaws.lambda_executor.environment import WORKER_PATH, build_environment, layer_sys_path
from localaws.lambda_executor.exceptions import (
    EnvironmentStartError,
    InvokeDeliveryError,
    UnsupportedFunctionError,
)
from localaws.lambda_executor.layers import opt_directory
from localaws.lambda_executor.runtimes import configured_runtimes, python_version, resolve_interpreter

LOG = logging.getLogger(__name__)

ENVIRONMENTS_DIR_NAME = "localaws-lambda-envs"
# Slack for the HTTP round trips around a handler before an invocation counts as timed out.
TIMEOUT_GRACE_SECONDS = 0.1
# The worker answers /invoke from a thread before running the handler: a slow answer means it hangs.
INVOKE_DELIVERY_TIMEOUT_SECONDS = 10
OUTPUT_TAIL_BYTES = 64 * 1024


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    """One Lambda execution environment as a subprocess of the runtime's interpreter."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1")
        self._env_dir: Path | None = None
        self._worker_env: dict[str, str] = {}
        self._command: list[str] = []
        self._process: subprocess.Popen | None = None
        self._lifeline_write_fd: int | None = None
        self._spawned_at = 0.0
        self._ready_at = 0.0
        self._cold = True
        self._current_request_id = ""
        self._invoke_started = 0.0
        self._stopped = threading.Event()
        self._lock = threading.RLock()
        # Hot reload (see .hot_reload): the code folder, and its signature when the worker started.
        self._hot_code_dir: Path | None = None
        self._code_signature: frozenset = frozenset()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        config_ = self.function_version.config
        version = python_version(config_.runtime)
        interpreter = resolve_interpreter(config_.runtime)
        code_dir = Path(config_.code.get_unzipped_code_location())
        opt_dir = opt_directory(config_.layers)
        root = Path(tempfile.gettempdir()) / ENVIRONMENTS_DIR_NAME
        root.mkdir(parents=True, exist_ok=True)
        prefix = f"{self.function_version.id.function_name}-{self.id[:8]}-"
        self._env_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        for sub in ("tmp", "home"):
            (self._env_dir / sub).mkdir()
        self._worker_env = build_environment(env_vars, interpreter, code_dir, opt_dir, self._env_dir)
        paths = [arg for p in layer_sys_path(opt_dir, version) for arg in ("--path", p)]
        # -s: no user site-packages. -u: unbuffered, so output survives a kill. Not -I/-E: the
        # environment is already clean, and AWS honours PYTHON* variables set on the function.
        flags = ["-s", "-u"]
        if config_.code.is_hot_reloading():
            self._hot_code_dir = code_dir
            self._code_signature = hot_reload.signature(code_dir)
            flags.append("-B")  # no __pycache__ in the user's folder (see .hot_reload)
        self._command = [str(interpreter), *flags, str(WORKER_PATH), "--code-dir", str(code_dir), *paths]
        self.executor_endpoint.start()
        self._spawn()
        self.executor_endpoint.wait_for_startup()
        self._ready_at = time.monotonic()

    def stop(self) -> None:
        # No waiting for a running invocation: LocalStack stops environments to interrupt them
        # (function deleted or updated); shutdown() below cancels the pending result.
        self._stopped.set()
        self._kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:  # never registered, or already shut down
            LOG.debug("Executor endpoint %s shutdown: %s", self.id, exc)
        if self._env_dir:
            shutil.rmtree(self._env_dir, ignore_errors=True)

    def _spawn(self) -> None:
        """Start a worker; readiness arrives through the endpoint's ``startup_future``."""
        if self._env_dir is None:
            raise EnvironmentStartError(f"Execution environment {self.id} was not prepared (start() not called).")
        output = self._env_dir / "output.log"
        listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        lifeline_read, lifeline_write = os.pipe()
        try:
            self.executor_endpoint.container_port = listener.getsockname()[1]
            options = {
                "--listen-fd": str(listener.fileno()),
                "--lifeline-fd": str(lifeline_read),
                "--env-dir": str(self._env_dir),
                "--output": str(output),
                "--spawned-at": repr(time.time()),
            }
            command = [*self._command, *(part for option in options.items() for part in option)]
            # A new process starts a new output; O_APPEND: the worker truncates while others write.
            output.write_bytes(b"")
            with open(output, "ab") as sink:
                self._process = subprocess.Popen(
                    command,
                    env=self._worker_env,
                    cwd=self._env_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=sink,
                    pass_fds=(listener.fileno(), lifeline_read),
                    start_new_session=True,  # own process group: stop() kills the handler's children too
                )
        except BaseException:
            os.close(lifeline_write)
            raise
        finally:
            listener.close()
            os.close(lifeline_read)
        self._lifeline_write_fd = lifeline_write
        self._spawned_at = time.monotonic()
        self._cold = True
        threading.Thread(
            target=self._watch, args=(self._process,), name=f"lambda-worker-{self.id[:8]}", daemon=True
        ).start()

    def _watch(self, process: subprocess.Popen) -> None:
        """Turn an unexpected exit of ``process`` into a startup failure or a ``Runtime.ExitError``."""
        returncode = process.wait()
        if self._stopped.is_set() or process is not self._process:
            return
        startup = self.executor_endpoint.startup_future
        if startup is not None and not startup.done():
            _settle(
                startup,
                exception=EnvironmentStartError(
                    f"Lambda runtime process exited with code {returncode} before reporting ready. "
                    f"Output:\n{self._read_output()}"
                ),
            )
            return
        pending = self.executor_endpoint.invocation_future
        request_id = self._current_request_id
        if pending is not None and not pending.done() and request_id:
            error = invocation_errors.exit_error(request_id, returncode)
            logs = (
                self._read_output(truncate=True)
                + f"{error['errorMessage']}\n{error['errorType']}\n"
                + self._end_lines(request_id)
            )
            _settle(pending, result=InvocationResult(request_id, _json(error), is_error=True, logs=logs))

    def _kill(self) -> None:
        """SIGKILL the worker's process group (Lambda gives runtimes no graceful shutdown either)."""
        with self._lock:
            # Forget the process first: its watcher then knows this death was intended.
            process, self._process = self._process, None
            lifeline, self._lifeline_write_fd = self._lifeline_write_fd, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
        if lifeline is not None:
            os.close(lifeline)

    def _respawn(self) -> None:
        """Replace a dead worker (after a timeout, a crash or a failed init) before the next invoke."""
        self._kill()
        self.executor_endpoint.startup_future = Future()
        self._spawn()
        try:
            self.executor_endpoint.startup_future.result(timeout=config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
        except FutureTimeoutError:
            self._kill()
            raise EnvironmentStartError(
                "Lambda runtime process did not report ready within "
                f"LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT={config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT} s; "
                "raise it if the function's init is slow."
            ) from None
        self._ready_at = time.monotonic()

    # -- invocations -----------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        """Hand ``payload`` to the worker and wait for its result, at most the function's timeout.

        LocalStack reserves an environment for one invocation at a time, so no lock is needed here.
        """
        request_id = payload["invoke-id"]
        if self._stopped.is_set():
            raise InvokeDeliveryError(f"Execution environment {self.id} is stopped.")
        code_changed = self._code_changed()
        if code_changed or self._process is None or self._process.poll() is not None:
            self._respawn()
        future: Future[InvocationResult] = Future()
        self.executor_endpoint.invocation_future = future
        self.executor_endpoint.logs = None
        self._current_request_id = request_id
        self._invoke_started = time.monotonic()
        try:
            _deliver(self.executor_endpoint.container_port, payload)
        except (OSError, http.client.HTTPException) as exc:
            self._kill()
            raise InvokeDeliveryError(
                f"Could not hand invocation {request_id} to the runtime: {exc}"
            ) from exc
        timeout = float(self.function_version.config.timeout)
        try:
            return future.result(timeout=timeout + TIMEOUT_GRACE_SECONDS)
        except FutureTimeoutError:
            return self._time_out(future, request_id, timeout)
        finally:
            self._cold = False

    def _code_changed(self) -> bool:
        """Whether a hot-reloading function's folder changed since its worker started (records the
        new signature: the worker about to be spawned starts from it)."""
        if self._hot_code_dir is None:
            return False
        current = hot_reload.signature(self._hot_code_dir)
        if current == self._code_signature:
            return False
        LOG.debug("Code of %s changed in %s: restarting its runtime", self.function_version.qualified_arn,
                  self._hot_code_dir)
        self._code_signature = current
        return True

    def _time_out(self, future: Future, request_id: str, timeout: float) -> InvocationResult:
        # cancel() fails only if the result arrived in the meantime: then it stands.
        if not future.cancel():
            return future.result()
        process = self._process
        peak_mb = worker.peak_memory_mb(process.pid) if process else 0
        self._kill()  # the next invocation starts a fresh worker (see invoke)
        error = invocation_errors.timeout_error(request_id, timeout)
        logs = (
            self._read_output(truncate=True)
            + invocation_errors.timeout_log_line(request_id, timeout)
            + self._end_lines(request_id, duration_ms=timeout * 1000, status="timeout", peak_mb=peak_mb)
        )
        LOG.debug(
            "Invocation %s of %s timed out after %.2f s",
            request_id,
            self.function_version.qualified_arn,
            timeout,
        )
        return InvocationResult(request_id, _json(error), is_error=True, logs=logs)

    def _end_lines(
        self, request_id: str, duration_ms: float | None = None, status: str | None = None, peak_mb: int = 0
    ) -> str:
        """END/REPORT for invocations the worker could not finish itself (timeout, crash)."""
        if duration_ms is None:
            duration_ms = (time.monotonic() - self._invoke_started) * 1000
        init_ms = (self._ready_at - self._spawned_at) * 1000 if self._cold else None
        memory = str(self.function_version.config.memory_size)
        return worker.end_lines(request_id, duration_ms, memory, peak_mb, init_ms, status)

    def _read_output(self, truncate: bool = False) -> str:
        if not self._env_dir:
            return ""
        path = self._env_dir / "output.log"
        try:
            with open(path, "rb") as output:
                output.seek(0, os.SEEK_END)
                output.seek(max(0, output.tell() - OUTPUT_TAIL_BYTES))
                data = output.read()
            if truncate:
                os.truncate(path, 0)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            return ""
        return data.decode("utf-8", errors="replace")

    # -- addresses and logs ----------------------------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        """LocalStack as the runtime reaches it: the gateway's own address, loopback if it binds all."""
        if config.HOSTNAME_FROM_LAMBDA:
            return config.HOSTNAME_FROM_LAMBDA
        host = config.GATEWAY_LISTEN[0].host
        # Workers reach LocalStack on loopback when it listens on every interface.
        return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # nosec B104 - a comparison, not a bind

    def get_runtime_endpoint(self) -> str:
        return (
            f"http://{self.get_endpoint_from_executor()}:{config.GATEWAY_LISTEN[0].port}"
            f"{self.executor_endpoint.get_endpoint_prefix()}"
        )

    def get_logs(self) -> str:
        return self._read_output() or "(no output from the Lambda runtime process)"

    # -- versions --------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """Check the runtime is served, unzip code and layers (LocalStack's cache; offline)."""
        config_ = function_version.config
        if config_.package_type != PackageType.Zip:
            raise UnsupportedFunctionError(
                f"Package type {config_.package_type} is not supported by the local-process Lambda "
                "executor: deploy the function as a .zip package."
            )
        resolve_interpreter(config_.runtime)
        config_.code.prepare_for_execution()
        opt_directory(config_.layers)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to undo: unzipped code is LocalStack's cache, merged layer trees are shared."""

    @classmethod
    def validate_environment(cls) -> bool:
        runtimes = configured_runtimes()
        if not runtimes:
            LOG.warning(
                "local-process Lambda executor: no runtime interpreter configured; every function will "
                "fail to become Active. Set e.g. LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12=<path to python>."
            )
            return False
        valid = True
        for variable, value in sorted(runtimes.items()):
            path = Path(value)
            if not path.is_file() or not os.access(path, os.X_OK):
                LOG.warning(
                    "local-process Lambda executor: %s=%s is not an executable file.", variable, value
                )
                valid = False
            else:
                LOG.info("local-process Lambda executor: %s=%s", variable, value)
        return valid


def _deliver(port: int, payload: dict[str, str]) -> None:
    """POST the invocation to the worker's /invoke.

    Plain http.client: a direct loopback call (no proxy settings apply), and ~3 ms cheaper per
    invocation than a requests call, which builds a session each time.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=INVOKE_DELIVERY_TIMEOUT_SECONDS)
    try:
        connection.request(
            "POST", "/invoke", json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise http.client.HTTPException(f"/invoke answered HTTP {response.status}")
    finally:
        connection.close()


def _settle(future: Future, result: object = None, exception: BaseException | None = None) -> None:
    """Resolve ``future`` unless someone else already did (or cancelled it)."""
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except (InvalidStateError, CancelledError):
        pass


def _json(error: dict[str, str]) -> bytes:
    return json.dumps(error).encode()
