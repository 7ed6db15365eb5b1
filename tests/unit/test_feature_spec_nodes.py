"""cripto_pipeline.feature_spec: the operators build exactly the nodes they name, and the smoothing
helpers their Ewm (issue 16: the feature tree is built at import time, before mutmut switches a mutant
on, so these functions were checked only through the finished tree)."""

from __future__ import annotations

from cripto_pipeline import feature_spec as spec

x, y = spec.Input("close"), spec.Input("open")


def test_each_operator_builds_its_binary_node_with_the_operands_in_order():
    assert x + y == spec.Binary("+", x, y)
    assert x + 2 == spec.Binary("+", x, spec.Const(2.0))
    assert 2 + x == spec.Binary("+", spec.Const(2.0), x)
    assert x - 3 == spec.Binary("-", x, spec.Const(3.0))
    assert 3 - x == spec.Binary("-", spec.Const(3.0), x)
    assert x * 4 == spec.Binary("*", x, spec.Const(4.0))
    assert 4 * x == spec.Binary("*", spec.Const(4.0), x)
    assert x / 5 == spec.Binary("/", x, spec.Const(5.0))
    assert 5 / x == spec.Binary("/", spec.Const(5.0), x)
    assert -x == spec.Unary("neg", x)
    assert spec._expr(x) is x and spec._expr(7) == spec.Const(7.0)


def test_ema_and_wilder_smoothing():
    assert spec._ema(x, 12) == spec.Ewm(x, min_periods=12, span=12)
    assert spec._wilder(x, 14) == spec.Ewm(x, min_periods=14, alpha=1.0 / 14)


def test_lookback_rows_adds_each_windows_own_rows_along_the_deepest_path():
    assert spec.lookback_rows(x) == 0
    assert spec.lookback_rows(spec.Shift(x, 3)) == 3
    assert spec.lookback_rows(spec.Rolling(spec.Diff(x, 2), 10, "mean")) == 2 + 9
    assert spec.lookback_rows(spec.Ewm(x, min_periods=9, span=9)) == 8
    assert spec.lookback_rows(spec.Binary("+", spec.Shift(x, 1), spec.Rolling(y, 5, "std"))) == 4
