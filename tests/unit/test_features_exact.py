"""cripto_pipeline.features: exact feature values on tiny frames (issue 16).

The expected values are worked out by hand (a flat or steadily rising market, known calendar dates) or
by a plain-Python loop that follows the textbook definitions (EMA recursion from the first bar, Wilder's
smoothing), never by the spec or pandas. 40 bars per symbol: the 34 warm-up rows, then 6 feature rows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import feature_spec as spec
from cripto_pipeline import features
from cripto_pipeline.features import FEATURE_COLUMNS, compute_features

ROWS = 40
NAN = float("nan")
#: A closing price that moves both ways (so gains, losses and both EMAs differ from bar to bar).
CLOSES = [100.0 + ((7 * i) % 11) - 0.25 * i for i in range(ROWS)]


def bars(closes: Sequence[float], *, start: str = "2024-01-01", freq: str = "h", tz: Optional[str] = "UTC",
         opens: Optional[Sequence[float]] = None, volume: float = 10.0, symbol: str = "S") -> pd.DataFrame:
    """A canonical frame: high/low one above/below the larger/smaller of open and close."""
    close = np.asarray(closes, dtype="float64")
    open_ = np.asarray(opens, dtype="float64") if opens is not None else close
    return pd.DataFrame({
        "timestamp": pd.date_range(start, periods=len(close), freq=freq, tz=tz),
        "symbol": symbol,
        "open": open_,
        "high": np.maximum(open_, close) + 1.0,
        "low": np.minimum(open_, close) - 1.0,
        "close": close,
        "volume": volume,
    })


def ema(values: Sequence[float], alpha: float, min_periods: int) -> List[float]:
    """y = x at the first present value, then y = (1 - alpha) * y + alpha * x; missing until
    ``min_periods`` values were seen. Leading missing values are skipped."""
    out, average, seen = [], None, 0
    for value in values:
        if math.isnan(value):
            out.append(NAN)
            continue
        average = value if average is None else (1 - alpha) * average + alpha * value
        seen += 1
        out.append(average if seen >= min_periods else NAN)
    return out


def test_macd_is_the_difference_of_the_12_and_26_bar_emas_started_at_the_first_bar():
    result = compute_features(bars(CLOSES))
    fast, slow = ema(CLOSES, 2 / 13, 12), ema(CLOSES, 2 / 27, 26)
    macd = [(f - s) / c for f, s, c in zip(fast, slow, CLOSES)]  # present from bar 25 on
    signal = ema(macd, 2 / 10, 9)  # starts at bar 25, present from bar 33 on
    assert result["macd"].tolist() == pytest.approx(macd[34:], rel=1e-9, abs=1e-15)
    assert result["macd_signal"].tolist() == pytest.approx(signal[34:], rel=1e-9, abs=1e-15)
    assert result["macd_hist"].tolist() == pytest.approx([m - s for m, s in zip(macd[34:], signal[34:])],
                                                        rel=1e-8, abs=1e-15)


def test_rsi_uses_wilders_smoothing_of_gains_and_losses():
    result = compute_features(bars(CLOSES))
    changes = [NAN] + [b - a for a, b in zip(CLOSES, CLOSES[1:])]
    gain = ema([NAN if math.isnan(c) else max(c, 0.0) for c in changes], 1 / 14, 14)
    loss = ema([NAN if math.isnan(c) else max(-c, 0.0) for c in changes], 1 / 14, 14)
    expected = [100 * g / (g + lo) for g, lo in zip(gain[34:], loss[34:])]
    assert result["rsi_14"].tolist() == pytest.approx(expected, rel=1e-9)
    assert 0 < min(expected) and max(expected) < 100  # both gains and losses in the window


def test_rsi_of_a_market_that_only_rises_is_100():
    result = compute_features(bars([100.0 + i for i in range(ROWS)]))
    assert result["rsi_14"].tolist() == [100.0] * 6


def test_a_flat_market_gives_zero_features_and_an_rsi_of_50_without_numpy_warnings():
    """Every ratio's denominator is 0 here (0/0): the feature is 0, RSI (no gain, no loss) is 50.
    An open of 0 (x/0) makes body_pct 0 on that bar too. NumPy may not warn (warnings are errors)."""
    opens = [100.0] * ROWS
    opens[37] = 0.0
    frame = bars([100.0] * ROWS, opens=opens, freq="D")
    frame["high"] = frame["low"] = 100.0  # no range either
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compute_features(frame)
    calendar = {"day_of_week_sin", "day_of_week_cos", "hour_sin", "hour_cos"}
    for name in FEATURE_COLUMNS:
        if name == "rsi_14":
            assert result[name].tolist() == [50.0] * 6, name
        elif name not in calendar:
            assert result[name].tolist() == [0.0] * 6, name
    assert result["open"].tolist() == [100.0, 100.0, 100.0, 0.0, 100.0, 100.0]


# 2024-01-03 was a Wednesday; 34 days later (the first feature row) is Tuesday 2024-02-06.
WEEKDAYS_OF_THE_FEATURE_ROWS = [1, 2, 3, 4, 5, 6]  # Tuesday .. Sunday, Monday = 0


@pytest.mark.parametrize("variant", ["utc", "naive utc", "microsecond unit", "tokyo time"])
def test_calendar_features_are_the_utc_weekday_and_hour(variant):
    frame = bars(CLOSES, start="2024-01-03 18:30", freq="D")
    if variant == "naive utc":
        frame["timestamp"] = frame["timestamp"].dt.tz_localize(None)
    elif variant == "microsecond unit":  # as Spark and pyarrow write Parquet timestamps
        frame["timestamp"] = frame["timestamp"].dt.as_unit("us")
    elif variant == "tokyo time":  # the same instants, 03:30 the next morning at UTC+9
        frame["timestamp"] = frame["timestamp"].dt.tz_convert("Asia/Tokyo")
    result = compute_features(frame)
    days = WEEKDAYS_OF_THE_FEATURE_ROWS
    assert result["day_of_week_sin"].tolist() == pytest.approx([math.sin(2 * math.pi * d / 7) for d in days])
    assert result["day_of_week_cos"].tolist() == pytest.approx([math.cos(2 * math.pi * d / 7) for d in days])
    assert result["hour_sin"].tolist() == pytest.approx([math.sin(2 * math.pi * 18.5 / 24)] * 6)
    assert result["hour_cos"].tolist() == pytest.approx([math.cos(2 * math.pi * 18.5 / 24)] * 6)


def test_single_precision_prices_are_computed_in_double_precision():
    """float32 columns (e.g. a float32 Parquet file) give exactly the features of their float64 values."""
    double = bars([c * 1.001 for c in CLOSES])
    single = double.astype({c: "float32" for c in ("open", "high", "low", "close", "volume")})
    upcast = single.astype({c: "float64" for c in ("open", "high", "low", "close", "volume")})
    pd.testing.assert_frame_equal(compute_features(single), compute_features(upcast), check_exact=True)


@dataclass(frozen=True)
class _Unknown(spec.Expr):
    x: spec.Expr


def test_an_expression_node_no_engine_knows_is_refused_by_name():
    evaluate = features._SymbolEvaluator(bars(CLOSES[:3]))
    with pytest.raises(TypeError, match=r"^unknown feature expression _Unknown\(x=Input\(name='close'\)\)$"):
        evaluate(_Unknown(spec.close))
