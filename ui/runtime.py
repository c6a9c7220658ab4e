"""Guards that keep one learner's request from hurting the class: a cap on concurrent heavy
work, training runs in worker processes, and a safety net that turns an unexpected error into a
translated message."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from ui import settings
from ui.i18n import t

R = TypeVar("R")


class process_wide:   # noqa: N801 - used as a decorator, like functools.cache
    """A value made once per process and argument tuple, on first use.

    Unlike ``st.cache_resource`` no client can clear it: Streamlit lets any browser send a "clear caches"
    request, and a semaphore or worker pool rebuilt that way would hand out fresh slots (four training runs
    where two are allowed) and spawn new workers. ``.clear()`` is for tests.
    """

    def __init__(self, make: Callable[..., Any]) -> None:
        self._make, self._lock, self._values = make, threading.Lock(), {}
        self.__doc__ = make.__doc__

    def __call__(self, *args: Any) -> Any:
        try:
            return self._values[args]
        except KeyError:
            with self._lock:
                if args not in self._values:
                    self._values[args] = self._make(*args)
                return self._values[args]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


@process_wide
def _slots(kind: str) -> threading.BoundedSemaphore:
    """Process-wide semaphores. "train" (training runs of seconds): one per core but one, so a class pressing
    *train* together always leaves a core for everyone else's sliders. "compute" (interactive work of
    0.1-0.5 s: a deep signal, an optimizer race, a GAN tick): one per core."""
    return threading.BoundedSemaphore(settings.slot_count(kind))


@process_wide
def _pool() -> ProcessPoolExecutor | None:
    """The process-wide pool of training workers (None when ``DL_LAB_TRAIN_WORKERS=0``).

    Training a small model is mostly Python, and Python in the server process holds its one GIL:
    a class pressing *train* would stall every slider. In a worker the run uses another core and the
    server only waits. Workers are spawned (not forked: the server has threads) and warmed at once.
    """
    from dlcore import jobs

    n = settings.train_workers()
    if n == 0:
        return None
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=jobs.start, initargs=(settings.torch_threads_from_env(),))
    for _ in range(n):
        pool.submit(jobs.ready)
    return pool


def start_workers() -> None:
    """Start (and warm) the training workers now, so the first learner to press *train* does not wait."""
    _pool()


def offload(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)`` in a training worker; the caller's thread waits without holding the GIL.

    ``fn`` must be a top-level function of a module the worker can import (dlcore); arguments and
    result travel by pickle, CPU tensors by value (``dlcore.jobs.dumps``: a training state of a few MB
    costs milliseconds). Call it inside ``heavy_slot()``, which keeps the runs in flight to the number of
    workers. Runs inline when the pool is off or any argument lives on a GPU (the GPU does the work there).
    A worker that died (killed, out of memory) raises ``BrokenProcessPool`` (a RuntimeError: ``safely``
    reports it) and the next call starts a fresh pool.
    """
    from dlcore import jobs  # imports torch: not at module level (app.py imports this module for every page)

    pool = _pool()
    if pool is None or any(_on_gpu(a) for a in (*args, *kwargs.values())):
        return fn(*args, **kwargs)
    try:
        return jobs.loads(pool.submit(jobs.call, jobs.dumps((fn, args, kwargs))).result())
    except BrokenProcessPool:
        _pool.clear()
        raise


def train_in_chunks(step: Callable[..., Any], state: Any, *args: Any, budget_s: float, chunk: int = 50,
                    on_chunk: Callable[[Any], None] | None = None) -> Any:
    """``state = step(state, chunk, *args)`` in a training worker until ``state.done`` or ``budget_s`` seconds;
    ``on_chunk(state)`` after each chunk (a progress bar). The state round-trips by pickle every chunk, so
    the server keeps the latest one; returns it. Call it inside ``heavy_slot()``."""
    t0 = time.perf_counter()
    while not state.done and time.perf_counter() - t0 < budget_s:
        state = offload(step, state, chunk, *args)
        if on_chunk is not None:
            on_chunk(state)
    return state


