"""Cost arithmetic: AWS's billing rules, not just multiplication."""
import pytest

from cripto_pipeline.costs import PRICES, RunUsage, run_cost


def test_glue_python_shell_bills_at_least_one_minute():
    short = run_cost(RunUsage(lambda_invocations=[], glue_dpu=0.0625, glue_seconds=5))
    minute = run_cost(RunUsage(lambda_invocations=[], glue_dpu=0.0625, glue_seconds=60))
    assert short["glue"] == pytest.approx(minute["glue"])
    assert minute["glue"] == pytest.approx(0.0625 * 60 / 3600 * PRICES["glue_dpu_hour"])


def test_glue_bills_per_second_past_the_minimum():
    cost = run_cost(RunUsage(lambda_invocations=[], glue_dpu=1.0, glue_seconds=90))
    assert cost["glue"] == pytest.approx(90 / 3600 * 0.44)


def test_lambda_compute_is_memory_times_duration():
    cost = run_cost(RunUsage(lambda_invocations=[(1024, 2.0), (512, 1.0)], glue_dpu=0, glue_seconds=0))
    assert cost["lambda_compute"] == pytest.approx((2.0 + 0.5) * PRICES["lambda_gb_second"])
    assert cost["lambda_requests"] == pytest.approx(2 * PRICES["lambda_request"])
    assert cost["glue"] == 0


def test_total_is_the_sum_of_components():
    cost = run_cost(RunUsage(lambda_invocations=[(1024, 1.0)], glue_dpu=0.0625, glue_seconds=30, stored_bytes=10**6))
    assert cost["total"] == pytest.approx(sum(v for k, v in cost.items() if k != "total"))
    assert 0 < cost["total"] < 0.01  # a daily-sample run costs a fraction of a cent


def test_spark_runs_bill_dpu_seconds_with_a_one_minute_minimum():
    """Glue Spark (issue 12): workers x DPU per worker, per second, at least 60 s per run."""
    from cripto_pipeline.costs import spark_dpu

    assert spark_dpu("G.1X", 10) == 10.0 and spark_dpu("G.2X", 3) == 6.0
    short = run_cost(RunUsage(lambda_invocations=[], glue_dpu=0, glue_seconds=0, spark_runs=[(10.0, 20.0)]))
    assert short["glue_spark"] == pytest.approx(10.0 * 60 / 3600 * PRICES["glue_dpu_hour"])
    two = run_cost(RunUsage(lambda_invocations=[], glue_dpu=0, glue_seconds=0,
                            spark_runs=[(2.0, 600.0), (10.0, 90.0)]))  # fmt: skip
    assert two["glue_spark"] == pytest.approx((2.0 * 600 + 10.0 * 90) / 3600 * PRICES["glue_dpu_hour"])
    assert two["total"] == pytest.approx(sum(v for k, v in two.items() if k != "total"))
    with pytest.raises(ValueError, match="G.1X"):
        spark_dpu("Standard", 2)


# --- one usage for the report and `status` ----------------------------------------------------------

RUN = "20261127T040000Z-0a895ad0"
#: What a successful run leaves under its prefixes (key -> bytes), as `status` lists it after the run.
RUN_OBJECTS = {
    f"features/d/{RUN}/manifest.json": 900, f"features/d/{RUN}/features.parquet": 250_000,
    f"features/d/{RUN}/glue-start.json": 120, f"models/d/{RUN}/model.joblib": 2_094,
    f"models/d/{RUN}/metrics.json": 16_155, f"models/d/{RUN}/features.json": 412,
    f"models/d/{RUN}/lineage.json": 1_686, f"models/d/{RUN}/report.html": 248_144,
}


def test_s3_requests_and_bytes_come_from_the_run_objects():
    from cripto_pipeline.costs import s3_requests, stored_bytes

    # 7 objects before the report + raw upload + content claim + latest.json + report + 2 listings; raw,
    # manifest, features, latest.json read.
    assert s3_requests(RUN_OBJECTS) == (7 + 2 + 4, 4)
    assert stored_bytes(RUN_OBJECTS) == 900 + 250_000 + 120 + 2_094 + 16_155 + 412 + 1_686
    # A run whose training failed: its features and the job's status.json, no model.
    failed = {f"features/d/{RUN}/manifest.json": 900, f"features/d/{RUN}/features.parquet": 10,
              f"features/d/{RUN}/glue-start.json": 120, f"models/d/{RUN}/status.json": 300}
    assert s3_requests(failed) == (4 + 2, 1)


