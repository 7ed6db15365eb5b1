"""The feature Lambda's routing shell (lambdas/feature_engineering/handler.py) with exact documents: the
upload identity it records (``raw``), the S3 and Glue requests it makes, the summaries it returns, for a
one-file dataset above MAX_RAW_BYTES, a several-file dataset (debounced, superseded, rejected, too large,
handed to Spark) and a Lambda retry of a Spark request. Fakes are small and strict: the Glue fake answers
only ``get_job_runs`` pages of the job it is asked about, the S3 fake records every GetObject/HeadObject."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytest

from cripto_pipeline import layout

from .conftest import FakeS3, load_module

BUCKET = "cripto-data-example"
T0 = datetime(2026, 11, 27, 4, 0, 0, tzinfo=timezone.utc)
JOB = "spark-features"
BAD_CSV = b"timestamp,open,high,low,close,volume\n2024-01-01,1,2,0.5,abc,10\n"


class RoutingS3(FakeS3):
    """FakeS3 with literal ETags and HeadObject, recording the arguments of every read and head (the
    versions listing, shaped like S3's, is FakeS3's)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: List[Dict[str, Any]] = []
        self.heads: List[Dict[str, Any]] = []

    def upload(self, key: str, body: bytes, version: str, etag: str, when: datetime, size_in_event: bool = True):
        self.add(BUCKET, key, body, version)
        self.objects[(BUCKET, key)]["ETag"] = f'"{etag}"'
        self.modified[key] = when
        obj = {"key": key, "versionId": version, "eTag": etag}
        if size_in_event:
            obj["size"] = len(body)
        return {"eventTime": when.isoformat().replace("+00:00", "Z"), "s3": {"bucket": {"name": BUCKET}, "object": obj}}

    def get_object(self, **kwargs):
        self.reads.append(kwargs)
        return super().get_object(**kwargs)

    def head_object(self, *, Bucket: str, Key: str, VersionId: Optional[str] = None, IfMatch: Optional[str] = None):
        self.heads.append({"Bucket": Bucket, "Key": Key, **({"VersionId": VersionId} if VersionId else {}),
                           **({"IfMatch": IfMatch} if IfMatch else {})})
        return {"ContentLength": len(self.objects[(Bucket, Key)]["Body"])}


class StrictGlue:
    """Glue with the runs of each job by name; ``get_job_runs`` is the only paginator (as on AWS: any other
    name is not pageable) and its pages are given literally by the test."""

    def __init__(self, pages_by_job: Optional[Dict[str, List[dict]]] = None) -> None:
        self.pages_by_job = pages_by_job or {}
        self.started: List[dict] = []

    def start_job_run(self, JobName: str, Arguments: dict):
        self.started.append({"JobName": JobName, "Arguments": Arguments})
        return {"JobRunId": f"jr_new_{len(self.started)}"}

    def get_paginator(self, name: str):
        if name != "get_job_runs":
            raise ValueError(f"Operation cannot be paginated: {name}")
        pages_by_job = self.pages_by_job

        class Pages:
            def paginate(self, JobName: str):
                return list(pages_by_job.get(JobName, [{"JobRuns": []}] if JobName == JOB else []))

        return Pages()


def _settings(module, **values):
    base = dict(max_raw_bytes=1000, debounce_seconds=0, spark_features_job_name=JOB)
    base.update(values)
    return module.SETTINGS.__class__(**base)


