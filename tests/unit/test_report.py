"""cripto_pipeline.report: the numbers behind the run report on small hand-made inputs, the page it
renders (embedded PNGs decoded and checked as real images), and the Glue job's rule that a report
failure never fails a run."""

from __future__ import annotations

import base64
import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cripto_pipeline import costs, layout, pipeline, report, strategy
from cripto_pipeline.events import S3ObjectRef
from cripto_pipeline.features import synthetic_ohlcv
from cripto_pipeline.report import analysis, plots, usage
from cripto_pipeline.report import page as html_page  # a fixture below is called `page`

from .conftest import load_module
from .test_strategy import signal_frame

BUCKET = "bucket"
PNG_RE = re.compile(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


# --- numbers --------------------------------------------------------------------------------------


def test_confusion_matrix_counts_actual_rows_against_predicted_columns():
    frame = signal_frame(
        [(0, "A", 1, 1, 0), (1, "A", 1, 0, 0), (2, "A", 0, 1, 0), (3, "A", 0, 1, 0), (4, "A", 0, 0, 0)]
    )
    assert analysis.confusion_matrix(frame).tolist() == [[1, 2], [1, 1]]


def _separable(rows: int = 3000):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 1] > 0).astype(int)  # only the second feature matters
    return x, y, ["noise_a", "signal", "noise_b"]


def test_importances_name_the_informative_feature_for_every_model_kind():
    from cripto_pipeline.training import TARGET_COLUMN, model_candidates

    x, y, columns = _separable()
    test = pd.DataFrame(x, columns=columns).assign(**{TARGET_COLUMN: y})
    kinds = {}
    for name, model in model_candidates().items():
        model.fit(x, y)
        kind, importances = analysis.feature_importances(model, columns, test)
        kinds[name] = kind
        assert importances.index[0] == "signal", (name, importances.to_dict())
        assert set(importances.index) == set(columns)
    assert kinds["random_forest"].startswith("impurity")
    assert kinds["logistic_regression"].startswith("coefficient")
    assert kinds["hist_gradient_boosting"].startswith("permutation")


def test_coverage_finds_gaps_and_counts_rows_per_month_for_daily_data():
    days = pd.date_range("2026-01-01", periods=40, freq="D", tz="UTC").delete([10, 11, 12])  # 3 missing days
    frame = pd.DataFrame({"timestamp": days, "symbol": "BTC"})
    coverage = analysis.data_coverage(frame)
    assert coverage.period == "M"
    assert coverage.rows_per_period["BTC"].tolist() == [28, 9]
    assert coverage.symbols[0]["gaps"] == 1 and coverage.symbols[0]["missing_bars"] == 3
    gap = coverage.gaps[0]
    assert (gap["after"].day, gap["before"].day, gap["missing_bars"]) == (10, 14, 3)


def test_coverage_of_hourly_data_counts_rows_per_day_per_symbol():
    hours = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
    frame = pd.DataFrame({"timestamp": hours.append(hours[:24]), "symbol": ["A"] * 48 + ["B"] * 24})
    coverage = analysis.data_coverage(frame)
    assert coverage.period == "D"
    assert coverage.rows_per_period.to_dict("list") == {"A": [24, 24], "B": [24, 0]}
    assert coverage.gaps == []


def test_cost_inputs_bound_the_feature_lambda_by_upload_to_features_written():
    resources = usage.JobResources(
        glue_dpu=0.0625, feature_lambda_memory_mb=2048, trigger_lambda_memory_mb=128
    )
    manifest = {"raw": {"event_time": "2026-11-27T04:00:00.000Z"}}
    # LastModified counts in whole seconds (GetObject gives no more): 2.5 s after the upload bills 2 s.
    inputs = resources.cost_inputs(
        30.0, manifest, pd.Timestamp("2026-11-27T04:00:02.5Z").to_pydatetime(), {"features/d/r/x": 1000}
    )
    assert inputs.feature_lambda == (2048, pytest.approx(2.0))
    run_usage = inputs.usage()
    assert run_usage.lambda_invocations == [(2048, pytest.approx(2.0)), (128, usage.TRIGGER_SECONDS_ESTIMATE)]
    assert (run_usage.glue_dpu, run_usage.glue_seconds, run_usage.stored_bytes) == (0.0625, 30.0, 1000)
    unknown = usage.JobResources().cost_inputs(30.0, manifest, None, {})
    assert unknown.feature_lambda is None and unknown.usage().glue_dpu == 0.0


