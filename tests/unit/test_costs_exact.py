"""cripto_pipeline.costs: one run priced component by component with the dollar amounts worked out by hand
(us-east-1 prices in the module docstring), the billing minimums at their bounds, how a run's usage is
put together, and the Spark job's own usage record (issue 16)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cripto_pipeline import costs

RUN = "20261127T040000Z-0a895ad0"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_every_component_of_a_run_in_dollars():
    usage = costs.RunUsage([(1024, 2.0), (512, 1.0)], glue_dpu=0.0625, glue_seconds=59, s3_puts=1000, s3_gets=1000,
                           stored_bytes=10**9, spark_runs=[(2.0, 59.0), (1.0, 61.0)])
    cost = costs.run_cost(usage)
    expected = {
        "lambda_compute": 2.5 * 0.0000166667,  # 2 GB-s + 0.5 GB-s
        "lambda_requests": 2 * 0.0000002,
        "glue": 0.0625 * 60 / 3600 * 0.44,  # 59 s billed as the 1-minute minimum
        "glue_spark": (2.0 * 60 + 1.0 * 61) / 3600 * 0.44,  # 59 s -> 60 s, 61 s as is
        "s3_requests": 1000 * 0.000005 + 1000 * 0.0000004,
        "s3_storage_month": 0.023,  # 1 GB for a month
    }
    assert sorted(cost) == sorted([*expected, "total"])
    for name, dollars in expected.items():
        assert cost[name] == pytest.approx(dollars, rel=1e-9), name
    assert cost["total"] == pytest.approx(0.0510226223, rel=1e-9)


def test_glue_seconds_without_dpus_cost_nothing_and_61_seconds_bill_61():
    assert costs.run_cost(costs.RunUsage([], glue_dpu=0.0, glue_seconds=100))["glue"] == 0.0
    assert costs.run_cost(costs.RunUsage([], glue_dpu=1.0, glue_seconds=61))["glue"] == pytest.approx(61 / 3600 * 0.44)
    assert costs.run_cost(costs.RunUsage([], glue_dpu=1.0, glue_seconds=60))["glue"] == pytest.approx(60 / 3600 * 0.44)


def test_a_run_without_anything_costs_nothing():
    assert costs.run_cost(costs.RunUsage([], glue_dpu=0.0, glue_seconds=0.0)) == {
        "lambda_compute": 0.0, "lambda_requests": 0.0, "glue": 0.0, "glue_spark": 0.0, "s3_requests": 0.0,
        "s3_storage_month": 0.0, "total": 0.0}


def test_other_prices_can_be_passed():
    prices = {"lambda_gb_second": 1.0, "lambda_request": 10.0, "glue_dpu_hour": 3600.0,
              "glue_python_shell_minimum_seconds": 2.0, "glue_spark_minimum_seconds": 3.0, "s3_put_request": 100.0,
              "s3_get_request": 1000.0, "s3_gb_month": 1e9}
    usage = costs.RunUsage([(2048, 1.5)], glue_dpu=2.0, glue_seconds=1.0, s3_puts=1, s3_gets=2, stored_bytes=3,
                           spark_runs=[(4.0, 1.0)])
    assert costs.run_cost(usage, prices) == {"lambda_compute": 3.0, "lambda_requests": 10.0, "glue": 4.0,
                                             "glue_spark": 12.0, "s3_requests": 2100.0, "s3_storage_month": 3.0,
                                             "total": 2132.0}


def test_a_runs_usage_from_what_is_observed():
    objects = {f"features/d/{RUN}/manifest.json": 900, f"features/d/{RUN}/features.parquet": 250_000,
               f"models/d/{RUN}/model.joblib": 2_000, f"models/d/{RUN}/report.html": 248_144}
    usage = costs.run_usage(0.0625, 42, objects, feature_lambda=(1024, 3.5), trigger_lambda_memory_mb=128,
                            spark_runs=[(2.0, 90.0)])
    assert usage == costs.RunUsage(lambda_invocations=[(1024, 3.5), (128, 0.1)], glue_dpu=0.0625, glue_seconds=42.0,
                                   s3_puts=3 + 2 + 4, s3_gets=4, stored_bytes=252_900, spark_runs=((2.0, 90.0),))
    bare = costs.run_usage(None, None, {})
    assert bare == costs.RunUsage(lambda_invocations=[], glue_dpu=0.0, glue_seconds=0.0, s3_puts=2, s3_gets=1,
                                  stored_bytes=0, spark_runs=())
    assert isinstance(bare.glue_seconds, float)


def test_s3_requests_without_a_model_and_the_report_left_out():
    assert costs.s3_requests([]) == (2, 1)
    assert costs.s3_requests([f"models/d/{RUN}/report.html", f"features/d/{RUN}/manifest.json"]) == (3, 1)
    assert costs.stored_bytes({f"models/d/{RUN}/report.html": 5, f"features/d/{RUN}/x.json": 7}) == 7


def test_spark_dpus_from_workers_else_max_capacity_and_the_refusals():
    assert costs.spark_dpu("G.025X", 4) == 1.0 and costs.spark_dpu("G.8X", 2) == 16.0
    with pytest.raises(ValueError) as caught:
        costs.spark_dpu("Standard", 2)
    assert str(caught.value) == "Unknown Glue worker type 'Standard': expected one of ['G.025X', 'G.1X', 'G.2X', " \
                                "'G.4X', 'G.8X']."
    assert costs.spark_run({"WorkerType": "G.1X", "MaxCapacity": 7.0, "ExecutionTime": 30}) == (7.0, 30.0)
    assert costs.spark_run({"NumberOfWorkers": 5, "MaxCapacity": 7.0}) == (7.0, 0.0)
    assert costs.spark_run({"WorkerType": "G.2X", "NumberOfWorkers": 5, "MaxCapacity": 7.0}) == (10.0, 0.0)
    with pytest.raises(ValueError) as caught:
        costs.spark_run({"Id": "jr_1", "WorkerType": "G.1X", "NumberOfWorkers": 0})
    assert str(caught.value) == "Glue run 'jr_1' reports neither WorkerType/NumberOfWorkers nor MaxCapacity."


def test_the_spark_jobs_record_of_itself():
    run = {"Id": "jr_9", "WorkerType": "G.1X", "NumberOfWorkers": 2, "StartedOn": _utc(2026, 11, 27, 4, 0, 0)}
    assert costs.spark_usage_record(run, _utc(2026, 11, 27, 4, 1, 23, 250_400)) == {
        "job_run_id": "jr_9", "dpu": 2.0, "seconds": 83.25, "measured": "run start -> manifest written"}
    assert costs.spark_usage_record(run, _utc(2026, 11, 27, 3, 59, 0))["seconds"] == 0.0  # clock skew
    with pytest.raises(ValueError) as caught:
        costs.spark_usage_record({"Id": "jr_9", "MaxCapacity": 2.0, "StartedOn": "2026-11-27"}, _utc(2026, 11, 27))
    assert str(caught.value) == "Glue run 'jr_9' reports no StartedOn."


def test_a_recorded_spark_run_needs_both_numbers_and_zero_is_a_number():
    assert costs.recorded_spark_run({"spark_usage": {"dpu": 0, "seconds": 0}}) == (0.0, 0.0)
    assert costs.recorded_spark_run({"spark_usage": {"dpu": "2", "seconds": "1.5"}}) == (2.0, 1.5)
    assert costs.recorded_spark_run({"spark_usage": {"dpu": 2.0}}) is None
    assert costs.recorded_spark_run({"spark_usage": {"seconds": 2.0}}) is None
    assert costs.recorded_spark_run({"spark_usage": [2.0, 1.0]}) is None


def test_the_feature_lambdas_bound_on_each_path():
    written = _utc(2026, 11, 27, 4, 0, 42, 500_000)
    # Spark: from the run id's time (04:00:00) to inputs.json written, whole seconds.
    assert costs.feature_lambda_bound("spark", {}, RUN, None, written) == 42.0
    assert costs.feature_lambda_bound("spark", {}, "", None, written) is None
    assert costs.feature_lambda_bound("spark", {"raw": {"event_time": "2026-11-27T04:00:40Z"}}, RUN, None,
                                      written) == 2.0
    # pandas: from raw.event_time to features.parquet written.
    manifest = {"raw": {"event_time": "2026-11-27T04:00:30.250Z"}}
    assert costs.feature_lambda_bound("pandas", manifest, RUN, written, None) == 11.75
    assert costs.feature_lambda_bound(None, manifest, RUN, written, None) == 11.75
    assert costs.feature_lambda_bound("pandas", {"raw": [{"key": "a"}]}, RUN, written, None) is None
    assert costs.feature_lambda_bound("pandas", manifest, RUN, None, written) is None
    assert costs.feature_lambda_seconds(None, written) is None
