"""Raw CSV bytes -> canonical OHLCV frame, or one specific InputRejectedError.

Accepted input
--------------
- The canonical layout: ``timestamp`` (or ``date``/``datetime``/``time``/``unix``), ``open``,
  ``high``, ``low``, ``close``, ``volume`` and an optional ``symbol`` column. Header names are
  matched case-insensitively, surrounding whitespace is ignored, and runs of other characters
  become ``_`` ("Volume BTC" -> ``volume_btc``). Other columns are ignored (with a warning).
- Real exchange exports, e.g. CryptoDataDownload: a banner line before the header, newest rows
  first, hourly timestamps such as ``2019-10-17 09-AM``, one volume column per currency.
- Timestamps: ISO 8601 dates/date-times (naive ones are taken as UTC), the CryptoDataDownload
  hourly form, or unix time in seconds, milliseconds, microseconds or nanoseconds (the unit is
  inferred from the magnitude: a 2019 date is ~1.6e9 s or ~1.6e12 ms).
- Several symbols in one file: each symbol is checked (and later featurised) on its own.

Volume column choice (deterministic, header only): a single ``volume``/``volume_<ccy>`` column is
used as is. With a bare ``volume`` beside exactly one ``volume_<ccy>``, the ``volume_<ccy>`` is the
base-asset volume (CryptoDataDownload writes the quote-currency amount as bare ``volume``: in the
BTC/USD sample ``volume_btc`` is BTC and ``volume`` is USD). With only ``volume_<ccy>`` columns, the
one whose currency is not a usual quote currency (USD, USDT, EUR, ...) wins. Anything else is
ambiguous and rejected. The choice is returned as a warning.

Safe repairs (returned as warnings, never silent): dropping banner lines, trimming whitespace,
skipping blank lines, sorting rows into time order. Everything else is rejected.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from . import exceptions as exc
from .config import DEFAULT_MAX_RAW_BYTES as DEFAULT_MAX_BYTES
from .features import MIN_ROWS_PER_SYMBOL

#: Canonical columns of a validated frame, in order.
CANONICAL_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
NUMERIC_COLUMNS = PRICE_COLUMNS + ("volume",)

#: Accepted timestamp column names, by priority (unix time is unambiguous, so it wins).
TIMESTAMP_ALIASES = ("timestamp", "unix", "unix_timestamp", "datetime", "date", "time", "open_time")
SYMBOL_ALIASES = ("symbol", "pair", "ticker", "instrument", "market")
QUOTE_CURRENCIES = frozenset(
    {"usd", "usdt", "usdc", "busd", "tusd", "dai", "eur", "gbp", "jpy", "krw", "try", "aud"}
)
NULL_TOKENS = frozenset({"", "null", "none", "na", "n/a", "nil", "-"})
NONFINITE_TOKENS = frozenset(
    {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
)
OTHER_DELIMITERS = (";", "\t", "|")

#: Formats tried, in order, on string timestamps (the first that reads a sample of the column wins).
TIMESTAMP_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %I-%p",  # CryptoDataDownload hourly: '2019-10-17 09-AM'
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d %H:%M:%S%z",  # pandas' own to_csv of UTC timestamps: '2020-01-01 00:00:00+00:00'
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
)
_EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
_LATEST = pd.Timestamp("2100-01-01", tz="UTC")
_HEADER_SCAN_LINES = 10
_SAMPLES = 5


@dataclass
class ValidatedData:
    """A validated upload: canonical frame plus what was repaired and how it was read."""

    frame: pd.DataFrame
    warnings: List[str] = field(default_factory=list)
    details: Dict[str, Any] = field(default_factory=dict)


def normalise_name(name: str) -> str:
    """Header cell -> canonical name: trimmed, lower case, other characters runs -> ``_``."""
    cleaned = re.sub(r"[^0-9a-z]+", "_", name.strip().strip("\ufeff").strip().lower())
    return cleaned.strip("_")


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
    text = _decode(data, max_bytes)
    header_line, header_cells, body = _find_header(text, notes)
    mapping = _map_columns(header_cells, notes)
    raw = _read_clean_body(body, header_cells, mapping, header_line)
    if raw is None:  # something is off: the careful reader repairs what is safe and explains the rest
        raw = _read_body(body, header_cells, mapping, header_line, notes)
    symbols = _symbols(raw, mapping, default_symbol)
    values = {name: _numeric(raw, name) for name in NUMERIC_COLUMNS}
    timestamps, ts_format = _timestamps(raw, notes)
    frame = pd.DataFrame({"timestamp": timestamps, "symbol": symbols, **values})
    frame["_line"] = raw["_line"].to_numpy()
    _check_values(frame)
    frame = _order(frame, notes)
    _check_duplicates(frame)
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


# --- bytes -> text ----------------------------------------------------------------------------


def _decode(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise exc.InputTooLargeError(
            f"The file has more than {max_bytes} bytes (the limit).",
            {"limit_bytes": max_bytes, "size_bytes_at_least": len(data)},
        )
    if not data.strip():
        raise exc.EmptyInputError("The file is empty.", {"size_bytes": len(data)})
    if data[:2] == b"\x1f\x8b" or data[:4] == b"PK\x03\x04":
        raise exc.UndecodableContentError(
            "The file is compressed (gzip or zip), not a CSV.", {"first_bytes": data[:4].hex()}
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise exc.UndecodableContentError("The file is UTF-16 encoded.", {"first_bytes": data[:2].hex()})
    nul = data.find(b"\x00")
    if nul >= 0:
        raise exc.UndecodableContentError(
            "The file contains NUL bytes: it is binary, not text.", {"byte_offset": nul}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise exc.UndecodableContentError(
            "The file is not valid UTF-8 text.",
            {"line": line, "byte_offset": error.start, "bytes": data[error.start : error.start + 8].hex()},
        ) from None


# --- header -----------------------------------------------------------------------------------


def _split(line: str, delimiter: str = ",") -> List[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _recognised(cells: Sequence[str]) -> int:
    names = {normalise_name(c) for c in cells}
    known = set(TIMESTAMP_ALIASES) | set(PRICE_COLUMNS) | set(SYMBOL_ALIASES)
    return len(names & known) + any(n == "volume" or n.startswith("volume_") for n in names)


def _find_header(text: str, notes: List[str]) -> Tuple[int, List[str], str]:
    """Return (1-based header line number, header cells, text after the header line)."""
    offset = 0
    scanned: List[str] = []
    for number in range(1, _HEADER_SCAN_LINES + 1):
        end = text.find("\n", offset)
        line = text[offset:] if end < 0 else text[offset:end]
        line = line.rstrip("\r")
        if line.strip():
            scanned.append(line)
            cells = _split(line)
            if _recognised(cells) >= 2:
                if len(scanned) > 1:
                    notes.append(
                        f"Skipped {len(scanned) - 1} line(s) before the header (banner): {scanned[0][:80]!r}."
                    )
                if any(c != c.strip() for c in cells):
                    notes.append("Trimmed whitespace around header names.")
                return number, cells, "" if end < 0 else text[end + 1 :]
            for delimiter in OTHER_DELIMITERS:
                if _recognised(_split(line, delimiter)) >= 2:
                    raise exc.WrongDelimiterError(
                        f"The header is separated by {delimiter!r}, not by commas.",
                        {"line": number, "header": line[:200], "delimiter_found": delimiter},
                    )
        if end < 0:
            break
        offset = end + 1
    if not scanned:
        raise exc.EmptyInputError("The file contains only blank lines.")
    raise exc.MissingColumnError(
        f"No header line found in the first {_HEADER_SCAN_LINES} lines (a line naming the columns, "
        "e.g. 'timestamp,open,high,low,close,volume').",
        {"first_lines": [s[:200] for s in scanned[:3]], "accepted": _accepted_names()},
        fix="Add a header line naming the columns: timestamp,open,high,low,close,volume (symbol optional).",
    )


def _accepted_names() -> Dict[str, Any]:
    return {
        "timestamp": list(TIMESTAMP_ALIASES),
        "prices": list(PRICE_COLUMNS),
        "volume": ["volume", "volume_<currency>"],
        "symbol (optional)": list(SYMBOL_ALIASES),
    }


def _map_columns(cells: List[str], notes: List[str]) -> Dict[str, int]:
    """Canonical column -> index in the header. Raises on duplicates, missing or ambiguous columns."""
    names = [normalise_name(c) for c in cells]
    seen: Dict[str, List[int]] = {}
    for index, name in enumerate(names):
        if name:
            seen.setdefault(name, []).append(index)
    duplicates = {name: [cells[i] for i in idx] for name, idx in seen.items() if len(idx) > 1}
    if duplicates:
        raise exc.DuplicateColumnError(
            f"Duplicate column name(s): {', '.join(sorted(duplicates))}.", {"columns": duplicates}
        )
    mapping: Dict[str, int] = {}
    ts = next((alias for alias in TIMESTAMP_ALIASES if alias in seen), None)
    if ts is not None:
        mapping["timestamp"] = seen[ts][0]
    for name in PRICE_COLUMNS:
        if name in seen:
            mapping[name] = seen[name][0]
    symbol = next((alias for alias in SYMBOL_ALIASES if alias in seen), None)
    if symbol is not None:
        mapping["symbol"] = seen[symbol][0]
    missing = [c for c in ("timestamp",) + PRICE_COLUMNS if c not in mapping]
    volume_candidates = [n for n in names if n == "volume" or n.startswith("volume_")]
    if not volume_candidates:
        missing.append("volume")
    if missing:
        raise exc.MissingColumnError(
            f"Missing column(s): {', '.join(missing)}.",
            {"missing": missing, "header": [c.strip() for c in cells], "accepted": _accepted_names()},
        )
    mapping["volume"] = seen[_pick_volume(volume_candidates, notes)][0]
    ignored = [
        cells[i].strip()
        for i in range(len(cells))
        if i not in mapping.values() and names[i] and names[i] not in volume_candidates
    ]
    if ignored:
        notes.append(f"Ignored column(s) not used by the pipeline: {', '.join(ignored)}.")
    return mapping


def _pick_volume(candidates: List[str], notes: List[str]) -> str:
    """Choose the base-asset volume column (rules in the module docstring)."""
    if len(candidates) == 1:
        return candidates[0]
    currency = {c: c[len("volume_") :] for c in candidates if c.startswith("volume_")}
    chosen: Optional[str] = None
    reason = ""
    if "volume" in candidates and len(currency) == 1:
        chosen = next(iter(currency))
        reason = "CryptoDataDownload layout: bare 'volume' is the quote-currency amount"
    else:
        non_quote = [c for c, ccy in currency.items() if ccy not in QUOTE_CURRENCIES]
        if len(non_quote) == 1 and "volume" not in candidates:
            chosen = non_quote[0]
            reason = "the other volume columns are in quote currencies"
    if chosen is None:
        raise exc.AmbiguousVolumeError(
            f"Several volume columns ({', '.join(candidates)}) and no rule picks the base-asset one.",
            {"volume_columns": candidates},
        )
    others = ", ".join(c for c in candidates if c != chosen)
    notes.append(f"Used '{chosen}' as the base-asset volume ({reason}); ignored {others}.")
    return chosen


# --- body ---------------------------------------------------------------------------------------


def _has_padding(body: str) -> bool:
    """Whitespace next to a delimiter or at a line end (not the space inside '2019-10-17 09:00').

    Plain substring tests: a regular expression over a 100 MB body takes seconds, these take ms.
    """
    needles = (", ", " ,", "\t", " \n", " \r", "\n ")
    return body.startswith(" ") or body.endswith(" ") or any(needle in body for needle in needles)


def _read_clean_body(
    body: str, cells: List[str], mapping: Dict[str, int], header_line: int
) -> Optional[pd.DataFrame]:
    """Fast path for well-formed files: prices and volume parsed to float by the C parser.

    Returns None whenever anything needs a closer look (padding, blank lines, empty/NULL/NaN cells,
    text in numeric columns, extra fields); the string-based reader then finds and explains it. On a
    million-row file this is ~10x faster than analysing every cell as text.
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
                "lines": [int(n) for n in lines[(spare != "").to_numpy()][:_SAMPLES]],
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
    _check_missing(raw, used)
    return raw


