"""CNN-architectures lesson: the spatial transformer's view and one page interaction, a trained CNN's feature maps
for one digit, our training loop against a plain PyTorch loop of the same model, and the whole zoo table."""

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
    return rows
