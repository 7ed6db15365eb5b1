"""localaws.glue.runner: the Spark setup of glueetl runs (capacity, jars, --conf, environment) and a
glueetl run through the runner with a stand-in interpreter (issue 16). Harness: test_glue_runner_runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from localaws.glue import runner as runner_module
from localaws.glue.config import Settings
from localaws.glue.models import JobRunState

from glue_run_harness import Harness, _json_line

class Lines:
    def __init__(self) -> None:
        self.lines = []

    def write(self, line: str) -> None:
        self.lines.append(line)


def _spark_python(tmp_path: Path) -> str:
    env = tmp_path / "glue-spark"
    (env / "bin").mkdir(parents=True)
    (env / "jars").mkdir()
    for name in runner_module.spark.S3A_JARS:
        (env / "jars" / name).write_bytes(b"jar")
    return str(env / "bin" / "python")


def test_the_spark_setup_of_a_glueetl_run(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    h = Harness(tmp_path, objects={("code", "lib/extra.jar"): b"x"})
    h.job("spark", Command={"Name": "glueetl"}, GlueVersion="5.0", WorkerType="G.1X", NumberOfWorkers=2)
    run = h.start("spark", NumberOfWorkers=3)
    python, run_dir, output = _spark_python(tmp_path), tmp_path / "run", Lines()
    arguments = {"--enable-metrics": "true", "--extra-jars": "s3://code/lib/extra.jar",
                 "--conf": "spark.hadoop.fs.s3a.endpoint=http://elsewhere --conf spark.sql.x=1"}
    env = h.runner._spark_setup(h.backend.get_job("spark"), run, arguments, python, run_dir, output)
    conf_dir = run_dir / "spark-conf"
    assert env == {"SPARK_CONF_DIR": str(conf_dir), "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python,
                   "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_DIRS": str(run_dir / "tmp")}
    assert h.backend.get_job_run("spark", run.id).dpus == 3.0  # the run's NumberOfWorkers, G.1X = 1 DPU each
    assert output.lines[0].startswith("[localaws-glue] capacity: 3 x G.1X = 3 DPU")
    assert output.lines[1:] == [
        "[localaws-glue] --enable-metrics=true: accepted, no local effect\n",
        "[localaws-glue] --conf spark.hadoop.fs.s3a.endpoint ignored: S3 access stays on the local emulation\n"]
    defaults = (conf_dir / "spark-defaults.conf").read_text().splitlines()
    jars = [str(Path(python).parent.parent / "jars" / n) for n in runner_module.spark.S3A_JARS]
    assert f"spark.jars {','.join(jars + [str(run_dir / 'extra-jars' / 'extra.jar')])}" in defaults
    assert "spark.hadoop.fs.s3a.endpoint http://127.0.0.1:9" in defaults and "spark.sql.x 1" in defaults
    assert "spark.hadoop.fs.s3a.endpoint http://elsewhere" not in defaults
    assert (run_dir / "extra-jars" / "extra.jar").read_bytes() == b"x"


def test_the_runs_own_worker_type_wins_over_the_jobs(tmp_path):
    h = Harness(tmp_path)
    h.job("spark", Command={"Name": "glueetl"}, GlueVersion="5.0", WorkerType="G.1X", NumberOfWorkers=2)
    run, output = h.start("spark", WorkerType="G.2X"), Lines()
    h.runner._spark_setup(h.backend.get_job("spark"), run, {}, _spark_python(tmp_path), tmp_path / "r", output)
    assert h.backend.get_job_run("spark", run.id).dpus == 4.0  # 2 x G.2X (2 DPU each)
    assert output.lines[0].startswith("[localaws-glue] capacity: 2 x G.2X = 4 DPU")


def test_the_spark_setup_takes_the_jobs_workers_or_max_capacity(tmp_path):
    h = Harness(tmp_path)
    h.job("w", Command={"Name": "glueetl"}, GlueVersion="5.0", WorkerType="G.2X", NumberOfWorkers=2)
    h.job("m", Command={"Name": "glueetl"}, GlueVersion="5.0", MaxCapacity=4.0)
    python = _spark_python(tmp_path)
    for name, dpus, described in (("w", 4.0, "2 x G.2X = 4 DPU"), ("m", 4.0, "MaxCapacity 4 DPU = 4 DPU")):
        run, output = h.start(name), Lines()
        h.runner._spark_setup(h.backend.get_job(name), run, {}, python, tmp_path / name, output)
        assert h.backend.get_job_run(name, run.id).dpus == dpus
        assert output.lines[0].startswith(f"[localaws-glue] capacity: {described}"), output.lines[0]
        assert len(output.lines) == 1


def test_a_spark_run_runs_in_the_spark_interpreter_with_the_awsglue_stub(tmp_path, monkeypatch):
    h = Harness(tmp_path)
    python = _spark_python(tmp_path)
    # the Spark "interpreter" is a link to this one: the job script runs and prints what it was given
    os.symlink(sys.executable, python)
    h.settings = Settings(**{**h.settings.__dict__, "spark_python": python})
    h.runner.settings = h.settings
    h.job("spark", Command={"Name": "glueetl"}, GlueVersion="5.0")
    run = h.wait(h.start("spark").id, job="spark")
    assert run.state is JobRunState.SUCCEEDED, run.error_message
    seen = _json_line(h.logs.events[("/aws-glue/jobs/output", run.id)])
    assert seen["argv"][-4:] == ["--JOB_RUN_ID", run.id, "--JOB_NAME", "spark"]
    assert (tmp_path / "runtime" / "awsglue" / "context.py").is_file()
    assert (h.run_dir(run.id) / "spark-conf" / "spark-defaults.conf").is_file()
    assert run.dpus == 10.0 and run.log_group_name == "/aws-glue/jobs"

