r"""Generative adversarial networks on toy data and 8x8 digits, trained live (Goodfellow et al. 2014).

The game (seed 001, "GAN"): a generator $G$ maps noise $z \sim p_z$ to samples, a discriminator $D$
tells data from samples, and the two are trained in turn on

$$\min_G \max_D \; V(D, G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))].$$

Training is an explicit state (:class:`GANState`: both networks, their ``torch.optim`` optimizers,
a private random generator and the recorded history) advanced by :func:`train_step`; :func:`train`
runs a whole configuration and yields :class:`Snapshot` s. The losses are one pair of functions per
variant (minimax, non-saturating, least squares, hinge, WGAN, WGAN-GP); the metrics (modes covered,
high-quality fraction, energy distance) follow VEEGAN (Srivastava et al. 2017) and Székely & Rizzo.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import data
from dlcore.device import generator, seeded

# Caps: everything a learner can ask for is bounded here (the page's widgets stay inside them).
MAX_LAYERS = 4
MIN_WIDTH, MAX_WIDTH = 8, 256
MAX_LATENT = 8
MAX_BATCH = 512
MAX_D_STEPS = 5
MAX_STEPS = 5000          # total steps of one run (one learner's session)
MAX_STEPS_PER_TICK = 200  # steps one call of advance() may take
MAX_POINTS = 64           # points a learner may place
POINT_LIMIT = 1.4         # placed points lie in [-POINT_LIMIT, POINT_LIMIT]^2
MAX_SNAPSHOTS = 250
# The budget of one complete run (train): the class server computes it in a training worker while a class waits,
# so no run may take more than about half a minute. Work is counted in multiply-adds (see run_work).
UPDATE_WORK = 15_000_000  # the fixed cost of one optimizer update (~0.5 ms of Python and kernel calls) in multiply-adds
SN_WORK = 3_000_000       # spectral norm's power iteration on one layer of D, per forward pass (~0.1 ms)
WORK_PER_SECOND = 2.5e10  # multiply-adds per second of one CPU thread of the class server, measured with train
MAX_RUN_SECONDS = 30
MAX_RUN_WORK = MAX_RUN_SECONDS * WORK_PER_SECOND

TARGETS = ("ring", "grid", "moons", "spiral", "gaussian", "custom", "mixture1d", "digits")
LOSSES = ("minimax", "nonsat", "lsgan", "hinge", "wgan", "wgan_gp")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu")
NOISES = ("gaussian", "uniform")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
PROBABILITY_LOSSES = ("minimax", "nonsat")  # D ends in a sigmoid: D(x) is a probability

BOUNDS_2D = (-1.5, 1.5)  # every 2D target lies in this square
BOUNDS_1D = (-3.0, 3.0)
MIXTURE_1D = ((0.4, -1.0, 0.3), (0.6, 1.2, 0.3))  # (weight, mean, std) of the 1D data density
DEFAULT_POINTS = "-1,0.5; -0.5,1; 0.8,-0.8; 1,0.6"


@dataclass(frozen=True)
class GANConfig:
    """One GAN experiment. The defaults are the lesson's default run: the ring of 8 Gaussians."""
    target: str = "ring"
    points: str = DEFAULT_POINTS   # "x,y; x,y; ..." for target "custom"
    loss: str = "nonsat"
    spectral_norm: bool = False    # on the discriminator's linear layers
    g_layers: int = 2              # hidden layers
    g_width: int = 64
    d_layers: int = 2
    d_width: int = 64
    activation: str = "leaky_relu"  # with ReLU some seeds lose units and collapse; leaky ReLU covers 8/8 for seeds 0-5
    latent: int = 2
    noise: str = "gaussian"
    opt_g: str = "adam"
    opt_d: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1               # discriminator updates per generator update
    batch: int = 128
    steps: int = 2000              # covers the 8 ring modes in ~3.5 s on one CPU thread
    clip: float = 0.01             # WGAN weight clipping c (Arjovsky et al. 2017)
    gp_weight: float = 0.1         # WGAN-GP lambda; 0.1 is the value of the authors' 2D toy code
    snapshot_every: int = 50
    n_show: int = 512              # generated samples drawn and measured at each snapshot
    seed: int = 0

    def __post_init__(self) -> None:
        for name, options in (("target", TARGETS), ("loss", LOSSES), ("activation", ACTIVATIONS), ("noise", NOISES),
                              ("opt_g", OPTIMIZERS), ("opt_d", OPTIMIZERS)):
            if getattr(self, name) not in options:
                raise ValueError(f"Invalid {name}: {getattr(self, name)!r} (allowed {', '.join(options)})")
        for name, lo, hi in (("g_layers", 1, MAX_LAYERS), ("d_layers", 1, MAX_LAYERS),
                             ("g_width", MIN_WIDTH, MAX_WIDTH), ("d_width", MIN_WIDTH, MAX_WIDTH),
                             ("latent", 1, MAX_LATENT), ("batch", 1, MAX_BATCH), ("d_steps", 1, MAX_D_STEPS),
                             ("steps", 1, MAX_STEPS), ("snapshot_every", 1, MAX_STEPS), ("n_show", 16, 2048),
                             ("gp_weight", 0, 100)):
            if not lo <= getattr(self, name) <= hi:
                raise ValueError(f"Invalid {name}: {getattr(self, name)} (allowed {lo} to {hi})")
        for name in ("lr_g", "lr_d", "clip"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"Invalid {name}: {getattr(self, name)} (allowed 0 < {name} <= 1)")
        if self.steps // self.snapshot_every > MAX_SNAPSHOTS:
            raise ValueError(f"Invalid snapshot_every: {self.snapshot_every} for {self.steps} steps "
                             f"(allowed at most {MAX_SNAPSHOTS} snapshots per run)")
        if self.target == "custom":
            parse_points(self.points)  # raises ValueError with a reason

    @property
    def dim(self) -> int:
        return {"mixture1d": 1, "digits": 64}.get(self.target, 2)


