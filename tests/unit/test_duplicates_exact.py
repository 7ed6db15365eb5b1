"""cripto_pipeline.duplicates on hand-made bars: which copies are rounding and which conflict, at the
tolerances' exact boundaries, and the exact note and error each case gives (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest

from cripto_pipeline import duplicates
from cripto_pipeline import exceptions as exc

T0 = pd.Timestamp("2026-01-01", tz="UTC")
COLUMNS = ["timestamp", "symbol", "open", "high", "low", "close", "volume", "_line"]


def bars(*rows) -> pd.DataFrame:
    """(file line, symbol, day, price, volume) -> bars whose open, high, low and close are all ``price``."""
    return pd.DataFrame(
        [(T0 + pd.Timedelta(days=day), symbol, price, price, price, price, volume, line)
         for line, symbol, day, price, volume in rows],
        columns=COLUMNS,
    )


def test_a_frame_without_duplicates_is_returned_as_it_is_without_a_note():
    frame = bars((2, "A", 0, 100.0, 5.0), (3, "A", 1, 101.0, 5.0), (4, "B", 0, 100.0, 5.0))
    notes = []
    assert duplicates.drop_rounding_duplicates(frame, notes) is frame
    assert notes == []


def test_a_rounding_copy_is_dropped_keeping_the_first_row_with_a_note_naming_its_line():
    frame = bars((2, "A", 0, 10000.0, 100.0), (3, "B", 0, 50.0, 1.0), (4, "A", 1, 10100.0, 100.0),
                 (5, "A", 0, 10000.5, 100.5))
    notes = ["earlier note"]
    kept = duplicates.drop_rounding_duplicates(frame, notes)
    assert kept["_line"].tolist() == [2, 3, 4]
    assert kept.index.tolist() == [0, 1, 2] and kept.columns.tolist() == COLUMNS  # a fresh index, no new column
    assert kept["close"].tolist() == [10000.0, 50.0, 10100.0]  # the first copy's values
    assert notes == ["earlier note", "Dropped 1 duplicate bar(s) equal to an earlier row up to rounding, "
                                     "e.g. line(s) 5; kept the first of each."]


def test_differences_exactly_at_the_tolerances_are_rounding():
    # prices: |10000 - 9999| / 10000 = 1e-4; volume: |100 - 99| / 100 = 1 %
    frame = bars((2, "A", 0, 9999.0, 99.0), (3, "A", 0, 10000.0, 100.0))
    notes = []
    assert duplicates.drop_rounding_duplicates(frame, notes)["_line"].tolist() == [2]
    assert len(notes) == 1


def test_a_price_just_beyond_the_tolerance_conflicts():
    frame = bars((2, "A", 0, 9998.9, 100.0), (3, "A", 0, 10000.0, 100.0))
    with pytest.raises(exc.DuplicateTimestampError):
        duplicates.drop_rounding_duplicates(frame, [])


def test_a_volume_just_beyond_the_tolerance_conflicts():
    frame = bars((2, "A", 0, 100.0, 98.9), (3, "A", 0, 100.0, 100.0))
    with pytest.raises(exc.DuplicateTimestampError):
        duplicates.drop_rounding_duplicates(frame, [])


def test_one_changed_price_column_alone_conflicts():
    frame = bars((2, "A", 0, 100.0, 7.0), (3, "A", 0, 100.0, 7.0))
    frame.loc[1, "low"] = 90.0
    with pytest.raises(exc.DuplicateTimestampError):
        duplicates.drop_rounding_duplicates(frame, [])


def test_every_copy_is_compared_with_the_first_one():
    # 10001 and 9999 are each within 1e-4 of the first (10000) but 2e-4 apart from each other
    frame = bars((2, "A", 0, 10000.0, 100.0), (3, "A", 0, 10001.0, 100.0), (4, "A", 0, 9999.0, 100.0))
    notes = []
    assert duplicates.drop_rounding_duplicates(frame, notes)["_line"].tolist() == [2]
    assert notes == ["Dropped 2 duplicate bar(s) equal to an earlier row up to rounding, e.g. line(s) 3, 4; "
                     "kept the first of each."]


def test_bars_of_zero_given_twice_are_rounding_copies():
    frame = bars((2, "A", 0, 0.0, 0.0), (3, "A", 0, 0.0, 0.0))
    assert duplicates.drop_rounding_duplicates(frame, [])["_line"].tolist() == [2]


def test_the_note_names_at_most_five_dropped_lines():
    frame = bars(*[(2 + n, "A", 0, 100.0, 1.0) for n in range(8)])
    notes = []
    assert duplicates.drop_rounding_duplicates(frame, notes)["_line"].tolist() == [2]
    assert notes == ["Dropped 7 duplicate bar(s) equal to an earlier row up to rounding, e.g. line(s) "
                     "3, 4, 5, 6, 7; kept the first of each."]


def test_a_conflict_is_refused_naming_the_clashing_rows_and_the_tolerances():
    frame = bars((2, "A", 0, 100.0, 10.0), (3, "A", 1, 101.0, 10.0), (4, "B", 1, 7.0, 3.0),
                 (5, "A", 0, 100.0, 10.0), (6, "A", 1, 105.0, 10.0))
    with pytest.raises(exc.DuplicateTimestampError) as refused:
        duplicates.drop_rounding_duplicates(frame, [])
    error = refused.value
    assert error.what == ("4 row(s) share a timestamp with another row of the same symbol, and 1 of these bars "
                          "have different values (beyond rounding: 0.0001 relative on prices, 1% on volume).")
    assert error.fix == "Keep one row per symbol and timestamp (remove the conflicting copies) and upload again."
    day1 = "2026-01-02T00:00:00+00:00"
    assert error.where == {"count": 4, "samples": [
        {"line": 3, "symbol": "A", "timestamp": day1, "open": 101.0, "high": 101.0, "low": 101.0, "close": 101.0,
         "volume": 10.0},
        {"line": 6, "symbol": "A", "timestamp": day1, "open": 105.0, "high": 105.0, "low": 105.0, "close": 105.0,
         "volume": 10.0},
    ]}


def test_a_conflict_lists_at_most_ten_clashing_rows():
    frame = bars(*[(2 + n, "A", n % 6, 100.0 + n, 1.0) for n in range(12)])  # 6 days, two far apart rows each
    with pytest.raises(exc.DuplicateTimestampError) as refused:
        duplicates.drop_rounding_duplicates(frame, [])
    samples = refused.value.where["samples"]
    assert refused.value.where["count"] == 12 and len(samples) == 10
    assert [s["line"] for s in samples] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # in file order


def test_a_conflict_of_a_bar_priced_1_is_measured_against_its_own_prices():
    # a 10 % difference on a bar priced 1.0, after a rounding copy of a bar priced 1000
    frame = bars((2, "A", 0, 1000.0, 5.0), (3, "A", 0, 1000.0, 5.0), (4, "B", 0, 1.0, 5.0), (5, "B", 0, 0.9, 5.0))
    with pytest.raises(exc.DuplicateTimestampError) as refused:
        duplicates.drop_rounding_duplicates(frame, [])
    assert [s["line"] for s in refused.value.where["samples"]] == [4, 5]
