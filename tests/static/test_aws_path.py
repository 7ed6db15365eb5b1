"""The AWS path (`make plan-aws / deploy-aws / destroy-aws`), checked without an AWS account or a
network to AWS: it stops before anything is built or applied when credentials are missing, no
local endpoint, dummy credential or local-only setting can reach it, and its Terraform state never
mixes with the emulation's. The real make targets and scripts run in subprocesses with a scrubbed
environment: no AWS or Terraform variables, HOME an empty directory (so no ~/.aws)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
from support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".venvs"
TERRAFORM_DIR = ROOT / "terraform"
WRAPPER = ROOT / "scripts" / "terraform.sh"
AWS_STATE = TERRAFORM_DIR / "state" / "aws" / "terraform.tfstate"
AWS_TARGETS = ("plan-aws", "deploy-aws", "destroy-aws")

#: Anything that only makes sense against the local emulation.
LOCAL_VALUE = re.compile(r"127\.0\.0\.1|localhost|localstack|:4566\b|:4567\b|AWS_ENDPOINT_URL|AWS_S3_USE_PATH_STYLE"
                         r"|AWS_ACCESS_KEY_ID=test|AWS_SECRET_ACCESS_KEY=test", re.IGNORECASE)


def _base_interpreters() -> Dict[str, str]:
    """PYTHON39/312/313 as the environments were built with, so `make bootstrap` stays a no-op
    without pyenv's HOME-based lookup."""
    found = {}
    for variable, env_name, version in (("PYTHON312", "tools", "3.12"), ("PYTHON313", "localstack", "3.13"),
                                        ("PYTHON39", "glue-pythonshell-3.9", "3.9")):
        config = VENVS / env_name / "pyvenv.cfg"
        if not config.exists():
            pytest.fail(f"{config} is missing: run `make bootstrap`.")
        home = dict(line.split(" = ", 1) for line in config.read_text().splitlines() if " = " in line)["home"]
        found[variable] = str(Path(home) / f"python{version}")
    return found


def scrubbed_env(tmp_path: Path, **extra: str) -> Dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
           "LOCALAWS_HOME": str(tmp_path / "localaws"), **_base_interpreters()}
    env.update(extra)
    return env


def run(args: List[str], env: Dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _fingerprint(path: Path):
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


# --------------------------------------------------------------------------------------------------
# Without credentials: fail fast, clearly, and leave nothing behind
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", AWS_TARGETS)
def test_aws_target_without_credentials_fails_before_building_anything(tmp_path, target):
    state_before = _fingerprint(AWS_STATE)
    result = run(["make", "--no-print-directory", target], scrubbed_env(tmp_path))

    assert result.returncode != 0
    assert "No AWS credentials found" in result.stderr, result.stderr
    assert "aws configure" in result.stderr  # says what to do next
    assert "Traceback" not in result.stderr
    # Stopped at the preflight: no build, no init, no plan, no apply ...
    assert "building artifacts" not in result.stderr
    assert "terraform init" not in result.stderr
    # ... so no Terraform working data, plan file or state appeared.
    assert not (tmp_path / "localaws").exists(), sorted(str(p) for p in (tmp_path / "localaws").rglob("*"))
    assert _fingerprint(AWS_STATE) == state_before


@pytest.mark.parametrize("variable, value", [
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
    ("AWS_ENDPOINT_URL_GLUE", "http://127.0.0.1:4567"),
    ("AWS_ENDPOINT_URL_S3", "http://localhost:4566"),
    ("AWS_S3_USE_PATH_STYLE", "true"),
])
def test_deploy_aws_refuses_emulator_settings_before_anything(tmp_path, variable, value):
    env = scrubbed_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="example",
                       **{variable: value})
    result = run(["make", "--no-print-directory", "deploy-aws"], env)
    assert result.returncode != 0
    assert f"emulator settings are set: {variable}" in result.stderr, result.stderr
    assert not (tmp_path / "localaws").exists()


@pytest.mark.parametrize("credentials, message", [
    ({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}, "local emulation's dummy keys"),
    ({"AWS_PROFILE": "no-such-profile"}, "The config profile (no-such-profile) could not be found"),
])
def test_deploy_aws_explains_unusable_credentials(tmp_path, credentials, message):
    result = run(["make", "--no-print-directory", "deploy-aws"], scrubbed_env(tmp_path, **credentials))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "localaws").exists()


# --------------------------------------------------------------------------------------------------
# Nothing local leaks into the AWS path
# --------------------------------------------------------------------------------------------------


def test_aws_targets_expand_to_plain_calls_without_local_settings(tmp_path):
    env = scrubbed_env(tmp_path, LOCALSTACK_PORT="4720", GLUE_PORT="4721")
    for target, expected in (("plan-aws", "scripts/deploy.sh aws --plan-only"), ("deploy-aws", "scripts/deploy.sh aws"),
                             ("destroy-aws", "scripts/deploy.sh aws --destroy")):
        result = run(["make", "--no-print-directory", "-n", target], env)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[-1] == expected, lines
        assert not [line for line in lines if LOCAL_VALUE.search(line) or line.startswith("env ")], lines


def test_make_exports_no_aws_setting_to_any_recipe(tmp_path):
    # The Makefile's exported variables reach every recipe, the AWS ones included.
    env = scrubbed_env(tmp_path, LOCALSTACK_PORT="4720", GLUE_PORT="4721")
    result = run(["make", "--no-print-directory", "-s", "--eval", "print-recipe-env: ; @env", "print-recipe-env"], env)
    assert result.returncode == 0, result.stderr
    exported = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert "LOCALAWS_HOME" in exported  # the probe sees the Makefile's exports
    assert [name for name in exported if name.startswith("AWS_")] == []
    assert [f"{k}={v}" for k, v in exported.items() if re.search(r"127\.0\.0\.1|localhost", v)] == []


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_GLUE",
                                      "AWS_ENDPOINT_URL_STS"])
