r"""Gradient descent and its descendants racing on two-dimensional loss surfaces
(course notes 000 §3.1–3.5, 001 "梯度下降法" to "牛顿法", 002 lectures 3–5, 004 "优化算法").

Every first-order racer is a real ``torch.optim`` optimizer stepping a float64 parameter
$\theta = (x, y)$; Newton's method is the second-order reference,

$$\theta_{t+1} = \theta_t - \eta_t\,(H_t + \lambda I)^{-1} g_t,\qquad H_t = \nabla^2 f(\theta_t),$$

with the Hessian from ``torch.autograd.functional.hessian``. Learning-rate schedules are
``torch.optim.lr_scheduler`` objects that scale every racer's $\eta$ by the same factor.

At a point $\theta'$ the notes expand $f(\theta) \approx f(\theta') + (\theta-\theta')^T g +
\tfrac12 (\theta-\theta')^T H (\theta-\theta')$; ``inspect_point`` reads the kind of a critical
point ($g = 0$) from the signs of the eigenvalues of $H$, and ``escape_step`` takes the notes'
step along an eigenvector $u$ of a negative eigenvalue $\lambda$, which lowers the loss by about
$\tfrac12 |\lambda| \|u\|^2$.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from torch.autograd.functional import hessian

from dlcore import update_rules
from dlcore.expr import ExpressionError, compile_expression

MAX_STEPS = 1000
MAX_RACERS = 12
MAX_STARTS = 5
MAX_KAPPA = 1000.0       # condition number of the ravine
MAX_HALF_WIDTH = 20.0    # a typed formula's map is [-w, w]^2
GRID = 121               # contour grid points per side (a 121 x 121 map is ~60 KB of JSON)
DIVERGED = 1e12          # |theta| beyond this counts as diverged (float64 would overflow soon after)

Fn = Callable[[Tensor, Tensor], Tensor]


# 1) surfaces ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Surface:
    """A loss $f(x, y)$ on a rectangular map, with what is known about it."""
    name: str
    fn: Fn                                          # tensors x, y (any shape) -> f(x, y)
    bounds: tuple[float, float, float, float]       # x_min, x_max, y_min, y_max of the map
    minima: tuple[tuple[float, float], ...] = ()    # known global / local minima
    f_min: float | None = None                      # lowest value, when the surface has one
    start: tuple[float, float] = (0.0, 0.0)         # a start that shows the surface's point
    probe: tuple[float, float] = (0.0, 0.0)         # an interesting point to inspect
    lr_sgd: float = 0.1                             # suggested lr for the SGD family
    lr_adaptive: float = 0.1                        # suggested lr for Adam / RMSProp / AdaGrad family
    latex: str = ""

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        return self.fn(x, y)


def _quadratic(kappa: float, angle_deg: float) -> Fn:
    r"""The ravine $f = \tfrac12(u^2/\kappa + v^2)$ in axes $(u, v)$ rotated by ``angle_deg`` (Hessian eigenvalues
    $1/\kappa$ and 1), written as $f = \tfrac12\,\theta^\top A\,\theta$ with $\theta = (x, y)$ and
    $A = R^\top \mathrm{diag}(1/\kappa, 1)\,R$, the Hessian itself."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    a = [[c * c / kappa + s * s, c * s / kappa - s * c], [c * s / kappa - s * c, s * s / kappa + c * c]]   # A

    def f(x: Tensor, y: Tensor) -> Tensor:
        theta = torch.stack([x, y], dim=-1)                                       # (..., 2)
        return 0.5 * ((theta @ torch.tensor(a, dtype=theta.dtype, device=theta.device)) * theta).sum(-1)
    return f


def _rosenbrock(x: Tensor, y: Tensor) -> Tensor:
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _beale(x: Tensor, y: Tensor) -> Tensor:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(x: Tensor, y: Tensor) -> Tensor:
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def _saddle(x: Tensor, y: Tensor) -> Tensor:
    return x * x - y * y


def _monkey_saddle(x: Tensor, y: Tensor) -> Tensor:
    return x**3 - 3 * x * y * y


def _plateau(x: Tensor, y: Tensor) -> Tensor:
    return 1 - torch.exp(-(x * x + 2 * y * y) / 4)   # gradient ~1e-3 at the map's corner


def _many_minima(x: Tensor, y: Tensor) -> Tensor:
    return (x * x + y * y) / 10 + 2 - torch.cos(2 * x) - torch.cos(2 * y)   # a gentle Rastrigin


HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))
HIMMELBLAU_MAXIMUM = (-0.270845, -0.923039)


CUSTOM_FORMULA = "0.1*(x^2 + y^2) - cos(2*x) * exp(-y^2/2)"   # a tilted washboard: a default for "your own formula"


