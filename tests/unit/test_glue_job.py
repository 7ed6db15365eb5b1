"""glue/model_training.py: the pure run() with a fake S3, and main() with a stand-in awsglue."""

from __future__ import annotations

import json
import sys
import types
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

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


def json_lines(text: str) -> list:
    """The job's stdout as log objects: every line must be one JSON object (no loose traceback lines)."""
    return [json.loads(line) for line in text.splitlines()]


def test_first_run_works_when_s3_answers_403_for_the_missing_pointer(job, fake_s3, seeded, capsys):
    """On AWS, without s3:ListBucket on the key, a missing latest.json answers 403, not 404."""
    get_object = fake_s3.get_object

    def like_aws_without_list_bucket(Bucket, Key, **kwargs):
        if (Bucket, Key) not in fake_s3.objects:
            raise fake_s3._error("AccessDenied", "GetObject", 403)
        return get_object(Bucket=Bucket, Key=Key, **kwargs)

    fake_s3.get_object = like_aws_without_list_bucket
    summary = job.run(fake_s3, BUCKET, seeded.features)
    assert summary["latest_updated"] is True
    assert fake_s3.json(BUCKET, seeded.latest)["run_id"] == seeded.run_id
    (denied,) = [line for line in json_lines(capsys.readouterr().out) if "access denied" in line["message"]]
    assert denied["message"] == ("access denied reading the pointer: treated as absent (S3 answers 403 for a "
                                 "missing key without s3:ListBucket)")
    assert denied["key"] == seeded.latest and denied["service"] == "model-training" and denied["level"] == "INFO"


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
    with pytest.raises(ClientError, match="AccessDenied"):
        job.run(fake_s3, BUCKET, seeded.features)
    assert (BUCKET, seeded.latest) not in fake_s3.objects


def test_missing_manifest_fails_the_run(job, fake_s3, seeded):
    del fake_s3.objects[(BUCKET, seeded.manifest)]
    with pytest.raises(ClientError, match="NoSuchKey"):
        job.run(fake_s3, BUCKET, seeded.features)


@pytest.fixture
def glue_env(job, fake_s3, monkeypatch):
    """A stand-in awsglue.utils (AWS's contract) and boto3 handing out the fake S3."""

    def get_resolved_options(argv, names):  # the contract of awsglue.utils.getResolvedOptions
        return {name: argv[argv.index(f"--{name}") + 1] for name in names}

    awsglue = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options
    monkeypatch.setitem(sys.modules, "awsglue", awsglue)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    monkeypatch.setattr(job.boto3, "client", lambda service: fake_s3)


def test_main_reads_glue_arguments(job, fake_s3, seeded, glue_env):
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


def glue_argv(features_key: str) -> list:
    return ["model_training.py", "--JOB_RUN_ID", "jr_7", "--bucket", BUCKET, "--features_key", features_key]


def test_failed_run_writes_status_json_and_nothing_else(job, fake_s3, seeded, glue_env):
    good = {"run_id": "20200101T000000Z-00000000", "model_key": "models/syn/old/model.joblib"}
    fake_s3.add(BUCKET, seeded.latest, json.dumps(good).encode())
    fake_s3.fail_put = lambda key: "AccessDenied" if key.endswith("metrics.json") else None
    with pytest.raises(ClientError, match="AccessDenied"):  # the run ends FAILED with the original error
        job.main(glue_argv(seeded.features))
    status = fake_s3.json(BUCKET, seeded.status)
    assert status["state"] == "FAILED" and status["glue_job_run_id"] == "jr_7"
    assert status["run_id"] == seeded.run_id and status["features_key"] == seeded.features
    assert status["error"].startswith("ClientError: ") and "AccessDenied" in status["error"]
    assert fake_s3.json(BUCKET, seeded.latest) == good  # latest.json still names the last good model
    written = {key for call, key in fake_s3.calls if call == "put_object"}
    assert seeded.metrics not in fake_s3.keys() and seeded.lineage not in fake_s3.keys()
    assert seeded.report not in written and seeded.status in written


