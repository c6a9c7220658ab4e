"""The detection lesson's settings, each declared once, and the experiments behind its presets and defaults
(shared by the page, the claim tests and the exercises).

No torch here: the course map reads the lesson's exercises, and so these settings, before torch loads. Boxes are
typed in pixels of the bundled photo (427 x 640); the caps of the typed lists are ``dlcore.detection``'s."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ui.params import Param, defaults

if TYPE_CHECKING:
    from torch import Tensor

PHOTO_H, PHOTO_W = 427, 640                    # scikit-learn's sample photos
PHOTOS = ("china", "flower", "upload")         # scikit-learn's two photos, or the learner's own
MAX_GRID = 8                                   # rows of the coarse anchor grid (columns follow the photo's shape)
HELD_OUT = 200                                 # held-out scenes of the detector's AP
MAX_TEXT = 600                                 # dlcore.detection.boxes.MAX_TEXT

SETTINGS: tuple[Param, ...] = (
    Param.choice("photo", "china", PHOTOS, names="photos"),
    # 1) two boxes and their IoU
    Param.text("box_a", "150, 90, 390, 330", max_len=80, help=True),
    Param.text("box_b", "270, 150, 510, 390", max_len=80, help=True),
    # 2) anchors
    Param.text("sizes", "0.75, 0.5, 0.25", max_len=80, help=True),
    Param.text("ratios", "1, 2, 0.5", max_len=80, help=True),
    Param.int("px_row", 213, lo=0, hi=PHOTO_H - 1),
    Param.int("px_col", 320, lo=0, hi=PHOTO_W - 1),
    Param.int("grid", 3, lo=1, hi=MAX_GRID, help=True),
    Param.int("img_h", 561, lo=1, hi=4096, step=1, widget="number"),
    Param.int("img_w", 728, lo=1, hi=4096, step=1, widget="number"),
    # 3) ground truth, assignment; 4) NMS
    Param.text("truth", "0, 80, 60, 340, 400\n1, 180, 90, 420, 390\n0, 450, 170, 630, 410", max_len=MAX_TEXT,
               widget="text_area", help=True),
    Param.float("assign_thr", 0.5, lo=0.0, hi=1.0, step=0.05, help=True),
    Param.float("nms_thr", 0.5, lo=0.0, hi=1.0, step=0.05, help=True),
    Param.int("n_cand", 8, lo=1, hi=30, help=True),                          # dlcore.detection.nms.MAX_PER_OBJECT
    Param.bool("per_class", False, help=True),
    # 5) the tiny detector
    Param.int("scene", 6, lo=0, hi=HELD_OUT - 1),                            # three shapes, one of each
    Param.float("score_thr", 0.3, lo=0.0, hi=1.0, step=0.05, help=True),
    Param.bool("raw", True),
)
DEFAULTS = defaults(SETTINGS)

PRESETS: dict[str, dict[str, object]] = {
    "half_overlap": {"box_a": "100, 100, 300, 300", "box_b": "200, 100, 400, 300"},
    "d2l_anchors": {"sizes": "0.75, 0.5, 0.25", "ratios": "1, 2, 0.5", "img_h": 561, "img_w": 728, "grid": 2},
    "strict_assign": {"assign_thr": 0.7},
    "nms_too_high": {"nms_thr": 0.9, "per_class": False},
    "nms_too_low": {"nms_thr": 0.2, "per_class": False},
    "per_class": {"nms_thr": 0.2, "per_class": True, "scene": 69},   # scene 69: shapes the detector calls twice
}


VIEWS = {   # the settings each tab's cached view depends on (its cache key)
    "boxes": ("photo", "box_a", "box_b"),
    "anchors": ("photo", "sizes", "ratios", "px_row", "px_col", "grid", "img_h", "img_w"),
    "assign": ("photo", "sizes", "ratios", "grid", "truth", "assign_thr"),
    "nms": ("photo", "sizes", "ratios", "grid", "truth", "nms_thr", "n_cand", "per_class"),
    "detector": ("scene", "score_thr", "per_class", "raw"),
}


def view(name: str, values: Mapping[str, object], seed: int, uri: str, texts: Mapping[str, str]) -> dict:
    """The figures and tables of the tab ``name`` ("boxes", "anchors", "assign" or "nms") for these settings."""
    if name == "nms":
        return nms_view(values, seed, uri, texts)
    return {"boxes": boxes_view, "anchors": anchors_view, "assign": assign_view}[name](values, uri, texts)


def inputs(values: Mapping[str, object], view: str) -> dict[str, object]:
    """The settings ``view`` depends on: a small cache key, so moving another tab's slider reuses the view."""
    return {k: values[k] for k in VIEWS[view]}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the lesson's default (``preset`` None) or of a preset applied to the default page."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


