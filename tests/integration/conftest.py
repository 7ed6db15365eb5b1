"""Fixtures for black-box tests against a running local AWS (``make up``).

Endpoints come from the same variables boto3 reads, so the suite can be pointed at any emulation:
``AWS_ENDPOINT_URL`` (default http://127.0.0.1:4566) and ``AWS_ENDPOINT_URL_GLUE``
(default http://127.0.0.1:4567).
"""
from __future__ import annotations

import os
import urllib.request
import uuid
from typing import Callable

import boto3
import pytest
from botocore.config import Config

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_GLUE_ENDPOINT = "http://127.0.0.1:4567"
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def endpoint_url() -> str:
    url = os.environ.get("AWS_ENDPOINT_URL", DEFAULT_ENDPOINT)
    try:
        urllib.request.urlopen(f"{url}/_localstack/health", timeout=3).read()
    except OSError as exc:
        pytest.fail(f"No local AWS answers at {url} ({exc}). Start it with `make up`.")
    return url


@pytest.fixture(scope="session")
def glue_endpoint_url() -> str:
    return os.environ.get("AWS_ENDPOINT_URL_GLUE", DEFAULT_GLUE_ENDPOINT)


@pytest.fixture(scope="session", autouse=True)
def _dummy_credentials():
    """Never let the suite pick up real credentials from the host."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")}
    os.environ["AWS_ACCESS_KEY_ID"] = "test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def aws_client(endpoint_url: str, glue_endpoint_url: str) -> Callable[..., object]:
    """Factory: ``aws_client("s3")`` -> a boto3 client for the local emulation."""

    def make(service: str, **config):
        url = glue_endpoint_url if service == "glue" else endpoint_url
        return boto3.client(
            service,
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config),
        )

    return make


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Factory for collision-free resource names: ``unique_name("fn")`` -> ``fn-1a2b3c4d``."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"
