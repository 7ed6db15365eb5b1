"""The S3 layout contract: every key the pipeline reads or writes is built here.

One bucket holds everything::

    raw.csv                                         upload -> dataset "default"
    raw/<dataset>.csv                               upload -> dataset <dataset> (one file)
    raw/<dataset>/<file>.csv                        upload -> dataset <dataset> (several files: every
                                                    current object under raw/<dataset>/ is the dataset)
    features/<dataset>/<run_id>/manifest.json       written FIRST by the feature Lambda
    features/<dataset>/<run_id>/features.parquet    written LAST; its creation triggers training
    features/<dataset>/<run_id>/duplicate-of.json   instead of both: the same content already has a run
    features/<dataset>/<run_id>/inputs.json         Spark path: the raw files of the run (written by the feature
                                                    Lambda, conditional put, before StartJobRun)
    features/<dataset>/<run_id>/validated/*.parquet Spark path: validated rows per file/chunk (deleted at the end)
    features/<dataset>/<run_id>/parts/part-*.parquet Spark path: the full feature set, partitioned
    features/<dataset>/<run_id>/glue-start.json     start claim: the one Glue run of this features file
    features/<dataset>/_content/<sha256>.json       claim: which run covers this content (conditional put)
    models/<dataset>/<run_id>/model.joblib          fitted scikit-learn estimator (best model, refit)
    models/<dataset>/<run_id>/metrics.json          walk-forward metrics of models and baselines
    models/<dataset>/<run_id>/features.json         ordered list of feature columns the model expects
    models/<dataset>/<run_id>/lineage.json          raw key + version, features key, code + library versions
    models/<dataset>/<run_id>/report.html           self-contained HTML report (written after latest.json)
    models/<dataset>/<run_id>/status.json           written by the Glue job when the run fails (error, run id)
    models/<dataset>/latest.json                    newest successful run (written after all of the above)
    errors/<dataset>/<run_id>.json                  why an upload was rejected and how to fix it
    errors/_invalid-key/<run_id>.json               uploads whose key names no valid dataset

Rules:

- A dataset is one file (``raw.csv``, ``raw/<dataset>.csv``) or several (``raw/<dataset>/<file>.csv``,
  ``<file>`` any name without ``/``). The two forms of one name are separate uploads of the same dataset:
  do not mix them (a run of the several-file form reads only ``raw/<dataset>/``).
- ``<dataset>``: 1-64 characters from ``[A-Za-z0-9_-]``, starting with a letter or digit (so names
  such as ``_invalid-key`` can never collide with a dataset). Keys are case-sensitive.
- ``<run_id>`` = ``<event time as YYYYmmddTHHMMSSZ>-<8 hex>``, the hex being the start of
  sha256(``key NUL versionId-or-etag``). It depends only on the S3 object the event describes, so
  a duplicated event maps to the same run (same keys, idempotent writes) while a new upload of the
  same key gets a new run. Run ids sort by upload time, which is how ``latest.json`` decides
  which run is newest.
- Identical content uploaded again (same dataset, same sha256) starts no new run: the first run claims
  the content with a conditional put of ``features/<dataset>/_content/<sha256>.json``; later uploads
  find the claim and write ``duplicate-of.json`` naming the run that covers them.
- One features file starts one Glue run: the trigger claims the start with a conditional put of
  ``glue-start.json`` and records the job run id in it (cripto_pipeline.start_claims).
- The manifest is written before the Parquet file because the Parquet file's creation event
  starts training: when training starts, its manifest is guaranteed to exist.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any, Dict, Optional, Tuple, Union

from .exceptions import InvalidDatasetNameError, InvalidEventError, InvalidKeyError

DEFAULT_RAW_KEY = "raw.csv"
DEFAULT_DATASET = "default"
RAW_PREFIX = "raw/"
RAW_SUFFIX = ".csv"
FEATURES_PREFIX = "features/"
MODELS_PREFIX = "models/"
ERRORS_PREFIX = "errors/"
MANIFEST_NAME = "manifest.json"
FEATURES_NAME = "features.parquet"
MODEL_NAME = "model.joblib"
METRICS_NAME = "metrics.json"
FEATURE_LIST_NAME = "features.json"
LINEAGE_NAME = "lineage.json"
REPORT_NAME = "report.html"
LATEST_NAME = "latest.json"
DUPLICATE_NAME = "duplicate-of.json"
STATUS_NAME = "status.json"
START_CLAIM_NAME = "glue-start.json"
INPUTS_NAME = "inputs.json"
PARTS_DIR = "parts/"
VALIDATED_DIR = "validated/"
CONTENT_CLAIMS_DIR = "_content"
#: Pseudo-dataset under errors/ for uploads whose key names no valid dataset.
INVALID_KEY_DATASET = "_invalid-key"

_DATASET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
_RUN_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
#: ``<top>/<dataset>/<run_id>/<file>`` or ``errors/<dataset>/<run_id>.json``: the run a key belongs to.
_RUN_KEY_RE = re.compile(
    rf"^(?:{FEATURES_PREFIX}|{MODELS_PREFIX})[^/]+/(?P<run_id>[^/]+)/[^/]+$"
    rf"|^{ERRORS_PREFIX}[^/]+/(?P<error_run_id>[^/]+)\.json$"
)
_FEATURES_KEY_RE = re.compile(
    rf"^{FEATURES_PREFIX}(?P<dataset>[^/]+)/(?P<run_id>[^/]+)/{re.escape(FEATURES_NAME)}$"
)


def validate_dataset(name: str) -> str:
    """Return ``name`` if it is a valid dataset name, else raise InvalidDatasetNameError."""
    if not _DATASET_RE.match(name):
        raise InvalidDatasetNameError(
            f"Dataset name {name!r} is invalid: use 1-64 characters from A-Z a-z 0-9 _ - "
            "starting with a letter or digit (upload to raw/<dataset>.csv)."
        )
    return name


def _raw_parts(key: str) -> Optional[Tuple[str, ...]]:
    """``raw/<d>.csv`` -> ``(<d>,)``, ``raw/<d>/<f>.csv`` -> ``(<d>, <f>.csv)``, anything else None."""
    if not (key.startswith(RAW_PREFIX) and key.endswith(RAW_SUFFIX)):
        return None
    parts = tuple(key[len(RAW_PREFIX) :].split("/"))
    if len(parts) == 1:
        return (parts[0][: -len(RAW_SUFFIX)],)
    if len(parts) == 2 and parts[0] and len(parts[1]) > len(RAW_SUFFIX):
        return parts
    return None


def is_multi_file_key(key: str) -> bool:
    """True for ``raw/<dataset>/<file>.csv``: one file of a several-file dataset."""
    parts = _raw_parts(key)
    return parts is not None and len(parts) == 2


def dataset_from_raw_key(key: str) -> str:
    """Map an upload key to its dataset: ``raw.csv`` -> ``default``, ``raw/<d>.csv`` and
    ``raw/<d>/<file>.csv`` -> ``<d>``.

    Raises InvalidKeyError for keys outside the contract (e.g. ``raw/a/b/c.csv``, ``rawdata.csv``)
    and InvalidDatasetNameError for a bad ``<d>``.
    """
    if key == DEFAULT_RAW_KEY:
        return DEFAULT_DATASET
    parts = _raw_parts(key)
    if parts is None:
        raise InvalidKeyError(
            f"Key {key!r} is not an upload location: upload to {DEFAULT_RAW_KEY!r}, 'raw/<dataset>.csv' or "
            "'raw/<dataset>/<file>.csv'."
        )
    return validate_dataset(parts[0])


def dataset_file_key(dataset: str, name: str) -> str:
    """``raw/<dataset>/<name>``: where to upload one file of a several-file dataset (``name`` ends .csv)."""
    key = f"{raw_dataset_prefix(dataset)}{name}"
    if not is_dataset_file(dataset, key):
        raise InvalidKeyError(f"File name {name!r} must end with {RAW_SUFFIX!r} and contain no '/'.")
    return key


def is_dataset_file(dataset: str, key: str) -> bool:
    """True if ``key`` is one file of the several-file dataset ``dataset`` (``raw/<dataset>/<f>.csv``)."""
    parts = _raw_parts(key)
    return parts is not None and len(parts) == 2 and parts[0] == dataset


def raw_dataset_prefix(dataset: str) -> str:
    """``raw/<dataset>/``: where the files of a multi-file dataset are uploaded."""
    return f"{RAW_PREFIX}{validate_dataset(dataset)}/"


def raw_key(dataset: Optional[str] = None) -> str:
    """Where to upload ``dataset``: ``raw/<dataset>.csv``, or ``raw.csv`` (dataset ``default``) for None."""
    return DEFAULT_RAW_KEY if dataset is None else f"{RAW_PREFIX}{validate_dataset(dataset)}{RAW_SUFFIX}"


def make_run_id(
    event_time: Union[str, datetime], key: str, version_id: Optional[str], etag: Optional[str]
) -> str:
    """Deterministic run id of one uploaded object version (see the module docstring).

    ``event_time`` is the S3 event's ``eventTime`` (ISO 8601, e.g. ``2026-11-27T04:00:00.123Z``).
    The object identity is its version id when the bucket is versioned, else its ETag.
    """
    when = parse_event_time(event_time) if isinstance(event_time, str) else _as_utc(event_time)
    return f"{run_id_floor(when)}-{object_digest(key, version_id, etag)}"


def object_digest(key: str, version_id: Optional[str], etag: Optional[str]) -> str:
    """The 8 hex digits that end a run id: sha256 of ``key NUL versionId-or-etag``."""
    identity = version_id or (etag or "").strip('"')
    return hashlib.sha256(f"{key}\0{identity}".encode("utf-8")).hexdigest()[:8]


def run_id_floor(when: datetime) -> str:
    """The time part of run ids made at ``when``: every run id of a later upload sorts after it."""
    return f"{_as_utc(when):{_RUN_TIME_FORMAT}}"


def parse_run_id(run_id: str) -> Tuple[datetime, str]:
    """``(event time to the second, object digest)`` of a run id made by make_run_id."""
    when, digest = validate_run_id(run_id).split("-")
    return datetime.strptime(when, _RUN_TIME_FORMAT).replace(tzinfo=timezone.utc), digest


def parse_event_time(value: str) -> datetime:
    """An S3 ``eventTime`` (or any ISO 8601 time) as an aware UTC datetime; naive means UTC.

    The one parser of event times: run ids, the trigger's wait budget and ``status`` durations use it.
    Raises InvalidEventError for text that is not ISO 8601.
    """
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        # fromisoformat in Python 3.9 accepts only 3 or 6 fractional digits: normalise to 6.
        match = re.match(r"^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$", text)
        if match:
            head, frac, tail = match.groups()
            text = f"{head}.{(frac or '0')[:6].ljust(6, '0')}{tail}"
        return _as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise InvalidEventError(f"Event time {value!r} is not ISO 8601.") from exc


def _as_utc(when: datetime) -> datetime:
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` if it has the form made by make_run_id, else raise InvalidKeyError."""
    if not _RUN_ID_RE.match(run_id):
        raise InvalidKeyError(f"Run id {run_id!r} does not look like YYYYmmddTHHMMSSZ-xxxxxxxx.")
    return run_id


