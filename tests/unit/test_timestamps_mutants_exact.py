"""cripto_pipeline.timestamps: a column of several UTC offsets read without pandas' mixed-zone warning,
the UTC dtype kept when several forms (or none) are read, unix seconds beside milliseconds among dates
reported, and a 400-digit number among dates left empty (issue 16)."""

from __future__ import annotations

import warnings

import pandas as pd

from cripto_pipeline import timestamps


def _parse(cells):
    notes = []
    parsed, fmt = timestamps.parse_timestamps(pd.Series(cells), notes)
    return parsed, fmt, notes


def test_dates_with_different_offsets_are_read_to_utc_without_a_pandas_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed, fmt, notes = _parse(["2020-01-01 00:00:00+00:00", "2020-01-01 05:00:00+05:00"])
    assert [str(v) for v in parsed] == ["2020-01-01 00:00:00+00:00", "2020-01-01 00:00:00+00:00"]
    assert fmt == "%Y-%m-%d %H:%M:%S%z"
    assert notes == []


def test_several_forms_in_one_column_stay_utc_datetimes():
    parsed, fmt, _ = _parse(["2020-01-01", "2020/01/02"])
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert [str(v) for v in parsed] == ["2020-01-01 00:00:00+00:00", "2020-01-02 00:00:00+00:00"]
    assert fmt == "%Y-%m-%d + %Y/%m/%d"


def test_a_column_no_format_reads_is_empty_utc_datetimes_and_the_window_accepts_it():
    parsed, fmt, notes = _parse(["hello", "world"])
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert parsed.isna().all() and fmt == "none" and notes == []
    notes = []
    windowed, _ = timestamps.parse_timestamp_columns(pd.Series(["hello", "world"]), None, notes)
    assert str(windowed.dtype) == "datetime64[ns, UTC]"
    assert windowed.isna().all()


def test_unix_seconds_beside_milliseconds_among_dates_are_both_reported():
    parsed, fmt, notes = _parse(["2020-01-01", "1577923200", "1578009600000"])
    assert [str(v) for v in parsed] == [
        "2020-01-01 00:00:00+00:00", "2020-01-02 00:00:00+00:00", "2020-01-03 00:00:00+00:00"]
    assert fmt == "%Y-%m-%d + unix s+ms"
    assert notes == [
        "Unix timestamps mixed units (1 in s, 1 in ms); each was read by its magnitude and normalised to UTC.",
        "2 timestamp(s) were unix s+ms among %Y-%m-%d dates; all read as UTC.",
    ]


def test_a_400_digit_number_among_dates_is_left_empty():
    parsed, fmt, notes = _parse(["2020-01-01", "1" * 400])
    assert str(parsed[0]) == "2020-01-01 00:00:00+00:00"
    assert pd.isna(parsed[1])
    assert fmt == "%Y-%m-%d + unix s"
    assert notes == ["1 timestamp(s) were unix s among %Y-%m-%d dates; all read as UTC."]
