r"""The classifiers the adversarial-attack lesson fools: a small CNN on the 8x8 digits, its
adversarially trained twin (Madry et al. 2018, "Towards deep learning models resistant to
adversarial attacks"), a two-moons MLP for the 2D geometry view, and the conversion of an
uploaded picture into a digit the CNN can read.

Every model takes pixels (or points) in $[0, 1]$ and normalises them *inside* the model,
so an attack works in the space a person sees and its budget $\varepsilon$ means the same
thing for every model.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from dlcore.device import generator, seeded

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models" / "adversarial"
N_CLASSES = 10
DIGIT_SIDE = 8
MAX_UPLOAD_BYTES = 1 << 20      # 1 MiB: a photo of one digit needs far less
MAX_UPLOAD_PIXELS = 4096 * 4096  # refuse decompression bombs before decoding
WORK_SIDE = 256                  # decoded pictures are shrunk to at most this before any numpy work
UPLOAD_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
UPLOAD_TYPES = ("png", "jpg", "jpeg", "bmp", "gif", "webp")   # the file endings an uploader offers for them
UPLOAD_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA")  # 8-bit modes with an obvious grey value


class Normalize(nn.Module):
    r"""$(x - \mu) / \sigma$ with fixed statistics, as the model's first layer."""

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions, a 2x2 max-pool and two linear layers: (N, 1, 8, 8) in [0, 1] -> (N, 10) logits.

    About 38k parameters (155 KB as float32). Dropout makes ``eval()`` matter, as in real models.
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0, width: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            Normalize(mean, std),
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),             # (N, w, 8, 8)
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),     # (N, 2w, 8, 8)
            nn.MaxPool2d(2),                                          # (N, 2w, 4, 4)
            nn.Flatten(),
            nn.Linear(2 * width * 16, hidden), nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(hidden, N_CLASSES),
        )

    def forward(self, x: Tensor) -> Tensor:
        assert x.dim() == 4 and x.shape[1:] == (1, DIGIT_SIDE, DIGIT_SIDE), \
            f"expected x of shape (N, 1, 8, 8), got {tuple(x.shape)}"
        return self.net(x)


class MoonsMLP(nn.Module):
    """A 2 -> 32 -> 32 -> 2 tanh MLP for points in the unit square (the geometry view)."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            Normalize(0.5, 0.25),
            nn.Linear(2, hidden), nn.Tanh(),
            nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


# ---------------------------------------------------------------------------------------------
# Data in [0, 1]
# ---------------------------------------------------------------------------------------------

def moons_unit(n: int = 400, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""``dlcore.data.two_moons`` mapped into the unit square with one scale for both axes.

    $u = (x_1 + 1.25) / 3.5$, $v = (x_2 - 0.25) / 3.5 + 0.5$: the moons fill $[0.07, 0.93]$
    horizontally, and circles stay circles (the L2 ball is a disc in the figure).
    """
    from dlcore.data import two_moons

    x, y = two_moons(n, noise=noise, seed=seed)
    u = (x[:, 0] + 1.25) / 3.5
    v = (x[:, 1] - 0.25) / 3.5 + 0.5
    return torch.stack([u, v], dim=1).clamp(0.0, 1.0), y


# ---------------------------------------------------------------------------------------------
# Training (used by scripts/train_adversarial.py; never by the page)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3           # Adam; cosine-decayed to 0 over the run
    weight_decay: float = 1e-4
    seed: int = 0
    adv_eps: float = 0.0       # > 0: PGD adversarial training (Madry et al.) at this L-inf radius
    adv_steps: int = 7
    adv_warmup: int = 5        # epochs over which the training radius ramps linearly from 0 to adv_eps


@dataclass(frozen=True)
class TrainHistory:
    epoch: list[int]
    train_loss: list[float]
    test_accuracy: list[float]


def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 512) -> float:
    """Fraction of ``x`` (N, ...) the model labels ``y`` (N,), in eval mode and without gradients."""
    was_training = model.training
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            correct += int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    model.train(was_training)
    return correct / len(x)


