"""What keeps a class poll's reveal burst cheap (ui.runtime): whole-page reruns take turns, first come first served,
and a page's cached functions get their cache key once per compiled function instead of on every run."""

from __future__ import annotations

import inspect
import threading
import time
import types

import pytest

from ui.runtime import Turns, memo_cache_keys, turns


def test_a_turn_is_one_holder_at_a_time_and_comes_back_when_given_back():
    pool = Turns(1, lease_s=30)
    first = pool.take(0.0)
    assert first is not None and pool.held() == 1
    assert pool.take(0.0) is None                      # busy: no second holder
    t0 = time.monotonic()
    assert pool.take(0.05) is None and time.monotonic() - t0 >= 0.04   # waited, then gave up
    pool.give_back(first)
    assert pool.held() == 0 and pool.take(0.0) is not None
    pool.give_back(None)                               # nothing held under that token: nothing happens
    pool.give_back(first)                              # given back twice: nothing happens


def test_a_turn_never_handed_back_expires_after_its_lease():
    pool = Turns(1, lease_s=0.1)
    assert pool.take(0.0) is not None                  # its run raised: never given back
    t0 = time.monotonic()
    assert pool.take(2.0) is not None                  # the waiter gets it when the lease ends, not after 2 s
    assert 0.05 <= time.monotonic() - t0 < 1.0


@pytest.mark.parametrize("n", [1, 2])
def test_waiters_are_served_first_come_first_served_and_never_more_than_n_at_once(n):
    pool, order, lock = Turns(n, lease_s=30), [], threading.Lock()
    running, peak = [0], [0]
    gate = [pool.take(0.0) for _ in range(n)]          # every turn taken: everyone below queues

    def student(i: int) -> None:
        token = pool.take(10.0)
        assert token is not None
        with lock:
            order.append(i)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        pool.give_back(token)

    threads = []
    for i in range(12):
        threads.append(threading.Thread(target=student, args=(i,)))
        threads[-1].start()
        time.sleep(0.02)                               # they arrive one after another
    assert order == []
    for token in gate:
        pool.give_back(token)
    for th in threads:
        th.join(10)
    assert sorted(order) == list(range(12)) and peak[0] <= n
    if n == 1:
        assert order == list(range(12))                # the longest waiting first
    assert pool.held() == 0


def test_a_newcomer_does_not_jump_the_queue():
    pool = Turns(1, lease_s=30)
    first = pool.take(0.0)
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(pool.take(5.0)))
    waiter.start()
    time.sleep(0.05)
    pool.give_back(first)
    assert pool.take(0.0) is None          # the turn goes to the one waiting, not to a newcomer asking now
    waiter.join(5)
    assert got and got[0] is not None


def test_turns_refuse_nonsense_and_unknown_kinds():
    with pytest.raises(ValueError):
        Turns(0, lease_s=1)
    with pytest.raises(ValueError):
        Turns(1, lease_s=0)
    with pytest.raises(ValueError):
        turns("everything")
    assert turns("rerun") is turns("rerun") and turns("rerun").n == 1


PAGE_SOURCE = '''
def slide(config, language):
    """A page's cached figure."""
    return {"config": config, "language": language}
'''


def _page_function(source: str, path: str, module: str = "__main__") -> types.FunctionType:
    """The function as a page run defines it: a new function object each run, on the same compiled code."""
    code = compile(source, path, "exec")
    inner = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn = types.FunctionType(inner, {"__name__": module})
    fn.__module__ = module
    return fn


def test_a_cached_functions_key_is_streamlits_own_computed_once_per_compiled_function(tmp_path, monkeypatch):
    from streamlit.runtime.caching import cache_utils
    from streamlit.runtime.caching.cache_type import CacheType

    assert memo_cache_keys() is True
    patched = cache_utils._make_function_key
    original = patched.__wrapped__
    path = tmp_path / "page.py"
    path.write_text(PAGE_SOURCE)
    code = compile(PAGE_SOURCE, str(path), "exec")
    inner = next(c for c in code.co_consts if isinstance(c, types.CodeType))

    def run_defines() -> types.FunctionType:   # every page run: a new function object on the same code
        fn = types.FunctionType(inner, {"__name__": "__main__"})
        fn.__module__ = "__main__"
        return fn

    sources = []
    real = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda obj: sources.append(obj) or real(obj))
    keys = {patched(CacheType.DATA, run_defines()) for _ in range(20)}
    assert len(keys) == 1 and len(sources) == 1                    # one key; the source read once, not 20 times
    assert keys == {original(CacheType.DATA, run_defines())}        # the very key Streamlit computes
    edited = tmp_path / "edited.py"
    edited.write_text(PAGE_SOURCE.replace("A page's cached figure.", "Edited."))
    assert patched(CacheType.DATA, _page_function(edited.read_text(), str(edited))) not in keys   # new code: new key
    assert patched(CacheType.RESOURCE, run_defines()) == original(CacheType.RESOURCE, run_defines())
