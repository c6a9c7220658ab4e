r"""Non-maximum suppression (d2l, "Anchor Boxes": predicting with NMS).

Sort the candidate boxes by score. Repeatedly keep the highest-scoring box $B_1$ left and discard every other
box whose IoU with it exceeds the threshold $\epsilon$; stop when no box is left. The kept boxes are the
detections, in descending score order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dlcore.detection.boxes import MAX_BOXES, BoxError, box_center_to_corner, box_iou, check_threshold
from dlcore.device import generator

MAX_PER_OBJECT = 30   # jittered candidates around one ground-truth box


@dataclass(frozen=True)
class NMSStep:
    """One round: the box kept, and the boxes it suppressed (indices into the input)."""
    kept: int
    suppressed: tuple[int, ...]


def _check(boxes: Tensor, scores: Tensor, iou_threshold: float) -> None:
    check_threshold(iou_threshold, "iou_threshold")
    if boxes.ndim != 2 or boxes.shape[-1] != 4 or scores.shape != boxes.shape[:1]:
        raise BoxError("count", 0, f"boxes {tuple(boxes.shape)}, scores {tuple(scores.shape)}")
    if len(boxes) > MAX_BOXES:
        raise BoxError("too_many", 0, f"{len(boxes)} > {MAX_BOXES}")


def nms_steps(boxes: Tensor, scores: Tensor, iou_threshold: float) -> list[NMSStep]:
    r"""NMS, one :class:`NMSStep` per kept box.

    1) order the boxes by descending score (ties: the earlier box first);
    2) take the first box not yet suppressed, keep it;
    3) suppress every later box $b$ with $J(\text{kept}, b) > \epsilon$; back to 2.
    boxes: (N, 4) corner form; scores: (N,); iou_threshold: $\epsilon \in [0, 1]$. The IoU matrix of the sorted
    boxes is computed once (N x N), then the loop reads its rows."""
    _check(boxes, scores, iou_threshold)
    order = torch.sort(scores, descending=True, stable=True).indices
    iou = box_iou(boxes[order], boxes[order]).cpu().numpy()        # (N, N) in score order
    idx = order.cpu().numpy()
    alive = np.ones(len(idx), dtype=bool)
    steps = []
    for i in range(len(idx)):
        if not alive[i]:
            continue
        over = iou[i] > iou_threshold                                 # 3) boxes overlapping the kept one ...
        over[: i + 1] = False                                        # ... that come later in score order
        gone = np.flatnonzero(over & alive)
        alive &= ~over
        steps.append(NMSStep(int(idx[i]), tuple(int(k) for k in idx[gone])))
    return steps


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """The indices NMS keeps, in descending score order (int64, on ``boxes.device``); see :func:`nms_steps`.
    Same result as d2l's ``nms`` and torchvision's ``ops.nms``."""
    keep = [step.kept for step in nms_steps(boxes, scores, iou_threshold)]
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)


def batched_nms(boxes: Tensor, scores: Tensor, classes: Tensor, iou_threshold: float) -> Tensor:
    """Per-class NMS: boxes of different classes never suppress each other. Returns the kept indices of all
    classes together, in descending score order (ties: the earlier box first)."""
    _check(boxes, scores, iou_threshold)
    kept = [torch.nonzero(classes == c).reshape(-1)[nms(boxes[classes == c], scores[classes == c], iou_threshold)]
            for c in torch.unique(classes)]
    keep = torch.cat(kept) if kept else torch.zeros(0, dtype=torch.long, device=boxes.device)
    keep = keep.sort().values                                                  # ties: the earlier box first
    return keep[torch.sort(scores[keep], descending=True, stable=True).indices]


def jitter_candidates(truth: Tensor, truth_classes: Tensor, per_object: int, seed: int, width: float, height: float,
                      *, spread: float = 0.06, device=None) -> tuple[Tensor, Tensor, Tensor]:
    r"""Scored candidate boxes around each ground-truth box, as a detector's raw output would look: ``per_object``
    copies of each box with its centre moved by $\mathcal{N}(0, (\text{spread} \cdot w)^2)$ (and so for y), its
    size scaled by $\exp(\mathcal{N}(0, \text{spread}^2))$, and a score that falls with the distance to the box
    (the undisturbed box scores highest, between 0.7 and 1). Returns (boxes (N, 4), scores (N,), classes (N,)),
    boxes clipped to the ``width`` x ``height`` image."""
    if not 1 <= per_object <= MAX_PER_OBJECT:
        raise BoxError("too_many", 0, f"{per_object} per object > {MAX_PER_OBJECT}")
    if len(truth) == 0:
        raise BoxError("no_boxes")
    g = generator(seed, device or "cpu")
    n, k = len(truth), per_object
    c = torch.stack(((truth[:, 0] + truth[:, 2]) / 2, (truth[:, 1] + truth[:, 3]) / 2,
                     truth[:, 2] - truth[:, 0], truth[:, 3] - truth[:, 1]), dim=1).to(device)   # (n, 4)
    noise = torch.randn(n, k, 4, generator=g, device=device) * spread
    noise[:, 0] = 0                                                  # the first copy is the box itself
    cx = c[:, None, 0] + noise[..., 0] * c[:, None, 2]
    cy = c[:, None, 1] + noise[..., 1] * c[:, None, 3]
    w = c[:, None, 2] * torch.exp(noise[..., 2])
    h = c[:, None, 3] * torch.exp(noise[..., 3])
    boxes = box_center_to_corner(torch.stack((cx, cy, w, h), dim=-1).reshape(-1, 4))
    boxes = torch.minimum(boxes.clamp(min=0), torch.tensor([width, height, width, height], device=boxes.device))
    top = 0.7 + 0.3 * torch.rand(n, 1, generator=g, device=device)   # each object's best score
    scores = (top * torch.exp(-noise.pow(2).sum(-1) / (2 * spread**2) / 4)).reshape(-1)
    classes = truth_classes.to(device).repeat_interleave(k)
    return boxes, scores, classes
