r"""Semantic segmentation with a small fully convolutional network (d2l, "Semantic Segmentation", "Transposed
Convolution", "Fully Convolutional Networks").

The FCN labels every pixel of the detector's synthetic scenes: background or one of the shape classes. A
convolutional body shrinks the 64 x 64 scene to an 8 x 8 feature map, a 1 x 1 convolution turns its channels into
one score per class, and a transposed convolution with kernel $2s$, stride $s = 8$ and padding $s/2$ brings the
scores back to 64 x 64: $(8 - 1)\cdot 8 - 2\cdot 4 + 16 = 64$. As in d2l, that transposed convolution starts as
bilinear interpolation (:func:`bilinear_kernel`) and is trained with the rest. Quality: the IoU of each class over
the pixels, $\mathrm{IoU}_c = \frac{TP_c}{TP_c + FP_c + FN_c}$, and their mean (mIoU).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import training
from dlcore.detection.boxes import BoxError
from dlcore.detection.detector import CLASSES, HELD_OUT_SEED, MAX_SCENES, SIDE, _block, make_scenes
from dlcore.device import generator, seeded

N_LABELS = len(CLASSES) + 1        # background first
STRIDE = 8                         # the body halves the side three times
MODELS_DIR = Path(__file__).resolve().parents[2] / "assets" / "models" / "detection"


def bilinear_kernel(channels: int, kernel_size: int) -> Tensor:
    r"""d2l's bilinear initialisation of a transposed convolution (``bilinear_kernel``): channel $c$ maps to channel
    $c$ with $w_{ij} = (1 - |i - o|/f)(1 - |j - o|/f)$, $f = \lceil k/2 \rceil$, $o = f - 1$ for odd $k$ and
    $f - 1/2$ for even $k$; other channel pairs 0. Returns (channels, channels, k, k)."""
    factor = (kernel_size + 1) // 2
    centre = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float32)
    filt = 1 - (og - centre).abs() / factor                                 # (k,)
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    weight[range(channels), range(channels)] = filt[:, None] * filt[None, :]
    return weight


class TinyFCN(nn.Module):
    """Three halving blocks (64 -> 8), a 1 x 1 convolution to N_LABELS scores, a transposed convolution back to
    64 x 64 (kernel 16, stride 8, padding 4, bilinear at the start)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(_block(3, 8), _block(8, 16), _block(16, 32))
        self.score = nn.Conv2d(32, N_LABELS, 1)
        self.up = nn.ConvTranspose2d(N_LABELS, N_LABELS, 2 * STRIDE, stride=STRIDE, padding=STRIDE // 2)
        with torch.no_grad():
            self.up.weight.copy_(bilinear_kernel(N_LABELS, 2 * STRIDE))
            self.up.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, 3, H, W) -> per-pixel class scores (B, N_LABELS, H, W)."""
        return self.up(self.score(self.body(x)))


@dataclass(frozen=True)
class UpsamplingPath:
    """The shapes and values along the FCN for one image, for the figure."""
    shapes: tuple[tuple[int, ...], ...]   # input, after each block, scores, upsampled
    coarse: Tensor                        # (N_LABELS, H/8, W/8) class scores of the 1 x 1 convolution
    logits: Tensor                        # (N_LABELS, H, W) after the transposed convolution
    labels: Tensor                        # (H, W) argmax: the predicted label of every pixel


def segment(model: TinyFCN, image: Tensor) -> UpsamplingPath:
    """Run the FCN on one image (3, H, W), H = W divisible by 8, keeping what the upsampling path shows."""
    side = image.shape[-1]
    if image.ndim != 3 or image.shape[-2] != side or side % STRIDE or not 16 <= side <= 256:
        raise BoxError("count", 0, f"image {tuple(image.shape)}")
    device = next(model.parameters()).device
    with torch.inference_mode():
        x = image[None].to(device)
        shapes = [tuple(x.shape[1:])]
        for block in model.body:
            x = block(x)
            shapes.append(tuple(x.shape[1:]))
        coarse = model.score(x)
        logits = model.up(coarse)
        shapes += [tuple(coarse.shape[1:]), tuple(logits.shape[1:])]
    return UpsamplingPath(tuple(shapes), coarse[0].cpu(), logits[0].cpu(), logits[0].argmax(0).cpu())


@dataclass(frozen=True)
class SegConfig:
    n_train: int = 1200
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3          # Adam
    seed: int = 0
    data_seed: int = 1        # the detector's training scenes


def train_fcn(config: SegConfig = SegConfig()) -> tuple[TinyFCN, list[float]]:
    """Train :class:`TinyFCN` with per-pixel cross-entropy (Adam); returns the model and the loss of every 50th
    step. Deterministic on CPU for a fixed config."""
    scenes = make_scenes(config.data_seed, config.n_train)
    x = torch.stack([s.image for s in scenes])
    y = torch.stack([s.mask for s in scenes])
    with seeded(config.seed):
        model = TinyFCN()
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    g = generator(config.seed)
    history = []
    for step in range(config.steps):
        idx = torch.randint(0, config.n_train, (config.batch_size,), generator=g)
        value = training.step(model, opt, None, F.cross_entropy(model(x[idx]), y[idx]))
        if step % 50 == 0 or step == config.steps - 1:
            history.append(value)
    return model.eval(), history


def load_fcn(device=None) -> TinyFCN:
    """The bundled :class:`TinyFCN` (``assets/models/detection/tiny_fcn.pt``), eval mode, frozen."""
    model = TinyFCN()
    model.load_state_dict(torch.load(MODELS_DIR / "tiny_fcn.pt", map_location="cpu", weights_only=True))
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval().to(device or "cpu")


def confusion_matrix(pred: Tensor, target: Tensor, n_labels: int = N_LABELS) -> Tensor:
    """Pixel counts: row = true label, column = predicted label. (n_labels, n_labels) int64."""
    return torch.bincount(target.reshape(-1) * n_labels + pred.reshape(-1), minlength=n_labels ** 2).reshape(
        n_labels, n_labels)


def class_iou(confusion: Tensor) -> Tensor:
    r"""$\mathrm{IoU}_c = TP_c / (TP_c + FP_c + FN_c)$ from a confusion matrix (rows true, columns predicted);
    NaN for a label that is neither present nor predicted. Returns (n_labels,) float64."""
    c = confusion.double()
    tp = c.diagonal()
    denom = c.sum(0) + c.sum(1) - tp
    return torch.where(denom > 0, tp / denom.clamp(min=1), torch.full_like(tp, float("nan")))


@dataclass(frozen=True)
class SegEvaluation:
    confusion: Tensor    # (N_LABELS, N_LABELS) pixel counts over the held-out scenes
    iou: Tensor          # (N_LABELS,) per-label IoU, background first
    mean_iou: float      # mean over the labels


def evaluate_fcn(model: TinyFCN, n_scenes: int = 200, seed: int = HELD_OUT_SEED) -> SegEvaluation:
    """Per-class IoU and mIoU of the FCN over ``n_scenes`` held-out scenes (all pixels pooled)."""
    if not 1 <= n_scenes <= MAX_SCENES:
        raise BoxError("too_many", 0, f"{n_scenes} > {MAX_SCENES}")
    scenes = make_scenes(seed, n_scenes)
    with torch.inference_mode():
        pred = model(torch.stack([s.image for s in scenes])).argmax(1)
    conf = confusion_matrix(pred, torch.stack([s.mask for s in scenes]))
    iou = class_iou(conf)
    return SegEvaluation(conf, iou, float(iou.nanmean()))


assert SIDE % STRIDE == 0
