"""Settings of the Glue-compatible service, resolved in one place: explicit argument -> env var -> default.

Env vars read here (and nowhere else):

- ``LOCALAWS_GLUE_HOST``  interface to bind (default ``127.0.0.1``; ``0.0.0.0`` inside a container).
- ``LOCALAWS_GLUE_PORT``  TCP port of the Glue JSON API (default 4567).
- ``LOCALAWS_GLUE_STATE_DIR``  job definitions, run history and run directories
  (default ``<LOCALAWS_HOME or ./.local>/glue``).
- ``LOCALAWS_GLUE_AWS_ENDPOINT``  where the service *and the jobs it runs* send their AWS calls
  (S3 for scripts, CloudWatch Logs, everything a job script does); default ``http://127.0.0.1:4566``.
- ``LOCALAWS_GLUE_PYTHON3_9``  interpreter for ``pythonshell`` jobs with ``PythonVersion`` 3.9
  (the ``glue-pythonshell-3.9`` environment). Unset -> runs of such jobs fail, naming this variable.
- ``LOCALAWS_GLUE_PYTHONSPARK_5_0``  interpreter for ``glueetl`` jobs with ``GlueVersion`` 5.0 (the
  ``glue-spark-5.0`` environment, with the S3A jars in its ``jars/``; the launcher sets it from the
  ``spark-5.0=`` entry of ``LOCALAWS_GLUE_RUNTIMES``). Unset -> runs of such jobs fail, naming it.
- ``LOCALAWS_GLUE_SECONDS_PER_MINUTE``  how many real seconds one minute of a job's ``Timeout`` lasts
  (default 60). Only for test suites that need to see a ``TIMEOUT`` without waiting a minute; the API
  still speaks minutes, as AWS does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_HOST = "LOCALAWS_GLUE_HOST"
ENV_PORT = "LOCALAWS_GLUE_PORT"
ENV_STATE_DIR = "LOCALAWS_GLUE_STATE_DIR"
ENV_AWS_ENDPOINT = "LOCALAWS_GLUE_AWS_ENDPOINT"
ENV_PYTHON3_9 = "LOCALAWS_GLUE_PYTHON3_9"
ENV_SECONDS_PER_MINUTE = "LOCALAWS_GLUE_SECONDS_PER_MINUTE"
ENV_SPARK_PYTHON = "LOCALAWS_GLUE_PYTHONSPARK_5_0"
ENV_LOCALAWS_HOME = "LOCALAWS_HOME"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4567
DEFAULT_AWS_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_REGION = "us-east-1"

# Env var naming the interpreter, per pythonshell PythonVersion this service can run.
PYTHON_INTERPRETER_ENV = {"3.9": ENV_PYTHON3_9}


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    state_dir: Path
    aws_endpoint: str
    python_interpreters: Mapping[str, str | None]  # PythonVersion -> interpreter path (None: unset)
    seconds_per_minute: float
    spark_python: str | None = None  # glueetl / Glue 5.0 interpreter (None: unset)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get(ENV_LOCALAWS_HOME, Path.cwd() / ".local"))
        values = {
            "host": env.get(ENV_HOST, DEFAULT_HOST),
            "port": int(env.get(ENV_PORT, DEFAULT_PORT)),
            "state_dir": Path(env.get(ENV_STATE_DIR, home / "glue")).resolve(),
            "aws_endpoint": env.get(ENV_AWS_ENDPOINT, DEFAULT_AWS_ENDPOINT).rstrip("/"),
            "python_interpreters": {v: env.get(name) or None for v, name in PYTHON_INTERPRETER_ENV.items()},
            "seconds_per_minute": float(env.get(ENV_SECONDS_PER_MINUTE, 60)),
            "spark_python": env.get(ENV_SPARK_PYTHON) or None,
        }
        values.update(overrides)
        return cls(**values)
