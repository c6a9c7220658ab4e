"""Draw the course map's pictures: each lesson's first figure at its defaults, as the lesson itself shows it.

    .venv/bin/python scripts/make_previews.py              # writes assets/previews/<lesson>.png, every lesson
    .venv/bin/python scripts/make_previews.py backprop     # only the lessons named

Starts the app, opens every lesson in Debian's chromium at 1400 px, screenshots its first Plotly figure and
saves it at 480 px wide (PNG, a few dozen KB each). Run it again when a lesson's main figure changes.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, goto, start_server, wait_healthy  # noqa: E402
from ui import catalog  # noqa: E402

WIDTH = 480


def main(argv: list[str]) -> int:
    wanted = set(argv)
    unknown = wanted - {lesson.slug for lesson in catalog.available()}
    if unknown:
        print(f"unknown or unwritten lessons: {sorted(unknown)}", file=sys.stderr)
        return 2
    out = ROOT / "assets" / "previews"
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for lesson in catalog.available():
                if wanted and lesson.slug not in wanted:
                    continue
                goto(page, base, path=lesson.slug, lang="en", timeout=180_000)
                plot = page.locator(".js-plotly-plot").first
                plot.wait_for(timeout=120_000)
                page.wait_for_timeout(800)   # plotly's transitions
                shot = Image.open(io.BytesIO(plot.screenshot())).convert("RGB")
                shot = shot.resize((WIDTH, round(shot.height * WIDTH / shot.width)), Image.LANCZOS)
                shot.save(out / f"{lesson.slug}.png", optimize=True)
                print(lesson.slug, shot.size, (out / f"{lesson.slug}.png").stat().st_size // 1024, "KB")
            browser.close()
    finally:
        proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
