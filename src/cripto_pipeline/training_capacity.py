"""The capacity of a training run, chosen by the size of its features file (issue 12).

AWS runs a Python shell job at ``MaxCapacity`` 0.0625 DPU (1 GB of memory) or 1 DPU (16 GB), set per
run by StartJobRun. The training job is defined at 0.0625 (terraform/glue.tf); the trigger starts a
run with :data:`PYTHON_SHELL_LARGE_DPU` when its features.parquet is larger than the threshold, and
passes the same number as the run argument ``--glue_dpu``, so the report prices the DPUs the run had.
"""

from __future__ import annotations

from typing import Dict, Optional

#: The two capacities AWS allows a Python shell run (DPU): 1/16 DPU = 1 GB, 1 DPU = 16 GB.
PYTHON_SHELL_DPUS = (0.0625, 1.0)
PYTHON_SHELL_LARGE_DPU = PYTHON_SHELL_DPUS[1]

#: features.parquet sizes above this (bytes) train at the large capacity.
#: Why 32 MiB: the training job's peak memory (pipeline.train_from_features + report.build_report in
#: the Glue Python 3.9 environment) grows about linearly with the features file: 26.5 MB -> 397 MiB,
#: 49 MB -> 579 MiB, 218 MB -> 2,081 MiB (imports alone ~110-130 MiB), i.e. ~165 MiB + ~8.8 MiB per
#: MB (measured for issue 12). 1 GB (0.0625 DPU) less a 40 % margin for the OS, Glue's own process and
#: data whose rows compress better than the measured ones leaves ~600 MiB. At 32 MiB the job peaked at
#: 487 MiB (130 k rows x 10 symbols, 32.9 MiB; 37 MiB -> 557 MiB), under half the run's memory and
#: ~20 % under that budget; a run just above it pays 1 DPU (16x the price per second) instead of being
#: killed for memory.
DEFAULT_LARGE_FEATURES_BYTES = 32 * 1024 * 1024


def run_capacity(features_bytes: Optional[int], large_features_bytes: int,
                 large_dpu: float = PYTHON_SHELL_LARGE_DPU) -> Optional[float]:
    """The ``MaxCapacity`` to start a run with: ``large_dpu`` above ``large_features_bytes``, else None
    (the job's own capacity). An unknown size (an event record without ``size``) gets ``large_dpu``:
    a run that has too much memory costs more, one that has too little is killed."""
    if features_bytes is None or features_bytes > large_features_bytes:
        return large_dpu
    return None


def run_request(arguments: Dict[str, str], capacity: Optional[float]) -> Dict[str, object]:
    """StartJobRun's ``Arguments`` (with ``--glue_dpu`` when the capacity is the run's own) and
    ``MaxCapacity``; without a capacity, the job's defaults apply to both."""
    if capacity is None:
        return {"Arguments": dict(arguments)}
    return {"Arguments": {**arguments, "--glue_dpu": f"{capacity:g}"}, "MaxCapacity": float(capacity)}
