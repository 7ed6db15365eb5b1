#!/usr/bin/env python3
"""Prepare the training job's `--additional-python-modules` in the local Glue service's module cache.

Run by `make up` (target `glue-modules`, after `make bootstrap`), so the very first Glue run after a fresh
clone finds its modules installed instead of pip-installing them (the same files, in the same
read-only cache the service fills itself on a first run). The module list and installer option are
read from terraform/glue.tf (their one definition); the interpreter of each Glue runtime from
LOCALAWS_GLUE_RUNTIMES (`3.9=/path/to/python`, set by the Makefile), the cache location from
LOCALAWS_HOME. A failure prints a warning and exits 0: the first run then installs the modules
itself, as before.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import hcl2

REPO = Path(__file__).resolve().parents[1]
GLUE_TF = REPO / "terraform" / "glue.tf"
MODULES_LOCAL = "glue_report_modules"
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def job_modules(path: Path = GLUE_TF) -> tuple[str, str]:
    """(--additional-python-modules, --python-modules-installer-option) of the Glue job in glue.tf."""
    with path.open() as handle:
        tf = hcl2.load(handle)
    local_values = {k: v for block in tf.get("locals", []) for k, v in block.items()}
    expression = local_values[MODULES_LOCAL]  # ${join(",", ["a==1", ...])}
    specs = [json.loads(f'"{s}"') for s in QUOTED.findall(expression) if "==" in s]
    options = ""
    for resource in tf.get("resource", []):
        for kind, jobs in resource.items():
            if _unquote(kind) != "aws_glue_job":
                continue
            for job in jobs.values():
                # The code-loading arguments are non-overridable (a run cannot swap them); older
                # definitions kept them in default_arguments.
                arguments = {_unquote(k): v for block in ("default_arguments", "non_overridable_arguments")
                             for k, v in job.get(block, {}).items()}
                if MODULES_LOCAL in str(arguments.get("--additional-python-modules", "")):
                    options = _unquote(str(arguments.get("--python-modules-installer-option", "")))
    return ",".join(specs), options


def _unquote(text: str) -> str:
    """python-hcl2 keeps HCL's quotes around keys and string values."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def main() -> int:
    runtimes = [item.split("=", 1) for item in os.environ.get("LOCALAWS_GLUE_RUNTIMES", "").split(",") if "=" in item]
    if not runtimes:
        print("[prepare-glue-modules] LOCALAWS_GLUE_RUNTIMES is not set; nothing to prepare", file=sys.stderr)
        return 0
    try:
        modules, options = job_modules()
    except (OSError, KeyError, ValueError) as exc:
        print(f"[prepare-glue-modules] warning: cannot read the job's modules from {GLUE_TF}: {exc}", file=sys.stderr)
        return 0
    for _version, python in runtimes:
        if not os.access(python, os.X_OK):
            print(f"[prepare-glue-modules] skipped: {python} does not exist (yet)", file=sys.stderr)
            continue
        done = subprocess.run([sys.executable, "-m", "localaws.glue.prepare", "--python", python,
                               "--modules", modules, f"--installer-option={options}"],
                              capture_output=True, text=True, check=False)
        message = (done.stdout or done.stderr).strip()
        if done.returncode != 0:
            print(f"[prepare-glue-modules] warning: {message}; the first Glue run will install them", file=sys.stderr)
        else:
            print(f"[prepare-glue-modules] {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