def make_surface(name: str, *, kappa: float = 25.0, angle: float = 30.0, formula: str = CUSTOM_FORMULA,
                 half_width: float = 3.0) -> Surface:
    r"""The surface ``name`` (a key of ``SURFACES`` or "custom"), built with its parameters.

    kappa, angle: condition number $\kappa$ and rotation (degrees) of the "quadratic" ravine.
    formula, half_width: the typed $f(x, y)$ of "custom" and its map $[-w, w]^2$; a bad formula
    raises ``ExpressionError``.
    """
    if not 1.0 <= kappa <= MAX_KAPPA:
        raise ValueError(f"Invalid condition number kappa: {kappa} (allowed 1 to {MAX_KAPPA:g})")
    if not -180.0 <= angle <= 180.0:
        raise ValueError(f"Invalid angle: {angle} (allowed -180 to 180 degrees)")
    if name == "quadratic":
        return Surface("quadratic", _quadratic(kappa, angle), (-3, 3, -3, 3), ((0.0, 0.0),), 0.0,
                       start=(-2.6, 0.4), probe=(0.0, 0.0), lr_sgd=0.9,
                       lr_adaptive=0.1,
                       latex=r"f=\tfrac12\left(u^2/\kappa+v^2\right),\ u=x\cos\alpha+y\sin\alpha,\ "
                             r"v=-x\sin\alpha+y\cos\alpha")
    if name == "custom":
        if not 0.5 <= half_width <= MAX_HALF_WIDTH:
            raise ValueError(f"Invalid half width: {half_width} (allowed 0.5 to {MAX_HALF_WIDTH:g})")
        expr = compile_expression(formula)
        w = float(half_width)
        return Surface("custom", expr.fn, (-w, w, -w, w), start=(-0.8 * w, 0.6 * w), probe=(0.0, 0.0),
                       lr_sgd=0.01 * w, lr_adaptive=0.02 * w, latex="")
    if name not in _FIXED:
        raise ValueError(f"unknown surface {name!r}; choose one of {sorted(SURFACES)} or 'custom'")
    return _FIXED[name]


_FIXED: dict[str, Surface] = {
    "rosenbrock": Surface("rosenbrock", _rosenbrock, (-2, 2, -1, 3), ((1.0, 1.0),), 0.0, start=(-1.2, 1.0),
                          probe=(1.0, 1.0), lr_sgd=1e-3, lr_adaptive=0.1, latex=r"f=(1-x)^2+100\,(y-x^2)^2"),
    "beale": Surface("beale", _beale, (-4.5, 4.5, -4.5, 4.5), ((3.0, 0.5),), 0.0, start=(1.0, 1.5),
                     probe=(0.0, 1.0), lr_sgd=1e-3, lr_adaptive=0.05,
                     latex=r"f=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2"),
    "himmelblau": Surface("himmelblau", _himmelblau, (-5, 5, -5, 5), HIMMELBLAU_MINIMA, 0.0, start=(0.5, -1.5),
                          probe=HIMMELBLAU_MAXIMUM, lr_sgd=5e-3, lr_adaptive=0.1,
                          latex=r"f=(x^2+y-11)^2+(x+y^2-7)^2"),
    "saddle": Surface("saddle", _saddle, (-2, 2, -2, 2), (), None, start=(-1.9, 1e-3), probe=(0.0, 0.0),
                      lr_sgd=0.05, lr_adaptive=0.02, latex=r"f=x^2-y^2"),
    "monkey_saddle": Surface("monkey_saddle", _monkey_saddle, (-2, 2, -2, 2), (), None, start=(1.8, 0.05),
                             probe=(0.0, 0.0), lr_sgd=0.02, lr_adaptive=0.02, latex=r"f=x^3-3xy^2"),
    "plateau": Surface("plateau", _plateau, (-4, 4, -4, 4), ((0.0, 0.0),), 0.0, start=(3.6, 3.0),
                       probe=(3.6, 3.0), lr_sgd=1.0, lr_adaptive=0.1,
                       latex=r"f=1-\exp\!\left(-(x^2+2y^2)/4\right)"),
    "many_minima": Surface("many_minima", _many_minima, (-6, 6, -6, 6), ((0.0, 0.0),), 0.0, start=(5.0, 4.2),
                           probe=(math.pi * 0.95, 0.0), lr_sgd=0.05, lr_adaptive=0.1,
                           latex=r"f=(x^2+y^2)/10+2-\cos 2x-\cos 2y"),
}
SURFACES: dict[str, Surface] = {"quadratic": make_surface("quadratic"), **_FIXED}   # the default ravine first


