"""Lesson: object detection — boxes and IoU, anchors, labelling anchors, NMS, a tiny SSD, an FCN (notes 004: d2l)."""

import streamlit as st

from dlcore import detection
from dlcore.classifiers import ImageRejected
from dlcore.detection import detector, segmentation
from dlcore.detection.photo import UPLOAD_TYPES
from ui import lesson
from ui.controls import control
from ui.experiments import detection as experiment
from ui.figures import detection as figs
from ui.figures.common import thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import safely
from ui.state import bind, global_seed, sync_url

S = "detection"
TABS = ("boxes", "anchors", "assign", "nms", "detector", "segment", "family")
FIG = f"{S}.fig"

lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values) for name, values in experiment.PRESETS.items()]
lesson.predict(bound, PRESETS)
v, seed = bound.values(), global_seed()
tabs = st.tabs([t(f"{S}.tabs.{name}") for name in TABS], key=f"{S}.tab", on_change="rerun")
shapes = list(option_names(f"{S}.shapes", detector.CLASSES).values())


@lesson.cached(8)
def photo(name: str, upload: bytes | None = None) -> str:
    return figs.image_uri(experiment.photo_rgb(name, upload))


def backdrop() -> str:   # the photo under the boxes: a bundled one, or the upload kept from the first tab
    return photo(v["photo"]) if v["photo"] != "upload" else st.session_state.get(f"{S}._photo") or photo("china")


@lesson.cached(128)
def view(name: str, values: dict, seed: int, uri: str, language: str) -> dict:
    return experiment.view(name, values, seed, uri, labels(FIG, figs.VIEW_LABELS[name]))


def shown(name: str) -> dict | None:   # the tab's view, or None after a translated message about the input
    try:
        return view(name, experiment.inputs(v, name), seed, backdrop(), lang())
    except detection.BoxError as e:
        st.error(t(f"{S}.errors.{e.code}", index=e.index, detail=e.detail), icon=":material/error:")


@st.cache_resource(show_spinner=False)
def models() -> tuple[detector.TinySSD, segmentation.TinyFCN]:
    return detector.load_detector(), segmentation.load_fcn()


@st.cache_data(max_entries=1, ttl=None, show_spinner=t(f"{S}.evaluating"))   # ~2 s once per process: say so
def evaluation() -> tuple[detector.Evaluation, segmentation.SegEvaluation]:   # held-out scores, once for the class
    return detector.evaluate(models()[0], experiment.HELD_OUT), segmentation.evaluate_fcn(models()[1])


def pick_pixel() -> None:   # a click on the photo picks the pixel whose anchors are drawn
    if points := st.session_state[f"{S}.pixel_fig"].selection.points:
        st.session_state[f"{S}.px_row"], st.session_state[f"{S}.px_col"] = experiment.clicked_pixel(points[0])


@lesson.cached(64)
def scene(values: dict, language: str) -> dict:
    return experiment.detector_view(models()[0], values, shapes, labels(FIG, figs.DETECT_LABELS))


@lesson.cached(64)
def segmented(index: int, language: str) -> dict:
    return experiment.segmentation_view(models()[1], index, evaluation()[1], shapes, labels(FIG, figs.SEG_LABELS))


if tabs[0].open:
    with tabs[0], safely():
        for name, col in zip(("photo", "box_a", "box_b"), st.columns([1, 2, 2])):
            control(bound, name, col)
        up = st.file_uploader(t(f"{S}.upload"), list(UPLOAD_TYPES), max_upload_size=2, key=f"{S}.upload") \
            if v["photo"] == "upload" else None
        try:
            st.session_state[f"{S}._photo"] = photo("upload", up.getvalue()) if up else backdrop()
        except ImageRejected as e:
            st.error(t(f"{S}.bad_upload.{e.reason}"), icon=":material/broken_image:")
        if (out := shown("boxes")) is not None:
            p = out["parts"]
            lesson.chart(thaw(out["iou_fig"]), f"{S}.iou_fig")
            st.caption(t(f"{S}.notice.iou", inter=p.inter_area, union=p.union_area, iou=p.iou))
            st.dataframe(out["forms"])
            lesson.chart(thaw(out["slide_fig"]), f"{S}.slide_fig")
            st.dataframe(out["slide_table"].T)
