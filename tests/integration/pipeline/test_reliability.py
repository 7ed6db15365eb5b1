"""Reliability on the real stack (issue 5): bad input, duplicate and concurrent events, failures and
retries, large files -- nothing lost. Black-box: uploads and AWS API calls against the deployed local
stack; inputs are generated here. Order inside the module: cheap tests first, the 1 M-row file last.

What each failure looks like to the user is summarised in the README section "What happens when...".
"""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, TypeVar

import pandas as pd
import psutil
import pytest

from cripto_ops.runs import RunCatalog
from cripto_pipeline import layout
from cripto_pipeline.features import MIN_ROWS_PER_SYMBOL, synthetic_ohlcv
from support.polling import wait_for

pytestmark = pytest.mark.timeout(1200)

LOCALAWS = Path(sys.executable).parent / "localaws"
T = TypeVar("T")
ROWS = MIN_ROWS_PER_SYMBOL + 40

# --- helpers: bounded polls, inputs built in code --------------------------------------------------



def frame(rows: int = ROWS, freq: str = "D", seed: int = 0) -> pd.DataFrame:
    """A valid OHLCV frame (no symbol column), timestamps as ISO text."""
    data = synthetic_ohlcv(rows, 1, seed=seed, freq=freq).drop(columns="symbol")
    data["timestamp"] = data["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return data


def csv(data: pd.DataFrame, **kwargs: Any) -> bytes:
    return data.to_csv(index=False, **kwargs).encode()


def with_cells(data: pd.DataFrame, column: str, rows: Iterable[int], value: Any) -> pd.DataFrame:
    data = data.astype({column: object}).copy()
    for row in rows:
        data.loc[row, column] = value
    return data


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def keys(s3, bucket: str, prefix: str) -> List[str]:
    found: List[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found += [item["Key"] for item in page.get("Contents", [])]
    return found


def get_json(s3, bucket: str, key: str) -> Dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def json_or_none(s3, bucket: str, key: str) -> Optional[Dict[str, Any]]:
    try:
        return get_json(s3, bucket, key)
    except s3.exceptions.NoSuchKey:
        return None


def glue_runs(glue, job_name: str) -> List[Dict[str, Any]]:
    runs: List[Dict[str, Any]] = []
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job_name):
        runs += page.get("JobRuns", [])
    return runs


def runs_for(glue, job_name: str, features_key: str) -> List[Dict[str, Any]]:
    return [r for r in glue_runs(glue, job_name)
            if r.get("Arguments", {}).get("--features_key") == features_key]


def log_lines(logs, group: str, since_ms: int) -> List[str]:
    lines: List[str] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms):
        lines += [event["message"] for event in page.get("events", [])]
    return lines


def json_log_records(lines: Iterable[str]) -> List[Dict[str, Any]]:
    """The structured (JSON) lines among ``lines``; the runtime's START/END/REPORT lines are skipped."""
    records = []
    for line in lines:
        text = line.strip()
        if text.startswith("{"):
            try:
                records.append(json.loads(text))
            except ValueError:
                continue
    return records


# --- 1. bad input: every kind rejected with a report, a log line, no features, no run -------------

_BASE = frame()
_DATA_LINE = 60  # data row index 59 sits on file line 61 (header on line 1): see the assertions
_ISO_DAYS = synthetic_ohlcv(ROWS, 1, freq="D")["timestamp"]


