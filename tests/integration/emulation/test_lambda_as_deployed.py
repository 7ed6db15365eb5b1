"""Lambda as users deploy it (issue 9): functions in ``Failed`` can be updated and deleted, every python3.x
runtime the emulation was started with runs on its own interpreter, and LocalStack's hot reload (code
from a local folder) picks up an edit on the next invocation.

Black-box boto3 against a running emulation (`make up`); the runtimes come from
``LOCALAWS_LAMBDA_RUNTIMES`` as the Makefile computes it (see ``support.lambda_functions``).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from support.lambda_functions import ROLE_ARN, create_zip_function, emulated_runtimes, invoke_json
from support.polling import wait_for

ROOT = Path(__file__).resolve().parents[3]
# Hot reload's code "bucket": LocalStack's BUCKET_MARKER_LOCAL, as in its documentation.
HOT_RELOAD_BUCKET = "hot-reload"

VERSION_INFO = """
import sys
import boto3

def handler(event, context):
    return {"version_info": list(sys.version_info[:3]), "executable": sys.executable, "boto3": boto3.__version__}
"""

# Both variants have the same size: only the modification time tells them apart.
ANSWER = """
import os

def handler(event, context):
    return {"answer": "%s", "pid": os.getpid()}
"""


def _wait_for_state(lambda_client, name: str, wanted: str, what: str) -> dict:
    """Poll GetFunctionConfiguration until State is ``wanted`` and no update is in progress."""

    def settled():
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        if configuration["State"] == wanted and configuration.get("LastUpdateStatus") != "InProgress":
            return configuration
        return None

    return wait_for(what, settled, timeout=60)


@pytest.fixture
def functions(lambda_client):
    """Names created by a test; whatever the test did not delete is deleted afterwards."""
    created: list[str] = []
    yield created
    for name in created:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


# --------------------------------------------------------------------------------------------
# Failed functions
# --------------------------------------------------------------------------------------------


def test_a_failed_function_can_be_updated_and_deleted(lambda_client, unique_name, functions):
    """A container-image function cannot be prepared by the local-process executor, so it ends in
    ``Failed`` (as any function whose preparation fails). LocalStack answered 500 to the calls below."""
    name = unique_name("lambda-failed")
    lambda_client.create_function(
        FunctionName=name,
        Role=ROLE_ARN,
        PackageType="Image",
        Code={"ImageUri": "000000000000.dkr.ecr.us-east-1.amazonaws.com/sample-app:latest"},
    )
    functions.append(name)
    failed = _wait_for_state(lambda_client, name, "Failed", "the image function to end in Failed")
    assert "Package type Image is not supported" in failed["StateReason"]

    updated = lambda_client.update_function_configuration(FunctionName=name, Description="updated while Failed")
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The update is prepared again (and fails again, for the same reason) instead of staying InProgress.
    after_update = _wait_for_state(lambda_client, name, "Failed", "the update of the Failed function to settle")
    assert after_update["Description"] == "updated while Failed"
    assert after_update["LastUpdateStatus"] == "Failed"

    lambda_client.update_function_code(
        FunctionName=name, ImageUri="000000000000.dkr.ecr.us-east-1.amazonaws.com/sample-app:v2"
    )
    _wait_for_state(lambda_client, name, "Failed", "the code update of the Failed function to settle")

    deleted = lambda_client.delete_function(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=name)


# --------------------------------------------------------------------------------------------
# One runtime per interpreter
# --------------------------------------------------------------------------------------------


def test_the_emulation_serves_every_lambda_environment_bootstrap_built(lambda_client, unique_name):
    """What the running LocalStack says it serves (in its refusal of an unknown runtime) is the
    Makefile's list, which names every .venvs/lambda-python3.x environment."""
    built = sorted(path.name.removeprefix("lambda-") for path in _venvs().glob("lambda-python3.*"))
    assert built, "no .venvs/lambda-python3.x environment: run `make bootstrap`"
    assert sorted(emulated_runtimes()) == built
    with pytest.raises(ClientError) as refused:
        # python3.8 is never built: AWS blocks creating it and the pinned boto3 needs 3.9.
        create_zip_function(lambda_client, unique_name("lambda-unknown-runtime"), "python3.8", {"handler.py": VERSION_INFO})
    assert f"(runtimes available: {', '.join(emulated_runtimes())})" in refused.value.response["Error"]["Message"]


def _venvs() -> Path:
    """The environments' directory (the Makefile's VENVS), from the LocalStack interpreter it names."""
    localstack_python = os.environ.get("LOCALAWS_LOCALSTACK_PYTHON")
    return Path(localstack_python).parents[2] if localstack_python else ROOT / ".venvs"


def _pinned_boto3() -> str:
    requirements = (ROOT / "emulator" / "requirements" / "lambda-python.txt").read_text()
    return next(line.split("==")[1].strip() for line in requirements.splitlines() if line.startswith("boto3=="))


@pytest.mark.parametrize("runtime", emulated_runtimes())
def test_each_python_runtime_runs_on_its_own_interpreter(lambda_client, unique_name, functions, runtime):
    name = unique_name(f"lambda-{runtime.replace('.', '')}")
    create_zip_function(lambda_client, name, runtime, {"handler.py": VERSION_INFO}, Timeout=20)
    functions.append(name)
    _wait_for_state(lambda_client, name, "Active", f"the {runtime} function to become Active")
    result, error = invoke_json(lambda_client, name)
    assert error is None, result
    assert "python%d.%d" % tuple(result["version_info"][:2]) == runtime
    assert f"lambda-{runtime}" in result["executable"], result["executable"]
    assert result["boto3"] == _pinned_boto3()


# --------------------------------------------------------------------------------------------
# Hot reload
# --------------------------------------------------------------------------------------------


def test_hot_reload_runs_the_folder_and_the_next_invocation_sees_an_edit(
    lambda_client, unique_name, functions, tmp_path
):
    folder = tmp_path / "function"
    folder.mkdir()
    handler = folder / "handler.py"
    handler.write_text(ANSWER % "one")
    name = unique_name("lambda-hot-reload")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="handler.handler",
        Code={"S3Bucket": HOT_RELOAD_BUCKET, "S3Key": str(folder)},
    )
    functions.append(name)
    _wait_for_state(lambda_client, name, "Active", "the hot-reloading function to become Active")

    first, error = invoke_json(lambda_client, name)
    assert error is None, first
    assert first["answer"] == "one"
    again, _ = invoke_json(lambda_client, name)
    assert again["pid"] == first["pid"], "without an edit the environment stays warm"

    # The very next invocation runs the edit (no redeploy, no waiting): the executor compares the
    # folder with what its runtime started from before each invocation.
    handler.write_text(ANSWER % "two")  # in place, same size
    saved = time.monotonic()
    edited, error = invoke_json(lambda_client, name)
    print(f"hot reload: save -> new behaviour in {time.monotonic() - saved:.2f} s")
    assert error is None, edited
    assert edited["answer"] == "two"
    assert edited["pid"] != first["pid"], "the edit restarts the runtime, as LocalStack's init does in Docker"

    (folder / "helper.py").write_text("ANSWER = 'three'\n")
    handler.write_text("from helper import ANSWER\n" + (ANSWER % "unused").replace('"unused"', "ANSWER"))
    with_module, error = invoke_json(lambda_client, name)
    assert error is None, with_module
    assert with_module["answer"] == "three"
    assert not list(folder.rglob("__pycache__")), "the runtime must not write bytecode into the user's folder"
