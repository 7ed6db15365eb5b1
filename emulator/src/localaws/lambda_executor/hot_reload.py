"""LocalStack's Lambda hot reload for the local-process executor.

A function created with the code "bucket" ``hot-reload`` (LocalStack's ``BUCKET_MARKER_LOCAL``) and a
host folder as the key runs the code in that folder, not a copy: LocalStack hands the executor a
``HotReloadingCode`` whose unzipped location is the folder itself. In Docker, LocalStack mounts the
folder as ``/var/task`` and its init restarts the runtime when a file changes, so the next invocation
runs the edited code. Here the executor does the same thing in its own way: before each invocation it
compares a cheap signature of the folder's tree (:func:`signature`) with the one taken when the worker
started, and replaces the worker if they differ. The edit is picked up by the very next invocation,
with no polling thread and no delay, and that invocation reports an ``Init Duration`` (a cold start),
as after a reset in Docker.

A hot-reloading worker runs with ``-B`` (no bytecode written). Docker mounts the folder read-only, so
the runtime never writes ``__pycache__`` into the user's sources. Without ``-B`` a ``.pyc`` written from
the old file could be taken for the new one when an edit keeps the size within the same second.
"""

from __future__ import annotations

import os
from pathlib import Path

# Python's bytecode caches, and version-control metadata that changes without any code changing.
IGNORED_DIRECTORIES = frozenset({"__pycache__", ".git"})


def signature(root: Path) -> frozenset[tuple[str, int, int, int]]:
    """Every file under ``root`` with its inode, size and modification time (ns).

    Changes with any edit: an in-place write changes the time (and usually the size), a save by
    rename (what most editors do) changes the inode, and adding, removing or renaming files changes
    the set. A missing folder has an empty signature, so creating it later also counts as a change.
    """
    found = set()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in IGNORED_DIRECTORIES]
        for name in files:
            path = os.path.join(directory, name)
            try:
                stat = os.stat(path)
            except OSError:  # removed while we walked: the next signature will tell
                continue
            found.add((os.path.relpath(path, root), stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return frozenset(found)
