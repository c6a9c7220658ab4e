"""The receptive-field lesson's exercises: every answer against torch.nn networks whose input gradient is measured
here, the hand-derived recurrence, or the measurement the lesson's claim test makes; answers that could depend on the
global seed are the same for seeds 0..4."""

from __future__ import annotations

import torch
from torch import nn

from ui.exercises import for_lesson
from ui.experiments import receptive_field as experiment

S = "receptive_field"
SEEDS = range(5)
EX = {ex.name: ex for ex in for_lesson(S)}


def _field(model: nn.Module, size: int) -> int:
    """The side of the input square that can change the centre unit of ``model``'s output: the support of
    ∂y/∂x for a network of positive weights (and average pools, whose field is a max pool's), measured by autograd."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = model.double()(x)
    c = y.shape[-1] // 2
    (g,) = torch.autograd.grad(y[0, 0, c, c], x)
    rows = torch.nonzero(g[0, 0].abs().sum(1)).flatten()
    return int(rows.max() - rows.min() + 1)


def _conv(k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(1, 1, k, stride, padding=dilation * (k // 2), dilation=dilation)


def test_the_exercises_run_the_lessons_presets_in_guided_order():
    assert [ex.preset for ex in for_lesson(S)] == ["vgg", "early_stride", "pool_vs_stride", "dilated", "erf"]


def test_two_stacked_3x3_convolutions_see_five_pixels():
    assert _field(nn.Sequential(_conv(), _conv()), int(experiment.settings("vgg")["size"])) == 1 + 2 + 2
    assert EX["two_3x3"].answer() == "5"


def test_a_first_stride_of_two_makes_the_field_fifteen():
    model = nn.Sequential(_conv(stride=2), _conv(), _conv(), _conv())
    assert _field(model, int(experiment.settings("early_stride")["size"])) == 3 + 3 * (2 * 2) == 15
    assert EX["early_stride"].answer() == "15"


def test_the_stride_two_convolution_widens_the_field_more_than_the_pool():
    size = int(experiment.settings("pool_vs_stride")["size"])
    layers = [_conv(), nn.AvgPool2d(2, 2), _conv(), _conv(stride=2)]     # conv1, pool, conv2, conv_s2
    fields = [_field(nn.Sequential(*layers[:i]), size) for i in range(1, 5)]
    assert fields == [3, 4, 8, 12]                                          # r = r + (k - 1) * jump, jump 1, 2, 2
    assert fields[1] - fields[0] == 1 and fields[3] - fields[2] == 4
    assert EX["pool_or_stride"].answer() == "conv"


def test_dilations_one_to_thirty_two_see_127_pixels():
    dilations = [1, 2, 4, 8, 16, 32]
    assert list(experiment.table(experiment.settings("dilated")).dilation) == dilations
    model = nn.Sequential(*(_conv(dilation=d) for d in dilations))
    assert _field(model, int(experiment.settings("dilated")["size"]) + 1) == 1 + 2 * sum(dilations) == 127
    assert EX["dilated"].answer() == "127"


def _torch_effective_width(depth: int, seeds: int) -> int:
    """The side of the centred square holding 95% of E|∂(Σ_c y_c,centre)/∂x| over ``seeds`` random torch.nn stacks
    of ``depth`` 3x3 convolutions (8 channels, ReLU, PyTorch's default init) on their whole theoretical field."""
    n = 2 * depth + 1
    acc = torch.zeros(n, n, dtype=torch.float64)
    for s in range(seeds):
        torch.manual_seed(1000 + s)
        mods = []
        for i in range(depth):
            mods += [nn.Conv2d(1 if i == 0 else 8, 8, 3, padding=1), nn.ReLU()]
        x = torch.randn(1, 1, n, n, requires_grad=True)
        y = nn.Sequential(*mods)(x)
        (g,) = torch.autograd.grad(y[0, :, depth, depth].sum(), x)
        acc += g[0, 0].abs().double()
    total = float(acc.sum())
    for h in range(depth + 1):
        if float(acc[depth - h:depth + h + 1, depth - h:depth + h + 1].sum()) >= 0.95 * total:
            return 2 * h + 1
    raise AssertionError("unreachable")


def test_the_effective_field_is_about_half_the_theoretical_one():
    depth = int(experiment.settings("erf")["erf_depth"])
    answers = {EX["effective"].answer(seed) for seed in SEEDS}
    assert len(answers) == 1                                                # the same for seeds 0..4
    answer = int(answers.pop())
    assert 0.4 <= answer / (2 * depth + 1) <= 0.65                          # the claim test's "about half as wide"
    width = _torch_effective_width(depth, seeds=8)
    assert EX["effective"].grade(str(width)).correct, (width, answer)       # torch's own measurement is graded right
    assert not EX["effective"].grade(str(2 * depth + 1)).correct            # the theoretical field is not
