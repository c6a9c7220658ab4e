"""Page anatomy helpers: concept text, "try this" presets, and "the code that ran".

Every lesson page reads: ``header`` -> ``concept`` -> lab -> ``presets`` -> ``code_that_ran``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.i18n import lang, t
from ui.presets import presets  # noqa: F401  ("try this": one behaviour for every lesson, ui/presets.py)
from ui.runtime import memo_cache_keys, offer_figure
from ui.state import Bound, Preset, apply_preset  # noqa: F401  (Preset: re-exported for pages)

if TYPE_CHECKING:   # plotly loads with the first lesson, not with the course map
    import plotly.graph_objects as go

LESSONS_DIR = Path(__file__).resolve().parent.parent / "assets" / "lessons"


@lru_cache(maxsize=64)
def lesson_text(slug: str, language: str) -> str:
    """The Markdown of ``assets/lessons/<language>/<slug>.md``."""
    return (LESSONS_DIR / language / f"{slug}.md").read_text(encoding="utf-8")


def ensure_navigation() -> None:
    """Run through app.py's ``st.navigation`` even when a lesson URL is the server's first request.

    Streamlit starts in its old "pages/ folder" mode when a ``pages/`` folder sits beside the
    entry script, and leaves it only once ``st.navigation`` has run. If the very first request
    after start-up opens a lesson directly, that lesson would run on its own (no sidebar, no
    frame); switching the mode off and rerunning sends the request through app.py instead.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def header(slug: str) -> None:
    """Title and one-line promise of a lesson."""
    ensure_navigation()
    with st.container(key="lesson_header"):   # presenter mode hides the promise (ui.present.presenter_styles)
        st.title(t(f"{slug}.title"))
        st.caption(t(f"{slug}.promise"))


def concept(slug: str, *, expanded: bool = True) -> None:
    """The lesson's concept text (Markdown with $LaTeX$) in the current language."""
    with st.expander(t("app.lesson.concept"), expanded=expanded, icon=":material/menu_book:"):
        st.markdown(lesson_text(slug, lang()))


def predict(bound: Bound, items: Sequence[Preset]) -> None:
    """Predict, then observe (ui.predict): exercises whose results stay hidden until the learner commits, and the
    class's polls in presenter mode. ``items`` are the lesson's presets: an exercise runs one of them."""
    from ui.predict import predict as _predict

    _predict(bound, items)


def cached(max_entries: int = 32, *, ttl: int | None = 3600):
    """The one caching idiom for "a dlcore call and its figure": ``st.cache_data`` keyed on plain settings and
    the language (pass ``lang()`` as an argument when labels are inside), shared by the class, no spinner.

        @lesson.cached(16)
        def slide(config: conv.SlideConfig, language: str) -> dict:   # a frozen figure spec
            return freeze(figs.sliding_window(conv.slide(config), labels("convolution.fig", KEYS)))

    ``ttl=None`` keeps an entry until it is evicted (one computation that serves every class). The function's
    cache key is computed once per process, not on every page run (``ui.runtime.memo_cache_keys``).
    """
    memo_cache_keys()
    return st.cache_data(max_entries=max_entries, ttl=ttl, show_spinner=False)


def _csv(spec: dict[str, Any]) -> bytes:
    import pandas as pd

    from ui.figures.common import figure_table

    return pd.DataFrame(figure_table(spec)).to_csv(index=False).encode("utf-8-sig")   # BOM: Excel reads CJK


def phone() -> bool:
    """Whether the learner's browser says it is a phone ("Mobi" in its user agent, as phones' browsers send)."""
    try:
        return "Mobi" in (st.context.headers.get("User-Agent") or "")
    except Exception:   # no browser behind this run (a bare script)
        return False


def chart(fig: go.Figure, key: str, where: Any = st, **kwargs: Any) -> None:
    """A figure and, under it, its data as a CSV download (made only when the learner clicks). On a phone the
    figure is laid out again for its width first (``ui.figures.common.for_phone``: titles wrapped, the legend
    moved under the plot). A class poll's reveal shares the first one with the students still waiting for their
    lab's turn (``ui.predict``)."""
    offer_figure(fig)
    if phone():
        from ui.figures.common import Prebuilt, for_phone

        fig = Prebuilt(for_phone(fig.to_dict()))
    where.plotly_chart(fig, key=key, **kwargs)
    spec = fig.to_dict()
    where.download_button(t("app.lesson.download"), data=lambda: _csv(spec), file_name=f"{key}.csv",
                          mime="text/csv", key=f"{key}.csv", help=t("app.lesson.download_help"),
                          icon=":material/download:", type="tertiary", on_click="ignore")


@lru_cache(maxsize=256)
def _source(obj: Callable[..., Any] | type) -> str:
    return inspect.getsource(obj)


def code_that_ran(*objects: Callable[..., Any] | type) -> None:
    """An expander with the dlcore source of the functions (or classes) the lab called.

    Its content is drawn only while it is open (``on_change="rerun"`` makes ``.open`` tell): the browser then
    fetches the syntax highlighter (1.5 MB) when a learner asks for the code, not with every lesson's first paint.
    """
    modules = sorted({obj.__module__ for obj in objects})
    box = st.expander(t("app.lesson.code"), icon=":material/code:", key="code_open." + ",".join(modules)[:120],
                      on_change="rerun")
    if not box.open:
        return
    with box:
        for obj in objects:
            st.caption(f"{obj.__module__}.{obj.__qualname__}")
            st.code(_source(obj), language="python")