# ---------------------------------------------------------------------------------------------
# Data: a fixed pool of real samples per target; batches are drawn from it with a private RNG.

def parse_points(text: str) -> Tensor:
    """Points typed as ``"x,y; x,y; ..."`` -> float32 (k, 2); ValueError names what is wrong.

    The message is a reason code the page translates: ``empty``, ``format``, ``too_many``, ``range``.
    """
    parts = [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]
    if not parts:
        raise ValueError("empty")
    if len(parts) > MAX_POINTS:
        raise ValueError("too_many")
    pts = []
    for p in parts:
        xy = p.split(",")
        if len(xy) != 2:
            raise ValueError("format")
        try:
            x, y = float(xy[0]), float(xy[1])
        except ValueError as e:
            raise ValueError("format") from e
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > POINT_LIMIT:
            raise ValueError("range")
        pts.append((x, y))
    return torch.tensor(pts, dtype=torch.float32)


@dataclass(frozen=True)
class Target:
    pool: Tensor               # (N, dim) real samples, batches are drawn from these
    centres: Tensor | None     # (K, dim) mode centres, or None for targets without modes (moons, spiral)
    radius: float              # a sample within radius of its nearest centre (or pool point) is high quality
    bounds: tuple[float, float]


def make_target(config: GANConfig, n: int = 4096) -> Target:
    """The real data of ``config.target``: a seeded pool of ``n`` samples, mode centres and the quality radius.

    Mode std s and radius 3s (VEEGAN's "within three standard deviations"): ring s=0.05, grid s=0.03,
    single Gaussian s=0.25, placed points s=0.05, 1D mixture s=0.3. Moons and spiral have no modes: a
    sample is high quality within 0.1 of a real sample. Digits: 10 class means, radius = the 90th
    percentile of real images' distance to their own class mean.
    """
    s = config.seed
    if config.target == "ring":
        return Target(data.ring_of_gaussians(n, 8, 1.0, 0.05, seed=s), data.ring_centres(8, 1.0), 0.15, BOUNDS_2D)
    if config.target == "grid":
        centres = data.grid_centres(5, 0.5)
        return Target(data.grid_of_gaussians(n, 5, 0.5, 0.03, seed=s), centres, 0.09, BOUNDS_2D)
    if config.target == "gaussian":
        centre = torch.tensor([[0.5, 0.5]])
        pool = centre + 0.25 * torch.randn(n, 2, generator=torch.Generator().manual_seed(s))
        return Target(pool, centre, 0.75, BOUNDS_2D)
    if config.target == "custom":
        centres = parse_points(config.points)
        g = torch.Generator().manual_seed(s)
        k = torch.randint(0, len(centres), (n,), generator=g)
        return Target(centres[k] + 0.05 * torch.randn(n, 2, generator=g), centres, 0.15, BOUNDS_2D)
    if config.target == "moons":
        x, _ = data.two_moons(n, noise=0.05, seed=s)
        return Target((x - torch.tensor([0.5, 0.25])) * 0.9, None, 0.1, BOUNDS_2D)
    if config.target == "spiral":
        return Target(data.spiral(n, turns=1.5, noise=0.02, seed=s) * 1.2, None, 0.1, BOUNDS_2D)
    if config.target == "mixture1d":
        g = torch.Generator().manual_seed(s)
        w, mu, sd = (torch.tensor(c) for c in zip(*MIXTURE_1D))
        k = torch.multinomial(w, n, replacement=True, generator=g)
        pool = (mu[k] + sd[k] * torch.randn(n, generator=g))[:, None]
        return Target(pool, mu[:, None], 3 * float(sd.max()), BOUNDS_1D)
    x, y = data.digits("train")
    pool = x.reshape(len(x), 64)
    centres = torch.stack([pool[y == c].mean(0) for c in range(10)])
    own = (pool - centres[y]).norm(dim=1)
    return Target(pool, centres, float(torch.quantile(own, 0.9)), (0.0, 1.0))


