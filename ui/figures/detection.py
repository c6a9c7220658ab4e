"""Figures of the detection lesson: boxes on the photo, anchors, the IoU matrix, NMS step by step, the tiny
detector's scenes and its precision-recall curves. Pure: data and translated labels in, ``go.Figure`` out."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures.common import animation_layout, base_layout, color, controls_margin, legend_at_bottom, with_frames

Texts = Mapping[str, str]
IOU_LABELS = ("iou_title", "box_a", "box_b", "intersection", "union")
SLIDE_LABELS = ("slide_title", "shift", "iou")
ANCHOR_LABELS = ("pixel_title", "grid_title", "pixel", "centres", "click", "row", "column")
ASSIGN_LABELS = ("heat_title", "anchor", "truth", "greedy", "assign_title", "background", "truth_box", "label")
TABLE_LABELS = ("step", "label", "how", "by_greedy", "by_threshold", "error")
NMS_LABELS = ("nms_title", "kept", "suppressed", "waiting", "step", "play", "pause", "truth_box", "label")
SEG_LABELS = ("seg_title", "seg_input", "seg_coarse", "seg_up", "seg_truth", "seg_background", "label", "mean")
VIEW_LABELS = {"boxes": IOU_LABELS + SLIDE_LABELS, "anchors": ANCHOR_LABELS, "assign": ASSIGN_LABELS + TABLE_LABELS,
               "nms": NMS_LABELS}   # the labels of each tab's view (ui.experiments.detection.view)
DETECT_LABELS = ("scene_title", "raw", "detected", "truth_box", "pr_title", "precision", "recall", "at_threshold")
GREY = "#999999"


def image_uri(rgb: np.ndarray) -> str:
    """An (H, W, 3) uint8 image as a JPEG data URI: a photo costs ~20 KB in the figure, not ~1 MB of numbers."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def rect_xy(boxes: np.ndarray | Sequence[Sequence[float]]) -> tuple[list, list]:
    """Closed outlines of corner-form boxes as one line trace's x and y (None between boxes)."""
    xs: list = []
    ys: list = []
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=float).reshape(-1, 4).tolist():
        xs += [x1, x2, x2, x1, x1, None]
        ys += [y1, y1, y2, y2, y1, None]
    return xs, ys


def _rects(boxes, name: str, colour: str, *, width: float = 2, dash: str = "solid", fill: str | None = None,
           showlegend: bool = True, hover: Sequence[str] | None = None) -> dict:
    xs, ys = rect_xy(boxes)
    trace = {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name, "showlegend": showlegend,
             "line": {"color": colour, "width": width, "dash": dash}, "hoverinfo": "name"}
    if fill:
        trace.update(fill="toself", fillcolor=fill)
    if hover is not None:
        trace.update(text=[h for h in hover for _ in range(6)], hoverinfo="text")
    return trace


def _photo(fig: go.Figure, uri: str, width: int, height: int) -> go.Figure:
    """The photo as the figure's background, pixel axes with y pointing down."""
    fig.add_trace(go.Image(source=uri, x0=0, y0=0, dx=width / _uri_width(uri), dy=height / _uri_height(uri),
                           hoverinfo="skip", name=""))
    fig.update_xaxes(range=[0, width], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[height, 0], showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")
    return fig


_SIZES: dict[str, tuple[int, int]] = {}


def _uri_size(uri: str) -> tuple[int, int]:
    if uri not in _SIZES:
        from PIL import Image

        with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as img:
            _SIZES[uri] = img.size
    return _SIZES[uri]


def _uri_width(uri: str) -> int:
    return _uri_size(uri)[0]


def _uri_height(uri: str) -> int:
    return _uri_size(uri)[1]


def _finish(fig: go.Figure, title: str, height: int = 430) -> go.Figure:
    """Title and margins of a figure drawn on the photo; the legend below it, where many entries fit."""
    base_layout(fig, title, height=height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50})
    return legend_at_bottom(fig, 70)   # under the x ticks (it covered the tick "0")


# ---- 1) boxes and IoU -----------------------------------------------------------------------------------------

def iou_figure(uri: str, size: tuple[int, int], a: Sequence[float], b: Sequence[float],
               intersection: Sequence[float] | None, iou: float, texts: Texts) -> go.Figure:
    """Boxes A and B on the photo: both shaded (their union), the intersection filled and outlined."""
    width, height = size
    fig = _photo(go.Figure(), uri, width, height)
    fig.add_trace(_rects([a], texts["box_a"], color(0), width=3, fill="rgba(0,114,178,0.25)"))
    fig.add_trace(_rects([b], texts["box_b"], color(1), width=3, fill="rgba(230,159,0,0.25)"))
    if intersection is not None:
        fig.add_trace(_rects([intersection], texts["intersection"], color(3), width=3, dash="dot",
                             fill="rgba(213,94,0,0.55)"))
    return _finish(fig, texts["iou_title"].format(iou=iou))


