"""The trigger's decisions (cripto_pipeline.glue_start) with its AWS calls faked: the claim, backoff while
Glue is busy, the hand-on at the deadline, the longest wait, and the check for a run that already exists."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytest

from cripto_pipeline import config, events, glue_start, start_claims
from cripto_pipeline.exceptions import InvalidKeyError

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
        self.answers, self.runs, self.started = list(answers), list(runs), []
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

    def start(self, arguments: Dict[str, str]) -> str:
        assert arguments == {"--bucket": "bucket", "--features_key": FEATURES_KEY}
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        self.started.append(answer)
        return answer


def ref(written: datetime) -> events.S3ObjectRef:
    return events.S3ObjectRef("bucket", FEATURES_KEY, written.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def start(aws: FakeAws, written: Optional[datetime] = None, seconds_left: float = 60.0, me: str = "me"):
    deadline = time.monotonic() + seconds_left
    return glue_start.start(aws.calls(), ref(written or datetime.now(timezone.utc)), me, deadline, SETTINGS, LOGGER)


def test_the_deadline_is_the_remaining_time_less_the_margin():
    assert glue_start.invocation_deadline(900_000, 100.0) == 100.0 + 900.0 - config.START_DEADLINE_MARGIN_SECONDS


def test_only_waiting_records_are_handed_on():
    records = [{"n": 1}, {"n": 2}, {"n": 3}]
    results = [{"status": "started"}, {"status": "waiting"}, {"status": "already_started"}]
    assert glue_start.waiting_records(records, results) == [{"n": 2}]


def test_a_free_file_starts_one_run_recorded_in_its_claim():
    aws = FakeAws(["jr_1"])
    assert start(aws) == {"job_name": "train", "run_id": "20261127T040000Z-9f86d081", "dataset": "btc",
                          "job_run_id": "jr_1", "status": "started"}
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


def test_keys_outside_the_layout_are_refused():
    aws = FakeAws()
    wrong = events.S3ObjectRef("bucket", "features/whatever.parquet", "2026-11-27T04:00:00Z")
    with pytest.raises(InvalidKeyError):
        glue_start.start(aws.calls(), wrong, "me", time.monotonic() + 60, SETTINGS, LOGGER)
