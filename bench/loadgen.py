"""A classroom in a box: N simulated students on one DL Lab server, without a browser each.

Each student speaks Streamlit's own websocket protocol (``/_stcore/stream``, the
``BackMsg`` / ``ForwardMsg`` protobufs shipped in the streamlit package): it opens a
lesson, learns the lesson's widgets from the elements the server sends, then every few
seconds changes one of them (a slider, select box, radio, checkbox or number input, or
clicks a "try this" preset) and records the time until the server reports the rerun
finished. The server's CPU time and memory are sampled throughout; a few real browsers
(Playwright + Debian chromium) can run alongside to sample end-to-end latency.

    python -m bench.loadgen --students 30 --duration 120 --pages receptive_field convolution
    python -m bench.loadgen --students 30 --duration 600 --soak          # the 10-minute soak
    python -m bench.loadgen --url http://127.0.0.1:8501 ...              # an already running server
    python -m bench.loadgen --class-poll --students 60                   # a class poll (bench.classpoll)

Traffic goes only to the loopback server this tool starts (or the --url you give it);
every loop is bounded by --duration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT_S = 60.0


@dataclass
class Widget:
    id: str
    kind: str                       # slider | selectbox | radio | checkbox | number | button
    options: list[str] = field(default_factory=list)
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    is_int: bool = False
    n_values: int = 1               # sliders: 1 value or a range of 2


@dataclass
class Sample:
    page: str
    kind: str                       # "open" or the widget kind changed
    seconds: float
    ok: bool
    error: str = ""
    handled: str = ""               # a translated st.error the page showed for a bad setting (not a failure)
    widget: str = ""                # the changed widget's key ("receptive_field.depth"), "" for opening
    announced: bool = False         # the rerun showed a progress bar or spinner: a training run the learner sees
    started: float = 0.0            # time.perf_counter() when the change was sent


def _widget_from_element(el) -> Widget | None:
    kind = el.WhichOneof("type")
    if kind == "slider":
        w = el.slider
        if w.options:  # select_slider: values travel as option strings
            return Widget(w.id, "select_slider", options=list(w.options), n_values=len(w.default) or 1)
        return Widget(w.id, "slider", lo=w.min, hi=w.max, step=w.step or 1.0, is_int=w.data_type in (0, 1),
                      n_values=len(w.default) or 1)
    if kind == "selectbox":
        return Widget(el.selectbox.id, "selectbox", options=list(el.selectbox.options))
    if kind == "radio":
        return Widget(el.radio.id, "radio", options=list(el.radio.options))
    if kind == "checkbox":
        return Widget(el.checkbox.id, "checkbox")
    if kind == "number_input":
        w = el.number_input
        lo = w.min if w.has_min else (w.default - 10)
        hi = w.max if w.has_max else (w.default + 10)
        return Widget(w.id, "number", lo=lo, hi=hi, step=w.step or 1.0, is_int=w.data_type == 0)
    if kind == "button" and not el.button.is_form_submitter:
        return Widget(el.button.id, "button")
    return None


def _new_value(w: Widget, rng: random.Random, state_cls):
    s = state_cls(id=w.id)
    if w.kind == "slider":
        n = max(1, int(round((w.hi - w.lo) / w.step)))
        vals = sorted(w.lo + w.step * rng.randint(0, n) for _ in range(w.n_values))
        if w.is_int:
            vals = [float(int(v)) for v in vals]
        s.double_array_value.data.extend(vals)
    elif w.kind == "select_slider":
        idx = sorted(rng.randrange(len(w.options)) for _ in range(w.n_values))
        s.string_array_value.data.extend(w.options[i] for i in idx)
    elif w.kind in ("selectbox", "radio"):
        s.string_value = rng.choice(w.options)
    elif w.kind == "checkbox":
        s.bool_value = rng.random() < 0.5
    elif w.kind == "number":
        n = max(1, int(round((w.hi - w.lo) / w.step)))
        v = w.lo + w.step * rng.randint(0, min(n, 50))
        if w.is_int:
            s.int_value = int(v)
        else:
            s.double_value = v
    elif w.kind == "button":
        s.trigger_value = True
    return s


class Student:
    """One simulated learner on one lesson page."""

    def __init__(self, base_ws: str, page: str, lang: str, seed: int, pace_s: float, lesson_prefix: str):
        self.url = f"{base_ws}/_stcore/stream"
        self.page = page
        self.lang = lang
        self.rng = random.Random(seed)
        self.pace_s = pace_s
        self.prefix = lesson_prefix
        self.widgets: dict[str, Widget] = {}
        self.states: dict[str, object] = {}
        self.samples: list[Sample] = []
        self.page_hash = ""

    async def _rerun(self, ws, kind: str, changed=None) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = f"lang={self.lang}"
        cs.page_script_hash = self.page_hash
        cs.page_name = self.page if not self.page_hash else ""
        for state in self.states.values():
            if getattr(state, "trigger_value", False):
                continue
            cs.widget_states.widgets.append(state)
        if changed is not None:
            cs.widget_states.widgets.append(changed)
        t0 = time.perf_counter()
        await ws.send(msg.SerializeToString())
        error = handled = ""
        announced = False
        seen: dict[str, Widget] = {}
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout=RUN_TIMEOUT_S)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            which = fm.WhichOneof("type")
            if which == "navigation":   # st.navigation resolved the page: stay on it from now on
                self.page_hash = fm.navigation.page_script_hash
            elif which == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                etype = el.WhichOneof("type")
                if etype == "exception":
                    error = f"exception: {el.exception.type}: {el.exception.message[:120]}"
                elif etype == "alert" and el.alert.format == 1:   # st.error: a validated, handled problem
                    handled = el.alert.body[:80]
                elif etype in ("progress", "spinner"):
                    announced = True
                w = _widget_from_element(el)
                if w is not None and f"-{self.prefix}." in w.id:
                    seen[w.id] = w
            elif which == "delta" and fm.delta.WhichOneof("type") == "new_transient":   # st.spinner (after 0.5 s)
                if any(e.WhichOneof("type") == "spinner" for e in fm.delta.new_transient.elements):
                    announced = True
            elif which == "page_not_found":
                error = "page not found"
            elif which == "script_finished":
                status = fm.script_finished
                if status in (0, 3):
                    break
                if status == 1:
                    error = "compile error"
                    break
                # 2 = finished early for a rerun: keep reading
        dt = time.perf_counter() - t0
        if seen:
            self.widgets = seen
        if changed is not None and not getattr(changed, "trigger_value", False):
            self.states[changed.id] = changed
        key = changed.id.rsplit("-", 1)[-1] if changed is not None else ""
        self.samples.append(Sample(self.page, kind, dt, not error, error, handled, key, announced, t0))

    async def run(self, until: float) -> None:
        import websockets
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        host = self.url.split("//", 1)[1].split("/", 1)[0]
        try:
            # like the browser: /_stcore/health first, which sets the XSRF cookie a sticky proxy routes on
            cookie = await asyncio.to_thread(_health_cookie, f"http://{host}")
            async with websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                          origin=f"http://{host}", open_timeout=30, ping_interval=None,
                                          additional_headers={"Cookie": cookie} if cookie else None) as ws:
                await self._rerun(ws, "open")
                # students arrive over the first pace interval, then act at the given pace
                await asyncio.sleep(self.rng.uniform(0, self.pace_s))
                while time.perf_counter() < until:
                    if self.widgets:
                        w = self.rng.choice(list(self.widgets.values()))
                        await self._rerun(ws, w.kind, _new_value(w, self.rng, WidgetState))
                    await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.pace_s)
        except Exception as e:  # connection refused, closed, timed out: counted, never raised
            self.samples.append(Sample(self.page, "connection", 0.0, False, f"{type(e).__name__}: {e}"[:160]))


def _health_cookie(base: str) -> str:
    """The cookies /_stcore/health sets ("name=value; ..."), as a browser would send them back."""
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=30) as r:
        return "; ".join(c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or [])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
           "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
           "--browser.gatherUsageStats=false"]
    log = open(os.environ["DL_LAB_SERVER_LOG"], "wb") if os.environ.get("DL_LAB_SERVER_LOG") else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


async def _sample_memory(pids: list[int], until: float, every: float,
                         out: list[tuple[float, float, float, float]]) -> None:
    """Every ``every`` s: (time, RSS in MB, CPU seconds, the training workers' share of that RSS in MB), summed
    over the server processes and their training workers."""
    import psutil

    servers = [psutil.Process(pid) for pid in pids]
    t0 = time.perf_counter()
    gone: dict[int, float] = {}   # CPU seconds of training workers that have exited (a pool restart)
    while time.perf_counter() < until:
        rss, cpu, live, worker_rss = 0.0, 0.0, set(), 0.0
        for server in servers:
            for p in [server, *server.children(recursive=True)]:   # each server and its training workers
                try:
                    times = p.cpu_times()
                    rss += p.memory_info().rss
                    cpu += times.user + times.system
                    if p.pid not in pids:
                        gone[p.pid] = times.user + times.system
                        live.add(p.pid)
                        worker_rss += p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
        cpu += sum(v for k, v in gone.items() if k not in live)
        out.append((time.perf_counter() - t0, rss / 2**20, cpu, worker_rss / 2**20))
        await asyncio.sleep(every)


# A Streamlit slider's thumb: a range input since Streamlit's react-aria sliders (1.5x), a role="slider" element
# before. (Matching only the latter, the browser samples of 2026-11-30 recorded page opens but no slider moves.)
SLIDER_THUMB = '[data-testid="stSlider"] input[type="range"], [data-testid="stSlider"] [role="slider"]'


def _browser_samples(base: str, pages: list[str], until: float, out: list[Sample]) -> None:
    """A real chromium session per call: open a lesson, move its first slider, time until idle."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        i = 0
        while time.perf_counter() < until:
            slug = pages[i % len(pages)]
            i += 1
            try:
                t0 = time.perf_counter()
                page.goto(f"{base}/{slug}?lang=en")
                page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
                page.wait_for_function(idle, timeout=60_000)
                out.append(Sample(slug, "browser open", time.perf_counter() - t0, True))
                slider = page.locator(SLIDER_THUMB).first
                if slider.count():
                    slider.focus()
                    t0 = time.perf_counter()
                    page.keyboard.press("ArrowRight")
                    page.wait_for_timeout(50)
                    page.wait_for_function(idle, timeout=60_000)
                    out.append(Sample(slug, "browser slider", time.perf_counter() - t0, True))
            except Exception as e:
                out.append(Sample(slug, "browser", 0.0, False, f"{type(e).__name__}"))
            time.sleep(5)
        browser.close()


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def simulate(base: str, pages: list[str], students: int, duration: float, pace: float, lang: str,
                   pids: list[int], browsers: int) -> dict:
    until = time.perf_counter() + duration
    base_ws = base.replace("http://", "ws://").replace("https://", "wss://")
    crowd = [Student(base_ws, pages[i % len(pages)], lang if lang != "mixed" else ("zh", "en")[i % 2], i, pace,
                     pages[i % len(pages)]) for i in range(students)]
    memory: list[tuple[float, float, float, float]] = []
    tasks = [asyncio.create_task(s.run(until)) for s in crowd]
    if pids:
        tasks.append(asyncio.create_task(_sample_memory(pids, until, 5.0, memory)))
    browser_samples: list[Sample] = []
    if browsers:
        loop = asyncio.get_running_loop()
        for _ in range(browsers):
            tasks.append(loop.run_in_executor(None, _browser_samples, base, pages, until, browser_samples))
    await asyncio.gather(*tasks)
    samples = [x for s in crowd for x in s.samples]
    return {"samples": samples, "memory": memory, "browser": browser_samples}


def report(result: dict, students: int, duration: float) -> dict:
    samples: list[Sample] = result["samples"]
    memory = result["memory"]
    per_page: dict[str, dict] = {}
    for page in sorted({s.page for s in samples}):
        xs = [s for s in samples if s.page == page]
        acts = [s for s in xs if s.ok and s.kind not in ("open", "connection")]
        inter = [s.seconds for s in acts if not s.announced]
        runs = [s.seconds for s in acts if s.announced]
        opens = [s.seconds for s in xs if s.ok and s.kind == "open"]
        by_widget: dict[str, list[float]] = {}
        for s in acts:
            by_widget.setdefault(s.widget, []).append(s.seconds)
        slowest = sorted(((_pct(v, 0.95), k, len(v)) for k, v in by_widget.items()), reverse=True)[:4]
        per_page[page] = {
            "interactions": len(inter), "p50_s": _pct(inter, 0.5), "p95_s": _pct(inter, 0.95),
            "max_s": max(inter) if inter else float("nan"), "open_p95_s": _pct(opens, 0.95),
            "training_runs": len(runs), "training_p50_s": _pct(runs, 0.5), "training_p95_s": _pct(runs, 0.95),
            "training_widgets": sorted({s.widget for s in acts if s.announced}),
            "slowest_widgets_p95": [(k, round(p, 3), n) for p, k, n in slowest],
            "errors": sum(not s.ok for s in xs),
            "handled_messages": sum(bool(s.handled) for s in xs),
            "error_examples": sorted({s.error for s in xs if not s.ok})[:3],
        }
    total = [s for s in samples if s.kind not in ("connection",)]
    out = {"students": students, "duration_s": duration, "pages": per_page,
           "requests": len(total), "errors": sum(not s.ok for s in samples),
           "all_p50_s": _pct([s.seconds for s in total if s.ok and s.kind != "open" and not s.announced], 0.5),
           "all_p95_s": _pct([s.seconds for s in total if s.ok and s.kind != "open" and not s.announced], 0.95),
           "training_runs": sum(s.announced for s in total)}
    if memory:
        rss = [m[1] for m in memory]
        cpu_used = memory[-1][2] - memory[0][2]
        start = min(60.0, duration / 4)
        warm = [m for m in memory if m[0] >= start] or memory
        window = min(60.0, duration / 8)   # one sample is noisy (a 0.3 GB computation in flight): compare levels
        first = [m[1] for m in warm if m[0] < warm[0][0] + window]
        last = [m[1] for m in warm if m[0] > warm[-1][0] - window]
        level0, level1 = statistics.median(first), statistics.median(last)
        out.update({"rss_start_mb": rss[0], "rss_peak_mb": max(rss), "rss_end_mb": rss[-1],
                    "rss_after_warmup_mb": warm[0][1],
                    "rss_growth_after_warmup_pct": 100 * (warm[-1][1] - warm[0][1]) / warm[0][1],
                    "rss_level_first_mb": level0, "rss_level_last_mb": level1,
                    "rss_level_growth_pct": 100 * (level1 - level0) / level0,
                    "server_cpu_s": cpu_used,
                    "cpu_s_per_request": cpu_used / max(1, len(total)),
                    "requests_per_cpu_s": len(total) / max(cpu_used, 1e-9),
                    "workers_rss_end_mb": memory[-1][3],
                    "memory_series": [(round(t), round(r), round(w)) for t, r, _, w in memory]})
    b = result["browser"]
    if b:
        out["browser"] = {k: {"n": len(v), "p50_s": _pct(v, 0.5), "p95_s": _pct(v, 0.95)} for k, v in
                          {kind: [s.seconds for s in b if s.kind == kind and s.ok]
                           for kind in ("browser open", "browser slider")}.items()}
        out["browser_errors"] = sum(not s.ok for s in b)
    return out


def print_report(r: dict) -> None:
    print(f"\n{r['students']} students, {r['duration_s']:.0f} s, {r['requests']} requests, {r['errors']} errors")
    print(f"{'page':<18} {'n':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'open95':>7} {'err':>4} {'msg':>4} "
          f"{'train':>5} {'t50 s':>6} {'t95 s':>6}")
    for page, p in r["pages"].items():
        print(f"{page:<18} {p['interactions']:>5} {p['p50_s']:>7.3f} {p['p95_s']:>7.3f} {p['max_s']:>7.3f} "
              f"{p['open_p95_s']:>7.3f} {p['errors']:>4} {p['handled_messages']:>4} {p['training_runs']:>5} "
              f"{p['training_p50_s']:>6.2f} {p['training_p95_s']:>6.2f}  {'; '.join(p['error_examples'])}")
    print("(n / p50 / p95 / max: interactions answered without a progress indicator; train / t50 / t95: reruns that")
    print(" showed a progress bar or spinner, i.e. a training run; err: exceptions, timeouts, lost connections;")
    print(" msg: translated messages for invalid settings)")
    for page, p in r["pages"].items():
        slow = ", ".join(f"{k or 'open'} {v:.2f}s (n={n})" for k, v, n in p["slowest_widgets_p95"])
        print(f"  slowest widgets on {page}: {slow}")
    if "rss_peak_mb" in r:
        print(f"server RSS (with its training workers): start {r['rss_start_mb']:.0f} MB, "
              f"after warm-up {r['rss_after_warmup_mb']:.0f} MB, "
              f"peak {r['rss_peak_mb']:.0f} MB, end {r['rss_end_mb']:.0f} MB "
              f"(first to last sample after warm-up {r['rss_growth_after_warmup_pct']:+.1f}%; "
              f"median level of the first "
              f"to the last minute {r['rss_level_first_mb']:.0f} -> {r['rss_level_last_mb']:.0f} MB, "
              f"{r['rss_level_growth_pct']:+.1f}%; "
              f"training workers {r['workers_rss_end_mb']:.0f} MB of the end figure)")
        print(f"server CPU: {r['server_cpu_s']:.1f} s for {r['requests']} requests = "
              f"{1000 * r['cpu_s_per_request']:.1f} ms/request ({r['requests_per_cpu_s']:.1f} requests per CPU-second)")
    if "browser" in r:
        for k, v in r["browser"].items():
            print(f"real browser, {k}: n={v['n']} p50 {v['p50_s']:.2f} s, p95 {v['p95_s']:.2f} s")


def main(argv: list[str] | None = None) -> int:
    from ui import catalog

    argv = sys.argv[1:] if argv is None else argv
    if "--class-poll" in argv:   # the presenter asks, sixty joined students vote, the presenter reveals
        from bench import classpoll

        return classpoll.main([a for a in argv if a != "--class-poll"])

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of load (bounded)")
    ap.add_argument("--pace", type=float, default=5.0, help="mean seconds between one student's changes")
    ap.add_argument("--pages", nargs="*", default=None, help="lesson slugs (default: every lesson)")
    ap.add_argument("--lang", default="mixed", choices=["en", "zh", "mixed"])
    ap.add_argument("--browsers", type=int, default=0, help="real chromium sessions alongside")
    ap.add_argument("--url", default=None, help="an already running server (default: start one here)")
    ap.add_argument("--pids", nargs="*", type=int, default=[], help="with --url: the server processes to sample")
    ap.add_argument("--json", default=None, help="write the full report here")
    ap.add_argument("--soak", action="store_true",
                    help="10-minute soak: fails if the median memory level grows > 10%% after warm-up, or on any error")
    a = ap.parse_args(argv)
    assert 1 <= a.students <= 200, "1..200 students"
    assert 5 <= a.duration <= 3600, "5..3600 s"
    pages = a.pages or [lesson.slug for lesson in catalog.available()]
    unknown = set(pages) - {lesson.slug for lesson in catalog.available()}
    assert not unknown, f"unknown lessons {unknown}"
    proc = None
    if a.url is None:
        port = _free_port()
        proc = start_server(port, {"DL_LAB_TORCH_THREADS": os.environ.get("DL_LAB_TORCH_THREADS", "1")})
        base = f"http://127.0.0.1:{port}"
    else:
        base = a.url.rstrip("/")
        assert base.startswith(("http://127.", "http://localhost", "http://[::1]")), "loopback targets only"
    try:
        result = asyncio.run(simulate(base, pages, a.students, a.duration, a.pace, a.lang,
                                      [proc.pid] if proc else a.pids, a.browsers))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    r = report(result, a.students, a.duration)
    print_report(r)
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=1, default=float))
    if a.soak:
        ok = r["errors"] == 0 and r.get("rss_level_growth_pct", 0.0) <= 10.0
        print("SOAK", "PASSED" if ok else "FAILED")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