def mixture1d_density(x: Tensor) -> Tensor:
    r"""The 1D data density $p_{data}(x) = \sum_k w_k \mathcal{N}(x; \mu_k, \sigma_k^2)$ of MIXTURE_1D."""
    out = torch.zeros_like(x)
    for w, mu, sd in MIXTURE_1D:
        out = out + w * torch.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    return out


# ---------------------------------------------------------------------------------------------
# Networks

def mlp(n_in: int, n_out: int, layers: int, width: int, activation: str) -> nn.Sequential:
    """``layers`` hidden Linear+activation blocks of ``width`` units, then a Linear to ``n_out``."""
    act = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}[activation]
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(n_in if i == 0 else width, width), act()]
    mods.append(nn.Linear(width if layers else n_in, n_out))
    return nn.Sequential(*mods)


def make_generator(config: GANConfig) -> nn.Sequential:
    """$G: \\mathbb{R}^{latent} \\to \\mathbb{R}^{dim}$; a final sigmoid keeps digit pixels in [0, 1]."""
    net = mlp(config.latent, config.dim, config.g_layers, config.g_width, config.activation)
    if config.target == "digits":
        net.append(nn.Sigmoid())
    return net


def make_discriminator(config: GANConfig) -> nn.Sequential:
    r"""$D: \mathbb{R}^{dim} \to \mathbb{R}$, a raw score (a logit for minimax / non-saturating).

    With ``spectral_norm`` every Linear weight is divided by its largest singular value $\sigma(W)$,
    estimated by one power iteration per training forward pass
    (``torch.nn.utils.parametrizations.spectral_norm``, Miyato et al. 2018): D becomes 1-Lipschitz
    for 1-Lipschitz activations.
    """
    net = mlp(config.dim, 1, config.d_layers, config.d_width, config.activation)
    if config.spectral_norm:
        for i, m in enumerate(net):
            if isinstance(m, nn.Linear):
                net[i] = nn.utils.parametrizations.spectral_norm(m)
    return net


def make_optimizer(kind: str, params, lr: float) -> torch.optim.Optimizer:
    """Adam with beta1 = 0.5 (the DCGAN setting: less momentum suits a moving target), plain SGD, or RMSprop
    (the WGAN paper's choice)."""
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.RMSprop(params, lr=lr)


def sample_noise(n: int, latent: int, kind: str, gen: torch.Generator, device: torch.device | str) -> Tensor:
    """$z \\sim \\mathcal{N}(0, I)$ or $z \\sim U(-1, 1)^{latent}$, shape (n, latent), from the private ``gen``."""
    if kind == "gaussian":
        return torch.randn(n, latent, generator=gen, device=device)
    return 2 * torch.rand(n, latent, generator=gen, device=device) - 1


# ---------------------------------------------------------------------------------------------
# Losses. Arguments are D's raw outputs: r = D(x) on real samples, f = D(G(z)) on generated ones.
# For minimax / non-saturating, D(x) = sigmoid(r) and log sigmoid(r) = -softplus(-r) (numerically safe).

def minimax_d_loss(r: Tensor, f: Tensor) -> Tensor:
    r"""D's loss in the original game: $-\mathbb{E}[\log D(x)] - \mathbb{E}[\log(1 - D(G(z)))]$
    (binary cross-entropy)."""
    return F.softplus(-r).mean() + F.softplus(f).mean()


