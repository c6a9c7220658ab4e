"""Object detection from the ground up: boxes and IoU, anchors, labelling anchors, NMS, a tiny single-shot
detector (d2l, "Object Detection and Bounding Boxes", "Anchor Boxes", "Single Shot Multibox Detection")."""

from dlcore.detection.anchors import (
    AnchorLabels,
    Assignment,
    GreedyStep,
    anchor_count,
    anchor_shapes,
    assign_anchors,
    label_anchors,
    multibox_prior,
    offset_boxes,
    offset_inverse,
    parse_numbers,
    pixel_anchors,
)
from dlcore.detection.boxes import (
    BoxError,
    IoUParts,
    box_area,
    box_center_to_corner,
    box_corner_to_center,
    box_iou,
    check_boxes,
    check_threshold,
    iou_parts,
    parse_box,
    parse_boxes,
    slide_ious,
)
from dlcore.detection.nms import NMSStep, batched_nms, jitter_candidates, nms, nms_steps

__all__ = [
    "AnchorLabels", "Assignment", "BoxError", "GreedyStep", "IoUParts", "NMSStep", "anchor_count", "anchor_shapes",
    "assign_anchors", "batched_nms", "box_area", "box_center_to_corner", "box_corner_to_center", "box_iou",
    "check_boxes", "check_threshold", "iou_parts", "jitter_candidates", "label_anchors", "multibox_prior", "nms",
    "nms_steps", "offset_boxes", "offset_inverse", "parse_box", "parse_boxes", "parse_numbers", "pixel_anchors",
    "slide_ious",
]
