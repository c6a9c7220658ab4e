"""Exercises of the detection lesson: each answer is computed by dlcore.detection on the preset it names.

dlcore is imported inside the solvers: the course map counts exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise
from ui.experiments import detection as experiment


def _iou(preset: str) -> float:
    from dlcore import detection

    v = experiment.settings(preset)
    a = detection.parse_box(str(v["box_a"]), experiment.PHOTO_W, experiment.PHOTO_H)
    b = detection.parse_box(str(v["box_b"]), experiment.PHOTO_W, experiment.PHOTO_H)
    return detection.iou_parts(a, b).iou


def _anchor_count(preset: str) -> int:
    from dlcore import detection

    v = experiment.settings(preset)
    sizes = detection.parse_numbers(str(v["sizes"]), "sizes")
    ratios = detection.parse_numbers(str(v["ratios"]), "ratios")
    return detection.anchor_count(int(v["img_h"]), int(v["img_w"]), len(sizes), len(ratios))


def _positives(preset: str) -> int:
    from dlcore import detection

    v = experiment.settings(preset)
    sc = experiment.scene(v)
    return int(detection.label_anchors(sc.anchors, sc.truth, sc.classes, float(v["assign_thr"])).mask.sum())


def _survivors(preset: str, seed: int) -> str:
    """How many of the ground-truth objects keep at least one box after NMS: "all" or "fewer"."""
    from dlcore import detection

    v = experiment.settings(preset)
    sc, (boxes, scores, classes) = experiment.nms_candidates(v, seed)
    thr = float(v["nms_thr"])
    keep = detection.batched_nms(boxes, scores, classes, thr) if v["per_class"] else detection.nms(boxes, scores, thr)
    found = {int(i) // int(v["n_cand"]) for i in keep}
    return "all" if len(found) == len(sc.truth) else "fewer"


def _detections(preset: str) -> int:
    """How many boxes the bundled detector keeps on the preset's held-out scene."""
    from dlcore.detection import detector

    v = experiment.settings(preset)
    scene = detector.make_scene(detector.HELD_OUT_SEED, int(v["scene"]))
    p = detector.predict(detector.load_detector(), scene.image, score_threshold=float(v["score_thr"]),
                         per_class=bool(v["per_class"]))
    return len(p.keep)


EXERCISES = (
    Exercise("detection", "half_iou", "half_overlap", lambda seed: _iou("half_overlap"), tolerance=0.02),
    Exercise("detection", "d2l_count", "d2l_anchors", lambda seed: _anchor_count("d2l_anchors") / 1e6,
             tolerance=0.005),
    Exercise("detection", "strict_positives", "strict_assign", lambda seed: _positives("strict_assign")),
    Exercise("detection", "nms_low", "nms_too_low", lambda seed: _survivors("nms_too_low", seed),
             options=("all", "fewer")),
    Exercise("detection", "per_class", "per_class", lambda seed: _survivors("per_class", seed),
             options=("all", "fewer")),
    Exercise("detection", "detector_per_class", "per_class", lambda seed: _detections("per_class")),
)
