"""A Spark sample's blocks (``<symbol>#<span>``): training keeps them as series of their own, what people
read names the real symbols (issue 12: a 100-symbol sample gave a 10,000-row coverage table)."""
from __future__ import annotations

import pandas as pd
import pytest

from cripto_pipeline import sample_blocks, training
from cripto_pipeline.features import FEATURE_COLUMNS, compute_features, synthetic_ohlcv
from cripto_pipeline.report import analysis


def test_block_names_and_their_real_symbols():
    assert sample_blocks.block_symbol("BTC", 0) == "BTC#000"
    assert sample_blocks.block_symbol("ETH/USD", 42) == "ETH/USD#042"
    names = pd.Series(["BTC#000", "BTC#099", "ETH/USD#042", "SOL", "A#1", "B#0001", "C#12x"])
    assert sample_blocks.real_symbols(names).tolist() == ["BTC", "BTC", "ETH/USD", "SOL", "A#1", "B#0001", "C#12x"]
    assert sample_blocks.NAMING.startswith("<symbol>#<bucket, 3 digits>")


def _hours(*numbers: int) -> list:
    return [pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=n) for n in numbers]


def test_coverage_of_a_sample_lists_real_symbols_and_finds_gaps_only_within_blocks():
    # BTC: two blocks (spans 0 and 1) with 5 hours between them, the second missing hour 12; ETH: one block.
    frame = pd.DataFrame({
        "timestamp": _hours(0, 1, 2, 3, 4) + _hours(10, 11, 13, 14) + _hours(0, 1, 2, 3, 4),
        "symbol": ["BTC#000"] * 5 + ["BTC#001"] * 4 + ["ETH#000"] * 5,
    })
    coverage = analysis.data_coverage(frame)
    assert [s["symbol"] for s in coverage.symbols] == ["BTC", "ETH"]
    btc, eth = coverage.symbols
    assert (btc["rows"], btc["first"].hour, btc["last"].hour) == (9, 0, 14)
    assert (btc["step"], btc["gaps"], btc["missing_bars"]) == (pd.Timedelta(hours=1), 1, 1)
    assert (eth["rows"], eth["gaps"], eth["missing_bars"]) == (5, 0, 0)
    (gap,) = coverage.gaps  # the hole inside BTC#001, not the 6 h between the two blocks
    assert (gap["symbol"], gap["after"].hour, gap["before"].hour, gap["missing_bars"]) == ("BTC", 11, 13, 1)
    assert coverage.period == "D" and coverage.rows_per_period.to_dict("list") == {"BTC": [9], "ETH": [5]}


def test_training_keeps_the_blocks_but_weighs_and_counts_real_symbols():
    labelled = training.add_target(compute_features(synthetic_ohlcv(1200, 2, seed=3)), 1)
    middle = labelled["timestamp"].sort_values().iloc[len(labelled) // 2]
    spans = (labelled["timestamp"] >= middle).astype(int)
    blocks = labelled.assign(symbol=[sample_blocks.block_symbol(s, n) for s, n in zip(labelled["symbol"], spans)])
    assert blocks["symbol"].nunique() == 4
    whole = training.evaluate(labelled, FEATURE_COLUMNS, candidates=lambda: {})
    split = training.evaluate(blocks, FEATURE_COLUMNS, candidates=lambda: {})
    # Same bars, same returns: the portfolio is one position per real symbol, not per block.
    for one, other in zip(whole["folds"], split["folds"]):
        assert other["buy_and_hold_log_return"] == pytest.approx(one["buy_and_hold_log_return"])
        assert other["buy_and_hold_log_return"] != 0
