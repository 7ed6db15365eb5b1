from __future__ import annotations

import gzip
from typing import Optional

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import exceptions as exc
from cripto_pipeline.features import MIN_ROWS_PER_SYMBOL, synthetic_ohlcv
from cripto_pipeline.validation import CANONICAL_COLUMNS, load_ohlcv, normalise_name

ROWS = MIN_ROWS_PER_SYMBOL + 20


def csv_frame(rows: int = ROWS, symbols: int = 1, freq: str = "D") -> pd.DataFrame:
    frame = synthetic_ohlcv(rows * symbols, symbols=symbols, freq=freq)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def to_bytes(frame: pd.DataFrame, banner: Optional[str] = None, **kwargs) -> bytes:
    text = frame.to_csv(index=False, **kwargs)
    return ((banner + "\n") if banner else "").encode() + text.encode()


def with_cell(frame: pd.DataFrame, row: int, column: str, value) -> bytes:
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return to_bytes(frame)


def load(data: bytes, **kwargs):
    kwargs.setdefault("max_bytes", 10_000_000)
    return load_ohlcv(data, **kwargs)


# --- accepted input ----------------------------------------------------------------------------


def test_daily_sample(daily_bytes):
    result = load(daily_bytes, default_symbol="x")
    frame = result.frame
    assert list(frame.columns) == list(CANONICAL_COLUMNS)
    assert len(frame) == 1770 and frame["symbol"].unique().tolist() == ["BTCUSD"]
    assert frame["timestamp"].is_monotonic_increasing
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2014-12-01", tz="UTC")
    # volume_btc (base) is used, not the USD 'volume' column: first row of the file (2019-10-17).
    assert frame["volume"].iloc[-1] == pytest.approx(1570.08)
    text = " ".join(result.warnings)
    assert "banner" in text and "newest-first" in text and "volume_btc" in text
    assert result.details["columns"]["volume"] == "volume_btc"


def test_hourly_sample_with_am_pm_timestamps(hourly_bytes):
    result = load(hourly_bytes)
    frame = result.frame
    assert len(frame) == 20111 and frame["timestamp"].is_monotonic_increasing
    assert result.details["timestamp_format"] == "%Y-%m-%d %I-%p"
    assert frame["timestamp"].iloc[-1] == pd.Timestamp("2019-10-17 09:00", tz="UTC")
    assert frame["timestamp"].diff().dropna().eq(pd.Timedelta(hours=1)).all()
    # The file is newest-first with a few rows out of order: repaired and said so.
    assert any("newest-first" in w for w in result.warnings)


def test_canonical_layout_roundtrip_and_order_kept():
    source = csv_frame()
    result = load(to_bytes(source), default_symbol="mine")
    assert result.frame["close"].to_numpy() == pytest.approx(source["close"].to_numpy())
    assert set(result.frame["symbol"]) == {"SYM0"}
    assert not any("order" in w for w in result.warnings)


def test_no_symbol_column_uses_default_symbol():
    result = load(to_bytes(csv_frame().drop(columns="symbol")), default_symbol="btc")
    assert set(result.frame["symbol"]) == {"btc"}


def test_header_names_case_and_whitespace_tolerant():
    frame = csv_frame()
    frame.columns = [" Timestamp ", "SYMBOL", "Open", " HIGH", "low ", "Close", "Volume"]
    frame[" Timestamp "] = "  " + frame[" Timestamp "] + " "
    result = load(to_bytes(frame))
    assert len(result.frame) == ROWS
    assert "Trimmed whitespace around header names." in result.warnings
    assert "Trimmed whitespace around values." in result.warnings


@pytest.mark.parametrize("unit, factor", [("s", 1), ("ms", 1000)])
def test_unix_timestamps(unit, factor):
    frame = synthetic_ohlcv(ROWS, freq="h")
    seconds = frame["timestamp"].dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype("int64")
    frame["timestamp"] = seconds * factor
    result = load(to_bytes(frame))
    assert result.details["timestamp_format"] == f"unix {unit}"
    assert result.frame["timestamp"].iloc[0] == pd.Timestamp("2020-01-01", tz="UTC")


def test_multi_symbol_file_interleaved():
    frame = csv_frame(symbols=3).sort_values(["timestamp", "symbol"])  # rows interleaved by time
    result = load(to_bytes(frame))
    assert sorted(result.details["symbols"]) == ["SYM0", "SYM1", "SYM2"]
    out = result.frame
    assert out["symbol"].is_monotonic_increasing
    assert all(g["timestamp"].is_monotonic_increasing for _, g in out.groupby("symbol"))


