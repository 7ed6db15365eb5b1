"""cripto_pipeline.wide.melt: a wide file's exact long text, header and notes (issue 16: the mutation
run showed only the end-to-end loads covered it, without looking at the text)."""

from __future__ import annotations

from cripto_pipeline import wide


def _melt(header: str, body: str):
    cells = header.split(",")
    columns = wide.wide_columns(cells)
    notes = []
    new_header, text = wide.melt(cells, body, columns, notes)
    return new_header, text, notes


def test_a_symbol_first_wide_file_melts_into_one_row_per_symbol_and_date_in_symbol_order():
    header = "date,ETH:open,ETH:high,ETH:low,ETH:close,ETH:volume,BTC:open,BTC:high,BTC:low,BTC:close,BTC:volume"
    body = ("2020-01-01,1,2,0.5,1.5,10,100,110,90,105,7\n"
            "\n"
            "2020-01-02, 2 ,3,1,2.5,11,105,115,95,110,8\n")
    new_header, text, notes = _melt(header, body)
    assert new_header == ["timestamp", "symbol", "open", "high", "low", "close", "volume"]
    assert text == ("2020-01-01,BTC,100,110,90,105,7\n"
                    "2020-01-02,BTC,105,115,95,110,8\n"
                    "2020-01-01,ETH,1,2,0.5,1.5,10\n"
                    "2020-01-02,ETH, 2 ,3,1,2.5,11\n")
    assert notes == ["Melted a wide file (2 symbols: BTC, ETH) into one row per symbol and timestamp."]


def test_a_symbol_listed_later_starts_at_its_first_price_and_the_skip_is_reported():
    header = "day,open_BTC,high_BTC,low_BTC,close_BTC,open_SOL,high_SOL,low_SOL,close_SOL"
    body = ("d1,1,2,0.5,1.5,,,,\n"
            "d2,2,3,1,2.5, , , , \n"
            "d3,3,4,2,3.5,9,10,8,9.5\n"
            "d4,4,5,3,4.5,,,,\n")
    new_header, text, notes = _melt(header, body)
    assert new_header == ["timestamp", "symbol", "open", "high", "low", "close"]  # no volume column at all
    assert text == ("d1,BTC,1,2,0.5,1.5\nd2,BTC,2,3,1,2.5\nd3,BTC,3,4,2,3.5\nd4,BTC,4,5,3,4.5\n"
                    "d3,SOL,9,10,8,9.5\nd4,SOL,,,,\n")
    assert notes == ["Melted a wide file (2 symbols: BTC, SOL) into one row per symbol and timestamp.",
                     "Skipped the rows before each symbol's first price (no data yet): SOL: 2."]


def test_a_symbol_without_every_price_column_is_skipped_naming_what_is_missing():
    cells = "date,BTC:open,BTC:high,BTC:low,BTC:close,XRP:open,XRP:volume".split(",")
    columns = wide.wide_columns(cells)
    notes = []
    new_header, text = wide.melt(cells, "2020-01-01,1,2,0.5,1.5,7,8\n", columns, notes)
    assert text == "2020-01-01,BTC,1,2,0.5,1.5,\n"  # XRP's volume column keeps the volume field
    assert new_header == ["timestamp", "symbol", "open", "high", "low", "close", "volume"]
    assert notes == ["Skipped symbol XRP: it has no close, high, low column.",
                     "Melted a wide file (2 symbols: BTC, XRP) into one row per symbol and timestamp."]


def test_without_a_date_column_the_file_is_left_as_it_is():
    cells = "BTC:open,BTC:high,BTC:low,BTC:close".split(",")
    notes = []
    assert wide.melt(cells, "1,2,3,4\n", wide.wide_columns(cells), notes) == (cells, "1,2,3,4\n")
    assert notes == []
