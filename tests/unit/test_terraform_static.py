"""Static checks of the Terraform stack (terraform/): formatting, validity, and the conventions the
stack promises — typed and described variables, described outputs, no wildcard IAM actions, and no
local-only configuration. Offline: `validate` runs in a throw-away copy with its own TF_DATA_DIR,
installing the provider through scripts/terraform.sh (filesystem mirror when there is one)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from support.hcl import load as _load
from support.hcl import resources as _resources
from support.hcl import unquote as _unquote
from support.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
WRAPPER = REPO / "scripts" / "terraform.sh"
TF_FILES = sorted(TERRAFORM_DIR.glob("*.tf"))
ENVIRONMENTS = ("local", "aws")



@pytest.fixture(scope="module")
def terraform() -> str:
    """Terraform on PATH: the tests that run it skip without it locally and fail in CI (CI=true)."""
    return require_tool("terraform")


def _env(**extra: str) -> Dict[str, str]:
    """The caller's environment minus anything AWS, so no check can reach an account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(extra)
    return env


def _run(args: List[str], **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=_env(**extra_env), timeout=300)


def _blocks(kind: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(name, body) of every top-level block of ``kind`` ("variable", "output") in terraform/*.tf."""
    for path in TF_FILES:
        for entry in _load(path).get(kind, []):
            for name, body in entry.items():
                yield _unquote(name), body


# --------------------------------------------------------------------------------------------------
# Terraform itself
# --------------------------------------------------------------------------------------------------


def test_files_are_formatted(terraform):
    result = _run(["terraform", "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)])
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform/`:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def initialised_copy(terraform, tmp_path_factory) -> Dict[str, str]:
    """A copy of terraform/ (with the committed lock file) initialised without a backend; returns the env
    to run the wrapper in. `init` checks the provider it installs against the lock file's hashes."""
    work = tmp_path_factory.mktemp("tf")
    shutil.copytree(TERRAFORM_DIR, work / "terraform",
                    ignore=shutil.ignore_patterns(".terraform", "state", "*.tfstate*"))
    env = {"TF_DIR": str(work / "terraform"), "LOCALAWS_HOME": str(work / "home")}
    result = _run([str(WRAPPER), "local", "init", "-backend=false", "-no-color"], **env)
    assert result.returncode == 0, f"terraform init failed:\n{result.stdout}{result.stderr}"
    return env


def test_configuration_is_valid(initialised_copy):
    result = _run([str(WRAPPER), "local", "validate", "-no-color"], **initialised_copy)
    assert result.returncode == 0, result.stdout + result.stderr


LOCK_FILE = TERRAFORM_DIR / ".terraform.lock.hcl"


def _locked_aws() -> Dict[str, Any]:
    (entry,) = [body for block in _load(LOCK_FILE)["provider"] for name, body in block.items()
                if _unquote(name) == "registry.terraform.io/hashicorp/aws"]
    return entry


def test_the_lock_file_pins_the_provider_with_hashes():
    entry = _locked_aws()
    assert re.match(r"^5\.\d+\.\d+$", _unquote(entry["version"]))
    hashes = [_unquote(h) for h in entry["hashes"]]
    assert hashes and all(re.match(r"^(h1|zh):[A-Za-z0-9+/=]+$", h) for h in hashes), hashes
    # Every platform's package of the release (the registry's SHA256SUMS: darwin and linux, amd64 and
    # arm64 among them), not only the one platform of the offline mirror.
    assert sum(h.startswith("zh:") for h in hashes) >= 15, hashes


def test_init_refuses_a_provider_that_does_not_match_the_lock_file(tmp_path):
    """The offline mirror is checked against the committed hashes: a tampered hash fails `init`."""
    work = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, work, ignore=shutil.ignore_patterns(".terraform", "state", "*.tfstate*"))
    lock = work / ".terraform.lock.hcl"
    lock.write_text(re.sub(r'"h1:[^"]+"', '"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="', lock.read_text()))
    result = _run([str(WRAPPER), "local", "init", "-backend=false", "-no-color"],
                  TF_DIR=str(work), LOCALAWS_HOME=str(tmp_path / "home"))
    assert result.returncode != 0
    assert "checksum" in (result.stdout + result.stderr).lower()


def test_init_used_a_per_environment_data_dir(initialised_copy):
    data_dir = Path(initialised_copy["LOCALAWS_HOME"]) / "terraform" / "local" / "data"
    assert (data_dir / "providers" / "registry.terraform.io" / "hashicorp" / "aws").is_dir()
    assert not (Path(initialised_copy["TF_DIR"]) / ".terraform").exists()


def test_aws_environment_refuses_emulator_endpoints(terraform, tmp_path):
    result = _run([str(WRAPPER), "aws", "version"], LOCALAWS_HOME=str(tmp_path),
                  AWS_ENDPOINT_URL="http://127.0.0.1:4566")
    assert result.returncode != 0
    assert "AWS_ENDPOINT_URL" in result.stderr


# --------------------------------------------------------------------------------------------------
# Conventions
# --------------------------------------------------------------------------------------------------


def test_every_variable_has_a_type_and_a_description():
    variables = dict(_blocks("variable"))
    assert variables, "no variables found in terraform/*.tf"
    untyped = [name for name, body in variables.items() if "type" not in body]
    undescribed = [name for name, body in variables.items() if not _unquote(str(body.get("description", "")))]
    assert not untyped, f"variables without a type: {untyped}"
    assert not undescribed, f"variables without a description: {undescribed}"


def test_every_output_has_a_description():
    outputs = dict(_blocks("output"))
    assert {"bucket_name", "feature_lambda_name", "trigger_lambda_name", "glue_job_name"} <= outputs.keys()
    undescribed = [name for name, body in outputs.items() if not _unquote(str(body.get("description", "")))]
    assert not undescribed, f"outputs without a description: {undescribed}"


def test_versions_tf_pins_terraform_and_the_provider_only():
    versions = _load(TERRAFORM_DIR / "versions.tf")
    (settings,) = versions["terraform"]
    assert set(settings) == {"required_version", "required_providers"}
    (providers,) = settings["required_providers"]
    assert _unquote(providers["aws"]["source"]) == "hashicorp/aws"
    assert re.match(r'^"?~> 5\.\d+', providers["aws"]["version"])
    # use_lockfile (S3 backend locking without DynamoDB) needs 1.10.
    assert _unquote(settings["required_version"]) == ">= 1.10.0"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_tfvars_only_set_declared_variables(env_name):
    declared = {name for name, _ in _blocks("variable")}
    assigned = set(_load(TERRAFORM_DIR / "env" / f"{env_name}.tfvars"))
    assert assigned <= declared, f"undeclared variables in env/{env_name}.tfvars: {sorted(assigned - declared)}"


def test_moved_blocks_lead_from_retired_addresses_to_declared_ones():
    """A stack deployed before a resource became a for_each instance is updated in place: every `from`
    is an address no longer declared, every `to` an instance of a declared resource."""
    declared = {f"{kind}.{name}" for path in TF_FILES for kind, name, _ in _resources(path)}
    moves = [(_address(block["from"]), _address(block["to"]))
             for path in TF_FILES for block in _load(path).get("moved", [])]
    assert moves, "no moved blocks found in terraform/*.tf"
    for source, target in moves:
        assert source.split("[")[0] not in declared, f"{source} is still declared: nothing moves"
        assert target.split("[")[0] in declared, f"{target}: no such resource"


def _address(expression: str) -> str:
    """python-hcl2 reads a bare address as an interpolation: "${aws_x.y[\"k\"]}" -> aws_x.y["k"]."""
    return _unquote(expression).removeprefix("${").removesuffix("}")


def test_iam_policies_name_no_wildcard_actions():
    iam = _load(TERRAFORM_DIR / "iam.tf")
    actions = [
        _unquote(action)
        for document in iam["data"]
        for kind, named in document.items() if kind == '"aws_iam_policy_document"'
        for body in named.values()
        for statement in body.get("statement", [])
        for action in statement.get("actions", [])
    ]
    assert actions, "no IAM statements found in iam.tf"
    assert [a for a in actions if "*" in a] == [], "IAM actions must be named, not wildcarded"


def test_no_local_only_configuration():
    # The same .tf serves the emulation and AWS: endpoints come from the environment only.
    pattern = re.compile(r"localhost|127\.0\.0\.1|localstack|4566|4567|endpoints\s*\{|skip_(?!destroy\b)\w+\s*=", re.IGNORECASE)
    hits = [
        f"{path.name}:{number}: {line.strip()}"
        for path in TF_FILES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert hits == [], "local-only settings in terraform/*.tf:\n" + "\n".join(hits)


def test_for_each_keys_are_known_before_any_resource_exists():
    """`terraform import` (scripts/adopt_shared_log_groups.py adopts Glue's shared log groups into a
    fresh state) plans with nothing in the state: a for_each whose keys come from a resource, directly or
    through a local's `for ... in aws_x.y`, fails there with "Invalid for_each argument". Keys come from
    static maps (local.lambdas, ...); resource attributes belong in the values."""
    offenders = []
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\bfor_each\s*=\s*(aws_|data\.)", code) or re.search(r"\bfor\s+[\w, ]+\s+in\s+(aws_|data\.)", code):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "for_each keys derived from resources:\n" + "\n".join(offenders)


# --- the critical path of a fresh deploy (issue 9) ----------------------------------------------------


@pytest.fixture(scope="module")
def dependencies(terraform, tmp_path_factory) -> Dict[str, set]:
    """`terraform graph` (which needs an initialised backend: a throw-away local state in a copy):
    each resource (or data source) -> what it waits for."""
    work = tmp_path_factory.mktemp("tf-graph")
    shutil.copytree(TERRAFORM_DIR, work / "terraform",
                    ignore=shutil.ignore_patterns(".terraform", "state", "*.tfstate*"))
    env = {"TF_DIR": str(work / "terraform"), "LOCALAWS_HOME": str(work / "home")}
    result = _run([str(WRAPPER), "local", "init", "-no-color"], **env)
    assert result.returncode == 0, f"terraform init failed:\n{result.stdout}{result.stderr}"
    result = _run([str(WRAPPER), "local", "graph"], **env)
    assert result.returncode == 0, result.stdout + result.stderr
    edges: Dict[str, set] = {}
    for waiter, waited_for in re.findall(r'"([^"]+)" -> "([^"]+)"', result.stdout):
        edges.setdefault(waiter, set()).add(waited_for)
    assert edges, f"no edges in the graph:\n{result.stdout[:2000]}"
    return edges


def _waits_for(edges: Dict[str, set], node: str) -> set:
    seen, todo = set(), [node]
    while todo:
        for dependency in edges.get(todo.pop(), ()):
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def test_nothing_waits_for_the_lifecycle_configuration(dependencies):
    """Its creation takes >= 55 s by the provider's own fixed wait (s3.tf): everything else must be
    created in parallel with it, so nothing may depend on it."""
    lifecycle = "aws_s3_bucket_lifecycle_configuration.data"
    assert any(lifecycle in waiter for waiter in dependencies), "the lifecycle configuration is not in the graph"
    assert [waiter for waiter, waited in dependencies.items() if lifecycle in waited] == []


def test_the_functions_do_not_wait_for_the_failed_events_queue(dependencies):
    """The provider polls a new queue's attributes for ~25 s: the roles name it by ARN built from its name."""
    queue = "aws_sqs_queue.failed_events"
    assert queue not in _waits_for(dependencies, "aws_lambda_function.lambda")
    # The on-failure destination is checked by Lambda when it is configured: that one waits for the queue.
    assert queue in _waits_for(dependencies, "aws_lambda_function_event_invoke_config.lambda")


def test_the_spark_feature_job_queues_runs_above_its_concurrency_limit():
    """Large datasets beyond max_concurrent_runs wait (WAITING) instead of failing StartJobRun; Glue queues
    only jobs without retries."""
    (job,) = [body for kind, name, body in _resources(TERRAFORM_DIR / "glue_spark.tf")
              if (kind, name) == ("aws_glue_job", "spark_features")]
    assert job["job_run_queuing_enabled"] is True and job["max_retries"] == 0
