"""cripto_pipeline.report.page: the report's HTML rendered from a small hand-made ReportData (no training,
no matplotlib: the plots are a few known bytes), section by section, with the exact text expected."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline.report import analysis, page, usage

PLOTS = {
    "folds": b"folds-png",
    "equity": b"equity-png",
    "confusion": b"confusion-png",
    "importance": b"importance-png",
    "coverage": b"coverage-png",
}

COMPARISON = {
    "model_accuracy_mean": 0.55,
    "best_baseline_accuracy_mean": 0.5,
    "model_balanced_accuracy_mean": 0.525,
    "best_baseline_balanced_accuracy_mean": 0.5,
    "beats_baselines_classification": True,
    "fee_rate": 0.001,
    "strategy_net_return": 1.25,
    "buy_and_hold_net_return": 1.1,
    "beats_buy_and_hold_net_of_fees": True,
    "beats_all_baselines": True,
}


def _metrics(**changes):
    metrics = {
        "run_id": "r-7",
        "dataset": "btc&eth",
        "best_model": "forest",
        "selection_metric": "balanced_accuracy",
        "target": "close up next bar",
        "strategy": "long when <up>",
        "summary": {
            "forest": {
                "accuracy_mean": 0.55,
                "balanced_accuracy_mean": 0.525,
                "roc_auc_mean": 0.6,
                "strategy_return": 0.125,
            },
            "buy_and_hold": {"return": 0.2},
            "always_up": {
                "accuracy_mean": 0.5,
                "balanced_accuracy_mean": 0.45,
                "roc_auc_mean": None,
                "strategy_return": -0.05,
            },
        },
        "folds": [
            {
                "fold": 1,
                "test_start": "2026-01-05T00:00:00",
                "test_end": "2026-01-09T23:00:00",
                "train_rows": 1200,
                "test_rows": 40,
                "test_up_share": 0.55,
                "results": {"forest": {"accuracy": 0.6}, "always_up": {"accuracy": 0.55}},
                "buy_and_hold_return": 0.031,
            },
            {
                "fold": 2,
                "test_start": "2026-01-10T00:00:00",
                "test_end": "2026-01-14T23:00:00",
                "train_rows": 1240,
                "test_rows": 41,
                "test_up_share": 0.4,
                "results": {"forest": {"accuracy": 0.5}, "always_up": {"accuracy": 0.4}},
                "buy_and_hold_return": -0.014,
            },
        ],
        "walk_forward": {"n_folds": 2, "split_on": "timestamp", "gap": 1},
        "comparison": dict(COMPARISON),
    }
    metrics.update(changes)
    return metrics


def _gap(symbol, after_hour, missing):
    after = pd.Timestamp("2026-01-02") + pd.Timedelta(hours=after_hour)
    return {"symbol": symbol, "after": after, "before": after + pd.Timedelta(hours=missing + 1), "missing_bars": missing}


def _coverage(gaps=None):
    symbols = [
        {
            "symbol": "BTC",
            "rows": 12345,
            "first": pd.Timestamp("2026-01-01 00:00"),
            "last": pd.Timestamp("2026-02-01 12:00"),
            "step": pd.Timedelta(hours=1),
            "gaps": 2,
            "missing_bars": 5,
        },
        {
            "symbol": "ETH",
            "rows": 999,
            "first": pd.Timestamp("2026-01-03 00:00"),
            "last": pd.Timestamp("2026-01-20 00:00"),
            "step": pd.Timedelta(hours=1),
            "gaps": 0,
            "missing_bars": 0,
        },
    ]
    if gaps is None:
        gaps = [_gap("BTC", 3, 4), _gap("BTC", 10, 1)]
    return analysis.Coverage(period="D", rows_per_period=pd.DataFrame(), symbols=symbols, gaps=gaps)


def _cost_inputs(**changes):
    values = dict(
        glue_dpu=0.0625,
        glue_seconds=42.26,
        feature_lambda=(2048.0, 1.5),
        trigger_lambda_memory_mb=128.0,
        run_objects={"features/d/r/features.parquet": 1_234_000, "models/d/r/model.joblib": 567},
    )
    values.update(changes)
    return usage.CostInputs(**values)


def _equity(rows=4):
    return pd.DataFrame(
        {
            "model_net": [1.0, 1.5, 1.111, 1.25][:rows],
            "model_gross": [1.0, 1.6, 1.222, 1.375][:rows],
            "buy_and_hold_net": [0.999, 0.75, 1.333, 1.094][:rows],
        },
        index=pd.date_range("2026-01-05", periods=4, freq="D")[:rows],
    )


def _data(metrics=None, manifest=None, equity=None, coverage=None, cost_inputs=None, **changes):
    values = dict(
        metrics=metrics if metrics is not None else _metrics(),
        lineage={"glue_job_run_id": "jr_1", "source": {"key": "raw/a&b.csv", "size": 10}},
        manifest=manifest
        if manifest is not None
        else {"warnings": ["rows <re>ordered", 3], "rows_total": 1000, "rows_sampled": 1000},
        predictions=pd.DataFrame(),
        equity=equity if equity is not None else _equity(),
        confusion=np.array([[5, 2], [3, 7]]),
        importance_kind="impurity importance (mean decrease in <impurity>)",
        importances=pd.Series(dtype="float64"),
        coverage=coverage if coverage is not None else _coverage(),
        cost={"lambda_compute": 0.0000123, "glue_spark": 0.0, "s3_storage_month": 1.5, "total": 2.25},
        cost_inputs=cost_inputs if cost_inputs is not None else _cost_inputs(),
    )
    values.update(changes)
    return analysis.ReportData(**values)


class _Clock(datetime):
    """datetime whose now() is 2026-12-01 09:05:03 UTC, in the zone asked for (local time without one)."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 12, 1, 9, 5, 3, tzinfo=timezone.utc).astimezone(tz)



