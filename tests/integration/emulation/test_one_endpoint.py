"""One endpoint: real clients configured with nothing but LocalStack's URL reach every service, Glue
included (LocalStack's `glue:localaws` provider forwards Glue to the Glue-compatible service).

Each client runs as its own process with ``AWS_ENDPOINT_URL`` set and ``AWS_ENDPOINT_URL_GLUE``
removed, so nothing but the single endpoint can route its Glue calls: boto3, the AWS CLI and
``awslocal``. The Glue port (``AWS_ENDPOINT_URL_GLUE``) must keep answering as well.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.timeout(300)

TOOLS_BIN = Path(sys.executable).parent
ROLE = "arn:aws:iam::000000000000:role/one-endpoint-test"

# A boto3 program that knows only what the environment tells it: no endpoint_url anywhere.
_BOTO3_PROGRAM = textwrap.dedent(
    """
    import json, sys, time
    import boto3
    from botocore.exceptions import ClientError

    bucket, job = sys.argv[1], sys.argv[2]
    s3, glue = boto3.client("s3"), boto3.client("glue")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="job.py", Body=b"print('ran through the one endpoint')\\n")
    glue.create_job(Name=job, Role="%s", MaxCapacity=0.0625,
                    Command={"Name": "pythonshell", "PythonVersion": "3.9",
                             "ScriptLocation": f"s3://{bucket}/job.py"})
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    deadline = time.monotonic() + 180
    while True:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    try:
        glue.get_job(JobName=job + "-missing")
        missing = "no error"
    except ClientError as error:
        missing = error.response["Error"]["Code"]
    jobs = glue.get_jobs()["Jobs"]
    glue.delete_job(JobName=job)
    s3.delete_object(Bucket=bucket, Key="job.py")
    s3.delete_bucket(Bucket=bucket)
    print(json.dumps({"state": run["JobRunState"], "error": run.get("ErrorMessage"), "missing": missing,
                      "listed": [j["Name"] for j in jobs]}))
    """
    % ROLE
)


@pytest.fixture
def one_endpoint_env(endpoint_url: str) -> dict:
    """The environment of a user who set only ``AWS_ENDPOINT_URL``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_ENDPOINT_URL_", "AWS_PROFILE", "AWS_SESSION_TOKEN"))}
    env.update(AWS_ENDPOINT_URL=endpoint_url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    return env


def _run(command: list, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _tool(name: str) -> str:
    path = TOOLS_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in the tools environment ({TOOLS_BIN}): run `make bootstrap`.")
    return str(path)


def test_boto3_with_only_aws_endpoint_url_runs_a_glue_job(one_endpoint_env, unique_name):
    job = unique_name("one-endpoint")
    result = _run([sys.executable, "-c", _BOTO3_PROGRAM, unique_name("one-endpoint"), job], one_endpoint_env)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["state"] == "SUCCEEDED", outcome["error"]
    assert job in outcome["listed"]
    # Errors come back as the Glue service raised them, not as LocalStack's "not included in your license".
    assert outcome["missing"] == "EntityNotFoundException"


def test_glue_port_keeps_answering_and_sees_the_same_jobs(aws_client, endpoint_url, unique_name):
    """The Glue port and LocalStack's port are one service: a job made on one is seen on the other."""
    import boto3

    job = unique_name("two-ports")
    via_glue_port = aws_client("glue")
    via_localstack = boto3.client("glue", endpoint_url=endpoint_url, region_name="us-east-1",
                                  aws_access_key_id="test", aws_secret_access_key="test")
    via_glue_port.create_job(Name=job, Role=ROLE, Command={"Name": "pythonshell", "PythonVersion": "3.9",
                                                           "ScriptLocation": "s3://nowhere/job.py"})
    try:
        assert via_localstack.get_job(JobName=job)["Job"]["Name"] == job
    finally:
        via_localstack.delete_job(JobName=job)
    assert job not in via_glue_port.list_jobs()["JobNames"]


def test_every_localstack_service_is_on(aws_client, unique_name):
    """No SERVICES whitelist: EventBridge and SNS answer, as in an account (FACTS: they failed with it)."""
    events, sns = aws_client("events"), aws_client("sns")
    assert any(bus["Name"] == "default" for bus in events.list_event_buses()["EventBuses"])
    topic = sns.create_topic(Name=unique_name("one-endpoint"))["TopicArn"]
    sns.delete_topic(TopicArn=topic)


def test_aws_cli_reaches_glue_through_the_one_endpoint(one_endpoint_env, unique_name):
    aws = _tool("aws")
    job = unique_name("cli")
    _run([aws, "glue", "create-job", "--name", job, "--role", ROLE, "--command",
          "Name=pythonshell,PythonVersion=3.9,ScriptLocation=s3://nowhere/job.py"], one_endpoint_env)
    try:
        got = json.loads(_run([aws, "glue", "get-job", "--job-name", job], one_endpoint_env).stdout)
        assert got["Job"]["Command"]["PythonVersion"] == "3.9"
        buses = json.loads(_run([aws, "events", "list-event-buses"], one_endpoint_env).stdout)
        assert buses["EventBuses"]
    finally:
        _run([aws, "glue", "delete-job", "--job-name", job], one_endpoint_env)


def test_awslocal_reaches_glue(one_endpoint_env, unique_name):
    awslocal = _tool("awslocal")
    # awslocal reads LocalStack's address from LOCALSTACK_HOST (host:port) and runs `aws` from PATH.
    env = dict(one_endpoint_env, LOCALSTACK_HOST=urlparse(one_endpoint_env["AWS_ENDPOINT_URL"]).netloc,
               PATH=f"{TOOLS_BIN}{os.pathsep}{one_endpoint_env.get('PATH', '')}")
    job = unique_name("awslocal")
    _run([awslocal, "glue", "create-job", "--name", job, "--role", ROLE, "--command",
          "Name=pythonshell,PythonVersion=3.9,ScriptLocation=s3://nowhere/job.py"], env)
    try:
        names = json.loads(_run([awslocal, "glue", "list-jobs"], env).stdout)["JobNames"]
        assert job in names
    finally:
        _run([awslocal, "glue", "delete-job", "--job-name", job], env)


def test_queue_urls_resolve_on_the_host(aws_client, endpoint_url, unique_name):
    """Queue URLs name LocalStack's own address (not sqs.<region>.<ip>, which no resolver knows), in
    the /<account>/<name> form Terraform's AWS provider parses."""
    sqs = aws_client("sqs")
    name = unique_name("one-endpoint")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        parsed = urlparse(url)
        assert parsed.netloc == urlparse(endpoint_url).netloc
        assert parsed.path == f"/000000000000/{name}"
        sqs.send_message(QueueUrl=url, MessageBody="reached")
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        assert [m["Body"] for m in messages] == ["reached"]
    finally:
        sqs.delete_queue(QueueUrl=url)
