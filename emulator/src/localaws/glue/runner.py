"""Execute ``pythonshell`` job runs as local subprocesses, the way AWS Glue Python shell runs them.

Per run (in its own thread), under ``<state_dir>/runs/<JobRunId>/``:

1. fetch the script from ``Command.ScriptLocation`` (S3, through the local endpoint);
2. ``pip install --target`` the ``--additional-python-modules`` (plus ``--python-modules-installer-option``),
   or reuse an earlier run's install of the same pinned modules (see :class:`ModuleCache`);
3. fetch ``--extra-py-files`` (.py / .zip / .whl) and put them on the path after those modules;
4. start the job's interpreter with Glue's ``sys.argv`` (script, Glue's own options, the job's
   DefaultArguments overlaid by the run's Arguments, NonOverridableArguments, ``--JOB_RUN_ID``,
   ``--JOB_NAME``) and an environment that reaches only the local emulation;
5. stream stdout/stderr to CloudWatch Logs; enforce ``Timeout`` and stop requests by killing the
   process group; report the outcome to the backend.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .cloudwatch import ERROR_LOG_GROUP, OUTPUT_LOG_GROUP, LogShipper
from .config import PYTHON_INTERPRETER_ENV, Settings
from .exceptions import (
    AwsEndpointUnavailable,
    ExtraPyFileUnavailable,
    InterpreterNotConfigured,
    JobRunFailure,
    ModuleInstallFailed,
    RuntimeSetupFailed,
    ScriptNotFound,
    UnsupportedJobCommand,
)
from . import spark
from .models import PYTHON_SHELL, GlueBackend, Job, JobRun, JobRunState

log = logging.getLogger(__name__)

JOB_RUNTIME_SOURCE = Path(__file__).with_name("job_runtime")
# awsglue-dev files that make `awsglue.utils.getResolvedOptions` work without pyspark
# (utils.py imports only awsglue.job; job.py imports nothing).
AWSGLUE_FILES = ("utils.py", "job.py")
# Host variables a job inherits; everything else (AWS_* credentials and profiles above all) is dropped.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME")
# pip (for --additional-python-modules) also keeps the host's index/proxy settings; the job itself does
# not get proxies, which would route its calls to the local endpoint through them.
PIP_ENV_PREFIXES = ("PIP_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
# Not a secret: the emulation accepts any credentials; these keep real ones out of job processes.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}  # nosec B105
POLL_INTERVAL = 0.1  # how often a supervised process is checked for exit, stop request and deadline
# A requirement whose result pip cannot change between runs: an exact `name==version` (extras allowed).
PINNED_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]*\])?==[A-Za-z0-9.+!*_-]+$")
MODULE_CACHE_DIR = "python-modules-cache"
MODULE_CACHE_MARKER = ".localaws-module-cache.json"


@dataclass
class _RunControl:
    """What the service thread needs to stop one run."""

    run_dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen | None = None


class _Stopped(Exception):
    """The run was stopped (BatchStopJobRun) while it was being prepared or run."""


class _TimedOut(Exception):
    """The run used up its Timeout."""


class ModuleCache:
    """Installed ``--additional-python-modules``, shared read-only by later runs (an emulation speed-up).

    AWS Glue pip-installs the modules at the start of every run. Here, when every module is pinned
    (``name==version``), the first run installs them into ``<state>/python-modules-cache/<key>/``
    and later runs put that directory on their path instead of running pip again: the same files
    pip would install, without the downloads and install time per run nor the need for the package
    index. ``<key>`` hashes the module specs, the installer options and the interpreter (its path and
    the mtime of that path, which changes when the environment is recreated), so any change installs
    afresh. Unpinned specs (``tabulate``, ``pandas>=2``) are installed per run, as on AWS, because the
    index may resolve them differently each time. Files in an entry are made read-only so a job
    cannot alter what the next run imports (not enforced for root). Delete the directory to force
    fresh installs.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @staticmethod
    def cacheable(specs: Sequence[str]) -> bool:
        return bool(specs) and all(PINNED_REQUIREMENT.match(spec.split()[0]) for spec in specs)

    @staticmethod
    def key(specs: Sequence[str], options: Sequence[str], python: str) -> str:
        identity = {"specs": list(specs), "options": list(options), "python": python,
                    "python_mtime_ns": os.lstat(python).st_mtime_ns}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]

    def lock(self, key: str) -> threading.Lock:
        """Serialises installs of one entry (concurrent runs of one job wait for the first install)."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def lookup(self, key: str) -> Path | None:
        entry = self.root / key
        return entry if (entry / MODULE_CACHE_MARKER).is_file() else None

    def staging(self, key: str, run_id: str) -> Path:
        return self.root / f".{key}.{run_id}.partial"

    def publish(self, key: str, staged: Path, specs: Sequence[str], options: Sequence[str]) -> Path:
        """Move a finished install into place and make it read-only."""
        (staged / MODULE_CACHE_MARKER).write_text(json.dumps({"specs": list(specs), "options": list(options)}))
        entry = self.root / key
        shutil.rmtree(entry, ignore_errors=True)  # an unfinished leftover (no marker) from a crash
        os.replace(staged, entry)
        _make_read_only(entry)
        return entry


class JobRunner:
    """Starts, supervises and stops job runs; one thread per run."""

    def __init__(self, settings: Settings, self_endpoint: str) -> None:
        self.settings = settings
        self.self_endpoint = self_endpoint
        self.backend: GlueBackend | None = None  # set by the app once the backend exists
        self._controls: dict[str, _RunControl] = {}
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], object] = {}
        self._runtime_dirs: dict[str, Path] = {}
        self._shutting_down = False
        self.module_cache = ModuleCache(settings.state_dir / MODULE_CACHE_DIR)

    # ----- callbacks from the backend ----------------------------------------------------------
    def start(self, job: Job, run: JobRun) -> None:
        control = _RunControl(run_dir=self.settings.state_dir / "runs" / run.id)
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
            _kill_group(control.process)

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
            _kill_group(control.process)

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

    # ----- one run -----------------------------------------------------------------------------
    def _execute(self, job: Job, run: JobRun, control: _RunControl) -> None:
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
        self, job: Job, run: JobRun, control: _RunControl, deadline: float
    ) -> tuple[JobRunState, str | None]:
        run_dir = control.run_dir
        (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
        logs = self._client("logs", run.region)
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
            python = self._spark_interpreter(run) if is_spark else self._interpreter(job)
            arguments = {**job.default_arguments, **run.arguments, **job.non_overridable_arguments}
            script = self._fetch_script(job.command["ScriptLocation"], run_dir, run.region)
            runtime = self._runtime_dir(python)
            if is_spark:
                spark.add_awsglue_modules(runtime)
            path = [str(runtime)]
            modules = self._install_modules(python, arguments, run, control, deadline, output, error)
            if modules:
                path.append(str(modules))
            path += self._fetch_extra_py_files(arguments.get("--extra-py-files", ""), run_dir, run.region)
            argv = [python, str(script), *glue_argv(job, run, arguments)]
            env = self._job_env(run, runtime, path)
            if is_spark:
                env.update(self._spark_setup(job, run, arguments, python, run_dir, output))
            rc = self._supervise(
                argv,
                env,
                run_dir,
                control,
                deadline,
                output,
                error,
                stderr_tail,
                run.id,
            )
        except JobRunFailure as exc:
            error.write(f"[localaws-glue] {exc}")
            return JobRunState.FAILED, str(exc)
        except _Stopped:
            return JobRunState.STOPPED, None
        except _TimedOut:
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
        return JobRunState.FAILED, _error_message(stderr_tail, rc)

    # ----- preparation -------------------------------------------------------------------------
    def _interpreter(self, job: Job) -> str:
        command = job.command
        if command.get("Name") != PYTHON_SHELL:
            raise UnsupportedJobCommand(
                f"Command.Name {command.get('Name')!r} is not executed by this Glue emulation: only "
                f"'{PYTHON_SHELL}' and '{spark.GLUE_ETL}' (GlueVersion 5.0) jobs run locally (Ray and streaming "
                f"jobs need real AWS Glue)."
            )
        version = command.get("PythonVersion", "3")
        env_name = PYTHON_INTERPRETER_ENV.get(version)
        if env_name is None:
            supported = ", ".join(sorted(PYTHON_INTERPRETER_ENV))
            raise UnsupportedJobCommand(
                f"Python shell PythonVersion {version!r} is not emulated (supported: {supported}). "
                f"Set Command.PythonVersion to 3.9."
            )
        python = self.settings.python_interpreters.get(version)
        if not python:
            raise InterpreterNotConfigured(
                f"No Python {version} interpreter configured for pythonshell jobs: set {env_name} to the "
                f"python of "
                f"the glue-pythonshell-{version} environment (create it with "
                f"`ONLY=glue-pythonshell-{version} scripts/bootstrap.sh`) and restart the Glue service."
            )
        if not os.access(python, os.X_OK):
            raise InterpreterNotConfigured(
                f"{env_name}={python} is not an executable file. Fix the path and restart the service."
            )
        return python

    def _spark_interpreter(self, run: JobRun) -> str:
        spark.check_glue_version(run.glue_version)
        return spark.spark_interpreter(self.settings.spark_python)

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
        jars += self._fetch_extra_jars(arguments.get("--extra-jars", ""), run_dir, run.region)
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

    def _fetch_extra_jars(self, value: str, run_dir: Path, region: str) -> list[str]:
        jars: list[str] = []
        for location in [v.strip() for v in value.split(",") if v.strip()]:
            bucket, key = _parse_s3(location, "--extra-jars")
            target = run_dir / "extra-jars" / Path(key).name
            try:
                self._download(bucket, key, target, region)
            except ClientError as exc:
                raise ExtraPyFileUnavailable(f"Cannot fetch --extra-jars entry {location}: {_describe(exc)}.") from None
            except BotoCoreError as exc:
                raise self._endpoint_unavailable(exc) from None
            jars.append(str(target))
        return jars

    def _runtime_dir(self, python: str) -> Path:
        """Per-interpreter dir first on every job's path: the awsglue package stub and sitecustomize."""
        with self._lock:
            if python in self._runtime_dirs:
                return self._runtime_dirs[python]
        # find_spec locates the package without executing its (pyspark-importing) __init__.
        probe = (
            "import importlib.util as u; s = u.find_spec('awsglue'); "
            "print(s.submodule_search_locations[0] if s else '')"
        )
        found = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=60, env=_base_env(), check=False
        )
        source = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None
        if source is None or not all((source / name).is_file() for name in AWSGLUE_FILES):
            raise RuntimeSetupFailed(
                f"{python} has no awsglue-dev installation to take awsglue/utils.py from. Recreate the job "
                f"environment from emulator/requirements/glue-pythonshell-3.9.txt (scripts/bootstrap.sh)."
            )
        key = hashlib.sha256(python.encode()).hexdigest()[:16]
        target = self.settings.state_dir / "runtime" / key
        package = target / "awsglue"
        package.mkdir(parents=True, exist_ok=True)
        # An empty __init__ skips awsglue-dev's own, which imports pyspark (absent in Python shell).
        (package / "__init__.py").write_text(
            '"""awsglue stub for Python shell: utils and job only (no pyspark)."""\n'
        )
        for name in AWSGLUE_FILES:
            shutil.copyfile(source / name, package / name)
        shutil.copyfile(JOB_RUNTIME_SOURCE / "sitecustomize.py", target / "sitecustomize.py")
        # Job-wide AWS config instead of the host's ~/.aws: path-style S3, because botocore 1.24 would
        # address buckets as <bucket>.<endpoint host>, which does not resolve for a local endpoint.
        (target / "aws-config").write_text("[default]\ns3 =\n    addressing_style = path\n")
        (target / "aws-credentials").write_text("")
        with self._lock:
            self._runtime_dirs[python] = target
        return target

    def _fetch_script(self, location: str, run_dir: Path, region: str) -> Path:
        bucket, key = _parse_s3(location, "Command.ScriptLocation")
        target = run_dir / "glue-python-scripts" / (Path(key).name or "script.py")
        try:
            self._download(bucket, key, target, region)
        except ClientError as exc:
            raise ScriptNotFound(
                f"Cannot fetch the job script {location}: {_describe(exc)}. Upload the script there or fix "
                f"Command.ScriptLocation."
            ) from None
        except BotoCoreError as exc:
            raise self._endpoint_unavailable(exc) from None
        return target

    def _fetch_extra_py_files(self, value: str, run_dir: Path, region: str) -> list[str]:
        entries: list[str] = []
        folder = run_dir / "extra-py-files"
        for location in [v.strip() for v in value.split(",") if v.strip()]:
            bucket, key = _parse_s3(location, "--extra-py-files")
            suffix = Path(key).suffix.lower()
            if suffix not in (".py", ".zip", ".whl"):
                raise ExtraPyFileUnavailable(
                    f"--extra-py-files entry {location}: only .py, .zip and .whl are supported in "
                    f"Python shell 3.9 "
                    f"(AWS: no .egg files in Python 3.9+)."
                )
            target = folder / Path(key).name
            try:
                self._download(bucket, key, target, region)
            except ClientError as exc:
                raise ExtraPyFileUnavailable(
                    f"Cannot fetch --extra-py-files entry {location}: {_describe(exc)}."
                ) from None
            except BotoCoreError as exc:
                raise self._endpoint_unavailable(exc) from None
            # .py files are imported from their folder; .zip/.whl archives through zipimport.
            entry = str(folder) if suffix == ".py" else str(target)
            if entry not in entries:
                entries.append(entry)
        return entries

    def _install_modules(
        self,
        python: str,
        arguments: dict[str, str],
        run: JobRun,
        control: _RunControl,
        deadline: float,
        output: LogShipper,
        error: LogShipper,
    ) -> Path | None:
        specs = [s.strip() for s in arguments.get("--additional-python-modules", "").split(",") if s.strip()]
        if not specs:
            return None
        options = arguments.get("--python-modules-installer-option", "").split()
        if not self.module_cache.cacheable(specs):
            target = control.run_dir / "python-modules"
            self._pip_install(python, specs, options, target, control, deadline, output, error)
            return target
        cache, key = self.module_cache, self.module_cache.key(specs, options, python)
        with cache.lock(key):
            cached = cache.lookup(key)
            if cached is not None:
                log.info("run %s reuses --additional-python-modules from %s", run.id, cached)
                return cached
            staged = cache.staging(key, run.id)
            try:
                self._pip_install(python, specs, options, staged, control, deadline, output, error)
                return cache.publish(key, staged, specs, options)
            finally:
                shutil.rmtree(staged, ignore_errors=True)  # gone already unless pip failed or was stopped

    def _pip_install(
        self,
        python: str,
        specs: list[str],
        options: list[str],
        target: Path,
        control: _RunControl,
        deadline: float,
        output: LogShipper,
        error: LogShipper,
    ) -> None:
        argv = pip_install_argv(python, specs, options, target)
        tail: collections.deque[str] = collections.deque(maxlen=20)
        env = pip_env()
        rc = self._supervise(argv, env, control.run_dir, control, deadline, output, error, tail, run_id=None)
        if rc != 0:
            last = next((line for line in reversed(tail) if line.strip()), f"exit code {rc}")
            raise ModuleInstallFailed(
                f"Installing --additional-python-modules {', '.join(specs)} failed: {last}"
            )

    # ----- process supervision -----------------------------------------------------------------
    def _supervise(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        cwd: Path,
        control: _RunControl,
        deadline: float,
        output: LogShipper,
        error: LogShipper,
        stderr_tail: collections.deque[str],
        run_id: str | None,
    ) -> int:
        """Run a child in its own process group, stream its output; raise on stop or timeout."""
        if control.stop.is_set():
            raise _Stopped()
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
        if run_id is not None and self.backend is not None:
            self.backend.set_pid(run_id, process.pid)

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
        try:
            while process.poll() is None:
                if control.stop.wait(POLL_INTERVAL):
                    _kill_group(process)
                    raise _Stopped()
                if time.monotonic() >= deadline:
                    _kill_group(process)
                    raise _TimedOut()
        finally:
            process.wait()
            control.process = None
            for pump in pumps:
                pump.join(timeout=10)
        return process.returncode

    def _job_env(self, run: JobRun, runtime: Path, path: list[str]) -> dict[str, str]:
        env = _base_env()
        env.update(DUMMY_CREDENTIALS)
        env.update(
            {
                "AWS_CONFIG_FILE": str(runtime / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(runtime / "aws-credentials"),
                "AWS_ENDPOINT_URL": self.settings.aws_endpoint,
                # A job that calls Glue (e.g. to read its own run) must reach this service, not LocalStack.
                "AWS_ENDPOINT_URL_GLUE": self.self_endpoint,
                "AWS_DEFAULT_REGION": run.region,
                "AWS_REGION": run.region,
                "PYTHONPATH": os.pathsep.join(path),
                "PYTHONUNBUFFERED": "1",  # stream prints to CloudWatch as they happen, like Glue does
                "TMPDIR": str(self.settings.state_dir / "runs" / run.id / "tmp"),
            }
        )
        return env

    # ----- AWS access of the service itself ----------------------------------------------------
    def client(self, service: str, region: str):
        """A client of the local endpoint for ``service`` (also used by the service's event sender)."""
        return self._client(service, region)

    def _client(self, service: str, region: str):
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                # A session blind to the host's AWS_PROFILE and ~/.aws files: this service only ever
                # talks to the local endpoint, with dummy credentials.
                core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
                core.set_config_variable("config_file", os.devnull)
                core.set_config_variable("credentials_file", os.devnull)
                self._clients[key] = boto3.session.Session(botocore_session=core).client(
                    service,
                    endpoint_url=self.settings.aws_endpoint,
                    region_name=region,
                    aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    config=Config(
                        retries={"max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"}
                    ),
                )
            return self._clients[key]

    def _endpoint_unavailable(self, exc: Exception) -> AwsEndpointUnavailable:
        return AwsEndpointUnavailable(
            f"The local AWS endpoint {self.settings.aws_endpoint} did not answer ({exc}). Start LocalStack "
            f"(`make up`) or point LOCALAWS_GLUE_AWS_ENDPOINT at it, then start the job again."
        )

    def _download(self, bucket: str, key: str, target: Path, region: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        body = self._client("s3", region).get_object(Bucket=bucket, Key=key)["Body"]
        with target.open("wb") as fh:
            shutil.copyfileobj(body, fh)


def pip_install_argv(python: str, specs: Sequence[str], options: Sequence[str], target: Path) -> list[str]:
    """How ``--additional-python-modules`` are installed (by a run, or ahead of time by ``prepare``)."""
    argv = [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-warn-script-location",
        "--target",
        str(target),
        *options,
    ]
    for spec in specs:
        argv += spec.split()  # AWS allows pip options inside an entry, e.g. "pkg==1 -i URL"
    return argv


def pip_env() -> dict[str, str]:
    """pip's environment: the job's base variables plus the host's index/proxy settings."""
    return {**_base_env(), **{k: v for k, v in os.environ.items() if k.startswith(PIP_ENV_PREFIXES)}}


def glue_argv(job: Job, run: JobRun, arguments: dict[str, str]) -> list[str]:
    """``sys.argv[1:]`` as Glue Python shell builds it.

    Glue puts its own options first (observed on Python shell: ``--job-bookmark-option
    job-bookmark-disable --scriptLocation <s3 url> --job-language python``), then the job's arguments
    (DefaultArguments overlaid by the run's Arguments; NonOverridableArguments last), then the run's
    identity (``--JOB_RUN_ID``, ``--JOB_NAME``), which ``getResolvedOptions`` reserves.
    """
    argv = [
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--scriptLocation",
        job.command["ScriptLocation"],
        "--job-language",
        "python",
    ]
    glue_owned = {"--job-bookmark-option", "--scriptLocation", "--job-language", "--JOB_RUN_ID", "--JOB_NAME"}
    for name, value in arguments.items():
        if name in glue_owned:
            continue
        argv += [name, value]
    argv += ["--JOB_RUN_ID", run.id, "--JOB_NAME", job.name]
    return argv


def _make_read_only(root: Path) -> None:
    """Clear the write bits of every file below ``root``.

    Directories stay writable so that ``rm -rf`` (``make clean``) still removes the cache.
    """
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _base_env() -> dict[str, str]:
    return {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}


def _kill_group(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass  # exited in between


def _parse_s3(location: str, what: str) -> tuple[str, str]:
    parsed = urlparse(location)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ScriptNotFound(f"{what} {location!r} is not an s3://bucket/key URL.")
    return parsed.netloc, parsed.path.lstrip("/")


def _describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')} ({error.get('Message') or 'no message'})"


def _error_message(stderr_tail: collections.deque[str], rc: int) -> str:
    """ErrorMessage of a failed script: the exception line of its last traceback, as Glue reports it."""
    lines = [line for line in stderr_tail if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        return lines[-1].strip()
    if rc < 0:
        return f"Job process was killed by signal {-rc}."
    return f"Command failed with exit code {rc}."
