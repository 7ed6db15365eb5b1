"""Real exports from ten sources (data/exports/, provenance in its NOTICE.md), and one small written
file per family that has no redistributable real file (tests/support/export_fixtures.py), train end
to end on the deployed stack (issue 10); the one too short for the walk-forward gets an errors/
report stating the minimum. All files are uploaded at once (the stack works on them concurrently)
and then followed together, so the suite pays for one wait, not one per file."""
from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cripto_ops.follow import Budgets, RunFollower, RunResult
from cripto_pipeline import layout
from cripto_pipeline.features import MIN_ROWS_PER_SYMBOL
from support.export_fixtures import family_files
from support.polling import wait_for

EXPORTS = Path(__file__).resolve().parents[3] / "data" / "exports"
TOO_SHORT = "too-short"

pytestmark = pytest.mark.timeout(2400)


def test_real_exports_train_end_to_end_and_a_short_one_is_refused(aws_client, deployed_stack):
    s3, bucket = aws_client("s3"), deployed_stack.bucket_name
    tag = uuid.uuid4().hex[:8]  # a re-run never follows an earlier run's artifacts
    files = sorted(p for p in EXPORTS.rglob("*.csv") if p.parent.name != TOO_SHORT)
    # Named after the source directory, numbered (two yfinance files share one), uuid-tagged.
    names = {p: f"{p.parent.name}-{tag}-{i}" for i, p in enumerate(files)}
    short = next((EXPORTS / TOO_SHORT).glob("*.csv"))
    short_name = f"{TOO_SHORT}-{tag}"
    assert len(files) >= 10

    bodies = {path: path.read_bytes() for path in files}
    for family, body in family_files().items():
        names[family] = f"{family}-fixture-{tag}"
        bodies[family] = body

    uploads = {}
    for path, dataset in names.items():  # one batch: the pipeline works on them concurrently
        put = s3.put_object(Bucket=bucket, Key=f"raw/{dataset}.csv", Body=bodies[path])
        uploads[path] = (dataset, put)
    s3.put_object(Bucket=bucket, Key=f"raw/{short_name}.csv", Body=short.read_bytes())

    # Runs queue behind the job's max concurrent runs on a shared 2-core machine: generous budgets,
    # bounded polls (speed is measured by `make bench`, not asserted here).
    budgets = Budgets(features=600, trigger=900, training=1500)

    def follow(path):
        dataset, put = uploads[path]
        follower = RunFollower(aws_client("s3"), aws_client("glue"), aws_client("logs"), deployed_stack, budgets)
        result = RunResult(raw_key=f"raw/{dataset}.csv", version_id=put.get("VersionId"), dataset=dataset)
        return follower.follow(result, put.get("ETag"))

    with ThreadPoolExecutor(max_workers=len(uploads)) as pool:
        results = dict(zip(uploads, pool.map(follow, uploads)))

    for path, result in results.items():
        dataset = uploads[path][0]
        manifest_key = layout.parse_features_key(result.features_key).manifest
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
        assert manifest["rows"]["features"] > 0, (path, manifest)
        assert isinstance(manifest["warnings"], list)
        latest = json.loads(s3.get_object(Bucket=bucket, Key=f"models/{dataset}/latest.json")["Body"].read())
        assert latest["run_id"] == result.run_id, path
        assert result.metrics["walk_forward"]["n_folds"] >= 3, path

    report_keys = wait_for("the too-short file's error report",
                           lambda: [o["Key"] for o in s3.list_objects_v2(
                               Bucket=bucket, Prefix=f"errors/{short_name}/").get("Contents", [])] or None,
                           timeout=600)
    report = json.loads(s3.get_object(Bucket=bucket, Key=report_keys[0])["Body"].read())
    assert report["error"] == "TooFewRowsError"
    assert report["where"]["required"] == MIN_ROWS_PER_SYMBOL and str(MIN_ROWS_PER_SYMBOL) in report["what"]