def minimax_g_loss(f: Tensor) -> Tensor:
    r"""G's loss in the original game: $\mathbb{E}[\log(1 - D(G(z)))]$; it saturates when D rejects fakes
    ($D \to 0$)."""
    return -F.softplus(f).mean()


def nonsat_g_loss(f: Tensor) -> Tensor:
    r"""The non-saturating generator loss $-\mathbb{E}[\log D(G(z))]$ (Goodfellow et al. 2014, sec. 3)."""
    return F.softplus(-f).mean()


def lsgan_d_loss(r: Tensor, f: Tensor) -> Tensor:
    r"""Least squares (Mao et al. 2017, a=0, b=c=1):
    $\tfrac12\mathbb{E}[(D(x)-1)^2] + \tfrac12\mathbb{E}[D(G(z))^2]$."""
    return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean()


def lsgan_g_loss(f: Tensor) -> Tensor:
    r"""Least squares generator loss $\tfrac12\mathbb{E}[(D(G(z))-1)^2]$."""
    return 0.5 * ((f - 1) ** 2).mean()


def hinge_d_loss(r: Tensor, f: Tensor) -> Tensor:
    r"""Hinge loss: $\mathbb{E}[\max(0, 1 - D(x))] + \mathbb{E}[\max(0, 1 + D(G(z)))]$."""
    return F.relu(1 - r).mean() + F.relu(1 + f).mean()


def wasserstein_d_loss(r: Tensor, f: Tensor) -> Tensor:
    r"""The critic's loss $\mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]$: minus the Wasserstein-1 estimate
    (Arjovsky et al. 2017)."""
    return f.mean() - r.mean()


def wasserstein_g_loss(f: Tensor) -> Tensor:
    r"""Generator loss of WGAN, WGAN-GP and hinge: $-\mathbb{E}[D(G(z))]$."""
    return -f.mean()


def gradient_penalty(D: nn.Module, x: Tensor, x_fake: Tensor, eps: Tensor) -> Tensor:
    r"""WGAN-GP's penalty $\mathbb{E}_{\hat x}[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2]$
    (Gulrajani et al. 2017).

    $\hat x = \epsilon x + (1 - \epsilon)\tilde x$ with $\epsilon \sim U[0, 1]$ per sample.
    x: real (B, dim); x_fake: generated $\tilde x$ (B, dim); eps: (B, 1). The graph is kept
    (``create_graph=True``) so the penalty can be differentiated with respect to D's weights.
    """
    x_hat = (eps * x + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


LOSS_FUNCTIONS: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "minimax": (minimax_d_loss, minimax_g_loss),
    "nonsat": (minimax_d_loss, nonsat_g_loss),
    "lsgan": (lsgan_d_loss, lsgan_g_loss),
    "hinge": (hinge_d_loss, wasserstein_g_loss),
    "wgan": (wasserstein_d_loss, wasserstein_g_loss),
    "wgan_gp": (wasserstein_d_loss, wasserstein_g_loss),
}


def d_output(config: GANConfig, raw: Tensor) -> Tensor:
    """What the lesson plots as D(x): the probability sigmoid(raw) for minimax / non-saturating, else the raw score."""
    return torch.sigmoid(raw) if config.loss in PROBABILITY_LOSSES else raw


# ---------------------------------------------------------------------------------------------
# Metrics

def mode_coverage(samples: Tensor, centers: Tensor, radius: float) -> tuple[int, float]:
    """(modes covered, high-quality fraction) of ``samples`` (n, dim) around ``centers`` (K, dim).

    A sample is high quality when it lies within ``radius`` of its nearest centre; a mode is covered
    when at least n / (4K) high-quality samples have it as their nearest centre (VEEGAN's criteria).
    For modes further than 2 * radius apart "nearest centre" is the same as "within radius of it".
    """
    n, K = len(samples), len(centers)
    dist = torch.cdist(samples.double(), centers.double())  # (n, K)
    nearest, k = dist.min(dim=1)
    good = nearest <= radius
    counts = torch.bincount(k[good], minlength=K)
    return int((counts >= n / (4 * K)).sum()), float(good.double().mean())


def near_fraction(samples: Tensor, reference: Tensor, radius: float) -> float:
    """Fraction of ``samples`` within ``radius`` of some ``reference`` point (quality for targets without modes)."""
    return float((torch.cdist(samples.double(), reference.double()).min(dim=1).values <= radius).double().mean())


