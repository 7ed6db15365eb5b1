"""The Glue job's --additional-python-modules as wheel files: downloaded by scripts/build_artifacts.py
(part ``glue-modules``) from the hashed lock requirements/glue-report-modules.txt into
``<out>/glue-modules/``, for AWS Glue Python shell 3.9 on x86_64. Terraform uploads every wheel found
there and names them in the job's --additional-python-modules (terraform/glue.tf); `make glue-modules`
prepares the emulation's module cache from the same files (scripts/prepare_glue_modules.py).

The modules are optional (the report is skipped without them), so a failed download is a warning
with what to do, not a build error: the job then deploys without them.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements" / "glue-report-modules.txt"
#: Under the build output directory; terraform/glue.tf reads the same folder (local.glue_module_wheels_dir).
WHEELS_DIR = "glue-modules"
STAMP = ".inputs"

# AWS Glue Python shell 3.9 runs CPython 3.9 on x86_64 Linux (glibc 2.26, Amazon Linux 2).
GLUE_PLATFORM_ARGS = (
    "--platform", "manylinux2014_x86_64",
    "--only-binary=:all:",
    "--python-version", "3.9",
    "--implementation", "cp",
)


def wheel_files(folder: Path) -> List[Path]:
    """The wheels in ``folder``, sorted by name (the order Terraform's fileset() gives them)."""
    return sorted(folder.glob("*.whl")) if folder.is_dir() else []


def _inputs_key(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(" ".join(GLUE_PLATFORM_ARGS).encode())
    return digest.hexdigest()[:16]


def download(out: Path, requirements: Path = REQUIREMENTS) -> Optional[str]:
    """Fill ``out/glue-modules/`` with exactly the locked wheels (reused when the lock has not
    changed). Returns None on success, else a warning saying why the folder is empty."""
    folder = out / WHEELS_DIR
    stamp = folder / STAMP
    key = _inputs_key(requirements)
    if stamp.is_file() and stamp.read_text() == key and wheel_files(folder):
        return None
    with tempfile.TemporaryDirectory(prefix="glue-modules-", dir=out) as tmp:
        command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "--no-deps",
                   "--require-hashes", *GLUE_PLATFORM_ARGS, "--dest", tmp, "--requirement", str(requirements)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)  # never a mix of old and new wheels
        if result.returncode != 0:
            last = next((line for line in reversed(result.stderr.splitlines()) if line.strip()), "")
            return (f"the Glue job's report modules could not be downloaded ({last.strip()}); the job will "
                    f"deploy without them and skip report.html. Check that the package index is reachable "
                    f"and that every pin in {requirements.relative_to(ROOT)} has a cp39 manylinux2014_x86_64 "
                    f"or py3 wheel, then build again.")
        shutil.copytree(tmp, folder)
    stamp.write_text(key)
    return None


def specs(folder: Path) -> Sequence[str]:
    """Absolute paths of the wheels (what `localaws.glue.prepare --modules` takes)."""
    return [str(path) for path in wheel_files(folder)]