def grid_shape(rows: int) -> tuple[int, int]:
    """(rows, columns) of the coarse anchor grid over the photo: columns in the photo's proportion, so an
    anchor of ratio 1 is close to square in pixels."""
    return rows, max(1, round(rows * PHOTO_W / PHOTO_H))


CLICK_STEP = 16   # the photo's clickable points, every CLICK_STEP pixels


def clicked_pixel(point: Mapping[str, object]) -> tuple[int, int]:
    """(row, column) of the photo pixel under a clicked chart point (its x, y in photo pixels), clamped to the
    photo: a click on an anchor's corner outside the photo picks the nearest pixel of the photo. A point without
    finite numbers (which only a forged message can send) picks the default pixel."""
    try:
        x, y = float(point.get("x")), float(point.get("y"))   # type: ignore[arg-type]
    except (TypeError, ValueError):
        x, y = float("nan"), float("nan")
    if not (math.isfinite(x) and math.isfinite(y)):
        return int(DEFAULTS["px_row"]), int(DEFAULTS["px_col"])
    return min(max(int(y), 0), PHOTO_H - 1), min(max(int(x), 0), PHOTO_W - 1)


@dataclass(frozen=True)
class Scene:
    """What the assignment and NMS tabs compute on: the coarse grid's anchors in pixels and the typed truth."""
    anchors: Tensor        # (A, 4) pixel corners
    truth: Tensor          # (G, 4) pixel corners
    classes: Tensor        # (G,)


def pixel_boxes(normalised: Tensor) -> Tensor:
    """Normalised corners to pixels of the photo."""
    import torch

    return normalised * torch.tensor([PHOTO_W, PHOTO_H, PHOTO_W, PHOTO_H], dtype=normalised.dtype)


def grid_anchors(values: Mapping[str, object]) -> Tensor:
    """The coarse grid's anchors for these settings, in photo pixels; raises ``BoxError`` for bad sizes/ratios."""
    from dlcore import detection

    sizes = detection.parse_numbers(str(values["sizes"]), "sizes")
    ratios = detection.parse_numbers(str(values["ratios"]), "ratios")
    rows, cols = grid_shape(int(values["grid"]))
    return pixel_boxes(detection.multibox_prior(rows, cols, sizes, ratios))


def scene(values: Mapping[str, object]) -> Scene:
    """Anchors and typed ground truth; raises ``BoxError`` (a ValueError with a code) for bad input."""
    from dlcore import detection

    truth, classes = detection.parse_boxes(str(values["truth"]), PHOTO_W, PHOTO_H)
    return Scene(grid_anchors(values), truth, classes)


# ---- the views: dlcore on the settings, then the figures and tables the page shows ---------------------------

PHOTO_STEP = 2   # the photo is drawn at half resolution (the boxes stay in full-resolution pixels)


def photo_rgb(name: str, upload: bytes | None = None):
    """The photo (``upload`` decoded when ``name`` is "upload"), every PHOTO_STEP-th pixel, as (H, W, 3) uint8.
    Raises ``dlcore.classifiers.ImageRejected`` for an upload it cannot use."""
    from dlcore import data
    from dlcore.detection.photo import photo_from_upload

    image = photo_from_upload(upload or b"", PHOTO_W, PHOTO_H) if name == "upload" else data.sample_image(name)
    return (image[:, ::PHOTO_STEP, ::PHOTO_STEP] * 255).round().byte().permute(1, 2, 0).numpy()


def anchor_names(values: Mapping[str, object]) -> list[str]:
    """"s=0.75, r=1" for each of the n + m - 1 anchors of a pixel, in multibox_prior's order."""
    from dlcore import detection

    sizes = detection.parse_numbers(str(values["sizes"]), "sizes")
    ratios = detection.parse_numbers(str(values["ratios"]), "ratios")
    return [f"s={s:g}, r={ratios[0]:g}" for s in sizes] + [f"s={sizes[0]:g}, r={r:g}" for r in ratios[1:]]


def boxes_view(values: Mapping[str, object], uri: str, texts: Mapping[str, str]) -> dict:
    """Two typed boxes: their IoU figure, the sliding table, corner and centre forms."""
    import numpy as np
    import pandas as pd
    import torch

    from dlcore import detection
    from ui.figures import detection as figs
    from ui.figures.common import freeze

    a = detection.parse_box(str(values["box_a"]), PHOTO_W, PHOTO_H)
    b = detection.parse_box(str(values["box_b"]), PHOTO_W, PHOTO_H)
    parts = detection.iou_parts(a, b)
    width = max(a[2] - a[0], b[2] - b[0])
    shifts = torch.linspace(-1.25 * width, 1.25 * width, 11) + (a[0] - b[0])   # centre: B's left edge on A's
    ious = detection.slide_ious(a, b, shifts)
    corners = torch.tensor([a, b], dtype=torch.float64)
    centres = detection.box_corner_to_center(corners)
    forms = pd.DataFrame(np.concatenate([corners.numpy(), centres.numpy()], axis=1).round(2),
                         columns=["x1", "y1", "x2", "y2", "cx", "cy", "w", "h"],
                         index=[texts["box_a"], texts["box_b"]])
    slide = pd.DataFrame({texts["shift"]: shifts.numpy().round(1), texts["iou"]: ious.numpy().round(4)})
    return {"parts": parts, "forms": forms, "slide_table": slide,
            "iou_fig": freeze(figs.iou_figure(uri, (PHOTO_W, PHOTO_H), a, b, parts.intersection, parts.iou, texts)),
            "slide_fig": freeze(figs.slide_figure(shifts.numpy(), ious.numpy(), parts.iou, texts))}


