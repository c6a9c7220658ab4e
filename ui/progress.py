"""Every training run in the browser, shown one way: a progress bar naming what runs, with the seconds so far and
an estimate of the seconds left, and a Stop button that really stops it (issue 31, item 8).

A click on Stop asks Streamlit for a rerun, which interrupts the running script at its next Streamlit call (the
next progress update). That rerun first calls the button's callback, which remembers the stopped job in this
learner's session; the page then shows that the run was stopped and does not start it again until the learner
asks: a "Train again" button, a train button of the page (``asked``), or other settings (another ``job``).

A click inside a fragment (the live retraining panels) asks for a rerun of that fragment only, which Streamlit does
not let interrupt a run; there each progress update also looks at the pending rerun for a Stop click (Streamlit's
internals, reached defensively: if they change, only the interrupting path stays).

    with progress.training("normalization.train", what=t(...), total=len(configs), job=configs) as run, safely():
        if run:
            for k, config in enumerate(configs, 1):
                runs.append(train(config))
                run.update(k)   # or: runs = [train(config) for config in run.track(configs)]
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import streamlit as st

from ui.i18n import t
from ui.runtime import heavy_slot, train_in_chunks

T = TypeVar("T")


class _Stopped(Exception):
    """Raised by :meth:`Run.update` when the Stop click was found in a pending fragment rerun."""


def _stopped_key(key: str) -> str:
    return f"{key}._stopped"


def _record_stop(key: str, job: str) -> None:
    """The Stop button's callback (it runs first in the rerun its click asks for): remember the stopped job and how
    far it had come."""
    st.session_state[_stopped_key(key)] = {"job": job, **st.session_state.get(f"{key}._progress", {})}


def _forget_stop(key: str) -> None:
    st.session_state.pop(_stopped_key(key), None)


def stop_pending(stop_key: str) -> bool:
    """Whether a rerun waiting behind this run carries a click on the button ``stop_key`` (the fragment case)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    try:
        widget_id = ctx.session_state._state._key_id_mapper.get_id_from_key(stop_key, None)
        requests = ctx.script_requests
        if widget_id is None or requests is None or requests._state.name != "RERUN":
            return False
        states = requests._rerun_data.widget_states
    except AttributeError:   # another Streamlit: Stop still interrupts outside fragments
        return False
    return states is not None and any(w.id == widget_id and w.trigger_value for w in states.widgets)


@dataclass
class Run:
    """One training run on screen: ``update(done)`` after each chunk of work (``total`` units in all)."""

    key: str
    what: str
    total: float
    bar: st.delta_generator.DeltaGenerator
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def update(self, done: float, what: str | None = None) -> None:
        """Show ``done`` of ``total`` units, the seconds so far and the seconds left (linear in the units done);
        ``what`` replaces the label. Stops the run here if the learner pressed Stop."""
        if stop_pending(f"{self.key}.stop"):
            raise _Stopped
        self.what = what or self.what
        share, elapsed = min(1.0, max(0.0, done / self.total)), self.elapsed()
        st.session_state[f"{self.key}._progress"] = {"elapsed": elapsed, "percent": 100 * share}
        self.bar.progress(share, text=estimate(self.what, elapsed, share))

    def track(self, items: Sequence[T], label: Callable[[T, int, int], str] | None = None) -> Iterator[T]:
        """The ``items`` one by one, the bar counting them (one unit each; ``total`` becomes their number) and
        naming each as it starts with ``label(item, i, n)`` (the i-th of n, from 1)."""
        self.total = float(len(items))
        for done, item in enumerate(items):
            self.update(done, label(item, done + 1, len(items)) if label else None)
            yield item
        self.update(len(items))


def estimate(what: str, elapsed: float, share: float) -> str:
    """The bar's label: what runs, the seconds so far and, once some of it is done, about how many are left
    (linear: the time so far times the share still to do over the share done)."""
    if share <= 0:
        return t("app.progress.estimating", what=what, elapsed=f"{elapsed:.0f}")
    return t("app.progress.running", what=what, elapsed=f"{elapsed:.0f}",
             left=f"{elapsed * (1 - share) / share:.0f}")


