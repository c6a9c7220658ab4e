"""Normalization lesson: the four hand-written kernels, each lab view at defaults and at the caps, figure
sizes, the default training grid, and our training loop against a plain PyTorch loop of the same model."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from bench import Row, best_of


def _plain_loop(method: str, batch: int, steps: int) -> float:
    """Steps/s of a bare SGD loop on the same model and data (no recording, no evaluation)."""
    from dlcore import data
    from dlcore.normalization import training

    x, y = data.digits("train")
    model = training.small_cnn(method)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(len(x), (batch,), generator=g)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - t0)


def run() -> list[Row]:
    from dlcore.normalization import lab, training
    from dlcore.normalization import layers as norm
    from ui.figures import normalization as figs

    B = "normalization"
    rows: list[Row] = []
    labels = {k: k for k in ("shared", "picked", "cells_title", "position", "channel", "mean", "std", "sample_axis",
                             "spread_title", "dev_title", "batch_mean", "band", "bn", "ln", "refused", "batch",
                             "mean_axis", "dev_axis", "noise_title", "diverged", "column", "step", "loss", "accuracy")}
    labels |= {"sample": "n={n}", "cell_hover": "{n} {c} {s}", "column": "b={b}"}
    x16, x64 = lab.conv_activations(16), lab.conv_activations(64)
    for name, x in (("16x8x8x8 (default)", x16), ("64x8x8x8 (cap)", x64)):
        rows.append(Row(B, f"batch+layer+instance+group norm {name}", best_of(lambda x=x: (
            norm.batch_norm(x), norm.layer_norm(x, tuple(x.shape[1:])), norm.instance_norm(x), norm.group_norm(x, 4)),
            repeat=20), "ms"))
    for shape, index, tag in (((4, 6, 9), (1, 2, 4), "default 4x6x9"), (lab.MAX_CUBE, (7, 11, 15), "cap 8x12x16")):
        def axes(shape=shape, index=index):
            mask = norm.norm_groups("group", shape, index, 2).numpy()
            return figs.cube(mask, index, title="t", labels=labels), figs.cells(mask, index, labels=labels)
        rows.append(Row(B, f"axes view (mask + cube + grid) {tag}", best_of(axes), "ms", "target <= 200 ms"))
        rows.append(Row(B, f"axes view JSON {tag}", sum(len(f.to_json()) for f in axes()) / 2**20, "MB"))
    for n, shift in ((16, 0.0), (64, 1e4)):
        rows.append(Row(B, f"statistics + torch check, {n} digits, offset {shift:g}", best_of(
            lambda n=n, shift=shift: (norm.moments("group", lab.conv_activations(n, 0, shift), 4),
                                      lab.compare_with_torch(lab.conv_activations(n, 0, shift), 4))), "ms",
            "target <= 200 ms"))
    for cfg, tag in ((lab.NoiseConfig(), "default (60 repeats)"),
                     (lab.NoiseConfig(batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256), repeats=200, layer="conv"),
                      "cap (200 repeats, B <= 256, conv)")):
        rows.append(Row(B, f"batch-size noise {tag}", best_of(lambda cfg=cfg: lab.batch_noise(cfg), repeat=3), "ms"))
    big = lab.batch_noise(lab.NoiseConfig(batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256), repeats=200))
    rows.append(Row(B, "batch-size noise figure JSON at the cap",
                    len(figs.batch_noise(big, labels=labels).to_json()) / 2**20, "MB"))
    for cfg, tag in ((lab.DriftConfig(), "default (150 steps, B=16)"),
                     (lab.DriftConfig(steps=300, batch=256), "cap (300 steps, B=256)")):
        rows.append(Row(B, f"train/eval drift {tag}",
                        best_of(lambda cfg=cfg: lab.train_eval_drift(cfg), repeat=3), "ms"))
    for cfg, tag in ((lab.SequenceConfig(), "default"),
                     (lab.SequenceConfig(lengths=(16,) * 8, features=8, extra_pad=24), "cap (8 x 16 tokens, D=8)")):
        rows.append(Row(B, f"padded sequences {tag}", best_of(lambda cfg=cfg: lab.sequences(cfg)), "ms"))
    t0 = time.perf_counter()
    runs = [training.train(training.TrainConfig(m, b, 0.1, 300))
            for b in (2, 16, 128) for m in ("none", "batch", "layer", "group")]
    rows.append(Row(B, "default training grid (4 methods x 3 batches x 300 steps)", time.perf_counter() - t0, "s",
                    "target <= 20 s; cached for the class"))
    names = {m: m for m in training.METHODS}
    fig = figs.training(runs, [2, 16, 128], ["none", "batch", "layer", "group"], title="t", names=names, labels=labels)
    rows.append(Row(B, "training figure JSON (12 runs)", len(fig.to_json()) / 2**20, "MB"))
    t0 = time.perf_counter()
    worst = [training.train(training.TrainConfig(m, 128, 0.1, 500)) for m in training.METHODS]
    rows.append(Row(B, "5 methods x batch 128 x 500 steps (one cap column)", time.perf_counter() - t0, "s",
                    "a full cap grid is 3 such columns"))
    for method in ("batch", "group"):
        ours = max(300 / training.train(training.TrainConfig(method, 16, 0.1, 300)).seconds for _ in range(3))
        plain = max(_plain_loop(method, 16, 300) for _ in range(3))   # best of 3: the machine is shared
        rows.append(Row(B, f"train steps/s, {method}, batch 16: ours (eval every 10 steps)", ours, "steps/s"))
        rows.append(Row(B, f"train steps/s, {method}, batch 16: plain PyTorch loop", plain, "steps/s",
                        f"ours / plain = {ours / plain:.2f}"))
    del worst
    rows += _page_reruns()
    return rows


def _page_reruns() -> list[Row]:
    """Server time of one rerun of each tab (AppTest), caches warm: what moving a widget costs."""
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui.i18n import strings

    rows = []
    at = open_page("pages/normalization.py", "en")
    for tab in ("axes", "batch", "sequences", "train", "affine"):
        at.session_state["normalization.tab"] = strings("en")[f"normalization.tabs.{tab}"]
        at.run()
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        rows.append(Row("normalization", f"page rerun, tab {tab} (warm caches)", min(times) * 1000, "ms",
                        "exception!" if at.exception else ""))
    return rows