@pytest.fixture
def render(monkeypatch):
    """render(data) -> the page's lines (the stylesheet cut out), rendered at a fixed time on a host whose
    local time zone is not UTC. render.text holds the last page whole."""
    monkeypatch.setattr(page, "datetime", _Clock)
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()

    def _render(data, plots=PLOTS):
        _render.text = page.render_html(data, plots)
        return re.sub(r"<style>.*?</style>", "<style>…</style>", _render.text, flags=re.S).split("\n")

    yield _render
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def _line(lines, start):
    """The one line of the page that starts with ``start``."""
    (found,) = [line for line in lines if line.startswith(start)]
    return found


def _td(*cells, left=1):
    return "".join(f'<td class="{"l" if i < left else ""}">{cell}</td>' for i, cell in enumerate(cells))


# --- the page as a whole -----------------------------------------------------------------------------


def test_the_page_is_one_part_per_line_in_reading_order(render):
    lines = render(_data())
    assert lines[0] == '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    assert lines[1] == "<title>Run r-7 of btc&amp;eth</title><style>…</style></head><body>"
    assert lines[2] == "<h1>Training run <code>r-7</code> of dataset <code>btc&amp;eth</code></h1>"
    assert lines[-1] == "</body></html>"
    headings = [line for line in lines if line.startswith("<h2>")]
    assert headings == [
        "<h2>Walk-forward evaluation vs baselines</h2>",
        "<h2>Equity of the signal vs buy-and-hold</h2>",
        "<h2>Confusion matrix</h2>",
        "<h2>Feature importance</h2>",
        "<h2>Data coverage</h2>",
        "<h2>Lineage</h2>",
        "<h2>Estimated AWS cost of this run</h2>",
    ]
    assert len(lines) == 32


def test_the_stylesheet_is_inlined_in_the_head(render):
    render(_data())
    text = render.text
    assert "<title>Run r-7 of btc&amp;eth</title><style>body{font-family:system-ui,sans-serif;" in text
    assert "td.l,th.l{text-align:left}" in text and ".best{font-weight:bold}" in text
    assert "h2{border-bottom:1px solid #ddd;margin-top:1.6em}</style></head><body>" in text


