"""bench/mutation.md, the page `make mutation` writes from bench/mutation.json (scripts/mutation.py)."""

from __future__ import annotations

from typing import Dict, List


def markdown(document: Dict, not_mutated: List[str]) -> str:
    """bench/mutation.md: one row per scope, with when, how long and over which modules it was measured;
    not_mutated: the files left out (their tests are named on the page)."""
    lines = [
        "# Mutation testing (`make mutation`)",
        "",
        f"{document['tool']} on {document['machine']}. Score = killed / (mutants − listed equivalents − not "
        "checked). Survivors and their diffs: `bench/mutation.json`. A scope measured on some of its modules "
        "only (`--modules`) is marked partial and names them; pieces measured one after another add up to the "
        "whole scope's score.",
        "",
        "Not mutated (they import pyspark, which only the Glue Spark environment has, so no unit test can run "
        "them): " + ", ".join(f"`{path}`" for path in not_mutated) + ". Their tests are the Spark integration "
        "tests: `tests/integration/spark/test_feature_parity.py`, "
        "`tests/integration/pipeline/test_spark_features_job.py`, `tests/integration/pipeline/test_large_datasets.py`.",
        "",
        "| scope | measured | duration | mutants | not checked | killed | equivalent | survivors | score | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, data in document["scopes"].items():
        seconds = data.get("duration_seconds")
        duration = f"{seconds / 60:.1f} min ({data.get('jobs')} jobs)" if seconds is not None else "not measured"
        lines.append(
            f"| {name} | {data.get('measured', '?')} | {duration} | {data['total']} | {data['not_checked']} | "
            f"{data['killed']} | {data['equivalent']} | {len(data['survivors'])} | {data['score']:.1%}"
            f"{' (partial)' if data['partial'] else ''} | ≥ {data['target']:.0%} {'✓' if data['met'] else '✗'} |")
        if data.get("modules", "all") != "all":
            notes.append(f"- {name}: measured on " + ", ".join(f"`{m}`" for m in data["modules"]) + " only.")
        for module, counts in sorted(data.get("by_module", {}).items()):
            counted = counts["total"] - counts["equivalent"] - counts["not_checked"]
            score = f"{counts['killed'] / counted:.1%}" if counted else "–"
            notes.append(f"  - `{module}`: {score} ({counts['killed']} killed, {counts['equivalent']} equivalent, "
                         f"{counts['survivors']} survivors, {counts['not_checked']} not checked of {counts['total']}; "
                         f"measured {counts.get('measured') or 'at an unrecorded time'})")
        if data.get("changed_since_measured"):
            notes.append(f"- {name}: measured on code that has changed since (measure these modules again): "
                         + ", ".join(f"`{m}`" for m in data["changed_since_measured"]))
        if data.get("stale_equivalents"):
            notes.append(f"- {name}: stale equivalence entries (code changed; re-read and re-key them): "
                         + ", ".join(f"`{s}`" for s in data["stale_equivalents"]))
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"
