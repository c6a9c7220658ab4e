r"""CNNs that learn: weight sharing and pooling, LeNet to ResNet, residual connections and the spatial transformer
(Hung-yi Lee, *Machine Learning*, ch. 5; review notes "Typical CNNs"; CS231n §5 and §9; d2l ch. 6-7).

The data are scikit-learn's 8x8 digits, each centred on a blank 16x16 canvas (a 4-pixel margin, no upsampling),
so a shift of up to 4 pixels keeps the whole digit: $x \in [0, 1]^{1\times 16\times 16}$.

A residual block computes $y = \mathrm{ReLU}(F(x) + x)$; the spatial transformer's grid generator maps every output
pixel's normalised coordinates $(x^t, y^t)$ to input coordinates $(x^s, y^s)^\top = \theta\,(x^t, y^t, 1)^\top$,
and its bilinear sampler reads the input there:
$V = \sum_{n,m} U_{nm}\,\max(0, 1 - |x^s - m|)\,\max(0, 1 - |y^s - n|)$ (pixel units).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import data
from dlcore.classifiers import Normalize
from dlcore.device import generator, seeded

SIDE = 16                # the canvas the digits sit on
DIGIT = 8                # the digits' own side
MARGIN = (SIDE - DIGIT) // 2
MAX_SHIFT = 4            # a shift up to the margin keeps the whole digit on the canvas
MAX_STEPS = 600          # training steps of one run
MAX_BATCH = 128
MAX_LR = 1.0
MAX_WIDTH = 32           # channels of the first conv layer of the small CNN
MAX_HIDDEN = 256         # hidden units of the MLP
MAX_DEPTH = 32           # conv layers of the plain / residual nets
DEPTHS = (8, 20, 32)
MAX_THETA = 3.0          # |entries| of the spatial transformer's theta
MAX_OUT = 256            # side of the spatial transformer's output
MODELS = ("mlp", "cnn_flat", "cnn_gap")                                  # why convolution
ZOO = ("lenet", "alexnet", "vgg", "nin", "inception", "resnet")          # the architecture zoo
OPTIMIZERS = ("adam", "sgd")
SOURCE, TARGET = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)       # fine-tuning: pretrain on 0-4, fine-tune on 5-9
MAX_SHOTS = 50                                          # labelled examples per class when fine-tuning
FINE_TUNE_METHODS = ("scratch", "frozen", "full")
DIVERGED_LOSS = 10 * math.log(10)   # ten times the loss of guessing uniformly: the run has diverged
INPUT_STD = 0.25         # the models divide the pixels by this first (the canvas digits' std is 0.23)
MAX_ROTATION = 90.0      # degrees of a random distortion (augmentation, the distorted test set)
MAX_DISTORT_SHIFT = 3.0  # pixels of a random distortion's shift
MIN_TRAIN = 20           # fewest training digits a run may use (n_train)
TEST_SEED = 2024         # the distorted test set's private generator: the same digits for every run and seed


# ---------------------------------------------------------------- the three named pieces of the issue

def lenet5(n_classes: int = 10) -> nn.Sequential:
    r"""LeNet-5 as in d2l: a padded 28x28 (equivalently 32x32) greyscale image, sigmoid and average pooling.

    C1 5x5 conv, 6 channels (padding 2) -> S2 2x2 average pool -> C3 5x5 conv, 16 channels -> S4 2x2 average pool
    -> F5 400 -> 120 -> F6 84 -> 10. Parameters: 156 + 2416 + 48120 + 10164 + 850 = 61,706.
    """
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),     # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),                # (N, 16, 5, 5)
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, n_classes))


class ResidualBlock(nn.Module):
    r"""$y = \mathrm{ReLU}(F(x) + x)$ with $F$ = 3x3 conv -> BN -> ReLU -> 3x3 conv -> BN (He et al. 2016).

    The shortcut is the identity (same channels, same size), so it has no weights: with every weight of
    ``branch`` zero, $F(x) = 0$ and a non-negative $x$ comes out unchanged.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.branch(x) + x)     # y = F(x) + x, then ReLU


def residual_block(channels: int) -> ResidualBlock:
    """A residual block with ``channels`` in and out (see :class:`ResidualBlock`)."""
    if not 1 <= channels <= 512:
        raise ValueError(f"Invalid channels: {channels} (allowed 1 to 512)")
    return ResidualBlock(channels)


def affine_grid(theta: Tensor, size: tuple[int, int, int, int], align_corners: bool = False) -> Tensor:
    r"""The grid generator: where each output pixel samples the input, in normalised coordinates.

    Output pixel $(i, j)$ of an $H\times W$ output sits at $x^t_j = (2j + 1)/W - 1$, $y^t_i = (2i + 1)/H - 1$
    (pixel centres; with ``align_corners`` $x^t_j = -1 + 2j/(W - 1)$: the corner pixels' centres at $\pm 1$), and
    samples at $(x^s, y^s)^\top = \theta\,(x^t, y^t, 1)^\top$. theta: (N, 2, 3); size: (N, C, H, W) of the output.
    Returns (N, H, W, 2) holding $(x^s, y^s)$, as ``F.affine_grid``.
    """
    N, _, H, W = size

    def base(n: int) -> Tensor:
        k = torch.arange(n, dtype=theta.dtype, device=theta.device)
        if align_corners:
            return -1 + 2 * k / max(n - 1, 1) if n > 1 else torch.zeros(1, dtype=theta.dtype, device=theta.device)
        return (2 * k + 1) / n - 1

    yt, xt = torch.meshgrid(base(H), base(W), indexing="ij")                    # (H, W)
    target = torch.stack([xt, yt, torch.ones_like(xt)], dim=-1)                # (H, W, 3)
    return torch.einsum("nrc,hwc->nhwr", theta, target)                        # (N, H, W, 2)


