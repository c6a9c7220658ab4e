"""A real `streamlit run` of the app and Debian's chromium driven by Playwright.

In CI (CI=true) a missing browser fails the run; elsewhere the browser tests skip.
Screenshots land in artifacts/screenshots/ (see the README).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DL_LAB_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(f"CI=true but no browser at {CHROMIUM}: install Debian's chromium")
        skip = pytest.mark.skip(reason=f"no browser at {CHROMIUM}")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}, "locale": "en-US"}


@pytest.fixture(autouse=True)
def _patient_page(request):
    """Playwright waits 30 s by default; CI runs the browser beside the other xdist worker's training, which can
    slow a rerun well past that. A wait that needs longer says so itself."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(60_000)
    yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
           "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
           "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
    # stderr goes to a file, not a pipe: nobody reads a pipe while the tests run, and a full pipe buffer
    # (64 KB of warnings and model-loading progress bars) would freeze the server mid-session.
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    log = open(SCREENSHOTS.parent / f"server-{port}.log", "w+b")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log)
    proc.log = log
    return proc


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> float:
    """Poll /_stcore/health until it answers ok; returns the time it answered."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            proc.log.seek(0)
            raise RuntimeError(f"streamlit exited: {proc.log.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return time.time()
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("streamlit did not become healthy")


@pytest.fixture(scope="session")
def app_url():
    port = _free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def goto(page, base: str, path: str = "", lang: str = "en", query: str = "", timeout: float = 60_000):
    """Open ``base/path?lang=..&query`` and wait for the app to finish running."""
    q = f"lang={lang}" + (f"&{query}" if query else "")
    page.goto(f"{base}/{path}?{q}")
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    wait_idle(page, timeout)


def wait_idle(page, timeout: float = 60_000):
    """Wait until Streamlit reports no script running (the status widget disappears)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)
    page.wait_for_timeout(200)


def screenshot(page, name: str, whole: bool = False) -> Path:
    """A screenshot under ``artifacts/screenshots``. Streamlit scrolls inside its main column, so a full-page shot
    is only the first screen; ``whole`` makes the window as tall as the column for the shot (at most 12,000 px),
    then gives it its size back."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    tall = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                         " return m ? m.scrollHeight : 0; }") if whole and size else 0
    grow = bool(tall) and tall > size["height"]
    if grow:
        page.set_viewport_size({"width": size["width"], "height": min(int(tall) + 40, 12_000)})
        page.wait_for_timeout(600)   # Plotly fits each figure to the new size
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if grow:
            page.set_viewport_size(size)
    return path


def assert_no_streamlit_error(page):
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"error element on page: {errors.first.inner_text() if errors.count() else ''}"


PLOT_TITLES_JS = ("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                  ".map(p => ((p.layout && p.layout.title && p.layout.title.text) || '').replace(/<[^>]+>/g, ''))")


def plot_titles(page) -> list[str]:
    """The title of every Plotly figure on the page, HTML tags stripped."""
    return page.evaluate(f"() => {PLOT_TITLES_JS}")


def _steady(page, read, key, tries: int = 40):
    """``read()`` once two readings 250 ms apart agree to a pixel in every number ``key`` picks out of them."""
    last = read()
    for _ in range(tries):
        page.wait_for_timeout(250)
        now = read()
        if last and now and all(abs(a - b) < 1 for a, b in zip(key(now), key(last))):
            return now
        last = now
    raise AssertionError(f"it kept moving: last at {last}")


def steady_point(page, point_js: str, arg) -> list[float]:
    """The screen point that ``point_js(arg)`` gives once the page has stopped moving. A click measured while an
    element above the figure is still coming or going lands elsewhere (a CI run clicked 48 photo rows too high)."""
    return _steady(page, lambda: page.evaluate(point_js, arg), lambda p: p)


def steady_box(locator) -> dict:
    """``locator``'s bounding box once it has stopped moving (see steady_point)."""
    return _steady(locator.page, locator.bounding_box, lambda b: [b[k] for k in ("x", "y", "width", "height")])


def wait_for_title(page, test_js: str, **kw) -> None:
    """Wait until some figure's title ``t`` satisfies the JS expression ``test_js``."""
    page.wait_for_function(f"() => {PLOT_TITLES_JS}.some(t => {test_js})", **kw)


# Remembers whether a progress bar with "已用" or "so far" was ever on the page: on a fast machine the bar can come
# and go between two checks, so a watcher records it instead of a wait racing the training.
_WATCH_PROGRESS = """() => {
  window.__sawProgress = false;
  const seen = () => Array.from(document.querySelectorAll('[data-testid="stProgress"]'))
    .some(bar => /已用|so far/.test(bar.innerText || ''));
  new MutationObserver(() => { if (!window.__sawProgress && seen()) window.__sawProgress = true; })
    .observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def watch_progress(page) -> None:
    """Start recording whether a training progress bar (with its seconds so far) appears on this page."""
    page.evaluate(_WATCH_PROGRESS)


def saw_progress(page) -> bool:
    """Whether a progress bar appeared since :func:`watch_progress`."""
    return bool(page.evaluate("() => window.__sawProgress"))
