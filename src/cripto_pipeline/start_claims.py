"""Exactly-once Glue starts: the start claim of one features file (pure logic, no AWS calls).

Two deliveries of the same features event can arrive at the same time (S3 delivers at least once,
Lambda retries). Listing the job's runs first cannot stop both from starting a run, so the trigger
first creates ``features/<dataset>/<run_id>/glue-start.json`` with a conditional put
(``If-None-Match: *``): only one delivery can create it. The claim then goes through these states::

    claimed  (owner, lease_expires)        the owner is calling StartJobRun
    started  (job_run_id)                   final: every later delivery reports this run
    released (lease_expires = 0)            the owner handed the record on or failed before starting

A delivery that finds the claim:

- ``started``                                  -> report the run, start nothing;
- held by another owner, lease not expired     -> wait for ``started`` (the owner normally writes it
                                                  within a second) until its own deadline, then hand on;
- released, lease expired, or its own request  -> take over. Before starting, it asks Glue
  id (a Lambda retry of a crashed owner)          (GetJobRuns) whether the previous owner started a run
                                                  after all (it may have died between StartJobRun and
                                                  writing ``started``); the takeover is a conditional
                                                  put on the claim's ETag (``If-Match``), so two
                                                  deliveries can never both take it over.

The lease ends at the owner's invocation deadline: an owner that was killed (timeout, out of memory)
frees the claim by the time its own retry or a duplicate can look at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Optional

CLAIM_SCHEMA = "cripto-pipeline/glue-start-claim/v1"

#: What a delivery does with a claim it found (see :func:`decide`).
REPORT = "report"  # the run exists: report it
WAIT = "wait"  # another live owner is starting the run
TAKE_OVER = "take_over"  # nobody holds it: verify with Glue, then take it over with If-Match


@dataclass(frozen=True)
class StartClaim:
    """The parsed claim document."""

    features_key: str
    owner: str
    lease_expires: float  # epoch seconds; 0 = released
    job_run_id: Optional[str] = None

    def to_json(self) -> bytes:
        document: Dict[str, Any] = {
            "schema": CLAIM_SCHEMA,
            "features_key": self.features_key,
            "owner": self.owner,
            "lease_expires": self.lease_expires,
        }
        if self.job_run_id:
            document["job_run_id"] = self.job_run_id
        return json.dumps(document, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, body: bytes) -> "StartClaim":
        document = json.loads(body)
        return cls(
            features_key=str(document.get("features_key", "")),
            owner=str(document.get("owner", "")),
            lease_expires=float(document.get("lease_expires", 0)),
            job_run_id=document.get("job_run_id") or None,
        )

    def started(self, job_run_id: str) -> "StartClaim":
        """The final state: ``job_run_id`` runs this features file."""
        return StartClaim(self.features_key, self.owner, self.lease_expires, job_run_id)

    def released(self) -> "StartClaim":
        """Free for the next delivery (the owner hands the record on or failed before starting)."""
        return StartClaim(self.features_key, self.owner, 0.0, None)


def decide(claim: StartClaim, me: str, now: float) -> str:
    """REPORT, WAIT or TAKE_OVER for delivery ``me`` (a Lambda request id) finding ``claim`` at ``now``."""
    if claim.job_run_id:
        return REPORT
    if claim.owner == me or claim.lease_expires <= now:
        return TAKE_OVER
    return WAIT
