"""The deployed stack, shared by every pipeline test: deployed once per session with the same
script `make deploy-local` runs (idempotent: a no-op when nothing changed), names read back from
``terraform output``."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from cripto_ops.follow import Budgets, RunFollower
from cripto_ops.stack import StackOutputs

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "scripts" / "deploy.sh"
TERRAFORM = REPO / "scripts" / "terraform.sh"
SAMPLES = REPO / "data" / "samples"
DEPLOY_TIMEOUT_SECONDS = 1200  # cold: layer wheels download + build + first apply


def _terraform_env(endpoint_url: str, glue_endpoint_url: str) -> Dict[str, str]:
    return {**os.environ, "AWS_ENDPOINT_URL": endpoint_url, "AWS_ENDPOINT_URL_GLUE": glue_endpoint_url}


@pytest.fixture(scope="session")
def deployed_stack(endpoint_url: str, glue_endpoint_url: str) -> StackOutputs:
    env = _terraform_env(endpoint_url, glue_endpoint_url)
    deploy = subprocess.run([str(DEPLOY), "local", "-no-color"], env=env, capture_output=True, text=True,
                            timeout=DEPLOY_TIMEOUT_SECONDS)
    assert deploy.returncode == 0, f"deploy failed:\n{deploy.stdout[-4000:]}\n{deploy.stderr[-4000:]}"
    result = subprocess.run([str(TERRAFORM), "local", "output", "-json"], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    return StackOutputs.from_terraform_json(json.loads(result.stdout))


@pytest.fixture
def follower(aws_client, deployed_stack) -> RunFollower:
    """Follows uploads through every stage (raises StageFailed / StageTimeout with evidence)."""
    return RunFollower(aws_client("s3"), aws_client("glue"), aws_client("logs"), deployed_stack,
                       Budgets(features=120, trigger=120, training=300))
