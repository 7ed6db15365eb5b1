"""cripto_pipeline.report.plots: what each plot draws (bars, lines, labels, scales, titles), read back from
matplotlib's Figure objects for small hand-made report data, and the colour rule of the confusion cells."""

from __future__ import annotations

import io
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image

from cripto_pipeline import strategy
from cripto_pipeline.report import analysis, plots


def _fold(number, start, accuracies):
    return {"fold": number, "test_start": start, "results": {n: {"accuracy": a} for n, a in accuracies.items()}}


def _folds_data(folds, **metrics):
    return SimpleNamespace(metrics={"folds": folds, "best_model": "logit", **metrics})


def _axes(draw, data):
    figure = Figure()
    draw(figure, data)
    (axes,) = figure.axes
    return axes


# --- folds ----------------------------------------------------------------------------------------


THREE_MODELS = [
    _fold(1, "2026-01-05T00:00:00", {"forest": 0.6, "always_up": 0.45, "logit": 0.55}),
    _fold(2, "2026-01-10T00:00:00", {"logit": 0.58, "forest": 0.5, "always_up": 0.5}),  # keys in another order
]


def test_the_folds_plot_groups_one_bar_per_model_side_by_side_in_each_fold():
    axes = _axes(plots.plot_folds, _folds_data(THREE_MODELS, baselines=["always_up"]))
    width = 0.8 / 3
    bars = axes.patches
    assert len(bars) == 6  # per model (in the order of the first fold's results), one bar per fold
    assert [round(b.get_height(), 6) for b in bars] == [0.6, 0.5, 0.45, 0.5, 0.55, 0.58]
    assert [round(b.get_x() + b.get_width() / 2, 6) for b in bars] == [
        0.0, 1.0, round(width, 6), round(1 + width, 6), round(2 * width, 6), round(1 + 2 * width, 6)
    ]
    assert {round(b.get_width(), 6) for b in bars} == {round(width, 6)}
    assert [b.get_hatch() for b in bars] == [None, None, "//", "//", None, None]  # the baseline hatched
    black = [b.get_edgecolor() == (0.0, 0.0, 0.0, 1.0) for b in bars]
    assert black == [False, False, False, False, True, True]  # the selected model outlined


def test_the_folds_plot_labels_each_fold_with_its_number_and_first_test_day_under_the_group_centre():
    axes = _axes(plots.plot_folds, _folds_data(THREE_MODELS))
    assert [round(x, 6) for x in axes.get_xticks()] == [round(0.8 / 3, 6), round(1 + 0.8 / 3, 6)]
    labels = axes.get_xticklabels()
    assert [t.get_text() for t in labels] == ["fold 1\n2026-01-05", "fold 2\n2026-01-10"]
    assert {t.get_fontsize() for t in labels} == {8.0}


def test_the_folds_plot_marks_chance_names_its_axis_and_keeps_a_fixed_scale_for_usual_accuracies():
    axes = _axes(plots.plot_folds, _folds_data(THREE_MODELS))
    (chance,) = axes.lines
    assert list(chance.get_ydata()) == [0.5, 0.5]
    assert (chance.get_color(), chance.get_linewidth(), chance.get_linestyle()) == ("grey", 0.8, "--")
    assert axes.get_ylabel() == "accuracy"
    assert axes.get_ylim() == (0.3, 0.75)
    assert axes.get_title() == "Walk-forward accuracy per test fold (hatched: baselines)"
    legend = axes.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["forest", "always_up", "logit"]
    assert (legend._ncols, legend._loc, legend.get_texts()[0].get_fontsize()) == (3, 2, 7.0)  # 2: upper left


def test_the_folds_plot_widens_its_scale_for_extreme_accuracies_and_one_model_fills_the_slot():
    folds = [_fold(1, "2026-01-05", {"logit": 0.2}), _fold(2, "2026-01-10", {"logit": 0.9})]
    axes = _axes(plots.plot_folds, _folds_data(folds))  # no "baselines" in metrics: nothing hatched
    assert axes.get_ylim() == pytest.approx((0.15, 0.95))
    assert [round(b.get_width(), 6) for b in axes.patches] == [0.8, 0.8]
    assert [b.get_hatch() for b in axes.patches] == [None, None]
    assert [round(x, 6) for x in axes.get_xticks()] == [0.0, 1.0]


# --- equity ---------------------------------------------------------------------------------------


