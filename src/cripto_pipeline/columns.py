"""Header cells -> canonical columns, and layouts of header-less exports (issue 10).

THE mapping table is ``COLUMN_TABLE`` below (the README's "Input files" section shows it). Header
cells are first normalised by ``normalise_name``: lower case, every run of other characters -> ``_``
("Volume (BTC)" -> ``volume_btc``, "Adj Close" -> ``adj_close``, "<DATE>" -> ``date``). A name then
matches a canonical column when it is in the table, or when it is a table name followed by a unit or
currency suffix (``close_usd``, ``open_price``). Plain functions, no I/O: the Spark path uses the same.

Volume: base-asset volume is preferred over quote-currency volume. Columns are classed as
  base   ``volumefrom``, ``base_volume``, ``volume_<ccy>`` where <ccy> is not a quote currency,
  quote  ``volumeto``, ``quote_volume``, ``volume_currency``, ``volume_<ccy>`` for a quote currency,
  plain  ``volume``, ``vol``, ``v`` (CryptoDataDownload writes the quote amount as bare ``volume``
         beside ``volume_<base>``, so a plain column only wins when there is no base column);
one base column wins, else one plain column, else one quote column; anything else is ambiguous and
refused. ``close`` falls back to ``last``/``price``/``adj_close`` only when the file has no close.
"""

from __future__ import annotations

import csv
import re
from typing import Dict, List, Optional, Sequence, Tuple

from . import exceptions as exc

#: canonical column -> accepted normalised names, by priority (the first one present wins).
COLUMN_TABLE: Dict[str, Tuple[str, ...]] = {
    "timestamp": ("timestamp", "unix", "unix_timestamp", "timestamp_utc", "datetime", "date_time",
                  "date", "time", "open_time", "gmt_time", "local_time", "time_utc", "period"),
    "open": ("open", "o", "open_price", "opening_price", "first"),
    "high": ("high", "h", "high_price", "highest_price", "max"),
    "low": ("low", "l", "low_price", "lowest_price", "min"),
    "close": ("close", "c", "close_price", "closing_price"),
    "volume": ("volume", "vol", "v", "volumefrom", "volume_from", "base_volume", "volume_base",
               "base_asset_volume", "volumeto", "volume_to", "quote_volume", "volume_quote",
               "quote_asset_volume", "volume_currency", "volume_<ccy>"),
    "symbol": ("symbol", "pair", "ticker", "instrument", "market", "asset", "coin"),
}
#: Used as ``close`` only when no COLUMN_TABLE close name is present (each is reported).
CLOSE_FALLBACKS = ("last", "price", "last_price", "adj_close", "adjclose", "adjusted_close")
BASE_VOLUME = frozenset({"volumefrom", "volume_from", "base_volume", "volume_base", "base_asset_volume"})
QUOTE_VOLUME = frozenset({"volumeto", "volume_to", "quote_volume", "volume_quote", "quote_asset_volume",
                          "volume_currency"})
QUOTE_CURRENCIES = frozenset(
    {"usd", "usdt", "usdc", "busd", "tusd", "dai", "eur", "gbp", "jpy", "krw", "try", "aud", "currency"}
)
#: Suffixes that may follow a price/time name: units, currencies, 'utc'.
_SUFFIX = re.compile(r"^(usd|usdt|usdc|eur|gbp|jpy|btc|eth|utc|gmt|price|px|value|\d+)$")
PRICE_COLUMNS = ("open", "high", "low", "close")
NUMERIC_COLUMNS = PRICE_COLUMNS + ("volume",)