def slide_figure(shifts: np.ndarray, ious: np.ndarray, current: float, texts: Texts) -> go.Figure:
    """IoU as box B slides horizontally past box A; the dot marks B where it is now (shift 0)."""
    fig = go.Figure(go.Scatter(x=shifts, y=ious, mode="lines+markers", name=texts["iou"],
                               line={"color": color(0)}))
    fig.add_trace(go.Scatter(x=[0], y=[current], mode="markers", marker={"size": 12, "color": color(3)},
                             name=texts["box_b"] if "box_b" in texts else "B"))
    base_layout(fig, texts["slide_title"], x=texts["shift"], y=texts["iou"], height=300)
    fig.update_yaxes(range=[0, 1.02])
    return fig


# ---- 2) anchors -----------------------------------------------------------------------------------------------

def pixel_anchors_figure(uri: str, size: tuple[int, int], pixel: tuple[int, int], anchors: np.ndarray,
                         names: Sequence[str], clickable: np.ndarray, texts: Texts) -> go.Figure:
    """The n + m - 1 anchors of one pixel (one colour each, named by size and ratio), the pixel, and faint points
    (``clickable``: (k, 2) x, y at pixel centres) that a click selects to move the pixel there."""
    width, height = size
    fig = _photo(go.Figure(), uri, width, height)
    fig.add_trace(go.Scatter(x=clickable[:, 0], y=clickable[:, 1], mode="markers", name=texts["click"],
                             marker={"size": 5, "color": "rgba(255,255,255,0.25)"},
                             hovertemplate=f"{texts['row']} %{{y:.0f}}, {texts['column']} %{{x:.0f}}<extra></extra>"))
    for i, (box, name) in enumerate(zip(anchors, names)):
        fig.add_trace(_rects([box], name, color(i), width=3))
    fig.add_trace(go.Scatter(x=[pixel[0] + 0.5], y=[pixel[1] + 0.5], mode="markers", name=texts["pixel"],
                             marker={"size": 10, "color": "#ffffff", "line": {"color": "#000000", "width": 2}}))
    lo, hi = np.minimum(anchors.min(axis=0), 0), np.maximum(anchors.max(axis=0), [0, 0, width, height])
    fig.update_xaxes(range=[min(lo[0], 0) - 5, max(hi[2], width) + 5])      # anchors may reach outside the photo
    fig.update_yaxes(range=[max(hi[3], height) + 5, min(lo[1], 0) - 5])
    return _finish(fig, texts["pixel_title"].format(k=len(anchors), col=pixel[0], row=pixel[1]))


def grid_anchors_figure(uri: str, size: tuple[int, int], anchors: np.ndarray, per_pixel: int,
                        names: Sequence[str], grid: tuple[int, int], texts: Texts) -> go.Figure:
    """Every anchor of a coarse rows x cols grid over the photo: one trace per anchor shape (size, ratio)."""
    width, height = size
    fig = _photo(go.Figure(), uri, width, height)
    shaped = np.asarray(anchors).reshape(-1, per_pixel, 4)
    for i in range(per_pixel):
        fig.add_trace(_rects(shaped[:, i], names[i], color(i), width=1.5))
    centres = (shaped[:, 0, :2] + shaped[:, 0, 2:]) / 2
    fig.add_trace(go.Scatter(x=centres[:, 0], y=centres[:, 1], mode="markers", name=texts["centres"],
                             marker={"size": 7, "color": "#ffffff", "line": {"color": "#000000", "width": 1}}))
    fig.update_xaxes(range=[-0.25 * width, 1.25 * width])
    fig.update_yaxes(range=[1.25 * height, -0.25 * height])
    return _finish(fig, texts["grid_title"].format(rows=grid[0], cols=grid[1], n=len(shaped) * per_pixel))


# ---- 3) assignment --------------------------------------------------------------------------------------------

