"""Mutation testing of the pipeline's logic with mutmut (`make mutation`): do the fast tests catch bugs?

mutmut plants one small bug at a time (a flipped comparison, a changed constant, a removed call) in
the scoped modules and runs the unit tests that cover the mutated function; a mutant the tests do not
notice "survives". Scopes and targets (issue 16):

    core       src/cripto_pipeline/ (with report/)                    >= 85 % killed
    handlers   lambdas/, glue/model_training.py                       >= 85 % killed
    emulator   emulator/src/localaws/glue/: the job model (models.py), the service's state and runs
               (backend.py), a run's process (runner.py, job_env.py, module_cache.py,
               supervision.py, memory.py, s3_fetch.py)                           >= 75 % killed

mutmut names a mutant after the module its file path spells, and its trampolines compare that with the
function's ``__module__`` at run time, so the code is laid out in a staging tree where
both agree: src/cripto_pipeline, src/localaws (from emulator/src), lambdas/, glue/, and tests/unit. One
staging tree per selection (build/mutation/<scopes>[-<modules hash>]/): an interrupted run of one scope
keeps its results beside the others'.

A survivor passes only when ``tests/mutation_equivalent.toml`` lists it as equivalent with a reason.
An entry is keyed by the mutant's name *and* a hash of its diff (the mutated function, before and after):
when the code changes, the entry no longer matches, the mutant counts as surviving again, and the stale
entry is printed, so an equivalence is never accepted for code nobody re-read.

Writes bench/mutation.json and bench/mutation.md (score per scope, which modules were measured,
survivors, duration); a run replaces the entries of the scopes it measured and keeps the others; a piece
(--modules) replaces only its modules' counts in its scope's entry. Each module's counts carry the hash of
the code they were measured on: a module changed since is listed as such and keeps its scope partial until it
is measured again. Exits 1 when a target is missed, a scope is partial or an unexplained survivor remains.

Usage: python scripts/mutation.py [--scope core,handlers,emulator] [--modules GLOBS] [--jobs N] [--report-only | --status]
  --modules       mutate only the scope's files matching these comma-separated globs (paths as in the
                  staging tree, e.g. src/cripto_pipeline/layout.py); pieces add up per module, and the
                  scope is marked partial until every one of its files has been measured.
  --resume        continue the last (or an interrupted) run of the same selection: no new staging tree,
                  what it does not mutate (unit tests, other code) refreshed from the repository (mutmut collects
                  coverage of new tests only: a changed test that should cover more needs a new name);
                  mutants already checked keep their result.
  --retest [GLOBS]  as --resume, and test the survivors again (after adding tests that should kill them);
                  GLOBS (comma-separated, e.g. 'cripto_pipeline.glue_start.*') limits it to those mutants.
  --status        re-check the stored results (bench/mutation.json) against today's code and rewrite
                  bench/mutation.{json,md}, running nothing: modules changed since they were measured are named.
  --report-only   re-read the results of the last (or an interrupted) run of the same selection without
                  running anything; mutants not checked yet are counted apart and the score is marked partial.
Env: MUTATION_SCOPE (same as --scope), MUTATION_MODULES (same as --modules), MUTATION_JOBS (parallel
mutants; default: CPU count).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

from mutation_report import markdown

REPO = Path(__file__).resolve().parents[1]
STAGES = REPO / "build" / "mutation"
EQUIVALENTS = REPO / "tests" / "mutation_equivalent.toml"
RESULTS_JSON = REPO / "bench" / "mutation.json"
RESULTS_MD = REPO / "bench" / "mutation.md"

#: scope -> (files to mutate, as laid out in the staging tree; target share of killed mutants)
SCOPES: Dict[str, tuple] = {
    # the core without the four modules that import pyspark (SPARK_ONLY below)
    "core": (["src/cripto_pipeline/*.py"], 0.85),
    "handlers": (["lambdas/*.py", "glue/model_training.py"], 0.85),
    # the Glue service's job model and run execution (runner.py and the modules it was split into)
    "emulator": ([f"src/localaws/glue/{name}.py" for name in ("models", "backend", "runner", "job_env",
                                                          "module_cache", "supervision", "memory", "s3_fetch")], 0.75),
}

#: Not mutated: the Spark engine's modules import pyspark, which only the Glue Spark environment
#: (.venvs/glue-spark-5.0) has, so no unit test can import them and every mutant would count as a survivor
#: with "no tests". They are tested by the Spark integration tests instead, which mutation does not run:
#: tests/integration/spark/test_feature_parity.py (spark_features against the pandas engine, 28 cases),
#: tests/integration/pipeline/test_spark_features_job.py (spark_job, spark_dataset, spark_sample on real
#: uploads: values, duplicates, conflicting overlaps, the sample's spans) and
#: tests/integration/pipeline/test_large_datasets.py. large_inputs.py, the pure-Python half of the Spark
#: job, has unit tests (tests/unit/test_large_inputs.py) and counts.
SPARK_ONLY = [f"src/cripto_pipeline/{name}.py" for name in ("spark_dataset", "spark_features", "spark_job",
                                                             "spark_sample")]

#: staging tree <- repository (what the unit tests need besides the mutated code)
LAYOUT = {
    "src/cripto_pipeline": "src/cripto_pipeline",
    "src/cripto_ops": "src/cripto_ops",
    "src/localaws": "emulator/src/localaws",
    "lambdas": "lambdas",
    "glue": "glue",                  # both job scripts: the unit tests load the Spark job's too
    "tests/unit": "tests/unit",
    "tests/support": "tests/support",
    "tests/events": "tests/events",
    "data": "data",                  # samples and real exports (tests/unit/test_real_exports.py)
    "terraform": "terraform",        # the stated defaults and job arguments some unit tests read
    "README.md": "README.md",        # tests/unit/test_readme_promises.py quotes it
    "scripts": "scripts",            # the helpers some unit tests load (bench.py, local_state.py, ...)
}

#: mutmut forks each mutant's test run from a process that has already run the tests once; a thread pool
#: that numpy/scikit-learn's OpenMP or BLAS started there is gone in the child but its locks are not, so the
#: child waits forever and the mutant ends as a "timeout" -- counted as killed without any test failing
#: (seen: strategy mutants parked on a futex for minutes). One thread each: no pool to inherit.
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: unit tests of code outside the scopes (Terraform files, deploy scripts): not needed, and slow
DESELECT = ["tests/unit/test_terraform_static.py", "tests/unit/test_hardening_static.py",
            "tests/unit/test_deploy_aws_flow.py", "tests/unit/test_aws_preflight.py",
            "tests/unit/test_prepare_glue_modules.py", "tests/unit/test_bench_results.py",
            "tests/unit/test_glue_module_wheels.py", "tests/unit/test_mutation_bookkeeping.py"]

KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def stage(stage_dir: Path, patterns: List[str]) -> None:
    """Lay out the staging tree afresh and write the mutmut configuration into it."""
    shutil.rmtree(stage_dir, ignore_errors=True)
    for target, source in LAYOUT.items():
        src, dst = REPO / source, stage_dir / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform", "*.tfstate*")
        shutil.copytree(src, dst, ignore=ignore) if src.is_dir() else shutil.copy2(src, dst)
    write_config(stage_dir, patterns)


def write_config(stage_dir: Path, patterns: List[str]) -> None:
    """The staging tree's pyproject.toml: the project's own (its pytest settings, and its version, which
    some tests read) + mutmut's section."""
    selection = ["tests/unit"] + [f"--ignore={path}" for path in DESELECT]
    toml = "\n".join([
        "[tool.mutmut]",
        'source_paths = ["src", "lambdas", "glue"]',
        f"only_mutate = {json.dumps(patterns)}",
        f"do_not_mutate = {json.dumps(SPARK_ONLY)}",
        f"also_copy = {json.dumps(['tests', 'data', 'terraform', 'README.md', 'scripts'])}",
        f"pytest_add_cli_args_test_selection = {json.dumps(selection)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
        "",
    ])
    (stage_dir / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text() + "\n" + toml)


