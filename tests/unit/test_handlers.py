"""The two Lambda handlers, called directly with real-shaped events (tests/events/*.json)."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cripto_pipeline import glue_start, layout, start_claims
from cripto_pipeline.exceptions import ConfigurationError, InvalidKeyError

from .conftest import load_event, load_module

BUCKET = "cripto-data-example"


@pytest.fixture
def fe(aws_env, monkeypatch, fake_s3):
    monkeypatch.setenv("MAX_RAW_BYTES", str(5 * 1024 * 1024))
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    module = load_module("lambdas/feature_engineering/handler.py", "fe_handler_under_test")
    monkeypatch.setattr(module, "s3", fake_s3)
    return module


def event_for(name: str, fake_s3, body: bytes, **object_fields) -> dict:
    """The stored event, with the object put into the fake S3 and the event's ETag matching it."""
    event = copy.deepcopy(load_event(name))
    for record in event["Records"]:
        obj = record["s3"]["object"]
        obj.update(object_fields)
        key = layout_key(obj["key"])
        obj["eTag"] = fake_s3.add(BUCKET, key, body, obj.get("versionId"))
    return event


def layout_key(encoded: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(encoded)


def test_upload_produces_manifest_then_parquet(fe, fake_s3, daily_bytes, context, capsys):
    event = event_for("s3_put_raw_default.json", fake_s3, daily_bytes)
    result = fe.handler(event, context)
    (summary,) = result["results"]
    assert summary["status"] == "features_written" and summary["dataset"] == "default"
    run_id = summary["run_id"]
    assert run_id == layout.make_run_id(
        "2026-11-27T04:00:00.123Z", "raw.csv", None, event["Records"][0]["s3"]["object"]["eTag"]
    )
    keys = layout.run_keys("default", run_id)
    puts = [key for call, key in fake_s3.calls if call == "put_object"]
    claim = layout.content_claim_key("default", hashlib.sha256(daily_bytes).hexdigest())
    assert puts == [claim, keys.manifest, keys.features]
    assert fake_s3.json(BUCKET, claim)["run_id"] == run_id
    assert fake_s3.json(BUCKET, keys.manifest)["features_key"] == keys.features
    assert fake_s3.objects[(BUCKET, keys.features)]["ContentType"] == "application/vnd.apache.parquet"
    json.dumps(result)  # JSON-able
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["level"] == "INFO" and log["message"] == "features_written" and log["run_id"] == run_id
    assert log["service"] == "feature-engineering"
    assert log["function_request_id"] == context.aws_request_id and isinstance(log["cold_start"], bool)


def test_duplicated_event_does_not_recreate_the_parquet(fe, fake_s3, daily_bytes, context):
    event = event_for("s3_put_raw_default.json", fake_s3, daily_bytes)
    first = fe.handler(event, context)["results"][0]
    second = fe.handler(event, context)["results"][0]
    assert second == {"status": "duplicate", "key": "raw.csv", "run_id": first["run_id"]}
    parquet_puts = [k for call, k in fake_s3.calls if call == "put_object" and k.endswith(".parquet")]
    assert len(parquet_puts) == 2  # attempted twice, created once (If-None-Match)


def test_same_content_uploaded_again_is_covered_by_the_first_run(fe, fake_s3, daily_bytes, context):
    first = fe.handler(event_for("s3_put_raw_default.json", fake_s3, daily_bytes), context)["results"][0]
    again = event_for("s3_put_raw_default.json", fake_s3, daily_bytes, versionId="another-version")
    again["Records"][0]["eventTime"] = "2026-11-27T05:00:00.000Z"
    (second,) = fe.handler(again, context)["results"]
    assert second["status"] == "duplicate_content" and second["covered_by_run_id"] == first["run_id"]
    assert second["run_id"] != first["run_id"]
    record = fake_s3.json(BUCKET, second["duplicate_key"])
    assert record["covered_by"]["features_key"] == first["features_key"]
    assert len(fake_s3.keys("features/default/20261127T050000Z")) == 1  # the record only: no Parquet file


def test_retry_after_a_crash_between_claim_and_parquet_finishes_the_run(fe, fake_s3, daily_bytes, context):
    event = event_for("s3_put_raw_default.json", fake_s3, daily_bytes)
    fake_s3.fail_put = lambda key: "InternalError" if key.endswith("manifest.json") else None
    with pytest.raises(ClientError, match="InternalError"):
        fe.handler(event, context)
    fake_s3.fail_put = lambda key: None
    (summary,) = fe.handler(event, context)["results"]  # the async retry: the claim is its own
    assert summary["status"] == "features_written"
    assert fake_s3.keys(layout.run_keys("default", summary["run_id"]).features)


def test_versioned_upload_reads_that_version(fe, fake_s3, hourly_bytes, context):
    event = event_for("s3_put_raw_dataset_versioned.json", fake_s3, hourly_bytes)
    (summary,) = fe.handler(event, context)["results"]
    assert summary["status"] == "features_written" and summary["dataset"] == "btc_hourly"
    assert summary["run_id"].startswith("20261127T040506Z-")
    fake_s3.objects[(BUCKET, "raw/btc_hourly.csv")]["VersionId"] = "a-newer-version"
    with pytest.raises(ClientError, match="NoSuchKey"):  # the named version is gone: a real error
        fe.handler(event, context)


def test_overwritten_object_is_superseded(fe, fake_s3, daily_bytes, context):
    event = event_for("s3_put_raw_default.json", fake_s3, daily_bytes)
    fake_s3.add(BUCKET, "raw.csv", daily_bytes + b"\n")  # a newer upload with its own event
    (summary,) = fe.handler(event, context)["results"]
    assert summary["status"] == "superseded"
    assert [c for c in fake_s3.calls if c[0] == "put_object"] == []


def test_rejected_input_is_reported_not_raised(fe, fake_s3, context, capsys):
    event = event_for("s3_put_raw_default.json", fake_s3, b"timestamp,open,high,low,close,volume\n")
    (summary,) = fe.handler(event, context)["results"]
    assert summary["status"] == "rejected" and summary["error"] == "HeaderOnlyError"
    report = fake_s3.json(BUCKET, summary["error_key"])
    assert report["error"] == "HeaderOnlyError" and report["fix"]
    assert summary["error_key"] == f"errors/default/{summary['run_id']}.json"
    assert fake_s3.keys("features/") == []
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["level"], line["message"], line["bucket"], line["error"]) == ("WARNING", "rejected", BUCKET,
                                                                               "HeaderOnlyError")


