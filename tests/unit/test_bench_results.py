"""scripts/bench.py: a run of some benchmark groups keeps the other groups' rows (issue 9)."""
from __future__ import annotations

import json

import pytest

from .conftest import load_module

bench = load_module("scripts/bench.py", "bench_under_test")


def _row(group: str, name: str, value: float, bench_group: str | None = None, measured: str | None = None) -> dict:
    row = {"group": group, "name": name, "value": value, "unit": "s", "target": None, "ok": None, "note": ""}
    if bench_group is not None:
        row["bench"] = bench_group
    if measured is not None:
        row["measured"] = measured
    return row


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "RESULTS_DIR", tmp_path)
    return tmp_path


def test_a_run_of_some_groups_replaces_their_rows_and_keeps_the_others(results_dir):
    # A file as older versions wrote it: no "bench" key, no per-row date, "emulator" rows from "up".
    (results_dir / "results.json").write_text(json.dumps({
        "generated": "2026-11-27T06:06:23+00:00",
        "results": [_row("emulator", "up -> healthy", 1.9), _row("deploy", "deploy-local on an empty emulation", 86.2),
                    _row("features", "1,000,000 rows", 0.58), _row("e2e", "make e2e from a fresh make up", 99.0)],
        "failures": {"spark": "old failure", "e2e": "old e2e failure"},
    }))
    results = bench.Results()
    results.bench = "deploy"
    results.add("deploy", "deploy-local on an empty emulation", 61.0, "s", 40.0)
    results.bench = "e2e"
    results.add("e2e", "make e2e from a fresh make up", 75.0, "s", 60.0)

    bench.write(results, {}, ["deploy", "e2e"])

    document = json.loads((results_dir / "results.json").read_text())
    by_name = {row["name"]: row for row in document["results"]}
    assert by_name["deploy-local on an empty emulation"]["value"] == 61.0
    assert by_name["make e2e from a fresh make up"]["value"] == 75.0
    assert by_name["up -> healthy"]["value"] == 1.9  # not run now: kept
    assert by_name["up -> healthy"]["measured"] == "2026-11-27T06:06:23+00:00"
    assert by_name["1,000,000 rows"]["value"] == 0.58
    assert len(document["results"]) == 4  # replaced, not appended
    # GROUPS order: up, deploy, ..., e2e, features.
    assert [row["group"] for row in document["results"]] == ["emulator", "deploy", "e2e", "features"]
    # A group that ran (and passed) drops its old failure; one that did not run keeps it.
    assert document["failures"] == {"spark": "old failure"}
    table = (results_dir / "results.md").read_text()
    assert "| emulator | up -> healthy | 1.900 s |" in table and "2026-11-27 |" in table
    assert "| deploy | deploy-local on an empty emulation | 61.000 s | ≤ 40 s ✗ |" in table
    assert "86.2" not in table and "old e2e failure" not in table


def test_a_failed_group_replaces_its_old_rows_with_the_failure(results_dir):
    (results_dir / "results.json").write_text(json.dumps({
        "generated": "2026-11-27T06:06:23+00:00",
        "results": [_row("deploy", "deploy-local on an empty emulation", 86.2, "deploy", "2026-11-27T06:00:00+00:00")],
        "failures": {},
    }))

    bench.write(bench.Results(), {"deploy": "CalledProcessError: boom"}, ["deploy"])

    document = json.loads((results_dir / "results.json").read_text())
    assert document["results"] == []
    assert document["failures"] == {"deploy": "CalledProcessError: boom"}


def test_the_first_run_writes_a_file_from_nothing(results_dir):
    results = bench.Results()
    results.bench = "up"
    results.add("emulator", "up -> healthy (environments built)", 2.0, "s", 3.0)

    bench.write(results, {}, ["up"])

    (row,) = json.loads((results_dir / "results.json").read_text())["results"]
    assert row["bench"] == "up" and row["ok"] is True and row["measured"]