def refresh(stage_dir: Path, patterns: List[str], repo: Path = REPO) -> None:
    """Before --resume / --retest: copy afresh all the selection does not mutate (unit tests, the code they also
    run: the emulator, the modules beside the mutated ones, which mutmut copies into mutants/ on each run), so
    new tests meet the code they were written for. Mutated files stay: their results belong to that code."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform", "*.tfstate*")
    for target, source in LAYOUT.items():
        src, dst = repo / source, stage_dir / target
        if any(pattern.startswith(target + "/") for pattern in patterns):  # a tree holding mutated files
            for relative in (path.relative_to(src) for path in src.rglob("*.py")):
                if not any(fnmatch.fnmatch(f"{target}/{relative.as_posix()}", pattern) for pattern in patterns):
                    (dst / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src / relative, dst / relative)
            continue
        if any(fnmatch.fnmatch(target, pattern) for pattern in patterns):
            continue
        if dst.is_dir():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=ignore) if src.is_dir() else shutil.copy2(src, dst)
    write_config(stage_dir, patterns)


def diff_hash(diff: str) -> str:
    return hashlib.sha256(diff.encode()).hexdigest()[:16]


def collect(stage_dir: Path) -> Dict[str, Dict[str, str]]:
    """mutant name -> {status, diff} from the staging tree (run inside it, with mutmut importable)."""
    code = (
        "import json, sys\n"
        "from mutmut.__main__ import (Config, walk_mutatable_files, SourceFileMutationData,\n"
        "    status_by_exit_code, get_diff_for_mutant)\n"
        "Config.ensure_loaded()\n"
        "out = {}\n"
        "for path in walk_mutatable_files():\n"
        "    data = SourceFileMutationData(path=path); data.load()\n"
        "    for name, exit_code in data.exit_code_by_key.items():\n"
        "        status = status_by_exit_code[exit_code]\n"
        "        diff = '' if status == 'killed' else get_diff_for_mutant(name, path=path)\n"
        "        out[name] = {'status': status, 'path': str(path), 'diff': diff}\n"
        "json.dump(out, sys.stdout)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=stage_dir, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def scope_of(path: str) -> str:
    for name, (patterns, _) in SCOPES.items():
        if any(fnmatch.fnmatch(path, pattern) for pattern in patterns):  # as mutmut's only_mutate: * spans /
            return name
    raise ValueError(f"{path} is in no scope")


def module_of(path: str) -> str:
    """The dotted module mutmut names a staged file's mutants after (src/ is a source root; a package's
    __init__.py is the package itself, as in its mutants' names)."""
    return path.removeprefix("src/").removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def module_of_mutant(name: str) -> str:
    """cripto_pipeline.layout.x_key__mutmut_3 and cripto_pipeline.layout.xǁRunKeysǁrun__mutmut_1 (a method)
    -> cripto_pipeline.layout"""
    return re.match(r"(.+?)\.x[_ǁ]", name).group(1)


