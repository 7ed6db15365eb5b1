"""Glue Spark (``glueetl``, GlueVersion 5.0) runs of the Glue-compatible service: real PySpark, real S3A.

One service process (as in test_glue_service.py) runs every job here on ``LOCALAWS_GLUE_PYTHONSPARK_5_0``
or ``.venvs/glue-spark-5.0``. Every JVM start costs seconds on a small machine, so the Spark runs are
few: one ETL run that checks data, arguments, --extra-py-files, the awsglue messages, capacity, DPU
seconds and logs at once; one timeout and one stop run side by side; a failing script that fails before
it starts Spark.
"""

from __future__ import annotations

import io
import json
import os
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.polling import wait_for
from test_glue_service import REPO, ROLE, GlueService, log_messages, wait_run

SPARK_PYTHON = os.environ.get("LOCALAWS_GLUE_PYTHONSPARK_5_0", str(REPO / ".venvs/glue-spark-5.0/bin/python"))

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def spark_service(endpoint_url: str, tmp_path_factory) -> GlueService:
    if not os.access(SPARK_PYTHON, os.X_OK):
        pytest.fail(
            f"No Glue Spark interpreter at {SPARK_PYTHON}: run `ONLY=glue-spark-5.0 scripts/bootstrap.sh` "
            f"or set LOCALAWS_GLUE_PYTHONSPARK_5_0."
        )
    base = tmp_path_factory.mktemp("glue-spark")
    svc = GlueService(base / "state", endpoint_url, None, base / "service.log")
    svc.env["LOCALAWS_GLUE_PYTHONSPARK_5_0"] = SPARK_PYTHON
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def glue(spark_service: GlueService):
    return spark_service.client()


@pytest.fixture
def make_spark_job(glue, s3, bucket, unique_name):
    created: list[str] = []

    def make(script: str, **job_args) -> str:
        name = unique_name("spark")
        key = f"scripts/{name}.py"
        s3.put_object(Bucket=bucket, Key=key, Body=textwrap.dedent(script).encode())
        job_args.setdefault("WorkerType", "G.1X")
        job_args.setdefault("NumberOfWorkers", 2)
        job_args.setdefault("GlueVersion", "5.0")
        glue.create_job(
            Name=name,
            Role=ROLE,
            Command={"Name": "glueetl", "PythonVersion": "3", "ScriptLocation": f"s3://{bucket}/{key}"},
            **job_args,
        )
        created.append(name)
        return name

    yield make
    for name in created:
        glue.delete_job(JobName=name)


def run_processes(state_dir: Path, run_id: str) -> list[str]:
    """Command lines of live processes that belong to a run (the JVM's classpath names the run dir)."""
    marker = str(state_dir / "runs" / run_id)
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


ETL_SCRIPT = """
    import json, os, sys
    from awsglue.utils import getResolvedOptions
    from pyspark.sql import SparkSession, Window, functions as F
    import features_helper  # from --extra-py-files

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "input", "output", "report", "window"])
    messages = {}
    for module in ("awsglue.context", "awsglue.dynamicframe"):
        try:
            __import__(module)
        except ImportError as exc:
            messages[module] = str(exc)

    spark = SparkSession.builder.appName(args["JOB_NAME"]).getOrCreate()
    prices = spark.read.csv(args["input"], header=True, inferSchema=True)
    w = Window.partitionBy("symbol").orderBy("timestamp")
    rolling = w.rowsBetween(-(int(args["window"]) - 1), 0)
    features = (
        prices.withColumn("return_1", F.col("close") / F.lag("close").over(w) - 1)
        .withColumn("ma", F.avg("close").over(rolling))
        .withColumn("label", features_helper.label(F.col("close")))
    )
    features.write.mode("overwrite").partitionBy("symbol").parquet(args["output"])
    back = spark.read.parquet(args["output"])
    report = {
        "args": args,
        "argv": sys.argv,
        "messages": messages,
        "rows": back.count(),
        "symbols": sorted(r.symbol for r in back.select("symbol").distinct().collect()),
        "master": spark.sparkContext.master,
        "driver_memory": spark.conf.get("spark.driver.memory"),
        "spark": spark.version,
        "python": list(sys.version_info[:2]),
        "aws_env": {k: v for k, v in os.environ.items() if k.startswith("AWS_")},
    }
    spark.createDataFrame([(json.dumps(report),)], ["value"]).coalesce(1).write.mode("overwrite").text(
        args["report"]
    )
    print("features written for", report["symbols"])
    spark.stop()
"""

