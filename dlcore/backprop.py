r"""Backpropagation node by node on a typed scalar expression, and the matrix case of a two-layer network
(CS231n notes §4: the chain rule, the staged computation, the vectorized case $dW = dD\,X^\top$).

A learner types an expression in variables of their choosing. ``dlcore.expr`` checks it against the course's one
whitelist (same refusals, same ``ExpressionError`` codes); this module then walks Python's ``ast`` of the accepted
text and builds one graph node per operation. The forward pass evaluates each node with the same torch op in
float64; the backward pass starts from $\partial f/\partial f = 1$ and, in reverse topological order, multiplies
each node's upstream gradient by its hand-written local gradient and *adds* the product into its inputs:

$$\frac{\partial f}{\partial a} \mathrel{+}= \underbrace{\frac{\partial n}{\partial a}}_{\text{local}}\;
  \underbrace{\frac{\partial f}{\partial n}}_{\text{upstream}}$$

The local gradients follow ``torch.autograd``'s conventions at the kinks (relu'(0) = 0, |x|'(0) = 0, a tie of
max/min splits the gradient in halves), so every node's gradient can be checked against autograd.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcore.expr import CONSTANTS, FUNCTIONS, MAX_LENGTH, MAX_NODES, ExpressionError, compile_expression

MAX_VARIABLES = 8          # input names one expression may use
MAX_GRAPH_NODES = 64       # graph nodes (inputs, constants, operations): one figure, one readable staged listing
MAX_INPUT = 1e6            # largest |value| typed for an input
MAX_NAME = 8               # characters of a variable name
NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")   # x, y, z, w0, x1 ... (no underscores: no dunder names at all)

BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
UNARY = {ast.USub: "neg", ast.UAdd: "pos"}
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "neg": "-", "pos": "+"}
GATES = ("add", "mul", "max", "sigmoid")   # the gate patterns the lesson names


@dataclass(frozen=True)
class Node:
    r"""One node of the graph. ``op``: "input", "const", an operator name (add sub mul div pow neg pos) or a function
    of ``dlcore.expr.FUNCTIONS``. ``args``: indices of its input nodes; ``local``: $\partial n/\partial a_i$ for
    each; ``contrib``: the product local × upstream each input received from this node. ``grad``: $\partial f /
    \partial n$ (0 for a node no variable feeds, which autograd would not track: ``needs_grad`` False)."""
    index: int
    op: str
    name: str                      # the staged listing's name: the variable, a number's text, or e.g. "add3"
    args: tuple[int, ...]
    value: float
    grad: float
    local: tuple[float, ...]
    contrib: tuple[float, ...]
    needs_grad: bool
    depth: int                     # column of the left-to-right layout (longest path from an input)


@dataclass(frozen=True)
class Trace:
    """The graph of ``expression`` at ``inputs`` after the forward and backward passes."""
    expression: str
    inputs: dict[str, float]
    nodes: tuple[Node, ...]        # topological: every node after its inputs; the output last
    value: float                   # f
    grads: dict[str, float]        # input name -> df/d(input)
    output: int                    # index of the output node f

    @property
    def finite(self) -> bool:
        """Whether every value and gradient is a finite number (no NaN, no inf)."""
        return all(math.isfinite(n.value) and math.isfinite(n.grad) for n in self.nodes)


def check_inputs(inputs: dict[str, float]) -> dict[str, float]:
    """``inputs`` as ``{name: float}``; ``ExpressionError`` ("variable", "variables" or "input") when a name is not
    a short identifier, there are more than ``MAX_VARIABLES``, or a value is not a finite number within
    ``MAX_INPUT``."""
    if len(inputs) > MAX_VARIABLES:
        raise ExpressionError("variables", str(MAX_VARIABLES))
    out: dict[str, float] = {}
    for name, value in inputs.items():
        if not isinstance(name, str) or not NAME.match(name) or len(name) > MAX_NAME \
                or name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError("variable", str(name)[:40])
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ExpressionError("input", f"{name} = {str(value)[:20]}") from None
        if not math.isfinite(v) or abs(v) > MAX_INPUT:
            raise ExpressionError("input", f"{name} = {value}")
        out[name] = v
    return out


def variables_of(expression: str) -> tuple[str, ...]:
    """The variable names ``expression`` uses, in order of first appearance (names that are neither functions nor
    constants). Raises ``ExpressionError`` for text that does not parse, names that cannot be variables, or too
    many of them; the whitelist itself is checked by ``trace``."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError("empty")
    if len(expression) > MAX_LENGTH:
        raise ExpressionError("too_long", str(len(expression)))
    try:
        tree = ast.parse(expression.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError):
        raise ExpressionError("syntax", expression.strip()[:40]) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("too_complex", str(MAX_NODES)) from None
    names: dict[str, None] = {}
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in calls and node.id not in CONSTANTS:
            if not NAME.match(node.id) or len(node.id) > MAX_NAME or node.id in FUNCTIONS:
                raise ExpressionError("name", node.id[:40])
            names[node.id] = None
    if len(names) > MAX_VARIABLES:
        raise ExpressionError("variables", str(MAX_VARIABLES))
    order = {n: min(getattr(x, "col_offset", 0) for x in ast.walk(tree) if isinstance(x, ast.Name) and x.id == n)
             for n in names}
    return tuple(sorted(names, key=order.get))


