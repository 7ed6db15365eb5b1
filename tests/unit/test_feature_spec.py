"""The declarative feature definitions (feature_spec.py) and their pandas engine."""
from __future__ import annotations

import pandas as pd
import pytest

from cripto_pipeline import feature_spec as spec
from cripto_pipeline.features import FEATURE_COLUMNS, WARMUP_ROWS, compute_features, synthetic_ohlcv


def test_columns_come_from_the_spec_in_order():
    assert FEATURE_COLUMNS == tuple(spec.FEATURES)
    assert len(FEATURE_COLUMNS) == 25


def test_warmup_covers_the_longest_lookback_exactly():
    """WARMUP_ROWS is the longest chain of windows + 1 (MACD signal: EMA 26 then EMA 9)."""
    longest = max(spec.lookback_rows(expr) for expr in spec.FEATURES.values())
    assert longest + 1 == WARMUP_ROWS
    assert spec.lookback_rows(spec.FEATURES["macd_signal"]) == 25 + 8


@pytest.mark.parametrize(("node", "alpha"), [(spec.Ewm(spec.close, 1, span=26), 2 / 27),
                                              (spec.Ewm(spec.close, 1, alpha=1 / 14), 1 / 14)])  # fmt: skip
def test_ewm_smoothing_is_pandas_alpha(node, alpha):
    assert node.smoothing == pytest.approx(alpha, rel=1e-15)


def test_expressions_are_shared_nodes_evaluated_once():
    """Equal sub-expressions compare equal, so engines compute them once (memoised / one column)."""
    assert spec.FEATURES["macd_hist"].a == spec.FEATURES["macd"]
    assert spec.Diff(spec.Unary("log", spec.close), 1) == spec.FEATURES["ret_1"]
    assert hash(spec.FEATURES["ret_1_lag1"].x) == hash(spec.FEATURES["ret_1"])


def test_changing_a_definition_changes_the_pandas_output(monkeypatch):
    """The pandas engine really evaluates the spec (no second hand-written definition)."""
    frame = synthetic_ohlcv(300)
    before = compute_features(frame)
    monkeypatch.setitem(spec.FEATURES, "range_pct", (spec.high - spec.low) / spec.open_)
    after = compute_features(frame)
    expected = (frame["high"] - frame["low"]) / frame["open"]
    pd.testing.assert_series_equal(after["range_pct"], expected.iloc[WARMUP_ROWS:].reset_index(drop=True),
                                   check_names=False)  # fmt: skip
    assert not after["range_pct"].equals(before["range_pct"])
