#!/usr/bin/env python3
"""Keep the local Terraform state with the emulation it describes (scripts/deploy.sh local runs this).

The emulation keeps nothing across a restart (`make down` + `make up` gives an empty account), but
the state file under <LOCALAWS_HOME>/terraform/local outlives it. Applied against a new emulation, a
state describing the old one makes Terraform "update" resources that are gone and fail. So the state
records which emulation it belongs to: LocalStack's session id (GET /_localstack/info; new at every
start of LocalStack, host or compose mode), in <state dir>/emulation.json.

Before a deploy: if a state file exists and belongs to another emulation (or has no record and was
last written before this emulation started), it is moved to <state dir>/previous-emulations/ (kept,
never deleted) and Terraform starts from an empty state. Then the current session id is recorded.

Usage: local_state.py --state-dir DIR [--endpoint URL]   (default endpoint: $AWS_ENDPOINT_URL)
Exit 0 on success (prints what it did), 1 when the emulation does not answer.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup")
RECORD = "emulation.json"


def emulation_identity(endpoint: str) -> tuple[str, float]:
    """LocalStack's session id and the epoch second it started (its uptime is whole seconds)."""
    # Only the emulator endpoint the caller names (http on loopback in this project).
    with urllib.request.urlopen(f"{endpoint.rstrip('/')}/_localstack/info", timeout=10) as response:  # nosec B310
        info = json.load(response)
    return info["session_id"], time.time() - float(info["uptime"]) - 1.0


def belongs_elsewhere(state_dir: Path, session_id: str, started_at: float) -> str | None:
    """Why the state in ``state_dir`` describes another emulation, or None when it is this one's (or absent)."""
    state = state_dir / STATE_FILES[0]
    if not state.exists():
        return None
    record = state_dir / RECORD
    if record.exists():
        recorded = json.loads(record.read_text()).get("session_id")
        if recorded == session_id:
            return None
        return f"it was written for emulation {recorded}, and this one is {session_id}"
    # Written before emulations were recorded: it is stale if nothing has written it since this emulation started.
    if state.stat().st_mtime < started_at:
        return "it was last written before this emulation started (an emulation starts empty)"
    return None


def adopt(state_dir: Path, session_id: str, started_at: float) -> str:
    """Move a state of another emulation aside, record this one; returns what was done."""
    state_dir.mkdir(parents=True, exist_ok=True)
    reason = belongs_elsewhere(state_dir, session_id, started_at)
    done = f"local Terraform state belongs to emulation {session_id}"
    if reason is not None:
        aside = state_dir / "previous-emulations" / time.strftime("%Y%m%dT%H%M%S")
        aside.mkdir(parents=True, exist_ok=True)
        for name in STATE_FILES:
            if (state_dir / name).exists():
                os.replace(state_dir / name, aside / name)
        done = (f"the local Terraform state describes a previous emulation ({reason}): moved to {aside}; "
                f"deploying from an empty state")
    (state_dir / RECORD).write_text(json.dumps({"session_id": session_id}) + "\n")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))
    args = parser.parse_args(argv)
    try:
        session_id, started_at = emulation_identity(args.endpoint)
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        print(f"cannot tell which emulation answers at {args.endpoint} ({error}): is it up (`make up`)?",
              file=sys.stderr)
        return 1
    print(adopt(args.state_dir, session_id, started_at))
    return 0


if __name__ == "__main__":
    sys.exit(main())
