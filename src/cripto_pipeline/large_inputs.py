"""The Spark feature job's inputs, per-file validation and documents, as plain functions (issue 12).

No AWS and no Spark here: the job script (``glue/spark_features_job.py``) reads the bytes and
writes the objects; :mod:`cripto_pipeline.spark_dataset` applies the rules that span files.

``features/<dataset>/<run_id>/inputs.json`` (written by whoever starts the job: the feature Lambda
routes large datasets to it)::

    {"dataset": ..., "run_id": ..., "reason": "...",
     "raw": [{"key": ..., "version_id": ..., "size": ..., "etag": ...}, ...]}

Validation at scale, rule by rule (the same rules as the Lambda, :func:`cripto_pipeline.validation.load_ohlcv`):

- Per file, on the driver: every rule of ``load_ohlcv`` (encoding, delimiter, header and banner,
  column mapping, numbers, timestamps, prices > 0, volume >= 0, OHLC consistency, time order,
  duplicates within the file) runs on the file's bytes, read with its listed version. A file up to
  ``chunk_bytes`` (default: the Lambda's MAX_RAW_BYTES) is validated whole. A larger file is cut into
  chunks of whole lines of at most ``chunk_bytes``; every chunk after the first gets the first chunk's
  lines up to the header (banner and header) in front, so it is read exactly as the file's start,
  and the line numbers in a rejection are mapped back to the file's lines. So the driver holds one
  chunk at a time. Files above the limit must be UTF-8 or Latin-1 (UTF-16 lines cannot be cut on
  bytes): a UTF-16 file above ``chunk_bytes`` is refused with the fix. Notes a chunk adds
  (repairs, choices) are kept once per file, prefixed with the file key.
- Across files and chunks, in Spark (:mod:`cripto_pipeline.spark_dataset`): duplicate bars (one
  symbol and timestamp in two files or chunks; rounding duplicates kept once, others refused, the
  same tolerances as :mod:`cripto_pipeline.duplicates`) and rows per symbol >= MIN_ROWS_PER_SYMBOL.

The first file (in inputs.json order) that breaks a rule gives the run's error report, shaped like
the Lambda's (``schema``, ``dataset``, ``run_id``, ``raw``, ``error``, ``what``, ``where``, ``fix``;
``where`` names the file ``key`` and its lines, sampled) plus ``engine`` and ``inputs`` (every raw key).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import pandas as pd

from . import exceptions as exc
from . import layout, routing
from .pipeline import ERROR_SCHEMA
from .validation import load_ohlcv

ENGINE = "spark"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class RawFile:
    """One raw object of the run, as inputs.json lists it."""

    key: str
    version_id: Optional[str]
    size: int
    etag: Optional[str]

    def get_selector(self) -> Dict[str, str]:
        """GetObject arguments that read exactly this version (version id, else the ETag)."""
        if self.version_id:
            return {"VersionId": self.version_id}
        return {"IfMatch": self.etag} if self.etag else {}


@dataclass(frozen=True)
class JobInputs:
    dataset: str
    run_id: str
    raw: Tuple[RawFile, ...]
    reason: str
    #: routing.debounce_record of a several-file run (copied into the manifest for the stage times), or None.
    debounce: Optional[Dict[str, Any]] = None


def parse_inputs(data: bytes, dataset: str, run_id: str) -> JobInputs:
    """inputs.json -> JobInputs; raises InvalidJobInputsError when it is malformed or names another run."""
    try:
        document = json.loads(data)
        files = tuple(
            RawFile(str(item["key"]), item.get("version_id"), int(item.get("size") or 0), item.get("etag"))
            for item in document["raw"]
        )
    except (ValueError, KeyError, TypeError) as error:
        raise exc.InvalidJobInputsError(f"inputs.json is not the contract's document: {error!r}.") from error
    if document.get("dataset") != dataset or document.get("run_id") != run_id:
        raise exc.InvalidJobInputsError(
            f"inputs.json names run {document.get('run_id')!r} of dataset {document.get('dataset')!r}, "
            f"but the job was started for run {run_id!r} of {dataset!r}."
        )
    if not files:
        raise exc.InvalidJobInputsError("inputs.json lists no raw files.")
    debounce = document.get(routing.DEBOUNCE_FIELD)
    return JobInputs(layout.validate_dataset(dataset), layout.validate_run_id(run_id), files,
                     str(document.get("reason") or ""), debounce if isinstance(debounce, dict) else None)  # fmt: skip


def line_chunks(blocks: Iterable[bytes], chunk_bytes: int) -> Iterator[Tuple[int, bytes]]:
    """Cut a byte stream into chunks of whole lines of at most ``chunk_bytes``: ``(first line number, bytes)``.

    A single line longer than ``chunk_bytes`` is refused (MalformedCsvError naming its line).
    """
    pending, line = b"", 1
    for block in blocks:
        pending += block
        while len(pending) > chunk_bytes:
            cut = pending.rfind(b"\n", 0, chunk_bytes) + 1
            if cut == 0:
                raise exc.MalformedCsvError(
                    f"Line {line} is longer than {chunk_bytes} bytes: no CSV row is that long.",
                    {"line": line, "chunk_bytes": chunk_bytes},
                )
            chunk, pending = pending[:cut], pending[cut:]
            yield line, chunk
            line += chunk.count(b"\n")
    if pending:
        yield line, pending


@dataclass
class ValidatedChunk:
    """Validated rows of one chunk of one raw file (``_line`` = line in the raw file)."""

    file_number: int
    chunk_number: int
    frame: pd.DataFrame
    details: Dict[str, Any]


@dataclass
class FileSummary:
    """What validating one raw file found: its identity (with sha256) and how it was read."""

    identity: Dict[str, Any]
    columns: Dict[str, str]
    timestamp_format: str
    rows: int
    warnings: List[str]


def validate_file(
    file_number: int,
    raw: RawFile,
    blocks: Iterable[bytes],
    *,
    chunk_bytes: int,
    default_symbol: str,
    bucket: str,
) -> Iterator[Any]:
    """Validate one raw file chunk by chunk: yields each ValidatedChunk, then one FileSummary.

    Raises an InputRejectedError whose ``where`` names the file (``key``) and its own line numbers.
    """
    digest = hashlib.sha256()
    hashed = _hashing(blocks, digest)
    prefix, prefix_lines, notes, rows, details = b"", 0, [], 0, {}
    for number, (first_line, chunk) in enumerate(line_chunks(hashed, chunk_bytes)):
        if number == 0 and chunk[:2] in _UTF16_BOMS and raw.size > chunk_bytes:
            raise _in_file(exc.UndecodableContentError(
                f"The file is UTF-16 and larger than {chunk_bytes} bytes: it cannot be read in parts.",
                {"size_bytes": raw.size}, fix="Save it as UTF-8 (Excel: 'CSV UTF-8') and upload it again.",
            ), raw, 0)  # fmt: skip
        text = prefix + chunk if number else chunk
        offset = first_line - 1 - prefix_lines
        try:
            validated = load_ohlcv(text, max_bytes=len(text), min_rows_per_symbol=0,
                                   default_symbol=default_symbol, keep_line_numbers=True)  # fmt: skip
        except exc.InputRejectedError as error:
            raise _in_file(error, raw, offset) from error
        if number == 0:
            prefix_lines = validated.details["header_line"]
            prefix = b"".join(chunk.splitlines(keepends=True)[:prefix_lines])
            details = validated.details
        frame = validated.frame
        frame["_line"] = frame["_line"] + offset
        rows += len(frame)
        for note in validated.warnings:
            where = f" (in the part from line {first_line}; line numbers count from that part's header)" if number else ""
            if f"{note}{where}" not in notes:
                notes.append(f"{note}{where}")
        yield ValidatedChunk(file_number, number, frame, validated.details)
    identity = {"bucket": bucket, "key": raw.key, "version_id": raw.version_id, "etag": raw.etag,
                "size_bytes": raw.size, "sha256": digest.hexdigest()}  # fmt: skip
    yield FileSummary(identity, details.get("columns", {}), details.get("timestamp_format", ""), rows,
                      [f"{raw.key}: {note}" for note in notes])  # fmt: skip


def _hashing(blocks: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for block in blocks:
        digest.update(block)
        yield block


def _in_file(error: exc.InputRejectedError, raw: RawFile, offset: int) -> exc.InputRejectedError:
    """``error`` with the raw file's key in ``where`` and its line numbers counted in the raw file."""
    error.where = {"key": raw.key, **_shift_lines(error.where, offset)}
    return error


