"""cripto_pipeline.features: how compute_features lays out several symbols, orders rows, and the
synthetic bars and benchmark built on it (issue 16). Small frames with values checked one by one."""

from __future__ import annotations

import math
import tracemalloc
import warnings

import pandas as pd
import pytest

from cripto_pipeline import features
from cripto_pipeline.features import FEATURE_COLUMNS, ID_COLUMNS, benchmark, compute_features, synthetic_ohlcv

from .test_features_exact import bars


def _steady(symbol: str, rows: int, base: float, start: str = "2024-01-01") -> pd.DataFrame:
    """``rows`` hourly bars of ``symbol`` whose close is base, base + 1, base + 2, ..."""
    return bars([base + i for i in range(rows)], start=start, symbol=symbol)


def _ret_1(base: float, bar: int) -> float:
    return math.log((base + bar) / (base + bar - 1))


def test_an_empty_frame_gives_an_empty_result_with_every_column():
    result = compute_features(_steady("S", 40, 10.0).iloc[:0])
    assert list(result.columns) == list(ID_COLUMNS) + list(FEATURE_COLUMNS)
    assert len(result) == 0


def test_each_symbol_fills_its_own_rows_after_its_warm_up():
    """A symbol of 10 bars gives nothing, one of 35 bars exactly one row; the others follow in order."""
    frame = pd.concat([_steady("A", 10, 10.0), _steady("B", 35, 20.0), _steady("C", 40, 30.0),
                       _steady("D", 36, 40.0)], ignore_index=True)
    result = compute_features(frame)
    expected_rows = ([("B", 20.0, 34)] + [("C", 30.0, bar) for bar in range(34, 40)]
                     + [("D", 40.0, 34), ("D", 40.0, 35)])
    assert result["symbol"].tolist() == [symbol for symbol, _, _ in expected_rows]
    assert result["close"].tolist() == [base + bar for _, base, bar in expected_rows]
    assert result["timestamp"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=bar)
                                            for _, _, bar in expected_rows]
    assert result["ret_1"].tolist() == pytest.approx([_ret_1(base, bar) for _, base, bar in expected_rows],
                                                     rel=1e-12)
    assert result["ret_5"].tolist() == pytest.approx([math.log((base + bar) / (base + bar - 5))
                                                      for _, base, bar in expected_rows], rel=1e-12)


def test_bars_given_newest_first_are_put_in_time_order():
    frame = _steady("S", 37, 50.0).iloc[::-1].reset_index(drop=True)
    result = compute_features(frame)
    assert result["close"].tolist() == [84.0, 85.0, 86.0]
    assert result["ret_1"].tolist() == pytest.approx([_ret_1(50.0, bar) for bar in (34, 35, 36)], rel=1e-12)


def test_a_later_symbol_whose_bars_run_backwards_is_put_in_time_order_too():
    later = _steady("B", 36, 70.0).iloc[::-1]
    frame = pd.concat([_steady("A", 35, 60.0), later], ignore_index=True)  # symbols in order, B's times not
    result = compute_features(frame)
    assert result["symbol"].tolist() == ["A", "B", "B"]
    assert result["close"].tolist() == [94.0, 104.0, 105.0]
    assert result["ret_1"].tolist() == pytest.approx([_ret_1(60.0, 34), _ret_1(70.0, 34), _ret_1(70.0, 35)],
                                                     rel=1e-12)


def test_a_frame_already_in_symbol_and_time_order_is_used_as_it_is_not_sorted_again():
    """No sorted copy of a (possibly million-row) frame that is in order already: a repeated timestamp
    and a later symbol starting at an earlier time are still 'in order'."""
    first = _steady("A", 3, 1.0, start="2024-06-01")
    first.loc[2, "timestamp"] = first.loc[1, "timestamp"]
    frame = pd.concat([first, _steady("B", 3, 1.0, start="2024-01-01")], ignore_index=True)
    assert features._sorted_by_symbol_and_time(frame) is frame


def test_the_result_columns_are_contiguous_arrays():
    """The result wraps one column-major matrix, so each price and feature column is one contiguous array."""
    result = compute_features(pd.concat([_steady("A", 36, 10.0), _steady("B", 36, 20.0)], ignore_index=True))
    for name in list(ID_COLUMNS[2:]) + list(FEATURE_COLUMNS):
        assert result[name].to_numpy().flags["C_CONTIGUOUS"], name


