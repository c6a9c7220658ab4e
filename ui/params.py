"""A lesson's settings, each declared once: its URL form, default, range or options, and how it is drawn.

A declaration carries everything about one setting: the key (after the lesson prefix), the default, the range
or the options, the URL binding (``parse``/``dump``), and the widget that draws it with its label and help
keys. The page binds the declarations (``ui.state.bind``) and draws a control by name (``ui.controls``);
presets, claim tests and exercises refer to the same names. No Streamlit here, so ``ui.experiments`` modules,
tests and exercises can import the declarations without it.

    SETTINGS = (
        Param.choice("loss", "nonsat", LOSSES, names="losses"),       # a select box with translated names
        Param.float("lr", 0.1, lo=1e-3, hi=1.0, step=1e-3),           # a slider
        Param.int("d_steps", 1, lo=1, hi=5, help=True),                # label "gan.d_steps", help "gan.help.d_steps"
    )
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    widget: str = ""               # how ui.controls draws it (one of WIDGETS)
    lo: Any = None                 # slider / number input range
    hi: Any = None
    step: Any = None
    options: tuple = field(default=())   # choices, in the order shown
    names: str | None = None       # translated option names: "<lesson>.<names>.<option>"
    fmt: str | None = None         # how a numeric option or value is shown ("g", ".0%", ...)
    help: bool = False             # a help text exists: "<lesson>.help.<name>"
    max_len: int | None = None     # free text: longest accepted

    @staticmethod
    def float(name: str, default: float, *, lo: float, hi: float, step: float | None = None,
              widget: str = "slider", fmt: str | None = None, help: bool = False) -> Param:
        def parse(s: str) -> float:
            try:
                v = float(s)
            except ValueError as e:
                raise InvalidValue("app.url.bad_type") from e
            if not math.isfinite(v) or not lo <= v <= hi:
                raise InvalidValue("app.url.out_of_range")
            return v
        return Param(name, default, parse, lambda v: f"{v:g}", widget=widget, lo=lo, hi=hi, step=step, fmt=fmt,
                     help=help)

    @staticmethod
    def int(name: str, default: int, *, lo: int, hi: int, step: int | None = None, widget: str = "slider",
            help: bool = False) -> Param:
        def parse(s: str) -> int:
            try:
                v = int(s)
            except ValueError as e:
                raise InvalidValue("app.url.bad_type") from e
            if not lo <= v <= hi:
                raise InvalidValue("app.url.out_of_range")
            return v
        return Param(name, default, parse, str, widget=widget, lo=lo, hi=hi, step=step, help=help)

    @staticmethod
    def bool(name: str, default: bool, *, widget: str = "toggle", help: bool = False) -> Param:
        def parse(s: str) -> bool:
            low = s.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise InvalidValue("app.url.bad_type")
        return Param(name, default, parse, lambda v: "1" if v else "0", widget=widget, help=help)

    @staticmethod
    def choice(name: str, default: Any, options: Sequence[Any], *, widget: str = "selectbox",
               names: str | None = None, fmt: str | None = None, help: bool = False) -> Param:
        by_text = {str(o): o for o in options}
        assert str(default) in by_text, f"default {default!r} is not one of {list(options)}"   # a declaration bug

        def parse(s: str) -> Any:
            if s not in by_text:
                raise InvalidValue("app.url.unknown_option")
            return by_text[s]
        return Param(name, default, parse, str, widget=widget, options=tuple(options), names=names, fmt=fmt,
                     help=help)

    @staticmethod
    def multi(name: str, default: Sequence[Any], options: Sequence[Any], *, widget: str = "multiselect",
              names: str | None = None, help: bool = False) -> Param:
        """A list of options (multiselect, pills), written comma-separated."""
        by_text = {str(o): o for o in options}

        def parse(s: str) -> list[Any]:
            parts = [p for p in s.split(",") if p]
            if any(p not in by_text for p in parts):
                raise InvalidValue("app.url.unknown_option")
            return [by_text[p] for p in dict.fromkeys(parts)]
        return Param(name, list(default), parse, lambda v: ",".join(str(x) for x in v), widget=widget,
                     options=tuple(options), names=names, help=help)

    @staticmethod
    def floats(name: str, default: Sequence[float], *, lo: float, hi: float, step: float | None = None,
               widget: str = "", help: bool = False) -> Param:
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
        return Param(name, tuple(default), parse, lambda v: ",".join(f"{x:g}" for x in v), widget=widget, lo=lo,
                     hi=hi, step=step, help=help)

    @staticmethod
    def text(name: str, default: str, *, max_len: int = MAX_TEXT, check: Callable[[str], bool] | None = None,
             widget: str = "text", help: bool = False) -> Param:
        """Free text (a formula, a sequence). ``check`` may reject it; it is never evaluated here."""
        def parse(s: str) -> str:
            if len(s) > max_len:
                raise InvalidValue("app.url.too_long")
            if check is not None and not check(s):
                raise InvalidValue("app.url.bad_type")
            return s
        return Param(name, default, parse, str, free_text=True, widget=widget, help=help, max_len=max_len)

    def check(self, value: Any) -> Any:
        """``value`` if it is valid for this setting, in its canonical type; raises ``InvalidValue`` otherwise.

        Every value a client sends (a widget value of the wrong type, a preset, an exercise's experiment)
        goes through the same parse as a URL value, so one rule decides what a setting accepts.
        """
        if self.free_text:
            if not isinstance(value, str):
                raise InvalidValue("app.url.bad_type")
            return self.parse(value)
        if isinstance(self.default, bool) != isinstance(value, bool):
            raise InvalidValue("app.url.bad_type")
        try:
            text = self.dump(value)
        except (TypeError, ValueError) as e:
            raise InvalidValue("app.url.bad_type") from e
        return self.parse(text)


WIDGETS = ("slider", "select_slider", "selectbox", "radio", "segmented", "pills", "toggle", "checkbox", "number",
           "text", "text_area", "multiselect", "")   # "": the page draws it itself (a grid, a chart click)


def by_name(params: Sequence[Param]) -> dict[str, Param]:
    """Declarations by setting name (one per name)."""
    out = {p.name: p for p in params}
    assert len(out) == len(params), "two settings share a name"   # a declaration bug, not user input
    return out


def defaults(params: Sequence[Param]) -> dict[str, Any]:
    """Every setting's default value by name: what a preset's values are merged over."""
    return {p.name: p.default for p in params}
