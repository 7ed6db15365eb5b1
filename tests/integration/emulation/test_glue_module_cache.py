"""The Glue service's cache of ``--additional-python-modules`` (``localaws.glue.module_cache.ModuleCache``).

Black-box through boto3 against a service process of our own (state dir under pytest's tmp dir): a
job reports where its modules were imported from, so the tests see whether a run installed them or
reused an earlier run's install. Needs the package index for the first install, as AWS Glue does.
"""

from __future__ import annotations

import os
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
# The service, glue and s3 fixtures are the Glue service suite's own: a private service process.
from test_glue_service import ROLE, TOOLS_PYTHON, glue, service, wait_run  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(400)

MODULE = "tabulate==0.9.0"  # small, pure Python, not part of the analytics set
WHERE_SCRIPT = """
import sys, boto3, tabulate
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["bucket"])
boto3.client("s3").put_object(Bucket=args["bucket"], Key="where/" + args["JOB_RUN_ID"], Body=tabulate.__file__)
"""


@pytest.fixture(scope="module")
def bucket(s3) -> str:
    name = f"glue-module-cache-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="where.py", Body=WHERE_SCRIPT.encode())
    return name


def run_job(glue, s3, bucket: str, name: str, arguments: dict) -> Path:
    """Create a job with ``arguments``, run it to SUCCEEDED, return where it imported tabulate from."""
    glue.create_job(
        Name=name,
        Role=ROLE,
        MaxCapacity=0.0625,
        DefaultArguments={"--bucket": bucket, **arguments},
        Command={"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": f"s3://{bucket}/where.py"},
    )
    try:
        run_id = glue.start_job_run(JobName=name)["JobRunId"]
        run = wait_run(glue, name, run_id, timeout=240)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    finally:
        glue.delete_job(JobName=name)
    return Path(s3.get_object(Bucket=bucket, Key=f"where/{run_id}")["Body"].read().decode())


def test_pinned_modules_are_installed_once_and_reused_read_only(glue, s3, bucket, service, unique_name):
    cache_root = service.state_dir / "python-modules-cache"
    first = run_job(glue, s3, bucket, unique_name("cache-a"), {"--additional-python-modules": MODULE})
    second = run_job(glue, s3, bucket, unique_name("cache-b"), {"--additional-python-modules": MODULE})
    assert cache_root in first.parents, f"pinned modules should come from the cache, came from {first}"
    assert second == first, "the second run must reuse the first run's install"
    assert not first.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), (
        "cached files are read-only"
    )
    assert len([p for p in cache_root.iterdir() if not p.name.startswith(".")]) == 1
    assert not list(cache_root.glob(".*.partial")), "no half-installed entry is left behind"

    # Other installer options are another install, never the cached one.
    other = run_job(
        glue,
        s3,
        bucket,
        unique_name("cache-c"),
        {"--additional-python-modules": MODULE, "--python-modules-installer-option": "--no-compile"},
    )
    assert cache_root in other.parents and other != first


def test_unpinned_modules_are_installed_per_run_as_on_aws(glue, s3, bucket, service, unique_name):
    where = run_job(glue, s3, bucket, unique_name("nocache"), {"--additional-python-modules": "tabulate"})
    runs_root = service.state_dir / "runs"
    assert runs_root in where.parents, (
        f"an unpinned module must be installed in the run's own dir, not {where}"
    )
    assert not where.exists(), "the per-run install is removed when the run ends"


