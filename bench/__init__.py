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


def cpu_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best CPU time of ``repeat`` calls, in milliseconds (``time.process_time``: this process only, so other work on
    shared cores does not count; torch runs on one thread here, so CPU time is what the call costs)."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best * 1000
