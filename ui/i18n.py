"""Interface strings in Chinese and English: ``t(key, **fmt)`` and the current language.

Strings live in ``assets/i18n/<lang>/<namespace>.toml``: the key ``gan.lr_d`` is
the entry ``lr_d`` of ``gan.toml`` (nested tables give longer dotted keys; a file in a
folder, ``exercises/gan.toml``, is the namespace ``exercises.gan``). One
file per lesson keeps lessons independent; a test checks that both languages
have exactly the same keys.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import streamlit as st

LANGS = ("zh", "en")
DEFAULT_LANG = "en"
LANG_KEY = "app.lang"
I18N_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"


def _flatten(table: dict, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


@lru_cache(maxsize=len(LANGS))
def strings(lang: str) -> dict[str, str]:
    """Every key of ``lang`` as a flat dict (read once per process)."""
    out: dict[str, str] = {}
    root = I18N_DIR / lang
    for path in sorted(root.rglob("*.toml")):   # exercises/gan.toml is the namespace "exercises.gan"
        with path.open("rb") as f:
            out.update(_flatten(tomllib.load(f), ".".join(path.relative_to(root).with_suffix("").parts)))
    return out


def _lang_from_request() -> str:
    q = st.query_params.get("lang")
    if q in LANGS:
        return q
    locale = (st.context.locale or "").lower()
    if locale.startswith("zh"):
        return "zh"
    return DEFAULT_LANG


def lang() -> str:
    """The current session's language, "zh" or "en". Called for every string of every run: one session-state
    lookup when the language is set, not two (this function took 5% of a whole-page run's server time, py-spy)."""
    value = st.session_state.get(LANG_KEY)
    if value in LANGS:
        return value
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = _lang_from_request()
        value = st.session_state[LANG_KEY]
    # The switch keeps ?lang= in the URL, so if its widget state is ever lost (seen in the browser after a
    # rerun, the switch showing no choice) the URL still knows the language; never fall back to English.
    return value if value in LANGS else _lang_from_request()


def t(key: str, **fmt: object) -> str:
    """The string ``key`` in the current language, formatted with ``fmt``.

    A key missing from the current language falls back to English, then to the
    key itself in brackets, so a gap shows on screen instead of crashing; tests
    keep both catalogues complete.
    """
    text = strings(lang()).get(key)
    if text is None:
        text = strings(DEFAULT_LANG).get(key, f"[{key}]")
    return text.format(**fmt) if fmt else text


def labels(prefix: str, names: Iterable[str]) -> dict[str, str]:
    """``{name: t(f"{prefix}.{name}")}``: the translated labels a figure builder takes (builders never call t())."""
    return {name: t(f"{prefix}.{name}") for name in names}


def option_names(prefix: str, options: Iterable[object]) -> dict[object, str]:
    """Translated names of a group of options, ``{option: t(f"{prefix}.{option}")}`` (e.g. prefix "gan.losses")."""
    return {o: t(f"{prefix}.{o}") for o in options}


def language_picker() -> None:
    """The sidebar's 中文 / English switch; keeps ``?lang=`` in the URL in step."""
    if st.session_state.get(LANG_KEY) not in LANGS:   # before the widget exists: give it the session's language
        st.session_state[LANG_KEY] = _lang_from_request()
    st.segmented_control(
        t("app.language"),
        options=list(LANGS),
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        key=LANG_KEY,
        selection_mode="single",
        required=True,
    )
    st.query_params["lang"] = lang()
