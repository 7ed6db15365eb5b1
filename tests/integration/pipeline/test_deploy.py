"""Deploy the stack to the running emulation with ``scripts/deploy.sh local`` and check, through
boto3 only, that every output names a real resource configured as the stack promises; then check
that a second plan right after the apply has nothing to change (reproducible artifacts, no drift).

Endpoints come from the fixtures (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_GLUE``); Terraform state
lives under ``$LOCALAWS_HOME/terraform/local`` as for ``make deploy-local``.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "scripts" / "terraform.sh"
DEPLOY_TIMEOUT_SECONDS = 1200  # cold: layer wheels download + build + first apply (conftest.deployed_stack)
LOG_RETENTION_DAYS = 14  # terraform/variables.tf default, not overridden in env/local.tfvars

pytestmark = pytest.mark.timeout(DEPLOY_TIMEOUT_SECONDS + 300)


@pytest.fixture(scope="module")
def outputs(deployed_stack) -> Dict[str, Any]:
    """Every ``terraform output`` value of the deployed stack (see conftest.deployed_stack)."""
    return deployed_stack.raw


def _policy_actions(document: Any) -> List[str]:
    document = json.loads(document) if isinstance(document, str) else document
    actions: List[str] = []
    for statement in document["Statement"]:
        value = statement.get("Action", [])
        actions.extend([value] if isinstance(value, str) else value)
    return actions


def test_bucket_is_versioned_encrypted_private_and_tls_only(aws_client, outputs):
    s3, bucket = aws_client("s3"), outputs["bucket_name"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block[key] for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_notifications_route_raw_csv_and_feature_parquet(aws_client, outputs):
    config = aws_client("s3").get_bucket_notification_configuration(Bucket=outputs["bucket_name"])
    routes = {
        item["LambdaFunctionArn"]: {rule["Name"].lower(): rule["Value"] for rule in item["Filter"]["Key"]["FilterRules"]}
        for item in config["LambdaFunctionConfigurations"]
    }
    assert routes == {
        outputs["feature_lambda_arn"]: {"prefix": "raw", "suffix": ".csv"},
        # features.parquet, not .parquet: the Spark job's parts/*.parquet must never start training.
        outputs["trigger_lambda_arn"]: {"prefix": "features/", "suffix": "features.parquet"},
    }


def test_functions_are_active_python312_with_their_settings(aws_client, outputs):
    lambda_ = aws_client("lambda")
    feature = lambda_.get_function_configuration(FunctionName=outputs["feature_lambda_name"])
    trigger = lambda_.get_function_configuration(FunctionName=outputs["trigger_lambda_name"])
    for function in (feature, trigger):
        assert (function["State"], function["Runtime"], function["Handler"]) == ("Active", "python3.12", "handler.handler")
    assert [layer["Arn"] for layer in feature["Layers"]] == [outputs["layer_version_arn"]]
    assert {"LOG_LEVEL", "MAX_RAW_BYTES"} <= feature["Environment"]["Variables"].keys()
    assert trigger["Environment"]["Variables"]["GLUE_JOB_NAME"] == outputs["glue_job_name"]
    # Bounded: a burst cannot hold the account's whole Lambda concurrency in the trigger's Glue wait.
    reserved = lambda_.get_function_concurrency(FunctionName=outputs["trigger_lambda_name"])
    assert 1 <= reserved["ReservedConcurrentExecutions"] <= 100


def test_failed_async_events_go_to_the_queue(aws_client, outputs):
    lambda_ = aws_client("lambda")
    queue_arn = aws_client("sqs").get_queue_attributes(
        QueueUrl=outputs["failed_events_queue_url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for name in (outputs["feature_lambda_name"], outputs["trigger_lambda_name"]):
        config = lambda_.get_function_event_invoke_config(FunctionName=name)
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
        # The role may send there: its policy names the queue by an ARN built from the queue's name
        # (iam.tf), which must be the queue's real ARN.
        role = lambda_.get_function_configuration(FunctionName=name)["Role"].rsplit("/", 1)[-1]
        iam = aws_client("iam")
        statements = [statement for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]
                      for statement in iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]["Statement"]]
        send = [s for s in statements if s.get("Sid") == "SendFailedEvents"]
        assert len(send) == 1 and send[0]["Resource"] in (queue_arn, [queue_arn]), send


def test_log_groups_exist_with_retention(aws_client, outputs):
    logs = aws_client("logs")
    names = [outputs["feature_lambda_log_group_name"], outputs["trigger_lambda_log_group_name"],
             *outputs["glue_log_group_names"], *outputs["glue_spark_log_group_names"]]
    for name in names:
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        match = [group for group in groups if group["logGroupName"] == name]
        assert match, f"log group {name} does not exist"
        assert match[0].get("retentionInDays") == LOG_RETENTION_DAYS


def test_glue_job_is_a_python_shell_3_9_job_with_its_code_in_s3(aws_client, outputs):
    job = aws_client("glue").get_job(JobName=outputs["glue_job_name"])["Job"]
    assert (job["Command"]["Name"], job["Command"]["PythonVersion"]) == ("pythonshell", "3.9")
    assert job["MaxCapacity"] == 0.0625
    assert job["ExecutionProperty"]["MaxConcurrentRuns"] >= 1
    # Arguments that choose the code are non-overridable: a StartJobRun caller cannot run other code.
    fixed = job["NonOverridableArguments"]
    assert {"library-set", "--extra-py-files", "--additional-python-modules"} <= fixed.keys()
    assert not fixed.keys() & job["DefaultArguments"].keys()
    arguments = {**job["DefaultArguments"], **fixed}
    assert arguments["library-set"] == "analytics"
    assert arguments["--bucket"] == outputs["bucket_name"]
    assert arguments["--extra-py-files"].endswith("-py3-none-any.whl")  # Python shell pip-installs wheels
    s3 = aws_client("s3")
    for uri in (job["Command"]["ScriptLocation"], arguments["--extra-py-files"]):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        assert bucket == outputs["bucket_name"] and key.startswith("artifacts/")
        s3.head_object(Bucket=bucket, Key=key)  # raises if Terraform did not upload it


def test_roles_have_inline_policies_without_wildcard_actions(aws_client, outputs):
    lambda_, iam = aws_client("lambda"), aws_client("iam")
    role_arns = [lambda_.get_function_configuration(FunctionName=outputs[name])["Role"]
                 for name in ("feature_lambda_name", "trigger_lambda_name")]
    role_arns.append(aws_client("glue").get_job(JobName=outputs["glue_job_name"])["Job"]["Role"])
    assert len(set(role_arns)) == 3, "each workload must have its own role"
    for arn in role_arns:
        role = arn.rsplit("/", 1)[-1]
        policies = iam.list_role_policies(RoleName=role)["PolicyNames"]
        assert policies, f"role {role} has no inline policy"
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
        for policy in policies:
            document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            assert [a for a in _policy_actions(document) if "*" in a] == [], f"wildcard action in {role}/{policy}"


def test_second_plan_has_no_changes(outputs, endpoint_url, glue_endpoint_url):
    # -detailed-exitcode: 0 = no changes, 2 = changes, 1 = error.
    plan = subprocess.run([str(TERRAFORM), "local", "plan", "-detailed-exitcode", "-no-color"],
                          env={**os.environ, "AWS_ENDPOINT_URL": endpoint_url, "AWS_ENDPOINT_URL_GLUE": glue_endpoint_url}, capture_output=True, text=True,
                          timeout=600)
    assert plan.returncode == 0, f"plan after apply is not empty (exit {plan.returncode}):\n{plan.stdout[-6000:]}\n{plan.stderr}"
