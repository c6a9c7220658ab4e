"""Claim tests of the LSTM-gates lesson: every sentence a learner reads about what the lab shows, run through dlcore
with the lesson's own presets and defaults (ui.experiments.lstm_gates)."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dlcore.device import seeded
from dlcore.sequences import rnn, tasks
from ui.experiments import lstm_gates as experiment

MODELS = Path(__file__).resolve().parents[2] / "assets" / "models" / "lstm_gates"
SEEDS = range(5)
sigmoid = torch.sigmoid


def _step(preset: str | None = None, **changes) -> rnn.StepResult:
    return rnn.step_through(experiment.cell_config({**experiment.settings(preset), **changes}, 0))


@functools.cache
def _flows(preset: str | None, seed: int, **changes) -> dict[str, rnn.FlowResult]:
    return experiment.flows(experiment.flow_config({**experiment.settings(preset), **changes}, seed))


def _ratio(result: rnn.FlowResult) -> float:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, the table's first column."""
    return float(result.norms[0] / result.norms[-1])


@functools.cache
def _bundled(task: str):
    model, config = tasks.unpack(torch.load(MODELS / f"{task}.pt", weights_only=True))
    return model, config, tasks.unit_roles(model, config)


@functools.cache
def _live_run(kind: str, max_len: int, seed: int) -> float:
    """A live retraining run on recall, as the page starts it; its evaluation accuracy."""
    values = {**experiment.settings("rnn_fails"), "rt_kind": kind, "rt_len": max_len}
    state = tasks.init_training(experiment.retrain_config("recall", values, seed))
    while not state.done:
        tasks.train_steps(state, 200)
    return state.accuracy


# ---------------------------------------------------------------- the concept text

def test_gru_reset_before_and_after_the_product_give_different_candidates():
    """lstm_gates.md: "with the same weights they give a different h̃_t whenever r_t is not all ones" (the notes'
    reset before the matrix product, W_hn(r ⊙ h), against PyTorch's r ⊙ (W_hn h + b_hn))."""
    with seeded(0):
        cell = nn.GRUCell(3, 4).double()
    x, h = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    with torch.no_grad():
        s = rnn.gru_step(x, h, cell)
        notes = rnn.gru_candidate_reset_before(x, h, s.r, cell)
        H = 4   # the notes' W_h acting on the concatenation [r ⊙ h, x], biases as torch keeps them
        w_h = torch.cat([cell.weight_hh[2 * H:], cell.weight_ih[2 * H:]], dim=1)
        by_hand = torch.tanh(torch.cat([s.r * h, x], -1) @ w_h.T + cell.bias_ih[2 * H:] + cell.bias_hh[2 * H:])
        torch.testing.assert_close(notes, by_hand)
        assert (s.r < 1).all() and (notes - s.n).abs().min() > 1e-6       # different for every unit of every row
        ones = torch.ones_like(s.r)                                         # r = 1: the two conventions agree
        after = torch.tanh(x @ cell.weight_ih[2 * H:].T + cell.bias_ih[2 * H:] + ones * (h @ cell.weight_hh[2 * H:].T
                                                                                          + cell.bias_hh[2 * H:]))
        torch.testing.assert_close(rnn.gru_candidate_reset_before(x, h, ones, cell), after)


def test_dlcore_gru_and_lstm_match_torch_cells():
    """lstm_gates.md: "Every number below comes from hand-written gate-by-gate code that the tests check against
    torch.nn.LSTMCell, nn.LSTM and nn.GRUCell with the same weights" (and so dlcore's GRU has PyTorch's convention)."""
    with seeded(1):
        gru, lstm_cell, lstm = nn.GRUCell(3, 4), nn.LSTMCell(3, 4), nn.LSTM(3, 4)
    x, h, c = torch.randn(6, 3), torch.randn(6, 4), torch.randn(6, 4)
    with torch.no_grad():
        torch.testing.assert_close(rnn.gru_step(x, h, gru).h, gru(x, h))
        torch.testing.assert_close(rnn.lstm_step(x, h, c, lstm_cell).h, lstm_cell(x, (h, c))[0])
        torch.testing.assert_close(rnn.lstm_step(x, h, c, lstm_cell).c, lstm_cell(x, (h, c))[1])
        xs = torch.randn(7, 2, 3)
        torch.testing.assert_close(rnn.lstm_sequence(xs, rnn.cell_from_layer(lstm)).h, lstm(xs)[0])