def test_the_feature_lambda_is_billed_from_upload_to_the_whole_second_of_features_written():
    from datetime import datetime, timezone

    from cripto_pipeline.costs import feature_lambda_seconds

    uploaded = datetime(2026, 11, 27, 4, 0, 0, 250_000, tzinfo=timezone.utc)
    assert feature_lambda_seconds(uploaded, datetime(2026, 11, 27, 4, 0, 3, 900_000, tzinfo=timezone.utc)) == 2.75
    assert feature_lambda_seconds(uploaded, None) is None
    assert feature_lambda_seconds(uploaded, datetime(2026, 11, 27, 4, 0, 0, 200_000, tzinfo=timezone.utc)) == 0.0


def test_status_and_the_report_price_the_same_run_the_same():
    """The same observations of one run give the same dollars through `cripto status` and report.html."""
    from datetime import datetime, timezone

    from cripto_ops.runs import RunStatus
    from cripto_ops.usage import StackSettings
    from cripto_ops.usage import run_cost as status_cost
    from cripto_pipeline import report

    event_time = "2026-11-27T04:00:00.250Z"
    listed_at = datetime(2026, 11, 27, 4, 0, 1, 731_000, tzinfo=timezone.utc)  # ListObjectsV2: milliseconds
    header_at = datetime(2026, 11, 27, 4, 0, 1, tzinfo=timezone.utc)  # GetObject's Last-Modified: seconds
    glue_seconds = 75.0
    job_listing = {key: size for key, size in RUN_OBJECTS.items() if not key.endswith("report.html")}

    resources = report.JobResources(glue_dpu=0.0625, feature_lambda_memory_mb=3008, trigger_lambda_memory_mb=128)
    inputs = resources.cost_inputs(glue_seconds, {"raw": {"event_time": event_time}}, header_at, job_listing)
    in_report = run_cost(inputs.usage())

    from cripto_pipeline.costs import feature_lambda_seconds

    run = RunStatus(dataset="d", run_id=RUN, state="SUCCEEDED", glue_run_id="jr_1", glue_max_capacity=0.0625,
                    glue_execution_s=glue_seconds, objects=RUN_OBJECTS,
                    feature_lambda_s=feature_lambda_seconds(datetime(2026, 11, 27, 4, 0, 0, 250_000,
                                                                     tzinfo=timezone.utc), listed_at))
    in_status = status_cost(run, StackSettings(feature_memory_mb=3008, trigger_memory_mb=128))
    assert in_status == in_report
    # Independently: 75 s of 1/16 DPU, 0.75 s of 3008 MB + 0.1 s of 128 MB, 13 PUTs + 4 GETs, 271,367 bytes.
    expected = (0.0625 * 75 / 3600 * 0.44 + (3008 / 1024 * 0.75 + 128 / 1024 * 0.1) * PRICES["lambda_gb_second"]
                + 2 * PRICES["lambda_request"] + 13 * PRICES["s3_put_request"] + 4 * PRICES["s3_get_request"]
                + 271_367 / 1e9 * PRICES["s3_gb_month"])
    assert in_status["total"] == pytest.approx(expected)


# --- the Spark feature job's part of a Spark-built run (issue 12) -------------------------------------

#: The manifest of a Spark-built run: the Spark job recorded 10 DPUs and 42.5 s (run start -> manifest).
SPARK_MANIFEST = {"engine": "spark", "run_id": RUN, "raw": {"key": "raw/big.csv", "files": []},
                  "glue_job_run_id": "jr_spark",
                  "spark_usage": {"job_run_id": "jr_spark", "dpu": 10.0, "seconds": 42.5,
                                  "measured": "run start -> manifest written"}}


def test_the_spark_job_records_its_dpus_and_seconds_since_its_run_started():
    from datetime import datetime, timezone

    from cripto_pipeline.costs import recorded_spark_run, spark_usage_record

    started = datetime(2026, 11, 27, 4, 0, 0, tzinfo=timezone.utc)
    run = {"Id": "jr_spark", "WorkerType": "G.2X", "NumberOfWorkers": 5, "StartedOn": started}
    record = spark_usage_record(run, datetime(2026, 11, 27, 4, 1, 23, 250_000, tzinfo=timezone.utc))
    assert record == {"job_run_id": "jr_spark", "dpu": 10.0, "seconds": 83.25, "measured": "run start -> manifest written"}
    assert recorded_spark_run({"spark_usage": record}) == (10.0, 83.25)
    # The Lambda path, an older Spark manifest, and a job that could not read its own run: no Spark usage.
    assert recorded_spark_run({"engine": "pandas"}) is None and recorded_spark_run({"engine": "spark"}) is None
    assert recorded_spark_run({"spark_usage": {"dpu": None, "seconds": None, "error": "AccessDenied"}}) is None
    with pytest.raises(ValueError, match="StartedOn"):
        spark_usage_record({"Id": "jr", "MaxCapacity": 2.0}, started)


