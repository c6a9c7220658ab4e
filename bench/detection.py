"""Detection lesson: the issue's speed targets (IoU 10k x 20 <= 20 ms, NMS of 2,000 boxes <= 50 ms, the detector
on one 128 x 128 scene <= 50 ms, any page interaction <= 150 ms of server CPU), the held-out AP (cached for the
class), and training steps/s against a plain PyTorch loop of the same model."""

from __future__ import annotations

import time

import torch

from bench import Row, cpu_ms

B = "detection"




def run() -> list[Row]:
    from dlcore import detection
    from dlcore.detection import detector

    rows: list[Row] = []
    g = torch.Generator().manual_seed(0)
    anchors = detection.multibox_prior(40, 50, [0.75, 0.5, 0.25], [1, 2, 0.5])     # 10,000 anchors
    xy = torch.rand(20, 2, generator=g) * 0.7
    truth = torch.cat((xy, xy + 0.1 + torch.rand(20, 2, generator=g) * 0.2), dim=1)
    rows.append(Row(B, "box_iou 10,000 anchors x 20 boxes", cpu_ms(lambda: detection.box_iou(anchors, truth)), "ms",
                    "CPU; target <= 20 ms"))
    xy = torch.rand(2000, 2, generator=g) * 500
    boxes = torch.cat((xy, xy + 5 + torch.rand(2000, 2, generator=g) * 80), dim=1)
    scores = torch.rand(2000, generator=g)
    rows.append(Row(B, "nms 2,000 random boxes (the cap)", cpu_ms(lambda: detection.nms(boxes, scores, 0.5)), "ms",
                    "target <= 50 ms"))
    centres = torch.rand(20, 2, generator=g) * 500
    objects = torch.cat((centres, centres + 60), dim=1)
    cand, cscores, _ = detection.jitter_candidates(objects, torch.zeros(20, dtype=torch.long), 30, 0, 640, 640)
    many = torch.cat([cand] * 4)[:2000] + torch.rand(2000, 4, generator=g)
    rows.append(Row(B, "nms 2,000 clustered boxes (20 objects)", cpu_ms(
        lambda: detection.nms(many, torch.cat([cscores] * 4)[:2000], 0.5)), "ms", "target <= 50 ms"))
    rows.append(Row(B, "multibox_prior d2l example (2,042,040 anchors)", cpu_ms(
        lambda: detection.multibox_prior(561, 728, [0.75, 0.5, 0.25], [1, 2, 0.5]), repeat=3), "ms"))
    model = detector.load_detector()
    for side in (64, 128):
        image = detector.make_scene(detector.HELD_OUT_SEED, 0, side).image
        rows.append(Row(B, f"detector on one {side}x{side} scene (forward, decode, NMS)", cpu_ms(
            lambda image=image: detector.predict(model, image)), "ms", "target <= 50 ms" if side == 128 else ""))
    c0 = time.process_time()
    result = detector.evaluate(model, 200)
    rows.append(Row(B, "held-out AP@0.5 over 200 scenes (cached for the class)", (time.process_time() - c0) * 1000,
                    "ms CPU", f"mAP {result.mean_ap:.3f}"))
    rows += _training_speed()
    rows += _page_interactions()
    return rows


def _training_speed() -> list[Row]:
    """Steps/s of dlcore's training loop against a plain PyTorch loop of the same model, data and loss."""
    from dlcore.detection import detector

    config = detector.TrainConfig(n_train=256, steps=41)
    detector.train(detector.TrainConfig(n_train=256, steps=1))     # warm-up
    c0 = time.process_time()
    detector.train(config)                                          # data, targets, 41 steps
    c1 = time.process_time()
    detector.train(detector.TrainConfig(n_train=256, steps=81))     # the same data and targets, 81 steps
    ours = 40 / ((time.process_time() - c1) - (c1 - c0))           # the 40 steps more
    scenes = detector.make_scenes(1, 256)
    x = torch.stack([s.image for s in scenes])
    classes, offsets, mask = detector.stack_targets(scenes, detector.anchors_for())
    model = detector.TinySSD()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    c0 = time.process_time()
    for _ in range(config.steps - 1):
        idx = torch.randint(0, 256, (32,))
        logits, pred = model(x[idx])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 4), classes[idx].reshape(-1)) + \
            ((pred - offsets[idx]).abs() * mask[idx, :, None]).sum() / mask[idx].sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    plain = (config.steps - 1) / (time.process_time() - c0)
    return [Row(B, "tiny SSD training (dlcore.detection.detector.train)", ours, "steps/s", "batch 32, 64x64"),
            Row(B, "tiny SSD training (plain PyTorch loop)", plain, "steps/s", "same model, data, loss")]


def _page_interactions() -> list[Row]:
    """Server CPU of one interaction on each tab (AppTest rerun after a widget change that misses the cache),
    and of a warm rerun."""
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui.i18n import strings

    moves = {"boxes": ("detection.box_b", [f"{270 + i}, 150, 510, 390" for i in range(1, 4)]),
             "anchors": ("detection.px_col", [100, 200, 300]),
             "assign": ("detection.assign_thr", [0.3, 0.35, 0.4]),
             "nms": ("detection.nms_thr", [0.3, 0.35, 0.4]),
             "detector": ("detection.scene", [3, 4, 5]),
             "family": (None, [None] * 3)}
    rows = []
    at = open_page("pages/detection.py", "en")
    for tab, (key, values) in moves.items():
        at.session_state["detection.tab"] = strings("en")[f"detection.tabs.{tab}"]
        at.run()
        fresh, warm = [], []
        for value in values:
            if key:
                at.session_state[key] = value
            c0 = time.process_time()
            at.run()
            fresh.append(time.process_time() - c0)
            c0 = time.process_time()
            at.run()
            warm.append(time.process_time() - c0)
        note = "exception!" if at.exception else "target <= 150 ms"
        rows.append(Row(B, f"page interaction, tab {tab}: new value (CPU)", min(fresh) * 1000, "ms", note))
        rows.append(Row(B, f"page interaction, tab {tab}: warm rerun (CPU)", min(warm) * 1000, "ms", note))
    return rows
