"""scripts/aws_preflight.py's decisions, with AWS answers stubbed (botocore's Stubber): bucket names
free / taken / ours, state files, S3 backend files, Glue log groups, destroy of a bucket with data."""
from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # where scripts/aws_preflight.py finds its checks
preflight = importlib.import_module("preflight_checks")
aws_checks = importlib.import_module("preflight_aws_checks")

SETTINGS = preflight.Settings(region="eu-west-1", bucket="my-cripto-data")


def _client(service: str, region: str = "eu-west-1"):
    return boto3.client(service, region_name=region, aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x")


def _state(bucket: str = "my-cripto-data", region: str = "eu-west-1", log_groups=()) -> dict:
    resources = [{"mode": "managed", "type": "aws_s3_bucket", "name": "data",
                  "instances": [{"attributes": {"bucket": bucket, "id": bucket, "region": region}}]},
                 {"mode": "data", "type": "aws_caller_identity", "name": "current", "instances": [{"attributes": {}}]}]
    if log_groups:
        resources.append({"mode": "managed", "type": "aws_cloudwatch_log_group", "name": "glue",
                          "instances": [{"attributes": {"name": name}} for name in log_groups]})
    return {"version": 4, "resources": resources}


def _head_bucket(s3, status: int, region: str = "eu-west-1"):
    stub = Stubber(s3)
    if status == 200:
        stub.add_response("head_bucket", {"BucketRegion": region}, {"Bucket": SETTINGS.bucket})
    else:
        stub.add_client_error("head_bucket", service_error_code=str(status), http_status_code=status,
                              expected_params={"Bucket": SETTINGS.bucket})
    return stub


# --------------------------------------------------------------------------------------------------
# The bucket name
# --------------------------------------------------------------------------------------------------


def test_a_free_bucket_name_passes():
    s3 = _client("s3")
    with _head_bucket(s3, 404):
        assert "is free" in aws_checks.check_bucket(s3, SETTINGS, preflight.managed_names(None), "state")


def test_a_bucket_of_another_account_stops_the_deploy():
    s3 = _client("s3")
    with _head_bucket(s3, 403), pytest.raises(preflight.BucketUnavailable, match="taken by another AWS account"):
        aws_checks.check_bucket(s3, SETTINGS, preflight.managed_names(None), "state")


def test_our_bucket_passes_only_when_our_state_manages_it():
    s3 = _client("s3")
    with _head_bucket(s3, 200):
        verdict = aws_checks.check_bucket(s3, SETTINGS, preflight.managed_names(_state()), "state")
    assert "managed by this state" in verdict
    with _head_bucket(s3, 200), pytest.raises(preflight.BucketUnavailable, match="does not manage it"):
        aws_checks.check_bucket(s3, SETTINGS, preflight.managed_names(_state(bucket="other")), "state")


def test_our_bucket_in_another_region_stops_the_deploy():
    s3 = _client("s3")
    with _head_bucket(s3, 200, region="us-west-2"), pytest.raises(preflight.BucketUnavailable, match="us-west-2"):
        aws_checks.check_bucket(s3, SETTINGS, preflight.managed_names(_state()), "state")


# --------------------------------------------------------------------------------------------------
# Environment, region, credentials, configuration files
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_S3_USE_PATH_STYLE"])
def test_emulator_settings_are_refused(variable):
    with pytest.raises(preflight.EmulatorSettingsFound, match=variable):
        preflight.check_environment({variable: "x", "AWS_PROFILE": "prod"})
    preflight.check_environment({"AWS_PROFILE": "prod", "LOCALAWS_HOME": "/x"})


def test_unknown_region_is_refused_and_known_ones_pass():
    preflight.check_region("eu-west-1")
    preflight.check_region("us-gov-west-1")
    with pytest.raises(preflight.RegionInvalid, match="eu-middle-9"):
        preflight.check_region("eu-middle-9")


def test_missing_and_dummy_credentials_are_told_apart(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(preflight.CredentialsMissing, match="No AWS credentials found"):
        aws_checks.caller_identity(boto3.session.Session(), "eu-west-1")
    dummy = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test")
    with pytest.raises(preflight.CredentialsInvalid, match="dummy"):
        aws_checks.caller_identity(dummy, "eu-west-1")


class _StubbedSession:
    """A boto3 session whose STS clients, in any region, answer from one Stubber queue."""

    def __init__(self):
        session = boto3.session.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x")
        self._session = session
        self.sts = session.client("sts", region_name="eu-west-1")
        self.regions = []

    def get_credentials(self):
        return self._session.get_credentials()

    def client(self, service, region_name):
        assert service == "sts"
        self.regions.append(region_name)
        return self.sts


IDENTITY = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/me", "UserId": "AIDA"}
INVALID_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.")


def test_identity_bad_credentials_and_a_region_that_is_not_enabled():
    session = _StubbedSession()
    with Stubber(session.sts) as stub:
        stub.add_response("get_caller_identity", IDENTITY)
        assert aws_checks.caller_identity(session, "eu-west-1") == aws_checks.Identity(IDENTITY["Account"], IDENTITY["Arn"])

        # Rejected in the region and in us-east-1: the credentials are bad.
        stub.add_client_error("get_caller_identity", *INVALID_TOKEN, http_status_code=403)
        stub.add_client_error("get_caller_identity", *INVALID_TOKEN, http_status_code=403)
        with pytest.raises(preflight.CredentialsInvalid, match="InvalidClientTokenId"):
            aws_checks.caller_identity(session, "eu-west-1")

        # Rejected in the region only: the region is not enabled for the account.
        stub.add_client_error("get_caller_identity", *INVALID_TOKEN, http_status_code=403)
        stub.add_response("get_caller_identity", IDENTITY)
        with pytest.raises(preflight.RegionInvalid, match="ap-east-1 is not enabled"):
            aws_checks.caller_identity(session, "ap-east-1")
        stub.assert_no_pending_responses()
    assert session.regions == ["eu-west-1", "eu-west-1", "us-east-1", "ap-east-1", "us-east-1"]


def test_tfvars_and_backend_files_are_read(tmp_path):
    tfvars = tmp_path / "aws.tfvars"
    tfvars.write_text('aws_region = "eu-west-3"\ns3_bucket_name = "b-1"\nmanage_glue_log_groups = false\n')
    assert preflight.load_settings(tfvars) == preflight.Settings("eu-west-3", "b-1", False, False)
    backend = tmp_path / "aws.s3.tfbackend"
    backend.write_text('bucket = "state"\nkey = "a/terraform.tfstate"\nuse_lockfile = true\n')
    parsed = preflight.load_backend(backend, default_region="eu-west-3")
    assert (parsed.bucket, parsed.region, parsed.state_key("default")) == ("state", "eu-west-3", "a/terraform.tfstate")
    assert parsed.state_key("prod") == "env:/prod/a/terraform.tfstate"
    backend.write_text('bucket = "state"\n')
    with pytest.raises(preflight.ConfigurationInvalid, match="key"):
        preflight.load_backend(backend, "eu-west-3")
    backend.write_text('bucket = "s"\nkey = "k"\nendpoints = { s3 = "http://127.0.0.1:4566" }\n')
    with pytest.raises(preflight.EmulatorSettingsFound):
        preflight.load_backend(backend, "eu-west-3")


@pytest.mark.parametrize("key", ["endpoint", "sts_endpoint", "iam_endpoint", "dynamodb_endpoint", "endpoints"])
def test_every_endpoint_key_of_a_backend_file_is_refused(tmp_path, key):
    backend = tmp_path / "aws.s3.tfbackend"
    value = '{ s3 = "http://127.0.0.1:4566" }' if key == "endpoints" else '"http://127.0.0.1:4566"'
    backend.write_text(f'bucket = "s"\nkey = "k"\n{key} = {value}\n')
    with pytest.raises(preflight.EmulatorSettingsFound):
        preflight.load_backend(backend, "eu-west-3")


def test_allowed_account_ids_and_the_default_bucket_name_are_read(tmp_path):
    tfvars = tmp_path / "aws.tfvars"
    tfvars.write_text('environment = "prod"\nallowed_account_ids = ["123456789012"]\n')
    settings = preflight.load_settings(tfvars)
    assert settings.allowed_account_ids == ("123456789012",) and settings.bucket is None
    assert settings.bucket_for("123456789012").bucket == "cripto-ml-pipeline-prod-123456789012"


def test_the_account_must_be_real_and_allowed():
    allowed = preflight.Settings("eu-west-1", None, allowed_account_ids=("123456789012",))
    preflight.check_account("123456789012", allowed)
    with pytest.raises(preflight.CredentialsInvalid, match="000000000000"):
        preflight.check_account("000000000000", preflight.Settings("eu-west-1", None,
                                                                   allowed_account_ids=("000000000000",)))
    with pytest.raises(preflight.CredentialsInvalid, match="allows only 123456789012"):
        preflight.check_account("210987654321", allowed)
    with pytest.raises(preflight.ConfigurationInvalid, match='allowed_account_ids = \\["210987654321"\\]'):
        preflight.check_account("210987654321", preflight.Settings("eu-west-1", None))


# --------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------


def test_local_state_file(tmp_path):
    assert preflight.read_local_state(tmp_path / "absent.tfstate") is None
    good = tmp_path / "terraform.tfstate"
    good.write_text(json.dumps(_state()))
    assert preflight.managed_names(preflight.read_local_state(good)).buckets == {"my-cripto-data": "eu-west-1"}
    good.write_text("{not json")
    with pytest.raises(preflight.StateUnreadable, match="backup"):
        preflight.read_local_state(good)


def test_s3_state_absent_present_and_missing_bucket():
    backend = preflight.S3Backend(bucket="state", key="k", region="eu-west-1")
    s3 = _client("s3")
    body = json.dumps(_state(log_groups=["/aws-glue/python-jobs/output"])).encode()
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))},
                          {"Bucket": "state", "Key": "k"})
        stub.add_client_error("get_object", "NoSuchBucket", http_status_code=404)
        assert preflight.read_s3_state(s3, backend, "default") is None
        names = preflight.managed_names(preflight.read_s3_state(s3, backend, "default"))
        assert names.log_groups == {"/aws-glue/python-jobs/output"}
        with pytest.raises(preflight.StateUnreadable, match="create-bucket"):
            preflight.read_s3_state(s3, backend, "default")


