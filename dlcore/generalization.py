r"""Generalization: under- and overfitting, the bias–variance decomposition measured on real fits, L1 and L2
regularization, dropout, early stopping and robust losses (review notes "Bias and variance", "Regularization",
"Loss functions"; Hung-yi Lee, *Deep Learning*, lectures 1–2; d2l "Model Selection", "Weight Decay", "Dropout").

The running example is 1-D regression: $y = f(x) + \varepsilon$ with $x \sim U[0, 1]$ and
$\varepsilon \sim \mathcal N(0, \sigma^2)$, fitted by a polynomial of degree $d$ written in the Legendre basis
$P_0(2x-1), \dots, P_d(2x-1)$ (the same functions as $1, x, \dots, x^d$, but a well-conditioned design).

Bias–variance at a test point $x$, for fits $\hat f_D$ on training sets $D$:

$$\mathbb E_{D,\varepsilon}\big[(y - \hat f_D(x))^2\big]
  = \underbrace{(\mathbb E_D \hat f_D(x) - f(x))^2}_{\text{bias}^2}
  + \underbrace{\mathbb E_D(\hat f_D(x) - \mathbb E_D \hat f_D(x))^2}_{\text{variance}} + \sigma^2 .$$
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from dlcore.device import generator
from dlcore.expr import ExpressionError, compile_expression

# caps: every size a learner can reach
MAX_DEGREE = 15
MAX_N = 200
MIN_N = 2
MAX_NOISE = 2.0
MAX_SETS = 200
MAX_ALPHAS = 100
MAX_FORMULA = 80
MAX_STEPS = 1000
MAX_WIDTH = 128
MAX_OUTLIERS = 10
MAX_BOOT = 50      # bootstrap samples per training set
MAX_FOLDS = 10
EVAL_EVERY = 10    # training steps between two evaluations of the MLP (train and validation error)
N_VAL = 200        # validation points drawn from the same distribution
GRID = 101         # the fixed test grid on [0, 1]
DEFAULT_TARGET = "sin(2*pi*x)"
TARGETS = {        # named targets on [0, 1]; each is also a valid typed formula
    "sine": DEFAULT_TARGET,
    "cubic": "8*(x - 0.2)*(x - 0.5)*(x - 0.9)",
    "step": "tanh(20*(x - 0.5))",
    "bump": "exp(-30*(x - 0.4)^2)",
}


class GeneralizationError(ValueError):
    """Learner input the lesson cannot use. ``code``: singular, n_small, too_many_sets, too_many_steps, ...;
    ``values``: numbers for the translated message."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(f"{code}: {values}" if values else code)
        self.code = code
        self.values = values


def _check(name: str, value: float, lo: float, hi: float, code: str = "out_of_range") -> None:
    if not (lo <= value <= hi):
        raise GeneralizationError(code, name=name, value=value, lo=lo, hi=hi)


# ------------------------------------------------------------------------------------------------ target and data

def parse_target(text: str) -> Callable[[Tensor], Tensor]:
    """A typed target $f(x)$ on [0, 1] as a torch function, read by the course's safe parser; raises
    ``ExpressionError`` (code ``not_finite`` if it overflows or is undefined somewhere on [0, 1])."""
    fn = compile_expression(text, variables=("x",), max_length=MAX_FORMULA).fn
    probe = fn(torch.linspace(0, 1, 1001, dtype=torch.float64))
    if not bool(torch.isfinite(probe).all()) or float(probe.abs().max()) > 1e6:
        raise ExpressionError("not_finite")
    return fn


def target_formula(target: str, typed: str = "") -> str:
    """The formula of a named target, or the typed one for ``target == "typed"``."""
    return typed if target == "typed" else TARGETS[target]


@dataclass(frozen=True)
class Data:
    x: Tensor        # (n,) in [0, 1]
    y: Tensor        # (n,) f(x) + noise
    x_val: Tensor    # (N_VAL,)
    y_val: Tensor
    grid: Tensor     # (GRID,) the test grid
    f_grid: Tensor   # (GRID,) f on the grid


def training_x(shape: tuple[int, ...], g: torch.Generator, device: str | torch.device = "cpu") -> Tensor:
    """Stratified inputs: $x_i = (i + u_i)/n$ with $u_i \\sim U[0, 1)$, one point in each of the $n$ equal slices
    of [0, 1], so every training set covers the whole interval (each $x_i$ is still uniform within its slice).
    shape: (..., n)."""
    n = shape[-1]
    u = torch.rand(shape, generator=g, dtype=torch.float64, device=device)
    return (torch.arange(n, dtype=torch.float64, device=device) + u) / n