def test_modules_prepared_ahead_of_time_are_the_ones_a_run_uses(glue, s3, bucket, service, unique_name):
    """`python -m localaws.glue.prepare` (what `make bootstrap` runs for the stack's job) fills the
    entry a run would create, so the first run installs nothing."""
    python = service.env["LOCALAWS_GLUE_PYTHON3_9"]
    spec = "tabulate==0.8.10"  # another version than the other tests: a cache entry of its own
    prepared = subprocess.run(
        [TOOLS_PYTHON, "-m", "localaws.glue.prepare", "--python", python, "--modules", spec,
         "--installer-option=--no-compile"],
        env={**os.environ, "LOCALAWS_GLUE_STATE_DIR": str(service.state_dir)},
        capture_output=True, text=True, timeout=300, check=True,
    )
    entry = Path(prepared.stdout.split(": ", 1)[1].strip())
    assert prepared.stdout.startswith("installed: ") and (service.state_dir / "python-modules-cache") in entry.parents
    again = subprocess.run(
        [TOOLS_PYTHON, "-m", "localaws.glue.prepare", "--python", python, "--modules", spec,
         "--installer-option=--no-compile"],
        env={**os.environ, "LOCALAWS_GLUE_STATE_DIR": str(service.state_dir)},
        capture_output=True, text=True, timeout=300, check=True,
    )
    assert again.stdout.strip() == f"already prepared: {entry}"

    where = run_job(glue, s3, bucket, unique_name("prepared"),
                    {"--additional-python-modules": spec, "--python-modules-installer-option": "--no-compile"})
    assert entry in where.parents, f"the run must import the prepared install, imported {where}"

    refused = subprocess.run(
        [TOOLS_PYTHON, "-m", "localaws.glue.prepare", "--python", python, "--modules", "tabulate"],
        env={**os.environ, "LOCALAWS_GLUE_STATE_DIR": str(service.state_dir)},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert refused.returncode == 1 and "only pinned modules" in refused.stderr


# ---- s3:// wheels in --additional-python-modules (as AWS Glue accepts them) ------------------------
PROBE_SCRIPT = """
import sys, boto3, wheelprobe
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["bucket"])
boto3.client("s3").put_object(Bucket=args["bucket"], Key="where/" + args["JOB_RUN_ID"],
                              Body=wheelprobe.__file__ + "\\n" + wheelprobe.VERSION)
"""


def probe_wheel(marker: str) -> bytes:
    """A minimal pure-Python wheel, ``wheelprobe`` 1.0, whose module says ``marker``."""
    import io
    import zipfile

    files = {
        "wheelprobe/__init__.py": f"VERSION = {marker!r}\n",
        "wheelprobe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: wheelprobe\nVersion: 1.0\n",
        "wheelprobe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files["wheelprobe-1.0.dist-info/RECORD"] = "".join(f"{name},,\n" for name in [*files, "wheelprobe-1.0.dist-info/RECORD"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def run_probe(glue, s3, bucket: str, name: str, modules: str) -> dict:
    glue.create_job(
        Name=name, Role=ROLE, MaxCapacity=0.0625,
        DefaultArguments={"--bucket": bucket, "--additional-python-modules": modules,
                          "--python-modules-installer-option": "--no-deps"},
        Command={"Name": "pythonshell", "PythonVersion": "3.9", "ScriptLocation": f"s3://{bucket}/probe.py"},
    )
    try:
        run_id = glue.start_job_run(JobName=name)["JobRunId"]
        return wait_run(glue, name, run_id, timeout=240)
    finally:
        glue.delete_job(JobName=name)


def test_s3_wheels_are_installed_without_an_index_and_cached_by_their_bytes(glue, s3, bucket, service, unique_name):
    s3.put_object(Bucket=bucket, Key="probe.py", Body=PROBE_SCRIPT.encode())
    wheel = "wheelprobe-1.0-py3-none-any.whl"
    s3.put_object(Bucket=bucket, Key=f"wheels-a/{wheel}", Body=probe_wheel("first"))
    s3.put_object(Bucket=bucket, Key=f"wheels-b/{wheel}", Body=probe_wheel("first"))  # same bytes elsewhere
    s3.put_object(Bucket=bucket, Key=f"wheels-c/{wheel}", Body=probe_wheel("second"))  # same name, new bytes
    cache_root = service.state_dir / "python-modules-cache"

    def where(prefix: str) -> tuple:
        run = run_probe(glue, s3, bucket, unique_name("s3wheel"), f"s3://{bucket}/{prefix}/{wheel}")
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        path, version = s3.get_object(Bucket=bucket, Key=f"where/{run['Id']}")["Body"].read().decode().split("\n")
        return Path(path), version

    first, same, changed = where("wheels-a"), where("wheels-b"), where("wheels-c")
    assert cache_root in first[0].parents and first[1] == "first"
    assert same == first, "the same wheel bytes from another S3 key reuse the cache entry"
    assert changed[1] == "second" and changed[0] != first[0], "new wheel bytes are a new install"


def test_a_missing_s3_wheel_fails_the_run_naming_it(glue, s3, bucket, unique_name):
    s3.put_object(Bucket=bucket, Key="probe.py", Body=PROBE_SCRIPT.encode())
    missing = f"s3://{bucket}/wheels-none/wheelprobe-1.0-py3-none-any.whl"
    run = run_probe(glue, s3, bucket, unique_name("s3wheel-missing"), missing)
    assert run["JobRunState"] == "FAILED"
    assert missing in run["ErrorMessage"] and "NoSuchKey" in run["ErrorMessage"]
