"""Classroom helpers: presenter mode (``?present=1``), join codes with a QR code, and "reset my session".

A join code is six characters that stand for one page and its query string. The teacher projects the QR
code; students who open ``/?join=CODE`` land on the same experiment, whichever server process answers them:
codes live in the class store (``classroom``: SQLite by default, PostgreSQL when configured), not in a
process. Only a presenter creates codes, with a teacher key that lives in the presenter's session and never
in a student's link. If the store cannot be reached, lessons keep working and these features say so.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlencode

import streamlit as st

from classroom import codes, db
from classroom.store import Refused, StoreUnavailable, connect, new_learner_id, new_teacher_key
from classroom.store import Store as ClassStore
from ui.i18n import t

CODE_LEN = codes.CODE_LEN
TEACHER_KEY, PRESENT_CODE, CLASS_CODE = "app.teacher_key", "app.present_code", "app.class_code"
LEARNER = "app.learner_id"   # a joined learner's random id: their votes and their guided path in the class store
COOKIE = "dl_lab_class"      # "<join code>.<learner id>": this browser's class, kept while the code lives
PROGRESS_OF = "app._progress_of"   # session: the (class, learner) whose stored guided path was read (ui.predict)
_CHECKED, _WRITE = "app._class_checked", "app._class_cookie"   # session: cookie read / cookie to write ("" clears)
_LEARNER_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
NOT_SHARED = ("present", "join", "lang")   # query parameters that are the viewer's own, not the experiment's
log = logging.getLogger(__name__)


def class_store() -> ClassStore | None:
    """The class store, or None (with a translated note) when it cannot be reached."""
    try:
        return connect()
    except StoreUnavailable as err:
        log.warning("class store unavailable: %s", err)
    except (db.SchemaError, ValueError) as err:   # a schema or URL this version cannot use: logged, lesson kept
        log.error("class store refused: %s", err)
    st.warning(t("app.present.unavailable"), icon=":material/cloud_off:")
    return None


def is_presenting() -> bool:
    return st.query_params.get("present") in ("1", "true")


def handle_join(page_by_url_path: dict[str, st.Page]) -> None:
    """``?join=CODE``: go to the coded page with its settings, or say the code is unknown."""
    raw = st.query_params.get("join")
    if raw is None:
        return
    shown = str(raw)[:12]
    hit = None
    if codes.normalize(raw) is not None and (store := class_store()) is not None:
        try:
            hit = store.resolve_code(raw)
        except StoreUnavailable:
            st.warning(t("app.present.unavailable"), icon=":material/cloud_off:")
            del st.query_params["join"]
            return
    page = page_by_url_path.get(hit.url_path) if hit else None
    if page is None:
        del st.query_params["join"]
        st.warning(t("app.present.unknown_code", code=shown), icon=":material/link_off:")
        return
    # Forget values this run already seeded from the (code-only) URL, so the next run
    # seeds them from the experiment's query instead.
    for key in hit.query:
        st.session_state.pop({"seed": "app.seed", "device": "app.device"}.get(key, key), None)
    st.session_state[CLASS_CODE] = code = codes.normalize(raw)   # this learner is in the presenter's class now
    learner = st.session_state.setdefault(LEARNER, new_learner_id())
    st.session_state[_WRITE] = f"{code}.{learner}"   # this browser remembers it (written on the next run)
    st.switch_page(page, query_params=hit.query)


def _class_cookie() -> str | None:
    """This browser's class cookie as it came with the session (tests replace this)."""
    try:
        return st.context.cookies.get(COOKIE)
    except AttributeError:   # no browser context (a bare script run)
        return None


def parse_class_cookie(raw: object) -> tuple[str, str] | None:
    """(join code, learner id) from a class cookie, or None for anything else: a cookie is the browser's to edit."""
    if not isinstance(raw, str) or len(raw) > 80:
        return None
    code, _, learner = raw.partition(".")
    code = codes.normalize(code) if len(code) == CODE_LEN else None
    return (code, learner) if code is not None and _LEARNER_ID.fullmatch(learner) else None


def restore_class() -> None:
    """A learner who joined a class on this browser is in it again in a new session (a reload, another tab, a later
    visit while the code lives): the class cookie names the class and the learner's random id, so the class's
    questions reach them and their guided path comes back from the class store (``ui.predict``). Read once per
    session; a malformed cookie, or one whose code has expired, is ignored. Presenters are never restored."""
    if st.session_state.get(_CHECKED) or CLASS_CODE in st.session_state or is_presenting():
        return
    st.session_state[_CHECKED] = True
    hit = parse_class_cookie(_class_cookie())
    if hit is None or (store := class_store()) is None:
        return
    try:
        alive = store.resolve_code(hit[0]) is not None
    except StoreUnavailable:
        return
    if alive:
        st.session_state[CLASS_CODE], st.session_state[LEARNER] = hit
    else:
        st.session_state[_WRITE] = ""   # an expired class: forget it


def _leave_class() -> None:
    for key in (CLASS_CODE, LEARNER, "app._voted", "app._shown_poll", PROGRESS_OF):
        st.session_state.pop(key, None)
    st.session_state[_CHECKED] = True
    st.session_state[_WRITE] = ""


