"""Mutation testing of the pipeline's logic with mutmut (`make mutation`): do the fast tests catch bugs?

mutmut plants one small bug at a time (a flipped comparison, a changed constant, a removed call) in
the scoped modules and runs the unit tests that cover the mutated function; a mutant the tests do not
notice "survives". Scopes and targets (issue 16):

    core       src/cripto_pipeline/                                   >= 85 % killed
    handlers   lambdas/, glue/model_training.py                       >= 85 % killed
    emulator   emulator/src/localaws/glue/{models,runner}.py          >= 75 % killed

mutmut names a mutant after the module its file path spells, and its trampolines compare that with the
function's ``__module__`` at run time, so the code is laid out in a staging tree (build/mutation/) where
both agree: src/cripto_pipeline, src/localaws (from emulator/src), lambdas/, glue/, and tests/unit.

A survivor passes only when ``tests/mutation_equivalent.toml`` lists it as equivalent with a reason.
An entry is keyed by the mutant's name *and* a hash of its diff (the mutated function, before and after):
when the code changes, the entry no longer matches, the mutant counts as surviving again, and the stale
entry is printed, so an equivalence is never accepted for code nobody re-read.

Writes bench/mutation.json and bench/mutation.md (score per scope, survivors, duration); exits 1 when a
target is missed or an unexplained survivor remains.

Usage: python scripts/mutation.py [--scope core,handlers,emulator] [--jobs N] [--report-only]
  --report-only   re-read the results of the last (or an interrupted) run in build/mutation/ without
                  running anything; mutants not checked yet are counted apart and the score is marked partial.
Env: MUTATION_SCOPE (same as --scope), MUTATION_JOBS (parallel mutants; default: CPU count).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "build" / "mutation"
EQUIVALENTS = REPO / "tests" / "mutation_equivalent.toml"
RESULTS_JSON = REPO / "bench" / "mutation.json"
RESULTS_MD = REPO / "bench" / "mutation.md"

#: scope -> (files to mutate, as laid out in the staging tree; target share of killed mutants)
SCOPES: Dict[str, tuple] = {
    "core": (["src/cripto_pipeline/*.py"], 0.85),
    "handlers": (["lambdas/*.py", "glue/model_training.py"], 0.85),
    # the Glue service's job model and run execution (runner.py and the modules it was split into)
    "emulator": ([f"src/localaws/glue/{name}.py" for name in ("models", "backend", "runner", "job_env",
                                                          "module_cache", "supervision", "s3_fetch")], 0.75),
}

#: staging tree <- repository (what the unit tests need besides the mutated code)
LAYOUT = {
    "src/cripto_pipeline": "src/cripto_pipeline",
    "src/cripto_ops": "src/cripto_ops",
    "src/localaws": "emulator/src/localaws",
    "lambdas": "lambdas",
    "glue/model_training.py": "glue/model_training.py",
    "tests/unit": "tests/unit",
    "tests/support": "tests/support",
    "tests/events": "tests/events",
    "data": "data",                  # samples and real exports (tests/unit/test_real_exports.py)
    "terraform": "terraform",        # the stated defaults and job arguments some unit tests read
    "README.md": "README.md",        # tests/unit/test_readme_promises.py quotes it
}

#: unit tests of code outside the scopes (Terraform files, deploy scripts): not needed, and slow
DESELECT = ["tests/unit/test_terraform_static.py", "tests/unit/test_hardening_static.py",
            "tests/unit/test_deploy_aws_flow.py", "tests/unit/test_aws_preflight.py",
            "tests/unit/test_prepare_glue_modules.py"]

KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def stage(patterns: List[str]) -> None:
    """Lay out the staging tree afresh and write the mutmut configuration into it."""
    shutil.rmtree(STAGE, ignore_errors=True)
    for target, source in LAYOUT.items():
        src, dst = REPO / source, STAGE / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform", "*.tfstate*")
        shutil.copytree(src, dst, ignore=ignore) if src.is_dir() else shutil.copy2(src, dst)
    selection = ["tests/unit"] + [f"--ignore={path}" for path in DESELECT]
    toml = "\n".join([
        "[tool.mutmut]",
        'source_paths = ["src", "lambdas", "glue"]',
        f"only_mutate = {json.dumps(patterns)}",
        f"also_copy = {json.dumps(['tests', 'data', 'terraform', 'README.md'])}",
        f"pytest_add_cli_args_test_selection = {json.dumps(selection)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
        "",
        "[tool.pytest.ini_options]",
        'pythonpath = ["tests"]',
        "",
    ])
    (STAGE / "pyproject.toml").write_text(toml)


def diff_hash(diff: str) -> str:
    return hashlib.sha256(diff.encode()).hexdigest()[:16]


def collect() -> Dict[str, Dict[str, str]]:
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
    result = subprocess.run([sys.executable, "-c", code], cwd=STAGE, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def scope_of(path: str) -> str:
    for name, (patterns, _) in SCOPES.items():
        if any(fnmatch.fnmatch(path, pattern) for pattern in patterns):  # as mutmut's only_mutate: * spans /
            return name
    raise ValueError(f"{path} is in no scope")


def load_equivalents() -> Dict[str, Dict[str, str]]:
    if not EQUIVALENTS.exists():
        return {}
    document = tomllib.loads(EQUIVALENTS.read_text())
    return {entry["mutant"]: entry for entry in document.get("equivalent", [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scope", default=os.environ.get("MUTATION_SCOPE", ",".join(SCOPES)))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", os.cpu_count() or 2)))
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    scopes = [s.strip() for s in args.scope.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        parser.error(f"unknown scope(s) {unknown}; choose from {sorted(SCOPES)}")

    duration = None
    if not args.report_only:
        stage([pattern for scope in scopes for pattern in SCOPES[scope][0]])
        started = time.monotonic()
        print(f"mutmut on {', '.join(scopes)} in {STAGE.relative_to(REPO)} ({args.jobs} jobs) ...", flush=True)
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs)], cwd=STAGE)
        duration = time.monotonic() - started
        if run.returncode != 0:
            print(f"mutmut failed (exit {run.returncode}): see its output above", file=sys.stderr)
            return run.returncode
    elif not (STAGE / "mutants").is_dir():
        parser.error(f"no results in {STAGE.relative_to(REPO)}: run without --report-only first")

    mutants = collect()
    equivalents = load_equivalents()
    used = set()
    summary: Dict[str, Dict] = {s: {"total": 0, "killed": 0, "equivalent": 0, "not_checked": 0, "survivors": []}
                                for s in scopes}
    for name, info in sorted(mutants.items()):
        if scope_of(info["path"]) not in summary:
            continue
        scope = summary[scope_of(info["path"])]
        scope["total"] += 1
        if info["status"] == "not checked":
            scope["not_checked"] += 1
            continue
        if info["status"] in KILLED:
            scope["killed"] += 1
            continue
        entry = equivalents.get(name)
        if entry and entry.get("diff_sha256") == diff_hash(info["diff"]) and info["status"] == "survived":
            scope["equivalent"] += 1
            used.add(name)
            continue
        scope["survivors"].append({"mutant": name, "status": info["status"], "diff_sha256": diff_hash(info["diff"]),
                                   "diff": info["diff"]})
    stale = sorted(set(equivalents) - used)
    failed = False
    rows = []
    for name in scopes:
        data, target = summary[name], SCOPES[name][1]
        counted = data["total"] - data["equivalent"] - data["not_checked"]
        data["score"] = round(data["killed"] / counted, 4) if counted else 1.0
        data["target"] = target
        data["partial"] = data["not_checked"] > 0
        data["met"] = data["score"] >= target and not data["partial"]
        failed |= not data["met"] or bool(data["survivors"])
        rows.append(f"| {name} | {data['total']} | {data['not_checked']} | {data['killed']} | {data['equivalent']} | "
                    f"{len(data['survivors'])} | {data['score']:.1%}{' (partial)' if data['partial'] else ''} | "
                    f"≥ {target:.0%} {'✓' if data['met'] else '✗'} |")
    document = {
        "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "tool": "mutmut " + subprocess.run([sys.executable, "-m", "pip", "show", "mutmut"], capture_output=True,
                                            text=True).stdout.split("Version: ")[1].split()[0],
        "jobs": args.jobs,
        "duration_seconds": round(duration, 1) if duration is not None else None,
        "scopes": {name: {k: v for k, v in summary[name].items()} for name in scopes},
        "stale_equivalents": stale,
    }
    RESULTS_JSON.write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "# Mutation testing (`make mutation`)",
        "",
        f"Measured {document['measured']} on {document['machine']}; {document['tool']}, {args.jobs} jobs, "
        + (f"{duration / 60:.1f} min" if duration is not None else "duration not measured (--report-only)")
        + f" for scopes {', '.join(scopes)}.",
        "",
        "| scope | mutants | not checked | killed | equivalent | survivors | score | target |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Score = killed / (mutants − listed equivalents − not checked). Survivors and their diffs: "
        "`bench/mutation.json`.",
    ]
    if stale:
        lines += ["", "Stale equivalence entries (code changed; re-read and re-key them): "
                  + ", ".join(f"`{s}`" for s in stale)]
    RESULTS_MD.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[4:]))
    for name in scopes:
        for survivor in summary[name]["survivors"]:
            print(f"\n--- {survivor['status']}: {survivor['mutant']} (diff_sha256 {survivor['diff_sha256']})")
            print(survivor["diff"].rstrip())
    if failed:
        print("\nmutation testing: targets missed or unexplained survivors (kill them with a test, or list them "
              f"in {EQUIVALENTS.relative_to(REPO)} with the reason)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
