"""Raw bytes -> comma-separated text: encoding, delimiter, decimal comma, footer lines (issue 10).

Plain functions (text in, text and notes out) so the Spark path can apply the same rules per file.

- Encodings: UTF-8 with or without BOM, UTF-16 (BOM, or the NUL pattern of ASCII text in UTF-16),
  then Latin-1 for bytes that are not UTF-8 but are printable Latin-1 text (accented names in a
  banner, a '°' or '£'). What is none of these (compressed, binary, control bytes) is refused.
- Delimiters: comma, semicolon, tab or pipe, whichever splits the first lines into the same,
  largest number of fields. A file in another delimiter is rewritten as comma-separated text, line
  for line, so line numbers in reports stay those of the upload.
- Decimal comma (``1.234,56`` beside a ``;`` or tab delimiter): numbers are rewritten with a
  decimal point, thousands dots removed.
- Line endings: LF or CRLF (a line end of several CRs and one LF is read too). A carriage return
  with more text after it on its line (old Mac CR, or LF CR line endings) is refused: Python's csv
  reader cannot split such a line.
"""

from __future__ import annotations

import csv
import io
import re
from typing import List, Optional

from . import exceptions as exc

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_LINES = 30
#: A number written with a decimal comma, optionally with thousands dots: 1234,5 / 1.234,56.
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
#: Bytes that Latin-1 maps to control characters (C0 besides tab/CR/LF, and C1): not text.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def decode(data: bytes, max_bytes: int, notes: List[str]) -> str:
    """Bytes -> text, or UndecodableContentError / InputTooLargeError / EmptyInputError."""
    if len(data) > max_bytes:
        raise exc.InputTooLargeError(
            f"The file has more than {max_bytes} bytes (the limit).",
            {"limit_bytes": max_bytes, "size_bytes_at_least": len(data)},
        )
    if not data.strip():
        raise exc.EmptyInputError("The file is empty.", {"size_bytes": len(data)})
    if data[:2] == b"\x1f\x8b" or data[:4] == b"PK\x03\x04":
        raise exc.UndecodableContentError(
            "The file is compressed (gzip or zip), not a CSV.", {"first_bytes": data[:4].hex()},
            fix="Decompress it and upload the CSV inside.",
        )
    utf16 = _utf16_codec(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = None
        if text is not None and "\x00" not in text:
            notes.append("Decoded the file from UTF-16.")
            return text.lstrip("\ufeff")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise exc.UndecodableContentError(
            "The file contains NUL bytes: it is binary, not text.", {"byte_offset": nul}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        control = _CONTROL.search(data)
        if control is None:
            notes.append(
                f"The file is not UTF-8 (byte {data[error.start:error.start + 1].hex()} at offset "
                f"{error.start}); decoded it as Latin-1."
            )
            return data.decode("latin-1")
        line = data.count(b"\n", 0, error.start) + 1
        raise exc.UndecodableContentError(
            "The file is not text: it is neither UTF-8, UTF-16 nor Latin-1.",
            {"line": line, "byte_offset": error.start, "bytes": data[error.start : error.start + 8].hex()},
            fix="Save the file as CSV text (UTF-8).",
        ) from None


def _utf16_codec(data: bytes) -> Optional[str]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = data[:200]
    if len(head) >= 8 and head[1::2].count(0) > 0.9 * len(head[1::2]):
        return "utf-16-le"
    if len(head) >= 8 and head[0::2].count(0) > 0.9 * len(head[0::2]):
        return "utf-16-be"
    return None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first non-blank lines into the most, consistent fields."""
    lines = [line for line in text.splitlines()[: _SNIFF_LINES * 2] if line.strip()][:_SNIFF_LINES]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(_split(line, delimiter)) for line in lines]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        # Score: lines agreeing on the modal field count (banner/footer lines disagree), then width.
        score = (counts.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _split(line: str, delimiter: str) -> List[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def to_comma_text(text: str, notes: List[str]) -> str:
    """Rewrite a file in another delimiter (and decimal comma) as comma-separated text.

    One output line per input line (blank lines kept), so reports keep the upload's line numbers.
    A carriage return with more text after it on its line is refused (MalformedCsvError).
    """
    _refuse_stray_carriage_return(text)
    delimiter = sniff_delimiter(text)
    if delimiter == ",":
        return text
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    decimal_comma = any(_DECIMAL_COMMA.match(cell.strip()) for row in rows[:200] for cell in row)
    converted = 0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        if decimal_comma:
            fixed = [_point(cell) for cell in row]
            converted += sum(a != b for a, b in zip(row, fixed))
            row = fixed
        writer.writerow(row)
    notes.append(f"Read the file as {_NAMES[delimiter]}-separated.")
    if converted:
        notes.append(f"Read {converted} number(s) written with a decimal comma (e.g. '1.234,5' = 1234.5).")
    return out.getvalue()


def _refuse_stray_carriage_return(text: str) -> None:
    stray = re.search(r"\r[^\r\n]", text)
    if stray is not None:
        line = text[: stray.start()].count("\n") + 1
        raise exc.MalformedCsvError(
            f"Line {line} has a carriage return (\\r) before more text on the same line: the file's line "
            "endings are neither LF nor CRLF (old Mac CR, or LF CR).",
            {"line": line},
            fix="Save the file with LF or CRLF line endings (in Excel: 'CSV UTF-8', not 'CSV (Macintosh)').",
        )


def _point(cell: str) -> str:
    stripped = cell.strip()
    if _DECIMAL_COMMA.match(stripped):
        return stripped.replace(".", "").replace(",", ".")
    return cell


def strip_footer(body: str, fields: int, notes: List[str], limit: int = 5) -> str:
    """Drop up to ``limit`` trailing lines that are not data rows (fewer fields than the header),
    e.g. Investing.com's 'Highest: ... Lowest: ...' summary. Looks at the tail only (large files)."""
    end = len(body.rstrip("\r\n \t"))
    dropped: List[str] = []
    while end > 0 and len(dropped) < limit:
        start = body.rfind("\n", 0, end) + 1
        last = body[start:end].rstrip("\r")
        if last.strip():
            if len(_split(last, ",")) >= fields:  # a data row (or a ragged one, reported later)
                break
            dropped.append(last)
        end = max(start - 1, 0)
    if not dropped:
        return body
    notes.append(f"Skipped {len(dropped)} line(s) after the data (footer): {dropped[-1][:80]!r}.")
    return body[:end] + "\n"