def test_oversized_object_is_rejected_without_reading_it_all(
    aws_env, monkeypatch, fake_s3, context, daily_bytes
):
    monkeypatch.setenv("MAX_RAW_BYTES", "1000")
    module = load_module("lambdas/feature_engineering/handler.py", "fe_handler_small")
    monkeypatch.setattr(module, "s3", fake_s3)
    event = event_for("s3_put_raw_default.json", fake_s3, daily_bytes)
    read_sizes = []
    get_object = fake_s3.get_object

    class CountingBody:
        """The streaming body, recording what the handler asks for and what it gets."""

        def __init__(self, body):
            self.body = body

        def read(self, amt=None):
            chunk = self.body.read(amt)
            read_sizes.append((amt, len(chunk)))
            return chunk

    def counting_get_object(**kwargs):
        response = get_object(**kwargs)
        return {**response, "Body": CountingBody(response["Body"])}

    monkeypatch.setattr(fake_s3, "get_object", counting_get_object)
    (summary,) = module.handler(event, context)["results"]
    assert summary["error"] == "InputTooLargeError"
    assert len(daily_bytes) > 10 * 1000
    # one bounded read: the limit plus one byte proves "too large" without the rest in memory
    assert read_sizes == [(1001, 1001)]


def test_invalid_dataset_name_is_ignored_with_report(fe, fake_s3, daily_bytes, context):
    (summary,) = fe.handler(event_for("s3_put_raw_invalid_dataset.json", fake_s3, daily_bytes), context)[
        "results"
    ]
    assert summary["status"] == "ignored" and summary["key"] == "raw/my data!.csv"
    assert fake_s3.keys("errors/_invalid-key/") == [summary["error_key"]]


