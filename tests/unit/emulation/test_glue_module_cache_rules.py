"""localaws.glue.module_cache: the cache entries' files, names and markers, ETag bookkeeping, and what
install_modules hands to pip, asserted literally (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest
from localaws.glue import module_cache
from localaws.glue.exceptions import ModuleInstallFailed
from localaws.glue.module_cache import ModuleCache
from localaws.glue.supervision import RunControl

MD5 = hashlib.md5(b"wheel").hexdigest()


class Shipper:
    def __init__(self) -> None:
        self.lines = []

    def write(self, line: str) -> None:
        self.lines.append(line)


class S3:
    """Wheels by (bucket, key); keys in ``multipart`` get a multipart ETag; records downloads."""

    def __init__(self, objects: dict, multipart=()) -> None:
        self.objects, self.multipart, self.downloads = objects, multipart, []

    def etag(self, bucket, key):
        md5 = hashlib.md5(self.objects[(bucket, key)]).hexdigest()
        return f'"{md5}-2"' if (bucket, key) in self.multipart else f'"{md5}"'

    def download(self, bucket, key, target: Path) -> None:
        self.downloads.append((bucket, key, target))
        target.write_bytes(self.objects[(bucket, key)])


@pytest.fixture
def pip(monkeypatch):
    """_pip_install replaced: records every argument and what the wheel files held when pip ran."""
    calls = []

    def fake(python, specs, options, target, control, deadline, output, error):
        calls.append({"python": python, "specs": list(specs), "options": options, "target": target,
                      "control": control, "deadline": deadline, "output": output, "error": error,
                      "files": {s: Path(s).read_bytes() for s in specs if s.endswith(".whl")}})
        if target.name.endswith("fail.partial") or any("broken" in s for s in specs):
            target.mkdir(parents=True, exist_ok=True)
            raise ModuleInstallFailed("pip failed")
        (target / "probe").mkdir(parents=True)
        (target / "probe" / "__init__.py").write_text("")

    monkeypatch.setattr(module_cache, "_pip_install", fake)
    return calls


def _install(tmp_path, cache, arguments, s3=None, run_id="jr_1", output=None, error=None):
    control = RunControl(tmp_path / run_id)
    control.run_dir.mkdir(parents=True, exist_ok=True)
    return module_cache.install_modules(cache, sys.executable, arguments, run_id, control, 123.0,
                                        output or Shipper(), error or Shipper(), s3 or S3({})), control


def test_no_modules_means_no_install(tmp_path, pip):
    cache = ModuleCache(tmp_path / "cache")
    assert _install(tmp_path, cache, {})[0] is None
    assert _install(tmp_path, cache, {"--additional-python-modules": " , "})[0] is None
    assert pip == []


def test_a_pinned_spec_is_installed_once_into_the_cache_with_the_runs_own_settings(tmp_path, pip, caplog):
    cache = ModuleCache(tmp_path / "cache")
    output, error = Shipper(), Shipper()
    entry, control = _install(tmp_path, cache, {"--additional-python-modules": "probe==1.0"}, output=output,
                              error=error)
    key = entry.name
    assert entry == tmp_path / "cache" / key and len(key) == 24 and int(key, 16) >= 0
    call = pip[0]
    assert (call["python"], call["specs"], call["options"]) == (sys.executable, ["probe==1.0"], [])
    assert call["target"] == tmp_path / "cache" / f".{key}.jr_1.partial"
    assert (call["control"], call["deadline"], call["output"], call["error"]) == (control, 123.0, output, error)
    assert output.lines == [f"[localaws-glue] --additional-python-modules: installed into module cache entry {key}"]
    assert json.loads((entry / ".localaws-module-cache.json").read_text()) == {"specs": ["probe==1.0"], "options": []}
    with caplog.at_level(logging.INFO, logger="localaws.glue.module_cache"):
        again, _ = _install(tmp_path, cache, {"--additional-python-modules": "probe==1.0"}, run_id="jr_2",
                            output=output)
    assert again == entry and len(pip) == 1
    assert output.lines[-1] == f"[localaws-glue] --additional-python-modules: reusing module cache entry {key}"
    assert [r.getMessage() for r in caplog.records] == [
        f"run jr_2 reuses --additional-python-modules from {entry}"]


def test_the_entry_is_read_only_but_not_what_its_links_point_to(tmp_path, pip):
    cache = ModuleCache(tmp_path / "cache")
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    outside.chmod(0o664)
    staged = cache.staging("k" * 24, "jr_9")
    (staged / "pkg").mkdir(parents=True)
    (staged / "pkg" / "a.py").write_text("")
    (staged / "pkg" / "a.py").chmod(0o664)
    (staged / "pkg" / "link").symlink_to(outside)
    leftover = tmp_path / "cache" / ("k" * 24)  # an unfinished entry from a crash (no marker)
    (leftover / "old").mkdir(parents=True)
    entry = cache.publish("k" * 24, staged, ["a==1"], ["--no-deps"])
    assert entry == leftover and not (entry / "old").exists() and not staged.exists()
    assert stat.S_IMODE((entry / "pkg" / "a.py").stat().st_mode) == 0o444
    assert stat.S_IMODE(outside.stat().st_mode) == 0o664
    assert json.loads((entry / ".localaws-module-cache.json").read_text()) == {"specs": ["a==1"],
                                                                               "options": ["--no-deps"]}
    for path in entry.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)


def test_a_failed_install_leaves_no_staging_dir_and_no_entry(tmp_path, pip):
    cache = ModuleCache(tmp_path / "cache")
    with pytest.raises(ModuleInstallFailed):
        _install(tmp_path, cache, {"--additional-python-modules": "broken==1.0"})
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []
    assert not list((tmp_path / "jr_1").glob("python-module-wheels-*"))


def test_s3_wheels_download_into_the_runs_folder_one_folder_each(tmp_path, pip):
    cache = ModuleCache(tmp_path / "cache")
    s3 = S3({("a", "w/x-1.0-py3-none-any.whl"): b"one", ("b", "x-1.0-py3-none-any.whl"): b"two"},
            multipart=[("a", "w/x-1.0-py3-none-any.whl"), ("b", "x-1.0-py3-none-any.whl")])
    arguments = {"--additional-python-modules": "s3://a/w/x-1.0-py3-none-any.whl,s3://b/x-1.0-py3-none-any.whl",
                 "--python-modules-installer-option": "--no-deps --upgrade"}
    output = Shipper()
    entry, control = _install(tmp_path, cache, arguments, s3, output=output)
    specs = pip[0]["specs"]
    assert len(set(specs)) == 2 and pip[0]["files"] == {specs[0]: b"one", specs[1]: b"two"}
    for spec in specs:
        assert Path(spec).parent.parent.parent == control.run_dir
        assert Path(spec).parent.parent.name.startswith("python-module-wheels-")
    assert pip[0]["options"] == ["--no-deps", "--upgrade"]
    assert output.lines == [f"[localaws-glue] --additional-python-modules (2 wheel(s) from S3): installed into "
                            f"module cache entry {entry.name}"]
    # their multipart ETags were remembered: a second run identifies them without a download
    assert sorted(p.name for p in (tmp_path / "cache" / ".etags").iterdir()) == sorted([
        f"x-1.0-py3-none-any.whl#{hashlib.md5(b'one').hexdigest()}-2",
        f"x-1.0-py3-none-any.whl#{hashlib.md5(b'two').hexdigest()}-2"])
    _install(tmp_path, cache, arguments, s3, run_id="jr_2")
    assert len(s3.downloads) == 2


def test_an_unpinned_spec_after_a_local_wheel_installs_per_run(tmp_path, pip):
    wheel = tmp_path / "probe-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    cache = ModuleCache(tmp_path / "cache")
    target, control = _install(tmp_path, cache, {"--additional-python-modules": f"{wheel},tabulate"})
    assert target == control.run_dir / "python-modules" and pip[0]["specs"] == [str(wheel), "tabulate"]
    modules = module_cache.identify(["a==1", str(wheel), "s3://b/x-1.0-py3-none-any.whl"],
                                    S3({("b", "x-1.0-py3-none-any.whl"): b"wheel"}), tmp_path / "f")
    assert [(m.spec, m.identity, m.path) for m in modules] == [
        ("a==1", "a==1", None),
        (str(wheel), f"probe-1.0-py3-none-any.whl#md5={MD5}", str(wheel)),
        ("s3://b/x-1.0-py3-none-any.whl", f"x-1.0-py3-none-any.whl#md5={MD5}", None)]


def test_etag_bookkeeping_by_name_and_lower_case_etag(tmp_path):
    cache = ModuleCache(tmp_path / "cache")
    cache.remember_md5("w.whl", ' "ABCDEF-2" ', MD5)
    cache.remember_md5("w.whl", '"ABCDEF-2"', MD5)  # again: the folder exists
    assert sorted(p.name for p in (tmp_path / "cache" / ".etags").iterdir()) == ["w.whl#abcdef-2"]
    assert cache.recall_md5("w.whl", '"abcdef-2"') == MD5
    assert cache.recall_md5("other.whl", '"abcdef-2"') is None
    assert module_cache.etag_md5('"' + MD5.upper() + '"') == MD5
    assert module_cache.etag_md5("X" + MD5) is None and module_cache.etag_md5(None) is None


@pytest.mark.parametrize(("spec", "expected"), [
    ("relative-1.0-py3-none-any.whl", False), ("/abs/dir", False), ("/abs/p-1.0-py3-none-any.whl", True)])
def test_a_wheel_file_is_an_absolute_path_ending_in_whl(spec, expected):
    assert module_cache.is_wheel_file(spec) is expected


def test_an_s3_folder_is_not_a_wheel_location():
    with pytest.raises(ModuleInstallFailed) as caught:
        module_cache.s3_wheel_location("s3://b/dir/")
    assert str(caught.value) == "--additional-python-modules entry 's3://b/dir/' is not an s3://bucket/key URL."


def test_the_cache_key_is_24_hex_digits_and_follows_each_input(tmp_path):
    python = tmp_path / "python"
    python.write_text("")
    key = ModuleCache.key_of(["a==1"], [], str(python))
    assert len(key) == 24 and int(key, 16) >= 0
    assert len({key, ModuleCache.key_of(["a==2"], [], str(python)), ModuleCache.key_of(["a==1"], ["-q"], str(python)),
                ModuleCache.key_of(["a==1"], [], sys.executable)}) == 4
    os.utime(python, ns=(1, 1))
    assert ModuleCache.key_of(["a==1"], [], str(python)) != key


def test_identified_modules_keep_their_spec_and_same_named_wheels_download_apart(tmp_path):
    s3 = S3({("a", "x-1.0-py3-none-any.whl"): b"one", ("b", "x-1.0-py3-none-any.whl"): b"two"},
            multipart=[("a", "x-1.0-py3-none-any.whl")])
    specs = ["s3://a/x-1.0-py3-none-any.whl", "s3://b/x-1.0-py3-none-any.whl"]
    modules = module_cache.identify(specs, s3, tmp_path / "f", ModuleCache(tmp_path / "cache"))
    assert [m.spec for m in modules] == specs
    single = module_cache.identify(specs[1:], s3, tmp_path / "g")
    paths = module_cache.fetch_wheels(single + [module_cache.Module(specs[1], single[0].identity, None)], s3,
                                      tmp_path / "g")
    assert len(set(paths)) == 2 and [Path(p).read_bytes() for p in paths] == [b"two", b"two"]
