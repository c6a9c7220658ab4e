"""The detection lesson's exercises: each answer, computed by dlcore on its preset, checked against a reference
written in the tests (brute-force IoU and NMS, d2l's assignment code transcribed) or a hand-derived value, for
every sidebar seed 0-4."""

from __future__ import annotations

import pytest

from dlcore import detection
from tests.unit.detection.test_boxes_anchors_nms import brute_iou, brute_nms, d2l_assign
from ui.exercises import by_id, for_lesson
from ui.experiments import detection as experiment

SEEDS = range(5)


def test_the_lesson_has_five_exercises_in_guided_order():
    assert [ex.name for ex in for_lesson("detection")] == ["half_iou", "d2l_count", "strict_positives", "nms_low",
                                                            "per_class", "detector_per_class"]


def test_half_overlap_iou_is_one_third():
    ex = by_id("detection.half_iou")
    v = experiment.settings(ex.preset)
    a = [float(x) for x in str(v["box_a"]).split(",")]
    b = [float(x) for x in str(v["box_b"]).split(",")]
    assert float(ex.answer()) == pytest.approx(brute_iou(a, b), abs=1e-6) == pytest.approx(1 / 3, abs=1e-6)
    assert ex.grade("0.33").correct and not ex.grade("0.5").correct


def test_d2l_anchor_count_is_561_times_728_times_5():
    ex = by_id("detection.d2l_count")
    assert float(ex.answer()) * 1e6 == pytest.approx(561 * 728 * 5) == 2_042_040
    assert ex.grade("2.04").correct and ex.grade("2,04").correct and not ex.grade("2.1").correct


def test_strict_threshold_positives_equal_d2ls_assignment():
    ex = by_id("detection.strict_positives")
    v = experiment.settings(ex.preset)
    sc = experiment.scene(v)
    ref = d2l_assign(sc.truth.double(), sc.anchors.double(), float(v["assign_thr"]))
    assert float(ex.answer()) == int((ref >= 0).sum()) == len(sc.truth)


@pytest.mark.parametrize("seed", SEEDS)
def test_nms_survivors_equal_brute_force(seed):
    for name in ("nms_low", "per_class"):
        ex = by_id(f"detection.{name}")
        v = experiment.settings(ex.preset)
        sc, (boxes, scores, classes) = experiment.nms_candidates(v, seed)
        thr, k = float(v["nms_thr"]), int(v["n_cand"])
        if v["per_class"]:
            keep = []
            for c in set(classes.tolist()):
                idx = [i for i in range(len(boxes)) if int(classes[i]) == c]
                keep += [idx[j] for j in brute_nms(boxes[idx].tolist(), scores[idx].tolist(), thr)]
        else:
            keep = brute_nms(boxes.tolist(), scores.tolist(), thr)
        found = {i // k for i in keep}
        assert ex.answer(seed) == ("all" if len(found) == len(sc.truth) else "fewer")
    assert by_id("detection.nms_low").answer(seed) == "fewer"
    assert by_id("detection.per_class").answer(seed) == "all"


def test_detector_per_class_count_equals_the_boxes_matched_by_brute_force_nms():
    """The answer (6 on scene 69) recounted here: the detector's candidates above the threshold, NMS per class by
    the pure-Python reference."""
    import torch

    from dlcore.detection import detector

    ex = by_id("detection.detector_per_class")
    v = experiment.settings(ex.preset)
    model = detector.load_detector()
    scene = detector.make_scene(detector.HELD_OUT_SEED, v["scene"])
    with torch.inference_mode():
        logits, offsets = model(scene.image[None])
    probs = logits[0].softmax(-1)
    scores, classes = probs[:, 1:].max(-1)
    boxes = detection.offset_inverse(detector.anchors_for(64), offsets[0]) * 64
    keep = []
    for c in range(3):
        idx = [i for i in range(len(scores)) if int(classes[i]) == c and float(scores[i]) >= v["score_thr"]]
        keep += [idx[j] for j in brute_nms(boxes[idx].tolist(), scores[idx].tolist(), 0.45)]   # predict()'s NMS
    assert float(ex.answer()) == len(keep) == 6
