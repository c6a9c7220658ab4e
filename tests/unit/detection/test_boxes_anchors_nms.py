"""dlcore.detection: boxes, IoU, anchors, assignment, offsets and NMS against independent references: pure-Python
brute force written here, d2l's published code transcribed here and its published outputs, hand-derived cases,
and invariants."""

from __future__ import annotations

import itertools
import math
import random

import pytest
import torch

from dlcore import detection
from dlcore.detection import BoxError

# ---- references written here, independently of dlcore ---------------------------------------------------------


def brute_iou(a, b) -> float:
    """IoU of two corner boxes by plain arithmetic."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def brute_nms(boxes, scores, thr) -> list[int]:
    """Textbook NMS in pure Python: sort (stable, descending), keep the best, drop those above thr, repeat."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [j for j in order if brute_iou(boxes[i], boxes[j]) <= thr]
    return keep


def d2l_multibox_prior(in_height, in_width, sizes, ratios):
    """d2l's ``multibox_prior`` (PyTorch edition, "Anchor Boxes"), transcribed."""
    num_sizes, num_ratios = len(sizes), len(ratios)
    boxes_per_pixel = num_sizes + num_ratios - 1
    size_tensor = torch.tensor(sizes)
    ratio_tensor = torch.tensor(ratios)
    steps_h, steps_w = 1.0 / in_height, 1.0 / in_width
    center_h = (torch.arange(in_height) + 0.5) * steps_h
    center_w = (torch.arange(in_width) + 0.5) * steps_w
    shift_y, shift_x = torch.meshgrid(center_h, center_w, indexing="ij")
    shift_y, shift_x = shift_y.reshape(-1), shift_x.reshape(-1)
    w = torch.cat((size_tensor * torch.sqrt(ratio_tensor[0]), sizes[0] * torch.sqrt(ratio_tensor[1:]))) \
        * in_height / in_width
    h = torch.cat((size_tensor / torch.sqrt(ratio_tensor[0]), sizes[0] / torch.sqrt(ratio_tensor[1:])))
    anchor_manipulations = torch.stack((-w, -h, w, h)).T.repeat(in_height * in_width, 1) / 2
    out_grid = torch.stack([shift_x, shift_y, shift_x, shift_y], dim=1).repeat_interleave(boxes_per_pixel, dim=0)
    return out_grid + anchor_manipulations


def d2l_assign(ground_truth, anchors, iou_threshold=0.5):
    """d2l's ``assign_anchor_to_bbox``, transcribed (threshold pass first, then the greedy pass overwrites),
    with IoU from the brute-force reference."""
    num_anchors, num_gt = anchors.shape[0], ground_truth.shape[0]
    jaccard = torch.tensor([[brute_iou(a, g) for g in ground_truth.tolist()] for a in anchors.tolist()])
    anchors_bbox_map = torch.full((num_anchors,), -1, dtype=torch.long)
    max_ious, indices = torch.max(jaccard, dim=1)
    anc_i = torch.nonzero(max_ious >= iou_threshold).reshape(-1)
    anchors_bbox_map[anc_i] = indices[max_ious >= iou_threshold]
    for _ in range(num_gt):
        max_idx = torch.argmax(jaccard)
        box_idx = (max_idx % num_gt).long()
        anc_idx = (max_idx / num_gt).long()
        anchors_bbox_map[anc_idx] = box_idx
        jaccard[:, box_idx] = -1
        jaccard[anc_idx, :] = -1
    return anchors_bbox_map