def test_several_records(fe, fake_s3, daily_bytes, context):
    results = fe.handler(event_for("s3_put_raw_two_records.json", fake_s3, daily_bytes), context)["results"]
    assert [r["dataset"] for r in results] == ["default", "eth_daily"]


def test_s3_test_event_is_a_no_op(fe, context):
    assert fe.handler(load_event("s3_test_event.json"), context) == {"results": []}


def test_unexpected_errors_raise_for_a_retry(fe, fake_s3, daily_bytes, context):
    fake_s3.fail_put = lambda key: "InternalError"
    with pytest.raises(ClientError, match="InternalError"):
        fe.handler(event_for("s3_put_raw_default.json", fake_s3, daily_bytes), context)


# --- glue trigger ---------------------------------------------------------------------------------


@pytest.fixture
def trigger(aws_env, monkeypatch, fake_s3):
    monkeypatch.setenv("GLUE_JOB_NAME", "cripto-model-training")
    monkeypatch.setenv("START_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("START_BACKOFF_SECONDS", "0")
    module = load_module("lambdas/glue_trigger/handler.py", "trigger_handler_under_test")
    monkeypatch.setattr(module, "s3", fake_s3)
    monkeypatch.setattr(glue_start, "CLAIM_POLL_SECONDS", 0.01)
    return module


FEATURES_KEY = "features/default/20261127T040000Z-9f86d081/features.parquet"
CLAIM_KEY = layout.parse_features_key(FEATURES_KEY).start_claim
EXPECTED = {
    "JobName": "cripto-model-training",
    "Arguments": {"--bucket": BUCKET, "--features_key": FEATURES_KEY},
}


NO_RUNS = {"JobRuns": []}
RUNS_EXPECTED = {"JobName": "cripto-model-training"}


def put_claim(fake_s3, owner: str, lease_expires: float, job_run_id=None) -> None:
    claim = start_claims.StartClaim(FEATURES_KEY, owner, lease_expires, job_run_id)
    fake_s3.add(BUCKET, CLAIM_KEY, claim.to_json())


def stored_claim(fake_s3) -> start_claims.StartClaim:
    return start_claims.StartClaim.from_json(fake_s3.body(BUCKET, CLAIM_KEY))


def test_trigger_starts_the_job_and_records_the_run_in_its_claim(trigger, fake_s3, context):
    with Stubber(trigger.glue) as stub:
        stub.add_response("start_job_run", {"JobRunId": "jr_abc"}, EXPECTED)
        result = trigger.handler(load_event("s3_put_features.json"), context)
        stub.assert_no_pending_responses()
    assert result == {
        "job_runs": [
            {
                "job_name": "cripto-model-training",
                "job_run_id": "jr_abc",
                "dataset": "default",
                "run_id": "20261127T040000Z-9f86d081",
                "status": "started",
                "max_capacity": None,
            }
        ]
    }
    assert stored_claim(fake_s3).job_run_id == "jr_abc"
    assert CLAIM_KEY == "features/default/20261127T040000Z-9f86d081/glue-start.json"
    assert fake_s3.objects[(BUCKET, CLAIM_KEY)]["ContentType"] == "application/json"


@pytest.mark.parametrize("size, capacity", [(8 * 1024 * 1024, None), (8 * 1024 * 1024 + 1, 1.0)])
def test_trigger_starts_a_large_features_file_at_the_large_capacity(trigger, monkeypatch, context, size, capacity):
    """LARGE_RUN_FEATURES_BYTES from the environment, the size from the S3 record: above it, StartJobRun
    carries MaxCapacity and the same DPUs in --glue_dpu (what the run's report prices)."""
    monkeypatch.setattr(trigger, "SETTINGS", trigger.config.GlueTriggerSettings.from_env(
        {"GLUE_JOB_NAME": "cripto-model-training", "LARGE_RUN_FEATURES_BYTES": str(8 * 1024 * 1024)}))
    event = load_event("s3_put_features.json")
    event["Records"][0]["s3"]["object"]["size"] = size
    expected = copy.deepcopy(EXPECTED)
    if capacity is not None:
        expected["Arguments"]["--glue_dpu"] = "1"
        expected["MaxCapacity"] = capacity
    with Stubber(trigger.glue) as stub:
        stub.add_response("start_job_run", {"JobRunId": "jr_abc"}, expected)
        (result,) = trigger.handler(event, context)["job_runs"]
        stub.assert_no_pending_responses()
    assert (result["status"], result["max_capacity"]) == ("started", capacity)


def test_trigger_does_not_start_a_second_run_for_the_same_features(trigger, fake_s3, context):
    put_claim(fake_s3, "first-delivery", time.time() + 600, "jr_first")
    with Stubber(trigger.glue):  # no Glue call at all
        (result,) = trigger.handler(load_event("s3_put_features.json"), context)["job_runs"]
    assert result["status"] == "already_started" and result["job_run_id"] == "jr_first"


def test_a_second_delivery_waits_for_the_live_claimant_then_reports_its_run(trigger, fake_s3, context, monkeypatch):
    put_claim(fake_s3, "first-delivery", time.time() + 600)
    sleeps = []

    def claimant_finishes(seconds):  # while this delivery waits, the first one records its run
        sleeps.append(seconds)
        put_claim(fake_s3, "first-delivery", time.time() + 600, "jr_first")

    monkeypatch.setattr(trigger.time, "sleep", claimant_finishes)
    with Stubber(trigger.glue):  # no Glue call at all
        (result,) = trigger.handler(load_event("s3_put_features.json"), context)["job_runs"]
    assert sleeps and result["status"] == "already_started" and result["job_run_id"] == "jr_first"


def test_a_live_claim_without_a_run_is_handed_on_at_the_deadline(trigger, fake_s3, context, monkeypatch):
    put_claim(fake_s3, "first-delivery", time.time() + 3600)
    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 5_500)  # 0.5 s after the margin
    with Stubber(trigger.glue), Stubber(trigger.lambda_client) as lambda_stub:
        lambda_stub.add_response("invoke", {"StatusCode": 202})
        (result,) = trigger.handler(load_event("s3_put_features.json"), context)["job_runs"]
        lambda_stub.assert_no_pending_responses()
    assert result["status"] == "waiting"


