#!/usr/bin/env python3
"""Build the deployment artifacts Terraform uploads, reproducibly, into ``build/``.

    .venvs/tools/bin/python scripts/build_artifacts.py [--out build] [--only lambda,layer,glue,glue-modules]

Outputs (paths relative to ``--out``)::

    lambda/feature_engineering.zip   lambdas/feature_engineering/*.py + src/cripto_pipeline/
    lambda/glue_trigger.zip          lambdas/glue_trigger/*.py + src/cripto_pipeline/
    lambda/glue_run_metrics.zip      lambdas/glue_run_metrics/*.py + src/cripto_pipeline/
    layers/data_science.zip          python/<requirements/lambda-layer.txt, manylinux2014_x86_64, cp312>
    glue-modules/*.whl               requirements/glue-report-modules.txt (cp39; optional: glue_module_wheels.py)
    glue/model_training.py           copy of glue/model_training.py
    glue/spark_features_job.py       copy of glue/spark_features_job.py (the Glue 5.0 Spark feature job)
    glue/cripto_ml_pipeline-<version>-py3-none-any.whl
                                     src/cripto_pipeline/ as a wheel, for the job's --extra-py-files
                                     (Python shell installs .whl files; name and version from
                                     pyproject.toml)

Why reproducible: Terraform redeploys whenever a zip's hash changes. Entries are sorted, carry a
fixed timestamp (``SOURCE_DATE_EPOCH`` if set, else 1980-01-01) and normalised permissions, and an
output is only replaced when its bytes differ, so unchanged inputs give byte-identical files and
a second ``terraform plan`` shows no changes.

The layer's wheels are downloaded once into ``<out>/cache/wheels/<hash of the requirements>/``;
later builds install from there without the network. The layer itself is rebuilt only when the
requirements file (or this script's layer recipe) changes.

Env vars: ``SOURCE_DATE_EPOCH`` (timestamp of zip entries, seconds since 1970).
"""
from __future__ import annotations

import argparse
import base64
import compileall
import hashlib
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import glue_module_wheels
from reproducible_files import copy_file, unzipped_size, write_zip

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "src" / "cripto_pipeline"
LAMBDAS_DIR = ROOT / "lambdas"
GLUE_SCRIPT = ROOT / "glue" / "model_training.py"
SPARK_SCRIPT = ROOT / "glue" / "spark_features_job.py"
PYPROJECT = ROOT / "pyproject.toml"
LAYER_REQUIREMENTS = ROOT / "requirements" / "lambda-layer.txt"

LAMBDA_FUNCTIONS = ("feature_engineering", "glue_trigger", "glue_run_metrics")
#: The function that uses the layer: its code and the layer share Lambda's unzipped size limit.
LAYER_FUNCTION = "feature_engineering"

# Target of the layer's wheels: AWS Lambda python3.12 on x86_64 (Amazon Linux 2023, glibc 2.34).
PIP_PLATFORM_ARGS = (
    "--platform", "manylinux2014_x86_64",
    "--only-binary=:all:",
    "--python-version", "3.12",
    "--implementation", "cp",
)
# Directories and files a runtime never imports; removing them is what keeps pandas+pyarrow
# inside Lambda's size limit (pandas/tests alone is ~37 MB).
STRIP_DIR_NAMES = frozenset({"tests", "__pycache__"})
# bin/: console scripts (f2py, ...) whose shebang names the build machine's Python;
# pyarrow/include: C++ headers, only for building extensions against Arrow.
STRIP_PATHS = ("bin", "pyarrow/include")
STRIP_SUFFIXES = (".pyc", ".pyx", ".pxd", ".pxi")  # bytecode caches, Cython sources
#: Bump when the layer recipe above changes, so cached layers are rebuilt.
LAYER_RECIPE_VERSION = "2"
#: The layer ships bytecode for this Python: /opt is read-only on AWS, so without it every cold
#: start compiles pandas from source (measured: import pandas 2.4 s without .pyc, 0.4 s with).
LAYER_PYTHON = (3, 12)

