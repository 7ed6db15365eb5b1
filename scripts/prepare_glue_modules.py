#!/usr/bin/env python3
"""Prepare the training job's `--additional-python-modules` in the local Glue service's module cache.

Run by `make up` (target `glue-modules`, after `make bootstrap`), so the very first Glue run after a fresh
clone finds its modules installed instead of pip-installing them (the same files, in the same
read-only cache the service fills itself on a first run). The modules are the wheels Terraform
uploads to S3 (build/glue-modules/, downloaded here from the hashed lock
requirements/glue-report-modules.txt when missing, as scripts/build_artifacts.py does); a run's cache
key follows the wheels' names and bytes, so preparing from the local copies fills the entry a run
that downloads them from S3 reuses. The installer option is read from terraform/glue.tf (its one
definition); the interpreter of each Glue runtime from LOCALAWS_GLUE_RUNTIMES (`3.9=/path/to/python`,
set by the Makefile), the cache location from LOCALAWS_HOME. A failure prints a warning and exits 0:
the first run then installs the modules itself.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import glue_module_wheels
import hcl2

REPO = Path(__file__).resolve().parents[1]
GLUE_TF = REPO / "terraform" / "glue.tf"
BUILD = REPO / "build"
OPTION_LOCAL = "glue_report_modules_installer_option"


def installer_option(path: Path = GLUE_TF) -> str:
    """The job's --python-modules-installer-option, from glue.tf's locals."""
    with path.open() as handle:
        tf = hcl2.load(handle)
    local_values = {k: v for block in tf.get("locals", []) for k, v in block.items()}
    return _unquote(str(local_values[OPTION_LOCAL]))


def job_wheels(build: Path = BUILD) -> list[str]:
    """Absolute paths of the wheels Terraform uploads (downloaded first if the lock changed)."""
    warning = glue_module_wheels.download(build)
    if warning:
        raise OSError(warning)
    return list(glue_module_wheels.specs(build / glue_module_wheels.WHEELS_DIR))


def _unquote(text: str) -> str:
    """python-hcl2 keeps HCL's quotes around keys and string values."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def main() -> int:
    runtimes = [item.split("=", 1) for item in os.environ.get("LOCALAWS_GLUE_RUNTIMES", "").split(",") if "=" in item]
    if not runtimes:
        print("[prepare-glue-modules] LOCALAWS_GLUE_RUNTIMES is not set; nothing to prepare", file=sys.stderr)
        return 0
    try:
        options = installer_option()
        BUILD.mkdir(exist_ok=True)
        wheels = job_wheels()
    except (OSError, KeyError, ValueError) as exc:
        print(f"[prepare-glue-modules] warning: {exc}; the first Glue run will install the modules", file=sys.stderr)
        return 0
    for version, python in runtimes:
        if version != "3.9":
            continue  # the wheels are for Python shell 3.9 (cp39), the training job's runtime
        if not os.access(python, os.X_OK):
            print(f"[prepare-glue-modules] skipped: {python} does not exist (yet)", file=sys.stderr)
            continue
        done = subprocess.run([sys.executable, "-m", "localaws.glue.prepare", "--python", python,
                               "--modules", ",".join(wheels), f"--installer-option={options}"],
                              capture_output=True, text=True, check=False)
        message = (done.stdout or done.stderr).strip()
        if done.returncode != 0:
            print(f"[prepare-glue-modules] warning: {message}; the first Glue run will install them", file=sys.stderr)
        else:
            print(f"[prepare-glue-modules] {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
