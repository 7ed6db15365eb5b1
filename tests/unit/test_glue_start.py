"""The trigger's decisions (cripto_pipeline.glue_start) with its AWS calls faked: the claim, backoff while
Glue is busy, the hand-on at the deadline, the longest wait, and the check for a run that already exists."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytest

from cripto_pipeline import config, events, glue_start, layout, start_claims, training_capacity
from cripto_pipeline.exceptions import ConfigurationError, InvalidKeyError

FEATURES_KEY = "features/btc/20261127T040000Z-9f86d081/features.parquet"
CLAIM_KEY = "features/btc/20261127T040000Z-9f86d081/glue-start.json"
SETTINGS = config.GlueTriggerSettings(glue_job_name="train", start_max_attempts=3, start_backoff_seconds=0.0,
                                      start_max_wait_seconds=3600.0)
LOGGER = logging.getLogger("glue-start-test")


class AwsError(Exception):
    """Shaped like botocore's ClientError: an error code in ``response``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeAws:
    """One bucket's start claim and a Glue job whose StartJobRun answers from a script."""

    def __init__(self, answers: List[Any] = (), claim: Optional[start_claims.StartClaim] = None,
                 runs: List[Dict[str, Any]] = ()) -> None:
        self.answers, self.runs, self.started, self.requests = list(answers), list(runs), [], []
        self.claim, self.etag = claim, 1 if claim else 0

    def calls(self) -> glue_start.AwsCalls:
        return glue_start.AwsCalls(self.read_claim, self.put_claim, lambda: [{"JobRuns": self.runs}], self.start)

    def read_claim(self, bucket: str, key: str):
        assert (bucket, key) == ("bucket", CLAIM_KEY)
        return self.claim, str(self.etag)

    def put_claim(self, bucket: str, key: str, claim, IfNoneMatch=None, IfMatch=None):  # noqa: N803
        if (IfNoneMatch == "*" and self.claim is not None) or (IfMatch is not None and IfMatch != str(self.etag)):
            return None
        self.claim, self.etag = claim, self.etag + 1
        return str(self.etag)

    def start(self, request: Dict[str, Any]) -> str:
        assert request["Arguments"]["--bucket"] == "bucket" and request["Arguments"]["--features_key"] == FEATURES_KEY
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        self.started.append(answer)
        return answer


def ref(written: datetime, size: Optional[int] = 412_345) -> events.S3ObjectRef:
    return events.S3ObjectRef("bucket", FEATURES_KEY, written.strftime("%Y-%m-%dT%H:%M:%S.000Z"), size=size)


def start(aws: FakeAws, written: Optional[datetime] = None, seconds_left: float = 60.0, me: str = "me",
          size: Optional[int] = 412_345, settings: config.GlueTriggerSettings = SETTINGS):
    deadline = time.monotonic() + seconds_left
    return glue_start.start(aws.calls(), ref(written or datetime.now(timezone.utc), size), me, deadline, settings, LOGGER)


def test_the_deadline_is_the_remaining_time_less_the_margin():
    assert glue_start.invocation_deadline(900_000, 100.0) == 100.0 + 900.0 - config.START_DEADLINE_MARGIN_SECONDS


def test_only_waiting_records_are_handed_on():
    records = [{"n": 1}, {"n": 2}, {"n": 3}]
    results = [{"status": "started"}, {"status": "waiting"}, {"status": "already_started"}]
    assert glue_start.waiting_records(records, results) == [{"n": 2}]


def test_a_free_file_starts_one_run_recorded_in_its_claim():
    aws = FakeAws(["jr_1"])
    assert start(aws) == {"job_name": "train", "run_id": "20261127T040000Z-9f86d081", "dataset": "btc",
                          "job_run_id": "jr_1", "status": "started", "max_capacity": None}
    assert aws.claim.job_run_id == "jr_1" and aws.claim.owner == "me"


def test_a_started_claim_is_reported_and_nothing_starts():
    aws = FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "other", time.time() + 600, "jr_first"))
    result = start(aws)
    assert (result["status"], result["job_run_id"], aws.started) == ("already_started", "jr_first", [])


def test_a_live_claim_of_another_delivery_is_handed_on_at_the_deadline():
    aws = FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "other", time.time() + 600))
    assert start(aws, seconds_left=0.5)["status"] == "waiting" and aws.claim.owner == "other"


def test_an_expired_claim_whose_run_exists_is_completed_not_restarted():
    started = datetime.now(timezone.utc)
    aws = FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "dead", time.time() - 1),
                  runs=[{"Id": "jr_orphan", "StartedOn": started, "Arguments": {"--features_key": FEATURES_KEY}}])
    result = start(aws, written=started - timedelta(seconds=3))
    assert (result["status"], result["job_run_id"], aws.started) == ("already_started", "jr_orphan", [])
    assert aws.claim.job_run_id == "jr_orphan"


