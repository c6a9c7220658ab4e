"""Train the detection lesson's bundled tiny SSD deterministically on one CPU thread.

    python scripts/train_detection.py            # ~2 min on one idle thread; identical files on every run

Writes assets/models/detection/
  tiny_ssd.pt    dlcore.detection.detector.TinySSD (state dict, ~140 KB)
  tiny_fcn.pt    dlcore.detection.segmentation.TinyFCN (state dict, ~30 KB)
  training.json  the configs, the losses every 50 steps, the held-out AP@0.5 per class and their mean, the
                 held-out IoU per label and their mean
Read with ``dlcore.detection.detector.load_detector()`` and ``dlcore.detection.segmentation.load_fcn()``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlcore.detection import detector, segmentation  # noqa: E402


def state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = detector.MODELS_DIR
    out.mkdir(parents=True, exist_ok=True)
    config = detector.TrainConfig()
    t0 = time.perf_counter()
    model, history = detector.train(config)
    seconds = time.perf_counter() - t0
    torch.save(state_dict(model), out / "tiny_ssd.pt")
    result = detector.evaluate(model)
    print(f"detector trained in {seconds:.1f} s; held-out mAP@0.5 {result.mean_ap:.3f}")
    seg_config = segmentation.SegConfig()
    t0 = time.perf_counter()
    fcn, seg_history = segmentation.train_fcn(seg_config)
    seg_seconds = time.perf_counter() - t0
    torch.save(state_dict(fcn), out / "tiny_fcn.pt")
    seg = segmentation.evaluate_fcn(fcn)
    print(f"FCN trained in {seg_seconds:.1f} s; held-out mIoU {seg.mean_iou:.3f}")
    report = {"config": asdict(config), "loss_every_50_steps": history,
              "held_out_ap50": dict(zip(detector.CLASSES, (c.ap for c in result.curves))),
              "held_out_map50": result.mean_ap,
              "fcn_config": asdict(seg_config), "fcn_loss_every_50_steps": seg_history,
              "fcn_held_out_iou": dict(zip(("background", *detector.CLASSES), seg.iou.tolist())),
              "fcn_held_out_miou": seg.mean_iou}
    (out / "training.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