def surface_grid(surface: Surface, n: int = GRID, bounds: Sequence[float] | None = None,
                 device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n,), y (n,) and z (n, n) = f on the map (or ``bounds``), z[i, j] = f(x[j], y[i]); non-finite kept."""
    if not 2 <= n <= 401:
        raise ValueError(f"Invalid grid size: {n} (allowed 2 to 401)")
    x0, x1, y0, y1 = bounds if bounds is not None else surface.bounds
    xs = torch.linspace(x0, x1, n, dtype=torch.float64, device=device)
    ys = torch.linspace(y0, y1, n, dtype=torch.float64, device=device)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    with torch.no_grad():
        z = surface.fn(xx, yy)
    return xs.cpu().numpy(), ys.cpu().numpy(), z.cpu().numpy()


MAX_EXTRA_STARTS = MAX_STARTS - 1


def parse_points(text: str) -> list[tuple[float, float]]:
    """Extra start points typed as "x, y; x, y" (at most ``MAX_EXTRA_STARTS``); ValueError if malformed."""
    if len(text) > 200:
        raise ValueError("too_long")
    out = []
    for part in [p for p in text.replace("(", "").replace(")", "").split(";") if p.strip()]:
        nums = part.split(",")
        if len(nums) != 2:
            raise ValueError("points")
        try:
            x, y = (float(v) for v in nums)
        except ValueError:
            raise ValueError("points") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("points")
        out.append((x, y))
    if len(out) > MAX_EXTRA_STARTS:
        raise ValueError("too_many")
    return out


def check_surface(surface: Surface, n: int = 41) -> None:
    """Raise ``ExpressionError("not_finite")`` when f is not finite anywhere on its map."""
    _, _, z = surface_grid(surface, n)
    if not np.isfinite(z).any():
        raise ExpressionError("not_finite")


# 2) optimizers ------------------------------------------------------------------------------

class Newton(torch.optim.Optimizer):
    r"""Newton's method as a ``torch.optim`` optimizer:
    $\theta \leftarrow \theta - \eta\,(H + \lambda I)^{-1} g$ for each row $\theta$ of a (S, 2) parameter.

    fn: the loss of each row, (S, 2) -> (S,); lr: $\eta$ (1 = the pure Newton step); damping:
    $\lambda \ge 0$ (Levenberg). $H$ comes from ``torch.autograd.functional.hessian``; a singular
    $H + \lambda I$ gives a NaN step, which the race reports as diverged.
    Note: pure Newton jumps to *any* critical point — a saddle or a maximum as readily as a minimum.
    """

    def __init__(self, params, fn: Callable[[Tensor], Tensor], lr: float = 1.0, damping: float = 0.0) -> None:
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not damping >= 0:
            raise ValueError(f"Invalid damping: {damping}")
        super().__init__(params, {"lr": lr, "damping": damping})
        self.fn = fn

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ARG002 - same signature as torch.optim
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.detach().reshape(-1, 2)                                   # (S, 2)
                h = hessian(lambda q: self.fn(q).sum(), theta, vectorize=True)      # (S, 2, S, 2)
                idx = torch.arange(theta.shape[0], device=p.device)
                h = h[idx, :, idx, :] + group["damping"] * torch.eye(2, dtype=p.dtype, device=p.device)  # (S, 2, 2)
                d, info = torch.linalg.solve_ex(h, p.grad.reshape(-1, 2, 1))
                d = d[..., 0].masked_fill((info != 0)[:, None], float("nan"))
                p.sub_(group["lr"] * d.reshape(p.shape))
        return None


OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
    "adamax": torch.optim.Adamax, "nadam": torch.optim.NAdam, "radam": torch.optim.RAdam, "newton": Newton,
}


@dataclass(frozen=True)
class Hyper:
    """One editable hyperparameter of a racer (``name`` as torch spells it; beta1/beta2 form ``betas``)."""
    name: str
    default: float
    lo: float
    hi: float


LR = Hyper("lr", 0.1, 1e-5, 10.0)
BETA1, BETA2 = Hyper("beta1", 0.9, 0.0, 0.999), Hyper("beta2", 0.999, 0.0, 0.99999)


@dataclass(frozen=True)
class RacerKind:
    optimizer: str                        # key of OPTIMIZERS
    fixed: tuple[tuple[str, object], ...]  # keyword arguments the racer always passes
    hypers: tuple[Hyper, ...]             # what the learner may edit
    family: str                           # "sgd", "adaptive", "adadelta" or "newton": picks the suggested lr


RACERS: dict[str, RacerKind] = {
    "sgd": RacerKind("sgd", (), (LR,), "sgd"),
    "momentum": RacerKind("sgd", (), (LR, Hyper("momentum", 0.9, 0.0, 0.999)), "sgd"),
    "nesterov": RacerKind("sgd", (("nesterov", True),), (LR, Hyper("momentum", 0.9, 0.0, 0.999)), "sgd"),
    "adagrad": RacerKind("adagrad", (), (LR,), "adagrad"),
    "rmsprop": RacerKind("rmsprop", (), (LR, Hyper("alpha", 0.99, 0.0, 0.9999)), "adaptive"),
    "adadelta": RacerKind("adadelta", (), (Hyper("lr", 1.0, 1e-3, 10.0), Hyper("rho", 0.9, 0.0, 0.9999)),
                          "adadelta"),
    "adam": RacerKind("adam", (), (LR, BETA1, BETA2), "adaptive"),
    "adamw": RacerKind("adamw", (), (LR, BETA1, BETA2, Hyper("weight_decay", 0.01, 0.0, 1.0)), "adaptive"),
    "adamax": RacerKind("adamax", (), (LR, BETA1, BETA2), "adaptive"),
    "nadam": RacerKind("nadam", (), (LR, BETA1, BETA2), "adaptive"),
    "radam": RacerKind("radam", (), (LR, BETA1, BETA2), "adaptive"),
    "newton": RacerKind("newton", (), (Hyper("lr", 1.0, 1e-3, 2.0), Hyper("damping", 0.0, 0.0, 100.0)),
                        "newton"),
}


def suggested_hypers(kind: str, surface: Surface) -> dict[str, float]:
    """Defaults for racer ``kind`` on ``surface``: torch's defaults with a learning rate that suits the map."""
    racer = RACERS[kind]
    values = {h.name: h.default for h in racer.hypers}
    if racer.family == "sgd":
        values["lr"] = surface.lr_sgd
    elif racer.family == "adaptive":
        values["lr"] = surface.lr_adaptive
    elif racer.family == "adagrad":
        values["lr"] = 5 * surface.lr_adaptive   # AdaGrad's steps shrink like 1/sqrt(t): start it larger
    return values


