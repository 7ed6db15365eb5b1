"""cripto_pipeline.timestamps: a zone name followed by an offset ('10:00 GMT+1', '10:00 EST-0500') is refused.
dateutil reads such an offset the POSIX way, sign reversed ('GMT+1' one hour behind UTC), or drops it after a
space, so the bars would silently move; a 12-hour time with an offset ('10:00 PM +05:00') is still read."""

from __future__ import annotations

import pandas as pd
import pytest

from cripto_pipeline import exceptions, timestamps
from cripto_pipeline.validation import load_ohlcv

WHY = ("such offsets are read with their sign reversed (POSIX: GMT+1 is one hour behind UTC) or dropped, so the "
       "times would be wrong.")
FIX = "Write the offset alone, after the time ('2020-01-02 10:00:00+01:00'), or the time in UTC."


def _refusal(cells):
    with pytest.raises(exceptions.UnparseableTimestampError) as raised:
        timestamps.parse_timestamps(pd.Series(cells), [])
    return raised.value


@pytest.mark.parametrize("cell, name", [
    ("2024-01-02 10:00 GMT+1", "GMT"),            # pandas: 11:00 UTC, the right answer is 09:00
    ("2024-01-02 10:00 UTC-0500", "UTC"),         # minutes without a colon
    ("2024-01-02 10:00:00 est-05:00", "EST"),     # with a colon, lower case
    ("2024-01-02 10:00 UTC +05:00", "UTC"),       # a space before the offset: pandas drops it (10:00 UTC)
    ("2024-01-02 10:00:00.250 Z+05:00", "Z"),     # a fraction of a second, a one-letter name
    ("2024-01-02 10:00:00,5 CHAST+12:45", "CHAST"),  # a decimal comma, a five-letter name
    ("Jan 02 2024 10:00 GMT+1.", "GMT"),          # punctuation after it
])
def test_a_zone_name_with_an_offset_is_refused_whatever_the_name(cell, name):
    refused = _refusal([cell, cell])
    assert refused.what == (f"2 timestamp(s) give a zone name and an offset ({name}), e.g. {cell!r}: " + WHY)
    assert refused.where == {"column": "timestamp", "count": 2, "samples": [{"value": cell}, {"value": cell}]}
    assert refused.fix == FIX


def test_the_refusal_names_every_zone_counts_every_cell_and_shows_five():
    cells = ["2024-01-02 10:00 GMT+1", "2024-01-02 11:00 UTC+1", "2024-01-02 12:00+01:00"] + [
        f"2024-01-0{d} 10:00 gmt+1" for d in range(3, 9)]
    refused = _refusal(cells)
    assert refused.what == ("8 timestamp(s) give a zone name and an offset (GMT, UTC), e.g. "
                            "'2024-01-02 10:00 GMT+1': " + WHY)
    assert refused.where == {"column": "timestamp", "count": 8, "samples": [
        {"value": v} for v in ["2024-01-02 10:00 GMT+1", "2024-01-02 11:00 UTC+1", "2024-01-03 10:00 gmt+1",
                               "2024-01-04 10:00 gmt+1", "2024-01-05 10:00 gmt+1"]]}


def test_a_name_with_an_offset_is_refused_before_the_zone_name_rule():
    # EST alone would get the zone-name refusal; with an offset the offset's sign is the danger
    refused = _refusal(["2024-01-02 10:00 EST", "2024-01-02 11:00 EST-0500"])
    assert refused.what.startswith("1 timestamp(s) give a zone name and an offset (EST), e.g. '2024-01-02 11:00 EST-0500'")


@pytest.mark.parametrize("cells, expected", [
    # a 12-hour clock followed by an ordinary offset: 10 PM at +05:00 is 17:00 UTC
    (["2024-01-02 10:00 PM +05:00", "2024-01-02 11:00 pm-05:00"],
     ["2024-01-02 17:00:00+00:00", "2024-01-03 04:00:00+00:00"]),
    (["2024-01-02 10:00 AM+01:00", "2024-01-02 11:00 am+01:00"],
     ["2024-01-02 09:00:00+00:00", "2024-01-02 10:00:00+00:00"]),
    # no clock time before the letters: a day and a month, not a zone
    (["2 Jan-2024", "3 Jan-2024"], ["2024-01-02 00:00:00+00:00", "2024-01-03 00:00:00+00:00"]),
    # the offset alone, and a name alone that pandas reads
    (["2024-01-02 10:00-05:00", "2024-01-02 11:00 UTC"], ["2024-01-02 15:00:00+00:00", "2024-01-02 11:00:00+00:00"]),
])
def test_offsets_without_a_zone_name_are_still_read(cells, expected):
    parsed, _ = timestamps.parse_timestamps(pd.Series(cells), [])
    assert [str(v) for v in parsed] == expected


def test_an_upload_with_named_offsets_is_refused_with_the_fix():
    body = ("timestamp,open,high,low,close,volume\n"
            "2024-01-02 10:00 GMT+1,1,2,0.5,1.5,3\n2024-01-02 11:00 GMT+1,1,2,0.5,1.5,3\n").encode()
    with pytest.raises(exceptions.UnparseableTimestampError) as raised:
        load_ohlcv(body)
    assert raised.value.fix == FIX
    assert raised.value.where["count"] == 2
