"""Which objects make a run, which invocation starts it, and which engine builds its features (pure logic).

**Datasets.** A dataset is one file (``raw.csv``, ``raw/<dataset>.csv``) or every current ``.csv`` object
under ``raw/<dataset>/`` (monthly exports and the like). A new file of a several-file dataset starts one
new run over the whole dataset.

**Debounce (several-file datasets).** Uploading twelve monthly files sends twelve S3 events; they give
one run, not twelve, by a trailing-edge debounce that needs nothing but S3:

1. each invocation first waits until DEBOUNCE_SECONDS have passed since its own object's event time
   (:func:`quiet_wait`), then lists the dataset's current objects (ListObjectVersions on ``raw/<dataset>/``);
2. :func:`debounce`: if its own version is no longer current, it is SUPERSEDED; if another object is
   newer (greatest ``(LastModified, key)``, so two objects of the same second are ordered the same way by
   every invocation), it is DEBOUNCED: that object's own invocation decides, later;
3. the invocation of the newest object PROCEEDs: its run id is the one of its own upload
   (``layout.make_run_id``), and it claims the run exactly once with the content claim of the pipeline
   (a conditional put of ``features/<dataset>/_content/<sha256>.json``), the sha256 being that of the
   listed ``(key, version)`` list (:func:`listing_digest`): a redelivered event finds its own claim and
   carries on; a listing another run already covers writes ``duplicate-of.json``.

An upload that arrives after the newest invocation listed starts a run of its own (the dataset changed
after a quiet period): never fewer runs than quiet periods, never one per file of a burst.

The wait is not feature work: the invocation that goes on records it (:func:`debounce_record`: seconds
waited, when the wait ended) in ``manifest.json`` (or ``inputs.json``, which the Spark job copies into its
manifest) as ``debounce``, so the run's stages show it as ``debounce`` apart from ``features``
(cripto_ops.stages) and the ``FeatureSeconds`` metric leaves it out. Lambda bills the wait all the same,
so the cost estimate keeps it (cripto_pipeline.costs.feature_lambda_seconds).

**Engines.** :func:`engine_for`: up to MAX_RAW_BYTES in total, the feature Lambda builds the features
with pandas (``"engine": "pandas"``); above it (a single large file, or several files above it in total)
the Glue Spark feature job does: the Lambda writes ``features/<dataset>/<run_id>/inputs.json``
(:func:`spark_inputs`) and calls StartJobRun with :func:`spark_arguments`. The start happens once:
only the invocation that created ``inputs.json`` (conditional put) starts the job, or a Lambda retry of
that same request after checking that no run exists yet (:func:`spark_start_action`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from . import layout
from .events import S3ObjectRef

PANDAS = "pandas"
SPARK = "spark"

#: Outcomes of :func:`debounce`.
PROCEED = "proceed"  # this invocation's object is the newest: it starts the run
DEBOUNCED = "debounced"  # a newer object exists: its own invocation decides
SUPERSEDED = "superseded"  # this object version is no longer current (overwritten or deleted)

#: Outcomes of :func:`spark_start_action`.
CHECK_RUNS = "check_runs"  # a retry of the request that wrote inputs.json: start unless a run exists
ALREADY_REQUESTED = "already_requested"  # another delivery wrote inputs.json and starts the job

INPUTS_SCHEMA = "cripto-pipeline/spark-inputs/v1"
#: The field of manifest.json / inputs.json recording the debounce wait (:func:`debounce_record`).
DEBOUNCE_FIELD = "debounce"


@dataclass(frozen=True)
class RawObject:
    """One current object of a dataset, as listed (or as named by an event for a one-file dataset)."""

    key: str
    version_id: Optional[str]
    etag: Optional[str]
    size: int
    last_modified: datetime

    def identity(self) -> Dict[str, Any]:
        """The entry of ``inputs.json``'s ``raw`` list: ``{"key", "version_id", "size", "etag"}``."""
        return {"key": self.key, "version_id": self.version_id, "size": self.size, "etag": self.etag}

    def selector(self) -> Dict[str, str]:
        """GetObject arguments that read exactly this version."""
        if self.version_id and self.version_id != "null":
            return {"VersionId": self.version_id}
        return {"IfMatch": f'"{self.etag}"'} if self.etag else {}