def repo_path_of(module: str, staged: bool = False) -> Path:
    """The file a module's mutants come from: in the repository (through LAYOUT's staging tree ->
    repository map), or as laid out in the staging tree (staged=True, relative)."""
    path = module.replace(".", "/")
    path = path if path.startswith(("lambdas/", "glue/")) else "src/" + path
    for target, source in LAYOUT.items():
        if path.startswith(target + "/"):
            in_repo = REPO / source / path.removeprefix(target + "/")
            package = in_repo.is_dir()  # a package's mutants come from its __init__.py
            suffix = "/__init__.py" if package else ".py"
            return Path(path + suffix) if staged else Path(str(in_repo) + suffix)
    raise ValueError(f"{module} is in no staged tree")


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def results_time(stage_dir: Path, path: str) -> str:
    """When mutmut last wrote a file's results (its .meta), so a --report-only keeps the time of the tests."""
    meta = stage_dir / "mutants" / f"{path}.meta"
    stamp = meta.stat().st_mtime if meta.is_file() else time.time()
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")


def changed_since_measured(by_module: Dict[str, Dict]) -> List[str]:
    """Modules whose code differs from the code their counts were measured on (or whose measurement does
    not say which code it was): their counts no longer describe the repository."""
    changed = []
    for module, counts in sorted(by_module.items()):
        path = repo_path_of(module)
        if not path.exists() or counts.get("source_sha256") != source_hash(path):
            changed.append(module)
    return changed


def load_previous() -> Dict:
    try:
        return json.loads(RESULTS_JSON.read_text()).get("scopes", {})
    except (OSError, ValueError):
        return {}