def anchors_view(values: Mapping[str, object], uri: str, texts: Mapping[str, str]) -> dict:
    """One pixel's anchors, the coarse grid's anchors and the count of the typed image size."""
    import torch

    from dlcore import detection
    from ui.figures import detection as figs
    from ui.figures.common import freeze

    sizes = detection.parse_numbers(str(values["sizes"]), "sizes")
    ratios = detection.parse_numbers(str(values["ratios"]), "ratios")
    names = anchor_names(values)
    row, col = int(values["px_row"]), int(values["px_col"])
    mine = pixel_boxes(detection.pixel_anchors(PHOTO_H, PHOTO_W, sizes, ratios, row, col))
    grid = grid_shape(int(values["grid"]))
    every = grid_anchors(values)
    xs, ys = torch.meshgrid(torch.arange(0, PHOTO_W, CLICK_STEP) + 0.5, torch.arange(0, PHOTO_H, CLICK_STEP) + 0.5,
                            indexing="xy")
    clickable = torch.stack((xs.reshape(-1), ys.reshape(-1)), dim=1).numpy()
    return {"per_pixel": len(names), "names": names,
            "count": detection.anchor_count(int(values["img_h"]), int(values["img_w"]), len(sizes), len(ratios)),
            "photo_count": detection.anchor_count(PHOTO_H, PHOTO_W, len(sizes), len(ratios)),
            "pixel_fig": freeze(figs.pixel_anchors_figure(uri, (PHOTO_W, PHOTO_H), (col, row), mine.numpy(), names,
                                                          clickable, texts)),
            "grid_fig": freeze(figs.grid_anchors_figure(uri, (PHOTO_W, PHOTO_H), every.numpy(), len(names), names,
                                                        grid, texts))}


def assign_view(values: Mapping[str, object], uri: str, texts: Mapping[str, str]) -> dict:
    """The IoU matrix, the greedy steps, the labels and offsets of the coarse grid's anchors."""
    import pandas as pd
    import torch

    from dlcore import detection
    from ui.figures import detection as figs
    from ui.figures.common import freeze

    sc = scene(values)
    lab = detection.label_anchors(sc.anchors, sc.truth, sc.classes, float(values["assign_thr"]))
    asg = lab.assignment
    steps = pd.DataFrame([(k + 1, s.anchor, s.truth, round(s.iou, 4)) for k, s in enumerate(asg.steps)],
                         columns=[texts["step"], texts["anchor"], texts["truth"], "IoU"])
    pos = torch.nonzero(lab.mask).reshape(-1)
    decoded = detection.offset_inverse(sc.anchors[pos], lab.offsets[pos])
    error = (decoded - sc.truth[asg.truth_of[pos]]).abs().amax(dim=1) if len(pos) else torch.zeros(0)
    offsets = pd.DataFrame({texts["anchor"]: pos.numpy(), texts["truth"]: asg.truth_of[pos].numpy(),
                            texts["label"]: lab.classes[pos].numpy(),
                            texts["how"]: [texts["by_greedy"] if not asg.by_threshold[i] else texts["by_threshold"]
                                           for i in pos.tolist()],
                            "IoU": asg.iou[pos, asg.truth_of[pos]].numpy().round(3),
                            **{name: lab.offsets[pos, k].numpy().round(3) for k, name in
                               enumerate(("t_x", "t_y", "t_w", "t_h"))},
                            texts["error"]: error.numpy()})
    return {"n_anchors": len(sc.anchors), "n_positive": int(lab.mask.sum()), "max_error": float(error.max())
            if len(pos) else 0.0, "steps": steps, "offsets": offsets,
            "heat_fig": freeze(figs.iou_heatmap(asg.iou.numpy(), [(s.anchor, s.truth) for s in asg.steps], texts)),
            "assign_fig": freeze(figs.assignment_figure(uri, (PHOTO_W, PHOTO_H), sc.anchors.numpy(),
                                                        sc.truth.numpy(), sc.classes.numpy(),
                                                        asg.truth_of.numpy(), texts))}


