"""The class store: what a join costs when sixty students open the teacher's link at once.

Sixty threads each resolve the teacher's code (a fresh browser joining), on the default SQLite file and, when
``DL_LAB_TEST_DATABASE_URL`` (or ``DL_LAB_BENCH_DATABASE_URL``) names a PostgreSQL, on that. Reports p50 / p95
of one resolve under that concurrency, and of a presenter creating a code.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from bench import Row

JOINERS = 60


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _measure(url: str) -> tuple[list[float], list[float]]:
    from classroom import db
    from classroom.store import Store, new_teacher_key

    engine = db.make_engine(url)
    db.upgrade(engine)
    store = Store(engine)
    creates = []
    for i in range(20):
        t0 = time.perf_counter()
        code = store.create_code(new_teacher_key(), "gan", {"gan.lr_d": str(i)})
        creates.append((time.perf_counter() - t0) * 1000)

    def join(_: int) -> float:
        t0 = time.perf_counter()
        assert store.resolve_code(code) is not None
        return (time.perf_counter() - t0) * 1000

    resolves: list[float] = []
    with ThreadPoolExecutor(JOINERS) as pool:
        for _ in range(5):   # five waves of sixty simultaneous joins
            resolves += list(pool.map(join, range(JOINERS)))
    engine.dispose()
    return resolves, creates


def run() -> list[Row]:
    targets = [("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='dl-lab-bench-')}/classroom.db")]
    pg = os.environ.get("DL_LAB_BENCH_DATABASE_URL") or os.environ.get("DL_LAB_TEST_DATABASE_URL")
    if pg:
        targets.append(("postgresql", pg))
    rows = []
    for kind, url in targets:
        resolves, creates = _measure(url)
        note = f"{JOINERS} concurrent joins x 5"
        rows += [Row("classroom", f"{kind}: resolve a join code, p50", statistics.median(resolves), "ms", note),
                 Row("classroom", f"{kind}: resolve a join code, p95", _percentile(resolves, 0.95), "ms", note),
                 Row("classroom", f"{kind}: presenter creates a code, p50", statistics.median(creates), "ms")]
    return rows
