"""cripto_pipeline.large_inputs: the documents of the Spark path (inputs.json read, the manifest's raw
summary, the error report) and the staged Parquet chunk, asserted literally (issue 16)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cripto_pipeline import exceptions, large_inputs

RUN = "20261201T100000Z-0123abcd"


def _inputs(**document) -> bytes:
    return json.dumps({"dataset": "big", "run_id": RUN, "raw": [{"key": "raw/big/a.csv"}], **document}).encode()


def test_inputs_json_is_read_into_the_runs_files_and_reason():
    data = _inputs(raw=[{"key": "raw/big/a.csv", "version_id": "v1", "size": 12, "etag": '"e1"'},
                        {"key": "raw/big/b.csv"}], reason="above MAX_RAW_BYTES")
    inputs = large_inputs.parse_inputs(data, "big", RUN)
    assert inputs == large_inputs.JobInputs("big", RUN, (
        large_inputs.RawFile("raw/big/a.csv", "v1", 12, '"e1"'),
        large_inputs.RawFile("raw/big/b.csv", None, 0, None)), "above MAX_RAW_BYTES")
    assert large_inputs.parse_inputs(_inputs(), "big", RUN).reason == ""


def test_inputs_json_of_another_run_or_without_files_is_refused_saying_so():
    with pytest.raises(exceptions.InvalidJobInputsError) as caught:
        large_inputs.parse_inputs(_inputs(run_id="20261201T090000Z-ffffffff", dataset="other"), "big", RUN)
    assert str(caught.value) == ("inputs.json names run '20261201T090000Z-ffffffff' of dataset 'other', but "
                                      f"the job was started for run '{RUN}' of 'big'.")
    with pytest.raises(exceptions.InvalidJobInputsError) as caught:
        large_inputs.parse_inputs(_inputs(raw=[]), "big", RUN)
    assert str(caught.value) == "inputs.json lists no raw files."


def test_the_raw_summary_of_one_file_is_that_file_and_of_several_the_dataset():
    one = {"bucket": "b", "key": "raw/big/a.csv", "version_id": "v1", "etag": '"e"', "size_bytes": 10,
           "sha256": "ab"}
    assert large_inputs.raw_summary("b", "big", [one]) == {**one, "files": [one]}
    two = dict(one, key="raw/big/b.csv", size_bytes=None)
    assert large_inputs.raw_summary("b", "big", [one, two]) == {
        "bucket": "b", "key": "raw/big/", "version_id": None, "etag": None, "size_bytes": 10, "sha256": None,
        "files": [one, two]}


def test_the_error_report_names_the_file_at_fault_else_the_whole_dataset():
    inputs = large_inputs.JobInputs("big", RUN, (large_inputs.RawFile("raw/big/a.csv", None, 1, None),
                                                 large_inputs.RawFile("raw/big/b.csv", None, 1, None)), "")
    error = exceptions.MalformedCsvError("Line 3 is broken.", {"line": 3})
    culprit, whole = {"key": "raw/big/b.csv"}, {"key": "raw/big/"}
    report = large_inputs.error_report(inputs, error, culprit, whole)
    assert report == {"schema": "cripto-pipeline/rejected-input/v1", "dataset": "big", "run_id": RUN,
                      "engine": "spark", "raw": culprit, "inputs": ["raw/big/a.csv", "raw/big/b.csv"],
                      **error.to_report()}
    assert large_inputs.error_report(inputs, error, None, whole)["raw"] == whole


def test_a_chunk_is_staged_as_parquet_with_its_file_number_and_microsecond_timestamps():
    frame = pd.DataFrame({"timestamp": pd.to_datetime(["2020-01-01 00:00:00.123456"], utc=True), "close": [1.5],
                          "_line": [7]})
    data = large_inputs.chunk_to_parquet(large_inputs.ValidatedChunk(3, 0, frame, {}))
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == ["timestamp", "close", "_line", "_file"]
    assert str(table.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    back = table.to_pandas()
    assert back["_file"].tolist() == [3] and back["_line"].tolist() == [7]
    assert back["timestamp"].iloc[0] == pd.Timestamp("2020-01-01 00:00:00.123456", tz="UTC")
    nanos = frame.assign(timestamp=pd.to_datetime(["2020-01-01 00:00:00.123456789"], utc=True))
    with pytest.raises(pa.ArrowInvalid, match="would lose data"):  # never truncated silently
        large_inputs.chunk_to_parquet(large_inputs.ValidatedChunk(0, 0, nanos, {}))


HOURLY = (Path(__file__).resolve().parents[2] / "data" / "samples" / "coinbase_btcusd_hourly.csv").read_bytes()


def _validate(data: bytes, chunk_bytes: int, raw=None):
    raw = raw or large_inputs.RawFile("raw/big/p.csv", "v1", len(data), '"e"')
    items = list(large_inputs.validate_file(0, raw, [data], chunk_bytes=chunk_bytes, default_symbol="big",
                                            bucket="b"))
    return items[:-1], items[-1]


def test_the_file_summary_names_the_file_fully_and_how_it_was_read():
    chunks, summary = _validate(HOURLY, 200_000)
    assert summary.identity == {"bucket": "b", "key": "raw/big/p.csv", "version_id": "v1", "etag": '"e"',
                                "size_bytes": len(HOURLY), "sha256": hashlib.sha256(HOURLY).hexdigest()}
    assert summary.timestamp_format == "%Y-%m-%d %I-%p"
    assert all(w.startswith("raw/big/p.csv: ") for w in summary.warnings)
    assert chunks[0].frame["symbol"].unique().tolist() == ["BTCUSD"]


def test_a_file_of_a_default_symbol_and_short_symbols_in_a_chunk():
    text = b"timestamp,open,high,low,close,volume\n" + b"".join(
        f"2020-01-01 {h:02d}:00:00,1,2,0.5,1.5,10\n".encode() for h in range(3))
    chunks, summary = _validate(text, 10_000)
    assert chunks[0].frame["symbol"].tolist() == ["big"] * 3  # the dataset's name, and 3 rows are enough here
    assert summary.rows == 3 and summary.timestamp_format == "%Y-%m-%d %H:%M:%S"


def test_a_utf16_file_exactly_the_chunk_size_is_read_whole_and_a_larger_one_is_refused():
    text = b"timestamp,open,high,low,close,volume\n" + b"".join(
        f"2020-01-01 {h:02d}:00:00,1,2,0.5,1.5,10\n".encode() for h in range(3))
    data = text.decode().encode("utf-16")
    _, summary = _validate(data, len(data))
    assert summary.rows == 3
    with pytest.raises(exceptions.UndecodableContentError) as caught:
        _validate(data, len(data) - 1)
    assert caught.value.what == f"The file is UTF-16 and larger than {len(data) - 1} bytes: it cannot be read in parts."
    assert caught.value.where == {"key": "raw/big/p.csv", "size_bytes": len(data)}
    assert caught.value.fix == "Save it as UTF-8 (Excel: 'CSV UTF-8') and upload it again."


def test_line_numbers_of_a_later_part_are_shifted_in_lines_lists_too():
    shifted = large_inputs._shift_lines({"line": 2, "lines": [1, 3], "count": 5, "samples": [{"line": 4}]}, 10)
    assert shifted == {"line": 12, "lines": [11, 13], "count": 5, "samples": [{"line": 14}]}


def test_a_chunk_exactly_at_the_limit_is_not_cut_and_a_long_line_is_named():
    data = b"a,b\n" * 5  # 20 bytes
    assert list(large_inputs.line_chunks([data], 20)) == [(1, data)]
    # a cut right after a newline at position 0 of the pending bytes is found
    assert list(large_inputs.line_chunks([b"\n" + b"x" * 5 + b"\n"], 6)) == [(1, b"\n"), (2, b"xxxxx\n")]
    with pytest.raises(exceptions.MalformedCsvError) as caught:
        list(large_inputs.line_chunks([b"a,b\n" + b"x" * 50 + b"\n"], 20))
    assert caught.value.what == "Line 2 is longer than 20 bytes: no CSV row is that long."
    assert caught.value.where == {"line": 2, "chunk_bytes": 20}
