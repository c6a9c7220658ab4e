r"""Anchor boxes, labelling anchors with ground truth, and the offsets a detector predicts (d2l, "Anchor Boxes").

Around each pixel of an $h \times w$ image d2l draws $n + m - 1$ anchors from sizes $s_1..s_n$ and ratios
$r_1..r_m$: every size with $r_1$, and $s_1$ with every other ratio. An anchor of size $s$ and ratio $r$ has width
$s\sqrt{r}\cdot h/w$ and height $s/\sqrt{r}$ in coordinates normalised by the image's width and height (so it
covers $s^2 r$ of a square image), centred on the pixel's centre $((j + 0.5)/w, (i + 0.5)/h)$.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcore.detection.boxes import BoxError, box_center_to_corner, box_corner_to_center, box_iou, check_threshold

MAX_SIZES = 5                 # n
MAX_RATIOS = 5                # m
MAX_ANCHORS = 2_100_000       # one multibox_prior call (d2l's 561 x 728 example has 2,042,040); 34 MB
MAX_RATIO = 10.0
SIGMA_XY, SIGMA_WH = 0.1, 0.2  # d2l's offset scales: centre offsets / 0.1, log-size offsets / 0.2
EPS = 1e-6                     # d2l's epsilon inside the log of offset_boxes


def parse_numbers(text: str, kind: str) -> tuple[float, ...]:
    """Typed sizes ("0.75, 0.5, 0.25") or ratios ("1, 2, 0.5"). Sizes lie in (0, 1], ratios in
    [1/MAX_RATIO, MAX_RATIO]; at most MAX_SIZES / MAX_RATIOS of them. Raises :class:`BoxError` with code
    "sizes" or "ratios" (and ``detail`` the offending text)."""
    assert kind in ("sizes", "ratios")
    parts = [p for p in str(text)[:200].replace("，", ",").replace(",", " ").split() if p]
    cap = MAX_SIZES if kind == "sizes" else MAX_RATIOS
    if not parts or len(parts) > cap:
        raise BoxError(kind, 0, str(text)[:40])
    try:
        values = tuple(float(p) for p in parts)
    except ValueError as e:
        raise BoxError(kind, 0, str(text)[:40]) from e
    ok = (lambda v: 0 < v <= 1) if kind == "sizes" else (lambda v: 1 / MAX_RATIO <= v <= MAX_RATIO)
    if not all(math.isfinite(v) and ok(v) for v in values):
        raise BoxError(kind, 0, str(text)[:40])
    return values


def anchor_count(height: int, width: int, n_sizes: int, n_ratios: int) -> int:
    r"""$h \cdot w \cdot (n + m - 1)$: how many anchors :func:`multibox_prior` draws."""
    return height * width * (n_sizes + n_ratios - 1)


def anchor_shapes(height: int, width: int, sizes, ratios, device=None) -> Tensor:
    r"""The $n + m - 1$ (width, height) pairs of one pixel's anchors, normalised: $(s_i, r_1)$ for every size,
    then $(s_1, r_j)$ for $j \ge 2$; width $s\sqrt{r}\,h/w$, height $s/\sqrt{r}$. Returns (n + m - 1, 2)."""
    s = torch.tensor(sizes, dtype=torch.float32, device=device)
    r = torch.tensor(ratios, dtype=torch.float32, device=device)
    w = torch.cat((s * torch.sqrt(r[0]), s[0] * torch.sqrt(r[1:]))) * height / width   # rectangular images
    h = torch.cat((s / torch.sqrt(r[0]), s[0] / torch.sqrt(r[1:])))
    return torch.stack((w, h), dim=1)


def multibox_prior(height: int, width: int, sizes, ratios, device=None) -> Tensor:
    r"""Every anchor of an ``height`` x ``width`` image, d2l's construction, normalised corner form.

    Pixel $(i, j)$ has centre $((j + 0.5)/w, (i + 0.5)/h)$; its $n + m - 1$ anchors (:func:`anchor_shapes`)
    follow each other, pixels in row-major order. sizes: $s_1..s_n$; ratios: $r_1..r_m$.
    Returns (height * width * (n + m - 1), 4); ``reshape(height, width, n + m - 1, 4)`` indexes by pixel.
    Raises :class:`BoxError` ("too_many") past MAX_ANCHORS."""
    if len(sizes) == 0 or len(ratios) == 0 or len(sizes) > MAX_SIZES or len(ratios) > MAX_RATIOS:
        raise BoxError("sizes" if not 0 < len(sizes) <= MAX_SIZES else "ratios", 0, f"{len(sizes)}, {len(ratios)}")
    if height < 1 or width < 1 or anchor_count(height, width, len(sizes), len(ratios)) > MAX_ANCHORS:
        raise BoxError("too_many", 0, f"{height} x {width} x {len(sizes) + len(ratios) - 1} > {MAX_ANCHORS}")
    cy = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    cx = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    shift_y, shift_x = torch.meshgrid(cy, cx, indexing="ij")                       # (h, w) each
    centres = torch.stack((shift_x, shift_y, shift_x, shift_y), dim=-1).reshape(-1, 1, 4)
    wh = anchor_shapes(height, width, sizes, ratios, device)                       # (k, 2)
    half = torch.cat((-wh, wh), dim=1) / 2                                         # (k, 4): -w/2, -h/2, w/2, h/2
    return (centres + half[None]).reshape(-1, 4)


def pixel_anchors(height: int, width: int, sizes, ratios, row: int, col: int, device=None) -> Tensor:
    """The n + m - 1 anchors of pixel (``row``, ``col``) alone (normalised corner form), without drawing the
    other pixels' anchors: equal to ``multibox_prior(...).reshape(h, w, -1, 4)[row, col]``."""
    if not (0 <= row < height and 0 <= col < width):
        raise BoxError("outside", 0, f"({row}, {col})")
    wh = anchor_shapes(height, width, sizes, ratios, device)
    centre = torch.tensor([(col + 0.5) / width, (row + 0.5) / height], dtype=torch.float32, device=device)
    return torch.cat((centre - wh / 2, centre + wh / 2), dim=1)


