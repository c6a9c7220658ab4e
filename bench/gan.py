"""GAN lesson: training steps/s of the lesson's loop against a plain PyTorch loop, the live page's tick, kernels.

``plain_loop`` is the reference: the textbook GAN loop written directly with ``torch.optim`` and
``BCEWithLogitsLoss`` on the same models, data pool and random draws (tests/unit/test_gan.py checks
that it ends with the same weights as ``dlcore.gan``).
"""

from __future__ import annotations

import json
import time

import torch
from torch import nn

from bench import Row, best_of


def plain_loop(config, steps: int, device: str = "cpu") -> tuple[nn.Module, nn.Module]:
    """Non-saturating GAN with Adam(0.5, 0.999) and Gaussian noise, no records: the speed reference."""
    from dlcore import gan
    from dlcore.device import seeded

    assert config.loss == "nonsat" and config.opt_g == config.opt_d == "adam" and config.noise == "gaussian"
    with seeded(config.seed):
        G, D = gan.make_generator(config).to(device), gan.make_discriminator(config).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
    pool = gan.make_target(config).pool.to(device)
    g = torch.Generator(device=device).manual_seed(config.seed)
    bce = nn.BCEWithLogitsLoss()
    B = config.batch
    ones, zeros = torch.ones(B, 1, device=device), torch.zeros(B, 1, device=device)
    for _ in range(steps):
        for _ in range(config.d_steps):
            x = pool[torch.randint(0, len(pool), (B,), generator=g, device=device)]
            fake = G(torch.randn(B, config.latent, generator=g, device=device)).detach()
            loss_d = bce(D(x), ones) + bce(D(fake), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        loss_g = bce(D(G(torch.randn(B, config.latent, generator=g, device=device))), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G, D


def _labels() -> tuple[dict, dict]:
    keys = ("real", "fake", "manifold", "arrows", "x1", "x2", "x", "density", "d_star", "p_data", "p_g", "samples",
            "walk", "play", "pause", "step", "d", "title")
    labels = {k: k for k in keys} | {"frame": "step {step} {modes} {hq} {distance}"}
    curve = {k: k for k in ("title", "step", "loss", "grad", "metric", "d_loss", "g_loss", "d_grad", "g_grad",
                            "modes", "hq", "distance")}
    return labels, curve


def run() -> list[Row]:
    from dlcore import gan
    from ui.figures import gan as figs

    rows: list[Row] = []
    cfg = gan.GANConfig()
    n = 600
    labels, curve_labels = _labels()

    def ours():
        state = gan.init_state(cfg)
        while state.step < n:
            gan.advance(state, n - state.step)

    def live():  # what the page does while playing: bursts of TICK_S, then both figures rebuilt and serialised
        state = gan.init_state(cfg)
        while state.step < n:
            gan.advance(state, n - state.step, time_budget_s=0.2)
            snap = gan.current_snapshot(state)
            json.dumps(figs.game_2d(snap, state.real_show.numpy(), state.target.bounds, prob=True,
                                    labels=labels).to_dict())
            json.dumps(figs.curves(state.curves, state.history + [snap], labels=curve_labels).to_dict())

    plain_ms, ours_ms, live_ms = (float("inf"),) * 3
    for _ in range(3):  # interleaved, so a busy moment on a shared machine hits all three alike
        plain_ms = min(plain_ms, best_of(lambda: plain_loop(cfg, n), repeat=2))
        ours_ms = min(ours_ms, best_of(ours, repeat=2))
        live_ms = min(live_ms, best_of(live, repeat=2))
    plain_sps, ours_sps, live_sps = (n / (ms / 1000) for ms in (plain_ms, ours_ms, live_ms))
    note = f"{cfg.g_layers}x{cfg.g_width} MLPs, batch {cfg.batch}, torch threads {torch.get_num_threads()}"
    rows.append(Row("gan", "plain PyTorch loop, default 2D run", plain_sps, "steps/s", note))
    rows.append(Row("gan", "dlcore.gan.advance (curves + snapshot every 50)", ours_sps, "steps/s",
                    f"{100 * ours_sps / plain_sps:.0f}% of plain (target >= 90%)"))
    rows.append(Row("gan", "live page loop (0.2 s bursts + both figures)", live_sps, "steps/s",
                    f"{100 * live_sps / plain_sps:.0f}% of plain (target >= 75%)"))
    t0 = time.perf_counter()
    last = list(gan.train(cfg))[-1]
    rows.append(Row("gan", "default run to the end (2000 steps)", time.perf_counter() - t0, "s",
                    f"modes {last.modes_covered}/8, target <= 15 s"))

    state = gan.init_state(cfg)
    gan.advance(state, 200)
    snap = gan.current_snapshot(state)
    rows.append(Row("gan", "snapshot (D grid, manifold, arrows, metrics)", best_of(
        lambda: gan.snapshot(state, 0.0, 0.0)), "ms", f"n_show {cfg.n_show}"))
    rows.append(Row("gan", "energy distance 512 vs 512", best_of(
        lambda: gan.energy_distance(state.z_show, state.real_show)), "ms"))
    rows.append(Row("gan", "live 2D figure: build + JSON", best_of(lambda: json.dumps(figs.game_2d(
        snap, state.real_show.numpy(), state.target.bounds, prob=True, labels=labels).to_dict())), "ms"))
    snaps = list(gan.train(cfg))
    replay = figs.replay(snaps, kind="2d", labels=labels, real=state.real_show.numpy(), bounds=state.target.bounds)
    rows.append(Row("gan", "replay of the default run: build", best_of(lambda: figs.replay(
        snaps, kind="2d", labels=labels, real=state.real_show.numpy(), bounds=state.target.bounds), repeat=3), "ms",
        f"{len(replay.to_dict()['frames'])} frames"))
    rows.append(Row("gan", "replay of the default run: JSON", len(json.dumps(replay.to_dict())) / 2**20, "MB",
                    "target <= 1 MB"))

    caps = gan.GANConfig(loss="wgan_gp", g_layers=gan.MAX_LAYERS, d_layers=gan.MAX_LAYERS, g_width=gan.MAX_WIDTH,
                         d_width=gan.MAX_WIDTH, batch=gan.MAX_BATCH, d_steps=gan.MAX_D_STEPS, latent=gan.MAX_LATENT)
    big = gan.init_state(caps)
    rows.append(Row("gan", "one step at the caps (4x256, batch 512, 5 D steps, WGAN-GP)", best_of(
        lambda: gan.train_step(big), repeat=3), "ms", "a tick always takes >= 1 step"))
    digits = gan.init_state(gan.GANConfig(target="digits", latent=8, g_width=128, d_width=128, batch=64))
    rows.append(Row("gan", "digits: 100 steps (2x128 MLPs, batch 64)", best_of(
        lambda: gan.advance(digits, 100), repeat=3), "ms"))
    return rows