def bilinear_sample(image: Tensor, grid: Tensor, align_corners: bool = False) -> Tensor:
    r"""The bilinear sampler: read ``image`` (N, C, H_in, W_in) at ``grid`` (N, H, W, 2), zeros outside.

    Normalised $x^s$ becomes the pixel column $m^s = ((x^s + 1) W_{in} - 1)/2$ (``align_corners``:
    $(x^s + 1)(W_{in} - 1)/2$), likewise the row, and
    $V = \sum_{n,m} U_{nm} \max(0, 1 - |m^s - m|) \max(0, 1 - |n^s - n|)$: the four nearest pixels, weighted by
    closeness. The weights are piecewise linear in $(x^s, y^s)$, so $V$ has a gradient with respect to $\theta$.
    Same as ``F.grid_sample(mode="bilinear", padding_mode="zeros")``.
    """
    N, C, Hi, Wi = image.shape
    gx, gy = grid[..., 0], grid[..., 1]                                        # (N, H, W)
    if align_corners:
        mx, my = (gx + 1) * (Wi - 1) / 2, (gy + 1) * (Hi - 1) / 2
    else:
        mx, my = ((gx + 1) * Wi - 1) / 2, ((gy + 1) * Hi - 1) / 2
    x0, y0 = torch.floor(mx), torch.floor(my)
    out = image.new_zeros(N, C, *grid.shape[1:3])
    flat = image.reshape(N, C, Hi * Wi)
    for dx in (0, 1):
        for dy in (0, 1):
            xs, ys = x0 + dx, y0 + dy
            w = (1 - (mx - xs).abs()) * (1 - (my - ys).abs())                 # bilinear weight, >= 0
            inside = (xs >= 0) & (xs <= Wi - 1) & (ys >= 0) & (ys <= Hi - 1)   # zeros outside the image
            idx = (ys.clamp(0, Hi - 1) * Wi + xs.clamp(0, Wi - 1)).long().reshape(N, 1, -1).expand(N, C, -1)
            pix = flat.gather(2, idx).reshape(out.shape)
            out = out + pix * (w * inside).unsqueeze(1)
    return out


def affine_sample(image: Tensor, theta: Tensor, align_corners: bool = False,
                  out_size: tuple[int, int] | None = None) -> Tensor:
    r"""The spatial transformer's sampling: grid generator + bilinear sampler, written out by hand.

    image: U, (N, C, H, W) or (C, H, W) or (H, W); theta: $\theta$, (N, 2, 3) or (2, 3). The output has the input's
    size unless ``out_size`` (H, W) is given. Equal to
    ``F.grid_sample(image, F.affine_grid(theta, size, align_corners), align_corners=align_corners)`` with
    PyTorch's defaults (bilinear, zero padding); ``align_corners=False`` (PyTorch's default) is the one the lab
    uses. The identity $\theta = [[1, 0, 0], [0, 1, 0]]$ returns the image.
    """
    dims = image.dim()
    if dims not in (2, 3, 4):
        raise ValueError(f"Invalid image shape: {tuple(image.shape)} (expected (H, W), (C, H, W) or (N, C, H, W))")
    x = image.reshape((1,) * (4 - dims) + tuple(image.shape))
    th = theta.reshape(-1, 2, 3).to(x.dtype)
    if th.shape[0] != x.shape[0]:
        raise ValueError(f"Invalid theta: {th.shape[0]} matrices for {x.shape[0]} images")
    H, W = out_size or x.shape[-2:]
    if not (1 <= H <= MAX_OUT and 1 <= W <= MAX_OUT):
        raise ValueError(f"Invalid output size: {(H, W)} (allowed 1 to {MAX_OUT})")
    grid = affine_grid(th, (x.shape[0], x.shape[1], H, W), align_corners)
    out = bilinear_sample(x, grid, align_corners)
    return out.reshape(tuple(image.shape[:-2]) + (H, W)) if dims < 4 else out


def theta_from(rotation: float = 0.0, scale: float = 1.0, shear: float = 0.0, tx: float = 0.0,
               ty: float = 0.0) -> Tensor:
    r"""$\theta = [R(\alpha)\,\mathrm{diag}(s, s)\,\begin{pmatrix}1 & h\\ 0 & 1\end{pmatrix} \mid t]$: the 2x3
    matrix the sliders set.

    rotation: $\alpha$ in degrees; scale: $s$; shear: $h$; (tx, ty): $t$ in normalised units (1 = half the image).
    $\theta$ maps *output* coordinates to *input* coordinates, so scale 2 reads twice as large a region (the digit
    looks half as big) and a rotation by $+\alpha$ of the grid turns the picture by $-\alpha$.
    """
    for name, value, lo, hi in (("rotation", rotation, -180, 180), ("scale", scale, 0.1, 3.0),
                                ("shear", shear, -2.0, 2.0), ("tx", tx, -2.0, 2.0), ("ty", ty, -2.0, 2.0)):
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ValueError(f"Invalid {name}: {value} (allowed {lo} to {hi})")
    a = math.radians(rotation)
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
    lin = rot @ torch.tensor([[scale, 0.0], [0.0, scale]], dtype=torch.float64) @ torch.tensor(
        [[1.0, shear], [0.0, 1.0]], dtype=torch.float64)
    return torch.cat([lin, torch.tensor([[tx], [ty]], dtype=torch.float64)], dim=1).float()


def pixel_grid(theta: Tensor, H: int, W: int) -> Tensor:
    """Where the grid generator's samples fall on an H x W input, in pixel coordinates: (H, W, 2) of (column, row)
    (``align_corners=False``: $m = ((x^s + 1) W - 1) / 2$)."""
    grid = affine_grid(theta.reshape(1, 2, 3), (1, 1, H, W))[0]
    return torch.stack([((grid[..., 0] + 1) * W - 1) / 2, ((grid[..., 1] + 1) * H - 1) / 2], dim=-1)


@dataclass(frozen=True)
class Transformed:
    image: np.ndarray      # (16, 16) the input digit U
    grid: np.ndarray       # (16, 16, 2) where each output pixel samples U, in U's pixel coordinates
    output: np.ndarray     # (16, 16) V, sampled bilinearly
    theta: np.ndarray      # (2, 3)


def transform_digit(index: int, theta: Tensor) -> Transformed:
    """Test digit ``index`` on its canvas, resampled with ``theta`` by :func:`affine_sample`."""
    x, _ = digits16("test")
    if not 0 <= index < len(x):
        raise ValueError(f"Invalid digit index: {index} (allowed 0 to {len(x) - 1})")
    if not bool(torch.isfinite(theta).all()) or float(theta.abs().max()) > MAX_THETA:
        raise ValueError(f"Invalid theta: entries must be finite and at most {MAX_THETA} in size")
    img = x[index, 0]
    return Transformed(img.numpy(), pixel_grid(theta, SIDE, SIDE).numpy(), affine_sample(img, theta).numpy(),
                       theta.numpy())


# ---------------------------------------------------------------- data: digits on a 16 x 16 canvas

def canvas(x: Tensor) -> Tensor:
    """8x8 digits (N, 1, 8, 8) centred on a blank 16x16 canvas: (N, 1, 16, 16)."""
    return F.pad(x, (MARGIN, MARGIN, MARGIN, MARGIN))


