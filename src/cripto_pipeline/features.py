"""Technical features from a canonical OHLCV frame, per symbol, using only past data.

Every feature at row ``t`` is a function of rows ``<= t`` of the same symbol (rolling windows,
``shift(k > 0)``, and exponential averages with ``adjust=False``, which are recursive in the
past), so a model trained on them cannot peek at the future; a unit test checks that changing
future rows never changes past features. Everything is vectorised pandas/numpy per symbol (the
only Python loop is over symbols). The features are defined once, as data, in
:mod:`cripto_pipeline.feature_spec`; this module is their pandas engine and
:mod:`cripto_pipeline.spark_features` their Spark engine. Windows count rows, not calendar time: a gap in the data (the
daily sample misses 13 days in 2019) is treated as consecutive bars.

The first ``WARMUP_ROWS`` rows of each symbol are dropped because the longest window is not
filled yet. Ratios with a zero denominator (e.g. a volume z-score over a window of identical
volumes) are set to 0 rather than leaving NaN/inf holes.
"""

from __future__ import annotations

import time
from typing import Dict

import numpy as np
import pandas as pd

from . import feature_spec as spec

#: Feature columns, in the order models see them.
FEATURE_COLUMNS = tuple(spec.FEATURES)  # defined once, in feature_spec
#: Rows per symbol consumed by the longest window: MACD signal (EMA 26, then EMA 9 of it) = 34.
WARMUP_ROWS = 34
#: Feature rows a walk-forward evaluation needs: an initial training window and 5 test folds.
MIN_TRAINING_ROWS = 200
#: Rows per symbol an upload needs (warm-up + training rows + the last row, which has no target).
MIN_ROWS_PER_SYMBOL = WARMUP_ROWS + MIN_TRAINING_ROWS + 1
#: Columns of the frame written to features.parquet, besides FEATURE_COLUMNS.
ID_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")


_NS_PER_DAY = 86_400 * 10**9
_NS_PER_HOUR = 3_600 * 10**9


