"""cripto_pipeline.glue_start.acquire: two deliveries racing for one expired start claim (issue 16: the
mutation run showed that a loser believing it owned the claim went unnoticed)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from cripto_pipeline import glue_start, layout, start_claims

from .test_glue_start import FEATURES_KEY, FakeAws, ref


def test_a_lost_takeover_race_reads_the_claim_again_and_reports_the_winners_run():
    """Two deliveries take over one expired claim: the loser's conditional write fails, so it reads the
    claim again (now the winner's, started) instead of believing it owns it."""
    written = datetime.now(timezone.utc) - timedelta(minutes=1)
    aws = FakeAws(claim=start_claims.StartClaim(FEATURES_KEY, "gone", lease_expires=1.0))
    winner = start_claims.StartClaim(FEATURES_KEY, "winner", time.time() + 600).started("jr_winner")
    put_claim = aws.put_claim

    def racing(bucket, key, claim, **condition):
        if condition.get("IfMatch") == "1":  # the winner rewrote the claim first
            aws.claim, aws.etag = winner, aws.etag + 1
        return put_claim(bucket, key, claim, **condition)

    calls = glue_start.AwsCalls(aws.read_claim, racing, lambda: [{"JobRuns": []}], aws.start)
    assert glue_start.acquire(calls, ref(written), layout.parse_features_key(FEATURES_KEY), "me",
                              time.monotonic() + 60) == ("started", "jr_winner")