def local_gradients(op: str, a: Tensor, b: Tensor | None, out: Tensor) -> tuple[Tensor, ...]:
    r"""The local gradients $\partial n/\partial a$ (and $\partial n/\partial b$) of one operation, written out as the
    lesson states them; at kinks and singular points they follow ``torch.autograd``'s formulas."""
    one, zero = torch.ones_like(a), torch.zeros_like(a)
    if op == "add":
        return one, one                                   # add distributes: both inputs get the upstream gradient
    if op == "sub":
        return one, -one
    if op == "mul":
        return b, a                                       # mul swaps: each input gets the *other* one
    if op == "div":
        return 1 / b, -a / b**2
    if op == "pow":                                       # d a^b/da = b a^(b-1);  d a^b/db = a^b ln a
        da = torch.where(b == 0, zero, b * a ** (b - 1))
        db = torch.where((a == 0) & (b >= 0), zero, out * torch.log(a))
        return da, db
    if op in ("max", "min"):                              # max routes the gradient to the larger input
        first = (a > b) if op == "max" else (a < b)
        second = (b > a) if op == "max" else (b < a)
        tie = (a == b).to(a.dtype) / 2                    # a tie: half to each (autograd's rule)
        return first.to(a.dtype) + tie, second.to(a.dtype) + tie
    local = {
        "neg": lambda: -one, "pos": lambda: one,
        "sigmoid": lambda: (1 - out) * out,               # sigma' = (1 - sigma) sigma
        "tanh": lambda: 1 - out**2,
        "relu": lambda: (out > 0).to(a.dtype),            # 0 at a = 0, as in PyTorch
        "exp": lambda: out, "log": lambda: 1 / a, "sqrt": lambda: 1 / (2 * out),
        "sin": lambda: torch.cos(a), "cos": lambda: -torch.sin(a), "tan": lambda: 1 + out**2,
        "sinh": lambda: torch.cosh(a), "cosh": lambda: torch.sinh(a), "atan": lambda: 1 / (1 + a**2),
        "abs": lambda: torch.sign(a),
        "softplus": lambda: torch.where(a > 20, one, torch.sigmoid(a)),   # torch's threshold of 20
        "sign": lambda: zero, "floor": lambda: zero, "ceil": lambda: zero,
    }
    return (local[op](),)


def _op_fn(op: str):
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
           "neg": torch.neg, "pos": torch.positive}
    return ops[op] if op in ops else FUNCTIONS[op][1]


