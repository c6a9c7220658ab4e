"""ui.runtime: training runs in worker processes give the same result as in the server, the pool
restarts after a worker dies, and the slot counts follow the environment."""

import os
import signal
import sys
import time
import types
from concurrent.futures.process import BrokenProcessPool

import pytest
import torch

from dlcore import jobs
from dlcore.attention import transformer as tr
from ui import runtime, settings


@pytest.fixture
def fresh_pool(monkeypatch):
    # A spawned worker re-runs ``sys.modules["__main__"]`` from its file. After an AppTest in this xdist worker,
    # that is the test's script (Streamlit runs scripts as ``__main__``): an ``AppTest.from_function`` script then
    # fails in the worker (``__args`` undefined) and breaks the pool. Give the pool a bare ``__main__``.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.setenv(settings.WORKERS_ENV, "1")
    runtime._pool.clear()
    yield
    pool = runtime._pool()
    runtime._pool.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def test_offload_runs_in_another_process_and_trains_exactly_as_in_the_server(fresh_pool, monkeypatch):
    monkeypatch.setenv("DL_LAB_TORCH_THREADS", "1")      # the worker's threads; the same here, for bitwise equality
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    assert runtime.offload(os.getpid) != os.getpid()
    state = tr.init_training(tr.TrainConfig(task="copy", steps=40, batch=16, seed=3))
    local = tr.init_training(tr.TrainConfig(task="copy", steps=40, batch=16, seed=3))
    for _ in range(2):                                   # the state round-trips chunk by chunk
        state = runtime.offload(tr.train_steps, state, 20)
        tr.train_steps(local, 20)
    assert state.step == local.step == 40 and state.history == local.history
    torch.set_num_threads(before)
    for a, b in zip(state.model.parameters(), local.model.parameters()):
        assert torch.equal(a, b)
        assert not a.is_shared()        # came back by value (dlcore.jobs.dumps), not as shared-memory handles


def test_generators_come_back_as_lists(fresh_pool):
    assert runtime.offload(jobs.collect, range, 3) == [0, 1, 2]


def test_zero_workers_or_a_gpu_argument_run_inline(monkeypatch):
    monkeypatch.setenv(settings.WORKERS_ENV, "0")
    runtime._pool.clear()
    assert runtime.offload(os.getpid) == os.getpid()
    runtime._pool.clear()
    assert runtime._on_gpu(torch.device("cuda")) and runtime._on_gpu("cuda:0") and not runtime._on_gpu("cpu")


def test_a_killed_worker_is_reported_once_then_a_fresh_pool_serves(fresh_pool):
    pid = runtime.offload(os.getpid)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    with pytest.raises(BrokenProcessPool):   # a RuntimeError: the page's safely() shows a translated message
        runtime.offload(os.getpid)
    assert runtime.offload(os.getpid) not in (pid, os.getpid())


def test_worker_and_slot_counts_follow_the_environment(monkeypatch):
    monkeypatch.setenv(settings.WORKERS_ENV, "3")
    assert settings.train_workers() == 3
    monkeypatch.setenv(settings.WORKERS_ENV, "many")
    monkeypatch.setenv(settings.HEAVY_ENV, "2")
    assert settings.train_workers() == 2                  # falls back to the number of training slots
    monkeypatch.delenv(settings.WORKERS_ENV)
    assert settings.train_workers() == 2


def test_heavy_slot_queues_then_gives_up_with_a_note(monkeypatch):
    import threading

    monkeypatch.setenv(settings.HEAVY_ENV, "1")
    runtime._slots.clear()
    sem = runtime._slots("train")
    assert sem.acquire(blocking=False)                    # another learner's run holds the only slot
    with runtime.heavy_slot(wait_s=0.2) as ok:
        assert not ok                                     # gave up: the page shows app.busy instead
    threading.Timer(0.2, sem.release).start()             # the other run finishes while we wait
    with runtime.heavy_slot(wait_s=5) as ok:
        assert ok
    assert sem.acquire(blocking=False)                    # and the slot was given back
    sem.release()
    runtime._slots.clear()


def test_train_in_chunks_stops_when_done_and_reports_each_chunk(fresh_pool):
    state = tr.init_training(tr.TrainConfig(task="copy", steps=60, batch=8, seed=1))
    seen = []
    state = runtime.train_in_chunks(tr.train_steps, state, budget_s=120, chunk=25,
                                    on_chunk=lambda s: seen.append(s.step))
    assert state.done and state.step == 60 and seen == [25, 50, 60]
    late = runtime.train_in_chunks(tr.train_steps, tr.init_training(tr.TrainConfig(task="copy", steps=60, batch=8)),
                                   budget_s=0.0)
    assert late.step == 0                                   # no time left: nothing trained, the state comes back


