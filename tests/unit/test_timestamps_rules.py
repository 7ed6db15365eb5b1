"""cripto_pipeline.timestamps: unix units by magnitude, day/month order, the formats and notes reported,
each asserted with literal values (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from cripto_pipeline import exceptions, timestamps


def _utc(*values: str) -> list:
    return [pd.Timestamp(v, tz="UTC") for v in values]


def test_unix_units_by_magnitude_with_exact_bounds_and_the_mixed_units_note():
    low_s, high_s = timestamps.UNIX_UNITS["s"]
    assert (low_s, high_s) == (631152000, 4102444800)
    notes = []
    parsed, fmt = timestamps.parse_timestamps(pd.Series([str(low_s), "1577836800000", "1577836800"]), notes)
    assert fmt == "unix s+ms"
    assert list(parsed) == _utc("1990-01-01", "2020-01-01", "2020-01-01")
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert notes == ["Unix timestamps mixed units (2 in s, 1 in ms); each was read by its magnitude and "
                     "normalised to UTC."]
    notes = []
    parsed, fmt = timestamps.parse_timestamps(pd.Series(["1577836800", "1577840400"]), notes)
    assert (fmt, notes) == ("unix s", [])
    # the upper bound is exclusive: 2100-01-01 in seconds is read as nothing plausible in seconds
    parsed, fmt = timestamps._parse_unix(pd.Series([high_s, 1577836800]), [])
    assert fmt == "unix s" and pd.isna(parsed.iloc[0]) and parsed.iloc[1] == pd.Timestamp("2020-01-01", tz="UTC")


def test_implausible_unix_numbers_are_read_as_seconds_and_coerced():
    parsed, fmt = timestamps._parse_unix(pd.Series([5, 10**30]), [])
    assert fmt == "unix s"
    assert parsed.iloc[0] == pd.Timestamp("1970-01-01 00:00:05", tz="UTC") and pd.isna(parsed.iloc[1])


def test_a_day_above_12_fixes_the_order_for_every_row():
    result = timestamps._parse_other_dates(pd.Series(["13/01/2020", "02/01/2020"]))
    assert list(result) == _utc("2020-01-13", "2020-01-02")
    assert result.attrs["format"] == "day/month/year"
    result = timestamps._parse_other_dates(pd.Series(["01/13/2020", "01/02/2020 10:00"]))
    assert list(result) == _utc("2020-01-13", "2020-01-02 10:00")
    assert result.attrs["format"] == "month/day/year"


def test_12_is_not_above_12():
    with pytest.raises(exceptions.AmbiguousTimestampError):
        timestamps._parse_other_dates(pd.Series(["12/01/2020", "01/12/2020", "05/06/2020"]))


def test_dates_with_month_names_are_inferred():
    result = timestamps._parse_other_dates(pd.Series(["January 5 2020", "Feb 3 2021"]))
    assert list(result) == _utc("2020-01-05", "2021-02-03") and result.attrs["format"] == "inferred"


def test_an_order_that_cannot_be_told_is_refused_with_counts_and_samples():
    text = pd.Series(["x"] + [f"0{d}/0{m}/2020" for d, m in ((1, 2), (5, 1), (3, 9))])
    with pytest.raises(exceptions.AmbiguousTimestampError) as caught:
        timestamps._parse_other_dates(text)
    assert caught.value.what == ("The day/month order of dates such as '01/02/2020' cannot be told: no row has a "
                                 "day above 12.")
    assert caught.value.where == {"column": "timestamp", "count": 3, "day_first_rows": 0, "month_first_rows": 0,
                                    "samples": [{"value": "01/02/2020"}, {"value": "05/01/2020"},
                                                {"value": "03/09/2020"}]}
    with pytest.raises(exceptions.AmbiguousTimestampError) as caught:
        timestamps._parse_other_dates(pd.Series(["13/01/2020", "01/13/2020", "01/14/2020"]))
    assert caught.value.what == ("The day/month order of dates such as '13/01/2020' cannot be told: some rows put "
                                 "the day first, others the month.")
    assert (caught.value.where["day_first_rows"], caught.value.where["month_first_rows"]) == (1, 2)


def _hours(first_day: str, second_day: str, hours_first: int = 24, hours_second: int = 4) -> pd.Series:
    """Hourly bars over two dates written dd/mm or mm/dd: only one reading is one hour apart throughout."""
    return pd.Series([f"{first_day} {h:02d}:00" for h in range(hours_first)]
                     + [f"{second_day} {h:02d}:00" for h in range(hours_second)])


def test_the_bar_spacing_decides_the_order_and_says_so():
    days = _hours("01/01/2020", "02/01/2020")  # day first: 2 January follows 1 January
    assert timestamps.order_from_spacing(days) == "day/month/year"
    result = timestamps._parse_other_dates(days)
    assert result.attrs["format"] == "day/month/year, from the bar spacing"
    assert result.iloc[24] == pd.Timestamp("2020-01-02", tz="UTC")
    months_first = _hours("01/01/2020", "01/02/2020")
    assert timestamps.order_from_spacing(months_first) == "month/day/year"
    result = timestamps._parse_other_dates(months_first)
    assert result.attrs["format"] == "month/day/year, from the bar spacing"
    assert result.iloc[24] == pd.Timestamp("2020-01-02", tz="UTC")
    notes = []
    parsed, fmt = timestamps.parse_timestamps(days, notes)
    assert fmt == "other (day/month/year, from the bar spacing)"
    assert notes == ["No date has a day above 12, so the day/month order was taken from the bar spacing "
                     "(regular only in that order); prefer ISO 8601 (year first)."]


def test_spacing_rules_descending_gaps_and_unreadable_cells():
    days = _hours("01/01/2020", "02/01/2020")
    assert timestamps.order_from_spacing(days[::-1].reset_index(drop=True)) == "day/month/year"  # newest first
    # a gap of exactly 7 usual steps is still regular; 8 is not
    seven = pd.Series([f"01/01/2020 {h:02d}:00" for h in (0, 1, 2, 3, 10)] + ["02/01/2020 00:00"])
    assert timestamps.order_from_spacing(seven) is None  # 10:00 -> next day is 14 h
    seven = pd.Series([f"01/01/2020 {h:02d}:00" for h in (0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                                              21, 22, 23)] + ["02/01/2020 00:00"])
    assert timestamps.order_from_spacing(seven) == "day/month/year"
    eight = pd.Series([f"01/01/2020 {h:02d}:00" for h in (0, 1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                              22, 23)] + ["02/01/2020 00:00"])
    assert timestamps.order_from_spacing(eight) is None
    # a repeated bar is a zero step: not regular either way
    assert timestamps.order_from_spacing(pd.Series(["01/01/2020 00:00", "01/01/2020 00:00"] + list(days))) is None
    # a single date has no spacing; a cell neither reading parses leaves no order
    assert timestamps.order_from_spacing(pd.Series(["01/02/2020"])) is None
    assert timestamps.order_from_spacing(pd.Series(list(days) + ["nonsense"])) is None


def test_no_pandas_warning_escapes_the_fallback_parsing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timestamps._parse_other_dates(pd.Series(["13/01/2020", "02/01/2020 10:00"]))
        timestamps.order_from_spacing(_hours("01/01/2020", "02/01/2020"))


def test_a_time_zone_name_is_refused_with_the_offset_form_to_use_instead():
    # pandas would drop "EST" with a FutureWarning and read 10:00 as 10:00 UTC: every bar 5 hours early.
    cells = pd.Series(["2020-01-02 10:00:00 EST", "2020-01-02 11:00:00 est", "2020-01-02 12:00:00 CET"])
    with pytest.raises(exceptions.UnparseableTimestampError) as raised:
        timestamps.parse_timestamps(cells, [])
    assert raised.value.what == ("3 timestamp(s) name a time zone (CET, EST) instead of giving its offset, e.g. "
                                 "'2020-01-02 10:00:00 EST': a zone name can stand for several offsets.")
    assert raised.value.where == {"column": "timestamp", "count": 3, "samples": [
        {"value": "2020-01-02 10:00:00 EST"}, {"value": "2020-01-02 11:00:00 est"},
        {"value": "2020-01-02 12:00:00 CET"}]}
    assert raised.value.fix == ("Write the offset ('2020-01-02 10:00:00-05:00') or the time in UTC "
                                "('2020-01-02 15:00:00').")


def test_utc_and_gmt_names_and_12_hour_clocks_are_still_read():
    cells = pd.Series(["2020-01-02 10:00:00 UTC", "2020-01-02 11:00:00 GMT", "Jan 02, 2020 10:00 PM"])
    parsed, _ = timestamps.parse_timestamps(cells, [])
    assert [str(t) for t in parsed] == ["2020-01-02 10:00:00+00:00", "2020-01-02 11:00:00+00:00",
                                        "2020-01-02 22:00:00+00:00"]