def test_a_spark_built_run_is_priced_with_its_spark_line_in_the_report_and_in_status():
    """Both price the Spark job's own record (10 DPU x 42.5 s, billed as the 1-minute minimum) until Glue's
    ExecutionTime of that run is final; then status prices ExecutionTime (95 s). The feature Lambda that handed
    the dataset to Spark is billed from the upload (the run id's second) to inputs.json written."""
    from datetime import datetime, timezone

    from cripto_ops.runs import RunStatus
    from cripto_ops.usage import StackSettings
    from cripto_ops.usage import run_cost as status_cost
    from cripto_pipeline import costs, report

    job_listing = {f"features/d/{RUN}/inputs.json": 300, f"features/d/{RUN}/manifest.json": 900,
                   f"features/d/{RUN}/features.parquet": 250_000}
    inputs_listed = datetime(2026, 11, 27, 4, 0, 3, 731_000, tzinfo=timezone.utc)  # the run id says 04:00:00
    resources = report.JobResources(glue_dpu=0.0625, feature_lambda_memory_mb=3008, trigger_lambda_memory_mb=128)
    inputs = resources.cost_inputs(75.0, SPARK_MANIFEST, None, job_listing, inputs_listed)
    assert inputs.spark_runs == ((10.0, 42.5),) and inputs.spark_unknown is None
    assert inputs.feature_lambda == (3008, 3.0)  # whole seconds, as for features.parquet
    in_report = run_cost(inputs.usage())
    # 10 DPU x 60 s (the minimum) at $0.44 per DPU-hour = $0.07333...
    assert in_report["glue_spark"] == pytest.approx(0.0733333333)
    # Independently: Spark, 75 s of 1/16 DPU, 3 s of 3008 MB + 0.1 s of 128 MB, 2 requests, 3 objects + raw upload
    # + claim = 5 PUTs and 1 GET (no model listed), 251,200 bytes for a month.
    expected = (10 * 60 / 3600 * 0.44 + 0.0625 * 75 / 3600 * 0.44 + (3008 / 1024 * 3 + 128 / 1024 * 0.1) * 0.0000166667
                + 2 * 0.20 / 1e6 + 5 * 0.005 / 1000 + 1 * 0.0004 / 1000 + 251_200 / 1e9 * 0.023)
    assert in_report["total"] == pytest.approx(expected)

    settings = StackSettings(feature_memory_mb=3008, trigger_memory_mb=128)
    lambda_s = costs.feature_lambda_bound("spark", SPARK_MANIFEST, RUN, None, inputs_listed)
    building = RunStatus(dataset="d", run_id=RUN, state="SUCCEEDED", engine="spark", glue_run_id="jr_1",
                         glue_max_capacity=0.0625, glue_execution_s=75.0, objects=job_listing, feature_lambda_s=lambda_s,
                         spark_run_id="jr_spark", spark_state="RUNNING", spark_dpu=10.0, spark_recorded_s=42.5)
    assert status_cost(building, settings) == in_report
    final = RunStatus(**{**building.as_dict(), "spark_state": "SUCCEEDED", "spark_execution_s": 95.0})
    in_status = status_cost(final, settings)
    assert in_status["glue_spark"] == pytest.approx(10 * 95 / 3600 * 0.44)  # $0.116111...
    assert in_status["total"] == pytest.approx(expected - 10 * 60 / 3600 * 0.44 + 10 * 95 / 3600 * 0.44)
    # A Spark run that failed before writing features was billed too: priced from GetJobRun alone.
    failed = RunStatus(dataset="d", run_id=RUN, state="FAILED", engine="spark", spark_state="FAILED",
                       spark_dpu=2.0, spark_execution_s=130.0)
    assert status_cost(failed, settings)["glue_spark"] == pytest.approx(2 * 130 / 3600 * 0.44)
    # Nothing known yet (the Spark job still running, no manifest): no cost.
    assert status_cost(RunStatus(dataset="d", run_id=RUN, state="FEATURES", engine="spark"), settings) is None


def test_the_report_says_when_the_spark_part_could_not_be_priced():
    from cripto_pipeline import report

    manifest = {**SPARK_MANIFEST, "spark_usage": {"dpu": None, "seconds": None, "error": "AccessDeniedException"}}
    inputs = report.JobResources(glue_dpu=0.0625).cost_inputs(75.0, manifest, None, {})
    assert inputs.spark_runs == () and inputs.spark_unknown == "AccessDeniedException"
    assert "recorded no usage" in report.JobResources().cost_inputs(75.0, {"engine": "spark"}, None, {}).spark_unknown
    assert report.JobResources().cost_inputs(75.0, {"engine": "pandas"}, None, {}).spark_unknown is None
