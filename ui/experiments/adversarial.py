"""The experiments behind the adversarial lesson's presets and defaults (shared by the page, the claim tests
and, later, the exercises).

A setting name is the page's widget name without the ``adversarial.`` prefix; a preset is a few settings
merged over :data:`DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits
from ui.params import Param, defaults

N_TEST = 360   # the test digits
SETTINGS: tuple[Param, ...] = (
    # the attack tab
    Param.choice("model", "standard", ("standard", "robust"), widget="segmented", names="options.model", help=True),
    Param.choice("method", "pgd", ("pgd", "bim", "fgsm"), widget="segmented", names="options.method", help=True),
    Param.choice("norm", "linf", adv.NORMS, widget="segmented", names="options.norm", help=True),
    Param.float("eps", 0.1, lo=0.0, hi=adv.MAX_EPS["linf"], step=0.005, help=True),
    Param.float("eps_l2", 1.0, lo=0.0, hi=adv.MAX_EPS["l2"], step=0.05, help=True),
    Param.float("alpha", 0.01, lo=0.001, hi=0.25, step=0.001, help=True),
    Param.float("alpha_l2", 0.1, lo=0.01, hi=2.0, step=0.01, help=True),
    Param.int("steps", 20, lo=1, hi=adv.MAX_STEPS),
    Param.bool("random_start", True, help=True),
    Param.bool("targeted", False, help=True),
    Param.choice("target", 3, tuple(range(clf.N_CLASSES))),
    Param.choice("source", "test", ("test", "upload"), widget="radio", names="options.source"),
    Param.int("index", 33, lo=0, hi=N_TEST - 1, step=1, widget="number", help=True),
    # the geometry tab
    Param.choice("geo_norm", "linf", adv.NORMS, widget="segmented", names="options.geo_norm"),
    Param.float("geo_x", 0.62, lo=0.0, hi=1.0, step=0.01),
    Param.float("geo_y", 0.5, lo=0.15, hi=0.85, step=0.01),
    Param.float("geo_eps", 0.08, lo=0.01, hi=0.3, step=0.01),
    Param.float("geo_alpha", 0.04, lo=0.005, hi=0.3, step=0.005),
    Param.int("geo_steps", 10, lo=1, hi=40),
    Param.bool("geo_random", False),
)
DEFAULTS = defaults(SETTINGS)
GEOMETRY = ("geo_x", "geo_y", "geo_eps", "geo_alpha", "geo_steps", "geo_norm", "geo_random")   # the 2D run's settings

_ATTACK = {"source": "test", "index": 33, "model": "standard", "method": "pgd", "norm": "linf", "eps": 0.1,
           "alpha": 0.01, "steps": 20, "random_start": True, "targeted": False}
PRESETS: dict[str, dict[str, object]] = {
    "small_eps": {**_ATTACK, "index": 56, "method": "fgsm", "eps": 0.05},
    "fgsm_vs_pgd": {**_ATTACK, "method": "fgsm"},
    "make_it_3": {**_ATTACK, "eps": 0.15, "targeted": True, "target": 3},
    "robust": {**_ATTACK, "model": "robust"},
    "l2_ball": {**_ATTACK, "norm": "l2", "eps_l2": 1.5, "alpha_l2": 0.1},   # 1.5 fools the robust twin for every seed
    "projection": {"geo_norm": "l2", "geo_eps": 0.1, "geo_alpha": 0.08, "geo_steps": 10, "geo_x": 0.62,
                   "geo_y": 0.5, "geo_random": False},
}
GEOMETRY_PRESETS = ("projection",)   # presets that open the geometry tab; the others open the attack tab


def tab_of(preset: str) -> str:
    """The tab a preset opens: "geometry" or "attack"."""
    return "geometry" if preset in GEOMETRY_PRESETS else "attack"


def attack_config(values: Mapping[str, object], seed: int) -> adv.AttackConfig:
    """The attack the lab runs for these settings (missing ones take their defaults) and the global seed."""
    v = {**DEFAULTS, **values}
    eps, alpha = (v["eps_l2"], v["alpha_l2"]) if v["norm"] == "l2" else (v["eps"], v["alpha"])
    return adv.AttackConfig(v["method"], v["norm"], eps, alpha, v["steps"], v["random_start"],
                            v["target"] if v["targeted"] else None, seed)


def attack(values: Mapping[str, object], seed: int, device: torch.device | str = "cpu") -> adv.AttackResult:
    """Run the attack of these settings on the test digit ``values["index"]`` (what the attack tab shows)."""
    v = {**DEFAULTS, **values}
    x, y = digits("test")
    model = clf.load_digits_cnn(v["model"] == "robust", device)
    return adv.attack_digit(model, x[v["index"], 0], int(y[v["index"]]), attack_config(v, seed), device)


def geometry(model: torch.nn.Module, values: Mapping[str, object], seed: int,
             device: torch.device | str = "cpu") -> tuple[int, adv.PGDPath]:
    """The 2D PGD run of the geometry tab: the class the model gives the point, and every iterate."""
    v = {**DEFAULTS, **values}
    point = (v["geo_x"], v["geo_y"])
    with torch.inference_mode():
        label = int(model(torch.tensor([point], device=device)).argmax(1))
    path = adv.pgd_path_2d(model, point, label, v["geo_eps"], v["geo_alpha"], v["geo_steps"], v["geo_norm"],
                           v["geo_random"], seed, device)
    return label, path