def test_iso_timestamps_with_offset_are_converted_to_utc():
    frame = csv_frame()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.strftime("%Y-%m-%dT%H:%M:%S+02:00")
    result = load(to_bytes(frame))
    assert result.frame["timestamp"].iloc[0] == pd.Timestamp("2019-12-31 22:00", tz="UTC")


def test_blank_lines_and_crlf_are_tolerated():
    text = to_bytes(csv_frame()).decode().replace("\n", "\r\n")
    lines = text.split("\r\n")
    lines.insert(5, "")
    result = load("\r\n".join(lines).encode())
    assert len(result.frame) == ROWS
    assert "Skipped 1 blank line(s)." in result.warnings


def test_cdd_volume_names_with_spaces():
    frame = csv_frame().rename(columns={"volume": "Volume BTC"})
    frame["Volume USD"] = frame["Volume BTC"] * frame["close"]
    result = load(to_bytes(frame))
    assert result.details["columns"]["volume"] == "Volume BTC"


def test_volume_in_two_currencies_without_bare_volume_prefers_non_quote():
    frame = csv_frame().rename(columns={"volume": "volume_eth"})
    frame["volume_usdt"] = frame["volume_eth"] * 2
    assert load(to_bytes(frame)).details["columns"]["volume"] == "volume_eth"


def test_normalise_name():
    assert normalise_name("\ufeff Volume BTC ") == "volume_btc"
    assert normalise_name("Unix Timestamp") == "unix_timestamp"


# --- rejected input ----------------------------------------------------------------------------


def expect(kind, data: bytes, **kwargs) -> exc.InputRejectedError:
    with pytest.raises(kind) as caught:
        load(data, **kwargs)
    report = caught.value.to_report()
    assert report["error"] == kind.__name__ and report["what"] and report["fix"]
    return caught.value


def test_too_large():
    error = expect(exc.InputTooLargeError, b"x" * 101, max_bytes=100)
    assert error.where["limit_bytes"] == 100


@pytest.mark.parametrize("data", [b"", b"   \n\n \r\n"])
def test_empty(data):
    expect(exc.EmptyInputError, data)


def test_header_only():
    expect(exc.HeaderOnlyError, b"timestamp,open,high,low,close,volume\n\n")


def test_banner_and_header_only():
    expect(
        exc.HeaderOnlyError,
        b"Created by someone,https://example.com\ndate,symbol,open,high,low,close,volume\n",
    )


def test_missing_column():
    error = expect(exc.MissingColumnError, to_bytes(csv_frame().drop(columns="low")))
    assert error.where["missing"] == ["low"]


def test_no_volume_column_trains_on_prices_with_a_warning():
    result = load(to_bytes(csv_frame().drop(columns="volume")))
    assert (result.frame["volume"] == 0.0).all()
    assert any("no volume column" in w for w in result.warnings)


def test_no_header_at_all():
    data = to_bytes(csv_frame(), header=False)
    expect(exc.MissingColumnError, data)


def test_duplicate_columns():
    text = to_bytes(csv_frame()).decode().replace("close", "Close", 1)
    text = text.replace(",volume", ",close", 1)  # 'Close' and 'close'
    error = expect(exc.DuplicateColumnError, text.encode())
    assert "close" in error.where["columns"]


@pytest.mark.parametrize("value", ["", "NULL", "N/A", "none"])
def test_null_cells(value):
    error = expect(exc.MissingValueError, with_cell(csv_frame(), 7, "close", value))
    assert error.where["samples"][0]["line"] == 9  # header is line 1, row 0 is line 2


def test_non_numeric():
    error = expect(exc.NonNumericValueError, with_cell(csv_frame(), 3, "volume", "12,5 BTC"))
    assert error.where["column"] == "volume" and error.where["samples"][0]["value"] == "12,5 BTC"


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_non_finite(value):
    expect(exc.NonFiniteValueError, with_cell(csv_frame(), 3, "open", value))


@pytest.mark.parametrize("value", [0, -1.5])
def test_non_positive_price(value):
    frame = csv_frame()
    frame.loc[10, ["open", "high", "low", "close"]] = value
    error = expect(exc.NonPositivePriceError, to_bytes(frame))
    assert error.where["samples"][0]["line"] == 12


def test_negative_volume():
    expect(exc.NegativeVolumeError, with_cell(csv_frame(), 4, "volume", -3))


def test_high_below_low():
    frame = csv_frame()
    frame.loc[5, ["high", "low"]] = frame.loc[5, ["low", "high"]].to_numpy()
    expect(exc.InconsistentOHLCError, to_bytes(frame))


