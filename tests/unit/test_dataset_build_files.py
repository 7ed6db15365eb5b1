"""cripto_pipeline.dataset_build: how the files of a several-file dataset are read and joined (issue 16).
Small generated CSV files (235 bars: the minimum for one symbol), exact documents."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import List

from cripto_pipeline import dataset_build, routing
from cripto_pipeline.features import FEATURE_COLUMNS
from cripto_pipeline.validation import load_ohlcv

RUN = "20261127T040000Z-0123abcd"
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
NEWEST = {"bucket": "b", "key": "raw/h/b.csv", "version_id": "v2"}


def _obj(key: str, version: str = "v1", size: int = 100) -> routing.RawObject:
    return routing.RawObject(key, version, "e" + version, size, T0)


def _csv(first: int, count: int, header: str = "timestamp,open,high,low,close,volume") -> bytes:
    """Hourly bars ``first`` .. ``first + count - 1`` from 2024-01-01 00:00, close 100 + bar."""
    lines = [header]
    for bar in range(first, first + count):
        stamp = (T0 + timedelta(hours=bar)).strftime("%Y-%m-%d %H:%M:%S")
        close = 100.0 + bar
        lines.append(f"{stamp},{close - 0.5},{close + 1},{close - 1},{close},{10 + bar % 7}")
    return ("\n".join(lines) + "\n").encode()


def _manifest(files: List[tuple], dataset: str = "h", max_raw_bytes: int = 10**6) -> dict:
    built = dataset_build.build_dataset_features("b", dataset, RUN, NEWEST, files,
                                                 max_raw_bytes=max_raw_bytes)
    assert built.status == "features_written", built.summary
    return json.loads(built.writes[0].body)


def test_235_bars_over_two_files_one_holding_a_single_bar_make_a_dataset_named_after_it():
    """No symbol column: the dataset's name is the symbol. A file may hold one bar; the dataset needs
    235 (34 warm-up + 200 training + 1). The manifest's input names the first file's columns."""
    first = _csv(0, 234, header="Date,Open,High,Low,Close,Volume")
    manifest = _manifest([(_obj("raw/btc/a.csv"), first), (_obj("raw/btc/b.csv", "v2"), _csv(234, 1))], "btc")
    assert manifest["symbols"] == {"btc": 235}
    assert manifest["rows"] == {"raw": 235, "features": 201}
    assert manifest["time_range"] == {"first": "2024-01-01T00:00:00+00:00",
                                      "last": "2024-01-10T18:00:00+00:00"}
    assert manifest["feature_columns"] == [
        "ret_1", "ret_1_lag1", "ret_1_lag2", "ret_1_lag3", "ret_5", "ret_10", "ret_20", "volatility_10",
        "volatility_30", "close_sma_10_ratio", "close_sma_30_ratio", "sma_10_30_ratio", "rsi_14", "macd",
        "macd_signal", "macd_hist", "bollinger_pct_b", "atr_14", "range_pct", "body_pct", "volume_zscore_30",
        "day_of_week_sin", "day_of_week_cos", "hour_sin", "hour_cos"]
    assert manifest["feature_columns"] == list(FEATURE_COLUMNS)
    assert manifest["input"] == {
        "columns": {"timestamp": "Date", "open": "Open", "high": "High", "low": "Low", "close": "Close",
                    "volume": "Volume"},
        "timestamp_format": "%Y-%m-%d %H:%M:%S"}
    assert manifest["warnings"] == []


def test_234_bars_over_two_files_are_refused():
    built = dataset_build.build_dataset_features(
        "b", "btc", RUN, NEWEST,
        [(_obj("raw/btc/a.csv"), _csv(0, 233)), (_obj("raw/btc/b.csv", "v2"), _csv(233, 1))],
        max_raw_bytes=10**6)
    report = json.loads(built.writes[0].body)
    assert report["error"] == "TooFewRowsError"
    assert report["where"] == {"required": 235, "rows_per_symbol": {"btc": 234}}


def test_a_file_over_the_size_limit_is_refused_naming_the_file():
    small, large = _csv(0, 5), _csv(5, 300)
    built = dataset_build.build_dataset_features(
        "b", "btc", RUN, NEWEST, [(_obj("raw/btc/a.csv"), small), (_obj("raw/btc/b.csv", "v2"), large)],
        max_raw_bytes=len(large) - 1)
    report = json.loads(built.writes[0].body)
    assert report["error"] == "InputTooLargeError"
    assert report["where"] == {"key": "raw/btc/b.csv", "version_id": "v2", "limit_bytes": len(large) - 1,
                               "size_bytes_at_least": len(large)}
    assert built.summary["reason"] == f"The file has more than {len(large) - 1} bytes (the limit)."


def test_a_bar_two_files_give_equal_up_to_rounding_is_kept_once_with_a_warning():
    first = _csv(0, 235)
    again = _csv(234, 2).decode().replace(",334.0,", ",334.00001,").encode()  # bar 234 again, then bar 235
    assert b",334.00001," in again
    manifest = _manifest([(_obj("raw/h/a.csv"), first), (_obj("raw/h/b.csv", "v2"), again)])
    assert manifest["rows"] == {"raw": 237, "features": 202}
    assert len(manifest["warnings"]) == 1
    # named by the file and its own line (the header is line 1 of b.csv), not by a row of the joined files
    assert manifest["warnings"] == [
        "Dropped 1 duplicate bar(s) equal to an earlier row up to rounding, e.g. raw/h/b.csv line 2; "
        "kept the first of each."]


def test_several_dropped_copies_are_each_named_by_file_and_line_in_one_warning():
    first = _csv(0, 235)
    again = _csv(233, 3).decode().replace(",333.0,", ",333.00001,").replace(",334.0,", ",334.00001,").encode()
    assert again.count(b".00001,") == 5  # bars 233 and 234 again up to rounding; bar 235 (new) has its low moved
    manifest = _manifest([(_obj("raw/h/a.csv"), first), (_obj("raw/h/b.csv", "v2"), again)])
    assert manifest["warnings"] == [
        "Dropped 2 duplicate bar(s) equal to an earlier row up to rounding, e.g. raw/h/b.csv line 2; "
        "raw/h/b.csv line 3; kept the first of each."]


def test_a_bar_two_files_give_differently_is_refused_naming_each_copys_file_and_line():
    first = _csv(0, 235)
    again = _csv(234, 2).decode().replace(",334.0,13\n", ",334.0,20\n").encode()  # bar 234 again, volume 13 -> 20
    assert b",334.0,20\n" in again
    built = dataset_build.build_dataset_features(
        "b", "h", RUN, NEWEST, [(_obj("raw/h/a.csv"), first), (_obj("raw/h/b.csv", "v2"), again)],
        max_raw_bytes=10**7)
    report = json.loads(built.writes[0].body)
    assert report["error"] == "DuplicateTimestampError"
    assert report["where"]["files"] == ["raw/h/a.csv", "raw/h/b.csv"]
    assert [(s["key"], s["line"]) for s in report["where"]["samples"]] == [("raw/h/a.csv", 236),
                                                                           ("raw/h/b.csv", 2)]


def test_joining_gives_the_canonical_columns_in_symbol_and_time_order_with_a_fresh_index():
    later = load_ohlcv(_csv(200, 40), min_rows_per_symbol=1, keep_line_numbers=True)
    earlier = load_ohlcv(_csv(0, 201), min_rows_per_symbol=1, keep_line_numbers=True)
    notes: List[str] = []
    frame = dataset_build._join("h", [("raw/h/b.csv", later), ("raw/h/a.csv", earlier)], notes)
    assert list(frame.columns) == ["timestamp", "symbol", "open", "high", "low", "close", "volume"]
    assert frame.index.tolist() == list(range(240))
    assert frame["close"].tolist() == [100.0 + bar for bar in range(240)]  # bar 200 once
    assert len(notes) == 1


def test_the_spark_request_claim_and_the_too_large_report_record_the_newest_upload():
    files = [_obj("raw/h/a.csv", size=600), _obj("raw/h/b.csv", "v2", size=500)]
    request = dataset_build.spark_request("h", RUN, NEWEST, files, "too big", "req-1")
    assert json.loads(request.claim.body)["raw"] == NEWEST
    report = json.loads(dataset_build.too_large("h", RUN, NEWEST, files, 1000).writes[0].body)
    assert report["raw"] == NEWEST
