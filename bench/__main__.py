"""Run every benchmark module (or those named on the command line) and print one table."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time

import bench
from bench import Row

os.environ.setdefault("DL_LAB_TORCH_THREADS", "1")
SKIP = {"__main__", "loadgen"}


def main(argv: list[str]) -> int:
    from dlcore.device import set_threads

    set_threads(int(os.environ["DL_LAB_TORCH_THREADS"]))  # as the server runs (ui.frame.configure_torch)
    names = [m.name for m in pkgutil.iter_modules(bench.__path__) if m.name not in SKIP]
    wanted = [a for a in argv if not a.startswith("-")]
    if wanted:
        unknown = set(wanted) - set(names)
        if unknown:
            print(f"unknown benchmarks: {sorted(unknown)}; available: {sorted(names)}", file=sys.stderr)
            return 2
        names = wanted
    rows: list[Row] = []
    for name in sorted(names):
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "run"):
            continue
        t0 = time.perf_counter()
        try:
            rows += module.run()
        except Exception as e:  # a broken benchmark is reported, the others still run
            rows.append(Row(name, "FAILED", float("nan"), "", f"{type(e).__name__}: {e}"))
        print(f"[{name}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr)
    w = max([len(f"{r.bench}/{r.name}") for r in rows] + [10])
    print(f"{'benchmark'.ljust(w)}  {'value':>12}  unit       note")
    print(f"{'-' * w}  {'-' * 12}  ---------  ----")
    for r in rows:
        print(f"{(r.bench + '/' + r.name).ljust(w)}  {r.value:>12.4g}  {r.unit:<9}  {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
