"""`make bench`, group `scale` (issue 12): a large multi-symbol dataset in several files, from upload to
latest.json on the deployed stack, and the features stage on Spark vs pandas.

1. Writes BENCH_SCALE_SYMBOLS symbols x BENCH_SCALE_BARS hourly bars (default 100 x 100 000 = 10 M rows)
   as BENCH_SCALE_FILES CSV files (symbols split between the files) into a temporary directory: generated
   at run time, never committed.
2. Uploads them as a burst to ``raw/<dataset>/`` and follows the newest file's run (debounce, then the
   feature Lambda or, above MAX_RAW_BYTES, the Spark feature job; trigger; training; report) with the
   operator's RunFollower: per-stage seconds, rows/s, and the peak RSS of every process of this checkout's
   emulation while it runs (sampled every 0.5 s: both services, Lambda workers, the Spark driver JVM, the
   Python-shell job), against the targets (<= 10 min upload -> latest.json, no process above 8 GB).
3. The estimated AWS cost of that run (cripto_pipeline.costs: Lambda, Glue Python shell, Glue Spark
   DPU-seconds with the 1-minute minimum, S3 requests and storage).
4. The features stage alone at BENCH_SCALE_COMPARE_ROWS rows (default 1 M, 100 symbols): pandas
   (``cripto_pipeline.bench``) vs Spark (``cripto_pipeline.spark_features`` in the glue-spark-5.0
   environment, session start included: what a Glue run pays), wall time and peak RSS of each process tree.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import boto3
import psutil

from cripto_ops.follow import Budgets, RunFollower, RunResult
from cripto_ops.stack import REPO_ROOT, StackOutputs, load_outputs
from cripto_pipeline import costs, layout, routing

SYMBOLS = int(os.environ.get("BENCH_SCALE_SYMBOLS", "100"))
BARS = int(os.environ.get("BENCH_SCALE_BARS", "100000"))
FILES = int(os.environ.get("BENCH_SCALE_FILES", "10"))
COMPARE_ROWS = int(os.environ.get("BENCH_SCALE_COMPARE_ROWS", "1000000"))
VENVS = Path(os.environ.get("VENVS", REPO_ROOT / ".venvs"))
TARGET_SECONDS = 600.0
TARGET_PEAK_MIB = 8 * 1024.0

WRITER = """
import sys
from cripto_pipeline.features import synthetic_ohlcv
symbols, bars, first, seed, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
frame = synthetic_ohlcv(symbols * bars, symbols, seed=seed, freq="h")
frame["symbol"] = frame["symbol"].str.replace("SYM", "", regex=False).astype(int).add(first).map("S{:04d}".format)
if path.endswith(".parquet"):
    frame.to_parquet(path, index=False, coerce_timestamps="us")  # Spark reads no nanosecond timestamps
