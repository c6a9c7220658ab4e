"""Cold start: process start -> health check -> home page rendered in a real browser.

The home page must be on screen within 3 s of the health check answering; torch is
imported only after it renders (ui/frame.py), so this measures the frame itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import Row

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DL_LAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(repeat: int = 3) -> list[tuple[float, float]]:
    """(seconds to health, seconds from health to home heading visible) for ``repeat`` fresh servers."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeat):
            port = _free_port()
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
                 "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
                 "--browser.gatherUsageStats=false"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                            break
                    except OSError:
                        time.sleep(0.05)
                t_health = time.perf_counter()
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/?lang=en")
                page.get_by_role("heading", name="Course map").wait_for(timeout=30_000)
                t_home = time.perf_counter()
                page.close()
                out.append((t_health - t0, t_home - t_health))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        browser.close()
    return out


def run() -> list[Row]:
    if not Path(CHROMIUM).exists():
        return [Row("coldstart", "skipped", float("nan"), "", f"no browser at {CHROMIUM}")]
    runs = measure()
    health = sorted(r[0] for r in runs)
    home = sorted(r[1] for r in runs)
    return [
        Row("coldstart", "process start -> health (median)", health[len(health) // 2], "s", f"{len(runs)} runs"),
        Row("coldstart", "health -> home visible (median)", home[len(home) // 2], "s", "target <= 3 s"),
        Row("coldstart", "health -> home visible (worst)", home[-1], "s", ""),
    ]