_METADATA_SCRIPT = """
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from ui.runtime import prune_widget_metadata

if st.session_state.get("prune", True):
    st.session_state["dropped"] = st.session_state.get("dropped", 0) + prune_widget_metadata()
n = st.session_state.get("n", 0)
payload = list(range(20_000))            # what a page namespace holds: results, figures, tables


def on_change():                         # a callback defined in the page: it holds this run's namespace
    st.session_state["changed"] = len(payload)


st.number_input("kept", 0, 10, key="kept", on_change=on_change)
st.number_input(f"moving {n}", 0, 10 + n, on_change=on_change)   # a new widget id every run
st.session_state["n"] = n + 1
st.session_state["metadata"] = len(get_script_run_ctx().session_state._state._new_widget_state.widget_metadata)
"""


@pytest.mark.parametrize("prune", [True, False])
def test_metadata_of_widgets_without_a_value_is_dropped_so_old_page_namespaces_can_go(prune):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(_METADATA_SCRIPT, default_timeout=30)
    at.session_state["prune"] = prune
    at.run()
    for _ in range(12):
        at.run()
    assert not at.exception
    if prune:
        # the two widgets of this run, plus the previous run's moving input (dropped by Streamlit at the end
        # of the run that replaced it, by us at the start of the next one)
        assert at.session_state["metadata"] <= 3 and at.session_state["dropped"] >= 10
    else:   # what Streamlit 1.67 does on its own: one entry (and one namespace) per widget id ever drawn
        assert at.session_state["metadata"] >= 13
    at.number_input(key="kept").set_value(4).run()       # the kept widget's value and callback still work
    assert at.number_input(key="kept").value == 4 and at.session_state["changed"] == 20_000


def test_a_clients_clear_cache_request_clears_only_its_own_session(monkeypatch):
    import streamlit as st
    from streamlit.runtime.app_session import AppSession

    handler = AppSession._handle_clear_cache_request
    original = getattr(handler, "__wrapped__", handler)   # Streamlit's own, even if an AppTest guarded it already
    monkeypatch.setattr(AppSession, "_handle_clear_cache_request", original)   # restored after the test
    runtime.guard_clear_cache.clear()
    calls = []

    @st.cache_data
    def shared(x: int) -> int:
        calls.append(x)
        return x * 2

    @st.cache_resource
    def model() -> object:
        calls.append("model")
        return object()

    shared(3)
    first_model = model()
    slots = runtime._slots("train")

    class Session:   # what the handler touches of an AppSession
        id = "hostile"

        def __init__(self):
            self._session_state = {"app.seed": 7}

    hostile = Session()
    assert runtime.guard_clear_cache() is True
    AppSession._handle_clear_cache_request(hostile)
    AppSession._handle_clear_cache_request(hostile)   # repeated: still harmless
    assert hostile._session_state == {}               # the sender's own state is cleared
    assert shared(3) == 6 and model() is first_model and calls == [3, "model"]   # everyone else's caches are not
    assert runtime._slots("train") is slots           # and no limit was reset
    runtime.guard_clear_cache.clear()
    original(hostile)                                 # without the guard, Streamlit clears them for everyone
    shared(3)
    assert calls == [3, "model", 3]


def test_a_session_holds_a_bounded_number_of_uploaded_bytes():
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    assert runtime.guard_uploads() is True
    store = MemoryUploadedFileManager("/_stcore/upload_file")
    two_mb = b"x" * (2 * 2**20)
    for i in range(300):   # the flood of issue 30: 300 uploads of 2 MB from one session
        store.add_file("hostile", UploadedFileRec(f"f{i}", "a.png", "image/png", two_mb))
    store.add_file("student", UploadedFileRec("digit", "d.png", "image/png", b"png"))
    held = store.file_storage["hostile"]
    assert len(held) <= runtime.UPLOAD_FILES and sum(len(f.data) for f in held.values()) <= runtime.UPLOAD_BYTES
    assert "f299" in held                                                 # the newest is what a page reads
    assert store.get_files("student", ["digit"])[0].data == b"png"        # another session is untouched
    assert store._total_bytes == sum(len(f.data) for s in store.file_storage.values() for f in s.values())
