"""The Spark engine of :mod:`cripto_pipeline.feature_spec`: the same features in Spark.

Every expression node becomes a Spark ``Column``; every per-symbol operation (Shift, Diff, Rolling)
becomes a window function over ``PARTITION BY symbol ORDER BY timestamp`` and is materialised as a
column of its own (Spark does not nest window functions). No Python UDF runs per row; the one Python
step is the EWM, once per symbol (below). The work scales with executors, symbols spread over them.

``Ewm`` has no built-in window function, and its recursion has no bounded frame: a value depends on
every earlier one. It runs per symbol in pandas (``groupBy("symbol").applyInPandas``), with the very
function the pandas engine uses (:func:`cripto_pipeline.features.ewm_mean`), so both engines give the
same EWM values bit for bit and the work is linear in the rows (one pass per symbol, vectorised in
pandas' Cython). Its inputs (e.g. ``Clip(Diff(close))``) and everything else stay native Spark
expressions. Memory bound: one Python worker holds ONE symbol's rows at a time (the rows of that
symbol times the columns of the frame at that point, ~30 doubles: about 250 MB per million rows of
one symbol); symbols are spread over the executors. A single symbol with hundreds of millions of bars
would need block-wise prefix sums instead. This replaced an ``aggregate`` over a ``collect_list`` of
the last ~449 values per row (O(449) per row).

Only this module imports pyspark: the Lambda and the Python-shell job never import it.
"""

from __future__ import annotations

import argparse
import math
from pathlib import PurePosixPath
from typing import Dict, Iterable, List

import pandas as pd

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StructField, StructType

from . import feature_spec as spec
from .features import FEATURE_COLUMNS, ID_COLUMNS, WARMUP_ROWS, ewm_mean

_ROW = "_row"

_UNARY = {"log": F.log, "log1p": F.log1p, "abs": F.abs, "sin": F.sin, "cos": F.cos, "neg": lambda c: -c}


class _Compiler:
    """Turns spec expressions into columns of ``frame``, materialising window results as columns."""

    def __init__(self, frame: DataFrame, outputs: Iterable[spec.Expr]) -> None:
        self.window = Window.partitionBy("symbol").orderBy("timestamp")
        micros = "unix_micros(timestamp)"
        self.frame = frame.select(
            "*",
            F.row_number().over(self.window).alias(_ROW),
            F.expr(f"pmod(({micros} div 86400000000L) + 3, 7)").alias("_day_of_week"),  # Monday = 0
            F.expr(f"cast(pmod({micros}, 86400000000L) as double) / 3600000000D").alias("_hour"),
        )
        self.materialised: Dict[spec.Expr, str] = {}
        # One select per nesting level of window operations: a short plan instead of one projection per
        # window column (Spark's analysis time grows with the plan's depth).
        levels: Dict[spec.Expr, int] = {}
        for output in outputs:
            _window_levels(output, levels)
        for level in range(1, max(levels.values(), default=0) + 1):
            nodes = [node for node, node_level in levels.items() if node_level == level]
            names = [f"_w{len(self.materialised) + number}" for number in range(len(nodes))]
            native = [(n, name) for n, name in zip(nodes, names) if not isinstance(n, spec.Ewm)]
            columns = [self._window_expression(node).alias(name) for node, name in native]
            self.frame = self.frame.select("*", *columns)
            self.materialised.update(native)
            ewms = [(n, name) for n, name in zip(nodes, names) if isinstance(n, spec.Ewm)]
            if ewms:
                self.frame = self._with_ewms(ewms)
                self.materialised.update(ewms)

    def __call__(self, node: spec.Expr) -> Column:  # noqa: C901 - one branch per node type
        if isinstance(node, spec.Input):
            return F.col(node.name).cast("double")
        if isinstance(node, spec.Const):
            return F.lit(node.value)
        if isinstance(node, spec.Time):
            return F.col(f"_{node.kind}")
        if isinstance(node, spec.Unary):
            return _UNARY[node.fn](self(node.x))
        if isinstance(node, spec.Binary):
            a, b = self(node.a), self(node.b)
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[node.op]
        if isinstance(node, spec.Max):  # numpy.maximum: missing if either side is (greatest() skips nulls)
            a, b = self(node.a), self(node.b)
            return F.when(a.isNull() | b.isNull(), F.lit(None)).otherwise(F.greatest(a, b))
        if isinstance(node, spec.Clip):
            x = clipped = self(node.x)
            if node.lower is not None:
                clipped = F.greatest(clipped, F.lit(node.lower))
            if node.upper is not None:
                clipped = F.least(clipped, F.lit(node.upper))
            return F.when(x.isNull(), F.lit(None)).otherwise(clipped)
        if isinstance(node, spec.Where0):
            return F.when(self(node.test) == 0, self(node.then)).otherwise(self(node.other))
        if isinstance(node, spec.WINDOW_NODES):
            return F.col(self.materialised[node])  # computed by an earlier select (see __init__)
        raise TypeError(f"unknown feature expression {node!r}")

    def _window_expression(self, node: spec.Expr) -> Column:
        x = self(node.x)  # type: ignore[attr-defined]
        if isinstance(node, spec.Shift):
            return F.lag(x, node.periods).over(self.window)
        if isinstance(node, spec.Diff):
            return x - F.lag(x, node.periods).over(self.window)
        if isinstance(node, spec.Rolling):
            frame = self.window.rowsBetween(-(node.window - 1), Window.currentRow)
            value = F.avg(x) if node.stat == "mean" else F.stddev_samp(x)
            return F.when(F.count(x).over(frame) == node.window, value.over(frame))
        raise TypeError(f"unknown window expression {node!r}")

    def _with_ewms(self, ewms: List) -> DataFrame:
        """The frame plus one column per Ewm node, computed per symbol by pandas (see the module docstring)."""
        inputs = [f"{name}_in" for _, name in ewms]
        frame = self.frame.select("*", *[self(node.x).alias(column) for (node, _), column in zip(ewms, inputs)])
        schema = StructType(frame.schema.fields + [StructField(name, DoubleType()) for _, name in ewms])
        nodes = [(node, name, column) for (node, name), column in zip(ewms, inputs)]

        def per_symbol(bars: pd.DataFrame) -> pd.DataFrame:
            bars = bars.sort_values(_ROW, kind="mergesort").reset_index(drop=True)
            for node, name, column in nodes:
                bars[name] = ewm_mean(bars[column].astype("float64"), node)
            return bars

        return frame.groupBy("symbol").applyInPandas(per_symbol, schema).drop(*inputs)


