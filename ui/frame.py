"""What every page shows around the lesson: the sidebar and the process-wide torch set-up.

Split in two so the home page renders before torch is imported: ``sidebar_top``
(language, seed, share link) runs before the page, ``sidebar_device`` after it.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import language_picker, t
from ui.runtime import process_wide, start_workers
from ui.settings import torch_threads_from_env
from ui.state import FRAME_PARAMS

SEED_MAX = 2**31 - 1


@process_wide
def configure_torch() -> int:
    """Set torch's thread count once per process (every session shares it); returns the count."""
    import gc
    import threading

    from dlcore import device

    wanted = torch_threads_from_env()
    n = device.set_threads(wanted) if wanted is not None else device.threads()
    start_workers()   # training workers spawn and warm up in the background
    # pandas is imported here, whole, before the warm-up thread starts: Plotly looks pandas up in sys.modules without
    # importing it, so a page drawing a figure while another thread is half-way through ``import pandas`` fails with
    # "partially initialized module 'pandas' has no attribute 'Series'" (seen in AppTest).
    import pandas  # noqa: F401
    threading.Thread(target=warm_first_paint, name="dl-lab-warm-up", daemon=True).start()
    gc.freeze()  # the libraries just imported live for the whole process: keep them out of every GC pass
    return n


def warm_first_paint() -> None:
    """Pay, once per process and in the background, the one-time costs that a lesson's first open would otherwise
    add to its first figure (issue 29, measured on the receptive field: ~1.7 s for the symbolic-shape module torch
    loads on the first meta-device convolution, ``dlcore.receptive_field.torch_check``; ~1.6 s for pandas' Styler
    and its templates, the layer table). Runs after the first page of the first session is drawn."""
    import gc

    import pandas.io.formats.style  # noqa: F401 - imported for its side effect: templates compiled once
    import torch

    x = torch.empty(1, 1, 4, 4, device="meta")
    torch.nn.functional.conv2d(x, torch.empty(1, 1, 3, 3, device="meta"))   # imports torch's shape checker
    gc.freeze()   # as configure_torch does: what was just imported lives for the whole process


def navigation(sections: dict[str, list[st.Page]]) -> None:
    """The lessons in the sidebar, by syllabus group (Streamlit's own list is off: ``showSidebarNavigation``)."""
    with st.sidebar.container(key="lesson_nav"):
        for title, pages in sections.items():
            st.caption(title)
            for page in pages:
                st.page_link(page, label=page.title, icon=page.icon, width="stretch")


def _seed_from_url() -> None:
    if "app.seed" in st.session_state:
        return
    raw = st.query_params.get("seed")
    seed = 0
    if raw is not None:
        try:
            seed = int(raw)
            if not 0 <= seed <= SEED_MAX:
                raise ValueError(raw)
        except ValueError:
            seed = 0
            st.sidebar.warning(t("app.url.item", name="seed", value=str(raw)[:40], why=t("app.url.out_of_range")))
    st.session_state["app.seed"] = seed


# Streamlit (1.67) draws its own controls in English only and offers no way to translate them (the strings are
# literals in its compiled frontend). The one a learner meets, the status widget's Stop button (shown while a run
# takes over 0.5 s), is relabelled here with CSS; the README lists the rest. tests/e2e/test_frame.py checks it.
# The style sits in a hidden element of the page, not alone in an st.html: a style-only st.html goes to Streamlit's
# event container, which is emptied when a run starts, just when the Stop button appears.
_STOP_CSS = """<style>
  .st-key-app_streamlit_labels {{ display: none; }}
  [data-testid="stStatusWidget"] button {{ font-size: 0 !important; }}
  [data-testid="stStatusWidget"] button p {{ font-size: 0 !important; }}
  [data-testid="stStatusWidget"] button::after {{ content: {stop}; font-size: 0.875rem; line-height: 1.6; }}
  [data-testid="stStatusWidget"] button:disabled::after {{ content: {stopping}; }}
</style>"""


