"""Server time of one interaction on every page: an AppTest rerun at the page's defaults.

The first run of a page fills its caches (cold); later reruns are what a learner
moving a widget costs when the result is cached, or a fresh computation when not.
"""

from __future__ import annotations

import time

from bench import Row


def run() -> list[Row]:
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui import catalog

    rows: list[Row] = []
    for page in ["pages/home.py"] + [lesson.path for lesson in catalog.available()]:
        t0 = time.perf_counter()
        at = open_page(page, "en")
        cold = time.perf_counter() - t0
        reruns = []
        for _ in range(3):
            t1 = time.perf_counter()
            at.run()
            reruns.append(time.perf_counter() - t1)
        name = page.removeprefix("pages/").removesuffix(".py")
        rows.append(Row("pages", f"{name}: first open (app + page)", cold * 1000, "ms", "cold caches"))
        rows.append(Row("pages", f"{name}: rerun", min(reruns) * 1000, "ms",
                        "exception!" if at.exception else ""))
    return rows
