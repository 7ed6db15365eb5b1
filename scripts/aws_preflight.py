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

The checks live in scripts/preflight_checks.py (no AWS answer needed) and
scripts/preflight_aws_checks.py (STS, S3, CloudWatch Logs); this file parses the arguments, runs them
in order, prints and sets the exit code.

Env vars: ``TF_DIR`` (default <repo>/terraform), ``TERRAFORM``, ``TF_WORKSPACE`` (S3 state key
prefix for a non-default workspace), and the usual AWS credential variables / ``AWS_PROFILE``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional

from preflight_aws_checks import Identity, caller_identity, check_bucket, check_destroyable, check_glue_log_groups
from preflight_checks import (
    HINT_CREDENTIALS,
    LOCAL_STATE,
    TFVARS,
    CredentialsMissing,
    PreflightError,
    check_account,
    check_environment,
    check_region,
    check_terraform,
    load_backend,
    load_settings,
    managed_names,
    read_local_state,
    read_s3_state,
    shown,
)


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
        state_location = shown(LOCAL_STATE)
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
