"""The Glue 5.0 Spark feature job on the deployed stack (issue 12): a real StartJobRun of the real script.

Each test uploads a multi-file dataset under raw/<dataset>/, writes inputs.json as the router does
(features/<dataset>/<run_id>/inputs.json: keys, version ids, sizes, ETags), starts the job with
--bucket/--dataset/--run_id and reads what it wrote. Both runs are started before either is waited
for (the job allows concurrent runs), so the suite waits for Spark once.
"""

from __future__ import annotations

import io
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pandas as pd
import pytest

from cripto_pipeline import costs, layout, sample_blocks
from cripto_pipeline.features import FEATURE_COLUMNS, ID_COLUMNS, WARMUP_ROWS, compute_features, synthetic_ohlcv
from cripto_pipeline.validation import load_ohlcv

REPO = Path(__file__).resolve().parents[3]
HOURLY = REPO / "data" / "samples" / "coinbase_btcusd_hourly.csv"
SAMPLE_ROWS = 3000  # far below the ~21 k feature rows: the sampling path runs
RUN_BUDGET_SECONDS = 900  # a loaded 2-core machine; typical runs take 1-3 min

pytestmark = pytest.mark.timeout(1500)


def _hourly_by_period(parts: int = 3) -> List[bytes]:
    """The hourly sample split into ``parts`` files by period, each with its banner and header."""
    banner, header, *rows = HOURLY.read_bytes().rstrip(b"\n").split(b"\n")
    size = -(-len(rows) // parts)
    return [b"\n".join([banner, header, *rows[i : i + size]]) + b"\n" for i in range(0, len(rows), size)]


def _synthetic(seed: int) -> pd.DataFrame:
    frame = synthetic_ohlcv(3 * 400, symbols=3, seed=seed)
    return frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _synthetic_csv(seed: int, bad_row: int | None = None) -> bytes:
    """A 3-symbol file (symbol column, ISO times); ``bad_row``: that data row gets close = -1."""
    frame = _synthetic(seed)
    if bad_row is not None:
        frame.loc[bad_row, "close"] = -1.0
    return frame.to_csv(index=False).encode()


def _overlapping_csvs(seed: int) -> Dict[str, bytes]:
    """Two files sharing rows 700-799; row 750's volume differs by 2x in the second (beyond rounding)."""
    frame = _synthetic(seed)
    second = frame.iloc[700:].copy()
    second.loc[750, "volume"] *= 2
    return {"first.csv": frame.iloc[:800].to_csv(index=False).encode(),
            "second.csv": second.to_csv(index=False).encode()}  # fmt: skip


def _start(s3, glue, bucket: str, job: str, dataset: str, files: Dict[str, bytes], debounce: Optional[dict] = None,
           **arguments: str) -> Dict[str, object]:  # fmt: skip
    raw = []
    for name, body in files.items():
        key = f"raw/{dataset}/{name}"
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        raw.append({"key": key, "version_id": put.get("VersionId"), "size": len(body), "etag": put["ETag"]})
    run_id = layout.make_run_id(datetime.now(timezone.utc), raw[0]["key"], raw[0]["version_id"], raw[0]["etag"])
    keys = layout.run_keys(dataset, run_id)
    inputs = {"dataset": dataset, "run_id": run_id, "raw": raw, "reason": "integration test: multi-file dataset"}
    if debounce:  # as the feature Lambda records its wait for a burst (routing.debounce_record)
        inputs["debounce"] = debounce
    s3.put_object(Bucket=bucket, Key=keys.inputs, Body=json.dumps(inputs).encode())
    job_run = glue.start_job_run(JobName=job, Arguments={"--bucket": bucket, "--dataset": dataset, "--run_id": run_id,
                                                         "--training_sample_rows": str(SAMPLE_ROWS), **arguments})  # fmt: skip
    return {"keys": keys, "raw": raw, "job_run_id": job_run["JobRunId"], "files": files}


def _wait(glue, job: str, runs: List[Dict[str, object]]) -> None:
    """Bounded poll of every run until it ends, printing progress; records each run's final JobRun."""
    deadline, pending = time.monotonic() + RUN_BUDGET_SECONDS, list(runs)
    started = time.monotonic()
    while pending:
        for run in list(pending):
            job_run = glue.get_job_run(JobName=job, RunId=run["job_run_id"])["JobRun"]
            if job_run["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"):
                run["job_run"] = job_run
                pending.remove(run)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Spark runs still running after {RUN_BUDGET_SECONDS} s: "
                                 f"{[r['job_run_id'] for r in pending]} (see make logs / /aws-glue/jobs/error)")
        print(f"waiting for {len(pending)} Spark run(s): {time.monotonic() - started:.0f} s", flush=True)
        time.sleep(5)


