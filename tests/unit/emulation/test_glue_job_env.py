"""localaws.glue.job_env: what a job process starts with (Glue's argv, an environment that reaches only
the local emulation, the per-interpreter runtime dir), asserted literally (issue 16)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from localaws.glue import job_env
from localaws.glue.exceptions import RuntimeSetupFailed
from localaws.glue.models import Job, JobRun

JOB = Job("nightly", {"Command": {"Name": "pythonshell", "ScriptLocation": "s3://b/job.py"}}, 0.0, 0.0)


def _run(region: str = "eu-west-3") -> JobRun:
    return JobRun("jr_1", "nightly", {}, 5, 0.0625, "3.0", region, 0.0, 0.0)


def test_glue_argv_drops_every_argument_glue_owns_and_keeps_the_order_of_the_rest():
    arguments = {"--job-bookmark-option": "job-bookmark-enable", "--first": "1", "--scriptLocation": "s3://x/y",
                 "--job-language": "scala", "--JOB_RUN_ID": "spoofed", "--JOB_NAME": "spoofed", "--last": "2"}
    assert job_env.glue_argv(JOB, _run(), arguments) == [
        "--job-bookmark-option", "job-bookmark-disable", "--scriptLocation", "s3://b/job.py",
        "--job-language", "python", "--first", "1", "--last", "2", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "nightly"]


def _host_env(monkeypatch, **values) -> None:
    """The host variables a job may inherit: exactly ``values`` (the rest of the environment stays)."""
    for name in job_env.INHERITED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_the_job_process_environment_is_complete_and_keeps_no_host_credentials(monkeypatch, tmp_path):
    host = {"PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "LC_ALL": "C", "LC_CTYPE": "C",
            "TZ": "UTC", "USER": "u", "LOGNAME": "u"}
    _host_env(monkeypatch, **host, AWS_PROFILE="prod", AWS_ACCESS_KEY_ID="AKIAREAL", PYTHONPATH="/x", OTHER="1")
    assert job_env.base_env() == host
    runtime, run_dir = tmp_path / "runtime", tmp_path / "run"
    env = job_env.job_env(_run(), runtime, ["/a", "/b"], "http://aws:1", "http://glue:2", run_dir)
    assert env == {
        **host,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": str(runtime / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(runtime / "aws-credentials"),
        "AWS_ENDPOINT_URL": "http://aws:1",
        "AWS_ENDPOINT_URL_GLUE": "http://glue:2",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "PYTHONPATH": "/a:/b",
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(run_dir / "tmp"),
    }


def test_the_inherited_environment_leaves_out_unset_host_variables(monkeypatch):
    _host_env(monkeypatch, HOME="/h")
    assert job_env.base_env() == {"HOME": "/h"}


def _fake_python(tmp_path: Path, prints: str, rc: int = 0, name: str = "python") -> str:
    """An 'interpreter' that answers the runtime probe: prints ``prints``, exits ``rc``, logs its argv."""
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / (name + '.calls')}\necho '{prints}'\nexit {rc}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _awsglue(tmp_path: Path, files=("utils.py", "job.py")) -> Path:
    package = tmp_path / "site" / "awsglue"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import pyspark\n")
    for name in files:
        (package / name).write_text(f"# awsglue {name}\n")
    return package


def test_the_runtime_dir_holds_the_awsglue_stub_sitecustomize_and_a_path_style_aws_config(tmp_path):
    python = _fake_python(tmp_path, str(_awsglue(tmp_path)))
    dirs = job_env.RuntimeDirs(tmp_path / "runtime")
    target = dirs.for_interpreter(python)
    assert target.parent == tmp_path / "runtime" and len(target.name) == 16
    assert (target / "awsglue" / "__init__.py").read_text() == (
        '"""awsglue stub for Python shell: utils and job only (no pyspark)."""\n')
    assert (target / "awsglue" / "utils.py").read_text() == "# awsglue utils.py\n"
    assert (target / "awsglue" / "job.py").read_text() == "# awsglue job.py\n"
    assert (target / "sitecustomize.py").read_bytes() == (job_env.JOB_RUNTIME_SOURCE / "sitecustomize.py").read_bytes()
    assert (target / "aws-config").read_text() == "[default]\ns3 =\n    addressing_style = path\n"
    assert (target / "aws-credentials").read_text() == ""
    assert sorted(p.name for p in target.iterdir()) == ["aws-config", "aws-credentials", "awsglue", "sitecustomize.py"]
    # the probe: the interpreter is asked where awsglue is, without importing it
    calls = Path(python + ".calls").read_text().splitlines()
    assert calls == ["-c import importlib.util as u; s = u.find_spec('awsglue'); "
                     "print(s.submodule_search_locations[0] if s else '')"]
    # built once per interpreter: a second ask does not probe again
    assert dirs.for_interpreter(python) == target
    assert len(Path(python + ".calls").read_text().splitlines()) == 1
    # another interpreter gets its own dir
    other = _fake_python(tmp_path, str(_awsglue(tmp_path / "o")), name="python-other")
    assert dirs.for_interpreter(other) != target


@pytest.mark.parametrize("case", ["no awsglue", "fails", "no utils.py", "no job.py"])
def test_an_interpreter_without_awsglue_dev_is_refused_naming_the_fix(tmp_path, case):
    files = {"no utils.py": ("job.py",), "no job.py": ("utils.py",)}.get(case, ("utils.py", "job.py"))
    package = _awsglue(tmp_path, files)
    prints = "" if case == "no awsglue" else str(package)
    python = _fake_python(tmp_path, prints, rc=1 if case == "fails" else 0)
    with pytest.raises(RuntimeSetupFailed) as caught:
        job_env.RuntimeDirs(tmp_path / "runtime").for_interpreter(python)
    assert str(caught.value) == (
        f"{python} has no awsglue-dev installation to take awsglue/utils.py from. Recreate the job "
        f"environment from emulator/requirements/glue-pythonshell-3.9.txt (scripts/bootstrap.sh).")
    assert not (tmp_path / "runtime").exists()


def test_the_probe_runs_with_the_host_environment_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/should/not/leak")
    monkeypatch.setenv("HOME", "/home/probe")
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\necho \"$PYTHONPATH|$HOME\" > {tmp_path / 'env'}\necho {_awsglue(tmp_path)}\n")
    path.chmod(0o755)
    job_env.RuntimeDirs(tmp_path / "runtime").for_interpreter(str(path))
    assert (tmp_path / "env").read_text() == "|/home/probe\n"


def test_the_probe_is_bounded_and_a_restarted_service_reuses_the_runtime_dir(tmp_path, monkeypatch):
    python = _fake_python(tmp_path, str(_awsglue(tmp_path)))
    seen = []
    real_run = job_env.subprocess.run

    def recording_run(argv, **kwargs):
        seen.append(kwargs)
        return real_run(argv, **kwargs)

    monkeypatch.setattr(job_env.subprocess, "run", recording_run)
    first = job_env.RuntimeDirs(tmp_path / "runtime").for_interpreter(python)
    assert seen[0]["timeout"] == 60 and seen[0]["capture_output"] is True and seen[0]["text"] is True
    # the service restarted: a new RuntimeDirs finds the directory of the last start and rebuilds it in place
    assert job_env.RuntimeDirs(tmp_path / "runtime").for_interpreter(python) == first
