"""cripto_pipeline.csv_dialect: the edges the mutation run found untested (issue 16): a UTF-16 text
starting with 'X', the line of a control byte after a leading blank line, the modal field count
beside a wider line, two-field files, footer lines (CRLF, trailing spaces, a trailing 'X', a blank
first body line, a one-character body) and line endings with a carriage return inside a line."""

from __future__ import annotations

import pytest

from cripto_pipeline import csv_dialect, exceptions
from cripto_pipeline.validation import load_ohlcv

CR_WHAT = ("Line {} has a carriage return (\\r) before more text on the same line: the file's line endings are "
           "neither LF nor CRLF (old Mac CR, or LF CR).")
CR_FIX = "Save the file with LF or CRLF line endings (in Excel: 'CSV UTF-8', not 'CSV (Macintosh)')."


# --- decode ---------------------------------------------------------------------------------------


def test_utf16_text_keeps_a_leading_capital_x():
    notes = []
    assert csv_dialect.decode("XRP,1\n".encode("utf-16"), 1000, notes) == "XRP,1\n"
    assert notes == ["Decoded the file from UTF-16."]


def test_a_control_byte_line_counts_a_newline_at_the_very_first_byte():
    with pytest.raises(exceptions.UndecodableContentError) as caught:
        csv_dialect.decode(b"\ndate\n\xff\x01", 1000, [])
    assert caught.value.where == {"line": 3, "byte_offset": 6, "bytes": "ff01"}


# --- sniff_delimiter ------------------------------------------------------------------------------


def test_the_delimiter_is_chosen_by_the_most_common_field_count_not_the_widest_line():
    # ';': 3 fields on three lines (and one wider line); ',': 4 fields on two lines only.
    text = "a;b;c\na;b;c\na;b;c\na,b,c,d\na,b,c,d\na;b;c;d;e;f\n"
    assert csv_dialect.sniff_delimiter(text) == ";"


def test_a_two_field_semicolon_file_beats_three_commas_on_fewer_lines():
    # ';' splits three lines into 2 fields; ',' splits two lines into 3 (the others into 1, 2, 4).
    text = "a;b\na,x;b\na,x,y,z;b\np,q,r\np,q,r\n"
    assert csv_dialect.sniff_delimiter(text) == ";"


# --- strip_footer ---------------------------------------------------------------------------------


def _footer(body: str, fields: int):
    notes = []
    return csv_dialect.strip_footer(body, fields, notes), notes


def test_a_footer_right_after_a_blank_first_body_line_is_dropped():
    assert _footer("\nTotal\n", 2) == ("\n", ["Skipped 1 line(s) after the data (footer): 'Total'."])


def test_a_footer_line_is_quoted_with_its_trailing_spaces():
    assert _footer("1,2\nHighest: 5 \nLowest: 1\n", 2) == (
        "1,2\n", ["Skipped 2 line(s) after the data (footer): 'Highest: 5 '."])


def test_crlf_footer_lines_are_quoted_without_their_carriage_return():
    assert _footer("1,2\r\nHighest: 5\r\nLowest: 1\r\n", 2) == (
        "1,2\r\n", ["Skipped 2 line(s) after the data (footer): 'Highest: 5'."])


def test_a_footer_ending_in_a_capital_x_is_quoted_whole():
    assert _footer("1,2\nExchange: FTX\n", 2) == ("1,2\n", ["Skipped 1 line(s) after the data (footer): 'Exchange: FTX'."])


def test_a_one_character_body_line_with_too_few_fields_is_a_footer():
    assert _footer("x", 2) == ("\n", ["Skipped 1 line(s) after the data (footer): 'x'."])


# --- line endings ---------------------------------------------------------------------------------


def _line_ending_refusal(text: str):
    with pytest.raises(exceptions.MalformedCsvError) as caught:
        csv_dialect.to_comma_text(text, [])
    return caught.value.what, caught.value.where, caught.value.fix


def test_old_mac_line_endings_are_refused_at_line_1():
    assert _line_ending_refusal("a,b\r1,2\r") == (CR_WHAT.format(1), {"line": 1}, CR_FIX)


def test_lf_cr_line_endings_are_refused_at_the_line_the_carriage_return_starts():
    assert _line_ending_refusal("a,b\n\r1,2\n\r") == (CR_WHAT.format(2), {"line": 2}, CR_FIX)
    assert _line_ending_refusal("\na;b\n1;2\r3;4\n") == (CR_WHAT.format(3), {"line": 3}, CR_FIX)


@pytest.mark.parametrize("text", ["a,b\r\n1,2\r\n", "a,b\r\r\n1,2\r\r\n", "a,b\n1,2\r", "a,b\n1,2\r\r"])
def test_crlf_several_crs_before_a_lf_and_a_final_cr_are_line_ends(text):
    notes = []
    assert csv_dialect.to_comma_text(text, notes) == text
    assert notes == []


def test_a_file_with_lf_cr_line_endings_is_rejected_as_malformed_csv():
    rows = "".join(f"2020-01-{day:02d},{day},{day + 1},{day},{day},10\n\r" for day in range(1, 29))
    with pytest.raises(exceptions.MalformedCsvError) as caught:
        load_ohlcv(("timestamp,open,high,low,close,volume\n\r" + rows).encode(), min_rows_per_symbol=5)
    assert caught.value.where == {"line": 2}
