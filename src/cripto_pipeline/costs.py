"""What one pipeline run would cost on AWS — the one place prices live.

Prices: AWS public on-demand prices for us-east-1 (Lambda x86_64, AWS Glue Python shell and
Spark, S3 Standard), as listed on aws.amazon.com/lambda/pricing, /glue/pricing and /s3/pricing. Free tiers are
ignored (they are per account, not per run). Update :data:`PRICES` when AWS changes them or for
another region; everything else derives from it.

Pure functions (no AWS calls). :func:`run_usage` is the one place a run's usage is built from what
can be observed of it, so the Glue job's report and ``cripto status`` price a run the same way:

- the feature Lambda is billed at most from the upload's event time to ``features.parquet`` written
  (:func:`feature_lambda_seconds`), or for a dataset it hands to the Spark job, to ``inputs.json``
  written (:func:`feature_lambda_bound`); a several-file dataset's debounce wait is inside that span
  and billed: the invocation sleeps through it. The trigger Lambda :data:`TRIGGER_BILLED_SECONDS`;
- Glue: DPUs x seconds (the job measures them until it draws the report; status reads Glue's
  ``ExecutionTime`` once the run has ended);
- the Glue Spark feature job of a large dataset: its DPUs x seconds (:func:`spark_run`). Training (and
  so the report) starts when the Spark job writes ``features.parquet``, before that run has ended, so the
  Spark job records its own DPUs and its seconds so far in the manifest it writes just before
  (:func:`spark_usage_record`); the report prices that record (:func:`recorded_spark_run`), ``status``
  prices GetJobRun's ``ExecutionTime`` once the run is final and the record until then. The record
  leaves out the few seconds after the manifest (writing the sample, deleting the staged rows, stopping
  Spark): within the 1-minute minimum for small runs, a small underestimate for long ones;
- S3: requests and stored bytes from the objects under the run's ``features/`` and ``models/``
  prefixes (:func:`s3_requests`, :func:`stored_bytes`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from . import layout, routing

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

#: Billed seconds of one trigger invocation: it only calls StartJobRun, but Lambda never bills zero.
TRIGGER_BILLED_SECONDS = 0.1
#: Keys under a run's prefixes that are left out of its stored bytes and counted as a PUT apart: the
#: report is drawn from the listing, so its own size cannot be known yet.
_WRITTEN_AFTER_LISTING = (layout.REPORT_NAME,)


@dataclass(frozen=True)
class RunUsage:
    """Measured usage of one run."""

    #: (memory in MB, billed seconds) per Lambda invocation.
    lambda_invocations: Sequence[Tuple[float, float]]
    glue_dpu: float
    glue_seconds: float
    s3_puts: int = 0
    s3_gets: int = 0
    #: Bytes the run adds to the bucket, charged for one month.
    stored_bytes: int = 0
    #: (DPUs, seconds) per Glue Spark job run (the large-data path; see spark_dpu).
    spark_runs: Sequence[Tuple[float, float]] = ()


def spark_dpu(worker_type: str, number_of_workers: int) -> float:
    """DPUs a Glue Spark run is billed for: workers x DPU per worker (driver included in the count)."""
    if worker_type not in SPARK_WORKER_DPU:
        raise ValueError(f"Unknown Glue worker type {worker_type!r}: expected one of {sorted(SPARK_WORKER_DPU)}.")
    return SPARK_WORKER_DPU[worker_type] * number_of_workers


def spark_run(job_run: Mapping[str, object]) -> Tuple[float, float]:
    """(DPUs, seconds) of a finished Glue Spark run from GetJobRun's ``JobRun``: an entry of
    ``RunUsage.spark_runs`` (the 1-minute minimum is applied when pricing, in :func:`run_cost`).

    DPUs from ``WorkerType`` x ``NumberOfWorkers`` (else ``MaxCapacity``); seconds = ``ExecutionTime``.
    """
    worker_type, workers = job_run.get("WorkerType"), job_run.get("NumberOfWorkers")
    if worker_type and workers:
        dpus = spark_dpu(str(worker_type), int(workers))  # type: ignore[call-overload]
    elif job_run.get("MaxCapacity"):
        dpus = float(job_run["MaxCapacity"])  # type: ignore[arg-type]
    else:
        raise ValueError(f"Glue run {job_run.get('Id')!r} reports neither WorkerType/NumberOfWorkers nor MaxCapacity.")
    return dpus, float(job_run.get("ExecutionTime") or 0)  # type: ignore[arg-type]


#: The manifest field in which the Spark feature job records its own usage (see the module docstring).
SPARK_USAGE_FIELD = "spark_usage"


def spark_usage_record(job_run: Mapping[str, object], now: datetime) -> Dict[str, object]:
    """The Spark job's record of its own run (GetJobRun of itself) at ``now``: its DPUs (as :func:`spark_run`
    reads them) and the seconds since the run started (``StartedOn``), which is what Glue bills so far."""
    dpus, _ = spark_run(job_run)
    started = job_run.get("StartedOn")
    if not isinstance(started, datetime):
        raise ValueError(f"Glue run {job_run.get('Id')!r} reports no StartedOn.")
    seconds = max(0.0, (now - started).total_seconds())
    return {"job_run_id": job_run.get("Id"), "dpu": dpus, "seconds": round(seconds, 3),
            "measured": "run start -> manifest written"}


def recorded_spark_run(manifest: Mapping[str, object]) -> Optional[Tuple[float, float]]:
    """(DPUs, seconds) of the Spark feature job as it recorded them in its manifest, or None (a manifest of the
    Lambda path, of an older Spark job, or of a Spark job that could not read its own run)."""
    record = manifest.get(SPARK_USAGE_FIELD)
    if not isinstance(record, Mapping) or record.get("dpu") is None or record.get("seconds") is None:
        return None
    return float(record["dpu"]), float(record["seconds"])  # type: ignore[arg-type]


def feature_lambda_seconds(uploaded: Optional[datetime], features_written: Optional[datetime]) -> Optional[float]:
    """Upload event -> ``features.parquet`` written: bounds the feature Lambda's billed duration from above.

    ``features_written`` counts in whole seconds: GetObject/HeadObject give LastModified to the second,
    ListObjectsV2 sometimes to the millisecond, and the job and ``status`` read it differently.
    """
    if uploaded is None or features_written is None:
        return None
    written = features_written.replace(microsecond=0)
    return max(0.0, (written - uploaded).total_seconds())


def feature_lambda_bound(engine: Optional[str], manifest: Mapping[str, Any], run_id: str,
                         features_written: Optional[datetime], inputs_written: Optional[datetime]) -> Optional[float]:
    """:func:`feature_lambda_seconds` of one run, for the report and ``status`` alike.

    Built by the Lambda (pandas): upload event (``manifest.json`` ``raw.event_time``) -> ``features.parquet``
    written. Handed to the Spark job: the upload (the run id's time, to the second: the Spark manifest names
    files, not events) -> ``inputs.json`` written; the invocation ends with StartJobRun right after.
    """
    if engine == routing.SPARK:
        if not run_id:
            return None
        uploaded = layout.parse_event_time(routing.upload_event_time(dict(manifest), run_id))
        return feature_lambda_seconds(uploaded, inputs_written)
    event_time = routing.started_by(dict(manifest)).get("event_time")
    return feature_lambda_seconds(layout.parse_event_time(event_time) if event_time else None, features_written)


def _listed_before_report(key: str) -> bool:
    return layout.object_name(key) not in _WRITTEN_AFTER_LISTING


def s3_requests(run_objects: Iterable[str]) -> Tuple[int, int]:
    """(PUT-class, GET-class) requests of one run, from the keys under its features/ and models/ prefixes.

    PUTs: each of those objects; the raw upload and the content claim (outside the run's prefixes);
    once the model is there, latest.json, the report and the job's two listings of the run's prefixes.
    GETs: the feature Lambda reads the raw file; the job reads the manifest, the features and latest.json.
    """
    keys = [key for key in run_objects if _listed_before_report(key)]
    names = {layout.object_name(key) for key in keys}
    puts, gets = len(keys) + 2, 1
    if layout.MODEL_NAME in names:
        puts += 4
        gets += 3
    return puts, gets


def stored_bytes(run_objects: Mapping[str, int]) -> int:
    """Bytes the run adds to the bucket (the raw upload is the user's; the report is left out, see above)."""
    return sum(size for key, size in run_objects.items() if _listed_before_report(key))


def run_usage(glue_dpu: Optional[float], glue_seconds: Optional[float], run_objects: Mapping[str, int],
              feature_lambda: Optional[Tuple[float, float]] = None,
              trigger_lambda_memory_mb: Optional[float] = None,
              spark_runs: Sequence[Tuple[float, float]] = ()) -> RunUsage:
    """The usage of one run from what the job and ``status`` both observe (see the module docstring).

    ``feature_lambda``: (memory MB, :func:`feature_lambda_seconds`); ``trigger_lambda_memory_mb``: None when
    the trigger has not started a Glue run for it; ``spark_runs``: (DPUs, seconds) of the Spark feature job's
    run that built the features (large datasets), else empty.
    """
    invocations = [feature_lambda] if feature_lambda else []
    if trigger_lambda_memory_mb:
        invocations.append((trigger_lambda_memory_mb, TRIGGER_BILLED_SECONDS))
    puts, gets = s3_requests(run_objects)
    return RunUsage(lambda_invocations=invocations, glue_dpu=glue_dpu or 0.0,
                    glue_seconds=float(glue_seconds or 0.0),
                    s3_puts=puts, s3_gets=gets, stored_bytes=stored_bytes(run_objects),
                    spark_runs=tuple(spark_runs))


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
