"""cripto_pipeline.pipeline: the duplicate-content record and the failed run's status.json, field by
field with literal values (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import hashlib
import json

from cripto_pipeline import layout, pipeline
from cripto_pipeline.events import S3ObjectRef

RUN, OTHER = "20261127T040000Z-0123abcd", "20261126T040000Z-ffffffff"


def _outcome(with_claim: bool = True) -> pipeline.Outcome:
    keys = layout.run_keys("h", RUN)
    claim = pipeline.ObjectToWrite("claims/x", json.dumps({"raw": {"key": "raw/h.csv", "version_id": "v2"}}).encode(),
                                   "application/json", only_if_absent=True) if with_claim else None
    return pipeline.Outcome("features_written", [], {"dataset": "h", "run_id": RUN, "features_key": keys.features},
                            claim=claim)


def test_the_same_run_carries_on_and_another_run_writes_a_duplicate_record():
    outcome = _outcome()
    assert pipeline.covered_by(outcome, {"run_id": RUN}) is outcome
    holder = {"run_id": OTHER, "features_key": layout.run_keys("h", OTHER).features, "raw": {"key": "raw/h.csv"},
              "extra": "ignored"}
    covered = pipeline.covered_by(outcome, holder)
    keys = layout.run_keys("h", RUN)
    assert covered.status == "duplicate_content" and covered.claim is None
    assert [(w.key, w.content_type, w.only_if_absent) for w in covered.writes] == [
        (keys.duplicate, "application/json", False)]
    assert json.loads(covered.writes[0].body) == {
        "schema": "cripto-pipeline/duplicate-content/v1", "dataset": "h", "run_id": RUN,
        "raw": {"key": "raw/h.csv", "version_id": "v2"},
        "covered_by": {"run_id": OTHER, "features_key": holder["features_key"], "raw": {"key": "raw/h.csv"}},
        "what": f"The same content (sha256) was already uploaded; run {OTHER} covers it.",
        "fix": "Nothing to do. To train again on identical data, start the Glue job for the covering run's "
               "features_key, or change the file."}
    assert covered.summary == {"status": "duplicate_content", "dataset": "h", "run_id": RUN,
                               "covered_by_run_id": OTHER, "duplicate_key": keys.duplicate}
    assert json.loads(pipeline.covered_by(_outcome(False), holder).writes[0].body)["raw"] is None


def test_a_failed_training_run_writes_its_status_with_the_error_and_the_next_step():
    keys = layout.run_keys("h", RUN)
    status = pipeline.failure_status(keys.features, KeyError("close"), "jr_9")
    assert (status.key, status.content_type, status.only_if_absent) == (keys.status, "application/json", False)
    assert json.loads(status.body) == {
        "schema": "cripto-pipeline/run-status/v1", "dataset": "h", "run_id": RUN, "state": "FAILED",
        "error": "KeyError: 'close'", "glue_job_run_id": "jr_9", "features_key": keys.features,
        "fix": "Read the Glue error log (make logs COMPONENT=training); latest.json still names the last good "
               "model. Fix the cause, then upload the file again or restart the job for this features_key."}


REF = S3ObjectRef("cripto-data-example", "raw.csv", "2026-11-27T04:00:00.000Z", "v1", "e1", 99)


def test_a_one_file_run_writes_its_manifest_and_claim_field_by_field(hourly_bytes):
    built = pipeline.build_features(REF, hourly_bytes, max_raw_bytes=10**8)
    run_id = pipeline.run_id_for(REF)
    keys = layout.run_keys("default", run_id)
    raw = {"bucket": "cripto-data-example", "key": "raw.csv", "version_id": "v1", "etag": "e1",
           "event_time": "2026-11-27T04:00:00.000Z", "size_bytes": len(hourly_bytes),
           "sha256": hashlib.sha256(hourly_bytes).hexdigest()}
    manifest = json.loads(built.writes[0].body)
    rows = manifest["rows"]["features"]
    expected = {"schema": "cripto-pipeline/features-manifest/v1", "dataset": "default", "run_id": run_id,
                "raw": raw, "features_key": keys.features, "symbols": {"BTCUSD": manifest["rows"]["raw"]},
                "input": {"columns": manifest["input"]["columns"], "timestamp_format": "%Y-%m-%d %I-%p"}}
    assert {k: manifest[k] for k in expected} == expected
    assert sorted(manifest["time_range"]) == ["first", "last"]
    assert manifest["time_range"]["first"].startswith("2017-07-01")
    assert built.claim.key == layout.content_claim_key("default", raw["sha256"])
    assert (built.claim.content_type, built.claim.only_if_absent) == ("application/json", True)
    assert json.loads(built.claim.body) == {"schema": "cripto-pipeline/content-claim/v1", "dataset": "default",
                                            "run_id": run_id, "features_key": keys.features, "raw": raw}
    assert built.summary == {"status": "features_written", "dataset": "default", "run_id": run_id,
                             "features_key": keys.features, "rows": rows, "warnings": len(manifest["warnings"])}


def test_a_rejected_upload_and_a_key_outside_the_layout_are_reported_literally():
    run_id = pipeline.run_id_for(REF)
    rejected = pipeline.build_features(REF, b"timestamp,open\n", max_raw_bytes=10**8)
    keys = layout.run_keys("default", run_id)
    report = json.loads(rejected.writes[0].body)
    assert (rejected.writes[0].key, rejected.writes[0].content_type) == (keys.error, "application/json")
    assert {k: report[k] for k in ("schema", "dataset", "run_id")} == {
        "schema": "cripto-pipeline/rejected-input/v1", "dataset": "default", "run_id": run_id}
    assert rejected.summary == {"status": "rejected", "dataset": "default", "run_id": run_id,
                                "error": report["error"], "error_key": keys.error, "reason": report["what"]}
    outside = S3ObjectRef("cripto-data-example", "raw/a/b/c.csv", "2026-11-27T04:00:00.000Z", None, None, 12)
    ignored = pipeline.build_features(outside, b"x", max_raw_bytes=10**8)
    run_id = pipeline.run_id_for(outside)
    report = json.loads(ignored.writes[0].body)
    assert ignored.writes[0].content_type == "application/json"
    assert report == {"schema": "cripto-pipeline/rejected-input/v1", "error": "InvalidKeyError",
                      "what": report["what"], "where": {"key": "raw/a/b/c.csv"},
                      "fix": "Upload to 'raw.csv' or 'raw/<dataset>.csv'.",
                      "raw": {"bucket": "cripto-data-example", "key": "raw/a/b/c.csv", "version_id": None,
                              "etag": None, "event_time": "2026-11-27T04:00:00.000Z", "size_bytes": 12,
                              "sha256": None},
                      "run_id": run_id}
    assert report["what"] and ignored.summary == {"status": "ignored", "key": "raw/a/b/c.csv",
                                                  "error_key": ignored.writes[0].key, "reason": report["what"]}
