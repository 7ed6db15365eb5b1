"""One emulation, one account: after `down` + `up` both services are empty, and a local Terraform state
written for the previous emulation is recognised as such (issue 9).

LocalStack keeps nothing across a restart; the Glue service used to keep its jobs, and the local state
file outlived both, so `make deploy-local` failed (CreateJob: already exists; resources "not found").
Runs on a private emulation (own ports and home), through the real CLI, as test_launcher.py does.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import psutil
from botocore.config import Config


REPO = Path(__file__).resolve().parents[3]
ROLE = "arn:aws:iam::000000000000:role/reset-test"


def _clients(env: dict):
    config = Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30)
    kwargs = {"region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test",
              "config": config}
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{env['LOCALSTACK_PORT']}", **kwargs)
    glue = boto3.client("glue", endpoint_url=f"http://127.0.0.1:{env['GLUE_PORT']}", **kwargs)
    return s3, glue


def _service_pids(localaws) -> dict:
    return {s["name"]: s["pid"] for s in json.loads(localaws("ps", "--format", "json", check=False).stdout)}


def _account(s3, glue) -> dict:
    return {"buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
            "jobs": sorted(glue.list_jobs()["JobNames"])}


def _populate(s3, glue) -> None:
    s3.create_bucket(Bucket="reset-test-bucket")
    glue.create_job(Name="reset-test-job", Role=ROLE, MaxCapacity=0.0625,
                    Command={"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": "s3://reset-test-bucket/x.py"})


def _local_state(env: dict, state_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "local_state.py"), "--state-dir", str(state_dir),
         "--endpoint", f"http://127.0.0.1:{env['LOCALSTACK_PORT']}"],
        capture_output=True, text=True, timeout=60, check=True)


def test_down_and_up_give_an_empty_account_in_both_services(private_emulation):
    localaws, env = private_emulation
    localaws("up")
    s3, glue = _clients(env)
    _populate(s3, glue)
    assert _account(s3, glue) == {"buckets": ["reset-test-bucket"], "jobs": ["reset-test-job"]}

    localaws("down")
    localaws("up")

    assert _account(s3, glue) == {"buckets": [], "jobs": []}
    # The same name can be created again: nothing of the previous account is left.
    _populate(s3, glue)


def test_a_glue_service_restarted_alone_keeps_the_account_and_a_new_localstack_empties_both(private_emulation):
    localaws, env = private_emulation
    localaws("up")
    s3, glue = _clients(env)
    _populate(s3, glue)

    # The Glue service dies alone (LocalStack, and so the account, lives on): `up` brings it back with its jobs.
    glue_process = psutil.Process(_service_pids(localaws)["glue"])
    glue_process.terminate()
    glue_process.wait(timeout=30)
    localaws("up")
    assert _account(s3, glue) == {"buckets": ["reset-test-bucket"], "jobs": ["reset-test-job"]}

    # LocalStack dies alone: it comes back empty, so `up` restarts the still-running Glue service empty too.
    localstack_process = psutil.Process(_service_pids(localaws)["localstack"])
    old_glue_pid = _service_pids(localaws)["glue"]
    localstack_process.terminate()
    localstack_process.wait(timeout=60)
    result = localaws("up")
    assert "Glue service starts empty too" in result.stderr
    assert _service_pids(localaws)["glue"] != old_glue_pid
    assert _account(s3, glue) == {"buckets": [], "jobs": []}


def test_a_terraform_state_of_a_previous_emulation_is_moved_aside(private_emulation, tmp_path):
    localaws, env = private_emulation
    state_dir = tmp_path / "terraform-local"
    localaws("up")
    first = _local_state(env, state_dir)
    assert "belongs to emulation" in first.stdout
    state = state_dir / "terraform.tfstate"
    state.write_text(json.dumps({"version": 4, "serial": 3, "resources": [{"type": "aws_glue_job"}]}))

    # Same emulation: the state is its own and stays.
    _local_state(env, state_dir)
    assert state.exists()

    localaws("down")
    localaws("up")
    moved = _local_state(env, state_dir)

    assert "describes a previous emulation" in moved.stdout, moved.stdout
    assert not state.exists()
    (kept,) = (state_dir / "previous-emulations").glob("*/terraform.tfstate")
    assert json.loads(kept.read_text())["serial"] == 3  # kept, never deleted
    recorded = json.loads((state_dir / "emulation.json").read_text())["session_id"]
    assert recorded not in first.stdout  # the new emulation's id is recorded
