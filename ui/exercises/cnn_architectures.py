"""Exercises of the CNN-architectures lesson: each answer is computed by dlcore.cnn_architectures on the preset it
names.

dlcore is imported inside the solvers: the course map counts exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise
from ui.experiments import cnn_architectures as experiment


def _zoom(seed: int) -> str:
    """Whether the digit looks bigger or smaller after the preset's theta: compare the ink's spread (pixels above
    half intensity) before and after sampling."""
    from dlcore import cnn_architectures as ca

    v = experiment.settings("zoom_out")
    view = ca.transform_digit(int(v["digit"]), experiment.theta(v))
    return "smaller" if (view.output > 0.5).sum() < (view.image > 0.5).sum() else "bigger"


def _mlp_params(seed: int) -> int:
    from dlcore import cnn_architectures as ca

    v = experiment.settings("shift_far")
    return ca.n_params(ca.build("mlp", hidden=int(v["hidden"])))


def _shift_winner(seed: int) -> str:
    """The model of "why convolution" that is more accurate on test digits moved by the preset's shift."""
    from dlcore import cnn_architectures as ca

    v = experiment.settings("shift_far")
    configs = {c.model: c for c in experiment.why_configs(v, seed)}
    acc = {m: ca.shift_accuracy(ca.train(configs[m]).model(), (int(v["shift"]),)).accuracy[0]
           for m in ("mlp", "cnn_gap")}
    return max(acc, key=acc.get)


def _lenet_params(seed: int) -> int:
    from dlcore import cnn_architectures as ca

    return ca.n_params(ca.lenet5())


def _zero_branch(seed: int) -> str:
    """What a residual block returns for a non-negative input when every weight of its branch is zero."""
    import torch

    from dlcore import cnn_architectures as ca
    from dlcore.device import generator

    block = ca.residual_block(8)
    with torch.no_grad():
        for p in block.branch.parameters():
            p.zero_()
    x = torch.rand(2, 8, 6, 6, generator=generator(seed))
    with torch.no_grad():
        y = block(x)
    if torch.equal(y, x):
        return "input"
    return "zero" if torch.equal(y, torch.zeros_like(x)) else "other"


def _stn_winner(seed: int) -> str:
    """The more accurate on the distorted test digits: the CNN with a spatial transformer or the same CNN alone."""
    from dlcore import cnn_architectures as ca

    stn, plain = (ca.train(c) for c in experiment.stn_configs(experiment.settings("stn_rotated"), seed))
    return "stn" if stn.final_acc > plain.final_acc else "cnn_flat"


def _augment_gap(seed: int) -> str:
    """The run with the larger generalization gap (training accuracy minus distorted-test accuracy)."""
    from dlcore import cnn_architectures as ca

    plain, aug = (ca.train(c) for c in experiment.aug_configs(experiment.settings("augment_few"), seed))
    return "no_aug" if plain.train_acc - plain.final_acc > aug.train_acc - aug.final_acc else "aug"


def _grad_spread(seed: int) -> str:
    """The net whose layer gradients are further apart (largest / smallest, median over the first 20 steps)."""
    from dlcore import cnn_architectures as ca

    runs = [ca.train(c) for c in experiment.residual_configs(experiment.settings("deep_plain"), seed)]
    note = experiment.grad_steps_note(runs)
    return "plain" if note["plain"] > note["res"] else "residual"


EXERCISES = (
    Exercise("cnn_architectures", "zoom", "zoom_out", _zoom, options=("bigger", "smaller")),
    Exercise("cnn_architectures", "mlp_params", "shift_far", _mlp_params, tolerance=0.02),
    Exercise("cnn_architectures", "shift_winner", "shift_far", _shift_winner, options=("mlp", "cnn_gap")),
    Exercise("cnn_architectures", "lenet_params", "zoo", _lenet_params, tolerance=0.02),
    Exercise("cnn_architectures", "zero_branch", "deep_plain", _zero_branch, options=("input", "zero", "other")),
    Exercise("cnn_architectures", "grad_spread", "deep_plain", _grad_spread, options=("plain", "residual")),
    Exercise("cnn_architectures", "stn_winner", "stn_rotated", _stn_winner, options=("stn", "cnn_flat")),
    Exercise("cnn_architectures", "augment_gap", "augment_few", _augment_gap, options=("no_aug", "aug")),
)
