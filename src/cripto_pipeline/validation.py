"""Raw CSV bytes -> canonical OHLCV frame, or one specific InputRejectedError.

The steps, each in its own module of plain functions (the Spark path applies the same rules):

1. ``csv_dialect``: bytes -> text (UTF-8 with/without BOM, UTF-16, Latin-1), the delimiter
   (comma, semicolon, tab, pipe) and decimal comma, footer lines.
2. Header: the first line (of the first 10) that names at least two known columns; lines before it
   are a banner. No header at all: ``columns.headerless_layout`` reads the layout from the field
   count and the content (Binance, Kraken, MetaTrader, Bitfinex, Coinbase, NinjaTrader...).
   ``pandas.to_csv`` output with fewer header names than fields gets an unnamed first column.
3. ``wide``: wide multi-asset files (``BTC:open`` / ``open_BTC``) melted into long form.
4. ``columns.map_columns``: THE mapping table (``columns.COLUMN_TABLE``) and the volume choice.
5. Body: values as text, 1-based line numbers kept for reports; thousands separators and K/M/B
   suffixes read; rows for missing periods (all of open/high/low/close empty) dropped.
6. ``timestamps.parse_timestamp_columns``: every timestamp form (a separate time-of-day column
   joined), converted to UTC; dates outside 1990-2100 are unreadable.
7. Checks: prices > 0, volume >= 0, OHLC consistent, time order, duplicate bars (identical up to
   rounding -> one kept; else refused), rows per symbol >= the walk-forward minimum.

Every repair and every choice is returned in ``ValidatedData.warnings`` (the manifest's warnings):
nothing is guessed silently. Everything else is rejected with what, where and how to fix it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from . import exceptions as exc
from .columns import NUMERIC_COLUMNS, PRICE_COLUMNS, accepted_names, headerless_layout, map_columns, normalise_name, recognised
from .config import DEFAULT_MAX_RAW_BYTES as DEFAULT_MAX_BYTES
from .csv_dialect import decode, strip_footer, to_comma_text
from .duplicates import drop_rounding_duplicates
from .features import MIN_ROWS_PER_SYMBOL
from .timestamps import parse_timestamp_columns
from .wide import melt, wide_columns

#: Canonical columns of a validated frame, in order.
CANONICAL_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
NULL_TOKENS = frozenset({"", "null", "none", "na", "n/a", "nil", "-"})
NONFINITE_TOKENS = frozenset(
    {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
)
#: Number text with thousands separators and/or a K/M/B suffix (Investing.com '1,234.5', '12.3K').
_DECORATED_NUMBER = re.compile(r"^[+-]?[\d,]*\.?\d+\s*[KMBkmb]?$")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}

_HEADER_SCAN_LINES = 10

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
) -> ValidatedData:
    """Validate raw CSV ``data`` and return a canonical frame sorted by (symbol, timestamp).

    Columns: ``timestamp`` (datetime64[ns, UTC]), ``symbol`` (str, ``default_symbol`` when the
    file has none), ``open``/``high``/``low``/``close``/``volume`` (float64).
    Raises one subclass of InputRejectedError per failure kind (see cripto_pipeline.exceptions).
    """
    notes: List[str] = []
    text = to_comma_text(decode(data, max_bytes, notes), notes)
    header_line, header_cells, body = _find_header(text, notes)
    header_cells, body = _pandas_index(header_cells, body, notes)
    body = strip_footer(body, len(header_cells), notes)
    wide = wide_columns(header_cells)
    if wide:
        header_cells, body = melt(header_cells, body, wide, notes)
    mapping = map_columns(header_cells, notes)
    raw = None if wide else _read_clean_body(body, header_cells, mapping, header_line)
    if raw is None:  # something is off: the careful reader repairs what is safe and explains the rest
        raw = _read_body(body, header_cells, mapping, header_line, notes)
    symbols = _symbols(raw, mapping, default_symbol)
    values = {name: _numeric(raw, name, notes) for name in PRICE_COLUMNS}
    values["volume"] = _numeric(raw, "volume", notes) if "volume" in mapping else np.zeros(len(raw))
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
        "rows": int(len(frame)),
        "symbols": {str(k): int(v) for k, v in frame["symbol"].value_counts(sort=False).sort_index().items()},
        "first_timestamp": frame["timestamp"].min().isoformat(),
        "last_timestamp": frame["timestamp"].max().isoformat(),
    }
    frame = frame.drop(columns="_line").reset_index(drop=True)
    return ValidatedData(frame=frame[list(CANONICAL_COLUMNS)], warnings=notes, details=details)


# --- header -----------------------------------------------------------------------------------


def _split(line: str, delimiter: str = ",") -> List[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _find_header(text: str, notes: List[str]) -> Tuple[int, List[str], str]:
    """Return (1-based header line number, header cells, text after the header line).

    A file without a header gets its layout's names and header line 0 (the body is the whole text).
    """
    offset = 0
    scanned: List[str] = []
    for number in range(1, _HEADER_SCAN_LINES + 1):
        end = text.find("\n", offset)
        line = text[offset:] if end < 0 else text[offset:end]
        line = line.rstrip("\r")
        if line.strip():
            scanned.append(line)
            cells = _split(line)
            if recognised(cells) >= 2 or wide_columns(cells):
                if len(scanned) > 1:
                    notes.append(
                        f"Skipped {len(scanned) - 1} line(s) before the header (banner): {scanned[0][:80]!r}."
                    )
                if any(c != c.strip() for c in cells):
                    notes.append("Trimmed whitespace around header names.")
                return number, cells, "" if end < 0 else text[end + 1 :]
        if end < 0:
            break
        offset = end + 1
    if not scanned:
        raise exc.EmptyInputError("The file contains only blank lines.")
    # No header: decide the layout on up to 500 rows (flat bars, open = high = low = close, fit
    # several layouts; a longer sample has bars that tell them apart).
    sample = [line.rstrip("\r") for line in text.split("\n", 501)[:500] if line.strip()]
    layout = headerless_layout(sample, notes)
    if layout is not None:
        return 0, layout, text
    raise exc.MissingColumnError(
        f"No header line found in the first {_HEADER_SCAN_LINES} lines (a line naming the columns, "
        "e.g. 'timestamp,open,high,low,close,volume'), and the lines fit no known header-less layout.",
        {"first_lines": [s[:200] for s in scanned[:3]], "accepted": accepted_names()},
        fix="Add a header line naming the columns: timestamp,open,high,low,close,volume (symbol optional).",
    )


def _pandas_index(cells: List[str], body: str, notes: List[str]) -> Tuple[List[str], str]:
    """``DataFrame.to_csv`` with a named index writes fewer header names than fields: the first
    field is the (date) index. Give it an empty name, which the column mapping takes as the
    timestamp when no other column is one."""
    first = next((line for line in body.split("\n", 20)[:20] if line.strip()), "")
    fields = _split(first.rstrip("\r"))
    if len(fields) == len(cells) + 1 and fields[-1].strip() and cells[0].strip():
        notes.append("The header has one name fewer than the rows have fields: read the first field "
                     "as an unnamed index column.")
        return [""] + cells, body
    return cells, body


# --- body ---------------------------------------------------------------------------------------


def _has_padding(body: str) -> bool:
    """Whitespace next to a delimiter or at a line end (not the space inside '2019-10-17 09:00').

    Plain substring tests: a regular expression over a large body is orders of magnitude slower.
    """
    needles = (", ", " ,", "\t", " \n", " \r", "\n ")
    return body.startswith(" ") or body.endswith(" ") or any(needle in body for needle in needles)


def _read_clean_body(
    body: str, cells: List[str], mapping: Dict[str, int], header_line: int
) -> Optional[pd.DataFrame]:
    """Fast path for well-formed files: prices and volume parsed to float by the C parser.

    Returns None whenever anything needs a closer look (padding, blank lines, empty/NULL/NaN cells,
    text in numeric columns, extra fields); the string-based reader then finds and explains it.
    Numbers parsed in C are much faster than analysing every cell as text.
    """
    if not body.strip() or _has_padding(body):
        return None
    by_index = {index: name for name, index in mapping.items()}
    numeric = {index: "float64" for index, name in by_index.items() if name in NUMERIC_COLUMNS}
    try:
        raw = pd.read_csv(
            io.BytesIO(body.encode("utf-8")),  # StringIO would hold 4 bytes per character
            header=None,
            names=list(range(len(cells) + 1)),  # the spare column: see _read_body
            index_col=False,
            dtype={**{index: str for index in by_index}, **numeric, len(cells): str},
            na_values=sorted(NULL_TOKENS | NONFINITE_TOKENS),
            keep_default_na=True,
            skip_blank_lines=False,
            engine="c",
        )
    except (ValueError, pd.errors.ParserError):  # text in a numeric column, ragged lines...
        return None
    if raw.empty or raw[len(cells)].notna().any() or raw.drop(columns=len(cells)).isna().to_numpy().any():
        return None
    raw = raw[sorted(by_index)].rename(columns=by_index)
    if "symbol" in raw and pd.Series(raw["symbol"].unique()).str.lower().isin(NULL_TOKENS).any():
        return None
    raw["_line"] = np.arange(header_line + 1, header_line + 1 + len(raw))
    return raw


def _read_body(
    body: str, cells: List[str], mapping: Dict[str, int], header_line: int, notes: List[str]
) -> pd.DataFrame:
    """Read the used columns as text, keeping each row's 1-based line number in ``_line``."""
    if not body.strip():
        raise exc.HeaderOnlyError("The file has a header but no data rows.", {"header_line": header_line})
    by_index = {index: name for name, index in mapping.items()}
    try:
        raw = pd.read_csv(
            io.BytesIO(body.encode("utf-8")),  # StringIO would hold 4 bytes per character
            header=None,
            # One spare column catches lines with an extra field (pandas would otherwise drop it or, in
            # 1.x, turn it into an index); lines with more extra fields make the parser raise.
            names=list(range(len(cells) + 1)),
            index_col=False,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,  # keeps row i on line header_line + 1 + i
            engine="c",
        )
    except pd.errors.ParserError as error:
        raise exc.MalformedCsvError(
            "A data line has more fields than the header.",
            {"parser_message": str(error), "header_fields": len(cells), "line_offset": header_line},
        ) from None
    lines = np.arange(header_line + 1, header_line + 1 + len(raw))
    spare = raw[len(cells)].fillna("").astype(str).str.strip()
    if (spare != "").any():
        raise exc.MalformedCsvError(
            f"{int((spare != '').sum())} data line(s) have more fields than the header.",
            {
                "header_fields": len(cells),
                "lines": [int(n) for n in lines[(spare != "").to_numpy()][:exc.REPORT_SAMPLES]],
            },
        )
    raw = raw[sorted(by_index)].rename(columns=by_index)
    raw["_line"] = lines
    used = [c for c in raw.columns if c != "_line"]
    stripped = {c: raw[c].fillna("").astype(str).str.strip() for c in used}
    blank = np.logical_and.reduce([stripped[c].to_numpy() == "" for c in used])
    if any((raw[c].fillna("") != stripped[c]).any() for c in used):
        notes.append("Trimmed whitespace around values.")
    if blank.any():
        notes.append(f"Skipped {int(blank.sum())} blank line(s).")
    for c in used:
        raw[c] = stripped[c]
    raw = raw.loc[~blank].reset_index(drop=True)
    if raw.empty:
        raise exc.HeaderOnlyError("The file has a header but no data rows.", {"header_line": header_line})
    # A missing period (Kaggle minute files, exchange gaps): a timestamp and no price at all.
    empty = NULL_TOKENS | {"nan"}  # Kaggle's minute files write NaN for a minute without trades
    no_prices = np.logical_and.reduce([raw[c].str.lower().isin(empty).to_numpy() for c in PRICE_COLUMNS])
    if no_prices.any():
        lines_dropped = raw.loc[no_prices, "_line"].head(exc.REPORT_SAMPLES).tolist()
        notes.append(f"Dropped {int(no_prices.sum())} row(s) with no open/high/low/close at all (missing "
                     f"periods), e.g. line(s) {', '.join(map(str, lines_dropped))}.")
        raw = raw.loc[~no_prices].reset_index(drop=True)
        if raw.empty:
            raise exc.HeaderOnlyError("The file has no row with prices.", {"header_line": header_line})
    _check_missing(raw, used)
    return raw