def test_an_expired_claim_whose_owner_started_a_run_is_completed_not_restarted(trigger, fake_s3, context):
    put_claim(fake_s3, "died-after-start", time.time() - 1)
    started = datetime(2026, 11, 27, 4, 0, 5, tzinfo=timezone.utc)
    run = {"Id": "jr_orphan", "JobName": "cripto-model-training", "StartedOn": started,
           "Arguments": {"--features_key": FEATURES_KEY}, "JobRunState": "RUNNING"}
    with Stubber(trigger.glue) as stub:
        stub.add_response("get_job_runs", {"JobRuns": [run]}, RUNS_EXPECTED)
        (result,) = trigger.handler(load_event("s3_put_features.json"), context)["job_runs"]
        stub.assert_no_pending_responses()  # no StartJobRun
    assert result["status"] == "already_started" and result["job_run_id"] == "jr_orphan"
    assert stored_claim(fake_s3).job_run_id == "jr_orphan"


@pytest.mark.parametrize("owner, lease", [("died-before-start", -1.0), ("released", None), ("own-retry", 600.0)])
def test_a_free_claim_without_a_run_is_taken_over(trigger, fake_s3, context, owner, lease):
    me = context.aws_request_id if owner == "own-retry" else owner  # a Lambda retry keeps the request id
    put_claim(fake_s3, me, 0.0 if lease is None else time.time() + lease)
    with Stubber(trigger.glue) as stub:
        stub.add_response("get_job_runs", NO_RUNS, RUNS_EXPECTED)
        stub.add_response("start_job_run", {"JobRunId": "jr_new"}, EXPECTED)
        (result,) = trigger.handler(load_event("s3_put_features.json"), context)["job_runs"]
        stub.assert_no_pending_responses()
    assert result["status"] == "started" and stored_claim(fake_s3).job_run_id == "jr_new"
    assert stored_claim(fake_s3).owner == context.aws_request_id