def digits16(split: str = "train", classes: tuple[int, ...] | None = None,
             device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """The bundled digits on the canvas, (N, 1, 16, 16) in [0, 1] and labels; only ``classes`` if given."""
    x, y = data.digits(split)
    if classes is not None:
        keep = torch.isin(y, torch.tensor(classes))
        x, y = x[keep], y[keep]
    return canvas(x).to(device), y.to(device)


def shift(x: Tensor, dx: int, dy: int = 0) -> Tensor:
    """Move images (…, H, W) ``dx`` pixels right and ``dy`` down, filling with zeros (nothing wraps around)."""
    H, W = x.shape[-2:]
    if abs(dx) >= W or abs(dy) >= H:
        return torch.zeros_like(x)
    out = torch.zeros_like(x)
    src = x[..., max(0, -dy):H - max(0, dy), max(0, -dx):W - max(0, dx)]
    out[..., max(0, dy):H - max(0, -dy), max(0, dx):W - max(0, -dx)] = src
    return out


def random_theta(n: int, rotation: float, max_shift: float, generator: torch.Generator,
                 device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    r"""``n`` random distortions: $\theta_k = [R(\alpha_k) \mid t_k]$, $\alpha_k \sim U(-\alpha_{max}, \alpha_{max})$,
    and each of $t_k$'s two entries uniform in $\pm$``max_shift`` pixels (normalised: $2 / 16$ per pixel).

    rotation: $\alpha_{max}$ in degrees; generator: a private one (the draws are reproducible). Returns
    (theta (n, 2, 3), alpha (n,) in degrees). Like every $\theta$ here it maps output to input coordinates.
    """
    alpha = (torch.rand(n, generator=generator, device=device) * 2 - 1) * rotation
    t = (torch.rand(n, 2, generator=generator, device=device) * 2 - 1) * max_shift * 2 / SIDE
    a = torch.deg2rad(alpha)
    c, s = a.cos(), a.sin()
    theta = torch.stack([torch.stack([c, -s, t[:, 0]], 1), torch.stack([s, c, t[:, 1]], 1)], 1)   # (n, 2, 3)
    return theta, alpha


def warp(x: Tensor, theta: Tensor) -> Tensor:
    """Resample images (N, C, H, W) with ``theta`` (N, 2, 3): PyTorch's grid generator and bilinear sampler (the
    fast twin of :func:`affine_sample`, tested equal), ``align_corners=False``, zeros outside."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def _check_distortion(rotation: float, max_shift: float, what: str) -> None:
    if not (math.isfinite(rotation) and 0 <= rotation <= MAX_ROTATION):
        raise ValueError(f"Invalid {what} rotation: {rotation} (allowed 0 to {MAX_ROTATION:g} degrees)")
    if not (math.isfinite(max_shift) and 0 <= max_shift <= MAX_DISTORT_SHIFT):
        raise ValueError(f"Invalid {what} shift: {max_shift} (allowed 0 to {MAX_DISTORT_SHIFT:g} pixels)")


@dataclass(frozen=True)
class Distorted:
    x: Tensor        # (N, 1, 16, 16) the distorted test digits
    y: Tensor        # (N,) labels
    clean: Tensor    # (N, 1, 16, 16) the same digits upright and centred
    theta: Tensor    # (N, 2, 3) the distortion of each
    alpha: Tensor    # (N,) its rotation, degrees


def distorted_test(rotation: float, max_shift: float, classes: tuple[int, ...] | None = None,
                   device: torch.device | str = "cpu") -> Distorted:
    """The test digits, each turned and shifted by its own random distortion (drawn with ``TEST_SEED``, so every
    run and every seed is tested on the same distorted digits)."""
    _check_distortion(rotation, max_shift, "test")
    x, y = digits16("test", classes, device)
    theta, alpha = random_theta(len(x), rotation, max_shift, generator(TEST_SEED, device), device)
    return Distorted(warp(x, theta) if rotation or max_shift else x, y, x, theta, alpha)


# ---------------------------------------------------------------- the models (16 x 16 in, 10 logits out)

def mlp(hidden: int = 64) -> nn.Sequential:
    """Every pixel to every hidden unit: 256 -> hidden -> 10."""
    return nn.Sequential(nn.Flatten(), nn.Linear(SIDE * SIDE, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def small_cnn(width: int = 8, head: str = "gap") -> nn.Sequential:
    """Three 3x3 conv layers (width, 2·width, 4·width channels; 2x2 max pools after the first two), then either a
    global average pool ("gap": one number per channel, wherever the pattern was) or a flatten ("flat": every
    position its own weight) before the linear classifier."""
    c1, c2, c3 = width, 2 * width, 4 * width
    body = [nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),         # (N, c1, 8, 8)
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),        # (N, c2, 4, 4)
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU()]                         # (N, c3, 4, 4)
    if head == "gap":
        return nn.Sequential(*body, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c3, 10))
    if head == "se":     # the same with an SE block after the second and the third conv layer
        body = [*body[:5], SEBlock(c2), *body[5:], SEBlock(c3)]
        return nn.Sequential(*body, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c3, 10))
    if head == "flat":
        return nn.Sequential(*body, nn.Flatten(), nn.Linear(c3 * 16, 10))
    raise ValueError(f"Invalid head: {head!r} (allowed 'gap', 'flat', 'se')")


class SEBlock(nn.Module):
    r"""Squeeze-and-excitation, channel attention (Hu et al. 2018; review notes, "Attention"):
    squeeze $z_c = \frac{1}{HW}\sum_{i,j} x_{c,ij}$, excitation $s = \sigma(W_2\,\mathrm{ReLU}(W_1 z))$,
    scale $y_c = s_c\, x_c$. ``reduction``: $W_1$ maps C channels to C / reduction."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, max(1, channels // reduction))
        self.fc2 = nn.Linear(max(1, channels // reduction), channels)

    def excite(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(z, s): the squeezed channel means (N, C) and the channel weights (N, C) in (0, 1)."""
        z = x.mean(dim=(2, 3))                                     # squeeze
        return z, torch.sigmoid(self.fc2(F.relu(self.fc1(z))))    # excitation

    def forward(self, x: Tensor) -> Tensor:
        _, s = self.excite(x)
        return x * s[:, :, None, None]                             # scale



class SpatialTransformer(nn.Module):
    r"""A spatial transformer in front of a classifier (Jaderberg et al. 2015; Hung-yi Lee, ch. 5 §5.5).

    1) the localisation net reads the image $U$ and predicts $\theta$ (2x3); 2) the grid generator and 3) the
    bilinear sampler resample $U$ with it (:func:`warp`: ``F.affine_grid`` + ``F.grid_sample``); 4) the classifier
    sees $V$. The last layer of the localisation net starts with zero weights and the identity as its bias, so at
    initialisation $\theta = [[1, 0, 0], [0, 1, 0]]$ and $V = U$: the net starts as the plain classifier and learns
    from the classification loss alone which transformation helps.
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.loc = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(),    # (N, 8, 8, 8)
                                 nn.Conv2d(8, 8, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),    # (N, 8, 4, 4)
                                 nn.Flatten(), nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, 6))
        nn.init.zeros_(self.loc[-1].weight)
        with torch.no_grad():
            self.loc[-1].bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))              # identity theta
        self.classifier = classifier

    def theta(self, x: Tensor) -> Tensor:
        """$\theta$ for each image: (N, 2, 3)."""
        return self.loc(x).view(-1, 2, 3)

    def transform(self, x: Tensor) -> Tensor:
        """$V$: each image resampled with its own $\theta$, (N, C, H, W)."""
        return warp(x, self.theta(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.transform(x))


class Inception(nn.Module):
    """GoogLeNet's block: four parallel paths (1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool -> 1x1), concatenated."""

    def __init__(self, c_in: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int) -> None:
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(c_in, c1, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(c_in, c2[0], 1), nn.ReLU(), nn.Conv2d(c2[0], c2[1], 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.Conv2d(c_in, c3[0], 1), nn.ReLU(), nn.Conv2d(c3[0], c3[1], 5, padding=2), nn.ReLU())
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(c_in, c4, 1), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


def _nin_block(c_in: int, c_out: int, k: int) -> list[nn.Module]:
    """NiN: a kxk conv followed by two 1x1 convs (a small MLP at every position)."""
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU(), nn.Conv2d(c_out, c_out, 1), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 1), nn.ReLU()]


