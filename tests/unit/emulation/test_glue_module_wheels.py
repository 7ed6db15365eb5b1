"""``--additional-python-modules`` entries that are ``s3://`` wheel paths (localaws.glue.module_cache):
parsing, the cache key (name + the ETag's MD5, the same as a local copy's; a multipart ETag: one
download, then remembered), downloads only on a cache miss, and a pip command that needs no package index. pip itself
is replaced by a fake that records its argv."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from localaws.glue import module_cache
from localaws.glue.exceptions import ModuleInstallFailed
from localaws.glue.module_cache import ModuleCache
from localaws.glue.supervision import RunControl

WHEEL = "s3://artifacts-bucket/wheels/probe-1.0-py3-none-any.whl"


class FakeS3:
    """Objects by (bucket, key); ETags as S3 gives them (quoted MD5, or ``"<md5>-<parts>"`` for the keys
    in ``multipart``); records every HeadObject and every download (GetObject)."""

    def __init__(self, objects: dict, multipart: tuple = ()) -> None:
        self.objects, self.multipart, self.heads, self.downloads = objects, multipart, [], []

    def etag(self, bucket: str, key: str):
        self.heads.append((bucket, key))
        if (bucket, key) not in self.objects:
            return None  # HeadObject answers 404 without a code: the download names the error
        md5 = hashlib.md5(self.objects[(bucket, key)]).hexdigest()
        return f'"{md5}-2"' if (bucket, key) in self.multipart else f'"{md5}"'

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


def test_s3_wheels_are_identified_by_their_etag_and_downloaded_only_when_fetched(tmp_path):
    s3 = FakeS3({("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl"): b"wheel bytes"})
    modules = module_cache.identify([WHEEL, "other==2.0"], s3, tmp_path)
    md5 = hashlib.md5(b"wheel bytes").hexdigest()
    assert [m.identity for m in modules] == [f"probe-1.0-py3-none-any.whl#md5={md5}", "other==2.0"]
    assert not s3.downloads, "an ETag that is an MD5 identifies the wheel without its bytes"
    resolved = module_cache.fetch_wheels(modules, s3, tmp_path)
    assert Path(resolved[0]).name == "probe-1.0-py3-none-any.whl" and Path(resolved[0]).read_bytes() == b"wheel bytes"
    assert resolved[1] == "other==2.0" and len(s3.downloads) == 1
    assert module_cache.is_wheel_file(resolved[0]) and not module_cache.is_wheel_file(resolved[1])


@pytest.mark.parametrize("etag, md5", [
    ('"0123456789abcdef0123456789abcdef"', "0123456789abcdef0123456789abcdef"),
    ("0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef"),
    ('"0123456789abcdef0123456789abcdef-3"', None),  # multipart: an MD5 of the parts' MD5s
    (None, None),
    ('"not-an-md5"', None),
])
def test_etag_md5(etag, md5):
    assert module_cache.etag_md5(etag) == md5


def test_a_multipart_etag_falls_back_to_a_download_once_then_its_md5_is_remembered(tmp_path):
    """A multipart ETag is not the MD5 of the bytes (Terraform uploads wheels over 5 MB in parts): the
    wheel is downloaded and hashed; the cache remembers that ETag's MD5, so the next run downloads nothing."""
    location = ("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl")
    s3 = FakeS3({location: b"wheel bytes"}, multipart=(location,))
    cache = ModuleCache(tmp_path / "cache")
    [module] = module_cache.identify([WHEEL], s3, tmp_path / "run1", cache)
    md5 = hashlib.md5(b"wheel bytes").hexdigest()
    assert module.identity == f"probe-1.0-py3-none-any.whl#md5={md5}"
    assert len(s3.downloads) == 1 and Path(module.path).read_bytes() == b"wheel bytes"
    assert module_cache.fetch_wheels([module], s3, tmp_path / "run1") == [module.path] and len(s3.downloads) == 1
    [again] = module_cache.identify([WHEEL], s3, tmp_path / "run2", cache)
    assert again.identity == module.identity and again.path is None and len(s3.downloads) == 1
    [uncached] = module_cache.identify([WHEEL], s3, tmp_path / "run3")  # nothing remembered: download
    assert uncached.identity == module.identity and len(s3.downloads) == 2


def test_a_local_copy_and_its_s3_original_have_one_key(tmp_path):
    """What `make glue-modules` prepares from build/glue-modules/ is the entry a run from S3 reuses."""
    local = tmp_path / "local" / "probe-1.0-py3-none-any.whl"
    local.parent.mkdir()
    local.write_bytes(b"wheel bytes")
    s3 = FakeS3({("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl"): b"wheel bytes"})
    identities = [m.identity for m in module_cache.identify([WHEEL, "x==1"], s3, tmp_path / "run")]
    assert ModuleCache.key_of(identities, ["--no-deps"], sys.executable) == ModuleCache.key(
        [str(local), "x==1"], ["--no-deps"], sys.executable)