#: Header-less exports, recognised by field count and then by content (see ``headerless_layout``).
#: ``date`` + ``time`` = separate date and clock columns.
HEADERLESS_LAYOUTS: Dict[str, Tuple[str, ...]] = {
    "Binance klines (12 fields, open time in ms)": (
        "timestamp", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
        "trades", "taker_base_volume", "taker_quote_volume", "ignore"),
    "Kraken OHLCVT (time in s, trade count)": ("timestamp", "open", "high", "low", "close", "volume", "trades"),
    "MetaTrader history (date, time, OHLCV)": ("date", "time", "open", "high", "low", "close", "volume"),
    "time,open,high,low,close,volume (e.g. NinjaTrader)": ("timestamp", "open", "high", "low", "close", "volume"),
    "Bitfinex candles (time,open,close,high,low,volume)": ("timestamp", "open", "close", "high", "low", "volume"),
    "Coinbase candles (time,low,high,open,close,volume)": ("timestamp", "low", "high", "open", "close", "volume"),
    "time,open,high,low,close (no volume)": ("timestamp", "open", "high", "low", "close"),
}
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def normalise_name(name: str) -> str:
    """Header cell -> canonical name: trimmed, lower case, other characters runs -> ``_``."""
    cleaned = re.sub(r"[^0-9a-z]+", "_", name.strip().strip("\ufeff").strip().lower())
    return cleaned.strip("_")


def canonical_of(name: str) -> Optional[str]:
    """The canonical column a normalised header name stands for, or None."""
    for canonical, names in COLUMN_TABLE.items():
        if name in names or (canonical == "volume" and name.startswith("volume_")):
            return canonical
    for canonical in ("timestamp",) + PRICE_COLUMNS:
        head, _, tail = name.partition("_")
        if head == canonical and _SUFFIX.match(tail or "-"):
            return canonical
    return None


def recognised(cells: Sequence[str]) -> int:
    """How many distinct canonical columns a candidate header line names."""
    return len({canonical_of(normalise_name(c)) for c in cells} - {None})


def map_columns(cells: List[str], notes: List[str]) -> Dict[str, int]:
    """Canonical column -> index in the header (``time_of_day`` when date and time are separate).

    Raises DuplicateColumnError, MissingColumnError or AmbiguousVolumeError.
    """
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
    by_canonical: Dict[str, List[str]] = {}
    for name in names:
        canonical = canonical_of(name) if name else None
        if canonical:
            by_canonical.setdefault(canonical, []).append(name)
    mapping: Dict[str, int] = {}
    for canonical in ("timestamp", "symbol") + PRICE_COLUMNS:
        found = by_canonical.get(canonical, [])
        ranked = sorted(found, key=lambda n: _rank(canonical, n))
        if ranked:
            mapping[canonical] = seen[ranked[0]][0]
    if "timestamp" in mapping and names[mapping["timestamp"]] == "date" and "time" in seen:
        mapping["time_of_day"] = seen["time"][0]
        notes.append(f"Joined the date column '{cells[mapping['timestamp']].strip()}' and the time column "
                     f"'{cells[seen['time'][0]].strip()}' into one timestamp.")
    if "timestamp" not in mapping and names and names[0] == "":
        mapping["timestamp"] = 0
        notes.append("Used the unnamed first column (e.g. a pandas index) as the timestamp.")
    if "close" not in mapping:
        fallback = next((n for n in CLOSE_FALLBACKS if n in seen), None)
        if fallback is not None:
            mapping["close"] = seen[fallback][0]
            notes.append(f"Used '{cells[seen[fallback][0]].strip()}' as the close (the file has no close column).")
    missing = [c for c in ("timestamp",) + PRICE_COLUMNS if c not in mapping]
    if missing:
        raise exc.MissingColumnError(
            f"Missing column(s): {', '.join(missing)}.",
            {"missing": missing, "header": [c.strip() for c in cells], "accepted": accepted_names()},
        )
    volumes = by_canonical.get("volume", [])
    if volumes:
        mapping["volume"] = seen[pick_volume(volumes, notes)][0]
    else:
        notes.append("The file has no volume column: volume is taken as 0, so the model trains on "
                     "price features only (volume features are constant).")
    used = set(mapping.values()) | {seen[name][0] for name in volumes}  # pick_volume names the others
    ignored = [cells[i].strip() for i in range(len(cells)) if i not in used and names[i]]
    if ignored:
        notes.append(f"Ignored column(s) not used by the pipeline: {', '.join(ignored)}.")
    return mapping