# ---- labelling anchors ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GreedyStep:
    """One step of the greedy matching: the largest IoU left, at (anchor, ground truth)."""
    anchor: int
    truth: int
    iou: float


@dataclass(frozen=True)
class Assignment:
    iou: Tensor                       # (A, G) anchors x ground truth
    steps: tuple[GreedyStep, ...]     # the greedy matches, in order (one per ground-truth box)
    truth_of: Tensor                  # (A,) index of the assigned ground-truth box, -1: background
    by_threshold: Tensor              # (A,) bool: assigned in the threshold pass (not by a greedy step)


def assign_anchors(anchors: Tensor, truth: Tensor, iou_threshold: float = 0.5) -> Assignment:
    r"""Assign ground-truth boxes to anchors as d2l does.

    1) Greedy: take the largest entry $x_{ij}$ of the IoU matrix $X$ (anchors x ground truth), assign box $j$
       to anchor $i$, discard row $i$ and column $j$; repeat until every ground-truth box has its anchor.
    2) Threshold: every other anchor takes the box it overlaps most, if that IoU is at least ``iou_threshold``.

    anchors: (A, 4), truth: (G, 4), corner form, same units. Same result as d2l's ``assign_anchor_to_bbox``
    (which runs the threshold pass first and lets the greedy matches overwrite it)."""
    check_threshold(iou_threshold, "iou_threshold")
    if len(truth) == 0:
        raise BoxError("no_boxes")
    iou = box_iou(anchors, truth)                                  # (A, G)
    work = iou.clone()
    n_truth = truth.shape[0]
    truth_of = torch.full((anchors.shape[0],), -1, dtype=torch.long, device=anchors.device)
    steps = []
    for _ in range(min(n_truth, anchors.shape[0])):                # 1) greedy
        flat = int(torch.argmax(work))
        i, j = divmod(flat, n_truth)
        steps.append(GreedyStep(i, j, float(iou[i, j])))
        truth_of[i] = j
        work[:, j] = -1
        work[i, :] = -1
    best_iou, best_truth = iou.max(dim=1)                          # 2) threshold, for the anchors left
    rest = (truth_of < 0) & (best_iou >= iou_threshold)
    truth_of[rest] = best_truth[rest]
    return Assignment(iou, tuple(steps), truth_of, rest)


