"""Helpers for the suites that create Lambda functions on the emulation: packages built in memory,
synchronous invocations decoded, and the functions' runtimes as the emulation was started with them."""
from __future__ import annotations

import io
import json
import os
import zipfile

# Any role ARN works locally; LocalStack assumes it to hand the function credentials.
ROLE_ARN = "arn:aws:iam::000000000000:role/lambda-executor-test"


def build_zip(files: dict[str, str]) -> bytes:
    """A deployment package (or layer) from ``{path: content}``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def invoke_json(lambda_client, name: str, event: object = None, **kwargs) -> tuple[object, str | None]:
    """Invoke synchronously; return the decoded payload and ``FunctionError`` (None on success)."""
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    return json.loads(response["Payload"].read() or b"null"), response.get("FunctionError")


def emulated_runtimes() -> list[str]:
    """The python3.x runtimes the emulation serves, from ``LOCALAWS_LAMBDA_RUNTIMES`` as the Makefile
    computes it for `make up` and the test targets (``python3.12=/path/python,...``), oldest first."""
    value = os.environ.get("LOCALAWS_LAMBDA_RUNTIMES", "")
    names = [item.partition("=")[0].strip() for item in value.replace(",", " ").split() if "=" in item]
    return sorted(names, key=lambda name: tuple(int(part) for part in name.removeprefix("python").split(".")))


def create_zip_function(lambda_client, name: str, runtime: str, files: dict[str, str], **settings) -> dict:
    """CreateFunction from ``{path: source}`` (handler ``handler.handler`` unless ``Handler`` is given)."""
    return lambda_client.create_function(
        **{"FunctionName": name, "Runtime": runtime, "Role": ROLE_ARN, "Handler": "handler.handler",
           "Code": {"ZipFile": build_zip(files)}, **settings}
    )
