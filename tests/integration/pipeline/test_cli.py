"""The `cripto` CLI as an operator runs it (`python -m cripto_ops.cli ...` in a subprocess, endpoints from
the environment, names from `terraform output`) against the deployed stack: `run` follows a file to its
model, `status` shows good, rejected and failed runs, `logs` returns each component's lines of a run,
`report` downloads the run's HTML report, whose embedded plots are real images."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from PIL import Image
from support.polling import wait_for

REPO = Path(__file__).resolve().parents[3]
DAILY = REPO / "data" / "samples" / "coinbase_btcusd_daily.csv"
CLI_TIMEOUT_SECONDS = 600
PNG_RE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')

pytestmark = pytest.mark.timeout(1200)

# Fresh dataset names per session: the pipeline dedupes identical content within a dataset, and a
# re-run of the suite on the same emulation must start new runs.
SESSION = uuid.uuid4().hex[:6]
GOOD, BAD, FAILED = f"cli-good-{SESSION}", f"cli-bad-{SESSION}", f"cli-failed-{SESSION}"


@pytest.fixture(scope="module")
def cripto(endpoint_url: str, glue_endpoint_url: str) -> Callable[..., subprocess.CompletedProcess]:
    """Runs the CLI like `make status` does: a fresh process, local endpoints, dummy credentials."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ENDPOINT_URL_GLUE": glue_endpoint_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_S3_USE_PATH_STYLE": "true",
        "STACK_ENV": "local",
    }
    env.pop("AWS_PROFILE", None)

    def run(*args: str, cwd: Path = REPO, columns: int = 250) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cripto_ops.cli", *args],
            env={**env, "COLUMNS": str(columns)},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
        )

    return run


