"""config, events, retry and logs: the small modules around the pipeline."""

from __future__ import annotations

import json

import pytest

from cripto_pipeline import config, events, logs, retry
from cripto_pipeline.exceptions import ConfigurationError, InvalidEventError

from .conftest import load_event


def test_feature_settings_resolution_order():
    # default (the README's 128 MiB, written out) <- env var <- explicit argument
    defaults = config.FeatureEngineeringSettings.from_env({})
    assert (defaults.max_raw_bytes, defaults.log_level) == (128 * 1024 * 1024, "INFO")
    env = {"MAX_RAW_BYTES": "1234", "LOG_LEVEL": "debug"}
    settings = config.FeatureEngineeringSettings.from_env(env)
    assert (settings.max_raw_bytes, settings.log_level) == (1234, "DEBUG")
    assert config.FeatureEngineeringSettings.from_env(env, max_raw_bytes=5).max_raw_bytes == 5
    assert config.FeatureEngineeringSettings.from_env({}, max_raw_bytes=5).max_raw_bytes == 5


def test_trigger_settings_defaults_are_the_documented_ones():
    settings = config.GlueTriggerSettings.from_env({"GLUE_JOB_NAME": "job"})
    assert settings.start_max_wait_seconds == 6 * 3600  # README: up to 6 h after the features file
    # README: "1 s doubling, <= 15 s"
    assert settings.backoff_delays()[:6] == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert config.START_DEADLINE_MARGIN_SECONDS == 5.0


@pytest.mark.parametrize("env", [{"MAX_RAW_BYTES": "lots"}, {"MAX_RAW_BYTES": "0"}, {"LOG_LEVEL": "LOUD"}])
def test_bad_settings_are_explained(env):
    with pytest.raises(ConfigurationError, match=next(iter(env))):
        config.FeatureEngineeringSettings.from_env(env)


def test_trigger_settings_and_backoff():
    settings = config.GlueTriggerSettings.from_env({"GLUE_JOB_NAME": "job", "START_MAX_ATTEMPTS": "6"})
    assert settings.backoff_delays() == [1.0, 2.0, 4.0, 8.0, 15.0]
    with pytest.raises(ConfigurationError):
        config.GlueTriggerSettings.from_env({})


def test_parse_event_decodes_keys():
    (ref,) = events.parse_s3_event(load_event("s3_put_raw_invalid_dataset.json"))
    assert ref.key == "raw/my data!.csv" and ref.bucket == "cripto-data-example"
    (versioned,) = events.parse_s3_event(load_event("s3_put_raw_dataset_versioned.json"))
    assert versioned.version_id == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" and versioned.size == 104857


@pytest.mark.parametrize("event", [{}, {"Records": [{"s3": {}}]}, {"Records": "x"}])
def test_parse_event_refuses_other_shapes(event):
    with pytest.raises(InvalidEventError):
        events.parse_s3_event(event)


def test_retry_gives_up_after_the_delays():
    calls, slept = [], []

    def flaky():
        calls.append(1)
        raise ValueError("busy")

    with pytest.raises(ValueError):
        retry.call_with_backoff(flaky, lambda e: isinstance(e, ValueError), [0.1, 0.2], sleep=slept.append)
    assert len(calls) == 3 and slept == [0.1, 0.2]


def test_retry_succeeds_and_does_not_retry_other_errors():
    attempts = iter([ValueError("busy"), "ok"])

    def call():
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    seen = []
    assert (
        retry.call_with_backoff(
            call, lambda e: True, [0.5], on_retry=lambda e, d: seen.append(d), sleep=lambda s: None
        )
        == "ok"
    )
    assert seen == [0.5]
    with pytest.raises(KeyError):
        retry.call_with_backoff(
            lambda: {}["x"], lambda e: isinstance(e, ValueError), [0.1], sleep=lambda s: None
        )


def test_json_logs(capsys):
    logs.get_logger("unit-test", "INFO")
    logger = logs.get_logger("unit-test", "DEBUG")
    assert len(logger.handlers) == 1  # calling twice does not duplicate lines
    logger.debug("hello", extra={"fields": {"run_id": "r1"}})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["message"] == "hello" and first["run_id"] == "r1" and first["level"] == "DEBUG"
    assert second["exception_name"] == "RuntimeError" and "boom" in second["exception"]
    assert not logger.propagate  # the Lambda runtime's root handler would print every line again


def test_fields_never_overwrite_the_reserved_keys(capsys):
    logger = logs.get_logger("unit-test-reserved", "INFO")
    logger.info("real message", extra={"fields": {"message": "forged", "level": "DEBUG", "service": "x",
                                                  "run_id": "r1"}})
    (line,) = (json.loads(text) for text in capsys.readouterr().out.splitlines())
    assert (line["message"], line["level"], line["service"]) == ("real message", "INFO", "unit-test-reserved")
    # Kept, under a name that cannot collide: nothing a caller logs is lost.
    assert (line["field_message"], line["field_level"], line["field_service"]) == ("forged", "DEBUG", "x")
    assert line["run_id"] == "r1"


def test_lambda_lines_carry_the_request_id_and_cold_start(capsys):
    from .conftest import LambdaContext

    logger = logs.get_logger("unit-test-lambda", "INFO")
    logs._cold_start = True  # a fresh process (other tests may have invoked handlers already)

    @logs.inject_lambda_context(logger)
    def handler(event, context):
        logger.info("inside", extra={"fields": {"cold_start": "forged"}})
        return event

    assert handler({"n": 1}, LambdaContext(aws_request_id="req-1")) == {"n": 1}
    handler({}, LambdaContext(aws_request_id="req-2"))
    logger.info("outside any invocation")
    first, second, outside = (json.loads(text) for text in capsys.readouterr().out.splitlines())
    assert (first["function_request_id"], first["cold_start"]) == ("req-1", True)
    assert (second["function_request_id"], second["cold_start"]) == ("req-2", False)
    assert first["function_name"] == LambdaContext().function_name and first["field_cold_start"] == "forged"
    assert "function_request_id" not in outside and "cold_start" not in outside


def test_error_code_of_client_errors_and_others():
    from botocore.exceptions import ClientError

    error = ClientError(
        {"Error": {"Code": "ConcurrentRunsExceededException", "Message": "busy"}}, "StartJobRun"
    )
    assert retry.error_code(error) == "ConcurrentRunsExceededException"
    assert retry.error_code(ValueError("x")) is None


def test_backoff_stops_before_the_deadline():
    now = [0.0]
    calls = []

    def busy():
        calls.append(now[0])
        raise ValueError("busy")

    with pytest.raises(ValueError):
        retry.call_with_backoff(busy, lambda e: True, [4.0] * 100, sleep=lambda d: now.__setitem__(0, now[0] + d),
                                deadline=10.0, clock=lambda: now[0])
    assert calls == [0.0, 4.0, 8.0]  # a fourth attempt would start after the deadline