def test_linear_rnn_gradient_is_exactly_rho_to_the_distance():
    """lstm_gates.md: "For a linear RNN with W_hh = ρI it is exactly ρ^(T−t)." (A ReLU RNN whose units all stay
    active is linear.)"""
    rho, T = 0.9, 30
    cell = rnn.make_flow_cell("rnn_relu", rnn.FLOW_INPUT, 8, 0, radius=rho, init="identity").double()
    with torch.no_grad():
        cell.weight_ih.abs_()                                    # positive inputs keep every unit active
    xs = torch.rand(T, rnn.FLOW_INPUT, dtype=torch.float64)
    v = torch.ones(8, dtype=torch.float64) / 8 ** 0.5
    norms, _ = rnn.state_gradients(cell, xs, v)
    torch.testing.assert_close(norms, rho ** torch.arange(T - 1, -1, -1, dtype=torch.float64))


@pytest.mark.parametrize("seed", SEEDS)
def test_a_forget_gate_bias_of_one_or_more_keeps_more_gradient_at_initialization(seed):
    """lstm_gates.md: "This is why a forget-gate bias of +1 or more at initialization helps." (gradient tab, the
    default experiment: the gradient reaching the first step grows with the bias)."""
    ratios = [_ratio(_flows(None, seed, flow_keep=b)["lstm"]) for b in (0.0, 1.0, 3.0)]
    assert ratios[0] * 1e3 < ratios[1] and ratios[1] * 1e3 < ratios[2]


# ---------------------------------------------------------------- step through a cell

def test_latch_writes_tanh_2x_once_x_passes_one_half_and_nothing_at_zero():
    """help.weights: "The latch's input gate opens (and the LSTM's forget gate closes) once x passes 0.5, writing
    ±tanh(2x) into memory; at x = 0 nothing is written and the cell only keeps or drops what it has"; help.x:
    "x > 0.5 opens the input gate"."""
    for x in (0.4, 0.6, 1.0):
        v = _step(None, x=x).values
        assert ((v["i"] > 0.5) == (x > 0.5)).all() and ((v["f"] < 0.5) == (x > 0.5)).all()
        np.testing.assert_allclose(v["g"], np.array(rnn.LATCH_SIGN[:2]) * np.tanh(2 * x), rtol=1e-6)
    for keep in (3.0, -3.0):
        v = _step(None, x=0.0, keep=keep).values
        np.testing.assert_allclose(v["c"], v["f"] * v["c_prev"], rtol=1e-6)       # nothing written


def test_keep_bias_plus_three_is_095_and_minus_three_is_005():
    """help.keep: "+3 gives σ(3) ≈ 0.95 (keep), −3 gives σ(−3) ≈ 0.05 (drop)." (the LSTM's f, the GRU's z)."""
    for kind, gate in (("lstm", "f"), ("gru", "z")):
        assert _step("keep", kind=kind).values[gate] == pytest.approx([0.95, 0.95], abs=0.005)
        assert _step("drop", kind=kind).values[gate] == pytest.approx([0.05, 0.05], abs=0.005)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("keep", [3.0, 0.5, -3.0])
def test_memory_after_t_steps_of_zero_input_is_sigma_of_the_bias_to_the_t(kind, keep):
    """notice.cell_lstm / notice.cell_gru: "with zero input and the latch weights, the cell state (h) after t steps
    is exactly σ(b)ᵗ times where it started (dashed)"."""
    memory = _step(None, kind=kind, keep=keep).memory
    ref = (1 / (1 + np.exp(-keep))) ** np.arange(rnn.MEMORY_STEPS + 1)[:, None] * memory[0]
    np.testing.assert_allclose(memory, ref, rtol=1e-5, atol=1e-9)


