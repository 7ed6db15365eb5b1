"""cripto_pipeline.routing details with literal expectations: which version an invocation is, the run
claim's name over versions and ETags, the Spark request document and reason (issue 16)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cripto_pipeline import routing
from cripto_pipeline.events import S3ObjectRef

T0 = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)


def _obj(key="raw/d/a.csv", version=None, etag=None, size=10, when=T0) -> routing.RawObject:
    return routing.RawObject(key, version, etag, size, when)


def _ref(key="raw/d/a.csv", version=None, etag=None) -> S3ObjectRef:
    return S3ObjectRef("b", key, "2026-11-27T04:00:00.000Z", version, etag)


def test_an_unversioned_invocation_is_its_object_only_by_a_matching_etag():
    assert routing.debounce([_obj(etag="e1")], _ref(etag="e1")) == routing.PROCEED
    assert routing.debounce([_obj(etag="e2")], _ref(etag="e1")) == routing.SUPERSEDED
    assert routing.debounce([_obj(etag=None)], _ref(etag=None)) == routing.SUPERSEDED  # nothing to tell by
    assert routing.debounce([_obj(version="v1")], _ref(version="v1")) == routing.PROCEED


def test_the_newest_file_is_told_by_the_second_then_the_key():
    early = _obj("raw/d/b.csv", "v1", when=T0.replace(microsecond=0))
    late_same_second = _obj("raw/d/a.csv", "v1", when=T0.replace(microsecond=900_000))
    # within one second S3's own timestamps cannot order them: the larger key goes on
    assert routing.debounce([early, late_same_second], _ref("raw/d/b.csv", "v1")) == routing.PROCEED
    assert routing.debounce([early, late_same_second], _ref("raw/d/a.csv", "v1")) == routing.DEBOUNCED


def test_the_run_claims_name_follows_the_version_else_the_etag():
    digest = routing.listing_digest
    assert digest([_obj(version="v1", etag="e1")]) != digest([_obj(etag="e1")])
    assert digest([_obj(etag="e1")]) != digest([_obj()])
    assert digest([_obj()]) != digest([_obj(version="XXXX")])
    assert digest([_obj(version="v1", etag="e1")]) == digest([_obj(version="v1", etag="e2")])
    assert len(digest([_obj()])) == 64


def test_an_object_from_its_event_keeps_version_etag_and_time():
    obj = routing.object_from_event(S3ObjectRef("b", "raw/d/a.csv", "2026-11-27T04:00:00.000Z", "v9", "e9"), "42")
    assert obj == routing.RawObject("raw/d/a.csv", "v9", "e9", 42, T0)


def test_the_spark_request_document_and_reason():
    files = [_obj("raw/d/b.csv", "v2", "e2", 7), _obj("raw/d/a.csv", "v1", "e1", 5)]
    assert routing.spark_inputs("d", "r1", files, "why", "req-1") == {
        "schema": "cripto-pipeline/spark-inputs/v1", "dataset": "d", "run_id": "r1",
        "raw": [{"key": "raw/d/a.csv", "version_id": "v1", "size": 5, "etag": "e1"},
                {"key": "raw/d/b.csv", "version_id": "v2", "size": 7, "etag": "e2"}],
        "reason": "why", "requested_by": "req-1"}
    assert routing.spark_reason(files[:1], 4) == ("the file holds 7 bytes, above the feature Lambda's limit "
                                                  "MAX_RAW_BYTES=4")
    assert routing.spark_reason(files, 1000) == ("the 2 files hold 12 bytes, above the feature Lambda's limit "
                                                 "MAX_RAW_BYTES=1,000")


def test_the_run_claims_name_is_the_sha256_of_key_nul_version_or_etag_lines():
    # sha256 of the exact bytes, worked out outside the code
    assert routing.listing_digest([_obj(etag="e1")]) == (
        "6d2894a196a8a6865c0eac4ebd100eb7d884ce44511387eda5eb4b6d81e64d32")  # b"raw/d/a.csv\0e1\n"
    assert routing.listing_digest([_obj(version="v1", etag="e1")]) == (
        "da350cf8a4ffcd08f256d01ba442f27f9b933096e94921e6887405132f53674c")  # b"raw/d/a.csv\0v1\n"
    assert routing.listing_digest([_obj()]) == (
        "2830f7892447fdeab2daf5b09e1e90475f931abf1f9c6cf0579cd91a795943e7")  # b"raw/d/a.csv\0\n"


def test_a_listed_version_without_etag_or_size_and_with_a_naive_time():
    listed = [{"Key": "raw/d/a.csv", "VersionId": "v1", "IsLatest": True, "LastModified": datetime(2026, 11, 27, 4, 0)}]
    (only,) = routing.current_files("d", listed)
    assert only == routing.RawObject("raw/d/a.csv", "v1", None, 0, T0)
    assert only.last_modified.tzinfo is not None


def test_a_listed_etag_loses_only_its_surrounding_quotes():
    listed = [{"Key": "raw/d/a.csv", "IsLatest": True, "ETag": '"X1X"', "Size": 7, "LastModified": T0}]
    assert routing.current_files("d", listed) == [routing.RawObject("raw/d/a.csv", None, "X1X", 7, T0)]


def test_the_debounce_record_is_the_wait_to_the_millisecond_and_when_it_ended():
    ended = datetime(2026, 11, 27, 4, 0, 20, tzinfo=timezone.utc)
    assert routing.debounce_record(19.87654, ended) == {"waited_s": 19.877, "ended_at": "2026-11-27T04:00:20+00:00"}
    assert routing.debounce_record(-0.5, ended)["waited_s"] == 0.0  # a clock step back waits nothing
    assert routing.debounce_ended({"debounce": {"waited_s": 1.0, "ended_at": "t"}}) == "t"
    assert routing.debounce_ended({"debounce": "t"}) is None and routing.debounce_ended({}) is None


def test_the_raw_files_of_each_manifest_shape():
    spark = {"raw": {"files": [{"key": "raw/d/a.csv"}, {"key": "raw/d/b.csv"}], "key": "raw/d/b.csv"}}
    assert routing.raw_files(spark) == [{"key": "raw/d/a.csv"}, {"key": "raw/d/b.csv"}]
    several = {"raw": {"key": "raw/d/b.csv"}, "raw_files": [{"key": "raw/d/a.csv"}, {"key": "raw/d/b.csv"}]}
    assert routing.raw_files(several) == [{"key": "raw/d/a.csv"}, {"key": "raw/d/b.csv"}]
    assert routing.raw_files({"raw": {"key": "raw/d.csv", "files": []}}) == [{"key": "raw/d.csv", "files": []}]
    assert routing.raw_files({"raw": [{"key": "raw/d/a.csv"}]}) == [{"key": "raw/d/a.csv"}]
    assert routing.raw_files({"raw": {"key": "raw/d.csv"}}) == [{"key": "raw/d.csv"}]


def test_a_feature_set_built_by_the_lambda_trains_on_every_row():
    assert routing.pandas_engine(700) == {"engine": "pandas", "rows_total": 700, "rows_sampled": 700}
    assert routing.pandas_engine(700.0)["rows_total"] == 700 and isinstance(routing.pandas_engine(7.0)["rows_sampled"], int)


def test_training_rows_fall_back_field_by_field():
    assert routing.training_rows({}) == {"engine": "pandas", "rows_total": None, "rows_sampled": None,
                                         "sample": {"method": "all rows"}}
    assert routing.training_rows({"engine": "spark", "rows_total": 10, "rows": {"features": 7}, "sample": {}}) == {
        "engine": "spark", "rows_total": 10, "rows_sampled": 10, "sample": {"method": "all rows"}}


def test_training_rows_of_an_old_manifest_and_of_a_spark_sample():
    assert routing.training_rows({"rows": {"features": 700}}) == {
        "engine": "pandas", "rows_total": 700, "rows_sampled": 700, "sample": {"method": "all rows"}}
    spark = {"engine": "spark", "rows_total": 10, "rows_sampled": 3, "sample": {"method": "time-stratified"},
             "rows": {"features": 99}}
    assert routing.training_rows(spark) == {"engine": "spark", "rows_total": 10, "rows_sampled": 3,
                                            "sample": {"method": "time-stratified"}}


def test_current_files_are_the_latest_versions_of_the_datasets_files_sorted_by_key():
    listed = [
        {"Key": "raw/d/b.csv", "VersionId": "b1", "IsLatest": True, "Size": 2, "LastModified": T0},
        {"Key": "raw/d/a.csv", "VersionId": "a2", "IsLatest": True, "Size": 1, "LastModified": T0},
        {"Key": "raw/d/a.csv", "VersionId": "a1", "IsLatest": False, "Size": 9, "LastModified": T0},
        {"Key": "raw/e/c.csv", "VersionId": "c1", "IsLatest": True, "Size": 3, "LastModified": T0},
    ]
    assert [(o.key, o.version_id) for o in routing.current_files("d", listed)] == [
        ("raw/d/a.csv", "a2"), ("raw/d/b.csv", "b1")]


def test_an_invocation_whose_file_is_not_listed_is_superseded():
    assert routing.debounce([_obj("raw/d/b.csv", "v1")], _ref("raw/d/a.csv", "v1")) == routing.SUPERSEDED


def test_the_run_claims_name_does_not_depend_on_the_listing_order():
    a, b = _obj("raw/d/a.csv", "v1"), _obj("raw/d/b.csv", "v1")
    assert routing.listing_digest([b, a]) == routing.listing_digest([a, b])


def test_a_dataset_of_exactly_max_raw_bytes_is_built_by_the_lambda():
    files = [_obj("raw/d/a.csv", size=60), _obj("raw/d/b.csv", size=50)]
    assert (routing.engine_for(files, 110), routing.engine_for(files, 109)) == (routing.PANDAS, routing.SPARK)


def test_the_spark_inputs_document_with_its_debounce_record():
    files = [_obj("raw/d/b.csv", "v2", "e2", size=5), _obj("raw/d/a.csv", "v1", "e1", size=4)]
    debounce = {"waited_s": 1.5, "ended_at": "2026-11-27T04:00:20+00:00"}
    assert routing.spark_inputs("d", "20261127T040000Z-0123abcd", files, "big", "req-1", debounce) == {
        "schema": "cripto-pipeline/spark-inputs/v1", "dataset": "d", "run_id": "20261127T040000Z-0123abcd",
        "raw": [{"key": "raw/d/a.csv", "version_id": "v1", "size": 4, "etag": "e1"},
                {"key": "raw/d/b.csv", "version_id": "v2", "size": 5, "etag": "e2"}],
        "reason": "big", "requested_by": "req-1", "debounce": debounce}


def test_the_quiet_wait_counts_from_the_event_and_never_goes_below_zero():
    assert routing.quiet_wait(T0, T0 + timedelta(seconds=3), 20) == 17.0
    assert routing.quiet_wait(T0, T0 + timedelta(seconds=20), 20) == 0.0
    assert routing.quiet_wait(T0, T0 + timedelta(seconds=30), 20) == 0.0


def test_the_spark_job_arguments_and_who_may_start_it():
    assert routing.spark_arguments("b", "d", "r") == {"--bucket": "b", "--dataset": "d", "--run_id": "r"}
    assert routing.spark_start_action({"requested_by": "req-1"}, "req-1") == routing.CHECK_RUNS
    assert routing.spark_start_action({"requested_by": "req-1"}, "req-2") == routing.ALREADY_REQUESTED
    assert routing.spark_start_action({"requested_by": ""}, "") == routing.ALREADY_REQUESTED
    assert routing.spark_start_action({}, "req-1") == routing.ALREADY_REQUESTED


def test_the_upload_that_started_a_run_and_its_time():
    assert routing.started_by({"raw": {"key": "raw/d/c.csv", "event_time": "t"}}) == {
        "key": "raw/d/c.csv", "event_time": "t"}
    assert routing.started_by({"raw": [{"key": "raw/d/a.csv"}]}) == {} and routing.started_by({}) == {}
    assert routing.upload_event_time({"raw": {"event_time": "2026-11-27T04:00:00.123Z"}}, "x") == (
        "2026-11-27T04:00:00.123Z")
    assert routing.upload_event_time({"raw": [{"key": "a"}]}, "20261127T040001Z-0123abcd") == (
        "2026-11-27T04:00:01+00:00")
    assert routing.upload_event_time({"raw": {"key": "a"}}, "20261127T040001Z-0123abcd") == (
        "2026-11-27T04:00:01+00:00")
