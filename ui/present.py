"""Classroom helpers: presenter mode (``?present=1``), short join codes with a QR code, and
"reset my session".

A join code is six characters that stand for one page and its query string. The teacher
projects the QR code; students who open ``/?join=CODE`` land on the same experiment.
Codes live in a bounded, process-wide table (read-mostly; at most ``MAX_CODES`` entries).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from urllib.parse import urlencode

import streamlit as st

from ui.i18n import t

MAX_CODES = 2000
CODE_LEN = 6
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class JoinCodes:
    """A bounded, thread-safe map code -> (url_path, query)."""

    def __init__(self, capacity: int = MAX_CODES) -> None:
        self._lock = threading.Lock()
        self._table: OrderedDict[str, tuple[str, tuple[tuple[str, str], ...]]] = OrderedDict()
        self.capacity = capacity

    @staticmethod
    def make_code(url_path: str, query: tuple[tuple[str, str], ...]) -> str:
        digest = hashlib.sha256(repr((url_path, query)).encode()).digest()
        n = int.from_bytes(digest[:8], "big")
        return "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(CODE_LEN))

    def put(self, url_path: str, query: dict[str, str]) -> str:
        frozen = tuple(sorted((k, v) for k, v in query.items() if k not in ("present", "join", "lang")))
        code = self.make_code(url_path, frozen)
        with self._lock:
            self._table[code] = (url_path, frozen)
            self._table.move_to_end(code)
            while len(self._table) > self.capacity:
                self._table.popitem(last=False)
        return code

    def get(self, code: str) -> tuple[str, dict[str, str]] | None:
        with self._lock:
            hit = self._table.get(code.strip().upper())
        return (hit[0], dict(hit[1])) if hit else None


@st.cache_resource(show_spinner=False)
def join_codes() -> JoinCodes:
    return JoinCodes()


def is_presenting() -> bool:
    return st.query_params.get("present") in ("1", "true")


def handle_join(page_by_url_path: dict[str, st.Page]) -> None:
    """``?join=CODE``: go to the coded page with its settings, or say the code is unknown."""
    code = st.query_params.get("join")
    if code is None:
        return
    hit = join_codes().get(str(code)[:CODE_LEN + 2])
    if hit is None:
        del st.query_params["join"]
        st.warning(t("app.present.unknown_code", code=str(code)[:12]), icon=":material/link_off:")
        return
    url_path, query = hit
    page = page_by_url_path.get(url_path)
    if page is None:
        del st.query_params["join"]
        return
    # Forget values this run already seeded from the (code-only) URL, so the next run
    # seeds them from the experiment's query instead.
    for key in query:
        st.session_state.pop({"seed": "app.seed", "device": "app.device"}.get(key, key), None)
    st.switch_page(page, query_params=query)


def presenter_styles() -> None:
    """Large type for a projector; the sidebar starts collapsed (set in app.py)."""
    st.html("""<style>
      html { font-size: 125%; }
      [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
      h1 { font-size: 3rem !important; }
    </style>""")


def join_panel(url_path: str) -> None:
    """What the projector shows students: a QR code and a short link to this exact experiment."""
    import segno

    query = {k: v for k, v in st.query_params.to_dict().items() if k not in ("present", "join", "lang")}
    code = join_codes().put(url_path, query)
    base = (st.context.url or "").split("?", 1)[0].rstrip("/")
    root = base.rsplit("/", 1)[0] if url_path and base.endswith("/" + url_path) else base
    link = f"{root}/?{urlencode({'join': code})}"
    qr = segno.make(link, error="m")
    svg = qr.svg_data_uri(scale=6, border=2)
    with st.container(border=True):
        cols = st.columns([1, 3])
        cols[0].html(f'<img src="{svg}" alt="QR" style="width:100%;max-width:220px">')
        cols[1].markdown(t("app.present.join", code=code))
        cols[1].code(link, language=None)


def reset_session_button() -> None:
    """Clear this learner's state (models being trained, settings) and start again."""
    def _reset() -> None:
        keep = {"app.lang"}
        for key in list(st.session_state.keys()):
            if key not in keep:
                del st.session_state[key]
        for key in list(st.query_params.keys()):
            if key not in ("lang",):
                del st.query_params[key]

    st.sidebar.button(t("app.reset_session"), key="app.reset_session", on_click=_reset,
                      icon=":material/restart_alt:", help=t("app.reset_session_help"))
