"""An independent oracle for the package fingerprint the pipeline records (``code_sha256``)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sources_sha256(package: Path) -> str:
    """The package's modules hashed straight from disk: dotted name, NUL, bytes, NUL per module (not the
    package's own __init__; a subpackage's __init__ under the subpackage's name), in name order."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if parts:
            modules[".".join(parts)] = path
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode() + b"\0" + modules[name].read_bytes() + b"\0")
    return digest.hexdigest()
