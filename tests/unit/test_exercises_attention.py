"""The attention lesson's exercises: every answer against torch (softmax, nn.MultiheadAttention) run here, a
hand-derived value, or the measurement the lesson's claim test makes; answers that could depend on the global seed
are the same for seeds 0..4."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ui.exercises import for_lesson
from ui.experiments import attention as experiment

S = "attention"
SEEDS = range(5)
EX = {ex.name: ex for ex in for_lesson(S)}


def _typed(preset: str) -> tuple[torch.Tensor, torch.Tensor, dict]:
    v = experiment.settings(preset)
    assert v["source"] == "typed"
    q, k, _ = experiment.typed_start(v)
    return q, k, v


def test_the_exercises_run_the_lessons_presets_in_guided_order():
    assert [ex.preset for ex in for_lesson(S)] == ["causal", "hard", "saturate", "order_blind", "reverse"]


def test_causal_and_padding_masks_leave_ten_weights():
    q, k, v = _typed("causal")
    L, n_keys, n_pad = q.shape[0], k.shape[0], int(v["n_pad"])
    allowed = torch.ones(L, n_keys).tril().bool()                          # query i sees keys 1..i
    allowed[:, n_keys - n_pad:] = False                                     # nobody sees the padding
    scores = (q @ k.T / math.sqrt(q.shape[1]) / float(v["temperature"])).masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, -1)
    by_hand = sum(min(i + 1, n_keys - n_pad) for i in range(L))            # 1 + 2 + 3 + 4
    assert int((weights > 0).sum()) == by_hand == 10
    for seed in SEEDS:
        assert EX["masked"].answer(seed) == "10"


def test_at_a_tiny_temperature_q4s_four_way_tie_splits_into_quarters():
    q, k, v = _typed("hard")
    weights = torch.softmax(q @ k.T / math.sqrt(q.shape[1]) / float(v["temperature"]), -1)
    scores = q[-1] @ k.T
    assert int((scores == scores.max()).sum()) == 4                         # the tie the explanation names
    assert float(weights[-1].max()) == pytest.approx(1 / 4)
    assert all(float(row.max()) == pytest.approx(1.0) for row in weights[:-1])   # q1..q3: one-hot
    assert {EX["hard_tie"].answer(seed) for seed in SEEDS} == {"0.25"}
    assert not EX["hard_tie"].grade("1").correct


@pytest.mark.parametrize("seed", SEEDS)
def test_unscaled_softmax_at_d_k_512_puts_nearly_all_weight_on_one_key(seed):
    from ui.exercises.attention import PEAKED, top_weight

    v = experiment.settings("saturate")
    g = torch.Generator().manual_seed(100 + seed)                           # torch's own samples, not the lab's
    q, k = (torch.randn(256, int(v["n_tokens"]), int(v["d_k"]), generator=g) for _ in range(2))
    torch_top = float(torch.softmax(q @ k.transpose(-2, -1), -1).max(-1).values.mean())
    assert torch_top > 0.9 and top_weight(seed) > 0.9                      # the claim test's "> 0.9"
    assert abs(torch_top - top_weight(seed)) < 0.05 and torch_top >= PEAKED
    assert EX["saturate"].answer(seed) == "one"


@pytest.mark.parametrize("seed", SEEDS)
def test_without_positions_torch_self_attention_only_reorders_the_outputs(seed):
    v = experiment.settings("order_blind")
    assert not v["use_pe"]
    n, d = len(experiment.words(v)), 16
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(d, 1, batch_first=True).double()
    x = torch.randn(1, n, d, dtype=torch.float64)
    perm = torch.randperm(n)
    with torch.no_grad():
        out, _ = mha(x, x, x)
        shuffled, _ = mha(x[:, perm], x[:, perm], x[:, perm])
    torch.testing.assert_close(shuffled, out[:, perm])
    assert EX["shuffle"].answer(seed) == "same"


def test_the_reverse_model_reads_the_last_source_digit_first_as_the_claim_test_measures():
    from tests.claims.test_attention import _cross_argmax, _readings
    from ui.exercises.attention import LAYER, reverse_reading

    default = _readings("reverse")[0]                                       # the claim test's reading of the digits
    assert default.source[:len(default.expected)] == list(str(experiment.settings("reverse")["digits"]))
    n = len(default.expected)
    assert default.correct and default.expected[0] == default.source[n - 1]   # reversing: last digit first
    assert _cross_argmax(default, LAYER)[0] == n - 1
    np.testing.assert_array_equal(reverse_reading().maps.cross.numpy(), default.maps.cross.numpy())
    assert {EX["reverse"].answer(seed) for seed in SEEDS} == {"last"}
