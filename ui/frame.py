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

    from dlcore import device

    wanted = torch_threads_from_env()
    n = device.set_threads(wanted) if wanted is not None else device.threads()
    start_workers()   # training workers spawn and warm up in the background
    gc.freeze()  # the libraries just imported live for the whole process: keep them out of every GC pass
    return n


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


def sidebar_top() -> None:
    """Language switch, global seed and the share link."""
    with st.sidebar:
        language_picker()
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
    """Compute device: CPU, or CUDA with the card's name when torch sees one."""
    configure_torch()
    from dlcore import device

    kinds = device.available()
    if "app.device" not in st.session_state:
        wanted = st.query_params.get("device", "cpu")
        st.session_state["app.device"] = wanted if wanted in kinds else "cpu"
    with st.sidebar:
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
