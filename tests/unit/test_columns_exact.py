"""cripto_pipeline.columns: header names normalised and matched, the mapping with its priorities and
notes (date + time, unnamed index, close fallback, ignored columns), the volume choice and every
refusal, asserted literally (issue 16)."""

from __future__ import annotations

import pytest

from cripto_pipeline import columns, exceptions

PRICES = ["open", "high", "low", "close"]
NO_VOLUME = ("The file has no volume column: volume is taken as 0, so the model trains on price features only "
             "(volume features are constant).")
VOLUME_FIX = "Keep one volume column (the base-asset volume) or rename it 'volume'."


def _map(cells):
    notes = []
    return columns.map_columns(cells, notes), notes


@pytest.mark.parametrize("cell, name", [
    ("\ufeff Volume (BTC) ", "volume_btc"), ("<DATE>", "date"), ("Adj Close", "adj_close"), ("__x__", "x"),
    ("Open-Price", "open_price"), ("  ", ""),
])
def test_header_cells_are_normalised(cell, name):
    assert columns.normalise_name(cell) == name


@pytest.mark.parametrize("name, canonical", [
    ("close_usd", "close"), ("open_price", "open"), ("high_1", "high"), ("timestamp_gmt", "timestamp"),
    ("volume_abc", "volume"), ("symbol", "symbol"), ("max", "high"), ("period", "timestamp"),
    ("low_", None), ("closex", None), ("date_utc", None), ("close_eur_x", None), ("adj_close", None),
])
def test_a_name_is_a_table_name_or_a_price_or_time_name_with_a_unit(name, canonical):
    assert columns.canonical_of(name) == canonical


def test_a_header_line_counts_distinct_canonical_columns():
    assert columns.recognised(["open", "Open ", "o", "x"]) == 1
    assert columns.recognised(["Date", "Close USD", "volume_eth", "foo"]) == 3


def test_the_first_name_of_the_table_wins_and_the_others_are_ignored_with_a_note():
    mapping, notes = _map(["time", "date", "datetime", "o", "open", "high", "low", "close", "volume"])
    assert mapping == {"timestamp": 2, "open": 4, "high": 5, "low": 6, "close": 7, "volume": 8}
    assert notes == ["Ignored column(s) not used by the pipeline: time, date, o."]
    mapping, notes = _map(["timestamp", *PRICES[:3], "close_usd", "close"])  # a table name beats a suffixed one
    assert mapping["close"] == 5
    assert notes == [NO_VOLUME, "Ignored column(s) not used by the pipeline: close_usd."]
    assert _map(["timestamp", *PRICES[:3], "close_usd"]) == (
        {"timestamp": 0, "open": 1, "high": 2, "low": 3, "close": 4}, [NO_VOLUME])


def test_a_date_column_and_a_time_column_are_joined():
    mapping, notes = _map(["Date", "Time", "Open", "High", "Low", "Close", "Volume", "Extra"])
    assert mapping == {"timestamp": 0, "open": 2, "high": 3, "low": 4, "close": 5, "time_of_day": 1, "volume": 6}
    assert notes == ["Joined the date column 'Date' and the time column 'Time' into one timestamp.",
                     "Ignored column(s) not used by the pipeline: Extra."]


def test_an_unnamed_first_column_is_the_timestamp_only_without_one():
    mapping, notes = _map(["", *PRICES])
    assert mapping == {"open": 1, "high": 2, "low": 3, "close": 4, "timestamp": 0}
    assert notes == ["Used the unnamed first column (e.g. a pandas index) as the timestamp.", NO_VOLUME]
    mapping, notes = _map(["Date", *PRICES, "", ""])  # empty names further right are neither used nor listed
    assert mapping == {"timestamp": 0, "open": 1, "high": 2, "low": 3, "close": 4} and notes == [NO_VOLUME]