def make_data(formula: str, n: int, noise: float, seed: int, device: str | torch.device = "cpu") -> Data:
    """$n$ training points $y = f(x) + \\varepsilon$ at stratified $x$ (:func:`training_x`) and ``N_VAL``
    validation points at $x \\sim U[0,1]$, $\\varepsilon \\sim \\mathcal N(0, \\sigma^2)$ (``noise`` is
    $\\sigma$), from a private generator."""
    _check("n", n, MIN_N, MAX_N)
    _check("noise", noise, 0.0, MAX_NOISE)
    f = parse_target(formula)
    g = generator(seed, device)
    kw = {"dtype": torch.float64, "device": device}
    x = training_x((n,), g, device)
    x_val = torch.rand(N_VAL, generator=g, **kw)
    y = f(x) + noise * torch.randn(n, generator=g, **kw)
    y_val = f(x_val) + noise * torch.randn(N_VAL, generator=g, **kw)
    grid = torch.linspace(0, 1, GRID, **kw)
    return Data(x, y, x_val, y_val, grid, f(grid))


# ------------------------------------------------------------------------------------------------ least squares

def legendre_features(x: Tensor, degree: int) -> Tensor:
    r"""The design matrix $\Phi_{ik} = P_k(2x_i - 1)$, $k = 0..d$, by Bonnet's recurrence
    $(k+1)P_{k+1}(t) = (2k+1)\,t\,P_k(t) - k\,P_{k-1}(t)$. x: (..., n) -> (..., n, d+1)."""
    _check("degree", degree, 0, MAX_DEGREE)
    t = 2 * x - 1
    cols = [torch.ones_like(t)]
    if degree >= 1:
        cols.append(t)
    for k in range(1, degree):
        cols.append(((2 * k + 1) * t * cols[k] - k * cols[k - 1]) / (k + 1))
    return torch.stack(cols, dim=-1)


def ridge(X: Tensor, y: Tensor, lam: float) -> Tensor:
    r"""Ridge regression: $\hat w = \arg\min_w \frac{1}{2n}\|y - Xw\|^2 + \frac{\lambda}{2}\|w\|^2
    = (X^\top X + n\lambda I)^{-1}X^\top y$.

    X: (..., n, p); y: (..., n); lam: $\lambda \ge 0$. Solved as the least-squares problem
    $[X; \sqrt{n\lambda} I]\,w \approx [y; 0]$. With $\lambda = 0$ the design must have full column rank
    (``GeneralizationError("singular")`` otherwise); :func:`min_norm_fit` is the underdetermined case.
    Same minimiser as ``sklearn.linear_model.Ridge(alpha=n*lam, fit_intercept=False)``."""
    if not lam >= 0 or not math.isfinite(lam):
        raise GeneralizationError("out_of_range", name="lambda", value=lam, lo=0, hi="inf")
    n, p = X.shape[-2], X.shape[-1]
    if lam == 0:
        rank = int(torch.linalg.matrix_rank(X).min())
        if rank < p:
            raise GeneralizationError("singular", rank=rank, p=p)
        return torch.linalg.lstsq(X, y.unsqueeze(-1)).solution.squeeze(-1)
    eye = math.sqrt(n * lam) * torch.eye(p, dtype=X.dtype, device=X.device).expand(*X.shape[:-2], p, p)
    A = torch.cat([X, eye], dim=-2)
    b = torch.cat([y, torch.zeros(*y.shape[:-1], p, dtype=y.dtype, device=y.device)], dim=-1)
    return torch.linalg.lstsq(A, b.unsqueeze(-1)).solution.squeeze(-1)


def min_norm_fit(X: Tensor, y: Tensor) -> Tensor:
    r"""The least-squares $w$ of smallest $\|w\|$: $X^+ y$. When $n < p$ many $w$ fit the points exactly; this
    picks one of them (it interpolates). X: (..., n, p); y: (..., n)."""
    return (torch.linalg.pinv(X, rtol=1e-10) @ y.unsqueeze(-1)).squeeze(-1)


def fit_polynomial(x: Tensor, y: Tensor, degree: int, lam: float = 0.0) -> Tensor:
    """Legendre coefficients of the degree-``degree`` least-squares (ridge for ``lam`` > 0) fit; with ``lam`` 0
    and fewer points than coefficients, the minimum-norm interpolant."""
    X = legendre_features(x, degree)
    if lam == 0 and x.shape[-1] < degree + 1:
        return min_norm_fit(X, y)
    return ridge(X, y, lam)


def predict(w: Tensor, x: Tensor) -> Tensor:
    """$\\hat f(x) = \\sum_k w_k P_k(2x-1)$; w: (..., d+1), x: (m,) -> (..., m)."""
    return (legendre_features(x, w.shape[-1] - 1) * w.unsqueeze(-2)).sum(-1)   # (..., m)


def mse(a: Tensor, b: Tensor) -> float:
    return float(((a - b) ** 2).mean())


@dataclass(frozen=True)
class Sweep:
    degrees: list[int]
    train_mse: list[float]
    val_mse: list[float]
    curves: Tensor          # (len(degrees), GRID) each fit on the grid
    interpolates: list[bool]


