"""The LSTM-gates lesson's exercises: every answer against torch.nn cells run here, a hand-derived value, or the
measurement the lesson's claim test makes; answers that could depend on the global seed are the same for seeds 0..4."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dlcore.device import generator
from dlcore.sequences import rnn
from ui.exercises import for_lesson
from ui.experiments import lstm_gates as experiment

S = "lstm_gates"
SEEDS = range(5)
EX = {ex.name: ex for ex in for_lesson(S)}


def _latch(kind: str, hidden: int, keep: float) -> nn.Module:
    """The latch cell written out by hand in torch.nn (as lstm_gates' help.weights describes it): recurrent weights
    0; LSTM i = σ(6x − 3), f = σ(−6x + b_f), C̃ = ±tanh(2x), o = σ(3); GRU r = σ(3), z = σ(−6x + b_z), h̃ = ±tanh(2x)."""
    sign = torch.tensor([1.0, -1.0, 0.5, -0.5][:hidden])
    cell = nn.LSTMCell(1, hidden) if kind == "lstm" else nn.GRUCell(1, hidden)
    H = hidden
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        w, b = cell.weight_ih[:, 0], cell.bias_ih
        if kind == "lstm":
            w[:H], b[:H] = 6.0, -3.0
            w[H:2 * H], b[H:2 * H] = -6.0, keep
            w[2 * H:3 * H] = 2.0 * sign
            b[3 * H:] = 3.0
        else:
            b[:H] = 3.0
            w[H:2 * H], b[H:2 * H] = -6.0, keep
            w[2 * H:] = 2.0 * sign
    return cell


def test_the_exercises_run_the_lessons_presets_in_guided_order():
    assert [ex.preset for ex in for_lesson(S)] == ["keep", "gru", "rnn_fails", "explode", "explode"]


def test_memory_left_after_twenty_steps_is_sigma_of_the_bias_to_the_twentieth():
    v = experiment.settings("keep")
    cell = _latch("lstm", int(v["hidden"]), float(v["keep"]))
    h, c = torch.tensor([[0.5, 0.5]]), torch.tensor([[1.0, -1.0]])
    with torch.no_grad():
        h, c = cell(torch.tensor([[float(v["x"])]]), (h, c))            # the step shown
        start = c.clone()
        for _ in range(rnn.MEMORY_STEPS):                                  # then 20 steps of x = 0
            h, c = cell(torch.zeros(1, 1), (h, c))
    measured = float(c[0, 0] / start[0, 0])
    by_hand = (1 / (1 + math.exp(-3.0))) ** 20                           # σ(3)^20 ≈ 0.378
    assert measured == pytest.approx(by_hand, rel=1e-5)
    for seed in SEEDS:
        assert float(EX["memory_left"].answer(seed)) == pytest.approx(by_hand, abs=1e-5)
    assert EX["memory_left"].grade(str(0.95 ** 20)).correct and not EX["memory_left"].grade("0.05").correct


def test_the_gru_at_x_one_moves_to_its_candidate():
    v = experiment.settings("gru")
    cell = _latch("gru", int(v["hidden"]), float(v["keep"]))
    x, h_prev = torch.tensor([[float(v["x"])]]), torch.tensor([[0.5, 0.5]])
    with torch.no_grad():
        h = cell(x, h_prev)
    candidate = torch.tanh(2.0 * float(v["x"]) * torch.tensor([[1.0, -1.0]]))   # n = ±tanh(2x), hh weights 0
    z = 1 / (1 + math.exp(-(float(v["keep"]) - 6.0 * float(v["x"]))))           # σ(−3) ≈ 0.047
    torch.testing.assert_close(h, (1 - z) * candidate + z * h_prev)
    assert ((h - candidate).abs() < (h - h_prev).abs()).all()
    assert {EX["gru_update"].answer(seed) for seed in SEEDS} == {"candidate"}


def test_the_tanh_rnn_stays_under_forty_percent_on_recall_as_the_claim_test_measures():
    from tests.claims.test_lstm_gates import _live_run
    from ui.exercises.lstm_gates import recall_accuracy

    v = experiment.settings("rnn_fails")
    assert recall_accuracy(0) == _live_run(str(v["rt_kind"]), int(v["rt_len"]), 0) <= 0.35   # the same run
    assert {EX["rnn_recall"].answer(seed) for seed in SEEDS} == {"low"}


def _torch_flow(kind: str, seed: int) -> tuple[float, nn.Module]:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ for L = v·h_T, stepping the torch.nn cell itself (not dlcore's gate code), on the
    experiment's inputs, readout and initial weights; the cell keeps its parameter gradients."""
    v = experiment.settings("explode")
    T, H = int(v["flow_len"]), int(v["flow_hidden"])
    g = generator(seed + 1)
    xs = torch.rand(T, rnn.FLOW_INPUT, generator=g).double()
    readout = torch.randn(H, generator=g).double()
    readout = readout / readout.norm()
    cell = rnn.make_flow_cell(kind, rnn.FLOW_INPUT, H, seed, radius=float(v["radius"]), init=str(v["init"]),
                              keep_bias=float(v["flow_keep"])).double()
    h = torch.zeros(1, H, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs = []
    for x in xs:
        if kind == "lstm":
            h, c = cell(x[None], (h, c))
        else:
            h = cell(x[None], h)
        h.retain_grad()
        hs.append(h)
    (hs[-1][0] @ readout).backward()
    return float(hs[0].grad.norm() / hs[-1].grad.norm()), cell


@pytest.mark.parametrize("seed", SEEDS)
def test_the_relu_rnn_has_the_largest_first_step_gradient_and_clipping_leaves_norm_theta(seed):
    ratios = {kind: _torch_flow(kind, seed)[0] for kind in rnn.KINDS}
    assert EX["explode"].answer(seed) == max(ratios, key=ratios.get) == "rnn_relu"
    assert ratios["rnn_relu"] > 1e3                                       # the claim test's "orders of magnitude"
    _, cell = _torch_flow("rnn_relu", seed)
    theta = float(experiment.settings("explode")["clip"])
    before = float(nn.utils.clip_grad_norm_(cell.parameters(), theta))
    after = float(torch.sqrt(sum((p.grad ** 2).sum() for p in cell.parameters())))
    assert before > 1e3 and after == pytest.approx(theta, rel=1e-5)
    assert float(EX["clip"].answer(seed)) == pytest.approx(after, rel=1e-5)
