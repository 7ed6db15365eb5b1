"""Structured JSON log lines, one object per line (the shape Powertools for AWS Lambda emits).

Both Lambdas and the Glue job log through :func:`get_logger`, so CloudWatch Logs Insights and
``make logs`` read one format everywhere. A traceback is a field of its line (``exception``), never
loose lines. Lambda lines also carry ``function_request_id`` and ``cold_start``
(:func:`inject_lambda_context`). Fields never overwrite the keys this module writes: a field named
like one of :data:`RESERVED_KEYS` is kept as ``field_<name>``.

The Lambda runtime installs its own text handler on the root logger, so our logger has its own
handler and does not propagate (otherwise every line would be printed twice).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from typing import Any, Callable, Dict, Optional, TypeVar

#: Keys every line owns; a field with one of these names is kept under ``field_<name>``.
RESERVED_KEYS = frozenset({
    "level", "location", "message", "timestamp", "service", "exception", "exception_name",
    "function_name", "function_request_id", "cold_start",
})  # fmt: skip
RENAMED_FIELD_PREFIX = "field_"

Handler = TypeVar("Handler", bound=Callable[..., Any])


class JsonFormatter(logging.Formatter):
    """Formats a record as ``{"level", "location", "message", "timestamp", "service", ...}``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        #: Keys of the current Lambda invocation (set by inject_lambda_context), on every line.
        self.invocation: Dict[str, Any] = {}

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "service": self.service,
            **self.invocation,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
            entry["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        for name, value in (getattr(record, "fields", None) or {}).items():
            entry[RENAMED_FIELD_PREFIX + name if name in RESERVED_KEYS else name] = value
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
    if _formatter(logger) is None:
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter(service))
        logger.addHandler(handler)
    return logger


def _formatter(logger: logging.Logger) -> Optional[JsonFormatter]:
    return next((h.formatter for h in logger.handlers if isinstance(h.formatter, JsonFormatter)), None)


_cold_start = True  # the first invocation of this process (module state lives as long as the runtime)


def inject_lambda_context(logger: logging.Logger) -> Callable[[Handler], Handler]:
    """Decorator for a Lambda ``handler(event, context)``: every line ``logger`` writes during an
    invocation carries ``function_name``, ``function_request_id`` and ``cold_start``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def with_context(event: Any, context: Any) -> Any:
            global _cold_start
            formatter = _formatter(logger)
            if formatter is not None:
                formatter.invocation = {
                    "function_name": getattr(context, "function_name", None),
                    "function_request_id": getattr(context, "aws_request_id", None),
                    "cold_start": _cold_start,
                }
            _cold_start = False
            try:
                return handler(event, context)
            finally:
                if formatter is not None:
                    formatter.invocation = {}

        return with_context  # type: ignore[return-value]

    return decorate