#: Lambda: function code + all its layers, unzipped, must fit in 250 MiB.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
#: Lambda: zips larger than this cannot be uploaded directly (Terraform sends the layer via S3).
LAMBDA_DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024



class BuildError(Exception):
    """A build step failed; the message says what to do next."""


class MissingSourceError(BuildError):
    """An input file or directory of the build does not exist."""


class DependencyInstallError(BuildError):
    """pip could not download or install the layer's wheels."""


class SizeBudgetError(BuildError):
    """An artifact exceeds a Lambda size limit."""


@dataclass(frozen=True)
class Artifact:
    """One built file, as reported at the end of the build."""

    path: Path
    size: int
    unzipped_size: Optional[int]
    changed: bool


# --------------------------------------------------------------------------------------------------
# Reproducible files
# --------------------------------------------------------------------------------------


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise MissingSourceError(
            f"{what} is missing: {path.relative_to(ROOT)} does not exist. Write it (or pull the branch "
            "that adds it), then re-run the build."
        )
    return path


def _tree(directory: Path, prefix: str, keep_bytecode: bool = False) -> Dict[str, Path]:
    """Files under ``directory`` as ``prefix/<relative path>``, without tests, caches and bytecode
    (``keep_bytecode``: with the __pycache__/*.pyc this script compiled itself)."""
    skipped_dirs = STRIP_DIR_NAMES - {"__pycache__"} if keep_bytecode else STRIP_DIR_NAMES
    entries: Dict[str, Path] = {}
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if not path.is_file() or skipped_dirs.intersection(relative.parts[:-1]):
            continue
        if path.suffix in (".pyc", ".pyo") and not keep_bytecode:
            continue
        entries[f"{prefix}/{relative.as_posix()}"] = path
    return entries


def package_entries() -> Dict[str, Path]:
    """The ``cripto_pipeline`` package, as zip entries under ``cripto_pipeline/``."""
    _require(PACKAGE_DIR / "__init__.py", "The cripto_pipeline package")
    return _tree(PACKAGE_DIR, "cripto_pipeline")


def function_entries(name: str) -> Dict[str, Path]:
    """A function's top-level modules (``handler.py`` and its siblings) plus the package."""
    directory = LAMBDAS_DIR / name
    _require(directory / "handler.py", f"The handler of the Lambda function '{name}'")
    entries = {path.name: path for path in sorted(directory.glob("*.py"))}
    entries.update(package_entries())
    return entries


# --------------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------------


