"""cripto_pipeline.glue_start on a controlled clock: how often a delivery polls another delivery's live claim
before its deadline, the longest wait at its exact boundary, and the claim a started run leaves (issue 16)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cripto_pipeline import glue_start, layout, start_claims

from .test_glue_start import FEATURES_KEY, LOGGER, SETTINGS, AwsError, FakeAws, ref

WALL = 1_800_000_000.0  # epoch seconds on the fake clock when a test starts
WRITTEN = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)


class FakeTime:
    """Stands in for the ``time`` module inside glue_start: sleeping moves both clocks on."""

    def __init__(self, on_sleep=None) -> None:
        self.now, self.slept, self.on_sleep = 100.0, [], on_sleep

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return WALL + self.now - 100.0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep()


@pytest.fixture
def clock(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(glue_start, "time", fake)
    return fake


def _held_by_another_delivery() -> FakeAws:
    return FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "other", WALL + 600))


def _acquire(aws: FakeAws, deadline: float):
    keys = layout.parse_features_key(FEATURES_KEY)
    return glue_start.acquire(aws.calls(), ref(WRITTEN), keys, "me", deadline)


def test_a_deadline_exactly_one_poll_away_leaves_time_for_exactly_one_more_look(clock):
    aws = _held_by_another_delivery()
    assert _acquire(aws, deadline=101.0) == ("waiting", None)
    assert clock.slept == [1.0] and aws.claim.owner == "other"


def test_a_deadline_closer_than_one_poll_hands_on_without_waiting(clock):
    aws = _held_by_another_delivery()
    assert _acquire(aws, deadline=100.5) == ("waiting", None)
    assert clock.slept == []


def test_a_deadline_three_polls_away_looks_three_more_times(clock):
    aws = _held_by_another_delivery()
    assert _acquire(aws, deadline=103.0) == ("waiting", None)
    assert clock.slept == [1.0, 1.0, 1.0]


def test_the_owner_recording_its_run_while_we_poll_is_reported(clock):
    aws = _held_by_another_delivery()
    clock.on_sleep = lambda: setattr(aws, "claim", aws.claim.started("jr_owner"))
    assert _acquire(aws, deadline=110.0) == ("started", "jr_owner")
    assert clock.slept == [1.0]


class _OneHourAfterWriting(datetime):
    @classmethod
    def now(cls, tz=None):
        return WRITTEN + timedelta(seconds=SETTINGS.start_max_wait_seconds)


def test_busy_at_exactly_the_longest_wait_still_hands_on(monkeypatch):
    """START_MAX_WAIT_SECONDS is the longest wait allowed: waiting exactly that long is not yet too long."""
    assert SETTINGS.start_max_wait_seconds == 3600.0
    monkeypatch.setattr(glue_start, "datetime", _OneHourAfterWriting)
    aws = FakeAws([AwsError("ConcurrentRunsExceededException")] * 3)
    result = glue_start.start(aws.calls(), ref(WRITTEN), "me", 10**9, SETTINGS, LOGGER)
    assert result["status"] == "waiting"
    assert aws.claim == start_claims.StartClaim(FEATURES_KEY, "me", 0.0, None)


def test_a_started_run_leaves_a_final_claim_with_no_lease():
    aws = FakeAws(["jr_1"])
    glue_start.start(aws.calls(), ref(WRITTEN), "me", 10**9, SETTINGS, LOGGER)
    assert aws.claim == start_claims.StartClaim(FEATURES_KEY, "me", 0.0, "jr_1")
    assert aws.claim.to_json() == (
        b'{"features_key": "features/btc/20261127T040000Z-9f86d081/features.parquet", "job_run_id": "jr_1", '
        b'"lease_expires": 0.0, "owner": "me", "schema": "cripto-pipeline/glue-start-claim/v1"}'
    )
