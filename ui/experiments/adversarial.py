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

N_TEST = 360   # the test digits
FLOATS = {"eps": (0.0, adv.MAX_EPS["linf"], 0.1), "eps_l2": (0.0, adv.MAX_EPS["l2"], 1.0),
          "alpha": (0.001, 0.25, 0.01), "alpha_l2": (0.01, 2.0, 0.1), "geo_x": (0.0, 1.0, 0.62),
          "geo_y": (0.15, 0.85, 0.5), "geo_eps": (0.01, 0.3, 0.08), "geo_alpha": (0.005, 0.3, 0.04)}  # (lo, hi, default)
INTS = {"steps": (1, adv.MAX_STEPS, 20), "index": (0, N_TEST - 1, 33), "geo_steps": (1, 40, 10)}
CHOICES = {"model": ("standard", "robust"), "method": ("pgd", "bim", "fgsm"), "norm": adv.NORMS,
           "geo_norm": adv.NORMS, "source": ("test", "upload")}   # first option = default
BOOLS = {"random_start": True, "targeted": False, "geo_random": False}
DEFAULTS: dict[str, object] = {**{n: d for n, (_, _, d) in {**FLOATS, **INTS}.items()},
                               **{n: opts[0] for n, opts in CHOICES.items()}, **BOOLS, "target": 3}

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
