"""The environment a worker process starts with: a clean environment (nothing from LocalStack's process
but the emulation-wide ``LOCALAWS_LAMBDA_ENV_<NAME>`` variables) and the layers' places on ``sys.path``."""

from __future__ import annotations

import os
from pathlib import Path

from localaws.lambda_executor import worker
from localaws.lambda_executor.config import EXTRA_ENV_PREFIX

WORKER_PATH = Path(worker.__file__).resolve()


def build_environment(
    lambda_env: dict[str, object],
    interpreter: Path,
    code_dir: Path,
    opt_dir: Path | None,
    env_dir: Path,
) -> dict[str, str]:
    """The worker's complete environment (nothing is inherited from LocalStack's process).

    Precedence, lowest first: a minimal base standing in for what the Lambda image defines, then
    the emulation-wide ``LOCALAWS_LAMBDA_ENV_<NAME>`` variables, then what LocalStack computed (which already ends with the function's own variables, so a function
    may override ``PATH`` or ``LD_LIBRARY_PATH`` as on AWS), then the paths of this environment,
    which are reserved on AWS too.
    """
    opt = str(opt_dir) if opt_dir else ""
    base = {
        # The runtime's bin first, like /var/lang/bin on AWS: `python` in a subprocess is the runtime's.
        "PATH": os.pathsep.join(
            p
            for p in [str(interpreter.parent), "/usr/local/bin", "/usr/bin", "/bin", opt and f"{opt}/bin"]
            if p
        ),
        # AWS sets en_US.UTF-8; hosts may lack that locale, C.UTF-8 gives the same encoding everywhere.
        "LANG": "C.UTF-8",
        "LD_LIBRARY_PATH": os.pathsep.join(
            p for p in [str(code_dir), f"{code_dir}/lib", opt and f"{opt}/lib"] if p
        ),
        # Keep the host's ~/.aws (profiles, endpoints) and other dotfiles out of the function.
        "HOME": str(env_dir / "home"),
    }
    forced = {
        "LAMBDA_TASK_ROOT": str(code_dir),
        "LAMBDA_RUNTIME_DIR": str(WORKER_PATH.parent),
        # The environment's private /tmp: tempfile and most libraries honour TMPDIR.
        "TMPDIR": str(env_dir / "tmp"),
        worker.EXECUTOR_MARKER_VAR: worker.EXECUTOR_NAME,
    }
    emulation = {
        key[len(EXTRA_ENV_PREFIX):]: value
        for key, value in os.environ.items()
        if key.startswith(EXTRA_ENV_PREFIX) and len(key) > len(EXTRA_ENV_PREFIX)
    }
    return {**base, **emulation, **{k: str(v) for k, v in lambda_env.items() if v is not None}, **forced}


def layer_sys_path(opt_dir: Path | None, version: str) -> list[str]:
    """Where AWS's Python runtime looks inside /opt, in its order."""
    if not opt_dir:
        return []
    return [str(opt_dir / "python" / "lib" / f"python{version}" / "site-packages"), str(opt_dir / "python")]
