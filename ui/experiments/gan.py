"""The experiments behind the GAN lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises).

A setting name is the page's widget name without the ``gan.`` prefix (``sn`` is ``GANConfig.spectral_norm``);
a preset is a few settings merged over :data:`DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from dlcore import gan

_D = gan.GANConfig()
DEFAULTS: dict[str, object] = {
    "target": _D.target, "points": _D.points, "loss": _D.loss, "sn": _D.spectral_norm,
    "g_layers": _D.g_layers, "g_width": _D.g_width, "d_layers": _D.d_layers, "d_width": _D.d_width,
    "activation": _D.activation, "latent": _D.latent, "noise": _D.noise, "opt_g": _D.opt_g, "opt_d": _D.opt_d,
    "lr_g": _D.lr_g, "lr_d": _D.lr_d, "d_steps": _D.d_steps, "batch": _D.batch, "steps": _D.steps,
}
FIELDS = {"sn": "spectral_norm"}   # setting name -> GANConfig field, where they differ

PRESETS: dict[str, dict[str, object]] = {
    "paper1d": {"target": "mixture1d", "latent": 1, "noise": "uniform"},
    # one blob of data far from where G starts (|G(z)| ~ 0.2 at initialisation), a fast D with 5 updates per
    # G update, and plain SGD for G so the size of its gradient is the size of its step (Adam would rescale it)
    "saturating": {"target": "custom", "points": "1,1", "loss": "minimax", "opt_g": "sgd", "lr_g": 1e-3,
                   "lr_d": 1e-2, "d_steps": 5, "steps": 500},
    "collapse": {"lr_d": 1e-2, "lr_g": 1e-4},
    "wgan_gp": {"loss": "wgan_gp", "d_steps": 5, "steps": 1500},
    "digits": {"target": "digits", "latent": 8, "g_width": 128, "d_width": 128, "batch": 64},
}


def config(values: Mapping[str, object], seed: int) -> gan.GANConfig:
    """The run the page starts for these settings (missing ones take their defaults) and the global seed."""
    v = {**DEFAULTS, **values}
    return gan.GANConfig(**{FIELDS.get(k, k): v[k] for k in DEFAULTS}, seed=seed)


def preset(name: str, seed: int = 0, **changes: object) -> gan.GANConfig:
    """The run of preset ``name`` (with ``changes`` on top, e.g. the note's "switch the loss")."""
    return config({**PRESETS[name], **changes}, seed)
