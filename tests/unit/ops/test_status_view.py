"""`cripto status`: the compact view fits 80 columns (terminal or pipe), --wide and --run show the rest,
--format json carries the same numbers."""
import io
import json

import pytest
from rich.console import Console

from cripto_ops import status_view
from cripto_ops.alarms import AlarmState
from cripto_ops.runs import RunStatus

HOURLY = RunStatus(
    dataset="btc-hourly", run_id="20261127T052202Z-c2f2871e", state="SUCCEEDED", is_latest=True,
    raw_key="raw/btc-hourly.csv", raw_version_id="AaIbbbwF", feature_rows=20077, glue_run_id="jr_c5be6d42498a",
    glue_state="SUCCEEDED", durations_s={"features": 1.13, "trigger": 0.94, "waiting": 0.5, "training": 45.63,
                                         "total": 48.2, "report": 12.4},
    best_model="hist_gradient_boosting", comparison={
        "model_accuracy_mean": 0.543, "best_baseline_accuracy_mean": 0.506, "beats_baselines_classification": True,
        "strategy_net_return": 0.027, "buy_and_hold_net_return": 1.04, "fee_rate": 0.001,
        "beats_buy_and_hold_net_of_fees": False, "beats_all_baselines": False,
        "verdict": "classification: beats the baselines (54.3 % vs 50.6 %); net of 0.10 % fees: loses to "
                   "buy-and-hold (0.03 vs 1.04)"},
    artifacts_prefix="models/btc-hourly/20261127T052202Z-c2f2871e/",
    report_key="models/btc-hourly/20261127T052202Z-c2f2871e/report.html",
)
#: Written before metrics.json had the net-of-fees verdict.
OLDER = RunStatus(dataset="btc-daily", run_id="20261127T052131Z-549cd310", state="SUCCEEDED",
                  durations_s={"features": 0.0, "trigger": 0.55, "training": 18.67, "total": 19.22},
                  best_model="logistic_regression", comparison={
                      "model_accuracy_mean": 0.545, "best_baseline_accuracy_mean": 0.552, "beats_all_baselines": False},
                  artifacts_prefix="models/btc-daily/20261127T052131Z-549cd310/")
DUPLICATE = RunStatus(dataset="btc-daily", run_id="20261127T052157Z-b9bdc984", state="DUPLICATE",
                      duplicate_of="20261127T052131Z-549cd310")
REJECTED = RunStatus(dataset="cli-bad", run_id="20261127T051813Z-66d5075b", state="REJECTED",
                     error="NonNumericValueError: column 'close' holds values that are not numbers: 'abc' "
                           "(line 2)")
RUNS = [HOURLY, DUPLICATE, OLDER, REJECTED]
COSTS = {HOURLY.run_id: 0.00056, OLDER.run_id: 0.00051, DUPLICATE.run_id: None, REJECTED.run_id: None}


def render(lines, width: int, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system="standard" if terminal else None,
                      highlight=False)
    for line in lines:
        console.print(line, soft_wrap=True)
    return out.getvalue()


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_the_compact_view_fits_80_columns_without_cutting_a_value(terminal):
    text = render(status_view.compact_lines(RUNS, 80), 80, terminal)
    plain = render(status_view.compact_lines(RUNS, 80), 80, False)
    assert "…" not in text
    assert max(len(line) for line in plain.splitlines()) <= 80
    assert all(line == line.rstrip() for line in plain.splitlines())
    for run in RUNS:
        assert run.run_id in plain and run.dataset in plain and run.state in plain
    assert "SUCCEEDED (latest)" in plain and "48.20" in plain and "19.22" in plain
    lines = [line.strip() for line in plain.splitlines()]
    assert "hist_gradient_boosting: 54.3 % vs 50.6 % best baseline (beats)" in lines
    assert "net of 0.10 % fees: 0.03 vs 1.04 buy-and-hold (does not beat)" in lines
    assert "logistic_regression: 54.5 % vs 55.2 % best baseline (does not beat)" in lines
    assert "net of fees: n/a" in lines  # an older metrics.json, without the net-of-fees comparison
    joined = " ".join(plain.split())  # a long error wraps
    assert "same content as run 20261127T052131Z-549cd310" in joined
    assert "'abc' (line 2)" in joined