def class_sidebar() -> None:
    """A joined learner's sidebar: which class they are in, and a button to leave it (a shared computer: the next
    learner starts afresh). Writes or clears the class cookie when a run asked for it."""
    write = st.session_state.pop(_WRITE, None)
    if write is not None:
        from classroom.store import CODE_TTL_S

        age = CODE_TTL_S if write else 0
        st.html(f"""<script>(() => {{
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = {json.dumps(COOKIE)} + "=" + {json.dumps(write)} + "; Max-Age={age}; Path=/; SameSite=Lax" + secure;
}})();</script>""", unsafe_allow_javascript=True)
    code = st.session_state.get(CLASS_CODE)
    if not code or is_presenting():
        return
    with st.sidebar.container(key="class_member"):
        st.caption(t("app.present.in_class", code=code))
        st.button(t("app.present.leave"), key="app.leave_class", on_click=_leave_class,
                  icon=":material/logout:", help=t("app.present.leave_help"))


def presenter_styles() -> None:
    """Large type for a projector, and the figure first: less space above the page, a slim join bar, no
    one-line promise under the title (the learners' guided path is left out too, ui.predict); the sidebar starts
    collapsed (set in app.py). The join code and a small QR code sit in the bottom-right corner, over the page (the
    large QR code opens on click). tests/e2e/test_projector.py checks it at 1280 x 720."""
    st.html("""<style>
      [data-testid="stMainBlockContainer"] { padding-top: 3.6rem !important; }
      .st-key-lesson_header [data-testid="stCaptionContainer"] { display: none; }
      .st-key-lesson_header h1 { padding-bottom: 0.2rem !important; }
      .st-key-join_bar { position: fixed !important; right: 1rem; bottom: 1rem; z-index: 999990;
                         width: 31rem !important; max-width: calc(100vw - 2rem); background: #ffffff;
                         box-shadow: 0 2px 12px rgba(0,0,0,.25); }
      .st-key-join_bar img { max-width: 64px !important; }
      .st-key-join_bar p { font-size: 1rem !important; }
      .st-key-join_bar [data-testid="stPopover"] button [data-testid="stMarkdownContainer"] { display: none; }
      [data-testid="stMainBlockContainer"] { padding-bottom: 9rem !important; }
      [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.1rem; }
      h1 { font-size: 2.2rem !important; padding-top: 0 !important; }
      .st-key-join_bar p { margin: 0; }
      .st-key-join_bar code { font-size: 1.6rem; letter-spacing: 0.12em; }
      .js-plotly-plot .gtitle, .js-plotly-plot .xtitle, .js-plotly-plot .ytitle { font-size: 18px !important; }
      .js-plotly-plot .xtick text, .js-plotly-plot .ytick text,
      .js-plotly-plot .legendtext { font-size: 15px !important; }
    </style>""")


def join_panel(url_path: str) -> None:
    """What the projector shows students: a QR code and a short link to this exact experiment."""
    import segno

    store = class_store()
    if store is None:
        return
    teacher_key = st.session_state.setdefault(TEACHER_KEY, new_teacher_key())
    query = {k: v for k, v in st.query_params.to_dict().items() if k not in NOT_SHARED}
    try:
        code = store.create_code(teacher_key, url_path, query)
    except Refused as err:
        st.warning(t(f"app.present.refused.{err.reason}"), icon=":material/block:")
        return
    except StoreUnavailable:
        st.warning(t("app.present.unavailable"), icon=":material/cloud_off:")
        return
    st.session_state[PRESENT_CODE] = code
    base = (st.context.url or "").split("?", 1)[0].rstrip("/")
    root = base.rsplit("/", 1)[0] if url_path and base.endswith("/" + url_path) else base
    link = f"{root}/?{urlencode({'join': code})}"
    qr = segno.make(link, error="m")
    svg = qr.svg_data_uri(scale=6, border=2)
    # Figure first: a slim bar with a small QR code and the code in large type; the large QR on demand.
    with st.container(border=True, key="join_bar"):
        cols = st.columns([1, 6, 2], vertical_alignment="center")
        cols[0].html(f'<img src="{svg}" alt="QR" style="width:100%;max-width:96px">')
        cols[1].markdown(t("app.present.join", code=code))
        with cols[2].popover(t("app.present.big_qr"), icon=":material/qr_code_2:", width="stretch",
                             help=t("app.present.big_qr")):   # on the projector the button shows only its icon
            st.html(f'<img src="{svg}" alt="QR" style="width:100%;min-width:360px;max-width:560px">')
            st.markdown(f"`{link}`")   # inline code: no syntax highlighter to fetch (see ui.frame.share_link)


def reset_session_button() -> None:
    """Clear this learner's state (models being trained, settings) and start again."""
    def _reset() -> None:
        # a presenter who resets keeps the class's codes; a student stays in their class (leaving is its own button)
        keep = {"app.lang", TEACHER_KEY, CLASS_CODE, LEARNER, _CHECKED}
        for key in list(st.session_state.keys()):
            if key not in keep:
                del st.session_state[key]
        for key in list(st.query_params.keys()):
            if key not in ("lang",):
                del st.query_params[key]

    st.sidebar.button(t("app.reset_session"), key="app.reset_session", on_click=_reset,
                      icon=":material/restart_alt:", help=t("app.reset_session_help"))