def object_from_event(ref: S3ObjectRef, size: int) -> RawObject:
    """The object an event names (its size from the event or a HeadObject)."""
    return RawObject(ref.key, ref.version_id, ref.etag, int(size), layout.parse_event_time(ref.event_time))


def current_files(dataset: str, versions: Iterable[Dict[str, Any]]) -> List[RawObject]:
    """The dataset's files from ListObjectVersions ``Versions`` entries: the current (``IsLatest``) version
    of every ``raw/<dataset>/<file>.csv``, sorted by key. Delete markers are not in ``Versions``."""
    found = []
    for entry in versions:
        if entry.get("IsLatest") and layout.is_dataset_file(dataset, entry["Key"]):
            modified = entry["LastModified"]
            found.append(RawObject(
                key=entry["Key"], version_id=entry.get("VersionId"), etag=(entry.get("ETag") or "").strip('"') or None,
                size=int(entry.get("Size", 0)),
                last_modified=modified if modified.tzinfo else modified.replace(tzinfo=timezone.utc),
            ))  # fmt: skip
    return sorted(found, key=lambda obj: obj.key)


def quiet_wait(event_time: datetime, now: datetime, debounce_seconds: float) -> float:
    """Seconds still to wait before listing: the quiet period counts from this object's event time."""
    return max(0.0, debounce_seconds - (now - event_time).total_seconds())


def _is_version(obj: RawObject, ref: S3ObjectRef) -> bool:
    if ref.version_id:
        return obj.version_id == ref.version_id
    return bool(ref.etag) and obj.etag == ref.etag


def debounce(files: List[RawObject], ref: S3ObjectRef) -> str:
    """PROCEED, DEBOUNCED or SUPERSEDED for the invocation of ``ref`` that listed ``files`` after its quiet period."""
    mine = next((obj for obj in files if obj.key == ref.key), None)
    if mine is None or not _is_version(mine, ref):
        return SUPERSEDED
    newest = max(files, key=lambda obj: (obj.last_modified.replace(microsecond=0), obj.key))
    return PROCEED if newest.key == ref.key else DEBOUNCED


def debounce_record(waited_s: float, ended_at: datetime) -> Dict[str, Any]:
    """The ``debounce`` field of a several-file run: seconds this invocation slept, and when its wait ended
    (it lists the dataset and builds from then on)."""
    return {"waited_s": round(max(0.0, waited_s), 3), "ended_at": ended_at.isoformat()}


def debounce_ended(document: Dict[str, Any]) -> Optional[str]:
    """When the debounce wait of a run ended (ISO time), from its manifest; None for a one-file run."""
    record = document.get(DEBOUNCE_FIELD)
    return record.get("ended_at") if isinstance(record, dict) else None


def listing_digest(files: List[RawObject]) -> str:
    """sha256 of the run's inputs: every ``key NUL version-or-etag``, sorted (the run claim's name)."""
    digest = hashlib.sha256()
    for obj in sorted(files, key=lambda o: o.key):
        digest.update(f"{obj.key}\0{obj.version_id or obj.etag or ''}\n".encode("utf-8"))
    return digest.hexdigest()


def total_bytes(files: List[RawObject]) -> int:
    return sum(obj.size for obj in files)


def engine_for(files: List[RawObject], max_raw_bytes: int) -> str:
    """PANDAS (the feature Lambda) when the dataset fits MAX_RAW_BYTES in total, else SPARK."""
    return PANDAS if total_bytes(files) <= max_raw_bytes else SPARK


