"""The product, end to end on the real stack: `scripts/e2e.py` (what `make e2e` runs) pushes the BTC
daily sample from upload to a trained model, and the artifacts in S3 say what the pipeline promises."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.polling import wait_for

REPO = Path(__file__).resolve().parents[3]
DAILY = REPO / "data" / "samples" / "coinbase_btcusd_daily.csv"

pytestmark = pytest.mark.timeout(900)


def test_make_e2e_script_succeeds_and_reports_stages_and_baselines(deployed_stack, endpoint_url, glue_endpoint_url):
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint_url, "AWS_ENDPOINT_URL_GLUE": glue_endpoint_url,
           "COLUMNS": "200"}
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "e2e.py")], env=env, capture_output=True,
                            text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for stage in ("upload", "features", "trigger", "training", "model", "report"):
        assert f"✓ {stage}" in output
    for name in ("always_up", "persistence", "buy_and_hold", "logistic_regression", "random_forest"):
        assert name in output, f"{name} missing from the summary"
    assert "e2e passed" in output


def test_daily_sample_run_writes_every_artifact_with_lineage(aws_client, deployed_stack, follower, unique_name):
    # A dataset of its own per run: a re-run of the suite must train again, not follow an earlier run's
    # model as a duplicate of the same bytes (content claims are per dataset).
    dataset = unique_name("e2e-daily")
    result = follower.upload_and_follow(DAILY, f"raw/{dataset}.csv")
    s3, bucket = aws_client("s3"), deployed_stack.bucket_name
    assert result.dataset == dataset and result.version_id, "the bucket is versioned"
    assert result.duplicate_run_id is None, "a fresh dataset's first upload is a run of its own"

    latest = json.loads(s3.get_object(Bucket=bucket, Key=f"models/{dataset}/latest.json")["Body"].read())
    assert latest["run_id"] == result.run_id

    metrics = result.metrics
    assert metrics["walk_forward"]["n_folds"] >= 3 and metrics["walk_forward"]["gap"] >= 1
    summary = metrics["summary"]
    for baseline in ("always_up", "persistence"):
        assert 0.3 < summary[baseline]["accuracy_mean"] < 0.7
    models = [name for name in summary if name not in ("always_up", "persistence", "buy_and_hold")]
    assert len(models) >= 2 and metrics["best_model"] in models
    # The verdict is computed from the numbers, never asserted by fiat.
    comparison = metrics["comparison"]
    best_baseline = max(summary[b]["accuracy_mean"] for b in ("always_up", "persistence"))
    assert comparison["beats_best_baseline_accuracy"] == (summary[metrics["best_model"]]["accuracy_mean"] > best_baseline)

    lineage = json.loads(s3.get_object(Bucket=bucket, Key=f"models/{dataset}/{result.run_id}/lineage.json")["Body"].read())
    assert lineage["raw"]["key"] == f"raw/{dataset}.csv"
    assert lineage["raw"]["sha256"] == hashlib.sha256(DAILY.read_bytes()).hexdigest()
    assert lineage["raw"]["version_id"] == result.version_id
    assert lineage["features_key"] == result.features_key

    # A small features file trains at the job's own 1/16 DPU: the trigger sets no capacity (issue 12).
    trigger = aws_client("lambda").get_function_configuration(
        FunctionName=deployed_stack.trigger_lambda_name)["Environment"]["Variables"]
    size = s3.head_object(Bucket=bucket, Key=result.features_key)["ContentLength"]
    assert size <= int(trigger["LARGE_RUN_FEATURES_BYTES"])
    training = aws_client("glue").get_job_run(JobName=deployed_stack.glue_job_name, RunId=result.glue_run_id)["JobRun"]
    assert training["MaxCapacity"] == 0.0625 and "--glue_dpu" not in training["Arguments"]

    feature_list = json.loads(s3.get_object(Bucket=bucket, Key=f"models/{dataset}/{result.run_id}/features.json")["Body"].read())
    model_bytes = s3.get_object(Bucket=bucket, Key=f"models/{dataset}/{result.run_id}/model.joblib")["Body"].read()
    assert len(feature_list) >= 10 and model_bytes[:1] in (b"\x80", b"x")  # a pickle (raw or zlib-compressed)

    # The report needs matplotlib, which the run installed from the stack's S3 wheels (issue 14): the
    # run's own log names them and the module cache entry their bytes select.
    s3.head_object(Bucket=bucket, Key=f"models/{dataset}/{result.run_id}/report.html")
    wheels = aws_client("glue").get_job(JobName=deployed_stack.glue_job_name)["Job"]["NonOverridableArguments"][
        "--additional-python-modules"].count(",") + 1
    lines = [event["message"] for event in aws_client("logs").get_log_events(
        logGroupName="/aws-glue/python-jobs/output", logStreamName=result.glue_run_id, startFromHead=True)["events"]]
    installed = f"--additional-python-modules ({wheels} wheel(s) from S3)"
    assert any(installed in line and "module cache entry" in line for line in lines), lines[:20]

    # Without the wheels the same job still trains and only skips its report (issue 14).
    _train_again_without_modules(aws_client, deployed_stack, result, unique_name("e2e-no-wheels"))


def _train_again_without_modules(aws_client, deployed_stack, result, job_name: str) -> None:
    """Run the stack's own job script, code and role on ``result``'s features as a job that has no
    --additional-python-modules (a stack deployed without wheels): SUCCEEDED, model written, and the
    report skipped with the reason logged."""
    glue, logs = aws_client("glue"), aws_client("logs")
    job = glue.get_job(JobName=deployed_stack.glue_job_name)["Job"]
    code = {k: v for k, v in job["NonOverridableArguments"].items()
            if k not in ("--additional-python-modules", "--python-modules-installer-option")}
    glue.create_job(Name=job_name, Role=job["Role"], Command=job["Command"], GlueVersion=job["GlueVersion"],
                    MaxCapacity=job["MaxCapacity"], NonOverridableArguments=code,
                    DefaultArguments={k: v for k, v in job["DefaultArguments"].items() if k != "--metrics_namespace"})
    try:
        run_id = glue.start_job_run(JobName=job_name, Arguments={"--features_key": result.features_key})["JobRunId"]

        def finished():
            run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
            return run if run["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED") else None

        run = wait_for(f"run {run_id} of {job_name}", finished, 300, 1)
    finally:
        glue.delete_job(JobName=job_name)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    records = [json.loads(e["message"]) for e in logs.get_log_events(
        logGroupName="/aws-glue/python-jobs/output", logStreamName=run_id, startFromHead=True)["events"]
        if e["message"].startswith("{")]
    assert any(r["message"] == "model written" for r in records)
    (skipped,) = [r for r in records if r["message"] == "report failed"]
    assert "matplotlib" in skipped["error"], skipped


def test_the_jobs_modules_are_wheels_the_stack_uploaded_to_its_bucket(aws_client, deployed_stack):
    """Issue 14: --additional-python-modules names only wheels in the stack's own bucket (no package
    index at run time); the daily run above shows they are installed and used (its report)."""
    glue, s3 = aws_client("glue"), aws_client("s3")
    bucket = deployed_stack.bucket_name
    job = glue.get_job(JobName=deployed_stack.glue_job_name)["Job"]
    modules = job["NonOverridableArguments"]["--additional-python-modules"].split(",")
    assert any("/matplotlib-" in m for m in modules)
    for module in modules:
        assert module.startswith(f"s3://{bucket}/artifacts/glue-modules/") and module.endswith(".whl"), module
        s3.head_object(Bucket=bucket, Key=module.split("/", 3)[3])  # uploaded by the stack


def test_a_new_version_of_the_same_key_starts_a_new_run(deployed_stack, follower, tmp_path, unique_name):
    key = f"raw/{unique_name('e2e-rerun')}.csv"
    first = follower.upload_and_follow(DAILY, key)
    assert first.duplicate_run_id is None
    updated = tmp_path / "daily-minus-oldest-row.csv"
    updated.write_text("".join(DAILY.read_text().splitlines(keepends=True)[:-1]))  # newest-first: drop the oldest
    second = follower.upload_and_follow(updated, key)
    assert second.version_id != first.version_id
    assert second.run_id != first.run_id and second.run_id > first.run_id
    assert second.latest["run_id"] == second.run_id
