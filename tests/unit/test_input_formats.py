"""One small fixture per export family and per repair (issue 10), through load_ohlcv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import exceptions as exc
from cripto_pipeline.columns import COLUMN_TABLE, HEADERLESS_LAYOUTS
from cripto_pipeline.features import MIN_ROWS_PER_SYMBOL, synthetic_ohlcv
from cripto_pipeline.validation import load_ohlcv

ROWS = MIN_ROWS_PER_SYMBOL + 10


def bars(rows: int = ROWS, freq: str = "D") -> pd.DataFrame:
    return synthetic_ohlcv(rows, freq=freq).drop(columns="symbol")


def load(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return load_ohlcv(data, max_bytes=10_000_000)


def lines(frame: pd.DataFrame, columns, timestamp, sep=",", fmt="{:.6f}") -> list:
    out = []
    for row, ts in zip(frame.itertuples(index=False), timestamp):
        values = {"o": row.open, "h": row.high, "l": row.low, "c": row.close, "v": row.volume}
        out.append(sep.join([str(ts)] + [fmt.format(values[c]) for c in columns]))
    return out


def assert_prices(result, frame: pd.DataFrame, tolerance: float = 1e-5) -> None:
    got = result.frame
    assert len(got) == len(frame)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(got[column].to_numpy(), frame[column].to_numpy(), rtol=tolerance)


def warned(result, text: str) -> bool:
    return any(text in w for w in result.warnings)


# --- exchange and aggregator families --------------------------------------------------------


def test_cryptodatadownload_volumefrom_volumeto_unix_ms_and_tradecount():
    frame = bars(freq="h")
    ms = frame["timestamp"].astype("int64") // 10**6
    rows = [f"{u},{t:%Y-%m-%d %H:%M:%S},BTC/USD,{r.open},{r.high},{r.low},{r.close},{r.volume},{r.volume * r.close},7"
            for u, t, r in zip(ms, frame["timestamp"], frame.itertuples())]
    text = "https://www.CryptoDataDownload.com\nunix,date,symbol,open,high,low,close,Volume BTC,Volume USD,tradecount\n"
    result = load(text + "\n".join(reversed(rows)))
    assert_prices(result, frame)
    assert result.details["columns"]["timestamp"] == "unix"
    assert warned(result, "Used 'volume_btc' as the volume (base-asset volume)")
    text = text.replace("Volume BTC,Volume USD", "VolumeFrom,VolumeTo")
    result = load(text + "\n".join(rows))
    assert result.details["columns"]["volume"] == "VolumeFrom"
    np.testing.assert_allclose(result.frame["volume"], frame["volume"])


def test_kaggle_minute_file_with_empty_rows_for_missing_minutes():
    frame = bars(freq="min")
    seconds = frame["timestamp"].astype("int64") // 10**9
    rows = lines(frame, "ohlcv", seconds)
    rows = [f"{r},{v * 100:.2f},{100:.2f}" for r, v in zip(rows, frame["volume"])]
    missing = f"{int(seconds.iloc[-1]) + 60},NaN,NaN,NaN,NaN,NaN,NaN,NaN"
    text = "Timestamp,Open,High,Low,Close,Volume_(BTC),Volume_(Currency),Weighted_Price\n"
    result = load(text + "\n".join(rows[:100] + [missing.replace(str(int(seconds.iloc[-1]) + 60), str(int(seconds.iloc[99]) + 30))] + rows[100:]))
    assert_prices(result, frame)
    assert warned(result, "Dropped 1 row(s) with no open/high/low/close at all")
    assert result.details["columns"]["volume"] == "Volume_(BTC)"


def test_partly_empty_row_is_still_refused():
    frame = bars()
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y-%m-%d"))
    rows[5] = rows[5].split(",")[0] + ",,,,1.0,2.0"
    with pytest.raises(exc.MissingValueError):
        load("date,open,high,low,close,volume\n" + "\n".join(rows))


@pytest.mark.parametrize(
    "layout, columns, unit",
    [
        ("Binance klines", "ohlcv", "ms"),
        ("Kraken OHLCVT", "ohlcv", "s"),
        ("Bitfinex candles", "ochlv", "ms"),
        ("Coinbase candles", "lhocv", "s"),
    ],
)
def test_headerless_exchange_dumps_by_count_and_content(layout, columns, unit):
    frame = bars(freq="h")
    stamps = frame["timestamp"].astype("int64") // (10**6 if unit == "ms" else 10**9)
    rows = lines(frame, columns, stamps)
    if layout == "Binance klines":
        rows = [f"{r},{s + 3599999},{v:.2f},12,1.0,2.0,0" for r, s, v in zip(rows, stamps, frame["volume"])]
    elif layout == "Kraken OHLCVT":
        rows = [r + ",17" for r in rows]
    result = load("\n".join(rows) + "\n")
    assert_prices(result, frame)
    assert warned(result, f"read its {len(rows[0].split(','))} columns as {layout}")
    assert (result.frame["timestamp"] == frame["timestamp"]).all()


def test_headerless_file_that_fits_several_layouts_is_refused_with_the_candidates():
    rows = [f"{1577836800 + 3600 * i},5,5,5,5,1" for i in range(ROWS)]
    with pytest.raises(exc.MissingColumnError) as caught:
        load("\n".join(rows))
    assert len(caught.value.where["layouts"]) > 1
    assert "header" in caught.value.fix


def test_metatrader_headerless_with_separate_date_and_time():
    frame = bars(freq="h")
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y.%m.%d,%H:%M"), fmt="{:.5f}")
    result = load("\r\n".join(rows))
    assert_prices(result, frame)
    assert (result.frame["timestamp"] == frame["timestamp"]).all()
    assert warned(result, "MetaTrader")


def test_ninjatrader_semicolon_headerless_yyyymmdd_hhmmss():
    frame = bars(freq="min")
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y%m%d %H%M%S"), sep=";")
    result = load("\n".join(rows))
    assert_prices(result, frame)
    assert (result.frame["timestamp"] == frame["timestamp"]).all()
    assert result.details["timestamp_format"] == "%Y%m%d %H%M%S"


def test_metatrader_header_with_angle_brackets_tab_separated():
    frame = bars(freq="h")
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y.%m.%d\t%H:%M:%S"), sep="\t")
    result = load("<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\n".replace("<TICKVOL>", "<VOL>") + "\n".join(rows))
    assert (result.frame["timestamp"] == frame["timestamp"]).all()
    assert warned(result, "Joined the date column")


# --- stock and web exports --------------------------------------------------------------------


def test_yfinance_datetime_offsets_adj_close_dividends_splits():
    frame = bars(freq="h")
    local = frame["timestamp"].dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d %H:%M:%S%z")
    local = local.str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)
    rows = [f"{t},{r.open},{r.high},{r.low},{r.close},{r.close * 0.9},{int(r.volume)},0.0,0.0"
            for t, r in zip(local, frame.itertuples())]
    result = load("Datetime,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits\n" + "\n".join(rows))
    assert (result.frame["timestamp"] == frame["timestamp"]).all()
    assert result.details["columns"]["close"] == "Close"
    assert warned(result, "Ignored column(s) not used by the pipeline: Adj Close, Dividends, Stock Splits")


def test_close_from_last_when_it_is_the_only_close():
    frame = bars()
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%m/%d/%Y"))
    result = load("Time,Open,High,Low,Last,Volume\n" + "\n".join(rows))
    assert_prices(result, frame)
    assert warned(result, "Used 'Last' as the close")


def test_investing_com_quoted_thousands_suffixes_month_names_and_footer():
    frame = bars()
    frame[["open", "high", "low", "close"]] *= 100  # prices above 1,000
    rows = [
        f'"{t:%b %d, %Y}","{r.close:,.2f}","{r.open:,.2f}","{r.high:,.2f}","{r.low:,.2f}","{r.volume:.3f}K","0.5%"'
        for t, r in zip(frame["timestamp"], frame.itertuples())
    ]
    footer = '"Highest: 12,000.00","Lowest: 9,000.00","Difference: 3,000.00","Average: 10,000.00","Change %: 5.1"'
    text = '"Date","Price","Open","High","Low","Vol.","Change %"\n' + "\n".join(reversed(rows)) + "\n\n" + footer + "\n"
    result = load(text)
    assert_prices(result, frame, tolerance=1e-4)
    np.testing.assert_allclose(result.frame["volume"], frame["volume"] * 1000, rtol=1e-3)
    assert warned(result, "Used 'Price' as the close")
    assert warned(result, "footer")
    assert warned(result, "K/M/B suffix")


def test_decimal_comma_with_semicolons():
    frame = bars()
    rows = [f"{t:%Y-%m-%d};{r.open:.4f};{r.high:.4f};{r.low:.4f};{r.close:.4f};{r.volume * 1000:,.2f}"
            .replace(",", "_").replace(".", ",").replace("_", ".")
            for t, r in zip(frame["timestamp"], frame.itertuples())]
    result = load("Datum;Open;High;Low;Close;Volume\n".replace("Datum", "date") + "\n".join(rows))
    assert_prices(result, frame, tolerance=1e-4)
    np.testing.assert_allclose(result.frame["volume"], frame["volume"] * 1000, rtol=1e-4)
    assert warned(result, "decimal comma")


def test_twelve_hour_clock():
    frame = bars(freq="h")
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y-%m-%d %I:%M %p"))
    result = load("date,open,high,low,close,volume\n" + "\n".join(rows))
    assert (result.frame["timestamp"] == frame["timestamp"]).all()


def test_day_month_order_from_regular_bar_spacing():
    stamps = pd.date_range("2020-01-01", periods=ROWS, freq="h", tz="UTC")
    frame = bars(freq="h")  # hourly bars over 11 days: no day above 12, regular only day-first
    rows = lines(frame, "ohlcv", stamps.strftime("%d/%m/%Y %H:%M"))
    result = load("date,open,high,low,close,volume\n" + "\n".join(rows))
    assert (result.frame["timestamp"] == stamps).all()
    assert warned(result, "taken from the bar spacing")


# --- pandas and wide files --------------------------------------------------------------------


def test_pandas_to_csv_unnamed_index_and_fewer_header_names():
    frame = bars()
    frame.index = frame.pop("timestamp").dt.strftime("%Y-%m-%d").rename(None)
    unnamed = load(frame.to_csv())
    assert_prices(unnamed, frame)
    assert warned(unnamed, "unnamed first column")
    fewer = load(frame.to_csv().split("\n", 1)[1].join([",".join(frame.columns) + "\n", ""]))
    assert_prices(fewer, frame)
    assert warned(fewer, "one name fewer")


@pytest.mark.parametrize("style", ["{s}:{f}", "{f}_{s}"])
def test_wide_file_is_melted_and_late_symbols_skipped(style):
    btc, eth = bars(ROWS + 20), bars(ROWS + 20)
    eth[["open", "high", "low", "close"]] /= 10
    wide = pd.DataFrame(index=btc["timestamp"].dt.strftime("%Y-%m-%d"))
    for symbol, frame in (("BTC", btc), ("ETH", eth)):
        for field in ("open", "high", "low", "close", "volume"):
            wide[style.format(s=symbol, f=field)] = frame[field].to_numpy()
    wide.iloc[:20, 5:] = np.nan  # ETH listed 20 days later
    result = load(wide.to_csv())
    counts = result.frame["symbol"].value_counts()
    assert counts["BTC"] == ROWS + 20 and counts["ETH"] == ROWS
    assert warned(result, "Melted a wide file (2 symbols: BTC, ETH)")
    assert warned(result, "ETH: 20")


# --- duplicates, encodings --------------------------------------------------------------------


def test_duplicate_bars_equal_up_to_rounding_keep_one_with_a_warning():
    frame = bars()
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y-%m-%d"), fmt="{:.8f}")
    rounded = lines(frame.iloc[100:110], "ohlcv", frame["timestamp"].iloc[100:110].dt.strftime("%Y-%m-%d"), fmt="{:.4f}")
    result = load("date,open,high,low,close,volume\n" + "\n".join(rows[:110] + rounded + rows[110:]))
    assert len(result.frame) == ROWS
    assert warned(result, "Dropped 10 duplicate bar(s) equal to an earlier row up to rounding")


def test_conflicting_duplicate_bars_are_refused_naming_the_rows():
    frame = bars()
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y-%m-%d"))
    changed = lines(frame.iloc[[50]][["open", "high", "low", "close", "volume"]] * 1.01, "ohlcv", frame["timestamp"].iloc[[50]].dt.strftime("%Y-%m-%d"))
    with pytest.raises(exc.DuplicateTimestampError) as caught:
        load("date,open,high,low,close,volume\n" + "\n".join(rows + changed))
    assert sorted(s["line"] for s in caught.value.where["samples"]) == [52, ROWS + 2]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "latin-1"])
def test_text_encodings(encoding):
    frame = bars()
    rows = lines(frame, "ohlcv", frame["timestamp"].dt.strftime("%Y-%m-%d"))
    text = "Kurs \u00e9tabli \u00b0 \u00a3\r\ndate,open,high,low,close,volume\r\n" + "\r\n".join(rows)
    result = load(text.encode(encoding))
    assert_prices(result, frame)


def test_mapping_table_and_layouts_are_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Input files", 1)[1].split("\n## ", 1)[0]
    for names in COLUMN_TABLE.values():
        for name in names:
            assert f"`{name}`" in section, name
    for layout in HEADERLESS_LAYOUTS:
        assert layout.split(" (")[0] in section, layout
