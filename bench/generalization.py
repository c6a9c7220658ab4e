"""Generalization lesson: the bias-variance figure at 200 data sets up to degree 15, a 50-value λ path, each tab's
views at defaults, figure sizes, and dropout vs no-dropout training against a plain PyTorch loop of the same model."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from bench import Row, best_of


def _plain_loop(config, steps: int) -> float:
    """Steps/s of a bare full-batch Adam loop on the same MLP and data (no evaluation, no recording)."""
    from dlcore import generalization as gen

    data = gen.make_data(config.formula, config.n, config.noise, config.seed)
    model = gen.MLP(config.width, config.p)
    model.generator = torch.Generator().manual_seed(0)
    x, y = data.x.float()[:, None], data.y.float()[:, None]
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - t0)


def run() -> list[Row]:
    from dlcore import generalization as gen
    from ui.experiments import generalization as experiment
    from ui.figures import generalization as figs

    B = "generalization"
    rows: list[Row] = []
    texts = {k: k for keys in figs.LABELS.values() for k in keys} | {"degree_n": "d={d}"}
    v = experiment.settings()
    for degree, sets in ((3, 100), (9, 200), (15, 200)):
        def bv(degree=degree, sets=sets):
            r = gen.bias_variance(degree, 20, 0.25, sets, 0)
            return figs.bv_fits(r, texts), figs.bv_decomposition(r, texts)
        rows.append(Row(B, f"bias-variance + its two figures, degree {degree}, {sets} data sets (n = 20)",
                        best_of(bv), "ms", "target <= 200 ms"))
        rows.append(Row(B, f"bias-variance figures JSON, degree {degree}, {sets} sets",
                        sum(len(f.to_json()) for f in bv()) / 2**20, "MB"))
    rows.append(Row(B, "bias-variance sweep over degree (default: degrees 0-12 x 100 sets)",
                    best_of(lambda: experiment.bv_sweep(v, 0), repeat=3), "ms"))
    rows.append(Row(B, "bias-variance sweep over λ (9 values x 100 sets, degree 9)",
                    best_of(lambda: experiment.bv_sweep(v | {"sweep": "lambda", "degree": 9}, 0), repeat=3), "ms"))
    data = gen.make_data(gen.DEFAULT_TARGET, experiment.PATH_N, 0.25, 0)
    alphas = torch.logspace(-4, 0, 50, dtype=torch.float64)
    for degree in (9, 12):   # the path tab's default and its cap
        X = gen.legendre_features(data.x, degree) * torch.sqrt(2 * torch.arange(degree + 1.0, dtype=torch.float64)
                                                               + 1)
        rows.append(Row(B, f"lasso path, 50 λ values, degree {degree} ({experiment.PATH_N} points)",
                        best_of(lambda X=X: gen.lasso_path(X, data.y, alphas)), "ms", "target <= 100 ms"))
        rows.append(Row(B, f"ridge path, 50 λ values, degree {degree}",
                        best_of(lambda X=X: gen.ridge_path(X, data.y, alphas)), "ms"))
    def l1_l2():
        p = experiment.paths(v, 0)
        return (figs.coefficient_paths(p["alphas"], p["lasso"], p["ridge"], p["alpha"], texts),
                figs.picture(experiment.picture(v, 0), texts))
    rows.append(Row(B, "L1/L2 tab: paths + 2-D picture + figures (default)", best_of(l1_l2), "ms"))
    rows.append(Row(B, "fit tab: 16 fits + both figures (default)", best_of(lambda: (
        lambda r: (figs.fit(r["data"], r["sweep"].curves[3], 3, texts),
                   figs.capacity(r["sweep"].degrees, r["sweep"].train_mse, r["sweep"].val_mse, 0.25, 3, texts)))(
        experiment.fit(v, 0))), "ms"))
    rows.append(Row(B, "robust tab: three line fits + figures (default)", best_of(lambda: experiment.robust(v, 0)),
                    "ms"))
    gen.train_mlp(gen.DropoutConfig(steps=20))   # warm-up (a worker is warm when a learner asks)
    t0 = time.perf_counter()
    runs = {name: gen.train_mlp(experiment.dropout_config(v, 0, name == "with")) for name in ("without", "with")}
    rows.append(Row(B, "dropout vs no dropout: two MLPs x 500 steps (default)", time.perf_counter() - t0, "s",
                    "target <= 2 s; cached for the class"))
    for name, with_dropout in (("no dropout", False), ("dropout p=0.5", True)):
        config = experiment.dropout_config(v, 0, with_dropout)
        ours, plain = [], []
        for _ in range(7):   # interleaved, best of 7: the machine is shared
            t0 = time.perf_counter()
            gen.train_mlp(config)
            ours.append(config.steps / (time.perf_counter() - t0))
            plain.append(_plain_loop(config, config.steps))
        rows.append(Row(B, f"train steps/s, {name}: ours (eval every {gen.EVAL_EVERY} steps)", max(ours), "steps/s"))
        rows.append(Row(B, f"train steps/s, {name}: plain PyTorch loop", max(plain), "steps/s",
                        f"ours / plain = {max(ours) / max(plain):.2f} (target >= 0.9)"))
    for n in (100, 400):
        t0 = time.perf_counter()
        gen.augmentation(n, 0)
        rows.append(Row(B, f"augmentation teaser, {n} digits (two linear classifiers x 300 steps)",
                        time.perf_counter() - t0, "s", "in a training worker; cached for the class"))
    marks = {name: gen.early_stop(h.val_loss, 100, h.step) for name, h in runs.items()}
    rows.append(Row(B, "dropout curves figure JSON", len(figs.dropout_curves(runs, marks, texts).to_json()) / 2**20,
                    "MB"))
    rows += _page_reruns()
    return rows


def _page_reruns() -> list[Row]:
    """Server time of one rerun of each tab (AppTest), caches warm: what moving a widget costs."""
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui.experiments import generalization as experiment
    from ui.i18n import strings

    rows = []
    at = open_page("pages/generalization.py", "en")
    for tab in experiment.TABS:
        at.session_state["generalization.tab"] = strings("en")[f"generalization.tabs.{tab}"]
        at.run()
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        rows.append(Row("generalization", f"page rerun, tab {tab} (warm caches)", min(times) * 1000, "ms",
                        "exception!" if at.exception else ""))
    return rows