def test_a_wheel_replaced_between_head_and_download_fails_the_install(tmp_path):
    location = ("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl")
    s3 = FakeS3({location: b"old bytes"})
    modules = module_cache.identify([WHEEL], s3, tmp_path)
    s3.objects[location] = b"new bytes"
    with pytest.raises(ModuleInstallFailed, match="changed while the run read it"):
        module_cache.fetch_wheels(modules, s3, tmp_path)


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
        for spec in specs:  # pip reads the wheel files while they exist
            assert not spec.endswith(".whl") or Path(spec).is_file(), spec
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
                                         Shipper(), s3)
    assert len(s3.downloads) == 1, "a cache miss downloads the wheel to install it"
    again = module_cache.install_modules(cache, sys.executable, arguments, "jr_2", second_run, 0.0, output,
                                         Shipper(), s3)

    assert entry == again and cache.root in entry.parents and len(fake_pip) == 1
    assert "--no-index" in fake_pip[0] and "--no-deps" in fake_pip[0]
    assert len(s3.downloads) == 1, "a cache hit makes no GetObject call"
    assert len(s3.heads) == 2, "each run reads the wheel's ETag (HeadObject) for the key"
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
                                     Shipper(), FakeS3({}))
    assert not fake_pip and not list(control.run_dir.glob("python-module-wheels-*"))


def test_the_same_bytes_under_another_key_reuse_the_entry_and_new_bytes_install_anew(tmp_path, fake_pip):
    cache = ModuleCache(tmp_path / "cache")
    name = "probe-1.0-py3-none-any.whl"
    s3 = FakeS3({("b", f"a/{name}"): b"v1", ("b", f"elsewhere/{name}"): b"v1", ("b", f"new/{name}"): b"v2"})

    def run(prefix: str, run_id: str) -> Path:
        control = RunControl(tmp_path / run_id)
        control.run_dir.mkdir()
        return module_cache.install_modules(cache, sys.executable, {"--additional-python-modules": f"s3://b/{prefix}/{name}"},
                                            run_id, control, 0.0, Shipper(), Shipper(), s3)

    first, same, changed = run("a", "jr_1"), run("elsewhere", "jr_2"), run("new", "jr_3")
    assert same == first and changed != first and len(fake_pip) == 2
    assert [d[1] for d in s3.downloads] == [f"a/{name}", f"new/{name}"], "the reused entry downloads nothing"


def test_unpinned_specs_with_s3_wheels_install_per_run_from_the_downloads(tmp_path, fake_pip):
    s3 = FakeS3({("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl"): b"wheel bytes"})
    control = RunControl(tmp_path / "run")
    control.run_dir.mkdir()
    target = module_cache.install_modules(ModuleCache(tmp_path / "cache"), sys.executable,
                                          {"--additional-python-modules": f"{WHEEL},other>=1"}, "jr_1", control,
                                          0.0, Shipper(), Shipper(), s3)
    assert target == control.run_dir / "python-modules" and len(s3.downloads) == 1
    assert fake_pip[0][-1] == "other>=1" and fake_pip[0][-2].endswith("probe-1.0-py3-none-any.whl")


def test_a_cache_hit_makes_no_get_object_call(tmp_path, fake_pip):
    """An entry prepared from a local copy (what `make glue-modules` does) is reused without a download."""
    local = tmp_path / "local" / "probe-1.0-py3-none-any.whl"
    local.parent.mkdir()
    local.write_bytes(b"wheel bytes")
    cache = ModuleCache(tmp_path / "cache")
    key = ModuleCache.key([str(local)], ["--no-deps"], sys.executable)
    staged = cache.staging(key, "prepare")
    (staged / "probe").mkdir(parents=True)
    prepared = cache.publish(key, staged, [module_cache.spec_identity(str(local))], ["--no-deps"])
    s3 = FakeS3({("artifacts-bucket", "wheels/probe-1.0-py3-none-any.whl"): b"wheel bytes"})
    control = RunControl(tmp_path / "run")
    control.run_dir.mkdir()
    entry = module_cache.install_modules(cache, sys.executable, {"--additional-python-modules": WHEEL,
                                         "--python-modules-installer-option": "--no-deps"}, "jr_1", control, 0.0,
                                         Shipper(), Shipper(), s3)
    assert entry == prepared and not s3.downloads and not fake_pip
