"""The rules that span files, in Spark: validated rows of every raw file -> one canonical dataset (issue 12).

Input: the staged Parquet of :func:`cripto_pipeline.large_inputs.chunk_to_parquet` (canonical columns,
``_file`` = the file's position in inputs.json, ``_line`` = its line in that file). Each file already
passed every per-file rule of the Lambda's validation; what is left needs all files at once:

- duplicate bars across files (or across the chunks of one large file): the rule of
  :mod:`cripto_pipeline.duplicates` with its tolerances. Equal up to rounding -> the first copy (in
  inputs.json order, then line) is kept and a warning counts the others; any other -> the run is
  refused with DuplicateTimestampError naming both copies (file key, line), sampled;
- rows per symbol >= MIN_ROWS_PER_SYMBOL -> else TooFewRowsError, as the Lambda reports it.

Only the duplicated (symbol, timestamp) pairs come to the driver (a grouped count finds them); the
rows themselves stay in Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from . import exceptions as exc
from .columns import NUMERIC_COLUMNS, PRICE_COLUMNS
from .duplicates import DUPLICATE_PRICE_TOLERANCE, DUPLICATE_VOLUME_TOLERANCE
from .features import MIN_ROWS_PER_SYMBOL
from .validation import CANONICAL_COLUMNS



def _micros() -> Any:
    return F.expr("unix_micros(timestamp)")


@dataclass
class Dataset:
    """The canonical rows of every file (``_file``/``_line`` kept) and what the checks found."""

    frame: DataFrame
    rows: int
    symbols: Dict[str, int]
    first_timestamp: str
    last_timestamp: str
    warnings: List[str] = field(default_factory=list)


def combine(staged: DataFrame, file_keys: Sequence[str], min_rows_per_symbol: int = MIN_ROWS_PER_SYMBOL) -> Dataset:
    """Apply the cross-file rules to the staged rows; raises InputRejectedError like the Lambda."""
    frame = staged.select(*CANONICAL_COLUMNS, "_file", "_line")
    notes: List[str] = []
    pairs = frame.groupBy("symbol", "timestamp").agg(F.count(F.lit(1)).alias("_copies")).where("_copies > 1")
    if pairs.limit(1).count():
        frame = _drop_rounding_duplicates(frame, pairs, file_keys, notes)
    per_symbol = frame.groupBy("symbol").agg(
        F.count(F.lit(1)).alias("rows"), F.min(_micros()).alias("first"), F.max(_micros()).alias("last")
    ).collect()
    counts = {str(r["symbol"]): int(r["rows"]) for r in sorted(per_symbol, key=lambda r: r["symbol"])}
    short = {symbol: n for symbol, n in counts.items() if n < min_rows_per_symbol}
    if short:
        raise exc.TooFewRowsError(
            f"{len(short)} symbol(s) have fewer than {min_rows_per_symbol} rows, the minimum for the feature "
            "windows plus a walk-forward test period.",
            {"required": int(min_rows_per_symbol), "rows_per_symbol": short},
        )
    first = min(r["first"] for r in per_symbol)
    last = max(r["last"] for r in per_symbol)
    return Dataset(frame, sum(counts.values()), counts, _iso(first), _iso(last), notes)


def _drop_rounding_duplicates(frame: DataFrame, pairs: DataFrame, file_keys: Sequence[str],
                              notes: List[str]) -> DataFrame:  # fmt: skip
    copies = frame.join(pairs.select("symbol", "timestamp"), ["symbol", "timestamp"])
    order = Window.partitionBy("symbol", "timestamp").orderBy("_file", "_line")
    copies = copies.select("*", F.row_number().over(order).alias("_copy"),
                           *[F.first(c).over(order).alias(f"_first_{c}") for c in NUMERIC_COLUMNS])  # fmt: skip

    def relative(column: str) -> Any:
        first, value = F.col(f"_first_{column}"), F.col(column)
        scale = F.greatest(F.abs(first), F.abs(value))
        return F.abs(value - first) / F.when(scale == 0, F.lit(1.0)).otherwise(scale)

    beyond = [relative(c) > DUPLICATE_PRICE_TOLERANCE for c in PRICE_COLUMNS]
    beyond.append(relative("volume") > DUPLICATE_VOLUME_TOLERANCE)
    conflict = beyond[0]
    for test in beyond[1:]:
        conflict = conflict | test
    copies = copies.withColumn("_conflict", conflict)
    duplicated = copies.count()
    clashing = copies.where("_conflict").select("symbol", "timestamp").distinct()
    clashes = clashing.count()
    if clashes:
        sample = (copies.join(clashing.limit(exc.REPORT_SAMPLES), ["symbol", "timestamp"])
                  .orderBy("symbol", "timestamp", "_file", "_line").limit(2 * exc.REPORT_SAMPLES)
                  .withColumn("_micros", _micros()).collect())  # fmt: skip
        raise exc.DuplicateTimestampError(
            f"{duplicated} row(s) share a timestamp with another row of the same symbol in another file (or "
            f"another part of the same file), and {clashes} of these bars have different values (beyond "
            f"rounding: {DUPLICATE_PRICE_TOLERANCE:g} relative on prices, {DUPLICATE_VOLUME_TOLERANCE:.0%} on volume).",
            {
                "count": duplicated,
                "samples": [
                    {"key": file_keys[r["_file"]], "line": int(r["_line"]), "symbol": str(r["symbol"]),
                     "timestamp": _iso(r["_micros"]), **{c: float(r[c]) for c in NUMERIC_COLUMNS}}
                    for r in sample
                ],
            },  # fmt: skip
            fix="Keep one row per symbol and timestamp across the dataset's files (remove the overlap) and "
            "upload again.",
        )
    extra = copies.where("_copy > 1").select("_file", "_line")
    examples = extra.orderBy("_file", "_line").limit(exc.REPORT_SAMPLES).collect()
    notes.append(
        f"Dropped {duplicated - pairs.count()} duplicate bar(s) equal to an earlier file's row up to rounding, "
        f"e.g. {', '.join(f'{file_keys[r[0]]} line {r[1]}' for r in examples)}; kept the first of each."
    )
    return frame.join(extra, ["_file", "_line"], "left_anti")


def _iso(micros: int) -> str:
    """ISO 8601 in UTC of microseconds since the epoch (collected as numbers: PySpark turns collected
    timestamps into the Python process's local time, whatever the session time zone)."""
    return pd.Timestamp(int(micros), unit="us", tz="UTC").isoformat()