def _keys(s3, bucket: str, prefix: str) -> List[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def _parquet(s3, bucket: str, key: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


#: The debounce record a burst's feature Lambda writes into inputs.json: the Spark manifest carries it on.
DEBOUNCE = {"waited_s": 4.75, "ended_at": "2026-12-01T12:00:05+00:00"}


@pytest.fixture(scope="module")
def spark_runs(aws_client, deployed_stack):
    s3, glue, bucket = aws_client("s3"), aws_client("glue"), deployed_stack.bucket_name
    job = deployed_stack.raw["spark_features_job_name"]
    stamp = datetime.now(timezone.utc).strftime("%H%M%S%f")
    hourly = _hourly_by_period()
    good = {f"period-{n + 1}.csv": body for n, body in enumerate(hourly)} | {"symbols.csv": _synthetic_csv(5)}
    # The first 60 bars of period 2 again, identical: rounding duplicates across files, kept once.
    good["overlap.csv"] = b"\n".join(hourly[1].split(b"\n")[:62]) + b"\n"
    bad = {"period-1.csv": hourly[0], "symbols.csv": _synthetic_csv(6, bad_row=700)}
    runs = {
        # Files above 200 kB are validated in parts (the path of files above the Lambda's limit).
        "good": _start(s3, glue, bucket, job, f"spark-good-{stamp}", good, DEBOUNCE,
                       **{"--validation_chunk_bytes": "200000"}),
        "bad": _start(s3, glue, bucket, job, f"spark-bad-{stamp}", bad),
        "overlap": _start(s3, glue, bucket, job, f"spark-overlap-{stamp}", _overlapping_csvs(7)),
    }
    _wait(glue, job, list(runs.values()))
    return s3, bucket, runs


def test_the_job_writes_every_feature_row_to_parts(spark_runs):
    s3, bucket, runs = spark_runs
    run = runs["good"]
    assert run["job_run"]["JobRunState"] == "SUCCEEDED", run["job_run"].get("ErrorMessage")
    keys = run["keys"]
    part_keys = _keys(s3, bucket, keys.parts_prefix)
    assert part_keys and all(k.rsplit("/", 1)[1].startswith("part-") and k.endswith(".parquet") for k in part_keys)
    parts = pd.concat([_parquet(s3, bucket, k) for k in part_keys]).sort_values(["symbol", "timestamp"])
    # The same validation and the same features as the Lambda path, on the concatenated files.
    frames = [load_ohlcv(body, default_symbol=keys.dataset, min_rows_per_symbol=0).frame
              for body in run["files"].values()]
    validated = pd.concat(frames, ignore_index=True).drop_duplicates(["symbol", "timestamp"])
    per_symbol = validated["symbol"].value_counts()
    assert len(parts) == int((per_symbol - WARMUP_ROWS).clip(lower=0).sum())  # input rows minus warm-up
    expected = compute_features(validated).reset_index(drop=True)
    parts = parts.reset_index(drop=True)
    assert list(parts.columns) == list(ID_COLUMNS) + list(FEATURE_COLUMNS)
    assert (parts["symbol"].to_numpy() == expected["symbol"].to_numpy()).all()
    for column in FEATURE_COLUMNS:
        a, b = parts[column].to_numpy(), expected[column].to_numpy()
        assert np.allclose(a, b, rtol=1e-8, atol=1e-8), column
    assert not _keys(s3, bucket, keys.validated_prefix), "the staged validated rows are deleted"
    assert max(len(body) for body in run["files"].values()) > 200_000, "a file was validated in parts"


def test_manifest_lineage_and_the_time_stratified_sample(spark_runs):
    s3, bucket, runs = spark_runs
    run = runs["good"]
    keys = run["keys"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=keys.manifest)["Body"].read())
    sample = _parquet(s3, bucket, keys.features)
    assert manifest["engine"] == "spark" and manifest["parts_prefix"] == keys.parts_prefix
    assert manifest["rows_sampled"] == len(sample) <= SAMPLE_ROWS < manifest["rows_total"]
    assert manifest["sample"]["method"] == "time-stratified"
    files = manifest["raw"]["files"]
    assert [(r["key"], r["version_id"]) for r in files] == [(r["key"], r["version_id"]) for r in run["raw"]]
    assert all(r["version_id"] and len(r["sha256"]) == 64 for r in files)
    assert manifest["raw"]["key"] == f"raw/{keys.dataset}/"
    assert manifest["debounce"] == DEBOUNCE  # so status shows the wait as its own stage
    assert any("Dropped 60 duplicate bar(s)" in w and "overlap.csv" in w for w in manifest["warnings"])
    assert list(sample.columns) == list(ID_COLUMNS) + list(FEATURE_COLUMNS)
    # Time-stratified: every time bucket that holds feature rows holds sample rows.
    parts = pd.concat([_parquet(s3, bucket, k) for k in _keys(s3, bucket, keys.parts_prefix)])
    micros = lambda ts: ts.astype("datetime64[us, UTC]").astype("int64")  # noqa: E731
    lo, width = micros(parts["timestamp"]).min(), manifest["sample"]["bucket_seconds"] * 1e6
    full_buckets = set((micros(parts["timestamp"]) - lo) // width)
    sample_buckets = set((micros(sample["timestamp"]) - lo) // width)
    assert sample_buckets == full_buckets
    assert manifest["sample"]["buckets_with_rows"] == len(full_buckets)
    # Each block is a contiguous run of bars of one symbol: its rows are consecutive rows of the full set.
    block = sample[sample["symbol"] == sample["symbol"].iloc[len(sample) // 2]]
    (symbol,) = sample_blocks.real_symbols(block["symbol"]).unique()
    # Every block is named <symbol>#<span> (cripto_pipeline.sample_blocks) after a symbol of the full set.
    named = sample["symbol"].drop_duplicates()
    assert set(sample_blocks.real_symbols(named)) == set(parts["symbol"])
    assert all(name == sample_blocks.block_symbol(real, int(name.rsplit("#", 1)[1]))
               for name, real in zip(named, sample_blocks.real_symbols(named)))
    full = parts[parts["symbol"] == symbol].sort_values("timestamp")["timestamp"].reset_index(drop=True)
    start = int(full.searchsorted(block["timestamp"].iloc[0]))
    assert (full.iloc[start : start + len(block)].to_numpy() == block["timestamp"].to_numpy()).all()


def test_the_run_cost_comes_from_get_job_run(spark_runs, deployed_stack):
    job_run = spark_runs[2]["good"]["job_run"]
    dpus, seconds = costs.spark_run(job_run)
    assert dpus == costs.spark_dpu(job_run["WorkerType"], job_run["NumberOfWorkers"]) and seconds > 0
    usage = costs.RunUsage(lambda_invocations=[], glue_dpu=0.0, glue_seconds=0.0, spark_runs=[(dpus, seconds)])
    billed = max(seconds, 60.0)
    assert costs.run_cost(usage)["glue_spark"] == pytest.approx(dpus * billed / 3600 * costs.PRICES["glue_dpu_hour"])
    print(f"Spark run: {seconds:.0f} s ExecutionTime, {dpus:g} DPU, {costs.run_cost(usage)['glue_spark']:.4f} USD")
    # Its own record in the manifest (what the report prices): this run, the same DPUs, the seconds so far.
    s3, bucket, runs = spark_runs
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=runs["good"]["keys"].manifest)["Body"].read())
    recorded = manifest["spark_usage"]
    assert (recorded["job_run_id"], recorded["dpu"]) == (job_run["Id"], dpus) and recorded["seconds"] > 0
    assert costs.recorded_spark_run(manifest) == (dpus, recorded["seconds"])


def _rejected(spark_runs, name: str):
    """(run, its error report) of a run that must end SUCCEEDED with a report and no features."""
    s3, bucket, runs = spark_runs
    run = runs[name]
    assert run["job_run"]["JobRunState"] == "SUCCEEDED", run["job_run"].get("ErrorMessage")
    keys = run["keys"]
    written = _keys(s3, bucket, keys.features_prefix)
    assert written == [keys.inputs], f"a rejected run writes no features: {written}"
    return run, json.loads(s3.get_object(Bucket=bucket, Key=keys.error)["Body"].read())


def test_a_bad_file_gives_an_error_report_naming_its_rows_and_no_features(spark_runs):
    run, report = _rejected(spark_runs, "bad")
    keys = run["keys"]
    bad_key = f"raw/{keys.dataset}/symbols.csv"
    assert report["error"] == "NonPositivePriceError" and report["engine"] == "spark"
    assert report["raw"]["key"] == bad_key and report["where"]["key"] == bad_key
    assert [s["line"] for s in report["where"]["samples"]] == [702]  # data row 700 = line 702 (header = 1)
    assert report["inputs"] == [r["key"] for r in run["raw"]] and report["fix"]


def test_bars_that_differ_between_files_are_refused_naming_both_copies(spark_runs):
    run, report = _rejected(spark_runs, "overlap")
    assert report["error"] == "DuplicateTimestampError" and report["where"]["count"] == 200  # 100 bars, twice
    copies = {(s["key"].rsplit("/", 1)[1], s["line"]) for s in report["where"]["samples"]}
    assert copies == {("first.csv", 752), ("second.csv", 52)}  # row 750: line 752 of one, 52 of the other
    assert report["raw"]["key"] == f"raw/{run['keys'].dataset}/" and len(report["raw"]["files"]) == 2
