"""The security gate: Terraform through checkov, Python through bandit. Zero findings; every skip
is written next to the code or resource it concerns, with the reason."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKS_BIN = ROOT / ".venvs" / "checks" / "bin"
PYTHON_SOURCES = ["src", "lambdas", "glue", "emulator/src", "scripts"]


@pytest.fixture(scope="module", autouse=True)
def checks_environment():
    if not (CHECKS_BIN / "checkov").exists():
        pytest.fail("The checks environment is missing: run `make bootstrap`.")


def test_terraform_has_no_failed_checkov_checks():
    result = subprocess.run(
        [str(CHECKS_BIN / "checkov"), "--directory", str(ROOT / "terraform"), "--framework", "terraform",
         "--output", "json", "--quiet", "--skip-download"],
        capture_output=True, text=True, cwd=ROOT,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]}): {c['check_name']}"
              for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    assert not failed, "checkov findings (fix them, or skip next to the resource with a reason):\n" + "\n".join(failed)
    skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
    unexplained = [c["check_id"] for c in skipped if not (c.get("suppress_comment") or "").strip()]
    assert not unexplained, f"skips without a reason: {unexplained}"


def test_python_has_no_bandit_findings():
    result = subprocess.run(
        [str(CHECKS_BIN / "bandit"), "-c", "pyproject.toml", "-r", *PYTHON_SOURCES, "-f", "json", "-q"],
        capture_output=True, text=True, cwd=ROOT,
    )
    findings = json.loads(result.stdout)["results"]
    listed = [f"{f['test_id']} {f['filename']}:{f['line_number']} {f['issue_text']}" for f in findings]
    assert not listed, "bandit findings (fix them, or `# nosec <id>` with a reason):\n" + "\n".join(listed)
