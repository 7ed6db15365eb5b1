"""cripto_pipeline.strategy: growth of 1 of a long/flat signal and of buy-and-hold, net of fees, on
hand-made bars whose results are computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cripto_pipeline import strategy


def signal_frame(rows):
    """(timestamp day, symbol, y_true, y_pred, next_log_return) -> a signal as OutOfSample.signal returns it."""
    frame = pd.DataFrame(rows, columns=["day", "symbol", "y_true", "y_pred", "next_log_return"])
    frame["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["fold"], frame["score"] = 0, frame["y_pred"].astype(float)
    return frame


def test_equity_charges_a_fee_per_position_change_and_holds_from_t_to_t_plus_1():
    frame = signal_frame([(0, "A", 1, 1, 0.10), (1, "A", 0, 0, -0.05), (2, "A", 1, 1, 0.02)])
    equity = strategy.equity_curves(frame, fee_rate=0.01)
    fee = math.log(0.99)
    # long, flat, long: three position changes (enter, exit, enter); the -5 % bar is skipped.
    assert equity["model_gross"].iloc[-1] == pytest.approx(math.exp(0.10 + 0.02))
    assert equity["model_net"].iloc[-1] == pytest.approx(math.exp(0.10 + 0.02 + 3 * fee))
    assert equity["buy_and_hold_net"].iloc[-1] == pytest.approx(math.exp(0.10 - 0.05 + 0.02 + fee))
    assert list(equity["model_net"].round(6)) == [
        round(math.exp(0.10 + fee), 6),
        round(math.exp(0.10 + 2 * fee), 6),
        round(math.exp(0.12 + 3 * fee), 6),
    ]


def test_equity_weights_symbols_equally_and_fees_are_per_symbol():
    frame = signal_frame(
        [(0, "A", 1, 1, 0.10), (0, "B", 0, 0, -0.10), (1, "A", 1, 1, 0.0), (1, "B", 1, 1, 0.20)]
    )
    equity = strategy.equity_curves(frame, fee_rate=0.0)
    assert equity["model_gross"].iloc[0] == pytest.approx(
        math.exp(0.05)
    )  # mean of 0.10 (A long) and 0 (B flat)
    assert equity["model_gross"].iloc[-1] == pytest.approx(math.exp(0.05 + 0.10))
    assert equity["buy_and_hold_net"].iloc[-1] == pytest.approx(math.exp(0.0 + 0.10))


def test_no_bars_grow_nothing():
    empty = signal_frame([])
    assert strategy.final_growth(strategy.equity_curves(empty), "model_net") == 1.0
