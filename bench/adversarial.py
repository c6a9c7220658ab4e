"""Adversarial lesson: attacks over the test split, the robustness curves, one digit's attack and its
figure, the 2D geometry view and the upload decoder, at the defaults and at the caps."""

from __future__ import annotations

import io
import json
import time

from bench import Row, best_of


def run() -> list[Row]:
    import numpy as np
    import torch
    from PIL import Image

    from dlcore import adversarial as adv
    from dlcore import classifiers as clf
    from dlcore.data import digits
    from ui.figures import adversarial as figs

    rows: list[Row] = []
    x, y = digits("test")
    std, rob = clf.load_digits_cnn(False), clf.load_digits_cnn(True)
    threads = f"torch threads {torch.get_num_threads()}"

    # 1) whole test split (360 digits)
    rows.append(Row("adversarial", "FGSM, 360 test digits", best_of(lambda: adv.fgsm(std, x, y, 0.1), repeat=3), "ms",
                    threads))
    for norm in adv.NORMS:
        eps = 0.1 if norm == "linf" else 1.0
        ms = best_of(lambda norm=norm, eps=eps: adv.pgd(std, x, y, eps, 2.5 * eps / 20, 20, norm, seed=0), repeat=3)
        rows.append(Row("adversarial", f"PGD-20 {norm}, 360 test digits", ms, "ms", "issue target <= 2000 ms"))
    for norm in adv.NORMS:
        t0 = time.perf_counter()
        adv.robustness_curves({"standard": std, "robust": rob}, x, y, norm)
        rows.append(Row("adversarial", f"robustness curves {norm} (10 eps x 2 attacks x 2 models)",
                        time.perf_counter() - t0, "s", "issue target <= 20 s; cached for the class"))

    # 2) one digit, as the page does it (default PGD-20 and the step cap)
    def one(steps: int) -> adv.AttackResult:
        return adv.attack_digit(std, x[33], 1, adv.AttackConfig(steps=steps))
    rows.append(Row("adversarial", "attack one digit, PGD-20 (default)", best_of(lambda: one(20)), "ms"))
    rows.append(Row("adversarial", f"attack one digit, PGD-{adv.MAX_STEPS} (cap)", best_of(lambda: one(adv.MAX_STEPS),
                                                                                          repeat=3), "ms"))
    attack_labels = {k: k for k in figs.ATTACK_LABELS}
    for steps in (20, adv.MAX_STEPS):
        r = one(steps)

        def build(r=r):
            return figs.attack_figure(r.path_images, r.path_probs, label=1, target=None, labels=attack_labels)
        rows.append(Row("adversarial", f"attack figure, {steps + 1} frames: build", best_of(build, repeat=3), "ms"))
        rows.append(Row("adversarial", f"attack figure, {steps + 1} frames: JSON", len(json.dumps(build().to_dict()))
                        / 2**20, "MB", "target <= 1 MB"))

    # 3) the 2D geometry view (grid + path + figure), default and cap
    moons = clf.load_moons_mlp()
    pts, lab = clf.moons_unit(240, noise=0.1, seed=0)
    geometry_labels = {k: k for k in (*figs.GEOMETRY_LABELS, *figs.PLAYER_LABELS)}
    for steps in (10, 40):
        def geometry(steps=steps):
            grid = adv.decision_grid(moons, 81)
            path = adv.pgd_path_2d(moons, (0.62, 0.5), 0, 0.08, 0.04, steps, "linf")
            balls = {n: adv.ball_outline((0.62, 0.5), 0.08, n) for n in adv.NORMS}
            return figs.geometry_figure(grid.xs, grid.prob, pts.numpy(), lab.numpy(), (0.62, 0.5), 0.08, "linf",
                                        path.start, path.stepped, path.projected, balls, labels=geometry_labels)
        rows.append(Row("adversarial", f"geometry view, {steps} PGD steps: compute + build",
                        best_of(geometry, repeat=3), "ms"))
        rows.append(Row("adversarial", f"geometry view, {steps} steps: JSON", len(json.dumps(geometry().to_dict()))
                        / 2**20, "MB", "target <= 1 MB"))

    # 4) uploads: a photo-sized PNG and the pixel cap
    def png(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        return buf.getvalue()
    photo = np.full((1200, 900), 240, dtype=np.uint8)
    photo[200:1000, 400:520] = 20
    big = np.zeros((4096, 4096), dtype=np.uint8)
    big[1000:3000, 1800:2300] = 255
    for name, data in (("1200x900 PNG", png(photo)), ("4096x4096 PNG (pixel cap)", png(big))):
        rows.append(Row("adversarial", f"upload -> 8x8 digit, {name}",
                        best_of(lambda data=data: clf.image_to_digit(data), repeat=3), "ms",
                        f"{len(data) / 1024:.0f} KB file"))
    return rows
