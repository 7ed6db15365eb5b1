"""`scripts/prepare_glue_modules.py` prepares the wheels Terraform uploads (build/glue-modules/) with the
installer option of terraform/glue.tf, and `localaws.glue.prepare` files them under the key a run would use."""
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
    sys.path.insert(0, str(REPO / "scripts"))  # where the script finds glue_module_wheels
    spec = importlib.util.spec_from_file_location("prepare_glue_modules", REPO / "scripts" / "prepare_glue_modules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_installer_option_comes_from_the_jobs_terraform():
    assert _script().installer_option() == "--no-deps"
    assert 'glue_report_modules_installer_option = "--no-deps"' in (REPO / "terraform" / "glue.tf").read_text()


def test_the_wheels_prepared_are_the_ones_terraform_uploads(tmp_path, monkeypatch):
    script = _script()
    folder = tmp_path / "glue-modules"

    def download(build):
        folder.mkdir()
        for name in ("b-1.0-py3-none-any.whl", "a-2.0-cp39-cp39-manylinux2014_x86_64.whl"):
            (folder / name).write_bytes(b"x")

    monkeypatch.setattr(script.glue_module_wheels, "download", download)
    assert script.job_wheels(tmp_path) == [str(folder / "a-2.0-cp39-cp39-manylinux2014_x86_64.whl"),
                                           str(folder / "b-1.0-py3-none-any.whl")]  # fileset() order
    monkeypatch.setattr(script.glue_module_wheels, "download", lambda build: "offline")
    with pytest.raises(OSError, match="offline"):
        script.job_wheels(tmp_path)


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


def test_a_prepared_wheel_is_keyed_by_its_name_and_md5_as_its_s3_etag_states(tmp_path):
    """The key of a local wheel needs only its bytes' MD5: a run reading the same wheel's single-part
    ETag from S3 (its MD5) finds what `make glue-modules` prepared without downloading it."""
    import hashlib

    from localaws.glue import module_cache

    wheel = tmp_path / "a-2.0-cp39-cp39-manylinux2014_x86_64.whl"
    wheel.write_bytes(b"wheel bytes")
    md5 = hashlib.md5(b"wheel bytes").hexdigest()
    assert module_cache.spec_identity(str(wheel)) == f"{wheel.name}#md5={md5}"
    assert ModuleCache.key([str(wheel)], ["--no-deps"], sys.executable) == ModuleCache.key_of(
        [f"{wheel.name}#md5={module_cache.etag_md5(chr(34) + md5 + chr(34))}"], ["--no-deps"], sys.executable)


def test_prepare_remembers_the_multipart_etags_of_large_wheels(tmp_path, monkeypatch):
    """Terraform uploads wheels over 5 MiB in 5 MiB parts: their ETag is not their MD5. Prepare computes
    those ETags from the local copy, so a run learns the MD5 from HeadObject without a download."""
    import hashlib

    from localaws.glue import module_cache

    monkeypatch.setattr(prepare_module, "PART_SIZES", (4,))
    wheel = tmp_path / "big-1.0-py3-none-any.whl"
    wheel.write_bytes(b"0123456789")  # 3 parts of 4 bytes
    md5, etags = prepare_module.multipart_etags(str(wheel), (4, 16))
    parts = b"".join(hashlib.md5(chunk).digest() for chunk in (b"0123", b"4567", b"89"))
    assert md5 == hashlib.md5(b"0123456789").hexdigest() and etags == [f"{hashlib.md5(parts).hexdigest()}-3"]
    cache = ModuleCache(tmp_path / "cache")
    prepare_module.remember_multipart_etags([str(wheel), "pkg==1.0"], cache)
    assert cache.recall_md5(wheel.name, f'"{etags[0]}"') == md5
    assert cache.recall_md5(wheel.name, f'"{md5}-2"') is None
    assert module_cache.ETAGS_DIR.startswith("."), "not counted as a cache entry"
