r"""The one safe formula language of the course: a formula typed by a learner, such as a loss surface
$f(x, y)$ or a curve $y(x)$.

The text is parsed with Python's ``ast`` (never ``eval``/``exec``), every node is checked
against a whitelist, and the tree is turned into a closure that evaluates with torch ops, so
the result works on tensors of any shape, on any device, and under autograd.

Allowed: numbers, the variables (``x`` and ``y`` unless the caller names others), ``pi``, ``e``;
``+ - * / **`` (``^`` is read as a power, as on a calculator), unary ``+ -``; and the functions in
``FUNCTIONS``. Anything else (attribute access, subscripts, comparisons, keywords, strings, lambdas,
other names) raises ``ExpressionError``, a ``ValueError`` whose ``code`` names the problem for a
translated message. Powers need no cap of their own: every literal is a float, so ``9^9^9`` is inf,
never a huge integer.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

MAX_LENGTH = 200      # characters of formula text
MAX_NODES = 120       # syntax-tree nodes: bounds the work of one evaluation
MAX_CONSTANT = 1e6    # larger literals are refused (9**9**9 never becomes a big integer here)

Fn = Callable[[Tensor, Tensor], Tensor]

FUNCTIONS: dict[str, tuple[int, Callable[..., Tensor]]] = {   # name -> (number of arguments, torch op)
    "sin": (1, torch.sin), "cos": (1, torch.cos), "tan": (1, torch.tan),
    "exp": (1, torch.exp), "log": (1, torch.log), "sqrt": (1, torch.sqrt),
    "abs": (1, torch.abs), "tanh": (1, torch.tanh), "sinh": (1, torch.sinh), "cosh": (1, torch.cosh),
    "atan": (1, torch.atan), "sigmoid": (1, torch.sigmoid), "softplus": (1, torch.nn.functional.softplus),
    "relu": (1, torch.relu), "sign": (1, torch.sign), "floor": (1, torch.floor), "ceil": (1, torch.ceil),
    "min": (2, torch.minimum), "max": (2, torch.maximum),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")
_BINARY: dict[type, Callable[[Tensor, Tensor], Tensor]] = {
    ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div,
    ast.Pow: torch.pow,
}
_UNARY: dict[type, Callable[[Tensor], Tensor]] = {ast.USub: torch.neg, ast.UAdd: torch.positive}


class ExpressionError(ValueError):
    """A formula that cannot be used. ``code`` is one of: empty, too_long, syntax, too_complex,
    name, function, arity, node, constant (and not_finite, raised by callers whose formula has no finite value
    where they need one); ``detail`` is the offending piece of text."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Expression:
    """A checked formula: call it with one tensor per variable (``x``, ``y`` by default), all of one shape."""
    text: str
    fn: Callable[..., Tensor]   # fn(x, y) for the default variables
    variables: tuple[str, ...] = VARIABLES

    def __call__(self, *values: Tensor) -> Tensor:
        return self.fn(*values)


def compile_expression(text: str, *, variables: tuple[str, ...] = VARIABLES,
                       max_length: int = MAX_LENGTH) -> Expression:
    """Parse ``text`` into a torch function of ``variables``; raise ``ExpressionError`` if not allowed.

    ``max_length``: the longest text accepted (a lesson whose text box is shorter passes its own).
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty")
    if len(text) > max_length:
        raise ExpressionError("too_long", str(len(text)))
    try:
        # ^ is a power here, with the precedence of ** (Python's ^ binds looser than +)
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError) as e:   # ValueError: a null byte in the text
        raise ExpressionError("syntax", (getattr(e, "text", None) or text).strip()[:40]) from None
    except (RecursionError, MemoryError):    # absurd nesting
        raise ExpressionError("too_complex", str(MAX_NODES)) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError("too_complex", str(MAX_NODES))
    build = _builder(tree.body, tuple(variables))
    return Expression(text, build, tuple(variables))


def _builder(node: ast.AST, variables: tuple[str, ...]) -> Callable[..., Tensor]:
    """The closure for one checked node, a function of one tensor per variable (recursion depth is bounded
    by ``MAX_NODES``)."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ExpressionError("constant", repr(v)[:40])
        if not abs(v) <= MAX_CONSTANT:
            raise ExpressionError("constant", repr(v)[:40])
        c = float(v)
        return lambda *xs: torch.full_like(xs[0], c)
    if isinstance(node, ast.Name):
        if node.id in variables:
            i = variables.index(node.id)
            return lambda *xs: xs[i]
        if node.id in CONSTANTS:
            c = CONSTANTS[node.id]
            return lambda *xs: torch.full_like(xs[0], c)
        raise ExpressionError("name", node.id[:40])
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op, a, b = _BINARY[type(node.op)], _builder(node.left, variables), _builder(node.right, variables)
        return lambda *xs: op(a(*xs), b(*xs))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        op, a = _UNARY[type(node.op)], _builder(node.operand, variables)
        return lambda *xs: op(a(*xs))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("function", ast.unparse(node.func)[:40])
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError("function", name[:40])
        n_args, op = FUNCTIONS[name]
        if node.keywords or len(node.args) != n_args:
            raise ExpressionError("arity", f"{name}/{n_args}")
        args = [_builder(a, variables) for a in node.args]
        if n_args == 1:
            (a,) = args
            return lambda *xs: op(a(*xs))
        a, b = args
        return lambda *xs: op(a(*xs), b(*xs))
    if isinstance(node, ast.Attribute):
        raise ExpressionError("node", "." + node.attr[:40])
    raise ExpressionError("node", type(node).__name__)
