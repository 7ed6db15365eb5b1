"""cripto_pipeline.csv_table.read_body, the careful reader: the exact table it returns (cells as written,
the used columns and ``_line`` only) for trailing empty fields, padding, blank lines and missing periods
(issue 16: survivors of the mutation run)."""

from __future__ import annotations

import pytest

from cripto_pipeline import csv_table, exceptions

CELLS = ["timestamp", "symbol", "open", "high", "low", "close"]
MAPPING = {"timestamp": 0, "symbol": 1, "open": 2, "high": 3, "low": 4, "close": 5}


def _read(body: str):
    notes = []
    raw = csv_table.read_body(body, CELLS, MAPPING, 1, notes)
    return raw, notes


def test_rows_with_two_trailing_empty_fields_are_read_as_their_values():
    # Spreadsheet exports often end every row with empty fields; the first row must not turn into an index.
    raw, notes = _read("2020-01-01,0050,1,2,0.5,1.5,,\n2020-01-02,0050,1,2,0.5,1.5,,\n")
    assert raw.to_dict("list") == {"timestamp": ["2020-01-01", "2020-01-02"], "symbol": ["0050", "0050"],
                                   "open": ["1", "1"], "high": ["2", "2"], "low": ["0.5", "0.5"],
                                   "close": ["1.5", "1.5"], "_line": [2, 3]}
    assert notes == []


def test_the_careful_reader_keeps_cells_as_text_and_only_the_used_columns():
    body = "2020-01-01, 0050 ,1.50,2,0.5,1.5\n\n2020-01-02,0050,,,,\n2020-01-03,0050,1,2,0.5,1.5\n"
    raw, notes = _read(body)
    assert list(raw.columns) == ["timestamp", "symbol", "open", "high", "low", "close", "_line"]
    assert list(raw.index) == [0, 1]
    assert raw.to_dict("list") == {"timestamp": ["2020-01-01", "2020-01-03"], "symbol": ["0050", "0050"],
                                   "open": ["1.50", "1"], "high": ["2", "2"], "low": ["0.5", "0.5"],
                                   "close": ["1.5", "1.5"], "_line": [2, 5]}
    assert notes == ["Trimmed whitespace around values.", "Skipped 1 blank line(s).",
                     "Dropped 1 row(s) with no open/high/low/close at all (missing periods), e.g. line(s) 4."]


def test_rows_with_one_field_too_many_are_refused_naming_five_of_their_lines():
    rows = ["2020-01-01,0050,1,2,0.5,1.5"] + [f"2020-01-{d:02d},0050,1,2,0.5,1.5,x" for d in range(2, 9)]
    with pytest.raises(exceptions.MalformedCsvError) as caught:
        _read("\n".join(rows) + "\n")
    assert caught.value.what == "7 data line(s) have more fields than the header."
    assert caught.value.where == {"header_fields": 6, "lines": [3, 4, 5, 6, 7]}
