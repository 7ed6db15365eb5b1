"""`tflocal` (PyPI terraform-local) applies this stack's Terraform to the emulation, as a LocalStack
user would instead of `scripts/terraform.sh local` (issue 9, "One endpoint").

tflocal writes a provider override file naming LocalStack's address for every service. Terraform runs
with no AWS_ENDPOINT_URL* at all, so only that file routes its calls: the Glue job reaching the Glue
service proves Glue is served on LocalStack's port. Its own environment name and state (a temporary
directory) keep it apart from the shared stack. CI time: a full apply costs about a minute, so it
applies a targeted subset: the Glue training job and what it needs (bucket with versioning, the
uploaded job files, its role and policy). The Glue log groups are shared by the account, so this
environment leaves them to the shared stack (manage_glue_log_groups=false), as a second environment
in one AWS account would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from support.tools import require_tool

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[3]
TFLOCAL = Path(sys.executable).parent / "tflocal"
TARGET = "aws_glue_job.model_training"


@pytest.fixture
def tflocal(tmp_path: Path, endpoint_url: str):
    """Runs ``tflocal <args>`` in an overlay of terraform/ with its own state; destroys what it applied."""
    require_tool("terraform")
    if not TFLOCAL.exists():
        pytest.fail(f"{TFLOCAL} missing: terraform-local is pinned in requirements/tools.txt; run `make bootstrap`.")
    # tflocal writes its override file into the directory Terraform runs in: never into terraform/.
    overlay = tmp_path / "terraform"
    overlay.mkdir()
    for source in sorted((REPO / "terraform").glob("*.tf")) + [REPO / "terraform" / ".terraform.lock.hcl"]:
        (overlay / source.name).symlink_to(source)

    # The job's files come from the build (unchanged sources rebuild nothing); scripts/terraform.sh
    # writes the CLI config that installs the provider from the local mirror, when there is one.
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_artifacts.py")], check=True,
                   capture_output=True, text=True, timeout=600)
    subprocess.run([str(REPO / "scripts" / "terraform.sh"), "local", "version"], check=True,
                   capture_output=True, text=True, timeout=60)
    cli_config = Path(os.environ.get("LOCALAWS_HOME", REPO / ".local")) / "terraform" / "terraformrc"

    address = urlparse(endpoint_url)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_ENDPOINT_URL", "AWS_S3_USE_PATH_STYLE", "TF_"))}
    env.update(
        # tflocal's own settings: LocalStack's address for every service; S3 by path (an IP address
        # has no bucket subdomains). Nothing tells Terraform itself where AWS is.
        LOCALSTACK_HOSTNAME=address.hostname, EDGE_PORT=str(address.port), S3_HOSTNAME=address.hostname,
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
        TF_DATA_DIR=str(tmp_path / "data"), TF_IN_AUTOMATION="1", DISABLE_DEPRECATION_NOTICE="1",
    )
    if cli_config.exists():
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    environment = f"tfl{uuid.uuid4().hex[:6]}"
    variables = ["-var", f"environment={environment}", "-var", 'allowed_account_ids=["000000000000"]',
                 "-var", "manage_glue_log_groups=false", "-var", "bucket_force_destroy=true",
                 "-var", f"artifacts_dir={REPO / 'build'}"]

    def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        result = subprocess.run([str(TFLOCAL), *args], cwd=overlay, env=env, capture_output=True, text=True,
                                timeout=timeout)
        assert result.returncode == 0, f"tflocal {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result

    run("init", "-input=false", f"-backend-config=path={tmp_path / 'terraform.tfstate'}")
    applied = []
    yield run, variables, environment, applied, overlay
    if applied:
        run("destroy", "-auto-approve", "-input=false", *variables)


def test_tflocal_applies_the_stack_through_the_one_endpoint(tflocal, aws_client):
    run, variables, environment, applied, overlay = tflocal
    run("apply", "-auto-approve", "-input=false", f"-target={TARGET}", *variables)
    applied.append(TARGET)
    assert not (overlay / "localstack_providers_override.tf").exists(), "tflocal leaves no override file behind"

    outputs = json.loads(run("output", "-json").stdout)
    bucket, job_name = outputs["bucket_name"]["value"], outputs["glue_job_name"]["value"]
    assert environment in bucket and job_name.endswith(f"-{environment}")

    # Checked with boto3 on the Glue service's own port and on LocalStack: the resources are real.
    job = aws_client("glue").get_job(JobName=job_name)["Job"]
    assert job["Command"]["ScriptLocation"] == f"s3://{bucket}/artifacts/glue/model_training.py"
    assert job["NonOverridableArguments"]["library-set"] == "analytics"
    s3 = aws_client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.head_object(Bucket=bucket, Key="artifacts/glue/model_training.py")

    run("destroy", "-auto-approve", "-input=false", *variables)
    applied.clear()
    assert job_name not in aws_client("glue").list_jobs()["JobNames"]
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