def translate_streamlit_controls() -> None:
    """Streamlit's own Stop button in the learner's language (see _STOP_CSS)."""
    import json

    css = _STOP_CSS.format(stop=json.dumps(t("app.streamlit.stop"), ensure_ascii=False),
                           stopping=json.dumps(t("app.streamlit.stopping"), ensure_ascii=False))
    with st.container(key="app_streamlit_labels"):
        st.html(css + "<span></span>")   # not style-only: stays on the page


def sidebar_top() -> None:
    """Language switch, global seed and the share link; Streamlit's Stop button in the chosen language."""
    with st.sidebar:
        language_picker()
        translate_streamlit_controls()
        _seed_from_url()
        st.number_input(t("app.seed"), min_value=0, max_value=SEED_MAX, step=1, key="app.seed",
                        help=t("app.seed_help"))
        if st.session_state["app.seed"] != 0:
            st.query_params["seed"] = str(st.session_state["app.seed"])
        elif "seed" in st.query_params:
            del st.query_params["seed"]


def share_link() -> None:
    """The "share this experiment" link: the current URL with every bound widget in its query."""
    with st.sidebar:
        query = "&".join(f"{k}={v}" for k, v in st.query_params.to_dict().items())
        base = st.context.url or ""
        base = base.split("?", 1)[0]
        st.caption(t("app.share"), help=t("app.share_help"))
        # inline code, not st.code: a code block makes every first paint fetch the 1.5 MB syntax highlighter
        st.markdown(f"`{base}?{query}`" if query else f"`{base}`")


def presenter_toggle() -> None:
    """Presenter mode on/off, kept in ``?present=1`` so the projector's URL stays in it."""
    if "app.present" not in st.session_state:
        st.session_state["app.present"] = st.query_params.get("present") in ("1", "true")
    with st.sidebar:
        st.toggle(t("app.present.toggle"), key="app.present", help=t("app.present.toggle_help"))
    if st.session_state["app.present"]:
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
            st.rerun()
    elif "present" in st.query_params:
        del st.query_params["present"]
        st.rerun()


def sidebar_device() -> None:
    """Compute device: CPU, or CUDA with the card's name when torch sees one. The picker shows only when there is
    something to pick (issue 31); the name of the device in use always shows."""
    configure_torch()
    from dlcore import device

    kinds = device.available()
    if "app.device" not in st.session_state or st.session_state["app.device"] not in kinds:
        wanted = st.query_params.get("device", "cpu")
        st.session_state["app.device"] = wanted if wanted in kinds else "cpu"
    with st.sidebar:
        if len(kinds) > 1:
            st.radio(t("app.device"), kinds, key="app.device", horizontal=True,
                     format_func=lambda k: t(f"app.device_{k}"))
        info = device.describe(device.pick(st.session_state["app.device"]))
        st.caption(t("app.device_name", name=info.name))
    if st.session_state["app.device"] != "cpu":
        st.query_params["device"] = st.session_state["app.device"]
    elif "device" in st.query_params:
        del st.query_params["device"]


assert {"lang", "seed", "device"} <= set(FRAME_PARAMS)


def _chart_chunk() -> str | None:
    """Streamlit's Plotly chunk (the largest script a lesson needs, ~1.4 MB gzipped), relative to the app's root."""
    from pathlib import Path

    hits = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return f"static/js/{hits[0].name}" if hits else None


def prefetch_charts_on_intent() -> None:
    """On the course map: fetch the charting chunk as soon as the learner points at (or focuses, or touches) a link,
    while they are still choosing, so the first lesson does not wait for it. A learner who only reads the course
    map downloads nothing more (issue 29)."""
    import json

    chunk = _chart_chunk()
    if chunk is None:
        return
    st.html(f"""<script>(() => {{
  if (window.__dlLabPrefetch) return;
  window.__dlLabPrefetch = true;
  const href = new URL({json.dumps(chunk)}, document.baseURI).href;
  let done = false;
  const go = (e) => {{
    if (done || !(e.target && e.target.closest && e.target.closest("a[href]"))) return;
    done = true;
    const link = document.createElement("link");
    link.rel = "prefetch";
    link.as = "script";
    link.href = href;
    document.head.appendChild(link);
  }};
  for (const kind of ["pointerover", "focusin", "touchstart"]) document.addEventListener(kind, go, {{passive: true}});
}})();</script>""", unsafe_allow_javascript=True)
