""""Glue Job State Change" events to the local EventBridge, as AWS Glue sends them to EventBridge.

AWS: events of detail-type "Glue Job State Change" are generated for SUCCEEDED, FAILED, TIMEOUT and
STOPPED (https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html);
the shape and messages follow the examples in EventBridge's event reference for AWS Glue. Delivery
is best effort on AWS too: a put that fails is logged and dropped, never retried into the run.

The backend calls :meth:`JobStateEvents.publish` once per run that reaches a terminal state (from its
single completion point), whatever kind of job the run belongs to. Events are sent in order by one
background thread, so a slow or absent EventBridge never delays a run's bookkeeping.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any, Callable

from .models import JobRun, JobRunState

log = logging.getLogger(__name__)

SOURCE = "aws.glue"
DETAIL_TYPE = "Glue Job State Change"
# severity per terminal state, as in AWS's examples (a timeout is a warning, a failure an error).
SEVERITY = {
    JobRunState.SUCCEEDED: "INFO",
    JobRunState.STOPPED: "INFO",
    JobRunState.TIMEOUT: "WARN",
    JobRunState.FAILED: "ERROR",
}


def job_state_change_detail(run: JobRun) -> dict[str, str]:
    """The event's ``detail`` for a run in a terminal state."""
    state = run.state
    if state is JobRunState.FAILED:
        message = (
            f"JobName:{run.job_name} and JobRunId:{run.id} failed to execute with exception "
            f"{run.error_message or 'unknown error'}"
        )
    else:
        message = {
            JobRunState.SUCCEEDED: "Job run succeeded",
            JobRunState.STOPPED: "Job run stopped",
            JobRunState.TIMEOUT: "Job run timed out",
        }[state]
    return {
        "jobName": run.job_name,
        "severity": SEVERITY[state],
        "state": state.value,
        "jobRunId": run.id,
        "message": message,
    }


def put_events_entry(run: JobRun) -> dict[str, Any]:
    """The PutEvents entry (default bus) that makes EventBridge deliver AWS's event for ``run``."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(job_state_change_detail(run)),
        "Resources": [],
    }


class JobStateEvents:
    """Publishes one event per finished run through ``client_for(region)`` (an ``events`` client)."""

    def __init__(self, client_for: Callable[[str], Any]) -> None:
        self._client_for = client_for
        self._queue: queue.Queue[JobRun | None] = queue.Queue()
        self._thread = threading.Thread(target=self._drain, name="glue-events", daemon=True)
        self._thread.start()

    def publish(self, run: JobRun) -> None:
        if run.state in SEVERITY:
            self._queue.put(run)

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (bounded by ``timeout``), then stop the sender."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _drain(self) -> None:
        while True:
            run = self._queue.get()
            if run is None:
                return
            try:
                result = self._client_for(run.region).put_events(Entries=[put_events_entry(run)])
                if result.get("FailedEntryCount"):
                    log.warning("EventBridge refused the state-change event of run %s: %s", run.id,
                                result.get("Entries"))
            except Exception as exc:  # best effort, as on AWS: EventBridge down must not break runs
                log.warning("could not put the state-change event of run %s to EventBridge: %s", run.id, exc)