def zoo_model(name: str) -> nn.Sequential:
    """The lesson-scale version of each famous architecture, for 16x16 digits (about 6k-40k parameters)."""
    if name == "lenet":       # d2l's LeNet: sigmoid and average pooling
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2),       # (N, 6, 8, 8)
                             nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2),                # (N, 16, 2, 2)
                             nn.Flatten(), nn.Linear(64, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                             nn.Linear(84, 10))
    if name == "alexnet":     # ReLU, max pooling, a wide first kernel, dropout in the classifier
        return nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),        # (N, 16, 8, 8)
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),       # (N, 32, 4, 4)
                             nn.Conv2d(32, 48, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(48, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),       # (N, 32, 2, 2)
                             nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10))
    if name == "vgg":         # blocks of two 3x3 convs, each closed by a 2x2 max pool
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2),                                                   # (N, 8, 8, 8)
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 16, 64), nn.ReLU(), nn.Linear(64, 10))
    if name == "nin":         # NiN blocks, the last one with 10 channels, then global average pooling: no FC layer
        return nn.Sequential(*_nin_block(1, 16, 3), nn.MaxPool2d(2), *_nin_block(16, 32, 3), nn.MaxPool2d(2),
                             *_nin_block(32, 10, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if name == "inception":   # a stem, one Inception block (8 + 16 + 8 + 8 = 40 channels), global average pooling
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             Inception(16, 8, (8, 16), (4, 8), 8), nn.MaxPool2d(2),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(40, 10))
    if name == "resnet":      # a BN stem, two residual blocks, global average pooling
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                             nn.MaxPool2d(2), residual_block(16), nn.MaxPool2d(2), residual_block(16),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    raise ValueError(f"Invalid architecture: {name!r} (allowed: {', '.join(ZOO)})")


class PlainBlock(nn.Module):
    """The residual block without its shortcut: $y = \\mathrm{ReLU}(F(x))$."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.branch = ResidualBlock(channels).branch

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.branch(x))


def deep_net(depth: int, residual: bool, width: int = 8) -> nn.Sequential:
    """``depth`` weight layers: a stride-2 3x3 conv stem (16x16 -> 8x8), (depth - 2) / 2 blocks of two 3x3 convs
    (residual or plain), global average pooling and a linear classifier."""
    if depth not in DEPTHS:
        raise ValueError(f"Invalid depth: {depth} (allowed: {DEPTHS})")
    blocks = [ResidualBlock(width) if residual else PlainBlock(width) for _ in range((depth - 2) // 2)]
    return nn.Sequential(nn.Conv2d(1, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                         *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def _bare(name: str, width: int, hidden: int) -> nn.Sequential:
    if name == "mlp":
        return mlp(hidden)
    if name in ("cnn_flat", "cnn_gap", "cnn_se"):
        return small_cnn(width, name.removeprefix("cnn_"))
    if name == "stn":   # the spatial transformer in front of the flattening CNN
        return nn.Sequential(SpatialTransformer(small_cnn(width, "flat")))
    for kind in ("plain", "residual"):
        if name.startswith(kind) and name[len(kind):].isdigit():
            return deep_net(int(name[len(kind):]), kind == "residual")
    return zoo_model(name)


def build(name: str, width: int = 8, hidden: int = 64) -> nn.Sequential:
    """Any model of the lesson by name ("mlp", "cnn_flat", "cnn_gap", "stn", a zoo name, "plain<d>", "residual<d>"),
    behind a first layer that divides the pixels by 0.25 (about their standard deviation; the blank background
    stays 0, so zero padding and shifted-in zeros look like background)."""
    return nn.Sequential(Normalize(0.0, INPUT_STD), *_bare(name, width, hidden))


def n_params(model: nn.Module) -> int:
    """Trainable parameters: $\\sum$ numel of every weight and bias."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def macs(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, SIDE, SIDE)) -> int:
    r"""Multiply-adds of one forward pass of one input: per conv $H_o W_o C_o k^2 C_i / g$, per linear layer
    $n_{in} n_{out}$ (pools, activations and BN not counted), measured with forward hooks."""
    total = [0]

    def hook(mod: nn.Module, inputs: tuple[Tensor, ...], out: Tensor) -> None:
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += out[0].numel() * k * mod.in_channels // mod.groups
        elif isinstance(mod, nn.Linear):
            total[0] += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        was = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape))
        model.train(was)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def receptive_field(name: str) -> int:
    """Receptive field (pixels) of the last conv / pool layer, by the receptive-field lesson's table
    (``dlcore.receptive_field``) along the widest path (an Inception block's 5x5 path, a residual branch)."""
    from dlcore import famous_cnns
    from dlcore import receptive_field as rf

    model = build(name)
    layers = famous_cnns.layers_from_module(model, skip=("b1", "b2", "b4"))
    return int(rf.table(layers, SIDE, 1)["rf"].iloc[-1])


# ---------------------------------------------------------------- training (one loop for every model)

