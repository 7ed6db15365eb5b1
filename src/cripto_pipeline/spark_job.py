"""The Spark feature job's steps after per-file validation (issue 12): no AWS calls, URIs in, documents out.

``glue/spark_features_job.py`` (the thin Glue shell) validates each raw file on the driver
(:mod:`cripto_pipeline.large_inputs`) and stages the validated rows; then :func:`build_feature_set`

1. applies the rules that span files (:mod:`cripto_pipeline.spark_dataset`),
2. computes the features with the Spark engine (:mod:`cripto_pipeline.spark_features`),
3. writes the full feature set to ``parts_uri`` (Parquet, one part per shuffle partition, rows sorted by
   symbol and time within each part; overwritten when the run is repeated),
4. draws the bounded training sample from what was written (:mod:`cripto_pipeline.spark_sample`);

:func:`spark_manifest` is the run's ``manifest.json``: the Lambda path's keys (``raw`` lists every file:
key, version id, ETag, size, sha256 in ``raw.files``: the lineage training copies), plus ``engine``, ``rows_total``,
``rows_sampled``, ``sample``, ``parts_prefix``, ``inputs_key``, ``spark_usage`` (the run's own DPUs and seconds
so far, for the report's cost: cripto_pipeline.costs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import pandas as pd
from pyspark.sql import SparkSession

from . import __version__, costs, routing, spark_dataset, spark_features, spark_sample
from .features import FEATURE_COLUMNS
from .large_inputs import ENGINE, FileSummary, JobInputs, raw_summary
from .layout import RunKeys
from .pipeline import MANIFEST_SCHEMA, code_fingerprint, library_versions
from .validation import CANONICAL_COLUMNS


@dataclass
class FeatureSet:
    dataset: spark_dataset.Dataset
    rows_total: int
    sample: pd.DataFrame
    sample_description: Dict[str, Any]


def build_feature_set(session: SparkSession, staged_uri: str, parts_uri: str, file_keys: Sequence[str],
                      sample_rows: int) -> FeatureSet:  # fmt: skip
    """Staged validated rows -> full features at ``parts_uri`` + the training sample.

    Raises InputRejectedError when a rule across files fails (nothing is written then).
    """
    dataset = spark_dataset.combine(session.read.parquet(staged_uri), file_keys)
    features = spark_features.compute_features(dataset.frame.select(*CANONICAL_COLUMNS))
    (features.repartition("symbol").sortWithinPartitions("symbol", "timestamp")
     .write.mode("overwrite").parquet(parts_uri))  # fmt: skip
    written = session.read.parquet(parts_uri)
    rows_total = written.count()
    sample, described = spark_sample.time_stratified_sample(session, written, rows_total, sample_rows)
    return FeatureSet(dataset, rows_total, sample, described)


def spark_manifest(bucket: str, inputs: JobInputs, keys: RunKeys, files: List[FileSummary], result: FeatureSet,
                   job_run_id: str | None, spark_usage: Dict[str, Any] | None = None) -> Dict[str, Any]:  # fmt: skip
    """The run's manifest.json (see the module docstring)."""
    dataset = result.dataset
    return {
        "schema": MANIFEST_SCHEMA,
        "engine": ENGINE,
        "dataset": inputs.dataset,
        "run_id": inputs.run_id,
        "reason": inputs.reason,
        "inputs_key": keys.inputs,
        "raw": raw_summary(bucket, inputs.dataset, [summary.identity for summary in files]),
        "features_key": keys.features,
        "parts_prefix": keys.parts_prefix,
        "feature_columns": list(FEATURE_COLUMNS),
        "rows": {"raw": sum(s.rows for s in files), "validated": dataset.rows, "features": result.rows_total},
        "rows_total": result.rows_total,
        "rows_sampled": int(len(result.sample)),
        "sample": result.sample_description,
        "symbols": dataset.symbols,
        "time_range": {"first": dataset.first_timestamp, "last": dataset.last_timestamp},
        "input": [{"key": s.identity["key"], "columns": s.columns, "timestamp_format": s.timestamp_format,
                   "rows": s.rows} for s in files],  # fmt: skip
        "warnings": [w for s in files for w in s.warnings] + dataset.warnings,
        "glue_job_run_id": job_run_id,
        costs.SPARK_USAGE_FIELD: spark_usage,
        routing.DEBOUNCE_FIELD: inputs.debounce,  # several-file runs: the feature Lambda's wait (routing.debounce_record)
        "code_version": __version__,
        "code_sha256": code_fingerprint(),
        "libraries": {**library_versions(), "pyspark": session_version()},
    }


def session_version() -> str | None:
    active = SparkSession.getActiveSession()
    return active.version if active is not None else None