def random_boxes(n: int, seed: int, scale: float = 100.0, integer: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale / 2 + 1
    boxes = torch.cat((xy, xy + wh), dim=1)
    return boxes.round() if integer else boxes


# ---- boxes and IoU --------------------------------------------------------------------------------------------

def test_box_iou_of_two_unit_overlapping_squares_is_one_seventh():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0]])
    torch.testing.assert_close(detection.box_iou(a, b), torch.tensor([[1 / 7]]), rtol=0, atol=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_box_iou_matches_brute_force_including_disjoint_and_touching_boxes(seed):
    a, b = random_boxes(17, seed), random_boxes(9, seed + 100)
    b = torch.cat((b, a[:2], a[:1] + torch.tensor([[1000.0, 0, 1000.0, 0]], dtype=torch.float64),
                   torch.stack((a[3, 2], a[3, 1], a[3, 2] + 5, a[3, 3]))[None]))   # equal, far away, touching
    ref = torch.tensor([[brute_iou(x, y) for y in b.tolist()] for x in a.tolist()], dtype=torch.float64)
    torch.testing.assert_close(detection.box_iou(a, b), ref, rtol=1e-12, atol=1e-12)
    assert float(detection.box_iou(a[3:4], b[-1:])) == 0.0           # sharing an edge is no overlap


def test_box_iou_is_symmetric_one_on_the_diagonal_and_within_zero_one():
    a = random_boxes(40, 5, integer=True)
    m = detection.box_iou(a, a)
    torch.testing.assert_close(m, m.T, rtol=0, atol=0)
    torch.testing.assert_close(m.diagonal(), torch.ones(40, dtype=torch.float64), rtol=0, atol=1e-12)
    assert float(m.min()) >= 0 and float(m.max()) <= 1


def test_contained_box_iou_is_its_area_fraction():
    big, small = torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([[2.0, 3.0, 7.0, 5.0]])
    torch.testing.assert_close(detection.box_iou(big, small), torch.tensor([[10 / 100]]))


def test_corner_and_centre_forms_by_hand_and_round_trip():
    corners = torch.tensor([[100.0, 50.0, 300.0, 250.0], [0.0, 0.0, 1.0, 3.0]])
    centres = detection.box_corner_to_center(corners)
    torch.testing.assert_close(centres, torch.tensor([[200.0, 150.0, 200.0, 200.0], [0.5, 1.5, 1.0, 3.0]]))
    torch.testing.assert_close(detection.box_center_to_corner(centres), corners)
    boxes = random_boxes(50, 1)
    torch.testing.assert_close(detection.box_center_to_corner(detection.box_corner_to_center(boxes)), boxes)


def test_iou_parts_half_shift_gives_one_third_and_the_intersection_box():
    p = detection.iou_parts((100, 100, 300, 300), (200, 100, 400, 300))
    assert p.intersection == (200, 100, 300, 300)
    assert p.inter_area == 20000 and p.union_area == 60000
    assert math.isclose(p.iou, 1 / 3, rel_tol=1e-12)
    assert detection.iou_parts((0, 0, 1, 1), (2, 2, 3, 3)).intersection is None


def test_slide_ious_match_brute_force_and_peak_at_alignment():
    a, b = (100.0, 100.0, 200.0, 180.0), (130.0, 100.0, 230.0, 180.0)
    shifts = torch.linspace(-150, 150, 31)
    got = detection.slide_ious(a, b, shifts)
    ref = [brute_iou(a, (b[0] + s, b[1], b[2] + s, b[3])) for s in shifts.tolist()]
    torch.testing.assert_close(got, torch.tensor(ref, dtype=torch.float64), rtol=1e-12, atol=1e-12)
    assert float(detection.slide_ious(a, b, torch.tensor([-30.0]))[0]) == pytest.approx(1.0)


# ---- anchors --------------------------------------------------------------------------------------------------

def test_d2l_example_has_2042040_anchors_and_its_printed_box():
    """d2l, "Anchor Boxes": a 561 x 728 image, sizes 0.75, 0.5, 0.25, ratios 1, 2, 0.5 -> (2042040, 4) anchors;
    ``boxes[250, 250, 0, :]`` prints as [0.06, 0.07, 0.63, 0.82]."""
    y = detection.multibox_prior(561, 728, [0.75, 0.5, 0.25], [1, 2, 0.5])
    assert y.shape == (2042040, 4)
    assert detection.anchor_count(561, 728, 3, 3) == 2042040
    boxes = y.reshape(561, 728, 5, 4)
    torch.testing.assert_close(boxes[250, 250, 0], torch.tensor([0.06, 0.07, 0.63, 0.82]), rtol=0, atol=0.006)
    # derived by hand: centre (250.5/728, 250.5/561), width 0.75 * 561/728, height 0.75
    cx, cy, w, h = 250.5 / 728, 250.5 / 561, 0.75 * 561 / 728, 0.75
    torch.testing.assert_close(boxes[250, 250, 0], torch.tensor([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]),
                               rtol=0, atol=1e-6)
    # the very first anchor (pixel (0, 0), size 0.75, ratio 1), by hand: it reaches outside the image
    cx, cy = 0.5 / 728, 0.5 / 561
    torch.testing.assert_close(y[0], torch.tensor([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]), rtol=0,
                               atol=1e-6)
    torch.testing.assert_close(y[0], torch.tensor([-0.2883, -0.3741, 0.2897, 0.3759]), rtol=0, atol=1e-4)


@pytest.mark.parametrize("h, w, sizes, ratios", [(5, 7, [0.75, 0.5, 0.25], [1, 2, 0.5]), (4, 4, [0.3], [1]),
                                                  (3, 8, [0.2, 0.9], [0.5, 3.0, 1.0, 2.0]), (1, 1, [1.0], [4.0])])
def test_multibox_prior_equals_d2ls_code(h, w, sizes, ratios):
    torch.testing.assert_close(detection.multibox_prior(h, w, sizes, ratios), d2l_multibox_prior(h, w, sizes, ratios),
                               rtol=0, atol=1e-6)


def test_square_image_anchor_area_is_s_squared_and_its_aspect_is_r():
    y = detection.multibox_prior(6, 6, [0.5, 0.3], [1.0, 2.0, 0.25]).reshape(6, 6, 4, 4)[2, 3]
    wh = y[:, 2:] - y[:, :2]
    torch.testing.assert_close(wh[:, 0] * wh[:, 1], torch.tensor([0.25, 0.09, 0.25, 0.25]), rtol=1e-5, atol=0)
    torch.testing.assert_close(wh[:, 0] / wh[:, 1], torch.tensor([1.0, 1.0, 2.0, 0.25]), rtol=1e-5, atol=0)
    torch.testing.assert_close((y[:, :2] + y[:, 2:]) / 2, torch.tensor([[3.5 / 6, 2.5 / 6]]).expand(4, 2))


def test_pixel_anchors_equal_the_slice_of_all_anchors():
    every = detection.multibox_prior(9, 13, [0.6, 0.2], [1, 2, 0.5]).reshape(9, 13, 4, 4)
    for i, j in [(0, 0), (4, 7), (8, 12)]:
        torch.testing.assert_close(detection.pixel_anchors(9, 13, [0.6, 0.2], [1, 2, 0.5], i, j), every[i, j])


def test_anchor_caps_and_typed_sizes_and_ratios_give_coded_errors():
    with pytest.raises(BoxError) as e:
        detection.multibox_prior(1000, 1000, [0.5, 0.3], [1, 2])
    assert e.value.code == "too_many"
    assert detection.parse_numbers("0.75, 0.5，0.25", "sizes") == (0.75, 0.5, 0.25)
    for text, kind in [("", "sizes"), ("0", "sizes"), ("1.5", "sizes"), ("a", "sizes"), ("1,1,1,1,1,1", "sizes"),
                       ("0", "ratios"), ("20", "ratios"), ("nan", "ratios"), ("inf", "sizes")]:
        with pytest.raises(BoxError) as e:
            detection.parse_numbers(text, kind)
        assert e.value.code == kind
    with pytest.raises(BoxError):
        detection.pixel_anchors(4, 4, [0.5], [1], 4, 0)


# ---- assignment and offsets -----------------------------------------------------------------------------------

D2L_TRUTH = torch.tensor([[0.1, 0.08, 0.52, 0.92], [0.55, 0.2, 0.9, 0.88]])
D2L_CLASSES = torch.tensor([0, 1])
D2L_ANCHORS = torch.tensor([[0, 0.1, 0.2, 0.3], [0.15, 0.2, 0.4, 0.4], [0.63, 0.05, 0.88, 0.98],
                            [0.66, 0.45, 0.8, 0.8], [0.57, 0.3, 0.92, 0.9]])


def test_label_anchors_reproduces_d2ls_published_labels_mask_and_offsets():
    """d2l, "Anchor Boxes", labelling the five anchors with the dog and cat boxes: classes [0, 1, 2, 0, 2],
    mask on anchors 1, 2, 4, and the printed offsets."""
    lab = detection.label_anchors(D2L_ANCHORS, D2L_TRUTH, D2L_CLASSES)
    assert lab.classes.tolist() == [0, 1, 2, 0, 2]
    assert lab.mask.tolist() == [False, True, True, False, True]
    published = torch.tensor([0, 0, 0, 0, 1.40e+00, 1.00e+01, 2.59e+00, 7.18e+00, -1.20e+00, 2.69e-01, 1.68e+00,
                              -1.57e+00, 0, 0, 0, 0, -5.71e-01, -1.00e+00, 4.17e-06, 6.26e-01]).reshape(5, 4)
    torch.testing.assert_close(lab.offsets, published, rtol=0, atol=6e-3)


@pytest.mark.parametrize("seed, thr", [(0, 0.5), (1, 0.3), (2, 0.7), (3, 0.0), (4, 1.0)])
def test_greedy_assignment_equals_d2ls_code(seed, thr):
    anchors, truth = random_boxes(30, seed), random_boxes(4, seed + 50)
    asg = detection.assign_anchors(anchors, truth, thr)
    assert asg.truth_of.tolist() == d2l_assign(truth, anchors, thr).tolist()
    assert len(asg.steps) == 4 and len({s.anchor for s in asg.steps}) == 4 and len({s.truth for s in asg.steps}) == 4
    assert [s.iou for s in asg.steps] == sorted((s.iou for s in asg.steps), reverse=True)   # largest first


def test_greedy_gives_every_truth_an_anchor_even_below_the_threshold():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    truth = torch.tensor([[0.0, 0.0, 30.0, 30.0]])                  # IoU 1/9 with anchor 0
    asg = detection.assign_anchors(anchors, truth, 0.5)
    assert asg.truth_of.tolist() == [0, -1] and asg.steps[0].iou == pytest.approx(1 / 9)


@pytest.mark.parametrize("seed", range(3))
def test_offsets_decode_back_to_the_boxes(seed):
    anchors, boxes = random_boxes(64, seed, scale=1.0), random_boxes(64, seed + 7, scale=1.0)
    back = detection.offset_inverse(anchors, detection.offset_boxes(anchors, boxes))
    torch.testing.assert_close(back, boxes, rtol=0, atol=1e-5)


def test_offsets_by_hand_with_d2ls_scales():
    anchor = torch.tensor([[0.0, 0.0, 2.0, 4.0]])        # centre (1, 2), size (2, 4)
    box = torch.tensor([[1.0, 0.0, 3.0, 8.0]])           # centre (2, 4), size (2, 8)
    expected = torch.tensor([[(1 / 2) / 0.1, (2 / 4) / 0.1, math.log(1 + 1e-6) / 0.2, math.log(2 + 1e-6) / 0.2]])
    torch.testing.assert_close(detection.offset_boxes(anchor, box), expected, rtol=1e-6, atol=1e-6)


def test_empty_ground_truth_and_bad_threshold_are_refused():
    with pytest.raises(BoxError) as e:
        detection.assign_anchors(D2L_ANCHORS, torch.zeros(0, 4))
    assert e.value.code == "no_boxes"
    for thr in (-0.1, 1.5, float("nan")):
        with pytest.raises(BoxError) as e:
            detection.assign_anchors(D2L_ANCHORS, D2L_TRUTH, thr)
        assert e.value.code == "threshold"


# ---- NMS ------------------------------------------------------------------------------------------------------

def test_nms_on_d2ls_example_keeps_the_dog_and_the_cat():
    """d2l, "Anchor Boxes", multibox_detection: the four boxes with best scores 0.9, 0.8, 0.7, 0.9 and NMS 0.5
    keep boxes 0 and 3; 1 and 2 are suppressed by box 0."""
    anchors = torch.tensor([[0.1, 0.08, 0.52, 0.92], [0.08, 0.2, 0.56, 0.95], [0.15, 0.3, 0.62, 0.91],
                            [0.55, 0.2, 0.9, 0.88]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.9])
    assert detection.nms(anchors, scores, 0.5).tolist() == [0, 3]
    steps = detection.nms_steps(anchors, scores, 0.5)
    assert [(s.kept, sorted(s.suppressed)) for s in steps] == [(0, [1, 2]), (3, [])]


@pytest.mark.parametrize("seed, thr", list(itertools.product(range(3), (0.0, 0.2, 0.5, 0.8, 1.0))))
def test_nms_matches_pure_python_brute_force(seed, thr):
    boxes = random_boxes(60, seed, integer=True)
    scores = torch.rand(60, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    keep = detection.nms(boxes, scores, thr)
    assert keep.tolist() == brute_nms(boxes.tolist(), scores.tolist(), thr)
    assert torch.all(scores[keep][:-1] >= scores[keep][1:])          # descending score order
    kept = boxes[keep]
    assert float((detection.box_iou(kept, kept) - torch.eye(len(keep), dtype=torch.float64)).max()) <= thr


def test_nms_threshold_one_keeps_everything_and_steps_account_for_every_box():
    boxes = random_boxes(30, 3)
    scores = torch.rand(30, generator=torch.Generator().manual_seed(3))
    assert sorted(detection.nms(boxes, scores, 1.0).tolist()) == list(range(30))
    steps = detection.nms_steps(boxes, scores, 0.3)
    seen = [s.kept for s in steps] + [i for s in steps for i in s.suppressed]
    assert sorted(seen) == list(range(30))


def test_batched_nms_never_suppresses_across_classes_and_equals_per_class_brute_force():
    boxes = random_boxes(50, 9, integer=True)
    scores = torch.rand(50, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    classes = torch.randint(0, 3, (50,), generator=torch.Generator().manual_seed(10))
    keep = detection.batched_nms(boxes, scores, classes, 0.3)
    expected = []
    for c in range(3):
        idx = [i for i in range(50) if int(classes[i]) == c]
        expected += [idx[k] for k in brute_nms([boxes[i].tolist() for i in idx], [float(scores[i]) for i in idx], 0.3)]
    assert sorted(keep.tolist()) == sorted(expected)
    assert torch.all(scores[keep][:-1] >= scores[keep][1:])
    same = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    assert detection.batched_nms(same, torch.tensor([0.9, 0.8]), torch.tensor([0, 1]), 0.5).tolist() == [0, 1]
    assert detection.nms(same, torch.tensor([0.9, 0.8]), 0.5).tolist() == [0]


def test_nms_refuses_bad_threshold_and_too_many_boxes():
    boxes = random_boxes(5, 0)
    for thr in (-0.01, 1.01, float("inf")):
        with pytest.raises(BoxError) as e:
            detection.nms(boxes, torch.rand(5), thr)
        assert e.value.code == "threshold"
    with pytest.raises(BoxError) as e:
        detection.nms(random_boxes(2001, 0), torch.rand(2001), 0.5)
    assert e.value.code == "too_many"


def test_jittered_candidates_are_deterministic_inside_the_image_and_start_with_the_truth():
    truth = torch.tensor([[100.0, 100.0, 200.0, 220.0], [300.0, 50.0, 640.0, 427.0]])
    a = detection.jitter_candidates(truth, torch.tensor([0, 1]), 6, 3, 640, 427)
    b = detection.jitter_candidates(truth, torch.tensor([0, 1]), 6, 3, 640, 427)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    boxes, scores, classes = a
    torch.testing.assert_close(boxes[[0, 6]], truth)
    assert classes.tolist() == [0] * 6 + [1] * 6
    assert float(boxes.min()) >= 0 and float(boxes[:, 0::2].max()) <= 640 and float(boxes[:, 1::2].max()) <= 427
    assert int(scores[:6].argmax()) == 0 and int(scores[6:].argmax()) == 0    # the undisturbed box scores best


# ---- typed boxes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, code, index", [
    ("0, 10, 10, 5, 50", "order", 1), ("0, 10, 10, 50, 5", "order", 1), ("0, 10, 10, 10, 50", "empty_area", 1),
    ("0, -1, 10, 50, 50", "outside", 1), ("0, 10, 10, 50, 500", "outside", 1), ("", "no_boxes", 0),
    ("  \n ", "no_boxes", 0), ("0, 1, 2, 3", "count", 1), ("0, a, 2, 3, 4", "syntax", 1),
    ("0, 1, 1, 5, 5\n1.5, 1, 1, 5, 5", "class_label", 2), ("12, 1, 1, 5, 5", "class_label", 1),
    ("0, nan, 1, 5, 5", "syntax", 1), ("0, 1, 1, 5, 5\n" * 13, "too_many", 0), ("0" * 700, "too_long", 0),
])
def test_typed_boxes_give_coded_errors(text, code, index):
    with pytest.raises(BoxError) as e:
        detection.parse_boxes(text, 640, 427)
    assert e.value.code == code and e.value.index == index
    assert isinstance(e.value, ValueError)


def test_typed_boxes_parse_with_commas_spaces_and_full_width_commas():
    boxes, classes = detection.parse_boxes("0, 1, 2, 30, 40\n2 5 5 640 427；1，0，0，9，9".replace("；", ";"), 640, 427)
    torch.testing.assert_close(boxes, torch.tensor([[1.0, 2, 30, 40], [5, 5, 640, 427], [0, 0, 9, 9]]))
    assert classes.tolist() == [0, 2, 1]
    assert detection.parse_box("10 20 30 40", 640, 427) == (10.0, 20.0, 30.0, 40.0)


def test_random_typed_boxes_are_accepted_exactly_when_valid():
    rng = random.Random(0)
    for _ in range(200):
        x1, y1, x2, y2 = (rng.randint(-20, 660) for _ in range(4))
        text = f"{x1}, {y1}, {x2}, {y2}"
        valid = x1 < x2 and y1 < y2 and x1 >= 0 and y1 >= 0 and x2 <= 640 and y2 <= 427
        try:
            detection.parse_box(text, 640, 427)
            assert valid, text
        except BoxError:
            assert not valid, text


def test_a_clicked_point_picks_its_pixel_clamped_to_the_photo():
    from ui.experiments import detection as experiment

    assert experiment.clicked_pixel({"x": 80.5, "y": 48.5}) == (48, 80)
    assert experiment.clicked_pixel({"x": -120.0, "y": 900.0}) == (426, 0)
    assert experiment.clicked_pixel({"x": 639.9, "y": 0.0}) == (0, 639)
    for forged in ({}, {"x": "a", "y": 1}, {"x": float("nan"), "y": 3.0}, {"x": None, "y": None}):
        assert experiment.clicked_pixel(forged) == (213, 320)