def _bad_inputs() -> Dict[str, Tuple[bytes, str]]:
    """kind -> (file bytes, expected error class). Each is a real-world way an export goes wrong."""
    base, row = _BASE, _DATA_LINE - 1
    dmy_ambiguous = _BASE.assign(timestamp=[f"{1 + i % 12:02d}/{1 + (i // 12) % 12:02d}/{2000 + i // 144}"
                                            for i in range(ROWS)])
    dmy_mixed = _BASE.assign(timestamp=[d.strftime("%d/%m/%Y" if i < ROWS // 2 else "%m/%d/%Y")
                                        for i, d in enumerate(_ISO_DAYS)])
    unix_s = (_ISO_DAYS.dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype("int64"))
    unix_unresolvable = _BASE.assign(timestamp=unix_s).astype({"timestamp": object})
    unix_unresolvable.loc[row, "timestamp"] = 50_000_000_000  # 5e10: no unit gives a 1990-2100 date
    swapped = base.copy()
    swapped.loc[row, ["high", "low"]] = swapped.loc[row, ["low", "high"]].to_numpy()
    outside = base.copy()
    outside.loc[row, "close"] = outside.loc[row, "high"] * 1.5
    duplicated_ts = base.copy()
    duplicated_ts.loc[row, "timestamp"] = duplicated_ts.loc[row - 1, "timestamp"]
    ragged = csv(base).decode().splitlines()
    ragged[_DATA_LINE - 1] += ",1,2"
    header = "timestamp,open,high,low,close,volume\n"
    return {
        "empty-file": (b"", "EmptyInputError"),
        "blank-lines-only": (b"\n  \n\r\n", "EmptyInputError"),
        "header-only": (header.encode(), "HeaderOnlyError"),
        "banner-and-header-only": (b"https://www.cryptodatadownload.com\n" + header.encode(),
                                   "HeaderOnlyError"),
        "missing-close-column": (csv(base.drop(columns="close")), "MissingColumnError"),
        # No header and a layout no known header-less export has (a text column at the end).
        "no-header-line": (csv(base.assign(note="x"), header=False), "MissingColumnError"),
        "duplicate-column-names": (csv(base.assign(Close=base["close"])), "DuplicateColumnError"),
        "ambiguous-volume-columns": (csv(base.rename(columns={"volume": "volume_usd"}).assign(volume_eur=1.)),
                                     "AmbiguousVolumeError"),
        "non-numeric-price": (csv(with_cells(base, "open", [row], "12,5 USD")), "NonNumericValueError"),
        "null-values": (csv(with_cells(base, "close", [row, row + 3], "NULL")), "MissingValueError"),
        "empty-cells": (csv(with_cells(base, "volume", [row], "")), "MissingValueError"),
        "nan-value": (csv(with_cells(base, "high", [row], "NaN")), "NonFiniteValueError"),
        "inf-value": (csv(with_cells(base, "volume", [row], "inf")), "NonFiniteValueError"),
        "zero-price": (csv(with_cells(base, "low", [row], 0.0)), "NonPositivePriceError"),
        "negative-price": (csv(with_cells(base, "open", [row], -3.5)), "NonPositivePriceError"),
        "negative-volume": (csv(with_cells(base, "volume", [row], -1.0)), "NegativeVolumeError"),
        "high-below-low": (csv(swapped), "InconsistentOHLCError"),
        "close-above-high": (csv(outside), "InconsistentOHLCError"),
        "duplicate-timestamps": (csv(duplicated_ts), "DuplicateTimestampError"),
        "unparseable-timestamps": (csv(with_cells(base, "timestamp", [row], "2019-13-45")),
                                   "UnparseableTimestampError"),
        "unix-unit-unresolvable": (csv(unix_unresolvable), "UnparseableTimestampError"),
        "day-month-order-unknown": (csv(dmy_ambiguous), "AmbiguousTimestampError"),
        "day-month-order-mixed": (csv(dmy_mixed), "AmbiguousTimestampError"),
        "too-few-rows": (csv(frame(rows=40)), "TooFewRowsError"),
        "ragged-rows": ("\n".join(ragged).encode(), "MalformedCsvError"),
        # Semicolons, tabs, Latin-1 and UTF-16 are read since issue 10; control bytes are not text.
        "control-bytes": (csv(base) + b"\x81\x90\x9f\x8d\n", "UndecodableContentError"),
        "binary-png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
                       "UndecodableContentError"),
        "gzip-compressed": (gzip.compress(csv(base)), "UndecodableContentError"),
    }


# Errors about one cell name the file line and the column; the uploader can go straight to it.
_LINE_SAMPLES = {"non-numeric-price", "null-values", "empty-cells", "nan-value", "inf-value", "zero-price",
                 "negative-price", "negative-volume", "high-below-low", "close-above-high",
                 "unparseable-timestamps", "unix-unit-unresolvable"}


