"""The pipeline's steps as pure functions: bytes in, objects to write out (no AWS calls).

The handlers and the Glue script fetch the inputs, call one function here, and write the
returned :class:`ObjectToWrite` list *in order* (order matters: the manifest precedes the
Parquet file, latest.json comes last). Keys come from :mod:`cripto_pipeline.layout`.

This module must stay importable without scikit-learn (the Lambda layer has none):
training is imported inside :func:`train_from_features`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import pkgutil
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd

from . import __version__, events, layout, routing
from .events import S3ObjectRef
from .exceptions import InputRejectedError, InvalidKeyError, TrainingDataError
from .features import FEATURE_COLUMNS, MIN_ROWS_PER_SYMBOL, compute_features
from .validation import load_ohlcv

MANIFEST_SCHEMA = "cripto-pipeline/features-manifest/v1"
METRICS_SCHEMA = "cripto-pipeline/metrics/v1"
LINEAGE_SCHEMA = "cripto-pipeline/lineage/v1"
LATEST_SCHEMA = "cripto-pipeline/latest/v1"
ERROR_SCHEMA = "cripto-pipeline/rejected-input/v1"
CLAIM_SCHEMA = "cripto-pipeline/content-claim/v1"
DUPLICATE_SCHEMA = "cripto-pipeline/duplicate-content/v1"
STATUS_SCHEMA = "cripto-pipeline/run-status/v1"
JSON_TYPE = "application/json"
PARQUET_TYPE = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class ObjectToWrite:
    """One S3 object to create. ``only_if_absent`` asks for a conditional put (If-None-Match: *)."""

    key: str
    body: bytes
    content_type: str
    only_if_absent: bool = False

    @property
    def put_arguments(self) -> Dict[str, Any]:
        """Keyword arguments of S3 PutObject for this object (bucket aside)."""
        extra = {"IfNoneMatch": "*"} if self.only_if_absent else {}
        return {"Key": self.key, "Body": self.body, "ContentType": self.content_type, **extra}


@dataclass
class Outcome:
    """Result of one step: objects to write (in order) and a small JSON-able summary."""

    #: features_written | rejected | ignored | duplicate | duplicate_content | superseded | model_written
    status: str
    writes: List[ObjectToWrite] = field(default_factory=list)
    summary: Dict[str, Any] = field(default_factory=dict)
    #: Conditional put to make before ``writes``: claims the content for this run (see
    #: :func:`covered_by` for what to do when another run holds the claim).
    claim: Optional[ObjectToWrite] = None
    #: Training only: the in-memory TrainingResult (refit model, out-of-sample predictions) for the
    #: report built next in the same process. Never written.
    training: Optional[Any] = None

    @property
    def log_level(self) -> int:
        """WARNING for inputs that produced no features, INFO otherwise."""
        return logging.WARNING if self.status in ("rejected", "ignored") else logging.INFO


def to_json_bytes(document: Any) -> bytes:
    """Stable, human-readable JSON (sorted keys; NaN/inf become null)."""
    return json.dumps(_clean(document), indent=2, sort_keys=True, allow_nan=False).encode("utf-8") + b"\n"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


#: Module name -> distribution name of the libraries whose versions shape results.
_LIBRARIES = {"numpy": "numpy", "pandas": "pandas", "pyarrow": "pyarrow", "fastparquet": "fastparquet",
              "sklearn": "scikit-learn", "joblib": "joblib", "scipy": "scipy"}  # fmt: skip


def library_versions() -> Dict[str, Optional[str]]:
    """Versions of the libraries that shape results (None when not installed); imports nothing new."""
    versions: Dict[str, Optional[str]] = {"python": platform.python_version(), "cripto_pipeline": __version__}
    for module_name, distribution in _LIBRARIES.items():
        module = sys.modules.get(module_name)
        version = getattr(module, "__version__", None) if module is not None else None
        if version is None:
            try:
                version = importlib_metadata.version(distribution)
            except importlib_metadata.PackageNotFoundError:
                version = None
        versions[module_name] = version
    return versions


def code_fingerprint() -> str:
    """sha256 of the cripto_pipeline sources: identifies the exact code, also when shipped as a zip.

    Subpackages count too (``report.analysis``); walking them imports each subpackage's ``__init__``.
    """
    package = sys.modules[__package__]
    digest = hashlib.sha256()
    for module in sorted(pkgutil.walk_packages(package.__path__, f"{__package__}."), key=lambda m: m.name):
        spec = importlib.util.find_spec(module.name)
        if spec is not None and spec.origin and spec.loader is not None and hasattr(spec.loader, "get_data"):
            name = module.name[len(__package__) + 1 :]
            digest.update(name.encode() + b"\0" + spec.loader.get_data(spec.origin) + b"\0")
    return digest.hexdigest()


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes with the default engine (pyarrow or fastparquet, whichever is installed)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    """Inverse of frame_to_parquet."""
    return pd.read_parquet(io.BytesIO(data))


# --- feature engineering (Lambda) ------------------------------------------------------------


def run_id_for(ref: S3ObjectRef) -> str:
    """Run id of the uploaded object named by ``ref`` (see layout.make_run_id)."""
    return layout.make_run_id(ref.event_time, ref.key, ref.version_id, ref.etag)


def _raw_identity(ref: S3ObjectRef, data: Optional[bytes]) -> Dict[str, Any]:
    return {
        "bucket": ref.bucket,
        "key": ref.key,
        "version_id": ref.version_id,
        "etag": ref.etag,
        "event_time": ref.event_time,
        "size_bytes": len(data) if data is not None else ref.size,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
    }


def build_features(ref: S3ObjectRef, data: bytes, *, max_raw_bytes: int) -> Outcome:
    """Uploaded CSV -> manifest + features.parquet, or an errors/ report for rejected input.

    ``data`` may be the first ``max_raw_bytes + 1`` bytes of a larger object (the caller never
    reads more): it is then rejected as too large. Keys outside the layout (e.g. ``raw/a/b.csv``)
    produce an ``ignored`` outcome with a report under ``errors/_invalid-key/``.
    """
    run_id = run_id_for(ref)
    try:
        dataset = layout.dataset_from_raw_key(ref.key)
    except InvalidKeyError as error:
        report = {
            "schema": ERROR_SCHEMA,
            "error": type(error).__name__,
            "what": str(error),
            "where": {"key": ref.key},
            "fix": "Upload to 'raw.csv' or 'raw/<dataset>.csv'.",
            "raw": _raw_identity(ref, None),
            "run_id": run_id,
        }
        key = layout.invalid_key_error_key(run_id)
        return Outcome(
            "ignored",
            [ObjectToWrite(key, to_json_bytes(report), JSON_TYPE)],
            {"status": "ignored", "key": ref.key, "error_key": key, "reason": str(error)},
        )
    keys = layout.run_keys(dataset, run_id)
    try:
        validated = load_ohlcv(
            data, max_bytes=max_raw_bytes, min_rows_per_symbol=MIN_ROWS_PER_SYMBOL, default_symbol=dataset
        )
    except InputRejectedError as error:
        report = {
            "schema": ERROR_SCHEMA,
            "dataset": dataset,
            "run_id": run_id,
            "raw": _raw_identity(ref, data if len(data) <= max_raw_bytes else None),
            **error.to_report(),
        }
        return Outcome(
            "rejected",
            [ObjectToWrite(keys.error, to_json_bytes(report), JSON_TYPE)],
            {
                "status": "rejected",
                "dataset": dataset,
                "run_id": run_id,
                "error": error.kind,
                "error_key": keys.error,
                "reason": error.what,
            },
        )
    features = compute_features(validated.frame)
    raw = _raw_identity(ref, data)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "dataset": dataset,
        "run_id": run_id,
        "raw": raw,
        "features_key": keys.features,
        "feature_columns": list(FEATURE_COLUMNS),
        "rows": {"raw": validated.details["rows"], "features": int(len(features))},
        **routing.pandas_engine(len(features)),
        "symbols": validated.details["symbols"],
        "time_range": {
            "first": validated.details["first_timestamp"],
            "last": validated.details["last_timestamp"],
        },
        "input": {
            "columns": validated.details["columns"],
            "timestamp_format": validated.details["timestamp_format"],
        },
        "warnings": validated.warnings,
    }
    writes = feature_set_writes(keys, manifest, features)
    claim = {"schema": CLAIM_SCHEMA, "dataset": dataset, "run_id": run_id, "features_key": keys.features,
             "raw": raw}  # fmt: skip
    return Outcome(
        "features_written",
        writes,
        {
            "status": "features_written",
            "dataset": dataset,
            "run_id": run_id,
            "features_key": keys.features,
            "rows": int(len(features)),
            "warnings": len(validated.warnings),
        },
        claim=ObjectToWrite(
            layout.content_claim_key(dataset, raw["sha256"]), to_json_bytes(claim), JSON_TYPE,
            only_if_absent=True,
        ),
    )


def feature_set_writes(keys: layout.RunKeys, manifest: Dict[str, Any], features: pd.DataFrame) -> List[ObjectToWrite]:
    """The manifest (with the code and library versions) and then features.parquet: the Lambda path's writes."""
    manifest = {**manifest, "code_version": __version__, "code_sha256": code_fingerprint(), "libraries": library_versions()}
    # Conditional Parquet put: a duplicated event must not create the object again (that would start training twice).
    return [ObjectToWrite(keys.manifest, to_json_bytes(manifest), JSON_TYPE),
            ObjectToWrite(keys.features, frame_to_parquet(features), PARQUET_TYPE, only_if_absent=True)]