def test_trigger_backs_off_while_the_job_is_busy(trigger, context):
    with Stubber(trigger.glue) as stub:
        for _ in range(2):
            stub.add_client_error(
                "start_job_run", "ConcurrentRunsExceededException", expected_params=EXPECTED
            )
        stub.add_response("start_job_run", {"JobRunId": "jr_later"}, EXPECTED)
        result = trigger.handler(load_event("s3_put_features.json"), context)
        stub.assert_no_pending_responses()
    assert result["job_runs"][0]["job_run_id"] == "jr_later"


def _busy_three_times(stub) -> None:
    for _ in range(3):  # START_MAX_ATTEMPTS
        stub.add_client_error("start_job_run", "ConcurrentRunsExceededException", expected_params=EXPECTED)


def test_trigger_still_busy_at_its_deadline_continues_in_a_new_invocation(aws_env, monkeypatch, fake_s3, context,
                                                                          capsys):
    # Attempts and backoff leave the deadline as the only limit: 1000 attempts of 0.05 s would take
    # 50 s, the invocation has 0.4 s left after the margin.
    monkeypatch.setenv("GLUE_JOB_NAME", "cripto-model-training")
    monkeypatch.setenv("START_MAX_ATTEMPTS", "1000")
    monkeypatch.setenv("START_BACKOFF_SECONDS", "0.05")
    monkeypatch.setenv("START_MAX_BACKOFF_SECONDS", "0.05")
    module = load_module("lambdas/glue_trigger/handler.py", "trigger_at_its_deadline")
    monkeypatch.setattr(module, "s3", fake_s3)
    margin_ms = 5000  # config.START_DEADLINE_MARGIN_SECONDS, written out
    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: margin_ms + 400)
    event = copy.deepcopy(load_event("s3_put_features.json"))
    just_written = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    event["Records"][0]["eventTime"] = just_written
    queued = 200
    with Stubber(module.glue) as glue_stub, Stubber(module.lambda_client) as lambda_stub:
        for _ in range(queued):
            glue_stub.add_client_error("start_job_run", "ConcurrentRunsExceededException",
                                       expected_params=EXPECTED)
        lambda_stub.add_response("invoke", {"StatusCode": 202}, {
            "FunctionName": context.invoked_function_arn, "InvocationType": "Event",
            "Payload": json.dumps({"Records": event["Records"]}).encode()})
        (result,) = module.handler(event, context)["job_runs"]
        lambda_stub.assert_no_pending_responses()
        attempts = queued - len(glue_stub._queue)
    assert result["status"] == "waiting"
    # The claim is released, so the continuation (another request id) takes it over at once.
    assert stored_claim(fake_s3).lease_expires == 0 and stored_claim(fake_s3).job_run_id is None
    # stopped by the deadline: several attempts, far fewer than allowed, no attempt after 0.4 s
    assert 2 <= attempts < 0.4 / 0.05 + 2, attempts
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "still busy" in x]
    assert (line["message"], line["level"], line["dataset"]) == (
        "glue job still busy; continuing in a new invocation", "WARNING", "default")
    assert isinstance(line["waited_seconds"], float) and 0 <= line["waited_seconds"] < 60  # seconds, 0.1 s steps
    assert line["waited_seconds"] == round(line["waited_seconds"], 1)


def test_trigger_deadline_is_the_remaining_time_less_the_margin(trigger, context, monkeypatch):
    deadlines = []
    monkeypatch.setattr(trigger.time, "monotonic", lambda: 100.0)
    monkeypatch.setattr(trigger, "start", lambda ref, deadline, owner: deadlines.append(deadline) or {"status": "started"})
    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 900_000)
    trigger.handler(load_event("s3_put_features.json"), context)
    assert deadlines == [100.0 + 900.0 - 5.0]  # 15 min left, 5 s margin


