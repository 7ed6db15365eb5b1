"""scripts/mutation.py's bookkeeping: mutant names to modules to files, and module counts that stop counting
once their code changes (a scope measured in pieces over several sessions must not mix old and new code)."""
from __future__ import annotations

import hashlib
import os
import sys

from .conftest import REPO, load_module

sys.path.insert(0, str(REPO / "scripts"))  # where scripts/mutation.py finds mutation_report
mutation = load_module("scripts/mutation.py", "mutation_under_test")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def test_a_mutant_name_gives_its_module_for_functions_and_methods():
    assert mutation.module_of_mutant("cripto_pipeline.layout.x_features_key__mutmut_3") == "cripto_pipeline.layout"
    assert mutation.module_of_mutant("cripto_pipeline.layout.xǁ_RunKeyǁ__init____mutmut_1") == "cripto_pipeline.layout"
    assert mutation.module_of_mutant("lambdas.glue_trigger.handler.x_start__mutmut_1") == "lambdas.glue_trigger.handler"
    # a package's own code: mutmut names it after the package, not after __init__
    assert mutation.module_of_mutant("cripto_pipeline.report.x_build_report__mutmut_2") == "cripto_pipeline.report"


def test_a_staged_file_gives_the_module_its_mutants_are_named_after():
    assert mutation.module_of("src/cripto_pipeline/report/page.py") == "cripto_pipeline.report.page"
    assert mutation.module_of("src/cripto_pipeline/report/__init__.py") == "cripto_pipeline.report"
    assert mutation.module_of("lambdas/glue_trigger/handler.py") == "lambdas.glue_trigger.handler"
    assert mutation.module_of("src/localaws/glue/runner.py") == "localaws.glue.runner"


def test_a_module_maps_to_its_file_in_the_repository_and_in_the_staging_tree():
    cases = {
        "cripto_pipeline.report": "src/cripto_pipeline/report/__init__.py",
        "cripto_pipeline.report.page": "src/cripto_pipeline/report/page.py",
        "localaws.glue.runner": "emulator/src/localaws/glue/runner.py",
        "lambdas.glue_trigger.handler": "lambdas/glue_trigger/handler.py",
        "glue.model_training": "glue/model_training.py",
    }
    for module, in_repo in cases.items():
        assert mutation.repo_path_of(module) == REPO / in_repo
        assert mutation.repo_path_of(module).is_file()
    assert str(mutation.repo_path_of("localaws.glue.runner", staged=True)) == "src/localaws/glue/runner.py"
    assert str(mutation.repo_path_of("cripto_pipeline.report", staged=True)) == "src/cripto_pipeline/report/__init__.py"


def test_counts_measured_on_other_code_or_on_unrecorded_code_are_listed_as_changed():
    layout = REPO / "src/cripto_pipeline/layout.py"
    runner = REPO / "emulator/src/localaws/glue/runner.py"
    by_module = {
        "cripto_pipeline.layout": {"source_sha256": _sha(layout)},       # measured on today's code
        "localaws.glue.runner": {"source_sha256": "0" * 16},              # measured before a change
        "cripto_pipeline.retry": {},                                     # measured before hashes were kept
        "cripto_pipeline.gone": {"source_sha256": "0" * 16},             # the module no longer exists
    }
    assert _sha(runner) != "0" * 16
    assert mutation.changed_since_measured(by_module) == [
        "cripto_pipeline.gone", "cripto_pipeline.retry", "localaws.glue.runner"]


def test_a_piece_replaces_its_modules_counts_and_survivors_including_a_packages_own():
    previous = {
        "by_module": {
            "cripto_pipeline.report": {"total": 3, "killed": 1, "equivalent": 0, "not_checked": 0, "survivors": 2},
            "cripto_pipeline.layout": {"total": 4, "killed": 3, "equivalent": 1, "not_checked": 0, "survivors": 0},
        },
        "survivors": [{"mutant": "cripto_pipeline.report.x_build__mutmut_1"},
                      {"mutant": "cripto_pipeline.report.x_build__mutmut_2"}],
    }
    data = {"by_module": {"cripto_pipeline.report": {"total": 3, "killed": 3, "equivalent": 0, "not_checked": 0,
                                                      "survivors": 0}},
            "survivors": []}
    mutation.merge_pieces(data, previous, {"cripto_pipeline.report"})
    assert data["survivors"] == []
    assert (data["total"], data["killed"], data["equivalent"], data["not_checked"]) == (7, 6, 1, 0)
    assert data["by_module"]["cripto_pipeline.layout"]["killed"] == 3


def test_the_page_names_the_modules_to_measure_again_and_when_each_was_measured():
    module = {"total": 2, "killed": 2, "equivalent": 0, "not_checked": 0, "survivors": 0,
              "measured": "2026-12-01T16:00:00+00:00"}
    document = {"tool": "mutmut 3.7.0", "machine": "2 cores", "scopes": {"core": {
        "total": 4, "killed": 4, "equivalent": 0, "not_checked": 0, "survivors": [], "score": 1.0, "target": 0.85,
        "partial": True, "met": False, "measured": "2026-12-01T16:00:00+00:00", "duration_seconds": 120.0,
        "jobs": 2, "by_module": {"cripto_pipeline.layout": module, "cripto_pipeline.retry": {**module,
                                                                                            "measured": None}},
        "changed_since_measured": ["cripto_pipeline.retry"]}}}
    page = mutation.markdown(document, mutation.SPARK_ONLY)
    assert "| core | 2026-12-01T16:00:00+00:00 | 2.0 min (2 jobs) | 4 | 0 | 4 | 0 | 0 | 100.0% (partial) | ≥ 85% ✗ |" in page
    assert ("- core: measured on code that has changed since (measure these modules again): "
            "`cripto_pipeline.retry`") in page
    assert "(2 killed, 0 equivalent, 0 survivors, 0 not checked of 2; measured 2026-12-01T16:00:00+00:00)" in page


