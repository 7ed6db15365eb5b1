"""Structured JSON log lines, one object per line (the shape Powertools for AWS Lambda emits).

CloudWatch Logs Insights and the local emulation's log viewer can filter on the keys. The
Lambda runtime installs its own text handler on the root logger, so our logger has its own
handler and does not propagate (otherwise every line would be printed twice).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Dict


class JsonFormatter(logging.Formatter):
    """Formats a record as ``{"level", "location", "message", "timestamp", "service", ...}``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "service": self.service,
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
            entry["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(entry, default=str)


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at emit time (test capture and runtimes may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def get_logger(service: str, level: str = "INFO") -> logging.Logger:
    """Logger ``cripto_pipeline.<service>`` writing JSON lines to stdout.

    Pass structured fields with ``logger.info("message", extra={"fields": {...}})``.
    """
    logger = logging.getLogger(f"cripto_pipeline.{service}")
    logger.setLevel(level)
    logger.propagate = False
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter(service))
        logger.addHandler(handler)
    return logger
