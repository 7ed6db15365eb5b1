"""Build outputs that are byte-identical for identical inputs (used by scripts/build_artifacts.py).

Zips get sorted entries, one fixed timestamp (``SOURCE_DATE_EPOCH`` or 1980-01-01) and fixed modes; an
output identical to the file already there is not rewritten, so its mtime stays and Terraform's
``source_hash`` and make stay quiet.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, Tuple

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest timestamp a zip entry can hold
ZIP_COMPRESSLEVEL = 6  # zlib's default: ~1 % larger than 9 on the layer, several times faster


def _zip_timestamp() -> Tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return ZIP_EPOCH
    stamp = time.gmtime(max(int(epoch), 315532800))  # zip cannot store dates before 1980
    return stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec


def write_zip(dest: Path, entries: Dict[str, Path]) -> bool:
    """Write ``entries`` (archive name -> file) to ``dest`` reproducibly; True if ``dest`` changed.

    Entries are sorted; every entry gets the same timestamp and a mode of 0644, or 0755 when the
    source is executable (shared libraries keep their bit).
    """
    timestamp = _zip_timestamp()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compresslevel=ZIP_COMPRESSLEVEL) as archive:
            for name in sorted(entries):
                source = entries[name]
                info = zipfile.ZipInfo(name, date_time=timestamp)
                info.create_system = 3  # unix, so external_attr holds POSIX permissions
                mode = 0o755 if os.stat(source).st_mode & stat.S_IXUSR else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                # Known size up front: zipfile adds ZIP64 records only to entries that need them.
                info.file_size = os.stat(source).st_size
                with open(source, "rb") as src, archive.open(info, "w") as out:
                    shutil.copyfileobj(src, out, 1024 * 1024)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        return _replace_if_different(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def copy_file(source: Path, dest: Path) -> bool:
    """Copy ``source`` to ``dest`` unless identical; True if ``dest`` changed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        return _replace_if_different(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _replace_if_different(new: Path, dest: Path) -> bool:
    # Leaving an identical file untouched keeps its mtime too, which keeps tools that look at
    # mtimes (make, rsync) quiet.
    if dest.exists() and _sha256(dest) == _sha256(new):
        return False
    os.replace(new, dest)
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def unzipped_size(path: Path) -> int:
    """Sum of the uncompressed sizes of a zip's entries, in bytes (what Lambda counts)."""
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())
