"""Which runtimes the local-process executor accepts, and what a refused user is told."""
from __future__ import annotations

import sys
from pathlib import Path

from localaws.lambda_executor.runtimes import available_runtimes, refusal


def _environ(tmp_path: Path) -> dict:
    missing = tmp_path / "no-such-python"
    return {
        "LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12": sys.executable,
        "LOCALAWS_LAMBDA_RUNTIME_PYTHON3_13": str(missing),  # configured, but the file is gone
        "UNRELATED": "x",
    }


def test_available_runtimes_are_those_whose_interpreter_exists(tmp_path):
    assert available_runtimes(_environ(tmp_path)) == ["python3.12"]


def test_a_served_runtime_or_no_runtime_is_not_refused(tmp_path):
    environ = _environ(tmp_path)
    assert refusal("python3.12", environ) is None
    assert refusal(None, environ) is None  # an update that keeps the runtime


def test_refusal_names_the_runtime_the_runtimes_available_and_how_to_add_one(tmp_path):
    message = refusal("python3.11", _environ(tmp_path))
    assert message.startswith("Runtime python3.11 has no local interpreter")
    assert "runtimes available: python3.12)" in message
    assert "LOCALAWS_LAMBDA_RUNTIME_PYTHON3_11" in message
    assert "make bootstrap" in message


def test_a_configured_but_missing_interpreter_is_refused(tmp_path):
    message = refusal("python3.13", _environ(tmp_path))
    assert "not an executable file" in message


def test_non_python_runtimes_are_refused_with_the_reason(tmp_path):
    message = refusal("nodejs20.x", _environ(tmp_path))
    assert "Python runtimes only" in message


def test_runtimes_available_are_listed_oldest_first(tmp_path):
    environ = {f"LOCALAWS_LAMBDA_RUNTIME_PYTHON3_{minor}": sys.executable for minor in (13, 9, 10)}
    assert available_runtimes(environ) == ["python3.9", "python3.10", "python3.13"]
