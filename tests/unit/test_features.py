from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline.features import (
    FEATURE_COLUMNS,
    ID_COLUMNS,
    WARMUP_ROWS,
    benchmark,
    compute_features,
    synthetic_ohlcv,
)
from cripto_pipeline.validation import load_ohlcv


def test_shape_columns_and_warmup():
    frame = synthetic_ohlcv(500)
    features = compute_features(frame)
    assert list(features.columns) == list(ID_COLUMNS) + list(FEATURE_COLUMNS)
    assert len(features) == 500 - WARMUP_ROWS
    assert features["timestamp"].iloc[0] == frame["timestamp"].iloc[WARMUP_ROWS]
    values = features[list(FEATURE_COLUMNS)].to_numpy()
    assert np.isfinite(values).all()
    assert (features[list(FEATURE_COLUMNS)].dtypes == "float64").all()


def test_known_values():
    frame = synthetic_ohlcv(300)
    features = compute_features(frame).set_index("timestamp")
    close = frame.set_index("timestamp")["close"]
    t = features.index[100]
    position = close.index.get_loc(t)
    assert features.loc[t, "ret_1"] == pytest.approx(np.log(close.iloc[position] / close.iloc[position - 1]))
    assert features.loc[t, "ret_5"] == pytest.approx(np.log(close.iloc[position] / close.iloc[position - 5]))
    sma_10 = close.iloc[position - 9 : position + 1].mean()
    assert features.loc[t, "close_sma_10_ratio"] == pytest.approx(close.iloc[position] / sma_10 - 1)
    assert 0 <= features["rsi_14"].min() and features["rsi_14"].max() <= 100
    assert features.loc[t, "hour_sin"] == pytest.approx(np.sin(2 * np.pi * t.hour / 24))
    assert features.loc[t, "day_of_week_cos"] == pytest.approx(np.cos(2 * np.pi * t.dayofweek / 7))


def test_constant_volume_window_gives_zero_zscore_not_nan():
    frame = synthetic_ohlcv(200)
    frame.loc[100:160, "volume"] = 0.0
    features = compute_features(frame)
    assert np.isfinite(features["volume_zscore_30"]).all()
    inside = features[
        (features["timestamp"] >= frame["timestamp"][135])
        & (features["timestamp"] <= frame["timestamp"][160])
    ]
    assert (inside["volume_zscore_30"] == 0).all()


@pytest.mark.parametrize("cut", [WARMUP_ROWS + 1, 80, 150, 233, 299])
def test_changing_the_future_never_changes_past_features(cut):
    """Property: features at rows < cut depend only on rows <= their own row."""
    rng = np.random.default_rng(cut)
    frame = synthetic_ohlcv(600, symbols=2, seed=1)  # 300 rows per symbol
    changed = frame.copy()
    future = changed.groupby("symbol").cumcount() >= cut
    scale = rng.uniform(0.5, 2.0, future.sum())
    for column in ("open", "high", "low", "close"):
        changed.loc[future, column] *= scale
    changed.loc[future, "volume"] = rng.lognormal(5, 2, future.sum())
    before, after = compute_features(frame), compute_features(changed)
    past = (before["timestamp"] < frame["timestamp"][cut]).to_numpy()
    assert past.sum() == 2 * (cut - WARMUP_ROWS)
    pd.testing.assert_frame_equal(before[past].reset_index(drop=True), after[past].reset_index(drop=True))
    # ...and the future really changed, so the test can fail.
    assert not np.allclose(before.loc[~past, "ret_1"], after.loc[~past, "ret_1"])


def test_truncating_the_history_gives_the_same_last_features():
    frame = synthetic_ohlcv(400)
    full = compute_features(frame)
    prefix = compute_features(frame.iloc[:250])
    pd.testing.assert_frame_equal(full.iloc[: len(prefix)].reset_index(drop=True), prefix)


def test_symbols_are_independent():
    one = synthetic_ohlcv(300, symbols=1, seed=3)
    two = pd.concat([one, synthetic_ohlcv(300, symbols=1, seed=4).assign(symbol="OTHER")])
    alone = compute_features(one)
    together = compute_features(two)
    mine = together[together["symbol"] == "SYM0"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, mine)
    assert set(together["symbol"]) == {"SYM0", "OTHER"}


def test_unsorted_input_gives_sorted_output():
    frame = synthetic_ohlcv(300, symbols=2)
    shuffled = frame.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(compute_features(shuffled), compute_features(frame))


def test_too_short_symbol_contributes_nothing():
    assert compute_features(synthetic_ohlcv(WARMUP_ROWS)).empty


def test_real_samples(daily_bytes, hourly_bytes):
    for data, expected in ((daily_bytes, 1770), (hourly_bytes, 20111)):
        features = compute_features(load_ohlcv(data).frame)
        assert len(features) == expected - WARMUP_ROWS
        assert np.isfinite(features[list(FEATURE_COLUMNS)].to_numpy()).all()


def test_benchmark_reports_best_and_worst_of_the_repeats(monkeypatch):
    from cripto_pipeline import features as features_module

    ticks = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # three runs taking 3 s, 1 s and 2 s
    monkeypatch.setattr(features_module.time, "perf_counter", lambda: next(ticks))
    result = benchmark(rows=20_000, symbols=2, repeat=3)
    assert result["feature_rows"] == 20_000 - 2 * WARMUP_ROWS
    assert (result["seconds_best"], result["seconds_worst"]) == (1.0, 3.0)
    assert (result["rows"], result["symbols"]) == (20_000, 2)


@pytest.mark.parametrize("best, rss, exit_code", [(1.0, 100.0, 0), (2.5, 100.0, 1), (1.0, 2000.0, 1)])
def test_benchmark_cli_fails_over_its_budget(monkeypatch, capsys, best, rss, exit_code):
    from cripto_pipeline import bench

    monkeypatch.setattr(bench, "benchmark", lambda rows, symbols, repeat: {"seconds_best": best})
    monkeypatch.setattr(bench, "peak_rss_mib", lambda: rss)
    assert bench.main(["--rows", "10"]) == exit_code  # defaults: <= 2 s, < 1024 MiB
    printed = json.loads(capsys.readouterr().out)
    assert printed["ok"] is (exit_code == 0) and (printed["max_seconds"], printed["max_rss_mib"]) == (2.0, 1024.0)