def test_failure_recording_never_hides_the_original_error(job, fake_s3, seeded, glue_env, capsys):
    del fake_s3.objects[(BUCKET, seeded.manifest)]
    fake_s3.fail_put = lambda key: "SlowDown" if key.endswith("status.json") else None
    with pytest.raises(ClientError, match="NoSuchKey"):
        job.main(glue_argv(seeded.features))
    assert seeded.status not in fake_s3.keys()
    failed, unrecorded = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    # The traceback of the failure is a field of its line, not loose lines after it.
    assert failed["message"] == "training failed" and failed["exception_name"] == "ClientError"
    assert "Traceback" in failed["exception"] and "NoSuchKey" in failed["exception"]
    assert failed["job_run_id"] == "jr_7" and failed["features_key"] == seeded.features
    assert unrecorded["message"] == "could not record the failure"
    assert unrecorded["error"].startswith("ClientError(") and "SlowDown" in unrecorded["error"]


def test_successful_run_writes_no_status_json(job, fake_s3, seeded, glue_env):
    job.main(glue_argv(seeded.features))
    assert seeded.status not in fake_s3.keys()


def test_latest_pointer_errors_other_than_missing_fail_the_run(job, fake_s3, seeded):
    get_object = fake_s3.get_object

    def failing_latest(**kwargs):
        if kwargs["Key"] == seeded.latest:
            raise fake_s3._error("InternalError", "GetObject", 500)
        return get_object(**kwargs)

    fake_s3.get_object = failing_latest
    # An S3 fault is not "no model yet": treating it so would let an older run replace a newer pointer.
    # (AccessDenied is: without s3:ListBucket on the key, S3 answers 403 for a missing key.)
    with pytest.raises(ClientError, match="InternalError"):
        job.run(fake_s3, BUCKET, seeded.features)
    assert seeded.latest not in fake_s3.keys()


def test_a_missing_latest_pointer_reported_as_404_is_created(job, fake_s3, seeded):
    get_object = fake_s3.get_object

    def head_style_404(**kwargs):
        if kwargs["Key"] == seeded.latest:
            raise fake_s3._error("404", "GetObject", 404)
        return get_object(**kwargs)

    fake_s3.get_object = head_style_404
    assert job.run(fake_s3, BUCKET, seeded.features)["latest_updated"] is True


@pytest.mark.parametrize("argv, expected", [
    (["script", "--JOB_RUN_ID", "jr_1"], "jr_1"),
    (["script", "--JOB_RUN_ID=jr_2"], "jr_2"),
    (["script", "--JOB_RUN_ID=a=b"], "a=b"),  # only the first '=' separates
    (["script", "--bucket", "b", "--JOB_RUN_ID"], None),  # a flag without its value
    (["script", "--JOB_RUN_ID_OTHER", "x"], None),
    (["script", "--JOB_RUN_IDX=1"], None),
    (["script"], None),
])
def test_optional_glue_argument_forms(job, argv, expected):
    assert job._optional_argument(argv, "JOB_RUN_ID") == expected


def test_optional_numbers(job):
    assert job._optional_number(["s", "--glue_dpu", "0.0625"], "glue_dpu") == 0.0625
    assert job._optional_number(["s", "--glue_dpu", ""], "glue_dpu") is None
    assert job._optional_number(["s"], "glue_dpu") is None