def test_close_above_high():
    frame = csv_frame()
    frame.loc[6, "close"] = frame.loc[6, "high"] * 1.01
    error = expect(exc.InconsistentOHLCError, to_bytes(frame))
    assert error.where["samples"][0]["line"] == 8


def test_duplicate_timestamps_per_symbol():
    frame = csv_frame()
    frame.loc[9, "timestamp"] = frame.loc[8, "timestamp"]
    error = expect(exc.DuplicateTimestampError, to_bytes(frame))
    assert [s["line"] for s in error.where["samples"]] == [10, 11]


def test_same_timestamp_in_two_symbols_is_fine():
    assert len(load(to_bytes(csv_frame(symbols=2))).frame) == 2 * ROWS


@pytest.mark.parametrize("value", ["2019-13-45", "yesterday", "17/10/2019 25:00"])
def test_unparseable_timestamps(value):
    error = expect(exc.UnparseableTimestampError, with_cell(csv_frame(), 60, "timestamp", value))
    assert error.where["samples"][0]["value"] == value


def test_unix_time_out_of_range():
    frame = synthetic_ohlcv(ROWS)
    frame["timestamp"] = np.arange(ROWS) * 86400  # 1970: not a plausible market-data date
    expect(exc.UnparseableTimestampError, to_bytes(frame))


def test_too_few_rows_names_the_short_symbol():
    frame = pd.concat([csv_frame(symbols=1), csv_frame(rows=50).assign(symbol="SHORT")])
    error = expect(exc.TooFewRowsError, to_bytes(frame))
    assert error.where == {"required": MIN_ROWS_PER_SYMBOL, "rows_per_symbol": {"SHORT": 50}}