# --------------------------------------------------------------------------------------------------
# Glue log groups; destroy
# --------------------------------------------------------------------------------------------------


def _log_groups(logs, names):
    stub = Stubber(logs)
    for prefix in ("/aws-glue/python-jobs/", "/aws-glue/jobs/"):  # Python shell, then Spark (issue 12)
        stub.add_response("describe_log_groups",
                          {"logGroups": [{"logGroupName": n} for n in names if n.startswith(prefix)]},
                          {"logGroupNamePrefix": prefix})  # fmt: skip
    return stub


def test_existing_glue_log_groups_outside_the_state_stop_the_deploy():
    logs = _client("logs")
    groups = ["/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error"]
    with _log_groups(logs, groups), pytest.raises(preflight.ResourceConflict, match="manage_glue_log_groups = false"):
        aws_checks.check_glue_log_groups(logs, SETTINGS, preflight.managed_names(None), "state")
    with _log_groups(logs, groups):
        managed = preflight.managed_names(_state(log_groups=groups))
        assert "managed" in aws_checks.check_glue_log_groups(logs, SETTINGS, managed, "state")
    with _log_groups(logs, []):
        assert "created" in aws_checks.check_glue_log_groups(logs, SETTINGS, preflight.managed_names(None), "state")
    with _log_groups(logs, ["/aws-glue/jobs/error"]), pytest.raises(preflight.ResourceConflict, match="jobs/error"):
        aws_checks.check_glue_log_groups(logs, SETTINGS, preflight.managed_names(None), "state")
    unmanaged = preflight.Settings("eu-west-1", "b", manage_glue_log_groups=False)
    assert aws_checks.check_glue_log_groups(logs, unmanaged, preflight.managed_names(None), "state") is None


