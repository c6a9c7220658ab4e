"""The kit's training progress (ui/progress.py, issue 31 item 8): a bar with the time so far and the time left, a Stop
button, and a stopped run that stays stopped until the learner asks again. The click that interrupts a run needs a
real browser (tests/e2e/test_progress.py); here AppTest checks every state around it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from streamlit.testing.v1 import AppTest

from ui.i18n import strings


def _script() -> None:
    import streamlit as st

    from ui import progress

    job = st.session_state.get("job", "a")
    with progress.training("demo.train", what="Demo", total=3, job=job,
                           asked=st.session_state.get("asked", False)) as run:
        if run:
            st.session_state["seen"] = list(run.track(range(3), lambda _, i, n: f"Run {i} of {n}"))
            st.session_state["trained"] = st.session_state.get("trained", 0) + 1
            st.write(f"trained {job}")


def _app() -> AppTest:
    return AppTest.from_function(_script, default_timeout=30)


def _texts(at: AppTest) -> list[str]:
    return [e.value for e in (*at.markdown, *at.info)]


def test_a_run_trains_and_leaves_neither_bar_nor_stop_button_behind():
    at = _app().run()
    assert not at.exception
    assert "trained a" in _texts(at) and at.session_state["trained"] == 1 and at.session_state["seen"] == [0, 1, 2]
    assert not [b for b in at.button if b.key == "demo.train.stop"]       # the box is emptied after the run
    assert at.session_state["demo.train._progress"]["percent"] == 100


def test_a_stopped_run_says_so_and_does_not_start_again_until_asked():
    at = _app().run()
    stopped = strings("en")["app.progress.stopped"].format(elapsed="4", percent="33")
    at.session_state["demo.train._stopped"] = {"job": repr("a"), "elapsed": 4.2, "percent": 33.3}  # Stop's callback
    at.run()
    assert not at.exception and at.session_state["trained"] == 1        # not restarted
    assert stopped in [i.value for i in at.info]
    at.run()                                                              # any other rerun: still stopped
    assert at.session_state["trained"] == 1
    at.button(key="demo.train.again").click().run()                       # "Train again"
    assert at.session_state["trained"] == 2 and stopped not in [i.value for i in at.info]


def test_other_settings_or_a_train_button_count_as_asking_again():
    at = _app().run()
    at.session_state["demo.train._stopped"] = {"job": repr("a"), "elapsed": 1.0, "percent": 0.0}
    at.session_state["job"] = "b"
    at.run()
    assert at.session_state["trained"] == 2 and "trained b" in _texts(at)
    at.session_state["demo.train._stopped"] = {"job": repr("b"), "elapsed": 1.0, "percent": 0.0}
    at.session_state["asked"] = True
    at.run()
    assert at.session_state["trained"] == 3 and "demo.train._stopped" not in at.session_state


def test_the_label_says_the_time_so_far_and_left_in_both_languages():
    for lang in ("en", "zh"):
        s = strings(lang)
        assert s["app.progress.estimating"].format(what="X", elapsed="0") in _estimate_in(lang, 0.0, 0.0)
        assert s["app.progress.running"].format(what="X", elapsed="6", left="18") in _estimate_in(lang, 6.0, 0.25)


def _estimate_in(lang: str, elapsed: float, share: float) -> str:
    def script(lang: str, elapsed: float, share: float) -> None:
        import streamlit as st

        from ui.progress import estimate

        st.write(estimate("X", elapsed, share))

    at = AppTest.from_function(script, args=(lang, elapsed, share))
    at.query_params["lang"] = lang
    return at.run().markdown[0].value


def _fragment_script() -> None:
    import streamlit as st
    from streamlit.proto.WidgetStates_pb2 import WidgetStates
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    from ui import progress

    def press_stop_inside_a_fragment() -> None:
        """What the browser sends for a click on Stop inside a fragment: a rerun of that fragment, which Streamlit
        queues behind the running script instead of interrupting it."""
        ctx = get_script_run_ctx()
        states = WidgetStates()
        w = states.widgets.add()
        w.id, w.trigger_value = ctx.session_state._state._key_id_mapper.get_id_from_key("demo.frag.stop"), True
        ctx.script_requests.request_rerun(RerunData(widget_states=states, fragment_id_queue=["panel"]))

    @st.fragment
    def panel() -> None:
        with progress.training("demo.frag", what="Demo", total=3, asked=True, auto=False) as run:
            if run:
                for k in run.track(range(3)):
                    st.session_state["done"] = k
                    if k == 1:
                        press_stop_inside_a_fragment()
                st.session_state["finished"] = True

    panel()


def test_stop_inside_a_fragment_stops_at_the_next_progress_update():
    at = AppTest.from_function(_fragment_script, default_timeout=30).run()
    assert not at.exception
    assert at.session_state["done"] == 1 and "finished" not in at.session_state
    assert at.session_state["demo.frag._stopped"]["percent"] > 30
    assert any(i.value.startswith("Training stopped after") for i in at.info)


# --- a run kept for the class (progress.shared_run): the GAN's complete run in the replay tab -------------------

@dataclass(frozen=True)
class Counter:
    """A stand-in training state: ``step`` of ``total`` steps."""
    step: int = 0
    total: int = 5

    @property
    def done(self) -> bool:
        return self.step >= self.total


def count_steps(state: Counter, n: int) -> Counter:   # top level: a training worker imports it
    return replace(state, step=min(state.total, state.step + n))


def _shared_script() -> None:
    import streamlit as st

    from tests.pages.test_progress import Counter, count_steps
    from ui import progress

    def start() -> Counter:
        st.session_state["started"] = st.session_state.get("started", 0) + 1
        return Counter()

    store = progress.shared_runs("demo.shared", max_entries=2)
    st.session_state["out"] = progress.shared_run(store, st.session_state.get("key", "k1"), start, count_steps,
                                                  what="Demo", total=5, chunk=2, done=lambda s: s.step,
                                                  keep=lambda s: f"{s.step} steps")


def test_a_shared_run_trains_once_with_progress_and_is_kept_for_the_next_learner(monkeypatch):
    from ui import progress, runtime

    monkeypatch.setattr(runtime, "_pool", lambda: None)   # in this process: a spawned worker cannot rerun this script

    progress.shared_runs("demo.shared", max_entries=2)._items.clear()
    shown = []
    real_update = progress.Run.update
    monkeypatch.setattr(progress.Run, "update", lambda self, done, what=None: (
        shown.append(done), real_update(self, done, what))[1])
    first = AppTest.from_function(_shared_script, default_timeout=30).run()
    assert not first.exception and first.session_state["out"] == "5 steps" and first.session_state["started"] == 1
    assert shown == [2, 4, 5] and not [b for b in first.button if b.key == "demo.shared.stop"]
    second = AppTest.from_function(_shared_script, default_timeout=30).run()   # another learner, same settings
    assert second.session_state["out"] == "5 steps" and "started" not in second.session_state
    assert shown == [2, 4, 5]                                                   # no bar: nothing trained


def test_a_stopped_shared_run_gives_nothing_and_keeps_nothing():
    from ui import progress

    progress.shared_runs("demo.shared", max_entries=2)._items.clear()
    at = AppTest.from_function(_shared_script, default_timeout=30)
    at.session_state["key"] = "k2"
    at.session_state["demo.shared._stopped"] = {"job": repr("k2"), "elapsed": 3.0, "percent": 40.0}   # Stop's callback
    at.run()
    assert not at.exception and at.session_state["out"] is None and "started" not in at.session_state
    assert strings("en")["app.progress.stopped"].format(elapsed="3", percent="40") in [i.value for i in at.info]
    assert progress.shared_runs("demo.shared").get("k2") is None


def test_shared_runs_drop_the_least_recently_used_and_the_expired(monkeypatch):
    from ui import progress

    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    store = progress.SharedRuns("demo.lru", max_entries=2, ttl=60)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1            # "a" used last: "b" leaves first
    store.put("c", 3)
    assert (store.get("a"), store.get("b"), store.get("c"), len(store)) == (1, None, 3, 2)
    now[0] += 61                          # an hour for the lessons; a minute here
    assert store.get("a") is None and store.get("c") is None and len(store) == 0
    assert progress.shared_runs("demo.same") is progress.shared_runs("demo.same")   # one store per name
