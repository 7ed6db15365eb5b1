"""cripto_pipeline.pipeline: where library_versions reads each version (the loaded module's own
``__version__`` first, the installed distribution's metadata otherwise, None when neither), and which
modules code_fingerprint hashes (only those whose spec names a file and a loader that can read it), each
against literal or independently computed values (issue 16)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest

from cripto_pipeline import pipeline
from support.fingerprint import sources_sha256

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "cripto_pipeline"


def _module(name: str, **attributes) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def test_a_loaded_module_reports_its_own_version_even_without_installed_metadata(monkeypatch):
    # fastparquet is not installed here: only the loaded module can name this version
    monkeypatch.setitem(sys.modules, "fastparquet", _module("fastparquet", __version__="2024.2.0-vendored"))
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("fastparquet")
    assert pipeline.library_versions()["fastparquet"] == "2024.2.0-vendored"


def test_a_loaded_module_version_wins_over_the_installed_metadata(monkeypatch):
    monkeypatch.setitem(sys.modules, "joblib", _module("joblib", __version__="0.0.1-patched"))
    assert metadata.version("joblib") != "0.0.1-patched"
    assert pipeline.library_versions()["joblib"] == "0.0.1-patched"


def test_a_loaded_module_without_a_version_attribute_falls_back_to_the_installed_metadata(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", _module("sklearn"))
    assert pipeline.library_versions()["sklearn"] == metadata.version("scikit-learn")


def test_a_library_not_imported_is_read_from_its_metadata_without_importing_it(monkeypatch):
    monkeypatch.delitem(sys.modules, "scipy", raising=False)
    assert pipeline.library_versions()["scipy"] == metadata.version("scipy")
    assert "scipy" not in sys.modules


def test_a_library_neither_loaded_nor_installed_is_none(monkeypatch):
    monkeypatch.delitem(sys.modules, "fastparquet", raising=False)
    assert pipeline.library_versions()["fastparquet"] is None


def _without(tmp_path: Path, filename: str) -> str:
    """The oracle's fingerprint of the package with one module file left out."""
    copy = tmp_path / "cripto_pipeline"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / filename).unlink()
    return sources_sha256(copy)


class _NoDataLoader:
    """A loader that can import a module but cannot hand out its source bytes (no get_data)."""


_RETRY = "cripto_pipeline.retry"
_RETRY_FILE = str(PACKAGE / "retry.py")


@pytest.mark.parametrize("spec", [
    None,  # find_spec finds nothing
    importlib.machinery.ModuleSpec(_RETRY, importlib.machinery.SourceFileLoader(_RETRY, _RETRY_FILE),
                                   origin=None),  # no file to read (a namespace-like spec)
    importlib.machinery.ModuleSpec(_RETRY, None, origin=_RETRY_FILE),  # no loader
    importlib.machinery.ModuleSpec(_RETRY, _NoDataLoader(), origin=_RETRY_FILE),  # a loader without get_data
], ids=["no-spec", "no-origin", "no-loader", "loader-without-get-data"])
def test_a_module_whose_source_cannot_be_read_is_left_out_of_the_fingerprint(monkeypatch, tmp_path, spec):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: spec if name == _RETRY else real_find_spec(name, *args))
    fingerprint = pipeline.code_fingerprint()
    assert fingerprint == _without(tmp_path, "retry.py")
    assert fingerprint != sources_sha256(PACKAGE)
