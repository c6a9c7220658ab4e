"""What a training worker process runs (see ``ui.runtime.offload``): plain functions that import no
Streamlit, so a worker holds torch and the lesson code and nothing else."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

# the modules whose training functions run in a worker; imported once when the worker starts
TRAINING_MODULES = ("dlcore.transformer", "dlcore.seq_tasks", "dlcore.deep_training", "dlcore.norm_training",
                    "dlcore.adversarial", "dlcore.gan", "dlcore.batch_noise")


def start(threads: int | None) -> None:
    """Worker start-up: torch's intra-op threads (None: torch's default), then the training modules."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    for name in TRAINING_MODULES:
        importlib.import_module(name)


def ready() -> bool:
    """A no-op job: submitted once so the worker has started before the first learner needs it."""
    return True


def collect(fn: Callable[..., Iterable[Any]], *args: Any, **kwargs: Any) -> list[Any]:
    """``list(fn(*args, **kwargs))``: a generator's items, computed in the worker and sent back as one list."""
    return list(fn(*args, **kwargs))
