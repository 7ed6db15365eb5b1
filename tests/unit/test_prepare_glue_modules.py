"""`scripts/prepare_glue_modules.py` reads the training job's modules from terraform/glue.tf (their one
definition) and `localaws.glue.prepare` files them under the key a run would use."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from localaws.glue import prepare as prepare_module
from localaws.glue.module_cache import ModuleCache

REPO = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("prepare_glue_modules", REPO / "scripts" / "prepare_glue_modules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_modules_come_from_the_jobs_terraform():
    modules, options = _script().job_modules()
    specs = modules.split(",")
    assert "matplotlib==3.8.4" in specs and all("==" in s for s in specs)
    assert options == "--no-deps"
    glue_tf = (REPO / "terraform" / "glue.tf").read_text()
    assert all(f'"{s}"' in glue_tf for s in specs)


def test_prepare_installs_under_the_runs_key_once(tmp_path, monkeypatch):
    cache = ModuleCache(tmp_path / "cache")
    python = sys.executable
    calls = []

    def fake_pip(argv, **kwargs):
        calls.append(argv)
        target = Path(argv[argv.index("--target") + 1])
        (target / "pkg").mkdir(parents=True)
        (target / "pkg" / "__init__.py").write_text("")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(prepare_module.subprocess, "run", fake_pip)
    entry, installed = prepare_module.prepare(python, ["pkg==1.0"], ["--no-deps"], cache)
    assert installed and Path(entry) == cache.root / cache.key(["pkg==1.0"], ["--no-deps"], python)
    assert cache.lookup(cache.key(["pkg==1.0"], ["--no-deps"], python)) == Path(entry)
    assert "--no-deps" in calls[0] and calls[0][-1] == "pkg==1.0"
    assert prepare_module.prepare(python, ["pkg==1.0"], ["--no-deps"], cache) == (entry, False)
    assert len(calls) == 1
    with pytest.raises(RuntimeError, match="only pinned"):
        prepare_module.prepare(python, ["pkg>=1"], [], cache)