def energy_distance(x: Tensor, y: Tensor, yy: float | None = None) -> float:
    r"""The squared energy distance
    $2\mathbb{E}\lVert X-Y\rVert - \mathbb{E}\lVert X-X'\rVert - \mathbb{E}\lVert Y-Y'\rVert$ between
    the empirical distributions of x (n, dim) and y (m, dim) (Székely & Rizzo).

    Zero exactly when the two distributions are equal; for 1D data its square root is
    ``scipy.stats.energy_distance``. ``yy``: $\mathbb{E}\lVert Y-Y'\rVert$ if already known (a fixed y).
    """
    y = y.to(x.dtype)  # float32 in training (a metric), float64 when tests ask for it
    if yy is None:
        yy = float(torch.cdist(y, y).mean())
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean()) - yy


def gaussian_kde(samples: Tensor, grid: Tensor) -> Tensor:
    r"""Density estimate $\hat p(x) = \frac{1}{nh}\sum_i \phi\big(\frac{x - x_i}{h}\big)$ of 1D ``samples`` (n,)
    on ``grid`` (m,).

    Bandwidth by Silverman's rule $h = 0.9\,\min(\hat\sigma, \mathrm{IQR}/1.34)\, n^{-1/5}$ (floored at 1e-3).
    """
    s = samples.double()
    q = torch.quantile(s, torch.tensor([0.25, 0.75], dtype=torch.float64, device=s.device))
    spread = min(float(s.std()), float(q[1] - q[0]) / 1.34)
    h = max(0.9 * spread * len(s) ** -0.2, 1e-3)
    u = (grid.double()[:, None] - s[None, :]) / h
    return (torch.exp(-0.5 * u**2).sum(1) / (len(s) * h * math.sqrt(2 * math.pi))).to(grid.dtype)


def is_mode_collapse(modes_covered: int | None, n_modes: int | None, hq_fraction: float) -> bool:
    """Mode collapse: most samples are good (>= 50% high quality) but at most half of the modes get any."""
    if modes_covered is None or not n_modes or n_modes < 2:
        return False
    return hq_fraction >= 0.5 and modes_covered <= n_modes // 2


# ---------------------------------------------------------------------------------------------
# Training state and one step

@dataclass
class Snapshot:
    """What the lesson draws at one step (numpy, on the CPU)."""
    step: int
    d_loss: float
    g_loss: float
    fake: np.ndarray                  # (n_show, dim) samples from G at the fixed display noise (digits: 32)
    d_grid: np.ndarray | None         # 2D: D on the grid (R, R); 1D: D on the line (R,); digits: D on the first samples
    manifold: np.ndarray | None       # 2D: G on a latent grid (L, L, 2), lines of constant z_1 / z_2
    arrows: np.ndarray | None         # 2D: -dL_G/dx on the first samples (m, 2): where G pushes them
    pg_density: np.ndarray | None     # 1D: KDE of the generated samples on the line (R,)
    modes_covered: int | None
    n_modes: int | None
    hq_fraction: float
    distance: float                   # energy distance between generated and real samples


@dataclass
class GANState:
    """Everything a run needs to continue: the models, their optimizers, the RNG and the records."""
    config: GANConfig
    G: nn.Module
    D: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    gen: torch.Generator
    target: Target
    z_show: Tensor                     # fixed display noise (n_show, latent)
    real_show: Tensor                  # fixed real samples the metrics compare with (n_show, dim)
    real_spread: float                 # E|Y - Y'| over real_show (the constant term of the energy distance)
    grid: Tensor                       # points where D is drawn: (R*R, 2), (R, 1), or none (0, 64) for digits
    step: int = 0
    curves: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in CURVES})
    history: list[Snapshot] = field(default_factory=list)
    diverged_at: int | None = None     # step whose loss was not finite; the run stops there
    latest: Snapshot | None = None     # the snapshot at ``step`` (see current_snapshot)

    @property
    def done(self) -> bool:
        """The run has reached its step count or stopped at a non-finite loss."""
        return self.step >= self.config.steps or self.diverged_at is not None


CURVES = ("d_loss", "g_loss", "d_grad", "g_grad")
GRID_2D = 40
GRID_1D = 200
ARROWS = 64
MANIFOLD = 15
DIGITS_SHOWN = 32