def _rank(canonical: str, name: str) -> int:
    names = COLUMN_TABLE[canonical]
    return names.index(name) if name in names else len(names)


def pick_volume(candidates: List[str], notes: List[str]) -> str:
    """Choose the base-asset volume column (rules in the module docstring)."""
    if len(candidates) == 1:
        return candidates[0]
    # A quote-currency column is only used when it is the only volume column (returned above): among
    # several, with no base or plain one, all of them are quote columns and none is preferred.
    base, plain = [], []
    for name in candidates:
        currency = name[len("volume_"):] if name.startswith("volume_") else None
        if name in BASE_VOLUME or (currency and currency not in QUOTE_CURRENCIES and name not in QUOTE_VOLUME):
            base.append(name)
        elif not currency and name not in QUOTE_VOLUME:
            plain.append(name)
    chosen = ""
    for group, reason in ((base, "base-asset volume"), (plain, "plain volume, no base-asset column")):
        if len(group) == 1:
            chosen = group[0]
            break
        if len(group) > 1:
            chosen = ""
            break
    if not chosen:
        raise exc.AmbiguousVolumeError(
            f"Several volume columns ({', '.join(candidates)}) and no rule picks the base-asset one.",
            {"volume_columns": candidates},
            fix="Keep one volume column (the base-asset volume) or rename it 'volume'.",
        )
    others = ", ".join(c for c in candidates if c != chosen)
    notes.append(f"Used '{chosen}' as the volume ({reason}); ignored {others}.")
    return chosen


def accepted_names() -> Dict[str, List[str]]:
    accepted = {k: list(v) for k, v in COLUMN_TABLE.items()}
    accepted["close"] += [f"{n} (only without a close)" for n in CLOSE_FALLBACKS]
    return accepted


# --- header-less files ----------------------------------------------------------------------------


def headerless_layout(lines: Sequence[str], notes: List[str]) -> Optional[List[str]]:
    """Column names for a file without a header, from its field count and content, or None.

    Several layouts share a field count (6: OHLCV, Bitfinex, Coinbase); the one whose columns are
    consistent on every sampled row (high is the maximum, low the minimum) is used. When several
    fit, AmbiguousVolumeError's sibling MissingColumnError names them.
    """
    rows = [next(csv.reader([line]), []) for line in lines if line.strip()]
    rows = [[c.strip() for c in row] for row in rows]
    if not rows or len({len(r) for r in rows}) != 1:
        return None
    width = len(rows[0])
    fitting = [name for name, layout in HEADERLESS_LAYOUTS.items()
               if len(layout) == width and _fits(layout, rows)]
    if len(fitting) == 1:
        notes.append(f"The file has no header; read its {width} columns as {fitting[0]}.")
        return list(HEADERLESS_LAYOUTS[fitting[0]])
    if len(fitting) > 1:
        raise exc.MissingColumnError(
            f"The file has no header and its {width} columns fit several known layouts: "
            f"{'; '.join(fitting)}.",
            {"layouts": fitting, "first_line": lines[0][:200]},
            fix="Add a header line naming the columns, e.g. timestamp,open,high,low,close,volume.",
        )
    return None


def _fits(layout: Sequence[str], rows: List[List[str]]) -> bool:
    position = {name: i for i, name in enumerate(layout)}
    for row in rows:
        if "time" in position:
            if _NUMBER.match(row[0]) or not _CLOCK.match(row[1]):
                return False
        elif _NUMBER.match(row[0]) is None and not re.match(r"^\d{4}", row[0]):
            return False
        numeric = [n for n in layout if n not in ("timestamp", "date", "time")]
        if not all(_NUMBER.match(row[position[n]]) for n in numeric):
            return False
        o, h, l, c = (float(row[position[n]]) for n in PRICE_COLUMNS)
        if not (h >= max(o, c, l) and l <= min(o, c)):
            return False
    return True
