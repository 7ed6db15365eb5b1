"""Several-file datasets, the debounce and the routing by size (issue 12): the pure decisions in
cripto_pipeline.routing / dataset_build, and the feature handler driving them over an in-memory S3."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timedelta, timezone
from typing import List, Optional

import pandas as pd
import pytest

from cripto_pipeline import dataset_build, layout, pipeline, routing
from cripto_pipeline.events import S3ObjectRef
from cripto_pipeline.exceptions import InvalidKeyError

from .conftest import FakeS3, load_module

BUCKET = "cripto-data-example"
T0 = datetime(2026, 11, 27, 4, 0, 0, tzinfo=timezone.utc)


def obj(key: str, seconds: float = 0, version: str = "v1", size: int = 100) -> routing.RawObject:
    return routing.RawObject(key, version, "e" + version, size, T0 + timedelta(seconds=seconds))


def ref_for(o: routing.RawObject, event_seconds: Optional[float] = None) -> S3ObjectRef:
    when = o.last_modified if event_seconds is None else T0 + timedelta(seconds=event_seconds)
    return S3ObjectRef(BUCKET, o.key, when.isoformat(), o.version_id, o.etag, o.size)


# --- layout: the several-file keys ------------------------------------------------------------------


@pytest.mark.parametrize("key, dataset, multi", [
    ("raw.csv", "default", False), ("raw/btc.csv", "btc", False), ("raw/btc/2024-01.csv", "btc", True),
    ("raw/btc/any name.csv", "btc", True),
])  # fmt: skip
def test_both_dataset_forms_name_their_dataset(key, dataset, multi):
    assert layout.dataset_from_raw_key(key) == dataset
    assert layout.is_multi_file_key(key) is multi


@pytest.mark.parametrize("key", ["raw/a/b/c.csv", "raw//x.csv", "raw/btc/.csv", "raw/btc/x.txt", "rawdata.csv"])
def test_keys_outside_both_forms_are_refused(key):
    with pytest.raises(InvalidKeyError):
        layout.dataset_from_raw_key(key)


def test_dataset_file_keys_and_run_keys_of_the_spark_path():
    assert layout.dataset_file_key("btc", "2024-01.csv") == "raw/btc/2024-01.csv"
    assert layout.raw_dataset_prefix("btc") == "raw/btc/"
    assert layout.is_dataset_file("btc", "raw/btc/2024-01.csv") and not layout.is_dataset_file("eth", "raw/btc/x.csv")
    with pytest.raises(InvalidKeyError):
        layout.dataset_file_key("btc", "a/b.csv")
    keys = layout.run_keys("btc", "20261127T040000Z-0123abcd")
    assert keys.inputs == "features/btc/20261127T040000Z-0123abcd/inputs.json"
    assert keys.parts_prefix == "features/btc/20261127T040000Z-0123abcd/parts/"


# --- the debounce ------------------------------------------------------------------------------------


def test_quiet_wait_counts_from_the_event():
    assert routing.quiet_wait(T0, T0 + timedelta(seconds=3), 20) == 17
    assert routing.quiet_wait(T0, T0 + timedelta(seconds=30), 20) == 0


def test_only_the_newest_files_invocation_proceeds():
    files = [obj("raw/d/a.csv", 0), obj("raw/d/b.csv", 2), obj("raw/d/c.csv", 1)]
    decisions = {o.key: routing.debounce(files, ref_for(o)) for o in files}
    assert decisions == {"raw/d/a.csv": routing.DEBOUNCED, "raw/d/b.csv": routing.PROCEED,
                         "raw/d/c.csv": routing.DEBOUNCED}  # fmt: skip


def test_same_second_uploads_are_ordered_by_key_so_exactly_one_proceeds():
    files = [obj("raw/d/b.csv", 0.9), obj("raw/d/a.csv", 0.1)]  # listings give whole seconds on AWS
    decisions = [routing.debounce(files, ref_for(o)) for o in files]
    assert sorted(decisions) == [routing.DEBOUNCED, routing.PROCEED]
    assert routing.debounce(files, ref_for(files[0])) == routing.PROCEED  # "b" > "a"


def test_an_overwritten_or_deleted_file_is_superseded():
    files = [obj("raw/d/a.csv", 5, version="v2")]
    assert routing.debounce(files, ref_for(obj("raw/d/a.csv", 0, version="v1"))) == routing.SUPERSEDED
    assert routing.debounce(files, ref_for(obj("raw/d/gone.csv", 9))) == routing.SUPERSEDED


def test_current_files_keeps_latest_versions_of_the_dataset_only():
    listed = [
        {"Key": "raw/d/a.csv", "VersionId": "2", "IsLatest": True, "ETag": '"x"', "Size": 5, "LastModified": T0},
        {"Key": "raw/d/a.csv", "VersionId": "1", "IsLatest": False, "ETag": '"y"', "Size": 4, "LastModified": T0},
        {"Key": "raw/d/notes.txt", "VersionId": "1", "IsLatest": True, "Size": 1, "LastModified": T0},
        {"Key": "raw/d/sub/b.csv", "VersionId": "1", "IsLatest": True, "Size": 1, "LastModified": T0},
    ]
    (only,) = routing.current_files("d", listed)
    assert (only.key, only.version_id, only.etag, only.size) == ("raw/d/a.csv", "2", "x", 5)


def test_listing_digest_names_the_set_of_versions():
    a, b = obj("raw/d/a.csv"), obj("raw/d/b.csv")
    assert routing.listing_digest([a, b]) == routing.listing_digest([b, a])
    assert routing.listing_digest([a, b]) != routing.listing_digest([a, obj("raw/d/b.csv", version="v2")])
    assert len(routing.listing_digest([a])) == 64


# --- routing by size ---------------------------------------------------------------------------------


def test_engine_by_total_size_and_the_spark_request_documents():
    files = [obj("raw/d/a.csv", size=60), obj("raw/d/b.csv", size=50)]
    assert routing.engine_for(files, 110) == routing.PANDAS and routing.engine_for(files, 109) == routing.SPARK
    reason = routing.spark_reason(files, 109)
    assert "110 bytes" in reason and "MAX_RAW_BYTES=109" in reason
    inputs = routing.spark_inputs("d", "20261127T040000Z-0123abcd", files, reason, "req-1")
    assert [entry["key"] for entry in inputs["raw"]] == ["raw/d/a.csv", "raw/d/b.csv"]
    assert inputs["raw"][0] == {"key": "raw/d/a.csv", "version_id": "v1", "size": 60, "etag": "ev1"}
    assert (inputs["dataset"], inputs["reason"], inputs["requested_by"]) == ("d", reason, "req-1")
    assert routing.spark_arguments("b", "d", "r") == {"--bucket": "b", "--dataset": "d", "--run_id": "r"}


def test_only_the_writer_of_inputs_json_may_start_after_a_retry():
    assert routing.spark_start_action({"requested_by": "req-1"}, "req-1") == routing.CHECK_RUNS
    assert routing.spark_start_action({"requested_by": "req-1"}, "req-2") == routing.ALREADY_REQUESTED
    assert routing.spark_start_action({}, "") == routing.ALREADY_REQUESTED


def test_training_rows_of_both_engines_and_of_old_manifests():
    spark = {"engine": "spark", "rows_total": 10_000_000, "rows_sampled": 1_000_000,
             "sample": {"method": "time-stratified"}}  # fmt: skip
    assert routing.training_rows(spark) == spark
    old = routing.training_rows({"rows": {"features": 700}})
    assert old == {"engine": "pandas", "rows_total": 700, "rows_sampled": 700, "sample": {"method": "all rows"}}
    assert routing.raw_files({"raw": {"key": "a"}}) == [{"key": "a"}]
    assert routing.raw_files({"raw": [{"key": "a"}, {"key": "b"}]}) == [{"key": "a"}, {"key": "b"}]
    assert routing.raw_files({"raw": {"key": "b"}, "raw_files": [{"key": "a"}]}) == [{"key": "a"}]
    assert routing.raw_files({"raw": {"key": "raw/d/", "files": [{"key": "raw/d/a.csv"}]}}) == [{"key": "raw/d/a.csv"}]


# --- the pandas build over several files -------------------------------------------------------------


def split_csv(data: bytes, parts: int) -> List[bytes]:
    """The hourly sample split by period into ``parts`` files (header kept in each)."""
    lines = data.decode().splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if ",open," in line.lower())
    head, body = lines[: header_at + 1], lines[header_at + 1 :]
    size = -(-len(body) // parts)
    return ["".join(head + body[i * size : (i + 1) * size]).encode() for i in range(parts)]


def test_three_files_build_the_same_features_as_one(hourly_bytes):
    one = pipeline.build_features(S3ObjectRef(BUCKET, "raw/h.csv", T0.isoformat(), "v", "e"), hourly_bytes,
                                  max_raw_bytes=10**8)  # fmt: skip
    files = [(obj(f"raw/h/{i}.csv", i), part) for i, part in enumerate(split_csv(hourly_bytes, 3))]
    newest = {"key": "raw/h/2.csv"}
    built = dataset_build.build_dataset_features(BUCKET, "h", "20261127T040000Z-0123abcd", newest, files,
                                                 max_raw_bytes=10**8)  # fmt: skip
    assert built.status == "features_written"
    whole = pipeline.parquet_to_frame(one.writes[1].body).drop(columns="symbol")
    joined = pipeline.parquet_to_frame(built.writes[1].body).drop(columns="symbol")
    pd.testing.assert_frame_equal(whole, joined)
    manifest = json.loads(built.writes[0].body)
    assert [f["key"] for f in manifest["raw_files"]] == ["raw/h/0.csv", "raw/h/1.csv", "raw/h/2.csv"]
    assert manifest["raw_files"][1]["sha256"] == hashlib.sha256(files[1][1]).hexdigest()
    assert manifest["raw"] == newest
    assert (manifest["engine"], manifest["rows_total"], manifest["rows_sampled"]) == ("pandas", len(joined), len(joined))
    assert built.claim.key == layout.content_claim_key("h", routing.listing_digest([o for o, _ in files]))


def test_a_bad_file_is_named_in_the_report(hourly_bytes):
    good = split_csv(hourly_bytes, 2)
    bad = good[1] + b"2019-01-01 01-AM,BTCUSD,lots,1,1,1,1,1\n"  # a price that is no number
    built = dataset_build.build_dataset_features(
        BUCKET, "h", "20261127T040000Z-0123abcd", {"key": "raw/h/b.csv"},
        [(obj("raw/h/a.csv"), good[0]), (obj("raw/h/b.csv", 1), bad)], max_raw_bytes=10**8)
    assert built.status == "rejected"
    report = json.loads(built.writes[0].body)
    assert report["where"]["key"] == "raw/h/b.csv" and report["where"]["version_id"] == "v1"
    assert [f["key"] for f in report["raw_files"]] == ["raw/h/a.csv", "raw/h/b.csv"]


def test_overlapping_files_conflicting_bars_are_refused_naming_both(hourly_bytes):
    first, second = split_csv(hourly_bytes, 2)
    lines = first.decode().splitlines(keepends=True)
    clash = lines[-1].split(",")
    clash[-2] = str(float(clash[-2]) * 1.5)  # a different volume for the same bar
    second = second + ",".join(clash).encode()
    built = dataset_build.build_dataset_features(
        BUCKET, "h", "20261127T040000Z-0123abcd", {"key": "raw/h/b.csv"},
        [(obj("raw/h/a.csv"), first), (obj("raw/h/b.csv", 1), second)], max_raw_bytes=10**8)
    report = json.loads(built.writes[0].body)
    assert report["error"] == "DuplicateTimestampError"
    assert report["where"]["files"] == ["raw/h/a.csv", "raw/h/b.csv"]


def test_files_too_short_together_are_refused(hourly_bytes):
    first = split_csv(hourly_bytes, 200)[0]  # about 100 rows
    built = dataset_build.build_dataset_features(BUCKET, "h", "20261127T040000Z-0123abcd", {"key": "raw/h/a.csv"},
                                                 [(obj("raw/h/a.csv"), first)], max_raw_bytes=10**8)  # fmt: skip
    assert json.loads(built.writes[0].body)["error"] == "TooFewRowsError"


# --- the handler over an in-memory S3 ----------------------------------------------------------------


class DatasetS3(FakeS3):
    """FakeS3 with uploads that carry a version and a modification time, and HeadObject."""

    def upload(self, key: str, body: bytes, version: str, when: datetime) -> dict:
        etag = self.add(BUCKET, key, body, version)
        self.modified[key] = when
        return {"eventTime": when.isoformat().replace("+00:00", "Z"), "s3": {
            "bucket": {"name": BUCKET}, "object": {"key": key, "versionId": version, "eTag": etag, "size": len(body)}}}

    def head_object(self, Bucket: str, Key: str, **_):
        return {"ContentLength": len(self.objects[(Bucket, Key)]["Body"])}


class FakeGlue:
    def __init__(self) -> None:
        self.started: List[dict] = []

    def start_job_run(self, JobName: str, Arguments: dict):
        self.started.append({"JobName": JobName, "Arguments": Arguments})
        return {"JobRunId": f"jr_{len(self.started)}"}

    def get_paginator(self, name: str):
        started = self.started

        class Pages:
            def paginate(self, JobName: str):
                return [{"JobRuns": [{"Id": f"jr_{i + 1}", **run} for i, run in enumerate(started)]}]

        return Pages()


@pytest.fixture
def dataset_handler(aws_env, monkeypatch):
    monkeypatch.setenv("MAX_RAW_BYTES", str(5 * 1024 * 1024))
    monkeypatch.setenv("DEBOUNCE_SECONDS", "0")
    monkeypatch.setenv("SPARK_FEATURES_JOB_NAME", "spark-features")
    module = load_module("lambdas/feature_engineering/handler.py", "fe_routing_under_test")
    store, glue = DatasetS3(), FakeGlue()
    monkeypatch.setattr(module, "s3", store)
    monkeypatch.setattr(module, "glue", glue)
    return module, store, glue


def test_a_burst_of_three_files_gives_one_run_over_all_three(dataset_handler, hourly_bytes, context):
    module, store, glue = dataset_handler
    records = [store.upload(f"raw/h/{i}.csv", part, f"v{i}", T0 + timedelta(seconds=i))
               for i, part in enumerate(split_csv(hourly_bytes, 3))]
    results = [module.handler({"Records": [record]}, context)["results"][0] for record in records]
    assert [r["status"] for r in results] == ["debounced", "debounced", "features_written"]
    run_id = results[2]["run_id"]
    assert run_id == layout.make_run_id(records[2]["eventTime"], "raw/h/2.csv", "v2", None)
    manifest = store.json(BUCKET, layout.run_keys("h", run_id).manifest)
    assert [(f["key"], f["version_id"]) for f in manifest["raw_files"]] == [
        ("raw/h/0.csv", "v0"), ("raw/h/1.csv", "v1"), ("raw/h/2.csv", "v2")]
    assert manifest["raw"]["key"] == "raw/h/2.csv" and manifest["raw"]["sha256"]
    assert [k for k in store.keys("features/h/") if k.endswith("features.parquet")] == [layout.run_keys("h", run_id).features]
    # The wait is recorded (stages show it apart from the build) and logged with the outcome.
    assert manifest["debounce"]["waited_s"] == results[2]["debounce_wait_s"] == 0.0
    assert routing.debounce_ended(manifest) == manifest["debounce"]["ended_at"]
    # The newest file's event delivered again: its own claim, the Parquet file is not created twice.
    again = module.handler({"Records": [records[2]]}, context)["results"][0]
    assert again["status"] == "duplicate" and glue.started == []


def test_the_debounce_wait_is_recorded_and_left_out_of_feature_seconds(dataset_handler, hourly_bytes, context,
                                                                      monkeypatch):
    """The invocation sleeps out the quiet period (billed by Lambda, so the cost keeps it) but FeatureSeconds and
    the features stage measure the build only: the wait goes into the manifest as ``debounce``."""
    module, store, _ = dataset_handler
    monkeypatch.setattr(module, "SETTINGS", module.SETTINGS.__class__(
        max_raw_bytes=5 * 1024 * 1024, debounce_seconds=30, spark_features_job_name="spark-features"))
    slept, published = [], []
    clock = {"now": 1000.0}

    def sleep(seconds):  # a fake clock: the sleep passes `seconds` of monotonic time
        slept.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(module.time, "sleep", sleep)
    monkeypatch.setattr(module.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(module, "publish", published.extend)
    now = datetime.now(timezone.utc)
    record = store.upload("raw/h/0.csv", split_csv(hourly_bytes, 3)[0], "v0", now)
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    assert summary["status"] == "features_written" and len(slept) == 1 and 29 < slept[0] <= 30
    manifest = store.json(BUCKET, layout.run_keys("h", summary["run_id"]).manifest)
    assert manifest["debounce"]["waited_s"] == summary["debounce_wait_s"] == round(slept[0], 3)
    ended = layout.parse_event_time(manifest["debounce"]["ended_at"])
    assert now <= ended <= datetime.now(timezone.utc)
    seconds = {metric.name: metric.value for metric in published}["FeatureSeconds"]
    assert seconds == pytest.approx(0.0, abs=0.001)  # the fake clock moved only during the sleep


def test_a_dataset_above_the_limit_goes_to_the_spark_job_once(dataset_handler, hourly_bytes, context, monkeypatch):
    module, store, glue = dataset_handler
    monkeypatch.setattr(module, "SETTINGS", module.SETTINGS.__class__(
        max_raw_bytes=len(hourly_bytes) // 2, debounce_seconds=0, spark_features_job_name="spark-features"))
    records = [store.upload(f"raw/h/{i}.csv", part, f"v{i}", T0 + timedelta(seconds=i))
               for i, part in enumerate(split_csv(hourly_bytes, 3))]
    (summary,) = module.handler({"Records": [records[2]]}, context)["results"]
    assert summary["status"] == "spark_started" and summary["engine"] == "spark"
    (started,) = glue.started
    assert started == {"JobName": "spark-features",
                       "Arguments": {"--bucket": BUCKET, "--dataset": "h", "--run_id": summary["run_id"]}}
    inputs = store.json(BUCKET, layout.run_keys("h", summary["run_id"]).inputs)
    assert [entry["key"] for entry in inputs["raw"]] == ["raw/h/0.csv", "raw/h/1.csv", "raw/h/2.csv"]
    assert "MAX_RAW_BYTES" in inputs["reason"] and inputs["requested_by"] == context.aws_request_id
    assert inputs["debounce"]["waited_s"] == 0.0 and inputs["debounce"]["ended_at"]  # the Spark job copies it
    assert not [k for k in store.keys("features/h/") if k.endswith((".parquet", "manifest.json"))]
    # Another delivery of the same event starts nothing; a Lambda retry of the same request finds the run.
    other = type(context)(aws_request_id="another-request")
    assert module.handler({"Records": [records[2]]}, other)["results"][0]["status"] == "spark_already_requested"
    retry = module.handler({"Records": [records[2]]}, context)["results"][0]
    assert retry["status"] == "spark_already_started" and retry["job_run_id"] == "jr_1" and len(glue.started) == 1


def test_a_retry_after_dying_before_the_start_starts_the_job(dataset_handler, hourly_bytes, context, monkeypatch):
    module, store, glue = dataset_handler
    monkeypatch.setattr(module, "SETTINGS", module.SETTINGS.__class__(
        max_raw_bytes=100, debounce_seconds=0, spark_features_job_name="spark-features"))
    record = store.upload("raw/big.csv", hourly_bytes, "v1", T0)
    glue.start_job_run = lambda **_: (_ for _ in ()).throw(RuntimeError("killed"))  # dies before the start
    with pytest.raises(RuntimeError):
        module.handler({"Records": [record]}, context)
    del glue.start_job_run  # Lambda retries the same request
    summary = module.handler({"Records": [record]}, context)["results"][0]
    assert summary["status"] == "spark_started" and len(glue.started) == 1
    assert json.loads(store.body(BUCKET, layout.run_keys("big", summary["run_id"]).inputs))["raw"][0]["key"] == "raw/big.csv"


def test_without_a_spark_job_a_large_dataset_is_rejected_as_too_large(dataset_handler, hourly_bytes, context, monkeypatch):
    module, store, _ = dataset_handler
    monkeypatch.setattr(module, "SETTINGS", module.SETTINGS.__class__(max_raw_bytes=1000, debounce_seconds=0))
    record = store.upload("raw/h/a.csv", hourly_bytes[:900], "v1", T0)
    store.upload("raw/h/b.csv", hourly_bytes[:900], "v1", T0 - timedelta(seconds=5))
    summary = module.handler({"Records": [record]}, context)["results"][0]
    assert summary["status"] == "rejected" and summary["error"] == "InputTooLargeError"
    report = json.loads(io.BytesIO(store.body(BUCKET, summary["error_key"])).read())
    assert report["where"] == {"size_bytes": 1800, "limit_bytes": 1000}


def test_the_report_says_which_engine_and_how_many_rows_training_used():
    from cripto_pipeline.report.page import training_rows_line

    spark = training_rows_line({"engine": "spark", "rows_total": 10_000_000, "rows_sampled": 1_000_000,
                                "sample": {"method": "time-stratified"}})  # fmt: skip
    assert "Glue Spark feature job" in spark and "1,000,000 of 10,000,000 rows (time-stratified sample)" in spark
    pandas = training_rows_line({"rows": {"features": 700}, "engine": "pandas", "rows_total": 700, "rows_sampled": 700})
    assert "feature Lambda (pandas)" in pandas and "all 700 rows" in pandas


def test_the_upload_that_started_a_run_from_either_manifest_shape():
    assert routing.started_by({"raw": {"key": "raw/d/c.csv", "event_time": "t"}})["event_time"] == "t"
    assert routing.started_by({"raw": [{"key": "raw/d/a.csv"}]}) == {}


def test_the_upload_time_of_a_run_from_its_manifest_or_its_run_id():
    assert routing.upload_event_time({"raw": {"event_time": "2026-11-27T04:00:00.123Z"}}, "x") == "2026-11-27T04:00:00.123Z"
    assert routing.upload_event_time({"raw": [{"key": "a"}]}, "20261127T040001Z-0123abcd") == "2026-11-27T04:00:01+00:00"