def _equity(index):
    n = len(index)
    return pd.DataFrame(
        {
            "model_net": np.linspace(1.0, 2.0, n),
            "model_gross": np.linspace(1.0, 3.0, n),
            "buy_and_hold_net": np.linspace(1.0, 0.5, n),
        },
        index=index,
    )


def _equity_data(index):
    return SimpleNamespace(equity=_equity(index), metrics={"best_model": "forest"})


def test_the_equity_plot_draws_three_curves_in_naive_utc_time():
    index = pd.date_range("2026-01-05 09:00", periods=5, freq="D", tz="Asia/Tokyo")
    axes = _axes(plots.plot_equity, _equity_data(index))
    net, gross, hold, one = axes.lines
    expected_times = pd.date_range("2026-01-05 00:00", periods=5, freq="D")  # 09:00 in Tokyo is 00:00 UTC
    for line, column in [(net, "model_net"), (gross, "model_gross"), (hold, "buy_and_hold_net")]:
        assert list(pd.DatetimeIndex(line.get_xdata())) == list(expected_times)
        assert list(line.get_ydata()) == pytest.approx(list(_equity(index)[column]))
    assert [line.get_label() for line in (net, gross, hold)] == [
        "forest signal, net of 0.10% fees",
        "forest signal, no fees",
        "buy and hold (one entry fee)",
    ]
    assert (gross.get_linestyle(), gross.get_alpha()) == (":", 0.8)
    assert hold.get_color() == "grey"
    assert list(one.get_ydata()) == [1.0, 1.0]
    assert (one.get_color(), one.get_linewidth()) == ("black", 0.6)


def test_the_equity_plot_keeps_naive_times_as_they_are():
    index = pd.date_range("2026-01-05 09:00", periods=3, freq="h")
    net = _axes(plots.plot_equity, _equity_data(index)).lines[0]
    assert list(pd.DatetimeIndex(net.get_xdata())) == list(index)


def test_an_equity_of_no_bars_is_drawn_empty():
    # what strategy.equity_curves gives for a signal without rows: no times, not even a DatetimeIndex
    empty = strategy.equity_curves(pd.DataFrame(columns=["timestamp", "symbol", "y_pred", "next_log_return"]))
    axes = _axes(plots.plot_equity, SimpleNamespace(equity=empty, metrics={"best_model": "forest"}))
    assert [len(line.get_xdata()) for line in axes.lines[:3]] == [0, 0, 0]


def test_a_long_equity_curve_is_thinned_to_every_nth_point_plus_the_last():
    index = pd.date_range("2026-01-01", periods=2500, freq="h", tz="UTC")
    net = _axes(plots.plot_equity, _equity_data(index)).lines[0]
    times = pd.DatetimeIndex(net.get_xdata())
    # 2500 points // 1000 = every 2nd: 0, 2, ..., 2498 (1250 points), then the last (2499)
    assert len(times) == 1251
    assert times[1] - times[0] == pd.Timedelta(hours=2)
    assert times[-2] == pd.Timestamp("2026-01-01") + pd.Timedelta(hours=2498)
    assert times[-1] == pd.Timestamp("2026-01-01") + pd.Timedelta(hours=2499)


def test_a_curve_of_up_to_1999_points_is_drawn_whole():
    index = pd.date_range("2026-01-01", periods=1999, freq="h")
    net = _axes(plots.plot_equity, _equity_data(index)).lines[0]
    assert len(net.get_xdata()) == 1999


def test_the_equity_plot_has_a_log_scale_with_plain_tick_labels_and_says_what_it_shows():
    axes = _axes(plots.plot_equity, _equity_data(pd.date_range("2026-01-05", periods=3, freq="D")))
    assert axes.get_yscale() == "log"
    major, minor = axes.yaxis.get_major_formatter(), axes.yaxis.get_minor_formatter()
    assert [major(v, 0) for v in (0.05, 0.5, 1.0, 3.0, 20.0, 900.0)] == ["0.05", "0.5", "1", "3", "20", "900"]
    assert [minor(v, 0) for v in (0.2, 0.3, 0.05, 2.0, 4.0, 50.0, 70.0)] == ["0.2", "", "0.05", "2", "", "50", ""]
    assert axes.get_xlabel() == "UTC"
    assert axes.get_ylabel() == "growth of 1 (log scale)"
    assert axes.get_title() == "Out-of-sample equity over the test folds (long/flat, equal weight across symbols)"
    assert axes.get_legend().get_texts()[0].get_fontsize() == 8.0


# --- confusion --------------------------------------------------------------------------------------