def capacity_sweep(data: Data, max_degree: int = MAX_DEGREE) -> Sweep:
    """Train and validation MSE of the polynomial fit of every degree 0..``max_degree`` on ``data``."""
    _check("degree", max_degree, 0, MAX_DEGREE)
    degrees = list(range(max_degree + 1))
    train, val, curves, interp = [], [], [], []
    for d in degrees:
        w = fit_polynomial(data.x, data.y, d)
        train.append(mse(predict(w, data.x), data.y))
        val.append(mse(predict(w, data.x_val), data.y_val))
        curves.append(predict(w, data.grid))
        interp.append(len(data.x) <= d)
    return Sweep(degrees, train, val, torch.stack(curves), interp)


def diagnose(train_mse: float, val_mse: float, noise: float) -> str:
    """Hung-yi Lee's flow, with the noise variance $\\sigma^2$ as the yardstick of a "low" loss:
    training loss above $2\\sigma^2 + 0.01$ -> "high_train" (model bias or optimization); otherwise a validation loss
    above $2(\\text{train} + \\sigma^2) + 0.01$ -> "overfit" (overfitting or mismatch); else "fine"."""
    floor = noise ** 2
    if train_mse > 2 * floor + 0.01:
        return "high_train"
    if val_mse > 2 * (train_mse + floor) + 0.01:
        return "overfit"
    return "fine"


# ------------------------------------------------------------------------------------------------ bias-variance

def bias_variance(degree: int, n_train: int, noise: float, n_sets: int, seed: int, *, lam: float = 0.0,
                  formula: str = DEFAULT_TARGET, device: str | torch.device = "cpu") -> dict:
    r"""Bias², variance, noise and the measured expected test error of degree-$d$ polynomial least squares
    (ridge for ``lam`` > 0), averaged over the fixed test grid of ``GRID`` points on [0, 1].

    ``n_sets`` training sets $D_s$ of ``n_train`` points each are drawn from the same distribution and fitted.
    With $\bar f(x) = \frac1S\sum_s \hat f_s(x)$: variance$(x) = \frac{1}{S-1}\sum_s(\hat f_s(x) - \bar f(x))^2$
    and bias$^2(x) = (\bar f(x) - f(x))^2 - \text{variance}(x)/S$ (both unbiased; the correction removes the part of
    $(\bar f - f)^2$ that is the mean's own scatter), noise $= \sigma^2$. Their sum bias$^2$ + variance is exactly
    $\frac1S\sum_s(\hat f_s(x) - f(x))^2$. The expected error is measured on its own, with a
    fresh noisy label $y_s(x) = f(x) + \varepsilon_s(x)$ for every set and grid point:
    $\frac1S\sum_s (y_s(x) - \hat f_s(x))^2$. ``residual`` = expected_mse - (bias2 + variance + noise), which
    shrinks as $S$ grows. With ``lam`` 0 and fewer points than coefficients the fit is not unique:
    ``GeneralizationError("singular")``. Also returns the per-$x$ arrays and every fit (``fits``: (S, GRID))."""
    _check("n_sets", n_sets, 1, MAX_SETS, "too_many_sets")
    _check("n_train", n_train, MIN_N, MAX_N)
    _check("noise", noise, 0.0, MAX_NOISE)
    f = parse_target(formula)
    g = generator(seed, device)
    kw = {"dtype": torch.float64, "device": device}
    x = training_x((n_sets, n_train), g, device)                           # (S, n)
    y = f(x) + noise * torch.randn(n_sets, n_train, generator=g, **kw)
    grid = torch.linspace(0, 1, GRID, **kw)
    f_grid = f(grid)
    w = ridge(legendre_features(x, degree), y, lam)                         # (S, d+1); lam 0 needs n >= d+1
    fits = predict(w, grid)                                                 # (S, GRID)
    mean_fit = fits.mean(0)
    var_x = ((fits - mean_fit) ** 2).sum(0) / max(n_sets - 1, 1)          # unbiased sample variance
    bias2_x = (mean_fit - f_grid) ** 2 - var_x / n_sets                     # unbiased: E(mean - f)^2 = bias^2 + var/S
    y_new = f_grid + noise * torch.randn(n_sets, GRID, generator=g, **kw)   # fresh test labels
    err_x = ((y_new - fits) ** 2).mean(0)
    bias2, variance, expected = float(bias2_x.mean()), float(var_x.mean()), float(err_x.mean())
    return {"degree": degree, "lam": lam, "bias2": bias2, "variance": variance, "noise": noise ** 2,
            "expected_mse": expected, "residual": expected - (bias2 + variance + noise ** 2),
            "grid": grid, "f_grid": f_grid, "fits": fits, "mean_fit": mean_fit, "bias2_x": bias2_x,
            "variance_x": var_x, "expected_x": err_x}


def bias_variance_sweep(n_train: int, noise: float, n_sets: int, seed: int, *, degrees: list[int] | None = None,
                        lams: list[float] | None = None, degree: int = 9, formula: str = DEFAULT_TARGET) -> list[dict]:
    """:func:`bias_variance` over ``degrees`` (at λ = 0), or over ``lams`` at a fixed ``degree``; per-x arrays
    dropped. Every point uses the same seed, so the training sets are the same along the sweep."""
    keep = ("degree", "lam", "bias2", "variance", "noise", "expected_mse", "residual")
    if lams is None:
        runs = [bias_variance(d, n_train, noise, n_sets, seed, formula=formula) for d in degrees or []]
    else:
        runs = [bias_variance(degree, n_train, noise, n_sets, seed, lam=lam, formula=formula) for lam in lams]
    return [{k: r[k] for k in keep} for r in runs]