def trace(expression: str, inputs: dict[str, float], *, device: str | torch.device = "cpu") -> Trace:
    r"""Build the computational graph of ``expression``, run the forward pass at ``inputs`` and backpropagate.

    expression: text in the whitelist of ``dlcore.expr`` (``+ - * / **``, its functions, ``pi``, ``e``), in the
    variables named by ``inputs``; inputs: variable name -> value (float64). Raises ``ExpressionError`` (a
    ``ValueError`` with a ``code``) for anything the whitelist refuses, an unknown name, too many variables or graph
    nodes, or an input that is not a finite number. NaN and inf values (a division by zero, an overflow) are
    carried through and reported in the nodes, never raised.

    Backward: $\bar n_{\text{out}} = 1$; for each node $n$ in reverse order and each input $a_i$:
    $\bar a_i \mathrel{+}= (\partial n/\partial a_i)\,\bar n$.
    """
    inputs = check_inputs(inputs)
    compile_expression(expression, variables=tuple(inputs))           # the whitelist: same refusals, same codes
    tree = ast.parse(expression.strip().replace("^", "**"), mode="eval")
    dev = torch.device(device)
    values: list[Tensor] = []
    ops: list[str] = []
    names: list[str] = []
    args: list[tuple[int, ...]] = []
    var_index: dict[str, int] = {}
    for name, v in inputs.items():                                    # 0) inputs first, one node each
        var_index[name] = len(values)
        values.append(torch.tensor(v, dtype=torch.float64, device=dev))
        ops.append("input")
        names.append(name)
        args.append(())

    def add(op: str, name: str, a: tuple[int, ...], value: Tensor) -> int:
        if len(values) >= MAX_GRAPH_NODES:
            raise ExpressionError("graph", str(MAX_GRAPH_NODES))
        values.append(value)
        ops.append(op)
        names.append(name)
        args.append(a)
        return len(values) - 1

    counter = [0]                                                      # operations so far: add1, mul2, ...

    def visit(node: ast.AST) -> int:                                   # 1) forward pass, post-order = topological
        if isinstance(node, ast.Constant):
            return add("const", format(float(node.value), "g"), (),
                       torch.tensor(float(node.value), dtype=torch.float64, device=dev))
        if isinstance(node, ast.Name):
            if node.id in var_index:
                return var_index[node.id]
            return add("const", node.id, (), torch.tensor(CONSTANTS[node.id], dtype=torch.float64, device=dev))
        if isinstance(node, ast.BinOp):
            op, a, b = BINARY[type(node.op)], visit(node.left), visit(node.right)
            kids = (a, b)
        elif isinstance(node, ast.UnaryOp):
            op, kids = UNARY[type(node.op)], (visit(node.operand),)
        else:
            assert isinstance(node, ast.Call)                          # compile_expression let nothing else by
            op, kids = node.func.id, tuple(visit(x) for x in node.args)
        value = _op_fn(op)(*(values[k] for k in kids))
        counter[0] += 1
        return add(op, f"{op}{counter[0]}", kids, value)

    out = visit(tree.body)
    n = len(values)
    needs = [ops[i] == "input" for i in range(n)]                      # 2) which nodes a variable feeds
    for i in range(n):
        needs[i] = needs[i] or any(needs[k] for k in args[i])
    depth = [0] * n
    for i in range(n):
        depth[i] = 1 + max((depth[k] for k in args[i]), default=-1)
    for i in range(n):                                                 # a constant sits just left of its user
        for k in args[i]:
            if ops[k] == "const":
                depth[k] = max(depth[k], depth[i] - 1)
    grads = [torch.zeros((), dtype=torch.float64, device=dev) for _ in range(n)]
    grads[out] = torch.ones((), dtype=torch.float64, device=dev)       # 3) df/df = 1
    local: list[tuple[Tensor, ...]] = [()] * n
    contrib: list[tuple[Tensor, ...]] = [()] * n
    for i in range(n - 1, -1, -1):                                     # 4) backward, reverse topological order
        if not args[i]:
            continue
        a = values[args[i][0]]
        b = values[args[i][1]] if len(args[i]) > 1 else None
        local[i] = local_gradients(ops[i], a, b, values[i])
        if not needs[i]:
            contrib[i] = tuple(torch.zeros_like(g) for g in local[i])
            continue
        contrib[i] = tuple(g * grads[i] if needs[k] else torch.zeros_like(g) for g, k in zip(local[i], args[i]))
        for k, c in zip(args[i], contrib[i]):
            if needs[k]:
                grads[k] = grads[k] + c                                 # gradients add where paths meet
    f_name = "f" if "f" not in inputs else "out"
    nodes = tuple(Node(i, ops[i], f_name if i == out and ops[i] not in ("input", "const") else names[i], args[i],
                       float(values[i]), float(grads[i]) if needs[i] else 0.0,
                       tuple(float(x) for x in local[i]), tuple(float(x) for x in contrib[i]), needs[i], depth[i])
                  for i in range(n))
    return Trace(expression, dict(inputs), nodes, float(values[out]),
                 {name: float(grads[i]) for name, i in var_index.items()}, out)


MAX_VALUES_TEXT = 160      # characters of the typed input values


