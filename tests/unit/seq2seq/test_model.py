"""dlcore.seq2seq.model: the encoder-decoder's pieces against torch and hand-written references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dlcore.seq2seq import beam_search, greedy_search
from dlcore.seq2seq import model as s2s
from dlcore.seq2seq import number_words as nw
from dlcore.sequences import rnn

MODELS = Path(__file__).resolve().parents[3] / "assets" / "models" / "seq2seq"


def fresh(direction="digits-en", attention=False, seed=0):
    return s2s.make_model(s2s.ModelConfig(direction=direction, attention=attention, seed=seed)).eval()


@pytest.mark.parametrize("attention", [False, True])
def test_step_scorer_gives_the_teacher_forced_log_probabilities(attention):
    model = fresh(attention=attention, seed=3)
    numbers = [7, 312, 2045]
    src, tgt_in, tgt_out = s2s.encode_batch(model, numbers)
    with torch.no_grad():
        full = F.log_softmax(model(src, tgt_in).double(), -1)          # (B, T, V)
    for b in range(len(numbers)):
        src_ids = [i for i in src[b].tolist() if i != s2s.PAD]
        scorer = s2s.StepScorer(model, src_ids)
        target = [y for y in tgt_out[b].tolist() if y != -100]
        for t in range(len(target)):
            prefix = (s2s.BOS, *target[:t])
            torch.testing.assert_close(scorer(prefix)[1:], full[b, t, 1:], rtol=1e-5, atol=1e-5)


def test_padding_does_not_change_a_sentence_s_encoding():
    model = fresh("en-digits", seed=1)
    src, _, _ = s2s.encode_batch(model, [5, 7777])                      # "five" is padded to 8 tokens
    alone, _, _ = s2s.encode_batch(model, [5])
    with torch.no_grad():
        torch.testing.assert_close(model.encode(src).context[0], model.encode(alone).context[0],
                                   rtol=1e-6, atol=1e-6)


def test_the_encoder_states_are_the_hand_written_gru_cells():
    model = fresh(seed=2)
    src = torch.tensor([model.src_vocab.ids(list("9071"))])
    with torch.no_grad():
        memory = model.encode(src)
        cell = rnn.cell_from_layer(model.encoder)
        trace = rnn.gru_sequence(model.src_embed(src)[0], cell)
    torch.testing.assert_close(trace.h, memory.states[0], rtol=1e-5, atol=1e-6)


def test_attention_weights_are_a_distribution_over_real_source_tokens():
    model = fresh("en-digits", attention=True, seed=4)
    src, tgt_in, _ = s2s.encode_batch(model, [5, 1234])
    with torch.no_grad():
        memory = model.encode(src)
        _, _, w = model.step(tgt_in[:, 0], memory.context, memory)
    torch.testing.assert_close(w.sum(-1), torch.ones(2))
    assert float(w[0, 1:].abs().max()) == 0.0                           # "five" has one real token


def test_batched_greedy_equals_greedy_search_through_the_scorer():
    model = fresh(attention=True, seed=5)
    numbers = [0, 19, 400, 1010, 8888]
    fast = s2s.greedy_batch(model, numbers, max_len=10)
    for n, out in zip(numbers, fast):
        scorer = s2s.StepScorer(model, model.src_vocab.ids(nw.to_digits(n)))
        tokens, _ = greedy_search(scorer, s2s.BOS, s2s.EOS, 10)
        assert tokens == out


def test_training_lowers_the_loss_and_is_deterministic():
    cfg = s2s.TrainConfig(model=s2s.ModelConfig(hidden=16, embed=8), steps=30, eval_every=30, batch=16)
    a = s2s.train_steps(s2s.init_training(cfg), 30)
    b = s2s.train_steps(s2s.init_training(cfg), 30)
    assert a.history == b.history
    with torch.no_grad():
        first = s2s.sequence_loss(s2s.init_training(cfg).model(*s2s.encode_batch(a.model, [312, 45])[:2]),
                                  s2s.encode_batch(a.model, [312, 45])[2])
    assert a.history[-1][3] < float(first)


def test_data_split_holds_out_the_test_numbers_and_samples_every_length():
    test, train = s2s.test_numbers(), s2s.train_numbers()
    assert len(test) == s2s.TEST_SIZE and not set(test) & set(train) and len(test) + len(train) == 10_000
    drawn = s2s.sample_numbers(400, torch.Generator().manual_seed(0))
    assert set(drawn) <= set(train)
    lengths = [len(str(n)) for n in drawn]
    assert all(60 <= lengths.count(k) <= 140 for k in (1, 2, 3, 4))


def test_invalid_configs_raise():
    for bad in (dict(direction="en-zh"), dict(hidden=1000)):
        with pytest.raises(ValueError):
            s2s.ModelConfig(**bad)
    for bad in (dict(steps=0), dict(steps=s2s.MAX_STEPS + 1), dict(lr=float("inf"))):
        with pytest.raises(ValueError):
            s2s.TrainConfig(**bad)


@pytest.mark.parametrize("name", [f"{d}-{k}" for d in s2s.DIRECTIONS for k in ("plain", "attention")])
def test_bundled_models_translate_the_held_out_numbers(name):
    blob = torch.load(MODELS / f"{name}.pt", weights_only=True)
    summary = json.loads((MODELS / "summary.json").read_text())[name]
    assert summary["accuracy"] == blob["accuracy"] >= 0.95
    model = s2s.unpack(blob)
    numbers = s2s.test_numbers()[::10]
    src, tgt = s2s.split_direction(model.config.direction)
    right = [tuple(model.tgt_vocab.ids(nw.write(n, tgt))) + (s2s.EOS,) for n in numbers]
    got = s2s.greedy_batch(model, numbers)
    assert sum(g == r for g, r in zip(got, right)) >= 0.9 * len(numbers)
    scorer = s2s.StepScorer(model, model.src_vocab.ids(nw.write(numbers[3], src)))
    assert beam_search(scorer, s2s.BOS, s2s.EOS, 4, 12, 0.75)[0][0] == right[3]


@pytest.mark.parametrize("attention", [False, True])
@pytest.mark.parametrize("k,alpha", [(1, 0.0), (3, 0.75), (5, 0.0)])
def test_batched_beam_equals_beam_search_through_the_scorer(attention, k, alpha):
    model = fresh(attention=attention, seed=6)       # untrained: many close calls for the beam
    numbers = [3, 47, 512, 1001, 9090, 6]
    fast = s2s.beam_batch(model, numbers, k, max_len=6, alpha=alpha)
    for n, (tokens, score) in zip(numbers, fast):
        scorer = s2s.StepScorer(model, model.src_vocab.ids(nw.to_digits(n)))
        best = beam_search(scorer, s2s.BOS, s2s.EOS, k, 6, alpha)[0]
        assert tokens == best[0]
        assert score == pytest.approx(best[1], abs=1e-5)


@pytest.mark.parametrize("layers", [1, 2])
def test_bidirectional_encoder_sums_the_two_directions_of_torch_s_gru(layers):
    cfg = s2s.ModelConfig(bidirectional=True, layers=layers, seed=7)
    model = s2s.make_model(cfg).eval()
    src = torch.tensor([model.src_vocab.ids(list("4096"))])
    H = cfg.hidden
    with torch.no_grad():
        memory = model.encode(src)
        out, h = model.encoder(model.src_embed(src))                 # no padding: the plain forward pass
        fwd, bwd = out[0, :, :H], out[0, :, H:]
        torch.testing.assert_close(memory.states[0], fwd + bwd)
        torch.testing.assert_close(memory.context[0], fwd[-1] + bwd[0])   # each direction's last state
        torch.testing.assert_close(h[-2][0] + h[-1][0], fwd[-1] + bwd[0])
        # the backward state at the first token has read every token: changing the last one changes it
        other = torch.tensor([model.src_vocab.ids(list("4097"))])
        assert not torch.allclose(model.encode(other).states[0, 0], memory.states[0, 0])
        uni = s2s.make_model(s2s.ModelConfig(layers=layers, seed=7)).eval()
        torch.testing.assert_close(uni.encode(other).states[0, 0], uni.encode(src).states[0, 0])


def test_lesson_caps_and_names_equal_dlcore_s():
    from dlcore.seq2seq import number_words as nw
    from dlcore.seq2seq import search
    from ui.experiments import seq2seq as experiment

    assert (experiment.MAX_BEAM, experiment.MAX_LEN, experiment.MAX_EXHAUSTIVE) == \
        (search.MAX_BEAM, search.MAX_LEN, search.MAX_EXHAUSTIVE)
    assert experiment.DIRECTIONS == s2s.DIRECTIONS and experiment.MAX_CHARS == nw.MAX_CHARS
    assert experiment.SOURCES[2:] == tuple(search.TOYS)
    p = {x.name: x for x in experiment.SETTINGS}
    assert p["beam"].hi == search.MAX_BEAM and p["max_len"].hi == search.MAX_LEN


def test_perplexities_match_counted_n_grams_and_torch_cross_entropy():
    import collections
    import math

    model = fresh("digits-zh", seed=8)
    p = s2s.perplexities(model)
    V = len(model.tgt_vocab)
    train = s2s.target_sequences(model, s2s.train_numbers())
    test = s2s.target_sequences(model, s2s.test_numbers())
    uni = collections.Counter(y for seq in train for y in seq)
    bi = collections.Counter((a, b) for seq in train for a, b in zip([s2s.BOS, *seq[:-1]], seq))
    prev_total = collections.Counter(a for a, _ in bi.elements())
    n_uni = sum(uni.values()) + (V - 1)
    nll_u, nll_b, n = 0.0, 0.0, 0
    for seq in test:
        for a, b in zip([s2s.BOS, *seq[:-1]], seq):
            nll_u -= math.log((uni[b] + 1) / n_uni)
            nll_b -= math.log((bi[(a, b)] + 1) / (prev_total[a] + V - 1))
            n += 1
    assert p.unigram == pytest.approx(math.exp(nll_u / n), rel=1e-9)
    assert p.bigram == pytest.approx(math.exp(nll_b / n), rel=1e-9)
    src, tgt_in, tgt_out = s2s.encode_batch(model, s2s.test_numbers())
    with torch.no_grad():
        logits = model(src, tgt_in)
    ce = F.cross_entropy(logits.reshape(-1, V).double(), tgt_out.reshape(-1), ignore_index=-100)
    assert p.seq2seq == pytest.approx(float(torch.exp(ce)), rel=1e-6)
    assert p.uniform == p.vocab == V - 1 == 14


def test_forced_start_rank_one_is_greedy_and_bad_ranks_raise():
    model = fresh(seed=9)
    greedy, same = s2s.forced_start(model, tuple("42"), 1)
    assert greedy == same
    _, other = s2s.forced_start(model, tuple("42"), 3)
    assert other[0] != greedy[0]
    for bad in (0, 6):
        with pytest.raises(ValueError):
            s2s.forced_start(model, tuple("42"), bad)


def test_every_word_of_every_language_occurs_in_the_training_numbers():
    """A held-out number must not hold the only use of a word ("zero" is only in 0): the model could not know it."""
    train = s2s.train_numbers()
    for language, vocab in nw.VOCABULARY.items():
        seen = {tok for n in train for tok in nw.write(n, language)}
        assert seen == set(vocab), (language, set(vocab) - seen)
    assert 0 in train
