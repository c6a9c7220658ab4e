"""Linear-classifiers lesson: the issue's targets, in CPU time of this process. Decision regions of all four
classifiers on a 200 x 200 grid with 500 points (<= 150 ms), five-fold cross-validation over 10 values of k on the
digits (<= 1 s), and live SVM / softmax training against a plain PyTorch loop of the same model (>= 90 % of its
steps per second)."""

from __future__ import annotations

import statistics
import time

import torch

from bench import Row, cpu_ms

B = "linear_classifiers"




def _plain_loop(x, y, loss: str, steps: int, lam: float, lr: float) -> float:
    """Steps per second of the textbook loop: same model, same loss, torch.optim.SGD, nothing else."""
    W = (0.01 * torch.randn(3, 2)).requires_grad_()
    b = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr)
    crit = torch.nn.MultiMarginLoss() if loss == "svm" else torch.nn.CrossEntropyLoss()
    t0 = time.process_time()
    for _ in range(steps):
        opt.zero_grad()
        s = x @ W.T + b
        out = (3 * crit(s, y) if loss == "svm" else crit(s, y)) + lam * (W ** 2).sum()
        out.backward()
        opt.step()
    return steps / (time.process_time() - t0)


def run() -> list[Row]:
    from dlcore.linear_classifiers import playground, studies
    from dlcore.linear_classifiers.linear import LinearConfig, train_linear
    from ui.experiments import linear_classifiers as experiment

    rows: list[Row] = []
    x, y = playground.make_dataset("spirals", 500, 0.3, 0)
    models = playground.fit_models(x, y, LinearConfig("svm"), LinearConfig("softmax"), False)
    for res in (100, 200):
        ms = cpu_ms(lambda res=res: playground.decision_regions(x, y, models, 5, "l2", res), repeat=10)
        rows.append(Row(B, f"decision regions, 4 classifiers, {res}x{res} grid, 500 points", ms, "ms",
                        "target <= 150 ms at 200x200" if res == 200 else "page default grid"))
    ms = cpu_ms(lambda: playground.decision_regions(x, y, models, 5, "l1", 200), repeat=10)
    rows.append(Row(B, "decision regions, 200x200, 500 points, L1", ms, "ms", "target <= 150 ms"))
    rows.append(Row(B, "fit SVM + softmax (200 steps each) + Gaussian, 500 points", cpu_ms(
        lambda: playground.fit_models(x, y, *experiment.linear_configs(experiment.settings(), 0), False),
        repeat=3), "ms", "cached for the class per setting"))
    from ui.figures import linear_classifiers as figs
    from ui.figures.common import freeze

    v = experiment.settings() | {"k": 7}   # a new k: the data and models are cached, the regions and figure not
    xd, yd, md, _ = experiment.playground(v, 0)
    labels = {k: k for k in figs.REGION_LABELS}

    def interaction():
        r = playground.decision_regions(xd, yd, md, v["k"], v["metric"], v["resolution"], v["delta"])
        return freeze(figs.regions(r, xd.numpy(), yd.numpy(), labels, clickable=True,
                                   hood=experiment.neighbourhood(v, xd)))
    rows.append(Row(B, "playground interaction at defaults (new k): regions + figure", cpu_ms(interaction), "ms",
                    "target well under 300 ms"))
    studies.digits_flat()
    rows.append(Row(B, "5-fold CV over 10 k on digits (+ test and train curves)", cpu_ms(
        lambda: studies.choosing_k(experiment.KS, 5), repeat=3), "ms", "target <= 1000 ms; cached for the class"))
    for loss in ("svm", "softmax"):
        steps, lam, lr = 400, 1e-3, 0.3
        ours, plain = [], []
        for _ in range(11):   # interleaved pairs: the shared machine's load hits both alike; medians below
            t0 = time.process_time()
            train_linear(x, y, LinearConfig(loss, lam=lam, lr=lr, steps=steps), 3)
            ours.append(steps / (time.process_time() - t0))
            plain.append(_plain_loop(x, y, loss, steps, lam, lr))
        ratio = statistics.median(a / b for a, b in zip(ours, plain))
        rows.append(Row(B, f"{loss} training, 500 points: ours", statistics.median(ours), "steps/s", "median"))
        rows.append(Row(B, f"{loss} training, 500 points: plain PyTorch loop", statistics.median(plain), "steps/s",
                        "median"))
        rows.append(Row(B, f"{loss} training: ours / plain", 100 * ratio, "%", "median of pairs; target >= 90 %"))
    rows.append(Row(B, "digits templates (softmax, 300 steps)", cpu_ms(
        lambda: studies.digit_templates(experiment.template_config(experiment.settings(), 0)), repeat=2), "ms",
        "cached for the class"))
    rows.append(Row(B, "generative vs discriminative curve (8 sizes x 40 draws)", cpu_ms(
        lambda: studies.gen_vs_disc(experiment.GEN_SIZES), repeat=1), "ms", "cached for the class, in a worker"))
    return rows