def notice(stopped: dict) -> None:
    """Say that the run was stopped, after how many seconds and how far."""
    st.info(t("app.progress.stopped", elapsed=f"{stopped.get('elapsed', 0):.0f}",
              percent=f"{stopped.get('percent', 0):.0f}"), icon=":material/stop_circle:")


@contextmanager
def training(key: str, *, what: str, total: float = 1.0, job: Hashable = None, asked: bool = False,
             auto: bool = True) -> Iterator[Run | None]:
    """A progress bar with a Stop button for the block; yields the :class:`Run`, or None when nothing should train.

    key: the lesson's name for this training (widget keys start with it); what: the label's first words;
    total: the units of work (runs, steps); job: what this run computes (the settings; a stopped job stays stopped
    until the learner asks again, and other settings are asking); asked: the learner pressed a train button in
    this run; auto: train without being asked (False: only when ``asked``). Holds a training slot for the block
    (``ui.runtime.heavy_slot``: None, with a note, when the class has every slot busy).
    """
    job = repr(job)
    stopped = st.session_state.get(_stopped_key(key))
    if stopped is not None and (asked or stopped["job"] != job):
        _forget_stop(key)
        stopped = None
    if stopped is not None:
        notice(stopped)
        if auto:
            st.button(t("app.progress.again"), key=f"{key}.again", icon=":material/replay:",
                      on_click=_forget_stop, args=(key,))
        yield None
        return
    if not (asked or auto):
        yield None
        return
    with heavy_slot() as ok:
        if not ok:
            yield None
            return
        st.session_state[f"{key}._progress"] = {"elapsed": 0.0, "percent": 0.0}
        box = st.empty()
        left, right = box.container().columns([6, 1], vertical_alignment="bottom")
        right.button(t("app.progress.stop"), key=f"{key}.stop", icon=":material/stop:", width="stretch",
                     help=t("app.progress.stop_help"), on_click=_record_stop, args=(key, job))
        run = Run(key, what, float(total), left.progress(0.0, text=estimate(what, 0.0, 0.0)))
        try:
            yield run
        except _Stopped:   # found in a pending fragment rerun: that rerun's callback records it too
            _record_stop(key, job)
            box.empty()
            notice(st.session_state[_stopped_key(key)])
            return
        except Exception:   # an error: the caller's safety net says so, without a bar left behind
            box.empty()
            raise
        box.empty()


class SharedRuns(Generic[T]):
    """Finished runs kept for the whole class in this server process, for a run whose progress the learner watches
    while it trains. ``st.cache_data`` cannot keep those: it would record the progress bar's updates with the result
    and replay them on every later hit. The least recently used run leaves first, and each leaves after ``ttl``
    seconds (as the lesson caches do)."""

    def __init__(self, name: str, max_entries: int, ttl: float) -> None:
        self.name, self.max_entries, self.ttl = name, max_entries, ttl
        self._items: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        """The run kept for ``key``, or None (never run, evicted or expired)."""
        with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item[0] > self.ttl:
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


_SHARED: dict[str, SharedRuns] = {}
_SHARED_LOCK = threading.Lock()


def shared_runs(name: str, max_entries: int = 16, ttl: float = 3600) -> SharedRuns:
    """The class's store of finished runs called ``name`` (the same store on every page run of this process)."""
    with _SHARED_LOCK:
        return _SHARED.setdefault(name, SharedRuns(name, max_entries, ttl))


S = TypeVar("S")


def shared_run(store: SharedRuns[T], key: Hashable, start: Callable[[], S], step: Callable[[S, int], S], *,
               what: str, total: float, done: Callable[[S], float], keep: Callable[[S], T], chunk: int) -> T | None:
    """A run kept for the class: ``keep(state)`` from ``store`` when someone already ran ``key``; else trained here
    in chunks in a worker (``state = step(state, chunk)`` from ``start()`` until ``state.done``), with a progress bar
    (``done(state)`` of ``total`` units) and a Stop button, then kept. None while it cannot run (stopped, or every
    training slot of the class busy)."""
    if (kept := store.get(key)) is not None:
        return kept
    with training(store.name, what=what, total=total, job=key) as run:
        if run is None:
            return None
        state = train_in_chunks(step, start(), budget_s=math.inf, chunk=chunk, on_chunk=lambda s: run.update(done(s)))
    store.put(key, kept := keep(state))
    return kept
