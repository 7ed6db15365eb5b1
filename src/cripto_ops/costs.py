"""Per-run cost estimates from measured durations and the deployed stack's settings.

Prices and the arithmetic live in :mod:`cripto_pipeline.costs`; this module only gathers the inputs
(function memory sizes via Lambda GetFunctionConfiguration, durations from :class:`RunStatus`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from cripto_ops.runs import RunStatus
from cripto_ops.stack import StackOutputs
from cripto_pipeline.costs import RunUsage
from cripto_pipeline.costs import run_cost as price_usage

#: Lambda bills per millisecond; a trigger invocation is short, but never free.
MIN_TRIGGER_SECONDS = 0.1


@dataclass(frozen=True)
class StackSettings:
    feature_memory_mb: float
    trigger_memory_mb: float


def stack_settings(lambda_client, stack: StackOutputs) -> StackSettings:
    memory = {name: lambda_client.get_function_configuration(FunctionName=name)["MemorySize"]
              for name in (stack.feature_lambda_name, stack.trigger_lambda_name)}
    return StackSettings(memory[stack.feature_lambda_name], memory[stack.trigger_lambda_name])


def run_cost(run: RunStatus, settings: StackSettings) -> Optional[float]:
    """Estimated USD of ``run`` on AWS, or None while it has no measured durations yet.

    The feature stage (upload -> features written) bounds the feature Lambda's billed duration
    from above; the trigger Lambda is billed at least MIN_TRIGGER_SECONDS.
    """
    features_s = run.durations_s.get("features")
    if features_s is None:
        return None
    invocations = [(settings.feature_memory_mb, features_s)]
    if run.glue_run_id:
        invocations.append((settings.trigger_memory_mb, MIN_TRIGGER_SECONDS))
    usage = RunUsage(lambda_invocations=invocations, glue_dpu=run.glue_max_capacity or 0.0,
                     glue_seconds=float(run.glue_execution_s or 0))
    return price_usage(usage)["total"]
