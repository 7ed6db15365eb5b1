"""The Glue job's report modules as wheels the stack uploads to S3 (issue 14): the hashed lock, the
download (scripts/glue_module_wheels.py, pip replaced by a fake), and the Terraform that uploads the
wheels and names only them, in the stack's own bucket, in --additional-python-modules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import hcl

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import glue_module_wheels  # noqa: E402


def test_the_lock_pins_and_hashes_every_module():
    lines = glue_module_wheels.REQUIREMENTS.read_text().replace("\\\n", " ").splitlines()
    pins = [line.split()[0] for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert "matplotlib==3.8.4" in pins and all(re.fullmatch(r"[A-Za-z0-9._-]+==[0-9.]+", p) for p in pins)
    assert all("--hash=sha256:" in line for line in lines if line.strip() and not line.lstrip().startswith("#"))


@pytest.fixture
def fake_pip(monkeypatch):
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        dest = Path(command[command.index("--dest") + 1])
        (dest / "probe-1.0-cp39-cp39-manylinux2014_x86_64.whl").write_bytes(b"wheel")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(glue_module_wheels.subprocess, "run", run)
    return calls


def test_download_takes_glues_platform_with_require_hashes_and_reuses_the_result(tmp_path, fake_pip):
    assert glue_module_wheels.download(tmp_path) is None
    (command,) = fake_pip
    joined = " ".join(command)
    assert "--require-hashes" in command and "--no-deps" in command and "--only-binary=:all:" in command
    assert "--platform manylinux2014_x86_64" in joined and "--python-version 3.9" in joined
    assert "--implementation cp" in joined and str(glue_module_wheels.REQUIREMENTS) in command
    wheels = glue_module_wheels.wheel_files(tmp_path / "glue-modules")
    assert [w.name for w in wheels] == ["probe-1.0-cp39-cp39-manylinux2014_x86_64.whl"]
    assert glue_module_wheels.download(tmp_path) is None and len(fake_pip) == 1, "an unchanged lock is not downloaded again"


def test_a_failed_download_warns_with_what_to_do_and_leaves_no_wheels(tmp_path, monkeypatch, fake_pip):
    glue_module_wheels.download(tmp_path)
    (tmp_path / "glue-modules" / glue_module_wheels.STAMP).write_text("an older lock")
    monkeypatch.setattr(glue_module_wheels.subprocess, "run", lambda command, **kwargs: subprocess.CompletedProcess(
        command, 1, "", "ERROR: Could not find a version that satisfies the requirement probe==1.0"))
    warning = glue_module_wheels.download(tmp_path)
    assert warning and "skip report.html" in warning and "Could not find a version" in warning
    assert glue_module_wheels.wheel_files(tmp_path / "glue-modules") == []


def test_terraform_uploads_every_built_wheel_to_the_stacks_bucket():
    (locals_block,) = hcl.load("locals.tf")["locals"]
    assert hcl.unquote(locals_block["glue_module_wheels_dir"]) == "${local.artifacts_dir}/glue-modules"
    assert hcl.unquote(locals_block["glue_module_wheels"]) == '${fileset(local.glue_module_wheels_dir, "*.whl")}'
    obj = hcl.resource("s3.tf", "aws_s3_object", "glue_module")
    assert hcl.unquote(obj["for_each"]) == "${local.glue_module_wheels}"
    assert hcl.unquote(obj["bucket"]) == "${aws_s3_bucket.data.id}"
    assert hcl.unquote(obj["key"]).startswith("${local.glue_modules_prefix}")
    assert hcl.unquote(locals_block["glue_modules_prefix"]).startswith("${local.artifacts_prefix}")


def test_additional_python_modules_names_only_the_uploaded_wheels_and_cannot_be_overridden():
    glue_tf = (REPO / "terraform" / "glue.tf").read_text()
    modules = [hcl.unquote(v) for block in hcl.load("glue.tf")["locals"] for k, v in block.items()
               if k == "glue_report_modules"]
    (expression,) = modules
    # Every entry is s3://<the uploaded object's bucket>/<its key>, one per built wheel; nothing else.
    assert re.fullmatch(
        r'\$\{join\(",", \[for name in sort\(tolist\(local\.glue_module_wheels\)\) : '
        r'"s3://\$\{aws_s3_object\.glue_module\[name\]\.bucket\}/\$\{aws_s3_object\.glue_module\[name\]\.key\}"\]\)\}',
        re.sub(r"\s+", " ", expression).replace("[ ", "[").replace(" ]", "]"),
    ), expression
    job = hcl.resource("glue.tf", "aws_glue_job", "model_training")
    assert "--additional-python-modules" not in str(job.get("default_arguments", {}))
    assert '"--additional-python-modules"       = local.glue_report_modules' in glue_tf
    assert "non_overridable_arguments = merge(" in glue_tf
    assert "==" not in expression, "no index requirement (name==version) is left in the job's modules"
