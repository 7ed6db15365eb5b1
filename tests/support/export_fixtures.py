"""Small files in the layouts of export families that have no redistributable real file in
data/exports/ (see its NOTICE.md), written from synthetic bars: family -> file bytes."""
from __future__ import annotations

from typing import Dict

import pandas as pd

from cripto_pipeline.features import MIN_ROWS_PER_SYMBOL, synthetic_ohlcv

ROWS = MIN_ROWS_PER_SYMBOL + 15


def _bars(freq: str) -> pd.DataFrame:
    return synthetic_ohlcv(ROWS, freq=freq, seed=7).drop(columns="symbol")


def family_files() -> Dict[str, bytes]:
    hourly, daily, minute = _bars("h"), _bars("D"), _bars("min")
    ms = hourly["timestamp"].astype("int64") // 10**6
    s = hourly["timestamp"].astype("int64") // 10**9
    files = {
        "binance-klines": "\n".join(
            f"{t},{r.open:.2f},{r.high:.2f},{r.low:.2f},{r.close:.2f},{r.volume:.4f},{t + 3599999},"
            f"{r.volume * r.close:.2f},42,{r.volume / 2:.4f},{r.volume * r.close / 2:.2f},0"
            for t, r in zip(ms, hourly.itertuples())),
        "kraken-ohlcvt": "\n".join(
            f"{t},{r.open:.1f},{r.high:.1f},{r.low:.1f},{r.close:.1f},{r.volume:.8f},17"
            for t, r in zip(s, hourly.itertuples())),
        "coinbase-candles": "\n".join(
            f"{t},{r.low},{r.high},{r.open},{r.close},{r.volume}" for t, r in zip(s, hourly.itertuples())),
        "kaggle-minutes": "Timestamp,Open,High,Low,Close,Volume_(BTC),Volume_(Currency),Weighted_Price\n" + "\n".join(
            [f"{t},{r.open},{r.high},{r.low},{r.close},{r.volume},{r.volume * r.close},{r.close}"
               for t, r in zip(minute["timestamp"].astype("int64") // 10**9, minute.itertuples())]
            + [f"{int(minute['timestamp'].iloc[-1].timestamp()) + 60},NaN,NaN,NaN,NaN,NaN,NaN,NaN"]),
        "investing-com": '"Date","Price","Open","High","Low","Vol.","Change %"\n' + "\n".join(
            f'"{t:%b %d, %Y}","{r.close * 100:,.2f}","{r.open * 100:,.2f}","{r.high * 100:,.2f}",'
            f'"{r.low * 100:,.2f}","{r.volume:.2f}K","0.10%"'
            for t, r in zip(daily["timestamp"][::-1], daily[::-1].itertuples()))
        + '\n"Highest: 1","Lowest: 1","Difference: 0","Average: 1","Change %: 0"',
        "metatrader": "\r\n".join(
            f"{t:%Y.%m.%d},{t:%H:%M},{r.open:.5f},{r.high:.5f},{r.low:.5f},{r.close:.5f},{int(r.volume)}"
            for t, r in zip(hourly["timestamp"], hourly.itertuples())),
        "decimal-comma": "Date;Open;High;Low;Close;Volume\n" + "\n".join(
            f"{t:%d.%m.%Y};{r.open:.4f};{r.high:.4f};{r.low:.4f};{r.close:.4f};{r.volume:.2f}".replace(".", ",")
            .replace(f"{t:%d,%m,%Y}", f"{t:%d.%m.%Y}")
            for t, r in zip(daily["timestamp"], daily.itertuples())),
        "tradingview": "time,open,high,low,close,Volume,MA,RSI\n" + "\n".join(
            f"{t},{r.open},{r.high},{r.low},{r.close},{r.volume},,"
            for t, r in zip(s, hourly.itertuples())),
    }
    return {family: text.encode("utf-16" if family == "metatrader" else "utf-8") for family, text in files.items()}