def test_plots_are_embedded_as_base64_png_images_with_their_alt_text(render):
    lines = render(_data())
    images = [line for line in lines if line.startswith("<img")]
    assert images == [
        '<img alt="accuracy per fold" src="data:image/png;base64,Zm9sZHMtcG5n">',
        '<img alt="equity curves" src="data:image/png;base64,ZXF1aXR5LXBuZw==">',
        '<img alt="confusion matrix" src="data:image/png;base64,Y29uZnVzaW9uLXBuZw==">',
        '<img alt="feature importance" src="data:image/png;base64,aW1wb3J0YW5jZS1wbmc=">',
        '<img alt="rows per period" src="data:image/png;base64,Y292ZXJhZ2UtcG5n">',
    ]


def test_a_run_without_id_or_dataset_leaves_them_blank(render):
    metrics = _metrics()
    del metrics["run_id"], metrics["dataset"]
    lines = render(_data(metrics=metrics))
    assert lines[1] == "<title>Run  of </title><style>…</style></head><body>"
    assert lines[2] == "<h1>Training run <code></code> of dataset <code></code></h1>"


# --- the introduction --------------------------------------------------------------------------------


def test_the_intro_states_the_utc_generation_time_the_selected_model_and_the_target(render):
    lines = render(_data())
    assert lines[3] == (
        "<p>Generated 2026-12-01 09:05:03 UTC. Selected model: <b>forest</b> (highest mean walk-forward "
        "balanced_accuracy). Target: close up next bar.</p>"
    )


def test_the_headline_follows_the_intro(render):
    lines = render(_data())
    assert lines[4] == (
        '<p class="verdict">Classification: it beats the baselines (accuracy 55.0 % vs 50.0 %, balanced accuracy '
        "52.5 % vs 50.0 %). Net of 0.10 % fees: its signal turns 1 into 1.250, buy-and-hold into 1.100: it beats "
        "buy-and-hold. Overall: it beats every baseline, as a classifier and net of fees.</p>"
    )
    assert lines[5] == "<p>Features built by the feature Lambda (pandas); training ran on all 1,000 rows.</p>"


def test_a_metrics_file_without_comparison_gets_an_all_n_a_headline(render):
    metrics = _metrics()
    del metrics["comparison"]
    lines = render(_data(metrics=metrics))
    assert lines[4] == (
        '<p class="verdict">Classification: n/a (accuracy n/a vs n/a, balanced accuracy n/a vs n/a). '
        "Net of n/a fees: its signal turns 1 into n/a, buy-and-hold into n/a: n/a. "
        "Overall: n/a (metrics.json predates the net-of-fees comparison).</p>"
    )


# --- walk-forward tables -----------------------------------------------------------------------------


def test_the_walk_forward_line_states_folds_split_and_gap(render):
    lines = render(_data())
    assert "<p>2 expanding-window folds split on timestamp, gap 1.</p>" in lines


def test_the_summary_table_lists_the_models_in_order_then_buy_and_hold_with_the_best_marked(render):
    lines = render(_data())
    assert _line(lines, "<table><tr><th class=\"l\">model / baseline") == (
        '<table><tr><th class="l">model / baseline</th><th class="">accuracy</th><th class="">balanced acc.</th>'
        '<th class="">ROC AUC</th><th class="">strategy return (no fees)</th></tr>'
        "<tr>" + _td('<span class="best">forest</span>', "55.0 %", "52.5 %", "60.0 %", "12.5 %") + "</tr>"
        "<tr>" + _td('<span class="">always_up</span>', "50.0 %", "45.0 %", "n/a", "-5.0 %") + "</tr>"
        "<tr>" + _td("buy_and_hold", "", "", "", "20.0 %") + "</tr></table>"
    )


def test_model_names_are_escaped_in_the_summary_table(render):
    summary = {"a<b": {"accuracy_mean": 0.5}}
    folds = [{**_metrics()["folds"][0], "results": {"a<b": {"accuracy": 0.5}}}]
    lines = render(_data(metrics=_metrics(summary=summary, folds=folds, best_model="a<b")))
    row = "<tr>" + _td('<span class="best">a&lt;b</span>', "50.0 %", "n/a", "n/a", "n/a") + "</tr>"
    assert row in _line(lines, '<table><tr><th class="l">model / baseline')
    assert "Selected model: <b>a&lt;b</b>" in lines[3]