def test_every_kind_of_bad_input_is_rejected_with_a_report_and_nothing_else(aws_client, deployed_stack):
    s3, glue, logs = aws_client("s3"), aws_client("glue"), aws_client("logs")
    bucket = deployed_stack.bucket_name
    since_ms = int(time.time() * 1000) - 5000
    inputs = _bad_inputs()
    assert len(inputs) == 28  # the README's "28 kinds tested in one batch": keep both in step
    tag = uuid.uuid4().hex[:6]
    uploads = {}
    for kind, (body, _expected) in inputs.items():  # one batch: the function handles them concurrently
        dataset = f"bad-{kind}-{tag}"[:64]
        put = s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=body)
        uploads[kind] = (dataset, put["VersionId"], put["ETag"])

    reports = {}
    for kind, (dataset, _version, _etag) in uploads.items():
        found = wait_for(f"the error report of {kind}",
                         lambda d=dataset: keys(s3, bucket, f"errors/{d}/") or None, timeout=240)
        assert len(found) == 1, found
        reports[kind] = get_json(s3, bucket, found[0])

    outcomes = {kind: report["error"] for kind, report in reports.items()}
    assert outcomes == {kind: expected for kind, (_body, expected) in inputs.items()}
    for kind, report in reports.items():
        dataset, version, etag = uploads[kind]
        assert report["what"] and report["fix"] and isinstance(report["where"], dict), report
        assert report["raw"]["key"] == f"raw/{dataset}.csv" and report["raw"]["version_id"] == version
        if kind in _LINE_SAMPLES:
            sample = report["where"]["samples"][0]
            assert sample["line"] == _DATA_LINE + 1, (kind, report["where"])
        # No features, hence no training run; the upload itself is untouched (one version, same ETag).
        assert keys(s3, bucket, f"features/{dataset}/") == []
        versions = s3.list_object_versions(Bucket=bucket, Prefix=f"raw/{dataset}.csv").get("Versions", [])
        assert [(v["VersionId"], v["ETag"]) for v in versions] == [(version, etag)]
    started = [r["Arguments"].get("--features_key", "")
               for r in glue_runs(glue, deployed_stack.glue_job_name)]
    assert not [key for key in started if tag in key]

    # One structured WARNING line per upload, and no retry: a bad file is reported, not raised.
    group = f"/aws/lambda/{deployed_stack.feature_lambda_name}"

    def tagged_records():
        return [r for r in json_log_records(log_lines(logs, group, since_ms)) if tag in r.get("dataset", "")]

    def rejected_lines():
        records = [r for r in tagged_records() if r.get("status") == "rejected"]
        return records if len(records) >= len(uploads) else None

    wait_for("a log line per rejected upload", rejected_lines, timeout=60)
    # A retry would come 1 s, then 2 s after a failed attempt (LAMBDA_RETRY_BASE_DELAY=1 in the emulation;
    # minutes on AWS). Wait well past both, then every object must have been handled exactly once.
    time.sleep(_RETRY_WINDOW_S)
    records = tagged_records()
    per_dataset = {d: [r.get("status") for r in records if r["dataset"] == d] for d, _v, _e in uploads.values()}
    assert {d: statuses for d, statuses in per_dataset.items() if statuses != ["rejected"]} == {}
    assert all(r["level"] == "WARNING" and r["error"] == reports[_kind_of(r["dataset"], tag)]["error"]
               and r["error_key"].startswith(f"errors/{r['dataset']}/") for r in records)
    assert not [m for m in _failed_events(aws_client("sqs"), deployed_stack) if tag in json.dumps(m)]


#: Longer than LocalStack's two async retries (n x LAMBDA_RETRY_BASE_DELAY = 1 s, 2 s) plus an invocation.
_RETRY_WINDOW_S = 15


def _kind_of(dataset: str, tag: str) -> str:
    return dataset[len("bad-"):-(len(tag) + 1)]


def _failed_events(sqs, stack, wait_seconds: int = 0) -> List[Dict[str, Any]]:
    """Messages in the failed-events queue now (they become visible again after the timeout)."""
    url = stack.raw["failed_events_queue_url"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                   VisibilityTimeout=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


# --- 2. duplicate events: one version delivered three times, identical content uploaded again -------


def _s3_event(bucket: str, key: str, version_id: str, etag: str, run_id: str, size: int) -> Dict[str, Any]:
    """The S3 notification of this object version, as S3 sends it (event time = the run id's second)."""
    when, _ = layout.parse_run_id(run_id)
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": size, "eTag": etag.strip('"'), "versionId": version_id}},
    }]}


