"""What a training worker process runs (see ``ui.runtime.offload``): plain functions that import no
Streamlit, so a worker holds torch and the lesson code and nothing else."""

from __future__ import annotations

import importlib
import io
import pickle
from collections.abc import Callable, Iterable
from typing import Any

import torch

# the modules whose training functions run in a worker; imported once when the worker starts
TRAINING_MODULES = ("dlcore.attention.transformer", "dlcore.sequences.tasks", "dlcore.deep_training",
                    "dlcore.normalization.training", "dlcore.adversarial", "dlcore.gan", "dlcore.batch_noise",
                    "dlcore.cnn_architectures")


def start(threads: int | None) -> None:
    """Worker start-up: torch's intra-op threads (None: torch's default), then the training modules."""
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


# --- transport ---------------------------------------------------------------------------------------------
# A process pool pickles arguments and results with multiprocessing's ForkingPickler, for which torch registers
# a reduction that moves every tensor's storage to shared memory and hands its file descriptor over a socket
# (a connection and an authentication handshake per storage). For a training state of hundreds of small tensors
# that costs the server ~0.3 ms of CPU per tensor, holding its GIL. ``dumps`` / ``loads`` send CPU tensors by
# value as numpy arrays instead (~40x cheaper for small tensors); anything else pickles as usual.

def _tensor(array: Any, requires_grad: bool) -> torch.Tensor:
    tensor = torch.from_numpy(array)
    return tensor.requires_grad_() if requires_grad else tensor


_NUMPY_DTYPES = frozenset({torch.float64, torch.float32, torch.float16, torch.complex64, torch.complex128,
                           torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool})


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if (type(obj) is torch.Tensor and obj.device.type == "cpu" and obj.layout == torch.strided
                and obj.dtype in _NUMPY_DTYPES and (obj.is_leaf or not obj.requires_grad)):
            return _tensor, (obj.detach().resolve_conj().resolve_neg().numpy(), obj.requires_grad)
        return NotImplemented


def dumps(obj: Any) -> bytes:
    """``obj`` pickled with CPU tensors (of a dtype numpy has) by value as numpy arrays."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    """The inverse of ``dumps`` (only ever given what ``dumps`` produced, in this app's own processes)."""
    return pickle.loads(data)


def call(payload: bytes) -> bytes:
    """A worker job: ``fn(*args, **kwargs)`` from ``dumps((fn, args, kwargs))``; the result ``dumps``-ed back."""
    fn, args, kwargs = loads(payload)
    return dumps(fn(*args, **kwargs))
