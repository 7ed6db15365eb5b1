"""What one pipeline run would cost on AWS — the one place prices live.

Prices: AWS public on-demand prices for us-east-1 (Lambda x86_64, AWS Glue Python shell and
Spark, S3 Standard), as listed on aws.amazon.com/lambda/pricing, /glue/pricing and /s3/pricing. Free tiers are
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
    "glue_spark_minimum_seconds": 60.0,  # Glue 2.0+ Spark jobs: per second, at least 1 minute per run
    "s3_put_request": 0.005 / 1000,  # PUT/COPY/POST/LIST, USD per request
    "s3_get_request": 0.0004 / 1000,  # GET/SELECT, USD per request
    "s3_gb_month": 0.023,  # Standard storage, USD per GB-month
}

#: DPUs per worker of each Glue Spark worker type (AWS Glue pricing / job properties: G.1X = 1 DPU =
#: 4 vCPU and 16 GB). A run is billed for workers x DPU per worker for its duration.
SPARK_WORKER_DPU: Dict[str, float] = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0}

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
    #: (DPUs, seconds) per Glue Spark job run (the large-data path; see spark_dpu).
    spark_runs: Sequence[Tuple[float, float]] = ()


def spark_dpu(worker_type: str, number_of_workers: int) -> float:
    """DPUs a Glue Spark run is billed for: workers x DPU per worker (driver included in the count)."""
    if worker_type not in SPARK_WORKER_DPU:
        raise ValueError(f"Unknown Glue worker type {worker_type!r}: expected one of {sorted(SPARK_WORKER_DPU)}.")
    return SPARK_WORKER_DPU[worker_type] * number_of_workers


def run_cost(usage: RunUsage, prices: Dict[str, float] = PRICES) -> Dict[str, float]:
    """USD per component and ``total`` for one run."""
    gb_seconds = sum(memory_mb / 1024.0 * seconds for memory_mb, seconds in usage.lambda_invocations)
    billed_glue_seconds = max(usage.glue_seconds, prices["glue_python_shell_minimum_seconds"]) if usage.glue_dpu else 0.0
    breakdown = {
        "lambda_compute": gb_seconds * prices["lambda_gb_second"],
        "lambda_requests": len(usage.lambda_invocations) * prices["lambda_request"],
        "glue": usage.glue_dpu * billed_glue_seconds / 3600.0 * prices["glue_dpu_hour"],
        "glue_spark": sum(
            dpu * max(seconds, prices["glue_spark_minimum_seconds"]) / 3600.0 * prices["glue_dpu_hour"]
            for dpu, seconds in usage.spark_runs
        ),
        "s3_requests": usage.s3_puts * prices["s3_put_request"] + usage.s3_gets * prices["s3_get_request"],
        "s3_storage_month": usage.stored_bytes / 1e9 * prices["s3_gb_month"],
    }
    breakdown["total"] = sum(breakdown.values())
    return breakdown