def _on_gpu(value: Any) -> bool:
    import torch

    if isinstance(value, torch.device):
        return value.type != "cpu"
    if isinstance(value, str):
        return value.startswith(("cuda", "mps"))
    return isinstance(value, torch.Tensor) and value.device.type != "cpu"


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
    got = sem.acquire(blocking=False)
    if not got:   # queued: say so while waiting (a spinner appears after half a second)
        with st.spinner(t("app.queued")):
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


@process_wide
def guard_clear_cache() -> bool:
    """Ignore a browser's "clear caches" request for everyone's caches; returns whether the guard is in place.

    Streamlit answers a ``BackMsg{clear_cache: true}`` from any client by clearing every process-wide cache
    (``st.cache_data`` and ``st.cache_resource``): one student could drop the whole class's results and
    the shared models at once. The menu item is already hidden (``client.toolbarMode = "viewer"``), but the
    message can still be sent. After this guard it clears only the sender's own session state (what
    "reset my session" does) and is logged once per session. Streamlit's internals are reached defensively:
    if the method is gone, nothing is patched and this returns False (``tests/hostile`` notices).
    """
    import logging

    from streamlit.runtime.app_session import AppSession

    handler = getattr(AppSession, "_handle_clear_cache_request", None)
    if not callable(handler):
        return False
    if hasattr(handler, "__wrapped__"):   # already guarded (the tests clear this function's memo)
        return True
    log = logging.getLogger("dl_lab.hostile")

    def own_session_only(self: AppSession) -> None:
        if not getattr(self, "_dl_lab_warned_clear_cache", False):
            log.warning("session %s asked to clear every cache: only its own state was cleared", self.id)
            self._dl_lab_warned_clear_cache = True
        self._session_state.clear()

    own_session_only.__wrapped__ = AppSession._handle_clear_cache_request   # Streamlit's own, for tests
    AppSession._handle_clear_cache_request = own_session_only
    return True


# Fields one widget legitimately receives either of: the browser sends a number input's value as int_value while
# Streamlit registered the widget as double_value (every number input, the sidebar's seed included).
_KIND = {"int_value": "number", "double_value": "number", "int_array_value": "numbers", "double_array_value": "numbers"}


@process_wide
def guard_widget_values() -> bool:
    """Refuse a widget value of the wrong kind before Streamlit deserializes it; returns whether the guard is in place.

    The browser sends each widget's value in one field of a ``WidgetState`` (a slider's list of floats, a select
    box's string, a button's trigger...). Streamlit 1.67 deserializes whatever field arrives and then *adopts the
    field the client sent as the widget's type*: a string sent for a slider, nothing at all, an index for a select
    box, or a list where none is expected raised inside Streamlit on every later run of that session (the
    protocol fuzzer, ``tests/hostile``, found 792 such exceptions in 984 messages). Here a value in another field
    than the widget's declared one, or one its deserializer refuses, is replaced by the widget's default (the
    lesson kit then re-checks every value against its declaration), and logged once per widget and kind.
    If Streamlit's internals change, nothing is patched and this returns False (``tests/hostile`` notices).
    """
    import logging
    from copy import deepcopy

    from streamlit.runtime.state.session_state import Serialized, Value, WStates

    original = getattr(WStates, "__getitem__", None)
    if not callable(original) or getattr(original, "_dl_lab_checked", False):
        return callable(original)
    log, logged = logging.getLogger("dl_lab.hostile"), set()

    def refuse(self: WStates, key: str, metadata: Any, why: str) -> Any:
        if len(logged) < 1000 and (metadata.id.rsplit("-", 1)[-1], why) not in logged:
            logged.add((metadata.id.rsplit("-", 1)[-1], why))
            log.warning("widget %s: %s; its default is used instead", metadata.id.rsplit("-", 1)[-1], why)
        value = deepcopy(metadata.deserializer(None))
        self.states[key] = Value(value)
        return value

    def checked_getitem(self: WStates, key: str) -> Any:
        state, metadata = self.states.get(key), self.widget_metadata.get(key)
        if not isinstance(state, Serialized) or metadata is None:
            return original(self, key)
        sent = state.value.WhichOneof("value")
        if metadata.value_type and _KIND.get(sent, sent) != _KIND.get(metadata.value_type, metadata.value_type):
            return refuse(self, key, metadata, f"a {sent} value for a {metadata.value_type} widget")
        try:
            return original(self, key)
        except Exception as err:   # noqa: BLE001 - any failure on client data (JSON nested 1,000 deep: RecursionError)
            return refuse(self, key, metadata, f"a {sent} value its deserializer refuses ({type(err).__name__})")

    checked_getitem._dl_lab_checked = True
    checked_getitem.__wrapped__ = original
    WStates.__getitem__ = checked_getitem
    return True


