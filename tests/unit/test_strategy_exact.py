"""cripto_pipeline.strategy on hand-made bars, values worked out by hand: a held position pays no fee,
symbols that start on different dates, and the last value of a curve (issue 16)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cripto_pipeline import strategy

from .test_strategy import signal_frame

DAY = pd.Timestamp("2026-01-01", tz="UTC")


def test_holding_a_long_position_pays_the_fee_on_entry_and_exit_only():
    frame = signal_frame([(0, "A", 1, 1, 0.01), (1, "A", 1, 1, 0.02), (2, "A", 0, 0, 0.03)])
    fee = math.log(0.99)
    equity = strategy.equity_curves(frame, fee_rate=0.01)
    assert equity["model_net"].tolist() == pytest.approx(
        [math.exp(0.01 + fee), math.exp(0.03 + fee), math.exp(0.03 + 2 * fee)])
    assert equity["model_gross"].tolist() == pytest.approx([math.exp(0.01), math.exp(0.03), math.exp(0.03)])


def test_a_symbol_that_starts_later_joins_the_average_on_its_own_dates():
    # B trades from day 0, A only from day 1 (and sorts first): the curve still runs day 0, 1, 2.
    frame = signal_frame([(1, "A", 1, 1, 0.4), (2, "A", 1, 1, 0.6),
                          (0, "B", 1, 1, 0.1), (1, "B", 1, 1, 0.2), (2, "B", 1, 1, 0.3)])
    fee = math.log(0.99)
    equity = strategy.equity_curves(frame, fee_rate=0.01)
    assert list(equity.index) == [DAY, DAY + pd.Timedelta(days=1), DAY + pd.Timedelta(days=2)]
    # per day: 0.1 | (0.4 + 0.2) / 2 | (0.6 + 0.3) / 2, summed up
    assert equity["model_gross"].tolist() == pytest.approx([math.exp(0.1), math.exp(0.4), math.exp(0.85)])
    # buy-and-hold pays each symbol's entry fee on its own first day, averaged with the other symbol's bar
    assert equity["buy_and_hold_net"].tolist() == pytest.approx(
        [math.exp(0.1 + fee), math.exp(0.4 + 1.5 * fee), math.exp(0.85 + 1.5 * fee)])


def test_the_final_growth_is_the_curves_last_value():
    equity = pd.DataFrame({"model_net": [1.1, 1.2, 1.3], "buy_and_hold_net": [0.9, 1.0, 0.95]})
    assert strategy.final_growth(equity, "model_net") == 1.3
    assert strategy.final_growth(equity, "buy_and_hold_net") == 0.95
    assert strategy.final_growth(equity.iloc[:0], "model_net") == 1.0