# --- the page ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    ref = S3ObjectRef(bucket=BUCKET, key="raw/syn.csv", event_time="2026-11-27T04:00:00Z", etag="e")
    csv = synthetic_ohlcv(600, symbols=2, seed=3, freq="D").to_csv(index=False).encode()
    built = pipeline.build_features(ref, csv, max_raw_bytes=10**7)
    manifest = json.loads(built.writes[0].body)
    manifest["warnings"] = ["<script>alert(1)</script> rows were reordered"]  # must come out escaped
    parquet = built.writes[1].body
    outcome = pipeline.train_from_features(
        built.summary["features_key"], manifest, parquet, job_run_id="jr_1"
    )
    return outcome, manifest, parquet


@pytest.fixture  # per test: mutmut links a function to the tests that call it, and a shared page links only the first
def page(trained):
    outcome, manifest, parquet = trained
    inputs = report.CostInputs(
        glue_dpu=0.0625,
        glue_seconds=42.0,
        feature_lambda=(2048, 1.5),
        trigger_lambda_memory_mb=128,
        run_objects={"models/d/r/model.joblib": 10_000},
    )
    return report.build_report(outcome, manifest, parquet, inputs)


def test_report_is_written_next_to_the_model_as_html(page, trained):
    keys = layout.run_keys(trained[0].summary["dataset"], trained[0].summary["run_id"])
    assert page.key == keys.report == keys.models_prefix + "report.html"
    assert page.content_type.startswith("text/html")


def test_report_embeds_five_real_plots(page):
    images = PNG_RE.findall(page.body.decode())
    assert [alt for alt, _ in images] == [
        "accuracy per fold",
        "equity curves",
        "confusion matrix",
        "feature importance",
        "rows per period",
    ]
    for alt, encoded in images:
        image = Image.open(io.BytesIO(base64.b64decode(encoded)))
        assert image.format == "PNG" and image.size == (800, 380), alt
        pixels = np.asarray(image.convert("L"))
        ink = (pixels < 200).mean()  # share of non-background pixels: axes, bars, lines, text
        assert 0.01 < ink < 0.6, f"{alt}: {ink:.3f} of the pixels are drawn"
        assert len(np.unique(pixels)) > 20, f"{alt} looks blank or flat"


