#!/usr/bin/env python3
"""Every benchmark of the project in one run: `make bench`.

Writes bench/results.json (all figures, the machine, the targets) and bench/results.md (the table
the README shows). Runs against the local emulation through AWS APIs; endpoints and dummy
credentials come from the environment the Makefile sets.

Order matters: the emulation is restarted first (to time `up`), which empties it, so the stack is
deployed next (timing the deploy) before anything uses it.

Env vars: BENCH_WARM_INVOKES (default 20), BENCH_SKIP (comma-separated benchmark groups to skip:
up, deploy, lambda, glue, spark, pipeline, e2e, features, training, large, scale; `scale` is the
large-data path of issue 12, scripts/bench_scale.py, with its own BENCH_SCALE_* variables).
"""
from __future__ import annotations

import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import boto3
from rich.console import Console
from rich.table import Table

from bench_scale import bench_large_path
from cripto_ops.follow import RunFollower
from cripto_ops.stack import REPO_ROOT, load_outputs
from cripto_pipeline import layout

console = Console(stderr=True)
VENVS = Path(os.environ.get("VENVS", REPO_ROOT / ".venvs"))
LOCALAWS = [str(VENVS / "tools" / "bin" / "localaws")]
RESULTS_DIR = REPO_ROOT / "bench"
SAMPLES = REPO_ROOT / "data" / "samples"
WARM_INVOKES = int(os.environ.get("BENCH_WARM_INVOKES", "20"))
SKIP = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))