def test_an_expired_claim_without_a_run_is_taken_over():
    aws = FakeAws(["jr_new"], claim=start_claims.StartClaim(FEATURES_KEY, "dead", time.time() - 1))
    assert start(aws)["status"] == "started" and aws.claim.owner == "me" and aws.started == ["jr_new"]


def test_busy_backs_off_then_starts():
    aws = FakeAws([AwsError("ConcurrentRunsExceededException"), AwsError("ThrottlingException"), "jr_later"])
    assert start(aws)["job_run_id"] == "jr_later"


def test_busy_until_the_last_attempt_releases_the_claim_and_waits():
    aws = FakeAws([AwsError("ConcurrentRunsExceededException")] * 3)
    assert start(aws)["status"] == "waiting"
    assert aws.claim.lease_expires == 0 and aws.claim.job_run_id is None  # the continuation takes it at once


def test_busy_past_the_longest_wait_raises():
    aws = FakeAws([AwsError("ConcurrentRunsExceededException")] * 3)
    with pytest.raises(AwsError):
        start(aws, written=datetime.now(timezone.utc) - timedelta(seconds=SETTINGS.start_max_wait_seconds + 60))
    assert aws.claim.lease_expires == 0


def test_other_glue_errors_raise_at_once_and_release_the_claim():
    aws = FakeAws([AwsError("EntityNotFoundException"), "never"])
    with pytest.raises(AwsError, match="EntityNotFound"):
        start(aws)
    assert aws.claim.lease_expires == 0 and aws.answers == ["never"]


def test_an_error_without_an_answer_from_glue_leaves_the_claim_to_its_lease():
    aws = FakeAws([ConnectionError("reset")])
    with pytest.raises(ConnectionError):
        start(aws)
    assert aws.claim.owner == "me" and aws.claim.lease_expires > time.time()


def test_existing_run_stops_at_the_first_page_older_than_the_file():
    since = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)

    def pages():
        yield {"JobRuns": [{"Id": "a", "StartedOn": since + timedelta(minutes=5), "Arguments": {}}]}
        yield {"JobRuns": [{"Id": "b", "StartedOn": since - timedelta(minutes=1), "Arguments": {}}]}
        raise AssertionError("read a page older than the features file")

    assert glue_start.existing_run(pages(), FEATURES_KEY, since) == {}
    found = [{"JobRuns": [{"Id": "c", "StartedOn": since, "Arguments": {"--features_key": FEATURES_KEY}}]}]
    assert glue_start.existing_run(found, FEATURES_KEY, since)["Id"] == "c"


def test_existing_run_reads_runs_without_arguments_and_pages_without_runs():
    """GetJobRuns leaves out empty members: a run started without arguments has no "Arguments", an empty
    page no "JobRuns"; neither is this file's run, and neither ends the search."""
    since = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
    pages = [
        {"JobRuns": [{"Id": "bare", "StartedOn": since + timedelta(minutes=9)}]},
        {},
        {"JobRuns": [{"Id": "mine", "StartedOn": since + timedelta(minutes=1),
                      "Arguments": {"--features_key": FEATURES_KEY}}]},
    ]
    assert glue_start.existing_run(pages, FEATURES_KEY, since)["Id"] == "mine"


def test_existing_run_reads_on_past_a_run_started_at_the_very_moment_of_the_file():
    """The cut-off is strict: a run started at the features event's own time is not "before" it."""
    since = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
    pages = [
        {"JobRuns": [{"Id": "other", "StartedOn": since, "Arguments": {"--features_key": "features/x/y/z"}}]},
        {"JobRuns": [{"Id": "mine", "StartedOn": since, "Arguments": {"--features_key": FEATURES_KEY}}]},
    ]
    assert glue_start.existing_run(pages, FEATURES_KEY, since)["Id"] == "mine"


def test_keys_outside_the_layout_are_refused():
    aws = FakeAws()
    wrong = events.S3ObjectRef("bucket", "features/whatever.parquet", "2026-11-27T04:00:00Z")
    with pytest.raises(InvalidKeyError):
        glue_start.start(aws.calls(), wrong, "me", time.monotonic() + 60, SETTINGS, LOGGER)