def load_equivalents() -> Dict[str, Dict[str, str]]:
    document = tomllib.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    return {entry["mutant"]: entry for entry in document.get("equivalent", [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scope", default=os.environ.get("MUTATION_SCOPE", ",".join(SCOPES)))
    parser.add_argument("--modules", default=os.environ.get("MUTATION_MODULES", ""))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", os.cpu_count() or 2)))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--retest", nargs="?", const="*", default=None)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--status", action="store_true")
    args = parser.parse_args()
    if args.status:
        return status()
    scopes = [s.strip() for s in args.scope.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        parser.error(f"unknown scope(s) {unknown}; choose from {sorted(SCOPES)}")
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    for module in modules:
        if not any(fnmatch.fnmatch(module, pattern) for scope in scopes for pattern in SCOPES[scope][0]):
            parser.error(f"--modules {module!r} is in none of the scopes {scopes}")
    patterns = modules or [pattern for scope in scopes for pattern in SCOPES[scope][0]]
    selection = "-".join(scopes) + ("-" + diff_hash(",".join(modules))[:8] if modules else "")
    stage_dir = STAGES / selection

    duration = None
    if (args.resume or args.retest or args.report_only) and not (stage_dir / "mutants").is_dir():
        parser.error(f"no results in {stage_dir.relative_to(REPO)}: run this selection without --resume, --retest "
                     "or --report-only first")
    if not args.report_only:
        names: List[str] = []
        if args.resume or args.retest:
            refresh(stage_dir, patterns)
            if args.retest:
                wanted = [g.strip() for g in args.retest.split(",") if g.strip()]
                names = sorted(n for n, info in collect(stage_dir).items() if info["status"] not in KILLED
                               and info["status"] != "not checked" and any(fnmatch.fnmatch(n, g) for g in wanted))
        else:
            stage(stage_dir, patterns)
        started = time.monotonic()
        print(f"mutmut on {', '.join(modules or scopes)} in {stage_dir.relative_to(REPO)} ({args.jobs} jobs"
              + (f", {len(names)} survivors again" if args.retest else "") + ") ...", flush=True)
        if args.retest and not names:
            print("no survivors to test again")
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs), *names],
                             cwd=stage_dir, env={**os.environ, **SINGLE_THREADED},
                             ) if names or not args.retest else subprocess.CompletedProcess([], 0)
        duration = time.monotonic() - started
        if run.returncode != 0:
            print(f"mutmut failed (exit {run.returncode}): see its output above", file=sys.stderr)
            return run.returncode

    mutants = collect(stage_dir)
    equivalents = load_equivalents()
    used = set()
    summary: Dict[str, Dict] = {s: {"total": 0, "killed": 0, "equivalent": 0, "not_checked": 0, "survivors": []}
                                for s in scopes}
    mutated_modules = set()
    measured = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for name, info in sorted(mutants.items()):
        if scope_of(info["path"]) not in summary:
            continue
        mutated_modules.add(module_of(info["path"]))
        scope = summary[scope_of(info["path"])]
        module = scope.setdefault("by_module", {}).setdefault(module_of(info["path"]), {
            "total": 0, "killed": 0, "equivalent": 0, "not_checked": 0, "survivors": 0,
            # the code these counts describe (the staged copy, as mutmut mutated it), and when
            "source_sha256": source_hash(stage_dir / info["path"]),
            "measured": results_time(stage_dir, info["path"])})
        scope["total"] += 1
        module["total"] += 1
        if info["status"] == "not checked":
            scope["not_checked"] += 1
            module["not_checked"] += 1
            continue
        if info["status"] in KILLED:
            scope["killed"] += 1
            module["killed"] += 1
            continue
        entry = equivalents.get(name)
        if entry and entry.get("diff_sha256") == diff_hash(info["diff"]) and info["status"] == "survived":
            scope["equivalent"] += 1
            module["equivalent"] += 1
            used.add(name)
            continue
        module["survivors"] += 1
        scope["survivors"].append({"mutant": name, "status": info["status"], "diff_sha256": diff_hash(info["diff"]),
                                   "diff": info["diff"]})
    # an entry is stale when its module was mutated here and it matched no surviving mutant
    stale = sorted(name for name in set(equivalents) - used if module_of_mutant(name) in mutated_modules)
    results = load_previous()
    for name in scopes:
        data, target = summary[name], SCOPES[name][1]
        previous = results.get(name, {})
        files = scope_files(stage_dir, name)
        measured_files = sorted(f for f in files if any(fnmatch.fnmatch(f, p) for p in patterns))
        before = previous.get("duration_seconds")
        if duration is None or args.retest:  # a report, or a re-test after new tests: the run's time stands
            data["duration_seconds"] = before
        elif modules and previous.get("by_module") and not args.resume:  # one more piece of the scope
            data["duration_seconds"] = round(duration + (before or 0), 1)
        else:  # a run, or its continuation (--resume) adding to the time it already took
            data["duration_seconds"] = round(duration + ((before or 0) if args.resume else 0), 1)
        data["stale_equivalents"] = [e for e in stale
                                     if scope_of(str(repo_path_of(module_of_mutant(e), staged=True))) == name]
        if modules and previous.get("by_module"):  # another piece, or some modules of a whole scope again
            merge_pieces(data, previous, {module_of(f) for f in measured_files})
            before_files = files if previous.get("files_measured") == "all" else previous.get("files_measured", [])
            measured_files = sorted(set(measured_files) | set(before_files))
        counted = data["total"] - data["equivalent"] - data["not_checked"]
        data["score"] = round(data["killed"] / counted, 4) if counted else 1.0
        data["target"] = target
        whole = set(measured_files) >= set(files)
        data["files_measured"] = "all" if whole else measured_files
        data["modules"] = "all" if whole else sorted(module_of(f) for f in measured_files)
        data["measured"], data["jobs"] = measured, args.jobs
        results[name] = data
    document = write_results(results)  # settles every stored scope (partial, met) against today's code
    failed = any(data["score"] < data["target"] or data["survivors"] or data["partial"]
                 for data in (results[name] for name in scopes))
    print(markdown({**document, "scopes": {name: results[name] for name in scopes}}, SPARK_ONLY))
    for name in scopes:
        for survivor in summary[name]["survivors"]:
            print(f"\n--- {survivor['status']}: {survivor['mutant']} (diff_sha256 {survivor['diff_sha256']})")
            print(survivor["diff"].rstrip())
    if failed:
        print("\nmutation testing: targets missed or unexplained survivors (kill them with a test, or list them "
              f"in {EQUIVALENTS.relative_to(REPO)} with the reason)", file=sys.stderr)
    elif any(summary[name]["not_checked"] for name in scopes):
        print("\nmutation testing: the run was interrupted (mutants not checked)", file=sys.stderr)
        failed = True
    return 1 if failed else 0


