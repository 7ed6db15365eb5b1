#!/usr/bin/env python3
"""Preflight of a real-AWS deployment: what `make deploy-aws` needs, checked before anything is
built, initialised, planned or applied, so a missing prerequisite never leaves a half-made stack.

    .venvs/tools/bin/python scripts/aws_preflight.py [--action deploy|plan|destroy]
                                                     [--backend-config FILE]

Checks, in order; the first failure prints one paragraph saying what to do and exits 1:

1. no emulator setting is in the environment (``AWS_ENDPOINT_URL*``, ``AWS_S3_USE_PATH_STYLE``):
   they would send a "real AWS" deployment to an emulator;
2. Terraform is installed (``TERRAFORM``, default ``terraform``);
3. the region (``aws_region`` in ``terraform/env/aws.tfvars``, which the provider uses) is an AWS
   region this SDK knows;
4. credentials are found and valid: ``sts:GetCallerIdentity`` at that region's STS endpoint, which
   also fails when the region is not enabled for the account; the emulator's dummy ``test`` keys
   are named as such; the account is not the emulator's ``000000000000`` and is one of
   ``allowed_account_ids`` (which must be set: the provider then refuses every other account).
   Endpoint settings of ``~/.aws/config`` are ignored (``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``);
5. the Terraform state is readable: the local file ``terraform/state/aws/terraform.tfstate``, or
   the object named by ``--backend-config`` (an S3 backend file, see
   ``terraform/env/aws.s3.tfbackend.example``);
6. deploy / plan: the bucket name (``s3_bucket_name``) is usable — HeadBucket 404: free; 403: owned
   by another account; 200: ours, fine only when this state manages it (and in the same region);
   the shared Glue log groups (``manage_glue_log_groups = true``) do not already exist outside the
   state (creating them would fail halfway through an apply);
7. destroy: with ``bucket_force_destroy = false``, the bucket holds nothing but Terraform's own
   artifacts, else ``destroy`` would delete everything else and then fail on the bucket.

On success it prints one line to stdout — ``account <id> (<caller arn>), region <region>`` — for
the confirmation prompt of scripts/deploy.sh, and what it checked to stderr.

Env vars: ``TF_DIR`` (default <repo>/terraform), ``TERRAFORM``, ``TF_WORKSPACE`` (S3 state key
prefix for a non-default workspace), and the usual AWS credential variables / ``AWS_PROFILE``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Set

ROOT = Path(__file__).resolve().parent.parent
TF_DIR = Path(os.environ.get("TF_DIR", ROOT / "terraform"))
TFVARS = TF_DIR / "env" / "aws.tfvars"
#: The local state file of the aws environment: the path scripts/terraform.sh passes to `init`.
LOCAL_STATE = TF_DIR / "state" / "aws" / "terraform.tfstate"

#: Environment variables that point AWS tooling at an emulator. AWS_ENDPOINT_URL_<SERVICE> too.
EMULATOR_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_S3_USE_PATH_STYLE")
#: The access key the local emulation uses (Makefile LOCAL_AWS, scripts/terraform.sh local).
EMULATOR_ACCESS_KEY = "test"
#: The account id emulators answer GetCallerIdentity with.
EMULATOR_ACCOUNT = "000000000000"
#: Terraform addresses of the resources whose names must be free (or already ours) before apply.
BUCKET_ADDRESS = "aws_s3_bucket.data"
GLUE_LOG_GROUPS_ADDRESS = "aws_cloudwatch_log_group.glue"
GLUE_LOG_GROUP_PREFIX = "/aws-glue/python-jobs/"
#: Terraform-managed objects (locals.tf artifacts_prefix); destroy deletes them before the bucket.
ARTIFACTS_PREFIX = "artifacts/"

HINT_CREDENTIALS = (
    "Configure credentials the usual AWS way — `aws configure` or `aws sso login --profile NAME` and "
    "AWS_PROFILE=NAME, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) — then run "
    "the command again. `aws sts get-caller-identity` must print your account."
)


# --------------------------------------------------------------------------------------------------
# Failures: one class per kind; main() turns each into one paragraph and exit 1
# --------------------------------------------------------------------------------------------------


class PreflightError(Exception):
    """A prerequisite of the AWS deployment is missing; the message says what to do."""


class EmulatorSettingsFound(PreflightError):
    """The environment points AWS tooling at an emulator."""


class TerraformMissing(PreflightError):
    """The Terraform binary is not installed."""


class ConfigurationInvalid(PreflightError):
    """terraform/env/aws.tfvars or the backend file cannot be used."""


class RegionInvalid(PreflightError):
    """The configured region is not an AWS region (or not enabled for the account)."""


class CredentialsMissing(PreflightError):
    """No AWS credentials were found."""


class CredentialsInvalid(PreflightError):
    """AWS rejected the credentials."""


class AwsUnreachable(PreflightError):
    """AWS endpoints did not answer."""


class StateUnreadable(PreflightError):
    """The Terraform state exists but cannot be read."""


class BucketUnavailable(PreflightError):
    """The bucket name is taken, or ours but not managed by this state."""


class ResourceConflict(PreflightError):
    """A resource the stack would create already exists outside its state."""


class BucketNotEmpty(PreflightError):
    """destroy would fail on a bucket that still holds data."""


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The values of terraform/env/aws.tfvars the checks need (variables.tf defaults otherwise)."""

    region: str
    bucket: Optional[str]  # None: variables.tf's default, <project>-<environment>-<account id>
    manage_glue_log_groups: bool = True
    bucket_force_destroy: bool = False
    project: str = "cripto-ml-pipeline"
    environment: str = "dev"
    allowed_account_ids: Optional[tuple] = None

    def bucket_for(self, account: str) -> "Settings":
        """These settings with the bucket name the stack uses in ``account`` (locals.tf bucket_name)."""
        from dataclasses import replace

        return replace(self, bucket=self.bucket or f"{self.project}-{self.environment}-{account}")