def iou_heatmap(iou: np.ndarray, greedy: Sequence[tuple[int, int]], texts: Texts) -> go.Figure:
    """The IoU matrix, anchors down, ground-truth boxes across; the greedy picks marked in order."""
    n_anchors, n_truth = iou.shape
    fig = go.Figure(go.Heatmap(z=iou.astype(np.float32), zmin=0, zmax=1, colorscale="Viridis",
                               x=[f"{texts['truth']} {j}" for j in range(n_truth)], y=list(range(n_anchors)),
                               colorbar={"title": {"text": "IoU"}},
                               hovertemplate=f"{texts['anchor']} %{{y}}, %{{x}}: %{{z:.3f}}<extra></extra>"))
    if greedy:
        fig.add_trace(go.Scatter(x=[f"{texts['truth']} {j}" for _, j in greedy], y=[i for i, _ in greedy],
                                 mode="markers+text", text=[str(k + 1) for k in range(len(greedy))],
                                 textposition="middle right", textfont={"color": "#ffffff", "size": 13},
                                 marker={"symbol": "x", "size": 12, "color": "#ffffff"}, name=texts["greedy"]))
    base_layout(fig, texts["heat_title"], x=texts["truth"], y=texts["anchor"], height=520)
    fig.update_yaxes(autorange="reversed")
    return fig


def assignment_figure(uri: str, size: tuple[int, int], anchors: np.ndarray, truth: np.ndarray,
                      truth_classes: np.ndarray, truth_of: np.ndarray, texts: Texts) -> go.Figure:
    """Each anchor that got a ground-truth box, in that box's colour; background anchors faint; the ground truth
    dashed."""
    width, height = size
    fig = _photo(go.Figure(), uri, width, height)
    neg = anchors[truth_of < 0]
    fig.add_trace(_rects(neg, texts["background"], "rgba(255,255,255,0.35)", width=1))
    for j, (box, c) in enumerate(zip(truth, truth_classes)):
        mine = anchors[truth_of == j]
        fig.add_trace(_rects(mine, f"{texts['anchor']} → {texts['truth']} {j} ({len(mine)})", color(j), width=2))
        fig.add_trace(_rects([box], f"{texts['truth_box']} {j}, {texts['label']} {c}", color(j), width=4,
                             dash="dash"))
    fig.update_xaxes(range=[-0.25 * width, 1.25 * width])
    fig.update_yaxes(range=[1.25 * height, -0.25 * height])
    return _finish(fig, texts["assign_title"].format(pos=int((truth_of >= 0).sum()), n=len(anchors)))


# ---- 4) NMS ---------------------------------------------------------------------------------------------------

def nms_figure(uri: str, size: tuple[int, int], boxes: np.ndarray, classes: np.ndarray,
               steps: Sequence[tuple[int, Sequence[int]]], truth: np.ndarray, texts: Texts) -> go.Figure:
    """NMS as an animation, one frame per round: kept boxes solid (class colour), suppressed ones dashed grey,
    those still waiting thin. The last frame shows the result; the static figure is the last frame."""
    width, height = size
    n = len(boxes)

    def state(k: int) -> list[dict]:
        kept = [s[0] for s in steps[:k]]
        gone = [i for s in steps[:k] for i in s[1]]
        waiting = sorted(set(range(n)) - set(kept) - set(gone))
        traces = [_rects(boxes[waiting], texts["waiting"], "rgba(255,255,255,0.6)", width=1),
                  _rects(boxes[gone], texts["suppressed"], GREY, width=1.5, dash="dot")]
        for c in sorted(set(classes.tolist())):
            mine = [i for i in kept if classes[i] == c]
            traces.append(_rects(boxes[mine] if mine else np.zeros((0, 4)), f"{texts['kept']}: {texts['label']} {c}",
                                 color(c), width=3.5))
        return traces

    fig = _photo(go.Figure(), uri, width, height)
    fig.add_trace(_rects(truth, texts["truth_box"], "#000000", width=1, dash="dash"))
    first = len(fig.data)
    for tr in state(len(steps)):
        fig.add_trace(tr)
    names = [f"{k}" for k in range(len(steps) + 1)]
    frames = [{"name": name, "data": state(k), "traces": list(range(first, first + len(state(k))))}
              for k, name in enumerate(names)]
    _finish(fig, texts["nms_title"].format(kept=len(steps), n=n), height=500)
    fig.update_layout(margin={"b": controls_margin(), "t": 80},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0})
    fig.update_layout(**animation_layout(names, play=texts["play"], pause=texts["pause"], step_label=texts["step"],
                                         duration_ms=700))
    fig.layout.sliders[0].active = len(names) - 1
    return with_frames(fig, frames)


# ---- 5) the tiny detector -------------------------------------------------------------------------------------

