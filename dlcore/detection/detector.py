r"""A tiny single-shot detector (SSD-style, d2l "Single Shot Multibox Detection") on synthetic scenes of shapes,
and its evaluation by average precision.

A scene is a ``SIDE`` x ``SIDE`` RGB canvas with one to three shapes (square, disc, triangle) of random colour,
size and position. The network computes one feature map per scale; at every pixel of a scale's map it has
:data:`ANCHORS_PER_PIXEL` anchors (:func:`multibox_prior`) and predicts, for each, the class scores (background
first) and the four offsets of :func:`offset_boxes`. Training: cross-entropy on the anchor classes plus L1 on the
offsets of the positive anchors (d2l's loss). Prediction: softmax, each anchor's best non-background class,
:func:`offset_inverse`, per-class NMS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import training
from dlcore.detection.anchors import label_anchors, multibox_prior, offset_inverse
from dlcore.detection.boxes import BoxError, box_iou, check_threshold
from dlcore.detection.nms import batched_nms
from dlcore.device import generator, seeded

SIDE = 64                                      # scene canvas, pixels
CLASSES = ("square", "disc", "triangle")
SCALES = ((0.2, 0.3), (0.4, 0.55))             # anchor sizes of the 8 x 8 and the 4 x 4 feature maps
RATIOS = (1.0, 2.0, 0.5)
ANCHORS_PER_PIXEL = 4                          # n + m - 1 = 2 + 3 - 1
MAX_OBJECTS = 3
MIN_SIZE, MAX_SIZE = 12, 30                    # object side, pixels
MAX_SCENES = 400                               # held-out scenes one evaluation may score
MAX_DETECTIONS = 40                            # per scene, after NMS
MODELS_DIR = Path(__file__).resolve().parents[2] / "assets" / "models" / "detection"


# ---- synthetic scenes -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scene:
    image: Tensor     # (3, SIDE, SIDE) in [0, 1]
    boxes: Tensor     # (k, 4) pixel corners
    classes: Tensor   # (k,) int64 index into CLASSES
    mask: Tensor      # (SIDE, SIDE) int64 pixel labels: 0 background, c + 1 for a pixel of a shape of class c


def make_scene(seed: int, index: int, side: int = SIDE) -> Scene:
    """Scene ``index`` of the stream ``seed`` (deterministic): a dark noisy canvas and 1-3 filled shapes whose
    boxes do not overlap. A square fills its box; a disc touches its box's four sides; a triangle (apex up)
    has its base on its box's bottom and its apex on the top edge."""
    g = generator(seed * 1_000_003 + index)
    yy, xx = torch.meshgrid(torch.arange(side) + 0.5, torch.arange(side) + 0.5, indexing="ij")
    image = 0.15 + 0.08 * torch.rand(3, side, side, generator=g)
    mask = torch.zeros(side, side, dtype=torch.long)
    k = int(torch.randint(1, MAX_OBJECTS + 1, (1,), generator=g))
    boxes: list[list[float]] = []
    classes: list[int] = []
    for _ in range(20 * k):                                      # rejection sampling of non-overlapping places
        if len(boxes) == k:
            break
        s = float(torch.randint(MIN_SIZE * side // SIDE, MAX_SIZE * side // SIDE + 1, (1,), generator=g))
        x1, y1 = (float(v) for v in torch.randint(0, int(side - s) + 1, (2,), generator=g))
        box = [x1, y1, x1 + s, y1 + s]
        c = int(torch.randint(0, len(CLASSES), (1,), generator=g))
        colour = 0.45 + 0.55 * torch.rand(3, generator=g)
        if boxes and float(box_iou(torch.tensor([box]), torch.tensor(boxes)).max()) > 0:
            continue
        cx, cy, r = x1 + s / 2, y1 + s / 2, s / 2
        if c == 0:
            inside = (xx - cx).abs().le(r) & (yy - cy).abs().le(r)
        elif c == 1:
            inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        else:
            inside = (yy >= y1) & (yy <= y1 + s) & ((xx - cx).abs() <= (yy - y1) / 2)
        image[:, inside] = colour[:, None]
        mask[inside] = c + 1
        boxes.append(box)
        classes.append(c)
    return Scene(image.clamp(0, 1), torch.tensor(boxes), torch.tensor(classes, dtype=torch.long), mask)


def make_scenes(seed: int, n: int, side: int = SIDE) -> list[Scene]:
    """``n`` scenes of the stream ``seed``."""
    return [make_scene(seed, i, side) for i in range(n)]


# ---- the network ----------------------------------------------------------------------------------------------

def _block(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 convolution, ReLU, 2x2 max pooling: halves the height and width."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


class TinySSD(nn.Module):
    """Four halving blocks (64 -> 4); heads on the 8 x 8 and 4 x 4 maps: a 3x3 convolution each for the class
    scores (ANCHORS_PER_PIXEL * (classes + 1) channels) and the offsets (ANCHORS_PER_PIXEL * 4 channels)."""

    def __init__(self, n_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.base = nn.Sequential(_block(3, 8), _block(8, 16), _block(16, 32))     # 64 -> 8
        self.down = _block(32, 32)                                                   # 8 -> 4
        k = ANCHORS_PER_PIXEL
        self.cls = nn.ModuleList([nn.Conv2d(32, k * (n_classes + 1), 3, padding=1) for _ in SCALES])
        self.box = nn.ModuleList([nn.Conv2d(32, k * 4, 3, padding=1) for _ in SCALES])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x: (B, 3, H, W) -> class logits (B, A, classes + 1) and offsets (B, A, 4), anchors in the order of
        :func:`anchors_for`."""
        maps = [self.base(x)]
        maps.append(self.down(maps[0]))
        logits, offsets = [], []
        for fmap, cls, box in zip(maps, self.cls, self.box):
            b = fmap.shape[0]
            # (B, k*C, h, w) -> (B, h, w, k*C) -> (B, h*w*k, C): pixel-major, then the anchors of a pixel
            logits.append(cls(fmap).permute(0, 2, 3, 1).reshape(b, -1, self.n_classes + 1))
            offsets.append(box(fmap).permute(0, 2, 3, 1).reshape(b, -1, 4))
        return torch.cat(logits, dim=1), torch.cat(offsets, dim=1)


def anchors_for(side: int = SIDE, device=None) -> Tensor:
    """The detector's anchors on a ``side`` x ``side`` input, normalised corners: each scale's
    :func:`multibox_prior` over its feature map (side/8 and side/16 pixels square). (A, 4)."""
    return torch.cat([multibox_prior(side // f, side // f, sizes, RATIOS, device=device)
                      for f, sizes in zip((8, 16), SCALES)])


# ---- training -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainConfig:
    n_train: int = 1200
    steps: int = 1500
    batch_size: int = 32
    lr: float = 3e-3          # Adam
    seed: int = 0
    data_seed: int = 1        # training scenes; held-out scenes use HELD_OUT_SEED


HELD_OUT_SEED = 7


def stack_targets(scenes: list[Scene], anchors: Tensor, side: int = SIDE) -> tuple[Tensor, Tensor, Tensor]:
    """Class labels (N, A), offsets (N, A, 4) and masks (N, A) of every scene's anchors (:func:`label_anchors`
    with the boxes normalised by the canvas side)."""
    labels = [label_anchors(anchors, s.boxes / side, s.classes, 0.5) for s in scenes]
    return (torch.stack([x.classes for x in labels]), torch.stack([x.offsets for x in labels]),
            torch.stack([x.mask for x in labels]))


def detection_loss(logits: Tensor, offsets: Tensor, classes: Tensor, target_offsets: Tensor, mask: Tensor) -> Tensor:
    r"""d2l's SSD loss: mean cross-entropy over every anchor plus the L1 distance of the offsets of the positive
    anchors, $\ell = \mathrm{CE} + \frac{1}{N}\sum_{i: \text{positive}} |\hat t_i - t_i|_1$."""
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), classes.reshape(-1))
    l1 = ((offsets - target_offsets).abs() * mask[..., None]).sum() / max(int(mask.sum()), 1)
    return ce + l1


def train(config: TrainConfig = TrainConfig()) -> tuple[TinySSD, list[float]]:
    """Train :class:`TinySSD` on ``config.n_train`` scenes with Adam; returns the model and the loss of every
    50th step. Deterministic on CPU for a fixed config."""
    scenes = make_scenes(config.data_seed, config.n_train)
    x = torch.stack([s.image for s in scenes])
    anchors = anchors_for()
    classes, target_offsets, mask = stack_targets(scenes, anchors)
    with seeded(config.seed):
        model = TinySSD()
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    g = generator(config.seed)
    history = []
    for step in range(config.steps):
        idx = torch.randint(0, config.n_train, (config.batch_size,), generator=g)
        logits, offsets = model(x[idx])
        loss = detection_loss(logits, offsets, classes[idx], target_offsets[idx], mask[idx])
        value = training.step(model, opt, None, loss)
        if step % 50 == 0 or step == config.steps - 1:
            history.append(value)
    return model.eval(), history


def load_detector(device=None) -> TinySSD:
    """The bundled :class:`TinySSD` (``assets/models/detection/tiny_ssd.pt`` from ``scripts/train_detection.py``),
    eval mode, frozen."""
    model = TinySSD()
    model.load_state_dict(torch.load(MODELS_DIR / "tiny_ssd.pt", map_location="cpu", weights_only=True))
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval().to(device or "cpu")


# ---- prediction -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Predictions:
    anchors: Tensor      # (A, 4) pixel corners
    boxes: Tensor        # (A, 4) decoded boxes, pixels: every anchor's raw prediction
    scores: Tensor       # (A,) probability of the best non-background class
    classes: Tensor      # (A,) that class
    keep: Tensor         # indices kept by per-class NMS above the score threshold, descending score


def predict(model: TinySSD, image: Tensor, *, score_threshold: float = 0.3, nms_threshold: float = 0.45,
            per_class: bool = True) -> Predictions:
    """Raw predictions of every anchor and the detections after NMS for one image (3, H, W), H = W divisible by
    16. ``per_class`` False: class-agnostic NMS (d2l's ``multibox_detection``)."""
    check_threshold(score_threshold, "score_threshold")
    check_threshold(nms_threshold, "nms_threshold")
    side = image.shape[-1]
    if image.ndim != 3 or image.shape[-2] != side or side % 16 or not 16 <= side <= 256:
        raise BoxError("count", 0, f"image {tuple(image.shape)}")
    device = next(model.parameters()).device
    with torch.inference_mode():
        logits, offsets = model(image[None].to(device))
        probs = logits[0].softmax(-1)                               # (A, classes + 1)
        anchors = anchors_for(side, device)
        boxes = offset_inverse(anchors, offsets[0]) * side
        scores, classes = probs[:, 1:].max(dim=-1)                  # best non-background class
        cand = torch.nonzero(scores >= score_threshold).reshape(-1)
        labels = classes[cand] if per_class else torch.zeros_like(classes[cand])
        keep = cand[batched_nms(boxes[cand], scores[cand], labels, nms_threshold)][:MAX_DETECTIONS]
    return Predictions((anchors * side).cpu(), boxes.cpu(), scores.cpu(), classes.cpu(), keep.cpu())


# ---- average precision ----------------------------------------------------------------------------------------

def match_detections(boxes: Tensor, scores: Tensor, truth: Tensor, iou_threshold: float = 0.5) -> Tensor:
    """Whether each detection (one class, one image) is a true positive: in descending score order, a detection
    matches the unmatched ground-truth box it overlaps most if that IoU is at least ``iou_threshold``; a second
    detection of a matched box is a false positive. Returns (N,) bool in the input order."""
    tp = torch.zeros(len(boxes), dtype=torch.bool)
    if len(truth) == 0 or len(boxes) == 0:
        return tp
    iou = box_iou(boxes, truth)
    taken = torch.zeros(len(truth), dtype=torch.bool)
    for i in torch.sort(scores, descending=True, stable=True).indices.tolist():
        overlaps = iou[i].masked_fill(taken, -1)
        j = int(overlaps.argmax())
        if overlaps[j] >= iou_threshold:
            tp[i], taken[j] = True, True
    return tp


@dataclass(frozen=True)
class PRCurve:
    scores: Tensor      # (N,) every detection's score, descending
    precision: Tensor   # (N,) precision of the top i + 1 detections
    recall: Tensor      # (N,) recall of the top i + 1 detections
    n_truth: int
    ap: float


def average_precision(scores: Tensor, is_tp: Tensor, n_truth: int) -> PRCurve:
    r"""Precision and recall of the top $k$ detections for every $k$, and
    $\mathrm{AP} = \sum_k (R_k - R_{k-1}) P_k$ (the area under the step precision-recall curve, no interpolation;
    scikit-learn's ``average_precision_score`` when every ground-truth box is found). Ground-truth boxes that no
    detection finds keep the recall below 1."""
    if n_truth <= 0:
        raise BoxError("no_boxes")
    order = torch.sort(scores, descending=True, stable=True).indices
    tp = is_tp[order].double().cumsum(0)
    k = torch.arange(1, len(order) + 1, dtype=torch.float64)
    precision, recall = tp / k, tp / n_truth
    gained = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return PRCurve(scores[order], precision, recall, n_truth, float((gained * precision).sum()))


@dataclass(frozen=True)
class Evaluation:
    curves: tuple[PRCurve, ...]   # one per class
    mean_ap: float


def evaluate(model: TinySSD, n_scenes: int = 200, *, iou_threshold: float = 0.5, nms_threshold: float = 0.45,
             seed: int = HELD_OUT_SEED) -> Evaluation:
    """AP at IoU ``iou_threshold`` of every class over ``n_scenes`` held-out scenes, and their mean (mAP).
    Detections: every anchor's best class with score >= 0.01 after per-class NMS, at most MAX_DETECTIONS a
    scene."""
    if not 1 <= n_scenes <= MAX_SCENES:
        raise BoxError("too_many", 0, f"{n_scenes} > {MAX_SCENES}")
    per_class: list[tuple[list[Tensor], list[Tensor], int]] = [([], [], 0) for _ in CLASSES]
    for scene in make_scenes(seed, n_scenes):
        p = predict(model, scene.image, score_threshold=0.01, nms_threshold=nms_threshold)
        for c in range(len(CLASSES)):
            mine = p.keep[p.classes[p.keep] == c]
            truth = scene.boxes[scene.classes == c]
            s, t, n = per_class[c]
            s.append(p.scores[mine])
            t.append(match_detections(p.boxes[mine], p.scores[mine], truth, iou_threshold))
            per_class[c] = (s, t, n + len(truth))
    curves = tuple(average_precision(torch.cat(s), torch.cat(t), n) for s, t, n in per_class)
    return Evaluation(curves, sum(c.ap for c in curves) / len(curves))


def point_at(curve: PRCurve, score_threshold: float) -> tuple[float, float]:
    """(precision, recall) of the detections scoring at least ``score_threshold`` ((1, 0) when none does)."""
    n = int((curve.scores >= score_threshold).sum())
    if n == 0:
        return 1.0, 0.0
    return float(curve.precision[n - 1]), float(curve.recall[n - 1])


assert math.isclose(len(RATIOS) + len(SCALES[0]) - 1, ANCHORS_PER_PIXEL)