class _RunKey:
    """``<top><dataset>/<run_id>/<name>`` of a RunKeys: ``features/<d>/<run>/manifest.json`` and the like
    (an empty name gives the run's prefix under ``top``)."""

    def __init__(self, top: str, name: str = "") -> None:
        self.top, self.name = top, name

    def __get__(self, keys: Optional["RunKeys"], owner: type) -> Any:
        if keys is None:  # looked up on the class itself (help(), introspection)
            return self
        return f"{self.top}{keys.dataset}/{keys.run_id}/{self.name}"


@dataclass(frozen=True)
class RunKeys:
    """Every key of one run of one dataset."""

    dataset: str
    run_id: str

    features_prefix = _RunKey(FEATURES_PREFIX)
    manifest = _RunKey(FEATURES_PREFIX, MANIFEST_NAME)
    features = _RunKey(FEATURES_PREFIX, FEATURES_NAME)
    duplicate = _RunKey(FEATURES_PREFIX, DUPLICATE_NAME)
    start_claim = _RunKey(FEATURES_PREFIX, START_CLAIM_NAME)
    inputs = _RunKey(FEATURES_PREFIX, INPUTS_NAME)
    parts_prefix = _RunKey(FEATURES_PREFIX, PARTS_DIR)
    validated_prefix = _RunKey(FEATURES_PREFIX, VALIDATED_DIR)
    models_prefix = _RunKey(MODELS_PREFIX)
    model = _RunKey(MODELS_PREFIX, MODEL_NAME)
    metrics = _RunKey(MODELS_PREFIX, METRICS_NAME)
    feature_list = _RunKey(MODELS_PREFIX, FEATURE_LIST_NAME)
    lineage = _RunKey(MODELS_PREFIX, LINEAGE_NAME)
    report = _RunKey(MODELS_PREFIX, REPORT_NAME)
    status = _RunKey(MODELS_PREFIX, STATUS_NAME)

    def validated_part(self, file_number: int, chunk_number: int) -> str:
        """``validated/<file>-<chunk>.parquet``: validated rows of one raw file (one chunk of a large one)."""
        return f"{self.validated_prefix}{file_number:05d}-{chunk_number:05d}.parquet"

    @property
    def latest(self) -> str:
        return latest_key(self.dataset)

    @property
    def error(self) -> str:
        return f"{ERRORS_PREFIX}{self.dataset}/{self.run_id}.json"


