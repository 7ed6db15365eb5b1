"""README promises that had no test (issue 16): each test names the README sentence it holds to.
Values are written out here, not read from the code's constants, so a changed default fails."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pandas as pd
import pytest

from cripto_pipeline import layout
from cripto_pipeline.exceptions import InvalidDatasetNameError
from cripto_pipeline.features import synthetic_ohlcv
from cripto_pipeline.validation import load_ohlcv

REPO = Path(__file__).resolve().parents[2]


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _frame(rows: int = 300) -> pd.DataFrame:
    data = synthetic_ohlcv(rows, 1, seed=3).drop(columns="symbol")
    data["timestamp"] = data["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return data


# "What it repairs safely (order, banner, whitespace) is repaired and listed as a warning"


def test_rows_out_of_time_order_are_sorted_with_a_warning():
    ordered = _frame()
    shuffled = ordered.iloc[[0, 1, 2, 5, 3, 4, *range(6, len(ordered) - 2), len(ordered) - 1, len(ordered) - 2]]
    loaded = load_ohlcv(_csv(shuffled))
    assert list(loaded.frame["timestamp"]) == sorted(loaded.frame["timestamp"])
    assert len(loaded.frame) == len(ordered)
    assert loaded.frame["close"].tolist() == pytest.approx(ordered["close"].tolist())
    assert "2 row(s) were out of time order; sorted by timestamp."  # 5->3 and last->second-to-last in loaded.warnings


def test_newest_first_rows_are_sorted_with_a_warning():
    ordered = _frame()
    loaded = load_ohlcv(_csv(ordered.iloc[::-1]))
    assert loaded.frame["close"].tolist() == pytest.approx(ordered["close"].tolist())
    assert "Rows were newest-first; sorted into time order." in loaded.warnings


def test_rows_in_order_need_no_repair():
    assert not [w for w in load_ohlcv(_csv(_frame())).warnings if "order" in w]


# "raw/<dataset>.csv | dataset <dataset> (1–64 of A-Z a-z 0-9 _ -)"


@pytest.mark.parametrize("name", ["a", "A" * 64, "btc_usd-2024", "0" * 64])
def test_dataset_names_up_to_64_characters_are_accepted(name):
    assert layout.dataset_from_raw_key(f"raw/{name}.csv") == name


def test_a_65_character_dataset_name_is_refused():
    with pytest.raises(InvalidDatasetNameError):
        layout.dataset_from_raw_key(f"raw/{'a' * 65}.csv")


# Terraform values the README states (variables.tf defaults, env/local.tfvars)


def _variable_defaults() -> dict:
    with open(REPO / "terraform" / "variables.tf") as handle:
        blocks = hcl2.load(handle)["variable"]
    return {name.strip('"'): body.get("default") for block in blocks for name, body in block.items()}


def _tfvars(name: str) -> dict:
    with open(REPO / "terraform" / "env" / f"{name}.tfvars") as handle:
        return hcl2.load(handle)


def test_stated_defaults_of_the_stack():
    defaults = _variable_defaults()
    assert defaults["failed_events_retention_seconds"] == 14 * 24 * 3600  # "kept 14 days"
    assert defaults["log_retention_days"] == 14  # "logs are kept 14 days"
    assert defaults["glue_max_concurrent_runs"] == 3  # "MaxConcurrentRuns 3"
    assert defaults["glue_timeout_minutes"] == 30  # "glue_timeout_minutes, 30"
    assert defaults["trigger_lambda_timeout_seconds"] == 900  # "on AWS it waits up to 15 min per step"


def test_local_trigger_timeout_stays_under_localstacks_60_s_redelivery():
    # "LocalStack re-delivers an asynchronous invocation still running after 60 s ... the local tfvars
    # keep the trigger's timeout at 50 s"
    assert _tfvars("local")["trigger_lambda_timeout_seconds"] == 50
    assert "trigger_lambda_timeout_seconds" not in _tfvars("aws")  # AWS keeps the 900 s default
