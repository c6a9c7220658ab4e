"""What a "try this" button costs: server time of the rerun after each preset's click, on cold caches.

Issue 31 asks that nothing a preset starts take more than about 10 s on this machine. Each lesson is opened
once (that fills the default view's caches), then every preset is clicked in turn and its rerun timed: the
preset's experiment is computed from scratch, as for the first learner of a class who clicks it (later
learners get it from the class cache). ``DL_LAB_BENCH_LESSONS=gan,normalization`` limits the lessons.
"""

from __future__ import annotations

import os
import time

from bench import Row

LIMIT_S = 10.0   # issue 31: "nothing a preset starts should take more than ~10 s on this machine"


def run() -> list[Row]:
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui import catalog

    only = {s for s in os.environ.get("DL_LAB_BENCH_LESSONS", "").split(",") if s}
    rows: list[Row] = []
    for item in catalog.available():
        slug = item.path.removeprefix("pages/").removesuffix(".py")
        if only and slug not in only:
            continue
        at = open_page(item.path, "en", timeout=600)
        keys = [b.key for b in at.button if b.key and b.key.startswith(f"{slug}.preset_btn.")]
        for key in keys:
            t0 = time.perf_counter()
            at.button(key=key).click().run()
            took = time.perf_counter() - t0
            note = "exception!" if at.exception else ("over 10 s" if took > LIMIT_S else "")
            rows.append(Row("presets", f"{slug}: {key.rsplit('.', 1)[1]}", took, "s", note))
    return rows
