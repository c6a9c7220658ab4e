"""The CNN-architectures lesson's settings, each declared once, its presets, and the experiments behind them (shared by
the page, the claim tests and the exercises).

No torch at module level: the course map reads the lesson's exercises, and so these settings, before torch loads.
The ranges are ``dlcore.cnn_architectures``'s caps, written out (a unit test keeps them equal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ui.params import Param, defaults

if TYPE_CHECKING:
    from dlcore import cnn_architectures as ca

TABS = ("stn", "stn_trained", "why", "inside", "zoo", "residual", "augment", "transfer")
N_TEST = 360                                   # test digits
WHY_MODELS = ("mlp", "cnn_flat", "cnn_gap")    # ca.MODELS
ZOO = ("lenet", "alexnet", "vgg", "nin", "inception", "resnet")   # ca.ZOO
SHIFTS = tuple(range(-4, 5))                   # ca.MAX_SHIFT = 4
LRS = (0.001, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3, 1.0)            # up to ca.MAX_LR
STEPS = (100, 200, 300, 400, 600)                                 # up to ca.MAX_STEPS
DEPTHS = (8, 20, 32)                                              # ca.DEPTHS
NAMES = (*WHY_MODELS, "cnn_se", *ZOO, "plain", "residual", "scratch", "frozen", "full", "stn", "no_aug",
         "aug")   # <lesson>.models.<name>
SHOTS = (0, 1, 3, 10, 30)                      # 0 is refused with a message; the rest are ca.FineTuneConfig().shots
ZOO_STEPS, ZOO_LR, RES_STEPS = 300, 0.003, 200
STALLED = 0.2                                  # final test accuracy below this: the run did not learn (chance 10%)
STN_ROTATIONS = (30, 60, 90)                   # up to ca.MAX_ROTATION
STN_SHIFT, STN_STEPS, STN_LR = 2.0, 600, 0.003   # shift up to ca.MAX_DISTORT_SHIFT; 600 = ca.MAX_STEPS
STN_DIGITS = (0, 1, 2, 3, 4, 5)                # the test digits shown before and after the trained transformer
AUG_N = (50, 100, 200, 500, 1000)              # training digits; ca.MIN_TRAIN to the 1437 there are
AUG_ROTATION, AUG_SHIFT, AUG_STEPS = 30.0, 2.0, 400

SETTINGS: tuple[Param, ...] = (
    # the spatial transformer
    Param.int("digit", 7, lo=0, hi=N_TEST - 1, widget="number", help=True),
    Param.float("rotation", 30.0, lo=-180.0, hi=180.0, step=5.0, help=True),
    Param.float("scale", 1.0, lo=0.5, hi=2.0, step=0.05, help=True),
    Param.float("shear", 0.0, lo=-1.0, hi=1.0, step=0.05),
    Param.float("tx", 0.0, lo=-1.0, hi=1.0, step=0.05),
    Param.float("ty", 0.0, lo=-1.0, hi=1.0, step=0.05),
    # why convolution
    Param.choice("steps", 400, STEPS, widget="select_slider"),
    Param.choice("lr", 0.005, LRS, widget="select_slider", fmt="g", help=True),
    Param.int("width", 8, lo=2, hi=32, help=True),                    # ca.MAX_WIDTH
    Param.int("hidden", 64, lo=8, hi=256, step=8, help=True),        # ca.MAX_HIDDEN
    Param.int("shift", 3, lo=-4, hi=4, help=True),                    # ca.MAX_SHIFT
    # inside a trained CNN
    Param.int("patch", 3, lo=1, hi=6, help=True),
    # plain vs residual
    Param.choice("depth", 32, DEPTHS, widget="segmented"),
    # fine-tuning
    Param.choice("shots", 3, SHOTS, widget="segmented", help=True),
    # the trained spatial transformer, augmentation
    Param.choice("stn_rotation", 60, STN_ROTATIONS, widget="segmented", help=True),
    Param.choice("aug_n", 200, AUG_N, widget="segmented", help=True),
)
DEFAULTS = defaults(SETTINGS)

PRESETS: dict[str, dict[str, object]] = {
    "zoom_out": {"rotation": 0.0, "scale": 2.0, "shear": 0.0, "tx": 0.0, "ty": 0.0},
    "shift_far": {"shift": 4, "lr": 0.005, "steps": 400, "width": 8, "hidden": 64},
    "too_fast": {"lr": 1.0, "steps": 400, "width": 8, "hidden": 64},
    "zoo": {},
    "deep_plain": {"depth": 32},
    "no_examples": {"shots": 0},
    "stn_rotated": {"stn_rotation": 90},
    "augment_few": {"aug_n": 100},
    "shallow": {"depth": 8},
}
TAB: dict[str, str] = {"zoom_out": "stn", "shift_far": "why", "too_fast": "why", "zoo": "zoo",
                       "deep_plain": "residual", "no_examples": "transfer", "stn_rotated": "stn_trained",
                       "augment_few": "augment", "shallow": "residual"}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the default page (``preset`` None) or of a preset applied to it."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


def theta(v: Mapping[str, object]):
    """The spatial transformer's 2x3 theta for the sliders of ``v`` (a tensor)."""
    from dlcore import cnn_architectures as ca

    return ca.theta_from(float(v["rotation"]), float(v["scale"]), float(v["shear"]), float(v["tx"]), float(v["ty"]))


