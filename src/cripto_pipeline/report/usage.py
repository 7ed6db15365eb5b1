"""What the report's cost estimate is computed from: the resources one run used, as the Glue job knows them.

The prices and the computation are :mod:`cripto_pipeline.costs`'; this module only gathers its inputs
(job arguments set by Terraform, the job's own clock, the upload's event time, the bytes written, and for
features built by the Spark feature job the DPUs and seconds that job recorded in its manifest: the report
is drawn before that Spark run has ended, so Glue's ExecutionTime of it is not final yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from .. import costs, routing

TRIGGER_SECONDS_ESTIMATE = costs.TRIGGER_BILLED_SECONDS


@dataclass(frozen=True)
class CostInputs:
    """What the job measured or was told about the resources its run used."""

    glue_dpu: Optional[float]
    glue_seconds: float
    #: (memory MB, seconds) of the feature Lambda: seconds bounded by upload -> features written.
    feature_lambda: Optional[Tuple[float, float]] = None
    trigger_lambda_memory_mb: Optional[float] = None
    #: Key -> bytes of the objects under the run's features/ and models/ prefixes.
    run_objects: Mapping[str, int] = field(default_factory=dict)
    #: (DPUs, seconds) of the Spark feature job's run as it recorded them (costs.recorded_spark_run).
    spark_runs: Sequence[Tuple[float, float]] = ()
    #: Why a Spark-built run's Spark part is not priced (the job could not read its own run), else None.
    spark_unknown: Optional[str] = None

    @property
    def stored_bytes(self) -> int:
        return costs.stored_bytes(self.run_objects)

    def usage(self) -> costs.RunUsage:
        return costs.run_usage(self.glue_dpu, self.glue_seconds, self.run_objects, self.feature_lambda,
                               self.trigger_lambda_memory_mb, self.spark_runs)


@dataclass(frozen=True)
class JobResources:
    """What the Glue job knows about the resources of its run (job arguments set by Terraform)."""

    glue_dpu: Optional[float] = None
    feature_lambda_memory_mb: Optional[float] = None
    trigger_lambda_memory_mb: Optional[float] = None

    def cost_inputs(
        self,
        glue_seconds: float,
        manifest: Dict[str, Any],
        features_written_at: Optional[datetime],
        run_objects: Mapping[str, int],
        inputs_written_at: Optional[datetime] = None,
    ) -> CostInputs:
        """CostInputs with the feature Lambda's duration bounded by upload event -> features object written
        (or, for features built by the Spark job, -> ``inputs.json`` written: costs.feature_lambda_bound)."""
        engine = manifest.get("engine", routing.PANDAS)
        seconds = costs.feature_lambda_bound(engine, manifest, str(manifest.get("run_id") or ""),
                                             features_written_at, inputs_written_at)
        spark = costs.recorded_spark_run(manifest)
        spark_unknown = None
        if spark is None and manifest.get("engine") == routing.SPARK:
            spark_unknown = (manifest.get(costs.SPARK_USAGE_FIELD) or {}).get("error") or \
                "the Spark feature job recorded no usage in its manifest"
        return CostInputs(
            glue_dpu=self.glue_dpu,
            glue_seconds=glue_seconds,
            feature_lambda=(self.feature_lambda_memory_mb, seconds)
            if self.feature_lambda_memory_mb and seconds is not None
            else None,
            trigger_lambda_memory_mb=self.trigger_lambda_memory_mb,
            run_objects=run_objects,
            spark_runs=(spark,) if spark else (),
            spark_unknown=spark_unknown,
        )
