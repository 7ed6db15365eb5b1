"""cripto_pipeline.pipeline, the training side and the shared helpers: the model and the three documents
of one training run (trained inside the test, so the mutation run links train_from_features to it), the
refusal of another run's manifest, latest.json, strict JSON, the code and library fingerprints, PutObject
arguments and log levels, asserted literally or against independent computations (issue 16)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import platform
import re
from importlib import metadata
from pathlib import Path

import joblib
import numpy as np
import pytest

from cripto_pipeline import layout, pipeline
from cripto_pipeline.events import S3ObjectRef
from cripto_pipeline.exceptions import TrainingDataError
from cripto_pipeline.features import FEATURE_COLUMNS, synthetic_ohlcv
from support.fingerprint import sources_sha256

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "cripto_pipeline"
REF = S3ObjectRef(bucket="b", key="raw/syn.csv", event_time="2026-11-27T04:00:00Z", etag="e")
RUN = pipeline.run_id_for(REF)
KEYS = layout.run_keys("syn", RUN)


def _project_version() -> str:
    return re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)


def _sources_sha256() -> str:
    return sources_sha256(PACKAGE)


def test_training_writes_the_model_and_three_documents_for_the_manifests_feature_columns():
    built = pipeline.build_features(REF, synthetic_ohlcv(600, seed=3).to_csv(index=False).encode(),
                                    max_raw_bytes=10**7)
    manifest = json.loads(built.writes[0].body)
    chosen = list(FEATURE_COLUMNS[:4])
    manifest["feature_columns"] = chosen  # a manifest may name fewer columns: training uses those
    parquet = built.writes[1].body

    outcome = pipeline.train_from_features(KEYS.features, manifest, parquet, job_run_id="jr_7")

    assert outcome.status == "model_written" and outcome.claim is None and outcome.training is not None
    assert [(w.key, w.content_type, w.only_if_absent) for w in outcome.writes] == [
        (KEYS.model, "application/octet-stream", False), (KEYS.feature_list, "application/json", False),
        (KEYS.metrics, "application/json", False), (KEYS.lineage, "application/json", False)]
    model, feature_list, metrics, lineage = (w.body for w in outcome.writes)
    assert json.loads(feature_list) == chosen
    assert joblib.load(io.BytesIO(model)).n_features_in_ == 4
    metrics = json.loads(metrics)
    assert {k: metrics[k] for k in ("schema", "dataset", "run_id")} == {
        "schema": "cripto-pipeline/metrics/v1", "dataset": "syn", "run_id": RUN}
    rows = manifest["rows"]["features"]
    assert json.loads(lineage) == {
        "schema": "cripto-pipeline/lineage/v1", "dataset": "syn", "run_id": RUN, "raw": manifest["raw"],
        "raw_files": [manifest["raw"]],
        "training_rows": {"engine": "pandas", "rows_total": rows, "rows_sampled": rows,
                          "sample": {"method": "all rows"}},
        "features_key": KEYS.features, "features_sha256": hashlib.sha256(parquet).hexdigest(),
        "manifest_key": KEYS.manifest,
        "feature_engineering": {"code_version": manifest["code_version"], "code_sha256": manifest["code_sha256"],
                                "libraries": manifest["libraries"]},
        "training": {"code_version": _project_version(), "code_sha256": _sources_sha256(),
                     "libraries": json.loads(json.dumps(pipeline.library_versions())), "glue_job_run_id": "jr_7"},
        "model_key": KEYS.model, "best_model": metrics["best_model"]}
    comparison = metrics["comparison"]
    assert outcome.summary == {
        "status": "model_written", "dataset": "syn", "run_id": RUN, "best_model": metrics["best_model"],
        "model_key": KEYS.model, "accuracy_mean": comparison["model_accuracy_mean"],
        "balanced_accuracy_mean": comparison["model_balanced_accuracy_mean"],
        "best_baseline_accuracy_mean": comparison["best_baseline_accuracy_mean"],
        "beats_all_baselines": comparison["beats_all_baselines"], "verdict": comparison["verdict"],
        "training_seconds": outcome.summary["training_seconds"]}
    assert outcome.summary["training_seconds"] == pytest.approx(metrics["training_seconds"])


@pytest.mark.parametrize("field, value, run, dataset", [
    ("run_id", "20000101T000000Z-00000000", "'20000101T000000Z-00000000'", "'syn'"),
    ("dataset", "eth", f"'{RUN}'", "'eth'"),
])
def test_a_manifest_of_another_run_or_dataset_is_refused_naming_both(field, value, run, dataset):
    manifest = {"run_id": RUN, "dataset": "syn", field: value}
    with pytest.raises(TrainingDataError) as caught:
        pipeline.train_from_features(KEYS.features, manifest, b"not read")
    assert str(caught.value) == (f"Manifest for {KEYS.features} names run {run} of dataset {dataset}: it belongs "
                                 "to another run.")


def _trained(run_id: str) -> pipeline.Outcome:
    return pipeline.Outcome("model_written", [], {"dataset": "syn", "run_id": run_id, "best_model": "logistic",
                                                  "beats_all_baselines": True})


def test_latest_json_names_every_artifact_of_a_newer_run_and_only_moves_forward():
    pointer = pipeline.latest_pointer(_trained(RUN), None)
    assert (pointer.key, pointer.content_type, pointer.only_if_absent) == (
        "models/syn/latest.json", "application/json", False)
    assert json.loads(pointer.body) == {
        "schema": "cripto-pipeline/latest/v1", "dataset": "syn", "run_id": RUN,
        "model_key": f"models/syn/{RUN}/model.joblib", "metrics_key": f"models/syn/{RUN}/metrics.json",
        "feature_list_key": f"models/syn/{RUN}/features.json", "lineage_key": f"models/syn/{RUN}/lineage.json",
        "best_model": "logistic", "beats_all_baselines": True}
    assert pipeline.latest_pointer(_trained(RUN), {}) is not None
    assert pipeline.latest_pointer(_trained(RUN), {"run_id": RUN}) == pointer  # the same run again: rewritten
    assert pipeline.latest_pointer(_trained(RUN), {"run_id": "20991231T000000Z-00000000"}) is None


def test_json_bytes_are_sorted_indented_strict_and_end_with_a_newline():
    body = pipeline.to_json_bytes({"b": (1, np.float32(2.5)), 2: [np.float64("inf"), np.int32(3)], "a": {"x": None}})
    assert body == (b'{\n  "2": [\n    null,\n    3\n  ],\n  "a": {\n    "x": null\n  },\n  "b": [\n    1,\n    2.5\n'
                    b'  ]\n}\n')


def test_library_versions_name_python_the_package_and_each_library_or_none():
    versions = pipeline.library_versions()
    assert list(versions) == ["python", "cripto_pipeline", "numpy", "pandas", "pyarrow", "fastparquet", "sklearn",
                              "joblib", "scipy"]
    assert versions["python"] == platform.python_version()
    assert versions["cripto_pipeline"] == _project_version()
    for module, distribution in (("numpy", "numpy"), ("pandas", "pandas"), ("pyarrow", "pyarrow"),
                                 ("sklearn", "scikit-learn"), ("joblib", "joblib"), ("scipy", "scipy")):
        assert versions[module] == metadata.version(distribution), module
    assert versions["fastparquet"] is None  # not installed here


def test_the_code_fingerprint_hashes_every_module_of_the_package_by_name():
    assert pipeline.code_fingerprint() == _sources_sha256()


def test_put_arguments_ask_for_a_conditional_put_only_when_told():
    plain = pipeline.ObjectToWrite("k", b"x", "text/plain")
    assert plain.put_arguments == {"Key": "k", "Body": b"x", "ContentType": "text/plain"}
    once = pipeline.ObjectToWrite("k", b"x", "text/plain", only_if_absent=True)
    assert once.put_arguments == {"Key": "k", "Body": b"x", "ContentType": "text/plain", "IfNoneMatch": "*"}


@pytest.mark.parametrize("status, level", [("rejected", logging.WARNING), ("ignored", logging.WARNING),
                                           ("features_written", logging.INFO), ("duplicate", logging.INFO),
                                           ("model_written", logging.INFO)])
def test_inputs_that_produced_no_features_log_a_warning(status, level):
    assert pipeline.Outcome(status).log_level == level
