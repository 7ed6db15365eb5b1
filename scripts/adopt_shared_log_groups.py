#!/usr/bin/env python3
"""Bring the account-wide Glue log groups under this stack's state when they exist.

AWS Glue writes every Python shell job's output to ``/aws-glue/python-jobs/output`` and
``/error`` (Spark jobs' drivers: ``/aws-glue/jobs/output`` and ``/error``) and creates those groups on
a job's first run. In an account (or an emulation) where any
job already ran, ``terraform apply`` would fail with ResourceAlreadyExistsException; importing the
existing groups instead lets the stack set their retention. Runs between ``init`` and ``apply``
(scripts/deploy.sh); a no-op when the groups are absent, already in the state, or not managed
(``manage_glue_log_groups = false`` in the environment's tfvars).

On a real account the same situation is a decision for its owner, not something to do silently:
managing the groups sets the retention of every Python shell job's logs, and destroying the stack
would delete them. There scripts/aws_preflight.py stops first and says so (set
``manage_glue_log_groups = false``, or import them deliberately), so this import only ever happens
for the disposable local emulation.

Usage: scripts/adopt_shared_log_groups.py local|aws
Env: the usual AWS variables (endpoints, credentials, region) as set for the environment.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import boto3

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM = ROOT / "scripts" / "terraform.sh"
GROUPS = ("/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error",  # Python shell jobs
          "/aws-glue/jobs/output", "/aws-glue/jobs/error")  # Spark jobs' drivers (issue 12)
ADDRESS = 'aws_cloudwatch_log_group.glue["{}"]'


def tfvar(environment: str, name: str) -> str:
    """A simple ``name = value`` from terraform/env/<environment>.tfvars ('' when absent)."""
    text = (ROOT / "terraform" / "env" / f"{environment}.tfvars").read_text()
    match = re.search(rf'^\s*{name}\s*=\s*"?([^"\n#]*)"?', text, re.M)
    return match.group(1).strip() if match else ""


def state_addresses(environment: str) -> List[str]:
    result = subprocess.run([str(TERRAFORM), environment, "state", "list"], capture_output=True, text=True)
    # No state yet is not an error here: everything is then simply absent from it.
    return result.stdout.split() if result.returncode == 0 else []


def main(environment: str) -> int:
    if tfvar(environment, "manage_glue_log_groups") == "false":
        return 0
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or tfvar(environment, "aws_region")
    logs = boto3.client("logs", region_name=region or None)
    managed = set(state_addresses(environment))
    for group in GROUPS:
        address = ADDRESS.format(group)
        if address in managed:
            continue
        existing = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
        if not any(item["logGroupName"] == group for item in existing):
            continue
        print(f"[deploy] adopting the existing shared log group {group} into the '{environment}' state",
              file=sys.stderr)
        subprocess.run([str(TERRAFORM), environment, "import", "-no-color", address, group], check=True,
                       stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("local", "aws"):
        sys.exit("usage: scripts/adopt_shared_log_groups.py local|aws")
    sys.exit(main(sys.argv[1]))