def test_report_states_fees_costs_lineage_and_verdict_from_the_numbers(page, trained):
    text = page.body.decode()
    metrics = json.loads(next(o.body for o in trained[0].writes if o.key.endswith("metrics.json")))
    assert f"{strategy.FEE_RATE:.2%} of the traded value per position change" in text
    assert html_page.headline(metrics["comparison"]) in text
    for name in metrics["summary"]:
        assert name in text
    assert "glue_job_run_id" in text and "jr_1" in text and "features_sha256" in text
    assert "0.0625 DPU × 42.0 s" in text and "2048 MB × 1.50 s" in text
    run_objects = {"models/d/r/model.joblib": 10_000}
    total = costs.run_cost(report.CostInputs(0.0625, 42.0, (2048, 1.5), 128, run_objects).usage())["total"]
    assert f'<td class="l">total</td><td class="">{total:.6f}</td>' in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_report_draws_the_walk_forward_signal_and_matches_the_stored_returns(trained):
    outcome, manifest, parquet = trained
    data = analysis.build_report_data(outcome, manifest, parquet, report.CostInputs(None, 0.0))
    metrics = json.loads(next(o.body for o in outcome.writes if o.key.endswith("metrics.json")))
    comparison = metrics["comparison"]
    best = metrics["best_model"]
    # The walk-forward's own predictions: the report's per-fold accuracy is the stored one.
    per_fold = [float((part["y_true"] == part["y_pred"]).mean()) for _, part in data.predictions.groupby("fold")]
    assert per_fold == pytest.approx([fold["results"][best]["accuracy"] for fold in metrics["folds"]])
    # metrics.json compounds the equal-weight long/flat log returns without fees: the gross curve's end.
    assert data.equity["model_gross"].iloc[-1] - 1 == pytest.approx(comparison["model_strategy_return"])
    # ... and its net-of-fees comparison is the net curves' end (one computation for both).
    assert data.equity["model_net"].iloc[-1] == pytest.approx(comparison["strategy_net_return"])
    assert data.equity["buy_and_hold_net"].iloc[-1] == pytest.approx(comparison["buy_and_hold_net_return"])
    assert data.equity["buy_and_hold_net"].iloc[-1] < math.exp(math.log1p(comparison["buy_and_hold_return"]))
    assert int(data.confusion.sum()) == len(data.predictions) == sum(f["test_rows"] for f in metrics["folds"])


def test_the_report_fits_nothing_again(trained, monkeypatch):
    from sklearn.base import BaseEstimator

    def no_fit(*_args, **_kwargs):
        raise AssertionError("the report refitted a model")

    outcome, manifest, parquet = trained
    for model in [outcome.training.model, *outcome.training.out_of_sample.last_models.values()]:
        monkeypatch.setattr(type(model), "fit", no_fit)
    assert isinstance(outcome.training.model, BaseEstimator)
    data = analysis.build_report_data(outcome, manifest, parquet, report.CostInputs(None, 0.0))
    assert len(data.importances) == len(outcome.training.feature_columns)


# --- the headline ------------------------------------------------------------------------------------

HOURLY_LIKE = {
    # The numbers of the issue: a better classifier whose signal loses nearly everything to fees.
    "model_accuracy_mean": 0.543,
    "best_baseline_accuracy_mean": 0.506,
    "model_balanced_accuracy_mean": 0.53,
    "best_baseline_balanced_accuracy_mean": 0.5,
    "beats_baselines_classification": True,
    "fee_rate": 0.001,
    "strategy_net_return": 0.027,
    "buy_and_hold_net_return": 1.04,
    "beats_buy_and_hold_net_of_fees": False,
    "beats_all_baselines": False,
}


def test_headline_states_both_comparisons_and_never_calls_a_money_loser_a_win():
    text = html_page.headline(HOURLY_LIKE)
    assert "Classification: it beats the baselines (accuracy 54.3 % vs 50.6 %, balanced accuracy 53.0 % vs 50.0 %)" in text
    assert "Net of 0.10 % fees: its signal turns 1 into 0.027, buy-and-hold into 1.040: it <b>loses</b> to buy-and-hold" in text
    assert "<b>not a win</b>: its signal loses money net of fees." in text
    assert "beats every baseline" not in text
    # Beating a buy-and-hold that fell further is still losing money: not a win either.
    falling = {**HOURLY_LIKE, "buy_and_hold_net_return": 0.5, "beats_buy_and_hold_net_of_fees": True,
               "beats_all_baselines": True}
    assert "<b>not a win</b>: its signal loses money" in html_page.headline(falling)
    winning = {**falling, "strategy_net_return": 1.2}
    assert "Overall: it beats every baseline, as a classifier and net of fees." in html_page.headline(winning)


def test_headline_of_an_older_metrics_file_shows_n_a():
    older = {k: HOURLY_LIKE[k] for k in ("model_accuracy_mean", "best_baseline_accuracy_mean")}
    text = html_page.headline({**older, "beats_all_baselines": True})
    assert "Classification: n/a (accuracy 54.3 % vs 50.6 %, balanced accuracy n/a vs n/a)" in text
    assert "turns 1 into n/a, buy-and-hold into n/a" in text and "Net of n/a fees" in text
    assert "Overall: n/a" in text and "beats every baseline" not in text


