"""cripto_pipeline.dataset_build: the documents a several-file run writes (manifest, summary, claim,
errors/ report, Spark request), asserted field by field with literal values (issue 16)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from cripto_pipeline import dataset_build, layout, routing

from .test_routing import split_csv

BUCKET = "cripto-data-example"
RUN = "20261127T040000Z-0123abcd"
T0 = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)


def _obj(key: str, seconds: int = 0, version: str = "v1", size: int = 100) -> routing.RawObject:
    return routing.RawObject(key, version, "e" + version, size, T0 + timedelta(seconds=seconds))


def test_a_several_file_run_writes_its_manifest_summary_and_claim(hourly_bytes):
    parts = split_csv(hourly_bytes, 2)
    files = [(_obj("raw/h/a.csv"), parts[0]), (_obj("raw/h/b.csv", 60, "v2"), parts[1])]
    newest = {"key": "raw/h/b.csv", "version_id": "v2"}
    built = dataset_build.build_dataset_features(BUCKET, "h", RUN, newest, files, max_raw_bytes=10**8)
    keys = layout.run_keys("h", RUN)
    manifest = json.loads(built.writes[0].body)
    rows = manifest["rows"]["features"]
    assert built.summary == {"status": "features_written", "dataset": "h", "run_id": RUN,
                             "features_key": keys.features, "rows": rows, "files": 2, "engine": "pandas",
                             "warnings": len(manifest["warnings"])}
    assert manifest["schema"] == "cripto-pipeline/features-manifest/v1"
    assert (manifest["dataset"], manifest["run_id"], manifest["raw"], manifest["features_key"]) == (
        "h", RUN, newest, keys.features)
    assert manifest["raw_files"] == [
        {"bucket": BUCKET, "key": "raw/h/a.csv", "version_id": "v1", "etag": "ev1",
         "last_modified": "2026-11-27T04:00:00+00:00", "size_bytes": len(parts[0]),
         "sha256": hashlib.sha256(parts[0]).hexdigest()},
        {"bucket": BUCKET, "key": "raw/h/b.csv", "version_id": "v2", "etag": "ev2",
         "last_modified": "2026-11-27T04:01:00+00:00", "size_bytes": len(parts[1]),
         "sha256": hashlib.sha256(parts[1]).hexdigest()}]
    raw_rows = len(hourly_bytes.decode().strip().splitlines()) - 2  # banner and header
    assert manifest["rows"]["raw"] == raw_rows and rows == raw_rows - 34  # the feature windows' warm-up
    assert (manifest["engine"], manifest["rows_total"], manifest["rows_sampled"]) == ("pandas", rows, rows)
    assert manifest["symbols"] == {"BTCUSD": raw_rows}
    assert manifest["input"]["timestamp_format"] == "%Y-%m-%d %I-%p"
    assert manifest["time_range"]["first"] < manifest["time_range"]["last"]
    claim = json.loads(built.claim.body)
    assert built.claim.only_if_absent is True and built.claim.content_type == "application/json"
    assert claim == {"schema": "cripto-pipeline/content-claim/v1", "dataset": "h", "run_id": RUN,
                     "features_key": keys.features, "raw": newest,
                     "raw_files": [{"key": "raw/h/a.csv", "version_id": "v1", "size": 100, "etag": "ev1"},
                                   {"key": "raw/h/b.csv", "version_id": "v2", "size": 100, "etag": "ev2"}]}


def test_a_rejected_run_reports_every_file_and_the_one_at_fault(hourly_bytes):
    good = split_csv(hourly_bytes, 2)
    bad = good[1] + b"2019-01-01 01-AM,BTCUSD,lots,1,1,1,1,1\n"
    newest = {"key": "raw/h/b.csv"}
    built = dataset_build.build_dataset_features(BUCKET, "h", RUN, newest,
                                                 [(_obj("raw/h/a.csv"), good[0]), (_obj("raw/h/b.csv", 1, "v7"), bad)],
                                                 max_raw_bytes=10**8)
    keys = layout.run_keys("h", RUN)
    report = json.loads(built.writes[0].body)
    assert [w.key for w in built.writes] == [keys.error] and built.writes[0].content_type == "application/json"
    assert report["schema"] == "cripto-pipeline/rejected-input/v1"
    assert (report["dataset"], report["run_id"], report["raw"]) == ("h", RUN, newest)
    assert report["where"]["key"] == "raw/h/b.csv" and report["where"]["version_id"] == "v7"
    assert built.summary == {"status": "rejected", "dataset": "h", "run_id": RUN, "error": report["error"],
                             "error_key": keys.error, "reason": report["what"], "files": 2}


def test_conflicting_bars_and_short_symbols_are_refused_with_their_details(hourly_bytes):
    first, second = split_csv(hourly_bytes, 2)
    clash = first.decode().splitlines(keepends=True)[-1].split(",")
    clash[-2] = str(float(clash[-2]) * 1.5)
    built = dataset_build.build_dataset_features(
        BUCKET, "h", RUN, {"key": "raw/h/b.csv"},
        [(_obj("raw/h/a.csv"), first), (_obj("raw/h/b.csv", 1), second + ",".join(clash).encode())],
        max_raw_bytes=10**8)
    report = json.loads(built.writes[0].body)
    assert report["what"].startswith("Files of dataset 'h' give different bars for the same symbol and time: ")
    assert report["fix"] == ("Keep each bar in one file only (remove the overlap from all but one file), then upload "
                             "again.")
    short = split_csv(hourly_bytes, 200)[0]
    n = len(short.decode().strip().splitlines()) - 2
    built = dataset_build.build_dataset_features(BUCKET, "h", RUN, {"key": "raw/h/a.csv"},
                                                 [(_obj("raw/h/a.csv"), short)], max_raw_bytes=10**8)
    report = json.loads(built.writes[0].body)
    assert report["what"] == ("1 symbol(s) have fewer than 235 rows in all files together, the minimum for the "
                              "feature windows plus a walk-forward test period.")
    assert report["where"] == {"required": 235, "rows_per_symbol": {"BTCUSD": n}}


def test_too_large_without_a_spark_job_and_the_spark_request():
    files = [_obj("raw/h/a.csv", size=600), _obj("raw/h/b.csv", 1, "v2", size=500)]
    out = dataset_build.too_large("h", RUN, {"key": "raw/h/b.csv"}, files, 1000)
    report = json.loads(out.writes[0].body)
    assert report["error"] == "InputTooLargeError"
    assert report["what"] == ("the 2 files hold 1,100 bytes, above the feature Lambda's limit MAX_RAW_BYTES=1,000, "
                              "and no Spark feature job is configured.")
    assert report["where"] == {"size_bytes": 1100, "limit_bytes": 1000}
    assert report["fix"] == ("Set SPARK_FEATURES_JOB_NAME (the stack does), split the dataset into smaller ones, "
                             "or raise MAX_RAW_BYTES.")
    assert report["raw_files"] == [f.identity() for f in files] and out.summary["files"] == 2
    keys = layout.run_keys("h", RUN)
    request = dataset_build.spark_request("h", RUN, {"key": "raw/h/b.csv"}, files, "too big", "req-1")
    assert request.status == "spark_requested"
    assert [(w.key, w.content_type, w.only_if_absent) for w in request.writes] == [
        (keys.inputs, "application/json", True)]
    assert json.loads(request.writes[0].body) == routing.spark_inputs("h", RUN, files, "too big", "req-1")
    assert request.summary == {"status": "spark_requested", "dataset": "h", "run_id": RUN, "engine": "spark",
                               "inputs_key": keys.inputs, "files": 2, "bytes": 1100, "reason": "too big"}
    assert request.claim.key == layout.content_claim_key("h", routing.listing_digest(files))
    assert json.loads(request.claim.body)["features_key"] == keys.features
