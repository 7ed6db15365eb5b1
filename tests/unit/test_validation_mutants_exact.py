"""cripto_pipeline.validation's time-order step and OHLC tolerance on frames of a few rows: ties and
1-nanosecond steps at the bound of "backwards"/"forwards", the returned frame's columns and index, and
the tolerance growing with the price (issue 16)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from cripto_pipeline import exceptions
from cripto_pipeline.validation import _check_values, _order, load_ohlcv

T0 = pd.Timestamp("2020-01-01", tz="UTC")
NS = pd.Timedelta(1, unit="ns")


def _frame(*timestamps: pd.Timestamp, symbol: str = "X") -> pd.DataFrame:
    return pd.DataFrame({"timestamp": list(timestamps), "symbol": [symbol] * len(timestamps),
                         "_line": list(range(2, 2 + len(timestamps)))})


def _bar(open_: float, high: float, low: float, close: float) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": [T0], "symbol": ["X"], "open": [open_], "high": [high], "low": [low],
                         "close": [close], "volume": [1.0], "_line": [2]})


def test_a_repeated_timestamp_in_time_order_is_neither_backwards_nor_noted():
    day = pd.Timedelta(days=1)
    notes: list = []
    result = _order(_frame(T0, T0, T0 + day), notes)
    assert notes == []
    assert list(result["timestamp"]) == [T0, T0, T0 + day]
    assert list(result["_line"]) == [2, 3, 4]


def test_a_repeated_timestamp_in_a_newest_first_file_is_not_a_forward_step():
    day = pd.Timedelta(days=1)
    notes: list = []
    result = _order(_frame(T0 + 2 * day, T0 + day, T0 + day, T0), notes)
    assert notes == ["Rows were newest-first; sorted into time order."]
    assert list(result["timestamp"]) == [T0, T0 + day, T0 + day, T0 + 2 * day]
    assert list(result["_line"]) == [5, 3, 4, 2]


def test_one_nanosecond_steps_count_as_backwards_and_forwards():
    notes: list = []
    result = _order(_frame(T0 + 2 * NS, T0 + NS, T0, T0 + NS), notes)
    assert notes == ["Rows were newest-first (1 step(s) went forwards instead); sorted into time order."]
    assert list(result["_line"]) == [4, 3, 5, 2]


def test_one_nanosecond_back_in_an_otherwise_forward_file_is_one_row_out_of_order():
    notes: list = []
    _order(_frame(T0, T0 + 2 * NS, T0 + NS, T0 + 3 * NS), notes)
    assert notes == ["1 row(s) were out of time order; sorted by timestamp."]


@pytest.mark.parametrize("timestamps", [(T0, T0 + NS), (T0 + NS, T0)], ids=["in-order", "sorted"])
def test_the_ordered_frame_keeps_its_columns_and_gets_a_fresh_index(timestamps):
    frame = _frame(*timestamps)
    frame.index = [7, 3]
    result = _order(frame, [])
    assert list(result.columns) == ["timestamp", "symbol", "_line"]
    assert list(result.index) == [0, 1]


def test_the_ohlc_tolerance_is_a_billionth_of_a_high_of_1000():
    _check_values(_bar(1000.0, 1000.0, 999.0, 1000.0000005))  # 0.5e-6 above the high: within 1e-6
    with pytest.raises(exceptions.InconsistentOHLCError):
        _check_values(_bar(1000.0, 1000.0, 999.0, 1000.000002))  # 2e-6 above: outside


def test_a_tiny_high_gets_a_tiny_tolerance():
    # high 0.001: tolerance 1e-12, so a low 5e-7 above the high is refused
    with pytest.raises(exceptions.InconsistentOHLCError) as caught:
        _check_values(_bar(0.001, 0.001, 0.0010005, 0.001))
    assert caught.value.where["count"] == 1


def test_a_file_without_volume_loads_with_zero_volume_and_no_deprecation_warning():
    data = b"timestamp,open,high,low,close\n2020-01-01,1,2,0.5,1.5\n2020-01-02,1.5,2.5,1,2\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        result = load_ohlcv(data, min_rows_per_symbol=0)
    assert result.frame["volume"].tolist() == [0.0, 0.0]
