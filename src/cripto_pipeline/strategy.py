"""What a direction signal earns when traded: the long/flat strategy, its fees and its growth of 1.

One definition for training's comparison (``metrics.json["comparison"]``: net of fees vs buy-and-hold)
and for the report's equity curves, so the page and the metrics always show the same numbers.
Plain pandas/numpy: no scikit-learn, no AWS.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Trading fee per position change (an entry or an exit), as a fraction of the traded value: 0.10 %,
#: a typical spot taker fee on large exchanges (retail tiers are often higher; slippage and spread
#: come on top and are not modelled).
FEE_RATE = 0.001


def equity_curves(signal: pd.DataFrame, fee_rate: float = FEE_RATE) -> pd.DataFrame:
    """Growth of 1 unit: the long/flat ``signal`` (gross and net of fees) and buy-and-hold (net).

    ``signal`` has one row per (timestamp, symbol) with ``y_pred`` (1 = long, 0 = flat) and
    ``next_log_return`` (log return from this bar to the next). The position at bar t holds the
    symbol from t to t+1 (the target's horizon). A fee of ``fee_rate`` is paid on every position
    change (flat before the first bar); buy-and-hold pays it once, on entry. Symbols are equally
    weighted, as in the training metrics. Open positions are marked to market at the end (no exit
    fee). Returns columns ``model_gross``, ``model_net``, ``buy_and_hold_net`` indexed by timestamp.
    """
    ordered = signal.sort_values(["symbol", "timestamp"], kind="mergesort")
    position = ordered["y_pred"].astype("float64")
    previous = position.groupby(ordered["symbol"], sort=False).shift(1).fillna(0.0)
    fee = math.log1p(-fee_rate)
    gross = position * ordered["next_log_return"]
    first_bar = ~ordered["symbol"].duplicated()
    frame = pd.DataFrame(
        {
            "timestamp": ordered["timestamp"],
            "model_gross": gross,
            "model_net": gross + (position - previous).abs() * fee,
            "buy_and_hold_net": ordered["next_log_return"] + first_bar.astype("float64") * fee,
        }
    )
    per_time = frame.groupby("timestamp", sort=True).mean()
    return np.exp(per_time.cumsum())


def final_growth(equity: pd.DataFrame, column: str) -> float:
    """The last value of an equity curve (1.0 when there are no bars: nothing was traded)."""
    return float(equity[column].iloc[-1]) if len(equity) else 1.0
