"""The "try this" presets of every lesson: one behaviour through the kit (issue 31, item 3).

A click sets the preset's settings (``ui.state.apply_preset``), shows its one sentence of what to notice, and brings
the figure it changed into view: the first figure of the tab the preset opens, or else the lesson's main figure (its
first figure), scrolled to only when it is not already on the screen. The sentence stays under the buttons until the
view changes: another tab, or a setting the preset set changed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import streamlit as st

from ui.i18n import t
from ui.state import Bound, Preset, apply_preset

# Brings the changed figure into view once the rerun has drawn it. The target is the first Plotly figure of the
# open tab panel (``tab``: the preset opened a tab) or of the lesson; nothing moves when its top is already on the
# screen. It waits for the run to end (Streamlit's status widget gone) and for the figure, at most ~8 s.
_SCROLL_JS = """<script>(() => {
  const tab = %(tab)s, started = Date.now();
  const visible = (el) => el.getClientRects().length > 0 && el.getBoundingClientRect().height > 0;
  const target = () => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main) return null;
    const scope = tab ? Array.from(main.querySelectorAll('[role="tabpanel"]')).find(visible) : main;
    return scope ? Array.from(scope.querySelectorAll('.js-plotly-plot')).find(visible) || null : null;
  };
  const tick = () => {
    const busy = document.querySelector('[data-testid="stStatusWidget"]');
    const el = busy ? null : target();
    if (!el) { if (Date.now() - started < 8000) setTimeout(tick, 120); return; }
    const top = el.getBoundingClientRect().top;
    const header = document.querySelector('[data-testid="stHeader"]');
    const margin = (header ? header.getBoundingClientRect().height : 0) + 8;
    if (top < margin || top > window.innerHeight * 0.6) {
      el.style.scrollMarginTop = margin + 'px';
      el.scrollIntoView({block: 'start', behavior: 'instant'});
    }
  };
  setTimeout(tick, 150);
})(); /* %(nonce)s */</script>"""


def _values(bound: Bound, preset: Preset) -> dict[str, Any]:
    return {name: st.session_state.get(bound.key(name)) for name in preset.values}


def _click(bound: Bound, preset: Preset) -> None:
    apply_preset(bound, preset)
    state = st.session_state
    state[f"{bound.lesson}._preset_seen"] = None          # the view is taken on the rerun, after the page's checks
    state[f"{bound.lesson}._preset_clicks"] = state.get(f"{bound.lesson}._preset_clicks", 0) + 1
    state[f"{bound.lesson}._preset_scroll"] = True


def _still_on(bound: Bound, preset: Preset) -> bool:
    """Whether the learner still looks at what ``preset`` set up: the same tab and the same settings as on the
    first run after it was applied (by a button here, or by an exercise's experiment)."""
    state, lesson = st.session_state, bound.lesson
    view = (preset.name, state.get(f"{lesson}.tab"), _values(bound, preset))
    seen = state.get(f"{lesson}._preset_seen")
    if seen is None or seen[0] != preset.name:            # the first run after it was applied
        state[f"{lesson}._preset_seen"] = view
        return True
    return seen == view


def presets(bound: Bound, items: Sequence[Preset], *, columns: int = 3) -> None:
    """The "try this" buttons and the chosen one's note (until the view changes); a click brings the changed
    figure into view."""
    st.subheader(t("app.lesson.try_this"))
    cols = st.columns(columns)
    for i, preset in enumerate(items):
        cols[i % columns].button(
            t(f"{bound.lesson}.presets.{preset.name}.label"),
            key=f"{bound.lesson}.preset_btn.{preset.name}",
            on_click=_click,
            args=(bound, preset),
            width="stretch",
        )
    state, lesson = st.session_state, bound.lesson
    chosen = {p.name: p for p in items}.get(state.get(f"{lesson}._preset"))
    if chosen is None:
        return
    if not _still_on(bound, chosen):
        state[f"{lesson}._preset"] = None
        return
    note = t(f"{lesson}.presets.{chosen.name}.note")
    st.info(note, icon=":material/lightbulb:")
    if state.pop(f"{lesson}._preset_scroll", False):
        opens_tab = any(key.endswith(".tab") for key in chosen.extra)
        st.toast(note, icon=":material/lightbulb:", duration="long")   # the note travels with the learner's eyes
        st.html(_SCROLL_JS % {"tab": json.dumps(opens_tab), "nonce": state.get(f"{lesson}._preset_clicks", 0)},
                unsafe_allow_javascript=True)
