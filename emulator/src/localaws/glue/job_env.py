"""What a job process is started with: Glue's ``sys.argv``, an environment that reaches only the local
emulation, and the per-interpreter runtime directory first on its path (awsglue stub, sitecustomize,
job-wide AWS config)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

from .exceptions import RuntimeSetupFailed
from .models import Job, JobRun
from .s3_fetch import DUMMY_CREDENTIALS

JOB_RUNTIME_SOURCE = Path(__file__).with_name("job_runtime")
# awsglue-dev files that make `awsglue.utils.getResolvedOptions` work without pyspark
# (utils.py imports only awsglue.job; job.py imports nothing).
AWSGLUE_FILES = ("utils.py", "job.py")
# Host variables a job inherits; everything else (AWS_* credentials and profiles above all) is dropped.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME")


def base_env() -> dict[str, str]:
    return {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}


def job_env(
    run: JobRun, runtime: Path, path: list[str], aws_endpoint: str, glue_endpoint: str, run_dir: Path
) -> dict[str, str]:
    """The job process's complete environment: dummy credentials, every AWS call to ``aws_endpoint``
    except Glue's (``glue_endpoint``, this service), ``path`` as ``PYTHONPATH``."""
    env = base_env()
    env.update(DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_CONFIG_FILE": str(runtime / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(runtime / "aws-credentials"),
            "AWS_ENDPOINT_URL": aws_endpoint,
            # A job that calls Glue (e.g. to read its own run) must reach this service, not LocalStack.
            "AWS_ENDPOINT_URL_GLUE": glue_endpoint,
            "AWS_DEFAULT_REGION": run.region,
            "AWS_REGION": run.region,
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONUNBUFFERED": "1",  # stream prints to CloudWatch as they happen, like Glue does
            "TMPDIR": str(run_dir / "tmp"),
        }
    )
    return env


def glue_argv(job: Job, run: JobRun, arguments: dict[str, str]) -> list[str]:
    """``sys.argv[1:]`` as Glue Python shell builds it.

    Glue puts its own options first (observed on Python shell: ``--job-bookmark-option
    job-bookmark-disable --scriptLocation <s3 url> --job-language python``), then the job's arguments
    (DefaultArguments overlaid by the run's Arguments; NonOverridableArguments last), then the run's
    identity (``--JOB_RUN_ID``, ``--JOB_NAME``), which ``getResolvedOptions`` reserves.
    """
    argv = [
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--scriptLocation",
        job.command["ScriptLocation"],
        "--job-language",
        "python",
    ]
    glue_owned = {"--job-bookmark-option", "--scriptLocation", "--job-language", "--JOB_RUN_ID", "--JOB_NAME"}
    for name, value in arguments.items():
        if name in glue_owned:
            continue
        argv += [name, value]
    argv += ["--JOB_RUN_ID", run.id, "--JOB_NAME", job.name]
    return argv


class RuntimeDirs:
    """Per-interpreter dirs under ``<state>/runtime/``, built once per interpreter and service lifetime."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: dict[str, Path] = {}
        self._lock = threading.Lock()

    def for_interpreter(self, python: str) -> Path:
        """Per-interpreter dir first on every job's path: the awsglue package stub and sitecustomize."""
        with self._lock:
            if python in self._dirs:
                return self._dirs[python]
        # find_spec locates the package without executing its (pyspark-importing) __init__.
        probe = (
            "import importlib.util as u; s = u.find_spec('awsglue'); "
            "print(s.submodule_search_locations[0] if s else '')"
        )
        found = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=60, env=base_env(), check=False
        )
        source = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None
        if source is None or not all((source / name).is_file() for name in AWSGLUE_FILES):
            raise RuntimeSetupFailed(
                f"{python} has no awsglue-dev installation to take awsglue/utils.py from. Recreate the job "
                f"environment from emulator/requirements/glue-pythonshell-3.9.txt (scripts/bootstrap.sh)."
            )
        key = hashlib.sha256(python.encode()).hexdigest()[:16]
        target = self.root / key
        package = target / "awsglue"
        package.mkdir(parents=True, exist_ok=True)
        # An empty __init__ skips awsglue-dev's own, which imports pyspark (absent in Python shell).
        (package / "__init__.py").write_text(
            '"""awsglue stub for Python shell: utils and job only (no pyspark)."""\n'
        )
        for name in AWSGLUE_FILES:
            shutil.copyfile(source / name, package / name)
        shutil.copyfile(JOB_RUNTIME_SOURCE / "sitecustomize.py", target / "sitecustomize.py")
        # Job-wide AWS config instead of the host's ~/.aws: path-style S3, because botocore 1.24 would
        # address buckets as <bucket>.<endpoint host>, which does not resolve for a local endpoint.
        (target / "aws-config").write_text("[default]\ns3 =\n    addressing_style = path\n")
        (target / "aws-credentials").write_text("")
        with self._lock:
            self._dirs[python] = target
        return target