@dataclass(frozen=True)
class TrainConfig:
    model: str = "cnn_gap"     # a name for :func:`build`
    steps: int = 400
    batch: int = 64
    lr: float = 0.005          # Adam: the MLP and both small CNNs reach 95-98% in 400 steps
    optimizer: str = "adam"
    width: int = 8
    hidden: int = 64
    classes: tuple[int, ...] = tuple(range(10))
    record_every: int = 40     # test accuracy every 40 steps: the evaluation costs under a tenth of the training
    seed: int = 0
    rotation: float = 0.0      # augmentation: each training digit turned by a random angle up to this (degrees) ...
    max_shift: float = 0.0     # ... and shifted by up to this many pixels, a fresh draw every step
    test_rotation: float = 0.0     # the test digits distorted likewise (``distorted_test``: the same for every run)
    test_shift: float = 0.0
    n_train: int = 0           # train on the first n training digits only (0: all of them)

    def __post_init__(self) -> None:
        known = (*MODELS, "cnn_se", "stn", *ZOO, *(f"{k}{d}" for k in ("plain", "residual") for d in DEPTHS))
        if self.model not in known:
            raise ValueError(f"Invalid model: {self.model!r} (allowed: {', '.join(known)})")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_STEPS})")
        if not 2 <= self.batch <= MAX_BATCH:
            raise ValueError(f"Invalid batch: {self.batch} (allowed 2 to {MAX_BATCH})")
        if not (math.isfinite(self.lr) and 0 < self.lr <= MAX_LR):
            raise ValueError(f"Invalid learning rate: {self.lr} (allowed above 0, at most {MAX_LR:g})")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Invalid optimizer: {self.optimizer!r} (allowed: {', '.join(OPTIMIZERS)})")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ValueError(f"Invalid width: {self.width} (allowed 1 to {MAX_WIDTH})")
        if not 1 <= self.hidden <= MAX_HIDDEN:
            raise ValueError(f"Invalid hidden units: {self.hidden} (allowed 1 to {MAX_HIDDEN})")
        if not 1 <= self.record_every <= self.steps:
            raise ValueError(f"Invalid record_every: {self.record_every} (allowed 1 to steps = {self.steps})")
        _check_distortion(self.rotation, self.max_shift, "training")
        _check_distortion(self.test_rotation, self.test_shift, "test")
        if self.n_train and not MIN_TRAIN <= self.n_train <= len(data.digits("train")[1]):
            raise ValueError(f"Invalid n_train: {self.n_train} (allowed 0 for all, or {MIN_TRAIN} to "
                             f"{len(data.digits('train')[1])})")


@dataclass(frozen=True)
class TrainResult:
    config: TrainConfig
    step: np.ndarray            # (R,) steps at which the rest was recorded
    loss: np.ndarray            # (R,) mean training loss since the previous record
    test_acc: np.ndarray        # (R,) accuracy on the held-out digits (eval mode; distorted if the config says so)
    diverged_at: int | None     # the step whose loss was not finite (the run stopped there)
    seconds: float
    state: dict[str, Tensor] = field(repr=False)   # the trained weights (CPU)
    grad_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    # (S, L) ||dL/dW_l|| of every conv layer l (input side first) at every step taken, before the update
    train_acc: float = float("nan")   # final accuracy on the training digits it saw (undistorted)

    @property
    def final_acc(self) -> float:
        return float(self.test_acc[-1]) if len(self.test_acc) else float("nan")

    def model(self, device: torch.device | str = "cpu") -> nn.Sequential:
        """The trained model, in eval mode."""
        m = build(self.config.model, self.config.width, self.config.hidden)
        m.load_state_dict(self.state)
        return m.to(device).eval()


