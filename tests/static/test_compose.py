"""Compose mode, checked without a Docker engine: the file is valid Compose, the Dockerfile lints
clean, and both match host mode, so the two modes cannot drift apart."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from localaws.launcher import DEFAULT_SERVICES, Settings, service_specs

ROOT = Path(__file__).resolve().parents[2]
CHECKS_BIN = ROOT / ".venvs" / "checks" / "bin"
GLUE_DOCKERFILE = "emulator/glue.Dockerfile"

# Compose interpolates ${VAR:-default} before validating; do the same with every default.
_PARSE = r"""
import json, re, sys
from compose_spec import PyCompose
text = re.sub(r'\$\{([A-Za-z0-9_]+)(?::?-([^}]*))?\}', lambda m: m.group(2) or '', open(sys.argv[1]).read())
print(json.dumps(PyCompose.from_yaml(text).to_dict()))
"""


@pytest.fixture(scope="module")
def compose() -> dict:
    if not (CHECKS_BIN / "python").exists():
        pytest.fail("The checks environment is missing: run `make bootstrap`.")
    result = subprocess.run([str(CHECKS_BIN / "python"), "-c", _PARSE, str(ROOT / "docker-compose.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"docker-compose.yml is not valid Compose:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def host_mode():
    settings = Settings(home=Path("/state"), localstack_python=Path("python"), glue_python=Path("python"),
                        lambda_runtimes={"python3.12": Path("py312")}, glue_runtimes={"3.9": Path("py39"), "spark-5.0": Path("spark")})
    return settings, {spec.name: spec for spec in service_specs(settings)}


def test_services_and_ports_match_host_mode(compose, host_mode):
    settings, _ = host_mode
    services = compose["services"]
    assert set(services) == {"localstack", "glue"}
    assert services["localstack"]["ports"] == [f"127.0.0.1:{settings.localstack_port}:4566"]
    assert services["glue"]["ports"] == [f"127.0.0.1:{settings.glue_port}:4567"]


def test_localstack_image_is_pinned_to_the_last_token_free_release(compose):
    build = compose["services"]["localstack"]["build"]
    assert build["args"]["LOCALSTACK_IMAGE"] == "localstack/localstack:4.14.0"
    dockerfile = (ROOT / build["dockerfile"]).read_text()
    assert "ARG LOCALSTACK_IMAGE=localstack/localstack:4.14.0" in dockerfile


def test_localstack_image_installs_the_glue_route_plugin(compose):
    """Compose mode serves Glue on 4566 as host mode does: the image carries the localaws plugins."""
    dockerfile = (ROOT / compose["services"]["localstack"]["build"]["dockerfile"]).read_text()
    assert "/opt/code/localstack/.venv/bin/python -m pip install --no-cache-dir --no-deps /opt/localaws" in dockerfile
    pyproject = (ROOT / "emulator" / "pyproject.toml").read_text()
    assert '"glue:localaws" = "localaws.glue_gateway.plugin:glue"' in pyproject


def test_localstack_settings_match_host_mode(compose, host_mode):
    settings, specs = host_mode
    compose_env = compose["services"]["localstack"]["environment"]
    host_env = specs["localstack"].env
    # Every service on, in both modes: no SERVICES whitelist unless a user sets one.
    assert DEFAULT_SERVICES == ""
    assert "SERVICES" not in compose_env and "SERVICES" not in host_env
    # Glue on LocalStack's port: the same provider override in both modes, pointing at the Glue service.
    assert compose_env["PROVIDER_OVERRIDE_GLUE"] == host_env["PROVIDER_OVERRIDE_GLUE"] == "localaws"
    assert compose_env["LOCALAWS_GLUE_URL"] == "http://glue:4567"
    assert host_env["LOCALAWS_GLUE_URL"] == settings.glue_url
    assert compose_env["LAMBDA_RETRY_BASE_DELAY"] == host_env["LAMBDA_RETRY_BASE_DELAY"]
    assert compose_env["SQS_ENDPOINT_STRATEGY"] == host_env["SQS_ENDPOINT_STRATEGY"] == "off"
    # Host mode's executor gives functions the Glue endpoint; in compose Docker flags do it.
    assert "LOCALAWS_LAMBDA_ENV_AWS_ENDPOINT_URL_GLUE" in host_env
    assert "AWS_ENDPOINT_URL_GLUE=http://glue:4567" in compose_env["LAMBDA_DOCKER_FLAGS"]
    assert compose_env["LAMBDA_DOCKER_NETWORK"] == compose["networks"]["pipeline"]["name"]


def test_glue_service_gets_the_same_settings_as_in_host_mode(compose, host_mode):
    _, specs = host_mode
    host_keys = {key for key in specs["glue"].env if key.startswith("LOCALAWS_GLUE_")}
    assert host_keys == set(compose["services"]["glue"]["environment"])
    assert compose["services"]["glue"]["environment"]["LOCALAWS_GLUE_AWS_ENDPOINT"] == "http://localstack:4566"
    assert compose["services"]["glue"]["depends_on"]["localstack"]["condition"] == "service_healthy"


def test_both_images_are_built_from_the_emulator(compose):
    """The Glue-compatible service is part of the emulator: its Dockerfile lives beside LocalStack's."""
    assert compose["services"]["glue"]["build"]["dockerfile"] == GLUE_DOCKERFILE
    assert compose["services"]["localstack"]["build"]["dockerfile"] == "emulator/localstack.Dockerfile"


def test_glue_image_runs_python_shell_3_9_with_the_host_mode_libraries():
    dockerfile = (ROOT / GLUE_DOCKERFILE).read_text()
    assert re.search(r"^FROM python:3\.9\.\d+-slim", dockerfile, re.M)
    assert "emulator/requirements/glue-pythonshell-3.9.txt" in dockerfile
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "emulator/requirements/glue-pythonshell-3.9.txt" in bootstrap
    assert "3.9=$(VENVS)/glue-pythonshell-3.9/bin/python" in (ROOT / "Makefile").read_text()


def test_glue_image_runs_glue_5_spark_with_the_host_mode_runtime():
    dockerfile = (ROOT / GLUE_DOCKERFILE).read_text()
    assert "emulator/requirements/glue-spark-5.0.txt" in dockerfile
    assert "openjdk-17-jre-headless" in dockerfile and "python3.11" in dockerfile
    # The same S3A jars, from the same sdist, checked against the same pinned checksums as bootstrap.
    assert "sha256sum --check /jars.sha256" in dockerfile
    assert "COPY emulator/requirements/glue-spark-5.0-jars.sha256" in dockerfile
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "emulator/requirements/glue-spark-5.0-jars.sha256" in bootstrap
    for jar in ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar"):
        assert jar in dockerfile and jar in bootstrap
    assert "/opt/spark-5.0/jars/" in dockerfile  # <interpreter>/../jars, where the service looks
    assert "spark-5.0=$(VENVS)/glue-spark-5.0/bin/python" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("dockerfile", [GLUE_DOCKERFILE, "emulator/localstack.Dockerfile"])
def test_dockerfile_lints_clean(dockerfile):
    result = subprocess.run([str(CHECKS_BIN / "hadolint"), str(ROOT / dockerfile)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
