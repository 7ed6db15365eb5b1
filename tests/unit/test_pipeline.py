from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import layout, pipeline
from cripto_pipeline.events import S3ObjectRef
from cripto_pipeline.exceptions import TrainingDataError
from cripto_pipeline.features import FEATURE_COLUMNS, ID_COLUMNS, synthetic_ohlcv
from support.fingerprint import sources_sha256

REF = S3ObjectRef(bucket="b", key="raw/btc.csv", event_time="2026-11-27T04:00:00.000Z", etag="abc")


def test_build_features_writes_manifest_first_then_parquet(daily_bytes):
    outcome = pipeline.build_features(REF, daily_bytes, max_raw_bytes=10**7)
    assert outcome.status == "features_written"
    keys = layout.run_keys("btc", pipeline.run_id_for(REF))
    assert [w.key for w in outcome.writes] == [keys.manifest, keys.features]
    manifest_write, parquet_write = outcome.writes
    assert not manifest_write.only_if_absent and parquet_write.only_if_absent
    manifest = json.loads(manifest_write.body)
    assert manifest["dataset"] == "btc" and manifest["run_id"] == keys.run_id
    assert manifest["features_key"] == keys.features
    assert manifest["feature_columns"] == list(FEATURE_COLUMNS)
    assert manifest["raw"]["key"] == "raw/btc.csv" and manifest["raw"]["sha256"]
    assert manifest["rows"] == {"raw": 1770, "features": 1770 - 34}
    assert any("banner" in w for w in manifest["warnings"])
    frame = pipeline.parquet_to_frame(parquet_write.body)
    assert list(frame.columns) == list(ID_COLUMNS) + list(FEATURE_COLUMNS)
    assert len(frame) == manifest["rows"]["features"]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert outcome.summary == {
        "status": "features_written",
        "dataset": "btc",
        "run_id": keys.run_id,
        "features_key": keys.features,
        "rows": 1736,
        "warnings": len(manifest["warnings"]),
    }


def test_build_features_is_deterministic(daily_bytes):
    a = pipeline.build_features(REF, daily_bytes, max_raw_bytes=10**7)
    b = pipeline.build_features(REF, daily_bytes, max_raw_bytes=10**7)
    assert [w.body for w in a.writes] == [w.body for w in b.writes]


def test_rejected_input_becomes_an_error_report():
    outcome = pipeline.build_features(REF, b"date;open;high;low;close;volume\n", max_raw_bytes=10**7)
    assert outcome.status == "rejected"
    (write,) = outcome.writes
    assert write.key == f"errors/btc/{pipeline.run_id_for(REF)}.json"
    report = json.loads(write.body)
    assert report["error"] == "HeaderOnlyError" and report["fix"] and report["where"]["header_line"] == 1
    assert report["raw"]["key"] == "raw/btc.csv"
    assert outcome.summary["error"] == "HeaderOnlyError"


def test_too_large_input_report_has_no_hash_of_partial_content():
    outcome = pipeline.build_features(REF, b"x" * 11, max_raw_bytes=10)
    report = json.loads(outcome.writes[0].body)
    assert report["error"] == "InputTooLargeError" and report["raw"]["sha256"] is None


def test_key_outside_layout_is_ignored_with_a_report():
    ref = S3ObjectRef(bucket="b", key="raw/my data.csv", event_time="2026-11-27T04:00:00Z", etag="e")
    outcome = pipeline.build_features(ref, b"whatever", max_raw_bytes=100)
    assert outcome.status == "ignored"
    assert outcome.writes[0].key.startswith("errors/_invalid-key/")
    assert json.loads(outcome.writes[0].body)["where"] == {"key": "raw/my data.csv"}


def test_json_bytes_are_strict_json():
    body = pipeline.to_json_bytes(
        {
            "a": float("nan"),
            "b": np.float64(1.5),
            "c": np.int64(2),
            "d": np.bool_(True),
            "t": pd.Timestamp("2020-01-01", tz="UTC"),
        }
    )
    assert json.loads(body) == {"a": None, "b": 1.5, "c": 2, "d": True, "t": "2020-01-01T00:00:00+00:00"}


