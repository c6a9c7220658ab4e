"""dlcore.attention.mechanism against torch.nn.functional.scaled_dot_product_attention, nn.MultiheadAttention,
closed forms and invariants."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from dlcore.attention import mechanism as att

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
TOL64 = {"atol": 1e-12, "rtol": 1e-10}


def _qkv(B=2, h=3, L=5, S=7, d=8, dv=4, offset=0.0, seed=0, dtype=torch.float64, device="cpu"):
    g = torch.Generator(device=device).manual_seed(seed)
    q = torch.randn(B, h, L, d, generator=g, dtype=dtype, device=device) + offset
    k = torch.randn(B, h, S, d, generator=g, dtype=dtype, device=device) + offset
    v = torch.randn(B, h, S, dv, generator=g, dtype=dtype, device=device)
    return q, k, v


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("offset", [0.0, 30.0])   # a large offset makes raw scores huge: softmax must stay stable
def test_scaled_dot_product_matches_torch_without_mask(device, offset):
    q, k, v = _qkv(offset=offset, device=device)
    out, w = att.scaled_dot_product(q, k, v)
    assert_close(out, F.scaled_dot_product_attention(q, k, v), **TOL64)
    assert_close(w.sum(-1), torch.ones(w.shape[:-1], dtype=w.dtype, device=device), **TOL64)


def test_scaled_dot_product_matches_torch_with_boolean_and_float_masks_and_custom_scale():
    q, k, v = _qkv(seed=1)
    g = torch.Generator().manual_seed(5)
    bool_mask = torch.rand(5, 7, generator=g) > 0.3
    bool_mask[:, 0] = True                                  # no fully masked row here
    float_mask = torch.randn(2, 1, 5, 7, generator=g, dtype=torch.float64)
    for mask in (bool_mask, float_mask):
        for scale in (None, 0.05, 2.0):
            out, _ = att.scaled_dot_product(q, k, v, mask=mask, scale=scale)
            assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale), **TOL64)


@pytest.mark.parametrize("L,S", [(5, 5), (4, 7), (7, 4)])
def test_causal_matches_torch_is_causal_top_left_aligned(L, S):
    q, k, v = _qkv(L=L, S=S, seed=2)
    out, w = att.scaled_dot_product(q, k, v, causal=True)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), **TOL64)
    assert torch.all(torch.triu(w, diagonal=1) == 0)


def test_causal_attention_ignores_future_tokens():
    q, k, v = _qkv(L=6, S=6, seed=3)
    out, _ = att.scaled_dot_product(q, k, v, causal=True)
    k2, v2 = k.clone(), v.clone()
    k2[..., 4:, :] += 100.0                     # change the future of query 3 wildly
    v2[..., 4:, :] = -v2[..., 4:, :] * 7
    out2, _ = att.scaled_dot_product(q, k2, v2, causal=True)
    assert_close(out2[..., :4, :], out[..., :4, :], **TOL64)
    assert not torch.allclose(out2[..., 4:, :], out[..., 4:, :])


def test_fully_masked_row_gives_zero_weights_and_the_same_zero_output_as_torch():
    q, k, v = _qkv(B=1, h=1, L=3, S=4, seed=4)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1] = False
    out, w = att.scaled_dot_product(q, k, v, mask=mask)
    assert torch.all(w[..., 1, :] == 0) and torch.all(out[..., 1, :] == 0)
    assert not torch.isnan(out).any()
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), **TOL64)
    assert_close(w[..., [0, 2], :].sum(-1), torch.ones(1, 1, 2, dtype=w.dtype), **TOL64)


def test_masked_softmax_rows_sum_to_one_or_zero_for_hard_logits():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-math.inf, -math.inf, -math.inf], [-math.inf, 3.0, -math.inf]])
    w = att.masked_softmax(logits)
    assert_close(w.sum(-1), torch.tensor([1.0, 0.0, 1.0]))
    assert_close(w[2], torch.tensor([0.0, 1.0, 0.0]))


def _mha_and_weights(D=12, h=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = [torch.randn(D, D, generator=g, dtype=torch.float64) / math.sqrt(D) for _ in range(4)]
    b = [torch.randn(D, generator=g, dtype=torch.float64) * 0.1 for _ in range(4)]
    mha = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat(w[:3]))
        mha.in_proj_bias.copy_(torch.cat(b[:3]))
        mha.out_proj.weight.copy_(w[3])
        mha.out_proj.bias.copy_(b[3])
    return mha.eval(), w, b


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_matches_nn_multihead_attention_per_head_and_averaged(causal):
    mha, w, b = _mha_and_weights()
    x = torch.randn(2, 6, 12, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    mask = att.causal_mask(6, 6) if causal else None
    ours = att.multi_head_attention(x, x, x, *w, n_heads=3, b_q=b[0], b_k=b[1], b_v=b[2], b_o=b[3], mask=mask)
    with torch.no_grad():
        out, per_head = mha(x, x, x, attn_mask=None if mask is None else ~mask, average_attn_weights=False)
        _, averaged = mha(x, x, x, attn_mask=None if mask is None else ~mask)
    assert_close(ours.weights, per_head, **TOL64)
    assert_close(ours.weights.mean(1), averaged, **TOL64)
    assert_close(ours.output, out, **TOL64)
    assert ours.heads.shape == (2, 3, 6, 4) and ours.concat.shape == (2, 6, 12)


def test_multi_head_cross_attention_with_key_padding_mask_matches_torch_and_fully_padded_row_is_zero_not_nan():
    mha, w, b = _mha_and_weights(seed=1)
    g = torch.Generator().manual_seed(3)
    xq = torch.randn(2, 4, 12, generator=g, dtype=torch.float64)
    xk = torch.randn(2, 5, 12, generator=g, dtype=torch.float64)
    pad = torch.tensor([[False, False, False, True, True], [True, True, True, True, True]])  # True = padding (torch)
    mask = (~pad)[:, None, None, :]                       # ours: True = may attend, (B, 1, 1, S)
    ours = att.multi_head_attention(xq, xk, xk, *w, n_heads=3, b_q=b[0], b_k=b[1], b_v=b[2], b_o=b[3], mask=mask)
    with torch.no_grad():
        out, per_head = mha(xq, xk, xk, key_padding_mask=pad, average_attn_weights=False)
    assert_close(ours.weights[0], per_head[0], **TOL64)
    assert_close(ours.output[0], out[0], **TOL64)
    assert torch.isnan(out[1]).all()                      # torch: NaN for a sequence that is all padding
    assert torch.all(ours.weights[1] == 0) and not torch.isnan(ours.output[1]).any()
    assert_close(ours.output[1], b[3].expand(4, 12), **TOL64)   # zero heads -> only the output bias is left


@pytest.mark.parametrize("causal", [False, True])
def test_heads_demo_equals_a_multihead_attention_built_here_with_its_weights(causal):
    """The tab's "same as torch" note reports differences dlcore measured itself; here torch is asked directly."""
    demo = att.heads_demo(att.HeadsConfig(n_tokens=7, d_model=16, n_heads=4, causal=causal, seed=3))
    w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o = demo.projections
    mha = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([w_q, w_k, w_v]))
        mha.in_proj_bias.copy_(torch.cat([b_q, b_k, b_v]))
        mha.out_proj.weight.copy_(w_o)
        mha.out_proj.bias.copy_(b_o)
        x = demo.x[None]
        mask = torch.ones(7, 7).triu(1).bool() if causal else None   # True: not allowed (torch)
        out, weights = mha(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
    assert_close(demo.result.weights[0], weights[0], atol=1e-6, rtol=1e-5)
    assert_close(demo.result.output[0], out[0], atol=1e-6, rtol=1e-5)
    assert mask is None or torch.all(demo.result.weights[0][:, mask] == 0)
    assert max(demo.max_error.values()) < 1e-5            # and what the page reports agrees


def test_additive_attention_matches_the_formula_written_out_in_loops():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(3, 4, generator=g, dtype=torch.float64)       # d_q = 4
    k = torch.randn(5, 6, generator=g, dtype=torch.float64)       # d_k = 6: sizes may differ
    v = torch.randn(5, 2, generator=g, dtype=torch.float64)
    w_q, w_k, w_v = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((7, 4), (7, 6), (7,)))
    out, w = att.additive_attention(q, k, v, w_q, w_k, w_v)
    scores = torch.tensor([[float(w_v @ torch.tanh(w_q @ q[i] + w_k @ k[j])) for j in range(5)] for i in range(3)],
                          dtype=torch.float64)
    ref_w = torch.softmax(scores, -1)
    assert_close(w, ref_w, **TOL64)
    assert_close(out, ref_w @ v, **TOL64)
    _, wc = att.additive_attention(q, k, v, w_q, w_k, w_v, causal=True)
    assert torch.all(torch.triu(wc, 1) == 0)


