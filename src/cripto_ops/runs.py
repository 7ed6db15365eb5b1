"""What happened to each upload: gathered from the S3 layout, Glue job runs and object timestamps.

Everything comes from AWS APIs (S3 ListObjectsV2/GetObject, Glue GetJobRuns), so ``status`` reads the
local emulation and a real account alike.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from cripto_ops import stages
from cripto_ops.stack import StackOutputs
from cripto_pipeline import costs, glue_runs, layout, routing


@dataclass
class RunStatus:
    dataset: str
    run_id: str
    state: str  # REJECTED | DUPLICATE | FEATURES | TRAINING (Glue state) | SUCCEEDED | FAILED | TIMEOUT ...
    raw_key: Optional[str] = None
    raw_version_id: Optional[str] = None
    feature_rows: Optional[int] = None
    #: Which engine built the features (pandas: the feature Lambda; spark: the Glue Spark feature job) and on
    #: how many of their rows training ran, drawn how (the manifest's rows_sampled and sample.method).
    engine: Optional[str] = None
    training_rows: Optional[int] = None
    training_sample: Optional[str] = None
    #: The Spark feature job's run for this run (large datasets): found by its --run_id while it builds the
    #: features, then by the JobRunId its manifest records (glue_job_run_id).
    spark_run_id: Optional[str] = None
    spark_state: Optional[str] = None
    #: Its DPUs; Glue's ExecutionTime once that run is final; the seconds the job recorded in its manifest
    #: (run start -> manifest written) for the report, which status prices until ExecutionTime is final.
    spark_dpu: Optional[float] = None
    spark_execution_s: Optional[float] = None
    spark_recorded_s: Optional[float] = None
    glue_run_id: Optional[str] = None
    glue_state: Optional[str] = None
    error: Optional[str] = None
    durations_s: Dict[str, float] = field(default_factory=dict)
    best_model: Optional[str] = None
    #: metrics.json's ``comparison`` as the job wrote it (model_accuracy_mean, best_baseline_accuracy_mean,
    #: beats_all_baselines, and since the net-of-fees verdict strategy_net_return, verdict, ...); None
    #: until the model is written.
    comparison: Optional[Dict[str, Any]] = None
    artifacts_prefix: Optional[str] = None
    is_latest: bool = False
    glue_execution_s: Optional[float] = None
    glue_max_capacity: Optional[float] = None
    #: models/<dataset>/<run_id>/report.html when the job wrote it (a report failure leaves a good run without).
    report_key: Optional[str] = None
    duplicate_of: Optional[str] = None  # the run that covers this upload's identical content
    #: Key -> size in bytes of every object under the run's features/ and models/ prefixes (the cost's S3 inputs).
    objects: Dict[str, int] = field(default_factory=dict)
    #: Upload event time -> features.parquet written: bounds the feature Lambda's billed duration.
    feature_lambda_s: Optional[float] = None

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _identity(raw: Any) -> Dict[str, Any]:
    """One raw object's identity from a record's ``raw``: the object itself, or the last of a list of them."""
    if isinstance(raw, list):
        return raw[-1] if raw and isinstance(raw[-1], dict) else {}
    return raw if isinstance(raw, dict) else {}


def _spark_billed(status: RunStatus, job_run: Dict[str, Any]) -> None:
    """DPUs and ExecutionTime of a final Spark run; a run that reports no capacity is left unpriced."""
    try:
        status.spark_dpu, status.spark_execution_s = costs.spark_run(job_run)
    except ValueError:
        return


class RunCatalog:
    """Reads runs of one stack; create with boto3 s3 and glue clients."""

    def __init__(self, s3, glue, stack: StackOutputs) -> None:
        self.s3, self.glue, self.stack = s3, glue, stack

    def datasets(self) -> List[str]:
        found = set()
        for prefix in (layout.FEATURES_PREFIX, layout.ERRORS_PREFIX, layout.MODELS_PREFIX):
            for page in self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.stack.bucket_name, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix):].rstrip("/")
                    if not name.startswith("_"):
                        found.add(name)
        return sorted(found)

    def runs(self, dataset: str, limit: int = 10, run_id: Optional[str] = None) -> List[RunStatus]:
        """The newest ``limit`` runs of ``dataset``, newest first (only ``run_id``, when given)."""
        objects = {item["Key"]: item for prefix in layout.dataset_prefixes(dataset).values()
                   for item in self._list(prefix)}
        run_ids = {run for run in map(layout.run_id_in_key, objects) if run}
        latest = self._json(layout.latest_key(dataset)) or {}
        glue_runs = self._glue_runs_by_features_key()
        selected = sorted(run_ids & {run_id} if run_id else run_ids, reverse=True)[:limit]
        return [self._run(dataset, selected_id, objects, glue_runs, latest) for selected_id in selected]

    def _run(self, dataset: str, run_id: str, objects: Dict[str, Dict[str, Any]],
             glue_runs: Dict[str, Dict[str, Any]], latest: Dict[str, Any]) -> RunStatus:
        keys = layout.run_keys(dataset, run_id)
        status = RunStatus(dataset=dataset, run_id=run_id, state="FEATURES", artifacts_prefix=keys.models_prefix,
                           is_latest=latest.get("run_id") == run_id)
        if keys.error in objects:
            report = self._json(keys.error) or {}
            status.state, status.error = "REJECTED", f"{report.get('error')}: {report.get('what')}"
            raw = _identity(report.get("raw"))  # the Spark job's report may list every file
            status.raw_key, status.raw_version_id = raw.get("key"), raw.get("version_id")
            status.engine = report.get("engine") or (routing.SPARK if keys.inputs in objects else routing.PANDAS)
            return status
        if keys.duplicate in objects:
            record = self._json(keys.duplicate) or {}
            status.state, status.duplicate_of = "DUPLICATE", (record.get("covered_by") or {}).get("run_id")
            status.raw_key = (record.get("raw") or {}).get("key")
            status.raw_version_id = (record.get("raw") or {}).get("version_id")
            return status
        manifest = self._json(keys.manifest) or {}
        # Above MAX_RAW_BYTES the Spark feature job builds the features: inputs.json names the run's files first.
        spark_inputs = (self._json(keys.inputs) or {}) if keys.inputs in objects else {}
        raw = routing.started_by(manifest) or _identity(routing.raw_files(manifest) if manifest else spark_inputs.get("raw"))
        status.raw_key, status.raw_version_id = raw.get("key"), raw.get("version_id")
        status.feature_rows = (manifest.get("rows") or {}).get("features")
        if manifest:
            used = routing.training_rows(manifest)
            status.engine, status.training_rows = used["engine"], used["rows_sampled"]
            status.training_sample = used["sample"].get("method")
            if status.engine == routing.SPARK:
                self._spark_usage(status, manifest)
        elif spark_inputs:
            status.engine = routing.SPARK
            self._spark_run(status)
        status.objects = {key: item.get("Size", 0) for key, item in objects.items()
                          if key.startswith((keys.features_prefix, keys.models_prefix))}
        written = {key: item["LastModified"] for key, item in objects.items()}
        status.feature_lambda_s = costs.feature_lambda_bound(status.engine, manifest, run_id, written.get(keys.features),
                                                             written.get(keys.inputs))
        run = glue_runs.get(keys.features)
        if run:
            status.glue_run_id, status.glue_state = run["Id"], run["JobRunState"]
            status.state = "TRAINING" if run["JobRunState"] in ("STARTING", "RUNNING", "STOPPING", "WAITING") \
                else run["JobRunState"]
            status.glue_execution_s = run.get("ExecutionTime")
            status.glue_max_capacity = run.get("MaxCapacity")
            if run.get("ErrorMessage"):
                status.error = run["ErrorMessage"]
        if keys.status in objects:  # written by the job itself when it failed: the precise error
            recorded = self._json(keys.status) or {}
            status.error = recorded.get("error") or status.error
            if not run:  # Glue's run history is gone (kept 90 days on AWS): the job's record stands
                status.state = recorded.get("state", "FAILED")
        if keys.report in objects:
            status.report_key = keys.report
        if keys.metrics in objects:
            metrics = self._json(keys.metrics) or {}
            status.best_model, status.comparison = metrics.get("best_model"), metrics.get("comparison", {})
        status.durations_s = stages.run_stage_seconds(keys, routing.upload_event_time(manifest, run_id), written, run,
                                                      routing.debounce_ended(manifest))
        return status

    # -- AWS helpers -----------------------------------------------------------------------------

    def _list(self, prefix: str) -> Iterable[Dict[str, Any]]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.stack.bucket_name, Prefix=prefix):
            yield from page.get("Contents", [])

    def _json(self, key: str) -> Optional[Dict[str, Any]]:
        try:
            return json.loads(self.s3.get_object(Bucket=self.stack.bucket_name, Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def _spark_run(self, status: RunStatus) -> None:
        """A run the Spark feature job is building: its job run, and the run's state when that run failed."""
        job = self.stack.raw.get("spark_features_job_name")
        if not job:
            return
        for page in self.glue.get_paginator("get_job_runs").paginate(JobName=job):
            for run in page.get("JobRuns", []):
                if run.get("Arguments", {}).get("--run_id") == status.run_id:
                    status.spark_run_id, status.spark_state = run["Id"], run["JobRunState"]
                    if run["JobRunState"] in glue_runs.FINAL_STATES:  # a failed run was billed too
                        _spark_billed(status, run)
                    if run["JobRunState"] in ("FAILED", "TIMEOUT", "STOPPED", "ERROR"):
                        status.state = run["JobRunState"]
                        status.error = f"Spark feature job: {run.get('ErrorMessage') or run['JobRunState']}"
                    return

    def _spark_usage(self, status: RunStatus, manifest: Dict[str, Any]) -> None:
        """The Spark run that built a run's features: the usage the job recorded in its manifest, then
        GetJobRun of the run id it records: its state and, once final, its DPUs and ExecutionTime."""
        recorded = costs.recorded_spark_run(manifest)
        if recorded:
            status.spark_dpu, status.spark_recorded_s = recorded
        status.spark_run_id = manifest.get("glue_job_run_id")
        job = self.stack.raw.get("spark_features_job_name")
        if not (job and status.spark_run_id):
            return
        try:
            run = self.glue.get_job_run(JobName=job, RunId=status.spark_run_id)["JobRun"]
        except self.glue.exceptions.EntityNotFoundException:
            return  # Glue's run history is gone (kept 90 days on AWS): the job's own record stands
        status.spark_state = run["JobRunState"]
        if run["JobRunState"] in glue_runs.FINAL_STATES:
            _spark_billed(status, run)

    def _glue_runs_by_features_key(self) -> Dict[str, Dict[str, Any]]:
        newest: Dict[str, Dict[str, Any]] = {}
        for page in self.glue.get_paginator("get_job_runs").paginate(JobName=self.stack.glue_job_name):
            for run in page.get("JobRuns", []):
                key = run.get("Arguments", {}).get("--features_key")
                if key and (key not in newest or run["StartedOn"] > newest[key]["StartedOn"]):
                    newest[key] = run
        return newest
