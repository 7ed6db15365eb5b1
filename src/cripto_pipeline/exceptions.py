"""Exceptions of the pipeline: one class per failure kind.

Rejected input raises a subclass of :class:`InputRejectedError`. Each carries three parts so the
edge (the Lambda handler) can write a useful report to ``errors/<dataset>/<run_id>.json`` without
knowing the failure: ``what`` went wrong, ``where`` (columns, file line numbers, sample values)
and ``fix`` (what the uploader should change). These are permanent failures: retrying the same
object cannot succeed, so the handler reports them instead of raising.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

#: How many example rows or cells a report's ``where`` lists.
REPORT_SAMPLES = 5


class PipelineError(Exception):
    """Base class of every error raised by cripto_pipeline."""


class InputRejectedError(PipelineError):
    """The uploaded file cannot be used; permanent (re-uploading a fixed file is the way out)."""

    #: Default advice; subclasses override it with something specific.
    fix = "Correct the file and upload it again."

    def __init__(self, what: str, where: Optional[Dict[str, Any]] = None, fix: Optional[str] = None) -> None:
        self.what = what
        self.where = dict(where or {})
        if fix is not None:
            self.fix = fix
        super().__init__(f"{what} {self.fix}")

    @property
    def kind(self) -> str:
        """Stable machine-readable name of the failure kind (the class name)."""
        return type(self).__name__

    def to_report(self) -> Dict[str, Any]:
        """JSON-able description for the errors/ report."""
        return {"error": self.kind, "what": self.what, "where": self.where, "fix": self.fix}


class InputTooLargeError(InputRejectedError):
    """The object is larger than the configured limit (MAX_RAW_BYTES)."""

    fix = "Split the file into smaller uploads (one per symbol or per period) or raise MAX_RAW_BYTES."


class UndecodableContentError(InputRejectedError):
    """The bytes are binary or not UTF-8 text (e.g. a gzip, xlsx or UTF-16 file)."""

    fix = "Upload a plain-text CSV encoded as UTF-8 (export as 'CSV UTF-8'; decompress .gz/.zip first)."


class EmptyInputError(InputRejectedError):
    """The file has no content (or only whitespace / a banner)."""

    fix = "Upload a CSV with a header line and at least one data row."


class HeaderOnlyError(InputRejectedError):
    """The file has a header but no data rows."""

    fix = "The export contains no rows: check the date range of the export and upload again."


class MalformedCsvError(InputRejectedError):
    """A data line has more fields than the header (unbalanced quotes, stray delimiters)."""

    fix = "Make every line have the same number of comma-separated fields as the header."


class MissingColumnError(InputRejectedError):
    """A required column (timestamp/date, open, high, low, close, volume) is absent."""

    fix = "Add the missing column(s); accepted names are listed under 'where.accepted'."


class DuplicateColumnError(InputRejectedError):
    """Two header names mean the same column after normalisation (e.g. 'Close' and ' close')."""

    fix = "Keep one column per name: remove or rename the duplicates."


class AmbiguousVolumeError(InputRejectedError):
    """Several volume columns and no rule tells which one is the base-asset volume."""

    fix = "Keep a single column named 'volume' holding the traded amount of the base asset."


class MissingValueError(InputRejectedError):
    """A cell is empty or a NULL-like marker (NULL, NA, N/A, None, -)."""

    fix = "Fill or remove the rows with empty cells; gaps must not be written as NULL."


class NonNumericValueError(InputRejectedError):
    """A price or volume cell is text that is not a number (e.g. '1,234.5' or 'abc')."""

    fix = "Write numbers with '.' as decimal point and no thousands separators or currency signs."


class NonFiniteValueError(InputRejectedError):
    """A price or volume is NaN or infinite."""

    fix = "Replace NaN/inf values with real measurements or remove those rows."


class NonPositivePriceError(InputRejectedError):
    """An open/high/low/close price is zero or negative."""

    fix = "Prices must be > 0: remove the rows or correct the values."


class NegativeVolumeError(InputRejectedError):
    """A volume is negative."""

    fix = "Volumes must be >= 0: remove the rows or correct the values."


class InconsistentOHLCError(InputRejectedError):
    """A bar has high < low, or open/close outside the [low, high] range."""

    fix = "Check the column order (open, high, low, close) and correct the listed rows."


class UnparseableTimestampError(InputRejectedError):
    """A timestamp cell cannot be read as a date/time."""

    fix = (
        "Use ISO 8601 ('2019-10-17' or '2019-10-17 09:00:00', UTC), the CryptoDataDownload form "
        "'2019-10-17 09-AM', or unix time in seconds or milliseconds."
    )


class AmbiguousTimestampError(InputRejectedError):
    """Dates whose day/month order cannot be told (all values <= 12) or differs between rows."""

    fix = "Write dates as ISO 8601, year first ('2019-10-17' or '2019-10-17 09:00:00', UTC)."


class DuplicateTimestampError(InputRejectedError):
    """The same timestamp appears more than once for one symbol."""

    fix = "Keep one bar per symbol and timestamp (remove the duplicated rows)."


class TooFewRowsError(InputRejectedError):
    """Fewer rows (per symbol) than the feature windows plus a walk-forward test period need."""

    fix = "Upload a longer history (at least the number of rows given in 'where.required')."


class InvalidKeyError(PipelineError):
    """An S3 key does not follow the layout contract (see cripto_pipeline.layout)."""


class InvalidDatasetNameError(InvalidKeyError):
    """The dataset part of a raw key has characters outside [A-Za-z0-9_-] or is too long."""


class InvalidEventError(PipelineError):
    """An event record lacks a field the pipeline needs or has an unexpected shape."""


class InvalidJobInputsError(PipelineError):
    """The Spark feature job's inputs.json is missing, malformed or names another run."""


class TrainingDataError(PipelineError):
    """The features handed to training cannot support a walk-forward evaluation."""


class ConfigurationError(PipelineError):
    """A setting (environment variable) is missing or has an invalid value."""
