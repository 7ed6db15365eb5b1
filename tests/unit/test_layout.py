from __future__ import annotations

import pytest

from cripto_pipeline import layout
from cripto_pipeline.exceptions import InvalidDatasetNameError, InvalidEventError, InvalidKeyError


@pytest.mark.parametrize(
    "key, dataset",
    [
        ("raw.csv", "default"),
        ("raw/btc.csv", "btc"),
        ("raw/BTC_usd-1h.csv", "BTC_usd-1h"),
        ("raw/9.csv", "9"),
    ],
)
def test_raw_keys_map_to_datasets(key, dataset):
    assert layout.dataset_from_raw_key(key) == dataset


@pytest.mark.parametrize(
    "key", ["rawdata.csv", "raw/a/b/c.csv", "raw/btc.txt", "other/raw.csv", "raw/", "raw.csv.bak"]
)
def test_keys_outside_the_contract_are_refused(key):
    with pytest.raises(InvalidKeyError):
        layout.dataset_from_raw_key(key)


@pytest.mark.parametrize("name", ["my data", "_hidden", "-x", "a" * 65, "é", ".csv", ""])
def test_bad_dataset_names_are_refused(name):
    with pytest.raises(InvalidDatasetNameError):
        layout.dataset_from_raw_key(f"raw/{name}.csv")


def test_run_id_is_deterministic_and_depends_on_object_identity():
    a = layout.make_run_id("2026-11-27T04:00:00.123Z", "raw.csv", None, "abc")
    assert a == layout.make_run_id(
        "2026-11-27T04:00:00.123Z", "raw.csv", None, '"abc"'
    )  # quotes do not matter
    assert a.startswith("20261127T040000Z-") and len(a) == len("20261127T040000Z-") + 8
    assert a != layout.make_run_id("2026-11-27T04:00:00.123Z", "raw.csv", None, "abd")
    assert a != layout.make_run_id("2026-11-27T04:00:00.123Z", "raw/x.csv", None, "abc")
    assert a != layout.make_run_id("2026-11-27T04:00:00.123Z", "raw.csv", "v1", "abc")  # version id wins
    assert layout.validate_run_id(a) == a


@pytest.mark.parametrize(
    "event_time",
    [
        "2026-11-27T04:00:00Z",
        "2026-11-27T04:00:00.1Z",
        "2026-11-27T04:00:00.123456789Z",
        "2026-11-27T05:00:00+01:00",
    ],
)
def test_event_time_formats(event_time):
    assert layout.make_run_id(event_time, "raw.csv", None, "e").startswith("20261127T040000Z-")


def test_bad_event_time():
    with pytest.raises(InvalidEventError):
        layout.make_run_id("yesterday", "raw.csv", None, "e")


def test_run_ids_sort_by_time():
    older = layout.make_run_id("2026-11-27T04:00:00Z", "raw.csv", None, "zzz")
    newer = layout.make_run_id("2026-11-27T04:00:01Z", "raw.csv", None, "aaa")
    assert older < newer
    assert layout.is_newer_run(newer, older) and not layout.is_newer_run(older, newer)
    assert layout.is_newer_run(older, None) and layout.is_newer_run(older, older)


def test_keys_round_trip():
    run_id = layout.make_run_id("2026-11-27T04:00:00Z", "raw/btc.csv", "v1", None)
    keys = layout.run_keys("btc", run_id)
    assert keys.manifest == f"features/btc/{run_id}/manifest.json"
    assert keys.features == f"features/btc/{run_id}/features.parquet"
    assert keys.manifest.rsplit("/", 1)[0] == keys.features.rsplit("/", 1)[0]
    assert layout.parse_features_key(keys.features) == keys
    assert [keys.model, keys.metrics, keys.feature_list, keys.lineage] == [
        f"models/btc/{run_id}/{name}"
        for name in ("model.joblib", "metrics.json", "features.json", "lineage.json")
    ]
    assert keys.latest == "models/btc/latest.json"
    assert keys.error == f"errors/btc/{run_id}.json"
    assert layout.invalid_key_error_key(run_id) == f"errors/_invalid-key/{run_id}.json"


@pytest.mark.parametrize(
    "key",
    [
        "features/btc/run/features.parquet",
        "features/btc/20261127T040000Z-abcdef12/x.parquet",
        "features/b c/20261127T040000Z-abcdef12/features.parquet",
        "models/btc/latest.json",
    ],
)
def test_parse_features_key_refuses_foreign_keys(key):
    with pytest.raises(InvalidKeyError):
        layout.parse_features_key(key)


def test_one_parser_for_event_times():
    from datetime import datetime, timezone

    expected = datetime(2026, 11, 27, 4, 0, 0, 123000, tzinfo=timezone.utc)
    assert layout.parse_event_time("2026-11-27T04:00:00.123Z") == expected
    assert layout.parse_event_time("2026-11-27T05:00:00.123+01:00") == expected  # always UTC
    assert layout.parse_event_time("2026-11-27T04:00:00.123") == expected  # naive means UTC
    with pytest.raises(InvalidEventError):
        layout.parse_event_time("27/11/2026")


def test_run_ids_parse_back_into_time_and_digest():
    from datetime import datetime, timezone

    run_id = layout.make_run_id("2026-11-27T04:00:00.900Z", "raw/btc.csv", "v1", None)
    when, digest = layout.parse_run_id(run_id)
    assert when == datetime(2026, 11, 27, 4, 0, 0, tzinfo=timezone.utc)  # to the second
    assert digest == layout.object_digest("raw/btc.csv", "v1", None) and run_id.endswith(digest)
    assert layout.run_id_floor(when) < run_id < layout.run_id_floor(when.replace(second=1))
    with pytest.raises(InvalidKeyError):
        layout.parse_run_id("latest")


def test_the_run_a_key_belongs_to():
    run_id = layout.make_run_id("2026-11-27T04:00:00Z", "raw/btc.csv", "v1", None)
    keys = layout.run_keys("btc", run_id)
    for key in (keys.manifest, keys.features, keys.start_claim, keys.model, keys.report, keys.error):
        assert layout.run_id_in_key(key) == run_id, key
    claim = layout.content_claim_key("btc", "0" * 64)
    for key in (keys.latest, claim, layout.raw_key("btc"), "features/btc/not-a-run/features.parquet"):
        assert layout.run_id_in_key(key) is None, key
    assert layout.dataset_prefixes("btc") == {"features": "features/btc/", "errors": "errors/btc/",
                                              "models": "models/btc/"}
    assert all(key.startswith(tuple(layout.dataset_prefixes("btc").values())) for key in (keys.model, keys.error))


def test_a_runs_prefixes_end_at_its_directory():
    keys = layout.run_keys("btc", "20261127T040000Z-9f86d081")
    assert keys.features_prefix == "features/btc/20261127T040000Z-9f86d081/"
    assert keys.models_prefix == "models/btc/20261127T040000Z-9f86d081/"
    assert keys.start_claim == "features/btc/20261127T040000Z-9f86d081/glue-start.json"


def test_raw_keys_are_built_where_they_are_parsed():
    assert layout.raw_key() == "raw.csv" and layout.dataset_from_raw_key(layout.raw_key()) == "default"
    assert layout.dataset_from_raw_key(layout.raw_key("BTC_usd-1h")) == "BTC_usd-1h"
    with pytest.raises(InvalidDatasetNameError):
        layout.raw_key("my data")
