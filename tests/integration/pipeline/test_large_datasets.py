"""Large data on the real stack (issue 12): a several-file dataset uploaded as a burst is one run, and a
file just above the feature Lambda's limit goes through the Glue Spark feature job to a model.

Real S3 events, the real feature Lambda (its debounce and routing), real Glue runs. The limit is read
from the deployed function (MAX_RAW_BYTES; the local target sets it low in terraform/env/local.tfvars
so "just above" is a few MB)."""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from cripto_ops.follow import Budgets, RunFollower, RunResult
from cripto_ops import status_view, usage
from cripto_ops.runs import RunCatalog
from cripto_pipeline import costs, layout
from cripto_pipeline.features import synthetic_ohlcv
from support.polling import wait_for

pytestmark = pytest.mark.timeout(1800)

HOURLY = Path(__file__).resolve().parents[3] / "data" / "samples" / "coinbase_btcusd_hourly.csv"


def split_by_period(data: bytes, parts: int) -> List[bytes]:
    """The hourly sample (newest rows first, a banner line, then the header) cut into ``parts`` periods,
    each file with the banner and header: what monthly exports of one source look like."""
    lines = data.decode().splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if ",open," in line.lower())
    head, body = lines[: header_at + 1], lines[header_at + 1 :]
    size = -(-len(body) // parts)
    return ["".join(head + body[i * size : (i + 1) * size]).encode() for i in range(parts)]


def get_json(s3, bucket: str, key: str) -> Dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def features_files(s3, bucket: str, dataset: str) -> List[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"features/{dataset}/")
    return [item["Key"] for page in pages for item in page.get("Contents", [])
            if item["Key"].endswith("/features.parquet")]  # fmt: skip


def test_a_burst_of_three_files_is_one_run_over_all_three(aws_client, deployed_stack, follower):
    s3, lam, bucket = aws_client("s3"), aws_client("lambda"), deployed_stack.bucket_name
    config = lam.get_function_configuration(FunctionName=deployed_stack.feature_lambda_name)
    debounce = float(config["Environment"]["Variables"]["DEBOUNCE_SECONDS"])
    dataset = f"burst-{uuid.uuid4().hex[:8]}"
    puts = []
    for number, body in enumerate(split_by_period(HOURLY.read_bytes(), 3)):  # newest period first
        key = layout.dataset_file_key(dataset, f"part-{number}.csv")
        puts.append((key, s3.put_object(Bucket=bucket, Key=key, Body=body)))
    last_key, last = puts[-1]
    result = follower.follow(RunResult(raw_key=last_key, version_id=last.get("VersionId"), dataset=dataset),
                             last.get("ETag"))
    assert result.duplicate_run_id is None

    # Every upload's invocation has ended long before the model exists (each waits `debounce` seconds):
    # still exactly one features file, i.e. one run, and it is the newest upload's.
    time.sleep(max(0.0, debounce + 2 - sum(result.durations.values())))
    assert features_files(s3, bucket, dataset) == [result.features_key]
    manifest = get_json(s3, bucket, layout.run_keys(dataset, result.run_id).manifest)
    assert (manifest["engine"], manifest["rows_total"]) == ("pandas", manifest["rows_sampled"])
    assert manifest["raw"]["key"] == last_key

    lineage = get_json(s3, bucket, layout.run_keys(dataset, result.run_id).lineage)
    assert sorted((f["key"], f["version_id"]) for f in lineage["raw_files"]) == sorted(
        (key, put["VersionId"]) for key, put in puts)
    assert lineage["training_rows"]["engine"] == "pandas"
    assert result.latest["run_id"] == result.run_id and result.artifacts

    # `make status` says which engine built the features and on how many rows training ran.
    (run,) = RunCatalog(s3, aws_client("glue"), deployed_stack).runs(dataset)
    assert (run.run_id, run.state, run.raw_key) == (result.run_id, "SUCCEEDED", last_key)
    assert (run.engine, run.training_rows, run.training_sample) == ("pandas", manifest["rows_sampled"], "all rows")
    # The newest upload's invocation waited out the quiet period: its own stage, not "features".
    assert manifest["debounce"]["ended_at"] and run.durations_s["debounce"] >= debounce - 0.5
    assert round(sum(run.durations_s.get(s, 0) for s in ("debounce", "features", "trigger", "waiting", "training")), 2) == \
        run.durations_s["total"]

    # The two earlier uploads' invocations said why they started nothing.
    def outcomes():
        pages = aws_client("logs").get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{deployed_stack.feature_lambda_name}", filterPattern=f'"{dataset}"')
        records = [json.loads(e["message"]) for page in pages for e in page.get("events", [])
                   if e["message"].lstrip().startswith("{")]
        found = sorted((r.get("key") or r.get("raw_key") or "", r["message"]) for r in records
                       if r.get("dataset") == dataset and r.get("message") in ("debounced", "features_written"))
        return found if len(found) == 3 else None

    logged = wait_for("the three invocations' outcomes in the function's log", outcomes, timeout=60, interval=1)
    assert [status for _, status in logged].count("debounced") == 2
    assert [status for _, status in logged].count("features_written") == 1


def _just_above(limit: int) -> bytes:
    """A multi-symbol CSV a little larger than ``limit`` bytes (sized from a sample's bytes per row)."""
    def as_csv(rows: int) -> bytes:
        frame = synthetic_ohlcv(rows, 4, seed=7, freq="h")
        frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
        return frame.to_csv(index=False, float_format="%.6f").encode()

    per_row = len(as_csv(4000)) / 4000
    body = as_csv(int(limit / per_row * 1.02) + 400)
    assert body and len(body) > limit
    return body


def test_a_file_just_above_the_lambda_limit_is_built_by_spark_and_trained(aws_client, deployed_stack, tmp_path):
    job = deployed_stack.raw.get("spark_features_job_name")
    if not job:
        pytest.skip("the stack has no Spark feature job (output spark_features_job_name): deploy "
                    "terraform/glue_spark.tf (issue 12, large-job) to run the large path")
    s3, lam, glue = aws_client("s3"), aws_client("lambda"), aws_client("glue")
    config = lam.get_function_configuration(FunctionName=deployed_stack.feature_lambda_name)
    limit = int(config["Environment"]["Variables"]["MAX_RAW_BYTES"])
    assert config["Environment"]["Variables"]["SPARK_FEATURES_JOB_NAME"] == job
    # Above its max_concurrent_runs a Spark run waits for a slot (WAITING) instead of failing StartJobRun.
    assert glue.get_job(JobName=job)["Job"]["JobRunQueuingEnabled"] is True
    path = tmp_path / "large.csv"
    path.write_bytes(_just_above(limit))
    dataset = f"large-{uuid.uuid4().hex[:8]}"
    follower = RunFollower(s3, glue, aws_client("logs"), deployed_stack,
                           Budgets(features=1200, trigger=120, training=900))
    result = follower.upload_and_follow(path, layout.raw_key(dataset))

    keys = layout.run_keys(dataset, result.run_id)
    inputs = get_json(s3, deployed_stack.bucket_name, keys.inputs)
    assert inputs["raw"] == [{"key": layout.raw_key(dataset), "version_id": result.version_id,
                              "size": path.stat().st_size, "etag": inputs["raw"][0]["etag"]}]
    assert str(limit) in inputs["reason"].replace(",", "")
    spark_runs = wait_for("the Spark run of this dataset", lambda: [
        run for run in glue.get_job_runs(JobName=job)["JobRuns"]
        if run.get("Arguments", {}).get("--run_id") == result.run_id], timeout=60)
    assert len(spark_runs) == 1 and spark_runs[0]["Arguments"]["--dataset"] == dataset
    manifest = get_json(s3, deployed_stack.bucket_name, keys.manifest)
    assert manifest["engine"] == "spark" and manifest["rows_total"] >= manifest["rows_sampled"] > 0
    lineage = get_json(s3, deployed_stack.bucket_name, keys.lineage)
    assert [(f["key"], f["version_id"]) for f in lineage["raw_files"]] == [(layout.raw_key(dataset), result.version_id)]
    assert lineage["training_rows"]["engine"] == "spark"
    assert result.latest["run_id"] == result.run_id
    (run,) = RunCatalog(s3, glue, deployed_stack).runs(dataset)
    assert (run.engine, run.training_rows, run.feature_rows) == ("spark", manifest["rows_sampled"], manifest["rows_total"])
    assert_the_spark_job_is_priced(s3, lam, glue, deployed_stack, job, dataset, result.run_id, manifest)
    assert_training_ran_at_the_large_capacity(s3, lam, glue, deployed_stack, dataset, result)


def assert_training_ran_at_the_large_capacity(s3, lam, glue, stack, dataset: str, result: RunResult) -> None:
    """A features file above the trigger's LARGE_RUN_FEATURES_BYTES trains at 1 DPU (16 GB; 0.0625 DPU has
    1 GB): GetJobRun shows MaxCapacity 1.0, and the report and `status` both price 1 DPU."""
    trigger = lam.get_function_configuration(FunctionName=stack.trigger_lambda_name)["Environment"]["Variables"]
    size = s3.head_object(Bucket=stack.bucket_name, Key=result.features_key)["ContentLength"]
    assert size > int(trigger["LARGE_RUN_FEATURES_BYTES"]) and float(trigger["LARGE_RUN_MAX_CAPACITY"]) == 1.0
    training = glue.get_job_run(JobName=stack.glue_job_name, RunId=result.glue_run_id)["JobRun"]
    assert (training["MaxCapacity"], training["Arguments"]["--glue_dpu"]) == (1.0, "1")
    html = s3.get_object(Bucket=stack.bucket_name, Key=layout.run_keys(dataset, result.run_id).report)["Body"].read().decode()
    priced = re.search(r"Glue: ([0-9.]+) DPU × ([0-9.]+) s measured in the job", html)
    assert priced and float(priced[1]) == 1.0, "the report prices the DPUs the run had"
    # abs: the page shows the seconds to 0.1 s (1 DPU x 0.05 s = $6e-6).
    assert _report_usd(html, "glue") == pytest.approx(max(float(priced[2]), 60) / 3600 * 0.44, abs=2e-5)
    (run,) = RunCatalog(s3, glue, stack).runs(dataset)
    assert run.glue_max_capacity == 1.0
    breakdown = usage.run_cost(run, usage.stack_settings(lam, stack))
    assert breakdown["glue"] == pytest.approx(max(training["ExecutionTime"], 60) / 3600 * 0.44)
    print(f"training: {size:,} B of features -> MaxCapacity {training['MaxCapacity']:g} DPU, "
          f"{training['ExecutionTime']} s -> ${breakdown['glue']:.5f} (status), report {priced[1]} DPU x {priced[2]} s")


def _report_usd(html: str, component: str) -> float:
    match = re.search(rf'<td class="l">{re.escape(component)}</td><td class="">([0-9.]+)</td>', html)
    assert match, f"no '{component}' line in the report's cost table"
    return float(match[1])


def assert_the_spark_job_is_priced(s3, lam, glue, stack, job: str, dataset: str, run_id: str,
                                   manifest: Dict[str, Any]) -> None:
    """The report and `status` each price the Spark feature job on a line of its own, from the real job run:
    the report from what the job recorded of its run (run start -> manifest), status from GetJobRun's
    ExecutionTime once that run is final; both at least the 1-minute minimum of its DPUs."""
    spark_run_id = manifest["glue_job_run_id"]

    def final_run():
        job_run = glue.get_job_run(JobName=job, RunId=spark_run_id)["JobRun"]
        return job_run if job_run["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED") else None

    final = wait_for("the Spark run's final state", final_run, timeout=300, interval=2)
    assert final["JobRunState"] == "SUCCEEDED"
    dpus, execution = costs.spark_run(final)
    minimum = dpus * 60 / 3600 * 0.44  # USD: the run's DPUs for the 1-minute minimum at $0.44 per DPU-hour
    recorded = manifest["spark_usage"]
    assert (recorded["job_run_id"], recorded["dpu"]) == (spark_run_id, dpus) and recorded["seconds"] > 0

    html = s3.get_object(Bucket=stack.bucket_name, Key=layout.run_keys(dataset, run_id).report)["Body"].read().decode()
    in_report = _report_usd(html, "glue spark")
    assert in_report == pytest.approx(dpus * max(recorded["seconds"], 60) / 3600 * 0.44, abs=1e-6)
    assert in_report >= minimum - 1e-6 and f"{dpus:g} DPU × {recorded['seconds']:.1f} s" in html
    assert _report_usd(html, "total") >= in_report

    (run,) = RunCatalog(s3, glue, stack).runs(dataset)
    assert (run.spark_run_id, run.spark_state, run.spark_dpu, run.spark_execution_s) == \
        (spark_run_id, "SUCCEEDED", dpus, execution)
    breakdown = usage.run_cost(run, usage.stack_settings(lam, stack))
    assert breakdown["glue_spark"] == pytest.approx(dpus * max(execution, 60) / 3600 * 0.44)
    assert breakdown["glue_spark"] >= minimum - 1e-9 and breakdown["total"] > breakdown["glue_spark"]
    # The feature Lambda that handed the dataset over (upload -> inputs.json written) is priced alike in both.
    assert run.feature_lambda_s is not None
    assert _report_usd(html, "lambda compute") == pytest.approx(breakdown["lambda_compute"], abs=1e-6)
    (entry,) = status_view.as_json([run], {run.run_id: breakdown}, [])["runs"]
    assert entry["cost_usd_by_component"]["glue_spark"] == breakdown["glue_spark"]
    (spark_column,) = [list(c.cells) for c in status_view.wide_table([run], {run.run_id: breakdown}).columns
                       if c.header == "spark $"]
    assert spark_column == [f"{breakdown['glue_spark']:.5f}"]
    print(f"Spark feature job: {dpus:g} DPU; report {recorded['seconds']:.1f} s -> ${in_report:.5f}; "
          f"status {execution:.0f} s ExecutionTime -> ${breakdown['glue_spark']:.5f}")
