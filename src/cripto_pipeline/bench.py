"""Feature-engineering benchmark: ``python -m cripto_pipeline.bench [--rows N] [--symbols K]``.

Prints one JSON object (rows, best/worst seconds, peak RSS of the process in MiB, limits) and
exits 1 when the run is slower than ``--max-seconds`` or its peak RSS exceeds ``--max-rss-mib``
(defaults: the project's budget, 1 M rows in <= 2 s and < 1 GiB). The peak RSS covers the whole
process (interpreter, libraries, the synthetic input and the output), so it is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from typing import List, Optional

from .features import benchmark


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cripto_pipeline.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--max-rss-mib", type=float, default=1024.0)
    args = parser.parse_args(argv)
    result = benchmark(args.rows, args.symbols, args.repeat)
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    result.update({"max_seconds": args.max_seconds, "max_rss_mib": args.max_rss_mib})
    result["ok"] = result["seconds_best"] <= args.max_seconds and result["peak_rss_mib"] < args.max_rss_mib
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
