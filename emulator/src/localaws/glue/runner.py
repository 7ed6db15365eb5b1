"""Execute ``pythonshell`` job runs as local subprocesses, the way AWS Glue Python shell runs them.

Per run (in its own thread), under ``<state_dir>/runs/<JobRunId>/``:

1. fetch the script from ``Command.ScriptLocation`` (S3, through the local endpoint);
2. ``pip install --target`` the ``--additional-python-modules`` (plus ``--python-modules-installer-option``;
   ``s3://`` wheels are keyed by their ETag's MD5, downloaded only on a cache miss, installed without an index),
   or reuse an earlier run's install of the same pinned modules (:mod:`.module_cache`);
3. fetch ``--extra-py-files`` (.py / .zip / .whl) and put them on the path after those modules;
4. start the job's interpreter with Glue's ``sys.argv`` (script, Glue's own options, the job's
   DefaultArguments overlaid by the run's Arguments, NonOverridableArguments, ``--JOB_RUN_ID``,
   ``--JOB_NAME``) and an environment that reaches only the local emulation;
5. stream stdout/stderr to CloudWatch Logs; enforce ``Timeout`` and stop requests by killing the
   process group; report the outcome to the backend.

This module orchestrates those steps; each step lives in its own module: :mod:`.s3_fetch` (clients of
the local endpoint, downloads), :mod:`.module_cache` (step 2), :mod:`.job_env` (argv, environment,
runtime dir), :mod:`.supervision` (the child process, stop and timeout), :mod:`.spark` (glueetl runs).
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path

from . import spark
from .cloudwatch import ERROR_LOG_GROUP, OUTPUT_LOG_GROUP, LogShipper
from .config import PYTHON_INTERPRETER_ENV, SPARK_RUNTIME_KEY, Settings
from .exceptions import JobRunFailure, UnsupportedJobCommand
from .job_env import RuntimeDirs, glue_argv, job_env
from .memory import OutOfMemory, python_shell_memory_limit
from .backend import GlueBackend
from .models import PYTHON_SHELL, Job, JobRun, JobRunState
from .module_cache import MODULE_CACHE_DIR, ModuleCache, install_modules
from .s3_fetch import LocalAws
from .supervision import RunControl, Stopped, TimedOut, error_message, kill_group, supervise

log = logging.getLogger(__name__)


class JobRunner:
    """Starts, supervises and stops job runs; one thread per run."""

    def __init__(self, settings: Settings, self_endpoint: str) -> None:
        self.settings = settings
        self.self_endpoint = self_endpoint
        self.backend: GlueBackend | None = None  # set by the app once the backend exists
        self._controls: dict[str, RunControl] = {}
        self._lock = threading.Lock()
        self._shutting_down = False
        self.aws = LocalAws(settings.aws_endpoint)
        self.runtime_dirs = RuntimeDirs(settings.state_dir / "runtime")
        self.module_cache = ModuleCache(settings.state_dir / MODULE_CACHE_DIR)

    # ----- callbacks from the backend ----------------------------------------------------------
    def start(self, job: Job, run: JobRun) -> None:
        control = RunControl(run_dir=self.settings.state_dir / "runs" / run.id)
        with self._lock:
            self._controls[run.id] = control
        threading.Thread(
            target=self._execute, args=(job, run, control), name=f"run-{run.id[:11]}", daemon=True
        ).start()

    def request_stop(self, run: JobRun) -> None:
        with self._lock:
            control = self._controls.get(run.id)
        if control is not None:
            control.stop.set()
            kill_group(control.process)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._controls)

    def shutdown(self) -> None:
        """Kill every job process (the service is going away; the runs are failed at the next start)."""
        with self._lock:
            self._shutting_down = True
            controls = list(self._controls.values())
        for control in controls:
            control.stop.set()
            kill_group(control.process)

    def reap_orphans(self) -> None:
        """Kill job processes a crashed previous service instance left behind (pid + run dir must match)."""
        if self.backend is None:
            raise RuntimeError("JobRunner.backend must be set before runs are recovered")
        for run_id, pid in self.backend.orphaned_pids():
            marker = str(self.settings.state_dir / "runs" / run_id)
            try:
                cmdline = (
                    Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except OSError:
                cmdline = ""  # gone already (or no /proc): nothing to kill
            if marker in cmdline:
                log.warning("killing process group %d left over from run %s", pid, run_id)
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.backend.set_pid(run_id, None)

    def client(self, service: str, region: str):
        """A client of the local endpoint for ``service`` (also used by the service's event sender)."""
        return self.aws.client(service, region)

    # ----- one run -----------------------------------------------------------------------------
    def _execute(self, job: Job, run: JobRun, control: RunControl) -> None:
        backend = self.backend
        if backend is None:
            raise RuntimeError("JobRunner.backend must be set before runs start")
        try:
            if not backend.mark_running(run.id):
                backend.finish_run(run.id, JobRunState.STOPPED)
                return
            deadline = time.monotonic() + run.timeout * self.settings.seconds_per_minute
            outcome, message = self._run(job, run, control, deadline)
        except Exception as exc:
            log.exception("run %s of %s crashed the runner", run.id, job.name)
            outcome, message = (
                JobRunState.FAILED,
                f"Internal error in the Glue emulation: {exc!r} (see the service log).",
            )
        finally:
            with self._lock:
                self._controls.pop(run.id, None)
                shutting_down = self._shutting_down
        if shutting_down:
            return  # killed by the shutdown, not by the job: the next start fails the run
        backend.finish_run(run.id, outcome, message)
        backend.set_pid(run.id, None)

    def _run(
        self, job: Job, run: JobRun, control: RunControl, deadline: float
    ) -> tuple[JobRunState, str | None]:
        run_dir = control.run_dir
        (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
        logs = self.client("logs", run.region)
        # Python shell: /aws-glue/python-jobs/{output,error}; Spark: /aws-glue/jobs/{output,error}.
        spark_logs = spark.is_spark(job.command)
        output = LogShipper(
            logs, spark.OUTPUT_LOG_GROUP if spark_logs else OUTPUT_LOG_GROUP, run.id, run_dir / "output.log"
        )
        error = LogShipper(
            logs, spark.ERROR_LOG_GROUP if spark_logs else ERROR_LOG_GROUP, run.id, run_dir / "error.log"
        )
        stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        try:
            is_spark = spark.is_spark(job.command)
            python = self._interpreter(job, run)
            arguments = {**job.default_arguments, **run.arguments, **job.non_overridable_arguments}
            script = self.aws.fetch_script(job.command["ScriptLocation"], run_dir, run.region)
            runtime = self.runtime_dirs.for_interpreter(python)
            if is_spark:
                spark.add_awsglue_modules(runtime)
            path = [str(runtime)]
            modules = install_modules(
                self.module_cache, python, arguments, run.id, control, deadline, output, error,
                self.aws.module_wheels(run.region),
            )
            if modules:
                path.append(str(modules))
            path += self.aws.fetch_extra_py_files(arguments.get("--extra-py-files", ""), run_dir, run.region)
            argv = [python, str(script), *glue_argv(job, run, arguments)]
            env = job_env(run, runtime, path, self.settings.aws_endpoint, self.self_endpoint, run_dir)
            if is_spark:
                env.update(self._spark_setup(job, run, arguments, python, run_dir, output))
            rc = supervise(
                argv, env, run_dir, control, deadline, output, error, stderr_tail, on_start=self._pid_recorder(run),
                memory_limit=self._memory_limit(job, run),
            )
        except OutOfMemory as exc:
            message = out_of_memory_message(exc, run.max_capacity)
            error.write(f"[localaws-glue] {message}\n")
            return JobRunState.FAILED, message
        except JobRunFailure as exc:
            error.write(f"[localaws-glue] {exc}")
            return JobRunState.FAILED, str(exc)
        except Stopped:
            return JobRunState.STOPPED, None
        except TimedOut:
            return (
                JobRunState.TIMEOUT,
                f"Job run timed out after {run.timeout} minute(s) (the run's Timeout).",
            )
        finally:
            output.close()
            error.close()
            shutil.rmtree(run_dir / "python-modules", ignore_errors=True)
        if rc == 0:
            return JobRunState.SUCCEEDED, None
        return JobRunState.FAILED, error_message(stderr_tail, rc)

    def _memory_limit(self, job: Job, run: JobRun) -> int | None:
        """The memory a run has on AWS (Python shell: its capacity's), or None when not held to it."""
        if not self.settings.memory_limits or job.command.get("Name") != PYTHON_SHELL:
            return None
        return python_shell_memory_limit(run.max_capacity)

    def _pid_recorder(self, run: JobRun):
        backend = self.backend
        return None if backend is None else (lambda pid: backend.set_pid(run.id, pid))

    # ----- preparation -------------------------------------------------------------------------
    def _interpreter(self, job: Job, run: JobRun) -> str:
        """The interpreter of the job's runtime; raises the reason a job of this kind cannot run here."""
        command = job.command
        if spark.is_spark(command):
            spark.check_glue_version(run.glue_version)
            return self.settings.interpreter(SPARK_RUNTIME_KEY)
        if command.get("Name") != PYTHON_SHELL:
            raise UnsupportedJobCommand(
                f"Command.Name {command.get('Name')!r} is not executed by this Glue emulation: only "
                f"'{PYTHON_SHELL}' and '{spark.GLUE_ETL}' (GlueVersion 5.0) jobs run locally (Ray and streaming "
                f"jobs need real AWS Glue)."
            )
        version = command.get("PythonVersion", "3")
        if version not in PYTHON_INTERPRETER_ENV:
            supported = ", ".join(sorted(PYTHON_INTERPRETER_ENV))
            raise UnsupportedJobCommand(
                f"Python shell PythonVersion {version!r} is not emulated (supported: {supported}). "
                f"Set Command.PythonVersion to 3.9."
            )
        return self.settings.interpreter(version)

    def _spark_setup(
        self, job: Job, run: JobRun, arguments: dict[str, str], python: str, run_dir: Path, output: LogShipper
    ) -> dict[str, str]:
        """Spark configuration of a glueetl run (see :mod:`localaws.glue.spark`); returns its env additions."""
        definition = job.definition
        cap = spark.capacity(
            run.settings.get("WorkerType") or definition.get("WorkerType"),
            run.settings.get("NumberOfWorkers") or definition.get("NumberOfWorkers"),
            run.max_capacity,
        )
        if self.backend is not None:
            self.backend.set_dpus(run.id, cap.dpus)
        output.write(f"[localaws-glue] capacity: {cap.describe()}\n")
        for name in spark.IGNORED_PARAMETERS:
            if name in arguments:
                output.write(f"[localaws-glue] {name}={arguments[name]}: accepted, no local effect\n")
        jars = spark.s3a_jars(python)
        jars += self.aws.fetch_extra_jars(arguments.get("--extra-jars", ""), run_dir, run.region)
        conf = spark.parse_conf(arguments.get("--conf", ""))
        for key, _value in conf:
            if key.startswith(spark.PROTECTED_CONF_PREFIX):
                output.write(f"[localaws-glue] --conf {key} ignored: S3 access stays on the local emulation\n")
        conf_dir = run_dir / "spark-conf"
        conf_dir.mkdir(parents=True, exist_ok=True)
        (conf_dir / "spark-defaults.conf").write_text(
            spark.spark_defaults(cap, jars, self.settings.aws_endpoint, run_dir, conf)
        )
        return spark.spark_env(run_dir, python, conf_dir)


def out_of_memory_message(exc: OutOfMemory, max_capacity: float | None) -> str:
    """ErrorMessage of a run killed for memory: what it used, what its capacity has, what to do next."""
    mib = 1024**2
    return (f"Job run used {exc.used / mib:,.0f} MiB of memory, above the {exc.limit / mib:,.0f} MiB a Python shell "
            f"run has at MaxCapacity {max_capacity if max_capacity is not None else 0.0625} (1 DPU = 16 GB); "
            f"on AWS it would be killed too. Start it with MaxCapacity 1, or make the job use less memory "
            f"(LOCALAWS_GLUE_MEMORY_LIMITS=0 turns this check off).")