def parse_values(text: str) -> dict[str, float]:
    """The learner's input values, typed as ``x = -2, y = 5, z = -4`` (commas or semicolons between them), as
    ``{name: value}``; ``ExpressionError`` ("values", "variable", "input", "variables") for anything else. Numbers
    are read with ``float`` (never evaluated)."""
    if not isinstance(text, str) or len(text) > MAX_VALUES_TEXT:
        raise ExpressionError("values", str(text)[:40])
    out: dict[str, float] = {}
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        name, eq, number = part.partition("=")
        if not eq:
            raise ExpressionError("values", part.strip()[:40])
        name = name.strip()
        try:
            v = float(number.strip())
        except ValueError:
            raise ExpressionError("input", f"{name} = {number.strip()[:20]}") from None
        out[name] = v
    return check_inputs(out)


# the local gradient of each operation as the staged listing writes it: a, b its inputs, out its value
LOCAL_TEXT: dict[str, tuple[str, ...]] = {
    "add": ("1", "1"), "sub": ("1", "-1"), "mul": ("{b}", "{a}"), "div": ("1 / {b}", "-{a} / {b}**2"),
    "pow": ("{b} * {a}**({b} - 1)", "{out} * log({a})"), "neg": ("-1",), "pos": ("1",),
    "max": ("({a} > {b})", "({b} > {a})"), "min": ("({a} < {b})", "({b} < {a})"),
    "sigmoid": ("(1 - {out}) * {out}",), "tanh": ("1 - {out}**2",), "relu": ("({a} > 0)",), "exp": ("{out}",),
    "log": ("1 / {a}",), "sqrt": ("1 / (2 * {out})",), "sin": ("cos({a})",), "cos": ("-sin({a})",),
    "tan": ("1 + {out}**2",), "sinh": ("cosh({a})",), "cosh": ("sinh({a})",), "atan": ("1 / (1 + {a}**2)",),
    "abs": ("sign({a})",), "softplus": ("sigmoid({a})",), "sign": ("0",), "floor": ("0",), "ceil": ("0",),
}


@dataclass(frozen=True)
class StagedLine:
    node: int            # the node that fires on this line
    backward: bool
    code: str            # e.g. "add2 = x + sigmoid1" or "dx += (1) * dadd2"
    value: float         # what the line computes
    accumulates: bool    # a backward line that adds to a gradient already started ("+=")


def staged_lines(tr: Trace) -> tuple[StagedLine, ...]:
    """The graph as the notes' staged code: one forward line per operation in topological order, then the
    backward lines in reverse order, one per (operation, input a variable feeds): ``da = (local) * dn``, written
    ``+=`` where ``da`` already holds a gradient from another path."""
    nodes = tr.nodes
    lines: list[StagedLine] = []
    for n in nodes:
        if not n.args:
            continue
        a = [nodes[k].name for k in n.args]
        if n.op in SYMBOL and len(a) == 2:
            code = f"{n.name} = {a[0]} {SYMBOL[n.op]} {a[1]}"
        elif n.op in SYMBOL:
            code = f"{n.name} = {SYMBOL[n.op]}{a[0]}"
        else:
            code = f"{n.name} = {n.op}({', '.join(a)})"
        lines.append(StagedLine(n.index, False, code, n.value, False))
    started: set[int] = set()
    for n in reversed(nodes):
        if not n.args or not n.needs_grad:
            continue
        names = {"a": nodes[n.args[0]].name, "b": nodes[n.args[-1]].name, "out": n.name}
        for j, k in enumerate(n.args):
            if not nodes[k].needs_grad:
                continue
            local = LOCAL_TEXT[n.op][j].format(**names)
            again = k in started
            started.add(k)
            lines.append(StagedLine(n.index, True, f"d{nodes[k].name} {'+=' if again else '='} ({local}) * d{n.name}",
                                    n.contrib[j], again))
    return tuple(lines)


def autograd_node_grads(tr: Trace, *, device: str | torch.device = "cpu") -> tuple[float, ...]:
    """Every node's $\\partial f/\\partial n$ from ``torch.autograd`` on the same graph (float64, ``retain_grad`` on
    each node): the page's side-by-side check. Nodes no variable feeds get 0, as in ``trace``."""
    dev = torch.device(device)
    values: list[Tensor] = []
    for node in tr.nodes:
        if node.op == "input":
            v = torch.tensor(node.value, dtype=torch.float64, device=dev, requires_grad=True)
        elif node.op == "const":
            v = torch.tensor(node.value, dtype=torch.float64, device=dev)
        else:
            v = _op_fn(node.op)(*(values[k] for k in node.args))
        if v.requires_grad:
            v.retain_grad()
        values.append(v)
    if values[tr.output].requires_grad:
        values[tr.output].backward()
    return tuple(float(v.grad) if v.requires_grad and v.grad is not None else 0.0 for v in values)