def offset_boxes(anchors: Tensor, assigned: Tensor, eps: float = EPS) -> Tensor:
    r"""The offsets an anchor must predict to reach its ground-truth box (d2l's ``offset_boxes``):

    $$\Big(\frac{(x_b - x_a)/w_a}{\sigma_x}, \frac{(y_b - y_a)/h_a}{\sigma_y},
    \frac{\log(w_b/w_a)}{\sigma_w}, \frac{\log(h_b/h_a)}{\sigma_h}\Big)$$

    with centres $(x, y)$, sizes $(w, h)$ of anchor $a$ and box $b$, $\sigma_x = \sigma_y = 0.1$,
    $\sigma_w = \sigma_h = 0.2$. anchors, assigned: (N, 4) corner form. Returns (N, 4). d2l adds ``eps`` inside
    the log; so the round trip through :func:`offset_inverse` is exact to about 1e-6."""
    a, b = box_corner_to_center(anchors), box_corner_to_center(assigned)
    xy = (b[:, :2] - a[:, :2]) / a[:, 2:] / SIGMA_XY
    wh = torch.log(eps + b[:, 2:] / a[:, 2:]) / SIGMA_WH
    return torch.cat((xy, wh), dim=1)


def offset_inverse(anchors: Tensor, offsets: Tensor) -> Tensor:
    r"""Boxes from anchors and predicted offsets, the inverse of :func:`offset_boxes` (d2l's ``offset_inverse``):
    $x_b = x_a + \sigma_x\,w_a\,t_x$, $w_b = w_a \exp(\sigma_w t_w)$ (and so for y, h). Returns (N, 4) corners."""
    a = box_corner_to_center(anchors)
    xy = offsets[:, :2] * SIGMA_XY * a[:, 2:] + a[:, :2]
    wh = torch.exp(offsets[:, 2:] * SIGMA_WH) * a[:, 2:]
    return box_center_to_corner(torch.cat((xy, wh), dim=1))


@dataclass(frozen=True)
class AnchorLabels:
    assignment: Assignment
    classes: Tensor      # (A,) 0: background, c + 1: ground-truth class c (d2l's convention)
    offsets: Tensor      # (A, 4), zero for background anchors
    mask: Tensor         # (A,) bool: the anchors whose offsets count in the loss


def label_anchors(anchors: Tensor, truth: Tensor, truth_classes: Tensor, iou_threshold: float = 0.5) -> AnchorLabels:
    """Class label and offsets of every anchor (d2l's ``multibox_target`` for one image): background anchors get
    class 0 and zero offsets; an anchor assigned box j gets class ``truth_classes[j] + 1`` and the offsets of
    :func:`offset_boxes` towards box j."""
    asg = assign_anchors(anchors, truth, iou_threshold)
    mask = asg.truth_of >= 0
    classes = torch.zeros(len(anchors), dtype=torch.long, device=anchors.device)
    classes[mask] = truth_classes[asg.truth_of[mask]].long() + 1
    offsets = torch.zeros_like(anchors)
    if mask.any():
        offsets[mask] = offset_boxes(anchors[mask], truth[asg.truth_of[mask]])
    return AnchorLabels(asg, classes, offsets, mask)
