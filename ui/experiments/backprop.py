"""The backpropagation lesson's settings, each declared once, and the experiments behind its presets and defaults
(shared by the page, the claim tests and the exercises).

No torch here: the course map reads the lesson's exercises, and so these settings, before torch loads. The text
caps are ``dlcore.expr.MAX_LENGTH`` and ``dlcore.backprop.MAX_VALUES_TEXT``, the size ranges ``backprop.MAX_DIM``
and the mistakes ``backprop.MISTAKES``, written out; a test keeps them equal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ui.params import Param, defaults

if TYPE_CHECKING:
    from dlcore import backprop

STAGED = "(x + sigmoid(y)) * (1 / (sigmoid(x) + (x + y)**2))"   # the notes' eight staged lines, in this order
STEPS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12)   # the step h of the check
MISTAKES = ("dW2_h", "dh_W2", "dW1_swap", "dX_W1")                                    # backprop.MISTAKES
DEFAULT_VALUE = 1.0   # a variable the values text does not name starts at 1 (the page says so)
TABS = ("graph", "check", "matrix")

SETTINGS: tuple[Param, ...] = (
    Param.text("expression", STAGED, max_len=200, help=True),                # expr.MAX_LENGTH
    Param.text("values", "x = 3, y = -4", max_len=160, help=True),           # backprop.MAX_VALUES_TEXT
    Param.choice("h", 1e-5, STEPS, widget="select_slider", fmt=".0e", help=True),
    Param.bool("float32", False, help=True),
    Param.int("n", 4, lo=1, hi=8),                                           # backprop.MAX_DIM
    Param.int("d", 3, lo=1, hi=8),
    Param.int("hidden", 5, lo=1, hi=8),
    Param.int("c", 3, lo=2, hi=8),
    Param.choice("mistake", "dW2_h", MISTAKES, widget="radio", names="mistakes"),
)
DEFAULTS = defaults(SETTINGS)

PRESETS: dict[str, dict[str, object]] = {
    "chain": {"expression": "(x + y) * z", "values": "x = -2, y = 5, z = -4"},
    "staged": {"expression": STAGED, "values": "x = 3, y = -4"},
    "neuron": {"expression": "sigmoid(w0*x0 + w1*x1 + w2)", "values": "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3"},
    "twice": {"expression": "x * y + x", "values": "x = 2, y = 3"},
    "vanish": {"expression": "sigmoid(sigmoid(sigmoid(sigmoid(sigmoid(sigmoid(x))))))", "values": "x = 0"},
    "max_relu": {"expression": "max(x, y) + relu(z)", "values": "x = 2, y = -1, z = 0"},
}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the lesson's default (``preset`` None) or of a preset applied to the default page."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


def inputs(values: Mapping[str, object]) -> tuple[str, dict[str, float], tuple[str, ...]]:
    """The expression, its inputs and the variables the values text left out (set to ``DEFAULT_VALUE``).

    Raises ``ExpressionError`` (a ``ValueError`` with a ``code``) for an expression or values text it cannot use."""
    from dlcore import backprop

    expression = str(values["expression"])
    names = backprop.variables_of(expression)
    typed = backprop.parse_values(str(values["values"]))
    missing = tuple(n for n in names if n not in typed)
    return expression, {n: typed.get(n, DEFAULT_VALUE) for n in names}, missing


def trace_of(preset: str | None = None) -> backprop.Trace:
    """The trace the graph tab shows for ``preset`` (None: the defaults)."""
    from dlcore import backprop

    expression, given, _ = inputs(settings(preset))
    return backprop.trace(expression, given)


def net_config(values: Mapping[str, object], seed: int) -> backprop.NetConfig:
    """The two-layer network of the matrix tab for these settings and the sidebar's seed."""
    from dlcore import backprop

    return backprop.NetConfig(int(values["n"]), int(values["d"]), int(values["hidden"]), int(values["c"]), seed)

# the refusals the page translates (backprop.errors.<code>): dlcore.expr's codes and dlcore.backprop's own
ERRORS = ("empty", "too_long", "syntax", "too_complex", "name", "function", "arity", "node", "constant", "variables",
          "variable", "input", "graph", "values", "step")