HELPER = """
from pyspark.sql import functions as F


def label(close):
    return F.when(close > 100, "high").otherwise("low")
"""


def _prices_csv() -> bytes:
    lines = ["timestamp,symbol,close"]
    for symbol, base in (("BTC", 90.0), ("ETH", 110.0)):
        for i in range(30):
            lines.append(f"2024-01-{i + 1:02d}T00:00:00,{symbol},{base + i * (1 if symbol == 'BTC' else -1)}")
    return ("\n".join(lines) + "\n").encode()


def test_etl_job_reads_s3_csv_writes_partitioned_parquet_with_glue_argv(
    glue, s3, logs, bucket, make_spark_job, spark_service
):
    s3.put_object(Bucket=bucket, Key="in/prices.csv", Body=_prices_csv())
    s3.put_object(Bucket=bucket, Key="libs/features_helper.py", Body=HELPER.encode())
    job = make_spark_job(
        ETL_SCRIPT,
        DefaultArguments={
            "--extra-py-files": f"s3://{bucket}/libs/features_helper.py",
            "--input": f"s3://{bucket}/in/prices.csv",
            "--window": "3",
            "--enable-metrics": "true",
            "--conf": "spark.sql.session.timeZone=UTC --conf spark.hadoop.fs.s3a.endpoint=https://s3.amazonaws.com",
        },
    )
    run_id = glue.start_job_run(
        JobName=job,
        Arguments={"--output": f"s3a://{bucket}/features/", "--report": f"s3://{bucket}/report/"},
    )["JobRunId"]
    run = wait_run(glue, job, run_id, timeout=400)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")

    # Partitioned Parquet in the emulation's S3, with the window features computed per symbol.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="features/")["Contents"]]
    assert {k.split("/")[1] for k in keys if k.endswith(".parquet")} == {"symbol=BTC", "symbol=ETH"}
    btc_key = next(k for k in keys if k.startswith("features/symbol=BTC/") and k.endswith(".parquet"))
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=btc_key)["Body"].read())).to_pylist()
    table.sort(key=lambda r: r["timestamp"])
    assert table[0]["return_1"] is None and table[1]["return_1"] == pytest.approx(91 / 90 - 1)
    assert table[2]["ma"] == pytest.approx(91.0)  # mean of 90, 91, 92: a 3-row window within BTC
    assert table[-1]["label"] == "high" and table[0]["label"] == "low"

    report_key = next(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="report/")["Contents"]
        if o["Key"].endswith(".txt")
    )
    report = json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
    assert report["rows"] == 60 and report["symbols"] == ["BTC", "ETH"]
    assert report["spark"] == "3.5.4" and report["python"] == [3, 11]
    assert report["args"]["JOB_NAME"] == job and report["args"]["JOB_RUN_ID"] == run_id
    assert report["args"]["window"] == "3"
    assert report["argv"][report["argv"].index("--JOB_RUN_ID") + 1] == run_id
    for module in ("awsglue.context", "awsglue.dynamicframe"):
        assert "plain PySpark" in report["messages"][module]
    threads = min(8, os.cpu_count() or 1)  # 2 x G.1X = 8 vCPU, bounded by this machine
    assert report["master"] == f"local[{threads}]"
    assert report["aws_env"]["AWS_ACCESS_KEY_ID"] == "test"
    assert "AWS_PROFILE" not in report["aws_env"] and "AWS_SESSION_TOKEN" not in report["aws_env"]

    # Glue 5.0 billing: 2 DPU x max(60 s, run time); Spark runs log to /aws-glue/jobs.
    assert run["LogGroupName"] == "/aws-glue/jobs"
    assert run["DPUSeconds"] == pytest.approx(2 * max(60, run["ExecutionTime"]))
    output = wait_for(
        "the driver output in /aws-glue/jobs/output",
        lambda: [m for m in log_messages(logs, "/aws-glue/jobs/output", run_id) if "features written" in m]
        and log_messages(logs, "/aws-glue/jobs/output", run_id),
        30,
    )
    text = "\n".join(output)
    assert "2 x G.1X = 2 DPU" in text and f"local[{threads}]" in text
    assert "--enable-metrics=true: accepted, no local effect" in text
    assert "--conf spark.hadoop.fs.s3a.endpoint ignored" in text
    assert not run_processes(spark_service.state_dir, run_id)