def test_the_confusion_plot_writes_count_and_share_in_each_cell_on_a_blue_scale():
    data = SimpleNamespace(confusion=np.array([[5, 2], [3, 10]]), metrics={"best_model": "forest"})
    axes = _axes(plots.plot_confusion, data)
    (image,) = axes.images
    assert image.get_cmap().name == "Blues"
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in axes.texts}
    assert {cell: t.get_text() for cell, t in texts.items()} == {
        (0, 0): "5\n25.0%",
        (0, 1): "2\n10.0%",
        (1, 0): "3\n15.0%",
        (1, 1): "10\n50.0%",
    }
    assert {(t.get_horizontalalignment(), t.get_verticalalignment()) for t in axes.texts} == {("center", "center")}
    assert texts[(1, 1)].get_color() == "white" and texts[(0, 1)].get_color() == "black"
    assert list(axes.get_xticks()) == [0, 1] and list(axes.get_yticks()) == [0, 1]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["predicted down/flat", "predicted up"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["actual down/flat", "actual up"]
    assert axes.get_title() == "Confusion matrix of forest, all test folds"


def test_a_confusion_matrix_of_one_bar_shows_its_full_share_and_an_empty_one_shows_zeros():
    one = _axes(plots.plot_confusion, SimpleNamespace(confusion=np.array([[0, 0], [0, 1]]), metrics={"best_model": "m"}))
    assert sorted(t.get_text() for t in one.texts) == ["0\n0.0%", "0\n0.0%", "0\n0.0%", "1\n100.0%"]
    empty = _axes(plots.plot_confusion, SimpleNamespace(confusion=np.zeros((2, 2), dtype=int), metrics={"best_model": "m"}))
    assert [t.get_text() for t in empty.texts] == ["0\n0.0%"] * 4


# --- importance -------------------------------------------------------------------------------------


def test_the_importance_plot_draws_the_top_15_bars_largest_at_the_top_negatives_in_red():
    values = [0.5, -0.4] + [0.3 - 0.02 * i for i in range(12)] + [0.0] * 3  # 17, sorted by magnitude
    importances = pd.Series(values, index=[f"f{i}" for i in range(17)])
    data = SimpleNamespace(importances=importances, importance_kind="coefficient <x>")
    axes = _axes(plots.plot_importance, data)
    bars = axes.patches
    assert len(bars) == 15
    assert [round(b.get_width(), 6) for b in bars] == [round(v, 6) for v in values[:15][::-1]]
    assert [t.get_text() for t in axes.get_yticklabels()] == [f"f{i}" for i in range(14, -1, -1)]
    red, blue = to_rgba("tab:red"), to_rgba("tab:blue")
    assert [b.get_facecolor() for b in bars] == [blue] * 13 + [red, blue]  # a zero is blue
    assert axes.get_yticklabels()[0].get_fontsize() == 7.0
    default = Figure().subplots().get_xticklabels()[0].get_fontsize()
    assert axes.get_xticklabels()[0].get_fontsize() == default != 7.0  # only the feature names are small
    assert axes.get_title() == "Feature importance: coefficient <x>"
    assert axes.title.get_fontsize() == 9.0


def test_without_importances_the_plot_only_states_why():
    data = SimpleNamespace(importances=pd.Series(dtype="float64"), importance_kind="not available for this model")
    axes = _axes(plots.plot_importance, data)
    (text,) = axes.texts
    assert (text.get_text(), text.get_position()) == ("not available for this model", (0.5, 0.5))
    assert (text.get_horizontalalignment(), text.get_verticalalignment()) == ("center", "center")
    assert not axes.axison and len(axes.patches) == 0 and axes.get_title() == ""


# --- coverage ---------------------------------------------------------------------------------------


def _coverage_data(period, gaps=(2, 1)):
    counts = pd.DataFrame(
        {"BTC": [24, 20, 24], 7: [0, 24, 24]}, index=pd.date_range("2026-01-01", periods=3, freq="D")
    )
    symbols = [{"symbol": s, "gaps": g} for s, g in zip(["BTC", 7], gaps)]
    return SimpleNamespace(coverage=analysis.Coverage(period=period, rows_per_period=counts, symbols=symbols, gaps=[]))


def test_the_coverage_plot_steps_through_rows_per_day_per_symbol_and_counts_the_gaps():
    axes = _axes(plots.plot_coverage, _coverage_data("D"))
    btc, seven = axes.lines
    assert [line.get_label() for line in (btc, seven)] == ["BTC", "7"]
    assert list(btc.get_ydata()) == [24, 20, 24] and list(seven.get_ydata()) == [0, 24, 24]
    assert btc.get_drawstyle() == "steps-post"
    assert axes.get_ylabel() == "feature rows per day"
    assert axes.get_ylim()[0] == 0
    assert axes.get_title() == "Data coverage (3 gap(s) between bars)"
    assert axes.get_legend().get_texts()[0].get_fontsize() == 8.0


def test_the_coverage_plot_of_daily_data_counts_per_month():
    axes = _axes(plots.plot_coverage, _coverage_data("M", gaps=(0, 0)))
    assert axes.get_ylabel() == "feature rows per month"
    assert axes.get_title() == "Data coverage (0 gap(s) between bars)"


# --- render_plots -----------------------------------------------------------------------------------


def test_render_plots_draws_five_pngs_of_800_by_380_with_margins_per_plot(monkeypatch):
    seen = {}

    def recorder(name):
        def draw(figure, data):
            params = figure.subplotpars
            seen[name] = (
                (params.left, params.right, params.bottom, params.top),
                tuple(figure.get_size_inches()),
                figure.dpi,
                data,
            )

        return draw

    for name in ("folds", "equity", "confusion", "importance", "coverage"):
        monkeypatch.setattr(plots, f"plot_{name}", recorder(name))
    data = object()
    # the host's matplotlib settings change neither the size nor the format
    with matplotlib.rc_context({"figure.dpi": 72, "savefig.format": "svg"}):
        pngs = plots.render_plots(data)
    assert list(pngs) == ["folds", "equity", "confusion", "importance", "coverage"]
    for name, png in pngs.items():
        image = Image.open(io.BytesIO(png))
        assert (image.format, image.size) == ("PNG", (800, 380)), name
    assert {name: margins for name, (margins, _, _, _) in seen.items()} == {
        "folds": (0.08, 0.98, 0.16, 0.91),
        "equity": (0.08, 0.98, 0.12, 0.91),
        "confusion": (0.08, 0.98, 0.12, 0.91),
        "importance": (0.2, 0.98, 0.12, 0.91),
        "coverage": (0.08, 0.98, 0.12, 0.91),
    }
    assert {(size, dpi) for _, size, dpi, _ in seen.values()} == {((8.0, 3.8), 100)}
    assert all(passed is data for *_, passed in seen.values())


# --- text colour ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rgb, luminance",
    [
        ((0.0, 0.0, 0.0), 0.0),
        ((1.0, 1.0, 1.0, 0.3), 1.0),  # alpha ignored
        ((1.0, 0.0, 0.0), 0.2126),
        ((0.0, 1.0, 0.0), 0.7152),
        ((0.0, 0.0, 1.0), 0.0722),
        ((0.5, 0.5, 0.5), 0.21404114),  # ((0.5 + 0.055) / 1.055) ** 2.4
        ((0.02, 0.02, 0.02), 0.0015479876161),  # 0.02 / 12.92: the linear segment of sRGB
        ((0.04045, 0.04045, 0.04045), 0.0031308049536),  # 0.04045 / 12.92: the threshold is still linear
    ],
)
def test_relative_luminance_follows_wcag_2(rgb, luminance):
    assert plots._relative_luminance(rgb) == pytest.approx(luminance, abs=1e-12 if luminance < 0.01 else 1e-8)


@pytest.mark.parametrize(
    "grey, colour",
    [(0.0, "white"), (0.44, "white"), (0.47, "black"), (1.0, "black")],
)
def test_text_is_black_on_backgrounds_lighter_than_luminance_0_179_else_white(grey, colour):
    # Equal contrast against black and white where (L + 0.05) / 0.05 = 1.05 / (L + 0.05): L = 0.1791;
    # grey 0.44 has L = 0.162, grey 0.47 has L = 0.187.
    assert plots.text_colour_on((grey, grey, grey, 1.0)) == colour


def test_at_exactly_equal_contrast_the_text_is_black():
    # found by search: a colour whose contrast ratios against black and against white are equal floats
    background = (0.13436424411240122, 0.45684798325930764, 0.8474337369372327)
    luminance = plots._relative_luminance(background)
    if (luminance + 0.05) / 0.05 != 1.05 / (luminance + 0.05):
        pytest.skip("this platform's pow() rounds differently: the two ratios are not equal here")
    assert plots.text_colour_on(background) == "black"