def torch_kwargs(kind: str, hypers: dict[str, float]) -> tuple[str, dict[str, object]]:
    """(optimizer name, keyword arguments) for racer ``kind``: beta1/beta2 become ``betas``; ranges checked."""
    racer = RACERS[kind]
    kw: dict[str, object] = dict(racer.fixed)
    for h in racer.hypers:
        v = float(hypers.get(h.name, h.default))
        if not (math.isfinite(v) and h.lo <= v <= h.hi):
            raise ValueError(f"Invalid {kind}.{h.name}: {v} (allowed {h.lo:g} to {h.hi:g})")
        kw[h.name] = v
    if "beta1" in kw:
        kw["betas"] = (kw.pop("beta1"), kw.pop("beta2"))
    return racer.optimizer, kw


# 3) schedules ---------------------------------------------------------------------------------

SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup")


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule from ``torch.optim.lr_scheduler`` (the same factor for every racer)."""
    kind: str = "constant"
    step_size: int = 100    # StepLR: multiply by gamma every step_size steps
    gamma: float = 0.5      # StepLR factor; ExponentialLR uses gamma ** (1 / step_size) per step
    warmup: int = 30        # warm-up: linear ramp over this many steps, then cosine decay

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"Invalid schedule: {self.kind!r} (allowed {', '.join(SCHEDULES)})")
        if not 1 <= self.step_size <= MAX_STEPS:
            raise ValueError(f"Invalid step_size: {self.step_size} (allowed 1 to {MAX_STEPS})")
        if not 0.01 <= self.gamma <= 1.0:
            raise ValueError(f"Invalid gamma: {self.gamma} (allowed 0.01 to 1)")
        if not 1 <= self.warmup <= MAX_STEPS:
            raise ValueError(f"Invalid warmup: {self.warmup} (allowed 1 to {MAX_STEPS})")


def make_scheduler(opt: torch.optim.Optimizer, schedule: Schedule, steps: int):
    """The ``torch.optim.lr_scheduler`` object for ``schedule`` over ``steps`` steps (None for constant)."""
    s = torch.optim.lr_scheduler
    if schedule.kind == "step":
        return s.StepLR(opt, step_size=schedule.step_size, gamma=schedule.gamma)
    if schedule.kind == "exponential":
        return s.ExponentialLR(opt, gamma=schedule.gamma ** (1 / schedule.step_size))
    if schedule.kind == "cosine":
        return s.CosineAnnealingLR(opt, T_max=steps)
    if schedule.kind == "warmup":
        w = min(schedule.warmup, max(1, steps - 1))
        # 1) linear warm-up from lr / w to lr   2) cosine decay to 0 over the remaining steps
        return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=1 / w, total_iters=w),
                                    s.CosineAnnealingLR(opt, T_max=max(1, steps - w))], milestones=[w])
    return None


def schedule_factors(schedule: Schedule, steps: int) -> np.ndarray:
    r"""The factor $\eta_t / \eta$ used at each of ``steps`` steps, read from the torch scheduler itself."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make_scheduler(opt, schedule, steps)
    out = np.empty(steps)
    for t in range(steps):
        out[t] = opt.param_groups[0]["lr"]
        opt.step()
        if sched is not None:
            sched.step()
    return out


# 4) the race -----------------------------------------------------------------------------------

def _rowwise(surface: Surface) -> Callable[[Tensor], Tensor]:
    """The loss of each row $\\theta = (x, y)$ of a (..., 2) tensor: (..., 2) -> (...)."""
    return lambda q: surface.fn(q[..., 0], q[..., 1])


