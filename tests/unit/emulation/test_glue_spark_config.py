"""Unit tests of the Glue Spark mapping (localaws.glue.spark): capacity, --conf, spark-defaults, awsglue stub."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localaws.glue import spark
from localaws.glue.config import Settings
from localaws.glue.exceptions import InterpreterNotConfigured, RuntimeSetupFailed, UnsupportedJobCommand


def test_worker_capacity_is_bounded_by_the_machine():
    cap = spark.capacity("G.1X", 10, None, cpus=2, memory_mib=8192)
    assert (cap.dpus, cap.glue_vcpus, cap.glue_memory_mib) == (10.0, 40, 160 * 1024)
    assert cap.local_threads == 2 and cap.driver_memory_mib == 2048  # a quarter of 8 GiB
    small = spark.capacity("G.025X", 2, None, cpus=16, memory_mib=65536)
    assert (small.dpus, small.local_threads, small.driver_memory_mib) == (0.5, 4, 8192)
    assert "2 x G.025X = 0.5 DPU" in small.describe()


def test_max_capacity_and_default_capacity():
    assert spark.capacity(None, None, 3.0, cpus=64, memory_mib=1 << 20).local_threads == 12
    default = spark.capacity(None, None, None, cpus=1, memory_mib=1024)
    assert default.dpus == spark.DEFAULT_SPARK_DPUS and default.driver_memory_mib == spark.MIN_MEMORY_MIB


def test_unknown_worker_type_and_missing_workers_are_refused():
    with pytest.raises(UnsupportedJobCommand, match="G.9X"):
        spark.capacity("G.9X", 2, None)
    with pytest.raises(UnsupportedJobCommand, match="NumberOfWorkers"):
        spark.capacity("G.1X", None, None)


def test_conf_parsing_and_protected_s3a_settings(tmp_path: Path):
    conf = spark.parse_conf("spark.a=1 --conf spark.b=x=y --conf spark.hadoop.fs.s3a.endpoint=https://s3.amazonaws.com")
    assert conf[:2] == [("spark.a", "1"), ("spark.b", "x=y")]
    with pytest.raises(UnsupportedJobCommand):
        spark.parse_conf("novalue")
    cap = spark.capacity("G.1X", 2, None, cpus=2, memory_mib=4096)
    text = spark.spark_defaults(cap, ["/j/a.jar", "/j/b.jar"], "http://127.0.0.1:4566", tmp_path, conf)
    lines = dict(line.split(" ", 1) for line in text.splitlines())
    assert lines["spark.master"] == "local[2]" and lines["spark.jars"] == "/j/a.jar,/j/b.jar"
    assert lines["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert lines["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:4566"  # the job cannot redirect it
    assert lines["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert lines["spark.a"] == "1" and lines["spark.b"] == "x=y"


def test_glue_version_and_interpreter_checks(tmp_path: Path):
    spark.check_glue_version("5.0")
    with pytest.raises(UnsupportedJobCommand, match="5.0"):
        spark.check_glue_version("4.0")
    with pytest.raises(InterpreterNotConfigured, match="LOCALAWS_GLUE_PYTHONSPARK_5_0"):
        Settings.from_env({}).interpreter("spark-5.0")
    with pytest.raises(RuntimeSetupFailed, match="bootstrap"):
        spark.s3a_jars(str(tmp_path / "bin" / "python"))


def test_closed_awsglue_modules_fail_on_import_with_the_reason(tmp_path: Path):
    (tmp_path / "awsglue").mkdir()
    spark.add_awsglue_modules(tmp_path)
    for module in ("awsglue.context", "awsglue.dynamicframe", "awsglue.transforms"):
        result = subprocess.run(
            [sys.executable, "-c", f"import {module}"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert result.returncode == 1 and "ImportError" in result.stderr and "plain PySpark" in result.stderr


def test_both_runtimes_refuse_a_missing_or_unusable_interpreter_the_same_way(tmp_path: Path):
    not_executable = tmp_path / "python"
    not_executable.write_text("")
    for key, variable in (("3.9", "LOCALAWS_GLUE_PYTHON3_9"), ("spark-5.0", "LOCALAWS_GLUE_PYTHONSPARK_5_0")):
        with pytest.raises(InterpreterNotConfigured, match=f"include {key}=.*env {variable}"):
            Settings.from_env({}).interpreter(key)
        with pytest.raises(InterpreterNotConfigured, match=f"{variable}={not_executable} is not an executable"):
            Settings.from_env({variable: str(not_executable)}).interpreter(key)
    assert Settings.from_env({"LOCALAWS_GLUE_PYTHON3_9": sys.executable}).interpreter("3.9") == sys.executable