class Results:
    def __init__(self) -> None:
        self.rows: List[Dict[str, Any]] = []
        self.bench = ""  # the GROUPS entry running now: every row records which one measured it

    def add(self, group: str, name: str, value: float, unit: str, target: Optional[float] = None,
            note: str = "") -> None:
        ok = None if target is None else value <= target
        self.rows.append({"group": group, "name": name, "value": round(value, 4), "unit": unit,
                          "target": target, "ok": ok, "note": note, "bench": self.bench,
                          "measured": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        mark = "" if ok is None else (" [green]✓[/]" if ok else " [red]✗ over target[/]")
        console.print(f"  {group:<9} {name:<44} {value:10.3f} {unit}{mark}")


def timed(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def run(command: List[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)


# --- emulation -------------------------------------------------------------------------------------


def bench_up(results: Results) -> None:
    run(LOCALAWS + ["down"])
    results.add("emulator", "up -> healthy (environments built)", timed(lambda: run(LOCALAWS + ["up"])), "s", 3.0)


def bench_deploy(results: Results) -> None:
    """deploy-local on an empty emulation, then again with nothing to change. The group restarts the
    emulation itself (untimed), so its figure means "fresh" even when run alone (BENCH_SKIP=up,...)."""
    run(LOCALAWS + ["down"])
    run(LOCALAWS + ["up"])
    results.add("deploy", "deploy-local on an empty emulation", timed(
        lambda: run([str(REPO_ROOT / "scripts" / "deploy.sh"), "local"])), "s", 40.0)
    results.add("deploy", "deploy-local again (no changes)", timed(
        lambda: run([str(REPO_ROOT / "scripts" / "deploy.sh"), "local"])), "s")


def _zip(files: Dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _bench_role(iam, service: str) -> str:
    name = f"bench-{service}-{uuid.uuid4().hex[:6]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": f"{service}.amazonaws.com"}}]}
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def bench_lambda(results: Results) -> None:
    lam, iam = boto3.client("lambda"), boto3.client("iam")
    name = f"bench-echo-{uuid.uuid4().hex[:6]}"
    began = time.perf_counter()
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=_bench_role(iam, "lambda"),
        Code={"ZipFile": _zip({"app.py": "def handler(event, context):\n    return event\n"})}, Timeout=10,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    results.add("lambda", "create_function -> Active", time.perf_counter() - began, "s")
    try:
        cold = timed(lambda: lam.invoke(FunctionName=name, Payload=b'{"n": 0}'))
        warm = [timed(lambda: lam.invoke(FunctionName=name, Payload=b'{"n": 1}')) for _ in range(WARM_INVOKES)]
        results.add("lambda", "cold invoke", cold, "s", 1.5)
        results.add("lambda", f"warm invoke (median of {WARM_INVOKES})", statistics.median(warm) * 1000, "ms", 50)
    finally:
        lam.delete_function(FunctionName=name)


def bench_glue(results: Results) -> None:
    s3, glue, iam = boto3.client("s3"), boto3.client("glue"), boto3.client("iam")
    bucket = f"bench-glue-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="trivial.py", Body=b"print('hello from a trivial job')\n")
    job = f"bench-trivial-{uuid.uuid4().hex[:6]}"
    glue.create_job(Name=job, Role=_bench_role(iam, "glue"), MaxCapacity=0.0625,
                    Command={"Name": "pythonshell", "PythonVersion": "3.9",
                             "ScriptLocation": f"s3://{bucket}/trivial.py"})
    try:
        to_running, total = _time_job_run(glue, job, "trivial Glue job", timeout_s=120, poll_s=0.02)
        results.add("glue", "StartJobRun -> RUNNING", to_running, "s", 1.0)
        results.add("glue", "trivial job: start -> SUCCEEDED", total, "s")
    finally:
        glue.delete_job(JobName=job)


def _time_job_run(glue: Any, job: str, what: str, timeout_s: float, poll_s: float) -> Tuple[float, float]:
    """Start ``job`` and poll it: (seconds to leave STARTING, seconds to SUCCEEDED); raises on any other
    end state or after ``timeout_s``."""
    began = time.perf_counter()
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    to_running = None
    while True:
        run_info = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        state = run_info["JobRunState"]
        if to_running is None and state != "STARTING":
            to_running = time.perf_counter() - began
        if state in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"):
            break
        if time.perf_counter() - began > timeout_s:
            raise RuntimeError(f"{what} still {state} after {timeout_s:.0f} s")
        time.sleep(poll_s)
    total = time.perf_counter() - began
    if state != "SUCCEEDED":
        raise RuntimeError(f"{what} ended {state}: {run_info.get('ErrorMessage')}")
    return to_running, total


SPARK_TRIVIAL = """
import json, sys, time
began = time.perf_counter()
import boto3
from awsglue.utils import getResolvedOptions
from pyspark import SparkContext
from pyspark.sql import SparkSession
args = getResolvedOptions(sys.argv, ["bucket"])
imported = time.perf_counter()
SparkContext._ensure_initialized()  # spark-submit + the driver JVM + the py4j gateway
jvm = time.perf_counter()
spark = SparkSession.builder.getOrCreate()  # SparkContext (local[N], S3A config) + session
session = time.perf_counter()
assert spark.range(1000).count() == 1000
spark.stop()
figures = {"imports_s": imported - began, "jvm_s": jvm - imported, "session_s": session - jvm,
           "action_s": time.perf_counter() - session}
boto3.client("s3").put_object(Bucket=args["bucket"], Key="timings.json", Body=json.dumps(figures))
"""


def bench_spark(results: Results) -> None:
    """A Glue 5.0 Spark (glueetl) job: StartJobRun -> RUNNING and a trivial job's start -> SUCCEEDED,
    with the driver JVM start and the Spark session start measured apart inside the job."""
    s3, glue, iam = boto3.client("s3"), boto3.client("glue"), boto3.client("iam")
    bucket = f"bench-spark-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="trivial_spark.py", Body=SPARK_TRIVIAL.encode())
    job = f"bench-spark-{uuid.uuid4().hex[:6]}"
    glue.create_job(Name=job, Role=_bench_role(iam, "glue"), GlueVersion="5.0", WorkerType="G.1X",
                    NumberOfWorkers=2, DefaultArguments={"--bucket": bucket},
                    Command={"Name": "glueetl", "PythonVersion": "3",
                             "ScriptLocation": f"s3://{bucket}/trivial_spark.py"})
    try:
        to_running, total = _time_job_run(glue, job, "trivial Spark job", timeout_s=300, poll_s=0.05)
        inside = json.loads(s3.get_object(Bucket=bucket, Key="timings.json")["Body"].read())
        results.add("spark", "glueetl StartJobRun -> RUNNING", to_running, "s", 1.0)
        results.add("spark", "in job: imports (pyspark, boto3)", inside["imports_s"], "s")
        results.add("spark", "in job: driver JVM start (spark-submit)", inside["jvm_s"], "s")
        results.add("spark", "in job: Spark session start", inside["session_s"], "s")
        results.add("spark", "in job: first action (count)", inside["action_s"], "s")
        results.add("spark", "trivial Spark job: start -> SUCCEEDED", total, "s", 15.0)
    finally:
        glue.delete_job(JobName=job)


def bench_pipeline(results: Results) -> None:
    stack = load_outputs("local")
    follower = RunFollower(boto3.client("s3"), boto3.client("glue"), boto3.client("logs"), stack)
    sample = SAMPLES / "coinbase_btcusd_daily.csv"
    rows = sample.read_text().splitlines(keepends=True)
    _bench_newcomer_first_run(results, follower, rows)
    for label, target, drop in (("cold", 4.0, 1), ("warm", 1.5, 2)):
        # Different content each time (the newest-first file minus its oldest rows): the same bytes
        # uploaded again are recognised as a duplicate and would not train again.
        upload = RESULTS_DIR / f".bench-daily-{label}.csv"
        RESULTS_DIR.mkdir(exist_ok=True)
        upload.write_text("".join(rows[:-drop]))
        try:
            result = follower.upload_and_follow(upload, layout.raw_key("bench-daily"))
        finally:
            upload.unlink()
        stages = ", ".join(f"{k} {v:.2f}" for k, v in result.durations.items())
        results.add("pipeline", f"upload -> latest.json, daily BTC ({label})", result.total_s, "s", target, stages)
        _add_report_vs_training(results, label, result.durations)


def _add_report_vs_training(results: Results, label: str, durations: Dict[str, float]) -> None:
    """The report stage (model written -> report.html written) against the training stage it describes
    (Glue run running -> model written), both from cripto_ops.stages: drawing the report must not take
    longer than training (issue 15). A run whose report failed has no report stage: recorded as such."""
    report = durations.get("report")
    if report is None:
        console.print(f"  [yellow]pipeline  no report.html for the {label} run (the report failed): not compared[/]")
        return
    results.add("pipeline", f"report stage, daily BTC ({label}), target: its training stage",
                report, "s", round(durations["training"], 3))


def bench_e2e(results: Results) -> None:
    """`make e2e` from a fresh `make up`: restart the emulation (empty), deploy, upload, follow."""
    run(LOCALAWS + ["down"])
    up_s = timed(lambda: run(LOCALAWS + ["up"]))
    deploy_s = timed(lambda: run([str(REPO_ROOT / "scripts" / "deploy.sh"), "local"]))
    e2e_s = timed(lambda: run([sys.executable, str(REPO_ROOT / "scripts" / "e2e.py")]))
    results.add("e2e", "make e2e from a fresh make up", up_s + deploy_s + e2e_s, "s", 60.0,
                f"up {up_s:.1f}, deploy-local {deploy_s:.1f}, upload -> model {e2e_s:.1f}")


def _bench_newcomer_first_run(results: Results, follower: RunFollower, rows: List[str]) -> None:
    """A fresh clone: no module cache. `make up` prepares the job's modules (glue-modules), then the
    very first run must be as fast as any cold run."""
    home = Path(os.environ.get("LOCALAWS_HOME", REPO_ROOT / ".local"))
    shutil.rmtree(home / "glue" / "python-modules-cache", ignore_errors=True)  # a cache: safe to drop
    results.add("pipeline", "glue-modules: prepare the job's modules (once)", timed(
        lambda: run([sys.executable, str(REPO_ROOT / "scripts" / "prepare_glue_modules.py")])), "s")
    upload = RESULTS_DIR / ".bench-daily-first.csv"
    RESULTS_DIR.mkdir(exist_ok=True)
    upload.write_text("".join(rows[:-3]))
    try:
        result = follower.upload_and_follow(upload, layout.raw_key("bench-daily"))
    finally:
        upload.unlink()
    stages = ", ".join(f"{k} {v:.2f}" for k, v in result.durations.items())
    results.add("pipeline", "upload -> latest.json, daily BTC (first run of a clone)", result.total_s, "s", 4.0,
                stages)
    _add_report_vs_training(results, "first run of a clone", result.durations)


# --- pure computation ------------------------------------------------------------------------------


def bench_features(results: Results) -> None:
    python = str(VENVS / "tools" / "bin" / "python")
    for rows, target in ((100_000, None), (1_000_000, 2.0)):
        out = run([python, "-m", "cripto_pipeline.bench", "--rows", str(rows)], cwd=REPO_ROOT)
        figures = json.loads(out.stdout)
        results.add("features", f"{rows:,} rows", figures["seconds_best"], "s", target,
                    f"{rows / figures['seconds_best']:,.0f} rows/s")
        results.add("features", f"{rows:,} rows: peak RSS", figures["peak_rss_mib"], "MiB",
                    1024.0 if rows == 1_000_000 else None)


TRAINING_SNIPPET = """
import json, sys, time
from cripto_pipeline.validation import load_ohlcv
from cripto_pipeline.features import FEATURE_COLUMNS, compute_features
from cripto_pipeline import training
data = open(sys.argv[1], 'rb').read()
began = time.perf_counter()
frame = compute_features(load_ohlcv(data).frame)
features_s = time.perf_counter() - began
began = time.perf_counter()
result = training.train(frame, list(FEATURE_COLUMNS))
print(json.dumps({"rows": len(frame), "features_s": features_s, "training_s": time.perf_counter() - began}))
"""


def bench_training(results: Results) -> None:
    # In the Glue Python shell runtime (Python 3.9, its scikit-learn), where training really runs.
    python = str(VENVS / "glue-pythonshell-3.9" / "bin" / "python")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"), OMP_NUM_THREADS="1")
    for name in ("daily", "hourly"):
        out = run([python, "-c", TRAINING_SNIPPET, str(SAMPLES / f"coinbase_btcusd_{name}.csv")], env=env)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        results.add("training", f"{name} BTC ({figures['rows']:,} rows), Glue runtime", figures["training_s"], "s")


LARGE_FILE_WRITER = """
import sys
from cripto_pipeline.features import synthetic_ohlcv
frame = synthetic_ohlcv(int(sys.argv[1]), 1, freq="min").drop(columns="symbol")
frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
frame.to_csv(sys.argv[2], index=False, float_format="%.6f")
"""

LARGE_FILE_SNIPPET = """
import json, resource, sys, time
from cripto_pipeline import events, layout, pipeline
data = open(sys.argv[1], "rb").read()  # the handler holds the object's bytes the same way
ref = events.S3ObjectRef(bucket="bench", key=layout.raw_key("bench"), event_time="2026-11-27T00:00:00Z", version_id="v")
began = time.perf_counter()
outcome = pipeline.build_features(ref, data, max_raw_bytes=int(sys.argv[2]))  # what the feature Lambda runs
print(json.dumps({"status": outcome.status, "bytes": len(data), "seconds": time.perf_counter() - began,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_large_files(results: Results) -> None:
    """The feature Lambda's work on files up to MAX_RAW_BYTES: time and peak RSS of a fresh process
    (interpreter, libraries, input bytes, frames, Parquet output) against the function's memory."""
    import tempfile

    from cripto_pipeline.config import DEFAULT_MAX_RAW_BYTES

    python = str(VENVS / "tools" / "bin" / "python")
    memory_mb = 3008.0  # terraform/variables.tf feature_lambda_memory_mb
    with tempfile.TemporaryDirectory() as scratch:
        for rows in (1_000_000, 1_600_000):  # 1 M minute bars = 77 MB; 1.6 M = 125 MiB, just under the limit
            path = Path(scratch) / f"{rows}.csv"
            run([python, "-c", LARGE_FILE_WRITER, str(rows), str(path)], cwd=REPO_ROOT)
            out = run([python, "-c", LARGE_FILE_SNIPPET, str(path), str(DEFAULT_MAX_RAW_BYTES)], cwd=REPO_ROOT)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            if figures["status"] != "features_written":
                raise RuntimeError(f"{rows:,} rows ({figures['bytes']:,} bytes) were {figures['status']}")
            label = f"{rows / 1e6:g} M rows ({figures['bytes'] / 2**20:.0f} MiB CSV)"
            results.add("large", f"{label}: validate + features + Parquet", figures["seconds"], "s")
            results.add("large", f"{label}: peak RSS", figures["peak_rss_mib"], "MiB", memory_mb)


GROUPS = [("up", bench_up), ("deploy", bench_deploy), ("lambda", bench_lambda), ("glue", bench_glue),
          ("spark", bench_spark),
          ("pipeline", bench_pipeline), ("e2e", bench_e2e), ("features", bench_features), ("training", bench_training), ("large", bench_large_files)]
GROUPS.append(("scale", bench_large_path))  # issue 12: scripts/bench_scale.py


def machine() -> Dict[str, Any]:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1),
            "os": platform.platform(), "python": platform.python_version()}


