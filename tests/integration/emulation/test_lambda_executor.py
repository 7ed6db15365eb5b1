"""Black-box tests of the local-process Lambda executor (``localaws.lambda_executor``).

They need a LocalStack started with ``LAMBDA_RUNTIME_EXECUTOR=local-process``,
``LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12=<python with boto3>`` and ``LAMBDA_RETRY_BASE_DELAY=1`` (the
async-retry test waits for one retry), e.g. ``make up``, and talk to it with boto3 only. Function
packages are built in memory from the handler sources below. A few tests also look at the
runtime's processes by pid, which requires running on the same host as LocalStack.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest
from botocore.exceptions import ClientError
from support.lambda_functions import build_zip, create_zip_function, emulated_runtimes, invoke_json
from support.polling import wait_for

RUNTIME = "python3.12"

# --------------------------------------------------------------------------------------------
# Handler sources
# --------------------------------------------------------------------------------------------

ECHO = """
import os

def handler(event, context):
    return {"event": event, "pid": os.getpid()}
"""

WHO_RUNS_ME = """
import os, sys
import boto3

def handler(event, context):
    return {
        "marker": os.environ.get("LOCALAWS_LAMBDA_EXECUTOR"),
        "version": "%d.%d" % sys.version_info[:2],
        "boto3": boto3.__file__,
        "prefix": sys.prefix,
    }
"""

CONTEXT = """
def handler(event, context):
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
    }
"""

ISOLATION = """
import importlib, os, sys, tempfile
import boto3

FOREIGN = ("localstack", "pytest", "localaws", "moto", "werkzeug", "pandas")
ENV = ("PYTHONPATH", "GATEWAY_LISTEN", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
       "AWS_SESSION_TOKEN", "_HANDLER", "GREETING", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME")

def importable(module):
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False

def handler(event, context):
    with tempfile.NamedTemporaryFile() as scratch:
        scratch_path = scratch.name
    return {
        "importable": {module: importable(module) for module in FOREIGN},
        "sys_path": sys.path,
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "tmpdir": tempfile.gettempdir(),
        "scratch": scratch_path,
        "env": {name: os.environ.get(name) for name in ENV},
        "account": boto3.client("sts").get_caller_identity()["Account"],
    }
"""

LAYERED = """
import in_code, only_first, order, shared
from pkg import from_first, from_second

def handler(event, context):
    modules = (in_code, only_first, order, shared, from_first, from_second)
    return {m.__name__: m.ORIGIN for m in modules}
"""

SLEEPER = """
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}
"""

EXITER = """
import os

def handler(event, context):
    if event.get("exit"):
        os._exit(3)
    return {"pid": os.getpid()}
"""

RAISER = """
def helper():
    raise ValueError("boom")

def handler(event, context):
    helper()
"""

LOGGER = """
import logging
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    print(event["token"])
    logging.info("logged %s", event["token"])
    return "ok"
"""

ALWAYS_FAILS = """
def handler(event, context):
    raise RuntimeError("always fails: " + event["id"])
"""

MARK_UPLOADS = """
from urllib.parse import unquote_plus
import boto3

s3 = boto3.client("s3")

def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        s3.put_object(Bucket=bucket, Key=f"out/{key}.done", Body=context.aws_request_id.encode())
"""

SPAWNER = """
import os, subprocess

def handler(event, context):
    child = subprocess.Popen(["sleep", "300"])
    return {"pid": os.getpid(), "child": child.pid}