def _optimizer(name: str, param: Tensor, fn: Callable[[Tensor], Tensor],
               kw: dict[str, object]) -> torch.optim.Optimizer:
    """``torch.optim.<name>`` over ``param`` with the keywords ``kw`` (Newton also needs the row loss ``fn``)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    if name == "newton":
        return Newton([param], fn, **kw)
    return OPTIMIZERS[name]([param], foreach=False, **kw)


@dataclass(frozen=True)
class RacerSpec:
    """One racer: a key of ``RACERS`` and its hyperparameters (torch names; beta1/beta2 separate)."""
    kind: str
    hypers: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class RaceConfig:
    surface: str = "quadratic"
    kappa: float = 25.0
    angle: float = 30.0
    formula: str = ""
    half_width: float = 3.0
    starts: tuple[tuple[float, float], ...] = ((-2.6, 0.4),)
    steps: int = 300
    racers: tuple[RacerSpec, ...] = (RacerSpec("sgd"),)
    schedule: Schedule = field(default_factory=Schedule)
    tol: float = 1e-2       # "reached the minimum": within this distance of a known minimum

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_STEPS})")
        if not 1 <= len(self.racers) <= MAX_RACERS:
            raise ValueError(f"Invalid number of racers: {len(self.racers)} (allowed 1 to {MAX_RACERS})")
        if not 1 <= len(self.starts) <= MAX_STARTS:
            raise ValueError(f"Invalid number of start points: {len(self.starts)} (allowed 1 to {MAX_STARTS})")
        for r in self.racers:
            if r.kind not in RACERS:
                raise ValueError(f"Invalid racer kind: {r.kind!r} (allowed {', '.join(RACERS)})")
        for s in self.starts:
            if not (len(s) == 2 and all(math.isfinite(c) for c in s)):
                raise ValueError(f"Invalid start point: {s} (allowed two finite numbers)")
        if not 0 < self.tol <= 1.0:
            raise ValueError(f"Invalid tol: {self.tol} (allowed above 0, up to 1)")

    def make_surface(self) -> Surface:
        return make_surface(self.surface, kappa=self.kappa, angle=self.angle, formula=self.formula,
                            half_width=self.half_width)


@dataclass(frozen=True)
class RaceResult:
    kinds: tuple[str, ...]
    paths: np.ndarray        # (R, steps + 1, S, 2) iterates; NaN after a racer diverged
    losses: np.ndarray       # (R, steps + 1, S) f at each iterate
    lr_factor: np.ndarray    # (steps,) the schedule's eta_t / eta
    diverged_at: np.ndarray  # (R, S) first step whose iterate is not finite (or huge); -1 if never
    reached_at: np.ndarray   # (R, S) first step within tol of a known minimum; -1 if never
    nearest: np.ndarray      # (R, S) index of the minimum nearest the last iterate; -1 if none known
    final_grad: np.ndarray   # (R, S) |gradient| at the last iterate (NaN if diverged)
    outside: np.ndarray      # (R, S) the last iterate lies off the map


def race_paths(surface: Surface, specs: Sequence[tuple[str, dict[str, object]]], starts: Tensor, steps: int,
               schedule: Schedule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Every racer of ``specs`` from every start of ``starts`` (S, 2): the textbook ``torch.optim`` loop.

    Racer r owns one parameter of shape (S, 2), a row $\theta = (x, y)$ per start point, with its own
    optimizer and its own ``torch.optim.lr_scheduler``. The rows never mix (every optimizer here updates
    element by element, and Newton solves one 2 x 2 system per row), so one optimizer runs all the starts.
    Each step: $f$ of every row, ``backward``, ``opt.step()``, ``scheduler.step()``; an iterate past
    $10^{12}$ counts as diverged and becomes NaN.
    Returns paths (R, steps + 1, S, 2), losses (R, steps + 1, S) and the schedule's $\eta_t / \eta$ (steps,).
    """
    f = _rowwise(surface)
    R, S = len(specs), starts.shape[0]
    paths = np.full((R, steps + 1, S, 2), np.nan)
    losses = np.full((R, steps + 1, S), np.nan)
    for r, (name, kw) in enumerate(specs):
        theta = starts.clone().requires_grad_(True)                      # (S, 2): one row per start
        opt = _optimizer(name, theta, f, kw)
        scheduler = make_scheduler(opt, schedule, steps)
        for t in range(steps + 1):
            loss = f(theta)                                              # (S,)
            paths[r, t], losses[r, t] = theta.detach().cpu().numpy(), loss.detach().cpu().numpy()
            if t == steps:
                break
            opt.zero_grad()
            loss.sum().backward()                                        # each row's gradient: rows never mix
            opt.step()
            if scheduler is not None:
                scheduler.step()
            with torch.no_grad():
                theta.masked_fill_(theta.abs() >= DIVERGED, float("nan"))   # past 1e12 counts as diverged
    return paths, losses, schedule_factors(schedule, steps)


def race(config: RaceConfig, device: torch.device | str = "cpu") -> RaceResult:
    """Run every racer of ``config`` from every start point (``race_paths``); summarise who reached a minimum
    when. ``race_fast`` gives the same result faster: the lab runs that one."""
    surface = config.make_surface()
    starts = torch.tensor(config.starts, dtype=torch.float64, device=device)
    specs = [torch_kwargs(r.kind, dict(r.hypers)) for r in config.racers]
    paths, losses, factors = race_paths(surface, specs, starts, config.steps, config.schedule)
    return summarise(config, surface, paths, losses, factors, device)


def summarise(config: RaceConfig, surface: Surface, paths: np.ndarray, losses: np.ndarray, factors: np.ndarray,
              device: torch.device | str = "cpu") -> RaceResult:
    """The race's iterates with, for each racer and start, when it diverged or reached a known minimum (within
    ``config.tol``), which minimum is nearest at the end, the final |gradient| and whether it left the map."""
    finite = np.isfinite(paths).all(axis=-1)                                   # (R, T, S)
    bad = ~finite
    diverged_at = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
    last = paths[:, -1]                                                        # (R, S, 2)
    R, S = last.shape[:2]
    if surface.minima:
        mins = np.asarray(surface.minima)                                      # (M, 2)
        dist = np.linalg.norm(paths[:, :, :, None, :] - mins, axis=-1)         # (R, T, S, M)
        close = np.nan_to_num(dist.min(axis=-1), nan=np.inf) < config.tol      # (R, T, S)
        reached_at = np.where(close.any(axis=1), close.argmax(axis=1), -1)
        last_dist = np.linalg.norm(last[:, :, None, :] - mins, axis=-1)
        nearest = np.where(np.isfinite(last_dist).all(-1), np.nan_to_num(last_dist, nan=np.inf).argmin(-1), -1)
    else:
        reached_at = np.full((R, S), -1)
        nearest = np.full((R, S), -1)
    x0, x1, y0, y1 = surface.bounds
    outside = ~((last[..., 0] >= x0) & (last[..., 0] <= x1) & (last[..., 1] >= y0) & (last[..., 1] <= y1))
    grad = gradient_norms(surface, last.reshape(-1, 2), device).reshape(R, S)
    return RaceResult(tuple(r.kind for r in config.racers), paths, losses, factors, diverged_at, reached_at,
                      nearest, grad, outside)