def test_a_metrics_file_without_summary_shows_buy_and_hold_alone_as_n_a(render):
    metrics = _metrics()
    del metrics["summary"]
    lines = render(_data(metrics=metrics))
    assert _line(lines, '<table><tr><th class="l">model / baseline').endswith(
        "</tr><tr>" + _td("buy_and_hold", "", "", "", "n/a") + "</tr></table>"
    )
    folds = _line(lines, '<table><tr><th class="l">fold')
    assert '<th class="">up share</th><th class="">buy &amp; hold</th></tr>' in folds  # no model columns


def test_a_summary_without_buy_and_hold_shows_its_return_as_n_a(render):
    summary = dict(_metrics()["summary"])
    del summary["buy_and_hold"]
    lines = render(_data(metrics=_metrics(summary=summary)))
    assert _line(lines, '<table><tr><th class="l">model / baseline').endswith(
        "<tr>" + _td("buy_and_hold", "", "", "", "n/a") + "</tr></table>"
    )


def test_the_fold_table_shows_days_counts_up_share_and_accuracy_per_model(render):
    lines = render(_data())
    assert _line(lines, '<table><tr><th class="l">fold') == (
        '<table><tr><th class="l">fold</th><th class="l">test from</th><th class="l">test to</th>'
        '<th class="">train rows</th><th class="">test rows</th><th class="">up share</th>'
        '<th class="">forest</th><th class="">always_up</th><th class="">buy &amp; hold</th></tr>'
        "<tr>" + _td("1", "2026-01-05", "2026-01-09", "1200", "40", "55.0 %", "60.0 %", "55.0 %", "3.1 %", left=3)
        + "</tr><tr>"
        + _td("2", "2026-01-10", "2026-01-14", "1240", "41", "40.0 %", "50.0 %", "40.0 %", "-1.4 %", left=3)
        + "</tr></table>"
    )


# --- equity, confusion, importance -------------------------------------------------------------------


def test_the_fee_paragraph_states_the_fee_and_the_escaped_strategy(render):
    lines = render(_data())
    assert _line(lines, "<p>Fee assumption") == (
        "<p>Fee assumption: <b>0.10% of the traded value per position change</b> (entry or exit); buy-and-hold "
        "pays it once. No spread or slippage; open positions are marked to market at the end. "
        "Strategy: long when &lt;up&gt;.</p>"
    )


def test_the_equity_table_shows_the_last_value_of_each_curve(render):
    lines = render(_data())
    assert _line(lines, '<table><tr><th class="l">curve') == (
        '<table><tr><th class="l">curve</th><th class="">final growth of 1</th></tr>'
        "<tr>" + _td("forest net of fees", "1.250") + "</tr>"
        "<tr>" + _td("forest without fees", "1.375") + "</tr>"
        "<tr>" + _td("buy and hold, net", "1.094") + "</tr></table>"
    )


def test_an_equity_of_two_rows_ends_at_the_second(render):
    lines = render(_data(equity=_equity(rows=2)))
    table = _line(lines, '<table><tr><th class="l">curve')
    assert _td("forest net of fees", "1.500") in table and _td("buy and hold, net", "0.750") in table


def test_an_empty_equity_leaves_an_empty_line_instead_of_the_table(render):
    lines = render(_data(equity=_equity(rows=0)))
    position = lines.index('<img alt="equity curves" src="data:image/png;base64,ZXF1aXR5LXBuZw==">')
    assert lines[position + 1 : position + 3] == ["", "<h2>Confusion matrix</h2>"]


def test_the_confusion_sentence_counts_predictions_and_hits(render):
    lines = render(_data())  # [[tn, fp], [fn, tp]] = [[5, 2], [3, 7]]
    assert "<p>9 bars predicted up (7 right), 8 predicted down/flat (5 right), over 17 out-of-sample bars.</p>" in lines


