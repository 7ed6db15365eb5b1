"""Raw CSV bytes -> canonical OHLCV frame, or one specific InputRejectedError.

The steps, each in its own module of plain functions (the Spark path applies the same rules):

1. ``csv_dialect``: bytes -> text (UTF-8 with/without BOM, UTF-16, Latin-1), the delimiter
   (comma, semicolon, tab, pipe) and decimal comma, footer lines.
2. ``csv_table``: the header line (or a header-less layout: Binance, Kraken, MetaTrader, Bitfinex,
   Coinbase, NinjaTrader...), banner lines before it.
3. ``wide``: wide multi-asset files (``BTC:open`` / ``open_BTC``) melted into long form.
4. ``columns.map_columns``: THE mapping table (``columns.COLUMN_TABLE``) and the volume choice.
5. ``csv_table``: the body rows with their file line numbers, prices and volume as numbers
   (thousands separators and K/M/B suffixes read; rows for missing periods dropped).
6. ``timestamps.parse_timestamp_columns``: every timestamp form (a separate time-of-day column
   joined), converted to UTC; dates outside 1990-2100 are unreadable.
7. Checks: prices > 0, volume >= 0, OHLC consistent, time order, duplicate bars (identical up to
   rounding -> one kept; else refused), rows per symbol >= the walk-forward minimum.

Every repair and every choice is returned in ``ValidatedData.warnings`` (the manifest's warnings):
nothing is guessed silently. Everything else is rejected with what, where and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from . import exceptions as exc
from .columns import PRICE_COLUMNS, map_columns, normalise_name
from .config import DEFAULT_MAX_RAW_BYTES as DEFAULT_MAX_BYTES
from .csv_dialect import decode, strip_footer, to_comma_text
from .csv_table import (cell_samples, check_missing, find_header, numeric_column, pandas_index, read_body,
                        read_clean_body)
from .duplicates import drop_rounding_duplicates
from .features import MIN_ROWS_PER_SYMBOL
from .timestamps import parse_timestamp_columns
from .wide import melt, wide_columns

#: Canonical columns of a validated frame, in order.
CANONICAL_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")

__all__ = ["ValidatedData", "load_ohlcv", "normalise_name", "CANONICAL_COLUMNS"]


@dataclass
class ValidatedData:
    """A validated upload: canonical frame plus what was repaired and how it was read."""

    frame: pd.DataFrame
    warnings: List[str] = field(default_factory=list)
    details: Dict[str, Any] = field(default_factory=dict)


def load_ohlcv(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    min_rows_per_symbol: int = MIN_ROWS_PER_SYMBOL,
    default_symbol: str = "UNKNOWN",
    keep_line_numbers: bool = False,
) -> ValidatedData:
    """Validate raw CSV ``data`` and return a canonical frame sorted by (symbol, timestamp).

    Columns: ``timestamp`` (datetime64[ns, UTC]), ``symbol`` (str, ``default_symbol`` when the
    file has none), ``open``/``high``/``low``/``close``/``volume`` (float64).
    Raises one subclass of InputRejectedError per failure kind (see cripto_pipeline.exceptions).
    ``keep_line_numbers`` adds ``_line`` (the row's line in ``data``) for checks across files
    (the Spark job); ``details["header_line"]`` is the header's line (0: none).
    """
    notes: List[str] = []
    text = to_comma_text(decode(data, max_bytes, notes), notes)
    header_line, header_cells, body = find_header(text, notes)
    header_cells, body = pandas_index(header_cells, body, notes)
    body = strip_footer(body, len(header_cells), notes)
    wide = wide_columns(header_cells)
    if wide:
        header_cells, body = melt(header_cells, body, wide, notes)
    mapping = map_columns(header_cells, notes)
    raw = None if wide else read_clean_body(body, header_cells, mapping, header_line)
    if raw is None:  # something is off: the careful reader repairs what is safe and explains the rest
        raw = read_body(body, header_cells, mapping, header_line, notes)
    symbols = _symbols(raw, mapping, default_symbol)
    values = {name: numeric_column(raw, name, notes) for name in PRICE_COLUMNS}
    values["volume"] = numeric_column(raw, "volume", notes) if "volume" in mapping else np.zeros(len(raw))
    timestamps, ts_format = _timestamps(raw, notes)
    frame = pd.DataFrame({"timestamp": timestamps, "symbol": symbols, **values})
    frame["_line"] = raw["_line"].to_numpy()
    _check_values(frame)
    frame = _order(frame, notes)
    frame = drop_rounding_duplicates(frame, notes)
    _check_length(frame, min_rows_per_symbol)
    details = {
        "columns": {canonical: header_cells[index].strip() for canonical, index in mapping.items()},
        "timestamp_format": ts_format,
        "header_line": int(header_line),
        "rows": int(len(frame)),
        "symbols": {str(k): int(v) for k, v in frame["symbol"].value_counts(sort=False).sort_index().items()},
        "first_timestamp": frame["timestamp"].min().isoformat(),
        "last_timestamp": frame["timestamp"].max().isoformat(),
    }
    columns = [*CANONICAL_COLUMNS, "_line"] if keep_line_numbers else list(CANONICAL_COLUMNS)
    return ValidatedData(frame=frame[columns].reset_index(drop=True), warnings=notes, details=details)


def _symbols(raw: pd.DataFrame, mapping: Dict[str, int], default_symbol: str) -> pd.Series:
    if "symbol" in mapping:
        return raw["symbol"].astype(str)
    return pd.Series(default_symbol, index=raw.index, dtype=object)


def _timestamps(raw: pd.DataFrame, notes: List[str]) -> Tuple[pd.Series, str]:
    """The timestamp column (and time-of-day column, if any) in UTC, or UnparseableTimestampError
    naming the cells that are no date between 1990 and 2100 (see timestamps.parse_timestamp_columns)."""
    parsed, fmt = parse_timestamp_columns(raw["timestamp"], raw.get("time_of_day"), notes)
    bad = parsed.isna()
    if bad.any():
        check_missing(raw.loc[np.asarray(bad)], ["timestamp"])  # 'Null' is missing, not a bad date
        raise exc.UnparseableTimestampError(
            f"{int(bad.sum())} timestamp(s) cannot be read as dates between 1990 and 2100 "
            f"(format tried: {fmt}).",
            {"column": "timestamp", "count": int(bad.sum()), "samples": cell_samples(raw, bad, "timestamp")},
        )
    return parsed.reset_index(drop=True), fmt


# --- values -------------------------------------------------------------------------------------


def _report(frame: pd.DataFrame, mask: Any, columns: Sequence[str]) -> List[Dict[str, Any]]:
    rows = frame.loc[np.asarray(mask), ["_line", *columns]].head(exc.REPORT_SAMPLES)
    return [{"line": int(r["_line"]), **{c: r[c] for c in columns}} for _, r in rows.iterrows()]


def _check_values(frame: pd.DataFrame) -> None:
    prices = frame[list(PRICE_COLUMNS)]
    nonpositive = (prices <= 0).any(axis=1)
    if nonpositive.any():
        raise exc.NonPositivePriceError(
            f"{int(nonpositive.sum())} row(s) have a price <= 0.",
            {"count": int(nonpositive.sum()), "samples": _report(frame, nonpositive, PRICE_COLUMNS)},
        )
    negative = frame["volume"] < 0
    if negative.any():
        raise exc.NegativeVolumeError(
            f"{int(negative.sum())} row(s) have a negative volume.",
            {"count": int(negative.sum()), "samples": _report(frame, negative, ("volume",))},
        )
    # A relative tolerance absorbs float noise from exporters that derive OHLC from rounded ticks.
    tolerance = 1e-9 * frame["high"].abs()
    body_high = np.maximum(frame["open"], frame["close"])
    body_low = np.minimum(frame["open"], frame["close"])
    broken = (
        (frame["high"] + tolerance < frame["low"])
        | (frame["high"] + tolerance < body_high)
        | (frame["low"] - tolerance > body_low)
    )
    if broken.any():
        raise exc.InconsistentOHLCError(
            f"{int(broken.sum())} row(s) have high < low or open/close outside [low, high].",
            {"count": int(broken.sum()), "samples": _report(frame, broken, PRICE_COLUMNS)},
        )


def _order(frame: pd.DataFrame, notes: List[str]) -> pd.DataFrame:
    step = frame.groupby("symbol", sort=False)["timestamp"].diff()
    backwards = int((step < pd.Timedelta(0)).sum())
    forwards = int((step > pd.Timedelta(0)).sum())
    if backwards > forwards:
        stray = f" ({forwards} step(s) went forwards instead)" if forwards else ""
        notes.append(f"Rows were newest-first{stray}; sorted into time order.")
    elif backwards:
        notes.append(f"{backwards} row(s) were out of time order; sorted by timestamp.")
    if backwards:
        frame = frame.sort_values(["symbol", "timestamp"], kind="mergesort")
    elif frame["symbol"].nunique() > 1 and not frame["symbol"].is_monotonic_increasing:
        frame = frame.sort_values(["symbol", "timestamp"], kind="mergesort")
    return frame.reset_index(drop=True)


def _check_length(frame: pd.DataFrame, min_rows: int) -> None:
    counts = frame["symbol"].value_counts()
    short = counts[counts < min_rows]
    if not short.empty:
        raise exc.TooFewRowsError(
            f"{len(short)} symbol(s) have fewer than {min_rows} rows, the minimum for the feature "
            "windows plus a walk-forward test period.",
            {"required": int(min_rows), "rows_per_symbol": {str(k): int(v) for k, v in short.items()}},
        )