def _invoke(lam, function: str, event: Dict[str, Any]) -> Dict[str, Any]:
    response = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


def test_duplicate_deliveries_and_identical_content_start_exactly_one_run(aws_client, deployed_stack):
    s3, glue, lam = aws_client("s3"), aws_client("glue"), aws_client("lambda")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    dataset = unique("dup")
    key, body = f"raw/{dataset}.csv", csv(_BASE)
    put = s3.put_object(Bucket=bucket, Key=key, Body=body)
    features_key = wait_for("the features file", lambda: next(
        (k for k in keys(s3, bucket, f"features/{dataset}/") if k.endswith("features.parquet")), None), 120)
    run_id = layout.parse_features_key(features_key).run_id
    assert layout.parse_run_id(run_id)[1] == layout.object_digest(key, put["VersionId"], None)

    # The same object version delivered again, twice (S3 delivers at least once): same run, nothing new.
    event = _s3_event(bucket, key, put["VersionId"], put["ETag"], run_id, len(body))
    for _ in range(2):
        (result,) = _invoke(lam, deployed_stack.feature_lambda_name, event)["results"]
        assert result == {"status": "duplicate", "key": key, "run_id": run_id}
    wait_for("the model", lambda: json_or_none(s3, bucket, layout.latest_key(dataset)), 300)
    assert len(runs_for(glue, job, features_key)) == 1

    # Identical bytes uploaded again: a new version, but no new run; the record names the covering run.
    again = s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert again["VersionId"] != put["VersionId"]
    record_key = wait_for("the duplicate record", lambda: next(
        (k for k in keys(s3, bucket, f"features/{dataset}/") if k.endswith(layout.DUPLICATE_NAME)), None),
        120)
    record = get_json(s3, bucket, record_key)
    assert record["covered_by"]["run_id"] == run_id and record["raw"]["version_id"] == again["VersionId"]
    assert [k for k in keys(s3, bucket, f"features/{dataset}/") if k.endswith(".parquet")] == [features_key]
    status = {r.run_id: r for r in RunCatalog(s3, glue, deployed_stack).runs(dataset)}
    assert status[record["run_id"]].state == "DUPLICATE" and status[record["run_id"]].duplicate_of == run_id

    # A new version with different content is a new run.
    changed = s3.put_object(Bucket=bucket, Key=key, Body=csv(_BASE.iloc[:-1]))
    new_features = wait_for("the new run's features", lambda: next(
        (k for k in keys(s3, bucket, f"features/{dataset}/")
         if k.endswith("features.parquet") and k != features_key), None), 120)
    assert new_features.split("/")[2] > run_id and changed["VersionId"]
    new_run_id = new_features.split("/")[2]
    latest_key = layout.latest_key(dataset)
    wait_for("the new model", lambda: (json_or_none(s3, bucket, latest_key) or {}).get("run_id") == new_run_id
             or None, 300)
    assert len(runs_for(glue, job, features_key)) == 1 and len(runs_for(glue, job, new_features)) == 1


def _features_event(bucket: str, key: str, when: datetime) -> Dict[str, Any]:
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": 1, "eTag": "0"}},
    }]}