def nearest_neighbour(x: Tensor, y: Tensor, query: Tensor) -> Tensor:
    """The 1-nearest-neighbour rule: $\\hat f(q) = y_i$ for the training $x_i$ closest to $q$ (the left one on a
    tie). x, y: (..., n); query: (m,) -> (..., m). A model of low bias and high variance: it copies one noisy label.
    Found by binary search in the sorted $x$, so memory stays (..., m) rather than (..., m, n)."""
    n = x.shape[-1]
    xs, order = torch.sort(x, dim=-1)
    ys = torch.gather(y, -1, order)
    q = query.expand(*x.shape[:-1], query.shape[0]).contiguous()
    right = torch.searchsorted(xs.contiguous(), q).clamp(max=n - 1)        # first x_i >= q (or the last)
    left = (right - 1).clamp(min=0)
    closer_left = (q - torch.gather(xs, -1, left)).abs() <= (torch.gather(xs, -1, right) - q).abs()
    return torch.gather(ys, -1, torch.where(closer_left, left, right))


def bagging(n_train: int, noise: float, n_sets: int, n_boot: int, seed: int, *, formula: str = DEFAULT_TARGET,
            device: str | torch.device = "cpu") -> dict:
    r"""Bagging measured: on each of ``n_sets`` training sets, one :func:`nearest_neighbour` model and the average of
    ``n_boot`` of them, each trained on a bootstrap sample ($n$ points drawn with replacement). Returns the bias² and
    variance (as in :func:`bias_variance`, averaged over the grid) of the single model and of the bagged one.

    The nearest-neighbour rule is the unstable, high-variance kind of model bagging is for: a polynomial least-squares
    fit is already an average over all points, and bootstrap samples with gaps make it worse, not better."""
    _check("n_sets", n_sets, 2, MAX_SETS, "too_many_sets")
    _check("n_boot", n_boot, 1, MAX_BOOT, "too_many_sets")
    _check("n_train", n_train, MIN_N, MAX_N)
    _check("noise", noise, 0.0, MAX_NOISE)
    f = parse_target(formula)
    g = generator(seed, device)
    x = training_x((n_sets, n_train), g, device)                                       # (S, n)
    y = f(x) + noise * torch.randn(n_sets, n_train, generator=g, dtype=torch.float64, device=device)
    grid = torch.linspace(0, 1, GRID, dtype=torch.float64, device=device)
    single = nearest_neighbour(x, y, grid)                                             # (S, GRID)
    pick = torch.randint(n_train, (n_sets, n_boot, n_train), generator=g, device=device)   # bootstrap indices
    xb = torch.gather(x[:, None, :].expand(-1, n_boot, -1), 2, pick)                   # (S, B, n)
    yb = torch.gather(y[:, None, :].expand(-1, n_boot, -1), 2, pick)
    bagged = nearest_neighbour(xb, yb, grid).mean(1)                                   # (S, GRID)
    f_grid = f(grid)
    out: dict = {"grid": grid, "f_grid": f_grid, "x": x, "y": y}
    for name, fits in (("single", single), ("bagged", bagged)):
        mean = fits.mean(0)
        var = ((fits - mean) ** 2).sum(0) / (n_sets - 1)
        out[name] = {"bias2": float(((mean - f_grid) ** 2 - var / n_sets).mean()), "variance": float(var.mean()),
                     "fits": fits, "mean": mean}
    return out


@dataclass(frozen=True)
class CrossValidation:
    lams: list[float]
    fold_mse: Tensor     # (K, L): each fold's validation MSE at each λ
    mean: Tensor         # (L,)
    se: Tensor           # (L,) standard error of the mean over folds: std / sqrt(K)
    best: int            # index of the smallest mean
    one_se: int          # index of the largest λ whose mean is within one standard error of the best


def cross_validate(x: Tensor, y: Tensor, degree: int, lams, folds: int, seed: int) -> CrossValidation:
    r"""$K$-fold cross-validation of ridge regression (:func:`ridge`) of degree $d$ over the λ values ``lams``.

    The $n$ points are shuffled (private generator) and dealt into $K$ folds; each fold in turn is held out while
    the others train. The one-standard-error rule picks the largest λ (the simplest model) whose mean error is at
    most the smallest mean error plus the standard error there, $\mathrm{SE} = \mathrm{std}_k / \sqrt K$ (std with
    $K - 1$ in the denominator, as ``torch.std``)."""
    n = x.shape[0]
    _check("folds", folds, 2, min(MAX_FOLDS, n), "out_of_range")
    lams = [float(lam) for lam in lams]
    if not lams or min(lams) <= 0:
        raise GeneralizationError("out_of_range", name="lambda", value=min(lams, default=0.0), lo=0, hi="inf")
    order = torch.randperm(n, generator=generator(seed, x.device), device=x.device)
    fold_of = torch.empty(n, dtype=torch.long, device=x.device)
    fold_of[order] = torch.arange(n, device=x.device) % folds
    errs = torch.empty(folds, len(lams), dtype=x.dtype, device=x.device)
    X = legendre_features(x, degree)
    for k in range(folds):
        held = fold_of == k
        for j, lam in enumerate(lams):
            w = ridge(X[~held], y[~held], lam)
            errs[k, j] = ((X[held] @ w - y[held]) ** 2).mean()
    mean, se = errs.mean(0), errs.std(0) / math.sqrt(folds)
    best = int(torch.argmin(mean))
    within = (mean <= mean[best] + se[best]).nonzero().flatten()
    return CrossValidation(lams, errs, mean, se, best, int(within.max()))


