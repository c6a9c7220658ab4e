"""Guards that keep one learner's request from hurting the class: a cap on concurrent heavy
work and a safety net that turns an unexpected error into a translated message."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from ui.i18n import t

HEAVY_ENV, COMPUTE_ENV = "DL_LAB_HEAVY_SLOTS", "DL_LAB_COMPUTE_SLOTS"


@st.cache_resource(show_spinner=False)
def _slots(kind: str) -> threading.BoundedSemaphore:
    """Process-wide semaphores. "train" (training runs of seconds): one per core but one, so a class pressing
    *train* together always leaves a core for everyone else's sliders. "compute" (interactive work of
    0.1-0.5 s: a deep signal, an optimizer race, a GAN tick): one per core."""
    cores = max(1, os.cpu_count() or 1)
    env, default = (HEAVY_ENV, max(1, cores - 1)) if kind == "train" else (COMPUTE_ENV, cores)
    try:
        n = max(1, int(os.environ.get(env, default)))
    except ValueError:
        n = default
    return threading.BoundedSemaphore(n)


@contextmanager
def heavy_slot(kind: str = "train", wait_s: float = 20.0) -> Iterator[bool]:
    """Hold one slot of ``kind`` ("train" or "compute") for the block; yields False (and shows a note) if
    none freed up in time.

    Use around training steps and other work that takes more than ~0.2 s::

        with heavy_slot() as ok:
            if ok:
                state = train_steps(state, n=20)
    """
    sem = _slots("train" if kind == "train" else "compute")
    got = sem.acquire(timeout=wait_s)
    if not got:
        st.info(t("app.busy"), icon=":material/hourglass_top:")
    try:
        yield got
    finally:
        if got:
            sem.release()


@contextmanager
def safely() -> Iterator[None]:
    """Last line of defence around a lab's computation: an unexpected error becomes a
    translated ``st.error`` and the rest of the page keeps working.

    Validate inputs explicitly first; this only catches what validation missed.
    """
    try:
        yield
    except (ValueError, RuntimeError, AssertionError, ArithmeticError, IndexError, KeyError) as e:
        st.error(t("app.error", detail=type(e).__name__), icon=":material/error:")