def nms_candidates(values: Mapping[str, object], seed: int):
    """The scored candidates the NMS tab runs on: ``n_cand`` jittered copies of each typed ground-truth box."""
    from dlcore import detection

    sc = scene(values)
    return sc, detection.jitter_candidates(sc.truth, sc.classes, int(values["n_cand"]), seed, PHOTO_W, PHOTO_H)


def nms_view(values: Mapping[str, object], seed: int, uri: str, texts: Mapping[str, str]) -> dict:
    """NMS on the candidates, step by step (class-agnostic, or per class when ``per_class``)."""
    import torch

    from dlcore import detection
    from ui.figures import detection as figs

    sc, (boxes, scores, classes) = nms_candidates(values, seed)
    thr = float(values["nms_thr"])
    if values["per_class"]:
        steps = []
        for c in torch.unique(classes).tolist():
            idx = torch.nonzero(classes == c).reshape(-1)
            steps += [(int(idx[s.kept]), [int(idx[i]) for i in s.suppressed])
                      for s in detection.nms_steps(boxes[idx], scores[idx], thr)]
        steps.sort(key=lambda s: (-float(scores[s[0]]), s[0]))
    else:
        steps = [(s.kept, list(s.suppressed)) for s in detection.nms_steps(boxes, scores, thr)]
    kept = [s[0] for s in steps]
    per_truth = [int(sum(1 for i in kept if i // int(values["n_cand"]) == j)) for j in range(len(sc.truth))]
    from ui.figures.common import freeze

    return {"kept": kept, "n": len(boxes), "per_truth": per_truth,
            "fig": freeze(figs.nms_figure(uri, (PHOTO_W, PHOTO_H), boxes.numpy(), classes.numpy(), steps,
                                          sc.truth.numpy(), texts))}


def detector_view(model, values: Mapping[str, object], class_names: list[str], texts: Mapping[str, str]) -> dict:
    """One held-out scene through the bundled detector: raw predictions, detections after per-class or
    class-agnostic NMS, ground truth."""
    import numpy as np

    from dlcore.detection import detector
    from ui.figures import detection as figs
    from ui.figures.common import freeze

    sc = detector.make_scene(detector.HELD_OUT_SEED, int(values["scene"]))
    thr = float(values["score_thr"])
    p = detector.predict(model, sc.image, score_threshold=thr, per_class=bool(values["per_class"]))
    raw = p.boxes[p.scores >= min(thr, 0.05)] if values["raw"] else p.boxes[:0]
    rgb = (sc.image * 255).round().byte().permute(1, 2, 0).numpy()
    return {"n_detections": len(p.keep), "n_truth": len(sc.boxes), "keep": p.keep,
            "fig": freeze(figs.scene_figure(figs.image_uri(np.kron(rgb, np.ones((4, 4, 1), dtype=np.uint8))),
                                            detector.SIDE, sc.boxes.numpy(), raw.numpy(), p.boxes[p.keep].numpy(),
                                            p.classes[p.keep].numpy(), p.scores[p.keep].numpy(), class_names,
                                            texts))}


def pr_view(evaluation, score_thr: float, class_names: list[str], texts: Mapping[str, str]) -> dict:
    """The held-out precision-recall curves with the operating point of ``score_thr``."""
    from dlcore.detection import detector
    from ui.figures import detection as figs
    from ui.figures.common import freeze

    curves = [(c.precision.numpy(), c.recall.numpy(), c.ap) for c in evaluation.curves]
    points = [detector.point_at(c, score_thr) for c in evaluation.curves]
    return {"points": points, "fig": freeze(figs.pr_figure(curves, points, class_names, texts))}


def segmentation_view(model, scene_index: int, evaluation, class_names: list[str], texts: Mapping[str, str]) -> dict:
    """One held-out scene through the bundled FCN: input, coarse scores, upsampled labels, truth; the held-out
    per-class IoU table."""
    import pandas as pd

    from dlcore.detection import detector, segmentation
    from ui.figures import detection as figs
    from ui.figures.common import freeze

    sc = detector.make_scene(detector.HELD_OUT_SEED, scene_index)
    path = segmentation.segment(model, sc.image)
    names = [texts["seg_background"], *class_names]
    table = pd.DataFrame({texts["label"]: [*names, texts["mean"]],
                          "IoU": [*evaluation.iou.numpy().round(4), round(evaluation.mean_iou, 4)]})
    rgb = (sc.image * 255).round().byte().permute(1, 2, 0).numpy()
    return {"path": path.shapes, "table": table,
            "pixel_accuracy": float((path.labels == sc.mask).double().mean()),
            "fig": freeze(figs.segmentation_figure(rgb, path.coarse.argmax(0).numpy(), path.labels.numpy(),
                                                   sc.mask.numpy(), names, texts))}