UPLOAD_FILES, UPLOAD_BYTES = 4, 6 * 2**20   # per session: a lesson needs one small image at a time


@process_wide
def guard_uploads() -> bool:
    """Hold at most ``UPLOAD_FILES`` files / ``UPLOAD_BYTES`` per session in Streamlit's upload store; returns
    whether the quota is in place.

    Streamlit accepts ``PUT /_stcore/upload_file/<session>/<id>`` for any id of the sender's session, with no
    uploader on the page and no count limit: 300 uploads of 2 MB took a server from 266 to 868 MB. Past the
    quota the session's oldest files are dropped (a lesson reads the newest). If Streamlit's internals change,
    nothing is patched and this returns False (``tests/unit/test_runtime.py`` notices).
    """
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    original = getattr(MemoryUploadedFileManager, "add_file", None)
    if not callable(original) or getattr(original, "_dl_lab_quota", False):
        return callable(original)

    def add_file_within_quota(self: MemoryUploadedFileManager, session_id: str, file: Any) -> None:
        original(self, session_id, file)
        with self._lock:
            files = self.file_storage.get(session_id, {})
            while len(files) > 1 and (len(files) > UPLOAD_FILES
                                      or sum(len(f.data) for f in files.values()) > UPLOAD_BYTES):
                oldest = next(iter(files))
                self._total_bytes -= len(files.pop(oldest).data)
                self._file_count -= 1

    add_file_within_quota._dl_lab_quota = True
    MemoryUploadedFileManager.add_file = add_file_within_quota
    return True


