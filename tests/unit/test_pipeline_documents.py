"""cripto_pipeline.pipeline: the duplicate-content record and the failed run's status.json, field by
field with literal values (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import json

from cripto_pipeline import layout, pipeline

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
