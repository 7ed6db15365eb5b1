"""Fixtures shared by the Glue service suites (Python shell and Spark): clients and a scratch bucket."""
from __future__ import annotations

import os
import time

import pytest


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