def test_the_header_and_rows_line_up():
    lines = render(status_view.compact_lines(RUNS, 80), 80, False).splitlines()
    header = lines[0]
    row = next(line for line in lines if line.startswith("btc-hourly"))
    assert row.index(HOURLY.run_id) == header.index("run") and row.index("SUCCEEDED") == header.index("state")
    assert row.rstrip().endswith("48.20") and len(row.rstrip()) == len(header.rstrip())


def test_the_wide_table_has_every_stage_cost_and_artifacts():
    table = status_view.wide_table(RUNS, {run_id: usd and {"total": usd} for run_id, usd in COSTS.items()})
    columns = {column.header: list(column.cells) for column in table.columns}
    assert [columns[f"{s} s"][0] for s in ("features", "trigger", "waiting", "training")] == \
        ["1.13", "0.94", "0.50", "45.63"]
    assert columns["total s"][0] == "48.20" and columns["report s"][0] == "12.40"
    assert columns["cost $"][:3] == ["0.00056", "", "0.00051"]
    assert columns["artifacts / error"][0] == HOURLY.artifacts_prefix
    assert columns["glue run"][0] == "jr_c5be6d42498a"  # whole: the table is as wide as it needs


def test_a_successful_run_without_report_points_to_the_training_logs():
    run = RunStatus(dataset="d", run_id="20261127T040000Z-0a895ad0", state="SUCCEEDED",
                    artifacts_prefix="models/d/20261127T040000Z-0a895ad0/")
    [where] = [list(c.cells) for c in status_view.wide_table([run], {}).columns if c.header == "artifacts / error"]
    assert "no report" in where[0] and "cripto logs training" in where[0]


def test_the_detail_view_lists_one_run_with_its_cost_per_component():
    glue_run_id = "jr_d89c37f243e286272467155425d8e3da4698978965f54d1f3891bb1abb624548"  # as Glue names them
    out = io.StringIO()
    Console(file=out, width=80).print(status_view.detail_table(
        RunStatus(**{**HOURLY.as_dict(), "glue_run_id": glue_run_id}), {"glue": 0.00046, "total": 0.00056}))
    text = out.getvalue()
    assert glue_run_id in "".join(line.strip(" │") for line in text.splitlines())  # folded, whole
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    for expected in ("waiting s", "0.50", "total s (upload -> model)", "48.20", "report s (after the model)",
                     "cost $ total", "0.000560", "AaIbbbwF"):
        assert expected in text


def test_json_parses_and_carries_the_same_numbers():
    alarm = AlarmState(name="feature-errors", state="OK", reason="fine", since=None, description="errors")
    breakdowns = {run_id: None if usd is None else {"glue": usd - 0.0001, "total": usd} for run_id, usd in COSTS.items()}
    document = json.loads(json.dumps(status_view.as_json(RUNS, breakdowns, [alarm]), default=str))
    assert document["schema_version"] == status_view.SCHEMA_VERSION == 1
    hourly = document["runs"][0]
    assert hourly["durations_s"] == HOURLY.durations_s and hourly["cost_usd"] == 0.00056
    assert hourly["cost_usd_by_component"] == {"glue": pytest.approx(0.00046), "total": 0.00056}
    assert hourly["comparison"] == HOURLY.comparison and "objects" not in hourly
    assert document["runs"][3]["error"] == REJECTED.error and document["runs"][3]["cost_usd"] is None
    assert document["alarms"] == [{"name": "feature-errors", "state": "OK", "reason": "fine", "since": None,
                                   "description": "errors"}]