def init_state(config: GANConfig, device: torch.device | str = "cpu") -> GANState:
    """Fresh networks (seeded), optimizers, private RNG, fixed display noise and the step-0 snapshot."""
    with seeded(config.seed):
        G, D = make_generator(config).to(device), make_discriminator(config).to(device)
    gen = generator(config.seed, device)
    target = make_target(config)
    target = replace(target, pool=target.pool.to(device),
                     centres=None if target.centres is None else target.centres.to(device))
    show_gen = generator(config.seed + 1, device)
    z_show = sample_noise(config.n_show, config.latent, config.noise, show_gen, device)
    real_show = target.pool[torch.randint(0, len(target.pool), (config.n_show,), generator=show_gen,
                                          device=device)]
    lo, hi = target.bounds
    if config.dim == 2:
        c = torch.linspace(lo, hi, GRID_2D, device=device)
        gx, gy = torch.meshgrid(c, c, indexing="xy")
        grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    elif config.dim == 1:
        grid = torch.linspace(lo, hi, GRID_1D, device=device)[:, None]
    else:
        grid = torch.zeros(0, config.dim, device=device)  # digits: D is shown on the samples instead
    state = GANState(config, G, D, make_optimizer(config.opt_g, G.parameters(), config.lr_g),
                     make_optimizer(config.opt_d, D.parameters(), config.lr_d), gen, target, z_show, real_show,
                     float(torch.cdist(real_show, real_show).mean()), grid)
    state.history.append(snapshot(state, float("nan"), float("nan")))
    return state


def _grad_norm(module: nn.Module) -> Tensor:
    """L2 norm of all of ``module``'s gradients together (what clip_grad_norm_ would clip)."""
    return torch.linalg.vector_norm(torch.cat([p.grad.reshape(-1) for p in module.parameters() if p.grad is not None]))


