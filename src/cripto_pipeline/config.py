"""Settings of the Lambda functions and the Glue job: the only module that reads the environment.

Resolution order for every setting: explicit argument -> environment variable -> default.
Environment variables (names are the constants below):

- ``LOG_LEVEL``            both Lambdas: logging level name (default ``INFO``).
- ``MAX_RAW_BYTES``        feature Lambda: largest accepted upload in bytes (default 128 MiB, at
                           least 1 M rows of any usual OHLCV export; peak memory per file size is
                           measured by ``make bench``, group ``large``); bigger objects are rejected
                           without being read whole. Above it (one file, or a several-file dataset
                           in total) the Spark feature job builds the features instead.
- ``DEBOUNCE_SECONDS``     feature Lambda: quiet period of a several-file dataset (``raw/<d>/<f>.csv``)
                           before its run starts, counted from each upload's event (default 20; the
                           function's timeout must leave room for it, see cripto_pipeline.routing).
- ``SPARK_FEATURES_JOB_NAME`` feature Lambda: the Glue Spark job that builds the features of datasets
                           above MAX_RAW_BYTES (empty: such uploads are rejected as too large).
- ``GLUE_JOB_NAME``        trigger Lambda: the training job to start (required).
- ``START_MAX_ATTEMPTS``   trigger Lambda: most StartJobRun attempts in one invocation while Glue
                           says the job is busy or throttles (default 1000: in practice the
                           invocation's own deadline ends the waiting first).
- ``START_BACKOFF_SECONDS`` trigger Lambda: first backoff delay, doubled per attempt (default 1.0).
- ``START_MAX_BACKOFF_SECONDS`` trigger Lambda: cap of one backoff delay (default 15.0).
- ``START_MAX_WAIT_SECONDS`` trigger Lambda: how long a features file may wait for a free job slot,
                           counted from its creation (default 21600 = 6 h).
- ``LARGE_RUN_FEATURES_BYTES`` trigger Lambda: features.parquet files above this size (bytes) train
                           at LARGE_RUN_MAX_CAPACITY (default 32 MiB; why: cripto_pipeline.training_capacity).
- ``LARGE_RUN_MAX_CAPACITY`` trigger Lambda: the MaxCapacity of such runs, 0.0625 or 1 DPU (default 1).

The guarantee: the trigger keeps trying until its remaining time drops below
START_DEADLINE_MARGIN_SECONDS, then re-invokes itself asynchronously with the waiting record and
returns; so a request waits for a free slot as long as the job stays busy, up to
START_MAX_WAIT_SECONDS. Past that it raises: Lambda retries twice, then puts the event in the
failed-events queue. A training request thus ends in a Glue run or in that queue, never dropped.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping, Optional

from . import training_capacity
from .exceptions import ConfigurationError

ENV_LOG_LEVEL = "LOG_LEVEL"
ENV_MAX_RAW_BYTES = "MAX_RAW_BYTES"
#: CloudWatch namespace for the run metrics (cripto_pipeline.run_metrics); empty = publish none.
ENV_METRICS_NAMESPACE = "METRICS_NAMESPACE"
ENV_GLUE_JOB_NAME = "GLUE_JOB_NAME"
ENV_DEBOUNCE_SECONDS = "DEBOUNCE_SECONDS"
ENV_SPARK_FEATURES_JOB_NAME = "SPARK_FEATURES_JOB_NAME"
DEFAULT_DEBOUNCE_SECONDS = 20.0
ENV_START_MAX_ATTEMPTS = "START_MAX_ATTEMPTS"
ENV_START_BACKOFF_SECONDS = "START_BACKOFF_SECONDS"

DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_MAX_RAW_BYTES = 128 * 1024 * 1024  # 1 M rows fit even in the widest usual layout (CryptoDataDownload)
#: Glue Spark feature job (argument --training_sample_rows): most rows of the features.parquet sample.
DEFAULT_TRAINING_SAMPLE_ROWS = 1_000_000
ENV_START_MAX_BACKOFF_SECONDS = "START_MAX_BACKOFF_SECONDS"
ENV_START_MAX_WAIT_SECONDS = "START_MAX_WAIT_SECONDS"
ENV_LARGE_RUN_FEATURES_BYTES = "LARGE_RUN_FEATURES_BYTES"
ENV_LARGE_RUN_MAX_CAPACITY = "LARGE_RUN_MAX_CAPACITY"
DEFAULT_START_MAX_WAIT_SECONDS = 6 * 3600.0
DEFAULT_START_MAX_ATTEMPTS = 1000
DEFAULT_START_BACKOFF_SECONDS = 1.0
DEFAULT_START_MAX_BACKOFF_SECONDS = 15.0
# How a refused setting names the expected kind ("is not a int" read badly).
_KIND_NAMES = {int: "a whole number", float: "a number"}
#: Seconds of the trigger's invocation kept free after the last StartJobRun attempt (to log and raise).
START_DEADLINE_MARGIN_SECONDS = 5.0


def _env(environ: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _log_level(environ: Mapping[str, str]) -> str:
    level = environ.get(ENV_LOG_LEVEL, DEFAULT_LOG_LEVEL).strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigurationError(
            f"{ENV_LOG_LEVEL}={level!r} is not a logging level (DEBUG, INFO, WARNING, ERROR)."
        )
    return level


def _number(environ: Mapping[str, str], name: str, default: float, kind: type, minimum: float) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not {_KIND_NAMES[kind]}.") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={raw!r} must be >= {minimum}.")
    return value


@dataclass(frozen=True)
class FeatureEngineeringSettings:
    """Settings of the feature-engineering Lambda."""

    log_level: str = DEFAULT_LOG_LEVEL
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES
    metrics_namespace: str = ""
    debounce_seconds: float = DEFAULT_DEBOUNCE_SECONDS
    spark_features_job_name: str = ""

    @classmethod
    def from_env(
        cls, environ: Optional[Mapping[str, str]] = None, **overrides: object
    ) -> "FeatureEngineeringSettings":
        """Build from explicit ``overrides``, then ``LOG_LEVEL`` / ``MAX_RAW_BYTES`` /
        ``METRICS_NAMESPACE`` / ``DEBOUNCE_SECONDS`` / ``SPARK_FEATURES_JOB_NAME``, then defaults."""
        env = _env(environ)
        values = {
            "log_level": _log_level(env),
            "max_raw_bytes": int(_number(env, ENV_MAX_RAW_BYTES, DEFAULT_MAX_RAW_BYTES, int, 1)),
            "metrics_namespace": env.get(ENV_METRICS_NAMESPACE, "").strip(),
            "debounce_seconds": float(_number(env, ENV_DEBOUNCE_SECONDS, DEFAULT_DEBOUNCE_SECONDS, float, 0.0)),
            "spark_features_job_name": env.get(ENV_SPARK_FEATURES_JOB_NAME, "").strip(),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GlueTriggerSettings:
    """Settings of the Glue-trigger Lambda."""

    glue_job_name: str
    log_level: str = DEFAULT_LOG_LEVEL
    start_max_attempts: int = DEFAULT_START_MAX_ATTEMPTS
    start_backoff_seconds: float = DEFAULT_START_BACKOFF_SECONDS
    start_max_backoff_seconds: float = DEFAULT_START_MAX_BACKOFF_SECONDS
    start_max_wait_seconds: float = DEFAULT_START_MAX_WAIT_SECONDS
    large_features_bytes: int = training_capacity.DEFAULT_LARGE_FEATURES_BYTES
    large_max_capacity: float = training_capacity.PYTHON_SHELL_LARGE_DPU

    @classmethod
    def from_env(
        cls, environ: Optional[Mapping[str, str]] = None, **overrides: object
    ) -> "GlueTriggerSettings":
        """Build from explicit ``overrides``, then ``GLUE_JOB_NAME`` / ``LOG_LEVEL`` /
        ``START_MAX_ATTEMPTS`` / ``START_BACKOFF_SECONDS`` / ``START_MAX_BACKOFF_SECONDS`` /
        ``START_MAX_WAIT_SECONDS`` / ``LARGE_RUN_FEATURES_BYTES`` / ``LARGE_RUN_MAX_CAPACITY``, then defaults."""
        env = _env(environ)
        values = {
            "glue_job_name": env.get(ENV_GLUE_JOB_NAME, "").strip(),
            "log_level": _log_level(env),
            "start_max_attempts": int(
                _number(env, ENV_START_MAX_ATTEMPTS, DEFAULT_START_MAX_ATTEMPTS, int, 1)
            ),
            "start_backoff_seconds": float(
                _number(env, ENV_START_BACKOFF_SECONDS, DEFAULT_START_BACKOFF_SECONDS, float, 0.0)
            ),
            "start_max_backoff_seconds": float(
                _number(env, ENV_START_MAX_BACKOFF_SECONDS, DEFAULT_START_MAX_BACKOFF_SECONDS, float, 0.0)
            ),
            "start_max_wait_seconds": float(
                _number(env, ENV_START_MAX_WAIT_SECONDS, DEFAULT_START_MAX_WAIT_SECONDS, float, 0.0)
            ),
            "large_features_bytes": int(_number(env, ENV_LARGE_RUN_FEATURES_BYTES,
                                                training_capacity.DEFAULT_LARGE_FEATURES_BYTES, int, 0)),
            "large_max_capacity": float(_number(env, ENV_LARGE_RUN_MAX_CAPACITY,
                                                training_capacity.PYTHON_SHELL_LARGE_DPU, float, 0.0)),
        }
        values.update(overrides)
        if values["large_max_capacity"] not in training_capacity.PYTHON_SHELL_DPUS:
            raise ConfigurationError(
                f"{ENV_LARGE_RUN_MAX_CAPACITY}={values['large_max_capacity']!r} is not a Python shell capacity:"
                " set it to 0.0625 or 1 (DPU)."
            )
        if not values["glue_job_name"]:
            raise ConfigurationError(
                f"{ENV_GLUE_JOB_NAME} is not set: set it to the name of the training Glue job."
            )
        return cls(**values)  # type: ignore[arg-type]

    def backoff_delays(self) -> list:
        """Delays (seconds) before attempts 2..n: exponential, capped at start_max_backoff_seconds."""
        return [
            min(self.start_backoff_seconds * (2 ** min(i, 32)), self.start_max_backoff_seconds)
            for i in range(self.start_max_attempts - 1)
        ]


@dataclass(frozen=True)
class GlueRunMetricsSettings:
    """Settings of the glue-run-metrics Lambda."""

    metrics_namespace: str
    log_level: str = DEFAULT_LOG_LEVEL

    @classmethod
    def from_env(
        cls, environ: Optional[Mapping[str, str]] = None, **overrides: object
    ) -> "GlueRunMetricsSettings":
        """Build from explicit ``overrides``, then ``METRICS_NAMESPACE`` / ``LOG_LEVEL``, then defaults."""
        env = _env(environ)
        values = {"metrics_namespace": env.get(ENV_METRICS_NAMESPACE, "").strip(), "log_level": _log_level(env)}
        values.update(overrides)
        if not values["metrics_namespace"]:
            raise ConfigurationError(
                f"{ENV_METRICS_NAMESPACE} is not set: set it to the stack's metrics namespace."
            )
        return cls(**values)  # type: ignore[arg-type]