"""

# --------------------------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------------------------


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A killed process whose parent has not reaped it yet is a zombie: gone for our purposes.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(") ", 1)[1].startswith("Z")


@pytest.fixture
def make_function(lambda_client, unique_name):
    """Factory: create a function from ``{path: source}``, wait until Active, delete it afterwards."""
    created: list[str] = []

    def make(files: dict[str, str], handler: str = "handler.handler", **settings) -> str:
        name = unique_name("lambda-exec")
        create_zip_function(lambda_client, name, RUNTIME, files, **{"Handler": handler, "Timeout": 10, **settings})
        created.append(name)
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        return name

    yield make
    for name in created:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass  # the test deleted it itself


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_our_executor_runs_the_function_on_the_runtime_interpreter(lambda_client, make_function):
    """An unknown executor name silently falls back to Docker: prove ours ran the handler."""
    name = make_function({"handler.py": WHO_RUNS_ME})
    result, error = invoke_json(lambda_client, name)
    assert error is None, result
    assert result["marker"] == "local-process"
    assert result["version"] == RUNTIME.removeprefix("python")
    assert result["boto3"].startswith(result["prefix"]), "boto3 must come from the runtime's environment"


def test_sync_invoke_returns_the_result_and_reuses_the_environment(lambda_client, make_function):
    name = make_function({"handler.py": ECHO})
    first, error = invoke_json(lambda_client, name, {"n": 1})
    assert error is None, first
    second, _ = invoke_json(lambda_client, name, {"n": 2})
    assert first["event"] == {"n": 1} and second["event"] == {"n": 2}
    assert first["pid"] == second["pid"], "a warm invocation should reuse the execution environment"


def test_context_has_lambda_attributes(lambda_client, make_function):
    name = make_function({"handler.py": CONTEXT}, MemorySize=256, Timeout=7)
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    context = json.loads(response["Payload"].read())
    assert context["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(f":function:{name}")
    assert context["memory_limit_in_mb"] == "256"  # a string, as on AWS
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in context["log_stream_name"]
    assert 0 < context["remaining"] <= 7000


def test_function_environment_is_isolated(lambda_client, make_function, endpoint_url):
    name = make_function({"handler.py": ISOLATION}, Environment={"Variables": {"GREETING": "hello"}})
    result, error = invoke_json(lambda_client, name)
    assert error is None, result
    assert not any(result["importable"].values()), f"foreign packages visible: {result['importable']}"
    assert result["sys_path"][0] == result["task_root"], "function code must come first on sys.path"
    foreign_paths = (".venvs/tools", ".venvs/localstack", "lambda_executor")  # the last: the worker's dir
    assert not [p for p in result["sys_path"] if any(f in p for f in foreign_paths)]
    env = result["env"]
    assert env["PYTHONPATH"] is None and env["GATEWAY_LISTEN"] is None, "LocalStack's environment leaked"
    assert env["AWS_ENDPOINT_URL"] == endpoint_url
    # The role's temporary credentials (a session), as on AWS; not the caller's keys ("test").
    assert re.fullmatch(r"(ASIA|LSIA)[A-Z0-9]{16}", env["AWS_ACCESS_KEY_ID"]), env["AWS_ACCESS_KEY_ID"]
    assert len(env["AWS_SECRET_ACCESS_KEY"]) == 40 and len(env["AWS_SESSION_TOKEN"]) > 100
    assert env["_HANDLER"] == "handler.handler" and env["GREETING"] == "hello"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}" and env["AWS_LAMBDA_LOG_STREAM_NAME"]
    # A private temporary directory per environment, not the host's (nor LocalStack's).
    assert result["scratch"].startswith(result["tmpdir"] + os.sep)
    assert result["tmpdir"] not in ("/tmp", os.environ.get("TMPDIR"))
    assert result["account"] == "000000000000", "boto3 in the handler must reach LocalStack"


def test_layers_are_merged_in_declared_order(lambda_client, make_function, unique_name):
    """Later layers overwrite earlier ones path by path (as when AWS extracts them into /opt)."""
    first = build_zip(
        {
            "python/shared.py": "ORIGIN = 'first'\n",
            "python/only_first.py": "ORIGIN = 'first'\n",
            "python/pkg/__init__.py": "",
            "python/pkg/from_first.py": "ORIGIN = 'first'\n",
            "python/order.py": "ORIGIN = 'python'\n",
            "python/lib/python3.12/site-packages/order.py": "ORIGIN = 'site-packages'\n",
            "python/in_code.py": "ORIGIN = 'layer'\n",
        }
    )
    second = build_zip(
        {
            "python/shared.py": "ORIGIN = 'second'\n",
            "python/pkg/__init__.py": "",
            "python/pkg/from_second.py": "ORIGIN = 'second'\n",
        }
    )
    layer_arns = [
        lambda_client.publish_layer_version(
            LayerName=unique_name("layer"), Content={"ZipFile": content}, CompatibleRuntimes=[RUNTIME]
        )["LayerVersionArn"]
        for content in (first, second)
    ]
    name = make_function({"handler.py": LAYERED, "in_code.py": "ORIGIN = 'code'\n"}, Layers=layer_arns)
    result, error = invoke_json(lambda_client, name)
    assert error is None, result
    assert result == {
        "in_code": "code",  # the function's code precedes every layer
        "only_first": "first",
        "order": "site-packages",  # python/lib/python3.12/site-packages precedes python/
        "shared": "second",  # the later layer wins
        "pkg.from_first": "first",  # while packages from both layers merge
        "pkg.from_second": "second",
    }


def test_timeout_reports_aws_error_and_replaces_the_environment(lambda_client, make_function):
    name = make_function({"handler.py": SLEEPER}, Timeout=1)
    before, _ = invoke_json(lambda_client, name)
    started = time.monotonic()
    payload, error = invoke_json(lambda_client, name, {"sleep": 30})
    elapsed = time.monotonic() - started
    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert elapsed < 5, f"the timeout should end the invocation after ~1 s, took {elapsed:.1f} s"
    assert process_gone(before["pid"]), "the timed-out environment's process must be killed"
    after, error = invoke_json(lambda_client, name)
    assert error is None, after  # replaced: the next invocation works, in a new process
    assert after["pid"] != before["pid"]


def test_runtime_exit_reports_exit_error_and_next_invoke_works(lambda_client, make_function):
    name = make_function({"handler.py": EXITER})
    before, _ = invoke_json(lambda_client, name)
    payload, error = invoke_json(lambda_client, name, {"exit": True})
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    after, error = invoke_json(lambda_client, name)
    assert error is None, after
    assert after["pid"] != before["pid"]


def test_handler_exception_has_aws_shape(lambda_client, make_function):
    name = make_function({"handler.py": RAISER})
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    error = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    assert error["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert isinstance(error["stackTrace"], list) and len(error["stackTrace"]) == 2
    assert "in handler" in error["stackTrace"][0] and "in helper" in error["stackTrace"][1]
    assert all("worker.py" not in frame for frame in error["stackTrace"]), "runtime frames must be hidden"


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (
            "missing_module.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing_module': No module named 'missing_module'",
        ),
        ("handler.not_there", "Runtime.HandlerNotFound", "Handler 'not_there' missing on module 'handler'"),
        (
            "broken.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'broken': No module named 'nope'",
        ),
    ],
)
def test_init_errors_have_aws_error_types(lambda_client, make_function, handler, error_type, message):
    name = make_function({"handler.py": ECHO, "broken.py": "import nope\n"}, handler=handler)
    for _ in range(2):  # the init is retried on the next invocation, failing the same way
        payload, error = invoke_json(lambda_client, name)
        assert error == "Unhandled"
        assert payload["errorType"] == error_type
        assert payload["errorMessage"] == message


def test_logs_reach_cloudwatch_with_start_end_report(aws_client, lambda_client, make_function, unique_name):
    token = unique_name("printed")
    name = make_function({"handler.py": LOGGER})
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"token": token}).encode())
    request_id = response["ResponseMetadata"]["RequestId"]
    logs = aws_client("logs")

    def messages() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        found = [event["message"] for event in events]
        return found if any(m.startswith(f"REPORT RequestId: {request_id}") for m in found) else []

    found = wait_for("the invocation's REPORT line in CloudWatch", messages)
    assert f"START RequestId: {request_id} Version: $LATEST\n" in found
    assert f"{token}\n" in found
    assert any(m.startswith("[INFO]\t") and f"\t{request_id}\tlogged {token}" in m for m in found)
    assert f"END RequestId: {request_id}\n" in found
    report = next(m for m in found if m.startswith(f"REPORT RequestId: {request_id}"))
    assert "\tDuration: " in report and "\tBilled Duration: " in report and "\tInit Duration: " in report


def test_async_failure_goes_to_on_failure_destination_after_retries(
    aws_client, lambda_client, make_function, unique_name
):
    """Needs LocalStack's LAMBDA_RETRY_BASE_DELAY=1 (a 60 s back-off otherwise, as on AWS)."""
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("on-failure"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    try:
        name = make_function({"handler.py": ALWAYS_FAILS})
        lambda_client.put_function_event_invoke_config(
            FunctionName=name,
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": attributes["QueueArn"]}},
        )
        response = lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": "e-1"}')
        assert response["StatusCode"] == 202

        def receive() -> list[dict]:
            return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])

        record = json.loads(wait_for("the failed event in the OnFailure queue", receive, timeout=60)[0]["Body"])
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["requestPayload"] == {"id": "e-1"}
        assert record["responsePayload"]["errorType"] == "RuntimeError"
        assert record["responsePayload"]["errorMessage"] == "always fails: e-1"
    finally:
        sqs.delete_queue(QueueUrl=queue_url)


