"""Claim tests of the detection lesson: each sentence a learner reads about what the lab shows, run through dlcore
on the exact preset or default behind it (``ui.experiments.detection``), issue 27.

Texts: assets/i18n/<lang>/detection.toml (``presets.*.note``, ``notice.*``, ``help.*``, the family table) and
assets/lessons/<lang>/detection.md; the English sentence is quoted in each docstring. Where the lab's candidates
depend on the sidebar seed, the claim runs over seeds 0-4.
"""

from __future__ import annotations

import pytest
import torch

from dlcore import detection
from dlcore.detection import detector
from tests.unit.detection.test_boxes_anchors_nms import brute_iou, brute_nms
from ui.experiments import detection as experiment

SEEDS = range(5)


def boxes_of(preset: str | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    v = experiment.settings(preset)
    return tuple(detection.parse_box(str(v["box_a"]), 640, 427)), tuple(detection.parse_box(str(v["box_b"]), 640, 427))


def kept_per_object(preset: str | None, seed: int) -> list[int]:
    """How many boxes the NMS tab keeps per ground-truth object, by the brute-force NMS of the tests."""
    v = experiment.settings(preset)
    sc, (boxes, scores, classes) = experiment.nms_candidates(v, seed)
    thr, k = float(v["nms_thr"]), int(v["n_cand"])
    groups = [list(range(len(boxes)))] if not v["per_class"] else \
        [[i for i in range(len(boxes)) if int(classes[i]) == c] for c in sorted(set(classes.tolist()))]
    keep = [g[j] for g in groups for j in brute_nms(boxes[g].tolist(), scores[g].tolist(), thr)]
    return [sum(1 for i in keep if i // k == j) for j in range(len(sc.truth))]


# ---- boxes and IoU --------------------------------------------------------------------------------------------

def test_half_overlap_gives_one_third():
    """presets.half_overlap: "Box B covers half of box A, yet the IoU is only 1/3: the union counts the part of B
    outside A too." Also detection.md: "two equal boxes shifted by half their width overlap by half, but their
    IoU is only 1/3"."""
    a, b = boxes_of("half_overlap")
    assert (a[2] - a[0]) == (b[2] - b[0]) and b[0] - a[0] == (a[2] - a[0]) / 2 and a[1::2] == b[1::2]
    p = detection.iou_parts(a, b)
    assert p.inter_area == pytest.approx(p.area_a / 2)
    assert p.iou == pytest.approx(1 / 3) == pytest.approx(brute_iou(a, b))


def test_default_iou_notice_union_counts_the_intersection_once():
    """notice.iou: "Intersection …, union …: IoU = …. The union is both shaded boxes; the intersection is counted
    once." At the defaults: intersection 120 x 180, each box 240 x 240."""
    p = detection.iou_parts(*boxes_of(None))
    assert p.inter_area == 120 * 180
    assert p.union_area == p.area_a + p.area_b - p.inter_area == 2 * 240 * 240 - 120 * 180
    assert p.iou == pytest.approx(p.inter_area / p.union_area) == pytest.approx(0.2308, abs=1e-4)


# ---- anchors --------------------------------------------------------------------------------------------------

def test_d2l_preset_has_five_anchors_per_pixel_and_2042040_in_all():
    """presets.d2l_anchors: "Sizes 0.75, 0.5, 0.25 and ratios 1, 2, 0.5 give 5 anchors per pixel, and the
    561 × 728 image of the d2l example gets 2,042,040 of them." """
    v = experiment.settings("d2l_anchors")
    sizes, ratios = (detection.parse_numbers(str(v[k]), k) for k in ("sizes", "ratios"))
    assert len(detection.pixel_anchors(v["img_h"], v["img_w"], sizes, ratios, 0, 0)) == 5
    assert len(detection.multibox_prior(v["img_h"], v["img_w"], sizes, ratios)) == 2_042_040


def test_pixel_notice_counts_the_photos_anchors():
    """notice.pixel: "This pixel has {k} anchors; over the whole photo that is {count} anchors." """
    v = experiment.settings(None)
    sizes, ratios = (detection.parse_numbers(str(v[k]), k) for k in ("sizes", "ratios"))
    every = detection.multibox_prior(experiment.PHOTO_H, experiment.PHOTO_W, sizes, ratios)
    mine = detection.pixel_anchors(experiment.PHOTO_H, experiment.PHOTO_W, sizes, ratios, v["px_row"], v["px_col"])
    assert len(mine) == 5
    assert len(every) == detection.anchor_count(427, 640, len(sizes), len(ratios)) == 427 * 640 * 5


def test_anchor_widths_follow_the_concept_formula_and_ratio_one_is_near_square_on_the_photo_grid():
    """detection.md: "An anchor of size s and ratio r has normalised width s√r·h/w and height s/√r, and is centred
    on ((j + 0.5)/w, (i + 0.5)/h)". help.grid: "columns in the photo's proportion" (so ratio-1 anchors are close to
    square in pixels)."""
    rows, cols = experiment.grid_shape(3)
    assert (rows, cols) == (3, 4)
    anchors = experiment.grid_anchors(experiment.settings(None)).reshape(rows, cols, 5, 4)
    w = anchors[..., 2] - anchors[..., 0]
    h = anchors[..., 3] - anchors[..., 1]
    aspect = (w / h)[1, 1]
    assert abs(float(aspect[0]) - 1) < 0.15                            # size 0.75, ratio 1: near square in pixels
    assert float(aspect[3] / aspect[0]) == pytest.approx(2, rel=1e-5)  # ratio 2 is twice as wide as ratio 1
    centre = (anchors[1, 2, 0, :2] + anchors[1, 2, 0, 2:]) / 2
    torch.testing.assert_close(centre, torch.tensor([(2 + 0.5) / cols * 640, (1 + 0.5) / rows * 427]))


# ---- assignment -----------------------------------------------------------------------------------------------

def test_default_assignment_decodes_back_and_leaves_background_as_class_zero():
    """notice.assign: "{pos} of {n} anchors get a ground-truth box; the rest are background (class 0). Decoding each
    positive anchor's offsets gives its box back to within {err} pixels." """
    v = experiment.settings(None)
    sc = experiment.scene(v)
    lab = detection.label_anchors(sc.anchors, sc.truth, sc.classes, v["assign_thr"])
    assert 0 < int(lab.mask.sum()) < len(sc.anchors)
    assert torch.all(lab.classes[~lab.mask] == 0) and torch.all(lab.offsets[~lab.mask] == 0)
    back = detection.offset_inverse(sc.anchors[lab.mask], lab.offsets[lab.mask])
    err = (back - sc.truth[lab.assignment.truth_of[lab.mask]]).abs().max()
    assert float(err) < 0.01


def test_strict_threshold_leaves_only_the_greedy_matches():
    """presets.strict_assign: "With 0.7 instead of 0.5 only the greedy matches stay positive: one anchor per
    ground-truth box." (and at the default 0.5 there are more)."""
    v = experiment.settings("strict_assign")
    sc = experiment.scene(v)
    strict = detection.assign_anchors(sc.anchors, sc.truth, v["assign_thr"])
    assert int((strict.truth_of >= 0).sum()) == len(sc.truth) == len(strict.steps)
    assert sorted(strict.truth_of[strict.truth_of >= 0].tolist()) == list(range(len(sc.truth)))
    default = detection.assign_anchors(sc.anchors, sc.truth, experiment.settings(None)["assign_thr"])
    assert int((default.truth_of >= 0).sum()) > len(sc.truth)


# ---- NMS ------------------------------------------------------------------------------------------------------

def test_the_two_overlapping_objects_have_iou_about_0_43_and_different_classes():
    """exercises nms_low / per_class: "three objects, two of which overlap (IoU about 0.43)" of different
    classes."""
    sc = experiment.scene(experiment.settings(None))
    assert float(detection.box_iou(sc.truth[:1], sc.truth[1:2])) == pytest.approx(0.43, abs=0.01)
    assert sc.classes[0] != sc.classes[1]
    assert float(detection.box_iou(sc.truth[2:], sc.truth[:2]).max()) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_default_nms_keeps_one_box_per_object(seed):
    """The default NMS tab (threshold 0.5) already shows the point: one box per object."""
    assert kept_per_object(None, seed) == [1, 1, 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_too_high_threshold_keeps_several_duplicates_per_object(seed):
    """presets.nms_too_high: "At 0.9 almost nothing overlaps enough to be suppressed: every object keeps several
    duplicate boxes." Also detection.md: "A threshold that is too high keeps duplicates"."""
    assert min(kept_per_object("nms_too_high", seed)) >= 3


@pytest.mark.parametrize("seed", SEEDS)
def test_too_low_threshold_makes_one_of_the_overlapping_objects_disappear(seed):
    """presets.nms_too_low: "At 0.2 the best box of one of the two overlapping objects suppresses every box of the
    other: one object disappears." Also detection.md: "one that is too low lets an object suppress a neighbour
    that overlaps it"."""
    kept = kept_per_object("nms_too_low", seed)
    assert sorted(kept[:2]) == [0, 1] and kept[2] == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_per_class_nms_keeps_both_overlapping_objects(seed):
    """presets.per_class: "Same threshold 0.2, but boxes only suppress boxes of their own class: both overlapping
    objects survive." Also detection.md: "Running NMS per class stops a box from suppressing boxes of another
    class"."""
    assert experiment.settings("per_class")["nms_thr"] == experiment.settings("nms_too_low")["nms_thr"]
    assert kept_per_object("per_class", seed) == [1, 1, 1]


# ---- the tiny detector ----------------------------------------------------------------------------------------

def test_the_lab_detector_is_a_two_scale_ssd_with_n_plus_m_minus_one_anchors_per_pixel():
    """family_table: "the tiny detector tab is a two-scale SSD"; detection.md: "a small convolutional network makes
    feature maps at two scales, and at every pixel of each map a 3 × 3 convolution outputs, for every anchor
    there, the class scores and the four offsets"."""
    model = detector.load_detector()
    assert len(model.cls) == len(model.box) == len(detector.SCALES) == 2
    assert all(c.kernel_size == (3, 3) for c in (*model.cls, *model.box))
    k = len(detector.SCALES[0]) + len(detector.RATIOS) - 1
    assert model.cls[0].out_channels == k * (len(detector.CLASSES) + 1) and model.box[0].out_channels == k * 4


def test_ap_notice_is_the_mean_over_classes_of_the_held_out_ap():
    """notice.ap: "Average precision at IoU 0.5 on {n} held-out scenes, mean over the classes (mAP)". The held-out
    scenes are not the training scenes."""
    result = detector.evaluate(detector.load_detector(), experiment.HELD_OUT)
    assert result.mean_ap == pytest.approx(sum(c.ap for c in result.curves) / 3)
    assert detector.HELD_OUT_SEED != detector.TrainConfig().data_seed
    assert sum(c.n_truth for c in result.curves) == sum(len(s.boxes) for s in
                                                         detector.make_scenes(detector.HELD_OUT_SEED, 200))


def test_raising_the_score_threshold_trades_recall_for_precision():
    """help.score_thr: "Detections scoring below this are dropped; the dots on the precision–recall curves move
    with it." """
    result = detector.evaluate(detector.load_detector(), experiment.HELD_OUT)
    for curve in result.curves:
        low, high = detector.point_at(curve, 0.1), detector.point_at(curve, 0.9)
        assert high[1] <= low[1] and high[0] >= low[0]


# ---- segmentation ---------------------------------------------------------------------------------------------

def test_fcn_path_notice_shapes_and_bilinear_start():
    """notice.path: "Three blocks halve the side to 8; a 1 × 1 convolution makes one score per label; a transposed
    convolution with kernel 16, stride 8 and padding 4 (started as bilinear interpolation) brings the scores back to
    64 × 64." """
    from dlcore.detection import segmentation

    model = segmentation.load_fcn()
    path = segmentation.segment(model, detector.make_scene(detector.HELD_OUT_SEED, 6).image)
    assert [s[1] for s in path.shapes] == [64, 32, 16, 8, 8, 64]
    assert model.score.kernel_size == (1, 1) and model.score.out_channels == len(detector.CLASSES) + 1
    up = model.up
    assert (up.kernel_size, up.stride, up.padding) == ((16, 16), (8, 8), (4, 4))
    fresh = segmentation.TinyFCN()
    torch.testing.assert_close(fresh.up.weight, segmentation.bilinear_kernel(4, 16))


def test_miou_notice_is_the_mean_of_the_label_ious_over_held_out_pixels():
    """notice.miou: "IoU of each label over all pixels of {n} held-out scenes; mean IoU …" """
    from dlcore.detection import segmentation

    result = segmentation.evaluate_fcn(segmentation.load_fcn(), experiment.HELD_OUT)
    assert int(result.confusion.sum()) == experiment.HELD_OUT * 64 * 64
    assert result.mean_iou == pytest.approx(float(result.iou.mean()))


def test_concept_transposed_convolution_restores_the_size_and_starts_as_bilinear_interpolation():
    """detection.md: "kernel 2s, stride s and padding s/2 give (h/s - 1) s - s + 2s = h again. Started with bilinear
    weights, that layer first interpolates the coarse scores"."""
    import torch.nn.functional as F

    from dlcore.detection import segmentation

    for h, s in ((64, 8), (32, 4), (48, 2)):
        x = torch.rand(1, 2, h // s, h // s, dtype=torch.float64, generator=torch.Generator().manual_seed(h))
        up = F.conv_transpose2d(x, segmentation.bilinear_kernel(2, 2 * s).double(), stride=s, padding=s // 2)
        assert up.shape[-1] == (h // s - 1) * s - s + 2 * s == h
        ref = F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)
        torch.testing.assert_close(up[..., s:-s, s:-s], ref[..., s:-s, s:-s], rtol=1e-12, atol=1e-12)


def test_per_class_preset_scene_keeps_a_second_box_per_confused_object_unless_class_agnostic():
    """presets.per_class: "The cost shows in the tiny detector's scene 69: an object it scores as two shapes keeps
    a box for each; switch per-class NMS off and one box per object remains." """
    v = experiment.settings("per_class")
    model = detector.load_detector()
    scene = detector.make_scene(detector.HELD_OUT_SEED, v["scene"])
    per_class = detector.predict(model, scene.image, score_threshold=v["score_thr"], per_class=True)
    agnostic = detector.predict(model, scene.image, score_threshold=v["score_thr"], per_class=False)
    hit = detection.box_iou(scene.boxes, per_class.boxes[per_class.keep]) >= 0.5          # (objects, detections)
    assert len(per_class.keep) > len(scene.boxes) and int(hit.sum(1).max()) >= 2
    assert len({int(c) for c in per_class.classes[per_class.keep][hit[int(hit.sum(1).argmax())]]}) >= 2
    hit = detection.box_iou(scene.boxes, agnostic.boxes[agnostic.keep]) >= 0.5
    assert len(agnostic.keep) == len(scene.boxes) and hit.sum(1).tolist() == [1] * len(scene.boxes)
