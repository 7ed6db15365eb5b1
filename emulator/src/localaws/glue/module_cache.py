"""``--additional-python-modules``: how a run pip-installs them, and the cache that lets later runs reuse
an install of the same pinned modules (also filled ahead of time by :mod:`localaws.glue.prepare`).

Entries are pip requirement specs (``name==version``) or, as AWS Glue accepts, ``s3://bucket/key.whl``
paths of wheel files: an ``s3://`` wheel is keyed by its name and the MD5 its HeadObject ETag gives (a
single-part ETag; a multipart one is downloaded once, hashed and remembered), downloaded into a temporary folder
of the run only on a cache miss, and installed with ``--no-index`` when every entry is a wheel (no
package index needed, as on AWS)."""

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
#: Under the cache root: the MD5 of each multipart-ETag wheel a run downloaded (``<name>#<etag>``).
ETAGS_DIR = ".etags"


class ModuleCache:
    """Installed ``--additional-python-modules``, shared read-only by later runs (an emulation speed-up).

    AWS Glue pip-installs the modules at the start of every run. Here, when every module is pinned
    (``name==version``), the first run installs them into ``<state>/python-modules-cache/<key>/``
    and later runs put that directory on their path instead of running pip again: the same files
    pip would install, without the downloads and install time per run nor the need for the package
    index. ``<key>`` hashes the module specs (a wheel: its file name and MD5; an ``s3://`` wheel's MD5 is
    its single-part ETag, so a hit downloads nothing; a multipart one is downloaded once and remembered),
    the installer options and the interpreter (its path and the mtime of that path, which changes when
    the environment is recreated), so any change installs afresh. Unpinned specs (``tabulate``,
    ``pandas>=2``) are installed per run, as on AWS, because the index may resolve them differently
    each time. Files in an entry are made read-only so a job
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
        """A wheel file counts by its name and MD5, not its path: the same wheels in another S3 key
        (or prepared from a local copy) find the same entry."""
        return ModuleCache.key_of([spec_identity(spec) for spec in specs], options, python)

    @staticmethod
    def key_of(identities: Sequence[str], options: Sequence[str], python: str) -> str:
        """The key of entries already identified (:func:`spec_identity`, :func:`s3_wheel_identity`)."""
        identity = {"specs": list(identities), "options": list(options), "python": python,
                    "python_mtime_ns": os.lstat(python).st_mtime_ns}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]

    def recall_md5(self, name: str, etag: str) -> str | None:
        """The MD5 of a wheel whose (multipart) ETag an earlier run downloaded and hashed, if any."""
        try:
            return (self.root / ETAGS_DIR / _etag_file(name, etag)).read_text().strip() or None
        except OSError:
            return None

    def remember_md5(self, name: str, etag: str, md5: str) -> None:
        """Keep what a download told: this ETag is these bytes (a multipart ETag hashes the parts' MD5s,
        so equal ETags of equal size parts mean equal bytes); the next run needs no download."""
        folder = self.root / ETAGS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".{_etag_file(name, etag)}.{threading.get_ident()}"
        staged.write_text(md5)
        os.replace(staged, folder / _etag_file(name, etag))

    def lock(self, key: str) -> threading.Lock:
        """Serialises installs of one entry (concurrent runs of one job wait for the first install)."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def lookup(self, key: str) -> Path | None:
        entry = self.root / key
        return entry if (entry / MODULE_CACHE_MARKER).is_file() else None

    def staging(self, key: str, run_id: str) -> Path:
        return self.root / f".{key}.{run_id}.partial"

    def publish(self, key: str, staged: Path, identities: Sequence[str], options: Sequence[str]) -> Path:
        """Move a finished install into place and make it read-only (``identities``: :attr:`Module.identity`)."""
        marker = {"specs": list(identities), "options": list(options)}
        (staged / MODULE_CACHE_MARKER).write_text(json.dumps(marker))
        entry = self.root / key
        shutil.rmtree(entry, ignore_errors=True)  # an unfinished leftover (no marker) from a crash
        os.replace(staged, entry)
        _make_read_only(entry)
        return entry


def _etag_file(name: str, etag: str) -> str:
    return f"{name}#{etag.strip().strip(chr(34)).lower()}"


def is_wheel_file(spec: str) -> bool:
    """A local wheel file given by its absolute path (an ``s3://`` entry once downloaded)."""
    return spec.endswith(WHEEL_SUFFIX) and os.path.isabs(spec)


def spec_identity(spec: str) -> str:
    """What an entry installs: the spec itself, or a wheel file's name and MD5 (the ETag S3 gives a
    single-part upload of the same bytes, so a local copy and its ``s3://`` original match)."""
    if not is_wheel_file(spec):
        return spec
    return f"{os.path.basename(spec)}#md5={_file_digest(spec, 'md5')}"