# ---- gradient check --------------------------------------------------------------------------------------------

H_MIN, H_MAX = 1e-14, 1e-1     # the step sizes of the check (log-spaced)
N_STEPS = 40                   # points of the error-vs-h curve


@dataclass(frozen=True)
class GradCheck:
    """Centred differences of ``expression`` for every input at each step ``h``."""
    names: tuple[str, ...]
    h: Tensor               # (S,) step sizes, small to large
    analytic: Tensor        # (V,) backprop's gradient
    numerical: Tensor       # (S, V) [f(x + h e_i) - f(x - h e_i)] / 2h
    rel_error: Tensor       # (S, V) |a - n| / max(|a|, |n|), 0 where both are 0


def relative_error(a: Tensor, n: Tensor) -> Tensor:
    r"""$|a - n| / \max(|a|, |n|)$, the notes' relative error of a gradient check; 0 where both are 0."""
    scale = torch.maximum(a.abs(), n.abs())
    return torch.where(scale > 0, (a - n).abs() / torch.where(scale > 0, scale, torch.ones_like(scale)),
                       torch.zeros_like(scale))


def gradient_check(expression: str, inputs: dict[str, float], hs: Tensor | None = None, *,
                   dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu") -> GradCheck:
    r"""Numerical gradient by centred differences at every step in ``hs`` (default: ``N_STEPS`` log-spaced steps
    from ``H_MIN`` to ``H_MAX``), against the backpropagated one:

    $$\frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}$$

    The error is $O(h^2)$ from truncation (large $h$) plus about $\varepsilon_{\text{mach}}|f|/h$ from round-off
    (small $h$): a U-shaped curve on log axes. ``dtype``: the precision of the differences (float64, or float32
    to see round-off take over a thousand times sooner); backprop's gradient is always float64.
    """
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"Invalid dtype for a gradient check: {dtype} (float64 or float32)")
    tr = trace(expression, inputs, device=device)
    names = tuple(tr.inputs)
    dev = torch.device(device)
    if hs is None:
        hs = torch.logspace(math.log10(H_MIN), math.log10(H_MAX), N_STEPS, dtype=torch.float64, device=dev)
    hs = torch.as_tensor(hs, dtype=torch.float64, device=dev).reshape(-1)
    if hs.numel() > 4 * N_STEPS or not bool(((hs > 0) & (hs <= 1)).all()):
        raise ExpressionError("step", f"{hs.numel()} steps")
    fn = compile_expression(expression, variables=names)
    base = torch.tensor([tr.inputs[n] for n in names], dtype=dtype, device=dev)
    step = hs.to(dtype)
    numerical = torch.empty(hs.numel(), len(names), dtype=torch.float64, device=dev)
    for i in range(len(names)):
        plus = base.repeat(hs.numel(), 1)
        minus = plus.clone()
        plus[:, i] += step
        minus[:, i] -= step
        numerical[:, i] = ((fn(*plus.T) - fn(*minus.T)) / (2 * step)).double()
    analytic = torch.tensor([tr.grads[n] for n in names], dtype=torch.float64, device=dev)
    return GradCheck(names, hs.cpu(), analytic.cpu(), numerical.cpu(), relative_error(analytic, numerical).cpu())


def best_step(check: GradCheck) -> float:
    """The step $h$ whose worst relative error over the inputs is smallest (ties: the larger h)."""
    worst = torch.nan_to_num(check.rel_error, nan=math.inf).max(dim=1).values
    best = worst.min()
    return float(check.h[(worst == best).nonzero()[-1, 0]])


# ---- the matrix case: a two-layer network ------------------------------------------------------------------------

MAX_DIM = 8    # the network's sizes N, D, H, C: small enough to print every matrix


