r"""Any curve from pieces: a constant plus N hard sigmoids, sigmoids or ReLUs (seed 002, lecture 1).

Split $[x_0, x_N]$ into $N$ equal segments with knots $x_0 < x_1 < \dots < x_N$ and $\Delta = x_{i+1}-x_i$.
The piecewise-linear curve through $(x_i, y(x_i))$ is exactly

$$\hat y(x) = y(x_0) + \sum_{i=0}^{N-1} c_i\, h\!\left(\tfrac{x - x_i}{\Delta}\right),\qquad c_i = y(x_{i+1}) - y(x_i),$$

with the hard sigmoid $h$ that ramps from 0 at $x_i$ to 1 at $x_{i+1}$. A sigmoid with the same slope at the
segment's middle, $\sigma(4(x - m_i)/\Delta)$, is a smooth stand-in; with ReLUs the same curve is
$y(x_0) + \sum_i (s_i - s_{i-1})\,\mathrm{relu}(x - x_i)$ with segment slopes $s_i$ ($s_{-1}=0$).
As $N$ grows the pieces get narrower and the sum follows the target ever more closely.

Targets are typed formulas in $x$, parsed with :mod:`ast` against a whitelist and evaluated with torch.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

KINDS = ("hardsigmoid", "sigmoid", "relu")
MAX_PIECES = 50
MAX_FORMULA = 120
MAX_NODES = 60
MAX_POWER = 8
LO, HI = -3.0, 3.0          # the x-range every target is drawn on
POINTS = 241                # plot grid (a multiple of 40, plus 1)
TARGETS = {                 # named examples; each is also a valid typed formula
    "wave": "sin(2*x) + 0.3*x",
    "bumps": "exp(-4*(x - 1)**2) - exp(-4*(x + 1)**2)",
    "abs": "abs(x) - 1",
    "step": "tanh(6*x)",
    "cubic": "0.1*x**3 - 0.5*x",
}

_FUNCS: dict[str, Callable[[Tensor], Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "abs": torch.abs, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "sign": torch.sign, "floor": torch.floor, "ceil": torch.ceil,
}
_CONSTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div}


class FormulaError(ValueError):
    """A typed formula that cannot be used; ``code`` names the reason (an i18n key suffix)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


def _eval(node: ast.AST, x: Tensor) -> Tensor:
    if isinstance(node, ast.Expression):
        return _eval(node.body, x)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return torch.full_like(x, float(node.value))
    if isinstance(node, ast.Name):
        if node.id == "x":
            return x
        if node.id in _CONSTS:
            return torch.full_like(x, _CONSTS[node.id])
        raise FormulaError("unknown_name", node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand, x)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval(node.left, x), _eval(node.right, x))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
            exponent = exponent.operand
        if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, (int, float))
                and abs(exponent.value) <= MAX_POWER):
            raise FormulaError("bad_power", str(MAX_POWER))
        return torch.pow(_eval(node.left, x), _eval(node.right, x))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id not in _FUNCS:
            raise FormulaError("unknown_name", node.func.id)
        if len(node.args) != 1:
            raise FormulaError("bad_call", node.func.id)
        return _FUNCS[node.func.id](_eval(node.args[0], x))
    raise FormulaError("not_allowed", type(node).__name__)


def parse_formula(text: str) -> Callable[[Tensor], Tensor]:
    """A typed formula in ``x`` as a torch function; raises :class:`FormulaError` with a reason code.

    Allowed: numbers, ``x``, ``pi``, ``e``, ``+ - * / **`` (constant exponents up to 8), and the functions
    sin cos tan exp log sqrt abs tanh sigmoid relu sign floor ceil. Nothing is ever ``eval``-ed.
    """
    text = text.strip()
    if not text:
        raise FormulaError("empty")
    if len(text) > MAX_FORMULA:
        raise FormulaError("too_long", str(MAX_FORMULA))
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as e:
        raise FormulaError("syntax", str(e.offset or "")) from e
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise FormulaError("too_long", str(MAX_FORMULA))
    probe = torch.linspace(LO, HI, 7, dtype=torch.float64)
    _eval(tree, probe)   # raises FormulaError on a node outside the whitelist

    def fn(x: Tensor) -> Tensor:
        return _eval(tree, x)
    return fn


@dataclass(frozen=True)
class Pieces:
    x: np.ndarray          # (P,) grid on [LO, HI]
    target: np.ndarray     # (P,) y(x)
    pieces: np.ndarray     # (N, P) each weighted piece c_i h_i(x)
    offset: float          # y(x_0)
    total: np.ndarray      # (P,) offset + sum of pieces
    knots: np.ndarray      # (N + 1,)
    max_error: float       # max |total - target| on the grid


def _target(formula: str, x: Tensor) -> Tensor:
    y = parse_formula(formula)(x)
    if not bool(torch.isfinite(y).all()):
        raise FormulaError("not_finite")
    return y


def build_from_pieces(formula: str, n: int, kind: str) -> Pieces:
    """The target ``formula`` on [LO, HI] and its approximation by ``n`` pieces of ``kind`` (see module doc)."""
    assert kind in KINDS, f"unknown piece {kind!r}; choose one of {KINDS}"
    assert 1 <= n <= MAX_PIECES, f"pieces must be in [1, {MAX_PIECES}], got {n}"
    x = torch.linspace(LO, HI, POINTS, dtype=torch.float64)
    knots = torch.linspace(LO, HI, n + 1, dtype=torch.float64)
    y, yk = _target(formula, x), _target(formula, knots)
    delta = (HI - LO) / n
    rise = yk[1:] - yk[:-1]                                         # c_i, (N,)
    u = (x[None, :] - knots[:-1, None]) / delta                     # (N, P): 0 at x_i, 1 at x_{i+1}
    if kind == "hardsigmoid":
        pieces = rise[:, None] * F.hardsigmoid(6 * u - 3)           # ramps exactly over [x_i, x_{i+1}]
    elif kind == "sigmoid":
        pieces = rise[:, None] * torch.sigmoid(4 * (u - 0.5))       # same slope 1/Delta at the middle
    else:
        slope = rise / delta
        change = slope - torch.cat([slope.new_zeros(1), slope[:-1]])   # s_i - s_{i-1}
        pieces = change[:, None] * delta * F.relu(u)
    total = yk[0] + pieces.sum(0)
    return Pieces(x=x.numpy(), target=y.numpy(), pieces=pieces.numpy(), offset=float(yk[0]),
                  total=total.numpy(), knots=knots.numpy(), max_error=float((total - y).abs().max()))


def error_curve(formula: str, kind: str, ns: tuple[int, ...]) -> np.ndarray:
    """max |approximation - target| for each number of pieces in ``ns``."""
    return np.array([build_from_pieces(formula, n, kind).max_error for n in ns])
