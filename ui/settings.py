"""Settings a server process reads from its environment once: torch threads, slots and training workers.

One place for them, read by ``ui.frame`` (torch set-up) and ``ui.runtime`` (slots, workers); no Streamlit.
"""

from __future__ import annotations

import os

THREADS_ENV = "DL_LAB_TORCH_THREADS"
HEAVY_ENV, COMPUTE_ENV, WORKERS_ENV = "DL_LAB_HEAVY_SLOTS", "DL_LAB_COMPUTE_SLOTS", "DL_LAB_TRAIN_WORKERS"


def torch_threads_from_env() -> int | None:
    """Torch intra-op threads per process from ``DL_LAB_TORCH_THREADS``; None (unset or "auto"): torch's default.

    Unset, torch uses one thread per physical core: right for one learner on their own machine (the
    deep-signal experiment at its caps takes ~0.24 s on two cores, ~0.37 s on one). A class server sets
    1 (the Dockerfile, compose file and Kubernetes manifests do): the process serves many sessions at
    once, each in its own thread, so parallelism comes from sessions and one slider cannot take every core.
    A value that is not a whole number counts as 1.
    """
    raw = os.environ.get(THREADS_ENV, "auto").strip().lower()
    if raw in ("", "auto"):
        return None
    try:
        return max(1, min(64, int(raw)))
    except ValueError:
        return 1


def slot_count(kind: str) -> int:
    """How many runs of ``kind`` may run at once: "train" (``DL_LAB_HEAVY_SLOTS``, default cores - 1) or
    "compute" (``DL_LAB_COMPUTE_SLOTS``, default one per core)."""
    cores = max(1, os.cpu_count() or 1)
    env, default = (HEAVY_ENV, max(1, cores - 1)) if kind == "train" else (COMPUTE_ENV, cores)
    try:
        return max(1, int(os.environ.get(env, default)))
    except ValueError:
        return default


def train_workers() -> int:
    """Worker processes for training runs, from ``DL_LAB_TRAIN_WORKERS`` (default: as many as "train" slots;
    0 runs training in the server process itself)."""
    default = slot_count("train")
    try:
        return max(0, min(16, int(os.environ.get(WORKERS_ENV, default))))
    except ValueError:
        return default