def spark_reason(files: List[RawObject], max_raw_bytes: int) -> str:
    """Why the Spark job builds these features (inputs.json's ``reason``, the logs)."""
    what = "the file holds" if len(files) == 1 else f"the {len(files)} files hold"
    return (f"{what} {total_bytes(files):,} bytes, above the feature Lambda's limit MAX_RAW_BYTES="
            f"{max_raw_bytes:,}")


def spark_inputs(dataset: str, run_id: str, files: List[RawObject], reason: str, requested_by: str,
                 debounce: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The document ``features/<dataset>/<run_id>/inputs.json`` the Spark feature job reads.

    ``requested_by`` is the Lambda request id that wrote it: a retry of that request may start the job
    (see :func:`spark_start_action`); ``debounce``: :func:`debounce_record` of a several-file run."""
    document = {"schema": INPUTS_SCHEMA, "dataset": dataset, "run_id": run_id,
                "raw": [obj.identity() for obj in sorted(files, key=lambda o: o.key)],
                "reason": reason, "requested_by": requested_by}  # fmt: skip
    if debounce is not None:
        document[DEBOUNCE_FIELD] = debounce
    return document


def spark_arguments(bucket: str, dataset: str, run_id: str) -> Dict[str, str]:
    """StartJobRun ``Arguments`` of the Spark feature job."""
    return {"--bucket": bucket, "--dataset": dataset, "--run_id": run_id}


def spark_start_action(existing: Dict[str, Any], me: str) -> str:
    """What a delivery does when ``inputs.json`` already existed (its conditional put failed).

    The request that wrote it may be retried by Lambda after dying before (or after) StartJobRun: that
    retry (same request id) CHECK_RUNS and starts if no run has this run id. Any other delivery is a
    duplicate of a start in progress: ALREADY_REQUESTED."""
    return CHECK_RUNS if me and existing.get("requested_by") == me else ALREADY_REQUESTED


def pandas_engine(rows: int) -> Dict[str, Any]:
    """The manifest fields of a feature set built by the Lambda: every row is a training row."""
    return {"engine": PANDAS, "rows_total": int(rows), "rows_sampled": int(rows)}


def raw_files(manifest: Dict[str, Any]) -> List[Any]:
    """Every raw file (key, version) a feature set was built from: the Spark job's ``raw.files``, the Lambda's
    ``raw_files`` (several files), else ``raw`` (one file, or a list of them)."""
    raw = manifest.get("raw")
    if isinstance(raw, dict) and raw.get("files"):  # the Spark job's manifest: raw.files lists every file
        return list(raw["files"])
    return list(manifest.get("raw_files") or (raw if isinstance(raw, list) else [raw]))


def started_by(manifest: Dict[str, Any]) -> Dict[str, Any]:
    """The ``raw`` identity of the upload that started the run (one file, or the newest of several); {} when
    the manifest lists the files only (the Spark job's ``raw`` is the list)."""
    raw = manifest.get("raw")
    return raw if isinstance(raw, dict) else {}


def upload_event_time(manifest: Dict[str, Any], run_id: str) -> str:
    """When the upload that started the run happened: the manifest's ``raw.event_time``, else (the Spark job's
    manifest lists files without events) the run id's time, to the second."""
    return started_by(manifest).get("event_time") or layout.parse_run_id(run_id)[0].isoformat()


def training_rows(manifest: Dict[str, Any]) -> Dict[str, Any]:
    """Which engine built the features and how many of their rows training used (report, status).

    Manifests written before the engines were named are the pandas path with every row used."""
    rows = manifest.get("rows") or {}
    total = manifest.get("rows_total", rows.get("features"))
    return {
        "engine": manifest.get("engine", PANDAS),
        "rows_total": total,
        "rows_sampled": manifest.get("rows_sampled", total),
        "sample": manifest.get("sample") or {"method": "all rows"},
    }