else:
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_csv(path, index=False, float_format="%.6f")
"""


def emulation_roots() -> Dict[str, int]:
    """Service name -> pid of this checkout's emulation (the launcher's pid files): their process trees hold
    the Lambda workers and the Glue job runs. Other emulations on the machine are not counted."""
    run_dir = Path(os.environ.get("LOCALAWS_HOME", REPO_ROOT / ".local")) / "run"
    return {path.stem: json.loads(path.read_text())["pid"] for path in sorted(run_dir.glob("*.json"))}


@dataclass
class PeakMemory:
    """Peak RSS per process, sampled in a background thread over the process trees of ``roots``."""

    roots: Dict[str, int] = field(default_factory=dict)
    interval: float = 0.5
    peaks: Dict[int, Dict[str, Any]] = field(default_factory=dict)

    def __enter__(self) -> "PeakMemory":
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _processes(self) -> List[tuple]:
        found = []
        for service, root in self.roots.items():
            try:
                parent = psutil.Process(root)
                found += [(service, process) for process in (parent, *parent.children(recursive=True))]
            except psutil.NoSuchProcess:
                continue
        return found

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for service, process in self._processes():
                try:
                    rss = process.memory_info().rss
                    entry = self.peaks.setdefault(process.pid, {"label": _label(process, service), "rss": 0})
                    entry["rss"] = max(entry["rss"], rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue

    def top(self, count: int = 6) -> List[Dict[str, Any]]:
        return sorted(self.peaks.values(), key=lambda e: -e["rss"])[:count]

    def total_mib(self) -> float:
        return sum(e["rss"] for e in self.peaks.values()) / 2**20


def _label(process: psutil.Process, service: str) -> str:
    """A short, recognisable name: the service whose tree holds it and what the process runs."""
    try:
        text = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return f"{service}: {process.name()}"
    for marker, name in (("SparkSubmit", "Spark driver (JVM)"), ("worker.py", "Lambda worker"),
                         ("model_training", "Python-shell job"), ("spark_features", "Spark job (Python)")):
        if marker in text:
            return f"{service}: {name}"
    return f"{service}: {process.name()}"


def _write(python: str, symbols: int, bars: int, first: int, seed: int, path: Path) -> None:
    subprocess.run([python, "-c", WRITER, str(symbols), str(bars), str(first), str(seed), str(path)],
                   check=True, cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src")))


def generate(directory: Path) -> List[Path]:
    """BENCH_SCALE_FILES CSV files holding SYMBOLS x BARS bars, the symbols split between them."""
    python = str(VENVS / "tools" / "bin" / "python")
    per_file = [SYMBOLS // FILES + (1 if n < SYMBOLS % FILES else 0) for n in range(FILES)]
    paths, first = [], 0
    for number, count in enumerate(c for c in per_file if c):
        path = directory / f"part-{number:03d}.csv"
        _write(python, count, BARS, first, number, path)
        paths.append(path)
        first += count
    return paths


def bench_scale(results: Any) -> None:
    """The group: see the module docstring. ``results`` is scripts/bench.py's Results."""
    stack = load_outputs("local")
    s3, glue, lam = boto3.client("s3"), boto3.client("glue"), boto3.client("lambda")
    config = lam.get_function_configuration(FunctionName=stack.feature_lambda_name)
    limit = int(config["Environment"]["Variables"]["MAX_RAW_BYTES"])
    rows = SYMBOLS * BARS
    label = f"{rows / 1e6:g} M rows ({SYMBOLS} symbols x {BARS:,} bars, {FILES} files)"
    with tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        paths = generate(Path(scratch))
        total_bytes = sum(p.stat().st_size for p in paths)
        results.add("scale", f"{label}: generate CSV ({total_bytes / 2**20:,.0f} MiB)", time.perf_counter() - began, "s")
        engine = routing.PANDAS if total_bytes <= limit else routing.SPARK
        dataset = f"bench-scale-{uuid.uuid4().hex[:6]}"
        follower = RunFollower(s3, glue, boto3.client("logs"), stack,
                               Budgets(features=3600, trigger=600, training=3600, poll_interval=1.0))
        with PeakMemory(emulation_roots()) as memory:
            since_ms = int(time.time() * 1000) - 1000
            began = time.perf_counter()
            for path in paths:
                s3.upload_file(str(path), stack.bucket_name, layout.dataset_file_key(dataset, path.name))
            upload_s = time.perf_counter() - began
            last = layout.dataset_file_key(dataset, paths[-1].name)
            head = s3.head_object(Bucket=stack.bucket_name, Key=last)
            result = follower.follow(RunResult(raw_key=last, version_id=head.get("VersionId"), dataset=dataset),
                                     head["ETag"].strip('"'))
    total = upload_s + result.total_s
    stages = ", ".join(f"{k} {v:.1f}" for k, v in [("upload", upload_s), *result.durations.items()])
    results.add("scale", f"{label}: upload -> latest.json ({engine})", total, "s", TARGET_SECONDS, stages)
    results.add("scale", f"{label}: rows/s upload -> latest.json", rows / total, "rows/s")
    results.add("scale", f"{label}: features stage rows/s ({engine}, debounce wait excluded: its own stage)",
                rows / result.durations["features"], "rows/s")
    for entry in memory.top():
        results.add("scale", f"{label}: peak RSS {entry['label']}", entry["rss"] / 2**20, "MiB", TARGET_PEAK_MIB)
    _add_cost(results, label, stack, glue, config, result, since_ms)


