"""Starting the one Glue run of a features file: the trigger Lambda's decisions, its AWS calls passed in.

The trigger (lambdas/glue_trigger/handler.py) supplies its S3 and Glue calls as :class:`AwsCalls`;
this module decides what to do with their answers:

- the invocation's deadline: its remaining time less ``START_DEADLINE_MARGIN_SECONDS``
  (:func:`invocation_deadline`);
- the start claim (cripto_pipeline.start_claims): own it, report the run it names, wait for a live
  owner until the deadline, or take it over after asking Glue whether the previous owner started a
  run after all (:func:`existing_run`);
- the run's capacity: 1 DPU for a large features file (cripto_pipeline.training_capacity);
- backoff while Glue is busy (MaxConcurrentRuns reached, throttling) until the deadline; then the
  record is handed on to a fresh invocation (:func:`waiting_records`), unless it has waited longer
  than ``START_MAX_WAIT_SECONDS`` since the features file was written: then the error is raised, so
  Lambda's async retries and then the failed-events queue take the record.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from . import config, events, layout, retry, start_claims, training_capacity

#: How often a delivery that found another delivery's live claim looks for the job run id, in seconds.
CLAIM_POLL_SECONDS = 1.0
#: Worth waiting for: the job already runs MaxConcurrentRuns times, or Glue throttles the account.
BUSY = frozenset({"ConcurrentRunsExceededException", "ThrottlingException"})


@dataclass(frozen=True)
class AwsCalls:
    """The trigger's AWS calls (the handler's boto3 calls; fakes in unit tests)."""

    #: (bucket, key) -> (the claim, its ETag): S3 GetObject of the start claim.
    read_claim: Callable[[str, str], Tuple[start_claims.StartClaim, str]]
    #: (bucket, key, claim, IfNoneMatch= or IfMatch=) -> the new ETag, or None when the condition failed.
    put_claim: Callable[..., Optional[str]]
    #: Glue GetJobRuns of the job, page by page (newest runs first).
    job_run_pages: Callable[[], Iterable[Mapping[str, Any]]]
    #: Glue StartJobRun with this request (``Arguments``, optional ``MaxCapacity``) -> the job run id.
    start_job_run: Callable[[Dict[str, Any]], str]


def invocation_deadline(remaining_ms: float, now: float) -> float:
    """The ``time.monotonic()`` value after which this invocation starts nothing more (``now`` is one)."""
    return now + remaining_ms / 1000.0 - config.START_DEADLINE_MARGIN_SECONDS


def waiting_records(records: Sequence[Any], results: Sequence[Mapping[str, Any]]) -> List[Any]:
    """The event records whose start is still waiting: a fresh invocation continues with them."""
    return [record for record, result in zip(records, results) if result["status"] == "waiting"]


def existing_run(pages: Iterable[Mapping[str, Any]], features_key: str, since: datetime) -> Dict[str, Any]:
    """A run for ``features_key`` started after ``since`` in GetJobRuns ``pages`` (newest first), or {}.

    Stops at the first page that reaches back before ``since``: older runs cannot be this file's.
    """
    for page in pages:
        for run in page.get("JobRuns", []):
            if run.get("Arguments", {}).get("--features_key") == features_key:
                return dict(run)
        if any(run["StartedOn"] < since for run in page.get("JobRuns", [])):
            return {}
    return {}


def acquire(calls: AwsCalls, ref: events.S3ObjectRef, keys: layout.RunKeys, me: str,
            deadline: float) -> Tuple[str, Optional[str]]:
    """Own the start claim of ``ref`` -> ("owned", etag), or ("started", job_run_id), or ("waiting", None)."""
    lease = time.time() + max(0.0, deadline - time.monotonic()) + config.START_DEADLINE_MARGIN_SECONDS
    mine = start_claims.StartClaim(ref.key, me, lease)
    etag = calls.put_claim(ref.bucket, keys.start_claim, mine, IfNoneMatch="*")
    while etag is None:
        found, found_etag = calls.read_claim(ref.bucket, keys.start_claim)
        action = start_claims.decide(found, me, time.time())
        if action == start_claims.REPORT:
            return "started", found.job_run_id
        if action == start_claims.TAKE_OVER:
            # The previous owner may have died between StartJobRun and recording the run id.
            run = existing_run(calls.job_run_pages(), ref.key, events.event_datetime(ref))
            if run:
                calls.put_claim(ref.bucket, keys.start_claim, found.started(run["Id"]), IfMatch=found_etag)
                return "started", run["Id"]
            etag = calls.put_claim(ref.bucket, keys.start_claim, mine, IfMatch=found_etag)
            continue
        if time.monotonic() + CLAIM_POLL_SECONDS > deadline:
            return "waiting", None  # the owner is still at it: look again in a fresh invocation
        time.sleep(CLAIM_POLL_SECONDS)
    return "owned", etag


def start(calls: AwsCalls, ref: events.S3ObjectRef, me: str, deadline: float,
          settings: config.GlueTriggerSettings, logger: logging.Logger) -> Dict[str, Any]:
    """Start the Glue run of features file ``ref`` once, as delivery ``me`` (a Lambda request id).

    Returns the handler's summary: job name, run id, dataset, job run id and ``status`` (``started``,
    ``already_started`` or ``waiting``). Raises on keys outside the layout, on Glue errors other than
    busy, and when busy past ``START_MAX_WAIT_SECONDS``.
    """
    run = layout.parse_features_key(ref.key)  # raises on keys outside the layout: a misconfigured trigger
    fields = {"job_name": settings.glue_job_name, "run_id": run.run_id, "dataset": run.dataset}
    state, value = acquire(calls, ref, run, me, deadline)
    if state == "started":
        logger.info("glue job run already started", extra={"fields": {**fields, "job_run_id": value}})
        return {**fields, "job_run_id": value, "status": "already_started"}
    if state == "waiting":
        logger.info("another delivery is starting this run; continuing in a new invocation", extra={"fields": fields})
        return {**fields, "status": "waiting"}
    claim = start_claims.StartClaim(ref.key, me, 0.0)
    capacity = training_capacity.run_capacity(ref.size, settings.large_features_bytes, settings.large_max_capacity)
    request = training_capacity.run_request({"--bucket": ref.bucket, "--features_key": ref.key}, capacity)

    def log_backoff(error: Exception, delay: float) -> None:
        fields = {"delay_seconds": delay, "error": retry.error_code(error)}
        logger.warning("glue job busy; backing off", extra={"fields": fields})

    try:
        job_run_id = retry.call_with_backoff(lambda: calls.start_job_run(request), _is_busy,
                                             settings.backoff_delays(), log_backoff, deadline=deadline)
    except Exception as error:  # noqa: BLE001 - re-raised unless the job is busy within the longest wait
        if retry.error_code(error) is None:
            raise  # no answer from Glue (a connection error, a bug): the claim's lease frees it
        # Not started: free the claim so the next delivery (or our own continuation) takes it over at once.
        calls.put_claim(ref.bucket, run.start_claim, claim.released(), IfMatch=value)
        waited = (datetime.now(timezone.utc) - events.event_datetime(ref)).total_seconds()
        if not _is_busy(error) or waited > settings.start_max_wait_seconds:
            raise
        logger.warning("glue job still busy; continuing in a new invocation",
                       extra={"fields": {**fields, "waited_seconds": round(waited, 1)}})
        return {**fields, "status": "waiting"}
    calls.put_claim(ref.bucket, run.start_claim, claim.started(job_run_id), IfMatch=value)
    logger.info("glue job run started", extra={"fields": {**fields, "job_run_id": job_run_id, "features_key": ref.key,
                                                          "features_bytes": ref.size, "max_capacity": capacity}})
    return {**fields, "job_run_id": job_run_id, "status": "started", "max_capacity": capacity}


def _is_busy(error: BaseException) -> bool:
    return retry.error_code(error) in BUSY