def _samples(raw: pd.DataFrame, mask: Any, column: str) -> List[Dict[str, Any]]:
    rows = raw.loc[np.asarray(mask), ["_line", column]].head(exc.REPORT_SAMPLES)
    return [
        {"line": int(line), "column": column, "value": str(value)}
        for line, value in rows.itertuples(index=False)
    ]


def _check_missing(raw: pd.DataFrame, columns: Sequence[str]) -> None:
    for column in columns:
        missing = raw[column].str.lower().isin(NULL_TOKENS)
        if missing.any():
            raise exc.MissingValueError(
                f"Column '{column}' has {int(missing.sum())} empty/NULL cell(s).",
                {"column": column, "count": int(missing.sum()), "samples": _samples(raw, missing, column)},
            )


def _symbols(raw: pd.DataFrame, mapping: Dict[str, int], default_symbol: str) -> pd.Series:
    if "symbol" in mapping:
        return raw["symbol"].astype(str)
    return pd.Series(default_symbol, index=raw.index, dtype=object)


def _numeric(raw: pd.DataFrame, column: str, notes: List[str]) -> np.ndarray:
    if pd.api.types.is_float_dtype(raw[column]):  # the fast path parsed it and found no NaN
        values = raw[column].to_numpy(dtype="float64")
        infinite = ~np.isfinite(values)
        if infinite.any():
            raise exc.NonFiniteValueError(
                f"Column '{column}' has {int(infinite.sum())} NaN or infinite value(s).",
                {"column": column, "count": int(infinite.sum()), "samples": _samples(raw, infinite, column)},
            )
        return values
    text = raw[column]
    values = pd.to_numeric(text, errors="coerce")
    nonfinite_text = text.str.lower().isin(NONFINITE_TOKENS)
    bad = values.isna() & ~nonfinite_text
    if bad.any() and text[bad].str.match(_DECORATED_NUMBER).all():
        values = values.where(~bad, _undecorate(text[bad]))
        notes.append(f"Column '{column}': read {int(bad.sum())} number(s) with thousands separators or a "
                     f"K/M/B suffix (e.g. {str(text[bad].iloc[0])!r}).")
        bad = values.isna() & ~nonfinite_text
    if bad.any():
        raise exc.NonNumericValueError(
            f"Column '{column}' has {int(bad.sum())} value(s) that are not numbers.",
            {"column": column, "count": int(bad.sum()), "samples": _samples(raw, bad, column)},
        )
    values = values.astype("float64")
    nonfinite = ~np.isfinite(values.to_numpy())
    if nonfinite.any():
        raise exc.NonFiniteValueError(
            f"Column '{column}' has {int(nonfinite.sum())} NaN or infinite value(s).",
            {"column": column, "count": int(nonfinite.sum()), "samples": _samples(raw, nonfinite, column)},
        )
    return values.to_numpy()