def test_the_importance_kind_is_stated_escaped(render):
    lines = render(_data())
    assert (
        "<p>impurity importance (mean decrease in &lt;impurity&gt;), of the model refit on all rows unless "
        "stated otherwise.</p>"
    ) in lines


# --- coverage, warnings, lineage ---------------------------------------------------------------------


def test_the_coverage_table_has_one_row_per_symbol_with_thousands_separators(render):
    lines = render(_data())
    assert _line(lines, '<table><tr><th class="l">symbol</th><th class="">feature rows') == (
        '<table><tr><th class="l">symbol</th><th class="">feature rows</th><th class="">first</th>'
        '<th class="">last</th><th class="">usual step</th><th class="">gaps</th><th class="">missing bars</th></tr>'
        "<tr>" + _td("BTC", "12,345", "2026-01-01 00:00:00", "2026-02-01 12:00:00", "0 days 01:00:00", "2", "5")
        + "</tr><tr>"
        + _td("ETH", "999", "2026-01-03 00:00:00", "2026-01-20 00:00:00", "0 days 01:00:00", "0", "0")
        + "</tr></table>"
    )


def test_the_gap_table_lists_each_gap_in_the_given_order(render):
    lines = render(_data())
    assert _line(lines, '<table><tr><th class="l">symbol</th><th class="">gap after') == (
        '<table><tr><th class="l">symbol</th><th class="">gap after</th><th class="">next bar</th>'
        '<th class="">missing bars</th></tr>'
        "<tr>" + _td("BTC", "2026-01-02 03:00:00", "2026-01-02 08:00:00", "4") + "</tr>"
        "<tr>" + _td("BTC", "2026-01-02 10:00:00", "2026-01-02 12:00:00", "1") + "</tr></table>"
    )
    assert "<p>No gaps.</p>" not in lines


def test_the_gap_table_stops_at_ten_gaps(render):
    gaps = [_gap("<B>", hour * 3, 11 - hour) for hour in range(11)]
    lines = render(_data(coverage=_coverage(gaps=gaps)))
    table = _line(lines, '<table><tr><th class="l">symbol</th><th class="">gap after')
    assert table.count("<tr>") == 11  # the header and ten gaps
    # the tenth gap (3 h x 9 after the first) is the last row; the eleventh (06:00 -> 08:00) is left out
    assert table.endswith("<tr>" + _td("&lt;B&gt;", "2026-01-03 03:00:00", "2026-01-03 06:00:00", "2") + "</tr></table>")
    assert "2026-01-03 08:00:00" not in table


def test_no_gaps_says_so_instead_of_a_table(render):
    lines = render(_data(coverage=_coverage(gaps=[])))
    position = lines.index("<p>No gaps.</p>")
    assert lines[position - 1].startswith('<table><tr><th class="l">symbol</th><th class="">feature rows')


def test_input_warnings_are_joined_and_escaped(render):
    lines = render(_data())
    assert "<p>Input warnings (repaired automatically): rows &lt;re&gt;ordered; 3</p>" in lines


@pytest.mark.parametrize("manifest", [{}, {"warnings": []}, {"warnings": None}])
def test_no_input_warnings_say_none(render, manifest):
    lines = render(_data(manifest=manifest))
    assert "<p>Input warnings (repaired automatically): none</p>" in lines


def test_the_lineage_table_flattens_nested_fields_with_dotted_names(render):
    lineage = {"glue_job_run_id": "jr_1", "source": {"key": "raw/a&b.csv", "size": 10}, "rows_per_symbol": {"TRX": 5}}
    lines = render(_data(lineage=lineage))
    assert _line(lines, '<table><tr><th class="l">field') == (
        '<table><tr><th class="l">field</th><th class="">value</th></tr>'
        "<tr>" + _td("glue_job_run_id", "jr_1") + "</tr>"
        "<tr>" + _td("source.key", "raw/a&amp;b.csv") + "</tr>"
        "<tr>" + _td("source.size", "10") + "</tr>"
        "<tr>" + _td("rows_per_symbol.TRX", "5") + "</tr></table>"
    )


