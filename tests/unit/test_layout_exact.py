"""cripto_pipeline.layout with literal expectations: the exact refusal messages, the run id's digest as
sha256 of ``key NUL versionId-or-etag`` worked out by hand, run ids from datetimes, and the empty dataset
part of a several-file key (issue 16)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cripto_pipeline import layout
from cripto_pipeline.exceptions import InvalidDatasetNameError, InvalidKeyError

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