def test_a_claim_is_free_the_moment_its_lease_ends():
    claim = start_claims.StartClaim(FEATURES_KEY, "other", lease_expires=1000.0)
    assert start_claims.decide(claim, "me", now=999.999) == start_claims.WAIT
    assert start_claims.decide(claim, "me", now=1000.0) == start_claims.TAKE_OVER
    assert start_claims.decide(claim, "other", now=0.0) == start_claims.TAKE_OVER  # a retry of the owner itself
    assert start_claims.decide(claim.started("jr_1"), "me", now=2000.0) == start_claims.REPORT


def _lines(caplog) -> List[tuple]:
    """(level, message, fields) of the lines logged through LOGGER (the handler's logger turns them into JSON)."""
    return [(r.levelname, r.getMessage(), getattr(r, "fields", None)) for r in caplog.records if r.name == LOGGER.name]


def test_each_outcome_logs_its_line_with_the_run_fields(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    fields = {"job_name": "train", "run_id": "20261127T040000Z-9f86d081", "dataset": "btc"}
    aws = FakeAws([AwsError("ConcurrentRunsExceededException"), "jr_1"])
    start(aws)
    assert _lines(caplog) == [
        ("WARNING", "glue job busy; backing off", {"delay_seconds": 0.0, "error": "ConcurrentRunsExceededException"}),
        ("INFO", "glue job run started", {**fields, "job_run_id": "jr_1", "features_key": FEATURES_KEY,
                                          "features_bytes": 412_345, "max_capacity": None}),
    ]
    caplog.clear()
    start(aws)
    assert _lines(caplog) == [("INFO", "glue job run already started", {**fields, "job_run_id": "jr_1"})]
    caplog.clear()
    held = FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "other", time.time() + 600))
    assert start(held, seconds_left=0.0)["status"] == "waiting"
    assert _lines(caplog) == [("INFO", "another delivery is starting this run; continuing in a new invocation",
                               fields)]


def test_the_claim_is_only_ever_rewritten_on_its_etag():
    """Recording the run and releasing the claim are conditional writes (If-Match), never blind overwrites."""
    conditions = []
    aws = FakeAws(["jr_1"])
    put_claim = aws.put_claim

    def recording(bucket, key, claim, **condition):
        conditions.append((claim.job_run_id, claim.lease_expires == 0.0, condition))
        return put_claim(bucket, key, claim, **condition)

    calls = glue_start.AwsCalls(aws.read_claim, recording, lambda: [], aws.start)
    glue_start.start(calls, ref(datetime.now(timezone.utc)), "me", time.monotonic() + 60, SETTINGS, LOGGER)
    assert [c[2] for c in conditions] == [{"IfNoneMatch": "*"}, {"IfMatch": "1"}]
    assert conditions[1][0] == "jr_1" and aws.claim.features_key == FEATURES_KEY
    busy = FakeAws([AwsError("InvalidInputException")])
    conditions.clear()
    calls = glue_start.AwsCalls(busy.read_claim, recording, lambda: [], busy.start)
    put_claim = busy.put_claim
    with pytest.raises(AwsError):
        glue_start.start(calls, ref(datetime.now(timezone.utc)), "me", time.monotonic() + 60, SETTINGS, LOGGER)
    assert [c[2] for c in conditions] == [{"IfNoneMatch": "*"}, {"IfMatch": "1"}]
    assert conditions[1][1] and busy.claim.lease_expires == 0.0 and busy.claim.features_key == FEATURES_KEY


def test_the_owners_lease_ends_at_its_deadline_plus_the_margin():
    keys = layout.parse_features_key(FEATURES_KEY)
    for seconds_left, expected in ((60.0, 60.0), (-5.0, 0.0)):  # a passed deadline leases for the margin only
        aws = FakeAws()
        before = time.time()
        state, etag = glue_start.acquire(aws.calls(), ref(datetime.now(timezone.utc)), keys, "me",
                                         time.monotonic() + seconds_left)
        after = time.time()
        assert (state, etag, aws.claim.owner, aws.claim.features_key) == ("owned", "1", "me", FEATURES_KEY)
        margin = config.START_DEADLINE_MARGIN_SECONDS
        assert before + expected + margin - 1.0 <= aws.claim.lease_expires <= after + expected + margin