@dataclass(frozen=True)
class S3Backend:
    """Where an S3 backend keeps the state (from a .tfbackend file)."""

    bucket: str
    key: str
    region: str
    workspace_key_prefix: str = "env:"

    def state_key(self, workspace: str) -> str:
        """The object holding ``workspace``'s state, as the S3 backend names it."""
        return self.key if workspace == "default" else f"{self.workspace_key_prefix}/{workspace}/{self.key}"


@dataclass(frozen=True)
class ManagedNames:
    """Names of the resources a Terraform state manages, for the name checks."""

    buckets: Dict[str, str] = field(default_factory=dict)  # bucket name -> its region
    log_groups: Set[str] = field(default_factory=set)


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it: what a user types."""
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _load_hcl(path: Path) -> Dict[str, Any]:
    import hcl2

    try:
        with open(path) as handle:
            values = hcl2.load(handle)
    except OSError as exc:
        raise ConfigurationInvalid(f"Cannot read {path}: {exc.strerror}.") from exc
    except Exception as exc:  # python-hcl2 raises lark's exceptions for syntax errors
        raise ConfigurationInvalid(f"{path} is not valid HCL ({type(exc).__name__}: {exc}); fix it.") from exc
    # python-hcl2 keeps string quotes and adds its own "__...__" keys.
    return {k: v.strip('"') if isinstance(v, str) else v for k, v in values.items() if not k.startswith("__")}


def load_settings(path: Path = TFVARS) -> Settings:
    values = _load_hcl(path)
    try:
        return Settings(
            region=str(values.get("aws_region", "us-east-1")),
            bucket=str(values["s3_bucket_name"]) if values.get("s3_bucket_name") else None,
            manage_glue_log_groups=bool(values.get("manage_glue_log_groups", True)),
            bucket_force_destroy=bool(values.get("bucket_force_destroy", False)),
            project=str(values.get("project", "cripto-ml-pipeline")),
            environment=str(values.get("environment", "dev")),
            allowed_account_ids=(tuple(str(a).strip('"') for a in values["allowed_account_ids"])
                                 if values.get("allowed_account_ids") else None),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationInvalid(f"{path}: {exc}") from exc


def load_backend(path: Path, default_region: str) -> S3Backend:
    values = _load_hcl(path)
    missing = [name for name in ("bucket", "key") if not values.get(name)]
    if missing:
        raise ConfigurationInvalid(
            f"{path} sets no {' or '.join(missing)}: an S3 backend file needs at least `bucket` and `key` "
            f"(see terraform/env/aws.s3.tfbackend.example)."
        )
    # Every endpoint key: endpoint(s), sts_endpoint, iam_endpoint, dynamodb_endpoint, ...
    if any("endpoint" in name or name in ("use_path_style", "force_path_style") for name in values):
        raise EmulatorSettingsFound(f"{path} sets an endpoint or path-style access: the AWS state must live in AWS.")
    return S3Backend(bucket=values["bucket"], key=values["key"], region=values.get("region") or default_region,
                     workspace_key_prefix=values.get("workspace_key_prefix", "env:"))


def managed_names(state: Optional[Mapping[str, Any]]) -> ManagedNames:
    """What a Terraform state (format version 4) manages; an absent state manages nothing."""
    names = ManagedNames()
    for resource in (state or {}).get("resources", []):
        if resource.get("mode") != "managed":
            continue
        address = f"{resource.get('type')}.{resource.get('name')}"
        for instance in resource.get("instances", []):
            attributes = instance.get("attributes") or {}
            if address == BUCKET_ADDRESS:
                names.buckets[attributes.get("bucket") or attributes.get("id")] = attributes.get("region", "")
            elif resource.get("type") == "aws_cloudwatch_log_group":
                names.log_groups.add(attributes.get("name"))
    return names


def read_local_state(path: Path = LOCAL_STATE) -> Optional[Dict[str, Any]]:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StateUnreadable(f"{path} is not a readable Terraform state ({exc}); restore it from its backup "
                              f"({path.name}.backup) before deploying again.") from exc


def read_s3_state(s3, backend: S3Backend, workspace: str) -> Optional[Dict[str, Any]]:
    from botocore.exceptions import ClientError

    key = backend.state_key(workspace)
    try:
        body = s3.get_object(Bucket=backend.bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404"):
            return None  # a first deployment: the backend creates the object
        if code in ("NoSuchBucket",):
            raise StateUnreadable(
                f"The state bucket s3://{backend.bucket} does not exist. Create it once (versioning on), e.g. "
                f"`aws s3api create-bucket --bucket {backend.bucket} --region {backend.region}"
                f"{'' if backend.region == 'us-east-1' else f' --create-bucket-configuration LocationConstraint={backend.region}'}` "
                f"and `aws s3api put-bucket-versioning --bucket {backend.bucket} --versioning-configuration Status=Enabled`."
            ) from exc
        raise StateUnreadable(
            f"Cannot read the state s3://{backend.bucket}/{key} ({code}: {exc.response['Error'].get('Message', '')}). "
            f"Your credentials need s3:GetObject, s3:PutObject and s3:ListBucket on the state bucket."
        ) from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise StateUnreadable(f"s3://{backend.bucket}/{key} is not a Terraform state: fix the backend file.") from exc


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def check_environment(environ: Mapping[str, str]) -> None:
    found = sorted(name for name in environ if name.startswith(EMULATOR_VARIABLES))
    if found:
        raise EmulatorSettingsFound(
            f"This deployment targets a real AWS account, but emulator settings are set: {', '.join(found)}. "
            f"Unset them (`unset {' '.join(found)}`) and run it again; local commands set them for "
            f"themselves, so nothing else needs them."
        )


def check_account(account: str, settings: Settings) -> None:
    """The credentials' account is a real one and the one env/aws.tfvars allows."""
    if account == EMULATOR_ACCOUNT:
        raise CredentialsInvalid(
            f"The credentials belong to account {EMULATOR_ACCOUNT}, the local emulation's: nothing was deployed. "
            + HINT_CREDENTIALS
        )
    if not settings.allowed_account_ids:
        raise ConfigurationInvalid(
            f"Set allowed_account_ids = [\"{account}\"] in {TFVARS.name} (the account these credentials belong "
            f"to, if that is where the stack goes): the provider then refuses to touch any other account."
        )
    if account not in settings.allowed_account_ids:
        raise CredentialsInvalid(
            f"The credentials belong to account {account}, but {TFVARS.name} allows only "
            f"{', '.join(settings.allowed_account_ids)} (allowed_account_ids): switch credentials "
            f"(AWS_PROFILE) or fix the list; nothing was deployed."
        )