def test_status_says_which_engine_built_the_features_and_on_how_many_rows_training_ran():
    spark = RunStatus(**{**HOURLY.as_dict(), "engine": "spark", "feature_rows": 10_000_000,
                         "training_rows": 1_000_000, "training_sample": "time-stratified"})
    pandas = RunStatus(**{**HOURLY.as_dict(), "engine": "pandas", "training_rows": 20077, "training_sample": "all rows"})
    plain = " ".join(render(status_view.compact_lines([spark, pandas], 80), 80, False).split())
    assert "features: Spark feature job; trained on 1,000,000 of 10,000,000 rows (time-stratified sample)" in plain
    assert "features: feature Lambda (pandas); trained on all 20,077 rows" in plain
    columns = {c.header: list(c.cells) for c in status_view.wide_table([spark, pandas], {}).columns}
    assert columns["engine"] == ["spark", "pandas"]
    assert columns["rows"] == ["10,000,000 (1,000,000 trained)", "20,077"]
    detail = {row: cell for row, cell in zip(*[list(c.cells) for c in status_view.detail_table(spark, None).columns])}
    assert detail["features built by"] == "Glue Spark feature job"
    assert detail["training rows"] == "1,000,000 (time-stratified)"
    assert status_view.training_rows_text(RunStatus(**{**HOURLY.as_dict(), "engine": "spark"})) == \
        "features: Spark feature job, running"


def test_a_spark_built_run_shows_the_spark_feature_jobs_cost_on_its_own():
    """--wide: a "spark $" column (only for Spark-built runs); --run: DPUs x seconds and where the seconds
    come from, and the glue_spark line of the cost; JSON: the Spark run's usage fields."""
    final = RunStatus(**{**HOURLY.as_dict(), "engine": "spark", "spark_run_id": "jr_spark_0123456789",
                         "spark_state": "SUCCEEDED", "spark_dpu": 10.0, "spark_execution_s": 95.0,
                         "spark_recorded_s": 83.25})
    building = RunStatus(**{**HOURLY.as_dict(), "run_id": "20261127T060000Z-00000001", "engine": "spark",
                            "spark_state": "RUNNING", "spark_dpu": 10.0, "spark_recorded_s": 83.25})
    pandas = RunStatus(**{**HOURLY.as_dict(), "run_id": "20261127T070000Z-00000002", "engine": "pandas"})
    breakdowns = {final.run_id: {"glue_spark": 0.11611, "total": 0.11700},
                  building.run_id: {"glue_spark": 0.10175, "total": 0.10260},
                  pandas.run_id: {"glue_spark": 0.0, "total": 0.00056}}
    columns = {c.header: list(c.cells) for c in status_view.wide_table([final, building, pandas], breakdowns).columns}
    assert columns["spark $"] == ["0.11611", "0.10175", ""]
    assert columns["cost $"] == ["0.11700", "0.10260", "0.00056"]
    assert status_view.spark_usage_text(final) == "10 DPU x 95.0 s (Glue ExecutionTime)"
    assert status_view.spark_usage_text(building) == "10 DPU x 83.2 s (recorded by the job; run not final)"
    assert status_view.spark_usage_text(pandas) == ""
    out = io.StringIO()
    Console(file=out, width=80).print(status_view.detail_table(final, breakdowns[final.run_id]))
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "10 DPU x 95.0 s (Glue ExecutionTime)" in text and "cost $ glue_spark" in text and "0.116110" in text
    entry = status_view.as_json([final], breakdowns, [])["runs"][0]
    assert (entry["spark_dpu"], entry["spark_execution_s"], entry["spark_recorded_s"]) == (10.0, 95.0, 83.25)
    assert entry["cost_usd_by_component"]["glue_spark"] == 0.11611
    compact = render(status_view.compact_lines([final, building, pandas], 80), 80, False)
    assert max(len(line) for line in compact.splitlines()) <= 80
