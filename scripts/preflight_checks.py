"""The checks of scripts/aws_preflight.py that need no AWS answer: emulator settings, Terraform, region,
account, and the inputs every check reads (terraform/env/aws.tfvars, an S3 backend file, the state).

Each failure kind is one PreflightError subclass whose message says what to do; the CLI
(scripts/aws_preflight.py) turns it into one paragraph and exit 1. The checks that ask AWS are in
scripts/preflight_aws_checks.py.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Set

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
#: The Spark feature job's driver groups (glue_spark.tf), shared by every Glue Spark job the same way.
GLUE_SPARK_LOG_GROUP_PREFIX = "/aws-glue/jobs/"
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


def shown(path: Path) -> str:
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
            f"aws_region = \"{region}\" in {shown(TFVARS)} "
            f"is not an AWS region this SDK knows (e.g. us-east-1, eu-west-1). Fix it there: the provider "
            f"deploys to that region whatever AWS_REGION says."
        )
