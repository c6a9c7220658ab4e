"""The normalization lesson's settings (each declared once), presets and experiments (shared by the page, the
claim tests and, later, the exercises): which values share statistics, batch-noise and train-vs-eval drift, padded
sequences, and the training grid."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dlcore.normalization import lab, training
from dlcore.normalization import layers as norm
from ui.params import Param, defaults

NC, CC, SC = lab.MAX_CUBE
SHIFTS, MOMENTA = (0.0, 100.0, 10000.0), (0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0)
DRIFT_BATCHES, TRAIN_BATCHES = (2, 4, 8, 16, 32, 64, 128, 256), (2, 4, 8, 16, 32, 64, 128)
LRS, STEPS = (0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0), (100, 200, 300, 500)
MAX_BATCHES = 3              # batch sizes trained side by side
STALLED = 0.2                # final test accuracy below this: the run did not learn (chance is 10%)

# every setting of the lesson, once (the widgets' keys and URL parameters are "normalization.<name>"); widget=""
# marks the few the page draws itself because their range follows other settings (see ``fit``)
SETTINGS: tuple[Param, ...] = (
    # which values share statistics
    Param.choice("kind", "batch", norm.KINDS, widget="segmented", names="kinds"),
    Param.int("n_size", 4, lo=2, hi=NC), Param.int("c_size", 6, lo=2, hi=CC), Param.int("s_size", 9, lo=2, hi=SC),
    Param.int("groups", 2, lo=1, hi=CC, widget="", help=True),          # a divisor of c_size
    Param.int("n", 1, lo=0, hi=NC - 1, widget=""), Param.int("c", 2, lo=0, hi=CC - 1, widget=""),
    Param.int("s", 4, lo=0, hi=SC - 1, widget=""),                     # the picked cell, inside the cube
    Param.int("real_n", 16, lo=2, hi=64),
    Param.choice("shift", 0.0, SHIFTS, widget="select_slider", fmt="g", help=True),
    Param.choice("real_groups", 4, norm.divisors(lab.CONV_CHANNELS), widget="select_slider"),
    # batch size and eval mode
    Param.choice("layer", "fc", lab.LAYERS, widget="segmented", names="layers"),
    Param.int("channel", 0, lo=0, hi=lab.CONV_CHANNELS - 1),
    Param.int("repeats", 60, lo=20, hi=lab.MAX_REPEATS, step=10),
    Param.choice("momentum", 0.1, MOMENTA, widget="select_slider", help=True),
    Param.choice("drift_batch", 16, DRIFT_BATCHES, widget="select_slider"),
    Param.int("drift_steps", 150, lo=20, hi=lab.MAX_DRIFT_STEPS, step=10, help=True),
    Param.int("drift_until", 60, lo=0, hi=lab.MAX_DRIFT_STEPS, step=10, help=True),
    # padded sequences
    Param.text("lengths", "7, 4, 2, 5", max_len=40, help=True),
    Param.int("features", 4, lo=2, hi=lab.MAX_FEATURES),
    Param.int("feature", 0, lo=0, hi=lab.MAX_FEATURES - 1, widget=""),  # one of the features
    Param.int("extra_pad", 0, lo=0, hi=lab.MAX_EXTRA_PAD, help=True),
    # train side by side: every method learns at lr 0.1
    Param.multi("methods", ["none", "batch", "layer", "group"], training.METHODS, widget="pills", names="kinds"),
    Param.multi("batches", [2, 16, 128], TRAIN_BATCHES),
    Param.choice("lr", 0.1, LRS, widget="select_slider", fmt="g"),
    Param.choice("steps", 300, STEPS, widget="select_slider"),
    Param.choice("train_groups", 4, training.GROUPS, widget="select_slider"),
    # gamma and beta
    Param.float("gamma", 1.0, lo=0.0, hi=3.0, step=0.01, help=True),
    Param.float("beta", 0.0, lo=-3.0, hi=3.0, step=0.01, help=True),
    Param.int("a_channel", 0, lo=0, hi=lab.CONV_CHANNELS - 1),
)
DEFAULTS = defaults(SETTINGS)   # setting name -> default value

# preset name -> the settings it changes; TAB says which tab it opens
PRESETS: dict[str, dict[str, object]] = {
    "group_as_layer": {"kind": "group", "groups": 1},
    "batch_of_two": {"methods": ["batch", "layer", "group"], "batches": [2, 16]},
    "eval_too_early": {"momentum": 0.01, "drift_steps": 200, "drift_until": 80},
    # lr 2, not 1: at lr 1 the un-normalized net still learns at batch 128 for some seeds (issue 19); at lr 2 it
    # stays at chance at batch 16 and 128 for seeds 0-9 (and at batch 2) while BatchNorm reaches 87-99%
    "high_lr": {"methods": ["none", "batch"], "batches": [16, 128], "lr": 2.0},
    "padded_ln": {"lengths": "12, 2, 3", "extra_pad": 8},
}
TABS = ("axes", "batch", "sequences", "train", "affine")
TAB: dict[str, str] = {"group_as_layer": "axes", "batch_of_two": "train", "eval_too_early": "batch",
                       "high_lr": "train", "padded_ln": "sequences"}


def values(preset: str | None = None) -> dict[str, object]:
    """The settings of ``preset`` merged over the defaults (the defaults alone for None)."""
    return DEFAULTS | (PRESETS[preset] if preset else {})


def noise_config(v: Mapping[str, object], seed: int) -> lab.NoiseConfig:
    """How noisy BN's batch statistics are, for the layer and channel of ``v``."""
    return lab.NoiseConfig(layer=str(v["layer"]), channel=int(v["channel"]), repeats=int(v["repeats"]), seed=seed)


