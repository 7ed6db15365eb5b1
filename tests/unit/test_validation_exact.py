"""cripto_pipeline.validation.load_ohlcv on files of a few rows: the exact frame and details, the
time-order notes at their bounds, the value checks and their float tolerance, the timestamp refusal and
the rows-per-symbol minimum at its bound, each asserted literally (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest

from cripto_pipeline import exceptions
from cripto_pipeline.validation import load_ohlcv

HEADER = "timestamp,open,high,low,close,volume\n"
BAR = "1,2,0.5,1.5,10"  # open 1, high 2, low 0.5, close 1.5, volume 10


def _load(*rows: str, header: str = HEADER, **options):
    options.setdefault("min_rows_per_symbol", 0)
    return load_ohlcv((header + "".join(f"{row}\n" for row in rows)).encode(), **options)


def _refused(error_class, *rows: str, **options):
    with pytest.raises(error_class) as caught:
        _load(*rows, **options)
    return caught.value.what, caught.value.where


def _days(*days: int) -> list:
    return [f"2020-01-{day:02d},{BAR}" for day in days]


def test_three_clean_rows_give_the_canonical_frame_and_details():
    result = _load("2020-01-01,1,2,0.5,1.5,10", "2020-01-02,1.5,2.5,1,2,0", "2020-01-03,2,3,1.5,2.5,5",
                   keep_line_numbers=True)
    assert result.frame.to_dict("list") == {
        "timestamp": [pd.Timestamp(f"2020-01-0{d}", tz="UTC") for d in (1, 2, 3)], "symbol": ["UNKNOWN"] * 3,
        "open": [1.0, 1.5, 2.0], "high": [2.0, 2.5, 3.0], "low": [0.5, 1.0, 1.5], "close": [1.5, 2.0, 2.5],
        "volume": [10.0, 0.0, 5.0], "_line": [2, 3, 4]}
    assert [str(t) for t in result.frame.dtypes] == ["datetime64[ns, UTC]", "object", "float64", "float64",
                                                     "float64", "float64", "float64", "int64"]
    assert result.warnings == []
    assert result.details == {
        "columns": {"timestamp": "timestamp", "open": "open", "high": "high", "low": "low", "close": "close",
                    "volume": "volume"},
        "timestamp_format": "%Y-%m-%d", "header_line": 1, "rows": 3, "symbols": {"UNKNOWN": 3},
        "first_timestamp": "2020-01-01T00:00:00+00:00", "last_timestamp": "2020-01-03T00:00:00+00:00"}
    assert list(_load(*_days(1, 2)).frame.columns) == ["timestamp", "symbol", "open", "high", "low", "close",
                                                       "volume"]


def test_newest_first_rows_are_sorted_and_said_so_with_the_forward_steps():
    result = _load(*_days(4, 3, 2, 1))
    assert result.warnings == ["Rows were newest-first; sorted into time order."]
    assert result.frame["timestamp"].dt.day.tolist() == [1, 2, 3, 4]
    result = _load(*_days(4, 3, 1, 2))  # steps back 1 day, back 2, forward 1
    assert result.warnings == ["Rows were newest-first (1 step(s) went forwards instead); sorted into time order."]
    assert result.frame["timestamp"].dt.day.tolist() == [1, 2, 3, 4]


def test_a_few_rows_out_of_order_are_sorted_and_counted():
    result = _load(*_days(1, 3, 2, 4))  # forward, back, forward
    assert result.warnings == ["1 row(s) were out of time order; sorted by timestamp."]
    assert result.frame["timestamp"].dt.day.tolist() == [1, 2, 3, 4]
    result = _load(*_days(2, 1, 3))  # one step back, one forward: as many back as forward is not newest-first
    assert result.warnings == ["1 row(s) were out of time order; sorted by timestamp."]
    assert result.frame["timestamp"].dt.day.tolist() == [1, 2, 3]


def test_symbols_in_time_order_but_not_in_name_order_are_sorted_by_symbol_silently():
    header = "timestamp,symbol,open,high,low,close,volume\n"
    result = _load(f"2020-01-01,B,{BAR}", f"2020-01-02,B,{BAR}", f"2020-01-01,A,{BAR}", f"2020-01-02,A,{BAR}",
                   header=header, keep_line_numbers=True)
    assert result.frame["symbol"].tolist() == ["A", "A", "B", "B"]
    assert result.frame["_line"].tolist() == [4, 5, 2, 3]
    assert result.warnings == []
    assert result.details["symbols"] == {"A": 2, "B": 2}
    same = _load(f"2020-01-01,A,{BAR}", f"2020-01-02,A,{BAR}", f"2020-01-01,B,{BAR}", header=header,
                 keep_line_numbers=True)
    assert same.frame["_line"].tolist() == [2, 3, 4]


def test_a_file_without_a_symbol_column_takes_the_default_symbol():
    assert _load(*_days(1, 2), default_symbol="eth").frame["symbol"].tolist() == ["eth", "eth"]


def test_a_price_of_zero_is_refused_with_the_row():
    what, where = _refused(exceptions.NonPositivePriceError, "2020-01-01,0,2,0.5,1.5,10", f"2020-01-02,{BAR}")
    assert what == "1 row(s) have a price <= 0."
    assert where == {"count": 1, "samples": [{"line": 2, "open": 0.0, "high": 2.0, "low": 0.5, "close": 1.5}]}


def test_six_bad_rows_are_counted_and_five_are_shown():
    what, where = _refused(exceptions.NonPositivePriceError, *[f"2020-01-{d:02d},-1,2,0.5,1.5,10" for d in range(1, 7)])
    assert what == "6 row(s) have a price <= 0."
    assert where["count"] == 6 and [s["line"] for s in where["samples"]] == [2, 3, 4, 5, 6]


def test_a_file_without_volume_has_a_volume_of_zero():
    result = _load("2020-01-01,1,2,0.5,1.5", "2020-01-02,1,2,0.5,1.5", header="timestamp,open,high,low,close\n")
    assert result.frame["volume"].tolist() == [0.0, 0.0]


def test_a_negative_volume_is_refused_and_zero_is_fine():
    what, where = _refused(exceptions.NegativeVolumeError, f"2020-01-01,{BAR}", "2020-01-02,1,2,0.5,1.5,-1")
    assert (what, where) == ("1 row(s) have a negative volume.", {"count": 1, "samples": [{"line": 3, "volume": -1.0}]})
    assert _load("2020-01-01,1,2,0.5,1.5,0").frame["volume"].tolist() == [0.0]


def test_a_high_below_the_low_is_refused_with_the_row():
    what, where = _refused(exceptions.InconsistentOHLCError, f"2020-01-01,{BAR}", "2020-01-02,1,0.4,0.5,0.45,1")
    assert what == "1 row(s) have high < low or open/close outside [low, high]."
    assert where == {"count": 1, "samples": [{"line": 3, "open": 1.0, "high": 0.4, "low": 0.5, "close": 0.45}]}


def test_ohlc_consistency_tolerates_a_billionth_of_the_high_and_no_more():
    # close 1.5 above high 1.4999999999 by 1e-10 (< 1e-9 x high): float noise, accepted
    assert _load("2020-01-01,1,1.4999999999,0.5,1.5,10").frame["high"].tolist() == [1.4999999999]
    # by 1e-8: refused
    _refused(exceptions.InconsistentOHLCError, "2020-01-01,1,1.49999999,0.5,1.5,10")
    # open 1 below low 1.0000000001 by 1e-10 (< 1e-9 x high 2): accepted; below 1.00000001: refused
    assert _load("2020-01-01,1,2,1.0000000001,1.5,10").frame["low"].tolist() == [1.0000000001]
    _refused(exceptions.InconsistentOHLCError, "2020-01-01,1,2,1.00000001,1.5,10")
    # exactly one billionth of the high (1) off is still within the tolerance, on each of the three checks
    assert _load("2020-01-01,1,1,1.000000001,1,10").frame["low"].tolist() == [1.000000001]  # low above high
    assert _load("2020-01-01,1,1,0.5,1.000000001,10").frame["close"].tolist() == [1.000000001]  # close above high
    assert _load("2020-01-01,0.999999999,1,1,1,10").frame["open"].tolist() == [0.999999999]  # open below low
    # open at the high and close at the low exactly are consistent
    assert _load("2020-01-01,2,2,0.5,0.5,10").frame["close"].tolist() == [0.5]


def test_dates_outside_1990_to_2100_and_text_are_refused_with_the_format_tried():
    what, where = _refused(exceptions.UnparseableTimestampError, f"2020-01-01,{BAR}", f"1980-01-02,{BAR}",
                           f"x,{BAR}")
    assert what == "2 timestamp(s) cannot be read as dates between 1990 and 2100 (format tried: %Y-%m-%d)."
    assert where == {"column": "timestamp", "count": 2, "samples": [
        {"line": 3, "column": "timestamp", "value": "1980-01-02"}, {"line": 4, "column": "timestamp", "value": "x"}]}


def test_the_rows_per_symbol_minimum_is_met_exactly_and_missed_by_one():
    assert _load(*_days(1, 2), min_rows_per_symbol=2).details["rows"] == 2
    what, where = _refused(exceptions.TooFewRowsError, *_days(1, 2), min_rows_per_symbol=3)
    assert what == ("1 symbol(s) have fewer than 3 rows, the minimum for the feature windows plus a walk-forward "
                    "test period.")
    assert where == {"required": 3, "rows_per_symbol": {"UNKNOWN": 2}}
