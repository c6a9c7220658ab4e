"""The experiments behind the GAN lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises).

A setting name is the page's widget name without the ``gan.`` prefix (``sn`` is ``GANConfig.spectral_norm``);
a preset is a few settings merged over :data:`DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from dlcore import gan
from ui.params import Param, defaults

LRS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
WIDTHS = (8, 16, 32, 64, 128, 256)
BATCHES = (16, 32, 64, 128, 256, 512)
STEPS = (500, 1000, 1500, 2000, 3000, 5000)
POINTS_MAX_LEN = 800


def points_ok(text: str) -> bool:
    """Whether typed points parse (``dlcore.gan.parse_points``); the page says why when they do not."""
    try:
        gan.parse_points(text)
    except ValueError:
        return False
    return True


_D = gan.GANConfig()
SETTINGS: tuple[Param, ...] = (
    Param.choice("target", _D.target, gan.TARGETS, names="targets"),
    Param.text("points", _D.points, max_len=POINTS_MAX_LEN, check=points_ok, widget="text_area", help=True),
    Param.choice("loss", _D.loss, gan.LOSSES, names="losses"),
    Param.bool("sn", _D.spectral_norm, help=True),
    Param.int("g_layers", _D.g_layers, lo=1, hi=gan.MAX_LAYERS),
    Param.choice("g_width", _D.g_width, WIDTHS, widget="select_slider"),
    Param.int("d_layers", _D.d_layers, lo=1, hi=gan.MAX_LAYERS),
    Param.choice("d_width", _D.d_width, WIDTHS, widget="select_slider"),
    Param.choice("activation", _D.activation, gan.ACTIVATIONS, names="activations"),
    Param.int("latent", _D.latent, lo=1, hi=gan.MAX_LATENT),
    Param.choice("noise", _D.noise, gan.NOISES, names="noises"),
    Param.choice("opt_g", _D.opt_g, gan.OPTIMIZERS, names="optimizers"),
    Param.choice("opt_d", _D.opt_d, gan.OPTIMIZERS, names="optimizers"),
    Param.choice("lr_g", _D.lr_g, LRS, widget="select_slider", fmt="g"),
    Param.choice("lr_d", _D.lr_d, LRS, widget="select_slider", fmt="g"),
    Param.int("d_steps", _D.d_steps, lo=1, hi=gan.MAX_D_STEPS, help=True),
    Param.choice("batch", _D.batch, BATCHES, widget="select_slider"),
    Param.choice("steps", _D.steps, STEPS, widget="select_slider", help=True),
)
DEFAULTS = defaults(SETTINGS)
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


def preset_settings(name: str) -> dict[str, object]:
    """What the preset button sets: every setting at its default with the preset on top, except the learner's
    typed points (a preset keeps them unless it places its own)."""
    return {**{k: v for k, v in DEFAULTS.items() if k != "points"}, **PRESETS[name]}


def config(values: Mapping[str, object], seed: int) -> gan.GANConfig:
    """The run the page starts for these settings (missing ones take their defaults) and the global seed."""
    v = {**DEFAULTS, **values}
    return gan.GANConfig(**{FIELDS.get(k, k): v[k] for k in DEFAULTS}, seed=seed)


def preset(name: str, seed: int = 0, **changes: object) -> gan.GANConfig:
    """The run of preset ``name`` (with ``changes`` on top, e.g. the note's "switch the loss")."""
    return config({**PRESETS[name], **changes}, seed)
