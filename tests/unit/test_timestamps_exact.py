"""cripto_pipeline.timestamps: the counts of an ambiguity report at 12, year-first dates outside the
format list, and the bar-spacing rule at its edges (mixed forms, a reading pandas cannot hold, a
repeated bar in a newest-first file, one-nanosecond steps), with literal values (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest

from cripto_pipeline import exceptions, timestamps


def _utc(*values: str) -> list:
    return [pd.Timestamp(v, tz="UTC") for v in values]


def test_a_12_counts_as_neither_day_nor_month_first_in_the_ambiguity_report():
    with pytest.raises(exceptions.AmbiguousTimestampError) as caught:
        timestamps._parse_other_dates(pd.Series(["12/01/2020", "01/12/2020", "05/06/2020"]))
    assert caught.value.where == {"column": "timestamp", "count": 3, "day_first_rows": 0, "month_first_rows": 0,
                                  "samples": [{"value": "12/01/2020"}, {"value": "01/12/2020"},
                                              {"value": "05/06/2020"}]}


def test_year_first_dates_with_a_zone_name_or_a_12_hour_clock_are_read_year_month_day():
    # Neither form is in TIMESTAMP_FORMATS: they reach the fallback parser, which must not read them day first.
    result = timestamps._parse_other_dates(pd.Series(["2020-01-02 10:00:00 UTC", "2020-01-03 10:00:00 UTC"]))
    assert list(result) == _utc("2020-01-02 10:00", "2020-01-03 10:00")
    assert result.attrs["format"] == "inferred"
    notes = []
    parsed, fmt = timestamps.parse_timestamps(pd.Series(["2020/1/2 10:00:00 PM", "2020/1/3 10:00:00 PM"]), notes)
    assert list(parsed) == _utc("2020-01-02 22:00", "2020-01-03 22:00")
    assert (fmt, notes) == ("other (inferred)", [])


def test_the_spacing_is_read_across_dates_written_with_and_without_a_time():
    # Hourly bars whose midnight bar is written without its time (as some exports do).
    hours = pd.Series(["01/01/2020 22:00", "01/01/2020 23:00", "02/01/2020", "02/01/2020 01:00",
                       "02/01/2020 02:00"])
    assert timestamps.order_from_spacing(hours) == "day/month/year"


def test_a_reading_that_pandas_cannot_hold_is_skipped_and_the_other_still_decides():
    # Read day first, 04/11/2262 is 4 November 2262, beyond pandas' last timestamp (11 April 2262): NaT.
    # Month first the eleven dates are 1 to 11 April 2262, one day apart.
    days = pd.Series([f"04/{day:02d}/2262" for day in range(1, 12)])
    assert timestamps.order_from_spacing(days) == "month/day/year"


def test_a_repeated_bar_in_a_newest_first_file_is_not_regular_either_way():
    newest_first = pd.Series([f"02/01/2020 {h:02d}:00" for h in (3, 2, 1, 0, 0)]
                             + [f"01/01/2020 {h:02d}:00" for h in (23, 22, 21)])
    assert timestamps.order_from_spacing(newest_first) is None


def test_bars_one_nanosecond_apart_move_forwards():
    # Day first, 01/02/2020 is 1 February, followed by bars 1 ns apart; month first it is 2 January, a month
    # before them.
    bars = pd.Series(["01/02/2020 00:00:00"] + [f"2020-02-01T00:00:00.00000000{n}" for n in range(1, 5)])
    assert timestamps.order_from_spacing(bars) == "day/month/year"


def test_an_ambiguity_report_shows_five_of_six_dates():
    dates = [f"0{d}/0{m}/2020" for d, m in ((1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7))]
    with pytest.raises(exceptions.AmbiguousTimestampError) as caught:
        timestamps._parse_other_dates(pd.Series(dates))
    assert caught.value.where["count"] == 6
    assert caught.value.where["samples"] == [{"value": d} for d in dates[:5]]


def test_no_order_when_both_readings_are_regular():
    # day first: 1, 2, 3 February (daily); month first: 2 January, 2 February, 2 March (monthly): both regular.
    assert timestamps.order_from_spacing(pd.Series(["01/02/2020", "02/02/2020", "03/02/2020"])) is None