def train_digits_cnn(config: TrainConfig, device: torch.device | str = "cpu",
                     attack: Callable[..., Tensor] | None = None) -> tuple[DigitsCNN, TrainHistory]:
    r"""Train a :class:`DigitsCNN` on the digits' train split; optionally adversarially.

    Standard training minimises $\mathbb{E}\,L(f(x), y)$. Adversarial training minimises
    $\mathbb{E}\,\max_{\|\delta\|_\infty \le \varepsilon} L(f(x + \delta), y)$: each batch is
    first attacked with ``attack`` (``dlcore.adversarial.pgd``; passed in so this module does
    not import the attacks) with the model in eval mode, then the model takes one Adam step on
    the adversarial batch. The radius ramps up over ``adv_warmup`` epochs, which keeps the
    first epochs from collapsing to a constant prediction.
    """
    from dlcore.data import digits

    device = torch.device(device)
    x_tr, y_tr = (t.to(device) for t in digits("train"))
    x_te, y_te = (t.to(device) for t in digits("test"))
    mean, std = float(x_tr.mean()), float(x_tr.std())
    # Dropout draws from torch's global RNG: the whole run holds dlcore.device.seeded, so the
    # bundled weights are reproducible (on one CPU thread).
    with seeded(config.seed):
        model = DigitsCNN(mean, std).to(device)
        assert config.adv_eps == 0 or attack is not None, "adversarial training needs an attack function"
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        steps_per_epoch = -(-len(x_tr) // config.batch_size)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * steps_per_epoch)
        g = generator(config.seed, "cpu")
        history = TrainHistory([], [], [])
        loss_fn = nn.CrossEntropyLoss()
        for epoch in range(config.epochs):
            perm = torch.randperm(len(x_tr), generator=g).to(device)
            total = 0.0
            eps = config.adv_eps * min(1.0, (epoch + 1) / max(1, config.adv_warmup))
            for b, i in enumerate(range(0, len(x_tr), config.batch_size)):
                idx = perm[i:i + config.batch_size]
                xb, yb = x_tr[idx], y_tr[idx]
                if config.adv_eps > 0:
                    model.eval()   # the attack sees the deterministic network
                    xb = attack(model, xb, yb, eps=eps, alpha=2.5 * eps / config.adv_steps,
                                steps=config.adv_steps, norm="linf", random_start=True,
                                seed=config.seed * 100_003 + epoch * 1000 + b)
                model.train()
                loss = loss_fn(model(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            history.epoch.append(epoch + 1)
            history.train_loss.append(total / len(x_tr))
            history.test_accuracy.append(accuracy(model, x_te, y_te))
        model.eval()
        return model, history


def train_moons_mlp(steps: int = 1500, lr: float = 1e-2, seed: int = 0,
                    device: torch.device | str = "cpu") -> MoonsMLP:
    """Full-batch Adam on 400 noisy moons points in the unit square; returns the model in eval mode."""
    x, y = (t.to(device) for t in moons_unit(400, noise=0.1, seed=seed))
    with seeded(seed):
        model = MoonsMLP().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


# ---------------------------------------------------------------------------------------------
# Bundled weights
# ---------------------------------------------------------------------------------------------

def _frozen(model: nn.Module, device: torch.device | str) -> nn.Module:
    model = model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)  # attacks differentiate w.r.t. the input only; shared models never train
    return model


def load_digits_cnn(robust: bool = False, device: torch.device | str = "cpu") -> nn.Module:
    """The bundled digits CNN (``robust=True``: the PGD-trained twin) in eval mode with frozen weights.

    Takes x in [0, 1] of shape (N, 1, 8, 8) and returns logits (N, 10).
    Weights: ``assets/models/adversarial/{standard,robust}.pt`` from ``scripts/train_adversarial.py``.
    """
    state = torch.load(MODELS_DIR / ("robust.pt" if robust else "standard.pt"), map_location="cpu",
                       weights_only=True)
    model = DigitsCNN()
    model.load_state_dict(state)
    return _frozen(model, device)


def load_moons_mlp(device: torch.device | str = "cpu") -> nn.Module:
    """The bundled two-moons MLP (``assets/models/adversarial/moons.pt``), eval mode, frozen."""
    model = MoonsMLP()
    model.load_state_dict(torch.load(MODELS_DIR / "moons.pt", map_location="cpu", weights_only=True))
    return _frozen(model, device)


# ---------------------------------------------------------------------------------------------
# An uploaded picture -> an 8x8 digit like the training data
# ---------------------------------------------------------------------------------------------

class ImageRejected(ValueError):
    """An upload that cannot become a digit; ``reason`` names why (an i18n key suffix)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@contextmanager
def checked_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> Iterator[object]:
    """An uploaded file opened as a ``PIL.Image`` after the checks every upload of the app passes, in order: not
    empty, at most ``max_bytes``, one of ``UPLOAD_FORMATS``, at most ``MAX_UPLOAD_PIXELS`` by the size its header
    claims (read before any pixel is decoded), not animated, a mode in ``UPLOAD_MODES``. Raises
    :class:`ImageRejected` (``reason``: empty, too_large, not_image, too_many_pixels, animated, mode)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) == 0:
        raise ImageRejected("empty")
    if len(data) > max_bytes:
        raise ImageRejected("too_large", f"{len(data)} bytes")
    try:
        img = Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS)   # reads the header only: format and size
    except Image.DecompressionBombError as e:   # Pillow's own check: a header claiming > 2 x MAX_IMAGE_PIXELS
        raise ImageRejected("too_many_pixels", str(e)) from e
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ImageRejected("not_image") from e
    with img:
        w, h = img.size
        if w * h > MAX_UPLOAD_PIXELS or w < 1 or h < 1:
            raise ImageRejected("too_many_pixels", f"{w}x{h}")
        if getattr(img, "n_frames", 1) > 1:
            raise ImageRejected("animated", f"{img.n_frames} frames")
        if img.mode not in UPLOAD_MODES:
            raise ImageRejected("mode", img.mode)
        yield img


