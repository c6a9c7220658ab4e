r"""Bounding boxes: corner and centre forms, areas, and intersection over union (d2l, "Object Detection and
Bounding Boxes" and "Anchor Boxes").

A box in corner form is $(x_1, y_1, x_2, y_2)$ with $x_1 < x_2$, $y_1 < y_2$ (y grows downwards, as in an image);
in centre form it is $(c_x, c_y, w, h)$. The intersection over union of boxes $A$ and $B$ is

$$J(A, B) = \frac{|A \cap B|}{|A \cup B|} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}.$$
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

MAX_BOXES = 2000          # boxes one call accepts (NMS builds an N x N IoU matrix: 16 MB at the cap)
MAX_GROUND_TRUTH = 12     # ground-truth boxes a learner may type
MAX_TEXT = 600            # characters of a typed box list
MAX_CLASS = 9             # class labels 0..MAX_CLASS


class BoxError(ValueError):
    """A box or box list that cannot be used. ``code`` is one of: syntax, count, order, empty_area, outside,
    no_boxes, too_many, class_label, too_long, threshold; ``index`` is the 1-based box (line) at fault (0: the
    whole list); ``detail`` the offending text or value."""

    def __init__(self, code: str, index: int = 0, detail: str = "") -> None:
        super().__init__(f"{code} (box {index}): {detail}" if detail else f"{code} (box {index})")
        self.code, self.index, self.detail = code, index, detail


def box_corner_to_center(boxes: Tensor) -> Tensor:
    r"""$(x_1, y_1, x_2, y_2) \to (c_x, c_y, w, h)$ with $c_x = (x_1 + x_2)/2$, $w = x_2 - x_1$ (and so for y).

    boxes: (N, 4) in corner form. Returns (N, 4) in centre form."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_center_to_corner(boxes: Tensor) -> Tensor:
    r"""$(c_x, c_y, w, h) \to (x_1, y_1, x_2, y_2)$ with $x_1 = c_x - w/2$, $x_2 = c_x + w/2$ (and so for y).

    boxes: (N, 4) in centre form. Returns (N, 4) in corner form."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def box_area(boxes: Tensor) -> Tensor:
    r"""$|A| = (x_2 - x_1)(y_2 - y_1)$ of each box; boxes: (N, 4) in corner form. Returns (N,)."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(a: Tensor, b: Tensor) -> Tensor:
    r"""Intersection over union of every pair: $J_{ij} = |a_i \cap b_j| / (|a_i| + |b_j| - |a_i \cap b_j|)$.

    a: (N, 4), b: (M, 4), both in corner form. Returns (N, M). The intersection of two boxes is the box from the
    larger top-left corner to the smaller bottom-right one, empty (area 0) when those corners cross.
    Same arithmetic as d2l's ``box_iou`` (and torchvision's ``box_iou``)."""
    area_a, area_b = box_area(a), box_area(b)                        # (N,), (M,)
    ax1, ay1, ax2, ay2 = (v[:, None] for v in a.unbind(-1))         # (N, 1) each
    bx1, by1, bx2, by2 = (v[None, :] for v in b.unbind(-1))         # (1, M) each
    # in place where a fresh (N, M) tensor would only be thrown away (NMS asks for 2000 x 2000)
    inter_w = torch.minimum(ax2, bx2).sub_(torch.maximum(ax1, bx1)).clamp_(min=0)   # 0 where they do not overlap
    inter_h = torch.minimum(ay2, by2).sub_(torch.maximum(ay1, by1)).clamp_(min=0)
    inter = inter_w.mul_(inter_h)                                    # (N, M)
    union = (area_a[:, None] + area_b[None, :]).sub_(inter)
    return inter.div_(union)


@dataclass(frozen=True)
class IoUParts:
    """The pieces of one IoU, for the figure: the intersection box (None when the boxes do not overlap)."""
    area_a: float
    area_b: float
    intersection: tuple[float, float, float, float] | None
    inter_area: float
    union_area: float
    iou: float