def _samples(raw: pd.DataFrame, mask: Any, column: str, limit: int = _SAMPLES) -> List[Dict[str, Any]]:
    rows = raw.loc[np.asarray(mask), ["_line", column]].head(limit)
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


def _numeric(raw: pd.DataFrame, column: str) -> np.ndarray:
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


#: Plausible unix times (1990-2100) per unit; the ranges do not overlap, so each number's unit is
#: read from its magnitude alone and a file mixing seconds and milliseconds is resolved row by row.
UNIX_UNITS = {
    unit: (_EARLIEST.value // nanos, _LATEST.value // nanos)
    for unit, nanos in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1))
}
#: Day/month/year written with '/', '.' or '-' (e.g. 05/11/2019): the order of day and month is
#: only known when some row has a value above 12 in one of the two places.
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T].*)?$")


def _timestamps(raw: pd.DataFrame, notes: List[str]) -> Tuple[pd.Series, str]:
    """Parse the timestamp column to UTC; return (values, description of the format used).

    Resolvable mixes (unix seconds beside milliseconds, several unambiguous date forms, unix numbers
    beside dates) are normalised and reported in ``notes``; a day/month order that cannot be told,
    or differs between rows, raises AmbiguousTimestampError.
    """
    text = raw["timestamp"]
    # Cheap test on the first cell before converting a whole column of dates to numbers.
    looks_numeric = bool(re.match(r"^[+-]?\d+(\.\d*)?$", str(text.iloc[0])))
    numbers = pd.to_numeric(text, errors="coerce") if looks_numeric else None
    if numbers is not None and numbers.notna().all():
        parsed, fmt = _parse_unix(numbers, notes)
    else:
        numeric = text.str.fullmatch(r"[+-]?\d+(\.\d*)?")
        parsed, fmt = _parse_text_timestamps(text.where(~numeric), notes)
        if numeric.any():  # dates and unix numbers in one column: each is unambiguous on its own
            unix, unit = _parse_unix(pd.to_numeric(text.where(numeric), errors="coerce").dropna(), notes)
            parsed = parsed.where(~numeric, unix.reindex(parsed.index))
            notes.append(f"{int(numeric.sum())} timestamp(s) were {unit} among {fmt} dates; all read as UTC.")
            fmt = f"{fmt} + {unit}"
    bad = parsed.isna() | (parsed < _EARLIEST) | (parsed >= _LATEST)
    if bad.any():
        _check_missing(raw.loc[np.asarray(bad)], ["timestamp"])  # 'Null' is missing, not a bad date
        raise exc.UnparseableTimestampError(
            f"{int(bad.sum())} timestamp(s) cannot be read as dates between 1990 and 2100 "
            f"(format tried: {fmt}).",
            {"column": "timestamp", "count": int(bad.sum()), "samples": _samples(raw, bad, "timestamp")},
        )
    return parsed.reset_index(drop=True), fmt