def test_keep_preset_fades_slowly_and_drop_preset_wipes_95_percent_in_one_step():
    """presets.keep: "f = σ(3) ≈ 0.95: the cell state fades only slowly, exactly along the dashed curve";
    presets.drop: "f = σ(−3) ≈ 0.05: one step wipes 95% of the memory"."""
    keep, drop = _step("keep").memory, _step("drop").memory
    assert np.abs(keep[1] / keep[0]) == pytest.approx([0.953, 0.953], abs=1e-3)
    assert np.abs(drop[1] / drop[0]) == pytest.approx([0.047, 0.047], abs=1e-3)
    assert (np.abs(keep[-1]) > 0.3 * np.abs(keep[0])).all()          # still a third after 20 steps


def test_gru_preset_replaces_the_state_at_x_one_and_keeps_it_at_x_zero():
    """presets.gru: "x = 1 opens the GRU to the candidate (z = σ(−3) ≈ 0.05): the old hidden state is replaced.
    Set x back to 0 to see z ≈ 0.95 keep it."."""
    v = _step("gru").values
    assert v["z"] == pytest.approx([0.047, 0.047], abs=1e-3)
    np.testing.assert_allclose(v["h"], (1 - v["z"]) * v["n"] + v["z"] * v["h_prev"], rtol=1e-6)
    assert (np.sign(v["h"]) == np.sign(v["n"])).all()                     # the candidate wins, whatever h_prev was
    v = _step("gru", x=0.0).values
    assert v["z"] == pytest.approx([0.953, 0.953], abs=1e-3)
    np.testing.assert_allclose(v["h"], v["z"] * v["h_prev"], rtol=1e-6)


# ---------------------------------------------------------------- trained gates

@pytest.mark.parametrize("first", "abcd")
def test_recall_model_keeps_its_input_gate_open_and_pushes_the_cell_until_tanh_saturates(first):
    """notice.recall: "Over the digits their forget gate averages {keep}, so each digit wipes only a small part of the
    memory. The input gate is {i0} on the first symbol and still {i} on the digits: this model does not shut it; its
    candidate C̃ repeats the sign the first symbol set, so each digit pushes C further the same way until tanh(C)
    saturates." (the task's example digits, every first symbol)."""
    model, _, roles = _bundled("recall")
    tokens, _ = tasks.tokenize("recall", first + tasks.TASKS["recall"].example[1:])
    tr = tasks.trace(model, "recall", tokens)
    units = [k for k, r in enumerate(roles.role) if r == "memory"][:3]     # the page's featured units
    assert units and tasks.answer_text("recall", tr.prediction[-1]) == first
    s = tasks.gate_summary(tr, units)
    assert s["keep"] >= 0.9 and s["i"] >= 0.3 and s["i0"] >= 0.3
    g, c = tr.gates["g"][units], tr.gates["c"][units]
    assert (np.sign(g[:, 1:]) == np.sign(g[:, :1])).all()
    assert (np.abs(c[:, -1]) > 3 * np.abs(c[:, 0])).all() and (np.abs(np.tanh(c[:, -1])) > 0.99).all()


@pytest.mark.parametrize("first", "abcd")
def test_recall_forget_gate_stays_between_08_and_1_over_the_noise(first):
    """notice.main: "In the trained recall model it stays between about 0.8 and 1 over the whole stretch of noise"."""
    model, _, roles = _bundled("recall")
    tokens, _ = tasks.tokenize("recall", first + tasks.TASKS["recall"].example[1:])
    f = tasks.trace(model, "recall", tokens).gates["f"][[k for k, r in enumerate(roles.role) if r == "memory"], 1:]
    assert f.min() > 0.75 and f.mean() > 0.9


@pytest.mark.parametrize("task", ["brackets", "adding"])
def test_brackets_and_adding_models_have_counter_units_and_answer_right(task):
    """notice.brackets: "Units {units} act as counters: their cell state follows the depth with |correlation| ≥
    {score}"; notice.adding: "Units {units} track the running sum of the marked digits" (the task's example)."""
    model, _, roles = _bundled(task)
    assert "counter" in roles.role and roles.score.max() >= tasks.COUNTER_SCORE
    tr = tasks.trace(model, task, tasks.tokenize(task, tasks.TASKS[task].example)[0])
    assert abs(tr.prediction[-1] - tr.target[-1]) < (0.5 if task == "brackets" else tasks.ADD_TOLERANCE)