def iou_parts(a: tuple[float, ...], b: tuple[float, ...]) -> IoUParts:
    """Areas, intersection box, union and IoU of two corner-form boxes (plain floats, as the figure needs)."""
    ta, tb = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inside = x2 > x1 and y2 > y1
    area_a, area_b = float(box_area(ta)[0]), float(box_area(tb)[0])
    inter = (x2 - x1) * (y2 - y1) if inside else 0.0
    return IoUParts(area_a, area_b, (x1, y1, x2, y2) if inside else None, inter, area_a + area_b - inter,
                    float(box_iou(ta, tb)[0, 0]))


def slide_ious(a: tuple[float, ...], b: tuple[float, ...], shifts: Tensor) -> Tensor:
    """IoU of box ``a`` with box ``b`` moved right by each of ``shifts`` (pixels, any sign): the sliding table.

    Returns (len(shifts),)."""
    moved = torch.tensor([b], dtype=torch.float64).repeat(len(shifts), 1)
    moved[:, 0::2] += shifts.to(torch.float64)[:, None]
    return box_iou(torch.tensor([a], dtype=torch.float64), moved)[0]


def check_boxes(boxes: Tensor, width: float, height: float) -> None:
    """Raise :class:`BoxError` unless every box (N, 4) is in corner order, has an area, and lies in the
    ``width`` x ``height`` image (edges included)."""
    if len(boxes) > MAX_BOXES:
        raise BoxError("too_many", 0, f"{len(boxes)} > {MAX_BOXES}")
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist(), start=1):
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            raise BoxError("syntax", i, "not finite")
        if x2 < x1 or y2 < y1:
            raise BoxError("order", i, f"({x1:g}, {y1:g}, {x2:g}, {y2:g})")
        if x2 == x1 or y2 == y1:
            raise BoxError("empty_area", i, f"({x1:g}, {y1:g}, {x2:g}, {y2:g})")
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise BoxError("outside", i, f"({x1:g}, {y1:g}, {x2:g}, {y2:g})")


def parse_box(text: str, width: float, height: float) -> tuple[float, float, float, float]:
    """One typed box "x1, y1, x2, y2" (pixels), checked by :func:`check_boxes`; raises :class:`BoxError`."""
    boxes, _ = parse_boxes(text, width, height, labelled=False, max_boxes=1)
    return tuple(boxes[0].tolist())


def parse_boxes(text: str, width: float, height: float, *, labelled: bool = True,
                max_boxes: int = MAX_GROUND_TRUTH) -> tuple[Tensor, Tensor]:
    """A typed list of boxes, one per line: "class, x1, y1, x2, y2" (``labelled``) or "x1, y1, x2, y2", in
    pixels of a ``width`` x ``height`` image. Returns (boxes (N, 4) float32, classes (N,) int64; zeros when not
    ``labelled``). Raises :class:`BoxError` naming the first line at fault; an empty list is an error too."""
    if len(text) > MAX_TEXT:
        raise BoxError("too_long", 0, str(len(text)))
    lines = [line.strip() for line in text.replace(";", "\n").splitlines() if line.strip()]
    if not lines:
        raise BoxError("no_boxes")
    if len(lines) > max_boxes:
        raise BoxError("too_many", 0, f"{len(lines)} > {max_boxes}")
    want = 5 if labelled else 4
    rows, classes = [], []
    for i, line in enumerate(lines, start=1):
        parts = [p for p in line.replace("，", ",").replace(",", " ").split()]
        if len(parts) != want:
            raise BoxError("count", i, line[:40])
        try:
            values = [float(p) for p in parts]
        except ValueError as e:
            raise BoxError("syntax", i, line[:40]) from e
        if not all(math.isfinite(v) for v in values):
            raise BoxError("syntax", i, line[:40])
        if labelled:
            label = values.pop(0)
            if label != int(label) or not 0 <= label <= MAX_CLASS:
                raise BoxError("class_label", i, parts[0][:10])
            classes.append(int(label))
        else:
            classes.append(0)
        rows.append(values)
    boxes = torch.tensor(rows, dtype=torch.float32)
    check_boxes(boxes, width, height)
    return boxes, torch.tensor(classes, dtype=torch.int64)


def check_threshold(value: float, name: str = "threshold") -> float:
    """``value`` if it is a number in [0, 1]; :class:`BoxError` ("threshold") otherwise."""
    v = float(value)
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise BoxError("threshold", 0, f"{name} = {value}")
    return v