# ------------------------------------------------------------------------------------------------ L1 and L2

def soft_threshold(z: Tensor, a: Tensor | float) -> Tensor:
    """$S(z, a) = \\mathrm{sign}(z)\\max(|z| - a, 0)$: the proximal step of $a|w|$."""
    return torch.sign(z) * torch.clamp(z.abs() - a, min=0)


def lasso_path(X: Tensor, y: Tensor, alphas, *, tol: float = 1e-12, max_sweeps: int = 2000) -> Tensor:
    r"""Lasso coefficients for each $\alpha$: $\arg\min_w \frac{1}{2n}\|y - Xw\|^2 + \alpha\|w\|_1$
    (scikit-learn's convention; no intercept). X: (n, p); y: (n,); alphas: (A,) -> (A, p).

    1) Cyclic coordinate descent on the Gram form $G = X^\top X/n$, $c = X^\top y/n$, all $\alpha$ at once:
       $w_j \leftarrow S\big(c_j - \sum_{k \ne j} G_{jk} w_k,\ \alpha\big) / G_{jj}$ (:func:`soft_threshold`).
    2) Every few sweeps, finish exactly: on the support $A$ with signs $s$ found so far, the optimality
       (KKT) conditions read $G_{AA} w_A = c_A - \alpha s_A$; the solution is accepted where its signs are $s$ and
       every other coordinate has $|c_j - (Gw)_j| \le \alpha$, which is the lasso optimum itself."""
    alphas = torch.as_tensor(alphas, dtype=X.dtype, device=X.device).reshape(-1)
    _check("alphas", len(alphas), 1, MAX_ALPHAS)
    if bool((alphas < 0).any()) or not bool(torch.isfinite(alphas).all()):
        raise GeneralizationError("out_of_range", name="alpha", value=float(alphas.min()), lo=0, hi="inf")
    n, p = X.shape
    G, c = X.T @ X / n, X.T @ y / n
    diag = torch.diagonal(G).clamp(min=1e-300)
    W = torch.zeros(len(alphas), p, dtype=X.dtype, device=X.device)
    a = alphas[:, None]
    for sweep in range(max_sweeps):
        for j in range(p):                                            # 1) one sweep
            rho = c[j] - W @ G[:, j] + G[j, j] * W[:, j]              # c_j - sum_{k != j} G_jk w_k
            W[:, j] = soft_threshold(rho, alphas) / diag[j]
        if sweep % 4 != 3:
            continue
        on, s = W != 0, torch.sign(W)                                  # 2) exact solve on the support
        A = torch.where(on[:, :, None] & on[:, None, :], G, 0.0) + torch.diag_embed((~on).to(X.dtype))
        b = torch.where(on, c - a * s, 0.0)
        exact, info = torch.linalg.solve_ex(A, b)
        kkt = c - exact @ G
        ok = (info == 0) & ((torch.sign(exact) == s) | ~on).all(1) & ((kkt.abs() <= a + tol) | on).all(1)
        W = torch.where(ok[:, None], exact, W)
        if bool(ok.all()):
            break
    return W


def ridge_path(X: Tensor, y: Tensor, lams) -> Tensor:
    """:func:`ridge` for each λ (all > 0): (A, p)."""
    return torch.stack([ridge(X, y, float(lam)) for lam in lams])


def weight_decay_step(w: Tensor, grad: Tensor, *, lr: float, weight_decay: float) -> Tensor:
    r"""One SGD step with L2 weight decay: $w \leftarrow w - \eta(\nabla L(w) + \lambda w)$, the gradient step on
    $L(w) + \frac{\lambda}{2}\|w\|^2$. Same update as ``torch.optim.SGD(lr=lr, weight_decay=weight_decay)``.

    .. note:: ``torch.optim.AdamW`` decouples the decay: it shrinks $w \leftarrow w(1 - \eta\lambda)$ apart from
       the adaptive step, so under Adam the two are no longer the same thing."""
    return w - lr * (grad + weight_decay * w)