def _window_levels(node: spec.Expr, levels: Dict[spec.Expr, int]) -> int:
    """Nesting level of window operations in ``node`` (0: none), recording each window node's level."""
    below = max((_window_levels(child, levels) for child in spec.children(node)), default=0)
    if isinstance(node, spec.WINDOW_NODES):
        levels[node] = below + 1
        return below + 1
    return below


def compute_features(frame: DataFrame) -> DataFrame:
    """Canonical OHLCV DataFrame -> ID_COLUMNS + FEATURE_COLUMNS, as pandas' compute_features.

    Drops the first WARMUP_ROWS rows of each symbol and sets missing/non-finite values to 0.
    The result is not sorted (sort or partition it when writing).
    """
    compiler = _Compiler(frame, [spec.FEATURES[name] for name in FEATURE_COLUMNS])
    values = {name: compiler(spec.FEATURES[name]) for name in FEATURE_COLUMNS}
    finite = [
        F.when(v.isNull() | F.isnan(v) | v.isin(math.inf, -math.inf), F.lit(0.0)).otherwise(v).alias(name)
        for name, v in values.items()
    ]
    ids = [F.col(c).cast("double").alias(c) if c not in ("timestamp", "symbol") else F.col(c) for c in ID_COLUMNS]
    return compiler.frame.where(F.col(_ROW) > WARMUP_ROWS).select(*ids, *finite)


def local_session(app_name: str = "cripto-features") -> SparkSession:
    """A local-mode session with the settings the parity test and the job share (UTC, microsecond Parquet)."""
    return (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def main(argv=None) -> None:
    """``python -m cripto_pipeline.spark_features OUT_DIR IN.parquet...``: features of local Parquet files.

    Writes ``OUT_DIR/<input file stem>/`` (one Parquet file each), in one Spark session.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("output")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)
    session = local_session()
    try:
        for path in args.inputs:
            stem = PurePosixPath(path).stem
            features = compute_features(session.read.parquet(path))
            features.coalesce(1).write.mode("overwrite").parquet(f"{args.output}/{stem}")
    finally:
        session.stop()


if __name__ == "__main__":
    main()
