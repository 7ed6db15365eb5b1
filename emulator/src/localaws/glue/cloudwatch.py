"""Ship a job process's output lines to a CloudWatch Logs stream while the job runs.

Glue Python shell writes stdout to ``/aws-glue/python-jobs/output`` and stderr to
``/aws-glue/python-jobs/error``, one stream per JobRunId. Lines are batched and sent every
``flush_interval`` seconds, so logs appear while a long job is still running. A CloudWatch failure
never fails the run: it is logged once and the lines stay in the run directory's local log file.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

OUTPUT_LOG_GROUP = "/aws-glue/python-jobs/output"
ERROR_LOG_GROUP = "/aws-glue/python-jobs/error"
# CloudWatch Logs PutLogEvents limits: 10,000 events and 1,048,576 bytes per batch (each event
# counts its UTF-8 size + 26 bytes), 256 KB per event.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576 - 1024
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD


class LogShipper:
    """Collects lines (thread-safe) and sends them to one log stream in the background."""

    def __init__(
        self, client, group: str, stream: str, local_file: Path, flush_interval: float = 0.5
    ) -> None:
        self._client = client
        self._group = group
        self._stream = stream
        self._local = local_file.open("a", encoding="utf-8")
        self._flush_interval = flush_interval
        self._pending: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._stream_ready = False
        self._broken = False
        self._thread = threading.Thread(target=self._loop, name=f"logs-{group}-{stream[:12]}", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        line = line.rstrip("\r\n")
        self._local.write(line + "\n")
        if not line:
            return  # CloudWatch rejects empty messages
        encoded = line.encode("utf-8")
        if len(encoded) > MAX_EVENT_BYTES:
            line = encoded[:MAX_EVENT_BYTES].decode("utf-8", errors="ignore")
        with self._lock:
            self._pending.append((int(time.time() * 1000), line))

    def pump(self, pipe: IO[bytes]) -> None:
        """Read a child's pipe to EOF, one line at a time (run it in its own thread)."""
        for raw in iter(pipe.readline, b""):
            self.write(raw.decode("utf-8", errors="replace"))
        pipe.close()

    def close(self) -> None:
        """Send everything still pending and stop the background thread."""
        self._closed.set()
        self._thread.join(timeout=30)
        self._local.close()

    def _loop(self) -> None:
        while not self._closed.wait(self._flush_interval):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        while events and not self._broken:
            batch, size = [], 0
            while events and len(batch) < MAX_BATCH_EVENTS:
                cost = len(events[0][1].encode("utf-8")) + EVENT_OVERHEAD
                if batch and size + cost > MAX_BATCH_BYTES:
                    break
                batch.append(events.pop(0))
                size += cost
            self._send(batch)

    def _send(self, batch: list[tuple[int, str]]) -> None:
        try:
            if not self._stream_ready:
                self._ensure_stream()
            self._client.put_log_events(
                logGroupName=self._group,
                logStreamName=self._stream,
                logEvents=[{"timestamp": ts, "message": msg} for ts, msg in batch],
            )
        except Exception as exc:  # noqa: BLE001 - any CloudWatch failure must not fail the job run
            self._broken = True
            log.warning(
                "cannot ship logs to %s/%s (%s); they stay in %s",
                self._group,
                self._stream,
                exc,
                self._local.name,
            )

    def _ensure_stream(self) -> None:
        for create, kwargs in (
            (self._client.create_log_group, {"logGroupName": self._group}),
            (self._client.create_log_stream, {"logGroupName": self._group, "logStreamName": self._stream}),
        ):
            try:
                create(**kwargs)
            except self._client.exceptions.ResourceAlreadyExistsException:
                pass
        self._stream_ready = True
