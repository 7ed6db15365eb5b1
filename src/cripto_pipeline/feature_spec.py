"""The features, defined once as data: a small expression tree per feature column (issue 12).

Two engines compile the same tree: :mod:`cripto_pipeline.features` evaluates it with pandas per symbol
(the Lambda path and the Python-shell job) and :mod:`cripto_pipeline.spark_features` turns it into
native Spark SQL window expressions (the Glue Spark path; no Python UDFs). This module imports neither
pandas nor Spark.

Semantics every engine implements (pandas' own, which the Spark engine reproduces):

- all operations are per symbol, rows ordered by time; a window counts rows, not calendar time;
- a missing value (NaN in pandas, null in Spark) propagates through arithmetic, ``Max``, ``Clip``;
- ``Shift(x, k)`` is the value ``k`` rows earlier (missing for the first ``k`` rows), ``Diff`` is
  ``x - Shift(x, k)``;
- ``Rolling(x, n, "mean"|"std")`` needs ``n`` present values in its ``n``-row window (std: ``ddof=1``);
- ``Ewm(x, span=…|alpha=…, min_periods=m)`` is pandas' ``ewm(adjust=False).mean()``: leading missing
  values are skipped, the recursion starts at the first present value, the output is missing until
  ``m`` values were seen;
- ``Where0(test, then, other)`` is ``then`` where ``test == 0`` else ``other`` (missing test -> other);
- ``Time("day_of_week")`` is 0 = Monday … 6 (UTC), ``Time("hour")`` the fractional hour of day (UTC).

After evaluation the engines drop the first ``WARMUP_ROWS`` rows of each symbol and set every
remaining non-finite or missing value to 0 (a zero denominator; see :mod:`cripto_pipeline.features`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

Number = Union[int, float]


class Expr:
    """Base of the expression nodes; arithmetic operators build ``Binary`` nodes."""

    def __add__(self, other: "Operand") -> "Expr":
        return Binary("+", self, _expr(other))

    def __radd__(self, other: "Operand") -> "Expr":
        return Binary("+", _expr(other), self)

    def __sub__(self, other: "Operand") -> "Expr":
        return Binary("-", self, _expr(other))

    def __rsub__(self, other: "Operand") -> "Expr":
        return Binary("-", _expr(other), self)

    def __mul__(self, other: "Operand") -> "Expr":
        return Binary("*", self, _expr(other))

    def __rmul__(self, other: "Operand") -> "Expr":
        return Binary("*", _expr(other), self)

    def __truediv__(self, other: "Operand") -> "Expr":
        return Binary("/", self, _expr(other))

    def __rtruediv__(self, other: "Operand") -> "Expr":
        return Binary("/", _expr(other), self)

    def __neg__(self) -> "Expr":
        return Unary("neg", self)


Operand = Union[Expr, Number]


@dataclass(frozen=True, eq=True)
class Input(Expr):
    """A price column of the canonical frame: open, high, low, close, volume."""

    name: str


@dataclass(frozen=True, eq=True)
class Time(Expr):
    """Calendar position of the row's timestamp in UTC: ``day_of_week`` (0 = Monday) or ``hour``."""

    kind: str


@dataclass(frozen=True, eq=True)
class Const(Expr):
    value: float


@dataclass(frozen=True, eq=True)
class Unary(Expr):
    """``fn`` in log, log1p, abs, sin, cos, neg."""

    fn: str
    x: Expr


@dataclass(frozen=True, eq=True)
class Binary(Expr):
    """``op`` in + - * /."""

    op: str
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=True)
class Max(Expr):
    """Element-wise maximum; missing if either side is missing (numpy.maximum)."""

    a: Expr
    b: Expr


@dataclass(frozen=True, eq=True)
class Clip(Expr):
    lower: Optional[float]
    upper: Optional[float]
    x: Expr


@dataclass(frozen=True, eq=True)
class Shift(Expr):
    x: Expr
    periods: int


@dataclass(frozen=True, eq=True)
class Diff(Expr):
    x: Expr
    periods: int


@dataclass(frozen=True, eq=True)
class Rolling(Expr):
    x: Expr
    window: int
    stat: str  # "mean" | "std"


@dataclass(frozen=True, eq=True)
class Ewm(Expr):
    """pandas ``x.ewm(span=… or alpha=…, adjust=False, min_periods=…).mean()``."""

    x: Expr
    min_periods: int
    span: Optional[float] = None
    alpha: Optional[float] = None

    @property
    def smoothing(self) -> float:
        """The alpha pandas uses, computed as pandas does (from the centre of mass)."""
        com = (self.span - 1) / 2.0 if self.span is not None else 1.0 / self.alpha - 1.0
        return 1.0 / (1.0 + com)


