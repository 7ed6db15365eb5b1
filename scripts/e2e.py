#!/usr/bin/env python3
"""End-to-end run: push the BTC daily sample through the deployed pipeline to a trained model.

`make e2e` runs it after `make deploy-local` (the Makefile sets the local endpoints). It is
`cripto run` on the sample: upload, follow every stage with progress, verify the artifacts in S3,
print stage durations and the model beside the baselines; on failure, exit 1 with the failing
stage's evidence (error report or CloudWatch log lines).

Env vars: E2E_FILE (default data/samples/coinbase_btcusd_daily.csv), E2E_DATASET (default: upload
to raw.csv, dataset 'default'), STACK_ENV (local | aws; default local).
"""
from __future__ import annotations

import os
import sys

from cripto_ops.cli import main as cripto
from cripto_ops.stack import REPO_ROOT

if __name__ == "__main__":
    sample = os.environ.get("E2E_FILE", str(REPO_ROOT / "data" / "samples" / "coinbase_btcusd_daily.csv"))
    dataset = os.environ.get("E2E_DATASET")
    code = cripto(["run", sample] + (["--dataset", dataset] if dataset else []), standalone_mode=False)
    if code:
        sys.exit(code)
    print("e2e passed: the emulation stays up for exploration (`make status`, `make down` to stop).",
          file=sys.stderr)
