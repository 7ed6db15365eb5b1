"""cripto_pipeline.timestamps: numbers of 20 or more digits left empty (and reported by validation with the
cell) instead of pandas' OverflowError, the bar spacing read in UTC when cells mix offsets (or an offset and
none), a zone name followed by punctuation or by the year (Unix date(1)) refused like any zone name,
two-digit years refused instead of silently read month first, and no pandas warning from the per-element
parsing; literal values (issue 16)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from cripto_pipeline import exceptions, timestamps
from cripto_pipeline.validation import load_ohlcv

TWENTY = "1" * 20  # 1.1e19: above int64, so pandas' unit conversion overflows


def _parse(cells):
    notes = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed, fmt = timestamps.parse_timestamps(pd.Series(cells), notes)
    return [None if pd.isna(v) else str(v) for v in parsed], fmt, notes


# --- numbers too long for any unit -----------------------------------------------------------------


def test_a_20_digit_number_among_dates_is_left_empty():
    assert _parse(["2020-01-01", TWENTY]) == (
        ["2020-01-01 00:00:00+00:00", None], "%Y-%m-%d + unix s",
        ["1 timestamp(s) were unix s among %Y-%m-%d dates; all read as UTC."])


def test_a_column_of_25_digit_numbers_is_left_empty_as_unix_seconds():
    assert _parse(["9" * 25, "-" + TWENTY]) == ([None, None], "unix s", [])


def test_an_overflowing_number_leaves_the_whole_implausible_batch_empty_utc_datetimes():
    parsed, fmt = timestamps._parse_unix(pd.Series([1e25, 5.0], index=[7, 3]), [])
    assert fmt == "unix s"
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert list(parsed.index) == [7, 3] and parsed.isna().all()


def test_validation_names_the_20_digit_cell_with_its_line_and_the_fix():
    body = f"timestamp,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,3\n{TWENTY},1,2,0.5,1.5,3\n".encode()
    with pytest.raises(exceptions.UnparseableTimestampError) as raised:
        load_ohlcv(body, max_bytes=10**6, min_rows_per_symbol=1)
    assert raised.value.to_report() == {
        "error": "UnparseableTimestampError",
        "what": "1 timestamp(s) cannot be read as dates between 1990 and 2100 (format tried: %Y-%m-%d + unix s).",
        "where": {"column": "timestamp", "count": 1,
                  "samples": [{"line": 3, "column": "timestamp", "value": TWENTY}]},
        "fix": ("Use ISO 8601 ('2019-10-17' or '2019-10-17 09:00:00', UTC), the CryptoDataDownload form "
                "'2019-10-17 09-AM', or unix time in seconds or milliseconds."),
    }


# --- bar spacing across offsets ---------------------------------------------------------------------


def _hours_across_an_offset_change(first_zone: str) -> list:
    """Hourly bars on 1 and 2 January written dd/mm: the first day in ``first_zone`` (an offset or nothing,
    i.e. UTC), the second at +01:00 from 01:00, which is 00:00 UTC: one hour apart throughout in UTC."""
    return ([f"01/01/2020 {h:02d}:00{first_zone}" for h in range(24)]
            + [f"02/01/2020 {h:02d}:00+01:00" for h in range(1, 5)])


@pytest.mark.parametrize("first_zone", ["", "+00:00"], ids=["naive-then-offset", "two-offsets"])
def test_the_bar_spacing_is_measured_in_utc_when_cells_mix_offsets(first_zone):
    cells = _hours_across_an_offset_change(first_zone)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warns about mixed offsets without utc=True
        assert timestamps.order_from_spacing(pd.Series(cells)) == "day/month/year"
    parsed, fmt, notes = _parse(cells)
    assert parsed[22:] == ["2020-01-01 22:00:00+00:00", "2020-01-01 23:00:00+00:00", "2020-01-02 00:00:00+00:00",
                           "2020-01-02 01:00:00+00:00", "2020-01-02 02:00:00+00:00", "2020-01-02 03:00:00+00:00"]
    assert fmt == "other (day/month/year, from the bar spacing)"
    assert notes == ["No date has a day above 12, so the day/month order was taken from the bar spacing "
                     "(regular only in that order); prefer ISO 8601 (year first)."]


# --- zone names pandas would drop: before punctuation, before the year ------------------------------


@pytest.mark.parametrize("cells, refused", [
    # pandas drops the dot (or comma, bracket) and then the name, reading 10:00 as UTC
    (["2024-01-02 10:00 EST.", "2024-01-02 11:00 cet,", "2024-01-02 12:00:00 EST )"], [0, 1, 2]),
    # Unix date(1) writes the name between the time and the year; the middle one has no name
    (["Tue Jan 02 10:00:00 EST 2024", "Tue Jan 02 11:00:00 2024", "Jan 02 12:00 cet 2024"], [0, 2]),
], ids=["followed-by-punctuation", "between-the-time-and-the-year"])
def test_a_zone_name_is_refused_wherever_pandas_would_drop_it(cells, refused):
    with pytest.raises(exceptions.UnparseableTimestampError) as raised:
        timestamps.parse_timestamps(pd.Series(cells), [])
    assert raised.value.what == (f"{len(refused)} timestamp(s) name a time zone (CET, EST) instead of giving its "
                                 f"offset, e.g. {cells[0]!r}: a zone name can stand for several offsets.")
    assert raised.value.where == {"column": "timestamp", "count": len(refused),
                                  "samples": [{"value": cells[i]} for i in refused]}


def test_utc_between_the_time_and_the_year_and_a_day_before_a_month_name_are_still_read():
    assert _parse(["Tue Jan 02 10:00:00 UTC 2024", "Wed Jan 03 10:00:00 2024", "4 June 2024"])[0] == [
        "2024-01-02 10:00:00+00:00", "2024-01-03 10:00:00+00:00", "2024-06-04 00:00:00+00:00"]


def test_utc_and_pm_followed_by_a_dot_are_still_read():
    assert _parse(["2024-01-02 10:00 UTC.", "2024-01-02 10:00 PM."])[0] == [
        "2024-01-02 10:00:00+00:00", "2024-01-02 22:00:00+00:00"]


# --- two-digit years --------------------------------------------------------------------------------

SHORT_FIX = "Export four-digit years ('01/02/2024'), or better ISO 8601, year first ('2024-01-02')."


def test_two_digit_years_are_refused_with_the_four_digit_form_to_use():
    cells = ["2024-01-01", "01/02/24", "13.02.24 10:00", "05-06-24T10:00", "2024-01-05"]
    with pytest.raises(exceptions.AmbiguousTimestampError) as raised:
        timestamps.parse_timestamps(pd.Series(cells), [])
    assert raised.value.what == ("3 date(s) have a two-digit year, e.g. '01/02/24': the order of day, month and year "
                                 "cannot be told.")
    assert raised.value.where == {"column": "timestamp", "count": 3, "samples": [
        {"value": "01/02/24"}, {"value": "13.02.24 10:00"}, {"value": "05-06-24T10:00"}]}
    assert raised.value.fix == SHORT_FIX


def test_the_two_digit_year_refusal_shows_five_samples_and_counts_all():
    cells = [f"0{d}/01/24" for d in range(1, 8)]
    with pytest.raises(exceptions.AmbiguousTimestampError) as raised:
        timestamps.parse_timestamps(pd.Series(cells), [])
    assert raised.value.where == {"column": "timestamp", "count": 7,
                                  "samples": [{"value": cell} for cell in cells[:5]]}


def test_four_digit_years_and_month_names_with_two_digit_years_are_still_read():
    assert _parse(["13/02/2024", "01/03/2024"])[:2] == (
        ["2024-02-13 00:00:00+00:00", "2024-03-01 00:00:00+00:00"], "other (day/month/year)")
    assert _parse(["31-Dec-10", "01-Jan-11"])[:2] == (
        ["2010-12-31 00:00:00+00:00", "2011-01-01 00:00:00+00:00"], "%d-%b-%y")
    assert _parse(["2 June 2024", "3 June 2024"])[:2] == (
        ["2024-06-02 00:00:00+00:00", "2024-06-03 00:00:00+00:00"], "other (inferred)")


def test_the_readme_example_of_a_two_digit_year_is_refused():
    with pytest.raises(exceptions.AmbiguousTimestampError) as raised:
        timestamps.parse_timestamps(pd.Series(["05/11/19"]), [])
    assert raised.value.what == ("1 date(s) have a two-digit year, e.g. '05/11/19': the order of day, month and year "
                                 "cannot be told.")
