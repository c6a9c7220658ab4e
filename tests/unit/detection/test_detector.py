"""dlcore.detection.detector: synthetic scenes, the tiny SSD's shapes and loss, average precision against
scikit-learn and hand-derived cases, and the bundled weights' held-out AP."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from dlcore import detection
from dlcore.detection import BoxError, detector


def test_scenes_are_deterministic_and_boxes_enclose_their_shapes():
    a, b = detector.make_scene(3, 5), detector.make_scene(3, 5)
    torch.testing.assert_close(a.image, b.image, rtol=0, atol=0)
    for i in range(30):
        s = detector.make_scene(1, i)
        assert 1 <= len(s.boxes) <= detector.MAX_OBJECTS and len(s.boxes) == len(s.classes)
        iou = detection.box_iou(s.boxes, s.boxes) - torch.eye(len(s.boxes))
        assert float(iou.max()) <= 0                                   # objects never overlap
        painted = (s.image - 0.15).min(dim=0).values > 0.08 + 1e-6     # brighter than any background pixel
        covered = torch.zeros_like(painted)
        for box, c in zip(s.boxes.tolist(), s.classes.tolist()):
            x1, y1, x2, y2 = (int(v) for v in box)
            inside = painted[y1:y2, x1:x2].float().mean()
            expected = {0: 1.0, 1: np.pi / 4, 2: 0.5}[c]               # square, disc, triangle fill of their box
            assert abs(float(inside) - expected) < 0.12, (i, c, float(inside))
            covered[y1:y2, x1:x2] = True
        assert not (painted & ~covered).any()                          # nothing is painted outside the boxes


def test_network_outputs_one_prediction_per_anchor():
    model = detector.TinySSD()
    logits, offsets = model(torch.zeros(2, 3, 64, 64))
    anchors = detector.anchors_for(64)
    assert anchors.shape == (8 * 8 * 4 + 4 * 4 * 4, 4)
    assert logits.shape == (2, len(anchors), 4) and offsets.shape == (2, len(anchors), 4)
    logits128, _ = model(torch.zeros(1, 3, 128, 128))
    assert logits128.shape[1] == len(detector.anchors_for(128)) == 16 * 16 * 4 + 8 * 8 * 4


def test_detection_loss_is_cross_entropy_plus_masked_l1():
    g = torch.Generator().manual_seed(0)
    logits, offsets = torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, 4, generator=g)
    classes = torch.tensor([[0, 1, 0, 3, 0], [2, 0, 0, 0, 0]])
    target = torch.randn(2, 5, 4, generator=g)
    mask = classes > 0
    ce = F.cross_entropy(logits.reshape(-1, 4), classes.reshape(-1))
    l1 = F.l1_loss(offsets[mask], target[mask], reduction="sum") / 3
    torch.testing.assert_close(detector.detection_loss(logits, offsets, classes, target, mask), ce + l1)


def test_training_is_deterministic():
    config = detector.TrainConfig(n_train=16, steps=3, batch_size=4)
    (m1, h1), (m2, h2) = detector.train(config), detector.train(config)
    assert h1 == h2
    for p, q in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_match_detections_by_hand():
    truth = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [20.0, 20.0, 26.0, 30.0],
                          [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([0.6, 0.9, 0.5, 0.8])
    # the 0.9 box (IoU 9/11 with truth 0) takes truth 0; the 0.6 box is a duplicate; the 0.5 box has IoU 0.6
    assert detector.match_detections(boxes, scores, truth).tolist() == [False, True, True, False]
    assert detector.match_detections(boxes, scores, truth, 0.7).tolist() == [False, True, False, False]


def test_average_precision_by_hand():
    # ranked: TP, FP, TP, FP with 3 ground-truth boxes: AP = 1/3 * 1 + 1/3 * 2/3 = 5/9
    curve = detector.average_precision(torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([1, 0, 1, 0]).bool(), 3)
    assert curve.ap == pytest.approx(5 / 9)
    torch.testing.assert_close(curve.recall, torch.tensor([1 / 3, 1 / 3, 2 / 3, 2 / 3], dtype=torch.float64))
    with pytest.raises(BoxError):
        detector.average_precision(torch.tensor([0.5]), torch.tensor([True]), 0)


@pytest.mark.parametrize("seed", range(4))
def test_average_precision_equals_sklearn_scaled_by_the_found_fraction(seed):
    """scikit-learn's AP normalises recall by the positives among the detections; ours by every ground-truth
    box, so they differ exactly by the fraction of ground truth found."""
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(40, generator=g, dtype=torch.float64)
    tp = torch.rand(40, generator=g) < 0.6
    n_truth = int(tp.sum()) + seed * 3
    ours = detector.average_precision(scores, tp, n_truth).ap
    ref = average_precision_score(tp.numpy(), scores.numpy()) * int(tp.sum()) / n_truth
    assert ours == pytest.approx(ref, rel=1e-12)


def test_point_at_threshold_reads_the_curve():
    curve = detector.average_precision(torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([1, 0, 1, 0]).bool(), 3)
    assert detector.point_at(curve, 0.75) == pytest.approx((0.5, 1 / 3))
    assert detector.point_at(curve, 0.95) == (1.0, 0.0)
    assert detector.point_at(curve, 0.0) == pytest.approx((0.5, 2 / 3))


def test_bundled_detector_reproduces_its_recorded_held_out_ap():
    report = json.loads((detector.MODELS_DIR / "training.json").read_text(encoding="utf-8"))
    result = detector.evaluate(detector.load_detector())
    assert result.mean_ap == pytest.approx(report["held_out_map50"], abs=1e-6)
    assert result.mean_ap > 0.85
    assert all(c.ap > 0.8 for c in result.curves)


def test_predictions_are_sorted_above_the_threshold_and_within_the_cap():
    model = detector.load_detector()
    scene = detector.make_scene(detector.HELD_OUT_SEED, 0)
    p = detector.predict(model, scene.image, score_threshold=0.3)
    assert len(p.keep) <= detector.MAX_DETECTIONS
    assert torch.all(p.scores[p.keep] >= 0.3)
    assert torch.all(p.scores[p.keep][:-1] >= p.scores[p.keep][1:])
    best = detection.box_iou(scene.boxes, p.boxes[p.keep]).max(dim=1).values
    assert torch.all(best >= 0.5)                                      # every object of this scene is found
    for bad in (-0.1, 1.1):
        with pytest.raises(BoxError):
            detector.predict(model, scene.image, score_threshold=bad)
    with pytest.raises(BoxError):
        detector.predict(model, torch.zeros(3, 60, 60))
    with pytest.raises(BoxError):
        detector.evaluate(model, 10_000)
