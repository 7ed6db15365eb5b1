"""``--additional-python-modules``: how a run pip-installs them, and the cache that lets later runs reuse
an install of the same pinned modules (also filled ahead of time by :mod:`localaws.glue.prepare`)."""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import threading
from collections.abc import Sequence
from pathlib import Path

from .cloudwatch import LogShipper
from .exceptions import ModuleInstallFailed
from .job_env import base_env
from .supervision import RunControl, supervise

log = logging.getLogger(__name__)

# pip (for --additional-python-modules) also keeps the host's index/proxy settings; the job itself does
# not get proxies, which would route its calls to the local endpoint through them.
PIP_ENV_PREFIXES = ("PIP_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
# A requirement whose result pip cannot change between runs: an exact `name==version` (extras allowed).
PINNED_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]*\])?==[A-Za-z0-9.+!*_-]+$")
MODULE_CACHE_DIR = "python-modules-cache"
MODULE_CACHE_MARKER = ".localaws-module-cache.json"


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


def install_modules(
    cache: ModuleCache,
    python: str,
    arguments: dict[str, str],
    run_id: str,
    control: RunControl,
    deadline: float,
    output: LogShipper,
    error: LogShipper,
) -> Path | None:
    """The directory holding the run's ``--additional-python-modules`` (None when it names none)."""
    specs = [s.strip() for s in arguments.get("--additional-python-modules", "").split(",") if s.strip()]
    if not specs:
        return None
    options = arguments.get("--python-modules-installer-option", "").split()
    if not cache.cacheable(specs):
        target = control.run_dir / "python-modules"
        _pip_install(python, specs, options, target, control, deadline, output, error)
        return target
    key = cache.key(specs, options, python)
    with cache.lock(key):
        cached = cache.lookup(key)
        if cached is not None:
            log.info("run %s reuses --additional-python-modules from %s", run_id, cached)
            return cached
        staged = cache.staging(key, run_id)
        try:
            _pip_install(python, specs, options, staged, control, deadline, output, error)
            return cache.publish(key, staged, specs, options)
        finally:
            shutil.rmtree(staged, ignore_errors=True)  # gone already unless pip failed or was stopped


def _pip_install(
    python: str,
    specs: list[str],
    options: list[str],
    target: Path,
    control: RunControl,
    deadline: float,
    output: LogShipper,
    error: LogShipper,
) -> None:
    argv = pip_install_argv(python, specs, options, target)
    tail: collections.deque[str] = collections.deque(maxlen=20)
    rc = supervise(argv, pip_env(), control.run_dir, control, deadline, output, error, tail)
    if rc != 0:
        last = next((line for line in reversed(tail) if line.strip()), f"exit code {rc}")
        raise ModuleInstallFailed(
            f"Installing --additional-python-modules {', '.join(specs)} failed: {last}"
        )


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
    return {**base_env(), **{k: v for k, v in os.environ.items() if k.startswith(PIP_ENV_PREFIXES)}}


def _make_read_only(root: Path) -> None:
    """Clear the write bits of every file below ``root``.

    Directories stay writable so that ``rm -rf`` (``make clean``) still removes the cache.
    """
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
