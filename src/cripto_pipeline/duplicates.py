"""Duplicate bars: one symbol and timestamp given twice (issue 10). Plain function on a frame.

A source that changed its export format midway gives the same bar twice with values equal up to
rounding: relative difference <= DUPLICATE_PRICE_TOLERANCE on open/high/low/close and
<= DUPLICATE_VOLUME_TOLERANCE on volume. Those are kept once, with a warning naming the lines;
any other duplicate is refused (DuplicateTimestampError), naming the conflicting rows.
"""

from __future__ import annotations

from typing import List

import numpy as np
import pandas as pd

from . import exceptions as exc
from .columns import NUMERIC_COLUMNS, PRICE_COLUMNS

DUPLICATE_PRICE_TOLERANCE = 1e-4
DUPLICATE_VOLUME_TOLERANCE = 0.01


def drop_rounding_duplicates(frame: pd.DataFrame, notes: List[str]) -> pd.DataFrame:
    """``frame`` (columns timestamp, symbol, OHLCV and ``_line``, the file line; ``_file`` too when the rows
    come from several files) without the rounding duplicates; raises DuplicateTimestampError for conflicting
    ones. Rows are named by their line (and file)."""
    duplicated = frame.duplicated(["symbol", "timestamp"], keep=False)
    if not duplicated.any():
        return frame
    groups = frame.loc[duplicated].groupby(["symbol", "timestamp"], sort=False)
    first = groups[list(NUMERIC_COLUMNS)].transform("first")
    rest = frame.loc[duplicated, list(NUMERIC_COLUMNS)]
    scale = np.maximum(first.abs(), rest.abs()).replace(0.0, 1.0)
    relative = (rest - first).abs() / scale
    conflict = (relative[list(PRICE_COLUMNS)] > DUPLICATE_PRICE_TOLERANCE).any(axis=1) | (
        relative["volume"] > DUPLICATE_VOLUME_TOLERANCE
    )
    if conflict.any():
        keys = frame.loc[conflict[conflict].index, ["symbol", "timestamp"]].drop_duplicates()
        clash = frame.merge(keys, on=["symbol", "timestamp"]).head(2 * exc.REPORT_SAMPLES)
        raise exc.DuplicateTimestampError(
            f"{int(duplicated.sum())} row(s) share a timestamp with another row of the same symbol, and "
            f"{len(keys)} of these bars have different values (beyond rounding: "
            f"{DUPLICATE_PRICE_TOLERANCE:g} relative on prices, {DUPLICATE_VOLUME_TOLERANCE:.0%} on volume).",
            {
                "count": int(duplicated.sum()),
                "samples": [
                    {**_file_of(r), "line": int(r["_line"]), "symbol": str(r["symbol"]),
                     "timestamp": r["timestamp"].isoformat(), **{c: float(r[c]) for c in NUMERIC_COLUMNS}}
                    for _, r in clash.iterrows()
                ],
            },
            fix="Keep one row per symbol and timestamp (remove the conflicting copies) and upload again.",
        )
    extra = frame.duplicated(["symbol", "timestamp"], keep="first")
    rows = frame.loc[extra].head(exc.REPORT_SAMPLES)
    if "_file" in frame.columns:
        where = "; ".join(f"{r['_file']} line {int(r['_line'])}" for _, r in rows.iterrows())
    else:
        where = "line(s) " + ", ".join(str(int(line)) for line in rows["_line"])
    notes.append(f"Dropped {int(extra.sum())} duplicate bar(s) equal to an earlier row up to rounding, "
                 f"e.g. {where}; kept the first of each.")
    return frame.loc[~extra].reset_index(drop=True)


def _file_of(row: pd.Series) -> dict:
    return {"key": str(row["_file"])} if "_file" in row.index else {}  # as the Spark engine names it
