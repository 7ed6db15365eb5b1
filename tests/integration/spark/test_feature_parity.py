"""Parity of the two feature engines (issue 12): pandas (features.py) vs Spark (spark_features.py).

Both compile the one definition in feature_spec.py. The Spark side runs in the Glue 5.0 Spark
environment (.venvs/glue-spark-5.0: Python 3.11, pyspark 3.5.4, Java 17) as a subprocess, on the same
Parquet input: the real samples in data/samples and a multi-symbol synthetic file with edge cases.

Tolerance: |pandas - spark| <= RTOL * max(|pandas|, |spark|, 1) per value. For values of magnitude >= 1
this is a relative bound; below 1 it is absolute, because most features are differences or ratios
minus one (returns, SMA ratios, MACD) and lose relative precision by cancellation near zero: their
absolute rounding error is set by the operands (log prices ~10, ratios ~1), not by the small result.
RTOL = 1e-9 for every column except bollinger_pct_b (1e-8): (close - lower band) / (4 std) cancels
prices of ~1e4 against each other and divides by a small rolling std, and pandas' online rolling
variance differs from Spark's in the last digits (measured max 1.3e-9 on the hourly sample).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline.features import FEATURE_COLUMNS, ID_COLUMNS, WARMUP_ROWS, compute_features, synthetic_ohlcv
from cripto_pipeline.validation import load_ohlcv

ROOT = Path(__file__).resolve().parents[3]
SPARK_PYTHON = ROOT / ".venvs" / "glue-spark-5.0" / "bin" / "python"
RTOL = {name: 1e-9 for name in FEATURE_COLUMNS} | {"bollinger_pct_b": 1e-8}


def _edge_case_symbols() -> pd.DataFrame:
    frame = synthetic_ohlcv(3 * 1500, symbols=3, seed=12)
    one = frame["symbol"] == "SYM1"
    stretch = frame.index[one][400:480]
    frame.loc[stretch, ["open", "high", "low", "close"]] = 123.0  # nothing moves: rolling std 0 -> 0
    frame.loc[frame.index[one][700:760], "volume"] = 0.0  # constant volume window: z-score 0
    short = synthetic_ohlcv(WARMUP_ROWS, symbols=1, seed=3).assign(symbol="SHORT")  # too short: no rows
    shuffled = pd.concat([frame, short], ignore_index=True).sample(frac=1.0, random_state=4)
    return shuffled.reset_index(drop=True)  # rows out of order: both engines sort per symbol


def _inputs() -> dict:
    inputs = {"synthetic": _edge_case_symbols()}
    for name in ("daily", "hourly"):
        data = (ROOT / "data" / "samples" / f"coinbase_btcusd_{name}.csv").read_bytes()
        inputs[name] = load_ohlcv(data).frame
    return inputs


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory):
    if not SPARK_PYTHON.exists():
        pytest.fail(f"{SPARK_PYTHON} is missing: run `make bootstrap` (it builds the glue-spark-5.0 env).")
    work = tmp_path_factory.mktemp("parity")
    inputs = _inputs()
    # One input file, one Spark session (the start-up dominates): symbols prefixed by their source.
    combined = pd.concat([frame.assign(symbol=name + ":" + frame["symbol"].astype(str))
                          for name, frame in inputs.items()], ignore_index=True)  # fmt: skip
    combined.to_parquet(work / "input.parquet", coerce_timestamps="us", allow_truncated_timestamps=False)
    # PYSPARK_PYTHON: the Python workers (EWM per symbol) run the Glue Spark interpreter, as on Glue.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYSPARK_PYTHON": str(SPARK_PYTHON)}
    completed = subprocess.run(
        [str(SPARK_PYTHON), "-m", "cripto_pipeline.spark_features", str(work / "out"), str(work / "input.parquet")],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    spark = pd.read_parquet(work / "out" / "input").sort_values(["symbol", "timestamp"]).reset_index(drop=True)
    return combined, compute_features(combined).reset_index(drop=True), spark


def test_same_rows_and_columns(both_engines):
    combined, pandas_features, spark_features = both_engines
    assert list(spark_features.columns) == list(ID_COLUMNS) + list(FEATURE_COLUMNS)
    assert len(spark_features) == len(pandas_features)
    assert "synthetic:SHORT" not in set(spark_features["symbol"])
    assert (spark_features["symbol"].to_numpy() == pandas_features["symbol"].to_numpy()).all()
    spark_times = spark_features["timestamp"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    assert (spark_times.to_numpy() == pandas_features["timestamp"].to_numpy()).all()
    for name in ID_COLUMNS[2:]:
        np.testing.assert_array_equal(spark_features[name].to_numpy(), pandas_features[name].to_numpy())


@pytest.mark.parametrize("column", FEATURE_COLUMNS)
def test_every_feature_column_matches(both_engines, column):
    _, pandas_features, spark_features = both_engines
    expected, actual = pandas_features[column].to_numpy(), spark_features[column].to_numpy()
    assert np.isfinite(actual).all()
    scale = np.maximum(np.maximum(np.abs(expected), np.abs(actual)), 1.0)
    error = np.abs(expected - actual) / scale
    worst = int(np.argmax(error))
    assert error[worst] <= RTOL[column], (
        f"{column}: pandas {expected[worst]!r} vs spark {actual[worst]!r} at row {worst} "
        f"({pandas_features['symbol'].iloc[worst]} {pandas_features['timestamp'].iloc[worst]})"
    )


def test_edge_cases_took_the_zero_paths(both_engines):
    """The synthetic file really exercises the zero-denominator rule (std 0 -> 0), in Spark too."""
    _, _, spark_features = both_engines
    flat = spark_features[spark_features["symbol"] == "synthetic:SYM1"]
    assert (flat["bollinger_pct_b"] == 0.0).any()
    assert (flat["volume_zscore_30"] == 0.0).any()


def test_pandas_engine_does_not_import_spark(both_engines):
    """The Lambda has no pyspark: even where pyspark is installed, the pipeline must not import it."""
    code = "import sys, cripto_pipeline.pipeline, cripto_pipeline.features; print('pyspark' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([str(SPARK_PYTHON), "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
