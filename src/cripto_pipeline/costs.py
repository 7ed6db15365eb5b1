"""What one pipeline run would cost on AWS — the one place prices live.

Prices: AWS public on-demand prices for us-east-1 (Lambda x86_64, AWS Glue Python shell, S3
Standard), as listed on aws.amazon.com/lambda/pricing, /glue/pricing and /s3/pricing. Free tiers are
ignored (they are per account, not per run). Update :data:`PRICES` when AWS changes them or for
another region; everything else derives from it.

Pure functions (no AWS calls): the Glue job uses them for its report, the CLI for ``status``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

PRICES: Dict[str, float] = {
    "lambda_gb_second": 0.0000166667,  # USD per GB-second, x86_64
    "lambda_request": 0.20 / 1_000_000,  # USD per request
    "glue_dpu_hour": 0.44,  # USD per DPU-hour, billed per second
    "glue_python_shell_minimum_seconds": 60.0,  # Python shell jobs bill at least 1 minute
    "s3_put_request": 0.005 / 1000,  # PUT/COPY/POST/LIST, USD per request
    "s3_get_request": 0.0004 / 1000,  # GET/SELECT, USD per request
    "s3_gb_month": 0.023,  # Standard storage, USD per GB-month
}

#: Objects one successful run writes and reads (see layout.py): upload, manifest, features, model,
#: feature list, metrics, lineage, report, latest.json / raw, manifest, features, latest.json.
S3_PUTS_PER_RUN = 9
S3_GETS_PER_RUN = 4


@dataclass(frozen=True)
class RunUsage:
    """Measured usage of one run."""

    #: (memory in MB, billed seconds) per Lambda invocation.
    lambda_invocations: Sequence[Tuple[float, float]]
    glue_dpu: float
    glue_seconds: float
    s3_puts: int = S3_PUTS_PER_RUN
    s3_gets: int = S3_GETS_PER_RUN
    #: Bytes the run adds to the bucket, charged for one month.
    stored_bytes: int = 0


def run_cost(usage: RunUsage, prices: Dict[str, float] = PRICES) -> Dict[str, float]:
    """USD per component and ``total`` for one run."""
    gb_seconds = sum(memory_mb / 1024.0 * seconds for memory_mb, seconds in usage.lambda_invocations)
    billed_glue_seconds = max(usage.glue_seconds, prices["glue_python_shell_minimum_seconds"]) if usage.glue_dpu else 0.0
    breakdown = {
        "lambda_compute": gb_seconds * prices["lambda_gb_second"],
        "lambda_requests": len(usage.lambda_invocations) * prices["lambda_request"],
        "glue": usage.glue_dpu * billed_glue_seconds / 3600.0 * prices["glue_dpu_hour"],
        "s3_requests": usage.s3_puts * prices["s3_put_request"] + usage.s3_gets * prices["s3_get_request"],
        "s3_storage_month": usage.stored_bytes / 1e9 * prices["s3_gb_month"],
    }
    breakdown["total"] = sum(breakdown.values())
    return breakdown