def _file_digest(path: str, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: An ETag that is the MD5 of the object's bytes (single-part upload; a multipart one ends ``-<parts>``).
MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")


def etag_md5(etag: str | None) -> str | None:
    """The MD5 an S3 ETag states (quotes removed), or None for a multipart ETag or none at all."""
    value = (etag or "").strip().strip('"').lower()
    return value if MD5_ETAG.match(value) else None


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


class WheelStore(Protocol):
    """Where ``s3://`` wheels come from (the local endpoint's S3; a fake in tests)."""

    def etag(self, bucket: str, key: str) -> str | None:
        """HeadObject's ETag; None when S3 refuses (the download then names what S3 says)."""

    def download(self, bucket: str, key: str, target: Path) -> None:
        """GetObject into ``target``; a missing object raises :class:`ModuleInstallFailed` naming it."""


@dataclass
class Module:
    """One ``--additional-python-modules`` entry: as given, what it installs, and the local file pip
    installs it from (a local wheel, an ``s3://`` wheel once downloaded; None for a spec or a wheel
    not downloaded yet)."""

    spec: str
    identity: str
    path: str | None


def identify(specs: Sequence[str], wheels: WheelStore, folder: Path, cache: ModuleCache | None = None) -> list[Module]:
    """Each entry with its identity; a wheel's is its name and MD5 (:func:`spec_identity`) wherever it
    comes from. An ``s3://`` wheel's MD5 is its ETag when single-part, else what ``cache`` remembers of
    that ETag; failing both it is downloaded into ``folder`` and hashed (and remembered)."""
    modules = []
    for index, spec in enumerate(specs):
        location = s3_wheel_location(spec)
        if location is None:
            modules.append(Module(spec, spec_identity(spec), spec if is_wheel_file(spec) else None))
            continue
        name = Path(location[1]).name
        etag = wheels.etag(*location)
        md5 = etag_md5(etag) or (cache.recall_md5(name, etag) if cache is not None and etag else None)
        if md5 is not None:
            modules.append(Module(spec, f"{name}#md5={md5}", None))
            continue
        path = _download(wheels, spec, folder, index)  # multipart ETag, or none: the bytes tell
        md5 = _file_digest(path, "md5")
        if cache is not None and etag:
            cache.remember_md5(name, etag, md5)
        modules.append(Module(spec, f"{name}#md5={md5}", path))
    return modules


def fetch_wheels(modules: Sequence[Module], wheels: WheelStore, folder: Path) -> list[str]:
    """What pip installs: every ``s3://`` wheel downloaded into ``folder`` (under its own name, so pip
    reads its name, version and tags), other specs as given. A download whose bytes are not the MD5
    the ETag stated (the object was replaced meanwhile) fails rather than fill the wrong entry."""
    resolved = []
    for index, module in enumerate(modules):
        if module.path is None and s3_wheel_location(module.spec) is not None:
            module.path = _download(wheels, module.spec, folder, index)
            stated = module.identity.partition("#md5=")[2]
            if stated and _file_digest(module.path, "md5") != stated:
                raise ModuleInstallFailed(
                    f"--additional-python-modules entry {module.spec} changed while the run read it "
                    f"(its bytes are not the ETag's MD5 {stated}); start the job again."
                )
        resolved.append(module.path or module.spec)
    return resolved


def _download(wheels: WheelStore, spec: str, folder: Path, index: int) -> str:
    bucket, key = s3_wheel_location(spec) or ("", "")
    target = folder / str(index) / Path(key).name  # one folder each: names may repeat
    target.parent.mkdir(parents=True, exist_ok=True)
    wheels.download(bucket, key, target)
    return str(target)


def install_modules(
    cache: ModuleCache,
    python: str,
    arguments: dict[str, str],
    run_id: str,
    control: RunControl,
    deadline: float,
    output: LogShipper,
    error: LogShipper,
    wheels: WheelStore,
) -> Path | None:
    """The directory holding the run's ``--additional-python-modules`` (None when it names none)."""
    specs = [s.strip() for s in arguments.get("--additional-python-modules", "").split(",") if s.strip()]
    if not specs:
        return None
    options = arguments.get("--python-modules-installer-option", "").split()
    from_s3 = sum(1 for spec in specs if s3_wheel_location(spec) is not None)
    origin = f" ({from_s3} wheel(s) from S3)" if from_s3 else ""
    folder = Path(tempfile.mkdtemp(prefix="python-module-wheels-", dir=control.run_dir))
    try:
        modules = identify(specs, wheels, folder, cache)
        install = _Install(python, options, run_id, control, deadline, output, error, origin)
        if not all(_pinned(module) for module in modules):
            target = control.run_dir / "python-modules"  # unpinned: installed per run, as on AWS
            install.pip(fetch_wheels(modules, wheels, folder), target)
            return target
        return _cached_install(cache, install, modules, wheels, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pinned(module: Module) -> bool:
    """A wheel (local, or ``s3://``) or an exact ``name==version``: what pip installs cannot change."""
    return module.path is not None or module.spec.startswith(S3_SCHEME) or bool(
        PINNED_REQUIREMENT.match(module.spec.split()[0]))


@dataclass
class _Install:
    """What one run's pip install needs besides the specs and the target."""

    python: str
    options: list[str]
    run_id: str
    control: RunControl
    deadline: float
    output: LogShipper
    error: LogShipper
    origin: str

    def pip(self, specs: list[str], target: Path) -> None:
        _pip_install(self.python, specs, self.options, target, self.control, self.deadline, self.output,
                     self.error)


def _cached_install(
    cache: ModuleCache, install: _Install, modules: list[Module], wheels: WheelStore, folder: Path
) -> Path:
    identities = [m.identity for m in modules]
    key = cache.key_of(identities, install.options, install.python)
    with cache.lock(key):
        cached = cache.lookup(key)
        if cached is not None:
            log.info("run %s reuses --additional-python-modules from %s", install.run_id, cached)
            install.output.write(f"[localaws-glue] --additional-python-modules{install.origin}: "
                                 f"reusing module cache entry {key}")
            return cached
        staged = cache.staging(key, install.run_id)
        try:
            install.pip(fetch_wheels(modules, wheels, folder), staged)  # downloads only on a miss
            install.output.write(f"[localaws-glue] --additional-python-modules{install.origin}: "
                                 f"installed into module cache entry {key}")
            return cache.publish(key, staged, identities, install.options)
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