def _shift_lines(value: Any, offset: int) -> Any:
    if isinstance(value, dict):
        return {k: (v + offset if k == "line" and isinstance(v, int)
                    else [n + offset for n in v] if k == "lines" and isinstance(v, list)
                    else _shift_lines(v, offset)) for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_shift_lines(v, offset) for v in value]
    return value


def chunk_to_parquet(chunk: ValidatedChunk) -> bytes:
    """Staged Parquet of one validated chunk: canonical columns, ``_file`` and ``_line``.

    Timestamps are written in microseconds (Spark reads no nanosecond Parquet timestamps).
    """
    frame = chunk.frame.assign(_file=chunk.file_number)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, coerce_timestamps="us", allow_truncated_timestamps=False)
    return buffer.getvalue()


def raw_summary(bucket: str, dataset: str, identities: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The ``raw`` object of the manifest (and of a report on a rule across files), shaped like the
    Lambda's so that every reader of ``raw.key`` / ``raw.version_id`` keeps working: one file -> its
    identity; several -> ``key`` = ``raw/<dataset>/``, no single version, and ``files`` = every file's
    identity (key, version id, ETag, size, sha256): the lineage."""
    if len(identities) == 1:
        return {**identities[0], "files": identities}
    return {"bucket": bucket, "key": layout.raw_dataset_prefix(dataset), "version_id": None, "etag": None,
            "size_bytes": sum(int(i.get("size_bytes") or 0) for i in identities), "sha256": None,
            "files": identities}  # fmt: skip


def error_report(inputs: JobInputs, error: exc.InputRejectedError,
                 culprit: Optional[Dict[str, Any]], raw: Dict[str, Any]) -> Dict[str, Any]:
    """The run's errors/ document: the Lambda's shape (``raw`` = the file at fault, else
    :func:`raw_summary`), plus ``engine`` and ``inputs`` (every raw key of the run)."""
    return {
        "schema": ERROR_SCHEMA,
        "dataset": inputs.dataset,
        "run_id": inputs.run_id,
        "engine": ENGINE,
        "raw": culprit if culprit is not None else raw,
        "inputs": [raw.key for raw in inputs.raw],
        **error.to_report(),
    }
