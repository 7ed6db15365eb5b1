"""No dead code in the core package, the Lambda handlers and the Glue job (issue 15): vulture finds
no unused function, class, variable, attribute, import or unreachable code there. Uses anywhere in
src/, lambdas/, glue/ and scripts/ count; uses only in tests do not (a function only tests call is dead).
Names vulture cannot see used are listed in vulture_whitelist.py, each with its reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VULTURE = ROOT / ".venvs" / "checks" / "bin" / "vulture"
WHITELIST = Path(__file__).with_name("vulture_whitelist.py")
#: Where a finding counts; the operator CLI (src/cripto_ops) is read for uses only.
CHECKED = ("src/cripto_pipeline/", "lambdas/", "glue/")


def test_no_dead_code_in_the_core_handlers_and_glue_job():
    if not VULTURE.exists():
        pytest.fail("vulture is missing from the checks environment: run `make bootstrap`.")
    result = subprocess.run(
        [str(VULTURE), "src", "lambdas", "glue", "scripts", str(WHITELIST), "--min-confidence", "60"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode in (0, 3), result.stderr  # 3: dead code found
    findings = [line for line in result.stdout.splitlines() if line.startswith(CHECKED)]
    assert not findings, "dead code (delete it, or list it in vulture_whitelist.py with the reason):\n" + \
        "\n".join(findings)
