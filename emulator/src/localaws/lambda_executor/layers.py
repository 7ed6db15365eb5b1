"""A function's layers as one directory, the local stand-in for Lambda's ``/opt``.

On AWS, Lambda extracts a function's layers into ``/opt`` in the order they are declared, so a
file in a later layer overwrites the same path from an earlier one, while files at different paths
merge (two layers can each add modules to the same package). Ordering layer directories on
``sys.path`` cannot express that merge, so for two or more layers we build the merged tree once,
from hard links (copies across file systems), in declared order. Layer versions are immutable, so a
merged tree is keyed by its ordered inputs and shared by every function using the same layers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

MERGED_ROOT_NAME = "localaws-lambda-opt"


def layer_directories(layers: Sequence[object]) -> list[Path]:
    """Unzip each layer (LocalStack's own cache, offline) and return their directories in order."""
    directories = []
    for layer in layers:
        code = getattr(layer, "code", None)
        if code is None:
            continue
        code.prepare_for_execution()
        directories.append(Path(code.get_unzipped_code_location()))
    return directories


def opt_directory(layers: Sequence[object]) -> Path | None:
    """Return the ``/opt`` equivalent for ``layers`` (``None`` without layers), building it if needed."""
    directories = layer_directories(layers)
    if not directories:
        return None
    if len(directories) == 1:
        return directories[0]
    key = hashlib.sha256("\n".join(str(d) for d in directories).encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / MERGED_ROOT_NAME / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: concurrent builders never expose a half-merged tree.
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        for directory in directories:
            _overlay(directory, staging)
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def _overlay(source: Path, target: Path) -> None:
    """Place every entry of ``source`` into ``target``; entries of ``source`` win on conflicts."""
    for root, dirs, files in os.walk(source):
        relative = Path(root).relative_to(source)
        destination_root = target / relative
        for name in dirs:
            src = Path(root) / name
            dst = destination_root / name
            if src.is_symlink():
                _replace_with_symlink(src, dst)
            else:
                if dst.is_symlink() or (dst.exists() and not dst.is_dir()):
                    dst.unlink()
                dst.mkdir(exist_ok=True)
        for name in files:
            src = Path(root) / name
            dst = destination_root / name
            if src.is_symlink():
                _replace_with_symlink(src, dst)
                continue
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            elif dst.exists() or dst.is_symlink():
                dst.unlink()
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


def _replace_with_symlink(src: Path, dst: Path) -> None:
    if dst.is_dir() and not dst.is_symlink():
        shutil.rmtree(dst)
    elif dst.exists() or dst.is_symlink():
        dst.unlink()
    os.symlink(os.readlink(src), dst)