def scene_figure(uri: str, side: int, truth: np.ndarray, raw: np.ndarray, detections: np.ndarray,
                 det_classes: np.ndarray, det_scores: np.ndarray, class_names: Sequence[str],
                 texts: Texts) -> go.Figure:
    """One held-out scene: raw per-anchor predictions (thin grey), detections after NMS (class colour, with
    their scores), ground truth dashed."""
    fig = _photo(go.Figure(), uri, side, side)
    if len(raw):
        fig.add_trace(_rects(raw, f"{texts['raw']} ({len(raw)})", "rgba(153,153,153,0.8)", width=1))
    fig.add_trace(_rects(truth, texts["truth_box"], color(4), width=2, dash="dash"))
    for c, name in enumerate(class_names):
        mine = det_classes == c
        hover = [f"{name} {s:.2f}" for s in det_scores[mine]]
        fig.add_trace(_rects(detections[mine], f"{texts['detected']}: {name} ({int(mine.sum())})", color(c),
                             width=3, hover=hover))
    fig.update_xaxes(range=[-4, side + 4])
    fig.update_yaxes(range=[side + 4, -4])
    return _finish(fig, texts["scene_title"].format(n=len(detections)), height=460)


def pr_figure(curves: Sequence[tuple[np.ndarray, np.ndarray, float]], points: Sequence[tuple[float, float]],
              class_names: Sequence[str], texts: Texts) -> go.Figure:
    """Precision against recall of each class over the held-out scenes (AP in the legend), and the operating
    point of the score threshold."""
    fig = go.Figure()
    for c, ((precision, recall, ap), point, name) in enumerate(zip(curves, points, class_names)):
        fig.add_trace(go.Scatter(x=np.concatenate([[0.0], recall]), y=np.concatenate([[1.0], precision]),
                                 mode="lines", line={"color": color(c), "shape": "vh"},
                                 name=f"{name}: AP = {ap:.3f}"))
        fig.add_trace(go.Scatter(x=[point[1]], y=[point[0]], mode="markers", showlegend=c == 0,
                                 marker={"size": 12, "color": color(c), "line": {"color": "#000000", "width": 1}},
                                 name=texts["at_threshold"]))
    base_layout(fig, texts["pr_title"], x=texts["recall"], y=texts["precision"], height=400)
    fig.update_xaxes(range=[0, 1.02])
    fig.update_yaxes(range=[0, 1.02])
    return fig


# ---- 6) segmentation ------------------------------------------------------------------------------------------

def segmentation_figure(rgb: np.ndarray, coarse: np.ndarray, labels: np.ndarray, truth: np.ndarray,
                        names: Sequence[str], texts: Texts) -> go.Figure:
    """Four panels: the scene, the 8 x 8 labels of the 1 x 1 convolution's scores, the 64 x 64 labels after the
    transposed convolution, and the true labels. One colour per label (background grey)."""
    from plotly.subplots import make_subplots

    n = len(names)
    colours = [GREY] + [color(c) for c in range(n - 1)]
    scale = [[v, colours[k]] for k in range(n) for v in (k / n, (k + 1) / n)]     # a flat band per label
    fig = make_subplots(1, 4, subplot_titles=[texts[k] for k in ("seg_input", "seg_coarse", "seg_up", "seg_truth")],
                        horizontal_spacing=0.03)
    fig.add_trace(go.Image(z=rgb, hoverinfo="skip", name=texts["seg_input"]), 1, 1)
    for col, (z, key) in enumerate(((coarse, "seg_coarse"), (labels, "seg_up"), (truth, "seg_truth")), start=2):
        side = z.shape[0]
        step = rgb.shape[0] / side
        fig.add_trace(go.Heatmap(z=z.astype(np.int32), x0=step / 2 - 0.5, dx=step, y0=step / 2 - 0.5, dy=step,
                                 zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=col == 4, name=texts[key],
                                 text=[[names[int(v)] for v in row] for row in z], hoverinfo="text",
                                 colorbar={"tickvals": list(range(n)), "ticktext": list(names)}), 1, col)
    for col in range(1, 5):
        fig.update_xaxes(range=[-0.5, rgb.shape[1] - 0.5], showticklabels=False, showgrid=False, row=1, col=col)
        fig.update_yaxes(range=[rgb.shape[0] - 0.5, -0.5], showticklabels=False, showgrid=False,
                         scaleanchor="x" if col == 1 else f"x{col}", row=1, col=col)
    base_layout(fig, texts["seg_title"], height=330)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80, "b": 10})
    return fig
