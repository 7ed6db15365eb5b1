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


class FakeGlue:
    def __init__(self, spark_runs):
        self.spark_runs = spark_runs

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
