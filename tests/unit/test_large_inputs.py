"""cripto_pipeline.large_inputs: the Spark job's inputs.json, chunked validation of large files, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cripto_pipeline import costs, exceptions, large_inputs
from cripto_pipeline.validation import load_ohlcv

ROOT = Path(__file__).resolve().parents[2]
HOURLY = (ROOT / "data" / "samples" / "coinbase_btcusd_hourly.csv").read_bytes()
RUN_ID = "20261201T100000Z-0123abcd"


def _raw(data: bytes, key: str = "raw/big/part-1.csv") -> large_inputs.RawFile:
    return large_inputs.RawFile(key, "v1", len(data), '"e"')


def _validate(data: bytes, chunk_bytes: int, block: int = 7_000):
    blocks = (data[i : i + block] for i in range(0, len(data), block))
    items = list(large_inputs.validate_file(0, _raw(data), blocks, chunk_bytes=chunk_bytes,
                                            default_symbol="big", bucket="b"))  # fmt: skip
    return items[:-1], items[-1]


def test_line_chunks_cut_whole_lines_within_the_limit():
    data = b"".join(f"line {n}\n".encode() for n in range(1, 1001))
    chunks = list(large_inputs.line_chunks((data[i : i + 333] for i in range(0, len(data), 333)), 1000))
    assert b"".join(chunk for _, chunk in chunks) == data
    assert all(len(chunk) <= 1000 and chunk.endswith(b"\n") for _, chunk in chunks)
    for first_line, chunk in chunks:
        assert chunk.startswith(f"line {first_line}\n".encode())


def test_a_line_longer_than_a_chunk_is_refused_with_its_line():
    with pytest.raises(exceptions.MalformedCsvError) as caught:
        list(large_inputs.line_chunks([b"a,b\n" + b"x" * 50 + b"\n"], 20))
    assert caught.value.where["line"] == 2


def test_chunked_validation_gives_the_rows_of_whole_file_validation():
    chunks, summary = _validate(HOURLY, chunk_bytes=200_000)
    assert len(chunks) > 5  # really in parts
    whole = load_ohlcv(HOURLY, default_symbol="big", keep_line_numbers=True).frame
    parts = pd.concat([c.frame for c in chunks]).sort_values(["symbol", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(parts, whole)  # same rows, values and file line numbers
    assert summary.rows == len(whole)
    assert summary.identity["key"] == "raw/big/part-1.csv" and summary.identity["version_id"] == "v1"
    assert len(summary.identity["sha256"]) == 64
    assert summary.columns["close"] == "close"


def test_a_bad_row_in_a_later_chunk_is_reported_with_its_line_in_the_file():
    lines = HOURLY.split(b"\n")
    bad_line = 15_000  # 1-based line number in the file, far beyond the first chunk
    cells = lines[bad_line - 1].split(b",")
    cells[5] = b"-3"  # close <= 0
    lines[bad_line - 1] = b",".join(cells)
    with pytest.raises(exceptions.NonPositivePriceError) as caught:
        _validate(b"\n".join(lines), chunk_bytes=150_000)
    where = caught.value.where
    assert where["key"] == "raw/big/part-1.csv"
    assert [sample["line"] for sample in where["samples"]] == [bad_line]


def test_a_utf16_file_above_the_chunk_size_is_refused_with_the_fix():
    data = HOURLY[:60_000].decode("utf-8").encode("utf-16")
    with pytest.raises(exceptions.UndecodableContentError, match="UTF-16") as caught:
        _validate(data, chunk_bytes=50_000)
    assert "UTF-8" in caught.value.fix


def test_parse_inputs_reads_the_contract_and_refuses_another_run():
    document = {"dataset": "big", "run_id": RUN_ID, "reason": "3 files, 400 MiB",
                "raw": [{"key": "raw/big/a.csv", "version_id": "v", "size": 10, "etag": "e"}]}  # fmt: skip
    inputs = large_inputs.parse_inputs(json.dumps(document).encode(), "big", RUN_ID)
    assert inputs.raw[0].get_selector() == {"VersionId": "v"} and inputs.debounce is None
    waited = {**document, "debounce": {"waited_s": 4.5, "ended_at": "2026-11-27T04:00:05+00:00"}}
    assert large_inputs.parse_inputs(json.dumps(waited).encode(), "big", RUN_ID).debounce == waited["debounce"]
    with pytest.raises(exceptions.InvalidJobInputsError, match="names run"):
        large_inputs.parse_inputs(json.dumps(document).encode(), "other", RUN_ID)
    with pytest.raises(exceptions.InvalidJobInputsError, match="not the contract"):
        large_inputs.parse_inputs(b'{"dataset": "big"}', "big", RUN_ID)


def test_spark_run_cost_from_get_job_run_has_the_one_minute_minimum():
    dpus, seconds = costs.spark_run({"Id": "jr", "WorkerType": "G.1X", "NumberOfWorkers": 2, "ExecutionTime": 25})
    assert (dpus, seconds) == (2.0, 25.0)
    usage = costs.RunUsage(lambda_invocations=[], glue_dpu=0.0, glue_seconds=0.0, spark_runs=[(dpus, seconds)])
    assert costs.run_cost(usage)["glue_spark"] == pytest.approx(2 * 60 / 3600 * 0.44)
    assert costs.spark_run({"MaxCapacity": 10.0, "ExecutionTime": 120}) == (10.0, 120.0)
    with pytest.raises(ValueError, match="neither"):
        costs.spark_run({"Id": "jr"})


def test_raw_summary_keeps_the_lambda_shape_and_lists_every_file():
    one = {"bucket": "b", "key": "raw/big/a.csv", "version_id": "v1", "etag": "e", "size_bytes": 3, "sha256": "s"}
    two = {**one, "key": "raw/big/b.csv", "version_id": "v2", "size_bytes": 4}
    assert large_inputs.raw_summary("b", "big", [one]) == {**one, "files": [one]}
    several = large_inputs.raw_summary("b", "big", [one, two])
    assert several["key"] == "raw/big/" and several["version_id"] is None and several["size_bytes"] == 7
    assert several["files"] == [one, two]
