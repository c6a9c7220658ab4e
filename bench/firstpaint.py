"""What a class's browsers download before a lesson's first figure, and how long it takes (issue: a class opens
the link at once).

For every lesson, a cold Chromium (empty cache) opens the lesson directly (a join link lands there) and counts the
bytes on the wire (CDP ``Network.loadingFinished`` encodedDataLength) and the time until the first Plotly figure
is drawn: straight from Streamlit, and through the nginx proxy of ``scripts/serve_local.sh`` (gzip, cached static
files). Beside the bytes it gives the websocket's messages, which carry the figures and which Streamlit does not
deflate here (see the README). Through the proxy it also opens it at 2.5 Mbps (a sixtieth of a 150 Mbps classroom
link, Chromium's network emulation) and the course map. Run: ``python -m bench firstpaint`` (needs
/usr/bin/chromium and nginx);
``DL_LAB_FIRSTPAINT_LESSONS=attention,receptive_field`` measures only those lessons (and ``DL_LAB_FIRSTPAINT_SLOW=0``
leaves out the 2.5 Mbps runs), for a quick before/after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import Row

ROOT = Path(__file__).resolve().parents[1]
SLOW = {"offline": False, "latency": 20, "downloadThroughput": 2.5e6 / 8, "uploadThroughput": 1e6 / 8}


def _open(browser, url: str, throttle: dict | None = None) -> tuple[float, float, float]:
    """(MB on the wire, seconds, MB of websocket messages) until the first Plotly figure (or, for the course map,
    its title) is drawn. The messages (the figures' JSON among them) are counted as the browser hands them over:
    Chromium reports no wire size for a websocket, so with permessage-deflate on they would be counted inflated."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        cdp.send("Network.emulateNetworkConditions", throttle)
    total = [0.0]
    cdp.on("Network.loadingFinished", lambda e: total.__setitem__(0, total[0] + e.get("encodedDataLength", 0)))
    ws = [0.0]
    cdp.on("Network.webSocketFrameReceived", lambda e: ws.__setitem__(0, ws[0] + _payload_bytes(e["response"])))
    t0 = time.perf_counter()
    page.goto(url, timeout=180_000)
    target = ".js-plotly-plot" if "/?" not in url and not url.endswith("/") else "h1"
    page.locator(target).first.wait_for(timeout=180_000)
    dt = time.perf_counter() - t0
    page.wait_for_timeout(500)
    mb, ws_mb = total[0] / 1e6, ws[0] / 1e6
    context.close()
    return mb, dt, ws_mb


def _payload_bytes(frame: dict) -> int:
    """A frame's payload size: CDP sends a binary frame (opcode 2, Streamlit's protobuf) as base64."""
    data = frame.get("payloadData", "")
    return len(data) * 3 // 4 if frame.get("opcode") == 2 else len(data.encode())


def _lessons() -> list:
    from ui import catalog

    wanted = [s for s in os.environ.get("DL_LAB_FIRSTPAINT_LESSONS", "").split(",") if s]
    return [x for x in catalog.available() if not wanted or x.slug in wanted]


def run() -> list[Row]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port
    from ui import catalog

    slow = os.environ.get("DL_LAB_FIRSTPAINT_SLOW", "1") != "0"

    port, first = _free_port(), _free_port()
    proc = subprocess.Popen(["bash", "scripts/serve_local.sh"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PROCESSES": "1", "PORT": str(port), "FIRST_BACKEND_PORT": str(first),
                                 "PY": sys.executable}, start_new_session=True)
    rows: list[Row] = []
    try:
        for line in proc.stdout:
            if line.startswith("PIDS"):
                break
        proxy, direct = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{first}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for base in (direct, proxy):   # warm the server's caches and imports once
                _open(browser, f"{base}/{catalog.available()[0].slug}?lang=en")
            for where, base in (("direct", direct), ("proxy", proxy)):
                mb, dt, _ = _open(browser, f"{base}/?lang=en")
                rows += [Row("firstpaint", f"course map, {where}: bytes", mb, "MB"),
                         Row("firstpaint", f"course map, {where}: time", dt, "s")]
            for lesson in _lessons():
                for where, base in (("direct", direct), ("proxy", proxy)):
                    mb, dt, ws_mb = _open(browser, f"{base}/{lesson.slug}?lang=en")
                    rows += [Row("firstpaint", f"{lesson.slug}, {where}: bytes to first figure", mb, "MB",
                                 f"+ {ws_mb:.2f} MB of websocket messages"),
                             Row("firstpaint", f"{lesson.slug}, {where}: time to first figure", dt, "s")]
                if not slow:
                    continue
                mb, dt, _ = _open(browser, f"{proxy}/{lesson.slug}?lang=en", SLOW)
                rows.append(Row("firstpaint", f"{lesson.slug}, proxy at 2.5 Mbps: time to first figure", dt, "s",
                                f"{mb:.2f} MB"))
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return rows