def gradient_norms(surface: Surface, points: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """|grad f| at each of ``points`` (N, 2); NaN where a point is not finite."""
    q = torch.tensor(points, dtype=torch.float64, device=device).nan_to_num(0.0).requires_grad_(True)
    (g,) = torch.autograd.grad(_rowwise(surface)(q).sum(), q)
    out = g.norm(dim=-1).detach().cpu().numpy()
    out[~np.isfinite(points).all(-1)] = np.nan
    return out


def run(surface: str | Surface, optimizer: str, start: Sequence[float], steps: int, *,
        schedule: Schedule | None = None, device: torch.device | str = "cpu", **hyperparameters) -> np.ndarray:
    """The (steps + 1, 2) float64 iterates of ``torch.optim.<optimizer>(**hyperparameters)`` from ``start``.

    surface: a key of ``SURFACES`` or a ``Surface``; optimizer: a key of ``OPTIMIZERS`` ("sgd", "adam",
    "newton", ...); hyperparameters: the optimizer's own keywords (``lr``, ``momentum``, ``betas``, ...).
    Rows after the iterate stops being finite (or passes 1e12) are NaN.
    """
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"Invalid steps: {steps} (allowed 1 to {MAX_STEPS})")
    surf = make_surface(surface) if isinstance(surface, str) else surface
    starts = torch.tensor([list(start)], dtype=torch.float64, device=device)
    paths, _, _ = race_paths(surf, [(optimizer, hyperparameters)], starts, steps, schedule or Schedule())
    return paths[0, :, 0]


# 4b) the race's fast path: what the lab runs, tested equal to ``race`` -------------------------------------------

def _step_fast(opt: torch.optim.Optimizer) -> Callable[[], object]:
    """``opt.step`` minus two wrappers that cost more than a 2-parameter update (call it under no_grad).

    The public ``step`` is wrapped for the profiler and step hooks (~15 us a call; the race registers
    no hooks), and the built-in optimizers' ``step`` again by ``_use_grad``, which only switches grad
    mode off and marks graph breaks for ``torch.compile``. Under ``torch.no_grad`` the function left
    is torch.optim's own update code, and it does exactly what ``opt.step()`` does (``race_fast`` is tested
    against ``race``, which calls ``opt.step()``). Reaches torch's private ``__wrapped__``, so it falls back to
    ``opt.step`` if torch stops exposing the wrapped function (also tested).
    """
    raw = getattr(type(opt).step, "__wrapped__", None)
    if raw is None:
        return opt.step
    if getattr(getattr(raw, "__code__", None), "co_name", "") == "_use_grad":
        raw = getattr(raw, "__wrapped__", raw)
    return lambda: raw(opt)