@pytest.fixture(scope="module")
def trained():
    ref = S3ObjectRef(bucket="b", key="raw/syn.csv", event_time="2026-11-27T04:00:00Z", etag="e")
    frame = synthetic_ohlcv(600, symbols=2, seed=3)
    csv = frame.to_csv(index=False).encode()
    built = pipeline.build_features(ref, csv, max_raw_bytes=10**7)
    manifest = json.loads(built.writes[0].body)
    outcome = pipeline.train_from_features(
        manifest["features_key"], manifest, built.writes[1].body, job_run_id="jr_1"
    )
    return manifest, built, outcome


def _sources_sha256() -> str:
    return sources_sha256(Path(pipeline.__file__).parent)


def test_lineage_hashes_the_features_file_it_trained_on(trained):
    manifest, built, outcome = trained
    keys = layout.parse_features_key(manifest["features_key"])
    lineage = json.loads({w.key: w.body for w in outcome.writes}[keys.lineage])
    parquet = built.writes[1].body
    assert len(parquet) > 0
    assert lineage["features_sha256"] == hashlib.sha256(parquet).hexdigest() != hashlib.sha256(b"").hexdigest()


def test_train_from_features_writes_all_artifacts(trained):
    manifest, built, outcome = trained
    keys = layout.parse_features_key(manifest["features_key"])
    assert [w.key for w in outcome.writes] == [keys.model, keys.feature_list, keys.metrics, keys.lineage]
    bodies = {w.key: w.body for w in outcome.writes}
    assert json.loads(bodies[keys.feature_list]) == list(FEATURE_COLUMNS)
    metrics = json.loads(bodies[keys.metrics])
    assert metrics["best_model"] == outcome.summary["best_model"]
    assert isinstance(metrics["comparison"]["beats_all_baselines"], bool)
    lineage = json.loads(bodies[keys.lineage])
    assert lineage["raw"]["key"] == "raw/syn.csv" and lineage["features_key"] == keys.features
    assert lineage["training"]["glue_job_run_id"] == "jr_1" and lineage["training"]["libraries"]["sklearn"]
    # the same code produced features and model, and the lineage says so
    assert lineage["training"]["code_sha256"] == manifest["code_sha256"] == _sources_sha256()
    assert lineage["feature_engineering"]["code_sha256"] == manifest["code_sha256"]
    model = joblib.load(io.BytesIO(bodies[keys.model]))  # what a consumer of model.joblib does
    features = pipeline.parquet_to_frame(built.writes[1].body)
    assert set(np.unique(model.predict(features[list(FEATURE_COLUMNS)].to_numpy()))) <= {0, 1}


def test_latest_pointer_only_moves_forward(trained):
    _, _, outcome = trained
    pointer = pipeline.latest_pointer(outcome, None)
    document = json.loads(pointer.body)
    assert pointer.key == "models/syn/latest.json"
    assert document["run_id"] == outcome.summary["run_id"] and document["model_key"].endswith("/model.joblib")
    assert pipeline.latest_pointer(outcome, {"run_id": "20991231T000000Z-00000000"}) is None
    assert pipeline.latest_pointer(outcome, {"run_id": "20000101T000000Z-00000000"}) is not None


def test_manifest_of_another_run_is_refused(trained):
    manifest, built, _ = trained
    other = dict(manifest, run_id="20000101T000000Z-00000000")
    with pytest.raises(TrainingDataError, match="another run"):
        pipeline.train_from_features(manifest["features_key"], other, built.writes[1].body)


def test_failure_status_names_the_run_and_the_error():
    from cripto_pipeline import layout, pipeline

    key = "features/eth/20261127T040000Z-630fc70b/features.parquet"
    status = pipeline.failure_status(key, ValueError("corrupt parquet"), "jr_1")
    document = json.loads(status.body)
    assert status.key == layout.run_keys("eth", "20261127T040000Z-630fc70b").status
    assert (document["state"], document["error"], document["glue_job_run_id"]) == (
        "FAILED", "ValueError: corrupt parquet", "jr_1")
    assert pipeline.failure_status("not/a/features/key", ValueError("x"), None) is None
