"""Timestamp text -> UTC datetimes (issue 10). Plain functions: text series in, datetimes out.

Accepted: unix time in s / ms / µs / ns (unit read from each number's magnitude); ISO 8601 with or
without a zone (naive = UTC); ``YYYYMMDD HHMMSS`` (NinjaTrader), ``YYYY.MM.DD HH:MM`` (MetaTrader),
CryptoDataDownload's ``2019-10-17 09-AM``, 12-hour clocks, month names (``Jan 02, 2020``,
``31-Dec-10``); day/month/year or month/day/year when the order is certain: a day above 12 in some
row, else the bar spacing being regular only one way (both reported). Anything else: NaT, and
AmbiguousTimestampError when the day/month order cannot be told (or the year has two digits);
UnparseableTimestampError for a zone given by name (``EST``), with or without an offset after it.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import pandas as pd

from . import exceptions as exc

#: Formats tried, in order, on string timestamps (the first that reads a sample of the column wins).
TIMESTAMP_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %I-%p",  # CryptoDataDownload hourly: '2019-10-17 09-AM'
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d %H:%M:%S%z",  # pandas' own to_csv of UTC timestamps: '2020-01-01 00:00:00+00:00'
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d %H%M%S",  # NinjaTrader
    "%Y%m%d",
    "%Y.%m.%d %H:%M",  # MetaTrader
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y-%m-%d %I:%M %p",
    "%Y-%m-%d %I:%M:%S %p",
    "%b %d, %Y",  # Investing.com: 'Jan 02, 2020'
    "%d-%b-%y",  # Google Finance: '31-Dec-10'
    "%d-%b-%Y",
    "%d %b %Y",
)
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
LATEST = pd.Timestamp("2100-01-01", tz="UTC")

#: Plausible unix times (1990-2100) per unit; the ranges do not overlap, so each number's unit is
#: read from its magnitude alone and a file mixing seconds and milliseconds is resolved row by row.
UNIX_UNITS = {
    unit: (EARLIEST.value // nanos, LATEST.value // nanos)
    for unit, nanos in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1))
}
#: Day/month/year written with '/', '.' or '-' (e.g. 05/11/2019): the order of day and month is
#: only known when some row has a value above 12 in one of the two places.
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T].*)?$")
#: The same with a two-digit year (01/02/24): day, month and year could each come first (24/01/02), and
#: pandas would silently guess month/day/year; refused with the fix.
_SHORT_YEAR = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(?:[ T].*)?$")
#: A time ending in a zone's name ('2020-01-02 10:00:00 EST'): pandas reads only UTC/GMT/Z and silently
#: drops any other name (a FutureWarning), which would shift every bar by the zone's offset. Names are not
#: unique offsets (CST is UTC-6 in America, UTC+8 in China), so they are refused with the fix.
#: Also '... EST.' (pandas drops the dot) and the name between a time and the year, as Unix date(1) writes
#: it ('Tue Jan 02 10:00:00 EST 2024'; the time is required there, so '2 June 2024' stays a date).
_ZONE_NAME = re.compile(r"(?:\d\s*([A-Za-z]{2,5})\W*|:\d\d\s+([A-Za-z]{2,5})\s+\d{4})$")
_READ_ZONES = {"UTC", "GMT", "Z", "AM", "PM"}
#: A zone name with an offset after it ('10:00 GMT+1', '10:00 EST-0500', '10:00 UTC +05:00'): dateutil reads
#: the offset the POSIX way, sign reversed (GMT+1 one hour behind UTC), or drops it after a space, so every
#: bar would move by twice the offset or by the offset; refused whatever the name (not AM/PM: '10:00 PM+05:00'
#: is a 12-hour time with an ordinary offset, read right). After a clock time only: '2 Jan-2024' is a date.
_NAME_AND_OFFSET = re.compile(r":\d\d(?:[.,]\d+)?\s*([A-Za-z]{1,5})\s*[+-]\d{1,2}(?::?\d\d)?\W*$")


def parse_timestamp_columns(
    dates: pd.Series, time_of_day: Optional[pd.Series], notes: List[str]
) -> Tuple[pd.Series, str]:
    """The timestamp column, joined with a separate time-of-day column when the file has one, in UTC;
    return (values, description of the format used). Cells that cannot be read, or that name a time
    outside [EARLIEST, LATEST), are NaT (the caller reports them). See :func:`parse_timestamps`."""
    text = dates if time_of_day is None else dates.astype(str) + " " + time_of_day.astype(str)
    parsed, fmt = parse_timestamps(text, notes)
    return parsed.where((parsed >= EARLIEST) & (parsed < LATEST)), fmt


def parse_timestamps(text: pd.Series, notes: List[str]) -> Tuple[pd.Series, str]:
    """Parse a column of timestamp text to UTC; return (values, description of the format used).

    Cells that cannot be read are NaT (the caller reports them). Resolvable mixes (unix seconds
    beside milliseconds, several unambiguous date forms, unix numbers beside dates) are normalised
    and reported in ``notes``; a day/month order that cannot be told raises AmbiguousTimestampError.
    """
    # Cheap test on the first cell before converting a whole column of dates to numbers.
    looks_numeric = bool(re.match(r"^[+-]?\d+(\.\d*)?$", str(text.iloc[0])))
    numbers = pd.to_numeric(text, errors="coerce") if looks_numeric else None
    if numbers is not None and numbers.notna().all():
        return _parse_unix(numbers, notes)
    numeric = text.str.fullmatch(r"[+-]?\d+(\.\d*)?")
    parsed, fmt = _parse_text_timestamps(text.where(~numeric), notes)
    if numeric.any():  # dates and unix numbers in one column: each is unambiguous on its own
        unix, unit = _parse_unix(pd.to_numeric(text.where(numeric), errors="coerce").dropna(), notes)
        parsed = parsed.where(~numeric, unix.reindex(parsed.index))
        notes.append(f"{int(numeric.sum())} timestamp(s) were {unit} among {fmt} dates; all read as UTC.")
        fmt = f"{fmt} + {unit}"
    return parsed, fmt


def _parse_unix(numbers: pd.Series, notes: List[str]) -> Tuple[pd.Series, str]:
    """Unix numbers -> UTC, each number's unit read from its magnitude (see UNIX_UNITS)."""
    parsed = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")
    counts: Dict[str, int] = {}
    for unit, (low, high) in UNIX_UNITS.items():
        mask = (numbers >= low) & (numbers < high)
        if mask.any():
            counts[unit] = int(mask.sum())
            parsed[mask] = pd.to_datetime(numbers[mask], unit=unit, utc=True)
    if not counts:  # nothing plausible: report the values as unix seconds
        try:
            return pd.to_datetime(numbers, unit="s", utc=True, errors="coerce"), "unix s"
        except OverflowError:  # pandas raises despite errors="coerce" on floats beyond int64 (20+ digits)
            return parsed, "unix s"  # all NaT: the caller names the cells that are no date
    if len(counts) > 1:
        notes.append(
            "Unix timestamps mixed units ("
            + ", ".join(f"{n} in {unit}" for unit, n in counts.items())
            + "); each was read by its magnitude and normalised to UTC."
        )
    return parsed, "unix " + "+".join(counts)