# --- cost ------------------------------------------------------------------------------------------


def test_the_cost_paragraph_states_what_the_estimate_is_made_of(render):
    lines = render(_data())
    assert _line(lines, "<p>us-east-1") == (
        "<p>us-east-1 on-demand prices (<code>cripto_pipeline.costs</code>), free tiers ignored. Glue: 0.0625 DPU × "
        "42.3 s measured in the job (Python shell bills at least 1 minute); feature Lambda 2048 MB × 1.50 s "
        "(upload → features written, an upper bound); trigger Lambda 0.1 s assumed; S3 requests of one run and "
        "1,234,567 bytes stored for a month.</p>"
    )


def test_the_cost_table_names_components_in_words_with_six_decimals(render):
    lines = render(_data())
    assert lines[-2] == (
        '<table><tr><th class="l">component</th><th class="">USD</th></tr>'
        "<tr>" + _td("lambda compute", "0.000012") + "</tr>"
        "<tr>" + _td("glue spark", "0.000000") + "</tr>"
        "<tr>" + _td("s3 storage month", "1.500000") + "</tr>"
        "<tr>" + _td("total", "2.250000") + "</tr></table>"
    )


def test_an_unmeasured_feature_lambda_points_to_cripto_status(render):
    lines = render(_data(cost_inputs=_cost_inputs(feature_lambda=None, glue_dpu=None)))
    paragraph = _line(lines, "<p>us-east-1")
    assert "Glue:  DPU × 42.3 s" in paragraph
    assert "; feature Lambda not measured here (see <code>cripto status</code>); trigger Lambda" in paragraph


def test_a_spark_built_run_bounds_the_feature_lambda_by_inputs_json_and_prices_each_spark_run(render):
    inputs = _cost_inputs(feature_lambda=(3008.4, 2.004), spark_runs=((10.0, 83.26), (2.5, 60.0)))
    paragraph = _line(render(_data(cost_inputs=inputs)), "<p>us-east-1")
    assert "feature Lambda 3008 MB × 2.00 s (upload → inputs.json written, an upper bound)" in paragraph
    assert paragraph.endswith(
        "1,234,567 bytes stored for a month. Spark feature job: 10 DPU × 83.3 s (run start → manifest, recorded by "
        "the job before its run ended; Glue bills at least 1 minute; <code>cripto status</code> shows Glue's final "
        "time). Spark feature job: 2.5 DPU × 60.0 s (run start → manifest, recorded by the job before its run ended; "
        "Glue bills at least 1 minute; <code>cripto status</code> shows Glue's final time).</p>"
    )


def test_an_unpriced_spark_run_says_why_escaped(render):
    inputs = _cost_inputs(spark_unknown="Access<Denied>")
    paragraph = _line(render(_data(cost_inputs=inputs)), "<p>us-east-1")
    assert "(upload → inputs.json written, an upper bound)" in paragraph
    assert paragraph.endswith(
        "bytes stored for a month. Spark feature job: not priced (Access&lt;Denied&gt;); see <code>cripto "
        "status</code>.</p>"
    )


def test_spark_note_is_empty_for_features_built_by_the_lambda():
    assert page.spark_note(_cost_inputs()) == ""


# --- the headline ------------------------------------------------------------------------------------


def _verdict(classification, accuracy, balanced, fees, net, hold, trading, overall):
    return (
        f'<p class="verdict">Classification: {classification} (accuracy {accuracy}, balanced accuracy {balanced}). '
        f"Net of {fees} fees: its signal turns 1 into {net}, buy-and-hold into {hold}: {trading}. {overall}</p>"
    )


def test_a_better_classifier_whose_signal_loses_money_is_not_a_win():
    comparison = {
        **COMPARISON,
        "model_accuracy_mean": 0.543,
        "best_baseline_accuracy_mean": 0.506,
        "model_balanced_accuracy_mean": 0.5304,
        "best_baseline_balanced_accuracy_mean": 0.4996,
        "strategy_net_return": 0.027,
        "buy_and_hold_net_return": 1.04,
        "beats_buy_and_hold_net_of_fees": False,
        "beats_all_baselines": False,
    }
    assert page.headline(comparison) == _verdict(
        "it beats the baselines", "54.3 % vs 50.6 %", "53.0 % vs 50.0 %", "0.10 %", "0.027", "1.040",
        "it <b>loses</b> to buy-and-hold", "Overall: <b>not a win</b>: its signal loses money net of fees.",
    )