def _add_cost(results: Any, label: str, stack: StackOutputs, glue: Any, config: Dict[str, Any],
              result: RunResult, since_ms: int) -> None:
    """costs.run_cost of the measured run: every feature Lambda invocation since the upload (its REPORT line's
    duration: the debounce wait is billed too), the Python-shell training run, the Spark run if any, the run's
    S3 objects."""
    keys = layout.run_keys(result.dataset, result.run_id)
    s3 = boto3.client("s3")
    objects: Dict[str, int] = {}
    for prefix in (keys.features_prefix, keys.models_prefix):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket_name, Prefix=prefix):
            objects.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    training = glue.get_job_run(JobName=stack.glue_job_name, RunId=result.glue_run_id)["JobRun"]
    spark_runs = []
    spark_job = stack.raw.get("spark_features_job_name")
    if spark_job:
        for page in glue.get_paginator("get_job_runs").paginate(JobName=spark_job):
            for run in page.get("JobRuns", []):
                if run.get("Arguments", {}).get("--run_id") == result.run_id:
                    spark_runs.append(costs.spark_run(run))
    puts, gets = costs.s3_requests(objects)
    durations = _lambda_durations(stack.feature_lambda_name, since_ms)
    usage = costs.RunUsage(
        lambda_invocations=[(float(config["MemorySize"]), seconds) for seconds in durations]
        + [(128.0, costs.TRIGGER_BILLED_SECONDS)],
        glue_dpu=float(training.get("MaxCapacity") or 0.0625), glue_seconds=float(training.get("ExecutionTime") or 0),
        s3_puts=puts, s3_gets=gets, stored_bytes=costs.stored_bytes(objects), spark_runs=spark_runs,
    )
    cost = costs.run_cost(usage)
    note = ", ".join(f"{name} {value:.5f}" for name, value in cost.items() if name != "total")
    results.add("scale", f"{label}: estimated AWS cost", cost["total"], "USD", None,
                f"{note}; feature Lambda: {len(durations)} invocations, {sum(durations):.1f} s (debounce waits included)")


def _lambda_durations(function_name: str, since_ms: int) -> List[float]:
    """Seconds of every invocation of the function since ``since_ms``, from the runtime's REPORT lines."""
    logs = boto3.client("logs")
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{function_name}", startTime=since_ms, filterPattern="REPORT")
    found = [re.search(r"\tDuration: ([\d.]+) ms", event["message"]) for page in pages for event in page.get("events", [])]
    return [float(match[1]) / 1000.0 for match in found if match]


def _timed_tree(command: List[str], env: Dict[str, str]) -> Dict[str, Any]:
    """Wall time and peak RSS (the largest process, and the tree's sum) of one command."""
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with PeakMemory({"bench": process.pid}, interval=0.2) as memory:
        out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {err.decode()[-800:]}")
    peak = max((e["rss"] for e in memory.peaks.values()), default=0) / 2**20
    return {"seconds": time.perf_counter() - began, "peak_mib": peak, "tree_mib": memory.total_mib(),
            "stdout": out.decode()}


def bench_engines(results: Any) -> None:
    """The features stage at COMPARE_ROWS rows over 100 symbols: pandas vs Spark (where the crossover lies)."""
    symbols = min(100, COMPARE_ROWS)
    # PYSPARK_PYTHON: Spark's Python workers (the EWM's applyInPandas) run the environment's interpreter, as the
    # Glue service sets it for a job run, not whatever python3 comes first on PATH.
    spark_python = str(VENVS / "glue-spark-5.0" / "bin" / "python")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"), PYSPARK_PYTHON=spark_python)
    label = f"features of {COMPARE_ROWS / 1e6:g} M rows ({symbols} symbols)"
    pandas = _timed_tree([str(VENVS / "tools" / "bin" / "python"), "-m", "cripto_pipeline.bench", "--rows",
                          str(COMPARE_ROWS), "--symbols", str(symbols), "--repeat", "1", "--max-seconds", "1e9",
                          "--max-rss-mib", "1e9"], env)
    seconds = json.loads(pandas["stdout"].strip().splitlines()[-1])["seconds_best"]
    results.add("scale", f"{label}: pandas", seconds, "s", None, f"{COMPARE_ROWS / seconds:,.0f} rows/s")
    results.add("scale", f"{label}: pandas peak RSS", pandas["peak_mib"], "MiB")
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "input.parquet"
        _write(str(VENVS / "tools" / "bin" / "python"), symbols, COMPARE_ROWS // symbols, 0, 1, source)
        spark = _timed_tree([spark_python, "-m", "cripto_pipeline.spark_features",
                             str(Path(scratch) / "out"), str(source)], env)
    results.add("scale", f"{label}: Spark local[*] (session start included)", spark["seconds"], "s", None,
                f"{COMPARE_ROWS / spark['seconds']:,.0f} rows/s")
    results.add("scale", f"{label}: Spark peak RSS (largest process; tree {spark['tree_mib']:,.0f} MiB)",
                spark["peak_mib"], "MiB")


def bench_large_path(results: Any) -> None:
    """`make bench` group ``scale``: the end-to-end run, then the engines compared."""
    bench_scale(results)
    bench_engines(results)