class _Clock:
    """A time.monotonic() stand-in: the job measures its own duration for the report's cost estimate."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def monotonic(self) -> float:
        return self.readings.pop(0)


@pytest.fixture
def report_spy(job, monkeypatch):
    """report.build_report replaced by a recorder (the real one needs matplotlib and is tested in test_report)."""
    seen = {}

    def build_report(outcome, manifest, parquet, inputs):
        seen.update(outcome=outcome, manifest=manifest, parquet=parquet, inputs=inputs)
        keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
        return pipeline.ObjectToWrite(keys.report, b"<html>report</html>", "text/html")

    monkeypatch.setattr(job.report, "build_report", build_report)
    return seen


def test_main_passes_the_job_arguments_and_its_duration_to_the_reports_cost_estimate(
        job, fake_s3, seeded, glue_env, report_spy, monkeypatch):
    monkeypatch.setattr(job, "time", _Clock(1000.0, 1042.5))  # job start, then when the report is built
    get_object = fake_s3.get_object

    def with_last_modified(**kwargs):  # S3 answers LastModified; the upload event was 2026-11-27T04:00:00Z
        answer = get_object(**kwargs)
        return {**answer, "LastModified": datetime(2026, 11, 27, 4, 0, 30, 700000, tzinfo=timezone.utc)}

    fake_s3.get_object = with_last_modified
    argv = glue_argv(seeded.features) + ["--glue_dpu", "0.0625", "--feature_lambda_memory_mb", "1024",
                                         "--trigger_lambda_memory_mb=256"]
    summary = job.main(argv)
    inputs = report_spy["inputs"]
    assert inputs.glue_seconds == 42.5 and inputs.glue_dpu == 0.0625 and inputs.trigger_lambda_memory_mb == 256.0
    # the feature Lambda: its memory, and seconds from the upload event to the features object's LastModified
    assert inputs.feature_lambda == (1024.0, 30.0)
    # the run's objects: every key under its features/ and models/ prefixes with its size, nothing else
    expected = {key: len(fake_s3.body(BUCKET, key)) for key in fake_s3.keys()
                if key.startswith((seeded.features_prefix, seeded.models_prefix)) and key != seeded.report}
    assert dict(inputs.run_objects) == expected and seeded.features in expected and seeded.model in expected
    assert report_spy["manifest"] == fake_s3.json(BUCKET, seeded.manifest)
    assert report_spy["parquet"] == fake_s3.body(BUCKET, seeded.features)
    assert summary["report"] == {"written": True, "key": seeded.report}
    assert fake_s3.body(BUCKET, seeded.report) == b"<html>report</html>"


def test_run_without_a_start_time_measures_from_its_own_start(job, fake_s3, seeded, report_spy, monkeypatch):
    monkeypatch.setattr(job, "time", _Clock(10.0, 17.0))
    job.run(fake_s3, BUCKET, seeded.features)
    assert report_spy["inputs"].glue_seconds == 7.0 and report_spy["inputs"].glue_dpu is None


def test_a_report_failure_is_logged_and_recorded_and_the_run_succeeds(job, fake_s3, seeded, monkeypatch, capsys):
    def broken(*args):
        raise RuntimeError("no matplotlib")

    monkeypatch.setattr(job.report, "build_report", broken)
    summary = job.run(fake_s3, BUCKET, seeded.features)
    assert summary["report"] == {"written": False, "error": "RuntimeError: no matplotlib"}
    assert summary["latest_updated"] is True and seeded.report not in fake_s3.keys()
    (failed,) = [line for line in json_lines(capsys.readouterr().out) if line["message"] == "report failed"]
    assert failed["level"] == "ERROR" and failed["run_id"] == seeded.run_id
    assert failed["error"] == "RuntimeError: no matplotlib" and "Traceback" in failed["exception"]


def test_the_model_and_report_lines_name_what_was_written(job, fake_s3, seeded, report_spy, capsys):
    summary = job.run(fake_s3, BUCKET, seeded.features, job_run_id="jr_9")
    lines = {line["message"]: line for line in json_lines(capsys.readouterr().out)}
    written = lines["model written"]
    assert written["level"] == "INFO" and written["service"] == "model-training"
    assert written["run_id"] == seeded.run_id and written["latest_updated"] is True
    assert written["best_model"] == summary["best_model"]
    report_line = lines["report written"]
    assert report_line["key"] == seeded.report and report_line["bytes"] == len(b"<html>report</html>")


class _CloudWatch:
    def __init__(self, fail: bool = False) -> None:
        self.requests, self.fail = [], fail

    def put_metric_data(self, **request):
        if self.fail:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutMetricData")
        self.requests.append(request)


def test_metrics_go_to_the_namespace_of_the_job_argument(job, fake_s3, seeded, glue_env, report_spy, monkeypatch):
    cloudwatch = _CloudWatch()
    monkeypatch.setattr(job.boto3, "client", lambda service: {"s3": fake_s3, "cloudwatch": cloudwatch}[service])
    summary = job.main(glue_argv(seeded.features) + ["--metrics_namespace", "Cripto/Test"])
    assert [request["Namespace"] for request in cloudwatch.requests] == ["Cripto/Test"]
    names = {datum["MetricName"] for datum in cloudwatch.requests[0]["MetricData"]}
    assert names and summary["latest_updated"] is True


def test_no_namespace_publishes_no_metrics(job, fake_s3, seeded, report_spy, monkeypatch):
    def no_client(service):
        raise AssertionError(f"no {service} client expected")

    monkeypatch.setattr(job.boto3, "client", no_client)
    assert job.run(fake_s3, BUCKET, seeded.features, metrics_namespace=None)["latest_updated"] is True
    assert job.run(fake_s3, BUCKET, seeded.features, metrics_namespace="")["latest_updated"] is True


def test_a_metrics_failure_is_logged_and_the_run_succeeds(job, fake_s3, seeded, report_spy, monkeypatch, capsys):
    monkeypatch.setattr(job.boto3, "client", lambda service: _CloudWatch(fail=True))
    summary = job.run(fake_s3, BUCKET, seeded.features, metrics_namespace="Cripto/Test")
    assert summary["latest_updated"] is True and summary["report"]["written"] is True
    (line,) = [line for line in json_lines(capsys.readouterr().out) if line["message"] == "metrics not published"]
    assert line["level"] == "ERROR" and line["error"].startswith("ClientError: ") and "AccessDenied" in line["error"]


def test_a_spark_built_runs_feature_lambda_time_ends_when_its_inputs_json_was_written(
        job, fake_s3, seeded, report_spy):
    """The Spark feature job's manifest (engine spark, ``raw`` lists files, no upload event): the feature
    Lambda's bound runs from the upload (the run id's time) to inputs.json's LastModified from the run's
    listing, in whole seconds."""
    manifest = fake_s3.json(BUCKET, seeded.manifest)
    spark_manifest = {**manifest, "engine": "spark", "raw": [{"key": "raw/syn.csv", "version_id": None, "size": 1}]}
    fake_s3.add(BUCKET, seeded.manifest, json.dumps(spark_manifest).encode())
    inputs_key = layout.run_keys(seeded.dataset, seeded.run_id).inputs
    fake_s3.add(BUCKET, inputs_key, b'{"requested_by": "req-1"}')
    list_objects_v2 = fake_s3.list_objects_v2

    def listing_with_times(**kwargs):  # ListObjectsV2 entries carry LastModified
        answer = list_objects_v2(**kwargs)
        when = datetime(2026, 11, 27, 4, 0, 12, 900000, tzinfo=timezone.utc)
        return {**answer, "Contents": [{**item, "LastModified": when} if item["Key"] == inputs_key else item
                                       for item in answer["Contents"]]}

    fake_s3.list_objects_v2 = listing_with_times
    job.run(fake_s3, BUCKET, seeded.features, resources=job.report.JobResources(feature_lambda_memory_mb=1024))
    # upload event 2026-11-27T04:00:00Z -> inputs.json written 04:00:12.9, counted as 12 whole seconds
    assert report_spy["inputs"].feature_lambda == (1024.0, 12.0)
