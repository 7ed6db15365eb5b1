"""What the report's cost estimate is computed from: the resources one run used, as the Glue job knows them.

The prices and the computation are :mod:`cripto_pipeline.costs`'; this module only gathers its inputs
(job arguments set by Terraform, the job's own clock, the upload's event time, the bytes written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional, Tuple

import pandas as pd

from .. import costs

#: Billed seconds assumed for the trigger Lambda (short, never free): the same bound as the CLI's.
TRIGGER_SECONDS_ESTIMATE = 0.1


@dataclass(frozen=True)
class CostInputs:
    """What the job measured or was told about the resources its run used."""

    glue_dpu: Optional[float]
    glue_seconds: float
    #: (memory MB, seconds) of the feature Lambda: seconds bounded by upload -> features written.
    feature_lambda: Optional[Tuple[float, float]] = None
    trigger_lambda_memory_mb: Optional[float] = None
    stored_bytes: int = 0

    def usage(self) -> costs.RunUsage:
        invocations = [self.feature_lambda] if self.feature_lambda else []
        if self.trigger_lambda_memory_mb:
            invocations.append((self.trigger_lambda_memory_mb, TRIGGER_SECONDS_ESTIMATE))
        return costs.RunUsage(
            lambda_invocations=invocations,
            glue_dpu=self.glue_dpu or 0.0,
            glue_seconds=self.glue_seconds,
            stored_bytes=self.stored_bytes,
        )


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
        stored_bytes: int,
    ) -> CostInputs:
        """CostInputs with the feature Lambda's duration bounded by upload event -> features object written."""
        feature_lambda = None
        event_time = (manifest.get("raw") or {}).get("event_time")
        if self.feature_lambda_memory_mb and event_time and features_written_at is not None:
            seconds = (pd.Timestamp(features_written_at) - pd.Timestamp(event_time)).total_seconds()
            feature_lambda = (self.feature_lambda_memory_mb, max(0.0, seconds))
        return CostInputs(
            glue_dpu=self.glue_dpu,
            glue_seconds=glue_seconds,
            feature_lambda=feature_lambda,
            trigger_lambda_memory_mb=self.trigger_lambda_memory_mb,
            stored_bytes=stored_bytes,
        )
