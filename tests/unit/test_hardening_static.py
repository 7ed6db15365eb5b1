"""Static guards for a real account (issue 14), read from terraform/*.tf with python-hcl2: the shared
Glue log groups survive `destroy`, code-loading job arguments cannot be overridden per run, the
trigger's concurrency is bounded, every name derives from project + environment, the bucket name
refuses dots, and the provider is limited to allowed_account_ids."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

from support.hcl import load as _load
from support.hcl import resource as _resource
from support.hcl import unquote as _unquote

REPO = Path(__file__).resolve().parents[2]


def _locals(name: str) -> Dict[str, Any]:
    """Every local value set in one file (its ``locals`` blocks merged)."""
    merged: Dict[str, Any] = {}
    for block in _load(name).get("locals", []):
        merged.update(block)
    return merged


def test_destroy_never_deletes_the_shared_glue_log_groups():
    group = _resource("logs.tf", "aws_cloudwatch_log_group", "glue")
    assert group.get("skip_destroy") is True


def test_code_loading_job_arguments_cannot_be_overridden_per_run():
    job = _resource("glue.tf", "aws_glue_job", "model_training")
    # A merge() of the fixed keys and the module keys (present when wheels were built): the keys are
    # quoted names inside the expression.
    fixed_text = str(job["non_overridable_arguments"])
    code_loading = {"--extra-py-files", "--additional-python-modules", "--python-modules-installer-option",
                    "library-set"}
    assert all(f'"{key}"' in fixed_text for key in code_loading), fixed_text
    assert not code_loading & {_unquote(k) for k in job.get("default_arguments", {})}


def test_trigger_concurrency_is_reserved_from_a_variable_with_a_safe_default():
    functions = _resource("lambda.tf", "aws_lambda_function", "lambda")
    assert _unquote(functions["for_each"]) == "${local.lambdas}"
    assert _unquote(functions["reserved_concurrent_executions"]) == "${each.value.reserved_concurrency}"
    trigger = _locals("lambda.tf")["lambdas"]["trigger"]
    assert _unquote(trigger["reserved_concurrency"]) == "${var.trigger_reserved_concurrency}"
    (variable,) = [body for block in _load("variables.tf")["variable"] for name, body in block.items()
                   if _unquote(name) == "trigger_reserved_concurrency"]
    assert 1 <= variable["default"] <= 100  # far below the account's 1,000, above Glue's few slots


def test_every_resource_name_derives_from_project_and_environment():
    (locals_block,) = _load("locals.tf")["locals"]
    for name in ("feature_lambda_name", "trigger_lambda_name", "glue_runs_lambda_name", "glue_job_name",
                 "layer_name", "failed_events_queue"):
        value = _unquote(locals_block[name])
        assert value.startswith("${var.project}-") and value.endswith("${local.name_suffix}"), (name, value)
    assert _unquote(locals_block["name_suffix"]) == "-${var.environment}"
    assert {_unquote(key): _unquote(value) for key, value in locals_block["lambda_names"].items()} == {
        "feature": "${local.feature_lambda_name}", "trigger": "${local.trigger_lambda_name}",
        "glue-runs": "${local.glue_runs_lambda_name}"}
    assert _unquote(locals_block["monitoring_prefix"]) == "${var.project}-${var.environment}"
    assert "${var.project}" in locals_block["bucket_name"] and "account_id" in locals_block["bucket_name"]
    queue = _resource("lambda.tf", "aws_sqs_queue", "failed_events")
    assert _unquote(queue["name"]) == "${local.failed_events_queue}"
    bucket = _resource("s3.tf", "aws_s3_bucket", "data")
    assert _unquote(bucket["bucket"]) == "${local.bucket_name}"


def test_bucket_name_validation_refuses_dots():
    (variable,) = [body for block in _load("variables.tf")["variable"] for name, body in block.items()
                   if _unquote(name) == "s3_bucket_name"]
    (rule,) = variable["validation"]
    pattern = re.search(r'regex\("(.+?)", var\.s3_bucket_name\)', rule["condition"]).group(1)
    pattern = pattern.replace("\\\\", "\\")
    assert re.match(pattern, "cripto-data-123")
    assert not re.match(pattern, "cripto.data"), "dotted bucket names break virtual-hosted HTTPS"
    assert variable["default"] is None


def test_the_provider_is_limited_to_allowed_account_ids():
    (provider,) = [body for block in _load("providers.tf")["provider"] for name, body in block.items()
                   if _unquote(name) == "aws"]
    assert _unquote(provider["allowed_account_ids"]) == "${var.allowed_account_ids}"
    local_vars = _load("env/local.tfvars")
    assert [_unquote(a) for a in local_vars["allowed_account_ids"]] == ["000000000000"]


# --- supply chain: the layer is installed from a hashed lock ----------------------------------------


def test_every_layer_requirement_carries_a_hash():
    text = (REPO / "requirements" / "lambda-layer.txt").read_text().replace("\\\n", " ")
    pins = [line.split()[0] for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert pins, "no requirements found"
    unhashed = [line for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith("#") and "--hash=sha256:" not in line]
    assert unhashed == [] and all("==" in pin for pin in pins), unhashed


def test_the_layer_is_downloaded_and_installed_with_require_hashes(tmp_path, monkeypatch):
    import importlib.util
    import sys

    sys.path.insert(0, str(REPO / "scripts"))  # where build_artifacts.py finds glue_module_wheels
    spec = importlib.util.spec_from_file_location("build_artifacts_under_test", REPO / "scripts" / "build_artifacts.py")
    build = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = build
    spec.loader.exec_module(build)
    calls = []

    class Stop(Exception):
        pass

    def record(args, what):
        calls.append(list(args))
        if args[0] == "install":
            raise Stop

    monkeypatch.setattr(build, "_pip", record)
    try:
        build.build_layer(tmp_path, function_code_size=0)
    except Stop:
        pass
    assert [call[0] for call in calls] == ["download", "install"]
    assert all("--require-hashes" in call for call in calls), calls
