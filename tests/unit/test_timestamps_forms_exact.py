"""cripto_pipeline.timestamps: a separate time-of-day column, the 1990-2100 window at its bounds, one
format per column (decided on the first 50 cells), several forms in one column and unix numbers among
dates, each with its format description and notes asserted literally (issue 16)."""

from __future__ import annotations

import pandas as pd

from cripto_pipeline import timestamps

SEVERAL = "Timestamps came in several forms ({}); each is unambiguous and all were read as UTC."
DMY_NOTE = ("Dates written day/month/year or month/day/year were read in the one order their values allow (some "
            "day is above 12); prefer ISO 8601 (year first).")


def _columns(dates, time_of_day=None):
    notes = []
    parsed, fmt = timestamps.parse_timestamp_columns(
        pd.Series(dates), None if time_of_day is None else pd.Series(time_of_day), notes)
    return [None if pd.isna(v) else str(v) for v in parsed], fmt, notes


def _parse(cells):
    notes = []
    parsed, fmt = timestamps.parse_timestamps(pd.Series(cells), notes)
    return [None if pd.isna(v) else str(v) for v in parsed], fmt, notes


def test_a_time_of_day_column_is_joined_to_the_date():
    assert _columns(["2020-01-01", "2020-01-02"], ["10:00", "11:30"]) == (
        ["2020-01-01 10:00:00+00:00", "2020-01-02 11:30:00+00:00"], "%Y-%m-%d %H:%M", [])


def test_the_window_includes_1990_and_excludes_2100():
    parsed, fmt, notes = _columns(["1990-01-01", "1989-12-31 23:59:59", "2099-12-31 23:59:59", "2100-01-01"])
    assert parsed == ["1990-01-01 00:00:00+00:00", None, "2099-12-31 23:59:59+00:00", None]
    assert fmt == "%Y-%m-%d + %Y-%m-%d %H:%M:%S"
    assert notes == [SEVERAL.format("'%Y-%m-%d': 2, '%Y-%m-%d %H:%M:%S': 2")]


def test_one_format_read_on_the_first_50_cells_and_a_51st_form_is_a_second_one():
    parsed, fmt, notes = _parse(["2020-01-01"] * 60 + ["2020/01/02"])
    assert parsed[-2:] == ["2020-01-01 00:00:00+00:00", "2020-01-02 00:00:00+00:00"]
    assert fmt == "%Y-%m-%d + %Y/%m/%d"
    assert notes == [SEVERAL.format("'%Y-%m-%d': 60, '%Y/%m/%d': 1")]


def test_the_format_that_reads_the_first_50_cells_and_then_every_cell_wins():
    # 'Z' times are read by '...%SZ' and by the later '...%S%z'; a '+01:00' time only by the latter.
    zulu, offset = "2020-01-02T03:04:05Z", "2020-01-02T03:04:05+01:00"
    parsed, fmt, notes = _parse([zulu] * 49 + [offset])  # the offset is among the first 50 cells
    assert (parsed[0], parsed[-1]) == ("2020-01-02 03:04:05+00:00", "2020-01-02 02:04:05+00:00")
    assert (fmt, notes) == ("%Y-%m-%dT%H:%M:%S%z", [])
    parsed, fmt, notes = _parse([zulu] * 50 + [offset])  # the 51st: '...%SZ' is chosen, then fails on it
    assert (parsed[0], parsed[-1]) == ("2020-01-02 03:04:05+00:00", "2020-01-02 02:04:05+00:00")
    assert fmt == "%Y-%m-%dT%H:%M:%SZ + %Y-%m-%dT%H:%M:%S%z"
    assert notes == [SEVERAL.format("'%Y-%m-%dT%H:%M:%SZ': 50, '%Y-%m-%dT%H:%M:%S%z': 1")]


def test_a_cell_no_format_reads_stays_empty_without_a_note():
    assert _parse(["2020-01-01", "garbage"]) == (["2020-01-01 00:00:00+00:00", None], "%Y-%m-%d", [])
    assert _parse(["x", "y"]) == ([None, None], "none", [])


def test_unix_numbers_among_dates_are_read_by_their_magnitude_and_said_so():
    assert _parse(["2020-01-01", "1577923200", "2020-01-03"]) == (
        ["2020-01-01 00:00:00+00:00", "2020-01-02 00:00:00+00:00", "2020-01-03 00:00:00+00:00"],
        "%Y-%m-%d + unix s", ["1 timestamp(s) were unix s among %Y-%m-%d dates; all read as UTC."])
    # a first cell that is a number does not make the column numeric when other cells are dates
    assert _parse(["1577836800", "2020-01-02"]) == (
        ["2020-01-01 00:00:00+00:00", "2020-01-02 00:00:00+00:00"], "%Y-%m-%d + unix s",
        ["1 timestamp(s) were unix s among %Y-%m-%d dates; all read as UTC."])


def test_numbers_with_a_sign_or_a_trailing_point_are_unix_times():
    assert _parse(["+1577836800", "1577836800."]) == (
        ["2020-01-01 00:00:00+00:00", "2020-01-01 00:00:00+00:00"], "unix s", [])


def test_day_month_year_dates_among_iso_dates_are_reported_twice():
    assert _parse(["2020-01-01", "13/01/2020"]) == (
        ["2020-01-01 00:00:00+00:00", "2020-01-13 00:00:00+00:00"], "%Y-%m-%d + other (day/month/year)",
        [DMY_NOTE, SEVERAL.format("'%Y-%m-%d': 1, 'other (day/month/year)': 1")])
    assert _parse(["13/01/2020", "14/01/2020"]) == (
        ["2020-01-13 00:00:00+00:00", "2020-01-14 00:00:00+00:00"], "other (day/month/year)", [DMY_NOTE])


def test_a_column_without_any_text_is_read_as_nothing():
    parsed, fmt = timestamps._parse_text_timestamps(pd.Series([None, None], dtype=object), [])
    assert parsed.isna().all() and str(parsed.dtype) == "datetime64[ns, UTC]" and fmt == "none"