def test_failing_script_fails_with_the_python_error_and_traceback(glue, logs, make_spark_job):
    job = make_spark_job(
        """
        import sys
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["JOB_NAME"])
        raise ValueError("no prices for " + args["JOB_NAME"])
        """
    )
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(glue, job, run_id)
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == f"ValueError: no prices for {job}"
    errors = wait_for(
        "the traceback in /aws-glue/jobs/error",
        lambda: [m for m in log_messages(logs, "/aws-glue/jobs/error", run_id) if "Traceback" in m],
        30,
    )
    assert errors


def test_unsupported_glue_version_fails_the_run_saying_what_to_set(glue, make_spark_job):
    job = make_spark_job("print('never runs')\n", GlueVersion="4.0")
    run = wait_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "FAILED" and 'Set GlueVersion to "5.0"' in run["ErrorMessage"]


HANG_SCRIPT = """
    import sys, time
    import boto3
    from awsglue.utils import getResolvedOptions
    from pyspark.sql import SparkSession

    args = getResolvedOptions(sys.argv, ["bucket"])
    spark = SparkSession.builder.getOrCreate()
    assert spark.range(10).count() == 10
    boto3.client("s3").put_object(Bucket=args["bucket"], Key="started/" + args["JOB_RUN_ID"], Body=b"up")
    time.sleep(3600)
"""


def test_timeout_and_stop_end_the_run_and_its_jvm(glue, s3, bucket, make_spark_job, spark_service):
    job = make_spark_job(
        HANG_SCRIPT,
        WorkerType="G.025X",
        NumberOfWorkers=2,
        ExecutionProperty={"MaxConcurrentRuns": 2},
        DefaultArguments={"--bucket": bucket},
    )
    # Timeout in minutes of LOCALAWS_GLUE_SECONDS_PER_MINUTE=2 s: 60 s for the JVM to come up first.
    timed = glue.start_job_run(JobName=job, Timeout=30)["JobRunId"]
    stopped = glue.start_job_run(JobName=job)["JobRunId"]

    def started(run_id: str):
        try:
            s3.head_object(Bucket=bucket, Key=f"started/{run_id}")
        except s3.exceptions.ClientError:
            state = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
            assert state["JobRunState"] in ("STARTING", "RUNNING"), state
            return False
        return True

    wait_for("the stop run's Spark session", lambda: started(stopped), 300)
    assert run_processes(spark_service.state_dir, stopped), "no JVM found for the running run"
    glue.batch_stop_job_run(JobName=job, JobRunIds=[stopped])
    assert wait_run(glue, job, stopped)["JobRunState"] == "STOPPED"
    assert not run_processes(spark_service.state_dir, stopped)

    run = wait_run(glue, job, timed, timeout=300)
    assert run["JobRunState"] == "TIMEOUT", run
    assert not run_processes(spark_service.state_dir, timed)
