"""cripto_pipeline.report's numbers on small hand-made inputs with exact expected values: data coverage and
gaps, feature importances of each model kind, the report data gathered from a training outcome, the cost
inputs the Glue job knows, and build_report's object."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from cripto_pipeline import layout, report
from cripto_pipeline.pipeline import ObjectToWrite, frame_to_parquet
from cripto_pipeline.report import analysis, usage
from cripto_pipeline.training import TARGET_COLUMN

RUN_ID = "20261127T040000Z-0123abcd"


# --- data coverage --------------------------------------------------------------------------------


def _berlin(*stamps):
    """Wall-clock times in Berlin (UTC+1 in winter) as tz-aware timestamps."""
    return [pd.Timestamp(s, tz="Europe/Berlin") for s in stamps]


def _utc(stamp):
    return pd.Timestamp(stamp)  # naive UTC, as the coverage reports it


@pytest.fixture
def hourly():
    rows = (
        [("BTC#000", t) for t in _berlin(*[f"2026-01-01 {h}:00" for h in (10, 11, 12, 13, 14)])]
        + [("BTC#001", t) for t in _berlin("2026-01-03 10:00", "2026-01-03 11:00", "2026-01-03 12:00")]
        + [("ETH", t) for t in _berlin(*[f"2026-01-01 {h}:00" for h in (10, 11, 14, 15, 16, 18)])]
        + [("SOL", t) for t in _berlin(*[f"2026-01-01 {h}:00" for h in (6, 7, 10, 11)])]
    )
    frame = pd.DataFrame({"symbol": [s for s, _ in rows], "timestamp": [t for _, t in rows]})
    return frame.iloc[::-1].reset_index(drop=True)  # newest first: the coverage sorts


def test_coverage_of_hourly_data_counts_rows_per_utc_day_under_the_real_symbol(hourly):
    coverage = analysis.data_coverage(hourly)
    assert coverage.period == "D"
    counts = coverage.rows_per_period
    assert list(counts.index) == [_utc("2026-01-01"), _utc("2026-01-03")]
    assert counts.to_dict("list") == {"BTC": [5, 3], "ETH": [6, 0], "SOL": [4, 0]}


def test_coverage_lists_each_real_symbol_with_rows_first_last_step_and_gaps_in_utc(hourly):
    coverage = analysis.data_coverage(hourly)
    hour = pd.Timedelta(hours=1)
    assert coverage.symbols == [
        # the BTC blocks' spans apart are the sample's choice, not gaps
        {"symbol": "BTC", "rows": 8, "first": _utc("2026-01-01 09:00"), "last": _utc("2026-01-03 11:00"),
         "step": hour, "gaps": 0, "missing_bars": 0},
        {"symbol": "ETH", "rows": 6, "first": _utc("2026-01-01 09:00"), "last": _utc("2026-01-01 17:00"),
         "step": hour, "gaps": 2, "missing_bars": 3},
        {"symbol": "SOL", "rows": 4, "first": _utc("2026-01-01 05:00"), "last": _utc("2026-01-01 10:00"),
         "step": hour, "gaps": 1, "missing_bars": 2},
    ]


def test_gaps_are_listed_largest_first_then_oldest_first(hourly):
    coverage = analysis.data_coverage(hourly)
    assert coverage.gaps == [
        {"symbol": "SOL", "after": _utc("2026-01-01 06:00"), "before": _utc("2026-01-01 09:00"), "missing_bars": 2},
        {"symbol": "ETH", "after": _utc("2026-01-01 10:00"), "before": _utc("2026-01-01 13:00"), "missing_bars": 2},
        {"symbol": "ETH", "after": _utc("2026-01-01 15:00"), "before": _utc("2026-01-01 17:00"), "missing_bars": 1},
    ]


def test_a_step_of_one_and_a_half_usual_steps_is_not_a_gap_and_longer_ones_round_to_bars():
    times = ["00:00", "01:00", "02:00", "03:30", "04:30", "05:30", "08:06", "09:06"]
    frame = pd.DataFrame({"symbol": "A", "timestamp": pd.to_datetime([f"2026-01-01 {t}" for t in times])})
    coverage = analysis.data_coverage(frame)
    # 02:00 -> 03:30 is 1.5 h: not a gap; 05:30 -> 08:06 is 2.6 h: 3 steps, so 2 bars missing
    assert coverage.gaps == [
        {"symbol": "A", "after": _utc("2026-01-01 05:30"), "before": _utc("2026-01-01 08:06"), "missing_bars": 2}
    ]
    assert coverage.symbols[0]["gaps"] == 1 and coverage.symbols[0]["missing_bars"] == 2


def test_daily_bars_are_counted_per_month():
    days = pd.date_range("2026-01-30", periods=4, freq="D")
    coverage = analysis.data_coverage(pd.DataFrame({"symbol": "A", "timestamp": days}))
    assert coverage.period == "M"
    assert list(coverage.rows_per_period.index) == [_utc("2026-01-01"), _utc("2026-02-01")]
    assert coverage.rows_per_period["A"].tolist() == [2, 2]


def test_one_bar_per_symbol_has_no_step_no_gaps_and_is_counted_per_month():
    frame = pd.DataFrame({"symbol": ["A", "B"], "timestamp": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 11:00"])})
    coverage = analysis.data_coverage(frame)
    assert coverage.period == "M"
    assert [(s["symbol"], s["rows"], s["step"], s["gaps"], s["missing_bars"]) for s in coverage.symbols] == [
        ("A", 1, pd.Timedelta(0), 0, 0),
        ("B", 1, pd.Timedelta(0), 0, 0),
    ]
    assert coverage.gaps == []


# --- feature importances ----------------------------------------------------------------------------


COLUMNS = ["noise_a", "signal", "noise_b"]


def test_a_forest_reports_impurity_importances_sorted_by_size():
    model = SimpleNamespace(feature_importances_=[0.1, 0.7, 0.2])
    kind, values = analysis.feature_importances(model, COLUMNS)
    assert kind == "impurity importance (mean decrease in impurity)"
    assert values.to_dict() == {"signal": 0.7, "noise_b": 0.2, "noise_a": 0.1}
    assert list(values.index) == ["signal", "noise_b", "noise_a"] and values.dtype == "float64"


def test_a_pipeline_reports_the_coefficients_of_its_last_step_sorted_by_magnitude_keeping_signs():
    final = SimpleNamespace(coef_=np.array([[0.5, -2.0, 1.0]]))
    pipeline = SimpleNamespace(steps=[("impute", object()), ("scale", object()), ("model", final)])
    kind, values = analysis.feature_importances(pipeline, COLUMNS)
    assert kind == "coefficient on standardised features (sign: pushes towards 'up' when positive)"
    assert list(values.items()) == [("signal", -2.0), ("noise_b", 1.0), ("noise_a", 0.5)]


@pytest.mark.parametrize("test", [None, pd.DataFrame(columns=[*COLUMNS, TARGET_COLUMN])], ids=["no test", "empty test"])
def test_a_model_without_importances_or_test_rows_has_none(test):
    kind, values = analysis.feature_importances(SimpleNamespace(), COLUMNS, test)
    assert kind == "not available for this model"
    assert values.empty and values.dtype == "float64"


class SignOfSecond:
    """A fitted classifier predicting 'up' when the second feature is positive; records what it saw."""

    def __init__(self):
        self.calls = []

    def fit(self, x, y):  # scorers ask for an estimator
        return self

    def predict(self, x):
        if np.isnan(x).any():
            raise ValueError("predict saw the oldest row")
        self.calls.append((x.shape, max((lib["num_threads"] for lib in threadpool_info()), default=1)))
        return (x[:, 1] > 0).astype(int)


def _permutation_test_frame(rows=2001):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 3))
    y = ((x[:, 1] + rng.normal(scale=0.5, size=rows)) > 0).astype(int)
    frame = pd.DataFrame(x, columns=COLUMNS).assign(**{TARGET_COLUMN: y})
    frame.iloc[0, 0] = np.nan  # the oldest row: must not be used
    return frame


def test_other_models_get_permutation_importance_on_the_newest_2000_test_rows_in_one_thread():
    from sklearn.inspection import permutation_importance

    test = _permutation_test_frame()
    model = SignOfSecond()
    kind, values = analysis.feature_importances(model, COLUMNS, test)
    assert kind == "permutation importance on the last test fold (drop in balanced accuracy)"
    # one baseline prediction, then 3 shuffles of each of the 3 features; 2000 rows each, one thread, here
    assert [shape for shape, _ in model.calls] == [(2000, 3)] * 10
    assert {threads for _, threads in model.calls} == {1}
    assert values["noise_a"] == 0.0 and values["noise_b"] == 0.0  # never read by the model
    newest = test.iloc[1:]
    expected = permutation_importance(
        SignOfSecond(), newest[COLUMNS].to_numpy(), newest[TARGET_COLUMN].to_numpy(),
        scoring="balanced_accuracy", n_repeats=3, random_state=0,
    ).importances_mean
    assert values["signal"] == pytest.approx(expected[1]) and values["signal"] > 0.3
    assert list(values.index) == ["signal", "noise_a", "noise_b"]


def test_permutation_importance_is_measured_by_balanced_accuracy():
    # 9 of 10 rows are 'down': a model that always says 'down' after shuffling keeps 90 % accuracy but 50 %
    # balanced accuracy, so the two scores give different drops.
    x = np.column_stack([np.zeros(10), np.r_[np.full(9, -1.0), 1.0], np.zeros(10)])
    test = pd.DataFrame(x, columns=COLUMNS).assign(**{TARGET_COLUMN: [0] * 9 + [1]})
    _, values = analysis.feature_importances(SignOfSecond(), COLUMNS, test)
    # baseline 1.0; a shuffle moves the one 'up' row: 8 of 9 downs right, the up wrong -> (8/9 + 0) / 2
    # (or it stays in place: 1.0); the drop averages those over 3 shuffles, never the accuracy's 0.2 / 3 steps
    drop = values["signal"]
    assert any(drop == pytest.approx(k * (1 - 4 / 9) / 3) for k in (1, 2, 3))


# --- build_report_data ------------------------------------------------------------------------------


class OutOfSample:
    def __init__(self, predictions, last_models=None, last_test=None):
        self.predictions, self.asked = predictions, []
        self.last_models, self.last_test = last_models or {}, last_test

    def signal(self, name):
        self.asked.append(name)
        return self.predictions


def _predictions():
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
            "symbol": "A",
            "fold": 1,
            "y_true": [1, 0, 0],
            "y_pred": [1, 1, 0],
            "score": [0.9, 0.6, 0.1],
            "next_log_return": [math.log(1.1), math.log(0.9), math.log(1.2)],
        }
    )


METRICS = {"best_model": "forest", "summary": {}}
LINEAGE = {"glue_job_run_id": "jr_9"}


def _outcome(model, out_of_sample, columns=("a", "b")):
    keys = layout.run_keys("d", RUN_ID)
    writes = [
        ObjectToWrite(keys.model, b"model", "application/octet-stream"),
        ObjectToWrite(keys.metrics, json.dumps(METRICS).encode(), "application/json"),
        ObjectToWrite(keys.lineage, json.dumps(LINEAGE).encode(), "application/json"),
    ]
    training = SimpleNamespace(model=model, out_of_sample=out_of_sample, feature_columns=list(columns))
    return SimpleNamespace(writes=writes, summary={"dataset": "d", "run_id": RUN_ID}, training=training)


def _parquet():
    frame = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=3, freq="h"), "symbol": "A"})
    return frame_to_parquet(frame)


def test_report_data_gathers_metrics_lineage_signal_equity_confusion_importances_coverage_and_cost():
    out_of_sample = OutOfSample(_predictions())
    model = SimpleNamespace(feature_importances_=[0.25, 0.75])
    manifest = {"warnings": []}
    inputs = usage.CostInputs(glue_dpu=1.0, glue_seconds=3600.0)
    data = analysis.build_report_data(_outcome(model, out_of_sample), manifest, _parquet(), inputs)
    assert (data.metrics, data.lineage, data.manifest) == (METRICS, LINEAGE, manifest)
    assert out_of_sample.asked == ["forest"] and data.predictions is out_of_sample.predictions
    # long, long, flat: gross 1.1 then 1.1 * 0.9; net pays 0.1 % on entry (bar 1) and on exit (bar 3)
    assert data.equity["model_gross"].tolist() == pytest.approx([1.1, 0.99, 0.99])
    assert data.equity["model_net"].tolist() == pytest.approx([1.1 * 0.999, 0.99 * 0.999, 0.99 * 0.999 ** 2])
    assert data.confusion.tolist() == [[1, 1], [0, 1]]
    assert data.importance_kind.startswith("impurity importance")
    assert data.importances.to_dict() == {"b": 0.75, "a": 0.25}
    assert (data.coverage.period, data.coverage.symbols[0]["rows"]) == ("D", 3)
    assert data.cost["glue"] == pytest.approx(0.44)  # 1 DPU for an hour at $0.44 per DPU-hour
    assert data.cost_inputs is inputs


def test_report_data_uses_the_coefficients_of_a_pipeline_ending_in_a_linear_model():
    model = SimpleNamespace(
        steps=[("impute", object()), ("scale", object()), ("model", SimpleNamespace(coef_=np.array([[-1.0, 0.5]])))]
    )
    data = analysis.build_report_data(
        _outcome(model, OutOfSample(_predictions())), {}, _parquet(), usage.CostInputs(None, 0.0)
    )
    assert data.importance_kind.startswith("coefficient")
    assert list(data.importances.items()) == [("a", -1.0), ("b", 0.5)]


def test_report_data_measures_other_models_by_permutation_on_the_best_models_last_fold():
    test = _permutation_test_frame(rows=201).iloc[1:]
    best, other = SignOfSecond(), SignOfSecond()
    out_of_sample = OutOfSample(_predictions(), last_models={"other": other, "forest": best}, last_test=test)
    data = analysis.build_report_data(
        _outcome(SimpleNamespace(), out_of_sample, COLUMNS), {}, _parquet(), usage.CostInputs(None, 0.0)
    )
    assert data.importance_kind == "permutation importance on the last test fold (drop in balanced accuracy)"
    assert len(best.calls) == 10 and other.calls == []
    assert {shape for shape, _ in best.calls} == {(200, 3)}
    assert data.importances.index[0] == "signal"


@pytest.mark.parametrize("training", [None, SimpleNamespace(out_of_sample=None)], ids=["no training", "no predictions"])
def test_report_data_needs_the_training_result_of_this_process(training):
    outcome = SimpleNamespace(writes=[], summary={"dataset": "d", "run_id": RUN_ID}, training=training)
    with pytest.raises(ValueError) as error:
        analysis.build_report_data(outcome, {}, b"", usage.CostInputs(None, 0.0))
    assert str(error.value) == "The report needs the training outcome of this process (outcome.training)."


# --- cost inputs --------------------------------------------------------------------------------------


RUN_OBJECTS = {
    f"features/d/{RUN_ID}/features.parquet": 1000,
    f"models/d/{RUN_ID}/model.joblib": 7,
    f"models/d/{RUN_ID}/report.html": 50,  # written after the listing: left out
}


def test_cost_inputs_store_the_run_objects_except_the_report():
    assert usage.CostInputs(None, 0.0, run_objects=RUN_OBJECTS).stored_bytes == 1007


def test_cost_inputs_hand_every_measure_to_the_run_usage():
    inputs = usage.CostInputs(
        glue_dpu=0.0625, glue_seconds=42.0, feature_lambda=(2048, 1.5), trigger_lambda_memory_mb=128,
        run_objects=RUN_OBJECTS, spark_runs=[(10.0, 83.25)],
    )
    run = inputs.usage()
    assert run.lambda_invocations == [(2048, 1.5), (128, 0.1)]
    assert (run.glue_dpu, run.glue_seconds, run.stored_bytes, run.spark_runs) == (0.0625, 42.0, 1007, ((10.0, 83.25),))
    # PUTs: 2 listed objects + upload + claim + latest/report/2 listings; GETs: raw + manifest/features/latest
    assert (run.s3_puts, run.s3_gets) == (8, 4)


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


PANDAS_MANIFEST = {"run_id": RUN_ID, "raw": {"event_time": "2026-11-27T04:00:00.000Z"}}


def test_a_pandas_runs_cost_inputs_bound_the_feature_lambda_by_the_features_object_in_whole_seconds():
    resources = usage.JobResources(glue_dpu=0.0625, feature_lambda_memory_mb=2048, trigger_lambda_memory_mb=128)
    inputs = resources.cost_inputs(30.0, PANDAS_MANIFEST, _at("2026-11-27T04:00:03.900"), RUN_OBJECTS,
                                   inputs_written_at=_at("2026-11-27T04:00:01"))
    assert inputs == usage.CostInputs(
        glue_dpu=0.0625, glue_seconds=30.0, feature_lambda=(2048, 3.0), trigger_lambda_memory_mb=128,
        run_objects=RUN_OBJECTS, spark_runs=(), spark_unknown=None,
    )


def test_a_feature_lambda_written_within_its_upload_second_bills_zero_seconds():
    resources = usage.JobResources(feature_lambda_memory_mb=1024)
    inputs = resources.cost_inputs(1.0, {**PANDAS_MANIFEST, "engine": "pandas"}, _at("2026-11-27T04:00:00.700"), {})
    assert inputs.feature_lambda == (1024, 0.0)


@pytest.mark.parametrize(
    "memory, written_at",
    [(None, _at("2026-11-27T04:00:03")), (0, _at("2026-11-27T04:00:03")), (2048, None)],
    ids=["memory unknown", "memory zero", "features time unknown"],
)
def test_without_the_feature_lambdas_memory_or_its_end_it_is_not_priced(memory, written_at):
    inputs = usage.JobResources(feature_lambda_memory_mb=memory).cost_inputs(1.0, PANDAS_MANIFEST, written_at, {})
    assert inputs.feature_lambda is None and inputs.spark_unknown is None


SPARK_MANIFEST = {"engine": "spark", "run_id": RUN_ID, "raw": [{"key": "raw/a.csv"}],
                  "spark_usage": {"dpu": 10, "seconds": 83.25}}


def test_a_spark_runs_cost_inputs_bound_the_feature_lambda_by_inputs_json_and_carry_the_spark_run():
    resources = usage.JobResources(glue_dpu=0.0625, feature_lambda_memory_mb=3008)
    inputs = resources.cost_inputs(30.0, SPARK_MANIFEST, _at("2026-11-27T04:09:00"), {},
                                   inputs_written_at=_at("2026-11-27T04:00:02.900"))
    assert inputs.feature_lambda == (3008, 2.0)  # from the run id's second to inputs.json, not features
    assert inputs.spark_runs == ((10.0, 83.25),) and inputs.spark_unknown is None


def test_a_spark_manifest_without_run_id_leaves_the_feature_lambda_unpriced():
    manifest = {key: value for key, value in SPARK_MANIFEST.items() if key != "run_id"}
    inputs = usage.JobResources(feature_lambda_memory_mb=3008).cost_inputs(
        30.0, manifest, None, {}, inputs_written_at=_at("2026-11-27T04:00:02")
    )
    assert inputs.feature_lambda is None and inputs.spark_runs == ((10.0, 83.25),)


@pytest.mark.parametrize(
    "spark_usage, why",
    [
        ({"error": "AccessDeniedException: no glue:GetJobRun"}, "AccessDeniedException: no glue:GetJobRun"),
        ({"dpu": 10}, "the Spark feature job recorded no usage in its manifest"),
        (None, "the Spark feature job recorded no usage in its manifest"),
    ],
    ids=["its error", "no seconds", "no record"],
)
def test_a_spark_run_without_recorded_usage_says_why(spark_usage, why):
    manifest = {**SPARK_MANIFEST, "spark_usage": spark_usage}
    inputs = usage.JobResources().cost_inputs(30.0, manifest, None, {})
    assert inputs.spark_runs == () and inputs.spark_unknown == why


# --- build_report -------------------------------------------------------------------------------------


def test_build_report_writes_the_rendered_page_as_utf8_html_under_the_runs_models(monkeypatch):
    calls = []

    def build_report_data(*args):
        calls.append(("data", args))
        return "DATA"

    def render_plots(data):
        calls.append(("plots", data))
        return {"folds": b"png"}

    def render_html(data, plots):
        calls.append(("html", data, plots))
        return "<p>1 → 2 × 3</p>"

    monkeypatch.setattr(analysis, "build_report_data", build_report_data)
    monkeypatch.setattr(report.plots, "render_plots", render_plots)
    monkeypatch.setattr(report.page, "render_html", render_html)
    outcome = SimpleNamespace(summary={"dataset": "btc", "run_id": RUN_ID})
    manifest, parquet, inputs = {"m": 1}, b"parquet", usage.CostInputs(None, 0.0)
    written = report.build_report(outcome, manifest, parquet, inputs)
    assert written.key == f"models/btc/{RUN_ID}/report.html"
    assert written.body == "<p>1 → 2 × 3</p>".encode("utf-8")
    assert written.content_type == "text/html; charset=utf-8"
    assert calls == [
        ("data", (outcome, manifest, parquet, inputs)),
        ("plots", "DATA"),
        ("html", "DATA", {"folds": b"png"}),
    ]


def test_confusion_counts_are_integers_even_for_float_labels():
    predictions = pd.DataFrame({"y_true": [1.0, 0.0, 1.0, 1.0], "y_pred": [1.0, 1.0, 0.0, 1.0]})
    matrix = analysis.confusion_matrix(predictions)
    assert matrix.tolist() == [[0, 1], [1, 2]]
    assert matrix.dtype == np.int64  # the confusion plot writes "2", not "2.0"


def test_importances_are_floats_even_for_integer_coefficients():
    kind, values = analysis.feature_importances(SimpleNamespace(coef_=np.array([[1, -3, 2]])), COLUMNS)
    assert list(values.items()) == [("signal", -3.0), ("noise_b", 2.0), ("noise_a", 1.0)]
    assert values.dtype == "float64"


def test_coverage_lists_real_symbols_alphabetically_not_in_the_order_of_their_blocks():
    # "BTC USD" sorts before "BTC#000" (a space before "#"), yet its real symbol "BTC USD" comes after "BTC"
    frame = pd.DataFrame(
        {
            "symbol": ["BTC USD", "BTC USD", "BTC#000", "BTC#000"],
            "timestamp": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 01:00"] * 2),
        }
    )
    coverage = analysis.data_coverage(frame)
    assert [s["symbol"] for s in coverage.symbols] == ["BTC", "BTC USD"]


def test_the_gap_rule_holds_at_any_resolution_even_for_bars_a_nanosecond_apart():
    start = pd.Timestamp("2026-01-01")
    times = [start + pd.Timedelta(nanoseconds=n) for n in (0, 1, 2, 5, 6)]
    coverage = analysis.data_coverage(pd.DataFrame({"symbol": "A", "timestamp": times}))
    assert coverage.period == "D"
    assert coverage.gaps == [{"symbol": "A", "after": times[2], "before": times[3], "missing_bars": 2}]


def test_a_series_whose_usual_step_is_zero_has_no_gaps():
    # repeated timestamps: the median step is 0, and no step can be measured against it
    times = pd.to_datetime(["2026-01-01 00:00"] * 3 + ["2026-01-01 01:00"])
    coverage = analysis.data_coverage(pd.DataFrame({"symbol": "A", "timestamp": times}))
    assert (coverage.period, coverage.gaps) == ("M", [])
    assert (coverage.symbols[0]["step"], coverage.symbols[0]["gaps"], coverage.symbols[0]["missing_bars"]) == (
        pd.Timedelta(0), 0, 0
    )