def _undecorate(text: pd.Series) -> pd.Series:
    """'1,234.5' -> 1234.5, '12.3K' -> 12300.0 (only called on cells matching _DECORATED_NUMBER)."""
    cleaned = text.str.replace(",", "", regex=False).str.strip()
    suffix = cleaned.str[-1].str.lower()
    scale = suffix.map(_SCALE).fillna(1.0)
    digits = cleaned.where(~suffix.isin(list(_SCALE)), cleaned.str[:-1])
    return pd.to_numeric(digits, errors="coerce") * scale


def _timestamps(raw: pd.DataFrame, notes: List[str]) -> Tuple[pd.Series, str]:
    """The timestamp column (and time-of-day column, if any) in UTC, or UnparseableTimestampError
    naming the cells that are no date between 1990 and 2100 (see timestamps.parse_timestamp_columns)."""
    parsed, fmt = parse_timestamp_columns(raw["timestamp"], raw.get("time_of_day"), notes)
    bad = parsed.isna()
    if bad.any():
        _check_missing(raw.loc[np.asarray(bad)], ["timestamp"])  # 'Null' is missing, not a bad date
        raise exc.UnparseableTimestampError(
            f"{int(bad.sum())} timestamp(s) cannot be read as dates between 1990 and 2100 "
            f"(format tried: {fmt}).",
            {"column": "timestamp", "count": int(bad.sum()), "samples": _samples(raw, bad, "timestamp")},
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