def test_s3_notification_invokes_the_function(aws_client, lambda_client, make_function, unique_name):
    s3 = aws_client("s3")
    bucket = unique_name("lambda-exec-bucket")
    s3.create_bucket(Bucket=bucket)
    try:
        name = make_function({"handler.py": MARK_UPLOADS})
        function_arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{bucket}",
        )
        trigger = {
            "LambdaFunctionArn": function_arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
        }
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [trigger]}
        )
        s3.put_object(Bucket=bucket, Key="in/some file.csv", Body=b"a,b\n1,2\n")
        s3.get_waiter("object_exists").wait(
            Bucket=bucket, Key="out/in/some file.csv.done", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
    finally:
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)


def test_deleting_the_function_kills_the_process_tree(lambda_client, make_function):
    name = make_function({"handler.py": SPAWNER})
    pids, error = invoke_json(lambda_client, name)
    assert error is None, pids
    lambda_client.delete_function(FunctionName=name)
    wait_for(
        "the runtime and its child process to exit",
        lambda: process_gone(pids["pid"]) and process_gone(pids["child"]),
        timeout=15,
    )


def _runtime_without_interpreter() -> str:
    """A python3.x runtime Lambda accepts that the emulation was started without (bootstrap never
    builds python3.8, whose creation AWS blocks and which the pinned boto3 does not support)."""
    return next(r for r in ("python3.14", "python3.8") if r not in emulated_runtimes())


