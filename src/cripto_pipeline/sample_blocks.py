"""The names of a time-stratified sample's blocks: ``<symbol>#<span>`` (the one definition of the format).

The Spark feature job's sample (cripto_pipeline.spark_sample) keeps, per time span and symbol, one
unbroken run of bars and renames its symbol ``<symbol>#<span, 3 digits>``, so training's next-bar
target never joins two blocks. Training keeps the blocks; what people read (the report's data coverage,
the number of symbols in metrics.json) names the real symbols: :func:`real_symbols`.
"""

from __future__ import annotations

import re

import pandas as pd

#: Between a symbol and the number of its time span.
SEPARATOR = "#"
#: The span number's width, zero-padded (the sample has at most 1000 spans).
SPAN_DIGITS = 3
#: How the manifest's ``sample.symbol_naming`` describes the format.
NAMING = f"<symbol>{SEPARATOR}<bucket, {SPAN_DIGITS} digits>: each block is its own series"

_SUFFIX = re.compile(rf"{re.escape(SEPARATOR)}\d{{{SPAN_DIGITS}}}$")


def block_symbol(symbol: str, span: int) -> str:
    """The name of ``symbol``'s block in time span ``span`` (what the Spark sample writes)."""
    return f"{symbol}{SEPARATOR}{span:0{SPAN_DIGITS}d}"


def real_symbols(symbols: pd.Series) -> pd.Series:
    """``symbols`` with each block suffix removed (names without one are returned unchanged)."""
    return symbols.astype(str).str.replace(_SUFFIX, "", regex=True)
