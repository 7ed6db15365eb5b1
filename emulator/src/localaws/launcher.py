"""Start, stop and inspect the host-mode emulation: LocalStack and the Glue-compatible service.

Each service is a local process started in its own session, with its output in ``<home>/logs`` and a
pid file in ``<home>/run``. A pid file records the process's start time as well, so a recycled pid is
never mistaken for ours, and ``down`` stops exactly the process trees that ``up`` started.

Nothing here knows about any particular project: interpreters, ports and the state directory are
all given by the caller (see :class:`Settings`).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import psutil

from localaws.exceptions import LauncherError
from localaws.glue import config as glue_config
from localaws.glue_gateway import gateway_environment
from localaws.lambda_executor.config import executor_environment

#: Services LocalStack offers: empty means all of them, as in a real account. A comma-separated list
#: (LOCALAWS_SERVICES) narrows it; ``glue`` is added to a narrowed list whenever the Glue service runs.
DEFAULT_SERVICES = ""

HEALTH_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Settings:
    """Everything the launcher needs; built by the CLI from options and environment variables."""

    home: Path
    localstack_python: Path
    localstack_port: int = 4566
    glue_python: Optional[Path] = None
    glue_port: int = 4567
    #: Lambda runtime name (``python3.12``) -> interpreter running functions of that runtime.
    lambda_runtimes: Dict[str, Path] = field(default_factory=dict)
    #: Glue ``pythonshell`` Python version (``3.9``) -> interpreter running job scripts.
    glue_runtimes: Dict[str, Path] = field(default_factory=dict)
    services: str = DEFAULT_SERVICES
    #: Seconds LocalStack waits before the n-th async-invoke retry (n x this); AWS uses minutes.
    lambda_retry_base_delay_s: int = 1
    bind_host: str = "127.0.0.1"

    @property
    def localstack_url(self) -> str:
        return f"http://{self.bind_host}:{self.localstack_port}"

    @property
    def glue_url(self) -> str:
        return f"http://{self.bind_host}:{self.glue_port}"


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one emulated service and how to tell it is healthy."""

    name: str
    port: int
    url: str
    command: List[str]
    env: Dict[str, str]
    health_url: str
    is_healthy: Callable[[bytes], bool]


@dataclass
class ServiceStatus:
    name: str
    state: str  # running | unhealthy | stopped | stale
    pid: Optional[int]
    port: int
    url: str
    uptime_s: Optional[float]
    log_file: Path

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "state": self.state,
            "pid": self.pid,
            "port": self.port,
            "url": self.url,
            "uptime_s": None if self.uptime_s is None else round(self.uptime_s, 1),
            "log_file": str(self.log_file),
        }


def _localstack_healthy(body: bytes) -> bool:
    try:
        services = json.loads(body).get("services", {})
    except ValueError:
        return False
    return services.get("s3") in ("available", "running")