def _parse_text_timestamps(text: pd.Series, notes: List[str]) -> Tuple[pd.Series, str]:
    """Date text -> UTC with the known formats; cells may mix them (reported as a warning)."""
    cells = text.dropna()
    if cells.empty:
        return pd.to_datetime(text, errors="coerce", utc=True), "none"
    sample = cells.head(50)
    for fmt in TIMESTAMP_FORMATS:  # the common case: one format for the whole column
        if pd.to_datetime(sample, format=fmt, errors="coerce", utc=True).notna().all():
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
            if parsed[text.notna()].notna().all():
                return parsed, fmt
            break
    # Several forms in one column: each known format is unambiguous (year first), so a cell read by
    # any of them has one meaning.
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    used: Dict[str, int] = {}
    for fmt in TIMESTAMP_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        attempt = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
        if attempt.notna().any():
            used[fmt] = int(attempt.notna().sum())
            parsed[attempt.index[attempt.notna()]] = attempt.dropna()
    todo = parsed.isna() & text.notna()
    if todo.any():
        rest = _parse_other_dates(text[todo])
        if rest.notna().any():
            used["other (" + str(rest.attrs.get("format", "inferred")) + ")"] = int(rest.notna().sum())
            parsed[rest.index[rest.notna()]] = rest.dropna()
    if any("bar spacing" in fmt for fmt in used):
        notes.append("No date has a day above 12, so the day/month order was taken from the bar spacing "
                     "(regular only in that order); prefer ISO 8601 (year first).")
    elif any("/year" in fmt for fmt in used):
        notes.append("Dates written day/month/year or month/day/year were read in the one order their "
                     "values allow (some day is above 12); prefer ISO 8601 (year first).")
    if len(used) > 1 and parsed[text.notna()].notna().all():
        notes.append(
            "Timestamps came in several forms ("
            + ", ".join(f"{fmt!r}: {n}" for fmt, n in used.items())
            + "); each is unambiguous and all were read as UTC."
        )
    return parsed, " + ".join(used) or "none"


