"""cripto_pipeline.pipeline: the rows-per-symbol minimum and the raw identity of a rejected upload at the size
limit, the manifest's code and library fields, Parquet without an index, and the status of a failed
condition, with literal or independently computed values (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cripto_pipeline import layout, pipeline
from cripto_pipeline.events import S3ObjectRef
from cripto_pipeline.features import FEATURE_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
#: ref.size (99) differs from the bytes' length, so a report shows which one it used.
REF = S3ObjectRef("cripto-data-example", "raw/eth.csv", "2026-11-27T04:00:00.000Z", "v1", "e1", 99)


def _hourly_file(rows: int) -> bytes:
    """A file without a symbol column: ``rows`` hourly bars from 2020-01-01 00:00."""
    stamps = pd.date_range("2020-01-01", periods=rows, freq="h")
    return ("timestamp,open,high,low,close,volume\n"
            + "".join(f"{t:%Y-%m-%d %H:%M:%S},1,2,0.5,1.5,10\n" for t in stamps)).encode()


def test_234_rows_of_a_file_without_symbols_are_too_few_and_the_report_names_the_dataset():
    data = _hourly_file(234)
    # max_raw_bytes exactly the file's size: the file is within the limit, so the report hashes it.
    built = pipeline.build_features(REF, data, max_raw_bytes=len(data))
    assert built.status == "rejected"
    report = json.loads(built.writes[0].body)
    assert report["error"] == "TooFewRowsError"
    assert report["what"] == ("1 symbol(s) have fewer than 235 rows, the minimum for the feature windows plus a "
                              "walk-forward test period.")
    assert report["where"] == {"required": 235, "rows_per_symbol": {"eth": 234}}
    assert report["raw"] == {"bucket": "cripto-data-example", "key": "raw/eth.csv", "version_id": "v1",
                             "etag": "e1", "event_time": "2026-11-27T04:00:00.000Z", "size_bytes": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}


def test_240_hourly_bars_give_a_manifest_with_their_counts_range_engine_and_input():
    stamps = pd.date_range("2020-01-01", periods=240, freq="h")
    data = ("timestamp,open,high,low,close,volume\n" + "".join(
        f"{t:%Y-%m-%d %H:%M:%S},{1 + (i % 3) / 10},2,0.5,{1.5 - (i % 2) / 10},{10 + i % 4}\n"
        for i, t in enumerate(stamps))).encode()
    built = pipeline.build_features(REF, data, max_raw_bytes=10**6)
    run_id = pipeline.run_id_for(REF)
    keys = layout.run_keys("eth", run_id)
    manifest = json.loads(built.writes[0].body)
    assert {k: v for k, v in manifest.items() if k not in ("raw", "code_version", "code_sha256", "libraries")} == {
        "schema": "cripto-pipeline/features-manifest/v1", "dataset": "eth", "run_id": run_id,
        "features_key": keys.features, "feature_columns": list(FEATURE_COLUMNS),
        "rows": {"raw": 240, "features": 206},  # 240 bars less the 34-bar warm-up of the longest window
        "engine": "pandas", "rows_total": 206, "rows_sampled": 206, "symbols": {"eth": 240},
        "time_range": {"first": "2020-01-01T00:00:00+00:00", "last": "2020-01-10T23:00:00+00:00"},
        "input": {"columns": {"timestamp": "timestamp", "open": "open", "high": "high", "low": "low", "close": "close",
                              "volume": "volume"}, "timestamp_format": "%Y-%m-%d %H:%M:%S"},
        "warnings": []}
    assert built.summary == {"status": "features_written", "dataset": "eth", "run_id": run_id,
                             "features_key": keys.features, "rows": 206, "warnings": 0}
    assert len(pipeline.parquet_to_frame(built.writes[1].body)) == 206


def test_the_manifest_names_the_code_version_fingerprint_and_library_versions():
    keys = layout.run_keys("eth", "20261127T040000Z-0123abcd")
    features = pd.DataFrame({"close": [1.5, 2.5]})
    manifest_write, parquet_write = pipeline.feature_set_writes(keys, {"schema": "s", "rows": 2}, features)
    assert (manifest_write.key, manifest_write.content_type, manifest_write.only_if_absent) == (
        keys.manifest, "application/json", False)
    assert (parquet_write.key, parquet_write.content_type, parquet_write.only_if_absent) == (
        keys.features, "application/vnd.apache.parquet", True)
    manifest = json.loads(manifest_write.body)
    assert sorted(manifest) == ["code_sha256", "code_version", "libraries", "rows", "schema"]
    version = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert manifest["code_version"] == version.group(1)
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["code_sha256"])
    libraries = manifest["libraries"]
    assert (libraries["python"], libraries["pandas"], libraries["numpy"]) == (
        platform.python_version(), pd.__version__, np.__version__)


def test_parquet_of_a_filtered_frame_has_no_index_column():
    frame = pd.DataFrame({"close": [1.5, 2.5, 3.5], "volume": [1.0, 2.0, 3.0]}).iloc[[0, 2]]  # index 0, 2
    table = pq.read_table(io.BytesIO(pipeline.frame_to_parquet(frame)))
    assert table.column_names == ["close", "volume"]
    assert table.schema.pandas_metadata["index_columns"] == []
    back = pipeline.parquet_to_frame(pipeline.frame_to_parquet(frame))
    assert back.to_dict("list") == {"close": [1.5, 3.5], "volume": [1.0, 3.0]} and list(back.index) == [0, 1]


def test_a_failed_condition_is_a_duplicate_on_put_and_superseded_on_get():
    run_id = pipeline.run_id_for(REF)
    duplicate = pipeline.condition_failed(REF, "PutObject", "PreconditionFailed")
    assert (duplicate.status, duplicate.writes, duplicate.summary) == (
        "duplicate", [], {"status": "duplicate", "key": "raw/eth.csv", "run_id": run_id})
    superseded = pipeline.condition_failed(REF, "GetObject", "ConditionalRequestConflict")
    assert (superseded.status, superseded.summary) == (
        "superseded", {"status": "superseded", "key": "raw/eth.csv", "run_id": run_id})
    assert pipeline.condition_failed(REF, "PutObject", "AccessDenied") is None
