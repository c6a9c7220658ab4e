"""A class joins through the proxy: two Streamlit processes behind nginx share join codes through the class store.

The teacher turns on presenter mode on one process; eight students in fresh browsers open the join link and
nginx spreads them over both processes by their own cookies. Every one must land on the teacher's experiment,
with the default SQLite file and with PostgreSQL. (Before the class store, codes lived in one process's memory
and about a third of a class got "unknown code".)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from tests.classroom.conftest import postgres_url, reset_postgres
from tests.e2e.conftest import ROOT, _free_port, assert_no_streamlit_error, goto, screenshot
from ui.i18n import strings

pytestmark = pytest.mark.slow
STUDENTS = 8


def serve(env: dict[str, str], tries: int = 3) -> tuple[subprocess.Popen, str, list[str]]:
    """scripts/serve_local.sh with two processes; returns it, the proxy's URL and each process's own URL.

    Each port is one the system just found free, but another process can take it before Streamlit binds it (a CI
    run lost a backend that way); serve_local.sh then stops with "UNHEALTHY" and this tries fresh ports."""
    out = ""
    for _ in range(tries):
        ports: list[int] = []
        while len(ports) < 3:
            p = _free_port()
            if p not in ports:
                ports.append(p)
        port, backends = ports[0], ports[1:]
        proc = subprocess.Popen(
            ["bash", "scripts/serve_local.sh"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **env, "PROCESSES": "2", "PORT": str(port),
                 "BACKEND_PORTS": " ".join(map(str, backends)), "PY": sys.executable}, start_new_session=True)
        deadline, out = time.time() + 180, ""
        for line in proc.stdout:
            if line.startswith("PIDS") or time.time() > deadline:
                return proc, f"http://127.0.0.1:{port}", [f"http://127.0.0.1:{b}" for b in backends]
            out += line
        stop(proc)
    raise RuntimeError(f"serve_local.sh ended before its processes were healthy, {tries} times:\n{out[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(params=["sqlite", "postgresql"])
def class_server(request):
    if request.param == "postgresql":
        url = postgres_url()
        reset_postgres(url)
        env = {"DL_LAB_DATABASE_URL": url}
    else:
        env = {"DL_LAB_DATA_DIR": tempfile.mkdtemp(prefix="dl-lab-class-"), "DL_LAB_DATABASE_URL": ""}
    proc, proxy, backends = serve(env)
    try:
        yield request.param, proxy, backends
    finally:
        stop(proc)


def test_eight_students_joining_through_the_proxy_all_land_on_the_teachers_experiment(browser, class_server):
    kind, proxy, backends = class_server
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    chart_encoding = []   # issue 29: the proxy sends a cold browser the charting chunk compressed
    teacher.on("response", lambda r: chart_encoding.append(r.headers.get("content-encoding"))
               if "/PlotlyChart." in r.url and r.url.endswith(".js") else None)
    goto(teacher, proxy, path="gan", query="present=1&gan.loss=minimax&gan.d_steps=3", timeout=120_000)
    teacher.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    assert chart_encoding and set(chart_encoding) <= {"gzip", "br"}, chart_encoding   # 4.7 MB raw, 1.4 MB gzipped
    code_el = teacher.get_by_text(re.compile(r"Short code"))
    code_el.wait_for(timeout=60_000)
    code = re.search(r"Short code:\s*([A-Z2-9]{6})", code_el.inner_text()).group(1)
    screenshot(teacher, f"class-join-teacher-{kind}")

    def join(base: str, name: str) -> None:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")   # a phone
        student = context.new_page()
        goto(student, base, query=f"join={code.lower()}", lang="zh", timeout=120_000)
        student.wait_for_url(re.compile(r"/gan\?.*gan\.loss=minimax"), timeout=60_000)
        assert "gan.d_steps=3" in student.url
        student.get_by_role("heading", name=strings("zh")["gan.title"]).first.wait_for(timeout=60_000)
        assert_no_streamlit_error(student)
        assert student.get_by_text("不存在或已过期").count() == 0
        if name.endswith("-0"):
            screenshot(student, f"class-join-student-{kind}")
        context.close()

    for i in range(STUDENTS):   # through nginx: each fresh browser is hashed to a process by its own cookie
        join(proxy, f"proxy-{i}")
    for i, backend in enumerate(backends):   # and on each process directly, so both are known to resolve it
        join(backend, f"direct-{i}")