def check_terraform(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise TerraformMissing(
            f"'{binary}' not found: install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) "
            f"or set TERRAFORM=/path/to/terraform. Nothing was built or deployed."
        )
    return path


def known_regions() -> Set[str]:
    """Every region of every partition in botocore's endpoint data (no profile or config read)."""
    from botocore.loaders import create_loader

    endpoints = create_loader().load_data("endpoints")
    return {region for partition in endpoints["partitions"] for region in partition["regions"]}


def check_region(region: str, known: Optional[Set[str]] = None) -> None:
    known = known_regions() if known is None else known
    if region not in known:
        raise RegionInvalid(
            f"aws_region = \"{region}\" in {_shown(TFVARS)} "
            f"is not an AWS region this SDK knows (e.g. us-east-1, eu-west-1). Fix it there: the provider "
            f"deploys to that region whatever AWS_REGION says."
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
    pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=GLUE_LOG_GROUP_PREFIX)
    existing = {group["logGroupName"] for page in pages for group in page.get("logGroups", [])}
    wanted = {GLUE_LOG_GROUP_PREFIX + "output", GLUE_LOG_GROUP_PREFIX + "error"}
    foreign = sorted((existing & wanted) - managed.log_groups)
    if foreign:
        raise ResourceConflict(
            f"The log groups {', '.join(foreign)} already exist in {settings.region} (every Glue Python shell job "
            f"of the account shares them) and the state ({state_location}) does not manage them. Set "
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


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------


def run(action: str, backend_config: Optional[Path], environ: Mapping[str, str],
        say: Callable[[str], None]) -> Identity:
    """Every check for ``action``; returns the caller's identity, raises a PreflightError."""
    check_environment(environ)
    terraform = check_terraform(environ.get("TERRAFORM", "terraform"))
    say(f"terraform: {terraform}")
    settings = load_settings()
    check_region(settings.region)

    # An endpoint_url in ~/.aws/config (e.g. left there for an emulator) must not redirect a deployment
    # to a real account; scripts/terraform.sh sets the same for Terraform.
    os.environ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.session.Session()
    except ProfileNotFound as exc:
        raise CredentialsMissing(f"{exc}: set AWS_PROFILE to a profile of ~/.aws/config (`aws configure list-profiles`) "
                                 f"or unset it. " + HINT_CREDENTIALS) from exc
    identity = caller_identity(session, settings.region)
    say(f"credentials: account {identity.account}, {identity.arn}")
    check_account(identity.account, settings)
    settings = settings.bucket_for(identity.account)
    say(f"region: {settings.region}")
    environment_region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if environment_region and environment_region != settings.region:
        # Terraform deploys to aws_region; AWS CLI calls made by hand would look elsewhere.
        say(f"warning: AWS_REGION/AWS_DEFAULT_REGION is {environment_region}, but the stack goes to "
            f"{settings.region} (aws_region in {TFVARS.name}); use --region {settings.region} with the AWS CLI.")

    if backend_config is not None:
        backend = load_backend(backend_config, settings.region)
        workspace = environ.get("TF_WORKSPACE") or "default"
        state_location = f"s3://{backend.bucket}/{backend.state_key(workspace)}"
        state = read_s3_state(session.client("s3", region_name=backend.region), backend, workspace)
    else:
        state_location = _shown(LOCAL_STATE)
        state = read_local_state()
    managed = managed_names(state)
    say(f"state: {state_location} ({'exists' if state is not None else 'new'})")

    s3 = session.client("s3", region_name=settings.region)
    if action == "destroy":
        say(check_destroyable(s3, settings, managed))
    else:
        say(check_bucket(s3, settings, managed, state_location))
        verdict = check_glue_log_groups(session.client("logs", region_name=settings.region), settings, managed,
                                        state_location)
        if verdict:
            say(verdict)
    return identity


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--action", choices=("deploy", "plan", "destroy"), default="deploy")
    parser.add_argument("--backend-config", type=Path, default=None,
                        help="S3 backend file (BACKEND_CONFIG of make deploy-aws); default: the local state file")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(f"\033[1m[preflight]\033[0m {line}", file=sys.stderr)

    try:
        identity = run(args.action, args.backend_config, os.environ, say)
    except PreflightError as exc:
        print(f"\033[31m[preflight] error:\033[0m {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an AWS answer no check expected: still one paragraph, never a traceback
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, (BotoCoreError, ClientError)):
            raise
        print(f"\033[31m[preflight] error:\033[0m AWS refused a preflight check ({exc}). Your credentials need "
              f"sts:GetCallerIdentity, s3:ListBucket on the bucket and logs:DescribeLogGroups; nothing was "
              f"deployed.", file=sys.stderr)
        return 1
    print(f"account {identity.account} ({identity.arn}), region {load_settings().region}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