def test_the_same_features_event_five_times_at_once_starts_exactly_one_glue_run(aws_client, deployed_stack):
    """Concurrent deliveries race past any "run exists?" check; the start claim lets only one start."""
    s3, glue, lam = aws_client("s3"), aws_client("glue"), aws_client("lambda")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    dataset = unique("race")
    s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=csv(_BASE))
    source = wait_for("the features file", lambda: next(
        (k for k in keys(s3, bucket, f"features/{dataset}/") if k.endswith("features.parquet")), None), 120)
    # A second features file of the dataset (a copy of the first under a fresh run id): its creation
    # event reaches the trigger through S3 while five more deliveries of the same event arrive at once.
    origin = layout.parse_features_key(source)
    # Run ids order by their second first: a copy made within the original's second could sort before
    # it, and then (rightly) never become latest.json. Start the copy's run in a later second.
    origin_second, _ = layout.parse_run_id(origin.run_id)
    wait_for("a second later than the original run's", lambda: layout.run_id_floor(datetime.now(timezone.utc))
             > layout.run_id_floor(origin_second) or None, 5, interval=0.1)
    now = datetime.now(timezone.utc)
    target = layout.run_keys(dataset, layout.make_run_id(now, source, None, uuid.uuid4().hex))
    manifest = {**get_json(s3, bucket, origin.manifest), "run_id": target.run_id}
    s3.put_object(Bucket=bucket, Key=target.manifest, Body=json.dumps(manifest).encode())
    s3.copy_object(Bucket=bucket, Key=target.features, CopySource={"Bucket": bucket, "Key": origin.features})
    event = _features_event(bucket, target.features, now)
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda _: _invoke(lam, deployed_stack.trigger_lambda_name, event)["job_runs"][0],
                                range(5)))
    statuses = sorted(result["status"] for result in results)
    assert statuses.count("started") <= 1 and set(statuses) <= {"started", "already_started"}, results
    claim = wait_for("the start claim's job run id",
                     lambda: (json_or_none(s3, bucket, target.start_claim) or {}).get("job_run_id"), 120)
    assert {result["job_run_id"] for result in results} == {claim}
    wait_for("the model of the copied run",
             lambda: (json_or_none(s3, bucket, layout.latest_key(dataset)) or {}).get("run_id") == target.run_id
             or None, 300)
    assert [run["Id"] for run in runs_for(glue, job, target.features)] == [claim]


# --- 3. concurrency: 20 datasets at once, the job takes 3 at a time, every one ends in a model ------


def _valid_variants() -> List[Tuple[bytes, str]]:
    """Valid files with the repairs and resolvable mixes real exports need: (bytes, expected warning)."""
    unix_s = _ISO_DAYS.dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype("int64")
    mixed_units = _BASE.assign(timestamp=[s * 1000 if i % 2 else s for i, s in enumerate(unix_s)])
    mixed_forms = _BASE.assign(timestamp=[t.replace(" ", "T") + "Z" if i % 2 else t
                                          for i, t in enumerate(_BASE["timestamp"])])
    padded = "\n".join(" , ".join(line.split(",")) for line in csv(_BASE).decode().splitlines()).encode()
    return [
        (b"https://www.cryptodatadownload.com\n" + csv(_BASE), "banner"),
        (csv(_BASE.iloc[::-1]), "newest-first"),
        (padded, "Trimmed whitespace"),
        (csv(mixed_units), "mixed units"),
        (csv(mixed_forms), "several forms"),
    ]


def test_twenty_datasets_uploaded_at_once_all_end_in_models(aws_client, deployed_stack):
    s3, glue, logs = aws_client("s3"), aws_client("glue"), aws_client("logs")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    assert glue.get_job(JobName=job)["Job"]["ExecutionProperty"]["MaxConcurrentRuns"] < 20
    since_ms = int(time.time() * 1000) - 5000
    variants = _valid_variants()
    datasets = {}
    for number in range(20):
        body, warning = variants[number % len(variants)]
        if number >= len(variants):  # distinct content per dataset (identical content would be one run)
            body = body + b"\n" * number
        dataset = unique(f"burst{number:02d}")
        datasets[dataset] = warning
        s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=body)

    def all_latest():
        found = {d: json_or_none(s3, bucket, layout.latest_key(d)) for d in datasets}
        return found if all(found.values()) else None

    latest = wait_for("a model for each of the 20 datasets", all_latest, timeout=900, interval=2)
    for dataset, warning in datasets.items():
        run_id = latest[dataset]["run_id"]
        manifest = get_json(s3, bucket, layout.run_keys(dataset, run_id).manifest)
        assert any(warning in w for w in manifest["warnings"]), (dataset, manifest["warnings"])
        features_key = layout.run_keys(dataset, run_id).features
        # latest.json precedes the report, so the run may still be finishing: wait for its end state.
        (run,) = wait_for(f"the Glue run of {dataset} to end", lambda: (lambda runs: runs if all(
            r["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING", "WAITING") for r in runs) else None)(
            runs_for(glue, job, features_key)), timeout=300, interval=1)
        assert run["JobRunState"] == "SUCCEEDED", run
    # The job's limit was hit and absorbed by job run queuing (runs WAITING for a slot), not by losing
    # or failing a request; the trigger's backoff on ConcurrentRunsExceededException is only the fallback.
    assert glue.get_job(JobName=job)["Job"]["JobRunQueuingEnabled"] is True
    records = json_log_records(log_lines(logs, f"/aws/lambda/{deployed_stack.trigger_lambda_name}", since_ms))
    assert not any(r.get("message") == "glue job busy; backing off" for r in records)
    assert not [m for m in _failed_events(aws_client("sqs"), deployed_stack) if "burst" in json.dumps(m)]


