"""Shared test helpers: open a page with AppTest, read Plotly figures back as numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from ui.figures.common import unpack

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
LANGS = ("en", "zh")

# AppTest resets PagesManager.uses_pages_directory before every run, and because
# our lessons live in a folder called pages/, it would then run a switched-to page
# file on its own (the old pages-directory mode) instead of app.py with
# st.navigation. A real server runs app.py every time (st.navigation sets the
# flag to False), so tests pin the flag the same way.
_original_init = PagesManager.__init__


def _navigation_only_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _navigation_only_init


def open_page(page: str, lang: str = "en", query: dict[str, str] | None = None, timeout: float = 120) -> AppTest:
    """Run app.py, switch to ``page`` ("pages/gan.py") in ``lang``, with extra URL ``query``; return the AppTest."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, f"app.py raised: {at.exception}"
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(page).run()
    return at


def _decode(obj: Any) -> Any:
    """A figure spec with Plotly's typed arrays as numpy arrays (the app's own ``unpack``)."""
    return unpack(obj)


def figures(at: AppTest) -> list[dict]:
    """Every Plotly chart on the page as a dict (``data``, ``layout``, ``frames``) with arrays decoded to numpy."""
    return [_decode(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]


def figure_titles(at: AppTest) -> list[str]:
    """The layout title text of every chart (empty string when it has none)."""
    out = []
    for fig in figures(at):
        title = fig.get("layout", {}).get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return out


def all_text(at: AppTest) -> str:
    """Every markdown, title, caption, info, warning and error string on the page, joined."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "latex"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def widget(at: AppTest, key: str):
    """The widget with ``key`` wherever it is on the page (main or sidebar)."""
    for kind in ("slider", "select_slider", "selectbox", "number_input", "checkbox", "toggle", "radio",
                 "multiselect", "text_input", "text_area", "segmented_control", "pills", "button",
                 "color_picker", "date_input"):
        for w in at.get(kind):
            if getattr(w, "key", None) == key:
                return w
    raise KeyError(f"no widget with key {key!r}")


def open_code(at: AppTest) -> AppTest:
    """Open the lesson's "code that ran" expander (drawn only while open) and rerun."""
    keys = [k for k in at.session_state if str(k).startswith("code_open.")]
    assert len(keys) == 1, f"expected one code expander, found {keys}"
    at.session_state[keys[0]] = True
    return at.run()


def colour_name(colour: str) -> str:
    """A plain colour word for a '#rrggbb' or 'rgb(r,g,b)' colour: the words a caption would use (claim tests
    compare captions that name a colour with the colours the figure draws)."""
    import colorsys

    if colour.startswith("#"):
        rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    else:
        rgb = [float(c) / 255 for c in colour[colour.index("(") + 1:-1].split(",")[:3]]
    h, light, sat = colorsys.rgb_to_hls(*rgb)
    if light < 0.15:
        return "black"
    if sat < 0.15:
        return "grey"
    deg = 360 * h
    for name, top in (("red", 15), ("orange", 45), ("yellow", 70), ("green", 170), ("blue", 260), ("purple", 345)):
        if deg < top:
            return name
    return "red"