def _parse_other_dates(text: pd.Series) -> pd.Series:
    """Dates in none of TIMESTAMP_FORMATS: day/month/year forms (only when their order is certain)
    and anything else pandas reads without guessing an order (month names, ISO variants)."""
    _refuse_zone_names(text)
    _refuse_short_years(text)
    parts = text.str.extract(_DMY)
    dmy = parts[0].notna()
    day_first = False
    if dmy.any():
        first, second = parts.loc[dmy, 0].astype(int), parts.loc[dmy, 1].astype(int)
        day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
        if not day_first and not month_first:
            order = order_from_spacing(text[dmy])
            if order is not None:
                day_first = order == "day/month/year"
                month_first = not day_first
                text.attrs["spacing_order"] = order
        if day_first == month_first:
            example, where = _cells(text, dmy)
            raise exc.AmbiguousTimestampError(
                f"The day/month order of dates such as {example!r} cannot be told: "
                + ("some rows put the day first, others the month." if day_first
                   else "no row has a day above 12."),
                {**where, "day_first_rows": int((first > 12).sum()), "month_first_rows": int((second > 12).sum())},
            )
    # format="mixed" parses each element on its own without guessing a format: pandas 2 warns (UserWarning)
    # only when it guesses one (format=None), so no warning is expected here.
    result = pd.to_datetime(text, errors="coerce", utc=True, format="mixed", dayfirst=day_first)
    order = "day/month/year" if day_first else "month/day/year"
    result.attrs["format"] = order if dmy.any() else "inferred"
    if text.attrs.get("spacing_order"):
        result.attrs["format"] += ", from the bar spacing"
    return result


def _cells(text: pd.Series, flagged: pd.Series) -> Tuple[str, Dict]:
    """The first flagged cell, and the report's where: the column, how many cells, the first few of them."""
    first = flagged[flagged].index[:exc.REPORT_SAMPLES]
    return str(text[first[0]]), {"column": "timestamp", "count": int(flagged.sum()),
                                 "samples": [{"value": str(text[i])} for i in first]}


def _refuse_zone_names(text: pd.Series) -> None:
    _refuse_names_with_offsets(text)
    found = text.str.extract(_ZONE_NAME)
    names = found[0].where(found[0].notna(), found[1]).str.upper()
    named = names.notna() & ~names.isin(_READ_ZONES)
    if named.any():
        example, where = _cells(text, named)
        raise exc.UnparseableTimestampError(
            f"{where['count']} timestamp(s) name a time zone ({', '.join(sorted(set(names[named])))}) instead of "
            f"giving its offset, e.g. {example!r}: a zone name can stand for several offsets.",
            where,
            fix="Write the offset ('2020-01-02 10:00:00-05:00') or the time in UTC ('2020-01-02 15:00:00').",
        )


def _refuse_names_with_offsets(text: pd.Series) -> None:
    names = text.str.extract(_NAME_AND_OFFSET)[0].str.upper()
    named = names.notna() & ~names.isin({"AM", "PM"})
    if named.any():
        example, where = _cells(text, named)
        raise exc.UnparseableTimestampError(
            f"{where['count']} timestamp(s) give a zone name and an offset ({', '.join(sorted(set(names[named])))}),"
            f" e.g. {example!r}: such offsets are read with their sign reversed (POSIX: GMT+1 is one hour "
            "behind UTC) or dropped, so the times would be wrong.",
            where,
            fix="Write the offset alone, after the time ('2020-01-02 10:00:00+01:00'), or the time in UTC.",
        )


def _refuse_short_years(text: pd.Series) -> None:
    short = text.str.match(_SHORT_YEAR)
    if short.any():
        example, where = _cells(text, short)
        raise exc.AmbiguousTimestampError(
            f"{where['count']} date(s) have a two-digit year, e.g. {example!r}: the order of day, month "
            "and year cannot be told.",
            where,
            fix="Export four-digit years ('01/02/2024'), or better ISO 8601, year first ('2024-01-02').",
        )


def order_from_spacing(text: pd.Series) -> "str | None":
    """'day/month/year' or 'month/day/year' when the bars are regularly spaced in only one of the
    two readings (in time order, no step above 7 times the usual one), else None."""
    regular = []
    for order, dayfirst in (("day/month/year", True), ("month/day/year", False)):
        # utc=True as everywhere else: several offsets in one column are instants, not an object column.
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)
        steps = parsed.diff().dropna()
        if parsed.isna().any() or steps.empty:
            continue
        monotonic = bool((steps > pd.Timedelta(0)).all() or (steps < pd.Timedelta(0)).all())
        usual = steps.abs().value_counts().index[0]
        # Gaps up to 7 usual steps (weekends, holidays) are regular; the wrong reading of a date
        # jumps by a month where the right one moves by a bar.
        if monotonic and steps.abs().max() <= 7 * usual:
            regular.append(order)
    return regular[0] if len(regular) == 1 else None
