"""The HTML report of one training run: how the model did, against what, on which data, at what cost.

The Glue job builds it *after* the model artifacts and ``latest.json`` are written, so a report
failure never blocks a model. Sections:

- walk-forward metrics per fold, every model beside the baselines (from ``metrics.json``), under a
  headline that states the classification and the net-of-fees comparison separately;
- equity of the selected model's out-of-sample signal vs buy-and-hold, net of
  :data:`cripto_pipeline.strategy.FEE_RATE`;
- the confusion matrix of that signal;
- feature importances (impurity importances for forests, standardised coefficients for logistic
  regression, permutation importance on the last test fold otherwise);
- data coverage: rows per period and per symbol, gaps in the time series;
- the lineage (``lineage.json``) and the run's estimated AWS cost (:mod:`cripto_pipeline.costs`).

Modules: :mod:`.usage` (the cost estimate's inputs), :mod:`.analysis` (the numbers),
:mod:`.plots` (PNGs, matplotlib imported lazily), :mod:`.page` (the HTML).
"""

from __future__ import annotations

from typing import Any, Dict

from .. import layout
from ..pipeline import ObjectToWrite, Outcome
from . import analysis, page, plots
from .usage import CostInputs, JobResources

HTML_TYPE = "text/html; charset=utf-8"

__all__ = ["CostInputs", "JobResources", "build_report", "HTML_TYPE"]


def build_report(
    outcome: Outcome, manifest: Dict[str, Any], parquet: bytes, cost_inputs: CostInputs
) -> ObjectToWrite:
    """``models/<dataset>/<run_id>/report.html`` for a training outcome (needs matplotlib)."""
    data = analysis.build_report_data(outcome, manifest, parquet, cost_inputs)
    html = page.render_html(data, plots.render_plots(data))
    keys = layout.run_keys(outcome.summary["dataset"], outcome.summary["run_id"])
    return ObjectToWrite(keys.report, html.encode("utf-8"), HTML_TYPE)