@dataclass(frozen=True)
class NetConfig:
    """$h = \\mathrm{ReLU}(XW_1 + b_1)$, $s = hW_2 + b_2$, softmax cross-entropy averaged over the batch."""
    n: int = 4      # N examples
    d: int = 3      # D input features
    hidden: int = 5  # H hidden units
    c: int = 3      # C classes
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "d", "hidden", "c"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 1 <= v <= MAX_DIM:
                raise ValueError(f"Invalid size {name}: {v} (allowed 1 to {MAX_DIM})")
        if self.c < 2:
            raise ValueError(f"Invalid number of classes: {self.c} (at least 2)")


# the gradients in backward order: name -> (formula, the shape's letters)
GRADIENTS = {
    "ds": ("(softmax(s) - Y) / N", "NC"),
    "dW2": ("h^T ds", "HC"),
    "db2": ("sum_rows ds", "C"),
    "dh": ("ds W2^T", "NH"),
    "dz1": ("dh * 1[z1 > 0]", "NH"),
    "dW1": ("X^T dz1", "DH"),
    "db1": ("sum_rows dz1", "H"),
    "dX": ("dz1 W1^T", "ND"),
}


# the backward pass's four matrix products: gradient -> (left factor, its shape, right factor, its shape), the shapes
# in the letters of NetConfig (N examples, D inputs, H hidden units, C classes); inner letters match
PRODUCTS = {
    "dW2": ("h^T", "HN", "ds", "NC"),
    "dh": ("ds", "NC", "W2^T", "CH"),
    "dW1": ("X^T", "DN", "dz1", "NH"),
    "dX": ("dz1", "NH", "W1^T", "HD"),
}


@dataclass(frozen=True)
class NetGrads:
    config: NetConfig
    loss: float
    manual: dict[str, Tensor]       # GRADIENTS by the formulas, by hand
    autograd: dict[str, Tensor]     # the same from torch.autograd (ds, dh, dz1 through retain_grad)
    tensors: dict[str, Tensor]      # X, Y (labels), W1, b1, W2, b2, z1, h, s


def _net_tensors(config: NetConfig, device: torch.device) -> dict[str, Tensor]:
    g = torch.Generator(device="cpu").manual_seed(config.seed)
    n, d, hdim, c = config.n, config.d, config.hidden, config.c
    t = {"X": torch.randn(n, d, generator=g, dtype=torch.float64),
         "W1": torch.randn(d, hdim, generator=g, dtype=torch.float64) / math.sqrt(d),
         "b1": 0.1 * torch.randn(hdim, generator=g, dtype=torch.float64),
         "W2": torch.randn(hdim, c, generator=g, dtype=torch.float64) / math.sqrt(hdim),
         "b2": 0.1 * torch.randn(c, generator=g, dtype=torch.float64),
         "Y": torch.randint(0, c, (n,), generator=g)}
    return {k: v.to(device) for k, v in t.items()}