def train_step(state: GANState) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One round of the game: ``d_steps`` updates of D, then one of G (Goodfellow et al. 2014, Algorithm 1).

    Returns (D loss, G loss, D's gradient norm, G's gradient norm) as 0-d tensors of the last updates.
    1) D: ascend V (descend its loss) on a real batch and a generated batch, G fixed;
       WGAN clips D's weights to [-c, c] afterwards, WGAN-GP adds lambda * gradient_penalty.
    2) G: descend its loss on a fresh generated batch, D fixed (its weights get no gradient).
    """
    cfg, G, D, gen = state.config, state.G, state.D, state.gen
    d_loss_fn, g_loss_fn = LOSS_FUNCTIONS[cfg.loss]
    pool, dev = state.target.pool, state.z_show.device
    for _ in range(cfg.d_steps):  # 1)
        x = pool[torch.randint(0, len(pool), (cfg.batch,), generator=gen, device=dev)]
        with torch.no_grad():
            x_fake = G(sample_noise(cfg.batch, cfg.latent, cfg.noise, gen, dev))
        scores = D(torch.cat([x, x_fake]))  # one pass over both batches: the MLP treats rows independently
        loss_d = d_loss_fn(scores[: cfg.batch], scores[cfg.batch:])
        if cfg.loss == "wgan_gp":
            eps = torch.rand(cfg.batch, 1, generator=gen, device=dev)
            loss_d = loss_d + cfg.gp_weight * gradient_penalty(D, x, x_fake, eps)
        state.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        d_grad = _grad_norm(D)
        state.opt_d.step()
        if cfg.loss == "wgan":
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-cfg.clip, cfg.clip)
    D.requires_grad_(False)  # 2)
    loss_g = g_loss_fn(D(G(sample_noise(cfg.batch, cfg.latent, cfg.noise, gen, dev))))
    state.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    D.requires_grad_(True)
    g_grad = _grad_norm(G)
    state.opt_g.step()
    return loss_d.detach(), loss_g.detach(), d_grad, g_grad


def advance(state: GANState, max_steps: int, time_budget_s: float | None = None) -> int:
    """Run up to ``max_steps`` steps (capped at MAX_STEPS_PER_TICK and the run's end), or until
    ``time_budget_s`` has passed; record curves every step and a snapshot every ``snapshot_every``.

    A non-finite loss stops the run: ``diverged_at`` is set and the history keeps the last good snapshot.
    Returns the number of steps taken.
    """
    cfg = state.config
    n = min(max_steps, MAX_STEPS_PER_TICK, cfg.steps - state.step)
    if state.diverged_at is not None or n <= 0:
        return 0
    t0 = time.perf_counter()
    taken = 0
    pending: list[Tensor] = []
    for _ in range(n):
        pending.append(torch.stack(train_step(state)))
        state.step += 1
        taken += 1
        at_snapshot = state.step % cfg.snapshot_every == 0 or state.step == cfg.steps
        if at_snapshot or (time_budget_s is not None and time.perf_counter() - t0 > time_budget_s):
            if not _record(state, pending):
                return taken
            pending = []
            if at_snapshot:
                state.history.append(snapshot(state, state.curves["d_loss"][-1], state.curves["g_loss"][-1]))
            if time_budget_s is not None and time.perf_counter() - t0 > time_budget_s:
                break
    _record(state, pending)
    return taken


def _record(state: GANState, pending: list[Tensor]) -> bool:
    """Move logged values to the CPU in one transfer; False (and ``diverged_at``) at a non-finite loss."""
    if not pending:
        return True
    logs = torch.stack(pending).cpu().double().numpy()  # (steps, 4)
    first = state.step - len(pending) + 1
    bad = ~np.isfinite(logs).all(axis=1)
    keep = int(np.argmax(bad)) if bad.any() else len(logs)
    for j, name in enumerate(CURVES):
        state.curves[name].extend(logs[:keep, j].tolist())
    if bad.any():
        state.diverged_at = first + keep
        state.step = first + keep - 1
        return False
    return True


def snapshot(state: GANState, d_loss: float, g_loss: float) -> Snapshot:
    """Sample G at the fixed display noise, evaluate D where it is drawn, and measure (no RNG used).

    Networks are put in eval mode so spectral norm does not run a power iteration here: taking a
    snapshot never changes the training run.
    """
    cfg, G, D = state.config, state.G, state.D
    G.eval()
    D.eval()
    try:
        with torch.no_grad():
            fake = G(state.z_show)
            d_grid = d_output(cfg, D(state.grid if cfg.dim <= 2 else fake[:DIGITS_SHOWN])).squeeze(1)
        manifold = arrows = pg = None
        if cfg.dim == 2:
            d_grid = d_grid.reshape(GRID_2D, GRID_2D)
            manifold = _manifold(state)
            x = fake[:ARROWS].clone().requires_grad_(True)
            D.requires_grad_(False)
            (grad,) = torch.autograd.grad(LOSS_FUNCTIONS[cfg.loss][1](D(x)) * len(x), x)
            D.requires_grad_(True)
            arrows = -grad
        elif cfg.dim == 1:
            pg = gaussian_kde(fake[:, 0], state.grid[:, 0])
        t = state.target
        if t.centres is not None:
            covered, hq = mode_coverage(fake, t.centres, t.radius)
            n_modes = len(t.centres)
        else:
            covered, n_modes, hq = None, None, near_fraction(fake, t.pool[:2048], t.radius)
        dist = energy_distance(fake, state.real_show, state.real_spread)
    finally:
        G.train()
        D.train()

    def cpu(a: Tensor | None) -> np.ndarray | None:
        return None if a is None else a.detach().float().cpu().numpy()

    kept = fake if cfg.dim <= 2 else fake[:DIGITS_SHOWN]  # digits: keep only the images drawn (memory per session)
    return Snapshot(state.step, d_loss, g_loss, cpu(kept), cpu(d_grid), cpu(manifold), cpu(arrows), cpu(pg),
                    covered, n_modes, hq, dist)


def _manifold(state: GANState) -> Tensor:
    """G on a MANIFOLD x MANIFOLD grid over the first two latent coordinates (the rest 0): (L, L, 2)."""
    cfg = state.config
    span = 2.0 if cfg.noise == "gaussian" else 1.0
    c = torch.linspace(-span, span, MANIFOLD, device=state.z_show.device)
    if cfg.latent == 1:
        z = c[:, None].repeat(MANIFOLD, 1)
    else:
        a, b = torch.meshgrid(c, c, indexing="ij")
        z = torch.zeros(MANIFOLD * MANIFOLD, cfg.latent, device=c.device)
        z[:, 0], z[:, 1] = a.reshape(-1), b.reshape(-1)
    with torch.no_grad():
        return state.G(z).reshape(MANIFOLD, MANIFOLD, 2)


def current_snapshot(state: GANState) -> Snapshot:
    """The snapshot at the current step (the last good one after a divergence); computed once per step."""
    if state.diverged_at is not None or state.history[-1].step == state.step:
        return state.history[-1]
    if state.latest is None or state.latest.step != state.step:
        state.latest = snapshot(state, state.curves["d_loss"][-1], state.curves["g_loss"][-1])
    return state.latest


def latent_walk(state: GANState, n: int = 10) -> np.ndarray:
    """G along the straight line between the first two display noise vectors: (n, dim) on the CPU."""
    t = torch.linspace(0, 1, n, device=state.z_show.device)[:, None]
    z = (1 - t) * state.z_show[0] + t * state.z_show[1]
    state.G.eval()
    with torch.no_grad():
        out = state.G(z)
    state.G.train()
    return out.cpu().numpy()


def retune(state: GANState, config: GANConfig) -> bool:
    """Apply new learning rates, D steps or run length to a running game, if nothing else changed.

    Returns False when ``config`` changes anything else (the page then starts a new run).
    """
    live = ("lr_g", "lr_d", "d_steps", "steps")
    same = replace(config, **{k: getattr(state.config, k) for k in live})
    if same != state.config or config.steps < state.step or config.steps // config.snapshot_every > MAX_SNAPSHOTS:
        return False
    for group in state.opt_g.param_groups:
        group["lr"] = config.lr_g
    for group in state.opt_d.param_groups:
        group["lr"] = config.lr_d
    state.config = config
    return True


def resume(state: GANState | None, config: GANConfig, device: torch.device | str) -> GANState:
    """``state`` retuned to ``config`` (see :func:`retune`) if it runs on ``device``; otherwise a fresh run."""
    if state is not None and state.z_show.device.type == torch.device(device).type and retune(state, config):
        return state
    return init_state(config, device)


def mlp_work(n_in: int, n_out: int, layers: int, width: int) -> int:
    """Multiply-adds of one row through ``mlp(n_in, n_out, layers, width)``."""
    return n_in * width + (layers - 1) * width * width + width * n_out


def run_work(config: GANConfig) -> float:
    r"""The work of a complete run of ``config`` (:func:`train`), in multiply-adds: what the run budget counts.

    One :func:`train_step` with batch $B$, $k$ = ``d_steps`` and per-row costs $g$ (G) and $d$ (D) does
    $k\,(B g + 3 \cdot 2B\,d\,[+\,5 B d]) + 3 B (g + d)$ multiply-adds: a backward pass costs about two forward
    passes, D sees a real and a generated batch, and WGAN-GP's penalty (in brackets) differentiates D twice.
    Each optimizer update adds UPDATE_WORK (the penalty's second backward counts as one more), and with spectral
    norm each pass through D adds SN_WORK per layer: fixed costs that are most of the cost of small networks.
    Snapshots are small next to this and not counted.
    """
    B, k = config.batch, config.d_steps
    g = mlp_work(config.latent, config.dim, config.g_layers, config.g_width)
    d = mlp_work(config.dim, 1, config.d_layers, config.d_width)
    fixed = UPDATE_WORK + (SN_WORK * (config.d_layers + 1) if config.spectral_norm else 0)   # per pass through D
    d_update = B * g + 6 * B * d + fixed + (5 * B * d + fixed if config.loss == "wgan_gp" else 0)
    g_update = 3 * B * (g + d) + fixed
    return float(config.steps * (k * d_update + g_update))


def check_run(config: GANConfig) -> None:
    """Raise ValueError if a complete run of ``config`` is over the budget (MAX_RUN_WORK: about MAX_RUN_SECONDS)."""
    work = run_work(config)
    if work > MAX_RUN_WORK:
        raise ValueError(f"Invalid run: {work:.3g} multiply-adds, about {work / WORK_PER_SECOND:.0f} s "
                         f"(allowed at most {MAX_RUN_WORK:.3g}, {MAX_RUN_SECONDS} s): fewer steps or D steps, "
                         "a smaller batch or smaller networks")


def train(config: GANConfig, device: torch.device | str = "cpu") -> Iterator[Snapshot]:
    """Run ``config`` from scratch: yields the step-0 snapshot, one every ``snapshot_every`` steps, and the last.

    Refuses (ValueError, before any work) a run over the budget (:func:`check_run`). Stops early (after the last
    good snapshot) if a loss becomes non-finite.
    """
    check_run(config)
    return _snapshots(init_state(config, device))


def run_steps(state: GANState, n: int) -> GANState:
    """Advance ``state`` by up to ``n`` steps (:func:`advance`) and hand it back: one chunk of a complete run, for a
    training worker, so that the page can show the run's progress between chunks. Chunk after chunk from
    :func:`init_state` gives the snapshots :func:`train` yields, number for number."""
    advance(state, n)
    return state


def _snapshots(state: GANState) -> Iterator[Snapshot]:
    yield state.history[0]
    seen = 1
    while not state.done:
        advance(state, MAX_STEPS_PER_TICK)
        yield from state.history[seen:]
        seen = len(state.history)
