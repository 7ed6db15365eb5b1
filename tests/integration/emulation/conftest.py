"""Fixtures shared by the emulation suites: clients (Lambda without retries) and a scratch bucket
(Glue suites), a private emulation (launcher and reset suites)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from support.net import free_port

LOCALAWS = [sys.executable, "-m", "localaws"]
REQUIRED_ENV = ("LOCALAWS_LOCALSTACK_PYTHON", "LOCALAWS_GLUE_SERVICE_PYTHON")


@pytest.fixture(scope="module")
def s3(aws_client):
    return aws_client("s3")


@pytest.fixture(scope="module")
def logs(aws_client):
    return aws_client("logs")


@pytest.fixture(scope="module")
def bucket(s3, request) -> str:
    """A bucket per test module: ``test_glue_spark`` -> ``glue-spark-test-<pid>-<time>``."""
    suite = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    name = f"{suite}-test-{os.getpid()}-{int(time.time())}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def lambda_client(endpoint_url):
    """No client-side retries: a 5xx from the emulation must fail the test, not be retried away."""
    return boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
    )


@pytest.fixture
def private_emulation(tmp_path: Path):
    """A second emulation with its own ports and home, driven through the real `localaws` CLI:
    yields (localaws(*args, check=True) -> CompletedProcess, its environment); stopped afterwards."""
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the suite through `make test`.")
    env = dict(os.environ, LOCALAWS_HOME=str(tmp_path / "home"),
               LOCALSTACK_PORT=str(free_port()), GLUE_PORT=str(free_port()))

    def localaws(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(LOCALAWS + list(args), env=env, capture_output=True, text=True,
                              timeout=180, check=check)

    yield localaws, env
    localaws("down", check=False)
