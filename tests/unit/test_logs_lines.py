"""cripto_pipeline.logs from a logger with no handler yet: the handler get_logger installs, the JSON line it
writes to stdout and the service it names (issue 16). Loggers live as long as the process, so each test
starts from a logger whose handlers are removed, or get_logger would find the handler of an earlier run."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import pytest

from cripto_pipeline import logs

SERVICE = "logs-lines-test"


@pytest.fixture
def bare_logger():
    logger = logging.getLogger(f"cripto_pipeline.{SERVICE}")
    logger.handlers.clear()
    yield logger
    logger.handlers.clear()


def test_a_new_logger_writes_one_json_line_to_stdout_naming_its_service(bare_logger, capsys):
    logger = logs.get_logger(SERVICE)
    assert logger is bare_logger
    logger.info("features written", extra={"fields": {"rows": 3}})
    captured = capsys.readouterr()
    assert captured.err == ""
    [line] = captured.out.splitlines()
    entry = json.loads(line)
    assert {k: entry[k] for k in ("level", "message", "service", "rows")} == {
        "level": "INFO", "message": "features written", "service": SERVICE, "rows": 3}


def test_asking_again_keeps_the_one_handler_and_changes_only_the_level(bare_logger, capsys):
    logs.get_logger(SERVICE, "INFO")
    logger = logs.get_logger(SERVICE, "DEBUG")
    assert len(logger.handlers) == 1
    logger.debug("one line")
    assert [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines()] == ["one line"]


def test_a_handler_without_the_json_formatter_is_not_ours(bare_logger, capsys):
    """A logger with only a foreign handler (e.g. one a runtime installed) gets its JSON handler too."""
    foreign = logging.StreamHandler()
    bare_logger.addHandler(foreign)
    logger = logs.get_logger(SERVICE)
    assert logger.handlers[0] is foreign and len(logger.handlers) == 2
    assert isinstance(logger.handlers[1].formatter, logs.JsonFormatter)


def test_a_lambda_handler_on_a_logger_without_our_formatter_still_runs(bare_logger):
    @logs.inject_lambda_context(bare_logger)
    def handler(event, context):
        return {"event": event}

    assert handler("e", object()) == {"event": "e"}


def _record(**extra) -> logging.LogRecord:
    """A record made at 2027-01-15T08:00:00.250Z (epoch 1,800,000,000.25) in handler() line 12."""
    return logging.makeLogRecord({"name": "x", "levelname": "WARNING", "levelno": logging.WARNING, "msg": "rows %d",
                                  "args": (3,), "funcName": "handler", "lineno": 12, "created": 1_800_000_000.25,
                                  "msecs": 250.0, **extra})


def test_a_line_has_level_location_message_utc_timestamp_and_service():
    line = logs.JsonFormatter("features").format(_record())
    assert json.loads(line) == {"level": "WARNING", "location": "handler:12", "message": "rows 3",
                                "timestamp": "2027-01-15T08:00:00.250Z", "service": "features"}


def test_fields_that_are_not_json_are_written_as_text():
    when = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
    entry = json.loads(logs.JsonFormatter("features").format(_record(fields={"when": when, "rows": 3})))
    assert (entry["when"], entry["rows"]) == ("2026-11-27 04:00:00+00:00", 3)


def test_an_exception_given_as_a_bare_type_is_still_named():
    entry = json.loads(logs.JsonFormatter("features").format(_record(exc_info=(ValueError, None, None))))
    assert entry["exception_name"] == "ValueError"
