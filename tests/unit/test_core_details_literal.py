"""Core details a fresh object shows (issue 16: these run when a module's logger or table is first
built, so the mutation run saw them only through objects made earlier): the JSON log formatter, a
missing cell's report, the accepted column names, a dataset file's key."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from cripto_pipeline import columns, csv_table, exceptions, layout, logs


def test_a_new_json_formatter_names_its_service_and_no_invocation_yet():
    formatter = logs.JsonFormatter("feature-engineering")
    assert formatter.invocation == {}
    record = logging.LogRecord("x", logging.INFO, __file__, 7, "hello %s", ("you",), None, func="f")
    entry = json.loads(formatter.format(record))
    assert (entry["service"], entry["message"], entry["level"], entry["location"]) == (
        "feature-engineering", "hello you", "INFO", "f:7")
    assert sorted(entry) == ["level", "location", "message", "service", "timestamp"]


def test_the_stdout_handler_writes_to_the_stdout_of_the_moment(capsys):
    handler = logs._StdoutHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.emit(logging.LogRecord("x", logging.INFO, __file__, 1, "to stdout", None, None))
    assert capsys.readouterr().out == "to stdout\n"


def test_a_missing_cell_is_reported_with_its_column_count_and_samples():
    raw = pd.DataFrame({"close": ["1", "NULL", "", "2"], "_line": [3, 4, 5, 6]})
    with pytest.raises(exceptions.MissingValueError) as caught:
        csv_table.check_missing(raw, ["close"])
    assert caught.value.what == "Column 'close' has 2 empty/NULL cell(s)."
    assert caught.value.where == {"column": "close", "count": 2, "samples": [
        {"line": 4, "column": "close", "value": "NULL"}, {"line": 5, "column": "close", "value": ""}]}


def test_the_accepted_close_names_keep_the_close_columns_and_add_the_fallbacks():
    accepted = columns.accepted_names()["close"]
    assert accepted[:len(columns.COLUMN_TABLE["close"])] == list(columns.COLUMN_TABLE["close"])
    assert accepted[len(columns.COLUMN_TABLE["close"]):] == [f"{n} (only without a close)"
                                                             for n in columns.CLOSE_FALLBACKS]
    assert "close" in accepted


def test_a_dataset_file_name_that_is_no_csv_is_refused_naming_the_rule():
    assert layout.dataset_file_key("btc", "2020.csv") == "raw/btc/2020.csv"
    with pytest.raises(exceptions.InvalidKeyError) as caught:
        layout.dataset_file_key("btc", "a/b.csv")
    assert str(caught.value) == "File name 'a/b.csv' must end with '.csv' and contain no '/'."
