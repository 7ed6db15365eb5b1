"""External tools a test needs: missing on a developer's machine -> skip; missing in CI -> fail.

CI (``CI=true``, set by the CI runner) must prove the checks ran: a skipped static Terraform test there
would let a broken stack through silently.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """The path of ``name`` on PATH; skips the test without it, or fails it in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (install it, e.g. Terraform >= 1.5 for `terraform`)"
        if in_ci():
            pytest.fail(f"{message}: CI must run this check, not skip it", pytrace=False)
        pytest.skip(message)
    return path
