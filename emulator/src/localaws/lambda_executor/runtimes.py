"""Which interpreter runs which Lambda runtime.

Read from the LocalStack process environment, one variable per runtime:
``LOCALAWS_LAMBDA_RUNTIME_<RUNTIME upper-cased, dots as underscores>``, e.g.
``LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12=/path/to/.venvs/lambda-python3.12/bin/python``.
The interpreter's own environment should hold what AWS's runtime ships (boto3/botocore) and nothing
else: functions see exactly its site-packages.
"""

from __future__ import annotations

import os
from pathlib import Path

from localaws.lambda_executor.config import PYTHON_RUNTIME, RUNTIME_ENV_PREFIX, interpreter_env_var
from localaws.lambda_executor.exceptions import (
    LocalExecutorError,
    InterpreterNotFoundError,
    RuntimeNotConfiguredError,
    UnsupportedFunctionError,
)


def python_version(runtime: str | None) -> str:
    """``python3.12`` -> ``3.12``; raises for runtimes the worker cannot serve."""
    match = PYTHON_RUNTIME.match(runtime or "")
    if not match:
        raise UnsupportedFunctionError(
            f"Runtime {runtime!r} is not supported by the local-process Lambda executor, which runs "
            "Python runtimes only (python3.x). Use a python3.x runtime or the docker executor."
        )
    return match.group("version")


def resolve_interpreter(runtime: str, environ: dict[str, str] | None = None) -> Path:
    """Return the interpreter configured for ``runtime``.

    Reads ``LOCALAWS_LAMBDA_RUNTIME_<RUNTIME>`` from ``environ`` (default: ``os.environ``).
    """
    python_version(runtime)
    environ = os.environ if environ is None else environ
    variable = interpreter_env_var(runtime)
    value = environ.get(variable, "").strip()
    if not value:
        raise RuntimeNotConfiguredError(
            f"No interpreter configured for Lambda runtime {runtime}: start LocalStack with "
            f"{variable}=<path to a {runtime} interpreter whose environment has boto3>."
        )
    path = Path(value)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise InterpreterNotFoundError(
            f"{variable}={value} is not an executable file: point it at the python of an existing "
            f"environment (e.g. .venvs/lambda-{runtime}/bin/python) or create that environment."
        )
    return path


def configured_runtimes(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Map of every ``LOCALAWS_LAMBDA_RUNTIME_*`` variable that is set to its value."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if k.startswith(RUNTIME_ENV_PREFIX) and v.strip()}


def available_runtimes(environ: dict[str, str] | None = None) -> list[str]:
    """The runtimes whose interpreter is configured and exists, oldest first: ``['python3.9', 'python3.12']``."""
    names = []
    for variable in configured_runtimes(environ):
        runtime = variable[len(RUNTIME_ENV_PREFIX):].lower().replace("_", ".", 1)
        try:
            resolve_interpreter(runtime, environ)
        except LocalExecutorError:
            continue
        names.append(runtime)
    return sorted(names, key=lambda name: [int(part) for part in python_version(name).split(".")])


def refusal(runtime: str | None, environ: dict[str, str] | None = None) -> str | None:
    """Why a function with ``runtime`` cannot run here, or None when it can (or sets no runtime:
    container images and updates that keep the runtime are not this check's business)."""
    if not runtime:
        return None
    try:
        resolve_interpreter(runtime, environ)
        return None
    except LocalExecutorError as error:
        reason = str(error)
    available = ", ".join(available_runtimes(environ)) or "none"
    return (
        f"Runtime {runtime} has no local interpreter, so a function using it cannot run here "
        f"(runtimes available: {available}). {reason} "
        "To add a python3.x runtime, install that Python and run `make bootstrap` (it creates "
        "`.venvs/lambda-<runtime>` for every Python version it finds), then restart the emulation."
    )
