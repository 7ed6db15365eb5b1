"""Stage and total times of one run, defined once, from the timestamps the run leaves behind.

Checkpoints, in pipeline order (every one but ``uploaded`` may be unknown):

==================  ================================================================  ==============
checkpoint          timestamp                                                         ends the stage
==================  ================================================================  ==============
``uploaded``        S3 event time of the raw upload (``manifest.json`` ``raw.event_time``)
``debounced``       end of the debounce wait of a several-file dataset                ``debounce``
                    (``manifest.json`` ``debounce.ended_at``; absent for one file)
``features``        ``features.parquet`` LastModified                                 ``features``
``glue_started``    the Glue run's ``StartedOn`` (the trigger's StartJobRun)          ``trigger``
``glue_running``    ``CompletedOn - ExecutionTime``: the run left Glue's queue         ``waiting``
``model``           the last of ``model.joblib``/``metrics.json``/``features.json``/  ``training``
                    ``lineage.json`` LastModified
``report``          ``report.html`` LastModified                                      ``report``
==================  ================================================================  ==============

``debounce`` is the feature Lambda waiting for a burst of uploads to end (cripto_pipeline.routing), not
feature work, so ``features`` (the build, by the Lambda or the Spark job) starts where it ends; a
one-file run has no ``debounce`` stage. A stage lasts from the previous known checkpoint to its own, so
the stages up to the model add up to
``total`` (upload -> model) exactly; ``report`` follows the model and is shown apart. A checkpoint
earlier than the one before it (S3 and Glue keep separate clocks; some endpoints give LastModified in
whole seconds) counts as that earlier checkpoint: no stage is negative and the sum still holds.
Times are kept in whole centiseconds so the rounded stages add up to the rounded total too.

:func:`run_stage_seconds` reads the checkpoints from what a run leaves behind; ``cripto status``
(cripto_ops.runs) and ``cripto run`` / ``make e2e`` (cripto_ops.follow) both use it, so they print the
same times for the same run.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Mapping, Optional

from cripto_pipeline import layout

#: (checkpoint, the stage it ends), in pipeline order; "model" ends the total.
STAGES = (("debounced", "debounce"), ("features", "features"), ("glue_started", "trigger"),
          ("glue_running", "waiting"), ("model", "training"))
REPORT_STAGE = "report"
TOTAL = "total"


def glue_running_since(completed_on: Optional[datetime], execution_seconds: Optional[float]) -> Optional[datetime]:
    """When a finished Glue run began executing (Glue reports only its end and its execution time)."""
    if completed_on is None or execution_seconds is None:
        return None
    return completed_on - timedelta(seconds=execution_seconds)


def stage_seconds(uploaded: Optional[datetime], **checkpoints: Optional[datetime]) -> Dict[str, float]:
    """Seconds per stage (``debounce``, ``features``, ``trigger``, ``waiting``, ``training``), ``total`` and
    ``report``.

    ``checkpoints``: the keyword names of the table above (``debounced=``, ``features=``, ``glue_started=``,
    ``glue_running=``, ``model=``, ``report=``). Only stages whose end is known are returned;
    ``total`` only once the model is written. Nothing is known without ``uploaded``.
    """
    unknown = set(checkpoints) - {name for name, _ in STAGES} - {REPORT_STAGE}
    if unknown:
        raise TypeError(f"unknown checkpoints {sorted(unknown)}")
    if uploaded is None:
        return {}
    durations: Dict[str, float] = {}
    previous = 0  # centiseconds since the upload
    for checkpoint, stage in STAGES:
        at = checkpoints.get(checkpoint)
        if at is None:
            continue
        offset = max(previous, _centiseconds(at - uploaded))
        durations[stage] = (offset - previous) / 100
        previous = offset
    if checkpoints.get("model") is not None:
        durations[TOTAL] = previous / 100
        report = checkpoints.get(REPORT_STAGE)
        if report is not None:
            durations[REPORT_STAGE] = max(0, _centiseconds(report - uploaded) - previous) / 100
    return durations


def run_stage_seconds(keys: layout.RunKeys, event_time: Optional[str], written: Mapping[str, datetime],
                      glue_run: Optional[Mapping[str, Any]], debounced_at: Optional[str] = None) -> Dict[str, float]:
    """:func:`stage_seconds` of the run ``keys`` from what it left behind: ``event_time`` of the upload
    (manifest.json ``raw.event_time``), ``written``: LastModified of the run's objects by key (as S3
    ListObjectsV2 gives it), ``glue_run``: its Glue JobRun (GetJobRun / GetJobRuns), None before it starts,
    ``debounced_at``: the end of a several-file run's debounce wait (routing.debounce_ended of its manifest)."""
    checkpoints: Dict[str, Optional[datetime]] = {
        "debounced": layout.parse_event_time(debounced_at) if debounced_at else None,
        "features": written.get(keys.features), REPORT_STAGE: written.get(keys.report)}
    if glue_run:
        checkpoints["glue_started"] = glue_run.get("StartedOn")
        checkpoints["glue_running"] = glue_running_since(glue_run.get("CompletedOn"), glue_run.get("ExecutionTime"))
    if keys.metrics in written:
        checkpoints["model"] = max(written[key] for key in (keys.model, keys.metrics, keys.feature_list, keys.lineage)
                                   if key in written)
    return stage_seconds(layout.parse_event_time(event_time) if event_time else None, **checkpoints)


def _centiseconds(delta: timedelta) -> int:
    return round(delta.total_seconds() * 100)
