"""Errors of the operator tooling; the CLI turns each into one red message and a non-zero exit."""
from __future__ import annotations

from typing import Optional


class OpsError(Exception):
    """Something the operator must act on; the message says what to do next."""


class StageFailed(OpsError):
    """A pipeline stage ended in failure; carries the stage and the evidence (logs, error report)."""

    def __init__(self, stage: str, reason: str, evidence: Optional[str] = None) -> None:
        self.stage = stage
        self.reason = reason
        self.evidence = evidence
        super().__init__(f"stage '{stage}' failed: {reason}")


class StageTimeout(StageFailed):
    """A stage did not finish within its time budget."""