def test_bundled_models_are_small_lstms_of_four_to_eight_units():
    """lstm_gates.md: "The trained models are small LSTMs (4–8 units) whose gates you can read one unit at a time"."""
    for task in tasks.TASKS:
        model, config, _ = _bundled(task)
        assert model.kind == "lstm" and 4 <= config.hidden <= 8


def test_sweep_shows_the_tanh_rnn_learning_recall_at_five_steps_and_chance_at_25_percent():
    """help.rt_len: "The tanh RNN learns recall only on short sequences (5 steps in the sweep above)"; fig.chance:
    "chance (25%)"; and the sweep's own numbers are what scripts/train_lstm_gates.py makes (its 5-step point rerun)."""
    sweep = json.loads((MODELS / "sweep.json").read_text(encoding="utf-8"))
    assert sweep["accuracy"]["rnn_tanh"][sweep["lengths"].index(5)] >= 0.95
    assert all(a >= 0.95 for kind in ("lstm", "gru") for a in sweep["accuracy"][kind])
    assert tasks.TASKS["recall"].n_out == 4                                       # chance = 1 / 4
    state = tasks.init_training(tasks.TrainConfig.for_task("recall", kind="rnn_tanh", max_len=5, hidden=8, target=None))
    while not state.done:
        tasks.train_steps(state, 200)
    assert tasks.accuracy_at(state.model, "recall", 5) >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_live_tanh_rnn_stays_near_chance_at_30_steps(seed):
    """presets.rnn_fails: "press “Retrain live”: with sequences up to 30 steps the tanh RNN stays near chance (25%)";
    help.rt_len: "with sequences up to 30 steps it stays near chance"."""
    assert experiment.PRESETS["rnn_fails"]["rt_kind"] == "rnn_tanh" and experiment.PRESETS["rnn_fails"]["rt_len"] == 30
    assert _live_run("rnn_tanh", 30, seed) <= 0.35


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("seed", SEEDS)
def test_live_lstm_and_gru_solve_recall_at_60_steps(kind, seed):
    """presets.rnn_fails: "Then train an LSTM on sequences up to 60 steps: it solves them."; help.rt_len: "the LSTM
    and GRU learn even 60"."""
    assert _live_run(kind, 60, seed) >= 0.95


# ---------------------------------------------------------------- gradient flow

@pytest.mark.parametrize("seed", SEEDS)
def test_lstm_gradient_survives_100_steps_where_plain_rnns_vanish(seed):
    """notice.flow: "In a plain RNN the gradient ... shrinks (or grows) geometrically with distance. ... its gradient
    is multiplied only by the forget gate, which a bias of +3 keeps near 1"; notice.main: "the same multiplier is what
    lets an LSTM's gradient survive long sequences when a plain RNN's does not" (the default experiment)."""
    res = _flows(None, seed)
    lstm = _ratio(res["lstm"])
    assert lstm > 1e-4 and all(lstm > 100 * _ratio(res[k]) for k in ("rnn_tanh", "rnn_relu"))
    assert max(_ratio(res["rnn_tanh"]), _ratio(res["rnn_relu"])) < 1e-4


@pytest.mark.parametrize("seed", SEEDS)
def test_spectral_radius_below_one_makes_the_plain_rnn_gradient_vanish(seed):
    """help.radius: "Below 1 the gradient vanishes." (ρ = 0.5, both plain RNNs)."""
    res = _flows(None, seed, radius=0.5)
    assert _ratio(res["rnn_tanh"]) < 1e-20 and _ratio(res["rnn_relu"]) < 1e-20