def _layer_key(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(" ".join(PIP_PLATFORM_ARGS).encode())
    digest.update(LAYER_RECIPE_VERSION.encode())
    return digest.hexdigest()[:16]


def _pip(args: Sequence[str], what: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # pip warns about every missing --find-links location on some machines: not the cause.
        stderr = "\n".join(
            line for line in result.stderr.splitlines() if "is ignored: it is neither" not in line
        )
        raise DependencyInstallError(
            f"pip could not {what} (exit {result.returncode}):\n{stderr.strip()}\n"
            f"Check that every pin in {LAYER_REQUIREMENTS.relative_to(ROOT)} has a "
            "manylinux2014_x86_64 cp312 wheel and that the package index is reachable."
        )


def _strip(site: Path) -> None:
    for relative in STRIP_PATHS:
        shutil.rmtree(site / relative, ignore_errors=True)
    for path in sorted(site.rglob("*"), reverse=True):  # children before parents
        if path.is_dir() and path.name in STRIP_DIR_NAMES:
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in STRIP_SUFFIXES:
            path.unlink()


def _precompile(site: Path) -> None:
    """Write __pycache__/*.cpython-312.pyc next to every module. Unchecked-hash pycs embed the
    source's hash instead of its mtime, so they are byte-identical between builds and stay valid
    whatever timestamps the unzipped files get."""
    if sys.version_info[:2] != LAYER_PYTHON:
        raise BuildError(
            f"The layer's bytecode must be compiled by Python {'.'.join(map(str, LAYER_PYTHON))} "
            f"(the Lambda runtime), not {sys.version.split()[0]}: run this script with .venvs/tools/bin/python."
        )
    # Paths inside the bytecode (tracebacks) name /opt/python, where AWS mounts the layer, not the
    # random build directory: that keeps the bytes reproducible too.
    if not compileall.compile_dir(str(site), quiet=1, workers=0, stripdir=str(site), prependdir="/opt/python",
                                  invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
        raise BuildError(f"Some modules in {site} do not compile (see above).")


def build_layer(out: Path, function_code_size: int) -> Artifact:
    """Build ``layers/data_science.zip``; reuse it when its inputs have not changed."""
    requirements = _require(LAYER_REQUIREMENTS, "The layer's requirements file")
    key = _layer_key(requirements)
    dest = out / "layers" / "data_science.zip"
    stamp = dest.with_name(dest.name + ".inputs")

    changed = False
    if not (dest.exists() and stamp.exists() and stamp.read_text().strip() == key):
        wheels = out / "cache" / "wheels" / key
        if not (wheels / ".complete").exists():
            wheels.mkdir(parents=True, exist_ok=True)
            # --require-hashes: the requirements file is a hashed lock; pip refuses any other file.
            _pip(["download", "--quiet", "--require-hashes", "--dest", str(wheels), *PIP_PLATFORM_ARGS,
                  "-r", str(requirements)], "download the layer's wheels")
            (wheels / ".complete").write_text(key + "\n")
        with tempfile.TemporaryDirectory(dir=out, prefix=".layer-") as tmp:
            site = Path(tmp) / "python"
            # --no-index: install only the cached wheels; --no-compile: no .pyc, whose embedded
            # timestamps would make the zip differ between builds.
            _pip(["install", "--quiet", "--require-hashes", "--no-index", "--find-links", str(wheels),
                  "--no-compile", "--target", str(site), *PIP_PLATFORM_ARGS, "-r", str(requirements)],
                 "install the layer's wheels")
            _strip(site)
            _precompile(site)
            changed = write_zip(dest, _tree(site, "python", keep_bytecode=True))
        stamp.write_text(key + "\n")

    size = unzipped_size(dest)
    if size + function_code_size > LAMBDA_UNZIPPED_LIMIT:
        raise SizeBudgetError(
            f"The layer ({size:,} bytes unzipped) plus the {LAYER_FUNCTION} code "
            f"({function_code_size:,} bytes) exceed Lambda's {LAMBDA_UNZIPPED_LIMIT:,}-byte unzipped "
            f"limit. Trim {LAYER_REQUIREMENTS.relative_to(ROOT)} (e.g. fastparquet instead of pyarrow "
            "as the Parquet engine, ~115 MB smaller)."
        )
    return Artifact(dest, dest.stat().st_size, size, changed)


# --------------------------------------------------------------------------------------------------
# The Glue job's package: a pure-Python wheel
# --------------------------------------------------------------------------------------------------


def _record_hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(out_dir: Path, package: Dict[str, Path]) -> Artifact:
    """Write ``<dist>-<version>-py3-none-any.whl`` holding ``package``; remove older wheels.

    AWS Glue Python shell 3.9 installs --extra-py-files wheels with pip (it takes no .egg, and .zip
    is documented for Spark jobs only); a pure-Python wheel also imports straight from the archive.
    Written here rather than by a build backend so that it gets the same fixed timestamps and order
    as every other artifact (a wheel is a zip plus a few metadata files).
    """
    project = tomllib.loads(_require(PYPROJECT, "pyproject.toml").read_text())["project"]
    dist = re.sub(r"[-_.]+", "_", project["name"]).lower()  # wheel file-name escaping
    version = project["version"]
    dest = out_dir / f"{dist}-{version}-py3-none-any.whl"
    with tempfile.TemporaryDirectory() as tmp:
        info_dir = Path(tmp) / f"{dist}-{version}.dist-info"
        info_dir.mkdir()
        (info_dir / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {version}\n"
            f"Requires-Python: {project.get('requires-python', '>=3')}\n"
        )
        (info_dir / "WHEEL").write_text(
            "Wheel-Version: 1.0\nGenerator: scripts/build_artifacts.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        (info_dir / "top_level.txt").write_text("cripto_pipeline\n")
        entries = dict(package)
        entries.update({f"{info_dir.name}/{path.name}": path for path in info_dir.iterdir()})
        record = [f"{name},{_record_hash(path)},{path.stat().st_size}" for name, path in sorted(entries.items())]
        record.append(f"{info_dir.name}/RECORD,,")
        (info_dir / "RECORD").write_text("\n".join(record) + "\n")
        entries[f"{info_dir.name}/RECORD"] = info_dir / "RECORD"
        changed = write_zip(dest, entries)
    # Terraform uploads the one wheel it finds: drop those of earlier versions.
    for stale in out_dir.glob("*.whl"):
        if stale != dest:
            stale.unlink()
    return Artifact(dest, dest.stat().st_size, unzipped_size(dest), changed)


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------

PARTS = ("lambda", "layer", "glue", "glue-modules")


def build(out: Path, parts: Iterable[str] = PARTS) -> List[Artifact]:
    """Build the requested parts into ``out``; return what was built, in build order."""
    parts = set(parts)
    out.mkdir(parents=True, exist_ok=True)
    artifacts: List[Artifact] = []

    # Check every input first: a missing handler should fail before minutes of layer building.
    functions = LAMBDA_FUNCTIONS if "lambda" in parts else (LAYER_FUNCTION,) if "layer" in parts else ()
    function_inputs = {name: function_entries(name) for name in functions}
    if "glue" in parts:
        _require(GLUE_SCRIPT, "The Glue job script")
        _require(SPARK_SCRIPT, "The Glue Spark feature job script")
        glue_package = package_entries()

    if "lambda" in parts:
        for name, entries in function_inputs.items():
            dest = out / "lambda" / f"{name}.zip"
            changed = write_zip(dest, entries)
            artifacts.append(Artifact(dest, dest.stat().st_size, unzipped_size(dest), changed))
    if "layer" in parts:
        code_size = sum(path.stat().st_size for path in function_inputs[LAYER_FUNCTION].values())
        artifacts.append(build_layer(out, code_size))
    if "glue" in parts:
        script = out / "glue" / "model_training.py"
        changed = copy_file(GLUE_SCRIPT, script)
        artifacts.append(Artifact(script, script.stat().st_size, None, changed))
        spark_script = out / "glue" / SPARK_SCRIPT.name
        changed = copy_file(SPARK_SCRIPT, spark_script)
        artifacts.append(Artifact(spark_script, spark_script.stat().st_size, None, changed))
        artifacts.append(build_wheel(out / "glue", glue_package))
    if "glue-modules" in parts:
        if warning := glue_module_wheels.download(out):  # optional: the job then skips its report
            print(f"build_artifacts: warning: {warning}", file=sys.stderr)
        for wheel in glue_module_wheels.wheel_files(out / glue_module_wheels.WHEELS_DIR):
            artifacts.append(Artifact(wheel, wheel.stat().st_size, None, False))
    return artifacts


def _report(artifacts: Sequence[Artifact], out: Path, seconds: float) -> str:
    lines = [f"{'artifact':<48} {'size':>12} {'unzipped':>13}  status"]
    for item in artifacts:
        unzipped = f"{item.unzipped_size:>13,}" if item.unzipped_size is not None else f"{'-':>13}"
        status = "rebuilt" if item.changed else "unchanged"
        if item.size > LAMBDA_DIRECT_UPLOAD_LIMIT:
            status += " (> 50 MB: deployed via S3)"
        lines.append(f"{item.path.relative_to(out).as_posix():<48} {item.size:>12,} {unzipped}  {status}")
    lines.append(f"built into {out} in {seconds:.1f} s")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output directory (default: build/)")
    parser.add_argument(
        "--only", default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")

    started = time.monotonic()
    try:
        artifacts = build(args.out.resolve(), parts)
    except BuildError as exc:
        print(f"build_artifacts: error: {exc}", file=sys.stderr)
        return 1
    print(_report(artifacts, args.out.resolve(), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
