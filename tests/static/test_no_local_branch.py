"""No code path asks "am I local?" (README, "What is faithful to AWS"): the pipeline's code — the core
package, the Lambda handlers, the Glue job, the operator CLI — and the scripts get endpoints and
credentials from the environment only. Local endpoints are set by the tooling that chooses the
target (Makefile LOCAL_AWS, `scripts/terraform.sh local`, `scripts/deploy.sh local`) and nowhere else.
terraform/ has its own check (tests/unit/test_terraform_static.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[2]

#: A local endpoint, the emulator by name, or a hand-set endpoint.
LOCAL_VALUE = re.compile(r"localhost|127\.0\.0\.1|localstack|:4566\b|:4567\b|\b4566\b|\b4567\b|endpoint_url\s*=|"
                         r"AWS_ENDPOINT_URL|AWS_S3_USE_PATH_STYLE", re.IGNORECASE)
#: Code that branches on where it runs.
LOCAL_BRANCH = re.compile(r"""(==|!=)\s*["'](local|localstack|dev)["']|["'](local|localstack)["']\s*(==|!=)|"""
                          r"""\bis_local\b|\bIS_LOCAL\b|\bLOCAL_RUN\b|\bUSE_LOCALSTACK\b|"""
                          r"""(getenv|environ\.get|environ\[)\s*\(?\s*["'](STAGE|ENV|ENVIRONMENT|DEPLOY_ENV)["']""",
                          re.IGNORECASE)

#: The tooling that legitimately names local endpoints, and why.
ALLOWED = {
    "scripts/terraform.sh": "`local` sets the emulator's endpoints for Terraform (and refuses them for `aws`)",
    "scripts/deploy.sh": "`deploy.sh local` points at the emulation and waits for it",
    "scripts/local_state.py": "`deploy.sh local` asks LocalStack which emulation answers, to keep the local state with it",
    "scripts/aws_preflight.py": "lists the preflight's checks, the refusal of emulator settings first",
    "scripts/preflight_checks.py": "detects emulator settings in order to refuse them before an AWS deploy",
    "scripts/bootstrap.sh": "builds LocalStack's own environment",
}

CODE_DIRS = ("src", "lambdas", "glue", "scripts")


def code_files() -> List[Path]:
    files = []
    for top in CODE_DIRS:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix in (".py", ".sh") and "__pycache__" not in path.parts:
                files.append(path)
    return files


def hits(pattern: re.Pattern, allowed: dict) -> List[str]:
    found = []
    for path in code_files():
        relative = path.relative_to(REPO).as_posix()
        if relative in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_the_scan_covers_every_code_directory():
    scanned = {path.relative_to(REPO).parts[0] for path in code_files()}
    assert scanned == set(CODE_DIRS)
    assert (REPO / "lambdas" / "glue_trigger" / "handler.py") in code_files()
    assert (REPO / "glue" / "model_training.py") in code_files()


def test_no_local_endpoint_outside_the_tooling_that_sets_it():
    found = hits(LOCAL_VALUE, ALLOWED)
    assert found == [], "local endpoints in code (take them from the environment):\n" + "\n".join(found)


def test_no_code_path_asks_am_i_local():
    found = hits(LOCAL_BRANCH, {})
    assert found == [], "environment branches in code (configure, do not branch):\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    'if os.environ.get("STAGE") == "local":',
    'endpoint_url = "http://localhost:4566"',
    "IS_LOCAL = True",
    's3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4566")',
])
def test_the_patterns_catch_the_usual_local_branches(line):
    assert LOCAL_VALUE.search(line) or LOCAL_BRANCH.search(line)


def test_allowed_files_exist():
    # an entry for a file that is gone would silently widen the allowance to a new file of that name
    assert [name for name in ALLOWED if not (REPO / name).is_file()] == []
