"""Lesson widgets bound to ``st.query_params`` so a copied URL reopens the same experiment.

A page declares its URL-able widgets once::

    params = bind("gan", [
        Param.float("lr_d", 2e-4, lo=1e-5, hi=1e-1),
        Param.choice("loss", "nonsat", ["minimax", "nonsat", "hinge"]),
    ])

``bind`` seeds ``st.session_state["gan.lr_d"]`` (the widget's key) from the URL
when the value there is valid, else from the default, and shows one translated
note naming every URL value it had to drop. Widgets then use ``key=`` only (no
``value=``). At the end of the page, ``sync_url(params)`` writes the values that
differ from the defaults back to the URL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.i18n import t

# Query parameters the frame owns; lesson params never reuse these names.
FRAME_PARAMS = ("lang", "seed", "device", "present")
MAX_TEXT = 200  # longest free-text value accepted from a URL


class InvalidValue(ValueError):
    """A URL value that cannot be used; the message is an i18n key."""


@dataclass(frozen=True)
class Param:
    name: str                      # widget key without the lesson prefix
    default: Any
    parse: Callable[[str], Any]    # str -> value, raises InvalidValue
    dump: Callable[[Any], str]     # value -> str
    free_text: bool = False        # typed by the learner: the page validates it and says what is wrong

    @staticmethod
    def float(name: str, default: float, *, lo: float, hi: float) -> Param:
        def parse(s: str) -> float:
            try:
                v = float(s)
            except ValueError as e:
                raise InvalidValue("app.url.bad_type") from e
            if not math.isfinite(v) or not lo <= v <= hi:
                raise InvalidValue("app.url.out_of_range")
            return v
        return Param(name, default, parse, lambda v: f"{v:g}")

    @staticmethod
    def int(name: str, default: int, *, lo: int, hi: int) -> Param:
        def parse(s: str) -> int:
            try:
                v = int(s)
            except ValueError as e:
                raise InvalidValue("app.url.bad_type") from e
            if not lo <= v <= hi:
                raise InvalidValue("app.url.out_of_range")
            return v
        return Param(name, default, parse, str)

    @staticmethod
    def bool(name: str, default: bool) -> Param:
        def parse(s: str) -> bool:
            low = s.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise InvalidValue("app.url.bad_type")
        return Param(name, default, parse, lambda v: "1" if v else "0")

    @staticmethod
    def choice(name: str, default: Any, options: Sequence[Any]) -> Param:
        by_text = {str(o): o for o in options}
        assert str(default) in by_text, f"default {default!r} is not one of {list(options)}"

        def parse(s: str) -> Any:
            if s not in by_text:
                raise InvalidValue("app.url.unknown_option")
            return by_text[s]
        return Param(name, default, parse, str)

    @staticmethod
    def multi(name: str, default: Sequence[Any], options: Sequence[Any]) -> Param:
        """A list of options (multiselect, pills), written comma-separated."""
        by_text = {str(o): o for o in options}

        def parse(s: str) -> list[Any]:
            parts = [p for p in s.split(",") if p]
            if any(p not in by_text for p in parts):
                raise InvalidValue("app.url.unknown_option")
            return [by_text[p] for p in dict.fromkeys(parts)]
        return Param(name, list(default), parse, lambda v: ",".join(str(x) for x in v))

    @staticmethod
    def floats(name: str, default: Sequence[float], *, lo: float, hi: float) -> Param:
        """A fixed-length tuple of floats (a start point, a range), written comma-separated."""
        n = len(default)

        def parse(s: str) -> tuple[float, ...]:
            parts = s.split(",")
            if len(parts) != n:
                raise InvalidValue("app.url.bad_type")
            try:
                vals = tuple(float(p) for p in parts)
            except ValueError as e:
                raise InvalidValue("app.url.bad_type") from e
            if not all(math.isfinite(v) and lo <= v <= hi for v in vals):
                raise InvalidValue("app.url.out_of_range")
            return vals
        return Param(name, tuple(default), parse, lambda v: ",".join(f"{x:g}" for x in v))

    @staticmethod
    def text(name: str, default: str, *, max_len: int = MAX_TEXT,
             check: Callable[[str], bool] | None = None) -> Param:
        """Free text (a formula, a sequence). ``check`` may reject it; it is never evaluated here."""
        def parse(s: str) -> str:
            if len(s) > max_len:
                raise InvalidValue("app.url.too_long")
            if check is not None and not check(s):
                raise InvalidValue("app.url.bad_type")
            return s
        return Param(name, default, parse, str, free_text=True)


@dataclass(frozen=True)
class Bound:
    lesson: str
    params: tuple[Param, ...]

    def key(self, name: str) -> str:
        return f"{self.lesson}.{name}"

    def values(self) -> dict[str, Any]:
        """Current values by short name (what the page passes to its config)."""
        return {p.name: st.session_state[self.key(p.name)] for p in self.params}


def _checked(p: Param, value: Any) -> Any:
    """``value`` if it round-trips through the parameter's URL form; its canonical type if only the type
    differs ("64" for 64); otherwise the default. None (an empty number input) and typed text pass unchanged:
    the page shows its own message for text it cannot use, and the learner keeps what they typed."""
    if value is None or (p.free_text and isinstance(value, str)):
        return value
    try:
        canonical = p.parse(p.dump(value))
    except (InvalidValue, ValueError, TypeError, KeyError):
        return p.default
    return canonical if type(canonical) is not type(value) else value


def bind(lesson: str, params: Sequence[Param]) -> Bound:
    """Seed each widget's session-state value from the URL or its default; note bad URL values."""
    bound = Bound(lesson, tuple(params))
    problems: list[str] = []
    for p in bound.params:
        key = bound.key(p.name)
        if key in st.session_state:
            # Re-assign so Streamlit keeps the value while its widget sits on a tab this run does not draw
            # (it drops the state of widgets it did not render, and lessons render only the open tab).
            # It is also checked: a stale or foreign widget value (the label of a select box option from a
            # table that has changed since, say) falls back to the default rather than reaching the page.
            st.session_state[key] = _checked(p, st.session_state[key])
            continue
        raw = st.query_params.get(key)
        value = p.default
        if raw is not None:
            try:
                value = p.parse(str(raw))
            except InvalidValue as e:
                problems.append(t("app.url.item", name=key, value=str(raw)[:40], why=t(str(e))))
        st.session_state[key] = value
    if problems:
        st.warning(t("app.url.note") + "\n\n" + "\n".join(f"- {x}" for x in problems), icon=":material/link_off:")
    return bound


def sync_url(bound: Bound) -> None:
    """Write the values that differ from their defaults into the URL; drop the rest."""
    for p in bound.params:
        key = bound.key(p.name)
        value = st.session_state.get(key, p.default)
        if value == p.default or (isinstance(value, (list, tuple)) and list(value) == list(p.default)):
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = p.dump(value)


def reset_lesson(bound: Bound) -> None:
    """Put every bound widget back to its default (a button callback)."""
    for p in bound.params:
        st.session_state[bound.key(p.name)] = p.default


def global_seed() -> int:
    """The sidebar's random seed (0 until the sidebar has run)."""
    return int(st.session_state.get("app.seed", 0))


def device_preference() -> str:
    """The sidebar's device choice, "cpu" or "cuda" (dlcore.device.pick validates it)."""
    return str(st.session_state.get("app.device", "cpu"))
