"""CNN-architectures lesson: the spatial transformer's view and one page interaction, a trained CNN's feature maps
for one digit, our training loop against a plain PyTorch loop of the same model, the whole zoo table, the trained
spatial transformer (and its twin without), the augmentation pair and the plain/residual pair with per-step gradient
norms (each in one process, one thread, as a training worker runs them)."""

from __future__ import annotations

import json
import time

from bench import Row, best_of

B = "cnn_architectures"


def run() -> list[Row]:
    from dlcore import cnn_architectures as ca
    from ui.experiments import cnn_architectures as experiment
    from ui.figures import cnn_architectures as figs
    from ui.figures.common import freeze

    rows: list[Row] = []
    labels = {k: k for k in figs.LABELS}
    for tag, kwargs in (("default", {"rotation": 30.0}), ("scale 2, shear 1", {"scale": 2.0, "shear": 1.0})):
        def view(kwargs=kwargs):
            t = ca.transform_digit(7, ca.theta_from(**kwargs))
            return freeze(figs.stn(t.image, t.grid, t.output, t.theta, labels))
        rows.append(Row(B, f"spatial transformer view ({tag}): sample + figure", best_of(view), "ms",
                        "target <= 150 ms"))
    rows.append(Row(B, "spatial transformer figure JSON", len(json.dumps(view())) / 2**20, "MB", "target < 1 MB"))

    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page

    at = open_page("pages/cnn_architectures.py", "en")
    times = []
    for angle in (10.0, 20.0, 40.0, 50.0, 60.0):   # each a new slider value: nothing cached
        at.slider(key=f"{B}.rotation").set_value(angle)
        t0 = time.process_time()
        at.run()
        times.append(time.process_time() - t0)
    rows.append(Row(B, "page interaction: move the rotation slider (AppTest rerun)", 1000 * min(times), "ms CPU",
                    "target <= 150 ms; includes AppTest's own overhead" + (" EXCEPTION" if at.exception else "")))

    result = ca.train(experiment.gap_config(experiment.settings(), 0))
    model = result.model()
    rows.append(Row(B, "feature maps of the trained CNN, one digit (all layers)", best_of(
        lambda: ca.layer_outputs(model, ca.digits16("test")[0][7:8]), repeat=20), "ms", "target <= 50 ms"))
    rows.append(Row(B, "inside view (maps + saliency + 3x3 occlusion), one digit", best_of(
        lambda: ca.inside(model, 7, 3), repeat=10), "ms", "target <= 50 ms (maps)"))

    config = ca.TrainConfig(model="cnn_gap", steps=200)   # the lesson's recording: every 40 steps
    ours = min(ca.train(config).seconds for _ in range(2))
    plain = min(ca.benchmark_plain_loop(config) for _ in range(2))
    rows.append(Row(B, "training cnn_gap: our loop", config.steps / ours, "steps/s"))
    rows.append(Row(B, "training cnn_gap: plain PyTorch loop", config.steps / plain, "steps/s"))
    rows.append(Row(B, "training: ours / plain", plain / ours, "ratio", "target >= 0.9"))

    t0 = time.perf_counter()
    zoo = ca.zoo(steps=experiment.ZOO_STEPS, lr=experiment.ZOO_LR)
    rows.append(Row(B, f"zoo table: {len(zoo)} nets x {experiment.ZOO_STEPS} steps, one process, one thread",
                    time.perf_counter() - t0, "s", "target <= 30 s; cached for the class after the first run"))

    v = experiment.settings()
    trained = {}
    for key, name, configs, target in (
            ("stn", "trained STN + the same CNN without it (60°, 600 steps each)", experiment.stn_configs(v, 0), 10),
            ("aug", "augmentation pair (200 digits, 400 steps each)", experiment.aug_configs(v, 0), 10),
            ("res", "plain + residual, 32 layers, per-step gradient norms", experiment.residual_configs(v, 0), 20)):
        trained[key] = runs = [ca.train(c) for c in configs]
        accs = ", ".join(f"{100 * r.final_acc:.1f}%" for r in runs)
        rows.append(Row(B, name, sum(r.seconds for r in runs), "s", f"target <= {target} s; test accuracy {accs}"))
    stn_model = trained["stn"][0].model()
    rows.append(Row(B, "trained STN view + figure", best_of(
        lambda: figs.stn_trained(ca.stn_view(stn_model, 60.0, experiment.STN_SHIFT), labels), repeat=3),
        "ms", "cached per config on the page"))
    fig = figs.stn_trained(ca.stn_view(stn_model, 60.0, experiment.STN_SHIFT), labels)
    rows.append(Row(B, "trained STN figure JSON", len(fig.to_json()) / 2**20, "MB", "target < 1 MB"))
    plain, res = trained["res"]
    hist = figs.grad_history(plain.grad_norms, res.grad_norms, labels)
    rows.append(Row(B, "per-step gradient-norm heatmap JSON (32 layers, 200 steps)", len(hist.to_json()) / 2**20,
                    "MB", "target < 1 MB"))
    return rows
