"""Upload a raw file and follow its run through the pipeline, step by step, using AWS APIs only.

Steps: ``upload`` -> ``features`` (feature Lambda writes features/ or errors/) -> ``trigger``
(the trigger Lambda starts a Glue run for the features file) -> ``training`` (until the Glue run
publishes: models/<dataset>/latest.json points to this run) -> ``model`` (every artifact is there)
-> ``report`` (the Glue run ends; report.html, written after latest.json, is there unless it failed).
"upload -> model" is the pipeline's latency: the model is usable before the report is drawn.

These steps are what the follower waits for, not a clock: once the run has ended, its stage times
are read from the timestamps it left behind by :func:`cripto_ops.stages.run_stage_seconds`, the one
definition ``cripto status`` uses too, so both print the same times for the same run.

The run is identified the way the pipeline identifies it: by the uploaded object's key and version
(``cripto_pipeline.layout.make_run_id``), so following works with many uploads in flight. When the
upload's content is identical to an earlier upload's, the pipeline starts no new run and writes
``duplicate-of.json``: the follower then follows (and verifies) the run that covers the content.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from cripto_ops import stages
from cripto_ops.exceptions import StageFailed, StageTimeout
from cripto_ops.log_tail import GLUE_ERROR_GROUP, GLUE_OUTPUT_GROUP
from cripto_ops.stack import StackOutputs
from cripto_pipeline import layout, routing

GLUE_TERMINAL_FAILURES = {"FAILED", "TIMEOUT", "STOPPED", "ERROR"}


@dataclass(frozen=True)
class Budgets:
    """Seconds each stage may take before the follower gives up (generous: cold starts included)."""

    features: float = 180.0
    trigger: float = 120.0
    training: float = 900.0  # also the budget of the report stage
    poll_interval: float = 0.2


@dataclass
class RunResult:
    raw_key: str
    version_id: Optional[str]
    dataset: str
    run_id: Optional[str] = None
    features_key: Optional[str] = None
    glue_run_id: Optional[str] = None
    glue_execution_time_s: Optional[float] = None
    #: Seconds per stage, ``total`` and ``report`` as cripto_ops.stages defines them; set once the run ends.
    durations: Dict[str, float] = field(default_factory=dict)
    artifacts: Dict[str, int] = field(default_factory=dict)  # key -> size in bytes
    metrics: Dict[str, Any] = field(default_factory=dict)
    latest: Dict[str, Any] = field(default_factory=dict)
    #: Run id of this upload when its content was already covered by run ``run_id`` (else None).
    duplicate_run_id: Optional[str] = None

    @property
    def total_s(self) -> float:
        """Upload -> model written (the report, drawn afterwards, is not part of it)."""
        return self.durations[stages.TOTAL]


#: on_progress(step, message) is called while waiting; on_step_done(step) after each step.
ProgressFn = Callable[[str, str], None]
StepDoneFn = Callable[[str], None]


class RunFollower:
    """Follows one upload; create with boto3 clients for s3, glue and logs."""

    def __init__(self, s3, glue, logs, stack: StackOutputs, budgets: Budgets = Budgets(),
                 on_progress: ProgressFn = lambda _s, _m: None,
                 on_step_done: StepDoneFn = lambda _s: None) -> None:
        self.s3, self.glue, self.logs, self.stack = s3, glue, logs, stack
        self.budgets = budgets
        self.on_progress, self.on_step_done = on_progress, on_step_done
        self._logs_since_ms = 0

    # -- the whole run ---------------------------------------------------------------------------

    def upload_and_follow(self, path: Path, raw_key: str = layout.DEFAULT_RAW_KEY) -> RunResult:
        dataset = layout.dataset_from_raw_key(raw_key)
        self.on_progress("upload", f"s3://{self.stack.bucket_name}/{raw_key} ({path.stat().st_size:,} bytes)")
        with open(path, "rb") as body:
            put = self.s3.put_object(Bucket=self.stack.bucket_name, Key=raw_key, Body=body)
        result = RunResult(raw_key=raw_key, version_id=put.get("VersionId"), dataset=dataset)
        self.on_step_done("upload")
        return self.follow(result, put.get("ETag"))

    def follow(self, result: RunResult, etag: Optional[str]) -> RunResult:
        uploaded_at = datetime.now(timezone.utc)
        self._logs_since_ms = int(uploaded_at.timestamp() * 1000) - 60_000
        digest = layout.object_digest(result.raw_key, result.version_id, etag)

        found = self._wait_features(result.dataset, digest, uploaded_at)
        if layout.object_name(found) == layout.DUPLICATE_NAME:
            record = self._json(found)
            result.duplicate_run_id = record["run_id"]
            found = record["covered_by"]["features_key"]
            self.on_progress("features", f"same content as run {record['covered_by']['run_id']}: no new run, "
                                         "following that one")
        result.features_key = found
        result.run_id = layout.parse_features_key(result.features_key).run_id
        self.on_step_done("features")

        result.glue_run_id = self._wait_glue_run_started(result.features_key)["Id"]
        self.on_step_done("trigger")

        self._wait_model_published(result)
        self.on_step_done("training")

        self._verify_model(result)
        self.on_step_done("model")

        # The job writes the report after latest.json: the model is usable before the run ends.
        run = self._wait_glue_run_finished(result.glue_run_id, stage="report")
        result.glue_execution_time_s = run.get("ExecutionTime")
        self._record_report(result)
        result.durations = self._stage_seconds(result, run)
        self.on_step_done("report")
        return result

    # -- steps -----------------------------------------------------------------------------------

    def _wait_features(self, dataset: str, digest: str, uploaded_at: datetime) -> str:
        # Run ids start with the event time: list only from shortly before the upload onwards.
        since = layout.run_id_floor(uploaded_at - timedelta(minutes=5))
        prefixes = layout.dataset_prefixes(dataset)
        deadline = time.monotonic() + self.budgets.features
        while True:
            for item in self._objects(prefixes["features"], prefixes["features"] + since):
                if _of_upload(item["Key"], digest) and \
                        layout.object_name(item["Key"]) in (layout.FEATURES_NAME, layout.DUPLICATE_NAME):
                    return item["Key"]
            for item in self._objects(prefixes["errors"], prefixes["errors"] + since):
                if _of_upload(item["Key"], digest):
                    key = item["Key"]
                    report = self._json(key)
                    raise StageFailed(
                        "features",
                        f"the upload was rejected: {report.get('what', report)}",
                        f"s3://{self.stack.bucket_name}/{key}:\n{json.dumps(report, indent=2)}",
                    )
            self.on_progress("features", f"waiting for {self.stack.feature_lambda_name}")
            if time.monotonic() > deadline:
                raise StageTimeout(
                    "features", f"no features or error report after {self.budgets.features:.0f} s",
                    self._lambda_logs(self.stack.feature_lambda_name),
                )
            time.sleep(self.budgets.poll_interval)

    def _wait_glue_run_started(self, features_key: str) -> Dict[str, Any]:
        deadline = time.monotonic() + self.budgets.trigger
        while True:
            for run in self._glue_runs():
                if run.get("Arguments", {}).get("--features_key") == features_key:
                    return run
            self.on_progress("trigger", f"waiting for {self.stack.trigger_lambda_name} to start a Glue run")
            if time.monotonic() > deadline:
                raise StageTimeout(
                    "trigger", f"no Glue run of {self.stack.glue_job_name} for {features_key} "
                    f"after {self.budgets.trigger:.0f} s",
                    self._lambda_logs(self.stack.trigger_lambda_name),
                )
            time.sleep(self.budgets.poll_interval)

    def _glue_run(self, run_id: str, stage: str) -> Dict[str, Any]:
        """The run's record; raises StageFailed (with its error log) if it ended in failure."""
        run = self.glue.get_job_run(JobName=self.stack.glue_job_name, RunId=run_id)["JobRun"]
        state = run["JobRunState"]
        if state in GLUE_TERMINAL_FAILURES:
            raise StageFailed(
                stage, f"Glue run {run_id} ended {state}: {run.get('ErrorMessage', 'no message')}",
                self._log_tail(GLUE_ERROR_GROUP, stream=run_id),
            )
        return run

    def _wait_glue_run_finished(self, run_id: str, stage: str = "training") -> Dict[str, Any]:
        deadline = time.monotonic() + self.budgets.training
        while True:
            run = self._glue_run(run_id, stage)
            state = run["JobRunState"]
            if state == "SUCCEEDED":
                return run
            self.on_progress(stage, f"Glue run {run_id[:12]}… {state}")
            if time.monotonic() > deadline:
                raise StageTimeout(stage, f"Glue run {run_id} still {state} after {self.budgets.training:.0f} s",
                                   self._log_tail(GLUE_ERROR_GROUP, stream=run_id))
            time.sleep(self.budgets.poll_interval)

    def _wait_model_published(self, result: RunResult) -> None:
        """Until latest.json names this run (or a newer one); fails as soon as the Glue run fails."""
        latest_key = layout.latest_key(result.dataset)
        deadline = time.monotonic() + self.budgets.training
        while True:
            latest = self._json(latest_key, missing_ok=True)
            # latest.json names the newest successful run: ours, or a newer upload's.
            if latest.get("run_id", "") >= result.run_id:
                result.latest = latest
                return
            state = self._glue_run(result.glue_run_id, "training")["JobRunState"]
            if state == "SUCCEEDED":
                # The run ended without publishing: give S3 one more look, then say so.
                latest = self._json(latest_key, missing_ok=True)
                if latest.get("run_id", "") >= result.run_id:
                    result.latest = latest
                    return
                raise StageFailed("training", f"Glue run {result.glue_run_id} SUCCEEDED but {latest_key} "
                                  f"does not point to run {result.run_id}: {latest}",
                                  self._log_tail(GLUE_OUTPUT_GROUP, stream=result.glue_run_id))
            self.on_progress("training", f"Glue run {result.glue_run_id[:12]}… {state}")
            if time.monotonic() > deadline:
                raise StageTimeout("training", f"Glue run {result.glue_run_id} still {state} after "
                                   f"{self.budgets.training:.0f} s",
                                   self._log_tail(GLUE_ERROR_GROUP, stream=result.glue_run_id))
            time.sleep(self.budgets.poll_interval)

    def _verify_model(self, result: RunResult) -> None:
        """Every model artifact of the run exists and is not empty; loads metrics.json."""
        keys = layout.run_keys(result.dataset, result.run_id)
        for key in (keys.model, keys.metrics, keys.feature_list, keys.lineage):
            try:
                size = self.s3.head_object(Bucket=self.stack.bucket_name, Key=key)["ContentLength"]
            except self.s3.exceptions.ClientError as exc:
                raise StageFailed("model", f"artifact {key} is missing ({exc})") from exc
            if size <= 0:
                raise StageFailed("model", f"artifact {key} is empty")
            result.artifacts[key] = size
        result.metrics = self._json(keys.metrics)

    def _record_report(self, result: RunResult) -> None:
        # The report may be missing: a report failure never fails a run (the job logs why). The Glue
        # run has ended by now, so the report is there if it was written.
        key = layout.run_keys(result.dataset, result.run_id).report
        try:
            result.artifacts[key] = self.s3.head_object(Bucket=self.stack.bucket_name, Key=key)["ContentLength"]
        except self.s3.exceptions.ClientError:
            self.on_progress("report", f"no report for run {result.run_id}: see `cripto logs training`")

    # -- AWS helpers -----------------------------------------------------------------------------

    def _stage_seconds(self, result: RunResult, glue_run: Dict[str, Any]) -> Dict[str, float]:
        """The ended run's stage times, read as `cripto status` reads them (cripto_ops.stages)."""
        keys = layout.run_keys(result.dataset, result.run_id)
        written = {item["Key"]: item["LastModified"] for prefix in (keys.features_prefix, keys.models_prefix)
                   for item in self._objects(prefix)}
        manifest = self._json(keys.manifest)
        event_time = routing.upload_event_time(manifest, result.run_id)
        return stages.run_stage_seconds(keys, event_time, written, glue_run, routing.debounce_ended(manifest))

    def _objects(self, prefix: str, start_after: str = "") -> List[Dict[str, Any]]:
        objects: List[Dict[str, Any]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.stack.bucket_name, Prefix=prefix, StartAfter=start_after):
            objects += page.get("Contents", [])
        return objects

    def _json(self, key: str, missing_ok: bool = False) -> Dict[str, Any]:
        try:
            body = self.s3.get_object(Bucket=self.stack.bucket_name, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            if missing_ok:
                return {}
            raise
        return json.loads(body)

    def _glue_runs(self) -> List[Dict[str, Any]]:
        runs: List[Dict[str, Any]] = []
        for page in self.glue.get_paginator("get_job_runs").paginate(JobName=self.stack.glue_job_name):
            runs += page.get("JobRuns", [])
        return runs

    def _lambda_logs(self, function_name: str) -> str:
        return self._log_tail(f"/aws/lambda/{function_name}")

    def _log_tail(self, group: str, stream: Optional[str] = None, lines: int = 40) -> str:
        kwargs: Dict[str, Any] = {"logGroupName": group, "startTime": self._logs_since_ms}
        if stream:
            kwargs["logStreamNames"] = [stream]
        try:
            events: List[Dict[str, Any]] = []
            for page in self.logs.get_paginator("filter_log_events").paginate(**kwargs):
                events = (events + page.get("events", []))[-lines:]
        except Exception as exc:  # evidence gathering must never hide the original failure
            return f"(could not read CloudWatch Logs {group}: {exc})"
        text = "".join(event["message"].rstrip("\n") + "\n" for event in events[-lines:])
        return f"last lines of {group}{'/' + stream if stream else ''}:\n{text or '(empty)'}"


def _of_upload(key: str, digest: str) -> bool:
    """True for a key of the run made from the upload whose object digest is ``digest``."""
    run_id = layout.run_id_in_key(key)
    return run_id is not None and layout.parse_run_id(run_id)[1] == digest
