"""glue/model_training.py: the pure run() with a fake S3, and main() with a stand-in awsglue."""

from __future__ import annotations

import json
import sys
import types

import pytest

from cripto_pipeline import layout, pipeline
from cripto_pipeline.events import S3ObjectRef
from cripto_pipeline.features import synthetic_ohlcv

from .conftest import load_module

BUCKET = "bucket"


@pytest.fixture(scope="module")
def job():
    return load_module("glue/model_training.py", "model_training_under_test")


@pytest.fixture(scope="module")
def built():
    ref = S3ObjectRef(bucket=BUCKET, key="raw/syn.csv", event_time="2026-11-27T04:00:00Z", etag="e")
    csv = synthetic_ohlcv(500, seed=5).to_csv(index=False).encode()
    return pipeline.build_features(ref, csv, max_raw_bytes=10**7)


@pytest.fixture
def seeded(fake_s3, built):
    for obj in built.writes:
        fake_s3.add(BUCKET, obj.key, obj.body)
    fake_s3.calls.clear()
    return layout.parse_features_key(built.summary["features_key"])


def test_run_writes_artifacts_then_latest(job, fake_s3, seeded):
    summary = job.run(fake_s3, BUCKET, seeded.features, job_run_id="jr_1")
    assert summary["status"] == "model_written" and summary["latest_updated"] is True
    puts = [key for call, key in fake_s3.calls if call == "put_object"]
    # The report comes last: its failure can never keep a model from being published.
    assert puts == [seeded.model, seeded.feature_list, seeded.metrics, seeded.lineage, seeded.latest, seeded.report]
    assert summary["report"] == {"written": True, "key": seeded.report}
    latest = fake_s3.json(BUCKET, seeded.latest)
    assert latest["run_id"] == seeded.run_id and latest["model_key"] == seeded.model
    assert fake_s3.json(BUCKET, seeded.lineage)["training"]["glue_job_run_id"] == "jr_1"
    metrics = fake_s3.json(BUCKET, seeded.metrics)
    assert metrics["best_model"] == summary["best_model"] and len(metrics["folds"]) == 5


def test_first_run_works_when_s3_answers_403_for_the_missing_pointer(job, fake_s3, seeded, caplog):
    """On AWS, without s3:ListBucket on the key, a missing latest.json answers 403, not 404."""
    get_object = fake_s3.get_object

    def like_aws_without_list_bucket(Bucket, Key, **kwargs):
        if (Bucket, Key) not in fake_s3.objects:
            raise fake_s3._error("AccessDenied", "GetObject", 403)
        return get_object(Bucket=Bucket, Key=Key, **kwargs)

    fake_s3.get_object = like_aws_without_list_bucket
    with caplog.at_level("INFO", logger="cripto-model-training"):
        summary = job.run(fake_s3, BUCKET, seeded.features)
    assert summary["latest_updated"] is True
    assert fake_s3.json(BUCKET, seeded.latest)["run_id"] == seeded.run_id
    assert "access denied reading the pointer" in caplog.text


def test_other_errors_reading_the_pointer_fail_the_run(job, fake_s3, seeded):
    get_object = fake_s3.get_object

    def broken(Bucket, Key, **kwargs):
        if Key == seeded.latest:
            raise fake_s3._error("InternalError", "GetObject", 500)
        return get_object(Bucket=Bucket, Key=Key, **kwargs)

    fake_s3.get_object = broken
    with pytest.raises(Exception, match="InternalError"):
        job.run(fake_s3, BUCKET, seeded.features)
    assert (BUCKET, seeded.latest) not in fake_s3.objects


def test_latest_is_not_moved_back_to_an_older_run(job, fake_s3, seeded):
    newer = {
        "run_id": "20991231T000000Z-ffffffff",
        "model_key": "models/syn/20991231T000000Z-ffffffff/model.joblib",
    }
    fake_s3.add(BUCKET, seeded.latest, json.dumps(newer).encode())
    summary = job.run(fake_s3, BUCKET, seeded.features)
    assert summary["latest_updated"] is False
    assert fake_s3.json(BUCKET, seeded.latest) == newer
    assert (BUCKET, seeded.model) in fake_s3.objects


def test_failed_artifact_write_leaves_latest_alone(job, fake_s3, seeded):
    fake_s3.fail_put = lambda key: "AccessDenied" if key.endswith("lineage.json") else None
    with pytest.raises(Exception, match="AccessDenied"):
        job.run(fake_s3, BUCKET, seeded.features)
    assert (BUCKET, seeded.latest) not in fake_s3.objects


def test_missing_manifest_fails_the_run(job, fake_s3, seeded):
    del fake_s3.objects[(BUCKET, seeded.manifest)]
    with pytest.raises(Exception, match="NoSuchKey"):
        job.run(fake_s3, BUCKET, seeded.features)


def test_main_reads_glue_arguments(job, fake_s3, seeded, monkeypatch):
    def get_resolved_options(argv, names):  # the contract of awsglue.utils.getResolvedOptions
        return {name: argv[argv.index(f"--{name}") + 1] for name in names}

    awsglue = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options
    monkeypatch.setitem(sys.modules, "awsglue", awsglue)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    monkeypatch.setattr(job.boto3, "client", lambda service: fake_s3)
    argv = [
        "model_training.py",
        "--JOB_ID",
        "j_1",
        "--JOB_RUN_ID",
        "jr_42",
        "--bucket",
        BUCKET,
        "--features_key",
        seeded.features,
    ]
    summary = job.main(argv)
    assert summary["run_id"] == seeded.run_id
    assert fake_s3.json(BUCKET, seeded.lineage)["training"]["glue_job_run_id"] == "jr_42"
