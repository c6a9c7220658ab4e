"""Choosing and describing the compute device, thread count and seeded random state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

_SEED_LOCK = threading.Lock()


@dataclass(frozen=True)
class DeviceInfo:
    kind: str          # "cpu" or "cuda"
    name: str          # human-readable, e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 threads)"
    available: tuple[str, ...]  # kinds this process can use


def available() -> tuple[str, ...]:
    """Device kinds this process can use, CPU first."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def pick(preference: str = "cpu") -> torch.device:
    """The torch.device for ``preference`` ("cpu" or "cuda"), falling back to CPU.

    Unknown strings and "cuda" on a machine without CUDA both give the CPU, so a
    shared URL made on a GPU server still opens on a laptop.
    """
    if preference == "cuda" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def describe(device: torch.device) -> DeviceInfo:
    """Kind and readable name of ``device``."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        n = torch.get_num_threads()
        name = f"CPU ({n} thread{'' if n == 1 else 's'})"
    return DeviceInfo(kind=device.type, name=name, available=available())


def threads() -> int:
    """torch's intra-op thread count in force."""
    return torch.get_num_threads()


def set_threads(n: int) -> int:
    """Set torch's intra-op thread count once per process; returns the count in force."""
    assert n >= 1, f"thread count must be >= 1, got {n}"
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private random generator seeded with ``seed``.

    Use it for sampling (``torch.randn(..., generator=g)``) so concurrent users
    of one server never share random state.
    """
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (typically ``nn.Module`` construction) under a fixed global seed.

    The global RNG is forked, so the caller's random state is untouched, and a
    lock keeps two server threads from interleaving their seeded blocks.
    """
    with _SEED_LOCK, torch.random.fork_rng(devices=[]):
        # the CPU generator directly: torch.manual_seed also queues a lazy CUDA seeding with a formatted
        # stack trace (~1 ms a call) even where there is no GPU
        torch.default_generator.manual_seed(int(seed))
        if torch.cuda.is_available():      # modules built on the GPU draw their initial weights there
            torch.cuda.manual_seed_all(int(seed))
        yield