@pytest.mark.parametrize("seed", SEEDS)
def test_explode_preset_relu_gradient_grows_by_orders_of_magnitude_and_clipping_caps_it(seed):
    """presets.explode: "With ρ = 2 the ReLU RNN's gradient grows by orders of magnitude towards the first steps. The
    table shows the parameter gradient before and after clipping at θ = 1."; help.radius: "at ρ = 2 the ReLU RNN's
    gradient grows by orders of magnitude"."""
    relu = _flows("explode", seed)["rnn_relu"]
    assert _ratio(relu) > 1e3 and relu.param_norm > 1e3
    assert relu.clipped_norm == pytest.approx(experiment.PRESETS["explode"]["clip"], rel=1e-5)


def test_at_rho_one_and_a_half_the_relu_gradient_still_vanishes_for_some_seeds():
    """help.radius: "while at ρ = 1.5 it still vanishes for some seeds, because ReLU switches units off"."""
    ratios = [_ratio(_flows("explode", seed, radius=1.5)["rnn_relu"]) for seed in SEEDS]
    assert min(ratios) < 1e-3 < max(ratios)


@pytest.mark.parametrize("seed", SEEDS)
def test_identity_initialized_relu_rnn_gradient_stays_flat(seed):
    """presets.irnn: "W_hh = I with ReLU (the notes' trick): as long as a unit stays active its gradient passes
    unchanged, so the ReLU curve is flat instead of vanishing"."""
    irnn, default = _flows("irnn", seed)["rnn_relu"], _flows(None, seed)["rnn_relu"]
    assert 0.3 < _ratio(irnn) <= 1 + 1e-9 and _ratio(default) < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_clipping_caps_the_norm_keeps_the_direction_and_never_grows_a_gradient(seed):
    """help.clip: "Gradient clipping rescales the whole parameter gradient g to θ·g/‖g‖ when ‖g‖ > θ. It keeps the
    direction and caps the step; it cannot revive a vanished gradient."; notice.flow: "Clipping at θ caps the parameter
    gradient's norm without changing its direction"."""
    for kind, res in _flows(None, seed).items():
        assert res.clipped_norm == pytest.approx(min(res.param_norm, 1.0), rel=1e-5), kind
    cell = rnn.make_flow_cell("lstm", rnn.FLOW_INPUT, 8, seed)
    xs = torch.rand(20, rnn.FLOW_INPUT)
    for scale in (1.0, 1e-6):                                     # a large and a vanished gradient
        rnn.state_gradients(cell, xs, torch.ones(8) * scale)
        before = torch.cat([p.grad.flatten() for p in cell.parameters()])
        norm = rnn.clip_grad_norm(list(cell.parameters()), 0.5)
        after = torch.cat([p.grad.flatten() for p in cell.parameters()])
        assert float(after.norm()) == pytest.approx(min(norm, 0.5), rel=1e-4)
        torch.testing.assert_close(after / after.norm(), before / before.norm())


# ---------------------------------------------------------------- what the captions say about the figures

def test_dashed_curve_is_the_closed_form_and_featured_text_is_blue_negative_red_positive():
    """notice.cell_lstm: "exactly σ(b_f)ᵗ times where it started (dashed)"; fig.featured_c: "Your text coloured by the
    cell state ... (blue negative, red positive)"."""
    from ui.figures import lstm_gates as figs

    res = _step("keep")
    ref = (1 / (1 + np.exp(-3.0))) ** np.arange(rnn.MEMORY_STEPS + 1)[:, None] * res.memory[0]
    fig = figs.memory_curve(res.memory, ref, unit="u", ref_name="ref", title="", x="", y="")
    dashed = [tr for tr in fig.data if tr.line.dash == "dash"]
    assert len(dashed) == 2 and np.allclose(dashed[0].y, ref[:, 0])
    heat = figs.featured_units(list("ab"), [("u", np.array([-2.0, 1.0]))], title="").data[0]
    scale = heat.colorscale
    assert heat.zmin == -heat.zmax                                         # zero in the middle: white
    low, high = scale[0][1], scale[-1][1]                                  # RdBu reversed: blue low, red high
    assert low.startswith("rgb(5,48,97)") and high.startswith("rgb(103,0,31)")
