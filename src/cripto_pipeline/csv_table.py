"""Comma-separated text -> a table of cells: the header line, the body rows with their file line
numbers, and the price/volume columns as numbers (issue 10). Plain functions; :mod:`validation`
runs them in order and checks what they return.

- Header: the first line (of the first 10) that names at least two known columns; lines before it
  are a banner. No header at all: ``columns.headerless_layout`` reads the layout from the field
  count and the content. ``pandas.to_csv`` output with fewer header names than fields gets an
  unnamed first column.
- Body: a fast path parses well-formed files in C; anything else is read as text, cell by cell,
  with 1-based line numbers kept for reports: whitespace trimmed, blank lines skipped, rows for
  missing periods (all of open/high/low/close empty) dropped.
- Numbers: thousands separators and K/M/B suffixes read; empty, NULL, NaN and infinite cells refused.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from . import exceptions as exc
from .columns import NUMERIC_COLUMNS, PRICE_COLUMNS, accepted_names, headerless_layout, recognised
from .wide import wide_columns

NULL_TOKENS = frozenset({"", "null", "none", "na", "n/a", "nil", "-"})
NONFINITE_TOKENS = frozenset(
    {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
)
#: Number text with thousands separators and/or a K/M/B suffix (Investing.com '1,234.5', '12.3K').
_DECORATED_NUMBER = re.compile(r"^[+-]?[\d,]*\.?\d+\s*[KMBkmb]?$")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}
_HEADER_SCAN_LINES = 10


def _split(line: str) -> List[str]:
    # csv.reader over a one-string list always yields exactly one row ([] for an empty string).
    return next(csv.reader([line]))


def find_header(text: str, notes: List[str]) -> Tuple[int, List[str], str]:
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


def pandas_index(cells: List[str], body: str, notes: List[str]) -> Tuple[List[str], str]:
    """``DataFrame.to_csv`` with a named index writes fewer header names than fields: the first
    field is the (date) index. Give it an empty name, which the column mapping takes as the
    timestamp when no other column is one."""
    first = next((line for line in body.split("\n", 20)[:20] if line.strip()), "")
    fields = _split(first)  # a CRLF line's '\r' ends its last field (csv_dialect refused any other '\r')
    if len(fields) == len(cells) + 1 and fields[-1].strip() and cells[0].strip():
        notes.append("The header has one name fewer than the rows have fields: read the first field "
                     "as an unnamed index column.")
        return [""] + cells, body
    return cells, body


def _has_padding(body: str) -> bool:
    """Whitespace next to a delimiter or at a line end (not the space inside '2019-10-17 09:00').

    Plain substring tests: a regular expression over a large body is orders of magnitude slower.
    """
    needles = (", ", " ,", "\t", " \n", " \r", "\n ")
    return body.startswith(" ") or body.endswith(" ") or any(needle in body for needle in needles)


def read_clean_body(
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
            names=list(range(len(cells) + 1)),  # the spare column: see read_body
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


def read_body(
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
    check_missing(raw, used)
    return raw


def cell_samples(raw: pd.DataFrame, mask: Any, column: str) -> List[Dict[str, Any]]:
    rows = raw.loc[np.asarray(mask), ["_line", column]].head(exc.REPORT_SAMPLES)
    return [
        {"line": int(line), "column": column, "value": str(value)}
        for line, value in rows.itertuples(index=False)
    ]


def check_missing(raw: pd.DataFrame, columns: Sequence[str]) -> None:
    for column in columns:
        missing = raw[column].str.lower().isin(NULL_TOKENS)
        if missing.any():
            raise exc.MissingValueError(
                f"Column '{column}' has {int(missing.sum())} empty/NULL cell(s).",
                {"column": column, "count": int(missing.sum()), "samples": cell_samples(raw, missing, column)},
            )


def numeric_column(raw: pd.DataFrame, column: str, notes: List[str]) -> np.ndarray:
    if pd.api.types.is_float_dtype(raw[column]):  # the fast path parsed it and found no NaN
        values = raw[column].to_numpy(dtype="float64")
        infinite = ~np.isfinite(values)
        if infinite.any():
            raise exc.NonFiniteValueError(
                f"Column '{column}' has {int(infinite.sum())} NaN or infinite value(s).",
                {"column": column, "count": int(infinite.sum()), "samples": cell_samples(raw, infinite, column)},
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
            {"column": column, "count": int(bad.sum()), "samples": cell_samples(raw, bad, column)},
        )
    values = values.astype("float64")
    nonfinite = ~np.isfinite(values.to_numpy())
    if nonfinite.any():
        raise exc.NonFiniteValueError(
            f"Column '{column}' has {int(nonfinite.sum())} NaN or infinite value(s).",
            {"column": column, "count": int(nonfinite.sum()), "samples": cell_samples(raw, nonfinite, column)},
        )
    return values.to_numpy()


def _undecorate(text: pd.Series) -> pd.Series:
    """'1,234.5' -> 1234.5, '12.3K' -> 12300.0 (only called on cells matching _DECORATED_NUMBER)."""
    cleaned = text.str.replace(",", "", regex=False).str.strip()
    suffix = cleaned.str[-1].str.lower()
    scale = suffix.map(_SCALE).fillna(1.0)
    digits = cleaned.where(~suffix.isin(list(_SCALE)), cleaned.str[:-1])
    return pd.to_numeric(digits, errors="coerce") * scale