def weight_decay_path(X: Tensor, y: Tensor, lam: float, *, lr: float = 0.5, steps: int = 200) -> Tensor:
    """Gradient descent with :func:`weight_decay_step` on $\\frac{1}{2n}\\|y - Xw\\|^2$ from $w = 0$; it ends at
    the ridge solution. Returns the iterates (steps + 1, p)."""
    _check("steps", steps, 1, MAX_STEPS, "too_many_steps")
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    out = [w]
    for _ in range(steps):
        w = weight_decay_step(w, X.T @ (X @ w - y) / n, lr=lr, weight_decay=lam)
        out.append(w)
    return torch.stack(out)


def two_feature_problem(seed: int = 0, n: int = 50, device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """A 2-D regression for the diamond-vs-circle picture: two correlated features and true weights (1.5, 0.25)."""
    g = generator(seed, device)
    kw = {"dtype": torch.float64, "device": device}
    z = torch.randn(n, 2, generator=g, **kw)
    X = torch.stack([z[:, 0], 0.6 * z[:, 0] + 0.8 * z[:, 1]], dim=1)
    y = X @ torch.tensor([1.5, 0.25], **kw) + 0.3 * torch.randn(n, generator=g, **kw)
    return X, y


def quadratic_loss_grid(X: Tensor, y: Tensor, w1: Tensor, w2: Tensor) -> Tensor:
    """$\\frac{1}{2n}\\|y - Xw\\|^2$ at every $(w_1, w_2)$ of the grid: (len(w2), len(w1))."""
    W1, W2 = torch.meshgrid(w1, w2, indexing="xy")
    r = y[None, None, :] - (W1[..., None] * X[:, 0] + W2[..., None] * X[:, 1])
    return (r ** 2).mean(-1) / 2


# ------------------------------------------------------------------------------------------------ dropout

def dropout(x: Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> Tensor:
    r"""Inverted dropout: in training each entry is zeroed with probability $p$ and the survivors are scaled by
    $1/(1-p)$, so $\mathbb E[\mathrm{dropout}(x)] = x$; in evaluation it is the identity. Same contract as
    ``torch.nn.functional.dropout(x, p, training)`` (its random stream differs)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"Invalid dropout probability: {p} (allowed 0 to 1)")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    keep = torch.empty_like(x).bernoulli_(1 - p, generator=generator)   # 1 with probability 1 - p
    return x * keep.div_(1 - p)


def dropout_without_scaling(x: Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> Tensor:
    """The mistake inverted dropout avoids: zero each entry with probability $p$ but keep the survivors as they are,
    so $\\mathbb E[\\text{output}] = (1-p)\\,x$, not $x$. The identity in evaluation."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"Invalid dropout probability: {p} (allowed 0 to 1)")
    if not training or p == 0.0:
        return x
    return x * torch.empty_like(x).bernoulli_(1 - p, generator=generator)


class MLP(torch.nn.Module):
    """1 -> width -> width -> 1 with ReLU and :func:`dropout` after each hidden layer."""

    def __init__(self, width: int, p: float) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(1, width), torch.nn.Linear(width, width),
                                           torch.nn.Linear(width, 1)])
        self.p = p
        self.generator: torch.Generator | None = None
        self.drop = dropout        # dropout_without_scaling shows what the 1/(1-p) is for

    def forward(self, x: Tensor) -> Tensor:     # x: (m, 1)
        h = x
        for layer in self.layers[:-1]:
            h = self.drop(torch.relu(layer(h)), self.p, self.training, self.generator)
        return self.layers[-1](h)


@dataclass(frozen=True)
class DropoutConfig:
    formula: str = DEFAULT_TARGET
    n: int = 15
    noise: float = 0.25
    p: float = 0.0
    width: int = 128
    steps: int = 500
    lr: float = 0.01     # Adam: smooth curves; at 0.02 the net without dropout spikes late in training
    seed: int = 0


@dataclass(frozen=True)
class TrainHistory:
    step: list[int]
    train_loss: list[float]
    val_loss: list[float]
    grid_pred: Tensor          # (GRID,) eval-mode prediction at the end
    state: dict                # final weights (CPU)


def check_dropout_config(c: DropoutConfig) -> None:
    _check("steps", c.steps, 1, MAX_STEPS, "too_many_steps")
    _check("width", c.width, 1, MAX_WIDTH)
    _check("p", c.p, 0.0, 0.9)
    _check("n", c.n, MIN_N, MAX_N)
    _check("noise", c.noise, 0.0, MAX_NOISE)


