r"""Any curve from pieces: a constant plus N hard sigmoids, sigmoids or ReLUs (seed 002, lecture 1).

Split $[x_0, x_N]$ into $N$ equal segments with knots $x_0 < x_1 < \dots < x_N$ and $\Delta = x_{i+1}-x_i$.
The piecewise-linear curve through $(x_i, y(x_i))$ is exactly

$$\hat y(x) = y(x_0) + \sum_{i=0}^{N-1} c_i\, h\!\left(\tfrac{x - x_i}{\Delta}\right),\qquad
  c_i = y(x_{i+1}) - y(x_i),$$

with the hard sigmoid $h$ that ramps from 0 at $x_i$ to 1 at $x_{i+1}$. A sigmoid with the same slope at the
segment's middle, $\sigma(4(x - m_i)/\Delta)$, is a smooth stand-in; with ReLUs the same curve is
$y(x_0) + \sum_i (s_i - s_{i-1})\,\mathrm{relu}(x - x_i)$ with segment slopes $s_i$ ($s_{-1}=0$).
As $N$ grows the pieces get narrower and the sum follows the target ever more closely.

Targets are typed formulas in $x$, read by the course's one safe formula parser (:mod:`dlcore.expr`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from dlcore.expr import ExpressionError, compile_expression

KINDS = ("hardsigmoid", "sigmoid", "relu")
MAX_PIECES = 50
MAX_FORMULA = 120           # characters of a typed target (the text box's size)
LO, HI = -3.0, 3.0          # the x-range every target is drawn on
POINTS = 241                # plot grid (a multiple of 40, plus 1)
TARGETS = {                 # named examples; each is also a valid typed formula
    "wave": "sin(2*x) + 0.3*x",
    "bumps": "exp(-4*(x - 1)**2) - exp(-4*(x + 1)**2)",
    "abs": "abs(x) - 1",
    "step": "tanh(6*x)",
    "cubic": "0.1*x**3 - 0.5*x",
}


def parse_formula(text: str) -> Callable[[Tensor], Tensor]:
    """A typed formula in ``x`` as a torch function (:func:`dlcore.expr.compile_expression` with the one
    variable ``x``); raises :class:`dlcore.expr.ExpressionError` with a reason code."""
    return compile_expression(text, variables=("x",), max_length=MAX_FORMULA).fn


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
        raise ExpressionError("not_finite")
    return y


def build_from_pieces(formula: str, n: int, kind: str) -> Pieces:
    """The target ``formula`` on [LO, HI] and its approximation by ``n`` pieces of ``kind`` (see module doc)."""
    if kind not in KINDS:
        raise ValueError(f"Invalid kind of piece: {kind!r} (allowed: {', '.join(KINDS)})")
    if not 1 <= n <= MAX_PIECES:
        raise ValueError(f"Invalid number of pieces: {n} (allowed 1 to {MAX_PIECES})")
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