def test_a_worse_classifier_with_a_profitable_signal_is_not_a_win_without_the_money_clause():
    comparison = {
        **COMPARISON,
        "beats_baselines_classification": False,
        "fee_rate": 0.02,
        "strategy_net_return": 1.2346,
        "buy_and_hold_net_return": 0.9,
        "beats_all_baselines": False,
    }
    assert page.headline(comparison) == _verdict(
        "it does <b>not</b> beat the baselines", "55.0 % vs 50.0 %", "52.5 % vs 50.0 %", "2.00 %", "1.235", "0.900",
        "it beats buy-and-hold", "Overall: <b>not a win</b>.",
    )


def test_a_signal_that_ends_exactly_at_one_loses_no_money_and_can_win():
    comparison = {**COMPARISON, "strategy_net_return": 1.0, "buy_and_hold_net_return": 0.8}
    assert page.headline(comparison) == _verdict(
        "it beats the baselines", "55.0 % vs 50.0 %", "52.5 % vs 50.0 %", "0.10 %", "1.000", "0.800",
        "it beats buy-and-hold", "Overall: it beats every baseline, as a classifier and net of fees.",
    )


def test_a_signal_just_below_one_loses_money_even_when_it_beats_everything():
    comparison = {**COMPARISON, "strategy_net_return": 0.9999, "buy_and_hold_net_return": 0.5}
    assert page.headline(comparison).endswith(
        "into 1.000, buy-and-hold into 0.500: it beats buy-and-hold. "
        "Overall: <b>not a win</b>: its signal loses money net of fees.</p>"
    )


@pytest.mark.parametrize(
    "missing",
    [{"beats_all_baselines": None}, {"strategy_net_return": None}],
    ids=["no overall flag", "no net return"],
)
def test_without_the_overall_flag_or_the_net_return_the_call_is_n_a(missing):
    text = page.headline({**COMPARISON, **missing})
    assert text.endswith(": it beats buy-and-hold. Overall: n/a (metrics.json predates the net-of-fees comparison).</p>")


def test_an_empty_comparison_is_n_a_throughout():
    assert page.headline({}) == _verdict(
        "n/a", "n/a vs n/a", "n/a vs n/a", "n/a", "n/a", "n/a", "n/a",
        "Overall: n/a (metrics.json predates the net-of-fees comparison).",
    )


# --- the training rows line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest, line",
    [
        ({}, "the feature Lambda (pandas); training ran on every row of the features file"),
        ({"engine": "pandas", "rows_total": 1234, "rows_sampled": 1234}, "the feature Lambda (pandas); training ran on all 1,234 rows"),
        ({"rows": {"features": 2000}}, "the feature Lambda (pandas); training ran on all 2,000 rows"),
        (
            {"engine": "spark", "rows_total": 1000, "rows_sampled": 250, "sample": {"method": "blocks<4>"}},
            "the Glue Spark feature job; training ran on 250 of 1,000 rows (blocks&lt;4&gt; sample)",
        ),
        ({"engine": "spark", "rows_total": 5000, "rows_sampled": 250, "sample": {"seed": 1}},
         "the Glue Spark feature job; training ran on 250 of 5,000 rows (all rows sample)"),
        ({"rows_total": 1000, "rows_sampled": None}, "the feature Lambda (pandas); training ran on every row of the features file"),
        ({"rows_sampled": 5}, "the feature Lambda (pandas); training ran on every row of the features file"),
    ],
    ids=["empty", "all", "old manifest", "spark sample", "sample without method", "sampled unknown", "total unknown"],
)
def test_the_training_rows_line_names_the_engine_and_the_rows_used(manifest, line):
    assert page.training_rows_line(manifest) == f"<p>Features built by {line}.</p>"