def _parse_unix(numbers: pd.Series, notes: List[str]) -> Tuple[pd.Series, str]:
    """Unix numbers -> UTC, each number's unit read from its magnitude (see UNIX_UNITS)."""
    parsed = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")
    counts: Dict[str, int] = {}
    for unit, (low, high) in UNIX_UNITS.items():
        mask = (numbers >= low) & (numbers < high)
        if mask.any():
            counts[unit] = int(mask.sum())
            parsed[mask] = pd.to_datetime(numbers[mask], unit=unit, utc=True)
    if not counts:  # nothing plausible: report the values as unix seconds
        return pd.to_datetime(numbers, unit="s", utc=True, errors="coerce"), "unix s"
    if len(counts) > 1:
        notes.append(
            "Unix timestamps mixed units ("
            + ", ".join(f"{n} in {unit}" for unit, n in counts.items())
            + "); each was read by its magnitude and normalised to UTC."
        )
    return parsed, "unix " + "+".join(counts)


def _parse_text_timestamps(text: pd.Series, notes: List[str]) -> Tuple[pd.Series, str]:
    """Date text -> UTC with the known formats; cells may mix them (reported as a warning)."""
    cells = text.dropna()
    if cells.empty:
        return pd.to_datetime(text, errors="coerce", utc=True), "none"
    sample = cells.head(50)
    for fmt in TIMESTAMP_FORMATS:  # the common case: one format for the whole column
        if pd.to_datetime(sample, format=fmt, errors="coerce", utc=True).notna().all():
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
            if parsed[text.notna()].notna().all():
                return parsed, fmt
            break
    # Several forms in one column: each known format is unambiguous (year first), so a cell read by
    # any of them has one meaning.
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    used: Dict[str, int] = {}
    for fmt in TIMESTAMP_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        attempt = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
        if attempt.notna().any():
            used[fmt] = int(attempt.notna().sum())
            parsed[attempt.index[attempt.notna()]] = attempt.dropna()
    todo = parsed.isna() & text.notna()
    if todo.any():
        rest = _parse_other_dates(text[todo])
        if rest.notna().any():
            used["other (" + str(rest.attrs.get("format", "inferred")) + ")"] = int(rest.notna().sum())
            parsed[rest.index[rest.notna()]] = rest.dropna()
    if any("/year" in fmt for fmt in used):
        notes.append("Dates written day/month/year or month/day/year were read in the one order their "
                     "values allow (some day is above 12); prefer ISO 8601 (year first).")
    if len(used) > 1 and parsed[text.notna()].notna().all():
        notes.append(
            "Timestamps came in several forms ("
            + ", ".join(f"{fmt!r}: {n}" for fmt, n in used.items())
            + "); each is unambiguous and all were read as UTC."
        )
    return parsed, " + ".join(used) or "none"


