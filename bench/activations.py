"""Activations lesson: the deep-signal kernel at defaults and at the caps, the figures, training speed,
and the server time of a page rerun after a slider move."""

from __future__ import annotations

import json
import os
import time

import torch
import torch.nn.functional as F

from bench import Row, best_of


def run() -> list[Row]:
    from dlcore import activations as A
    from dlcore import curve_pieces as C
    from dlcore import deep_training as T
    from ui.figures import activations as figs

    rows: list[Row] = []
    n_threads = torch.get_num_threads()
    threads = f"torch threads {n_threads}"
    # 1) deep_net_stats (the target: depth 50, width 512, batch 256 in <= 300 ms)
    for depth, width, batch, act, init, bn in [(20, 256, 256, "sigmoid", "xavier_normal", False),
                                               (50, 512, 256, "relu", "kaiming_normal", False),
                                               (50, 512, 256, "tanh", "xavier_uniform", False),
                                               (50, 512, 256, "tanh", "normal_0.01", True),
                                               (50, 512, 256, "relu", "orthogonal", False)]:
        note = "defaults" if depth == 20 else "caps, server setting" if init != "orthogonal" else "caps; QR per layer"
        ms = best_of(lambda d=depth, w=width, b=batch, a=act, i=init, n=bn: A.deep_net_stats(d, w, a, i, b, 0,
                                                                                             batchnorm=n), repeat=3)
        bn_tag = " +BN" if bn else ""
        rows.append(Row("activations", f"deep_net_stats {act}/{init}{bn_tag}, L={depth} n={width} B={batch}",
                        ms, "ms", f"{note}; {threads}"))
    # 2) figures and their JSON size
    sig = A.deep_signal(A.SignalConfig(depth=50, width=512, activation="relu", init="kaiming_normal"))
    s = sig.stats
    labels = {k: k for k in ("spread_title", "frac_title", "grad_title", "std", "mean", "saturated_frac", "dead_frac",
                             "grad", "delta", "zero", "nonfinite", "layer", "title", "bound")}

    def stats_fig():
        return figs.layer_stats({k: s[k].to_numpy() for k in s.columns}, A.activation_bound(sig.max_derivative, 50),
                                labels)
    rows.append(Row("activations", "layer-stats figure, 50 layers", best_of(stats_fig), "ms",
                    f"JSON {len(stats_fig().to_json()) / 1024:.0f} KB"))
    ridge = figs.ridgeline(sig.layers, sig.edges, sig.hist, sig.outside,
                           {"layer_n": "l{n}", "hover": "{n} {out}", "title": "t", "x": "x"})
    rows.append(Row("activations", "ridgeline figure, 10 layers", len(ridge.to_json()) / 1024, "KB"))
    names = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu")

    def zoo():
        panels = [(n, *(lambda c: (c.x, c.y, c.dy, c.saturated))(A.curve(n, -6, 6, 401))) for n in names]
        return figs.function_grid(panels, {"title": "t", "f": "f", "df": "df", "saturated": "s", "x": "x"})
    rows.append(Row("activations", "6 curves + derivative grid figure", best_of(zoo, repeat=3), "ms",
                    f"JSON {len(zoo().to_json()) / 1024:.0f} KB"))
    A.properties.cache_clear()
    A.max_derivative.cache_clear()
    t0 = time.perf_counter()
    A.property_table()
    rows.append(Row("activations", "property table, 18 activations (cold)", (time.perf_counter() - t0) * 1000, "ms",
                    "lru-cached per process after the first call"))
    plabels = {"title": "t", "target": "y", "pieces": "p", "sum": "{n} {err}", "y": "y", "play": "p", "pause": "p",
               "n": "N"}

    def pieces(n=50):
        ns = [k for k in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50) if k <= n]
        built = [C.build_from_pieces(C.TARGETS["wave"], k, "sigmoid") for k in ns]
        frames = [(k, b.pieces, b.offset, b.total, b.max_error) for k, b in zip(ns, built)]
        return figs.pieces_animation(built[0].x, built[0].target, frames, plabels)
    rows.append(Row("activations", "pieces animation, N up to 50 (15 frames)", best_of(pieces, repeat=3), "ms",
                    f"JSON {len(json.dumps(pieces().to_dict())) / 1024:.0f} KB"))
    # 3) training: the default race, and our loop against a plain PyTorch loop of the same model
    config = T.TrainConfig(steps=200, record_every=4)
    t0 = time.perf_counter()
    T.race(config, T.RACERS[:4])
    rows.append(Row("activations", "default race: 4 networks x 200 steps", (time.perf_counter() - t0) * 1000, "ms",
                    "depth 8, width 32, 256 points"))
    t0 = time.perf_counter()
    T.train(config, "relu", "kaiming_normal")
    ours = 200 / (time.perf_counter() - t0)
    model = T.build_mlp(config, "relu", "kaiming_normal")
    x, y = T.toy_data(config)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    t0 = time.perf_counter()
    for _ in range(200):
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    base = 200 / (time.perf_counter() - t0)
    rows.append(Row("activations", "train steps/s, ours (records + dead units every 4th step)", ours, "steps/s"))
    rows.append(Row("activations", "train steps/s, plain PyTorch loop", base, "steps/s", f"ratio {ours / base:.2f}"))
    cores = os.cpu_count() or 1     # DL_LAB_TORCH_THREADS=auto: a local run uses every core (torch's default)
    torch.set_num_threads(cores)
    for act, init in [("relu", "kaiming_normal"), ("tanh", "xavier_uniform"), ("tanh", "normal_0.01")]:
        bn = init == "normal_0.01"
        bn_tag = " +BN" if bn else ""
        rows.append(Row("activations", f"deep_net_stats {act}/{init}{bn_tag} at the caps, {cores} threads",
                        best_of(lambda a=act, i=init, n=bn: A.deep_net_stats(50, 512, a, i, 256, 0, batchnorm=n),
                                repeat=3), "ms", "local default (auto threads); target <= 300 ms"))
    torch.set_num_threads(n_threads)
    # 4) server time of a rerun after a slider move (AppTest, uncached config)
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui.i18n import strings

    at = open_page("pages/activations.py", "en")
    at.session_state["activations.tab"] = strings("en")["activations.tabs.signal"]
    at.run()
    times = []
    for depth in (21, 22, 23):
        t0 = time.perf_counter()
        at.slider(key="activations.depth").set_value(depth).run()
        times.append(time.perf_counter() - t0)
    rows.append(Row("activations", "page rerun after a depth-slider move (fresh config)", min(times) * 1000, "ms",
                    "target <= 500 ms; signal tab, n=256, B=256"))
    at.slider(key="activations.depth").set_value(50).run()
    at.select_slider(key="activations.width").set_value(512)
    t0 = time.perf_counter()
    at.run()
    rows.append(Row("activations", "page rerun at the caps (L=50, n=512, B=256)", (time.perf_counter() - t0) * 1000,
                    "ms", "fresh config"))
    return rows
