"""The checks of scripts/aws_preflight.py that ask AWS: who the credentials are (STS), whether the bucket
name is usable or the bucket can be destroyed (S3), whether the shared Glue log groups exist outside
the state (CloudWatch Logs). Clients come in as arguments, so tests stub them (botocore's Stubber).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from preflight_checks import (
    ARTIFACTS_PREFIX,
    EMULATOR_ACCESS_KEY,
    GLUE_LOG_GROUP_PREFIX,
    GLUE_SPARK_LOG_GROUP_PREFIX,
    HINT_CREDENTIALS,
    TFVARS,
    AwsUnreachable,
    BucketNotEmpty,
    BucketUnavailable,
    CredentialsInvalid,
    CredentialsMissing,
    ManagedNames,
    RegionInvalid,
    ResourceConflict,
    Settings,
)


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


#: Always enabled in the commercial partition: where credentials are checked when a region refuses them.
HOME_REGION = "us-east-1"


def _accepted_at_home(session) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session.client("sts", region_name=HOME_REGION).get_caller_identity()
    except (BotoCoreError, ClientError):
        return False
    return True


def caller_identity(session, region: str) -> Identity:
    """Who the credentials belong to, asked at the region's own STS endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        credentials = session.get_credentials()
    except BotoCoreError as exc:  # e.g. an expired SSO token, a failing credential_process
        raise CredentialsInvalid(f"The AWS credentials cannot be loaded ({exc}). " + HINT_CREDENTIALS) from exc
    if credentials is None:
        raise CredentialsMissing(
            "No AWS credentials found (no AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, no AWS_PROFILE, no "
            "~/.aws/credentials or SSO session, no instance or container role), so nothing can be deployed "
            "to AWS and nothing was built, planned or applied. " + HINT_CREDENTIALS
        )
    if credentials.access_key == EMULATOR_ACCESS_KEY:
        raise CredentialsInvalid(
            "The AWS credentials in the environment are the local emulation's dummy keys ('test'). "
            + HINT_CREDENTIALS
        )
    try:
        answer = session.client("sts", region_name=region).get_caller_identity()
    except NoCredentialsError as exc:
        raise CredentialsMissing(f"No AWS credentials could be loaded ({exc}). " + HINT_CREDENTIALS) from exc
    except EndpointConnectionError as exc:
        raise AwsUnreachable(
            f"Cannot reach AWS STS in {region} ({exc}). Check the network (proxy, VPN, firewall) and that "
            f"{region} exists; nothing was deployed."
        ) from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code == "InvalidClientTokenId" and region != HOME_REGION and _accepted_at_home(session):
            # An opt-in region that is not enabled answers exactly like a bad key; us-east-1 tells them apart.
            raise RegionInvalid(f"{region} is not enabled for this account (its STS endpoint rejects credentials "
                                f"that {HOME_REGION} accepts). Enable it (AWS console: Account > AWS Regions) or "
                                f"pick another aws_region in {TFVARS.name}.") from exc
        raise CredentialsInvalid(f"AWS rejected the credentials ({code}: {message}). " + HINT_CREDENTIALS) from exc
    except BotoCoreError as exc:  # e.g. an expired SSO token, a broken profile
        raise CredentialsInvalid(f"The AWS credentials cannot be used ({exc}). " + HINT_CREDENTIALS) from exc
    return Identity(account=answer["Account"], arn=answer["Arn"])