def _glue_healthy(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


# LocalStack 1.x's Lambda switch (`LAMBDA_EXECUTOR=local`, still in many sample apps' instructions). Today's
# LocalStack ignores it but logs at startup that it is obsolete and to "mount the Docker socket", which
# host mode never needs: LAMBDA_RUNTIME_EXECUTOR=local-process (below) is what runs functions locally.
OBSOLETE_VARIABLES = frozenset({"LAMBDA_EXECUTOR"})


def _clean_env(extra: Dict[str, str], tmpdir: Path) -> Dict[str, str]:
    """The parent's environment minus anything that could point a service at real AWS or at another
    Python environment (or is obsolete, see ``OBSOLETE_VARIABLES``), plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "PYTHON", "VIRTUAL_ENV", "LOCALSTACK_", "LOCALAWS_"))
        and key not in OBSOLETE_VARIABLES
    }
    env["TMPDIR"] = str(tmpdir)
    env.update(extra)
    return env


def service_specs(settings: Settings) -> List[ServiceSpec]:
    """The services ``up`` starts: LocalStack, and the Glue service unless ``glue_python`` is None.

    Raises :class:`~localaws.exceptions.SettingRefused` for runtimes a service would ignore.
    """
    specs = [
        _spec(settings, "localstack", settings.localstack_port, settings.localstack_python,
              "localstack.runtime.main", _localstack_env(settings), "/_localstack/health", _localstack_healthy)
    ]
    if settings.glue_python is not None:
        specs.append(
            _spec(settings, "glue", settings.glue_port, settings.glue_python,
                  "localaws.glue", _glue_env(settings), "/health", _glue_healthy)
        )
    return specs


def _spec(settings: Settings, name: str, port: int, python: Path, module: str, env: Dict[str, str],
          health_path: str, is_healthy: Callable[[bytes], bool]) -> ServiceSpec:
    """``python -m module`` as service ``name`` on ``port``, in a clean environment plus ``env``."""
    url = f"http://{settings.bind_host}:{port}"
    return ServiceSpec(name=name, port=port, url=url, command=[str(python), "-m", module],
                       env=_clean_env(env, settings.home / "tmp" / name), health_url=url + health_path,
                       is_healthy=is_healthy)


def _localstack_env(settings: Settings) -> Dict[str, str]:
    home = settings.home
    localstack_env = {
        "GATEWAY_LISTEN": f"{settings.bind_host}:{settings.localstack_port}",
        # LocalStack's own "twisted" server ignores GATEWAY_LISTEN's host and listens on 0.0.0.0.
        "GATEWAY_SERVER": "twisted-bound",
        # URLs LocalStack hands out (Lambda Code.Location, SQS queue URLs) must resolve offline.
        "LOCALSTACK_HOST": f"{settings.bind_host}:{settings.localstack_port}",
        # Queue URLs as http://<host:port>/<account>/<name> (resolvable, and the form Terraform's AWS
        # provider parses; "path" adds /queue/<region> and it refuses them). The default
        # sqs.<region>.<host> style names a host that no resolver knows when <host> is an IP address.
        "SQS_ENDPOINT_STRATEGY": "off",
        # A /.dockerenv on the host would otherwise make LocalStack write into system directories.
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(home / "localstack"),
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        # Its DNS server would try to bind port 53 on the host; nothing here needs it.
        "DNS_ADDRESS": "0",
        "EAGER_SERVICE_LOADING": "0",
        "LAMBDA_RUNTIME_EXECUTOR": "local-process",
        "LAMBDA_RETRY_BASE_DELAY": str(settings.lambda_retry_base_delay_s),
        "LOCALAWS_HOME": str(home),
    }
    services = [name.strip() for name in settings.services.split(",") if name.strip()]
    function_env: Dict[str, str] = {}
    if settings.glue_python is not None:
        # One endpoint: LocalStack's port serves Glue too, through the `glue:localaws` provider plugin
        # (localaws.glue_gateway), which forwards each Glue request to the Glue service unchanged.
        localstack_env.update(gateway_environment(settings.glue_url))
        if services and "glue" not in services:
            services.append("glue")
        # Functions' Glue calls go straight to the Glue service (one hop less).
        function_env["AWS_ENDPOINT_URL_GLUE"] = settings.glue_url
    if services:
        localstack_env["SERVICES"] = ",".join(services)
    localstack_env.update(executor_environment(settings.lambda_runtimes, function_env))
    return localstack_env


def _glue_env(settings: Settings) -> Dict[str, str]:
    return glue_config.service_environment(
        host=settings.bind_host,
        port=settings.glue_port,
        state_dir=settings.home / "glue",
        aws_endpoint=settings.localstack_url,
        runtimes=settings.glue_runtimes,
    )


# --- pid files -------------------------------------------------------------------------------------


def _pid_file(home: Path, name: str) -> Path:
    return home / "run" / f"{name}.json"


def _log_file(home: Path, name: str) -> Path:
    return home / "logs" / f"{name}.log"


def _start_stamp(pid: int) -> Dict[str, float]:
    """When process ``pid`` started: as a wall-clock time and as seconds since boot.

    On Linux psutil derives a start time from the kernel's boot time, and the kernel moves its boot
    time whenever the wall clock is stepped (NTP on a freshly booted VM, a resumed snapshot). A start
    time recorded before such a step is then off by the step, so the pid file keeps seconds since boot
    too, which no clock step changes. (Where the start time is read from the wall clock directly, the
    first figure is the stable one.)
    """
    # Boot time first: reading it refreshes the one psutil caches. Then a fresh Process, whose start time
    # uses that refreshed value (a Process built earlier keeps a start time from the old one).
    boot_time = psutil.boot_time()
    create_time = psutil.Process(pid).create_time()
    return {"create_time": create_time, "since_boot": create_time - boot_time}


def _read_owned_process(home: Path, name: str) -> Optional[psutil.Process]:
    """The process recorded in the pid file, if it is still the one we started."""
    path = _pid_file(home, name)
    try:
        record = json.loads(path.read_text())
        process = psutil.Process(record["pid"])
        stamp = _start_stamp(process.pid)
        # A pid file written before "since_boot" was recorded has "create_time" only.
        if not any(abs(stamp[key] - record[key]) <= 0.01 for key in stamp if key in record):
            return None  # the pid was recycled by an unrelated process
        return process
    except (OSError, ValueError, KeyError, psutil.Error):
        return None


def _probe(url: str, timeout: float = 1.0) -> Optional[bytes]:
    try:
        # Only health URLs this module builds from its own host and port (http) reach here.
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310
            return response.read()
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _who_listens(port: int) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                proc = psutil.Process(conn.pid)
                return f"pid {conn.pid}: {' '.join(proc.cmdline())[:120]}"
    except (psutil.Error, OSError):
        pass
    return "an unknown process"


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- operations ------------------------------------------------------------------------------------


def status(settings: Settings) -> List[ServiceStatus]:
    result = []
    for spec in service_specs(settings):
        process = _read_owned_process(settings.home, spec.name)
        if process is None:
            state = "stale" if _pid_file(settings.home, spec.name).exists() else "stopped"
            result.append(ServiceStatus(spec.name, state, None, spec.port, spec.url, None, _log_file(settings.home, spec.name)))
            continue
        body = _probe(spec.health_url)
        state = "running" if body is not None and spec.is_healthy(body) else "unhealthy"
        result.append(
            ServiceStatus(
                spec.name, state, process.pid, spec.port, spec.url,
                time.time() - process.create_time(), _log_file(settings.home, spec.name),
            )
        )
    return result


def start(settings: Settings, on_progress: Callable[[str], None] = lambda _msg: None) -> List[ServiceStatus]:
    """Start every service that is not already running (idempotent) and wait until all are healthy.

    Raises LauncherError with the reason and the service's last log lines when a port is taken by
    someone else, an interpreter is missing, a process exits early, or health is not reached in time.
    """
    for sub in ("logs", "run", "tmp/localstack", "tmp/glue", "localstack", "glue"):
        (settings.home / sub).mkdir(parents=True, exist_ok=True)

    # LocalStack keeps nothing across a restart: when it starts, the account is empty, and the Glue
    # service must be too (one emulation, one account). A Glue service still running is restarted.
    new_account = _read_owned_process(settings.home, "localstack") is None
    started: List[tuple] = []
    for spec in service_specs(settings):
        if not Path(spec.command[0]).exists():
            raise LauncherError(
                f"{spec.name}: interpreter {spec.command[0]} does not exist. "
                "Create the environments first (`make bootstrap`)."
            )
        running = _read_owned_process(settings.home, spec.name)
        if running is not None and new_account and spec.name == "glue":
            on_progress("glue restarting: LocalStack starts empty, so the Glue service starts empty too")
            _stop_tree(running)
        elif running is not None:
            on_progress(f"{spec.name} already running")
            continue
        env = spec.env
        if new_account and spec.name == "glue":
            env = {**spec.env, glue_config.ENV_FRESH_START: "1"}
        _pid_file(settings.home, spec.name).unlink(missing_ok=True)
        if _port_in_use(settings.bind_host, spec.port):
            raise LauncherError(
                f"{spec.name}: port {spec.port} is already in use by {_who_listens(spec.port)}. "
                f"Stop that process or choose another port (see `make help`)."
            )
        log_path = _log_file(settings.home, spec.name)
        log = open(log_path, "ab")
        log.write(f"\n--- started {time.strftime('%Y-%m-%dT%H:%M:%S')} ---\n".encode())
        log.flush()
        process = subprocess.Popen(
            spec.command,
            env=env,
            cwd=settings.home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `down` can stop the whole tree
        )
        log.close()
        _pid_file(settings.home, spec.name).write_text(
            json.dumps({"pid": process.pid, **_start_stamp(process.pid), "command": spec.command})
        )
        on_progress(f"{spec.name} starting (pid {process.pid}) on {spec.health_url}")
        started.append((spec, process))

    for spec, process in started:
        _wait_healthy(spec, process, settings, on_progress)
    return status(settings)


def _wait_healthy(spec: ServiceSpec, process: subprocess.Popen, settings: Settings,
                  on_progress: Callable[[str], None]) -> None:
    began = time.monotonic()
    while True:
        if process.poll() is not None:
            _pid_file(settings.home, spec.name).unlink(missing_ok=True)
            log = _log_file(settings.home, spec.name)
            raise LauncherError(
                f"{spec.name} exited with code {process.returncode} before becoming healthy. "
                f"Last lines of {log}:\n{_tail(log)}"
            )
        body = _probe(spec.health_url)
        if body is not None and spec.is_healthy(body):
            on_progress(f"{spec.name} healthy after {time.monotonic() - began:.1f} s")
            return
        if time.monotonic() - began > HEALTH_TIMEOUT_S:
            log = _log_file(settings.home, spec.name)
            raise LauncherError(
                f"{spec.name} did not become healthy within {HEALTH_TIMEOUT_S:.0f} s "
                f"({spec.health_url}). Last lines of {log}:\n{_tail(log)}"
            )
        time.sleep(0.1)


def stop(settings: Settings, on_progress: Callable[[str], None] = lambda _msg: None) -> None:
    """Stop the services started by :func:`start` (and every process they spawned), then remove the
    pid files and temporary directories. Stopping something that is not running is not an error."""
    for spec in reversed(service_specs(settings)):
        process = _read_owned_process(settings.home, spec.name)
        if process is None:
            _pid_file(settings.home, spec.name).unlink(missing_ok=True)
            continue
        on_progress(f"stopping {spec.name} (pid {process.pid})")
        _stop_tree(process)
        _pid_file(settings.home, spec.name).unlink(missing_ok=True)
    shutil.rmtree(settings.home / "tmp", ignore_errors=True)


def _stop_tree(process: psutil.Process) -> None:
    # Collect descendants first: once the parent is gone, orphans are re-parented and lost to us.
    try:
        family = [process] + process.children(recursive=True)
    except psutil.Error:
        family = [process]
    try:
        process.send_signal(signal.SIGTERM)  # LocalStack and the Glue service shut down cleanly on it
    except psutil.Error:
        pass
    _, alive = psutil.wait_procs([process], timeout=STOP_TIMEOUT_S)
    try:
        family += [child for child in process.children(recursive=True) if child not in family]
    except psutil.Error:
        pass
    for proc in alive + family:
        try:
            if proc.is_running():
                proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(family, timeout=5)