# --- 4. failures: crash -> retries -> failed-events queue; failed / lost Glue runs keep the last model -


def test_a_crashing_handler_is_retried_then_its_event_lands_in_the_failed_events_queue(
        aws_client, deployed_stack):
    lam, sqs = aws_client("lambda"), aws_client("sqs")
    config = lam.get_function_event_invoke_config(FunctionName=deployed_stack.feature_lambda_name)
    retries = config["MaximumRetryAttempts"]
    assert retries == 2  # terraform/variables.tf lambda_async_max_retries
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == deployed_stack.raw["failed_events_queue_arn"]
    # A bucket that does not exist: GetObject fails with NoSuchBucket, which the handler does not expect.
    missing_bucket = unique("no-such-bucket")
    event = _s3_event(missing_bucket, "raw/crash.csv", "v1", "0" * 32, "20261127T000000Z-00000000", 10)
    lam.invoke(FunctionName=deployed_stack.feature_lambda_name, InvocationType="Event",
               Payload=json.dumps(event).encode())
    url = deployed_stack.raw["failed_events_queue_url"]

    def our_message():
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=2).get("Messages", []):
            body = json.loads(message["Body"])
            if missing_bucket in json.dumps(body.get("requestPayload")):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                return body
        return None

    body = wait_for("the failed event in the failed-events queue", our_message, timeout=120)
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == retries + 1
    assert body["requestPayload"] == event and "NoSuchBucket" in json.dumps(body["responsePayload"])


def _good_model(s3, bucket: str, dataset: str) -> Dict[str, Any]:
    s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=csv(frame(seed=7)))
    return wait_for("the first model", lambda: json_or_none(s3, bucket, layout.latest_key(dataset)), 300)


def test_a_failing_training_run_is_recorded_and_latest_keeps_the_last_good_model(aws_client, deployed_stack):
    s3, glue = aws_client("s3"), aws_client("glue")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    dataset = unique("glue-fail")
    good = _good_model(s3, bucket, dataset)
    # A newer run whose features file is corrupt: the trigger starts the job, the job's script fails.
    keys_ = layout.run_keys(dataset, layout.make_run_id(datetime.now(timezone.utc), dataset, None, uuid.uuid4().hex))
    manifest = get_json(s3, bucket, layout.run_keys(dataset, good["run_id"]).manifest)
    manifest = json.dumps({**manifest, "run_id": keys_.run_id}).encode()
    s3.put_object(Bucket=bucket, Key=keys_.manifest, Body=manifest)
    s3.put_object(Bucket=bucket, Key=keys_.features, Body=b"PAR1 this is not a parquet file PAR1")
    run = wait_for("the failed Glue run", lambda: next(
        (r for r in runs_for(glue, job, keys_.features) if r["JobRunState"] in ("FAILED", "SUCCEEDED")),
        None), 300)
    assert run["JobRunState"] == "FAILED" and run.get("ErrorMessage")
    status = wait_for("status.json", lambda: json_or_none(s3, bucket, keys_.status), 30)
    assert status["state"] == "FAILED" and status["glue_job_run_id"] == run["Id"] and status["error"]
    assert get_json(s3, bucket, layout.latest_key(dataset))["run_id"] == good["run_id"]
    assert keys(s3, bucket, keys_.models_prefix) == [keys_.status]  # no half-written model
    seen = {r.run_id: r for r in RunCatalog(s3, glue, deployed_stack).runs(dataset)}
    assert seen[keys_.run_id].state == "FAILED" and seen[keys_.run_id].error == status["error"]
    assert seen[good["run_id"]].is_latest


