"""The backpropagation lesson's exercises: every answer dlcore computes, checked against torch.autograd on the
preset's expression and the hand-derived values; the answers do not depend on the sidebar seed."""

from __future__ import annotations

import math

import pytest
import torch

from dlcore.expr import compile_expression
from ui.exercises import for_lesson
from ui.experiments import backprop as experiment

EXERCISES = {ex.name: ex for ex in for_lesson("backprop")}


def autograd(preset: str) -> dict[str, float]:
    """df/d(input) of the preset's expression from torch.autograd (float64)."""
    expression, given, missing = experiment.inputs(experiment.settings(preset))
    assert not missing
    xs = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in given.items()}
    f = compile_expression(expression, variables=tuple(xs))(*xs.values())
    f.backward()
    return {n: float(x.grad) for n, x in xs.items()}


def test_there_are_five_exercises_in_the_guided_order():
    assert list(EXERCISES) == ["chain_dx", "twice_dx", "max_route", "relu_zero", "best_h", "dw1_shape"]


def test_chain_rule_answer_is_minus_four_as_autograd_says():
    assert float(EXERCISES["chain_dx"].answer()) == autograd("chain")["x"] == -4.0


def test_variable_used_twice_answer_is_y_plus_one():
    assert float(EXERCISES["twice_dx"].answer()) == autograd("twice")["x"] == 3.0 + 1.0


def test_max_gate_routes_to_the_larger_input_x():
    grads = autograd("max_relu")
    assert EXERCISES["max_route"].answer() == "x" and grads["x"] == 1.0 and grads["y"] == 0.0


def test_relu_at_zero_sends_back_zero_as_pytorch_does():
    assert EXERCISES["relu_zero"].answer() == "0" == format(autograd("max_relu")["z"], "g")


def test_best_step_is_ten_to_the_minus_five_near_the_cube_root_of_machine_epsilon():
    """Hand-derived: the error ~ h² |f'''| / 6 + ε |f| / h is smallest near h ≈ ε^(1/3) ≈ 6e-6 (float64)."""
    answer = float(EXERCISES["best_h"].answer())
    assert answer == -5
    assert abs(answer - math.log10(torch.finfo(torch.float64).eps ** (1 / 3))) < 1
    assert EXERCISES["best_h"].grade("-6").correct and not EXERCISES["best_h"].grade("-8").correct


@pytest.mark.parametrize("seed", range(5))
def test_dw1_has_w1s_shape_d_by_h_as_autograd_says(seed):
    v = experiment.settings("neuron")
    w1 = torch.zeros(v["d"], v["hidden"], dtype=torch.float64, requires_grad=True)
    x = torch.randn(v["n"], v["d"], dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    w2 = torch.randn(v["hidden"], v["c"], dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    torch.nn.functional.cross_entropy(torch.relu(x @ w1 + 0.1) @ w2, torch.zeros(v["n"], dtype=torch.long)).backward()
    assert EXERCISES["dw1_shape"].answer(seed) == "x".join(map(str, w1.grad.shape)) == "3x5"


@pytest.mark.parametrize("seed", range(5))
def test_answers_do_not_depend_on_the_sidebar_seed(seed):
    assert {ex.name: ex.answer(seed) for ex in EXERCISES.values()} == {ex.name: ex.answer(0)
                                                                       for ex in EXERCISES.values()}
