"""Fetch the HTML report a training run wrote next to its model."""
from __future__ import annotations

import json
from pathlib import Path

from cripto_ops.exceptions import OpsError
from cripto_ops.stack import StackOutputs
from cripto_pipeline import layout


def fetch_latest_report(s3, stack: StackOutputs, dataset: str, output_dir: Path) -> Path:
    """Download ``report.html`` of the run ``models/<dataset>/latest.json`` points to; return its path."""
    latest_key = layout.latest_key(dataset)
    try:
        latest = json.loads(s3.get_object(Bucket=stack.bucket_name, Key=latest_key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        raise OpsError(f"No successful run of dataset '{dataset}' yet (no s3://{stack.bucket_name}/{latest_key}). "
                       "See `cripto status`.") from None
    keys = layout.run_keys(dataset, latest["run_id"])
    try:
        body = s3.get_object(Bucket=stack.bucket_name, Key=keys.report)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise OpsError(f"Run {keys.run_id} has no report at s3://{stack.bucket_name}/{keys.report}.") from None
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{dataset}-{keys.run_id}.html"
    path.write_bytes(body)
    return path
