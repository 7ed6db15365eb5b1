"""What the launcher tells LocalStack about services: all of them by default, Glue on its port."""
from __future__ import annotations

from pathlib import Path

from localaws.launcher import Settings, service_specs


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