def settle(data: Dict) -> None:
    """A scope's verdict from its counts: partial while mutants are unchecked, files unmeasured, or counts
    measured on code that has changed since (pieces measured at different times must describe today's code)."""
    data["changed_since_measured"] = changed_since_measured(data.get("by_module", {}))
    data["partial"] = (data["not_checked"] > 0 or data.get("files_measured") != "all"
                       or bool(data["changed_since_measured"]))
    data["met"] = data["score"] >= data["target"] and not data["partial"]
    data["stale_equivalents"] = sorted(set(data.get("stale_equivalents", [])) & set(load_equivalents()))


def mutmut_version() -> str:
    """The mutmut that measured; --status run from an environment without mutmut keeps the one recorded."""
    try:
        return "mutmut " + importlib.metadata.version("mutmut")
    except importlib.metadata.PackageNotFoundError:
        return json.loads(RESULTS_JSON.read_text())["tool"] if RESULTS_JSON.exists() else "mutmut (not installed)"


def write_results(results: Dict) -> Dict:
    """bench/mutation.{json,md}, every stored scope settled against today's code (also the scopes not run)."""
    for data in results.values():
        settle(data)
    document = {"machine": f"{os.cpu_count()} cores, {platform.platform()}", "tool": mutmut_version(),
                "scopes": {name: results[name] for name in SCOPES if name in results}}
    RESULTS_JSON.write_text(json.dumps(document, indent=2) + "\n")
    RESULTS_MD.write_text(markdown(document, SPARK_ONLY))
    return document


def status() -> int:
    """--status: the stored results checked against today's code, without running anything."""
    results = load_previous()
    write_results(results)
    print(RESULTS_MD.read_text())
    return 0 if results and all(data["met"] and not data["survivors"] for data in results.values()) else 1


def scope_files(stage_dir: Path, scope: str) -> List[str]:
    """Every file of a scope (paths as in the staging tree), mutated or not by this selection."""
    patterns = SCOPES[scope][0]
    found = (str(p.relative_to(stage_dir)) for p in stage_dir.glob("**/*.py") if "mutants" not in p.parts)
    return sorted(f for f in found if any(fnmatch.fnmatch(f, p) for p in patterns) and f not in SPARK_ONLY)


def merge_pieces(data: Dict, previous: Dict, modules: set) -> None:
    """A scope measured in pieces (--modules): this run's modules replace theirs in the previous result,
    the other modules' counts, survivors and stale equivalence entries stay; totals are summed again."""
    by_module = {m: c for m, c in previous.get("by_module", {}).items() if m not in modules}
    by_module.update(data.get("by_module", {}))
    data["by_module"] = by_module
    for field in ("total", "killed", "equivalent", "not_checked"):
        data[field] = sum(counts[field] for counts in by_module.values())
    kept = [s for s in previous.get("survivors", []) if module_of_mutant(s["mutant"]) not in modules]
    data["survivors"] = kept + data["survivors"]
    stale = [e for e in previous.get("stale_equivalents", []) if module_of_mutant(e) not in modules]
    data["stale_equivalents"] = sorted(stale + data.get("stale_equivalents", []))


if __name__ == "__main__":
    sys.exit(main())
