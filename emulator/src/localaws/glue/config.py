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
- ``LOCALAWS_GLUE_FRESH_START``  ``1``: start with no jobs and no runs (those of earlier starts are
  dropped after their processes are reaped; the module cache and runtimes stay). For a service whose
  jobs must live exactly as long as the AWS emulation it pairs with, when that one keeps nothing across
  a restart (LocalStack): one emulation, one account. Default: jobs and runs persist across restarts.
- ``LOCALAWS_GLUE_MEMORY_LIMITS``  ``0``: let Python shell runs use any memory. Default ``1``: a run is
  killed (FAILED) once its processes hold more than its capacity has on AWS (1 GB at MaxCapacity
  0.0625, 16 GB at 1), as AWS would kill it (:mod:`localaws.glue.memory`).
- ``LOCALAWS_GLUE_SECONDS_PER_MINUTE``  how many real seconds one minute of a job's ``Timeout`` lasts
  (default 60). Only for test suites that need to see a ``TIMEOUT`` without waiting a minute; the API
  still speaks minutes, as AWS does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from localaws.exceptions import SettingRefused

from .exceptions import InterpreterNotConfigured

ENV_HOST = "LOCALAWS_GLUE_HOST"
ENV_PORT = "LOCALAWS_GLUE_PORT"
ENV_STATE_DIR = "LOCALAWS_GLUE_STATE_DIR"
ENV_AWS_ENDPOINT = "LOCALAWS_GLUE_AWS_ENDPOINT"
ENV_PYTHON3_9 = "LOCALAWS_GLUE_PYTHON3_9"
ENV_SECONDS_PER_MINUTE = "LOCALAWS_GLUE_SECONDS_PER_MINUTE"
ENV_SPARK_PYTHON = "LOCALAWS_GLUE_PYTHONSPARK_5_0"
ENV_LOCALAWS_HOME = "LOCALAWS_HOME"
ENV_FRESH_START = "LOCALAWS_GLUE_FRESH_START"
ENV_MEMORY_LIMITS = "LOCALAWS_GLUE_MEMORY_LIMITS"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4567
DEFAULT_AWS_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Runtime:
    """A job runtime this service runs: the env var naming its interpreter and where that comes from."""

    env_var: str
    environment: str  # the environment `scripts/bootstrap.sh` creates for it (ONLY=<environment>)
    jobs: str  # which jobs it runs, for messages


SPARK_RUNTIME_KEY = "spark-5.0"
#: The runtimes this service runs, by their key in ``LOCALAWS_GLUE_RUNTIMES`` (``KEY=INTERPRETER``):
#: a pythonshell ``PythonVersion``, or ``spark-<GlueVersion>`` for glueetl jobs.
RUNTIMES = {
    "3.9": Runtime(ENV_PYTHON3_9, "glue-pythonshell-3.9", "Python 3.9 pythonshell jobs"),
    SPARK_RUNTIME_KEY: Runtime(ENV_SPARK_PYTHON, "glue-spark-5.0", "Glue 5.0 Spark jobs"),
}
# Env var naming the interpreter, per pythonshell PythonVersion this service can run.
PYTHON_INTERPRETER_ENV = {key: runtime.env_var for key, runtime in RUNTIMES.items() if key != SPARK_RUNTIME_KEY}


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    state_dir: Path
    aws_endpoint: str
    python_interpreters: Mapping[str, str | None]  # PythonVersion -> interpreter path (None: unset)
    seconds_per_minute: float
    spark_python: str | None = None  # glueetl / Glue 5.0 interpreter (None: unset)
    fresh_start: bool = False  # drop the jobs and runs of earlier starts (ENV_FRESH_START)
    memory_limits: bool = True  # hold Python shell runs to their capacity's memory (ENV_MEMORY_LIMITS)

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
            "fresh_start": env.get(ENV_FRESH_START, "") == "1",
            "memory_limits": env.get(ENV_MEMORY_LIMITS, "1") != "0",
        }
        values.update(overrides)
        return cls(**values)

    def interpreter(self, runtime_key: str) -> str:
        """The executable interpreter of a runtime of :data:`RUNTIMES`; raises the reason a run fails."""
        runtime = RUNTIMES[runtime_key]
        configured = {**self.python_interpreters, SPARK_RUNTIME_KEY: self.spark_python}.get(runtime_key)
        if not configured:
            raise InterpreterNotConfigured(
                f"No interpreter configured for {runtime.jobs}: set LOCALAWS_GLUE_RUNTIMES to include "
                f"{runtime_key}=<.venvs/{runtime.environment}/bin/python> (env {runtime.env_var}; create the "
                f"environment with `ONLY={runtime.environment} scripts/bootstrap.sh`) and restart the Glue "
                f"service."
            )
        if not os.access(configured, os.X_OK):
            raise InterpreterNotConfigured(
                f"{runtime.env_var}={configured} is not an executable file. Fix the path "
                f"(`ONLY={runtime.environment} scripts/bootstrap.sh` creates it) and restart the service."
            )
        return configured


def service_environment(
    host: str, port: int, state_dir: Path, aws_endpoint: str, runtimes: Mapping[str, Path]
) -> dict[str, str]:
    """The variables that start this service with these settings (what the launcher passes it).

    ``runtimes`` maps keys of :data:`RUNTIMES` to interpreters; any other key is refused with
    :class:`~localaws.exceptions.SettingRefused`, as the service would ignore it.
    """
    unknown = sorted(key for key in runtimes if key not in RUNTIMES)
    if unknown:
        accepted = "; ".join(f"{key} ({runtime.jobs})" for key, runtime in RUNTIMES.items())
        raise SettingRefused(
            f"LOCALAWS_GLUE_RUNTIMES names runtime(s) {', '.join(map(repr, unknown))} that the Glue service "
            f"does not run. Accepted keys: {accepted}. Fix or remove those KEY=INTERPRETER entries "
            f"(LOCALAWS_GLUE_RUNTIMES or --glue-runtime)."
        )
    env = {
        ENV_HOST: host,
        ENV_PORT: str(port),
        ENV_STATE_DIR: str(state_dir),
        ENV_AWS_ENDPOINT: aws_endpoint,
        # Kept across restarts unless the caller starts the paired AWS emulation afresh (the launcher).
        ENV_FRESH_START: "0",
    }
    env.update({RUNTIMES[key].env_var: str(python) for key, python in runtimes.items()})
    return env