def status_of(cripto, dataset: str) -> List[Dict[str, Any]]:
    result = cripto("status", "--dataset", dataset, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    return document["runs"]


@pytest.fixture(scope="module")
def good_run(cripto, deployed_stack) -> Dict[str, Any]:
    """`cripto run` of the daily BTC sample as dataset GOOD: its output and the run's status entry."""
    result = cripto("run", str(DAILY), "--dataset", GOOD)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [run] = [r for r in status_of(cripto, GOOD) if r["is_latest"]]
    return {"output": result.stdout + result.stderr, "status": run}


def test_run_follows_the_file_through_every_stage_to_the_model(good_run):
    output, run = good_run["output"], good_run["status"]
    for stage in ("upload", "features", "trigger", "training", "model", "report"):
        assert f"✓ {stage}" in output
    assert f"run {run['run_id']}" in output and f"of dataset '{GOOD}'" in output  # the table title may wrap
    for artifact in ("model.joblib", "metrics.json", "lineage.json", "report.html"):
        assert f"models/{GOOD}/{run['run_id']}/{artifact}" in output
    assert re.search(r"The selected model \(\w+\)(: classification| (beats|does NOT beat) every baseline)", output)
    # Its stage times are status's (cripto_ops.stages): the same stages and total for the same run.
    for stage, seconds in run["durations_s"].items():
        label = {"total": "upload -> model", "report": "report (after the model)"}.get(stage, stage)
        assert re.search(rf"│ {re.escape(label)}\s*│\s*{seconds:.2f}\s*│", output), (stage, seconds)


def test_status_shows_the_good_run_with_durations_model_and_cost(cripto, good_run):
    run = good_run["status"]
    assert run["state"] == "SUCCEEDED" and run["glue_state"] == "SUCCEEDED"
    assert run["raw_key"] == f"raw/{GOOD}.csv" and run["raw_version_id"]
    assert run["feature_rows"] > 1000
    assert set(run["durations_s"]) >= {"features", "trigger", "training", "total"}
    assert run["report_key"] == f"models/{GOOD}/{run['run_id']}/report.html"
    comparison = run["comparison"]
    assert 0.3 < comparison["model_accuracy_mean"] < 0.7 and 0.3 < comparison["best_baseline_accuracy_mean"] < 0.7
    # Glue Python shell bills at least a minute of 1/16 DPU: 0.0625 * 60 / 3600 * 0.44 USD.
    assert run["cost_usd"] >= 0.0625 * 60 / 3600 * 0.44
    table = cripto("status", "--dataset", GOOD)
    assert table.returncode == 0, table.stderr
    assert run["run_id"] in table.stdout and "SUCCEEDED" in table.stdout and "(latest)" in table.stdout


def test_status_stages_add_up_and_the_views_fit_80_columns(cripto, good_run):
    run = good_run["status"]
    stages = [run["durations_s"][name] for name in ("features", "trigger", "waiting", "training")
              if name in run["durations_s"]]
    assert sum(stages) == pytest.approx(run["durations_s"]["total"], abs=0.011)
    assert run["durations_s"]["training"] <= run["durations_s"]["total"]
    compact = cripto("status", "--dataset", GOOD, columns=80)  # a pipe: no terminal width to ask
    assert compact.returncode == 0, compact.stderr
    lines = compact.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and "…" not in compact.stdout
    assert any(line.startswith(GOOD) and run["run_id"] in line and f"{run['durations_s']['total']:.2f}" in line
               for line in lines), compact.stdout
    assert f"{run['best_model']}: " in compact.stdout and "net of" in compact.stdout
    wide = cripto("status", "--dataset", GOOD, "--wide", columns=80)
    assert wide.returncode == 0 and "…" not in wide.stdout and run["glue_run_id"] in wide.stdout
    detail = cripto("status", "--dataset", GOOD, "--run", run["run_id"], columns=80)
    assert detail.returncode == 0 and "total s (upload -> model)" in detail.stdout and "cost $ total" in detail.stdout
    assert max(map(len, detail.stdout.splitlines())) <= 80 and "…" not in detail.stdout


def test_status_and_report_give_the_same_cost(cripto, good_run, tmp_path):
    run = good_run["status"]
    # Both bill Glue's 1-minute minimum on the daily sample: the job's own measure (until it draws the
    # report) and Glue's ExecutionTime (read by status) are then priced alike.
    assert run["glue_execution_s"] < 60
    result = cripto("report", GOOD, "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    cost_section = Path(result.stdout.strip()).read_text().split("Estimated AWS cost of this run", 1)[1]
    in_report = dict(re.findall(r'<tr><td class="l">([a-z0-9 ]+)</td><td class="">([0-9.]+)</td></tr>', cost_section))
    in_status = {name.replace("_", " "): f"{usd:.6f}" for name, usd in run["cost_usd_by_component"].items()}
    assert in_report == in_status


def test_status_shows_a_rejected_upload_and_a_failed_training_run(
    cripto, aws_client, deployed_stack, good_run, tmp_path
):
    # 1. An upload the validation rejects: `run` exits 1 naming the stage; status says REJECTED and why.
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2026-01-01,1,2,0.5,abc,10\n")
    rejected = cripto("run", str(bad), "--dataset", BAD)
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "stage 'features' failed" in rejected.stderr
    [entry] = status_of(cripto, BAD)
    assert entry["state"] == "REJECTED" and entry["raw_key"] == f"raw/{BAD}.csv"
    assert entry["error"] and "Error" in entry["error"]

    # 2. A Glue run that fails: features whose manifest belongs to another run (the job refuses them).
    s3, bucket = aws_client("s3"), deployed_stack.bucket_name
    good = good_run["status"]
    features = s3.get_object(Bucket=bucket, Key=f"features/{GOOD}/{good['run_id']}/features.parquet")[
        "Body"
    ].read()
    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key=f"features/{GOOD}/{good['run_id']}/manifest.json")["Body"].read()
    )
    run_id = "20200101T000000Z-0badc0de"
    s3.put_object(Bucket=bucket, Key=f"features/{FAILED}/{run_id}/manifest.json", Body=json.dumps(manifest))
    s3.put_object(Bucket=bucket, Key=f"features/{FAILED}/{run_id}/features.parquet", Body=features)

    def failed():
        runs = [r for r in status_of(cripto, FAILED) if r["run_id"] == run_id]
        return runs[0] if runs and runs[0]["state"] not in ("FEATURES", "TRAINING") else None

    entry = wait_for("the forged run's Glue job to finish", failed, 300, interval=2.0)
    assert entry["state"] == "FAILED" and entry["glue_state"] == "FAILED", entry
    assert "TrainingDataError" in entry["error"] and "belongs to another run" in entry["error"]
    assert entry["comparison"] is None and not entry["is_latest"]
    table = cripto("status", "--dataset", FAILED)
    assert table.returncode == 0 and "FAILED" in table.stdout and run_id in table.stdout


@pytest.mark.parametrize(
    "component, marker",
    [
        ("feature", "features_written"),
        ("trigger", "glue job run started"),
        ("training", "model written"),
    ],
)
def test_logs_return_the_run_lines_of_each_component(cripto, good_run, component, marker):
    run_id = good_run["status"]["run_id"]

    def lines_of_the_run():
        result = cripto("logs", component, "--since", "30m")
        assert result.returncode == 0, result.stderr
        return [line for line in result.stdout.splitlines() if run_id in line] or None

    # CloudWatch Logs is eventually consistent (on AWS too): the lines may arrive after the run ends.
    lines = wait_for(f"{component} log lines of run {run_id}", lines_of_the_run, 60, interval=2.0)
    assert any(marker in line for line in lines), lines


def test_report_is_downloaded_and_its_plots_render(cripto, good_run, tmp_path):
    result = cripto("report", GOOD, "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.parent == tmp_path and path.name == f"{GOOD}-{good_run['status']['run_id']}.html"
    page = path.read_text()
    assert "Walk-forward evaluation vs baselines" in page and "Estimated AWS cost of this run" in page
    images = PNG_RE.findall(page)
    assert len(images) == 5
    for encoded in images:
        image = Image.open(io.BytesIO(base64.b64decode(encoded)))
        assert image.format == "PNG" and image.width >= 400 and image.height >= 200
        assert len(image.convert("L").getcolors(256) or []) > 20, "a blank or flat plot"

    missing = cripto("report", "cli-never-uploaded", "--output-dir", str(tmp_path))
    assert missing.returncode == 1 and "No successful run of dataset 'cli-never-uploaded'" in missing.stderr
