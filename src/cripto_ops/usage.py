"""What a run used, gathered from the deployed stack, for its cost in ``status``.

The usage and the prices live in :mod:`cripto_pipeline.costs` (the report of the Glue job prices
its run with the same :func:`~cripto_pipeline.costs.run_usage`); this module only reads the inputs:
function memory sizes (Lambda GetFunctionConfiguration) and what :class:`RunStatus` observed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from cripto_ops.runs import RunStatus
from cripto_ops.stack import StackOutputs
from cripto_pipeline import costs, routing


@dataclass(frozen=True)
class StackSettings:
    feature_memory_mb: float
    trigger_memory_mb: float


def stack_settings(lambda_client, stack: StackOutputs) -> StackSettings:
    memory = {name: lambda_client.get_function_configuration(FunctionName=name)["MemorySize"]
              for name in (stack.feature_lambda_name, stack.trigger_lambda_name)}
    return StackSettings(memory[stack.feature_lambda_name], memory[stack.trigger_lambda_name])


def spark_runs(run: RunStatus) -> List[Tuple[float, float]]:
    """(DPUs, seconds) of the Spark feature job's run: Glue's ExecutionTime once that run is final (what AWS
    bills), else the seconds the job recorded in its manifest (what the report prices); [] if neither."""
    seconds = run.spark_execution_s if run.spark_execution_s is not None else run.spark_recorded_s
    return [(run.spark_dpu, seconds)] if run.spark_dpu is not None and seconds is not None else []


def run_cost(run: RunStatus, settings: StackSettings) -> Optional[Dict[str, float]]:
    """Estimated USD of ``run`` on AWS per component and ``total``, or None before its features exist (or,
    built by the Spark job, before that job recorded its usage or finished its run)."""
    spark = spark_runs(run)
    known = bool(spark) if run.engine == routing.SPARK else run.feature_lambda_s is not None
    if not known:
        return None
    usage = costs.run_usage(
        glue_dpu=run.glue_max_capacity, glue_seconds=run.glue_execution_s, run_objects=run.objects,
        feature_lambda=(settings.feature_memory_mb, run.feature_lambda_s) if run.feature_lambda_s is not None
        else None,
        trigger_lambda_memory_mb=settings.trigger_memory_mb if run.glue_run_id else None,
        spark_runs=spark,
    )
    return costs.run_cost(usage)