def test_a_takeover_is_conditional_on_the_claims_etag():
    """Taking over a free claim, or completing it with the run Glue already has, rewrites it on its ETag."""
    written = datetime.now(timezone.utc) - timedelta(minutes=1)
    run = {"Id": "jr_old", "StartedOn": written + timedelta(seconds=5), "Arguments": {"--features_key": FEATURES_KEY}}
    other = {"Id": "jr_other", "StartedOn": written + timedelta(seconds=9), "Arguments": {"--features_key": "x"}}
    for runs, expected in (([other], ("owned", None)), ([run], ("started", "jr_old"))):
        aws = FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "gone", lease_expires=1.0), runs=runs)
        conditions = []
        put_claim = aws.put_claim

        def recording(bucket, key, claim, **condition):
            conditions.append(condition)
            return put_claim(bucket, key, claim, **condition)

        calls = glue_start.AwsCalls(aws.read_claim, recording, lambda: [{"JobRuns": aws.runs}], aws.start)
        state, value = glue_start.acquire(calls, ref(written), layout.parse_features_key(FEATURES_KEY), "me",
                                          time.monotonic() + 60)
        assert conditions == [{"IfNoneMatch": "*"}, {"IfMatch": "1"}]
        assert state == expected[0] and (expected[1] is None or value == expected[1])
        assert aws.claim.owner == ("me" if runs == [other] else "gone") and aws.claim.job_run_id == expected[1]


# --- the run's capacity (cripto_pipeline.training_capacity) ---------------------------------------
MIB = 1024 * 1024


@pytest.mark.parametrize("size, expected", [
    (0, None),
    (412_345, None),
    (32 * MIB - 1, None),
    (32 * MIB, None),  # the threshold itself is still small
    (32 * MIB + 1, 1.0),
    (216 * MIB, 1.0),  # the Spark path's default 1 M-row sample
    (None, 1.0),  # no size in the record: the capacity that cannot run out of memory
])
def test_the_capacity_follows_the_features_file_size_at_the_default_threshold(size, expected):
    assert training_capacity.DEFAULT_LARGE_FEATURES_BYTES == 32 * MIB
    assert training_capacity.run_capacity(size, training_capacity.DEFAULT_LARGE_FEATURES_BYTES) == expected


def test_the_request_sets_max_capacity_and_glue_dpu_only_for_a_large_run():
    arguments = {"--bucket": "b", "--features_key": FEATURES_KEY}
    assert training_capacity.run_request(arguments, None) == {"Arguments": arguments}
    assert training_capacity.run_request(arguments, 1.0) == {
        "Arguments": {**arguments, "--glue_dpu": "1"}, "MaxCapacity": 1.0}
    assert training_capacity.run_request(arguments, 0.0625)["Arguments"]["--glue_dpu"] == "0.0625"
    assert arguments == {"--bucket": "b", "--features_key": FEATURES_KEY}  # not modified


@pytest.mark.parametrize("size, capacity", [(1000, None), (1001, 1.0)])
def test_a_file_above_the_threshold_starts_at_the_large_capacity(size, capacity):
    aws = FakeAws(["jr_1"])
    settings = config.GlueTriggerSettings(glue_job_name="train", large_features_bytes=1000)
    result = start(aws, size=size, settings=settings)
    assert (result["status"], result["max_capacity"]) == ("started", capacity)
    (request,) = aws.requests
    assert request.get("MaxCapacity") == capacity
    assert request["Arguments"].get("--glue_dpu") == (None if capacity is None else "1")


def test_a_large_run_starts_at_the_configured_large_capacity_not_the_default():
    aws = FakeAws(["jr_1"])
    settings = config.GlueTriggerSettings(glue_job_name="train", large_features_bytes=1000, large_max_capacity=0.0625)
    result = start(aws, size=1001, settings=settings)
    assert (result["status"], result["max_capacity"]) == ("started", 0.0625)
    (request,) = aws.requests
    assert (request["MaxCapacity"], request["Arguments"]["--glue_dpu"]) == (0.0625, "0.0625")


def test_the_capacity_settings_come_from_the_environment_and_are_checked():
    env = {"GLUE_JOB_NAME": "train", "LARGE_RUN_FEATURES_BYTES": "8388608", "LARGE_RUN_MAX_CAPACITY": "0.0625"}
    settings = config.GlueTriggerSettings.from_env(env)
    assert (settings.large_features_bytes, settings.large_max_capacity) == (8 * MIB, 0.0625)
    defaults = config.GlueTriggerSettings.from_env({"GLUE_JOB_NAME": "train"})
    assert (defaults.large_features_bytes, defaults.large_max_capacity) == (32 * MIB, 1.0)
    for bad in ("0.5", "2", "16"):
        with pytest.raises(ConfigurationError, match="LARGE_RUN_MAX_CAPACITY.*0.0625 or 1"):
            config.GlueTriggerSettings.from_env({**env, "LARGE_RUN_MAX_CAPACITY": bad})
    with pytest.raises(ConfigurationError, match="LARGE_RUN_FEATURES_BYTES"):
        config.GlueTriggerSettings.from_env({**env, "LARGE_RUN_FEATURES_BYTES": "32MiB"})