@pytest.mark.parametrize("n,d", [(50, 16), (7, 5), (1, 1), (200, 64)])
def test_positional_encoding_matches_closed_form_interleaved(n, d):
    pe = att.positional_encoding(n, d)
    ref = torch.zeros(n, d, dtype=torch.float64)
    for pos in range(n):
        for i in range(d):
            angle = pos / 10000 ** ((i - i % 2) / d)
            ref[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
    assert pe.shape == (n, d)
    assert_close(pe.double(), ref, atol=1e-6, rtol=0)


def test_positional_dot_products_depend_only_on_the_offset():
    pe = att.positional_encoding(40, 32).double()
    sim = pe @ pe.T
    assert_close(torch.diagonal(sim), torch.full((40,), 16.0, dtype=torch.float64), atol=1e-5, rtol=0)  # d/2
    for k in (1, 5, 11):
        diag = torch.diagonal(sim, offset=k)
        assert_close(diag, diag[0].expand_as(diag), atol=1e-5, rtol=0)


def test_attention_is_order_blind_without_positions_and_not_with_them():
    words = ("the", "cat", "sat", "on", "the", "mat")
    blind = att.permutation_demo(words, False, seed=0)
    seen = att.permutation_demo(words, True, seed=0)
    assert float(blind.change.max()) < 1e-6
    assert float(seen.change.max()) > 1e-2
    o = torch.tensor(blind.order)
    assert_close(blind.weights[1], blind.weights[0][o][:, o], atol=1e-6, rtol=0)   # W(PX) = P W(X) P^T


def test_attention_by_hand_temperature_to_zero_gives_hard_attention_and_rows_sum_to_one():
    q, k, v = att.example_qkv(4, 5, 3, 2)
    soft = att.attention_by_hand(q, k, v, att.HandConfig())
    hard = att.attention_by_hand(q, k, v, att.HandConfig(temperature=att.MIN_TEMPERATURE))
    assert_close(soft.row_sums, torch.ones(4))
    assert_close(hard.weights[:3], F.one_hot(torch.arange(3), 5).float(), atol=1e-6, rtol=0)
    assert_close(hard.weights[3], torch.tensor([0.25, 0.25, 0.25, 0.25, 0.0]), atol=1e-6, rtol=0)  # a 4-way tie
    assert soft.scale == pytest.approx(1 / math.sqrt(3))
    assert att.attention_by_hand(q, k, v, att.HandConfig(scaled=False)).scale == 1.0


def test_attention_by_hand_padding_and_causal_masks_zero_the_right_cells():
    q, k, v = att.random_qkv(5, 5, 8, 3, seed=1)
    r = att.attention_by_hand(q, k, v, att.HandConfig(causal=True, n_pad=2))
    assert torch.all(r.weights[:, 3:] == 0) and torch.all(torch.triu(r.weights, 1) == 0)
    assert torch.isneginf(r.logits[:, 3:]).all()
    assert_close(r.row_sums, torch.ones(5))
    assert torch.all(r.additive_weights[:, 3:] == 0)
    n_live, dev, dead = att.row_sum_report(r.row_sums)
    assert (n_live, dead) == (5, []) and dev < 1e-6
    full = att.attention_by_hand(q, k, v, att.HandConfig(n_pad=5))     # every key is padding
    assert att.row_sum_report(full.row_sums)[2] == [0, 1, 2, 3, 4] and not torch.isnan(full.output).any()


def test_saturation_curve_unscaled_softmax_saturates_scaled_does_not():
    sat = att.saturation_curve((1, 16, 512), n_tokens=8, seed=0)
    scaled, unscaled = sat.max_weight
    assert unscaled[-1] > 0.85 and scaled[-1] < 0.6
    assert sat.entropy[1, -1] < 0.5 < sat.entropy[0, -1]
    assert_close(sat.logit_std[0], torch.ones(3), atol=0.1, rtol=0)              # scaled logits: std ~ 1
    assert sat.logit_std[1, -1] == pytest.approx(math.sqrt(512), rel=0.1)         # unscaled: std ~ sqrt(d_k)


def test_entropy_bits_of_uniform_and_one_hot_rows():
    assert_close(att.entropy_bits(torch.full((2, 8), 1 / 8)), torch.full((2,), 3.0))
    assert_close(att.entropy_bits(F.one_hot(torch.tensor([2]), 5).float()), torch.zeros(1))


@pytest.mark.parametrize("make,match", [
    (lambda: att.HandConfig(temperature=0.0), "Invalid temperature: 0.0"),
    (lambda: att.HandConfig(temperature=math.nan), "Invalid temperature"),
    (lambda: att.HandConfig(n_pad=att.MAX_TOKENS + 1), "Invalid n_pad"),
    (lambda: att.HeadsConfig(d_model=10, n_heads=4), "divisor of d_model = 10"),
    (lambda: att.HeadsConfig(d_model=att.MAX_D_MODEL * 2, n_heads=1), "Invalid d_model"),
    (lambda: att.HeadsConfig(n_tokens=att.MAX_TOKENS + 1), "Invalid n_tokens"),
    (lambda: att.HeadsConfig(d_model=16, n_heads=att.MAX_HEADS * 2), "Invalid n_heads"),
    (lambda: att.check_qkv(torch.ones(2, 3), torch.ones(2, 4), torch.ones(2, 1)), "Invalid d_k"),
    (lambda: att.check_qkv(torch.ones(att.MAX_TOKENS + 1, 2), torch.ones(2, 2), torch.ones(2, 1)), "Invalid rows"),
    (lambda: att.check_qkv(torch.ones(2, 2), torch.ones(3, 2), torch.ones(2, 1)), "Invalid V"),
    (lambda: att.check_qkv(torch.tensor([[math.nan]]), torch.ones(1, 1), torch.ones(1, 1)), "finite"),
    (lambda: att.random_qkv(att.MAX_TOKENS + 1, 2, 2, 2, seed=0), "Invalid number of tokens"),
    (lambda: att.saturation_curve((att.MAX_DK + 1,), 4, 0), "Invalid d_k"),
    (lambda: att.attention_by_hand(*att.example_qkv(2, 2, 2, 2), att.HandConfig(n_pad=3)), "Invalid n_pad: 3"),
])
def test_caps_and_shape_rules_are_value_errors_with_clear_messages(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_example_shapes_and_shuffles():
    q, k, v = att.example_qkv(6, 2, 5, 1)
    assert q.shape == (6, 5) and k.shape == (2, 5) and v.shape == (2, 1)
    assert torch.all(q[4:] == 0)                   # padded with zeros beyond the example
    for n in range(2, 9):
        for seed in range(5):
            order = att.shuffled_order(n, seed)
            assert sorted(order) == list(range(n)) and order != list(range(n))