def covered_by(outcome: Outcome, holder: Dict[str, Any]) -> Outcome:
    """What to do when the content claim of ``outcome`` already exists and names ``holder``'s run.

    The same run (a redelivered event, or a retry after a crash between the claim and the Parquet
    file) carries on with its writes. Another run means identical bytes were uploaded again: no new
    training run; a ``duplicate-of.json`` record says which run covers this upload.
    """
    summary = outcome.summary
    if holder.get("run_id") == summary["run_id"]:
        return outcome
    keys = layout.run_keys(summary["dataset"], summary["run_id"])
    raw = json.loads(outcome.claim.body)["raw"] if outcome.claim is not None else None
    record = {
        "schema": DUPLICATE_SCHEMA,
        "dataset": keys.dataset,
        "run_id": keys.run_id,
        "raw": raw,
        "covered_by": {k: holder.get(k) for k in ("run_id", "features_key", "raw")},
        "what": f"The same content (sha256) was already uploaded; run {holder.get('run_id')} covers it.",
        "fix": "Nothing to do. To train again on identical data, start the Glue job for the covering run's "
        "features_key, or change the file.",
    }
    return Outcome(
        "duplicate_content",
        [ObjectToWrite(keys.duplicate, to_json_bytes(record), JSON_TYPE)],
        {
            "status": "duplicate_content",
            "dataset": keys.dataset,
            "run_id": keys.run_id,
            "covered_by_run_id": holder.get("run_id"),
            "duplicate_key": keys.duplicate,
        },
    )