def _parse_other_dates(text: pd.Series) -> pd.Series:
    """Dates in none of TIMESTAMP_FORMATS: day/month/year forms (only when their order is certain)
    and anything else pandas reads without guessing an order (month names, ISO variants)."""
    parts = text.str.extract(_DMY)
    dmy = parts[0].notna()
    day_first = False
    if dmy.any():
        first, second = parts.loc[dmy, 0].astype(int), parts.loc[dmy, 1].astype(int)
        day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
        if day_first == month_first:
            where = dmy[dmy].index[:_SAMPLES]
            raise exc.AmbiguousTimestampError(
                "The day/month order of dates such as "
                f"{text[where[0]]!r} cannot be told: "
                + ("some rows put the day first, others the month." if day_first
                   else "no row has a day above 12."),
                {
                    "column": "timestamp",
                    "count": int(dmy.sum()),
                    "day_first_rows": int((first > 12).sum()),
                    "month_first_rows": int((second > 12).sum()),
                    "samples": [{"value": str(text[i])} for i in where],
                },
            )
    with warnings.catch_warnings():
        # pandas >= 2 warns when it falls back to per-element parsing; that is the intent here.
        warnings.simplefilter("ignore", UserWarning)
        result = pd.to_datetime(text, errors="coerce", utc=True, format="mixed", dayfirst=day_first)
    order = "day/month/year" if day_first else "month/day/year"
    result.attrs["format"] = order if dmy.any() else "inferred"
    return result


