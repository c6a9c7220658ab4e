"""The timers a joined student's page asks the browser for (issue 22's load budget), read at the protocol level
with the load generator's client against a real ``streamlit run``: one timer, every ``STUDENT_POLL_S`` seconds,
while no question is open (the cost of sixty waiting students), while one is open (the same timer draws it) and
after the reveal has redrawn the lab with the experiment. No faster timer is ever added: at sixty students it
tripled the server's reruns during a question and slowed the reveal."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.classpoll import Client
from bench.loadgen import _free_port, start_server
from classroom import db
from classroom.store import connect, new_teacher_key
from ui import predict
from ui.exercises import for_lesson

pytestmark = pytest.mark.slow


def test_a_student_page_keeps_one_slow_timer_before_during_and_after_a_question(tmp_path):
    port = _free_port()
    proc = start_server(port, {"DL_LAB_DATA_DIR": str(tmp_path), "DL_LAB_DATABASE_URL": "",
                               "DL_LAB_TORCH_THREADS": "1"})
    try:
        store = connect(db.database_url({"DL_LAB_DATA_DIR": str(tmp_path)}))
        key = new_teacher_key()
        code = store.create_code(key, "convolution", {})
        ex = for_lesson("convolution")[0]
        # in a thread of its own: the browser tests' sync Playwright keeps an event loop running in this one
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _student(f"http://127.0.0.1:{port}", store, code, key, ex)).result(timeout=120)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def _student(base: str, store, code: str, key: str, ex) -> None:
    c = Client(base, f"join={code}&lang=en", "", "en")
    try:
        run = await c.connect()
        assert not run.error
        c.query = "lang=en"
        assert sorted(c.fragments.values()) == [predict.STUDENT_POLL_S]   # waiting: one slow timer
        waiting = next(iter(c.fragments))
        run = await c.rerun(fragment=waiting)
        assert not run.error and sorted(c.fragments.values()) == [predict.STUDENT_POLL_S]

        poll = store.open_poll(code, ex.id, key, options=ex.options)
        time.sleep(predict.SHARED_READ_S + 0.1)   # another process's copy of the class's question expires
        run = await c.rerun(fragment=waiting)
        assert not run.error
        assert any("app._vote." in w for w in run.widgets), "the question appears on the timer"
        assert sorted(c.fragments.values()) == [predict.STUDENT_POLL_S], "no second timer while a question is open"
        assert next(iter(c.fragments)) == waiting
        run = await c.rerun(fragment=waiting)   # the next tick draws the question again
        assert not run.error and any("app._vote." in w for w in run.widgets)

        store.reveal(poll, key, ex.answer())
        time.sleep(predict.SHARED_READ_S + 0.1)
        run = await c.rerun(fragment=waiting)   # the reveal: the whole page reruns with the experiment
        assert not run.error and run.charts > 0
        assert sorted(c.fragments.values()) == [predict.STUDENT_POLL_S]
        waiting = next(iter(c.fragments))
        run = await c.rerun(fragment=waiting)   # the verdict stays on the same slow timer
        assert not run.error and sorted(c.fragments.values()) == [predict.STUDENT_POLL_S]
        assert any(a in run.alerts for a in (2, 3, 4)), "the verdict is still shown"
    finally:
        await c.close()
