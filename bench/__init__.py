"""Benchmarks: ``python -m bench`` prints one table; ``python -m bench gan attention`` runs a subset.

Every module ``bench/<name>.py`` that defines ``run() -> list[Row]`` is a benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    bench: str    # module name
    name: str     # what was measured
    value: float
    unit: str     # "ms", "steps/s", "MB", ...
    note: str = ""


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``repeat`` runs of ``number`` calls, in milliseconds per call."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1000