def race_paths_fast(surface: Surface, specs: Sequence[tuple[str, dict[str, object]]], starts: Tensor, steps: int,
                    schedule: Schedule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fast path of ``race_paths`` (the same iterates, tested): one shared forward/backward per step.

    All iterates live in one (R, S, 2) tensor ``theta``: racer i's ``torch.optim`` optimizer owns the
    leaf view ``theta[i]`` and reads its ``.grad``, a view of one shared gradient buffer, so each
    optimizer sees exactly the gradient of its own rows. Every racer's $\\eta_t$ is its own $\\eta$ times the
    factor of one torch scheduler (``schedule_factors``), set before its step: stepping one scheduler per racer
    through the public ``opt.step`` cost ~60 us a racer-step. Steps go through ``_step_fast``.
    Note: a racer that is NaN everywhere is no longer stepped; a Newton racer whose step no longer
    moves it (|step| <= 1e-15 (1 + |theta|)) is a fixed point and stays there instead of paying for
    more Hessians.
    """
    R, S = len(specs), starts.shape[0]
    fn = _rowwise(surface)
    theta = starts.expand(R, S, 2).clone()            # every racer's iterate; the optimizers write here
    grad = torch.zeros_like(theta)
    leaf = theta.detach().requires_grad_(True)        # the same storage, as the one leaf autograd sees
    params = [theta[i].requires_grad_(True) for i in range(R)]
    for p, g in zip(params, grad):
        p.grad = g
    opts = [_optimizer(name, p, fn, kw) for (name, kw), p in zip(specs, params)]
    steppers = [_step_fast(o) for o in opts]
    factors = np.ones(steps) if schedule.kind == "constant" else schedule_factors(schedule, steps)
    base = [[g["lr"] for g in o.param_groups] for o in opts]
    newton = [i for i, (name, _) in enumerate(specs) if name == "newton"]
    paths = torch.full((steps + 1, R, S, 2), float("nan"), dtype=theta.dtype, device=theta.device)
    losses = torch.full((steps + 1, R, S), float("nan"), dtype=theta.dtype, device=theta.device)
    paths[0] = theta
    active = list(range(R))
    ones = torch.ones(R, S, dtype=theta.dtype, device=theta.device)   # d(sum of losses)/d(loss): no sum node
    t = 0
    while True:
        f = fn(leaf)                                                    # (R, S)
        losses[t] = f.detach()
        if t == steps or not active:
            break
        (g,) = torch.autograd.grad(f, leaf, grad_outputs=ones)
        with torch.no_grad():
            grad.copy_(g)
            for i in active:
                if schedule.kind != "constant":
                    for group, lr in zip(opts[i].param_groups, base[i]):
                        group["lr"] = lr * float(factors[t])
                steppers[i]()
            theta.masked_fill_(theta.abs() >= DIVERGED, float("nan"))   # past 1e12 counts as diverged
            paths[t + 1] = theta
            alive = torch.isfinite(theta).flatten(1).any(1).tolist()
            stopped = {i for i in active if not alive[i]}
            for i in newton:
                if i in active and i not in stopped:
                    moved = (theta[i] - paths[t, i]).abs()
                    if bool(((moved <= 1e-15 * (1 + theta[i].abs())) | moved.isnan()).all()):
                        stopped.add(i)                                  # a fixed point: stays put
        active = [i for i in active if i not in stopped]
        t += 1
    if t < steps:   # nobody moves any more: the rest of the race repeats the last iterates
        paths[t + 1:] = theta
        losses[t + 1:] = losses[t]
    return (paths.transpose(0, 1).cpu().numpy(), losses.transpose(0, 1).cpu().numpy(), factors)


def race_fast(config: RaceConfig, device: torch.device | str = "cpu") -> RaceResult:
    """``race`` by ``race_paths_fast``: the same result (tested), several times faster; what the lab runs."""
    surface = config.make_surface()
    starts = torch.tensor(config.starts, dtype=torch.float64, device=device)
    specs = [torch_kwargs(r.kind, dict(r.hypers)) for r in config.racers]
    paths, losses, factors = race_paths_fast(surface, specs, starts, config.steps, config.schedule)
    return summarise(config, surface, paths, losses, factors, device)


# 5) critical points -------------------------------------------------------------------------------

KINDS = ("minimum", "maximum", "saddle", "degenerate")


@dataclass(frozen=True)
class PointInfo:
    point: np.ndarray         # (2,)
    value: float              # f(point)
    grad: np.ndarray          # (2,) g
    hessian: np.ndarray       # (2, 2) H (symmetric)
    eigenvalues: np.ndarray   # (2,) ascending
    eigenvectors: np.ndarray  # (2, 2) unit eigenvectors as columns, eigenvectors[:, i] for eigenvalues[i]
    kind: str                 # one of KINDS, read from the signs of the eigenvalues
    critical: bool            # |g| is (numerically) zero, so the kind names a critical point


def inspect_point(surface: str | Surface, point: Sequence[float], *, tol: float = 1e-6,
                  device: torch.device | str = "cpu") -> PointInfo:
    r"""Gradient, Hessian and its eigen-decomposition at ``point``; the kind of point they indicate.

    kind: "minimum" if every eigenvalue $> \tau$, "maximum" if every one $< -\tau$, "saddle" if
    one is $> \tau$ and another $< -\tau$, else "degenerate" (the second-order test is silent),
    with $\tau$ = ``tol`` $\cdot \max(1, |\lambda|_{max})$. critical: $\|g\| \le \tau$.
    """
    surf = make_surface(surface) if isinstance(surface, str) else surface
    p = torch.tensor(list(point), dtype=torch.float64, device=device)
    if not (p.shape == (2,) and torch.isfinite(p).all()):
        raise ValueError(f"Invalid point: {point} (allowed two finite numbers)")
    fn = _rowwise(surf)
    q = p.clone().requires_grad_(True)
    value = fn(q)
    (g,) = torch.autograd.grad(value, q)
    h = hessian(fn, p)
    h = 0.5 * (h + h.T)                                  # symmetric up to rounding
    lam, vec = torch.linalg.eigh(h)
    lam_np, vec_np = lam.cpu().numpy(), vec.cpu().numpy()
    scale = tol * max(1.0, float(np.abs(lam_np).max())) if np.isfinite(lam_np).all() else tol
    if np.all(lam_np > scale):
        kind = "minimum"
    elif np.all(lam_np < -scale):
        kind = "maximum"
    elif lam_np.max() > scale and lam_np.min() < -scale:
        kind = "saddle"
    else:
        kind = "degenerate"
    g_np = g.cpu().numpy()
    return PointInfo(p.cpu().numpy(), float(value.detach()), g_np, h.cpu().numpy(), lam_np, vec_np, kind,
                     bool(np.linalg.norm(g_np) <= scale))


@dataclass(frozen=True)
class Escape:
    direction: np.ndarray   # (2,) unit eigenvector u of the most negative eigenvalue
    eigenvalue: float       # lambda < 0
    points: np.ndarray      # (2, 2) point + size * u and point - size * u
    losses: np.ndarray      # (2,) f at those points
    predicted: float        # f(point) + 1/2 lambda size^2: the notes' second-order prediction


def escape_step(surface: str | Surface, point: Sequence[float], size: float = 0.5) -> Escape | None:
    r"""The notes' escape from a saddle: step $\pm$ ``size`` along the eigenvector $u$ of the most
    negative eigenvalue $\lambda$ of $H$; near a critical point $f$ drops by about $\tfrac12|\lambda|\,$size$^2$.
    None when $H$ has no negative eigenvalue."""
    if not 0 < size <= 10:
        raise ValueError(f"Invalid escape step size: {size} (allowed above 0, up to 10)")
    surf = make_surface(surface) if isinstance(surface, str) else surface
    info = inspect_point(surf, point)
    if not info.eigenvalues[0] < 0:
        return None
    u = info.eigenvectors[:, 0]
    pts = np.stack([info.point + size * u, info.point - size * u])
    with torch.no_grad():
        f = _rowwise(surf)(torch.tensor(pts, dtype=torch.float64)).numpy()
    return Escape(u, float(info.eigenvalues[0]), pts, f, info.value + 0.5 * float(info.eigenvalues[0]) * size**2)


def nearest_critical_point(surface: str | Surface, point: Sequence[float], steps: int = 60) -> np.ndarray | None:
    """Where pure Newton steps from ``point`` settle: a critical point of any kind (None if they diverge)."""
    path = run(surface, "newton", point, steps, lr=1.0)
    last = path[-1]
    return last if np.isfinite(last).all() else None


# 6) the leaderboard ------------------------------------------------------------------------------

STATUSES = ("reached", "diverged", "left", "stalled", "moving")


@dataclass(frozen=True)
class Leaderboard:
    """One row per racer (first start point), best first: reached a minimum sooner, else lower final loss."""
    order: tuple[int, ...]                 # racer indices in rank order
    status: tuple[tuple[str, int], ...]    # (one of STATUSES, the step it happened; -1 if none)
    reached: tuple[float, ...]             # steps to within tol of a minimum (NaN if never)
    final_loss: tuple[float, ...]
    distance: tuple[float, ...]            # from the last iterate to the nearest known minimum (NaN if none)
    grad: tuple[float, ...]                # |gradient| at the last iterate
    starts_reached: tuple[str, ...]        # "k/S": start points from which the racer reached a minimum


def leaderboard(result: RaceResult, surface: Surface, tol: float = 1e-2, stall: float = 1e-6) -> Leaderboard:
    """Rank the racers; a status says how each run ended: reached a minimum, diverged (NaN / 1e12),
    left the map, stalled where the gradient vanishes without a known minimum, or still moving."""
    R, T, S, _ = result.paths.shape
    x0, x1, y0, y1 = surface.bounds
    p = result.paths[:, :, 0]                                               # (R, T, 2) first start
    off = ~((p[..., 0] >= x0) & (p[..., 0] <= x1) & (p[..., 1] >= y0) & (p[..., 1] <= y1)) & np.isfinite(p).all(-1)
    rows = []
    for r in range(R):
        final = float(result.losses[r, -1, 0])
        if surface.minima and np.isfinite(p[r, -1]).all():
            dist = float(np.linalg.norm(np.asarray(surface.minima) - p[r, -1], axis=1).min())
        else:
            dist = float("nan")
        if result.reached_at[r, 0] >= 0:
            status = ("reached", int(result.reached_at[r, 0]))
        elif result.diverged_at[r, 0] >= 0:
            status = ("diverged", int(result.diverged_at[r, 0]))
        elif off[r].any():
            status = ("left", int(off[r].argmax()))
        elif result.final_grad[r, 0] < stall:
            status = ("stalled", -1)
        else:
            status = ("moving", -1)
        reached = float(result.reached_at[r, 0]) if result.reached_at[r, 0] >= 0 else float("nan")
        key = (0 if status[0] == "reached" else 1, reached if status[0] == "reached" else 0.0,
               2 if status[0] == "diverged" else (1 if status[0] == "left" else 0),
               final if math.isfinite(final) else math.inf)
        rows.append((key, r, status, reached, final, dist, float(result.final_grad[r, 0]),
                     f"{int((result.reached_at[r] >= 0).sum())}/{S}"))
    rows.sort(key=lambda row: row[0])
    cols = list(zip(*[row[1:] for row in rows]))
    return Leaderboard(*(tuple(c) for c in cols))


def rule_checks(surface: Surface, start: Sequence[float], steps: int = 100) -> dict[str, update_rules.RuleCheck]:
    """The hand-written rules of ``update_rules`` against torch.optim on ``surface`` from ``start``,
    each with the learning rate this surface suggests."""
    hp = {"momentum": {"lr": surface.lr_sgd, "momentum": 0.9}, "adagrad": {"lr": 5 * surface.lr_adaptive},
          "rmsprop": {"lr": surface.lr_adaptive, "alpha": 0.99},
          "adam": {"lr": surface.lr_adaptive, "betas": (0.9, 0.999)}}
    return {r: update_rules.check_rule(r, surface.fn, start, steps, **hp[r]) for r in update_rules.RULES}


def onto_map(surface: Surface, points: Sequence[Sequence[float]]) -> tuple[tuple[tuple[float, float], ...], bool]:
    """``points`` moved onto the map's rectangle (nearest edge), and whether any had to move."""
    x0, x1, y0, y1 = surface.bounds
    out = tuple((min(max(float(a), x0), x1), min(max(float(b), y0), y1)) for a, b in points)
    return out, out != tuple((float(a), float(b)) for a, b in points)