def test_a_scope_whose_counts_describe_older_code_is_partial_and_misses_its_target():
    layout = REPO / "src/cripto_pipeline/layout.py"
    today = {"total": 10, "killed": 9, "equivalent": 1, "not_checked": 0, "survivors": 0,
             "source_sha256": _sha(layout)}
    data = {"total": 10, "killed": 9, "equivalent": 1, "not_checked": 0, "score": 1.0, "target": 0.85,
            "files_measured": "all", "by_module": {"cripto_pipeline.layout": today}}
    mutation.settle(data)
    assert (data["partial"], data["met"], data["changed_since_measured"]) == (False, True, [])
    data["by_module"]["cripto_pipeline.layout"] = {**today, "source_sha256": "f" * 16}
    mutation.settle(data)
    assert (data["partial"], data["met"], data["changed_since_measured"]) == (True, False, ["cripto_pipeline.layout"])
    data["by_module"]["cripto_pipeline.layout"] = today
    data["files_measured"] = ["src/cripto_pipeline/layout.py"]   # a piece: other files not measured yet
    mutation.settle(data)
    assert (data["partial"], data["met"]) == (True, False)


def test_a_retest_refreshes_the_modules_beside_the_mutated_one_and_leaves_the_mutated_one(tmp_path, monkeypatch):
    repo, stage = tmp_path / "repo", tmp_path / "stage"
    for root in (repo, stage):
        (root / "src/pkg/sub").mkdir(parents=True)
        (root / "tests").mkdir()
    for name, text in {"src/pkg/mutated.py": "new mutated\n", "src/pkg/beside.py": "new beside\n",
                       "src/pkg/sub/deep.py": "new deep\n", "src/pkg/added.py": "added\n",
                       "tests/test_x.py": "new test\n"}.items():
        (repo / name).write_text(text)
    for name in ("src/pkg/mutated.py", "src/pkg/beside.py", "src/pkg/sub/deep.py", "tests/test_x.py"):
        (stage / name).write_text("old\n")
    monkeypatch.setattr(mutation, "LAYOUT", {"src/pkg": "src/pkg", "tests": "tests"})

    mutation.refresh(stage, ["src/pkg/mutated.py"], repo=repo)

    assert {name: (stage / name).read_text() for name in (
        "src/pkg/mutated.py", "src/pkg/beside.py", "src/pkg/sub/deep.py", "src/pkg/added.py", "tests/test_x.py")} == {
        "src/pkg/mutated.py": "old\n",          # its mutants and results belong to the code they were made from
        "src/pkg/beside.py": "new beside\n",    # the tests run it as it is today
        "src/pkg/sub/deep.py": "new deep\n",
        "src/pkg/added.py": "added\n",
        "tests/test_x.py": "new test\n",
    }
    assert "[tool.mutmut]" in (stage / "pyproject.toml").read_text()


def test_a_module_is_stamped_with_the_time_mutmut_wrote_its_results_not_the_time_of_the_report(tmp_path):
    meta = tmp_path / "mutants/src/pkg/mod.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text("{}")
    os.utime(meta, (1764590400, 1764590400))  # 2025-12-01T12:00:00Z
    assert mutation.results_time(tmp_path, "src/pkg/mod.py") == "2025-12-01T12:00:00+00:00"


def test_a_piece_keeps_the_stale_entries_of_the_modules_it_did_not_measure(tmp_path, monkeypatch):
    previous = {"by_module": {"cripto_pipeline.layout": {"total": 1, "killed": 1, "equivalent": 0, "not_checked": 0,
                                                          "survivors": 0}},
                "stale_equivalents": ["cripto_pipeline.layout.x_a__mutmut_1", "cripto_pipeline.retry.x_b__mutmut_2"]}
    data = {"by_module": {}, "survivors": [], "stale_equivalents": ["cripto_pipeline.retry.x_b__mutmut_3"]}
    mutation.merge_pieces(data, previous, {"cripto_pipeline.retry"})   # retry measured again: its old list goes
    assert data["stale_equivalents"] == ["cripto_pipeline.layout.x_a__mutmut_1", "cripto_pipeline.retry.x_b__mutmut_3"]

    equivalents = tmp_path / "equivalent.toml"   # the layout entry then removed from the file: no longer stale
    equivalents.write_text('[[equivalent]]\nmutant = "cripto_pipeline.retry.x_b__mutmut_3"\ndiff_sha256 = "0"\n'
                           'reason = "r"\n')
    monkeypatch.setattr(mutation, "EQUIVALENTS", equivalents)
    data.update({"total": 1, "killed": 1, "equivalent": 0, "not_checked": 0, "score": 1.0, "target": 0.85,
                 "files_measured": "all"})
    mutation.settle(data)
    assert data["stale_equivalents"] == ["cripto_pipeline.retry.x_b__mutmut_3"]
