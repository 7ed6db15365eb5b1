"""scripts/deploy.sh aws: preflight -> build -> init -> plan to a file -> confirm -> apply that file.

No AWS account exists here, so Terraform and the tools interpreter are stand-ins that record their
calls (TERRAFORM and TOOLS_PYTHON are the script's own settings); the script under test is real.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "scripts" / "deploy.sh"
TARGET = "account 123456789012 (arn:aws:iam::123456789012:user/me), region us-east-1"

FAKE_TERRAFORM = """#!/usr/bin/env bash
echo "terraform $*" >> "$CALLS"
for arg in "$@"; do
  case "$arg" in -out=*) echo plan > "${arg#-out=}" ;; esac
done
case " $* " in *" plan "*) exit "${FAKE_PLAN_EXIT:-2}" ;; esac
"""

FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $(basename "$1") ${*:2}" >> "$CALLS"
case "$1" in
  *aws_preflight.py) [ -z "${FAKE_PREFLIGHT_FAILS:-}" ] || { echo "[preflight] error: no credentials" >&2; exit 1; }
                     echo "%s" ;;
esac
""" % TARGET


@pytest.fixture()
def fakes(tmp_path) -> Dict[str, str]:
    for name, text in (("fake-terraform", FAKE_TERRAFORM), ("python", FAKE_PYTHON)):
        path = tmp_path / name
        path.write_text(text)
        path.chmod(0o755)
    # A configuration directory of its own: the wrapper creates the aws state directory in it.
    (tmp_path / "terraform" / "env").mkdir(parents=True)
    shutil.copy(ROOT / "terraform" / "env" / "aws.tfvars", tmp_path / "terraform" / "env")
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERRAFORM": str(tmp_path / "fake-terraform"),
            "TOOLS_PYTHON": str(tmp_path / "python"), "CALLS": str(tmp_path / "calls"),
            "LOCALAWS_HOME": str(tmp_path / "localaws"), "TF_PROVIDER_MIRROR": "",
            "TF_DIR": str(tmp_path / "terraform")}


def deploy(env: Dict[str, str], *args: str, answer: Optional[str] = None, **extra: str):
    """Run the script; with ``answer``, stdin is a terminal that types it."""
    env = {**env, **extra}
    if answer is None:
        result = subprocess.run([str(DEPLOY), "aws", *args], env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=60)
        return result.returncode, result.stderr
    import pty

    primary, secondary = pty.openpty()
    process = subprocess.Popen([str(DEPLOY), "aws", *args], env=env, stdin=secondary, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    os.close(secondary)
    # The prompt is written to the terminal only when input comes from one; type after it.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "plan" not in _read(env["CALLS"]):
        time.sleep(0.05)
    os.write(primary, (answer + "\n").encode())
    _, stderr = process.communicate(timeout=60)
    os.close(primary)
    return process.returncode, stderr


def _read(path: str) -> str:
    return Path(path).read_text() if Path(path).exists() else ""


def calls(env: Dict[str, str]) -> List[str]:
    return _read(env["CALLS"]).splitlines()


def _plan_file(lines: List[str]) -> str:
    (plan,) = [line for line in lines if line.startswith("terraform") and " plan " in line]
    return next(arg for arg in plan.split() if arg.startswith("-out=")).split("=", 1)[1]


def test_auto_approve_applies_exactly_the_saved_plan(fakes):
    code, stderr = deploy(fakes, AUTO_APPROVE="1")
    assert code == 0, stderr
    lines = calls(fakes)
    assert lines[:2] == ["python aws_preflight.py --action deploy", "python build_artifacts.py "]
    init, plan, apply = [line for line in lines if line.startswith("terraform")]
    assert init.startswith(f"terraform -chdir={fakes['TF_DIR']} init ")
    assert " plan " in plan and "-detailed-exitcode" in plan and "-var-file=env/aws.tfvars" in plan
    plan_file = _plan_file(lines)
    assert apply == f"terraform -chdir={fakes['TF_DIR']} apply -input=false {plan_file}"
    assert lines[-1] == apply  # nothing runs after the apply of the confirmed plan
    assert not Path(plan_file).exists(), "the plan file must not outlive the run"


def test_without_a_terminal_nothing_is_applied(fakes):
    code, stderr = deploy(fakes)
    assert code != 0
    assert "AUTO_APPROVE=1" in stderr
    assert not [line for line in calls(fakes) if " apply " in line]
    assert not Path(_plan_file(calls(fakes))).exists()


@pytest.mark.skipif(sys.platform != "linux", reason="pty behaviour differs")
def test_only_yes_at_the_prompt_applies(fakes, tmp_path):
    code, stderr = deploy(fakes, answer="y")
    assert code != 0 and "not confirmed" in stderr
    assert not [line for line in calls(fakes) if " apply " in line]

    Path(fakes["CALLS"]).unlink()
    code, stderr = deploy(fakes, answer="yes")
    assert code == 0, stderr
    assert TARGET in stderr  # the prompt names the account and region
    assert [line for line in calls(fakes) if " apply " in line]


def test_plan_only_never_applies(fakes):
    code, stderr = deploy(fakes, "--plan-only", AUTO_APPROVE="1")
    assert code == 0, stderr
    assert calls(fakes)[0] == "python aws_preflight.py --action plan"
    assert not [line for line in calls(fakes) if " apply " in line]


def test_destroy_plans_a_destroy_and_applies_it(fakes):
    code, stderr = deploy(fakes, "--destroy", "-auto-approve")
    assert code == 0, stderr
    lines = calls(fakes)
    assert lines[0] == "python aws_preflight.py --action destroy"
    plan = next(line for line in lines if " plan " in line)
    assert "-destroy" in plan and "-auto-approve" not in plan
    assert lines[-1].endswith(_plan_file(lines))


def test_no_changes_means_no_apply(fakes):
    code, stderr = deploy(fakes, FAKE_PLAN_EXIT="0")
    assert code == 0, stderr
    assert "nothing to change" in stderr
    assert not [line for line in calls(fakes) if " apply " in line]


def test_a_failed_plan_stops_before_apply(fakes):
    code, stderr = deploy(fakes, AUTO_APPROVE="1", FAKE_PLAN_EXIT="1")
    assert code != 0 and "terraform plan failed" in stderr
    assert not [line for line in calls(fakes) if " apply " in line]


def test_a_failed_preflight_stops_before_the_build(fakes):
    code, stderr = deploy(fakes, AUTO_APPROVE="1", FAKE_PREFLIGHT_FAILS="1")
    assert code != 0 and "no credentials" in stderr
    assert calls(fakes) == ["python aws_preflight.py --action deploy"]
    assert not Path(fakes["LOCALAWS_HOME"]).exists()


def test_backend_config_reaches_the_preflight(fakes, tmp_path):
    backend = tmp_path / "x.s3.tfbackend"
    backend.write_text('bucket = "s"\nkey = "k"\n')
    code, stderr = deploy(fakes, "--plan-only", BACKEND_CONFIG=str(backend))
    assert code == 0, stderr
    assert calls(fakes)[0] == f"python aws_preflight.py --action plan --backend-config {backend}"
    assert f"-backend-config={backend}" in next(line for line in calls(fakes) if " init " in line)
