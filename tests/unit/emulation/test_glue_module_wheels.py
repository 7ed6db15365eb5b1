"""``--additional-python-modules`` entries that are ``s3://`` wheel paths (localaws.glue.module_cache):
parsing, download, the cache key (the wheels' bytes, not where they were), and a pip command that
needs no package index. pip itself is replaced by a fake that records its argv."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from localaws.glue import module_cache
from localaws.glue.exceptions import ModuleInstallFailed
from localaws.glue.module_cache import ModuleCache
from localaws.glue.supervision import RunControl

WHEEL = "s3://artifacts-bucket/wheels/probe-1.0-py3-none-any.whl"


class FakeS3:
    """Objects by (bucket, key); records every download."""

    def __init__(self, objects: dict) -> None:
        self.objects, self.downloads = objects, []

    def download(self, bucket: str, key: str, target: Path) -> None:
        if (bucket, key) not in self.objects:
            raise ModuleInstallFailed(f"Cannot fetch --additional-python-modules entry s3://{bucket}/{key}")
        self.downloads.append((bucket, key, target))
        target.write_bytes(self.objects[(bucket, key)])


class Shipper:
    def __init__(self) -> None:
        self.lines = []

    def write(self, line: str) -> None:
        self.lines.append(line)


@pytest.mark.parametrize("spec, expected", [
    (WHEEL, ("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl")),
    ("s3://b/probe-1.0-py3-none-any.whl", ("b", "probe-1.0-py3-none-any.whl")),
    ("probe==1.0", None),
    ("probe==1.0 -i https://example.invalid/simple", None),
])
def test_s3_wheel_location(spec, expected):
    assert module_cache.s3_wheel_location(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("s3://b/probe-1.0.tar.gz", "only wheel files"),
    ("s3://b/", "not an s3://bucket/key URL"),
    ("s3:///probe.whl", "not an s3://bucket/key URL"),
])
def test_s3_entries_that_are_not_wheels_are_refused_by_name(spec, message):
    with pytest.raises(ModuleInstallFailed, match=message) as raised:
        module_cache.s3_wheel_location(spec)
    assert spec in str(raised.value)


def test_s3_wheels_are_downloaded_under_their_own_names_and_other_specs_kept(tmp_path):
    s3 = FakeS3({("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl"): b"wheel bytes"})
    resolved = module_cache.resolve_specs([WHEEL, "other==2.0"], s3.download, tmp_path)
    assert Path(resolved[0]).name == "probe-1.0-py3-none-any.whl" and Path(resolved[0]).read_bytes() == b"wheel bytes"
    assert resolved[1] == "other==2.0"
    assert module_cache.is_wheel_file(resolved[0]) and not module_cache.is_wheel_file(resolved[1])


def test_cache_key_follows_the_wheels_bytes_not_their_location(tmp_path):
    python = sys.executable

    def wheel(folder: str, body: bytes) -> str:
        path = tmp_path / folder / "probe-1.0-py3-none-any.whl"
        path.parent.mkdir()
        path.write_bytes(body)
        return str(path)

    one, same, changed = wheel("a", b"v1"), wheel("b", b"v1"), wheel("c", b"v2")
    assert ModuleCache.cacheable([one]) and ModuleCache.cacheable([one, "x==1"])
    assert not ModuleCache.cacheable([one, "x>=1"])
    assert ModuleCache.key([one], ["--no-deps"], python) == ModuleCache.key([same], ["--no-deps"], python)
    assert ModuleCache.key([one], ["--no-deps"], python) != ModuleCache.key([changed], ["--no-deps"], python)
    assert ModuleCache.key([one], [], python) != ModuleCache.key([one], ["--no-deps"], python)


def test_only_wheel_files_install_with_no_index(tmp_path):
    wheel = tmp_path / "probe-1.0-py3-none-any.whl"
    wheel.write_bytes(b"x")
    offline = module_cache.pip_install_argv("py", [str(wheel)], ["--no-deps"], tmp_path / "t")
    assert "--no-index" in offline and offline[-1] == str(wheel)
    mixed = module_cache.pip_install_argv("py", [str(wheel), "other==1"], ["--no-deps"], tmp_path / "t")
    assert "--no-index" not in mixed and mixed[-2:] == [str(wheel), "other==1"]


@pytest.fixture
def fake_pip(monkeypatch):
    calls = []

    def pip(python, specs, options, target, control, deadline, output, error):
        calls.append(module_cache.pip_install_argv(python, specs, options, target))
        for spec in specs:  # pip reads the files while they exist
            assert Path(spec).is_file(), spec
        (target / "probe").mkdir(parents=True)
        (target / "probe" / "__init__.py").write_text("")

    monkeypatch.setattr(module_cache, "_pip_install", pip)
    return calls


def test_a_run_installs_s3_wheels_once_then_reuses_the_entry(tmp_path, fake_pip):
    cache = ModuleCache(tmp_path / "cache")
    s3 = FakeS3({("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl"): b"wheel bytes"})
    arguments = {"--additional-python-modules": WHEEL, "--python-modules-installer-option": "--no-deps"}
    first_run, second_run = RunControl(tmp_path / "run1"), RunControl(tmp_path / "run2")
    first_run.run_dir.mkdir(), second_run.run_dir.mkdir()
    output = Shipper()

    entry = module_cache.install_modules(cache, sys.executable, arguments, "jr_1", first_run, 0.0, output,
                                         Shipper(), s3.download)
    again = module_cache.install_modules(cache, sys.executable, arguments, "jr_2", second_run, 0.0, output,
                                         Shipper(), s3.download)

    assert entry == again and cache.root in entry.parents and len(fake_pip) == 1
    assert "--no-index" in fake_pip[0] and "--no-deps" in fake_pip[0]
    assert len(s3.downloads) == 2, "every run fetches its wheels (to know their hash)"
    key = entry.name
    assert output.lines == [
        f"[localaws-glue] --additional-python-modules (1 wheel(s) from S3): installed into module cache entry {key}",
        f"[localaws-glue] --additional-python-modules (1 wheel(s) from S3): reusing module cache entry {key}"]
    for control in (first_run, second_run):  # the downloaded wheels do not outlive the install
        assert not list(control.run_dir.glob("python-module-wheels-*"))


def test_a_missing_wheel_fails_the_install_naming_it(tmp_path, fake_pip):
    control = RunControl(tmp_path / "run")
    control.run_dir.mkdir()
    with pytest.raises(ModuleInstallFailed, match="s3://artifacts-bucket/wheels/probe"):
        module_cache.install_modules(ModuleCache(tmp_path / "cache"), sys.executable,
                                     {"--additional-python-modules": WHEEL}, "jr_1", control, 0.0, Shipper(),
                                     Shipper(), FakeS3({}).download)
    assert not fake_pip and not list(control.run_dir.glob("python-module-wheels-*"))