@dataclass(frozen=True, eq=True)
class Where0(Expr):
    test: Expr
    then: Expr
    other: Expr


def _expr(value: Operand) -> Expr:
    return value if isinstance(value, Expr) else Const(float(value))


WINDOW_NODES = (Shift, Diff, Rolling, Ewm)


def children(node: Expr) -> Tuple[Expr, ...]:
    """Direct sub-expressions of ``node``."""
    if isinstance(node, (Unary, Clip, Shift, Diff, Rolling, Ewm)):
        return (node.x,)
    if isinstance(node, (Binary, Max)):
        return (node.a, node.b)
    if isinstance(node, Where0):
        return (node.test, node.then, node.other)
    return ()


# --- the feature definitions -------------------------------------------------------------------

close, high, low, open_, volume = (Input(n) for n in ("close", "high", "low", "open", "volume"))


def _ema(x: Expr, span: int) -> Expr:
    return Ewm(x, min_periods=span, span=span)


def _wilder(x: Expr, period: int) -> Expr:
    return Ewm(x, min_periods=period, alpha=1.0 / period)


log_close = Unary("log", close)
ret_1 = Diff(log_close, 1)
sma_10, sma_20, sma_30 = (Rolling(close, n, "mean") for n in (10, 20, 30))
std_20 = Rolling(close, 20, "std")
change = Diff(close, 1)
gain = _wilder(Clip(0.0, None, change), 14)
loss = _wilder(-Clip(None, 0.0, change), 14)
macd = (_ema(close, 12) - _ema(close, 26)) / close  # scale-free: in units of price
macd_signal = Ewm(macd, min_periods=9, span=9)
previous_close = Shift(close, 1)
true_range = Max(high - low, Max(Unary("abs", high - previous_close), Unary("abs", low - previous_close)))
log_volume = Unary("log1p", volume)
day = Time("day_of_week")
hour = Time("hour")
_TWO_PI = Const(2 * math.pi)

#: Feature column -> its definition, in the order models see them.
FEATURES: Dict[str, Expr] = {
    "ret_1": ret_1,
    "ret_1_lag1": Shift(ret_1, 1),
    "ret_1_lag2": Shift(ret_1, 2),
    "ret_1_lag3": Shift(ret_1, 3),
    "ret_5": Diff(log_close, 5),
    "ret_10": Diff(log_close, 10),
    "ret_20": Diff(log_close, 20),
    "volatility_10": Rolling(ret_1, 10, "std"),
    "volatility_30": Rolling(ret_1, 30, "std"),
    "close_sma_10_ratio": close / sma_10 - 1.0,
    "close_sma_30_ratio": close / sma_30 - 1.0,
    "sma_10_30_ratio": sma_10 / sma_30 - 1.0,
    # RSI = 100 - 100 / (1 + gain/loss) = 100 * gain / (gain + loss); 50 when nothing moved.
    "rsi_14": Where0(gain + loss, Const(50.0), 100.0 * gain / (gain + loss)),
    "macd": macd,
    "macd_signal": macd_signal,
    "macd_hist": macd - macd_signal,
    "bollinger_pct_b": (close - (sma_20 - 2.0 * std_20)) / (4.0 * std_20),
    "atr_14": _wilder(true_range, 14) / close,
    "range_pct": (high - low) / close,
    "body_pct": (close - open_) / open_,
    "volume_zscore_30": (log_volume - Rolling(log_volume, 30, "mean")) / Rolling(log_volume, 30, "std"),
    "day_of_week_sin": Unary("sin", _TWO_PI * day / 7.0),
    "day_of_week_cos": Unary("cos", _TWO_PI * day / 7.0),
    "hour_sin": Unary("sin", _TWO_PI * hour / 24.0),
    "hour_cos": Unary("cos", _TWO_PI * hour / 24.0),
}


def lookback_rows(node: Expr) -> int:
    """Rows before ``t`` that a finite-window node reads (Ewm counts its ``min_periods``)."""
    own = 0
    if isinstance(node, (Shift, Diff)):
        own = node.periods
    elif isinstance(node, Rolling):
        own = node.window - 1
    elif isinstance(node, Ewm):
        own = node.min_periods - 1
    return own + max((lookback_rows(child) for child in children(node)), default=0)
