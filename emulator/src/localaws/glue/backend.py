"""The backend holding every Glue job and job run of this service (persisted as one JSON file).

It enforces Glue's rules (names, capacities, MaxConcurrentRuns, the job-run state machine of
:mod:`.models`); it knows nothing about HTTP. Executing a run is the runner's business: the backend
announces new runs and stop requests through two callbacks, and the runner reports back through
``mark_running`` / ``finish_run``.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from .exceptions import (
    AlreadyExistsException,
    ConcurrentRunsExceededException,
    EntityNotFoundException,
    InvalidInputException,
    InvalidStateTransition,
)
from .models import (
    ACTIVE_STATES,
    GLUE_ETL,
    LIVE_STATES,
    PYTHON_SHELL_LOG_GROUP,
    RUN_PARAMETERS_FROM_JOB,
    SPARK_LOG_GROUP,
    TRANSITIONS,
    Job,
    JobRun,
    JobRunState,
    apply_job_defaults,
    check_run_capacity,
    validate_name,
)

log = logging.getLogger(__name__)

STATE_FILE_VERSION = 1
BILLING_MINIMUM_SECONDS = 60  # Glue 2.0+ (and 5.0): per-second billing, 1-minute minimum
RESTART_MESSAGE = (
    "The Glue service restarted while this run was in flight; its process was lost. Start the job again."
)


class GlueBackend:
    """All jobs and runs of this service; thread-safe; every change is written to ``state.json``."""

    def __init__(
        self,
        state_dir: Path,
        on_run_started: Callable[[Job, JobRun], None],
        on_stop_requested: Callable[[JobRun], None],
        on_run_finished: Callable[[JobRun], None] | None = None,
    ) -> None:
        self._path = state_dir / "state.json"
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._runs: dict[str, JobRun] = {}
        self._on_run_started = on_run_started
        self._on_stop_requested = on_stop_requested
        # Told of every run that reached a terminal state (SUCCEEDED, FAILED, TIMEOUT, STOPPED), after
        # the state is saved and outside the lock: the one place state-change events come from.
        self._on_run_finished = on_run_finished or (lambda run: None)
        self._finished: list[JobRun] = []  # completed under the lock, announced after it (_announce)
        state_dir.mkdir(parents=True, exist_ok=True)
        self._load()

    # ----- persistence -------------------------------------------------------------------------
    def _load(self) -> None:
        """Read the state file; runs still in flight at the last stop are failed (their process is lost)."""
        if not self._path.exists():
            return
        data = json.loads(self._path.read_text())
        for item in data.get("jobs", []):
            self._jobs[item["name"]] = Job(**item)
        orphans = []
        for item in data.get("runs", []):
            run = JobRun.from_state(item)
            self._runs[run.id] = run
            if run.state in LIVE_STATES:
                orphans.append(run)
        for run in orphans:
            self._complete(run, JobRunState.FAILED, RESTART_MESSAGE)
        if orphans:
            log.warning("marked %d run(s) that were in flight at the last shutdown as FAILED", len(orphans))
        self._save()
        self._announce()

    def _save(self) -> None:
        data = {
            "version": STATE_FILE_VERSION,
            "jobs": [asdict(job) for job in self._jobs.values()],
            "runs": [run.to_state() for run in self._runs.values()],
        }
        tmp = self._path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self._path)  # atomic: a crash never leaves a half-written state file

    def forget_everything(self) -> None:
        """Drop every job and run (a fresh account); the caller reaps orphaned processes first."""
        with self._lock:
            self._jobs.clear()
            self._runs.clear()
            self._save()

    def orphaned_pids(self) -> list[tuple[str, int]]:
        """(run id, pid) of runs failed at load time that had a process: the caller may reap them."""
        with self._lock:
            return [
                (r.id, r.pid) for r in self._runs.values() if r.pid and r.error_message == RESTART_MESSAGE
            ]

    # ----- jobs --------------------------------------------------------------------------------
    def _job(self, name: str) -> Job:
        job = self._jobs.get(name)
        if job is None:
            raise EntityNotFoundException(f"Job {name} not found.")
        return job

    def create_job(self, params: dict[str, Any]) -> str:
        name = params["Name"]
        validate_name(name)
        definition = apply_job_defaults({k: v for k, v in params.items() if k != "Name"})
        with self._lock:
            if name in self._jobs:
                raise AlreadyExistsException(f"Job with name {name} already exists.")
            now = time.time()
            self._jobs[name] = Job(name, definition, now, now, dict(params.get("Tags") or {}))
            self._save()
        return name

    def get_job(self, name: str) -> Job:
        with self._lock:
            return copy.deepcopy(self._job(name))

    def list_jobs(self, tags: dict[str, str] | None = None) -> list[Job]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.name)
            if tags:
                jobs = [j for j in jobs if all(j.tags.get(k) == v for k, v in tags.items())]
            return copy.deepcopy(jobs)

    def update_job(self, name: str, update: dict[str, Any]) -> str:
        # UpdateJob replaces the whole definition (AWS: "overwrites the previous job definition completely").
        definition = apply_job_defaults(update)
        with self._lock:
            job = self._job(name)
            job.definition = definition
            job.last_modified_on = time.time()
            self._save()
        return name

    def delete_job(self, name: str) -> str:
        """Deletes the job and its run history; deleting a missing job succeeds, as on AWS."""
        with self._lock:
            if self._jobs.pop(name, None) is not None:
                for run_id in [r.id for r in self._runs.values() if r.job_name == name]:
                    run = self._runs.pop(run_id)
                    if run.state in LIVE_STATES:
                        self._on_stop_requested(run)
                self._save()
        return name

    # ----- tags --------------------------------------------------------------------------------
    def _job_for_arn(self, arn: str) -> Job:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "glue" or not parts[5].startswith("job/"):
            raise InvalidInputException(
                f"{arn} is not a Glue job ARN (arn:aws:glue:<region>:<account>:job/<name>)."
            )
        try:
            return self._job(parts[5][len("job/") :])
        except EntityNotFoundException:
            raise EntityNotFoundException(f"Resource {arn} not found.") from None

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        with self._lock:
            self._job_for_arn(arn).tags.update(tags)
            self._save()

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self._lock:
            job = self._job_for_arn(arn)
            for key in keys:
                job.tags.pop(key, None)
            self._save()

    def get_tags(self, arn: str) -> dict[str, str]:
        with self._lock:
            return dict(self._job_for_arn(arn).tags)

    # ----- runs --------------------------------------------------------------------------------
    def _run(self, job_name: str, run_id: str) -> JobRun:
        run = self._runs.get(run_id)
        if run is None or run.job_name != job_name:
            raise EntityNotFoundException(f"Job Run {run_id} for job {job_name} not found.")
        return run

    def start_job_run(self, params: dict[str, Any], region: str) -> JobRun:
        """StartJobRun; with ``JobRunId`` it retries that run (a new run whose PreviousRunId names it)."""
        name = params["JobName"]
        with self._lock:
            job = self._job(name)
            previous: JobRun | None = None
            if params.get("JobRunId"):
                previous = self._run(name, params["JobRunId"])
            if "Arguments" in params or previous is None:
                arguments = dict(params.get("Arguments") or {})
            else:
                arguments = dict(previous.arguments)  # a retry repeats the run it retries
            overridden = sorted(set(arguments) & set(job.non_overridable_arguments))
            if overridden:
                raise InvalidInputException(
                    f"Arguments {', '.join(overridden)} are non-overridable for job {name}; "
                    "remove them from the run."
                )
            check_run_capacity(job, params)
            queuing = params.get("JobRunQueuingEnabled")
            if queuing is None:
                queuing = bool(job.definition.get("JobRunQueuingEnabled", False))
            # AWS: only "jobs that have not been configured to retry based on your maxRetries
            # configuration may enter the WAITING state" (job-run-statuses.html).
            queuing = queuing and job.max_retries == 0
            waiting = self._active_runs(name) >= job.max_concurrent_runs or self._waiting_runs(name)
            if waiting and not queuing:
                raise ConcurrentRunsExceededException(f"Concurrent runs exceeded for {name}")
            run = self._new_run(
                job,
                arguments,
                params,
                region,
                attempt=previous.attempt + 1 if previous else 0,
                previous=previous.id if previous else None,
                queuing=queuing,
                waiting=bool(waiting),
            )
            self._save()
        if run.state is not JobRunState.WAITING:
            self._on_run_started(copy.deepcopy(job), copy.deepcopy(run))
        return copy.deepcopy(run)

    def _active_runs(self, job_name: str) -> int:
        return sum(1 for r in self._runs.values() if r.job_name == job_name and r.state in ACTIVE_STATES)

    def _waiting_runs(self, job_name: str) -> list[JobRun]:
        """The job's WAITING runs, oldest first: the order in which queuing starts them."""
        waiting = [r for r in self._runs.values() if r.job_name == job_name and r.state is JobRunState.WAITING]
        return sorted(waiting, key=lambda r: r.started_on)

    def _promote_waiting(self, job_name: str) -> list[tuple[Job, JobRun]]:
        """WAITING -> STARTING for as many queued runs as the job has free slots (caller holds the lock)."""
        job = self._jobs.get(job_name)
        if job is None:
            return []
        started = []
        for run in self._waiting_runs(job_name):
            if self._active_runs(job_name) >= job.max_concurrent_runs:
                break
            self._transition(run, JobRunState.STARTING)
            started.append((copy.deepcopy(job), copy.deepcopy(run)))
        return started

    def _new_run(
        self,
        job: Job,
        arguments: dict[str, str],
        params: dict[str, Any],
        region: str,
        attempt: int = 0,
        previous: str | None = None,
        queuing: bool = False,
        waiting: bool = False,
    ) -> JobRun:
        now = time.time()
        capacity = params.get("MaxCapacity")
        if capacity is None and params.get("AllocatedCapacity") is not None:
            capacity = float(params["AllocatedCapacity"])  # the deprecated name of the same DPUs
        if capacity is None:
            capacity = job.definition.get("MaxCapacity")
        settings = {
            key: copy.deepcopy(params[key] if params.get(key) is not None else job.definition.get(key))
            for key in RUN_PARAMETERS_FROM_JOB
        }
        run = JobRun(
            id="jr_" + secrets.token_hex(32),
            job_name=job.name,
            arguments=arguments,
            timeout=int(params.get("Timeout") or job.definition["Timeout"]),
            max_capacity=capacity,
            glue_version=job.definition.get("GlueVersion"),
            region=region,
            started_on=now,
            last_modified_on=now,
            state=JobRunState.WAITING if waiting else JobRunState.STARTING,
            attempt=attempt,
            previous_run_id=previous,
            settings={k: v for k, v in settings.items() if v is not None},
            queuing=queuing,
            log_group_name=SPARK_LOG_GROUP if job.command.get("Name") == GLUE_ETL else PYTHON_SHELL_LOG_GROUP,
        )
        self._runs[run.id] = run
        return run

    def get_job_run(self, job_name: str, run_id: str) -> JobRun:
        with self._lock:
            self._job(job_name)
            return copy.deepcopy(self._run(job_name, run_id))

    def get_job_runs(self, job_name: str) -> list[JobRun]:
        """Newest first, as GetJobRuns returns them."""
        with self._lock:
            self._job(job_name)
            runs = [r for r in self._runs.values() if r.job_name == job_name]
            return copy.deepcopy(sorted(runs, key=lambda r: r.started_on, reverse=True))

    def batch_stop_job_run(self, job_name: str, run_ids: list[str]) -> tuple[list[dict], list[dict]]:
        ok: list[dict] = []
        errors: list[dict] = []
        to_stop: list[JobRun] = []
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if run is None or run.job_name != job_name:
                    errors.append(
                        _stop_error(
                            job_name, run_id, "EntityNotFoundException", f"Job Run {run_id} not found."
                        )
                    )
                elif run.state is JobRunState.WAITING:
                    self._complete(run, JobRunState.STOPPED, None)  # never started: nothing to kill
                    ok.append({"JobName": job_name, "JobRunId": run_id})
                elif run.state not in (JobRunState.STARTING, JobRunState.RUNNING):
                    errors.append(
                        _stop_error(
                            job_name,
                            run_id,
                            "InvalidInputException",
                            f"Job Run {run_id} is {run.state.value}; "
                            "only WAITING, STARTING or RUNNING runs can be stopped.",
                        )
                    )
                else:
                    self._transition(run, JobRunState.STOPPING)
                    to_stop.append(copy.deepcopy(run))
                    ok.append({"JobName": job_name, "JobRunId": run_id})
            self._save()
        for run in to_stop:
            self._on_stop_requested(run)
        self._announce()
        return ok, errors

    # ----- reports from the runner --------------------------------------------------------------
    def mark_running(self, run_id: str) -> bool:
        """STARTING -> RUNNING. False if the run is no longer STARTING (stopped or deleted meanwhile)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.state is not JobRunState.STARTING:
                return False
            self._transition(run, JobRunState.RUNNING)
            run.running_since = run.last_modified_on
            self._save()
            return True

    def set_pid(self, run_id: str, pid: int | None) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                run.pid = pid
                self._save()

    def set_dpus(self, run_id: str, dpus: float) -> None:
        """The billed DPUs of a run (its DPUSeconds are computed when it ends)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                run.dpus = dpus
                self._save()

    def finish_run(self, run_id: str, outcome: JobRunState, error_message: str | None = None) -> None:
        """Record how a run ended; a run the user asked to stop ends STOPPED whatever its process did."""
        to_start: list[tuple[Job, JobRun]] = []
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.state not in LIVE_STATES:
                return  # deleted with its job, or already settled
            if run.state is JobRunState.STOPPING:
                outcome, error_message = JobRunState.STOPPED, None
            self._complete(run, outcome, error_message)
            job = self._jobs.get(run.job_name)
            if outcome is JobRunState.FAILED and job is not None and run.attempt < job.max_retries:
                # Glue retries a failed run as a new run with Attempt + 1 and PreviousRunId.
                params = {"Timeout": run.timeout, "MaxCapacity": run.max_capacity, **run.settings}
                nxt = self._new_run(
                    job, run.arguments, params, run.region, run.attempt + 1, run.id, queuing=run.queuing
                )
                to_start.append((copy.deepcopy(job), copy.deepcopy(nxt)))
            to_start += self._promote_waiting(run.job_name)
            self._save()
        self._announce()
        for job_and_run in to_start:
            self._on_run_started(*job_and_run)

    def _complete(self, run: JobRun, outcome: JobRunState, error_message: str | None) -> None:
        """The one place a run reaches a terminal state (caller holds the lock, then calls _announce)."""
        self._transition(run, outcome)
        run.completed_on = run.last_modified_on
        if run.running_since is not None:
            run.execution_time = round(run.completed_on - run.running_since)
        if run.dpus is not None:
            run.dpu_seconds = round(run.dpus * max(BILLING_MINIMUM_SECONDS, run.execution_time), 2)
        run.error_message = error_message
        self._finished.append(copy.deepcopy(run))

    def _announce(self) -> None:
        """Hand the runs completed since the last call to ``on_run_finished`` (outside the lock)."""
        with self._lock:
            finished, self._finished = self._finished, []
        for run in finished:
            try:
                self._on_run_finished(run)
            except Exception:  # a listener must never break the run bookkeeping
                log.exception("on_run_finished failed for run %s", run.id)

    @staticmethod
    def _transition(run: JobRun, target: JobRunState) -> None:
        if target not in TRANSITIONS[run.state]:
            raise InvalidStateTransition(
                f"job run {run.id}: {run.state.value} -> {target.value} is not allowed"
            )
        run.state = target
        run.last_modified_on = time.time()


def _stop_error(job_name: str, run_id: str, code: str, message: str) -> dict[str, Any]:
    return {
        "JobName": job_name,
        "JobRunId": run_id,
        "ErrorDetail": {"ErrorCode": code, "ErrorMessage": message},
    }