def test_runtime_without_interpreter_is_refused_naming_the_runtimes_available(lambda_client, unique_name):
    """Refused at CreateFunction with a client error, so nothing is left in ``Failed`` for Terraform to
    wait on."""
    missing = _runtime_without_interpreter()
    name = unique_name("lambda-exec-unconfigured")
    with pytest.raises(ClientError) as refused:
        create_zip_function(lambda_client, name, missing, {"handler.py": ECHO})
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"Runtime {missing} has no local interpreter" in error["Message"]
    assert f"runtimes available: {', '.join(emulated_runtimes())})" in error["Message"]
    assert "make bootstrap" in error["Message"]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=name)


def test_update_to_a_runtime_without_interpreter_is_refused_and_keeps_the_function(lambda_client, make_function):
    name = make_function({"handler.py": ECHO})
    with pytest.raises(ClientError) as refused:
        lambda_client.update_function_configuration(FunctionName=name, Runtime=_runtime_without_interpreter())
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert _runtime_without_interpreter() in refused.value.response["Error"]["Message"]
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    assert configuration["Runtime"] == RUNTIME and configuration["State"] == "Active"
    assert invoke_json(lambda_client, name, {"still": "works"})[1] is None


GLUE_CALLER = """
import os
import boto3

def handler(event, context):
    jobs = boto3.client("glue").list_jobs()["JobNames"]
    return {"endpoint": os.environ.get("AWS_ENDPOINT_URL_GLUE"), "jobs_listed": isinstance(jobs, list)}
"""


def test_functions_reach_the_glue_service(lambda_client, make_function, glue_endpoint_url):
    """LocalStack has no Glue: the launcher routes functions' Glue calls to the Glue service."""
    name = make_function({"handler.py": GLUE_CALLER})
    result, error = invoke_json(lambda_client, name)
    assert error is None, result
    assert result == {"endpoint": glue_endpoint_url, "jobs_listed": True}


def test_function_variables_override_emulation_wide_ones(lambda_client, make_function):
    name = make_function({"handler.py": GLUE_CALLER.replace("list_jobs()[\"JobNames\"]", "list_jobs")},
                         Environment={"Variables": {"AWS_ENDPOINT_URL_GLUE": "http://example.invalid"}})
    result, error = invoke_json(lambda_client, name)
    assert error is None, result
    assert result["endpoint"] == "http://example.invalid"
