"""Install ``--additional-python-modules`` into the service's module cache ahead of the first run.

``python -m localaws.glue.prepare --python PY --modules "a==1,b==2" [--installer-option "--no-deps"]``
(``--modules`` may also name local wheel files by absolute path: the local copies of ``s3://`` wheels).

Fills exactly the entry a run with these arguments would create and reuse (same pip command, same
key, same read-only files; see :class:`localaws.glue.module_cache.ModuleCache`), so the first run of a job
is as fast as any later one. Does nothing when the entry exists. The cache lives in the service's
state directory (``LOCALAWS_GLUE_STATE_DIR``, else ``<LOCALAWS_HOME>/glue``); ``--python`` must be
the same path the service is given for the runtime (``LOCALAWS_GLUE_PYTHON3_9``), as it is part of
the key. Only pinned modules (``name==version``) and wheel files (keyed by their name and MD5, so a
run whose S3 copies have that MD5 as ETag finds the entry; the multipart ETags of common part sizes are
remembered too) are cached; anything else is refused.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys

from .config import Settings
from .module_cache import MODULE_CACHE_DIR, ModuleCache, is_wheel_file, pip_env, pip_install_argv

#: Part sizes of common uploaders (Terraform's AWS provider, the Go SDK: 5 MiB; the AWS CLI, boto3: 8 MiB).
#: A wheel one of them uploaded in parts has a multipart ETag, not its MD5: computed here from the local
#: copy and remembered in the cache, a run learns the wheel's MD5 from HeadObject without downloading it.
PART_SIZES = (5 << 20, 8 << 20)


def multipart_etags(path: str, part_sizes: tuple[int, ...] | None = None) -> tuple[str, list[str]]:
    """(MD5 of the file, the ETag S3 gives it when uploaded in parts of each size it exceeds)."""
    with open(path, "rb") as handle:
        data = handle.read()
    etags = []
    for size in part_sizes or PART_SIZES:
        if len(data) > size:
            parts = [hashlib.md5(data[i:i + size], usedforsecurity=False).digest() for i in range(0, len(data), size)]
            etags.append(f"{hashlib.md5(b''.join(parts), usedforsecurity=False).hexdigest()}-{len(parts)}")
    return hashlib.md5(data, usedforsecurity=False).hexdigest(), etags


def remember_multipart_etags(specs: list[str], cache: ModuleCache) -> None:
    """Let runs find the MD5 of wheel files uploaded in parts (see ``PART_SIZES``) without a download."""
    for spec in specs:
        if is_wheel_file(spec):
            md5, etags = multipart_etags(spec)
            for etag in etags:
                cache.remember_md5(os.path.basename(spec), etag, md5)


def prepare(python: str, specs: list[str], options: list[str], cache: ModuleCache) -> tuple[str, bool]:
    """(entry path, whether it was installed now). Raises ``RuntimeError`` with pip's last line."""
    if not cache.cacheable(specs):
        raise RuntimeError(
            f"only pinned modules (name==version) and wheel files (absolute paths) are cached; "
            f"got {', '.join(specs) or 'nothing'}"
        )
    key = cache.key(specs, options, python)
    cache.root.mkdir(parents=True, exist_ok=True)
    remember_multipart_etags(specs, cache)
    found = cache.lookup(key)
    if found is not None:
        return str(found), False
    staged = cache.staging(key, f"prepare-{os.getpid()}")
    try:
        done = subprocess.run(
            pip_install_argv(python, specs, options, staged),
            env=pip_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "")
            raise RuntimeError(f"pip install failed (exit {done.returncode}): {last}")
        return str(cache.publish(key, staged, specs, options)), True
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws.glue.prepare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="the runtime's interpreter, as the service is given it")
    parser.add_argument("--modules", required=True, help="the --additional-python-modules value")
    parser.add_argument("--installer-option", default="", help="the --python-modules-installer-option value")
    args = parser.parse_args(argv)
    specs = [os.path.abspath(s.strip()) if s.strip().endswith(".whl") else s.strip()
             for s in args.modules.split(",") if s.strip()]
    cache = ModuleCache(Settings.from_env().state_dir / MODULE_CACHE_DIR)
    try:
        entry, installed = prepare(args.python, specs, args.installer_option.split(), cache)
    except (RuntimeError, OSError) as exc:
        print(f"localaws.glue.prepare: {exc}", file=sys.stderr)
        return 1
    print(f"{'installed' if installed else 'already prepared'}: {entry}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