def run_keys(dataset: str, run_id: str) -> RunKeys:
    """Keys of run ``run_id`` of ``dataset`` (both validated)."""
    return RunKeys(validate_dataset(dataset), validate_run_id(run_id))


def invalid_key_error_key(run_id: str) -> str:
    """Where the report for an upload with an unusable key goes."""
    return f"{ERRORS_PREFIX}{INVALID_KEY_DATASET}/{validate_run_id(run_id)}.json"


def content_claim_key(dataset: str, sha256: str) -> str:
    """``features/<dataset>/_content/<sha256>.json``: the run that covers this exact content."""
    if not re.match(r"^[0-9a-f]{64}$", sha256):
        raise InvalidKeyError(f"{sha256!r} is not a sha256 hex digest.")
    return f"{FEATURES_PREFIX}{validate_dataset(dataset)}/{CONTENT_CLAIMS_DIR}/{sha256}.json"


def latest_key(dataset: str) -> str:
    """``models/<dataset>/latest.json``."""
    return f"{MODELS_PREFIX}{validate_dataset(dataset)}/{LATEST_NAME}"


def parse_features_key(key: str) -> RunKeys:
    """Inverse of ``RunKeys.features``: ``features/<d>/<run>/features.parquet`` -> RunKeys."""
    match = _FEATURES_KEY_RE.match(key)
    if not match:
        raise InvalidKeyError(
            f"Key {key!r} is not a features file: expected 'features/<dataset>/<run_id>/{FEATURES_NAME}'."
        )
    return run_keys(match["dataset"], match["run_id"])