def check_bucket(s3, settings: Settings, managed: ManagedNames, state_location: str) -> str:
    """Whether ``settings.bucket`` can be (or already is) this stack's bucket; returns a verdict."""
    from botocore.exceptions import ClientError

    name = settings.bucket
    try:
        answer = s3.head_bucket(Bucket=name)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code", "")
        if status == 404 or code in ("404", "NoSuchBucket"):
            if name in managed.buckets:
                return f"s3://{name} is in the state but gone from AWS: the apply re-creates it"
            return f"s3://{name} is free"
        if status == 403 or code in ("403", "AccessDenied", "Forbidden"):
            raise BucketUnavailable(
                f"The bucket name '{name}' is taken by another AWS account (HeadBucket: 403 Forbidden) — bucket "
                f"names are global. Set s3_bucket_name in {TFVARS.name} to a name of your own (e.g. "
                f"'{name}-<your account id>'), then run this again. (If the bucket is yours, your credentials "
                f"lack s3:ListBucket on it.)"
            ) from exc
        raise
    region = answer.get("BucketRegion") or answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
        "x-amz-bucket-region", "")
    if name not in managed.buckets:
        raise BucketUnavailable(
            f"The bucket '{name}' already exists in your account{f' ({region})' if region else ''}, but the "
            f"Terraform state ({state_location}) does not manage it, so the apply would fail creating it. "
            f"Either set s3_bucket_name in {TFVARS.name} to a new name, or adopt the bucket with "
            f"`scripts/terraform.sh aws import aws_s3_bucket.data {name}` — or, if it belongs to another "
            f"copy of this stack, point BACKEND_CONFIG at that copy's state."
        )
    if region and region != settings.region:
        raise BucketUnavailable(
            f"The bucket '{name}' is in {region}, but aws_region is {settings.region}: a bucket cannot move. "
            f"Deploy to {region} (aws_region in {TFVARS.name}) or choose another bucket name."
        )
    return f"s3://{name} exists and is managed by this state"


def check_glue_log_groups(logs, settings: Settings, managed: ManagedNames, state_location: str) -> Optional[str]:
    if not settings.manage_glue_log_groups:
        return None
    prefixes = (GLUE_LOG_GROUP_PREFIX, GLUE_SPARK_LOG_GROUP_PREFIX)
    existing = {group["logGroupName"] for prefix in prefixes
                for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
                for group in page.get("logGroups", [])}  # fmt: skip
    wanted = {prefix + name for prefix in prefixes for name in ("output", "error")}
    foreign = sorted((existing & wanted) - managed.log_groups)
    if foreign:
        raise ResourceConflict(
            f"The log groups {', '.join(foreign)} already exist in {settings.region} (every Glue Python shell or Spark "
            f"job of the account shares them) and the state ({state_location}) does not manage them. Set "
            f"manage_glue_log_groups = false in {TFVARS.name} to leave them alone, or import them with "
            f"`scripts/terraform.sh aws import 'aws_cloudwatch_log_group.glue[\"<name>\"]' <name>`."
        )
    return "Glue log groups: " + ("will be created" if not existing & wanted else "managed by this state")


def _first_data_key(s3, bucket: str) -> Optional[str]:
    """A key (any version or delete marker) outside the artifacts prefix, or None."""
    # Keys are listed in order: one page from the start and one after "artifacts/" cover both sides.
    for marker in ("", ARTIFACTS_PREFIX[:-1] + chr(ord("/") + 1)):
        kwargs = {"Bucket": bucket, "MaxKeys": 1}
        if marker:
            kwargs["KeyMarker"] = marker
        page = s3.list_object_versions(**kwargs)
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if not entry["Key"].startswith(ARTIFACTS_PREFIX):
                return entry["Key"]
    return None


def check_destroyable(s3, settings: Settings, managed: ManagedNames) -> str:
    from botocore.exceptions import ClientError

    if settings.bucket not in managed.buckets:
        return "the state manages no bucket: nothing of it to destroy"
    if settings.bucket_force_destroy:
        return f"s3://{settings.bucket} and everything in it will be deleted (bucket_force_destroy = true)"
    try:
        key = _first_data_key(s3, settings.bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return f"s3://{settings.bucket} is already gone"
        raise
    if key is not None:
        raise BucketNotEmpty(
            f"s3://{settings.bucket} still holds pipeline data (e.g. '{key}') and bucket_force_destroy is false, "
            f"so `destroy` would delete the functions and the job and then fail on the bucket. Copy out what "
            f"you want to keep, then either empty the bucket (all versions) or set bucket_force_destroy = true "
            f"in {TFVARS.name} and run `make deploy-aws` once before `make destroy-aws`."
        )
    return f"s3://{settings.bucket} holds only Terraform's artifacts: it can be deleted"
