"""cripto_pipeline.csv_table: exact behaviour of pandas_index, read_clean_body and numeric_column at the
edges the mutation run found untested (issue 16)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import csv_table, exceptions

INDEX_NOTE = "The header has one name fewer than the rows have fields: read the first field as an unnamed index column."
CELLS = ["timestamp", "open", "close"]
MAPPING = {"timestamp": 0, "open": 1, "close": 2}


# --- pandas_index ---------------------------------------------------------------------------------

def test_a_timestamp_with_a_space_counts_as_one_field_when_detecting_an_unnamed_index():
    notes = []
    cells, body = csv_table.pandas_index(["open", "close"], "2019-10-17 09:00,1,2\n", notes)
    assert cells == ["", "open", "close"]
    assert body == "2019-10-17 09:00,1,2\n"
    assert notes == [INDEX_NOTE]


def test_a_last_field_of_only_x_is_a_value_not_padding():
    # 'X' is a real ticker (US Steel): the last field is non-empty, so the row has one field more.
    notes = []
    cells, _ = csv_table.pandas_index(["open", "symbol"], "2020-01-01,1.5,X\n", notes)
    assert cells == ["", "open", "symbol"]
    assert notes == [INDEX_NOTE]


def test_only_the_first_twenty_body_lines_are_looked_at_for_an_unnamed_index():
    notes = []
    body = "\n" * 20 + "2020-01-01,1,2\n"
    cells, returned = csv_table.pandas_index(["open", "close"], body, notes)
    assert cells == ["open", "close"]
    assert returned == body
    assert notes == []


def test_the_twentieth_body_line_is_still_looked_at():
    notes = []
    body = "\n" * 19 + "2020-01-01,1,2\n"
    cells, _ = csv_table.pandas_index(["open", "close"], body, notes)
    assert cells == ["", "open", "close"]
    assert notes == [INDEX_NOTE]


def test_an_empty_header_and_an_empty_body_are_returned_unchanged():
    notes = []
    assert csv_table.pandas_index([], "", notes) == ([], "")
    assert notes == []


# --- read_clean_body ------------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["NULL", "#N/A", "N/A", "None"])
def test_the_fast_path_hands_a_pandas_null_word_in_a_text_column_to_the_careful_reader(token):
    body = f"{token},1,2\n2020-01-02,1,2\n"
    assert csv_table.read_clean_body(body, CELLS, MAPPING, 1) is None


def test_the_fast_path_returns_the_numbers_of_a_well_formed_body():
    raw = csv_table.read_clean_body("2020-01-01,1,2\n2020-01-02,3,4.5\n", CELLS, MAPPING, 1)
    assert raw.to_dict("list") == {"timestamp": ["2020-01-01", "2020-01-02"], "open": [1.0, 3.0],
                                   "close": [2.0, 4.5], "_line": [2, 3]}


def test_the_fast_path_refuses_rows_with_two_extra_fields_the_last_one_empty():
    # The first field must stay the timestamp (never an index): the extra '3' fills the spare column.
    assert csv_table.read_clean_body("2020-01-01,1,2,3,\n2020-01-02,1,2,3,\n", CELLS, MAPPING, 1) is None


# --- numeric_column -------------------------------------------------------------------------------

def test_a_float32_column_is_returned_as_float64():
    raw = pd.DataFrame({"close": np.array([1.5, 2.25], dtype="float32"), "_line": [2, 3]})
    values = csv_table.numeric_column(raw, "close", [])
    assert values.dtype == np.dtype("float64")
    assert values.tolist() == [1.5, 2.25]


def test_a_nan_next_to_a_number_with_thousands_separators_is_reported_as_non_finite():
    raw = pd.DataFrame({"close": ["1,234", "nan"], "_line": [2, 3]})
    notes = []
    with pytest.raises(exceptions.NonFiniteValueError) as caught:
        csv_table.numeric_column(raw, "close", notes)
    assert "Column 'close' has 1 NaN or infinite value(s)." in str(caught.value)
    assert notes == ["Column 'close': read 1 number(s) with thousands separators or a K/M/B suffix (e.g. '1,234')."]
