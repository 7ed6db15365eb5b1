"""cripto_pipeline.csv_table: header lines at the start of the text (a blank first line, trailing
spaces, a name ending in 'X'), the sample of a header-less file (trailing spaces, CRLF, a field ending
in 'X', more than 501 lines) and the unnamed-index check on CRLF lines (issue 16)."""

from __future__ import annotations

import pytest

from cripto_pipeline import csv_table, exceptions

FLAT_LAYOUTS = ["time,open,high,low,close,volume (e.g. NinjaTrader)", "Bitfinex candles (time,open,close,high,low,volume)",
                "Coinbase candles (time,low,high,open,close,volume)"]
INDEX_NOTE = "The header has one name fewer than the rows have fields: read the first field as an unnamed index column."


def _header(text: str):
    notes = []
    return csv_table.find_header(text, notes), notes


def _headerless_refusal(text: str):
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _header(text)
    return caught.value


# --- find_header ----------------------------------------------------------------------------------


def test_a_header_after_a_blank_first_line_is_found_on_line_2():
    assert _header("\ntimestamp,open,high,low,close\n1,2,3,4,5\n") == (
        (2, ["timestamp", "open", "high", "low", "close"], "1,2,3,4,5\n"), [])


def test_a_trailing_space_after_the_last_header_name_is_kept_and_reported():
    assert _header("timestamp,open,close \n1,2,3\n") == (
        (1, ["timestamp", "open", "close "], "1,2,3\n"), ["Trimmed whitespace around header names."])


def test_a_header_name_ending_in_a_capital_x_is_kept_whole():
    assert _header("timestamp,close,INDEX\n1,2,3\n") == ((1, ["timestamp", "close", "INDEX"], "1,2,3\n"), [])


def test_the_first_line_of_an_ambiguous_headerless_file_is_quoted_with_its_trailing_space():
    error = _headerless_refusal("1577836800,10,10,10,10,5 \n1577840400,10,10,10,10,5\n")
    assert error.where == {"layouts": FLAT_LAYOUTS, "first_line": "1577836800,10,10,10,10,5 "}


def test_the_first_line_of_an_ambiguous_crlf_headerless_file_is_quoted_without_its_carriage_return():
    error = _headerless_refusal("1577836800,10,10,10,10,5\r\n1577840400,10,10,10,10,5\r\n")
    assert error.where == {"layouts": FLAT_LAYOUTS, "first_line": "1577836800,10,10,10,10,5"}


def test_a_last_field_ending_in_x_is_not_a_number_so_no_layout_fits():
    error = _headerless_refusal("1577836800,10,12,9,11,5,3X\n1577840400,10,12,9,11,5,4X\n")
    assert error.what.startswith("No header line found in the first 10 lines")
    assert error.where["first_lines"] == ["1577836800,10,12,9,11,5,3X", "1577840400,10,12,9,11,5,4X"]


def test_a_headerless_file_of_502_lines_is_decided_on_its_first_500():
    telling = "1577900000,10,12,9,11,5\n"  # fits time,open,high,low,close,volume only
    flat = "".join(f"{1577836800 + 3600 * n},10,10,10,10,5\n" for n in range(501))  # fit three layouts
    (line, names, body), notes = _header(telling + flat)
    assert (line, names, body) == (0, ["timestamp", "open", "high", "low", "close", "volume"], telling + flat)
    assert notes == ["The file has no header; read its 6 columns as time,open,high,low,close,volume (e.g. NinjaTrader)."]


# --- pandas_index on CRLF lines -------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\r\n", "\r\r\n"])
def test_an_unnamed_index_is_found_on_crlf_lines(ending):
    notes = []
    body = f"2020-01-01,1,2{ending}"
    assert csv_table.pandas_index(["open", "close"], body, notes) == (["", "open", "close"], body)
    assert notes == [INDEX_NOTE]


def test_an_empty_last_field_before_a_crlf_is_not_an_index():
    notes = []
    assert csv_table.pandas_index(["open", "close"], "2020-01-01,1,\r\n", notes) == (["open", "close"],
                                                                                    "2020-01-01,1,\r\n")
    assert notes == []
