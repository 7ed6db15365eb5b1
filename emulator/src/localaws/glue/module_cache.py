"""``--additional-python-modules``: how a run pip-installs them, and the cache that lets later runs reuse
an install of the same pinned modules (also filled ahead of time by :mod:`localaws.glue.prepare`).

Entries are pip requirement specs (``name==version``) or, as AWS Glue accepts, ``s3://bucket/key.whl``
paths of wheel files: those are downloaded into a temporary folder of the run and installed from
there with ``--no-index`` when every entry is a wheel (no package index needed, as on AWS)."""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Sequence
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
#: An entry naming a wheel file in S3 (AWS Glue: "a comma-separated list of ... S3 paths to wheels").
S3_SCHEME = "s3://"
WHEEL_SUFFIX = ".whl"
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
        """Every entry pinned (``name==version``) or a local wheel file (identified by its bytes)."""
        return bool(specs) and all(
            is_wheel_file(spec) or PINNED_REQUIREMENT.match(spec.split()[0]) for spec in specs
        )

    @staticmethod
    def key(specs: Sequence[str], options: Sequence[str], python: str) -> str:
        """A wheel file counts by its name and sha256, not its path: the same wheels downloaded by
        another run (or prepared from a local copy) find the same entry."""
        identity = {"specs": [spec_identity(spec) for spec in specs], "options": list(options), "python": python,
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
        marker = {"specs": [spec_identity(spec) for spec in specs], "options": list(options)}
        (staged / MODULE_CACHE_MARKER).write_text(json.dumps(marker))
        entry = self.root / key
        shutil.rmtree(entry, ignore_errors=True)  # an unfinished leftover (no marker) from a crash
        os.replace(staged, entry)
        _make_read_only(entry)
        return entry


def is_wheel_file(spec: str) -> bool:
    """A local wheel file given by its absolute path (an ``s3://`` entry once downloaded)."""
    return spec.endswith(WHEEL_SUFFIX) and os.path.isabs(spec)


def spec_identity(spec: str) -> str:
    """What an entry installs: the spec itself, or a wheel file's name and sha256."""
    if not is_wheel_file(spec):
        return spec
    digest = hashlib.sha256()
    with open(spec, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{os.path.basename(spec)}#sha256={digest.hexdigest()}"


def s3_wheel_location(spec: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://bucket/key.whl`` entry; None for a requirement spec. A non-wheel
    S3 object or a location without a key raises :class:`ModuleInstallFailed` naming the entry."""
    if not spec.startswith(S3_SCHEME):
        return None
    bucket, _, key = spec[len(S3_SCHEME):].partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ModuleInstallFailed(f"--additional-python-modules entry {spec!r} is not an s3://bucket/key URL.")
    if not key.endswith(WHEEL_SUFFIX):
        raise ModuleInstallFailed(
            f"--additional-python-modules entry {spec!r}: only wheel files (.whl) can be installed from S3."
        )
    return bucket, key


#: Downloads one S3 object (bucket, key) to a local path.
Download = Callable[[str, str, Path], None]


def resolve_specs(specs: Sequence[str], download: Download, folder: Path) -> list[str]:
    """``specs`` with every ``s3://`` wheel replaced by the path of its download in ``folder``
    (same file name, so pip reads the wheel's name, version and tags from it)."""
    resolved = []
    for spec in specs:
        location = s3_wheel_location(spec)
        if location is None:
            resolved.append(spec)
            continue
        target = folder / str(len(resolved)) / Path(location[1]).name  # one folder each: names may repeat
        target.parent.mkdir(parents=True, exist_ok=True)
        download(location[0], location[1], target)
        resolved.append(str(target))
    return resolved


def install_modules(
    cache: ModuleCache,
    python: str,
    arguments: dict[str, str],
    run_id: str,
    control: RunControl,
    deadline: float,
    output: LogShipper,
    error: LogShipper,
    download: Download,
) -> Path | None:
    """The directory holding the run's ``--additional-python-modules`` (None when it names none)."""
    specs = [s.strip() for s in arguments.get("--additional-python-modules", "").split(",") if s.strip()]
    if not specs:
        return None
    options = arguments.get("--python-modules-installer-option", "").split()
    from_s3 = sum(1 for spec in specs if s3_wheel_location(spec) is not None)
    origin = f" ({from_s3} wheel(s) from S3)" if from_s3 else ""
    wheels = tempfile.mkdtemp(prefix="python-module-wheels-", dir=control.run_dir)
    try:
        specs = resolve_specs(specs, download, Path(wheels))
        return _install(cache, python, specs, options, run_id, control, deadline, output, error, origin)
    finally:
        shutil.rmtree(wheels, ignore_errors=True)


def _install(
    cache: ModuleCache,
    python: str,
    specs: list[str],
    options: list[str],
    run_id: str,
    control: RunControl,
    deadline: float,
    output: LogShipper,
    error: LogShipper,
    origin: str,
) -> Path:
    if not cache.cacheable(specs):
        target = control.run_dir / "python-modules"
        _pip_install(python, specs, options, target, control, deadline, output, error)
        return target
    key = cache.key(specs, options, python)
    with cache.lock(key):
        cached = cache.lookup(key)
        if cached is not None:
            log.info("run %s reuses --additional-python-modules from %s", run_id, cached)
            output.write(f"[localaws-glue] --additional-python-modules{origin}: reusing module cache entry {key}")
            return cached
        staged = cache.staging(key, run_id)
        try:
            _pip_install(python, specs, options, staged, control, deadline, output, error)
            output.write(f"[localaws-glue] --additional-python-modules{origin}: installed into module cache entry {key}")
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
    """How ``--additional-python-modules`` are installed (by a run, or ahead of time by ``prepare``).
    Only wheel files: ``--no-index``, so nothing is fetched from a package index."""
    offline = ["--no-index"] if all(is_wheel_file(spec) for spec in specs) and "--no-index" not in options else []
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
        *offline,
        *options,
    ]
    for spec in specs:
        argv += [spec] if is_wheel_file(spec) else spec.split()  # AWS allows "pkg==1 -i URL" in an entry
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