def test_trigger_raises_when_busy_past_the_longest_wait(aws_env, monkeypatch, context, fake_s3):
    monkeypatch.setenv("GLUE_JOB_NAME", "cripto-model-training")
    monkeypatch.setenv("START_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("START_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("START_MAX_WAIT_SECONDS", "60")  # the stored event is older than that
    module = load_module("lambdas/glue_trigger/handler.py", "trigger_with_short_wait")
    monkeypatch.setattr(module, "s3", fake_s3)
    with Stubber(module.glue) as stub:
        _busy_three_times(stub)
        with pytest.raises(ClientError, match="ConcurrentRunsExceededException"):
            module.handler(load_event("s3_put_features.json"), context)
        stub.assert_no_pending_responses()


def test_trigger_does_not_retry_other_errors(trigger, fake_s3, context):
    with Stubber(trigger.glue) as stub:
        stub.add_client_error("start_job_run", "EntityNotFoundException", expected_params=EXPECTED)
        with pytest.raises(ClientError, match="EntityNotFoundException"):
            trigger.handler(load_event("s3_put_features.json"), context)
    assert stored_claim(fake_s3).lease_expires == 0  # released: Lambda's retry starts afresh


def test_trigger_refuses_keys_outside_the_layout(trigger, context):
    event = copy.deepcopy(load_event("s3_put_features.json"))
    event["Records"][0]["s3"]["object"]["key"] = "features/whatever.parquet"
    with pytest.raises(InvalidKeyError):
        trigger.handler(event, context)


def test_trigger_needs_a_job_name(aws_env, monkeypatch):
    monkeypatch.delenv("GLUE_JOB_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="GLUE_JOB_NAME"):
        load_module("lambdas/glue_trigger/handler.py", "trigger_without_job")


class _FakeCloudWatch:
    def __init__(self, error: bool = False):
        self.requests, self.error = [], error

    def put_metric_data(self, **request):
        if self.error:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutMetricData")
        self.requests.append(request)


def _fe_with_metrics(monkeypatch, fake_s3, cloudwatch):
    monkeypatch.setenv("METRICS_NAMESPACE", "cripto-ml-pipeline/test")
    module = load_module("lambdas/feature_engineering/handler.py", "fe_metrics_handler_under_test")
    monkeypatch.setattr(module, "s3", fake_s3)
    monkeypatch.setattr(module, "cloudwatch", cloudwatch)
    return module


def test_written_features_publish_rows_and_seconds(aws_env, monkeypatch, fake_s3, daily_bytes, context):
    cloudwatch = _FakeCloudWatch()
    module = _fe_with_metrics(monkeypatch, fake_s3, cloudwatch)
    event = event_for("s3_put_raw_default.json", fake_s3, daily_bytes)
    before = time.monotonic()
    (summary,) = module.handler(event, context)["results"]
    took = time.monotonic() - before
    (request,) = cloudwatch.requests
    assert request["Namespace"] == "cripto-ml-pipeline/test"
    values = {d["MetricName"]: d["Value"] for d in request["MetricData"]}
    # the handler's own duration: more than nothing, at most what the call took as measured here
    assert values["Rows"] == summary["rows"] and 0 < values["FeatureSeconds"] <= took


def test_a_metrics_outage_does_not_fail_the_written_run(aws_env, monkeypatch, fake_s3, daily_bytes, context,
                                                        capsys):
    module = _fe_with_metrics(monkeypatch, fake_s3, _FakeCloudWatch(error=True))
    (summary,) = module.handler(event_for("s3_put_raw_default.json", fake_s3, daily_bytes), context)["results"]
    assert summary["status"] == "features_written"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (warning,) = [line for line in lines if line["message"] == "metrics not published"]
    assert warning["level"] == "WARNING" and "AccessDenied" in warning["error"] and "PutMetricData" in warning["error"]