def test_terraform_wrapper_aws_refuses_every_endpoint_variable(tmp_path, variable):
    result = run([str(WRAPPER), "aws", "version"], scrubbed_env(tmp_path, **{variable: "http://127.0.0.1:4566"}))
    assert result.returncode != 0
    assert variable in result.stderr


def test_aws_configuration_files_hold_nothing_local():
    files = [TERRAFORM_DIR / "env" / "aws.tfvars", *sorted((TERRAFORM_DIR / "env").glob("aws*.tfbackend*"))]
    assert len(files) >= 2, files
    local = re.compile(r"127\.0\.0\.1|localhost|localstack|\b4566\b|\b4567\b|endpoint|path_style|skip_\w+|=\s*\"test\"",
                       re.IGNORECASE)
    hits = [f"{path.name}:{number}: {line.strip()}"
            for path in files
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if local.search(line) and not line.lstrip().startswith("#")]
    assert hits == []


@pytest.mark.parametrize("setting", ['endpoints = { s3 = "http://127.0.0.1:4566" }',
                                     'sts_endpoint = "http://127.0.0.1:4566"',
                                     'dynamodb_endpoint = "http://127.0.0.1:4566"'])
def test_backend_config_with_an_endpoint_is_refused(tmp_path, setting):
    backend = tmp_path / "emulated.s3.tfbackend"
    backend.write_text(f'bucket = "state"\nkey = "k"\n{setting}\n')
    result = run([str(WRAPPER), "aws", "version"], scrubbed_env(tmp_path, BACKEND_CONFIG=str(backend)))
    assert result.returncode != 0
    assert "endpoint" in result.stderr


# --------------------------------------------------------------------------------------------------
# State: local and AWS never mix; the S3 backend leaves terraform/ and the local state alone
# --------------------------------------------------------------------------------------------------


@pytest.fixture()
def terraform_copy(tmp_path) -> Path:
    require_tool("terraform")  # skip without it locally, fail in CI
    copy = tmp_path / "repo" / "terraform"
    shutil.copytree(TERRAFORM_DIR, copy, ignore=shutil.ignore_patterns(".terraform*", "state", "*.tfstate*"))
    return copy


def _backend_settings(data_dir: Path) -> dict:
    """The backend Terraform recorded at `init` (TF_DATA_DIR/terraform.tfstate)."""
    return json.loads((data_dir / "terraform.tfstate").read_text())["backend"]


def test_local_and_aws_state_live_apart(tmp_path, terraform_copy):
    env = scrubbed_env(tmp_path, TF_DIR=str(terraform_copy))
    for env_name in ("local", "aws"):
        result = run([str(WRAPPER), env_name, "init", "-no-color"], env)
        assert result.returncode == 0, result.stdout + result.stderr
    home = tmp_path / "localaws" / "terraform"
    local, aws = _backend_settings(home / "local" / "data"), _backend_settings(home / "aws" / "data")
    assert local["type"] == aws["type"] == "local"
    assert local["config"]["path"] == str(home / "local" / "terraform.tfstate")
    # The AWS state survives `make clean` of the emulation's home, in the (git-ignored) repo tree,
    # where scripts/preflight_checks.py looks for it.
    assert aws["config"]["path"] == str(terraform_copy / "state" / "aws" / "terraform.tfstate")
    preflight = (ROOT / "scripts" / "preflight_checks.py").read_text()
    assert 'LOCAL_STATE = TF_DIR / "state" / "aws" / "terraform.tfstate"' in preflight


def test_s3_backend_runs_from_an_overlay_and_leaves_terraform_dir_alone(tmp_path, terraform_copy):
    (terraform_copy.parent / "build").symlink_to(ROOT / "build", target_is_directory=True)
    backend = terraform_copy / "env" / "aws.s3.tfbackend"
    shutil.copy(terraform_copy / "env" / "aws.s3.tfbackend.example", backend)
    before = sorted(p.name for p in terraform_copy.iterdir())
    env = scrubbed_env(tmp_path, TF_DIR=str(terraform_copy), BACKEND_CONFIG=str(backend))

    # -backend=false: the state bucket is not reachable here; the configuration still loads in full.
    for command in (["init", "-backend=false", "-no-color"], ["validate", "-no-color"]):
        result = run([str(WRAPPER), "aws", *command], env)
        assert result.returncode == 0, result.stdout + result.stderr

    overlay = tmp_path / "localaws" / "terraform" / "aws-s3" / "root"
    assert 'backend "s3" {}' in (overlay / "backend.tf").read_text()
    linked = {p.name for p in overlay.glob("*.tf") if p.is_symlink()}
    assert linked == {p.name for p in terraform_copy.glob("*.tf")} - {"backend.tf"}
    assert (overlay / "env").resolve() == (terraform_copy / "env").resolve()
    assert sorted(p.name for p in terraform_copy.iterdir()) == before  # nothing written into terraform/
    assert 'backend "local" {}' in (terraform_copy / "backend.tf").read_text()

    # The local environment ignores it, even when it stays exported: local backend, own data dir.
    result = run([str(WRAPPER), "local", "init", "-no-color"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    local = _backend_settings(tmp_path / "localaws" / "terraform" / "local" / "data")
    assert (local["type"], local["config"]["path"]) == (
        "local", str(tmp_path / "localaws" / "terraform" / "local" / "terraform.tfstate"))
