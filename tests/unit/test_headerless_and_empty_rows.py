"""Header-less layouts (columns.headerless_layout) and files whose rows carry no price
(csv_table.read_body), asserted with literal values (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import pytest

from cripto_pipeline import columns, csv_table, exceptions

SIX = "time,open,high,low,close,volume (e.g. NinjaTrader)"
BITFINEX = "Bitfinex candles (time,open,close,high,low,volume)"
COINBASE = "Coinbase candles (time,low,high,open,close,volume)"


def _layout(lines):
    notes = []
    return columns.headerless_layout(lines, notes), notes


def test_one_fitting_layout_is_used_and_reported():
    # open 10, high 12, low 9, close 11: consistent only read as time,open,high,low,close,volume
    names, notes = _layout(["1577836800,10,12,9,11,5", "", "1577840400,11,13,10,12,6"])
    assert names == ["timestamp", "open", "high", "low", "close", "volume"]
    assert notes == [f"The file has no header; read its 6 columns as {SIX}."]


def test_layouts_that_several_readings_fit_are_refused_naming_them():
    # 10,10,10,10: every ordering of the four prices is consistent
    line = "1577836800,10,10,10,10,5"
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _layout([line, "1577840400,10,10,10,10,5"])
    assert caught.value.what == (f"The file has no header and its 6 columns fit several known layouts: "
                                 f"{SIX}; {BITFINEX}; {COINBASE}.")
    assert caught.value.where == {"layouts": [SIX, BITFINEX, COINBASE], "first_line": line}
    assert caught.value.fix == "Add a header line naming the columns, e.g. timestamp,open,high,low,close,volume."
    long_line = "1577836800,10,10,10,10," + "5" * 300
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _layout([long_line])
    assert caught.value.where["first_line"] == long_line[:200]


def test_two_fitting_layouts_are_refused_naming_both():
    # 1,3,1,2: open = low = 1, high 3, close 2 read as time,open,high,low,close or as Coinbase's
    # time,low,high,open,close; read as Bitfinex's time,open,close,high,low the high (1) is below the close (3).
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _layout(["1577836800,1,3,1,2,10"])
    assert caught.value.what == (f"The file has no header and its 6 columns fit several known layouts: "
                                 f"{SIX}; {COINBASE}.")
    assert caught.value.where == {"layouts": [SIX, COINBASE], "first_line": "1577836800,1,3,1,2,10"}


def test_rows_of_different_widths_or_no_rows_have_no_layout():
    assert _layout(["1577836800,10,12,9,11,5", "1577836800,10,12,9,11"]) == (None, [])
    assert _layout(["", "  "]) == (None, [])


@pytest.mark.parametrize("line", [
    "abc,10,12,9,11,5",            # the first field is no number and no year-first date
    "1577836800,10,12,9,x,5",      # a price that is no number
    "1577836800,14,12,11,13,5",    # no reading makes high the highest and low the lowest
])
def test_rows_that_fit_no_layout(line):
    assert _layout([line]) == (None, [])


def test_the_fit_checks_each_price_against_high_and_low():
    six = columns.HEADERLESS_LAYOUTS[SIX]
    assert columns._fits(six, [["1577836800", "10", "12", "9", "11", "5"]]) is True
    assert columns._fits(six, [["1577836800", "13", "12", "9", "11", "5"]]) is False  # open above high
    assert columns._fits(six, [["1577836800", "10", "12", "9", "13", "5"]]) is False  # close above high
    assert columns._fits(six, [["1577836800", "10", "12", "8", "11", "5"]]) is True
    assert columns._fits(six, [["1577836800", "10", "12", "13", "11", "5"]]) is False  # low above high
    assert columns._fits(six, [["2020-01-01", "10", "12", "9", "11", "5"]]) is True  # year-first date
    assert columns._fits(six, [["01/02/2020", "10", "12", "9", "11", "5"]]) is False
    assert columns._fits(six, [["1577836800", "10", "12", "9", "11", "5"],
                               ["x", "10", "12", "9", "11", "5"]]) is False  # every row must fit
    metatrader = columns.HEADERLESS_LAYOUTS["MetaTrader history (date, time, OHLCV)"]
    assert columns._fits(metatrader, [["2020.01.01", "00:00", "10", "12", "9", "11", "5"]]) is True
    assert columns._fits(metatrader, [["2020.01.01", "noon", "10", "12", "9", "11", "5"]]) is False
    assert columns._fits(metatrader, [["20200101", "00:00", "10", "12", "9", "11", "5"]]) is False


def test_rows_without_any_price_are_dropped_and_a_file_of_only_those_is_refused():
    cells = ["timestamp", "open", "high", "low", "close"]
    mapping = {"timestamp": 0, "open": 1, "high": 2, "low": 3, "close": 4}
    notes = []
    body = "".join(f"2020-01-01 00:0{i},NaN,,nan,null\n" for i in range(7)) + "2020-01-01 00:09,1,2,0.5,1.5\n"
    raw = csv_table.read_body(body, cells, mapping, 3, notes)
    assert raw["_line"].tolist() == [11] and raw["close"].tolist() == ["1.5"]
    assert list(raw.index) == [0]
    assert notes == ["Dropped 7 row(s) with no open/high/low/close at all (missing periods), e.g. line(s) 4, 5, 6, "
                     "7, 8."]
    with pytest.raises(exceptions.HeaderOnlyError) as caught:
        csv_table.read_body("2020-01-01,,,,\n", cells, mapping, 2, [])
    assert (caught.value.what, caught.value.where) == ("The file has no row with prices.", {"header_line": 2})