def prune_widget_metadata() -> int:
    """Forget Streamlit's metadata of widgets that no longer have a value; returns how many were dropped.

    Streamlit 1.67 drops a stale widget's *value* at the end of a run but keeps its *metadata* for the
    life of the session. The metadata holds the widget's callbacks, and a callback defined in a page
    holds that run's whole page namespace (results, figures, tables). A widget's id changes with its
    arguments (a number input whose maximum follows the table, a slider over a new range), so a
    session that keeps moving sliders collected one page namespace per new id: measured under the
    30-student soak, hundreds of optimizer-race namespaces and ~0.7 MB/s of server memory. Metadata
    of a widget without a value is never read again (a widget drawn again registers it anew), so it
    is dropped at the start of every run. Streamlit internals are reached defensively: if they
    change, nothing is pruned (``tests/unit/test_runtime.py`` notices).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    safe = getattr(ctx, "session_state", None)
    state, lock = getattr(safe, "_state", None), getattr(safe, "_lock", None)
    widgets = getattr(state, "_new_widget_state", None)
    meta, values = getattr(widgets, "widget_metadata", None), getattr(widgets, "states", None)
    old = getattr(state, "_old_state", None)
    if lock is None or not all(isinstance(d, dict) for d in (meta, values, old)):
        return 0
    with lock:
        stale = [k for k in meta if k not in values and k not in old]
        for k in stale:
            del meta[k]
    return len(stale)


class Turns:
    """Take turns at one kind of work: at most ``n`` holders at once, strictly first come, first served. A holder
    that never hands its turn back (its run raised or was stopped) loses it after ``lease_s``, so a turn is never
    lost for good.

    Each waiter sleeps on its own event, and a turn handed back wakes exactly the next in line: a queue of sixty
    waiting script threads holds no interpreter lock and is not woken sixty times per turn.
    """

    def __init__(self, n: int, lease_s: float) -> None:
        if n < 1 or lease_s <= 0:
            raise ValueError(f"Turns needs n >= 1 and a positive lease (got n={n}, lease_s={lease_s})")
        self.n, self.lease_s = n, lease_s
        self._lock = threading.Lock()
        self._held: dict[int, float] = {}                        # token -> when its lease ends
        self._queue: deque[tuple[int, threading.Event]] = deque()   # the waiters, in order of arrival
        self._next = 0

    def _grant(self, now: float) -> None:
        """Under the lock: forget leases that ran out, then hand free turns to the first in line."""
        for token in [tok for tok, until in self._held.items() if until <= now]:
            del self._held[token]
        while self._queue and len(self._held) < self.n:
            ticket, event = self._queue.popleft()
            self._held[ticket] = now + self.lease_s
            event.set()

    def take(self, wait_s: float) -> int | None:
        """A turn (a token for ``give_back``), waiting up to ``wait_s`` seconds for one; None if none came."""
        deadline = time.monotonic() + max(0.0, wait_s)
        event = threading.Event()
        with self._lock:
            self._next += 1
            ticket = self._next
            self._queue.append((ticket, event))
            self._grant(time.monotonic())
        while True:
            with self._lock:
                now = time.monotonic()
                if not event.is_set():
                    self._grant(now)                  # a lease that ran out hands its turn on
                if event.is_set():
                    return ticket
                if now >= deadline:
                    self._queue.remove((ticket, event))
                    return None
                wake = deadline
                if self._queue[0][0] == ticket and self._held:   # the first in line also watches the leases
                    wake = min(wake, min(self._held.values()))
            event.wait(max(0.0, wake - now))

    def give_back(self, token: int | None) -> None:
        """End the turn ``token`` (a token already expired or None: nothing happens)."""
        with self._lock:
            if self._held.pop(token, None) is not None:
                self._grant(time.monotonic())

    def held(self) -> int:
        with self._lock:
            self._grant(time.monotonic())
            return len(self._held)


TURN = "app._turn"   # session state: (kind, token) of the turn this session's next full run holds


@process_wide
def turns(kind: str) -> Turns:
    """Process-wide turns. "rerun": a whole-page rerun that many sessions ask for at the same moment (a class poll's
    reveal switches every joined student's lab to the experiment): one at a time, so the burst is served first come,
    first served and everyone else's interactions (and the event loop that sends every page) share the interpreter
    with one such run, not with sixty."""
    if kind != "rerun":
        raise ValueError(f"Unknown kind of turn: {kind!r}")
    return Turns(1, lease_s=1.0)


def rerun_in_turn(kind: str = "rerun", wait_s: float = 5.0, *, waiting: Callable[[], None] | None = None) -> None:
    """``st.rerun()`` (the whole page) once this session has a turn of ``kind``; ``end_turn`` at the end of that run
    hands it back. Waits at most ``wait_s`` seconds (then reruns anyway); ``waiting()`` draws something first when
    the turn is not free at once (the learner's verdict, while the other labs redraw)."""
    pool = turns(kind)
    token = pool.take(0.0)
    if token is None:
        if waiting is not None:
            waiting()
        token = pool.take(wait_s)
    if token is not None:
        st.session_state[TURN] = (kind, token)
    st.rerun()


CAPTURE = "app._capture_figure"   # session key: share this run's first lab figure under this key
_figures: dict[tuple, dict[str, Any]] = {}   # key -> a figure's spec, shared by the sessions of this process
_figures_lock = threading.Lock()


def capture_first_figure(key: tuple) -> None:
    """Ask this session's next whole-page run to share its first lab figure under ``key`` (``offer_figure``), unless
    a figure is shared under ``key`` already. A class poll's reveal: the first student's lab to redraw the experiment
    shows it to the others while they wait for their turn (``shared_figure``)."""
    with _figures_lock:
        if key in _figures:
            return
    st.session_state[CAPTURE] = key


def offer_figure(fig: Any) -> None:
    """Keep ``fig``'s spec if this run was asked to (``capture_first_figure``); the lesson kit offers every figure."""
    key = st.session_state.get(CAPTURE)
    if key is None:
        return
    del st.session_state[CAPTURE]
    spec = fig.to_dict()
    with _figures_lock:
        if len(_figures) >= 64:   # bounded: one per revealed poll, language and seed
            _figures.clear()
        _figures.setdefault(key, spec)


def shared_figure(key: tuple, wait_s: float = 0.0) -> dict[str, Any] | None:
    """The figure spec shared under ``key``, waiting up to ``wait_s`` seconds for another session to share it."""
    deadline = time.monotonic() + wait_s
    while True:
        with _figures_lock:
            spec = _figures.get(key)
        if spec is not None or time.monotonic() >= deadline:
            return spec
        time.sleep(0.05)


def end_turn() -> None:
    """Hand back the turn this session's run held, if any (called at the end of every whole-page run); a capture
    asked for (``capture_first_figure``) that drew no figure lapses here, so a later run cannot share a figure of
    other settings under the reveal's key."""
    st.session_state.pop(CAPTURE, None)
    held = st.session_state.get(TURN)
    if held is None:
        return
    del st.session_state[TURN]
    kind, token = held
    turns(kind).give_back(token)


@process_wide
def memo_cache_keys() -> bool:
    """Compute a cached function's cache key once per compiled function, not on every page run; returns whether
    the memo is in place.

    A page's ``@lesson.cached`` functions are defined anew on every run, and Streamlit 1.67 hashes each one's source
    for its cache key (``inspect.getsource``, which tokenizes the file from the function on): 2-3 ms of every
    convolution run, about 6% of a whole-page rerun's server time. The key stays Streamlit's own (module,
    qualified name, source), computed once per code object: a page's code objects are the same from run to run
    until its file changes, and then Streamlit compiles new ones and the key is computed anew. If Streamlit's
    internals change, nothing is patched and this returns False (``tests/unit/test_reveal_turns.py`` notices).
    """
    from streamlit.runtime.caching import cache_utils

    original = getattr(cache_utils, "_make_function_key", None)
    if not callable(original) or getattr(original, "_dl_lab_memo", False):
        return callable(original)
    memo: dict[tuple[Any, ...], tuple[Any, str]] = {}   # (cache type, id(code), module, name) -> (code, key)
    lock = threading.Lock()

    def make_function_key(cache_type: Any, func: Callable[..., Any]) -> str:
        code = getattr(func, "__code__", None)
        if code is None:
            return original(cache_type, func)
        at = (cache_type, id(code), getattr(func, "__module__", None), getattr(func, "__qualname__", None))
        hit = memo.get(at)
        if hit is not None and hit[0] is code:   # the code object is kept alive with its key: an id is never reused
            return hit[1]
        key = original(cache_type, func)
        with lock:
            if len(memo) > 4096:   # bounded: pages edited again and again while the server runs
                memo.clear()
            memo[at] = (code, key)
        return key

    make_function_key._dl_lab_memo = True
    make_function_key.__wrapped__ = original
    cache_utils._make_function_key = make_function_key
    return True