def image_to_digit(data: bytes) -> Tensor:
    r"""Decode an uploaded image and make it look like the bundled digits: (1, 1, 8, 8) in [0, 1].

    1) refuse anything over ``MAX_UPLOAD_BYTES``, formats other than ``UPLOAD_FORMATS``, more than
       ``MAX_UPLOAD_PIXELS`` by the size the header claims (read before any pixel is decoded), animations
       and modes without a plain 8-bit grey value (CMYK, 16-bit, float);
    2) grey $= 0.299 R + 0.587 G + 0.114 B$ (Pillow's "L"), transparent pixels count as background;
    3) dark ink on light paper is inverted, because the digits are light ink (16) on black (0);
    4) crop to the ink, centre it in a square (the bundled digits touch the top and bottom rows),
       area-average down to 8x8 and stretch so the brightest pixel is 1.
    Raises :class:`ImageRejected`. Pillow (a Streamlit dependency) is imported here only.
    """
    from PIL import Image

    with checked_image(data) as img:
        try:
            small = img.convert("RGBA")
            small.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)   # bounded work after decoding
            rgba = np.asarray(small, dtype=np.float32) / 255.0                # (H, W, 4)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise ImageRejected("not_image") from e
    # 2) grey with alpha: transparent -> the background value of the opaque part
    grey = rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114
    alpha = rgba[..., 3]
    # 3) the border tells paper from ink
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    border_alpha = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    if border_alpha.mean() < 0.5:       # transparent background: ink is whatever is opaque
        ink = alpha * (1.0 - grey) if grey[alpha > 0.5].mean() < 0.5 else alpha * grey
    else:
        paper = float(np.median(border))
        ink = np.abs(grey - paper) * alpha
    if float(ink.max()) < 0.1:
        raise ImageRejected("blank")
    return torch.from_numpy(_to_8x8(ink / ink.max()))[None, None]


def _to_8x8(ink: np.ndarray) -> np.ndarray:
    """Crop to the ink (> 20 % of the maximum), centre it in a square, area-average to 8x8."""
    rows = np.flatnonzero((ink > 0.2).any(axis=1))
    cols = np.flatnonzero((ink > 0.2).any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = -(-max(crop.shape) // DIGIT_SIDE) * DIGIT_SIDE   # the digits fill the 8 rows; a multiple of 8
    canvas = np.zeros((side, side), dtype=np.float32)
    r0, c0 = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    canvas[r0:r0 + crop.shape[0], c0:c0 + crop.shape[1]] = crop
    block = side // DIGIT_SIDE
    small = canvas.reshape(DIGIT_SIDE, block, DIGIT_SIDE, block).mean(axis=(1, 3))
    return (small / max(float(small.max()), 1e-6)).astype(np.float32)
