"""What the launcher tells LocalStack about services: all of them by default, Glue on its port."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from localaws.cli import main
from localaws.exceptions import SettingRefused
from localaws.glue.config import Settings as GlueSettings
from localaws.launcher import Settings, service_specs
from localaws.lambda_executor.runtimes import resolve_interpreter


def _localstack_env(**overrides) -> dict:
    settings = Settings(home=Path("/state"), localstack_python=Path("python"), **overrides)
    return {spec.name: spec for spec in service_specs(settings)}["localstack"].env


def test_every_service_is_on_by_default():
    assert "SERVICES" not in _localstack_env(glue_python=Path("python"))


def test_a_narrowed_list_keeps_glue_when_the_glue_service_runs():
    env = _localstack_env(glue_python=Path("python"), services="s3, lambda,sqs")
    assert env["SERVICES"] == "s3,lambda,sqs,glue"


def test_a_narrowed_list_without_the_glue_service_stays_as_given():
    assert _localstack_env(glue_python=None, services="s3,sqs")["SERVICES"] == "s3,sqs"


def test_glue_is_routed_to_the_glue_service_only_when_it_runs():
    env = _localstack_env(glue_python=Path("python"), glue_port=4999)
    assert env["LOCALAWS_GLUE_URL"] == "http://127.0.0.1:4999"
    assert env["PROVIDER_OVERRIDE_GLUE"] == "localaws"
    bare = _localstack_env(glue_python=None)
    assert "LOCALAWS_GLUE_URL" not in bare and "PROVIDER_OVERRIDE_GLUE" not in bare


def _glue_env(**overrides) -> dict:
    settings = Settings(home=Path("/state"), localstack_python=Path("python"), glue_python=Path("python"),
                        **overrides)
    return {spec.name: spec for spec in service_specs(settings)}["glue"].env


def test_each_runtime_reaches_its_service_under_the_name_the_service_reads():
    python = Path(sys.executable)
    glue = GlueSettings.from_env(_glue_env(glue_runtimes={"3.9": python, "spark-5.0": python}))
    assert glue.interpreter("3.9") == glue.interpreter("spark-5.0") == str(python)
    localstack = _localstack_env(glue_python=None, lambda_runtimes={"python3.12": python})
    assert resolve_interpreter("python3.12", localstack) == python


def test_a_glue_runtime_the_service_does_not_run_is_refused_naming_the_accepted_keys():
    with pytest.raises(SettingRefused) as refused:
        _glue_env(glue_runtimes={"3.9": Path("/py39"), "spark-4.0": Path("/spark")})
    message = str(refused.value)
    assert "'spark-4.0'" in message and "LOCALAWS_GLUE_RUNTIMES" in message
    assert "Accepted keys: 3.9" in message and "spark-5.0" in message


def test_a_python_version_the_glue_service_does_not_run_is_refused():
    with pytest.raises(SettingRefused, match=r"'3\.6'.*Accepted keys"):
        _glue_env(glue_runtimes={"3.6": Path("/py36")})


def test_a_lambda_runtime_the_executor_cannot_run_is_refused_naming_what_it_runs():
    with pytest.raises(SettingRefused) as refused:
        _localstack_env(lambda_runtimes={"python3.12": Path("/py312"), "nodejs20.x": Path("/node")})
    message = str(refused.value)
    assert "'nodejs20.x'" in message and "LOCALAWS_LAMBDA_RUNTIMES" in message
    assert "python3.x" in message


def test_a_lambda_runtime_spelled_unlike_lambda_is_refused():
    with pytest.raises(SettingRefused, match="'3.12'"):
        _localstack_env(lambda_runtimes={"3.12": Path("/py312")})


def test_the_cli_reports_a_refused_runtime_as_an_error_line(tmp_path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "--mode", "host", "ps"],
                                env={"LOCALAWS_GLUE_RUNTIMES": "2.7=/py27"})
    assert result.exit_code == 1
    assert "error:" in result.output and "'2.7'" in result.output and "Traceback" not in result.output


def test_localstack_1x_lambda_executor_setting_is_not_passed_on(monkeypatch):
    """LocalStack logs "Please mount the Docker socket" for it; host mode selects its executor itself."""
    monkeypatch.setenv("LAMBDA_EXECUTOR", "local")
    monkeypatch.setenv("SOME_USER_SETTING", "kept")
    env = _localstack_env(glue_python=None)
    assert "LAMBDA_EXECUTOR" not in env
    assert env["LAMBDA_RUNTIME_EXECUTOR"] == "local-process"
    assert env["SOME_USER_SETTING"] == "kept"
