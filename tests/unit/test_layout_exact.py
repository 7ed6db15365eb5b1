"""cripto_pipeline.layout with literal expectations: the exact refusal messages, the run id's digest as
sha256 of ``key NUL versionId-or-etag`` worked out by hand, run ids from datetimes, and the empty dataset
part of a several-file key (issue 16)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from cripto_pipeline import layout
from cripto_pipeline.exceptions import InvalidDatasetNameError, InvalidEventError, InvalidKeyError

# sha256("raw.csv\0")[:8], sha256("raw.csv\0abc")[:8], sha256("raw/btc.csv\0X1X")[:8], computed outside the code
NO_IDENTITY = "15559a7f"
ETAG_ABC = "cdd6cf2a"
ETAG_X1X = "16a39937"


def test_a_key_outside_the_contract_is_refused_naming_the_three_upload_locations():
    with pytest.raises(InvalidKeyError) as refused:
        layout.dataset_from_raw_key("rawdata.csv")
    assert str(refused.value) == (
        "Key 'rawdata.csv' is not an upload location: upload to 'raw.csv', 'raw/<dataset>.csv' or "
        "'raw/<dataset>/<file>.csv'."
    )


def test_a_content_claim_needs_a_lowercase_sha256_and_says_so():
    with pytest.raises(InvalidKeyError) as refused:
        layout.content_claim_key("btc", "ABC")
    assert str(refused.value) == "'ABC' is not a sha256 hex digest."
    digest = "0" * 64
    assert layout.content_claim_key("btc", digest) == f"features/btc/_content/{digest}.json"


def test_a_several_file_key_with_an_empty_dataset_part_is_no_upload_location():
    assert layout.is_multi_file_key("raw//a.csv") is False
    assert layout.is_dataset_file("", "raw//a.csv") is False
    with pytest.raises(InvalidKeyError) as refused:
        layout.dataset_from_raw_key("raw//a.csv")
    assert not isinstance(refused.value, InvalidDatasetNameError)  # the key's form, not a dataset name
    assert str(refused.value).startswith("Key 'raw//a.csv' is not an upload location")


def test_the_digest_without_version_or_etag_hashes_the_key_and_nul_only():
    assert layout.object_digest("raw.csv", None, None) == NO_IDENTITY
    assert layout.object_digest("raw.csv", None, "") == NO_IDENTITY


def test_the_digest_of_an_etag_drops_only_its_surrounding_quotes():
    assert layout.object_digest("raw.csv", None, '"abc"') == ETAG_ABC
    assert layout.object_digest("raw.csv", None, "abc") == ETAG_ABC
    assert layout.object_digest("raw/btc.csv", None, '"X1X"') == ETAG_X1X


def test_a_run_id_from_an_aware_or_naive_datetime_is_its_utc_second():
    plus_one = timezone(timedelta(hours=1))
    aware = datetime(2026, 11, 27, 5, 0, 0, 900_000, tzinfo=plus_one)
    assert layout.make_run_id(aware, "raw.csv", None, "abc") == f"20261127T040000Z-{ETAG_ABC}"
    naive = datetime(2026, 11, 27, 4, 0, 0)  # naive means UTC
    assert layout.make_run_id(naive, "raw.csv", None, None) == f"20261127T040000Z-{NO_IDENTITY}"


def test_a_bad_dataset_name_is_refused_with_the_naming_rule():
    with pytest.raises(InvalidDatasetNameError) as refused:
        layout.dataset_from_raw_key("raw/my data.csv")
    assert str(refused.value) == ("Dataset name 'my data' is invalid: use 1-64 characters from A-Z a-z 0-9 _ - "
                                  "starting with a letter or digit (upload to raw/<dataset>.csv).")


def test_a_several_file_key_names_its_dataset_and_its_file():
    assert layout.dataset_from_raw_key("raw/btc/2024-01.csv") == "btc"
    assert layout.is_multi_file_key("raw/btc/2024-01.csv") is True
    assert layout.is_multi_file_key("raw/btc.csv") is False
    assert layout.is_multi_file_key("raw/a/b/c.csv") is False


def test_a_file_named_only_dot_csv_is_no_upload_location():
    with pytest.raises(InvalidKeyError):
        layout.dataset_from_raw_key("raw/btc/.csv")
    assert layout.is_multi_file_key("raw/btc/a.csv") and not layout.is_multi_file_key("raw/btc/.csv")


def test_a_file_of_a_dataset_is_under_that_datasets_own_prefix():
    assert layout.raw_dataset_prefix("btc") == "raw/btc/"
    assert layout.is_dataset_file("btc", "raw/btc/a.csv") is True
    assert layout.is_dataset_file("eth", "raw/btc/a.csv") is False
    assert layout.is_dataset_file("btc", "raw/btc.csv") is False
    assert layout.is_dataset_file("a.csv", "raw/btc/a.csv") is False


def test_a_dataset_files_key_and_the_file_names_refused():
    assert layout.dataset_file_key("btc", "2024-01.csv") == "raw/btc/2024-01.csv"
    for name in ("a/b.csv", "notes.txt"):
        with pytest.raises(InvalidKeyError) as refused:
            layout.dataset_file_key("btc", name)
        assert str(refused.value) == f"File name {name!r} must end with '.csv' and contain no '/'."
    with pytest.raises(InvalidDatasetNameError):
        layout.dataset_file_key("my data", "a.csv")


def test_malformed_run_ids_event_times_and_features_keys_are_refused_with_what_was_expected():
    with pytest.raises(InvalidKeyError) as refused:
        layout.validate_run_id("latest")
    assert str(refused.value) == "Run id 'latest' does not look like YYYYmmddTHHMMSSZ-xxxxxxxx."
    with pytest.raises(InvalidEventError) as refused:
        layout.parse_event_time("yesterday")
    assert str(refused.value) == "Event time 'yesterday' is not ISO 8601."
    with pytest.raises(InvalidKeyError) as refused:
        layout.parse_features_key("features/btc/latest.json")
    assert str(refused.value) == ("Key 'features/btc/latest.json' is not a features file: expected "
                                  "'features/<dataset>/<run_id>/features.parquet'.")


def test_a_content_claim_takes_a_lowercase_hex_digest_with_letters():
    digest = "ab" * 32
    assert layout.content_claim_key("btc", digest) == f"features/btc/_content/{digest}.json"
    with pytest.raises(InvalidKeyError):
        layout.content_claim_key("btc", digest.upper())


def test_the_object_name_is_the_keys_last_part():
    assert layout.object_name("models/btc/20261127T040000Z-9f86d081/metrics.json") == "metrics.json"


def test_a_lowercase_z_is_no_utc_designator():
    with pytest.raises(InvalidEventError):
        layout.parse_event_time("2026-11-27T04:00:00z")


class _Python39Datetime(datetime):
    """datetime as Python 3.9 (the Glue Python shell) parses ISO text: fromisoformat takes only what
    isoformat() writes, i.e. no 'Z' and 3 or 6 fractional digits (Python 3.11 accepts more)."""

    @classmethod
    def fromisoformat(cls, text):
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?([+-]\d\d:\d\d)?", text):
            raise ValueError(f"Invalid isoformat string: {text!r}")
        return datetime.fromisoformat(text)


@pytest.mark.parametrize("event_time, microsecond", [
    ("2026-11-27T04:00:00Z", 0), ("2026-11-27T04:00:00.1Z", 100_000), ("2026-11-27T04:00:00.123456789Z", 123_456),
    ("2026-11-27T05:00:00.12+01:00", 120_000),
])
def test_event_times_are_normalised_to_what_python_3_9_parses(monkeypatch, event_time, microsecond):
    monkeypatch.setattr(layout, "datetime", _Python39Datetime)
    assert layout.parse_event_time(event_time) == datetime(2026, 11, 27, 4, 0, 0, microsecond, tzinfo=timezone.utc)


def test_times_are_utc_whatever_the_machines_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        naive = datetime(2026, 11, 27, 4, 0, 0)
        assert layout.make_run_id(naive, "raw.csv", None, None) == f"20261127T040000Z-{NO_IDENTITY}"
        parsed = layout.parse_event_time("2026-11-27T05:00:00+01:00")
        assert (parsed.hour, parsed.utcoffset()) == (4, timedelta(0))
    finally:
        monkeypatch.undo()
        time.tzset()