# --- legibility ----------------------------------------------------------------------------------------


def _wcag_luminance(rgb):
    """WCAG 2 relative luminance, written out here independently of the module under test."""
    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize(
    "matrix",
    [
        [[300, 520], [280, 560]],  # 300 > 560 / 2 but the lightest cell but one: white on white before
        [[0, 1], [2, 3]],
        [[5000, 10], [10, 5000]],
        [[7, 7], [7, 7]],
    ],
)
def test_every_confusion_cell_has_readable_text(matrix):
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    data = type("Data", (), {"confusion": np.array(matrix), "metrics": {"best_model": "m"}})()
    figure = Figure()
    plots.plot_confusion(figure, data)
    axes = figure.axes[0]
    image = axes.images[0]
    texts = axes.texts
    assert len(texts) == 4
    for text in texts:
        column, row = (int(round(v)) for v in text.get_position())
        background = image.cmap(image.norm(matrix[row][column]))
        assert text.get_text().startswith(str(matrix[row][column]))
        lighter, darker = sorted(
            (_wcag_luminance(to_rgba(text.get_color())), _wcag_luminance(background)), reverse=True
        )
        ratio = (lighter + 0.05) / (darker + 0.05)
        assert ratio >= 4.5, f"cell {row},{column}: contrast {ratio:.2f} (WCAG AA asks 4.5)"


# --- the Glue job -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def job():
    return load_module("glue/model_training.py", "model_training_report_under_test")


def test_a_report_failure_is_recorded_and_the_model_still_published(
    job, fake_s3, trained, monkeypatch, capsys
):
    outcome, manifest, parquet = trained
    features_key = (
        outcome.summary["model_key"]
        .replace("models/", "features/")
        .replace("model.joblib", "features.parquet")
    )
    keys = layout.parse_features_key(features_key)
    fake_s3.add(BUCKET, keys.manifest, pipeline.to_json_bytes(manifest))
    fake_s3.add(BUCKET, keys.features, parquet)

    def broken(*_args, **_kwargs):
        raise RuntimeError("no matplotlib here")

    monkeypatch.setattr(plots, "render_plots", broken)
    summary = job.run(fake_s3, BUCKET, keys.features, job_run_id="jr_2")
    assert summary["report"] == {"written": False, "error": "RuntimeError: no matplotlib here"}
    assert summary["latest_updated"] is True
    assert fake_s3.json(BUCKET, keys.latest)["run_id"] == keys.run_id
    assert (BUCKET, keys.report) not in fake_s3.objects
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (failed,) = [line for line in logged if line["message"] == "report failed"]
    assert failed["level"] == "ERROR" and "no matplotlib here" in failed["exception"]  # traceback inside the line


def test_a_spark_built_runs_report_has_the_spark_feature_job_on_its_own_line(trained):
    outcome, manifest, parquet = trained
    inputs = report.CostInputs(glue_dpu=0.0625, glue_seconds=42.0, feature_lambda=(3008, 2.0),
                               trigger_lambda_memory_mb=128, spark_runs=((10.0, 83.25),))
    text = report.build_report(outcome, manifest, parquet, inputs).body.decode()
    # 10 DPU x 83.25 s at $0.44 per DPU-hour = $0.101750
    assert '<td class="l">glue spark</td><td class="">0.101750</td>' in text
    assert "Spark feature job: 10 DPU × 83.2 s (run start → manifest" in text
    assert "feature Lambda 3008 MB × 2.00 s (upload → inputs.json written" in text
    unknown = report.CostInputs(glue_dpu=0.0625, glue_seconds=42.0, spark_unknown="AccessDeniedException")
    text = report.build_report(outcome, manifest, parquet, unknown).body.decode()
    assert "Spark feature job: not priced (AccessDeniedException)" in text