def train_mlp(c: DropoutConfig, device: str | torch.device = "cpu") -> TrainHistory:
    """Full-batch Adam on the MSE of the $n$ training points; train and validation MSE, both in eval mode, every
    ``EVAL_EVERY`` steps."""
    check_dropout_config(c)
    data = make_data(c.formula, c.n, c.noise, c.seed, device)
    g = generator(c.seed + 1, device)
    model = MLP(c.width, c.p).to(device)
    with torch.no_grad():   # initialise from the private generator (PyTorch's default scheme, U(-1/sqrt(fan_in), ..))
        for layer in model.layers:
            bound = 1 / math.sqrt(layer.in_features)
            layer.weight.copy_((torch.rand(layer.weight.shape, generator=g, device=device) * 2 - 1) * bound)
            layer.bias.copy_((torch.rand(layer.bias.shape, generator=g, device=device) * 2 - 1) * bound)
    model.generator = g
    x, y = data.x.float()[:, None], data.y.float()[:, None]
    xv, yv = data.x_val.float()[:, None], data.y_val.float()[:, None]
    opt = torch.optim.Adam(model.parameters(), lr=c.lr)
    steps, train, val = [], [], []
    model.train()
    for step in range(1, c.steps + 1):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % EVAL_EVERY and step != c.steps:
            continue
        model.eval()
        with torch.no_grad():
            steps.append(step)
            train.append(float(F.mse_loss(model(x), y)))
            val.append(float(F.mse_loss(model(xv), yv)))
        model.train()
    model.eval()
    with torch.no_grad():
        grid_pred = model(data.grid.float()[:, None])[:, 0].cpu()
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return TrainHistory(steps, train, val, grid_pred, state)


def restore_mlp(c: DropoutConfig, state: dict) -> MLP:
    model = MLP(c.width, c.p)
    model.load_state_dict(state)
    return model


def mask_predictions(c: DropoutConfig, n_masks: int, *, state: dict, seed: int = 0) -> dict:
    """The trained dropout net on the grid: in eval mode, and in train mode ("eval forgotten") under ``n_masks``
    random masks; their mean (dropout as an ensemble of thinned nets); and the mean over as many masks that drop
    units without the 1/(1-p) scaling (``unscaled_mean``), which lands away from eval mode."""
    _check("n_masks", n_masks, 1, MAX_SETS, "too_many_sets")
    model = restore_mlp(c, state)
    model.generator = generator(seed, "cpu")
    grid = torch.linspace(0, 1, GRID)[:, None]
    with torch.no_grad():
        model.eval()
        eval_pred = model(grid)[:, 0]
        model.train()
        masked = torch.stack([model(grid)[:, 0] for _ in range(n_masks)])
        model.drop = dropout_without_scaling
        unscaled = torch.stack([model(grid)[:, 0] for _ in range(n_masks)])
    return {"grid": grid[:, 0], "eval": eval_pred, "masked": masked, "mask_mean": masked.mean(0),
            "unscaled_mean": unscaled.mean(0)}


def early_stop(val_loss: list[float], patience: int, steps: list[int] | None = None) -> tuple[int, int]:
    """The patience rule: stop at the first evaluation at which the validation loss has not improved for
    ``patience`` steps. ``steps``: the training step of each evaluation (1, 2, 3, ... if None). Returns
    (best step, stop step); the stop step is the last one if the rule never fires."""
    if patience < 1:
        raise GeneralizationError("out_of_range", name="patience", value=patience, lo=1, hi=MAX_STEPS)
    steps = list(range(1, len(val_loss) + 1)) if steps is None else list(steps)
    best, best_at = float("inf"), 0
    for i, v in enumerate(val_loss):
        if v < best:
            best, best_at = v, i
        elif steps[i] - steps[best_at] >= patience:
            return steps[best_at], steps[i]
    return steps[best_at], steps[-1]


# ------------------------------------------------------------------------------------------------ augmentation

SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))     # one pixel right, left, down, up
AUG_SIZES = (50, 100, 200, 400)                  # training images the teaser may use


def shift_images(x: Tensor, dx: int, dy: int) -> Tensor:
    """Images moved ``dx`` pixels right and ``dy`` down; the pixels that enter are 0 (background).
    x: (N, 1, H, W) -> same shape."""
    H, W = x.shape[-2:]
    pad = F.pad(x, (1, 1, 1, 1))                                      # one pixel of background all round
    return pad[..., 1 - dy:1 - dy + H, 1 - dx:1 - dx + W]