def two_layer_gradients(config: NetConfig, *, device: str | torch.device = "cpu") -> NetGrads:
    r"""Forward and backward of the two-layer network by hand, shape by shape, and the same through autograd.

    $z_1 = XW_1 + b_1$, $h = \max(0, z_1)$, $s = hW_2 + b_2$, $L = \frac1N\sum_i -\log \mathrm{softmax}(s_i)_{y_i}$.
    Backward, each shape fixed by dimension analysis (a gradient has its variable's shape):
    $ds = (P - Y)/N$ (N×C), $dW_2 = h^\top ds$ (H×C), $db_2 = \sum_i ds_i$, $dh = ds\,W_2^\top$ (N×H),
    $dz_1 = dh \odot 1[z_1 > 0]$, $dW_1 = X^\top dz_1$ (D×H), $db_1 = \sum_i dz_{1,i}$, $dX = dz_1 W_1^\top$ (N×D).
    """
    dev = torch.device(device)
    t = _net_tensors(config, dev)
    X, Y, W1, b1, W2, b2 = (t[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    n = config.n
    # forward
    z1 = X @ W1 + b1                                   # (N, H)
    h = torch.relu(z1)                                 # (N, H)
    s = h @ W2 + b2                                    # (N, C)
    p = torch.softmax(s, dim=1)                        # (N, C)
    loss = -torch.log(p[torch.arange(n, device=dev), Y]).mean()
    # backward, by hand
    ds = (p - torch.nn.functional.one_hot(Y, config.c).to(p.dtype)) / n   # (N, C)
    dW2 = h.T @ ds                                     # (H, N)(N, C) -> (H, C)
    db2 = ds.sum(0)                                    # (C,)
    dh = ds @ W2.T                                     # (N, C)(C, H) -> (N, H)
    dz1 = dh * (z1 > 0).to(dh.dtype)                   # (N, H)
    dW1 = X.T @ dz1                                    # (D, N)(N, H) -> (D, H)
    db1 = dz1.sum(0)                                   # (H,)
    dX = dz1 @ W1.T                                    # (N, H)(H, D) -> (N, D)
    manual = {"ds": ds, "dW2": dW2, "db2": db2, "dh": dh, "dz1": dz1, "dW1": dW1, "db1": db1, "dX": dX}
    # the same through autograd
    leaves = {k: t[k].clone().requires_grad_(True) for k in ("X", "W1", "b1", "W2", "b2")}
    az1 = leaves["X"] @ leaves["W1"] + leaves["b1"]
    ah = torch.relu(az1)
    a_s = ah @ leaves["W2"] + leaves["b2"]
    for v in (az1, ah, a_s):
        v.retain_grad()
    torch.nn.functional.cross_entropy(a_s, Y).backward()
    auto = {"ds": a_s.grad, "dW2": leaves["W2"].grad, "db2": leaves["b2"].grad, "dh": ah.grad, "dz1": az1.grad,
            "dW1": leaves["W1"].grad, "db1": leaves["b1"].grad, "dX": leaves["X"].grad}
    tensors = {**t, "z1": z1, "h": h, "s": s}
    return NetGrads(config, float(loss), {k: v.cpu() for k, v in manual.items()},
                    {k: v.detach().cpu() for k, v in auto.items()}, {k: v.cpu() for k, v in tensors.items()})


# "transpose the wrong thing": name -> (the gradient it tries to compute, the wrong formula)
MISTAKES = {
    "dW2_h": ("dW2", "h ds"),          # forgot the transpose of h
    "dh_W2": ("dh", "ds W2"),          # forgot the transpose of W2
    "dW1_swap": ("dW1", "dz1^T X"),    # transposed the wrong factor: a (H, D) matrix where W1 is (D, H)
    "dX_W1": ("dX", "dz1 W1"),         # forgot the transpose of W1
}


@dataclass(frozen=True)
class Mistake:
    name: str
    target: str                       # the gradient it should give
    formula: str
    operands: tuple[tuple[int, ...], tuple[int, ...]]   # the shapes multiplied
    expected: tuple[int, ...]         # the target's shape (its variable's)
    shape: tuple[int, ...] | None     # what came out, None if torch refused
    error: str | None                 # torch's message, when it refused (the matmul or the update)
    values_right: bool                # ran, right shape, and the right numbers


def wrong_transpose(config: NetConfig, mistake: str, *, device: str | torch.device = "cpu") -> Mistake:
    """Run the wrong formula ``MISTAKES[mistake]`` with torch and the update $W \\leftarrow W - \\eta\\,dW$ it feeds,
    and report torch's own error message (or, where the sizes happen to fit, whether the numbers are right)."""
    if mistake not in MISTAKES:
        raise ValueError(f"Invalid mistake: {mistake!r} (one of {sorted(MISTAKES)})")
    net = two_layer_gradients(config, device=device)
    target, formula = MISTAKES[mistake]
    t, m = net.tensors, net.manual
    a, b = {"dW2_h": (t["h"], m["ds"]), "dh_W2": (m["ds"], t["W2"]), "dW1_swap": (m["dz1"].T, t["X"]),
            "dX_W1": (m["dz1"], t["W1"])}[mistake]
    variable = {"dW2": t["W2"], "dh": t["h"], "dW1": t["W1"], "dX": t["X"]}[target]
    try:
        out = a @ b
        variable.clone().sub_(0.1 * out)               # the in-place update W -= lr * dW needs W's shape
    except RuntimeError as e:
        shape = tuple((a @ b).shape) if _fits(a, b) else None
        return Mistake(mistake, target, formula, (tuple(a.shape), tuple(b.shape)), tuple(variable.shape), shape,
                       str(e).split("\n")[0], False)
    right = out.shape == variable.shape and bool(torch.allclose(out, m[target]))
    return Mistake(mistake, target, formula, (tuple(a.shape), tuple(b.shape)), tuple(variable.shape),
                   tuple(out.shape), None, right)


def _fits(a: Tensor, b: Tensor) -> bool:
    return a.shape[-1] == b.shape[0]
