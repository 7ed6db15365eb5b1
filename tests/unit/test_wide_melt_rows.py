"""cripto_pipeline.wide.melt on irregular rows: trailing delimiters, rows cut short, incomplete and late
symbols; exact text and notes (issue 16)."""

from __future__ import annotations

from cripto_pipeline import wide

from .test_wide_melt import _melt


def test_a_delimiter_at_the_end_of_every_row_adds_no_column():
    header, text, notes = _melt("date,BTC:open,BTC:high,BTC:low,BTC:close",
                                "d1,1,2,0.5,1.5,\nd2,2,3,1,2.5,\n")
    assert header == ["timestamp", "symbol", "open", "high", "low", "close"]
    assert text == "d1,BTC,1,2,0.5,1.5\nd2,BTC,2,3,1,2.5\n"
    assert notes == ["Melted a wide file (1 symbols: BTC) into one row per symbol and timestamp."]


def test_rows_cut_short_before_a_later_symbols_columns_mean_no_price_yet():
    """Exports that drop trailing empty cells: the first row stops after BTC, SOL starts in the second."""
    header, text, notes = _melt(
        "date,BTC:open,BTC:high,BTC:low,BTC:close,SOL:open,SOL:high,SOL:low,SOL:close",
        "d1,1,2,0.5,1.5\nd2,2,3,1,2.5,9,10,8,9.5\n")
    assert text == "d1,BTC,1,2,0.5,1.5\nd2,BTC,2,3,1,2.5\nd2,SOL,9,10,8,9.5\n"
    assert notes[1] == "Skipped the rows before each symbol's first price (no data yet): SOL: 1."


def test_a_symbol_without_every_price_column_does_not_stop_the_symbols_after_it():
    cells = "date,AAA:open,AAA:volume,BTC:open,BTC:high,BTC:low,BTC:close".split(",")
    notes = []
    header, text = wide.melt(cells, "d1,5,6,1,2,0.5,1.5\n", wide.wide_columns(cells), notes)
    assert text == "d1,BTC,1,2,0.5,1.5,\n"  # AAA's volume column gives the file a volume field
    assert header == ["timestamp", "symbol", "open", "high", "low", "close", "volume"]
    assert notes == ["Skipped symbol AAA: it has no close, high, low column.",
                     "Melted a wide file (2 symbols: AAA, BTC) into one row per symbol and timestamp."]


def test_every_late_symbol_is_listed_with_its_skipped_rows():
    header = ("day,open_BTC,high_BTC,low_BTC,close_BTC,open_SOL,high_SOL,low_SOL,close_SOL,"
              "open_XRP,high_XRP,low_XRP,close_XRP")
    body = ("d1,1,2,0.5,1.5,,,,,,,,\n"
            "d2,2,3,1,2.5,,,,,7,8,6,7.5\n"
            "d3,3,4,2,3.5,9,10,8,9.5,7,8,6,7.5\n")
    _, text, notes = _melt(header, body)
    assert text == ("d1,BTC,1,2,0.5,1.5\nd2,BTC,2,3,1,2.5\nd3,BTC,3,4,2,3.5\nd3,SOL,9,10,8,9.5\n"
                    "d2,XRP,7,8,6,7.5\nd3,XRP,7,8,6,7.5\n")
    assert notes[1] == "Skipped the rows before each symbol's first price (no data yet): SOL: 2, XRP: 1."