def test_glue_service_restarted_mid_run_leaves_a_failed_run_and_the_last_good_model(
        aws_client, deployed_stack):
    if os.environ.get("LOCALAWS_MODE", "host") not in ("host", "auto") or not LOCALAWS.exists():
        pytest.skip("restarts the host-mode Glue service process")
    s3, glue = aws_client("s3"), aws_client("glue")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    dataset = unique("glue-restart")
    good = _good_model(s3, bucket, dataset)
    s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=csv(frame(rows=3000, seed=8)))
    features_key = wait_for("the second run's features", lambda: next(
        (k for k in keys(s3, bucket, f"features/{dataset}/") if k.endswith("features.parquet")
         and good["run_id"] not in k), None), 120)
    service = _glue_service_process()
    run = wait_for("the second run's Glue run", lambda: next(iter(runs_for(glue, job, features_key)), None), 120,
                   interval=0.05)
    # Freeze the run's job process: it cannot finish before the service goes down, whatever the timing.
    _freeze_job_process(service, run["Id"])
    assert glue.get_job_run(JobName=job, RunId=run["Id"])["JobRun"]["JobRunState"] == "RUNNING"

    service.terminate()
    service.wait(timeout=30)
    _localaws("up")

    lost = glue.get_job_run(JobName=job, RunId=run["Id"])["JobRun"]
    assert lost["JobRunState"] == "FAILED" and "restarted" in lost["ErrorMessage"]
    assert get_json(s3, bucket, layout.latest_key(dataset))["run_id"] == good["run_id"]
    seen = {r.run_id: r for r in RunCatalog(s3, glue, deployed_stack).runs(dataset)}
    lost_run = seen[features_key.split("/")[2]]
    assert lost_run.state == "FAILED" and "restarted" in lost_run.error and lost_run.glue_run_id == run["Id"]


def _glue_service_process() -> psutil.Process:
    (service,) = [s for s in json.loads(_localaws("ps", "--format", "json")) if s["name"] == "glue"]
    return psutil.Process(service["pid"])


def _freeze_job_process(service: psutil.Process, run_id: str, timeout: float = 120) -> List[psutil.Process]:
    """SIGSTOP the job process of ``run_id`` (its argv holds --JOB_RUN_ID) and its children as soon as it
    exists: a frozen run cannot end on its own, so what the test does next cannot race it. The Glue
    service kills job processes with SIGKILL, which ends stopped processes too."""

    def frozen() -> Optional[List[psutil.Process]]:
        for child in service.children(recursive=True):
            try:
                if run_id in child.cmdline():
                    tree = [child, *child.children(recursive=True)]
                    for process in tree:
                        process.suspend()
                    return tree
            except psutil.NoSuchProcess:
                continue
        return None

    return wait_for(f"the job process of {run_id}", frozen, timeout, interval=0.05)


def _localaws(*args: str) -> str:
    done = subprocess.run([str(LOCALAWS), *args], check=True, capture_output=True, text=True, timeout=180)
    return done.stdout


# --- 5. large files: the largest accepted file within the function's memory and timeout -----------
# (above the limit the Spark feature job builds the features: test_large_datasets.py)


def _rows_within(limit: int, most: int = 1_000_000) -> int:
    """1 M rows, or as many minute bars as fit in ``limit`` bytes when the deployed limit is lower (the
    local target sets MAX_RAW_BYTES low so the Spark path's test stays small; see local.tfvars)."""
    per_row = len(csv(frame(rows=2000, freq="min"), float_format="%.6f")) / 2000
    return min(most, int(limit * 0.97 / per_row))


