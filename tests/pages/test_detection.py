"""AppTest of the detection lesson: figure values, widgets, presets, URL state, bad input, both languages."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore import detection
from dlcore.detection import detector
from tests.support import all_text, figures, open_page
from tests.unit.detection.test_boxes_anchors_nms import brute_iou
from ui.experiments import detection as experiment
from ui.i18n import strings

PAGE = "pages/detection.py"


def _tab(at, name: str, lang: str = "en"):
    """Open one of the lesson's stateful tabs (only the open tab's content is computed)."""
    at.session_state["detection.tab"] = strings(lang)[f"detection.tabs.{name}"]
    return at.run()


def _trace(fig: dict, name: str) -> dict:
    return next(tr for tr in fig["data"] if tr.get("name") == name)


def _corners(trace: dict) -> np.ndarray:
    """The boxes of an outline trace: every 6 points (4 corners, closing point, gap) give x1, y1, x2, y2."""
    x = np.array([np.nan if v is None else v for v in trace["x"]], dtype=float).reshape(-1, 6)
    y = np.array([np.nan if v is None else v for v in trace["y"]], dtype=float).reshape(-1, 6)
    return np.stack([x[:, 0], y[:, 0], x[:, 2], y[:, 2]], axis=1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_page_draws_both_boxes_their_intersection_and_the_iou(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = figures(at)[0]
    s = strings(lang)
    np.testing.assert_allclose(_corners(_trace(fig, s["detection.fig.box_a"])), [[150, 90, 390, 330]])
    np.testing.assert_allclose(_corners(_trace(fig, s["detection.fig.box_b"])), [[270, 150, 510, 390]])
    np.testing.assert_allclose(_corners(_trace(fig, s["detection.fig.intersection"])), [[270, 150, 390, 330]])
    iou = brute_iou((150, 90, 390, 330), (270, 150, 510, 390))
    assert f"{iou:.3f}" in fig["layout"]["title"]["text"]
    slide = figures(at)[1]
    aligned = brute_iou((150, 90, 390, 330), (150, 150, 390, 390))        # B straight below A: the best it gets
    assert float(np.max(slide["data"][0]["y"])) == pytest.approx(aligned, abs=1e-6)
    assert float(np.min(slide["data"][0]["y"])) == 0.0
    assert f"{iou:.3f}" in all_text(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_typed_box_moves_the_figure_and_bad_boxes_get_translated_messages(lang):
    at = open_page(PAGE, lang)
    at.text_input(key="detection.box_b").set_value("200, 100, 400, 300").run()
    at.text_input(key="detection.box_a").set_value("100, 100, 300, 300").run()
    assert not at.exception and not at.error
    assert "0.333" in figures(at)[0]["layout"]["title"]["text"]
    s = strings(lang)
    for text, code in [("300, 100, 100, 300", "order"), ("100, 100, 100, 300", "empty_area"),
                       ("100, 100, 700, 300", "outside"), ("1, 2, 3", "count"), ("a, b, c, d", "syntax")]:
        at.text_input(key="detection.box_a").set_value(text).run()
        assert not at.exception
        assert len(at.error) == 1
        head = s[f"detection.errors.{code}"].split("{")[0].strip()
        assert head[:6] in at.error[0].value, (code, at.error[0].value)
        assert at.text_input(key="detection.box_b").value == "200, 100, 400, 300"   # the page stays alive


def test_anchor_tab_draws_the_pixels_anchors_and_counts_d2ls_example():
    at = _tab(open_page(PAGE, "en"), "anchors")
    assert not at.exception and not at.error
    pix = figures(at)[0]
    expected = experiment.pixel_boxes(detection.pixel_anchors(427, 640, [0.75, 0.5, 0.25], [1, 2, 0.5], 213, 320))
    names = ["s=0.75, r=1", "s=0.5, r=1", "s=0.25, r=1", "s=0.75, r=2", "s=0.75, r=0.5"]
    for name, box in zip(names, expected.numpy()):
        np.testing.assert_allclose(_corners(_trace(pix, name))[0], box, rtol=1e-5)
    grid = figures(at)[1]
    assert sum(len(_corners(_trace(grid, n))) for n in names) == 3 * 4 * 5
    assert "2,042,040" in all_text(at)
    at.text_input(key="detection.ratios").set_value("1").run()
    at.text_input(key="detection.sizes").set_value("0.5, 0.25").run()
    assert not at.exception and not at.error
    assert len([tr for tr in figures(at)[0]["data"] if str(tr.get("name", "")).startswith("s=")]) == 2
    at.text_input(key="detection.sizes").set_value("0.5, 2").run()
    assert len(at.error) == 1 and "0.5, 2" in at.error[0].value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_assignment_tab_heatmap_is_the_iou_matrix_and_empty_truth_is_refused(lang):
    at = _tab(open_page(PAGE, lang), "assign", lang)
    assert not at.exception and not at.error
    heat = figures(at)[0]
    sc = experiment.scene(experiment.settings(None))
    ref = np.array([[brute_iou(a, g) for g in sc.truth.tolist()] for a in sc.anchors.tolist()])
    np.testing.assert_allclose(np.asarray(heat["data"][0]["z"], dtype=float), ref, atol=1e-6)
    steps = at.dataframe[0].value
    assert len(steps) == 3 and list(steps.iloc[:, 3]) == sorted(steps.iloc[:, 3], reverse=True)
    offsets = at.dataframe[1].value
    assert float(offsets.iloc[:, -1].max()) < 0.01                         # decoded back to the ground truth
    at.text_area(key="detection.truth").set_value("").run()
    assert not at.exception and len(at.error) == 1
    assert strings(lang)["detection.errors.no_boxes"][:8] in at.error[0].value
    at.text_area(key="detection.truth").set_value("0, 10, 10, 700, 50").run()
    assert len(at.error) == 1 and "700" in at.error[0].value
    at.text_area(key="detection.truth").set_value("0, 10, 10, 50, 50\n" * 13).run()
    assert len(at.error) == 1 and "13 > 12" in at.error[0].value
    at.text_area(key="detection.truth").set_value("0, 10, 10, 50, 50").run()
    assert not at.error and len(figures(at)) == 2


def test_nms_tab_animates_each_round_and_presets_change_what_survives():
    at = _tab(open_page(PAGE, "en"), "nms")
    assert not at.exception and not at.error
    fig = figures(at)[0]
    v = experiment.settings(None)
    sc, (boxes, scores, _) = experiment.nms_candidates(v, 0)
    keep = detection.nms(boxes, scores, 0.5)
    assert len(fig["frames"]) == len(keep) + 1 == 4
    assert "Kept boxes per ground-truth object: 1, 1, 1." in all_text(at)
    at.button(key="detection.preset_btn.nms_too_low").click().run()
    assert not at.exception and not at.error
    text = all_text(at)
    assert "0, 1, 1" in text or "1, 0, 1" in text
    at.button(key="detection.preset_btn.per_class").click().run()
    assert "Kept boxes per ground-truth object: 1, 1, 1." in all_text(at)
    at.button(key="detection.preset_btn.nms_too_high").click().run()
    assert len(figures(at)[0]["frames"]) > 10


def test_detector_tab_shows_detections_and_the_held_out_precision_recall():
    at = _tab(open_page(PAGE, "en"), "detector")
    assert not at.exception and not at.error
    scene, pr = figures(at)
    gt = _corners(_trace(scene, "ground-truth box"))
    truth = detector.make_scene(detector.HELD_OUT_SEED, 6).boxes.numpy()
    np.testing.assert_allclose(gt, truth)
    aps = [float(tr["name"].split("= ")[1]) for tr in pr["data"] if "AP =" in str(tr.get("name"))]
    assert len(aps) == 3 and min(aps) > 0.8
    at.slider(key="detection.score_thr").set_value(0.95).run()
    at.slider(key="detection.scene").set_value(5).run()
    assert not at.exception and not at.error
    np.testing.assert_allclose(_corners(_trace(figures(at)[0], "ground-truth box")),
                               detector.make_scene(detector.HELD_OUT_SEED, 5).boxes.numpy())
    points = [tr for tr in figures(at)[1]["data"] if tr.get("mode") == "markers"]
    assert all(float(np.asarray(p["y"])[0]) >= 0.9 for p in points)      # high threshold: high precision


def test_url_state_reopens_the_experiment_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={"detection.nms_thr": "0.9", "detection.tab": "x"})
    assert not at.exception and not at.warning
    assert at.session_state["detection.nms_thr"] == 0.9
    at = open_page(PAGE, "en", query={"detection.nms_thr": "1.5", "detection.grid": "abc"})
    assert not at.exception and len(at.warning) == 1
    assert at.session_state["detection.nms_thr"] == 0.5 and at.session_state["detection.grid"] == 3


def test_family_tab_translates_the_comparison_table():
    for lang, word in (("en", "Computed once per image"), ("zh", "每张图只算一次")):
        at = _tab(open_page(PAGE, lang), "family", lang)
        assert not at.exception and word in all_text(at)
        assert all(m in all_text(at) for m in ("R-CNN", "Fast R-CNN", "Faster R-CNN", "Mask R-CNN", "SSD", "YOLO"))


def test_offsets_table_round_trip_matches_torch_arithmetic():
    at = _tab(open_page(PAGE, "en"), "assign")
    table = at.dataframe[1].value
    sc = experiment.scene(experiment.settings(None))
    anchors = sc.anchors[torch.tensor(table.iloc[:, 0].to_numpy())]
    truth = sc.truth[torch.tensor(table.iloc[:, 1].to_numpy())]
    ca = torch.stack(((anchors[:, 0] + anchors[:, 2]) / 2, anchors[:, 2] - anchors[:, 0]), 1)
    cb = torch.stack(((truth[:, 0] + truth[:, 2]) / 2, truth[:, 2] - truth[:, 0]), 1)
    tx = (cb[:, 0] - ca[:, 0]) / ca[:, 1] / 0.1
    tw = torch.log(cb[:, 1] / ca[:, 1]) / 0.2
    np.testing.assert_allclose(table["t_x"].to_numpy(), tx.numpy(), atol=2e-3)
    np.testing.assert_allclose(table["t_w"].to_numpy(), tw.numpy(), atol=2e-3)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_segmentation_tab_shows_the_upsampling_path_and_held_out_iou(lang):
    from dlcore.detection import segmentation

    at = _tab(open_page(PAGE, lang), "segment", lang)
    assert not at.exception and not at.error
    fig = figures(at)[0]
    model = segmentation.load_fcn()
    sc = detector.make_scene(detector.HELD_OUT_SEED, 6)
    path = segmentation.segment(model, sc.image)
    heat = [tr for tr in fig["data"] if tr["type"] == "heatmap"]
    np.testing.assert_array_equal(np.asarray(heat[0]["z"]), path.coarse.argmax(0).numpy())
    np.testing.assert_array_equal(np.asarray(heat[1]["z"]), path.labels.numpy())
    np.testing.assert_array_equal(np.asarray(heat[2]["z"]), sc.mask.numpy())
    table = at.dataframe[0].value
    ref = segmentation.evaluate_fcn(model)
    np.testing.assert_allclose(table["IoU"].to_numpy()[:4], ref.iou.numpy(), atol=1e-4)
    assert "4×8×8 → 4×64×64" in all_text(at)
    at.slider(key="detection.scene").set_value(3).run()
    assert not at.exception
    np.testing.assert_array_equal(np.asarray([tr for tr in figures(at)[0]["data"] if tr["type"] == "heatmap"][2]["z"]),
                                  detector.make_scene(detector.HELD_OUT_SEED, 3).mask.numpy())


def test_detector_tab_per_class_switch_changes_what_nms_keeps_on_the_presets_scene():
    at = open_page(PAGE, "en")
    at.button(key="detection.preset_btn.per_class").click().run()
    at = _tab(at, "detector")
    assert not at.exception and not at.error
    scene = detector.make_scene(detector.HELD_OUT_SEED, 69)
    model = detector.load_detector()
    for per_class in (True, False):
        at.toggle(key="detection.per_class").set_value(per_class).run()
        p = detector.predict(model, scene.image, score_threshold=0.3, per_class=per_class)
        fig = figures(at)[0]
        assert f"{len(p.keep)} detections" in fig["layout"]["title"]["text"]
        drawn = np.concatenate([_corners(tr) for tr in fig["data"] if str(tr.get("name", "")).startswith("detected")])
        np.testing.assert_allclose(np.sort(drawn, axis=0), np.sort(p.boxes[p.keep].numpy(), axis=0), rtol=1e-5)