@pytest.fixture
def fe(aws_env, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    module = load_module("lambdas/feature_engineering/handler.py", "fe_routing_exact_under_test")
    store, glue = RoutingS3(), StrictGlue()
    monkeypatch.setattr(module, "s3", store)
    monkeypatch.setattr(module, "glue", glue)
    monkeypatch.setattr(module, "SETTINGS", _settings(module))
    return module, store, glue


def _run_id(record: dict) -> str:
    obj = record["s3"]["object"]
    return layout.make_run_id(record["eventTime"], obj["key"], obj["versionId"], obj["eTag"])


def _claims(store: RoutingS3, dataset: str) -> List[dict]:
    return [store.json(BUCKET, key) for key in store.keys(f"features/{dataset}/_content/")]


# --- one file above MAX_RAW_BYTES: the Spark request --------------------------------------------------


def test_a_one_file_dataset_above_the_limit_is_handed_to_spark_with_exact_documents(fe, context):
    module, store, glue = fe
    record = store.upload("raw/big.csv", b"x" * 1500, "v1", "etag-1", T0)
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    run_id = _run_id(record)
    reason = "the file holds 1,500 bytes, above the feature Lambda's limit MAX_RAW_BYTES=1,000"
    assert summary == {"status": "spark_started", "dataset": "big", "run_id": run_id, "engine": "spark",
                       "inputs_key": f"features/big/{run_id}/inputs.json", "files": 1, "bytes": 1500,
                       "reason": reason, "job_name": JOB, "job_run_id": "jr_new_1"}  # fmt: skip
    assert glue.started == [{"JobName": JOB, "Arguments": {"--bucket": BUCKET, "--dataset": "big", "--run_id": run_id}}]
    inputs = store.json(BUCKET, f"features/big/{run_id}/inputs.json")
    assert inputs["reason"] == reason and inputs["requested_by"] == context.aws_request_id
    assert inputs["raw"] == [{"key": "raw/big.csv", "version_id": "v1", "size": 1500, "etag": "etag-1"}]
    (claim,) = _claims(store, "big")
    assert claim["raw"] == {"bucket": BUCKET, "key": "raw/big.csv", "version_id": "v1", "etag": "etag-1",
                            "event_time": "2026-11-27T04:00:00Z", "size_bytes": 1500, "sha256": None}  # fmt: skip
    assert store.reads == [] and store.heads == []  # the event's size decides; the file is never read


def test_without_a_size_in_the_event_the_size_of_that_version_is_asked_with_head_object(fe, context):
    module, store, glue = fe
    record = store.upload("raw/big.csv", b"y" * 1200, "v7", "etag-7", T0, size_in_event=False)
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    assert store.heads == [{"Bucket": BUCKET, "Key": "raw/big.csv", "VersionId": "v7"}]
    assert summary["status"] == "spark_started" and summary["bytes"] == 1200
    (claim,) = _claims(store, "big")
    assert claim["raw"]["size_bytes"] == 1200


@pytest.mark.parametrize("size, engine", [(1000, "pandas"), (1001, "spark")])
def test_a_file_of_exactly_max_raw_bytes_stays_with_the_lambda(fe, context, size, engine):
    module, store, glue = fe
    body = BAD_CSV + b"\n" * (size - len(BAD_CSV))
    record = store.upload("raw/edge.csv", body, "v1", "etag-e", T0)
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    if engine == "pandas":  # read and validated by the Lambda (here: rejected for its bad value), no Spark run
        assert summary["status"] == "rejected" and summary["error"] == "NonNumericValueError" and glue.started == []
    else:
        assert summary["status"] == "spark_started" and len(glue.started) == 1


# --- several files: the debounce and the documents -----------------------------------------------------


def _two_files(store: RoutingS3, first: bytes = BAD_CSV, second: bytes = BAD_CSV) -> List[dict]:
    return [store.upload("raw/h/a.csv", first, "va", "etag-a", T0),
            store.upload("raw/h/b.csv", second, "vb", "etag-b", T0 + timedelta(seconds=5))]


def test_an_older_file_of_a_burst_is_debounced_with_its_summary(fe, context):
    module, store, glue = fe
    older, _ = _two_files(store)
    (summary,) = module.handler({"Records": [older]}, context)["results"]
    assert summary == {"status": "debounced", "dataset": "h", "key": "raw/h/a.csv", "run_id": _run_id(older),
                       "files": 2, "debounce_wait_s": 0.0}  # fmt: skip
    assert [p for op, p in store.calls if op == "list_object_versions"] == ["raw/h/"] and store.reads == [] and store.keys("features/") == []


def test_process_dataset_returns_the_debounce_decision_as_the_outcomes_status(fe):
    module, store, _ = fe
    older, _ = _two_files(store)
    ref = module.events.parse_s3_event({"Records": [older]})[0]
    outcome = module.process_dataset(ref, "h", "req-1")
    assert outcome.status == "debounced" and outcome.writes == [] and outcome.claim is None


def test_a_file_deleted_before_the_listing_is_superseded(fe, context):
    """An empty listing has no ``Versions`` key at all (S3 leaves empty lists out)."""
    module, store, _ = fe
    record = store.upload("raw/h/a.csv", BAD_CSV, "va", "etag-a", T0)
    del store.objects[(BUCKET, "raw/h/a.csv")]
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    assert summary == {"status": "superseded", "dataset": "h", "key": "raw/h/a.csv", "run_id": _run_id(record),
                       "files": 0, "debounce_wait_s": 0.0}  # fmt: skip


def test_a_several_file_run_reads_each_listed_version_and_records_every_identity(fe, context):
    module, store, _ = fe
    second = BAD_CSV.replace(b"abc", b"xyz")
    _, newest = _two_files(store, BAD_CSV, second)
    (summary,) = module.handler({"Records": [newest]}, context)["results"]
    assert [read for read in store.reads if read["Key"].startswith("raw/")] == [
        {"Bucket": BUCKET, "Key": "raw/h/a.csv", "VersionId": "va"},
        {"Bucket": BUCKET, "Key": "raw/h/b.csv", "VersionId": "vb"}]
    assert summary["status"] == "rejected" and summary["files"] == 2
    report = store.json(BUCKET, summary["error_key"])
    assert report["raw"] == {"bucket": BUCKET, "key": "raw/h/b.csv", "version_id": "vb", "etag": "etag-b",
                             "event_time": "2026-11-27T04:00:05Z", "size_bytes": len(second),
                             "sha256": hashlib.sha256(second).hexdigest()}  # fmt: skip
    assert report["raw_files"] == [
        {"bucket": BUCKET, "key": "raw/h/a.csv", "version_id": "va", "etag": "etag-a",
         "last_modified": "2026-11-27T04:00:00+00:00", "size_bytes": len(BAD_CSV),
         "sha256": hashlib.sha256(BAD_CSV).hexdigest()},
        {"bucket": BUCKET, "key": "raw/h/b.csv", "version_id": "vb", "etag": "etag-b",
         "last_modified": "2026-11-27T04:00:05+00:00", "size_bytes": len(second),
         "sha256": hashlib.sha256(second).hexdigest()}]  # fmt: skip


def test_a_large_dataset_without_a_spark_job_is_rejected_naming_the_newest_upload(fe, context, monkeypatch):
    module, store, _ = fe
    monkeypatch.setattr(module, "SETTINGS", _settings(module, max_raw_bytes=100, spark_features_job_name=""))
    _, newest = _two_files(store)
    (summary,) = module.handler({"Records": [newest]}, context)["results"]
    assert summary["status"] == "rejected" and summary["error"] == "InputTooLargeError"
    report = store.json(BUCKET, summary["error_key"])
    assert report["raw"] == {"bucket": BUCKET, "key": "raw/h/b.csv", "version_id": "vb", "etag": "etag-b",
                             "event_time": "2026-11-27T04:00:05Z", "size_bytes": len(BAD_CSV), "sha256": None}
    assert store.reads == []  # too large: nothing is read


def test_a_large_dataset_goes_to_spark_with_the_newest_upload_and_an_aware_debounce_end(fe, context, monkeypatch):
    module, store, glue = fe
    monkeypatch.setattr(module, "SETTINGS", _settings(module, max_raw_bytes=100))
    _, newest = _two_files(store)
    before = datetime.now(timezone.utc)
    (summary,) = module.handler({"Records": [newest]}, context)["results"]
    run_id = _run_id(newest)
    assert summary["status"] == "spark_started" and summary["debounce_wait_s"] == 0.0
    assert summary["reason"] == f"the 2 files hold {2 * len(BAD_CSV):,} bytes, above the feature Lambda's limit MAX_RAW_BYTES=100"
    (claim,) = _claims(store, "h")
    assert claim["raw"] == {"bucket": BUCKET, "key": "raw/h/b.csv", "version_id": "vb", "etag": "etag-b",
                            "event_time": "2026-11-27T04:00:05Z", "size_bytes": len(BAD_CSV), "sha256": None}
    ended = store.json(BUCKET, f"features/h/{run_id}/inputs.json")["debounce"]["ended_at"]
    assert ended.endswith("+00:00")  # UTC, with its offset
    assert before <= datetime.fromisoformat(ended) <= datetime.now(timezone.utc)


# --- a Lambda retry of a Spark request: inputs.json already there -----------------------------------


def _requested(store: RoutingS3, record: dict, requested_by: str) -> str:
    run_id = _run_id(record)
    store.add(BUCKET, f"features/big/{run_id}/inputs.json", json.dumps({"requested_by": requested_by}).encode())
    return run_id


def test_a_retry_finds_its_run_among_pages_of_other_and_hand_started_runs(fe, context):
    module, store, glue = fe
    record = store.upload("raw/big.csv", b"x" * 1500, "v1", "etag-1", T0)
    run_id = _requested(store, record, context.aws_request_id)
    glue.pages_by_job = {JOB: [
        {"NextToken": "t1"},  # a page without runs has no JobRuns key
        {"JobRuns": [{"Id": "jr_by_hand"},  # started by hand: no Arguments
                     {"Id": "jr_other", "Arguments": {"--run_id": "20261127T030000Z-00000000"}},
                     {"Id": "jr_mine", "Arguments": {"--bucket": BUCKET, "--run_id": run_id}}]},
    ], "another-job": [{"JobRuns": [{"Id": "jr_wrong_job", "Arguments": {"--run_id": run_id}}]}]}
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    assert summary["status"] == "spark_already_started" and summary["job_run_id"] == "jr_mine"
    assert glue.started == []


def test_a_retry_whose_job_never_ran_starts_it_in_the_events_bucket(fe, context):
    module, store, glue = fe
    record = store.upload("raw/big.csv", b"x" * 1500, "v1", "etag-1", T0)
    run_id = _requested(store, record, context.aws_request_id)
    glue.pages_by_job = {JOB: [{}]}
    (summary,) = module.handler({"Records": [record]}, context)["results"]
    assert glue.started == [{"JobName": JOB, "Arguments": {"--bucket": BUCKET, "--dataset": "big", "--run_id": run_id}}]
    assert summary["status"] == "spark_started" and summary["job_name"] == JOB and summary["job_run_id"] == "jr_new_1"


def test_spark_requested_before_returns_its_status_as_the_outcomes_status(fe):
    module, store, glue = fe
    record = store.upload("raw/big.csv", b"x" * 1500, "v1", "etag-1", T0)
    run_id = _requested(store, record, "the-first-request")
    request = {"status": "spark_requested", "dataset": "big", "run_id": run_id}
    outcome = module.spark_requested_before(BUCKET, request, "another-request")
    assert outcome.status == "spark_already_requested" and outcome.summary["status"] == "spark_already_requested"
    assert glue.started == []
