"""Names of the deployed stack, read back from ``terraform output -json`` (never hard-coded)."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from cripto_ops.exceptions import OpsError

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_WRAPPER = REPO_ROOT / "scripts" / "terraform.sh"


@dataclass(frozen=True)
class StackOutputs:
    """The names the tooling needs from the Terraform stack."""

    bucket_name: str
    feature_lambda_name: str
    trigger_lambda_name: str
    glue_job_name: str
    raw: Dict[str, Any]

    @property
    def region(self) -> Optional[str]:
        """The stack's region (``aws_region`` output), for clients when the environment names none."""
        return self.raw.get("aws_region")

    def client(self, service: str, **config: Any):
        """A boto3 client in the stack's region; endpoints and credentials come from the environment.
        ``config``: botocore Config arguments (e.g. ``retries``)."""
        import boto3
        from botocore.config import Config

        return boto3.client(service, region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                            or self.region, config=Config(**config) if config else None)

    @classmethod
    def from_terraform_json(cls, outputs: Dict[str, Any]) -> "StackOutputs":
        try:
            values = {name: entry["value"] for name, entry in outputs.items()}
            return cls(
                bucket_name=values["bucket_name"],
                feature_lambda_name=values["feature_lambda_name"],
                trigger_lambda_name=values["trigger_lambda_name"],
                glue_job_name=values["glue_job_name"],
                raw=values,
            )
        except (KeyError, TypeError) as exc:
            raise OpsError(f"Terraform outputs lack {exc}: is the stack deployed (`make deploy-local`)?") from exc


def load_outputs(environment: str = "local") -> StackOutputs:
    """Read the outputs of the stack deployed to ``environment`` (``local`` or ``aws``).

    Env vars: ``CRIPTO_STACK_OUTPUTS`` — path of a saved ``terraform output -json``, used instead of
    calling Terraform (e.g. on a machine without the state).
    """
    saved = os.environ.get("CRIPTO_STACK_OUTPUTS")
    if saved:
        return StackOutputs.from_terraform_json(json.loads(Path(saved).read_text()))
    result = subprocess.run(
        [str(TERRAFORM_WRAPPER), environment, "output", "-json"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise OpsError(
            f"`terraform output` for '{environment}' failed: {result.stderr.strip()[-500:]}\n"
            f"Deploy the stack first (`make deploy-{environment}`)."
        )
    outputs = json.loads(result.stdout or "{}")
    if not outputs:
        raise OpsError(f"The '{environment}' stack has no outputs: deploy it first (`make deploy-{environment}`).")
    return StackOutputs.from_terraform_json(outputs)