def softmax_regression(x: Tensor, y: Tensor, *, steps: int = 300, lr: float = 0.05, weight_decay: float = 1e-3,
                       seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""A linear classifier $\mathrm{softmax}(Wx + b)$ on flattened images, trained by full-batch Adam on the
    cross-entropy plus $\frac{\lambda}{2}\|W\|^2$ (``weight_decay`` is $\lambda$). Returns (W, b): (D, C), (C,)."""
    _check("steps", steps, 1, MAX_STEPS, "too_many_steps")
    flat = x.reshape(len(x), -1)
    g = generator(seed, x.device)
    W = (0.01 * torch.randn(flat.shape[1], 10, generator=g, device=x.device)).requires_grad_(True)
    b = torch.zeros(10, device=x.device, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(flat @ W + b, y) + weight_decay / 2 * (W ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return W.detach(), b.detach()


def accuracy(W: Tensor, b: Tensor, x: Tensor, y: Tensor) -> float:
    return float(((x.reshape(len(x), -1) @ W + b).argmax(1) == y).float().mean())


def augmentation(n_train: int, seed: int, device: str | torch.device = "cpu") -> dict[str, float]:
    """The augmentation teaser: a linear classifier of the 8x8 digits trained on ``n_train`` images, and one trained
    on the same images plus their copies shifted by one pixel in each direction (5x the data). Both are tested on the
    test digits as they are and on the test digits shifted by one pixel."""
    from dlcore import data

    if n_train not in AUG_SIZES:
        raise GeneralizationError("out_of_range", name="n_train", value=n_train, lo=AUG_SIZES[0], hi=AUG_SIZES[-1])
    x, y = data.digits("train")
    x_test, y_test = data.digits("test")
    pick = torch.randperm(len(x), generator=generator(seed, "cpu"))[:n_train]
    x, y, x_test, y_test = (t.to(device) for t in (x[pick], y[pick], x_test, y_test))
    x_aug = torch.cat([x] + [shift_images(x, dx, dy) for dx, dy in SHIFTS])
    shifted = torch.cat([shift_images(x_test, dx, dy) for dx, dy in SHIFTS])
    y_shifted = y_test.repeat(len(SHIFTS))
    out = {}
    for name, (xs, ys) in (("plain", (x, y)), ("augmented", (x_aug, y.repeat(len(SHIFTS) + 1)))):
        W, b = softmax_regression(xs, ys, seed=seed)
        out[f"{name}_test"] = accuracy(W, b, x_test, y_test)
        out[f"{name}_shifted"] = accuracy(W, b, shifted, y_shifted)
    return out


# ------------------------------------------------------------------------------------------------ robust losses

def huber_loss(pred: Tensor, target: Tensor, delta: float = 1.0) -> Tensor:
    r"""Mean Huber loss: $\ell_\delta(r) = \frac12 r^2$ for $|r| \le \delta$, $\delta(|r| - \frac12\delta)$ beyond,
    with $r$ = pred - target. Same as ``torch.nn.functional.huber_loss(pred, target, delta=delta)``."""
    if not delta > 0:
        raise ValueError(f"Invalid delta: {delta} (must be > 0)")
    r = (pred - target).abs()
    return torch.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean()


def loss_curves(r: Tensor, delta: float) -> dict[str, tuple[Tensor, Tensor]]:
    """Each loss of a residual $r$ and its derivative by autograd: L2 $\\frac12 r^2$, L1 $|r|$, Huber."""
    out = {}
    for name, fn in (("l2", lambda t: 0.5 * t ** 2), ("l1", torch.abs),
                     ("huber", lambda t: torch.where(t.abs() <= delta, 0.5 * t ** 2, delta * (t.abs() - 0.5 * delta)))):
        t = r.detach().clone().requires_grad_(True)
        value = fn(t)
        (grad,) = torch.autograd.grad(value.sum(), t)
        out[name] = (value.detach(), grad)
    return out


@dataclass(frozen=True)
class LineData:
    x: Tensor
    y: Tensor
    outlier: Tensor     # (n,) bool
    true_w: tuple[float, float]   # (intercept, slope)


def line_with_outliers(n: int, outliers: int, seed: int, *, noise: float = 0.1) -> LineData:
    """$n$ points on $y = 0.5 + 1.0\\,x$ plus noise, of which the last ``outliers`` (at the largest $x$) are pushed
    down by 3 to 5."""
    _check("n", n, 5, MAX_N)
    _check("outliers", outliers, 0, min(MAX_OUTLIERS, n - 2))
    g = generator(seed, "cpu")
    x = torch.sort(torch.rand(n, generator=g, dtype=torch.float64)).values
    y = 0.5 + x + noise * torch.randn(n, generator=g, dtype=torch.float64)
    out = torch.zeros(n, dtype=torch.bool)
    if outliers:
        out[-outliers:] = True
        y[-outliers:] -= 3 + 2 * torch.rand(outliers, generator=g, dtype=torch.float64)
    return LineData(x, y, out, (0.5, 1.0))


def fit_line(x: Tensor, y: Tensor, loss: str, delta: float = 1.0, *, iters: int = 200) -> Tensor:
    r"""Intercept and slope $(b, a)$ minimising $\sum_i \ell(y_i - b - a x_i)$ for ``loss`` "l2" (closed form),
    "l1" or "huber" (iteratively reweighted least squares: weights $\ell'(r)/r$, i.e. 1 inside $\delta$ and
    $\delta/|r|$ outside for Huber, $1/|r|$ for L1)."""
    X = torch.stack([torch.ones_like(x), x], dim=1)
    w = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    if loss == "l2":
        return w
    if loss not in ("l1", "huber"):
        raise ValueError(f"Invalid loss: {loss!r} (allowed: l2, l1, huber)")
    if loss == "huber" and not delta > 0:
        raise ValueError(f"Invalid delta: {delta} (must be > 0)")
    for _ in range(iters):
        r = (y - X @ w).abs()
        weight = 1 / r.clamp(min=1e-8) if loss == "l1" else torch.where(r <= delta, 1.0, delta / r.clamp(min=1e-12))
        sw = weight.sqrt()
        w_new = torch.linalg.lstsq(X * sw[:, None], (y * sw)[:, None]).solution[:, 0]
        if float((w_new - w).abs().max()) < 1e-12:
            return w_new
        w = w_new
    return w