def _versions(s3, before_artifacts, after_artifacts):
    stub = Stubber(s3)
    stub.add_response("list_object_versions", {"Versions": [{"Key": k} for k in before_artifacts]},
                      {"Bucket": SETTINGS.bucket, "MaxKeys": 1})
    stub.add_response("list_object_versions", {"Versions": [{"Key": k} for k in after_artifacts]},
                      {"Bucket": SETTINGS.bucket, "MaxKeys": 1, "KeyMarker": "artifacts0"})
    return stub


def test_destroy_refuses_a_bucket_with_pipeline_data_unless_forced():
    s3 = _client("s3")
    managed = preflight.managed_names(_state())
    with _versions(s3, ["artifacts/glue/model_training.py"], ["models/default/latest.json"]), \
            pytest.raises(preflight.BucketNotEmpty, match="models/default/latest.json"):
        aws_checks.check_destroyable(s3, SETTINGS, managed)
    with _versions(s3, ["artifacts/layers/data_science.zip"], []):
        assert "only Terraform's artifacts" in aws_checks.check_destroyable(s3, SETTINGS, managed)
    forced = preflight.Settings("eu-west-1", SETTINGS.bucket, bucket_force_destroy=True)
    assert "will be deleted" in aws_checks.check_destroyable(s3, forced, managed)
    assert "nothing" in aws_checks.check_destroyable(s3, SETTINGS, preflight.managed_names(None))
