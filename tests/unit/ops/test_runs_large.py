"""RunCatalog on runs of the large-data path (issue 12): a run the Spark feature job builds, or failed."""
import io
import json
from datetime import datetime, timezone

from cripto_ops.runs import RunCatalog
from cripto_ops.stack import StackOutputs

RUN = "20261127T040000Z-0123abcd"
STACK = StackOutputs("bucket", "feat-fn", "trig-fn", "job", raw={"spark_features_job_name": "spark-job"})
INPUTS = {"dataset": "big", "run_id": RUN, "reason": "above the limit",
          "raw": [{"key": "raw/big/a.csv", "version_id": "v1", "size": 9, "etag": "e1"},
                  {"key": "raw/big/b.csv", "version_id": "v2", "size": 9, "etag": "e2"}]}


class Pages:
    def __init__(self, pages):
        self.pages = pages

    def paginate(self, **_):
        return self.pages


class FakeS3:
    class exceptions:  # noqa: N801 (boto3's shape)
        NoSuchKey = KeyError

    def __init__(self, objects):
        self.objects = objects

    def get_paginator(self, _name):
        when = datetime(2026, 11, 27, 4, 0, 1, tzinfo=timezone.utc)
        return Pages([{"Contents": [{"Key": k, "Size": len(v), "LastModified": when} for k, v in self.objects.items()]}])

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[Key])}


class EntityNotFound(Exception):
    pass


class FakeGlue:
    class exceptions:  # noqa: N801 (boto3's shape)
        EntityNotFoundException = EntityNotFound

    def __init__(self, spark_runs):
        self.spark_runs = spark_runs

    def get_job_run(self, JobName, RunId):
        for run in self.spark_runs:
            if JobName == "spark-job" and run["Id"] == RunId:
                return {"JobRun": run}
        raise EntityNotFound(RunId)

    def get_paginator(self, _name):
        outer = self

        class JobPages:
            def paginate(self, JobName):
                return [{"JobRuns": outer.spark_runs if JobName == "spark-job" else []}]

        return JobPages()


def catalog(spark_runs):
    s3 = FakeS3({f"features/big/{RUN}/inputs.json": json.dumps(INPUTS).encode()})
    return RunCatalog(s3, FakeGlue(spark_runs), STACK)


def test_a_run_the_spark_job_is_building_names_its_files_engine_and_job_run():
    (run,) = catalog([{"Id": "jr_spark1", "JobRunState": "RUNNING", "Arguments": {"--run_id": RUN}}]).runs("big")
    assert (run.state, run.engine, run.raw_key, run.raw_version_id) == ("FEATURES", "spark", "raw/big/b.csv", "v2")
    assert (run.spark_run_id, run.spark_state) == ("jr_spark1", "RUNNING")


def test_a_failed_spark_run_is_the_runs_state():
    (run,) = catalog([{"Id": "jr_spark1", "JobRunState": "FAILED", "ErrorMessage": "OutOfMemory",
                       "Arguments": {"--run_id": RUN}}]).runs("big")
    assert run.state == "FAILED" and run.error == "Spark feature job: OutOfMemory"
    assert run.spark_dpu is None  # GetJobRuns reported no capacity: left unpriced, status does not fail


def test_a_failed_spark_run_is_priced_from_its_job_run():
    (run,) = catalog([{"Id": "jr_spark1", "JobRunState": "FAILED", "WorkerType": "G.1X", "NumberOfWorkers": 2,
                       "ExecutionTime": 130, "Arguments": {"--run_id": RUN}}]).runs("big")
    assert (run.state, run.spark_dpu, run.spark_execution_s, run.spark_recorded_s) == ("FAILED", 2.0, 130.0, None)


#: The Spark job's manifest: the JobRunId it ran as and its own record of DPUs and seconds.
MANIFEST = {"engine": "spark", "rows_total": 5000, "rows_sampled": 3000, "rows": {"features": 5000},
            "sample": {"method": "time-stratified"}, "raw": {"key": "raw/big/", "files": []},
            "glue_job_run_id": "jr_spark1",
            "spark_usage": {"job_run_id": "jr_spark1", "dpu": 2.0, "seconds": 41.5}}


def spark_built(spark_runs, manifest=MANIFEST, features=False):
    keys = {f"features/big/{RUN}/inputs.json": INPUTS, f"features/big/{RUN}/manifest.json": manifest}
    if features:
        keys[f"features/big/{RUN}/features.parquet"] = "parquet bytes"
    return RunCatalog(FakeS3({key: json.dumps(doc).encode() for key, doc in keys.items()}), FakeGlue(spark_runs), STACK)


def test_a_spark_built_run_reads_the_spark_run_its_manifest_names():
    """Until that run is final status has the job's own record (what the report priced); then GetJobRun's
    DPUs and ExecutionTime; when Glue no longer knows the run (history kept 90 days), the record stands."""
    running = {"Id": "jr_spark1", "JobRunState": "RUNNING", "WorkerType": "G.1X", "NumberOfWorkers": 2}
    (run,) = spark_built([running]).runs("big")
    assert (run.engine, run.spark_run_id, run.spark_state) == ("spark", "jr_spark1", "RUNNING")
    assert (run.spark_dpu, run.spark_execution_s, run.spark_recorded_s) == (2.0, None, 41.5)
    # The feature Lambda that handed the dataset over: the upload (the run id's 04:00:00) -> inputs.json (04:00:01).
    assert run.feature_lambda_s == 1.0
    (run,) = spark_built([{**running, "JobRunState": "SUCCEEDED", "ExecutionTime": 47}]).runs("big")
    assert (run.spark_state, run.spark_dpu, run.spark_execution_s, run.spark_recorded_s) == \
        ("SUCCEEDED", 2.0, 47.0, 41.5)
    (run,) = spark_built([]).runs("big")
    assert (run.spark_run_id, run.spark_state, run.spark_dpu, run.spark_recorded_s) == ("jr_spark1", None, 2.0, 41.5)


def test_a_several_file_runs_debounce_wait_is_its_own_stage():
    """manifest.json's debounce.ended_at splits upload -> features.parquet into debounce and features."""
    manifest = {**MANIFEST, "debounce": {"waited_s": 4.2, "ended_at": "2026-11-27T04:00:00.600000+00:00"}}
    (run,) = spark_built([], manifest).runs("big")
    # Upload at the run id's second (04:00:00), the wait ended at +0.6 s, features.parquet is not there yet.
    assert run.durations_s == {"debounce": 0.6}
    (run,) = spark_built([], manifest, features=True).runs("big")  # written at 04:00:01 (FakeS3)
    assert run.durations_s == {"debounce": 0.6, "features": 0.4}