def condition_failed(ref: S3ObjectRef, operation: str, code: str) -> Optional[Outcome]:
    """Outcome for an S3 error while processing ``ref``, or None when the error is a real failure.

    A failed If-None-Match on PutObject means a duplicated event already wrote this run
    ("duplicate"); a failed If-Match on GetObject means the key was overwritten after the event, and
    the newer object's own event will be processed ("superseded"). Neither needs a retry.
    """
    if code not in events.CONDITION_FAILED_CODES:
        return None
    status = "duplicate" if operation == "PutObject" else "superseded"
    return Outcome(status, summary={"status": status, "key": ref.key, "run_id": run_id_for(ref)})


# --- training (Glue) ---------------------------------------------------------------------------


def train_from_features(
    features_key: str,
    manifest: Dict[str, Any],
    parquet: bytes,
    *,
    job_run_id: Optional[str] = None,
) -> Outcome:
    """Manifest + features.parquet -> model artifacts (writes ordered: artifacts, then nothing else).

    latest.json is not part of the outcome: it must be written only after these objects exist,
    and only if this run is newer than the one it points to (see :func:`latest_pointer`).
    """
    from . import training  # scikit-learn lives only where training runs (Glue)

    keys = layout.parse_features_key(features_key)
    if manifest.get("run_id") != keys.run_id or manifest.get("dataset") != keys.dataset:
        raise TrainingDataError(
            f"Manifest for {features_key} names run {manifest.get('run_id')!r} of dataset "
            f"{manifest.get('dataset')!r}: it belongs to another run."
        )
    frame = parquet_to_frame(parquet)
    columns = list(manifest.get("feature_columns") or FEATURE_COLUMNS)
    result = training.train(frame, columns)
    metrics = {"schema": METRICS_SCHEMA, "dataset": keys.dataset, "run_id": keys.run_id, **result.metrics}
    lineage = {
        "schema": LINEAGE_SCHEMA,
        "dataset": keys.dataset,
        "run_id": keys.run_id,
        "raw": manifest.get("raw"),
        "raw_files": routing.raw_files(manifest),  # every key + version the run read
        "training_rows": routing.training_rows(manifest),
        "features_key": keys.features,
        "features_sha256": hashlib.sha256(parquet).hexdigest(),
        "manifest_key": keys.manifest,
        "feature_engineering": {
            "code_version": manifest.get("code_version"),
            "code_sha256": manifest.get("code_sha256"),
            "libraries": manifest.get("libraries"),
        },
        "training": {
            "code_version": __version__,
            "code_sha256": code_fingerprint(),
            "libraries": library_versions(),
            "glue_job_run_id": job_run_id,
        },
        "model_key": keys.model,
        "best_model": result.best_model,
    }
    writes = [
        ObjectToWrite(keys.model, model_to_bytes(result.model), "application/octet-stream"),
        ObjectToWrite(keys.feature_list, to_json_bytes(result.feature_columns), JSON_TYPE),
        ObjectToWrite(keys.metrics, to_json_bytes(metrics), JSON_TYPE),
        ObjectToWrite(keys.lineage, to_json_bytes(lineage), JSON_TYPE),
    ]
    comparison = result.metrics["comparison"]
    return Outcome(
        "model_written",
        writes,
        {
            "status": "model_written",
            "dataset": keys.dataset,
            "run_id": keys.run_id,
            "best_model": result.best_model,
            "model_key": keys.model,
            "accuracy_mean": comparison["model_accuracy_mean"],
            "balanced_accuracy_mean": comparison["model_balanced_accuracy_mean"],
            "best_baseline_accuracy_mean": comparison["best_baseline_accuracy_mean"],
            "beats_all_baselines": comparison["beats_all_baselines"],
            "verdict": comparison["verdict"],
            "training_seconds": result.metrics["training_seconds"],
        },
        training=result,
    )


