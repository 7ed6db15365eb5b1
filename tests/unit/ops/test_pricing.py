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