def test_close_falls_back_to_last_before_adj_close_only_without_a_close():
    mapping, notes = _map(["date", *PRICES[:3], "Adj Close", "Last"])
    assert mapping["close"] == 5
    assert notes == ["Used 'Last' as the close (the file has no close column).", NO_VOLUME,
                     "Ignored column(s) not used by the pipeline: Adj Close."]


def test_symbol_columns_by_priority():
    mapping, notes = _map(["timestamp", *PRICES, "symbol", "pair"])
    assert mapping["symbol"] == 5 and notes == [NO_VOLUME, "Ignored column(s) not used by the pipeline: pair."]


def test_duplicate_names_after_normalising_are_refused():
    with pytest.raises(exceptions.DuplicateColumnError) as caught:
        _map(["timestamp", "Timestamp ", "open", "Open", "high"])
    assert caught.value.what == "Duplicate column name(s): open, timestamp."
    assert caught.value.where == {"columns": {"timestamp": ["timestamp", "Timestamp "], "open": ["open", "Open"]}}
    assert caught.value.fix == "Keep one column per name: remove or rename the duplicates."


def test_missing_columns_are_named_with_the_header_and_the_accepted_names():
    with pytest.raises(exceptions.MissingColumnError) as caught:
        _map([" ts ", "open"])
    assert caught.value.what == "Missing column(s): timestamp, high, low, close."
    assert caught.value.where["missing"] == ["timestamp", "high", "low", "close"]
    assert caught.value.where["header"] == ["ts", "open"]
    assert caught.value.where["accepted"] == columns.accepted_names()


def test_the_accepted_names_add_the_close_fallbacks_without_changing_the_table():
    accepted = columns.accepted_names()
    assert accepted["close"] == ["close", "c", "close_price", "closing_price", "last (only without a close)",
                                 "price (only without a close)", "last_price (only without a close)",
                                 "adj_close (only without a close)", "adjclose (only without a close)",
                                 "adjusted_close (only without a close)"]
    assert accepted["open"] == ["open", "o", "open_price", "opening_price", "first"]
    assert sorted(accepted) == ["close", "high", "low", "open", "symbol", "timestamp", "volume"]
    assert columns.COLUMN_TABLE["close"] == ("close", "c", "close_price", "closing_price")


@pytest.mark.parametrize("volumes, chosen, note", [
    (["volume_btc", "volume_usd", "volume"], 5,
     "Used 'volume_btc' as the volume (base-asset volume); ignored volume_usd, volume."),
    (["volumefrom", "volumeto"], 5, "Used 'volumefrom' as the volume (base-asset volume); ignored volumeto."),
    (["volume", "volumeto"], 5, "Used 'volume' as the volume (plain volume, no base-asset column); ignored volumeto."),
    (["volume_currency", "volume"], 6,
     "Used 'volume' as the volume (plain volume, no base-asset column); ignored volume_currency."),
    (["volume_usdt"], 5, None),
])
def test_the_base_asset_volume_then_a_plain_one_is_chosen(volumes, chosen, note):
    mapping, notes = _map(["timestamp", *PRICES, *volumes])
    assert mapping["volume"] == chosen
    assert notes == ([note] if note else [])


@pytest.mark.parametrize("volumes", [["volume_eth", "volume_btc"], ["volumefrom", "volume_from"], ["vol", "volume"],
                                     ["volume_eth", "volume_btc", "volume"],  # two base volumes: a plain one does not help
                                     ["volume_usd", "volumeto"], ["quote_volume", "volume_quote"]])
def test_two_volumes_of_the_best_kind_present_are_ambiguous(volumes):
    with pytest.raises(exceptions.AmbiguousVolumeError) as caught:
        _map(["timestamp", *PRICES, *volumes])
    assert caught.value.what == (f"Several volume columns ({', '.join(volumes)}) and no rule picks the base-asset "
                                 "one.")
    assert caught.value.where == {"volume_columns": volumes}
    assert caught.value.fix == VOLUME_FIX
