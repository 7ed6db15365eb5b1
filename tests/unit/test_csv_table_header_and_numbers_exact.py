"""cripto_pipeline.csv_table: the header search (banner, trimmed names, the 10-line window, no header),
pandas' unnamed index, padding, the fast reader's refusals, numbers with separators and suffixes, and
empty or non-finite cells, asserted literally (issue 16)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import columns, csv_table, exceptions

PRICES = ("timestamp", "open", "high", "low", "close")


def _header(text: str):
    notes = []
    return csv_table.find_header(text, notes), notes


def test_a_banner_is_skipped_and_padded_header_names_are_reported():
    text = "Banner line from an exchange\r\n\r\n timestamp , open,high,low,close\r\n1,2\r\n"
    assert _header(text) == ((3, [" timestamp ", " open", "high", "low", "close"], "1,2\r\n"), [
        "Skipped 1 line(s) before the header (banner): 'Banner line from an exchange'.",
        "Trimmed whitespace around header names."])


def test_a_long_banner_is_quoted_to_80_characters():
    banner = "b" * 100
    (line, _, _), notes = _header(f"{banner}\nother banner\ntimestamp,open\n")
    assert line == 3 and notes == [f"Skipped 2 line(s) before the header (banner): {'b' * 80!r}."]


def test_a_header_without_a_body_with_or_without_a_newline():
    assert _header("timestamp,open\n") == ((1, ["timestamp", "open"], ""), [])
    assert _header("timestamp,open") == ((1, ["timestamp", "open"], ""), [])


def test_the_header_is_looked_for_in_the_first_ten_lines():
    assert _header("x\n" * 9 + "timestamp,open,high\n1,2,3\n")[0] == (10, ["timestamp", "open", "high"], "1,2,3\n")
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _header("x\n" * 10 + "timestamp,open,high\n1,2,3\n")
    assert caught.value.where["first_lines"] == ["x", "x", "x"]


def test_a_file_of_blank_lines_is_empty():
    with pytest.raises(exceptions.EmptyInputError) as caught:
        _header("\n \n")
    assert (caught.value.what, caught.value.where) == ("The file contains only blank lines.", {})


def test_no_header_and_no_layout_is_refused_with_the_first_lines():
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _header("a,b\n" + "c" * 300 + ",d\ne,f\ng,h\n")
    assert caught.value.what == (
        "No header line found in the first 10 lines (a line naming the columns, e.g. "
        "'timestamp,open,high,low,close,volume'), and the lines fit no known header-less layout.")
    assert caught.value.where == {"first_lines": ["a,b", "c" * 200, "e,f"], "accepted": columns.accepted_names()}
    assert caught.value.fix == ("Add a header line naming the columns: timestamp,open,high,low,close,volume "
                                "(symbol optional).")


def test_a_headerless_file_gets_its_layouts_names_and_header_line_0():
    text = "1577836800,10,12,9,11,5\n1577840400,11,13,10,12,6\n"
    assert _header(text) == ((0, ["timestamp", "open", "high", "low", "close", "volume"], text), [
        "The file has no header; read its 6 columns as time,open,high,low,close,volume (e.g. NinjaTrader)."])


def test_a_headerless_layout_is_decided_on_the_first_500_rows():
    flat = "".join(f"{1577836800 + 3600 * n},10,10,10,10,5\n" for n in range(5))  # fit three layouts
    telling = "1577900000,10,12,9,11,5\n"  # fits time,open,high,low,close,volume only
    (line, names, _), notes = _header(flat + telling)
    assert (line, names) == (0, ["timestamp", "open", "high", "low", "close", "volume"])
    flat = "".join(f"{1577836800 + 3600 * n},10,10,10,10,5\n" for n in range(500))
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _header(flat + telling)  # the telling row is the 501st
    assert caught.value.what.startswith("The file has no header and its 6 columns fit several known layouts")


def _index(cells, body):
    notes = []
    return csv_table.pandas_index(cells, body, notes), notes


def test_one_field_more_than_header_names_is_an_unnamed_index():
    note = ("The header has one name fewer than the rows have fields: read the first field as an unnamed index "
            "column.")
    assert _index(["open", "close"], "2020-01-01,1,2\n") == ((["", "open", "close"], "2020-01-01,1,2\n"), [note])
    assert _index(["open", "close"], "\n\n2020-01-01,1,2\n")[1] == [note]  # the first non-blank line decides
    assert _index(["open", "close"], "2020-01-01,1,\n") == ((["open", "close"], "2020-01-01,1,\n"), [])
    assert _index(["", "close"], "2020-01-01,1,2\n") == ((["", "close"], "2020-01-01,1,2\n"), [])
    assert _index(["open", "close"], "1,2\n") == ((["open", "close"], "1,2\n"), [])
    assert _index(["open", "close"], "") == ((["open", "close"], ""), [])


@pytest.mark.parametrize("body, padded", [
    (" a", True), ("a ", True), ("a, b", True), ("a ,b", True), ("a\tb", True), ("a \nb", True), ("a \rb", True),
    ("a\n b", True), ("a,b\nc,d", False), ("2019-10-17 09:00,1", False),
])
def test_padding_is_whitespace_beside_a_delimiter_or_a_line_end(body, padded):
    assert csv_table._has_padding(body) is padded


def _clean(body: str, cells=PRICES, header_line: int = 1):
    mapping = {name: i for i, name in enumerate(cells) if name != "extra"}
    return csv_table.read_clean_body(body, list(cells), mapping, header_line)


def test_the_fast_reader_parses_prices_to_floats_and_numbers_lines_after_the_header():
    raw = _clean("2020-01-01,1,2,0.5,1.5\n2020-01-02,1,2,0.5,1.5\n", header_line=3)
    assert raw.to_dict("list") == {"timestamp": ["2020-01-01", "2020-01-02"], "open": [1.0, 1.0], "high": [2.0, 2.0],
                                   "low": [0.5, 0.5], "close": [1.5, 1.5], "_line": [4, 5]}
    assert [str(t) for t in raw.dtypes] == ["object", "float64", "float64", "float64", "float64", "int64"]
    raw = _clean("2020-01-01,BTC,1,2,0.5,1.5\n", ("timestamp", "symbol", "open", "high", "low", "close"))
    assert raw["symbol"].tolist() == ["BTC"]
    raw = _clean("2020-01-01,1,2,0.5,1.5,x\n", (*PRICES, "extra"))  # an unused column is dropped
    assert list(raw.columns) == [*PRICES, "_line"]


@pytest.mark.parametrize("body, cells", [
    ("", PRICES), (" \n", PRICES), ("2020-01-01,1,2,0.5, 1.5\n", PRICES),
    ("2020-01-01,1,2,0.5,1.5\n2020-01-02,1,2,0.5,\n", PRICES), ("2020-01-01,1,2,0.5,1.5,x\n", PRICES),
    ("2020-01-01,1,2,0.5,abc\n", PRICES), ("2020-01-01,1,2,0.5,1.5\n\n2020-01-02,1,2,0.5,1.5\n", PRICES),
    ("2020-01-01,1,2,0.5,inf\n", PRICES), ("2020-01-01,1,2,0.5,NaN\n", PRICES),
    ("2020-01-01,null,1,2,0.5,1.5\n", ("timestamp", "symbol", "open", "high", "low", "close")),
    ("2020-01-01,N/A,1,2,0.5,1.5\n", ("timestamp", "symbol", "open", "high", "low", "close")),
    ("2020-01-01,NIL,1,2,0.5,1.5\n", ("timestamp", "symbol", "open", "high", "low", "close")),
])
def test_anything_unusual_leaves_the_fast_reader_for_the_careful_one(body, cells):
    assert _clean(body, cells) is None


def _numbers(values, column: str = "close"):
    raw = pd.DataFrame({column: values, "_line": list(range(2, 2 + len(values)))})
    notes = []
    return csv_table.numeric_column(raw, column, notes), notes


def test_thousands_separators_and_k_m_b_suffixes_are_read_and_reported():
    values, notes = _numbers(["1,234.5", "12.3K", "2M", "1.5b", "7", "-2k", "3 m"])
    assert values.tolist() == [1234.5, 12300.0, 2e6, 1.5e9, 7.0, -2000.0, 3e6]
    assert notes == ["Column 'close': read 6 number(s) with thousands separators or a K/M/B suffix (e.g. '1,234.5')."]
    values, notes = _numbers(["1", "2.5"])
    assert values.tolist() == [1.0, 2.5] and notes == []


def test_text_among_decorated_numbers_is_refused_with_every_cell():
    with pytest.raises(exceptions.NonNumericValueError) as caught:
        _numbers(["1,234.5", "abc", "2"], "volume")
    assert caught.value.what == "Column 'volume' has 2 value(s) that are not numbers."
    assert caught.value.where == {"column": "volume", "count": 2, "samples": [
        {"line": 2, "column": "volume", "value": "1,234.5"}, {"line": 3, "column": "volume", "value": "abc"}]}


@pytest.mark.parametrize("values, count, samples", [
    (["nan", "1"], 1, [(2, "nan")]),
    (["NaN", "1", "INF"], 2, [(2, "NaN"), (4, "INF")]),
    (["-inf", "1", "Infinity"], 2, [(2, "-inf"), (4, "Infinity")]),
    ([1.0, np.inf, np.nan], 2, [(3, "inf"), (4, "nan")]),  # already floats (the fast reader's column)
])
def test_nan_and_infinite_values_are_refused(values, count, samples):
    with pytest.raises(exceptions.NonFiniteValueError) as caught:
        _numbers(values)
    assert caught.value.what == f"Column 'close' has {count} NaN or infinite value(s)."
    assert caught.value.where == {"column": "close", "count": count,
                                  "samples": [{"line": n, "column": "close", "value": v} for n, v in samples]}


def test_floats_from_the_fast_reader_pass_through():
    values, notes = _numbers([1.0, 2.0])
    assert values.tolist() == [1.0, 2.0] and values.dtype == np.float64 and notes == []


def test_empty_and_null_cells_are_missing_values_with_five_samples():
    raw = pd.DataFrame({"close": ["1", "NULL", "-", "n/a", "None", "nil", "NA", "", "2"], "_line": range(2, 11)})
    with pytest.raises(exceptions.MissingValueError) as caught:
        csv_table.check_missing(raw, ["close"])
    assert caught.value.what == "Column 'close' has 7 empty/NULL cell(s)."
    assert caught.value.where == {"column": "close", "count": 7, "samples": [
        {"line": n, "column": "close", "value": v} for n, v in ((3, "NULL"), (4, "-"), (5, "n/a"), (6, "None"),
                                                                (7, "nil"))]}
    csv_table.check_missing(pd.DataFrame({"close": ["1", "nan", "0"], "_line": [2, 3, 4]}), ["close"])  # no error
