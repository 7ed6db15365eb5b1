"""Features of a several-file dataset on the Lambda path (pandas): every file validated, one feature set.

Each file of ``raw/<dataset>/`` is validated alone with the rules of a one-file upload (the minimum
length aside: a monthly file may be short, the dataset may not); the frames are joined, a bar given by
two files is kept once when the two agree up to rounding and refused otherwise (naming both files), and
the features are computed as for one file. The manifest keeps the keys of a one-file run (``raw`` is the
newest file, whose upload started the run) and adds ``raw_files``, every file with its version, which
training copies into ``lineage.json``. Routing and the debounce are in :mod:`cripto_pipeline.routing`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from . import layout, routing
from .duplicates import drop_rounding_duplicates
from .exceptions import DuplicateTimestampError, InputRejectedError, InputTooLargeError, TooFewRowsError
from .features import FEATURE_COLUMNS, MIN_ROWS_PER_SYMBOL, compute_features
from .pipeline import (CLAIM_SCHEMA, ERROR_SCHEMA, JSON_TYPE, MANIFEST_SCHEMA, ObjectToWrite, Outcome,
                       feature_set_writes, to_json_bytes)
from .validation import ValidatedData, load_ohlcv


def file_identity(bucket: str, obj: routing.RawObject, data: bytes) -> Dict[str, Any]:
    """One entry of the manifest's ``raw_files`` (the shape of a one-file run's ``raw``)."""
    return {"bucket": bucket, "key": obj.key, "version_id": obj.version_id, "etag": obj.etag,
            "last_modified": obj.last_modified.isoformat(), "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip


def _join(dataset: str, validated: List[Tuple[str, ValidatedData]], notes: List[str]) -> pd.DataFrame:
    frame = pd.concat([v.frame.assign(_file=key) for key, v in validated], ignore_index=True)
    frame = frame.sort_values(["symbol", "timestamp"], kind="stable").reset_index(drop=True)
    try:
        frame = drop_rounding_duplicates(frame, notes)
    except DuplicateTimestampError as error:
        clashing = frame.loc[frame.duplicated(["symbol", "timestamp"], keep=False), "_file"].unique().tolist()
        raise DuplicateTimestampError(
            f"Files of dataset {dataset!r} give different bars for the same symbol and time: {error.what}",
            {**error.where, "files": sorted(clashing)},
            "Keep each bar in one file only (remove the overlap from all but one file), then upload again.",
        ) from None
    counts = frame["symbol"].value_counts()
    short = counts[counts < MIN_ROWS_PER_SYMBOL]
    if not short.empty:
        raise TooFewRowsError(
            f"{len(short)} symbol(s) have fewer than {MIN_ROWS_PER_SYMBOL} rows in all files together, the "
            "minimum for the feature windows plus a walk-forward test period.",
            {"required": MIN_ROWS_PER_SYMBOL, "rows_per_symbol": {str(k): int(v) for k, v in short.items()}},
        )
    return frame.drop(columns=["_file", "_line"]).reset_index(drop=True)


def build_dataset_features(bucket: str, dataset: str, run_id: str, newest: Dict[str, Any],
                           files: List[Tuple[routing.RawObject, bytes]], *, max_raw_bytes: int,
                           debounce: Optional[Dict[str, Any]] = None) -> Outcome:
    """The files of one run (with their bytes) -> manifest + features.parquet, or an errors/ report.

    ``newest`` is the raw identity of the upload that started the run (its event's object); ``debounce``
    (routing.debounce_record) goes into the manifest."""
    keys = layout.run_keys(dataset, run_id)
    identities = [file_identity(bucket, obj, data) for obj, data in files]
    notes: List[str] = []
    validated: List[Tuple[str, ValidatedData]] = []
    try:
        for obj, data in files:
            try:
                one = load_ohlcv(data, max_bytes=max_raw_bytes, min_rows_per_symbol=1, default_symbol=dataset,
                                 keep_line_numbers=True)  # duplicates across files are named by file and line
            except InputRejectedError as error:
                error.where = {"key": obj.key, "version_id": obj.version_id, **error.where}
                raise
            validated.append((obj.key, one))
            notes.extend(f"{obj.key}: {note}" for note in one.warnings)
        frame = _join(dataset, validated, notes)
    except InputRejectedError as error:
        return rejected(dataset, run_id, newest, identities, error)
    features = compute_features(frame)
    first = validated[0][1].details
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "dataset": dataset,
        "run_id": run_id,
        "raw": newest,
        "raw_files": identities,
        "features_key": keys.features,
        "feature_columns": list(FEATURE_COLUMNS),
        "rows": {"raw": int(sum(v.details["rows"] for _, v in validated)), "features": int(len(features))},
        **routing.pandas_engine(len(features)),
        "symbols": {str(k): int(v) for k, v in frame["symbol"].value_counts(sort=False).sort_index().items()},
        "time_range": {"first": frame["timestamp"].min().isoformat(), "last": frame["timestamp"].max().isoformat()},
        "input": {"columns": first["columns"], "timestamp_format": first["timestamp_format"]},
        "warnings": notes,
    }
    if debounce is not None:
        manifest[routing.DEBOUNCE_FIELD] = debounce
    return Outcome(
        "features_written", feature_set_writes(keys, manifest, features),
        {"status": "features_written", "dataset": dataset, "run_id": run_id, "features_key": keys.features,
         "rows": int(len(features)), "files": len(files), "engine": routing.PANDAS, "warnings": len(notes)},
        claim=run_claim(dataset, run_id, [obj for obj, _ in files], newest, keys.features),
    )  # fmt: skip


def rejected(dataset: str, run_id: str, newest: Dict[str, Any], raw_files: List[Dict[str, Any]],
             error: InputRejectedError) -> Outcome:
    """The errors/ report of a rejected run over several files (``where.key`` names the file at fault)."""
    keys = layout.run_keys(dataset, run_id)
    report = {"schema": ERROR_SCHEMA, "dataset": dataset, "run_id": run_id, "raw": newest,
              "raw_files": raw_files, **error.to_report()}  # fmt: skip
    return Outcome("rejected", [ObjectToWrite(keys.error, to_json_bytes(report), JSON_TYPE)],
                   {"status": "rejected", "dataset": dataset, "run_id": run_id, "error": error.kind,
                    "error_key": keys.error, "reason": error.what, "files": len(raw_files)})  # fmt: skip


def too_large(dataset: str, run_id: str, newest: Dict[str, Any], files: List[routing.RawObject],
              max_raw_bytes: int) -> Outcome:
    """Rejection of a dataset above MAX_RAW_BYTES when no Spark feature job is configured."""
    error = InputTooLargeError(
        f"{routing.spark_reason(files, max_raw_bytes)}, and no Spark feature job is configured.",
        {"size_bytes": routing.total_bytes(files), "limit_bytes": max_raw_bytes},
        "Set SPARK_FEATURES_JOB_NAME (the stack does), split the dataset into smaller ones, or raise MAX_RAW_BYTES.",
    )
    return rejected(dataset, run_id, newest, [obj.identity() for obj in files], error)


def spark_request(dataset: str, run_id: str, newest: Dict[str, Any], files: List[routing.RawObject],
                  reason: str, requested_by: str, debounce: Optional[Dict[str, Any]] = None) -> Outcome:
    """A run for the Spark feature job: the run claim, then inputs.json (conditional: see routing)."""
    keys = layout.run_keys(dataset, run_id)
    inputs = routing.spark_inputs(dataset, run_id, files, reason, requested_by, debounce)
    return Outcome(
        "spark_requested", [ObjectToWrite(keys.inputs, to_json_bytes(inputs), JSON_TYPE, only_if_absent=True)],
        {"status": "spark_requested", "dataset": dataset, "run_id": run_id, "engine": routing.SPARK,
         "inputs_key": keys.inputs, "files": len(files), "bytes": routing.total_bytes(files), "reason": reason},
        claim=run_claim(dataset, run_id, files, newest, keys.features),
    )  # fmt: skip


def run_claim(dataset: str, run_id: str, files: List[routing.RawObject], newest: Dict[str, Any],
              features_key: str) -> ObjectToWrite:
    """The content claim of a run over ``files``: named by their (key, version) list (routing.listing_digest)."""
    document = {"schema": CLAIM_SCHEMA, "dataset": dataset, "run_id": run_id, "features_key": features_key,
                "raw": newest, "raw_files": [obj.identity() for obj in files]}  # fmt: skip
    return ObjectToWrite(layout.content_claim_key(dataset, routing.listing_digest(files)), to_json_bytes(document),
                         JSON_TYPE, only_if_absent=True)