def make_model(config: TrainConfig, device: torch.device | str = "cpu") -> nn.Sequential:
    """The untrained model of ``config`` (its initial weights fixed by ``config.seed``)."""
    with seeded(config.seed):
        return build(config.model, config.width, config.hidden).to(device)


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Share of ``x`` classified as ``y`` (eval mode, no gradient)."""
    was = model.training
    model.eval()
    with torch.no_grad():
        acc = float((model(x).argmax(1) == y).float().mean())
    model.train(was)
    return acc


def train(config: TrainConfig, device: torch.device | str = "cpu") -> TrainResult:
    r"""Train ``config.model`` on the canvas digits: random mini-batches (private generator), cross-entropy,
    $\theta \leftarrow \theta - \eta\,\text{update}(\nabla\mathcal{L})$ (Adam or plain SGD). Every
    ``record_every`` steps the test accuracy is measured, and every step the gradient norm
    $\|\partial\mathcal{L}/\partial W_l\|$ of each conv layer (after backward, before the update). With
    ``rotation`` / ``max_shift`` every batch is freshly distorted (augmentation, :func:`random_theta`); with
    ``test_rotation`` / ``test_shift`` the test digits are :func:`distorted_test`'s. A loss that is not finite
    or above ``DIVERGED_LOSS`` (ten times the loss of a uniform guess, $10 \ln 10$) stops the run: it is reported
    (``diverged_at``), and the history ends at the last record before it (nothing NaN to plot).
    """
    t0 = time.perf_counter()
    x_tr, y_tr = digits16("train", config.classes, device)
    if config.n_train:
        x_tr, y_tr = x_tr[:config.n_train], y_tr[:config.n_train]
    test = distorted_test(config.test_rotation, config.test_shift, config.classes, device)
    x_te, y_te = test.x, test.y
    model = make_model(config, device)
    opt = (torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=config.lr)
    convs = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    g = generator(config.seed, device)
    steps, losses, accs, window, norms, diverged = [], [], [], [], [], None
    with seeded(config.seed):   # dropout (the AlexNet-style net) draws from the global RNG: fork and seed it
        for step in range(1, config.steps + 1):
            idx = torch.randint(len(x_tr), (config.batch,), generator=g, device=device)
            xb = x_tr[idx]
            if config.rotation or config.max_shift:   # augmentation: a fresh random distortion of every digit
                xb = warp(xb, random_theta(len(xb), config.rotation, config.max_shift, g, device)[0])
            loss = F.cross_entropy(model(xb), y_tr[idx])
            value = float(loss.detach())
            if not math.isfinite(value) or value > DIVERGED_LOSS:
                diverged = step
                break
            opt.zero_grad()
            loss.backward()
            if convs:
                norms.append(torch.stack([w.grad.norm() for w in convs]))   # ||dL/dW_l|| of this step
            opt.step()
            window.append(value)
            if step % config.record_every == 0 or step == config.steps:
                steps.append(step)
                losses.append(sum(window) / len(window))
                accs.append(accuracy(model, x_te, y_te))
                window = []
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    grad_norms = torch.stack(norms).cpu().numpy() if norms else np.zeros((0, len(convs)))
    return TrainResult(config, np.asarray(steps, dtype=np.int64), np.asarray(losses), np.asarray(accs),
                       diverged, time.perf_counter() - t0, state, grad_norms, accuracy(model, x_tr, y_tr))


def _full(theta: Tensor) -> Tensor:
    """(N, 2, 3) -> (N, 3, 3) with the row (0, 0, 1): affine maps compose by matrix product."""
    last = torch.tensor([0.0, 0.0, 1.0], dtype=theta.dtype, device=theta.device).expand(len(theta), 1, 3)
    return torch.cat([theta, last], dim=1)


def rotation_of(theta: Tensor) -> Tensor:
    r"""The angle (degrees) of the rotation nearest to each linear part $A$ of ``theta`` (N, 2, 3):
    $\operatorname{atan2}(A_{21} - A_{12}, A_{11} + A_{22})$; exact for a scaled rotation."""
    return torch.rad2deg(torch.atan2(theta[:, 1, 0] - theta[:, 0, 1], theta[:, 0, 0] + theta[:, 1, 1]))


@dataclass(frozen=True)
class STNView:
    inputs: np.ndarray        # (K, 16, 16) distorted test digits U
    outputs: np.ndarray       # (K, 16, 16) what the trained transformer made of them, V
    upright: np.ndarray       # (K, 16, 16) the same digits undistorted
    labels: np.ndarray        # (K,)
    predicted: np.ndarray     # (K,) the STN classifier's answers
    alpha: np.ndarray         # (N,) every test digit's applied rotation (degrees)
    residual: np.ndarray      # (N,) the rotation left after the transformer: that of theta_distortion . theta_STN
    slope: float              # least-squares slope of the STN's own rotation against the applied one (-1: undoes it)
    spread_in: float          # standard deviation of the digits' angles in the input (= of alpha) ...
    spread_out: float         # ... and in the transformer's output (of ``residual``)
    shift_in: float           # spread (std, pixels) of the digits' position in the input ...
    shift_out: float          # ... and in the output
    scale: float              # mean sqrt|det| of the STN's theta: below 1 it reads a smaller region (zooms in)


def stn_view(model: nn.Sequential, rotation: float, max_shift: float, indices: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
             ) -> STNView:
    r"""What a trained :class:`SpatialTransformer` (``model[1]``, after the input scaling) does to the distorted test
    digits of :func:`distorted_test` (``rotation``, ``max_shift``).

    A test digit was made by sampling the upright digit at $\theta_d\,p$; the transformer's output samples that at
    $\theta_s\,p$, so it shows the upright digit sampled at $\theta_d\theta_s\,p$ (3x3 homogeneous matrices). The
    rotation of $\theta_d\theta_s$ is what is left: if the transformer undid every rotation, its spread would be 0
    (a constant offset would still be an upright-making pose, only a fixed one).
    """
    test = distorted_test(rotation, max_shift)
    if not indices or any(not 0 <= i < len(test.y) for i in indices) or len(indices) > 12:
        raise ValueError(f"Invalid digits: {indices} (up to 12 indices from 0 to {len(test.y) - 1})")
    stn = model[1]
    if not isinstance(stn, SpatialTransformer):
        raise ValueError("Invalid model: expected the spatial transformer ('stn')")
    model.eval()
    with torch.no_grad():
        theta_s = stn.theta(model[0](test.x))                                   # (N, 2, 3)
        out = warp(test.x, theta_s)                                              # V, in pixel units
        pred = model(test.x).argmax(1)
    composed = _full(test.theta) @ _full(theta_s)                               # theta_d . theta_s
    residual = rotation_of(composed[:, :2])
    own, alpha = rotation_of(theta_s), test.alpha
    da = alpha - alpha.mean()
    slope = float((da * (own - own.mean())).sum() / (da * da).sum().clamp_min(1e-12))
    px = SIDE / 2                                                                # normalised units -> pixels
    keep = list(indices)
    return STNView(test.x[keep, 0].numpy(), out[keep, 0].numpy(), test.clean[keep, 0].numpy(), test.y[keep].numpy(),
                   pred[keep].numpy(), alpha.numpy(), residual.numpy(), slope, float(alpha.std()),
                   float(residual.std()), float((test.theta[:, :, 2] * px).std(0).pow(2).sum().sqrt()),
                   float((composed[:, :2, 2] * px).std(0).pow(2).sum().sqrt()),
                   float(torch.linalg.det(theta_s[:, :, :2]).abs().sqrt().mean()))


# ---------------------------------------------------------------- why convolution: shifts

@dataclass(frozen=True)
class ShiftCurve:
    shifts: np.ndarray          # (S,) pixels to the right (negative: left)
    accuracy: np.ndarray        # (S,) test accuracy of the shifted digits


def shift_accuracy(model: nn.Module, shifts: tuple[int, ...], direction: str = "x",
                   device: torch.device | str = "cpu") -> ShiftCurve:
    """Test accuracy when every test digit moves by each of ``shifts`` pixels (right for "x", down for "y";
    "xy": both), zeros filling in."""
    if direction not in ("x", "y", "xy"):
        raise ValueError(f"Invalid direction: {direction!r} (allowed 'x', 'y', 'xy')")
    if any(abs(k) > MAX_SHIFT for k in shifts):
        raise ValueError(f"Invalid shift: {shifts} (allowed -{MAX_SHIFT} to {MAX_SHIFT})")
    x, y = digits16("test", device=device)
    acc = [accuracy(model, shift(x, k if "x" in direction else 0, k if "y" in direction else 0), y) for k in shifts]
    return ShiftCurve(np.asarray(shifts), np.asarray(acc))


@dataclass(frozen=True)
class Equivariance:
    image: np.ndarray           # (16, 16) the digit
    moved: np.ndarray           # (16, 16) the digit shifted by k
    maps: np.ndarray            # (C, h, w) the chosen layer's feature maps of the digit
    moved_maps: np.ndarray      # (C, h, w) the same of the shifted digit
    pooled: np.ndarray          # (C_last,) the global-average-pooled features of the digit
    moved_pooled: np.ndarray    # (C_last,) those of the shifted digit
    map_change: float           # relative change of the feature maps, ||a' - a|| / ||a||
    map_shift_error: float      # how far the moved maps are from the maps moved, away from the shifted-in border
                                # (0: exact equivariance; NaN when a pool before the layer makes the shift fractional)
    pooled_change: float        # relative change of the pooled vector


def layer_outputs(model: nn.Sequential, x: Tensor) -> list[tuple[str, Tensor]]:
    """The output of every conv / pool / activation module of a ``nn.Sequential``, in order, named "1 Conv2d" ..."""
    out, h = [], x
    for i, mod in enumerate(model):
        h = mod(h)
        out.append((f"{i} {type(mod).__name__}", h))
    return out


def equivariance(model: nn.Sequential, index: int, k: int, layer: int = 2) -> Equivariance:
    r"""Test digit ``index`` and the same digit moved ``k`` pixels right through a trained small CNN: the maps
    after module ``layer`` (2: the first ReLU, after the input scaling and the first conv) move with the digit
    (equivariance, $f(T x) = T f(x)$ up to the borders), while the global average pool before the classifier
    barely changes (invariance, $g(Tx) \approx g(x)$).
    """
    x, _ = digits16("test")
    if not 0 <= index < len(x):
        raise ValueError(f"Invalid digit index: {index} (allowed 0 to {len(x) - 1})")
    if abs(k) > MAX_SHIFT:
        raise ValueError(f"Invalid shift: {k} (allowed -{MAX_SHIFT} to {MAX_SHIFT})")
    img = x[index:index + 1]
    moved = shift(img, k)
    gap = next(i for i, m in enumerate(model) if isinstance(m, nn.AdaptiveAvgPool2d))
    with torch.no_grad():
        a = model[:layer + 1](img)[0]
        b = model[:layer + 1](moved)[0]
        scale = img.shape[-1] // a.shape[-1]                     # pools before this layer shrink the shift
        err = torch.tensor(float("nan"))
        if k % scale == 0:   # compare where both maps come from the canvas: b[:, :, j + m] against a[:, :, j]
            m, w = k // scale, a.shape[-1]
            kept_b, kept_a = b[..., max(0, m):w + min(0, m)], a[..., max(0, -m):w - max(0, m)]
            err = (kept_b - kept_a).norm() / kept_a.norm()
        p, q = model[:gap + 1](img).flatten(), model[:gap + 1](moved).flatten()
    return Equivariance(img[0, 0].numpy(), moved[0, 0].numpy(), a.numpy(), b.numpy(), p.numpy(), q.numpy(),
                        float((b - a).norm() / a.norm()), float(err), float((q - p).norm() / p.norm()))


# ---------------------------------------------------------------- inside a trained CNN

@dataclass(frozen=True)
class Inside:
    image: np.ndarray                     # (16, 16)
    label: int
    probs: np.ndarray                     # (10,) softmax of the logits
    maps: list[tuple[str, np.ndarray]]    # (name, (C, h, w)) after each ReLU / pool
    filters: np.ndarray                   # (C1, 3, 3) the first layer's kernels
    saliency: np.ndarray                  # (16, 16) |d score_c / d x|
    occlusion: np.ndarray                 # (16 - p + 1, 16 - p + 1) drop of p_c when a p x p patch is blanked
    target: int                           # the class c explained (the predicted one)


def saliency(model: nn.Module, image: Tensor, target: int) -> Tensor:
    r"""$|\partial s_c / \partial x|$: how much the class score $s_c$ (a logit) changes per unit change of each
    pixel (Simonyan et al. 2014). image: (1, 1, H, W). Returns (H, W)."""
    x = image.clone().requires_grad_(True)
    score = model(x)[0, target]
    (grad,) = torch.autograd.grad(score, x)
    return grad[0, 0].abs()


def occlusion(model: nn.Module, image: Tensor, target: int, patch: int = 3) -> Tensor:
    r"""$p_c(x) - p_c(x \text{ with a } p\times p \text{ patch set to } 0)$ for every patch position (Zeiler & Fergus
    2014): a big drop means the covered pixels mattered. Returns (H - p + 1, W - p + 1)."""
    H, W = image.shape[-2:]
    if not 1 <= patch <= min(H, W):
        raise ValueError(f"Invalid patch: {patch} (allowed 1 to {min(H, W)})")
    rows, cols = H - patch + 1, W - patch + 1
    batch = image.repeat(rows * cols, 1, 1, 1)
    for r in range(rows):
        for c in range(cols):
            batch[r * cols + c, :, r:r + patch, c:c + patch] = 0
    with torch.no_grad():
        base = model(image).softmax(1)[0, target]
        probs = model(batch).softmax(1)[:, target]
    return (base - probs).reshape(rows, cols)


def inside(model: nn.Sequential, index: int, patch: int = 3) -> Inside:
    """Everything the "inside a trained CNN" view shows for test digit ``index``."""
    x, y = digits16("test")
    if not 0 <= index < len(x):
        raise ValueError(f"Invalid digit index: {index} (allowed 0 to {len(x) - 1})")
    img = x[index:index + 1]
    model.eval()
    with torch.no_grad():
        outs = layer_outputs(model, img)
        probs = outs[-1][1].softmax(1)[0]
    target = int(probs.argmax())
    maps = [(name, h[0].numpy()) for name, h in outs
            if h.dim() == 4 and ("ReLU" in name or "Pool" in name) and "Adaptive" not in name]
    first = next(m for m in model if isinstance(m, nn.Conv2d))
    return Inside(img[0, 0].numpy(), int(y[index]), probs.numpy(), maps, first.weight.detach()[:, 0].numpy(),
                  saliency(model, img, target).numpy(), occlusion(model, img, target, patch).numpy(), target)


@dataclass(frozen=True)
class SEView:
    maps: np.ndarray       # (C, h, w) the first SE block's input x for one digit
    squeeze: np.ndarray    # (C,) z: each map's mean
    weights: np.ndarray    # (C,) s: the excitation, in (0, 1)
    scaled: np.ndarray     # (C, h, w) y = s x


def se_view(model: nn.Sequential, index: int) -> SEView:
    """Squeeze, excitation and scale of the first SE block of a trained "cnn_se" for test digit ``index``."""
    x, _ = digits16("test")
    if not 0 <= index < len(x):
        raise ValueError(f"Invalid digit index: {index} (allowed 0 to {len(x) - 1})")
    at = next(i for i, m in enumerate(model) if isinstance(m, SEBlock))
    with torch.no_grad():
        h = model[:at](x[index:index + 1])
        z, s = model[at].excite(h)
        y = model[at](h)
    return SEView(h[0].numpy(), z[0].numpy(), s[0].numpy(), y[0].numpy())


# ---------------------------------------------------------------- the zoo and the residual comparison

@dataclass(frozen=True)
class ZooRow:
    name: str
    params: int
    macs: int
    rf: int
    result: TrainResult


def zoo_facts(name: str) -> tuple[int, int, int]:
    """(parameters, MACs per image, receptive field) of the zoo architecture ``name``."""
    model = build(name)
    return n_params(model), macs(model), receptive_field(name)


def zoo(steps: int = 300, lr: float = 0.003, seed: int = 0, names: tuple[str, ...] = ZOO,
        device: torch.device | str = "cpu") -> list[ZooRow]:
    """Every architecture of ``names`` trained with the same budget (steps, batch 64, Adam at ``lr``), with its
    parameters, MACs per image and receptive field."""
    rows = []
    for name in names:
        result = train(TrainConfig(model=name, steps=steps, lr=lr, seed=seed), device)
        rows.append(ZooRow(name, *zoo_facts(name), result))
    return rows


def layer_grad_norms(depth: int, residual: bool, seed: int = 0, batch: int = 64,
                     device: torch.device | str = "cpu") -> np.ndarray:
    r"""$\|\partial \mathcal{L} / \partial W_l\|$ for every conv layer $l$ of :func:`deep_net` at initialisation, on
    one batch of training digits: in a deep plain net the first layers get far smaller gradients; the shortcut
    $y = F(x) + x$ passes $\partial\mathcal{L}/\partial y$ straight back to every block."""
    config = TrainConfig(model=f"{'residual' if residual else 'plain'}{depth}", seed=seed)
    model = make_model(config, device)
    x, y = digits16("train", device=device)
    idx = torch.randint(len(x), (batch,), generator=generator(seed, device), device=device)
    F.cross_entropy(model(x[idx]), y[idx]).backward()
    return np.asarray([float(m.weight.grad.norm()) for m in model.modules() if isinstance(m, nn.Conv2d)])


def benchmark_plain_loop(config: TrainConfig, device: torch.device | str = "cpu") -> float:
    """Seconds of a bare PyTorch loop for ``config`` (same model, data, optimizer; no recording): the bench's
    reference for :func:`train`'s steps per second."""
    x_tr, y_tr = digits16("train", config.classes, device)
    model = make_model(config, device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    g = generator(config.seed, device)
    t0 = time.perf_counter()
    for _ in range(config.steps):
        idx = torch.randint(len(x_tr), (config.batch,), generator=g, device=device)
        loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0



# ---------------------------------------------------------------- fine-tuning: 0-4 -> 5-9

@dataclass(frozen=True)
class FineTuneConfig:
    shots: tuple[int, ...] = (1, 3, 10, 30)          # labelled examples per class of 5-9
    steps: int = 60            # full-batch Adam steps on the few examples
    lr: float = 0.03           # the new head's learning rate (and the whole net's from scratch)
    body_lr: float = 0.003     # "full": the pretrained body learns ten times slower than the head
    pretrain_steps: int = 400
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.shots:
            raise ValueError("Invalid shots: give at least one number of examples per class")
        for n in self.shots:
            if not 1 <= n <= MAX_SHOTS:
                raise ValueError(f"Invalid examples per class: {n} (allowed 1 to {MAX_SHOTS}; with 0 there is "
                                 "nothing to learn 5-9 from)")
        if not 1 <= self.steps <= MAX_STEPS or not 1 <= self.pretrain_steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps}, {self.pretrain_steps} (allowed 1 to {MAX_STEPS})")
        for name, lr in (("lr", self.lr), ("body_lr", self.body_lr)):
            if not (math.isfinite(lr) and 0 < lr <= MAX_LR):
                raise ValueError(f"Invalid {name}: {lr} (allowed above 0, at most {MAX_LR:g})")


