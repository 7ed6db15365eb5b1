"""Settings the local-process executor reads from LocalStack's environment; their names in one place.

- ``LOCALAWS_LAMBDA_RUNTIME_<RUNTIME>``: the interpreter of one Lambda runtime, ``<RUNTIME>``
  upper-cased with dots as underscores (``LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12``); see :mod:`.runtimes`.
- ``LOCALAWS_LAMBDA_ENV_<NAME>``: added to every function's environment as ``<NAME>`` (see
  ``environment.build_environment``).

Cheap to import (no LocalStack): the launcher builds LocalStack's environment with
:func:`executor_environment`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from localaws.exceptions import SettingRefused

RUNTIME_ENV_PREFIX = "LOCALAWS_LAMBDA_RUNTIME_"
EXTRA_ENV_PREFIX = "LOCALAWS_LAMBDA_ENV_"

# The worker is a Python program; other runtime families need their own worker.
PYTHON_RUNTIME = re.compile(r"^python(?P<version>3\.\d+)$")


def interpreter_env_var(runtime: str) -> str:
    """``python3.12`` -> ``LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12``."""
    return RUNTIME_ENV_PREFIX + runtime.upper().replace(".", "_").replace("-", "_")


def executor_environment(runtimes: Mapping[str, Path], function_env: Mapping[str, str]) -> dict[str, str]:
    """The variables that give the executor these interpreters (runtime -> python) and these extra
    variables for every function.

    A runtime the executor cannot run (anything but ``python3.x``) is refused with
    :class:`~localaws.exceptions.SettingRefused`: functions of it would never become Active.
    """
    refused = sorted(runtime for runtime in runtimes if not PYTHON_RUNTIME.match(runtime))
    if refused:
        raise SettingRefused(
            f"LOCALAWS_LAMBDA_RUNTIMES names runtime(s) {', '.join(map(repr, refused))} that the local-process "
            f"Lambda executor cannot run: it runs Python runtimes only, named as Lambda names them "
            f"(python3.x, e.g. python3.12=/path/to/python). Fix or remove those RUNTIME=INTERPRETER entries "
            f"(LOCALAWS_LAMBDA_RUNTIMES or --lambda-runtime)."
        )
    env = {interpreter_env_var(runtime): str(python) for runtime, python in runtimes.items()}
    env.update({EXTRA_ENV_PREFIX + name: value for name, value in function_env.items()})
    return env
