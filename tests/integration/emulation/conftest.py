"""Fixtures shared by the emulation suites: clients (Lambda without retries) and a scratch bucket."""
from __future__ import annotations

import os
import time

import boto3
import pytest
from botocore.config import Config


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