# --- values -------------------------------------------------------------------------------------


def _report(frame: pd.DataFrame, mask: Any, columns: Sequence[str]) -> List[Dict[str, Any]]:
    rows = frame.loc[np.asarray(mask), ["_line", *columns]].head(_SAMPLES)
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


def _check_duplicates(frame: pd.DataFrame) -> None:
    duplicated = frame.duplicated(["symbol", "timestamp"], keep=False)
    if duplicated.any():
        samples = frame.loc[duplicated, ["_line", "symbol", "timestamp"]].head(_SAMPLES)
        raise exc.DuplicateTimestampError(
            f"{int(duplicated.sum())} row(s) share a timestamp with another row of the same symbol.",
            {
                "count": int(duplicated.sum()),
                "samples": [
                    {"line": int(line), "symbol": str(symbol), "timestamp": ts.isoformat()}
                    for line, symbol, ts in samples.itertuples(index=False)
                ],
            },
        )


def _check_length(frame: pd.DataFrame, min_rows: int) -> None:
    counts = frame["symbol"].value_counts()
    short = counts[counts < min_rows]
    if not short.empty:
        raise exc.TooFewRowsError(
            f"{len(short)} symbol(s) have fewer than {min_rows} rows, the minimum for the feature "
            "windows plus a walk-forward test period.",
            {"required": int(min_rows), "rows_per_symbol": {str(k): int(v) for k, v in short.items()}},
        )