def pretrain_config(config: FineTuneConfig) -> TrainConfig:
    """The network every fine-tuning run starts from: the global-pooling CNN trained on digits 0-4 only."""
    return TrainConfig(model="cnn_gap", classes=SOURCE, steps=config.pretrain_steps,
                       record_every=min(25, config.pretrain_steps), seed=config.seed)


def few_shot(n: int, seed: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """``n`` training digits of each class 5-9 (drawn by a private generator), labels shifted to 0-4."""
    x, y = digits16("train", TARGET, device)
    g = generator(seed, "cpu")
    picks = []
    for c in TARGET:
        idx = torch.nonzero(y.cpu() == c).flatten()
        picks.append(idx[torch.randperm(len(idx), generator=g)[:n]])
    keep = torch.cat(picks).to(x.device)
    return x[keep], y[keep] - TARGET[0]


def fine_tune(method: str, n: int, pretrained: dict[str, Tensor], config: FineTuneConfig,
              device: torch.device | str = "cpu") -> float:
    r"""Test accuracy on digits 5-9 after learning them from ``n`` examples per class.

    "scratch": a fresh network; "frozen": the pretrained body fixed, only a new 5-way head learns (the body is a
    feature extractor); "full": every weight learns, the body at ``body_lr`` and the new head at ``lr``
    (CS231n §7, d2l "Fine-Tuning"). ``pretrained``: the state of :func:`pretrain_config`'s network.
    """
    if method not in FINE_TUNE_METHODS:
        raise ValueError(f"Invalid method: {method!r} (allowed: {', '.join(FINE_TUNE_METHODS)})")
    FineTuneConfig(shots=(n,), steps=config.steps, lr=config.lr, body_lr=config.body_lr, seed=config.seed)
    x, y = few_shot(n, config.seed, device)
    x_te, y_te = digits16("test", TARGET, device)
    y_te = y_te - TARGET[0]                                            # labels 0-4, as the new head's
    with seeded(config.seed + 1):
        model = build("cnn_gap")
        if method != "scratch":
            model.load_state_dict(pretrained)
        model[-1] = nn.Linear(model[-1].in_features, len(TARGET))     # a new head for 5 classes
    model = model.to(device)
    head, body = list(model[-1].parameters()), [p for p in model[:-1].parameters()]
    if method == "frozen":
        for p in body:
            p.requires_grad_(False)
        groups = [{"params": head, "lr": config.lr}]
    elif method == "full":
        groups = [{"params": body, "lr": config.body_lr}, {"params": head, "lr": config.lr}]
    else:
        groups = [{"params": body + head, "lr": config.lr}]
    opt = torch.optim.Adam(groups)
    for _ in range(config.steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return accuracy(model, x_te, y_te)


@dataclass(frozen=True)
class FineTuneResult:
    config: FineTuneConfig
    shots: np.ndarray                  # (S,)
    accuracy: dict[str, np.ndarray]    # method -> (S,) test accuracy on 5-9
    pretrain_acc: float                # the pretrained net's accuracy on 0-4


def fine_tune_sweep(config: FineTuneConfig, device: torch.device | str = "cpu") -> FineTuneResult:
    """Pretrain on 0-4 once, then every method at every number of examples per class."""
    pre = train(pretrain_config(config), device)
    acc = {m: np.asarray([fine_tune(m, n, pre.state, config, device) for n in config.shots])
           for m in FINE_TUNE_METHODS}
    return FineTuneResult(config, np.asarray(config.shots), acc, pre.final_acc)