def failure_status(
    features_key: str, error: BaseException, job_run_id: Optional[str]
) -> Optional[ObjectToWrite]:
    """models/<dataset>/<run_id>/status.json for a training run that raised ``error``.

    None when ``features_key`` names no run (nothing to attach the status to).
    """
    try:
        keys = layout.parse_features_key(features_key)
    except InvalidKeyError:
        return None
    document = {
        "schema": STATUS_SCHEMA,
        "dataset": keys.dataset,
        "run_id": keys.run_id,
        "state": "FAILED",
        "error": f"{type(error).__name__}: {error}",
        "glue_job_run_id": job_run_id,
        "features_key": keys.features,
        "fix": "Read the Glue error log (make logs COMPONENT=training); latest.json still names the last "
        "good model. Fix the cause, then upload the file again or restart the job for this features_key.",
    }
    return ObjectToWrite(keys.status, to_json_bytes(document), JSON_TYPE)


def model_to_bytes(model: Any) -> bytes:
    """joblib serialisation of a fitted estimator."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def latest_pointer(outcome: Outcome, current: Optional[Dict[str, Any]]) -> Optional[ObjectToWrite]:
    """latest.json for a successful training ``outcome``, or None if ``current`` is newer."""
    summary = outcome.summary
    if not layout.is_newer_run(summary["run_id"], (current or {}).get("run_id")):
        return None
    keys = layout.run_keys(summary["dataset"], summary["run_id"])
    document = {
        "schema": LATEST_SCHEMA,
        "dataset": keys.dataset,
        "run_id": keys.run_id,
        "model_key": keys.model,
        "metrics_key": keys.metrics,
        "feature_list_key": keys.feature_list,
        "lineage_key": keys.lineage,
        "best_model": summary["best_model"],
        "beats_all_baselines": summary["beats_all_baselines"],
    }
    return ObjectToWrite(keys.latest, to_json_bytes(document), JSON_TYPE)