def drift_config(v: Mapping[str, object], seed: int) -> lab.DriftConfig:
    """Running statistics chasing a moving layer."""
    return lab.DriftConfig(float(v["momentum"]), int(v["drift_batch"]), int(v["drift_steps"]), int(v["drift_until"]),
                           int(v["channel"]), seed)


def lengths_error(v: Mapping[str, object]) -> str | None:
    """Why the typed lengths of ``v`` cannot be used (an i18n key's last part, see
    ``dlcore.normalization.lab.parse_lengths``), None if they can."""
    try:
        lab.parse_lengths(str(v["lengths"]))
    except ValueError as err:
        return str(err)
    return None


def sequence_config(v: Mapping[str, object], seed: int) -> lab.SequenceConfig:
    """The padded batch of ``v``; the default lengths where the typed ones cannot be used (``lengths_error``)."""
    lengths = str(v["lengths"] if lengths_error(v) is None else DEFAULTS["lengths"])
    return lab.SequenceConfig(lab.parse_lengths(lengths), int(v["features"]), int(v["feature"]),
                              int(v["extra_pad"]), seed)


def train_configs(v: Mapping[str, object], seed: int) -> list[training.TrainConfig]:
    """The training grid of ``v`` in the page's order: batch sizes (at most 3, ascending), then methods."""
    methods = [m for m in training.METHODS if m in v["methods"]]
    batches = sorted(v["batches"])[:MAX_BATCHES]
    return [training.TrainConfig(m, b, float(v["lr"]), int(v["steps"]), int(v["train_groups"]), seed=seed)
            for b in batches for m in methods]


def fit(v: Mapping[str, object]) -> dict[str, object]:
    """The settings whose range follows others, brought inside it: GroupNorm's groups snap to the largest divisor
    of C, the picked cell stays inside the cube, the feature shown is one of the features, and at most three
    batch sizes train (a URL may list more). Values already inside are returned unchanged."""
    return {"groups": norm.fit_groups(int(v["groups"]), int(v["c_size"])),
            **{k: min(int(v[k]), int(v[size]) - 1) for k, size in (("n", "n_size"), ("c", "c_size"), ("s", "s_size"))},
            "feature": min(int(v["feature"]), int(v["features"]) - 1),
            "batches": sorted(v["batches"])[:MAX_BATCHES]}


def failures(runs: list[training.TrainHistory]) -> dict[str, list[training.TrainHistory]]:
    """The runs of the grid that "diverged" (loss inf / NaN) and those that "stalled" (final test accuracy near
    chance without diverging); a kind no run shows is left out."""
    out = {"diverged": [r for r in runs if r.diverged_at is not None],
           "stalled": [r for r in runs if r.diverged_at is None and r.test_acc[-1] < STALLED]}
    return {kind: failed for kind, failed in out.items() if failed}


def set_note(v: Mapping[str, object]) -> dict[str, object]:
    """The numbers the axes view's note fills in: the picked cell, how many values share its statistics, the cube's
    sizes, the groups, the channels per group and how many (mean, variance) pairs the method computes."""
    shape, index = (int(v["n_size"]), int(v["c_size"]), int(v["s_size"])), (int(v["n"]), int(v["c"]), int(v["s"]))
    members = int(norm.norm_groups(str(v["kind"]), shape, index, int(v["groups"])).sum())
    return {"n": v["n"], "c": v["c"], "s": v["s"], "m": members, "N": shape[0], "C": shape[1], "S": shape[2],
            "G": v["groups"], "size": shape[1] // int(v["groups"]),
            "sets": norm.set_count(str(v["kind"]), shape, int(v["groups"]))}


