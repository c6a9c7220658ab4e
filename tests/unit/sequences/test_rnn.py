"""dlcore.sequences.rnn against torch.nn cells and layers, hand-derived gradients and closed-form memories."""

import numpy as np
import pytest
import torch
from torch import nn

from dlcore.sequences import rnn

TOL = {"rtol": 1e-5, "atol": 1e-6}


def _randomize(module: nn.Module, seed: int, scale: float = 1.0) -> nn.Module:
    """Large random weights (well beyond torch's init) so every gate leaves its linear range."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g))
    return module


@pytest.mark.parametrize("batch", [None, 1, 5])
@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_lstm_step_matches_lstm_cell_with_the_same_weights(batch, scale):
    cell = _randomize(nn.LSTMCell(3, 4), 0, scale)
    g = torch.Generator().manual_seed(1)
    shape = () if batch is None else (batch,)
    x, h, c = (torch.randn(*shape, n, generator=g) * 2 for n in (3, 4, 4))
    s = rnn.lstm_step(x, h, c, cell)
    h_ref, c_ref = cell(x, (h, c))
    torch.testing.assert_close(s.h, h_ref, **TOL)
    torch.testing.assert_close(s.c, c_ref, **TOL)


def test_lstm_gates_are_torch_order_i_f_g_o():
    """Only the forget rows (second block of weight_ih) get a huge bias: only f saturates at 1."""
    cell = nn.LSTMCell(1, 2)
    with torch.no_grad():
        cell.weight_ih.zero_(), cell.weight_hh.zero_(), cell.bias_ih.zero_(), cell.bias_hh.zero_()
        cell.bias_ih[2:4] = 20.0
    s = rnn.lstm_step(torch.ones(1), torch.zeros(2), torch.full((2,), 0.7), cell)
    torch.testing.assert_close(s.f, torch.ones(2))
    torch.testing.assert_close(s.i, torch.full((2,), 0.5))
    torch.testing.assert_close(s.g, torch.zeros(2))
    torch.testing.assert_close(s.c, torch.full((2,), 0.7))          # C_t = 1 * C_{t-1} + 0.5 * 0
    torch.testing.assert_close(s.h, 0.5 * torch.tanh(torch.full((2,), 0.7)))


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_gru_step_matches_gru_cell_including_reset_after_the_matrix(scale):
    cell = _randomize(nn.GRUCell(3, 4), 2, scale)
    g = torch.Generator().manual_seed(3)
    x, h = torch.randn(6, 3, generator=g), torch.randn(6, 4, generator=g)
    s = rnn.gru_step(x, h, cell)
    torch.testing.assert_close(s.h, cell(x, h), **TOL)
    assert ((s.r > 0) & (s.r < 1)).all() and ((s.z > 0) & (s.z < 1)).all()


def test_gru_update_gate_near_one_keeps_the_old_state():
    cell = nn.GRUCell(2, 3)
    with torch.no_grad():
        cell.bias_ih[3:6] = 30.0   # z rows: torch's order r, z, n
    h = torch.tensor([0.3, -0.8, 0.5])
    torch.testing.assert_close(rnn.gru_step(torch.randn(2), h, cell).h, h, rtol=0, atol=1e-6)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_matches_rnn_cell(nonlinearity):
    cell = _randomize(nn.RNNCell(3, 5, nonlinearity=nonlinearity), 4)
    x, h = torch.randn(2, 3), torch.randn(2, 5)
    torch.testing.assert_close(rnn.rnn_step(x, h, cell), cell(x, h), **TOL)


def test_lstm_sequence_matches_nn_lstm_over_many_steps_with_initial_state():
    layer = _randomize(nn.LSTM(3, 4), 5, 0.8)
    g = torch.Generator().manual_seed(6)
    xs, h0, c0 = torch.randn(50, 2, 3, generator=g), torch.randn(2, 4, generator=g), torch.randn(2, 4, generator=g)
    tr = rnn.lstm_sequence(xs, rnn.cell_from_layer(layer), h0, c0)
    out, (hT, cT) = layer(xs, (h0[None], c0[None]))
    torch.testing.assert_close(tr.h, out, **TOL)
    torch.testing.assert_close(tr.c[-1], cT[0], **TOL)
    assert tr.i.shape == tr.f.shape == tr.g.shape == tr.o.shape == (50, 2, 4)


def test_gru_and_rnn_sequences_match_nn_gru_and_nn_rnn():
    gru, elman = _randomize(nn.GRU(3, 4), 7), _randomize(nn.RNN(3, 4), 8, 0.5)
    xs = torch.randn(40, 3, generator=torch.Generator().manual_seed(9))   # unbatched
    torch.testing.assert_close(rnn.gru_sequence(xs, rnn.cell_from_layer(gru)).h, gru(xs)[0], **TOL)
    torch.testing.assert_close(rnn.rnn_sequence(xs, rnn.cell_from_layer(elman)), elman(xs)[0], **TOL)


def test_cell_from_layer_shares_parameters_with_the_layer():
    layer = nn.LSTM(2, 3)
    cell = rnn.cell_from_layer(layer)
    assert cell.weight_ih is layer.weight_ih_l0 and cell.bias_hh is layer.bias_hh_l0


# ---------------------------------------------------------------- step-through

@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("keep", [-3.0, 0.0, 3.0])
def test_latch_memory_with_zero_input_decays_as_keep_gate_power(kind, keep):
    """Hand-derived: with x = 0 the latch writes nothing, so memory_t = sigmoid(keep)^t * memory_0."""
    cfg = rnn.CellConfig(kind=kind, hidden=3, x=1.0, h=(0.2, -0.4, 0.1), c=(1.0, -1.0, 0.5), keep_bias=keep)
    res = rnn.step_through(cfg)
    sig = 1 / (1 + np.exp(-keep))
    expected = sig ** np.arange(rnn.MEMORY_STEPS + 1)[:, None] * res.memory[0]
    np.testing.assert_allclose(res.memory, expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(rnn.closed_form_memory(keep, res.memory[0]), expected, rtol=1e-12)   # the page's


def test_step_through_values_equal_torch_cell_and_keep_bias_is_set():
    cfg = rnn.CellConfig(kind="lstm", hidden=4, x=-0.7, h=(0.1, 0.2, -0.3, 0.4), c=(1, 2, -1, 0),
                         weights="random", keep_bias=-2.5, seed=3)
    cell = rnn.make_cell(cfg)
    torch.testing.assert_close(cell.bias_ih[4:8] + cell.bias_hh[4:8], torch.full((4,), -2.5))
    res = rnn.step_through(cfg)
    h_ref, c_ref = cell(torch.tensor([-0.7]), (torch.tensor(cfg.h), torch.tensor(cfg.c, dtype=torch.float32)))
    np.testing.assert_allclose(res.values["h"], h_ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res.values["c"], c_ref.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_latch_opens_input_gate_only_when_x_is_large():
    lo = rnn.step_through(rnn.CellConfig(x=0.0, h=(0.0, 0.0), c=(0.0, 0.0))).values
    hi = rnn.step_through(rnn.CellConfig(x=1.0, h=(0.0, 0.0), c=(0.0, 0.0))).values
    assert (lo["i"] < 0.05).all() and (hi["i"] > 0.95).all()
    np.testing.assert_allclose(hi["g"], [np.tanh(2.0), -np.tanh(2.0)], rtol=1e-6)


@pytest.mark.parametrize("change,match", [
    ({"hidden": rnn.MAX_HIDDEN_STEP + 1, "h": (0.0,) * 5, "c": (0.0,) * 5}, "Invalid hidden size: 5"),
    ({"x": 50.0}, "Invalid input or state"), ({"x": float("nan")}, "Invalid input or state"),
    ({"h": (0.5,)}, "Invalid state length"), ({"c": (0.0, rnn.STATE_LIMIT + 1)}, "Invalid input or state"),
    ({"keep_bias": rnn.BIAS_LIMIT + 0.5}, "Invalid keep bias"), ({"kind": "rnn_tanh"}, "Invalid cell kind"),
    ({"weights": "zeros"}, "Invalid weights"),
])
def test_cell_config_rejects_out_of_range_input_with_a_value_error(change, match):
    with pytest.raises(ValueError, match=match):
        rnn.CellConfig(**change)


@pytest.mark.parametrize("text,n,expected", [("0.5", 3, (0.5, 0.5, 0.5)), ("1, -2", 2, (1.0, -2.0)),
                                             ("1;2 3", 3, (1.0, 2.0, 3.0))])
def test_parse_vector_broadcasts_or_takes_one_per_unit(text, n, expected):
    assert rnn.parse_vector(text, n) == expected


@pytest.mark.parametrize("text,n,why", [("1, 2", 3, "count"), ("a", 1, "number"), ("9", 1, "range"),
                                        ("nan", 1, "range"), ("", 2, "count")])
def test_parse_vector_says_what_is_wrong(text, n, why):
    with pytest.raises(ValueError, match=why):
        rnn.parse_vector(text, n)


# ---------------------------------------------------------------- gradient flow

def _state_grads_by_hand(cell: nn.RNNCell, xs: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """dL/dh_t by the chain rule written out: dL/dh_{t-1} = W_hh^T (phi'(a_t) * dL/dh_t)."""
    h = torch.zeros(cell.hidden_size, dtype=xs.dtype)
    pre = []
    for x in xs:
        a = cell.weight_ih @ x + cell.bias_ih + cell.weight_hh @ h + cell.bias_hh
        pre.append(a)
        h = torch.tanh(a)
    grads = [v]
    for a in reversed(pre[1:]):
        grads.append(cell.weight_hh.T @ ((1 - torch.tanh(a) ** 2) * grads[-1]))
    return torch.stack(grads[::-1]).norm(dim=1)


def test_state_gradients_match_hand_derived_bptt_for_tanh_rnn():
    cell = _randomize(nn.RNNCell(2, 3), 10, 0.7).double()
    xs = torch.randn(25, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    norms, _ = rnn.state_gradients(cell, xs, v)
    torch.testing.assert_close(norms, _state_grads_by_hand(cell, xs, v.detach()).detach(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("radius", [0.8, 1.0, 1.3])
def test_linear_regime_relu_rnn_gradient_ratio_is_radius_power(radius):
    """W_hh = rho * I, positive inputs and weights: ReLU never clips, so dL/dh_t = rho^(T-t) v exactly."""
    T = 30
    cell = nn.RNNCell(3, 4, nonlinearity="relu").double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.rand(4, 3, generator=torch.Generator().manual_seed(12)))
        cell.weight_hh.copy_(radius * torch.eye(4, dtype=torch.float64))
        cell.bias_ih.fill_(0.1), cell.bias_hh.zero_()
    xs = torch.rand(T, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(13))
    norms, _ = rnn.state_gradients(cell, xs, torch.ones(4, dtype=torch.float64) / 2)
    expected = torch.tensor([radius ** (T - 1 - t) for t in range(T)], dtype=torch.float64)
    torch.testing.assert_close(norms / norms[-1], expected, rtol=1e-10, atol=0)


def test_make_flow_cell_sets_spectral_radius_and_identity():
    cell = rnn.make_flow_cell("rnn_tanh", 4, 16, 0, radius=0.9)
    assert rnn.spectral_radius(cell.weight_hh.detach()) == pytest.approx(0.9, rel=1e-5)
    ident = rnn.make_flow_cell("rnn_relu", 4, 8, 0, radius=1.0, init="identity")
    torch.testing.assert_close(ident.weight_hh.detach(), torch.eye(8))
    lstm = rnn.make_flow_cell("lstm", 4, 8, 0, keep_bias=3.0)
    torch.testing.assert_close((lstm.bias_ih + lstm.bias_hh)[8:16].detach(), torch.full((8,), 3.0))


def test_gradient_flow_vanishes_in_tanh_rnn_and_is_carried_by_lstm_with_forget_bias():
    T = 100
    tanh = rnn.gradient_flow("rnn_tanh", T, 16, 0)
    lstm = rnn.gradient_flow("lstm", T, 16, 0, keep_bias=3.0)
    assert tanh.shape == lstm.shape == (T,)
    assert tanh[0] / tanh[-1] < 1e-6          # vanished
    assert lstm[0] / lstm[-1] > 1e-3          # carried by the cell state
    assert lstm[0] / lstm[-1] > 1e3 * tanh[0] / tanh[-1]


def test_identity_relu_rnn_keeps_gradient_and_larger_radius_explodes_it():
    flat = rnn.gradient_flow("rnn_relu", 100, 16, 0, init="identity", radius=1.0)
    assert 0.1 < flat[0] / flat[-1] <= 1.0 + 1e-9
    boom = rnn.gradient_flow("rnn_relu", 100, 16, 0, init="identity", radius=1.2)
    assert boom[0] / boom[-1] > 1e6


def test_clip_grad_norm_matches_torch_and_keeps_direction():
    a, b = nn.Linear(5, 3), nn.Linear(5, 3)
    b.load_state_dict(a.state_dict())
    x = torch.randn(8, 5) * 100
    a(x).pow(2).sum().backward()
    b(x).pow(2).sum().backward()
    before = torch.cat([p.grad.flatten() for p in a.parameters()]).clone()
    total = rnn.clip_grad_norm(list(a.parameters()), 1.0)
    total_ref = torch.nn.utils.clip_grad_norm_(b.parameters(), 1.0)
    assert total == pytest.approx(float(total_ref), rel=1e-5)
    after = torch.cat([p.grad.flatten() for p in a.parameters()])
    torch.testing.assert_close(after, torch.cat([p.grad.flatten() for p in b.parameters()]), rtol=1e-5, atol=1e-7)
    assert float(after.norm()) == pytest.approx(1.0, rel=1e-5)
    torch.testing.assert_close(after / after.norm(), before / before.norm(), rtol=1e-5, atol=1e-7)


def test_flow_reports_clipped_norm_at_threshold():
    res = rnn.flow("rnn_relu", rnn.FlowConfig(seq_len=100, radius=1.5, clip=1.0))
    assert res.param_norm > 1e3 and res.clipped_norm == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("change,match", [
    ({"seq_len": rnn.MAX_FLOW_LEN + 1}, "Invalid sequence length: 201"), ({"hidden": 0}, "Invalid hidden size: 0"),
    ({"hidden": rnn.MAX_FLOW_HIDDEN + 1}, "Invalid hidden size"), ({"radius": 2.5}, "Invalid spectral radius"),
    ({"init": "orthogonal"}, "Invalid init"), ({"keep_bias": -7.0}, "Invalid keep bias"),
    ({"clip": 0.0}, "Invalid clipping threshold"),
])
def test_flow_config_caps_are_value_errors(change, match):
    with pytest.raises(ValueError, match=match):
        rnn.FlowConfig(**change)


def test_unknown_flow_cell_is_a_value_error():
    with pytest.raises(ValueError, match="Invalid cell kind"):
        rnn.gradient_flow("transformer", 10, 4, 0)