def why_configs(v: Mapping[str, object], seed: int) -> list[ca.TrainConfig]:
    """The three models of "why convolution", trained with the same steps, learning rate and seed."""
    from dlcore import cnn_architectures as ca

    return [ca.TrainConfig(model=m, steps=int(v["steps"]), lr=float(v["lr"]), width=int(v["width"]),
                           hidden=int(v["hidden"]), seed=seed) for m in WHY_MODELS]


def residual_configs(v: Mapping[str, object], seed: int) -> list[ca.TrainConfig]:
    """A plain and a residual net of the chosen depth, same budget."""
    from dlcore import cnn_architectures as ca

    return [ca.TrainConfig(model=f"{kind}{int(v['depth'])}", steps=RES_STEPS, lr=ZOO_LR, seed=seed)
            for kind in ("plain", "residual")]


def gap_config(v: Mapping[str, object], seed: int) -> ca.TrainConfig:
    """The global-pooling CNN of ``v`` (the one "inside a trained CNN" and the equivariance view open)."""
    return why_configs(v, seed)[2]


def inside_configs(v: Mapping[str, object], seed: int) -> list[ca.TrainConfig]:
    """The global-pooling CNN of ``v`` and its twin with SE blocks (same budget)."""
    from dataclasses import replace

    gap = gap_config(v, seed)
    return [gap, replace(gap, model="cnn_se")]


STN = ("rotation", "scale", "shear", "tx", "ty")   # the spatial transformer's sliders, in order


def stn_configs(v: Mapping[str, object], seed: int) -> list[ca.TrainConfig]:
    """The CNN with a spatial transformer and the same CNN without it, trained and tested on digits turned by up to
    the chosen angle and shifted by up to ``STN_SHIFT`` pixels (same steps, batches and seed)."""
    from dlcore import cnn_architectures as ca

    r = float(v["stn_rotation"])
    return [ca.TrainConfig(model=m, steps=STN_STEPS, lr=STN_LR, rotation=r, max_shift=STN_SHIFT, test_rotation=r,
                           test_shift=STN_SHIFT, record_every=50, seed=seed) for m in ("stn", "cnn_flat")]


def aug_configs(v: Mapping[str, object], seed: int) -> list[ca.TrainConfig]:
    """The global-pooling CNN trained on the first ``aug_n`` training digits without and with augmentation (random
    turns up to ``AUG_ROTATION`` degrees and shifts up to ``AUG_SHIFT`` pixels), both tested on digits distorted
    that way."""
    from dlcore import cnn_architectures as ca

    return [ca.TrainConfig(model="cnn_gap", steps=AUG_STEPS, n_train=int(v["aug_n"]), rotation=AUG_ROTATION * aug,
                           max_shift=AUG_SHIFT * aug, test_rotation=AUG_ROTATION, test_shift=AUG_SHIFT, seed=seed)
            for aug in (0, 1)]


def stn_note(runs: list[ca.TrainResult], view) -> dict[str, object]:
    """notice.stn_trained: both accuracies (%) on the distorted test digits and what the transformer undid."""
    stn, plain = runs
    return {"rot": stn.config.rotation, "shift": stn.config.max_shift, "stn": 100 * stn.final_acc,
            "plain": 100 * plain.final_acc, "spread_in": view.spread_in, "spread_out": view.spread_out,
            "undo": -100 * view.slope, "shift_in": view.shift_in, "shift_out": view.shift_out,
            "zoom": 1 / view.scale}


def aug_note(runs: list[ca.TrainResult]) -> dict[str, object]:
    """notice.augment: training and distorted-test accuracy (%) and the gap, without and with augmentation."""
    plain, aug = runs
    return {"n": plain.config.n_train, "rot": AUG_ROTATION, "shift": AUG_SHIFT,
            "train0": 100 * plain.train_acc, "test0": 100 * plain.final_acc,
            "gap0": 100 * (plain.train_acc - plain.final_acc), "train1": 100 * aug.train_acc,
            "test1": 100 * aug.final_acc, "gap1": 100 * (aug.train_acc - aug.final_acc)}


def grad_steps_note(runs: list[ca.TrainResult], first: int = 20) -> dict[str, object]:
    """notice.grad_steps: the median over the first ``first`` steps of (largest / smallest layer gradient norm)."""
    import numpy as np

    plain, res = (r.grad_norms[:first] for r in runs)
    return {"first": first, "plain": float(np.median(plain.max(1) / plain.min(1))),
            "res": float(np.median(res.max(1) / res.min(1)))}


def np_shifts():
    """The shifts of the accuracy-against-shift figure, as an array."""
    import numpy as np

    return np.asarray(SHIFTS)