def test_the_result_holds_its_numbers_once():
    """The filled matrix becomes the result without a copy: at its peak compute_features holds well under
    two copies of the result's prices and features (measured: ~1.5 copies; a copied matrix makes ~2.4)."""
    frame = synthetic_ohlcv(10 * 500, symbols=10)
    tracemalloc.start()
    try:
        result = compute_features(frame)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    numbers = len(result) * (len(ID_COLUMNS) - 2 + len(FEATURE_COLUMNS)) * 8
    assert peak < 2 * numbers


# --- synthetic_ohlcv ---------------------------------------------------------------------------------


def test_synthetic_bars_are_a_fixed_random_walk_for_seed_0():
    """The tests and the benchmark rely on the same bars every time: the first three, as generated."""
    frame = synthetic_ohlcv(3)
    assert frame["timestamp"].tolist() == [pd.Timestamp("2020-01-01 00:00", tz="UTC"),
                                           pd.Timestamp("2020-01-01 01:00", tz="UTC"),
                                           pd.Timestamp("2020-01-01 02:00", tz="UTC")]
    assert frame["symbol"].tolist() == ["SYM0"] * 3
    expected = {
        "open": [100.0, 100.12580929467218, 99.99362556097809],
        "high": [100.17832534029745, 100.39362690829395, 100.8180098601242],
        "low": [99.97374197718736, 99.8597167541672, 99.90265180475188],
        "close": [100.12580929467218, 99.99362556097809, 100.6360623476718],
        "volume": [73.99518659907451, 51.78398663382807, 9.936996024642148],
    }
    for name, values in expected.items():
        assert frame[name].tolist() == pytest.approx(values, rel=1e-12), name
    pd.testing.assert_frame_equal(synthetic_ohlcv(3, seed=0), frame)


def test_synthetic_bars_open_at_the_previous_close_inside_their_high_and_low():
    frame = synthetic_ohlcv(50)
    assert frame["open"].iloc[0] == 100.0
    assert frame["open"].iloc[1:].tolist() == frame["close"].iloc[:-1].tolist()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert frame["volume"].nunique() == 50


@pytest.mark.parametrize(("rows", "symbols", "per_symbol"), [(5, 2, [3, 2]), (3, 2, [2, 1]), (4, 3, [2, 2]),
                                                             (1, 1, [1])])
def test_synthetic_rows_are_split_evenly_the_last_symbol_taking_the_rest(rows, symbols, per_symbol):
    """``rows`` in total; a symbol that would get none is left out (4 rows over 3 symbols: 2 + 2)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. no deprecated frequency alias
        frame = synthetic_ohlcv(rows, symbols=symbols)
    assert frame["symbol"].tolist() == [f"SYM{n}" for n, count in enumerate(per_symbol) for _ in range(count)]
    assert frame["timestamp"].tolist() == [pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(hours=hour)
                                           for count in per_symbol for hour in range(count)]


def test_synthetic_bars_follow_the_given_frequency():
    frame = synthetic_ohlcv(3, freq="D")
    assert frame["timestamp"].tolist() == [pd.Timestamp(f"2020-01-0{d}", tz="UTC") for d in (1, 2, 3)]


# --- benchmark ---------------------------------------------------------------------------------------


def test_the_benchmark_defaults_to_one_million_bars_of_one_symbol_best_of_three(monkeypatch):
    made, timed = [], []
    monkeypatch.setattr(features, "synthetic_ohlcv",
                        lambda rows, symbols: made.append((rows, symbols)) or "bars")
    monkeypatch.setattr(features, "compute_features", lambda frame: timed.append(frame) or [None] * 7)
    ticks = iter([0.0, 4.0, 10.0, 12.0, 20.0, 23.0])  # runs of 4 s, 2 s, 3 s
    monkeypatch.setattr(features.time, "perf_counter", lambda: next(ticks))
    assert benchmark() == {"rows": 1_000_000.0, "symbols": 1.0, "feature_rows": 7.0, "seconds_best": 2.0,
                           "seconds_worst": 4.0}
    assert made == [(1_000_000, 1)] and timed == ["bars"] * 3


def test_the_benchmark_needs_at_least_one_run(monkeypatch):
    monkeypatch.setattr(features, "synthetic_ohlcv", lambda rows, symbols: "bars")
    with pytest.raises(ValueError, match="empty"):  # min() of no timings
        benchmark(rows=10, repeat=0)
