"""Stage and total times of a run: one definition, and the stages add up to the total."""
from datetime import datetime, timedelta, timezone

import pytest
from rich.console import Console

from cripto_ops.render import stage_table
from cripto_ops.stages import glue_running_since, run_stage_seconds, stage_seconds
from cripto_pipeline import layout

T0 = datetime(2026, 11, 27, 5, 22, 2, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_run_whose_training_outlasted_its_total():
    """Before: training = Glue CompletedOn - StartedOn (48 s, the report included) > total = metrics.json
    written - upload (30 s). Now training ends at the model, and the queue wait is its own stage."""
    # Glue: started at +2 s, completed at +50 s after 45 s of execution, so it ran from +5 s.
    running = glue_running_since(at(50), 45)
    assert running == at(5)
    times = stage_seconds(T0, features=at(1.5), glue_started=at(2), glue_running=running, model=at(30),
                          report=at(48))
    assert times == {"features": 1.5, "trigger": 0.5, "waiting": 3.0, "training": 25.0, "total": 30.0,
                     "report": 18.0}
    assert times["training"] <= times["total"]


def test_a_running_run_has_stages_but_no_total():
    assert stage_seconds(T0, features=at(0.24), glue_started=at(0.26)) == {"features": 0.24, "trigger": 0.02}


def test_a_missing_checkpoint_folds_its_stage_into_the_next():
    """Glue's run history is gone (90 days on AWS): training spans features written -> model."""
    assert stage_seconds(T0, features=at(1), model=at(21)) == {"features": 1.0, "training": 20.0, "total": 21.0}


def test_clock_skew_never_makes_a_stage_negative_and_the_sum_still_holds():
    # S3's LastModified in whole seconds: the features look written 0.4 s after Glue started.
    times = stage_seconds(T0, features=at(2.0), glue_started=at(1.6), glue_running=at(1.6), model=at(9.0))
    assert times == {"features": 2.0, "trigger": 0.0, "waiting": 0.0, "training": 7.0, "total": 9.0}


@pytest.mark.parametrize("offsets", [(0.333, 0.667, 1.001, 2.005), (0.004, 0.004, 0.006, 0.016)])
def test_rounded_stages_add_up_to_the_rounded_total(offsets):
    features, started, running, model = (at(s) for s in offsets)
    times = stage_seconds(T0, features=features, glue_started=started, glue_running=running, model=model)
    stages = [times[name] for name in ("features", "trigger", "waiting", "training")]
    assert round(sum(stages), 2) == times["total"] == round(offsets[-1], 2)


def test_nothing_is_known_without_the_upload_time_and_unknown_checkpoints_are_refused():
    assert stage_seconds(None, features=at(1), model=at(2)) == {}
    with pytest.raises(TypeError, match="modle"):
        stage_seconds(T0, modle=at(2))


def test_a_runs_stage_times_from_what_it_left_behind():
    """`cripto status` and `cripto run` both read a run this way (cripto_ops.stages.run_stage_seconds)."""
    keys = layout.run_keys("btc", "20261127T052202Z-9f86d081")
    written = {keys.manifest: at(1.2), keys.features: at(1.5), keys.model: at(29), keys.metrics: at(29.5),
               keys.feature_list: at(30), keys.lineage: at(29.8), keys.report: at(48)}
    glue_run = {"StartedOn": at(2), "CompletedOn": at(50), "ExecutionTime": 45}
    times = run_stage_seconds(keys, "2026-11-27T05:22:02.000Z", written, glue_run)
    assert times == {"features": 1.5, "trigger": 0.5, "waiting": 3.0, "training": 25.0, "total": 30.0,
                     "report": 18.0}
    assert run_stage_seconds(keys, "2026-11-27T05:22:02Z", {keys.features: at(0.25)}, None) == {"features": 0.25}
    assert run_stage_seconds(keys, None, written, glue_run) == {}  # no manifest yet: nothing is known


def test_the_stage_table_prints_the_stages_the_total_then_the_report():
    console = Console(width=80, record=True)
    console.print(stage_table({"features": 1.5, "trigger": 0.5, "waiting": 3.0, "training": 25.0, "total": 30.0,
                               "report": 18.0}))
    rows = [line.strip("│ ").split("│") for line in console.export_text().splitlines() if "│" in line]  # body
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["features", "1.50"], ["trigger", "0.50"], ["waiting", "3.00"],
        ["training", "25.00"], ["upload -> model", "30.00"], ["report (after the model)", "18.00"]]


def test_the_debounce_wait_is_its_own_stage_and_the_stages_still_add_up():
    """A several-file dataset: the feature Lambda waited for the burst to end (debounce), then built."""
    times = stage_seconds(T0, debounced=at(20.25), features=at(23.5), glue_started=at(24), glue_running=at(24.5),
                          model=at(60))
    assert times == {"debounce": 20.25, "features": 3.25, "trigger": 0.5, "waiting": 0.5, "training": 35.5,
                     "total": 60.0}
    assert sum(v for k, v in times.items() if k != "total") == times["total"]
    # One file: no wait, no debounce stage; features spans upload -> written as before.
    assert stage_seconds(T0, features=at(1.5)) == {"features": 1.5}


def test_run_stage_seconds_reads_the_debounce_end_from_the_manifest_time():
    keys = layout.run_keys("d", "20261127T052202Z-c2f2871e")
    written = {keys.features: at(23.5)}
    assert run_stage_seconds(keys, T0.isoformat(), written, None, (T0 + timedelta(seconds=20.25)).isoformat()) == \
        {"debounce": 20.25, "features": 3.25}
    assert run_stage_seconds(keys, T0.isoformat(), written, None) == {"features": 23.5}