def _utc_nanoseconds(timestamps: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of a naive-UTC or tz-aware datetime Series."""
    if getattr(timestamps.dt, "tz", None) is not None:
        timestamps = timestamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return timestamps.to_numpy(dtype="datetime64[ns]").view("int64")


_UNARY = {"log": np.log, "log1p": np.log1p, "abs": np.abs, "sin": np.sin, "cos": np.cos, "neg": np.negative}
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


class _SymbolEvaluator:
    """Evaluates :mod:`feature_spec` expressions on one symbol's bars (memoised per node).

    Values are numpy arrays; pandas runs the per-symbol window operations (shift, diff, rolling, ewm),
    whose semantics the spec adopts. Plain ufuncs on arrays avoid pandas' per-call overhead, which
    adds up with many symbols.
    """

    def __init__(self, bars: pd.DataFrame) -> None:
        self.bars = bars
        # Keyed by identity: the spec reuses node objects, and hashing a frozen dataclass tree walks
        # the whole subtree on every lookup.
        self.values: Dict[int, np.ndarray] = {}

    def __call__(self, node: spec.Expr) -> np.ndarray:
        key = id(node)
        if key not in self.values:
            self.values[key] = self._evaluate(node)
        return self.values[key]

    def _series(self, node: spec.Expr) -> pd.Series:
        return pd.Series(self(node))

    def _evaluate(self, node: spec.Expr) -> np.ndarray:  # noqa: C901 - one branch per node type
        if isinstance(node, spec.Input):
            return self.bars[node.name].to_numpy(dtype="float64")
        if isinstance(node, spec.Const):
            return node.value  # type: ignore[return-value]  # a scalar broadcasts like a column
        if isinstance(node, spec.Time):
            nanoseconds = _utc_nanoseconds(self.bars["timestamp"])
            if node.kind == "day_of_week":
                return ((nanoseconds // _NS_PER_DAY) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
            return (nanoseconds % _NS_PER_DAY) / _NS_PER_HOUR
        if isinstance(node, spec.Unary):
            return _UNARY[node.fn](self(node.x))
        if isinstance(node, spec.Binary):
            return _BINARY[node.op](self(node.a), self(node.b))
        if isinstance(node, spec.Max):
            return np.maximum(self(node.a), self(node.b))
        if isinstance(node, spec.Where0):
            return np.where(self(node.test) == 0, self(node.then), self(node.other))
        series = self._series(node.x)  # type: ignore[attr-defined]  # the window operations
        if isinstance(node, spec.Clip):
            result = series.clip(lower=node.lower, upper=node.upper)
        elif isinstance(node, spec.Shift):
            result = series.shift(node.periods)
        elif isinstance(node, spec.Diff):
            result = series.diff(node.periods)
        elif isinstance(node, spec.Rolling):
            rolling = series.rolling(node.window)
            result = rolling.mean() if node.stat == "mean" else rolling.std()
        elif isinstance(node, spec.Ewm):
            return ewm_mean(series, node)
        else:
            raise TypeError(f"unknown feature expression {node!r}")
        return result.to_numpy()


def ewm_mean(values: pd.Series, node: spec.Ewm) -> np.ndarray:
    """pandas' ``ewm(adjust=False).mean()`` of one symbol's values, as ``node`` defines it.

    The one EWM implementation: the Spark engine runs it per symbol too (spark_features).
    """
    smoothing = {"span": node.span} if node.span is not None else {"alpha": node.alpha}
    return values.ewm(adjust=False, min_periods=node.min_periods, **smoothing).mean().to_numpy()


def _symbol_features(bars: pd.DataFrame) -> Dict[str, np.ndarray]:
    """Features of one symbol's bars (sorted by time), as float64 arrays."""
    evaluate = _SymbolEvaluator(bars)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {name: np.asarray(evaluate(spec.FEATURES[name]), dtype="float64") for name in FEATURE_COLUMNS}


def _sorted_by_symbol_and_time(frame: pd.DataFrame) -> pd.DataFrame:
    symbols = frame["symbol"]
    if symbols.is_monotonic_increasing:
        step = np.diff(_utc_nanoseconds(frame["timestamp"]))
        same_symbol = symbols.to_numpy()[1:] == symbols.to_numpy()[:-1]
        if not np.any(same_symbol & (step < 0)):
            return frame
    return frame.sort_values(["symbol", "timestamp"], kind="mergesort")


def compute_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical OHLCV frame -> ID_COLUMNS + FEATURE_COLUMNS, sorted by (symbol, timestamp).

    Rows are the input rows minus the first WARMUP_ROWS of each symbol.
    Symbols with no more than WARMUP_ROWS rows contribute nothing.
    """
    frame = _sorted_by_symbol_and_time(frame)
    symbols = frame["symbol"].to_numpy()
    n = len(frame)
    starts = np.flatnonzero(np.r_[True, symbols[1:] != symbols[:-1]]) if n else np.array([], dtype=int)
    ends = np.r_[starts[1:], n].astype(int)
    kept = np.maximum(ends - starts - WARMUP_ROWS, 0)
    take = np.zeros(n, dtype=bool)
    for start, end in zip(starts, ends):
        take[start + WARMUP_ROWS : end] = True
    # One preallocated column-major float matrix (prices, volume, features), filled per symbol and
    # wrapped by pandas without a copy: concatenating frames instead holds the data twice and copies it.
    float_columns = list(ID_COLUMNS[2:]) + list(FEATURE_COLUMNS)
    matrix = np.empty((int(kept.sum()), len(float_columns)), dtype="float64", order="F")
    for j, name in enumerate(ID_COLUMNS[2:]):
        matrix[:, j] = frame[name].to_numpy(dtype="float64")[take]
    offset = len(ID_COLUMNS) - 2
    row = 0
    for start, end, count in zip(starts, ends, kept):
        if count == 0:
            continue
        values = _symbol_features(frame.iloc[start:end])
        for j, name in enumerate(FEATURE_COLUMNS):
            target = matrix[row : row + count, offset + j]
            np.copyto(target, values[name][WARMUP_ROWS:])
            # After the warm-up only a zero/undefined denominator leaves a hole (see the module docstring).
            np.copyto(target, 0.0, where=~np.isfinite(target))
        row += count
    result = pd.DataFrame(matrix, columns=float_columns, copy=False)
    result.insert(0, "symbol", symbols[take])
    # .array keeps the dtype (to_numpy() of tz-aware values would build a million Timestamp objects).
    result.insert(0, "timestamp", frame["timestamp"].array[take])
    return result


def synthetic_ohlcv(rows: int, symbols: int = 1, seed: int = 0, freq: str = "h") -> pd.DataFrame:
    """A canonical frame of random-walk bars (for tests and benchmarks), ``rows`` in total."""
    rng = np.random.default_rng(seed)
    per_symbol = -(-rows // symbols)
    frames = []
    for number in range(symbols):
        n = min(per_symbol, rows - number * per_symbol)
        if n <= 0:
            break
        returns = rng.normal(0.0, 0.01, n)
        close = 100.0 * np.exp(np.cumsum(returns))
        open_ = np.concatenate([[100.0], close[:-1]])
        spread = np.abs(rng.normal(0.0, 0.005, n)) * close
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": pd.date_range("2020-01-01", periods=n, freq=freq, tz="UTC"),
                    "symbol": f"SYM{number}",
                    "open": open_,
                    "high": np.maximum(open_, close) + spread,
                    "low": np.minimum(open_, close) - spread * 0.5,
                    "close": close,
                    "volume": rng.lognormal(3.0, 1.0, n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def benchmark(rows: int = 1_000_000, symbols: int = 1, repeat: int = 3) -> Dict[str, float]:
    """Time compute_features on ``rows`` synthetic bars; best of ``repeat`` runs, in seconds."""
    frame = synthetic_ohlcv(rows, symbols)
    timings = []
    feature_rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        feature_rows = len(compute_features(frame))  # the result is freed before the next run
        timings.append(time.perf_counter() - started)
    return {
        "rows": float(rows),
        "symbols": float(symbols),
        "feature_rows": float(feature_rows),
        "seconds_best": min(timings),
        "seconds_worst": max(timings),
    }