def dataset_prefixes(dataset: str) -> Dict[str, str]:
    """Every prefix holding keys of ``dataset``:
    ``{"features": "features/<d>/", "errors": "errors/<d>/", "models": "models/<d>/"}``."""
    validate_dataset(dataset)
    tops = (FEATURES_PREFIX, ERRORS_PREFIX, MODELS_PREFIX)
    return {top.rstrip("/"): f"{top}{dataset}/" for top in tops}


def run_id_in_key(key: str) -> Optional[str]:
    """The run a key belongs to (``features|models/<d>/<run>/<file>``, ``errors/<d>/<run>.json``), or None
    for keys of no run (``latest.json``, content claims under ``_content/``, foreign keys)."""
    match = _RUN_KEY_RE.match(key)
    run_id = match and (match["run_id"] or match["error_run_id"])
    return run_id if run_id and _RUN_ID_RE.match(run_id) else None


def object_name(key: str) -> str:
    """The file name a key ends with (``models/<d>/<run>/metrics.json`` -> ``metrics.json``)."""
    return PurePosixPath(key).name


def is_newer_run(candidate_run_id: str, current_run_id: Optional[str]) -> bool:
    """True if ``candidate`` should replace ``current`` in latest.json (run ids sort by upload time).

    Equal ids count as newer so that re-running a job for the same run rewrites the pointer.
    """
    return current_run_id is None or validate_run_id(candidate_run_id) >= current_run_id
