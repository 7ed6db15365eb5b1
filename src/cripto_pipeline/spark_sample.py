"""The bounded training sample of a Spark feature set: time-stratified contiguous blocks (issue 12).

The Python-shell training reads ``features.parquet`` unchanged, so that file holds at most
``max_rows`` rows (TRAINING_SAMPLE_ROWS, default 1,000,000) of the full feature set in ``parts/``.

Method ("time-stratified"):

1. When the feature set has at most ``max_rows`` rows, the sample is all of it (fraction 1), unchanged.
2. Otherwise the time range is cut into ``buckets`` equal spans (default 100). Every (bucket, symbol)
   with ``n`` rows gets ``floor(max_rows * n / rows_total)`` rows: each period and each symbol keeps its
   share of the data (proportional allocation), and the total never exceeds ``max_rows``.
3. Those rows are ONE contiguous run of bars of that symbol in that bucket, at an offset drawn from a
   hash of (seed, symbol, bucket): deterministic for a run, not biased towards the bucket's start.
4. Training's target is the next bar's close of the same symbol (training.add_target), so a block
   must not run into the next block: each block becomes its own series in the sample, its ``symbol``
   being ``<symbol>#<bucket>`` (bucket number, 3 digits). Only each block's last row then lacks a
   target, exactly as the last row of a symbol does; every other target is the true next bar.

A (bucket, symbol) whose share rounds to zero rows is left out; the manifest's ``sample`` says how
many buckets have rows (``buckets_with_rows``) next to ``buckets``, so an unrepresented period shows.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Dict, Tuple

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import sample_blocks
from .features import FEATURE_COLUMNS, ID_COLUMNS

METHOD = "time-stratified"
DEFAULT_BUCKETS = 100
DEFAULT_SEED = 12


def time_stratified_sample(
    session: SparkSession, features: DataFrame, rows_total: int, max_rows: int,
    buckets: int = DEFAULT_BUCKETS, seed: int = DEFAULT_SEED,
) -> Tuple[pd.DataFrame, Dict[str, Any]]:  # fmt: skip
    """(sample as a pandas frame shaped like the Lambda's features.parquet, the manifest's ``sample``)."""
    described = {"method": METHOD, "max_rows": int(max_rows), "seed": seed}
    if rows_total <= max_rows:
        frame = _to_pandas(features)
        return _as_features_file(frame), {**described, "fraction": 1.0, "buckets": 1, "buckets_with_rows": 1,
                                          "blocks": int(frame["symbol"].nunique()), "renamed_symbols": False}  # fmt: skip
    micros = F.expr("unix_micros(timestamp)")
    bounds = features.agg(F.min(micros).alias("lo"), F.max(micros).alias("hi")).first()
    lo, hi = int(bounds["lo"]), int(bounds["hi"])
    width = max(1, math.ceil((hi - lo + 1) / buckets))
    stamped = features.withColumn("_bucket", ((micros - F.lit(lo)) / F.lit(width)).cast("int"))
    quotas = []
    for row in stamped.groupBy("_bucket", "symbol").count().collect():
        bucket, symbol, n = int(row["_bucket"]), str(row["symbol"]), int(row["count"])
        quota = (max_rows * n) // rows_total
        if quota:
            quotas.append((bucket, symbol, quota, _offset(seed, symbol, bucket, n - quota + 1),
                           sample_blocks.block_symbol(symbol, bucket)))
    plan = session.createDataFrame(quotas, "_bucket int, symbol string, _quota long, _offset long, _block string")
    order = Window.partitionBy("symbol", "_bucket").orderBy("timestamp")
    chosen = (
        stamped.join(F.broadcast(plan), ["_bucket", "symbol"])
        .withColumn("_n", F.row_number().over(order))
        .where((F.col("_n") > F.col("_offset")) & (F.col("_n") <= F.col("_offset") + F.col("_quota")))
        .withColumn("symbol", F.col("_block"))
    )  # fmt: skip
    frame = _to_pandas(chosen)
    return _as_features_file(frame), {
        **described,
        "fraction": len(frame) / rows_total,
        "buckets": buckets,
        "bucket_seconds": width / 1e6,
        "buckets_with_rows": len({q[0] for q in quotas}),
        "blocks": len(quotas),
        "renamed_symbols": True,
        "symbol_naming": sample_blocks.NAMING,
    }


def _offset(seed: int, symbol: str, bucket: int, choices: int) -> int:
    """Start of a block among ``choices`` positions, from a hash (stable across Python processes)."""
    digest = hashlib.sha256(f"{seed}\0{symbol}\0{bucket}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % max(1, choices)


def _to_pandas(features: DataFrame) -> pd.DataFrame:
    """The rows on the driver with UTC timestamps: moved as microseconds, because toPandas turns
    timestamps into naive local times (session or process time zone, depending on Arrow)."""
    columns = [F.expr("unix_micros(timestamp)").alias("timestamp"), *ID_COLUMNS[1:], *FEATURE_COLUMNS]
    frame = features.select(*columns).toPandas()
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"], unit="us", utc=True))


def _as_features_file(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns and order of the Lambda's features.parquet (sorted by symbol, timestamp)."""
    frame = frame[list(ID_COLUMNS) + list(FEATURE_COLUMNS)].sort_values(["symbol", "timestamp"], kind="mergesort")
    return frame.reset_index(drop=True)
