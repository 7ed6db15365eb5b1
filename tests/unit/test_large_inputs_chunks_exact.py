"""cripto_pipeline.large_inputs: what chunked validation yields for small files worked out by hand (each
chunk's numbers and details, the file summary, the notes), the size limit of a chunk, and the staged
Parquet without an index (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cripto_pipeline import exceptions, large_inputs

#: Header 30 bytes, every row 32 bytes: a 100-byte chunk holds the header and 2 rows, then 3 rows, then 1.
NO_VOLUME = b"timestamp,open,high,low,close\n" + b"".join(
    f"2020-01-01 {h:02d}:00:00,1,2,0.5,1.5\n".encode() for h in range(6))
NO_VOLUME_NOTE = ("The file has no volume column: volume is taken as 0, so the model trains on price features "
                  "only (volume features are constant).")
COLUMNS = {"timestamp": "timestamp", "open": "open", "high": "high", "low": "low", "close": "close"}


def _validate(data: bytes, chunk_bytes: int, *, file_number: int = 4, key: str = "raw/big/p.csv"):
    raw = large_inputs.RawFile(key, "v1", len(data), '"e"')
    return list(large_inputs.validate_file(file_number, raw, [data] if data else [], chunk_bytes=chunk_bytes,
                                           default_symbol="big", bucket="b"))


def _details(rows: int, first_hour: int, last_hour: int) -> dict:
    return {"columns": COLUMNS, "timestamp_format": "%Y-%m-%d %H:%M:%S", "header_line": 1, "rows": rows,
            "symbols": {"big": rows}, "first_timestamp": f"2020-01-01T{first_hour:02d}:00:00+00:00",
            "last_timestamp": f"2020-01-01T{last_hour:02d}:00:00+00:00"}


def test_each_chunk_carries_its_file_number_its_own_number_and_its_own_details():
    *chunks, summary = _validate(NO_VOLUME, 100)
    assert [(c.file_number, c.chunk_number) for c in chunks] == [(4, 0), (4, 1), (4, 2)]
    assert [c.details for c in chunks] == [_details(2, 0, 1), _details(3, 2, 4), _details(1, 5, 5)]
    assert [c.frame["_line"].tolist() for c in chunks] == [[2, 3], [4, 5, 6], [7]]
    assert (summary.columns, summary.timestamp_format, summary.rows) == (COLUMNS, "%Y-%m-%d %H:%M:%S", 6)


def test_a_note_of_a_later_chunk_says_which_part_it_comes_from():
    *_, summary = _validate(NO_VOLUME, 100)
    assert summary.warnings == [
        f"raw/big/p.csv: {NO_VOLUME_NOTE}",
        f"raw/big/p.csv: {NO_VOLUME_NOTE} (in the part from line 4; line numbers count from that part's header)",
        f"raw/big/p.csv: {NO_VOLUME_NOTE} (in the part from line 7; line numbers count from that part's header)",
    ]


def test_a_file_read_whole_has_its_notes_once_without_a_part():
    *chunks, summary = _validate(NO_VOLUME, 10_000, file_number=0, key="raw/big/whole.csv")
    assert [(c.file_number, c.chunk_number) for c in chunks] == [(0, 0)]
    assert chunks[0].details == _details(6, 0, 5)
    assert summary.warnings == [f"raw/big/whole.csv: {NO_VOLUME_NOTE}"]


def test_an_empty_file_yields_only_a_summary_with_no_columns_format_or_rows():
    assert _validate(b"", 100, key="raw/big/empty.csv") == [large_inputs.FileSummary(
        {"bucket": "b", "key": "raw/big/empty.csv", "version_id": "v1", "etag": '"e"', "size_bytes": 0,
         "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {}, "", 0, [])]


def test_a_chunk_above_the_lambdas_size_limit_is_not_refused_as_too_large():
    # One part of 128 MiB + 1 byte (above the Lambda's 128 MiB MAX_RAW_BYTES): the part is held to its own
    # size, so these blank lines are refused as empty, not as too large.
    data = b"\n" * (128 * 1024 * 1024 + 1)
    with pytest.raises(exceptions.EmptyInputError) as caught:
        _validate(data, 2 * len(data), key="raw/big/blank.csv")
    assert caught.value.what == "The file is empty."
    assert caught.value.where == {"key": "raw/big/blank.csv", "size_bytes": 134217729}


def test_a_staged_chunk_has_no_index_column_whatever_the_frames_index():
    frame = pd.DataFrame({"close": [1.5, 2.5], "_line": [8, 9]}, index=[5, 6])  # rows 5 and 6 of a larger frame
    data = large_inputs.chunk_to_parquet(large_inputs.ValidatedChunk(2, 1, frame, {}))
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == ["close", "_line", "_file"]
    assert table.to_pandas().to_dict("list") == {"close": [1.5, 2.5], "_line": [8, 9], "_file": [2, 2]}
    assert table.schema.pandas_metadata["index_columns"] == []


RUN = "20261201T100000Z-0123abcd"


@pytest.mark.parametrize("document, message", [
    (b"not json", "JSONDecodeError('Expecting value: line 1 column 1 (char 0)')"),
    (b'{"dataset": "big", "run_id": "20261201T100000Z-0123abcd"}', "KeyError('raw')"),
    (b'{"dataset": "big", "run_id": "20261201T100000Z-0123abcd", "raw": [{"size": 1}]}', "KeyError('key')"),
    (b'{"dataset": "big", "run_id": "20261201T100000Z-0123abcd", "raw": [{"key": "k", "size": "x"}]}',
     "ValueError(\"invalid literal for int() with base 10: 'x'\")"),
    (b'{"dataset": "big", "run_id": "20261201T100000Z-0123abcd", "raw": 5}',
     "TypeError(\"'int' object is not iterable\")"),
])
def test_inputs_json_that_is_not_the_contract_is_refused_with_the_parsers_error(document, message):
    with pytest.raises(exceptions.InvalidJobInputsError) as caught:
        large_inputs.parse_inputs(document, "big", RUN)
    assert str(caught.value) == f"inputs.json is not the contract's document: {message}."


def test_inputs_json_fields_are_coerced_and_a_debounce_that_is_no_object_is_dropped():
    document = (b'{"dataset": "big", "run_id": "20261201T100000Z-0123abcd", "reason": null, "debounce": [1], '
                b'"raw": [{"key": 7, "size": null, "etag": "e"}]}')
    assert large_inputs.parse_inputs(document, "big", RUN) == large_inputs.JobInputs(
        "big", RUN, (large_inputs.RawFile("7", None, 0, "e"),), "", None)


def test_a_file_is_read_by_its_version_else_by_its_etag_else_as_it_is():
    assert large_inputs.RawFile("k", "v1", 0, "e").get_selector() == {"VersionId": "v1"}
    assert large_inputs.RawFile("k", None, 0, '"e"').get_selector() == {"IfMatch": '"e"'}
    assert large_inputs.RawFile("k", "", 0, "e").get_selector() == {"IfMatch": "e"}
    assert large_inputs.RawFile("k", None, 0, None).get_selector() == {}


def test_the_raw_summary_of_no_identity_is_the_empty_dataset():
    assert large_inputs.raw_summary("b", "big", []) == {
        "bucket": "b", "key": "raw/big/", "version_id": None, "etag": None, "size_bytes": 0, "sha256": None,
        "files": []}


def test_an_error_report_keeps_a_culprit_even_when_it_is_empty():
    inputs = large_inputs.JobInputs("big", RUN, (large_inputs.RawFile("raw/big/a.csv", None, 1, None),), "")
    error = exceptions.MalformedCsvError("Line 3 is broken.", {"line": 3})
    assert large_inputs.error_report(inputs, error, {}, {"key": "raw/big/"})["raw"] == {}
