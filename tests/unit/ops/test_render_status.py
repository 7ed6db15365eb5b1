"""The status table says when a successful run has no report (a report failure never fails a run)."""
from cripto_ops.render import status_table
from cripto_ops.runs import RunStatus


def _where(run: RunStatus) -> str:
    table = status_table([run], {run.run_id: 0.0005})
    column = next(column for column in table.columns if column.header == "artifacts / error")
    return list(column.cells)[0]


def test_a_successful_run_without_report_points_to_the_training_logs():
    run = RunStatus(dataset="d", run_id="20261127T040000Z-0a895ad0", state="SUCCEEDED",
                    artifacts_prefix="models/d/20261127T040000Z-0a895ad0/")
    assert "no report" in _where(run) and "cripto logs training" in _where(run)


def test_a_run_with_its_report_shows_only_the_artifacts():
    prefix = "models/d/20261127T040000Z-0a895ad0/"
    run = RunStatus(dataset="d", run_id="20261127T040000Z-0a895ad0", state="SUCCEEDED", artifacts_prefix=prefix,
                    report_key=prefix + "report.html")
    assert _where(run) == prefix


def test_a_rejected_run_shows_its_error_not_a_missing_report():
    run = RunStatus(dataset="d", run_id="20261127T040000Z-0a895ad0", state="REJECTED", error="EmptyInputError: empty")
    assert _where(run) == "EmptyInputError: empty"
