"""Shared fixtures of the unit tests: sample data, real-shaped events, a fake Lambda context,
an in-memory S3 stand-in, and loaders for the handler / Glue job modules (which are files, not
packages, and create their boto3 clients at import time)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
EVENTS = REPO / "tests" / "events"


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that code may read."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test-function"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/27/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class FakeS3:
    """In-memory S3 with the calls and conditional-request errors the pipeline relies on."""

    def __init__(self) -> None:
        self.objects: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.calls: List[Tuple[str, str]] = []
        self.fail_put: Optional[Callable[[str], Optional[str]]] = None  # key -> error code to raise
        self.modified: Dict[str, datetime] = {}  # key -> LastModified, for the versions listing

    @staticmethod
    def _error(code: str, operation: str, status: int) -> ClientError:
        return ClientError(
            {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
            operation,
        )

    def add(self, bucket: str, key: str, body: bytes, version_id: Optional[str] = None) -> str:
        etag = hashlib.md5(body).hexdigest()
        self.objects[(bucket, key)] = {
            "Body": body,
            "ETag": f'"{etag}"',
            "VersionId": version_id,
            "ContentType": None,
        }
        return etag

    def get_object(
        self, Bucket: str, Key: str, VersionId: Optional[str] = None, IfMatch: Optional[str] = None
    ):
        self.calls.append(("get_object", Key))
        stored = self.objects.get((Bucket, Key))
        if stored is None or (VersionId is not None and stored["VersionId"] != VersionId):
            raise self._error("NoSuchKey", "GetObject", 404)
        if IfMatch is not None and IfMatch.strip('"') != stored["ETag"].strip('"'):
            raise self._error("PreconditionFailed", "GetObject", 412)
        return {
            "Body": io.BytesIO(stored["Body"]),
            "ETag": stored["ETag"],
            "ContentLength": len(stored["Body"]),
        }

    def put_object(
        self,
        Bucket: str,
        Key: str,
        Body: bytes,
        ContentType: str = "binary/octet-stream",
        IfNoneMatch: Optional[str] = None,
        IfMatch: Optional[str] = None,
    ):
        self.calls.append(("put_object", Key))
        code = self.fail_put(Key) if self.fail_put else None
        if code:
            raise self._error(code, "PutObject", 500)
        if IfNoneMatch == "*" and (Bucket, Key) in self.objects:
            raise self._error("PreconditionFailed", "PutObject", 412)
        if IfMatch is not None:
            stored = self.objects.get((Bucket, Key))
            if stored is None:
                raise self._error("NoSuchKey", "PutObject", 404)
            if IfMatch.strip('"') != stored["ETag"].strip('"'):
                raise self._error("PreconditionFailed", "PutObject", 412)
        etag = self.add(Bucket, Key, Body)
        self.objects[(Bucket, Key)]["ContentType"] = ContentType
        return {"ETag": f'"{etag}"'}

    def list_objects_v2(self, Bucket: str, Prefix: str = ""):
        self.calls.append(("list_objects_v2", Prefix))
        found = sorted((key, stored) for (bucket, key), stored in self.objects.items()
                       if bucket == Bucket and key.startswith(Prefix))
        return {"Contents": [{"Key": key, "Size": len(stored["Body"])} for key, stored in found], "KeyCount": len(found)}

    def body(self, bucket: str, key: str) -> bytes:
        return self.objects[(bucket, key)]["Body"]

    def json(self, bucket: str, key: str) -> Any:
        return json.loads(self.body(bucket, key))

    def keys(self, prefix: str = "") -> List[str]:
        return sorted(k for _, k in self.objects if k.startswith(prefix))

    def get_paginator(self, name: str):
        """ListObjectVersions pages shaped like S3's: the latest version of each key (with its ``modified``
        time), and no ``Versions`` key at all when nothing matches."""
        assert name == "list_object_versions"
        store = self

        class Pages:
            def paginate(self, Bucket: str, Prefix: str):
                store.calls.append(("list_object_versions", Prefix))
                versions = [{"Key": key, "VersionId": stored["VersionId"], "IsLatest": True, "ETag": stored["ETag"],
                             "Size": len(stored["Body"]), "LastModified": store.modified[key]}
                            for (bucket, key), stored in sorted(store.objects.items())
                            if bucket == Bucket and key.startswith(Prefix)]  # fmt: skip
                return [{"Versions": versions}] if versions else [{"IsTruncated": False}]

        return Pages()


@pytest.fixture
def fake_s3() -> FakeS3:
    return FakeS3()


@pytest.fixture(scope="session")
def daily_bytes() -> bytes:
    return (SAMPLES / "coinbase_btcusd_daily.csv").read_bytes()


@pytest.fixture(scope="session")
def hourly_bytes() -> bytes:
    return (SAMPLES / "coinbase_btcusd_hourly.csv").read_bytes()


def load_event(name: str) -> Dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Region and dummy credentials so boto3 clients can be built (never used for real calls)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GLUE", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


def load_module(relative_path: str, name: str) -> ModuleType:
    """Import a script file (handler.py, model_training.py) as a fresh module (``name``: the caller's label).

    Its ``__name__`` is the file's dotted path (``lambdas.glue_trigger.handler``): mutation testing
    (scripts/mutation.py) maps a mutant to the functions whose ``__module__`` matches its path.
    """
    dotted = str(Path(relative_path).with_suffix("")).replace("/", ".")
    spec = importlib.util.spec_from_file_location(dotted, REPO / relative_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop(name, None)
    spec.loader.exec_module(module)
    return module