def zoo_configs(seed: int) -> list[ca.TrainConfig]:
    """Every zoo architecture with the same budget (steps, batch, Adam's learning rate, seed)."""
    from dlcore import cnn_architectures as ca

    return [ca.TrainConfig(model=name, steps=ZOO_STEPS, lr=ZOO_LR, seed=seed) for name in ZOO]


def _acc(run: ca.TrainResult) -> float | None:
    return None if run.diverged_at is not None else round(100 * run.final_acc, 1)


def why_rows(runs: list[ca.TrainResult], names: Mapping[str, str]) -> list[dict[str, object]]:
    """One table row per model of "why convolution": parameters, MACs per digit, final test accuracy (%)."""
    from dlcore import cnn_architectures as ca

    rows = []
    for run in runs:
        model = ca.build(run.config.model, run.config.width, run.config.hidden)
        rows.append({"model": names[run.config.model], "params": ca.n_params(model), "macs": ca.macs(model),
                     "acc": _acc(run)})
    return rows


def zoo_rows(runs: list[ca.TrainResult], facts, names: Mapping[str, str]) -> list[dict[str, object]]:
    """One table row per zoo architecture: parameters, MACs, receptive field (``facts(name)``), final accuracy (%),
    ms per step."""
    rows = []
    for run in runs:
        params, macs, rf = facts(run.config.model)
        rows.append({"model": names[run.config.model], "params": params, "macs": macs, "rf": rf, "acc": _acc(run),
                     "ms_step": round(1000 * run.seconds / run.config.steps, 1)})
    return rows


def shift_note(runs: list[ca.TrainResult], accs: list, k: int) -> dict[str, object]:
    """notice.shift: each model's accuracy at shift 0 and at shift ``k`` (percent), as one sentence part."""
    at = SHIFTS.index(k)
    mid = SHIFTS.index(0)
    parts = {run.config.model: (100 * float(a[mid]), 100 * float(a[at])) for run, a in zip(runs, accs)}
    get = {m: parts.get(m, (float("nan"), float("nan"))) for m in WHY_MODELS}
    return {"k": k, "mlp0": get["mlp"][0], "mlpk": get["mlp"][1], "gap0": get["cnn_gap"][0],
            "gapk": get["cnn_gap"][1], "flat0": get["cnn_flat"][0], "flatk": get["cnn_flat"][1]}


def residual_note(runs: list[ca.TrainResult]) -> dict[str, object]:
    """notice.residual: the final training loss and test accuracy of the plain and the residual net."""
    plain, res = runs
    return {"plain_loss": float(plain.loss[-1]), "res_loss": float(res.loss[-1]),
            "plain_acc": 100 * plain.final_acc, "res_acc": 100 * res.final_acc}


def code(tab: str) -> tuple:
    """What "the code that ran" shows with ``tab`` open."""
    from dlcore import cnn_architectures as ca

    return {"stn": (ca.theta_from, ca.affine_grid, ca.bilinear_sample, ca.affine_sample),
            "stn_trained": (ca.SpatialTransformer, ca.random_theta, ca.warp, ca.distorted_test, ca.train,
                            ca.stn_view),
            "augment": (ca.random_theta, ca.warp, ca.distorted_test, ca.train),
            "why": (ca.mlp, ca.small_cnn, ca.train, ca.shift, ca.shift_accuracy, ca.equivariance),
            "inside": (ca.small_cnn, ca.saliency, ca.occlusion, ca.inside, ca.SEBlock, ca.se_view),
            "zoo": (ca.lenet5, ca.zoo_model, ca.Inception, ca.ResidualBlock, ca.macs, ca.receptive_field),
            "residual": (ca.ResidualBlock, ca.PlainBlock, ca.deep_net, ca.layer_grad_norms, ca.train),
            "transfer": (ca.pretrain_config, ca.few_shot, ca.fine_tune)}[tab]


def grad_note(plain, residual, depth: int) -> dict[str, object]:
    """notice.grad: how far apart the largest and smallest layer gradients are, plain and residual."""
    return {"depth": depth, "plain": float(plain.max() / plain.min()), "res": float(residual.max() / residual.min())}


def ft_jobs(config: ca.FineTuneConfig) -> list[tuple[str, int]]:
    """Every (method, examples per class) of the fine-tuning sweep, in order."""
    from dlcore import cnn_architectures as ca

    return [(m, n) for m in ca.FINE_TUNE_METHODS for n in config.shots]


def by_method(config: ca.FineTuneConfig, accs: list[float]) -> dict[str, list[float]]:
    """The sweep's accuracies (in ``ft_jobs`` order) grouped by method."""
    out: dict[str, list[float]] = {}
    for (method, _), acc in zip(ft_jobs(config), accs):
        out.setdefault(method, []).append(acc)
    return out


def ft_note(config: ca.FineTuneConfig, acc: Mapping[str, list[float]]) -> dict[str, object]:
    """notice.fine_tune: the three methods' accuracy (%) at the most examples per class."""
    return {"n": config.shots[-1], **{m: 100 * float(a[-1]) for m, a in acc.items()}}
