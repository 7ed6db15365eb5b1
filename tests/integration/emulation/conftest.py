"""Fixtures shared by the emulation suites: clients and a scratch bucket (Glue suites), a private
emulation (launcher and reset suites)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
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