@pytest.fixture(scope="module")
def million(aws_client, deployed_stack) -> Dict[str, Any]:
    """A dataset with a good small model, then an upload of 1 M rows (or the most that fit the limit); its
    own training run is stopped once started (training on it is not what these tests measure)."""
    s3, glue, lam = aws_client("s3"), aws_client("glue"), aws_client("lambda")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    function = lam.get_function_configuration(FunctionName=deployed_stack.feature_lambda_name)
    dataset = unique("million")
    good = _good_model(s3, bucket, dataset)
    rows = _rows_within(int(function["Environment"]["Variables"]["MAX_RAW_BYTES"]))
    body = csv(frame(rows=rows, freq="min"), float_format="%.6f")
    since_ms = int(time.time() * 1000) - 5000
    s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=body)
    features_key = wait_for("the features of the largest accepted file", lambda: next(
        (k for k in keys(s3, bucket, f"features/{dataset}/") if k.endswith("features.parquet")
         and good["run_id"] not in k), None), function["Timeout"] + 60, interval=1)
    run = wait_for("its training run", lambda: next(iter(runs_for(glue, job, features_key)), None), 120)
    if run["JobRunState"] in ("STARTING", "RUNNING", "WAITING"):
        glue.batch_stop_job_run(JobName=job, JobRunIds=[run["Id"]])
    return {"dataset": dataset, "good": good, "body_bytes": len(body), "features_key": features_key,
            "function": function, "since_ms": since_ms, "rows": rows}


def test_the_largest_accepted_file_is_processed_within_memory_and_timeout(aws_client, deployed_stack, million):
    s3, logs = aws_client("s3"), aws_client("logs")
    bucket, function = deployed_stack.bucket_name, million["function"]
    limit = int(function["Environment"]["Variables"]["MAX_RAW_BYTES"])
    assert million["body_bytes"] <= limit
    manifest_key = million["features_key"].replace(layout.FEATURES_NAME, layout.MANIFEST_NAME)
    manifest = get_json(s3, bucket, manifest_key)
    assert manifest["rows"]["raw"] == million["rows"] and manifest["engine"] == "pandas"

    run_id = layout.parse_features_key(million["features_key"]).run_id

    def report_line():  # the runtime's REPORT line of that invocation (found by its request id): memory, duration
        lines = log_lines(logs, f"/aws/lambda/{deployed_stack.feature_lambda_name}", million["since_ms"])
        requests = {r.get("function_request_id") for r in json_log_records(lines)
                    if r.get("run_id") == run_id and r.get("message") == "features_written"}
        for line in lines:
            match = re.search(r"RequestId: (\S+)\s+Duration: ([\d.]+) ms.*Max Memory Used: (\d+) MB", line)
            if match and match[1] in requests:
                return float(match[2]), int(match[3])
        return None

    duration_ms, peak_mb = wait_for("the REPORT line", report_line, timeout=60)
    assert peak_mb < function["MemorySize"] and duration_ms < function["Timeout"] * 1000


def test_a_timed_out_training_run_is_the_runs_status_and_latest_keeps_the_last_good_model(
        aws_client, deployed_stack, million):
    """A run that outlives its Timeout cannot write anything itself: Glue's run record is its status."""
    if os.environ.get("LOCALAWS_MODE", "host") not in ("host", "auto") or not LOCALAWS.exists():
        pytest.skip("freezes the run's process in the host-mode Glue service")
    s3, glue = aws_client("s3"), aws_client("glue")
    bucket, job = deployed_stack.bucket_name, deployed_stack.glue_job_name
    run_id = glue.start_job_run(JobName=job, Arguments={"--features_key": million["features_key"]},
                                Timeout=1)["JobRunId"]
    # The run provably outlives its 1-minute Timeout: its process is frozen (not assumed to be slow).
    _freeze_job_process(_glue_service_process(), run_id)
    run = wait_for("the run to time out", lambda: (lambda r: r if r["JobRunState"] not in
                   ("STARTING", "RUNNING", "STOPPING", "WAITING") else None)(
        glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]), 240, interval=1)
    assert run["JobRunState"] == "TIMEOUT", run
    assert get_json(s3, bucket, layout.latest_key(million["dataset"]))["run_id"] == million["good"]["run_id"]
    seen = {r.run_id: r for r in RunCatalog(s3, glue, deployed_stack).runs(million["dataset"])}
    timed_out = seen[million["features_key"].split("/")[2]]
    assert timed_out.state == "TIMEOUT" and timed_out.glue_run_id == run_id and "timed out" in timed_out.error