def merged(previous: Dict[str, Any], results: Results, failures: Dict[str, str],
           ran: List[str]) -> Tuple[List[Dict[str, Any]], Dict[str, str]]:
    """This run's rows and failures, plus the previous file's for every group this run did not run
    (BENCH_SKIP, or a benchmark only run now and then): one run of a few groups updates their rows
    and keeps the others' figures, each row with the date it was measured."""
    def bench_of(row: Dict[str, Any]) -> str:
        # Files written before rows named their benchmark group: the group shown, "emulator" is "up".
        return row.get("bench") or ("up" if row["group"] == "emulator" else row["group"])

    # Rows written before rows carried their date and machine: those of the file they come from.
    kept = [{"measured": previous.get("generated", ""), "machine": previous.get("machine", {}), **row}
            for row in previous.get("results", []) if bench_of(row) not in ran]
    order = {name: index for index, (name, _) in enumerate(GROUPS)}
    rows = sorted(kept + results.rows, key=lambda row: order.get(bench_of(row), len(order)))  # stable
    kept_failures = {group: error for group, error in previous.get("failures", {}).items() if group not in ran}
    return rows, {**kept_failures, **failures}


def write(results: Results, failures: Dict[str, str], ran: List[str]) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / "results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    info = machine()
    for row in results.rows:
        row["machine"] = info
    rows, failures = merged(previous, results, failures, ran)
    document = {"generated": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": info,
                "results": rows, "failures": failures}
    path.write_text(json.dumps(document, indent=2) + "\n")
    lines = [f"Last written {document['generated']} on {info['cores']} cores ({info['cpu']}), "
             f"{info['memory_gib']} GiB, {info['os']}. Each row gives the date it was measured: a run of "
             "some groups (BENCH_SKIP) keeps the other groups' rows (results.json names each row's machine).", "",
             "| group | benchmark | result | target | note | measured |", "|---|---|---|---|---|---|"]
    for row in rows:
        target = "" if row["target"] is None else f"≤ {row['target']:g} {row['unit']}" + (" ✓" if row["ok"] else " ✗")
        lines.append(f"| {row['group']} | {row['name']} | {row['value']:.3f} {row['unit']} | {target} "
                     f"| {row['note']} | {row['measured'][:10]} |")
    for group, error in failures.items():
        lines.append(f"| {group} | FAILED | {error} | | | |")
    (RESULTS_DIR / "results.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    results, failures, ran = Results(), {}, []
    for group, bench in GROUPS:
        if group in SKIP:
            continue
        console.print(f"[bold]{group}[/]")
        results.bench = group
        ran.append(group)
        try:
            bench(results)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            detail = getattr(error, "stderr", "") or ""
            failures[group] = f"{type(error).__name__}: {error} {detail[-500:]}".strip()
            console.print(f"  [red]failed:[/] {failures[group]}")
    write(results, failures, ran)
    table = Table("group", "benchmark", "result", "target")
    for row in results.rows:
        target = "" if row["target"] is None else f"≤ {row['target']:g}"
        table.add_row(row["group"], row["name"], f"{row['value']:.3f} {row['unit']}", target)
    console.print(table)
    console.print(f"written: {RESULTS_DIR / 'results.json'}, {RESULTS_DIR / 'results.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
