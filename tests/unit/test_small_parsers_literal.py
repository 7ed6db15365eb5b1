"""Small parsers and helpers of the core with literal expectations: S3 and Glue events, Glue run
metrics, a Spark run's DPUs, retries at the deadline, dataset listings, training metrics (issue 16:
survivors of the mutation run)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cripto_pipeline import costs, events, glue_runs, retry, routing, run_metrics
from cripto_pipeline.exceptions import InvalidEventError


def test_s3_events_without_records_or_with_broken_records_are_refused_saying_which():
    with pytest.raises(InvalidEventError) as caught:
        events.parse_s3_event({"detail": {}})
    assert str(caught.value) == "Event has no 'Records' list: expected an S3 event notification."
    with pytest.raises(InvalidEventError) as caught:
        events.parse_s3_event({"Records": [{"s3": {"bucket": {"name": "b"}}}]})
    assert str(caught.value) == "Record 0 is not an S3 event record (missing 'object')."


@pytest.mark.parametrize(("etag", "expected"), [('"abc"', "abc"), ("abc", "abc"), ("", None), (None, None),
                                                ('"XabcX"', "XabcX"), (' "abc" ', ' "abc" ')])
def test_an_s3_event_etag_loses_its_quotes_only(etag, expected):
    record = {"eventTime": "2026-11-27T04:00:00.000Z",
              "s3": {"bucket": {"name": "b"}, "object": {"key": "raw.csv", "size": 5}}}
    if etag is not None:
        record["s3"]["object"]["eTag"] = etag
    assert events.parse_s3_event({"Records": [record]})[0].etag == expected


def test_a_glue_event_of_another_kind_or_without_its_fields_is_refused_naming_them():
    with pytest.raises(InvalidEventError) as caught:
        glue_runs.parse_state_change({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})
    assert str(caught.value) == ("Expected an aws.glue 'Glue Job State Change' event, got source='aws.s3' "
                                 "detail-type='Object Created': check the EventBridge rule's pattern.")
    with pytest.raises(InvalidEventError) as caught:
        glue_runs.parse_state_change({"source": "aws.glue", "detail-type": "Glue Job State Change",
                                      "detail": {"jobName": "j"}})
    assert str(caught.value) == "The 'Glue Job State Change' event lacks jobRunId, state."


def test_glue_run_metrics_are_counts_per_state_and_seconds_at_a_utc_time():
    run = glue_runs.FinishedRun("train", "jr_1", "FAILED")
    data = glue_runs.metric_data(run, 12)
    assert {d["Unit"] for d in data[:4]} == {"Count"} and data[4]["Unit"] == "Seconds"
    assert data[0]["Timestamp"].tzinfo is timezone.utc
    assert [d["Value"] for d in data] == [0.0, 1.0, 0.0, 0.0, 12.0]


def test_a_spark_runs_dpus_need_both_worker_fields_else_max_capacity():
    assert costs.spark_run({"WorkerType": "G.1X", "NumberOfWorkers": 2, "ExecutionTime": 30}) == (2.0, 30.0)
    assert costs.spark_run({"WorkerType": "G.1X", "MaxCapacity": 5.0}) == (5.0, 0.0)
    assert costs.spark_run({"NumberOfWorkers": 4, "MaxCapacity": 5.0, "ExecutionTime": None}) == (5.0, 0.0)
    with pytest.raises(ValueError) as caught:
        costs.spark_run({"Id": "jr_7"})
    assert str(caught.value) == "Glue run 'jr_7' reports neither WorkerType/NumberOfWorkers nor MaxCapacity."


def test_a_retry_that_would_end_exactly_at_the_deadline_still_runs():
    attempts, slept = [], []

    def call():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("flaky")
        return "ok"

    assert retry.call_with_backoff(call, lambda e: True, [5.0], sleep=slept.append, deadline=15.0,
                                   clock=lambda: 10.0) == "ok"
    assert slept == [5.0]


def test_error_code_of_a_response_without_an_error():
    class Failed(Exception):
        response = {"ResponseMetadata": {}}

    assert retry.error_code(Failed()) is None


def test_a_listing_without_etag_or_size_and_a_naive_time():
    naive = datetime(2026, 11, 27, 4, 0)
    files = routing.current_files("d", [{"Key": "raw/d/a.csv", "IsLatest": True, "LastModified": naive,
                                          "VersionId": "v1"},
                                         {"Key": "raw/d/b.csv", "IsLatest": True, "ETag": '"XeX"', "Size": 3,
                                          "LastModified": naive}])
    assert [(f.key, f.etag, f.size) for f in files] == [("raw/d/a.csv", None, 0), ("raw/d/b.csv", "XeX", 3)]
    assert files[0].last_modified == datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)


def test_training_metrics_name_the_dataset():
    metrics = run_metrics.training_metrics({"dataset": "btc", "training_seconds": 3.0, "beats_all_baselines": True,
                                            "accuracy_mean": 0.6, "best_baseline_accuracy_mean": 0.5})
    assert [(m.name, m.value, m.dataset) for m in metrics] == [
        ("TrainingSeconds", 3.0, "btc"), ("BeatsBaselines", 1.0, "btc"), ("ModelAccuracy", 0.6, "btc"),
        ("MarginOverBestBaseline", pytest.approx(0.1), "btc")]