@pytest.mark.parametrize("delimiter, name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_other_delimiters_are_detected_and_reported(delimiter, name):
    expected = load(to_bytes(csv_frame())).frame
    result = load(to_bytes(csv_frame(), sep=delimiter))
    pd.testing.assert_frame_equal(result.frame, expected)
    assert f"Read the file as {name}-separated." in result.warnings


def test_ragged_rows():
    text = to_bytes(csv_frame()).decode().splitlines()
    text[20] += ",extra"
    text[30] += ",two,extra"
    two_more = expect(exc.MalformedCsvError, "\n".join(text).encode())
    # the parser stops at the line with two extra fields: its own message (naming line and count) is kept
    assert two_more.what == "A data line has more fields than the header."
    assert set(two_more.where) == {"parser_message", "header_fields", "line_offset"}
    assert two_more.where["header_fields"] == 7 and two_more.where["line_offset"] == 1
    assert "Expected 8 fields in line 30, saw 9" in two_more.where["parser_message"]
    del text[30]
    one_more = expect(exc.MalformedCsvError, "\n".join(text).encode())
    assert one_more.where == {"header_fields": 7, "lines": [21]}
    assert one_more.what == "1 data line(s) have more fields than the header."


def test_header_only_says_so():
    header_only = expect(exc.HeaderOnlyError, b"timestamp,open,high,low,close,volume\n")
    blank_lines = expect(exc.HeaderOnlyError, b"timestamp,open,high,low,close,volume\n \n,,,,,\n")
    for error in (header_only, blank_lines):
        assert error.what == "The file has a header but no data rows." and error.where == {"header_line": 1}


def test_trailing_delimiter_is_tolerated():
    lines = to_bytes(csv_frame()).decode().splitlines()
    assert len(load("\n".join(line + "," for line in lines).encode()).frame) == ROWS


@pytest.mark.parametrize(
    "data",
    [
        gzip.compress(b"timestamp,open\n"),
        b"PK\x03\x04zipped",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"timestamp,open,high,low,close,volume\n2020-01-01,1,1,1,1,\x81\x90\x9f\n",  # C1 controls
    ],
)
def test_binary_or_undecodable(data):
    expect(exc.UndecodableContentError, data)


def test_ambiguous_volume():
    frame = csv_frame().rename(columns={"volume": "volume_eth"})
    frame["volume_btc"] = frame["volume_eth"]
    expect(exc.AmbiguousVolumeError, to_bytes(frame))


def test_errors_are_json_reports():
    import json

    error = expect(exc.NonNumericValueError, with_cell(csv_frame(), 3, "volume", "abc"))
    assert json.loads(json.dumps(error.to_report()))["where"]["samples"][0]["line"] == 5


def test_clean_files_take_the_fast_path_with_the_same_result(monkeypatch):
    from cripto_pipeline import validation

    source = csv_frame(symbols=2)
    padded = to_bytes(source).decode().replace(",", " , ").encode()
    careful = load(padded)
    assert "Trimmed whitespace around values." in careful.warnings

    def must_not_be_called(*args, **kwargs):
        raise AssertionError("a clean file went through the slow reader")

    monkeypatch.setattr(validation, "read_body", must_not_be_called)  # the name validation calls
    fast = load(to_bytes(source))
    pd.testing.assert_frame_equal(fast.frame, careful.frame)
    assert fast.details == careful.details


@pytest.mark.parametrize("value", ["Null", "NULL", ""])
def test_null_timestamps_are_missing_values(value):
    expect(exc.MissingValueError, with_cell(csv_frame(), 12, "timestamp", value))


# --- mixed timestamp forms (issue 5): resolvable mixes are normalised and reported --------------


def _unix_seconds(frame: pd.DataFrame) -> np.ndarray:
    return frame["timestamp"].dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype("int64")


def test_unix_seconds_mixed_with_milliseconds_are_normalised_with_a_warning():
    frame = synthetic_ohlcv(ROWS, freq="h")
    seconds = _unix_seconds(frame)
    expected = frame["timestamp"].copy()
    frame["timestamp"] = np.where(np.arange(ROWS) % 3 == 0, seconds * 1000, seconds)
    result = load(to_bytes(frame))
    assert (result.frame["timestamp"].to_numpy() == expected.to_numpy()).all()
    assert any("mixed units" in w and "in ms" in w and "in s" in w for w in result.warnings)


def test_several_unambiguous_date_forms_are_normalised_with_a_warning():
    frame = csv_frame()
    frame.loc[::2, "timestamp"] = frame.loc[::2, "timestamp"].str.replace(" ", "T") + "Z"
    result = load(to_bytes(frame))
    assert len(result.frame) == ROWS and result.frame["timestamp"].is_monotonic_increasing
    assert any("several forms" in w for w in result.warnings)


def test_unix_numbers_among_dates_are_normalised_with_a_warning():
    frame = synthetic_ohlcv(ROWS, freq="D")
    seconds = _unix_seconds(frame)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d")
    frame.loc[5, "timestamp"] = str(seconds[5])
    result = load(to_bytes(frame))
    assert len(result.frame) == ROWS
    assert any("1 timestamp(s) were unix s" in w for w in result.warnings)


def test_day_month_year_dates_with_a_day_above_12_are_read_day_first():
    frame = synthetic_ohlcv(ROWS, freq="D")
    expected = frame["timestamp"].copy()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%d/%m/%Y")
    result = load(to_bytes(frame))
    assert (result.frame["timestamp"].to_numpy() == expected.to_numpy()).all()
    assert any("day/month/year" in w for w in result.warnings)


def test_day_month_order_that_cannot_be_told_is_rejected():
    frame = synthetic_ohlcv(ROWS, freq="D")
    dates = [f"{1 + i % 12:02d}/{1 + (i // 12) % 12:02d}/{2000 + i // 144}" for i in range(2 * 144)]
    # Shuffled: regular in neither reading, so the bar spacing cannot tell the order either.
    frame["timestamp"] = np.random.default_rng(1).permutation(dates)[:ROWS]
    error = expect(exc.AmbiguousTimestampError, to_bytes(frame))
    assert "no row has a day above 12" in error.what and error.where["samples"]


def test_day_first_and_month_first_rows_in_one_file_are_rejected():
    frame = synthetic_ohlcv(ROWS, freq="D")
    dates = frame["timestamp"]
    first_half = np.arange(ROWS) < ROWS // 2
    frame["timestamp"] = np.where(first_half, dates.dt.strftime("%d/%m/%Y"), dates.dt.strftime("%m/%d/%Y"))
    error = expect(exc.AmbiguousTimestampError, to_bytes(frame))
    assert "some rows put the day first" in error.what
    assert error.where["day_first_rows"] > 0 and error.where["month_first_rows"] > 0


def test_error_samples_stop_at_the_report_limit():
    """An error names at most exc.REPORT_SAMPLES (5) offending rows, the first ones, however many there are."""
    from cripto_pipeline import csv_table, validation

    raw = pd.DataFrame({"_line": range(2, 10), "close": ["n/a"] * 8})
    samples = csv_table.cell_samples(raw, [True] * 8, "close")
    assert [s["line"] for s in samples] == [2, 3, 4, 5, 6] and samples[0] == {"line": 2, "column": "close",
                                                                              "value": "n/a"}
    frame = pd.DataFrame({"_line": range(2, 10), "open": [-1.0] * 8})
    assert [r["line"] for r in validation._report(frame, [True] * 8, ["open"])] == [2, 3, 4, 5, 6]