def real_batch(n: int, shift: float, groups: int, kind: str, seed: int, device: str):
    """A batch of ``n`` real conv activations (plus ``shift``): the (N, C) maps of the mean and std that ``kind``
    normalizes each plane with, and our four methods checked against ``torch.nn`` on it."""
    x = lab.conv_activations(n, seed, shift, device=device)
    m = norm.moments(kind, x, groups)
    return m.mean.cpu().numpy(), m.std.cpu().numpy(), lab.compare_with_torch(x, groups, seed=seed)


def given_back(channel: int, seed: int, device: str) -> dict[str, float]:
    """gamma = sigma and beta = mu of ``channel`` (inside the declared ranges): y is the input again."""
    a = lab.affine_view(1.0, 0.0, channel, seed=seed, device=device)
    ranges = {p.name: (p.lo, p.hi) for p in SETTINGS if p.name in ("gamma", "beta")}
    return {"gamma": float(np.clip(a.std, *ranges["gamma"])), "beta": float(np.clip(a.mean, *ranges["beta"]))}


# ---- the numbers each "what to notice" text fills in (normalization.toml: set_note.*, notice.*)

def drift_note(d: lab.Drift, v: Mapping[str, object], level: float = 0.1) -> dict[str, object]:
    """notice.drift's numbers, and how the drift ends ("end" and its numbers "end_at", for drift_end.*): "settled" at
    the first step (1-based) at which eval mode changes the outputs by less than ``level`` (RMS), else "never"."""
    m, below = float(v["momentum"]), d.mismatch < level
    end = ("settled", {"step": int(np.argmax(below)) + 1}) if below.any() else ("never", {"steps": v["drift_steps"]})
    return {"first": d.mismatch[0], "m": m, "lag": round((1 - m) / m), "end": end[0], "end_at": end[1]}


def noise_note(res: lab.BatchNoise) -> dict[str, object]:
    """notice.noise_*: how much one digit's output moves with its batch-mates at B = 2 and at the largest batch."""
    return {"b2": res.bn_deviation[1], "b128": res.bn_deviation[-1]}


def one_note(seed: int) -> dict[str, object]:
    """notice.batch_of_one: BN minus IN for one image of a conv layer, and what BN says for one sample of an FC one."""
    one = lab.batch_of_one(seed)
    return {"diff": one.conv_bn_minus_in, "error": one.fc_error}


def picked_cell(selection: Mapping[str, object]) -> dict[str, int]:
    """The cell ("n", "c", "s") a click on the unfolded cube picked (the chart's selection state), {} for none."""
    from ui.state import selected_points

    points = selected_points(selection)   # what the client sent, numbers only
    data = points[0].get("customdata") if points else None
    if isinstance(data, list) and len(data) == 3:
        return {k: int(i) for k, i in zip("ncs", data)}   # the kit then checks each index against the cube
    return {}


def sequence_note(sq: lab.SequenceResult, feature: int) -> dict[str, object]:
    """notice.sequences: BN's mean of the feature (padding counted), the real tokens' mean, padding and slots."""
    return {"bn": sq.bn_mean[feature], "real": sq.real_mean[feature], "pad": int((~sq.mask).sum()),
            "total": sq.mask.size}


def affine_note(a: lab.AffineView) -> dict[str, object]:
    """notice.affine: the channel's mean and std, the shares a ReLU keeps before and after, and how far y is
    from the input (0 when gamma = sigma and beta = mu)."""
    return {"mean": a.mean, "std": a.std, "kept_x": 100 * a.kept_x, "kept_y": 100 * a.kept_y,
            "back": float(np.abs(a.y - a.x).max())}


# ---- the code that ran: every lesson shows the four normalizations, then what the open tab called
CODE = (norm.batch_norm, norm.layer_norm, norm.instance_norm, norm.group_norm, norm.update_running_stats,
        norm.batch_norm_eval)
CODE_BY_TAB = {"axes": (norm.norm_groups, norm.moments, lab.compare_with_torch),
               "batch": (lab.batch_noise, lab.train_eval_drift), "sequences": (norm.masked_batch_norm, lab.sequences),
               "train": (training.small_cnn, training.train), "affine": (lab.affine_view,)}


def code(tab: str) -> tuple:
    """What "the code that ran" shows with ``tab`` open: the four normalizations, then what that tab called."""
    return CODE + CODE_BY_TAB[tab]
