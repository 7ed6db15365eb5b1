"""Pure helpers of the operator CLI."""
from datetime import datetime, timezone

import pytest

from cripto_ops.exceptions import OpsError
from cripto_ops.log_tail import log_groups, parse_since
from cripto_ops.render import metrics_table
from cripto_ops.stack import StackOutputs

STACK = StackOutputs("bucket", "feat-fn", "trig-fn", "job", raw={})


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400)])
def test_parse_since(text, seconds):
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert parse_since(text, now) == int(now.timestamp() * 1000) - seconds * 1000


@pytest.mark.parametrize("text", ["", "10", "m", "1w", "-1h"])
def test_parse_since_rejects_what_it_cannot_read(text):
    with pytest.raises(OpsError, match="e.g. 30s"):
        parse_since(text)


def test_log_groups_per_component():
    assert log_groups(STACK, "feature") == ["/aws/lambda/feat-fn"]
    assert log_groups(STACK, "training") == ["/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error"]
    assert len(log_groups(STACK, None)) == 4


def test_stack_outputs_name_what_is_missing():
    with pytest.raises(OpsError, match="glue_job_name"):
        StackOutputs.from_terraform_json({k: {"value": "x"} for k in ("bucket_name", "feature_lambda_name",
                                                                      "trigger_lambda_name")})


def test_metrics_table_lists_models_and_baselines():
    metrics = {"best_model": "random_forest", "walk_forward": {"n_folds": 5},
               "summary": {"random_forest": {"accuracy_mean": 0.55, "balanced_accuracy_mean": 0.52, "strategy_return": 0.1},
                           "always_up": {"accuracy_mean": 0.54, "balanced_accuracy_mean": 0.5, "strategy_return": 0.2},
                           "buy_and_hold": {"return": 0.3}}}
    table = metrics_table(metrics)
    cells = [list(column.cells) for column in table.columns]
    assert any("random_forest" in c for c in cells[0]) and "always_up" in cells[0] and "buy_and_hold" in cells[0]
    assert "55.0 %" in cells[1]



def test_the_spark_feature_jobs_log_groups_come_from_the_stack():
    with_spark = StackOutputs(**{**STACK.__dict__, "raw": {**STACK.raw, "glue_spark_log_group_names": [
        "/aws-glue/jobs/output", "/aws-glue/jobs/error"]}})
    assert log_groups(with_spark, "spark") == ["/aws-glue/jobs/output", "/aws-glue/jobs/error"]
    assert len(log_groups(with_spark, None)) == 6
    with pytest.raises(OpsError, match="glue_spark_log_group_names"):
        log_groups(STACK, "spark")
