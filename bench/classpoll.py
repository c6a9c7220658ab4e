"""A class poll in a box: one presenter and N joined students on a DL Lab server, each speaking Streamlit's
websocket protocol (as ``bench.loadgen`` does), through the whole predict-then-observe loop.

1. The presenter opens a lesson with ``?present=1``; the join bar makes a class code (read from the page).
2. N students open ``/?join=CODE`` (the app switches them to the lesson) and wait: their class-poll fragment
   reruns on the timer the server asks for (``AutoRerun``), as a browser's would; each timer the page declares
   fires on its own, and ``StopAutoRerun`` or a whole-page run drops timers as the browser does. The server's
   CPU over this quiet window is the cost of waiting students.
3. The presenter presses **Ask the class**. Each student sees the question on a later tick of the waiting timer,
   answers after a random delay within ``--vote-within`` seconds and presses **Vote**; the presenter's live count
   (its own timer fragment) is read from the page: vote -> count is the time from the click that stored a vote
   to the projector showing a count that includes it.
4. When every vote is in (or the window ends) the presenter presses **Reveal**: reveal -> figure is the time from
   that click to each student's page showing the graded result and the experiment's first figure (the poll box
   shows it while the student's lab waits for its turn to redraw, ``ui.predict``); reveal -> lab is the time to
   that student's whole lab redrawn with the experiment.
Meanwhile ``--explorers`` more students change widgets on other lessons (bench.loadgen's students).

    python -m bench.classpoll --students 60                          # one server started here
    python -m bench.classpoll --students 60 --url http://127.0.0.1:8080 --pids 111 222   # e.g. two behind nginx

Traffic goes only to the loopback server this tool starts (or the --url you give it); every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.loadgen import RUN_TIMEOUT_S, Student, _free_port, _health_cookie, _pct, _sample_memory, start_server

CODE = re.compile(r"`([A-Z2-9]{4,12})`")
SUCCESS, WARNING = 4, 2   # Alert.Format


@dataclass
class Run:
    seconds: float
    error: str = ""
    markdown: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)     # label -> body
    alerts: list[int] = field(default_factory=list)           # formats
    charts: int = 0
    first_chart_at: float = 0.0                               # when its first figure arrived (perf_counter)
    widgets: dict[str, object] = field(default_factory=dict)  # element id -> element (widgets only)
    fragment_of: dict[str, str] = field(default_factory=dict)  # widget key -> the fragment that drew it


class Client:
    """One browser tab, reduced to its protocol: reruns (whole page or one fragment) and what came back."""

    def __init__(self, base: str, query: str, page: str, lang: str) -> None:
        self.base, self.query, self.page, self.lang = base, query, page, lang
        self.page_hash = ""
        self.states: dict[str, object] = {}
        self.fragments: dict[str, float] = {}   # fragment id -> interval (s) the server asked for
        self.session_id = ""
        self.ws = None

    async def connect(self) -> Run:
        import websockets

        host = self.base.split("//", 1)[1]
        cookie = await asyncio.to_thread(_health_cookie, self.base)
        self.ws = await websockets.connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                           origin=self.base, open_timeout=30, ping_interval=None,
                                           additional_headers={"Cookie": cookie} if cookie else None)
        return await self.rerun()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def find(self, run: Run, key: str):
        """The widget element whose user key is ``key`` (Streamlit ids end with ``-<key>``)."""
        return next((el for wid, el in run.widgets.items() if wid.endswith("-" + key)), None)

    async def rerun(self, changed=None, fragment: str = "", *, remember: bool = True) -> Run:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.page_name = self.page if not self.page_hash else ""
        if fragment:
            cs.fragment_id = fragment
            cs.is_auto_rerun = changed is None
        for state in self.states.values():
            cs.widget_states.widgets.append(state)
        if changed is not None:
            cs.widget_states.widgets.append(changed)
        run = Run(0.0)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(self.ws.recv(), timeout=RUN_TIMEOUT_S))
            which = fm.WhichOneof("type")
            if which == "new_session":
                self.session_id = fm.new_session.initialize.session_id or self.session_id
                if not fm.metadata.run.fragment_ids:   # a whole-page run: the browser drops every timer, and
                    self.fragments.clear()             # the run declares those it still wants anew
            elif which == "navigation":
                self.page_hash = fm.navigation.page_script_hash
            elif which == "auto_rerun":
                self.fragments[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif which == "stop_auto_rerun":   # a nested timer whose parent no longer draws it
                for fid in fm.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
            elif which == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                kind = el.WhichOneof("type")
                if kind == "exception":
                    run.error = f"exception: {el.exception.type}: {el.exception.message[:120]}"
                elif kind == "markdown":
                    run.markdown.append(el.markdown.body)
                elif kind == "metric":
                    run.metrics[el.metric.label] = el.metric.body
                elif kind == "alert":
                    run.alerts.append(el.alert.format)
                elif kind == "plotly_chart":
                    run.charts += 1
                    run.first_chart_at = run.first_chart_at or time.perf_counter()
                wid = getattr(getattr(el, kind, None), "id", "") if kind else ""
                if isinstance(wid, str) and wid.startswith("$$ID"):
                    run.widgets[wid] = el
                    run.fragment_of[wid.rsplit("-", 1)[-1]] = fm.delta.fragment_id
            elif which == "page_not_found":
                run.error = "page not found"
            elif which == "script_finished":
                if fm.script_finished in (0, 3):
                    break
                if fm.script_finished == 1:
                    run.error = "compile error"
                    break
        run.seconds = time.perf_counter() - t0
        if remember and changed is not None and not changed.HasField("trigger_value"):
            self.states[changed.id] = changed
        return run

    @staticmethod
    def state(element, **value):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        kind = element.WhichOneof("type")
        s = WidgetState(id=getattr(element, kind).id)
        for name, v in value.items():
            setattr(s, name, v)
        return s


@dataclass
class Timeline:
    asked: float = 0.0
    votes: list[float] = field(default_factory=list)          # when each vote was stored (its run returned)
    counts: list[tuple[float, int]] = field(default_factory=list)   # the projector: (when shown, count)
    revealed: float = 0.0
    seen: list[float] = field(default_factory=list)           # reveal -> a student's verdict with the figure
    lab: list[float] = field(default_factory=list)            # reveal -> that student's whole lab redrawn
    idle_runs: list[float] = field(default_factory=list)      # a waiting student's timer rerun (server time)
    errors: list[str] = field(default_factory=list)


async def student(i: int, base: str, code: str, lesson: str, lang: str, vote_within: float, tl: Timeline,
                  stop: asyncio.Event) -> None:
    rng = random.Random(i)
    c = Client(base, f"join={code}&lang={lang}", "", lang)
    voted = done = False
    vote_at = None
    try:
        run = await c.connect()
        c.query = f"lang={lang}"   # the app took ?join= out of the address once it had switched to the lesson
        if run.error:
            tl.errors.append(f"student join: {run.error}")
            return
        if not c.fragments:
            tl.errors.append("student: no class-poll timer after joining")
            return
        # Each timer the page declared fires on its own, as a browser's setInterval does; timers of different tabs
        # are not aligned.
        due = {f: time.perf_counter() + rng.uniform(0, every) for f, every in c.fragments.items()}
        while not stop.is_set() and not done:
            now = time.perf_counter()
            for f, every in c.fragments.items():
                due.setdefault(f, now + every)
            for f in [f for f in due if f not in c.fragments]:
                del due[f]
            if not due:
                await asyncio.sleep(1.0)
                continue
            fragment = min(due, key=due.get)
            await asyncio.sleep(max(0.0, due[fragment] - now))
            due[fragment] = max(due[fragment] + c.fragments.get(fragment, 4.0), time.perf_counter())
            run = await c.rerun(fragment=fragment)
            if run.error:
                tl.errors.append(f"student poll: {run.error}")
            if not tl.asked:
                tl.idle_runs.append(run.seconds)
            box = next((key for key in (k.rsplit("-", 1)[-1] for k in run.widgets) if key.startswith("app._vote.")),
                       None)
            if box and not voted:
                if vote_at is None:
                    vote_at = time.perf_counter() + rng.uniform(1.0, vote_within - 2.0)
                if time.perf_counter() >= vote_at:
                    el = c.find(run, box)
                    kind = el.WhichOneof("type")
                    if kind == "radio":
                        opts = list(el.radio.options)
                        c.states[el.radio.id] = c.state(el, string_value=rng.choice(opts))
                    else:
                        c.states[el.text_input.id] = c.state(el, string_value=str(rng.randint(1, 40)))
                    name = "app._vote_btn." + box.removeprefix("app._vote.")
                    button = c.find(run, name)
                    # a click reruns the fragment that drew the button, as the browser's does; the vote's time is
                    # the click's (the projector can show it before the student's own rerun has come back)
                    clicked = time.perf_counter()
                    r = await c.rerun(c.state(button, trigger_value=True), fragment=run.fragment_of.get(name, fragment))
                    if r.error or WARNING in r.alerts or 1 in r.alerts:
                        tl.errors.append(f"vote refused or failed: {r.error or r.alerts}")
                    else:
                        tl.votes.append(clicked)
                    voted = True
                    continue
            if tl.revealed and (SUCCESS in run.alerts or WARNING in run.alerts or run.charts):
                # the fragment saw the reveal: it re-ran the page with the experiment (st.rerun) and graded
                if run.charts and (SUCCESS in run.alerts or WARNING in run.alerts):
                    tl.seen.append(run.first_chart_at - tl.revealed)
                    tl.lab.append(time.perf_counter() - tl.revealed)
                    done = True
                    continue
    except Exception as e:   # counted, never raised
        tl.errors.append(f"student: {type(e).__name__}: {e}"[:160])
    finally:
        await c.close()


async def presenter(base: str, lesson: str, students: int, vote_within: float, idle_s: float, tl: Timeline,
                    code_box: asyncio.Future, ready: asyncio.Event, stop: asyncio.Event, pids: list[int],
                    idle_cpu: list[float], explore: asyncio.Event) -> None:
    c = Client(base, "present=1&lang=en", lesson, "en")
    try:
        run = await c.connect()
        code = next((m.group(1) for text in run.markdown if "`" in text for m in [CODE.search(text)] if m), None)
        if run.error or code is None:
            code_box.set_exception(RuntimeError(f"presenter got no class code ({run.error})"))
            return
        code_box.set_result(code)
        await ready.wait()                                   # every student joined
        idle_cpu.append(await _cpu_over(pids, idle_s))        # the cost of waiting students
        explore.set()                                         # the explorers start now
        ask = c.find(run, "app._ask")
        run = await c.rerun(c.state(ask, trigger_value=True))
        tl.asked = time.perf_counter()
        fragment = next(iter(c.fragments), "")
        deadline = tl.asked + vote_within + 10
        while time.perf_counter() < deadline:
            await asyncio.sleep(c.fragments.get(fragment, 2.0))
            run = await c.rerun(fragment=fragment)
            shown = next(iter(run.metrics.values()), None)
            if shown is not None:
                tl.counts.append((time.perf_counter(), int(shown)))
                if int(shown) >= students:
                    break
        reveal = next((k for k in (w.rsplit("-", 1)[-1] for w in run.widgets) if k.startswith("app._reveal.")), None)
        if reveal is None:
            tl.errors.append("presenter: no reveal button")
            return
        tl.revealed = time.perf_counter()
        r = await c.rerun(c.state(c.find(run, reveal), trigger_value=True), fragment=fragment)
        if r.error:
            tl.errors.append(f"reveal: {r.error}")
        await asyncio.sleep(20)                               # students' timers pick it up
    except Exception as e:
        tl.errors.append(f"presenter: {type(e).__name__}: {e}"[:160])
    finally:
        stop.set()
        await c.close()


async def _cpu_over(pids: list[int], seconds: float) -> float:
    """Cores used by the server processes (and their children) over ``seconds``."""
    if not pids:
        await asyncio.sleep(seconds)
        return float("nan")
    out: list[tuple[float, float, float, float]] = []
    await _sample_memory(pids, time.perf_counter() + seconds, seconds / 2, out)
    return (out[-1][2] - out[0][2]) / max(1e-9, out[-1][0] - out[0][0])


async def simulate(base: str, lesson: str, students: int, explorers: int, explore_pages: list[str],
                   vote_within: float, idle_s: float, pids: list[int]) -> dict:
    tl, idle_cpu = Timeline(), []
    loop = asyncio.get_running_loop()
    code_box, ready, stop, explore = loop.create_future(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    teacher = asyncio.create_task(presenter(base, lesson, students, vote_within, idle_s, tl, code_box, ready, stop,
                                            pids, idle_cpu, explore))
    code = await code_box
    crowd = []
    for i in range(students):   # they arrive over a few seconds, as a class scanning a QR code does
        crowd.append(asyncio.create_task(student(i, base, code, lesson, ("zh", "en")[i % 2], vote_within, tl, stop)))
        await asyncio.sleep(0.1)
    await asyncio.sleep(8)
    ready.set()
    base_ws = base.replace("http://", "ws://")
    explorers_ = [Student(base_ws, explore_pages[i % len(explore_pages)], ("zh", "en")[i % 2], 1000 + i, 5.0,
                          explore_pages[i % len(explore_pages)]) for i in range(explorers)]
    await explore.wait()
    horizon = time.perf_counter() + vote_within + 60
    tasks = [asyncio.create_task(s.run(horizon)) for s in explorers_]
    await teacher
    await asyncio.wait_for(asyncio.gather(*crowd), timeout=120)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    explore = [s for e in explorers_ for s in e.samples if s.kind != "open"]
    return {"timeline": tl, "idle_cpu": idle_cpu[0] if idle_cpu else float("nan"), "explore": explore}


def report(r: dict, students: int) -> dict:
    tl: Timeline = r["timeline"]
    lag = []
    for rank, at in enumerate(sorted(tl.votes), 1):   # the first projector update showing this many votes
        shown = next((when for when, n in tl.counts if n >= rank and when >= at), None)
        if shown is not None:
            lag.append(shown - at)
    # as bench.loadgen counts them: an interaction is a rerun answered without a progress indicator; a rerun that
    # showed a progress bar or spinner is a training run (up to ~10 s by design), reported on its own
    explore_ok = [s.seconds for s in r["explore"] if s.ok and not s.announced]
    training = [s.seconds for s in r["explore"] if s.ok and s.announced]
    burst = [s.seconds for s in r["explore"] if s.ok and not s.announced and tl.revealed
             and tl.revealed - 1.0 <= s.started <= tl.revealed + max(tl.lab, default=0.0)]
    errors = tl.errors + [s.error for s in r["explore"] if not s.ok]
    return {
        "students": students, "votes": len(tl.votes), "counted": len(lag), "saw_reveal": len(tl.seen),
        "vote_to_count_p50_s": _pct(lag, 0.5), "vote_to_count_p95_s": _pct(lag, 0.95),
        "reveal_to_figure_p50_s": _pct(tl.seen, 0.5), "reveal_to_figure_p95_s": _pct(tl.seen, 0.95),
        "reveal_to_lab_p50_s": _pct(tl.lab, 0.5), "reveal_to_lab_p95_s": _pct(tl.lab, 0.95),
        "waiting_students_cores": r["idle_cpu"],
        "waiting_rerun_p50_ms": 1000 * _pct(tl.idle_runs, 0.5), "waiting_rerun_p95_ms": 1000 * _pct(tl.idle_runs, 0.95),
        "explore_n": len(explore_ok), "explore_p50_s": _pct(explore_ok, 0.5), "explore_p95_s": _pct(explore_ok, 0.95),
        "explore_burst_n": len(burst), "explore_burst_p95_s": _pct(burst, 0.95),   # sent during the reveal's burst
        # the three slowest interactions, with what was changed: a lesson's own heavy setting or the class's load
        "explore_slowest": [f"{s.seconds:.2f}s {s.widget or s.kind}"
                            for s in sorted((s for s in r["explore"] if s.ok and not s.announced),
                                            key=lambda s: -s.seconds)[:3]],
        "explore_training_n": len(training), "explore_training_p95_s": _pct(training, 0.95),
        "errors": len(errors), "error_examples": sorted(set(errors))[:5],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=60)
    ap.add_argument("--lesson", default="convolution", help="the lesson whose exercise the presenter asks")
    ap.add_argument("--explorers", type=int, default=6, help="students exploring other lessons meanwhile")
    ap.add_argument("--explore-pages", nargs="*", default=["activations", "receptive_field"])
    ap.add_argument("--vote-within", type=float, default=20.0, help="seconds the students take to vote")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of waiting measured before the question")
    ap.add_argument("--url", default=None, help="an already running server (default: start one here)")
    ap.add_argument("--pids", nargs="*", type=int, default=[], help="with --url: the server processes to sample")
    ap.add_argument("--json", default=None, help="write the report here")
    a = ap.parse_args(argv)
    if not (1 <= a.students <= 200 and 0 <= a.explorers <= 60 and 5 <= a.vote_within <= 120 and 5 <= a.idle <= 600):
        ap.error("students 1..200, explorers 0..60, vote-within 5..120 s, idle 5..600 s")
    proc = None
    if a.url is None:
        port = _free_port()
        data = tempfile.mkdtemp(prefix="dl-lab-classpoll-")   # a class store of its own
        proc = start_server(port, {"DL_LAB_TORCH_THREADS": os.environ.get("DL_LAB_TORCH_THREADS", "1"),
                                   "DL_LAB_DATA_DIR": data})
        base = f"http://127.0.0.1:{port}"
    else:
        base = a.url.rstrip("/")
        if not base.startswith(("http://127.", "http://localhost", "http://[::1]")):
            ap.error("loopback targets only")
    load_before = os.getloadavg()   # other work on the machine's cores: note it beside every figure
    try:
        r = report(asyncio.run(simulate(base, a.lesson, a.students, a.explorers, a.explore_pages, a.vote_within,
                                        a.idle, [proc.pid] if proc else a.pids)), a.students)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    r["load_avg_before"] = [round(x, 2) for x in load_before]
    r["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    for k, v in r.items():
        print(f"{k:26} {v:.3g}" if isinstance(v, float) else f"{k:26} {v}")
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=1, default=float))
    return 0 if r["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