if tabs[1].open:
    with tabs[1], safely():
        for name, col in zip(("sizes", "ratios", "grid", "px_row", "px_col"), st.columns(3) + st.columns(2)):
            control(bound, name, col)
        if (out := shown("anchors")) is not None:
            lesson.chart(thaw(out["pixel_fig"]), f"{S}.pixel_fig", on_select=pick_pixel, selection_mode="points")
            st.caption(t(f"{S}.notice.pixel", k=out["per_pixel"], count=out["photo_count"]))
            lesson.chart(thaw(out["grid_fig"]), f"{S}.grid_fig")
            for name, col in zip(("img_h", "img_w"), st.columns(2)):
                control(bound, name, col)
            st.markdown(t(f"{S}.notice.count", h=v["img_h"], w=v["img_w"], k=out["per_pixel"], count=out["count"]))
if tabs[2].open:
    with tabs[2], safely():
        control(bound, "truth", st.expander(t(f"{S}.truth_title"), icon=":material/edit:"))
        control(bound, "assign_thr")
        if (out := shown("assign")) is not None:
            lesson.chart(thaw(out["heat_fig"]), f"{S}.heat_fig")
            st.dataframe(out["steps"], hide_index=True)
            lesson.chart(thaw(out["assign_fig"]), f"{S}.assign_fig")
            st.caption(t(f"{S}.notice.assign", pos=out["n_positive"], n=out["n_anchors"], err=out["max_error"]))
            st.dataframe(out["offsets"], hide_index=True)
if tabs[3].open:
    with tabs[3], safely():
        control(bound, "truth", st.expander(t(f"{S}.truth_title"), icon=":material/edit:"))
        for name, col in zip(("nms_thr", "n_cand", "per_class"), st.columns(3)):
            control(bound, name, col)
        if (out := shown("nms")) is not None:
            lesson.chart(thaw(out["fig"]), f"{S}.nms_fig")
            st.caption(t(f"{S}.notice.nms", kept=len(out["kept"]), n=out["n"],
                         per_truth=", ".join(map(str, out["per_truth"]))))
if tabs[4].open:
    with tabs[4], safely():
        for name, col in zip(("scene", "score_thr", "per_class", "raw"), st.columns(4)):
            control(bound, name, col)
        lesson.chart(thaw(scene(experiment.inputs(v, "detector"), lang())["fig"]), f"{S}.scene_fig")
        result = evaluation()[0]
        pr = experiment.pr_view(result, v["score_thr"], shapes, labels(FIG, figs.DETECT_LABELS))
        lesson.chart(thaw(pr["fig"]), f"{S}.pr_fig")
        st.caption(t(f"{S}.notice.ap", n=experiment.HELD_OUT, map=result.mean_ap, thr=v["score_thr"]))
if tabs[5].open:
    with tabs[5], safely():
        control(bound, "scene")
        out = segmented(v["scene"], lang())
        lesson.chart(thaw(out["fig"]), f"{S}.seg_fig")
        st.caption(t(f"{S}.notice.path", path=" → ".join("×".join(map(str, s)) for s in out["path"])))
        st.dataframe(out["table"], hide_index=True)
        st.caption(t(f"{S}.notice.miou", n=experiment.HELD_OUT, miou=evaluation()[1].mean_iou))
        st.page_link("pages/convolution.py", label=t(f"{S}.conv_link"), icon=":material/grid_on:")
if tabs[6].open:
    tabs[6].markdown(t(f"{S}.family_table"))

lesson.presets(bound, PRESETS)
lesson.code_that_ran(detection.box_iou, detection.multibox_prior, detection.assign_anchors, detection.offset_boxes,
                     detection.offset_inverse, detection.nms_steps, detector.predict, detector.average_precision,
                     segmentation.bilinear_kernel, segmentation.TinyFCN)
sync_url(bound)
