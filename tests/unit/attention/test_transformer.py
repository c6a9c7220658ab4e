"""dlcore.attention.transformer: input rules, the bundled copy / reverse / sort models solve their tasks, their
attention has the shapes the lesson points at, training is deterministic, and a block computes what torch's
nn.TransformerEncoderLayer / nn.TransformerDecoderLayer (pre-LN) compute with the same weights."""

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from dlcore.attention import transformer as tr

MODELS = Path(__file__).resolve().parents[3] / "assets" / "models" / "attention"


@pytest.fixture(scope="module")
def models():
    return {task: tr.unpack(torch.load(MODELS / f"{task}.pt", weights_only=True)) for task in tr.TASKS}


def test_parse_digits_accepts_digits_with_spaces_and_rejects_the_rest():
    assert tr.parse_digits(" 3 1,4 ") == ([3, 1, 4], None)
    assert tr.parse_digits("")[1].code == "empty"
    assert tr.parse_digits("   ")[1].code == "empty"
    bad = tr.parse_digits("12a4")[1]
    assert (bad.code, bad.position, bad.symbol) == ("bad_symbol", 3, "a")
    assert tr.parse_digits("1" * (tr.MAX_LEN + 1))[1].code == "too_long"
    assert tr.parse_digits("١٢")[1].code == "bad_symbol"          # other scripts' digits are not 0-9


def test_targets_and_batches():
    assert tr.target("reverse", [1, 2, 3]) == [3, 2, 1] and tr.target("sort", [3, 1, 2]) == [1, 2, 3]
    src, tgt_in, tgt_out = tr.batch("sort", 4, 6, torch.Generator().manual_seed(0))
    assert src.shape == tgt_in.shape == tgt_out.shape == (4, 7)
    assert torch.all(src[:, -1] == tr.EOS) and torch.all(tgt_in[:, 0] == tr.BOS) and torch.all(tgt_out[:, -1] == tr.EOS)
    assert torch.equal(tgt_out[:, :-1], (src[:, :-1]).sort(1).values)
    assert torch.equal(tgt_in[:, 1:], tgt_out[:, :-1])


def test_bundled_weights_are_small():
    for task in tr.TASKS:
        assert (MODELS / f"{task}.pt").stat().st_size < 1_000_000


@pytest.mark.parametrize("task", tr.TASKS)
def test_bundled_model_solves_its_task_on_fresh_strings_of_every_length(models, task):
    acc = tr.sequence_accuracy(models[task], task, n=300, seed=777)   # not the script's evaluation seed
    assert acc >= 0.98


def test_reading_of_the_learners_input_is_right_and_maps_have_the_lesson_shapes(models):
    digits = [3, 1, 4, 1, 5, 9, 2, 6]
    for task in tr.TASKS:
        rd = tr.run_on(models[task], task, digits)
        assert rd.correct and rd.output == [str(d) for d in tr.target(task, digits)]
        assert rd.maps.encoder.shape == (2, 4, 9, 9) and rd.maps.cross.shape == (2, 4, 9, 9)
        for maps in (rd.maps.encoder, rd.maps.decoder, rd.maps.cross):
            assert_close(maps.sum(-1), torch.ones(maps.shape[:-1]), atol=1e-5, rtol=0)
        assert torch.all(torch.triu(rd.maps.decoder, 1) == 0)          # the causal triangle
        keys, queries = rd.labels("cross")
        assert keys == rd.source and queries == rd.written and rd.written[-1] == "<eos>"


def test_reverse_model_cross_attention_follows_the_anti_diagonal(models):
    hits = total = 0
    for digits in ([3, 1, 4, 1, 5, 9, 2, 6], [7, 7, 2, 0, 1, 8], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]):
        n = len(digits)
        cross = tr.run_on(models["reverse"], "reverse", digits).maps.cross[-1]     # last layer (h, n+1, n+1)
        for t in range(n):
            hits += int(cross[:, t, n - 1 - t].max() > 0.3)
            total += 1
    assert hits / total >= 0.75


def test_copy_model_cross_attention_follows_the_diagonal(models):
    digits = [5, 0, 2, 8, 8, 1, 3]
    cross = tr.run_on(models["copy"], "copy", digits).maps.cross[-1]
    assert sum(int(cross[:, t, t].max() > 0.3) for t in range(len(digits))) >= 5


def test_training_is_deterministic_and_reduces_the_loss():
    cfg = tr.TrainConfig(task="copy", steps=40, batch=32, eval_every=10, seed=3)
    a, b = tr.init_training(cfg), tr.init_training(cfg)
    tr.train_steps(a, 40)
    for _ in tr.train_for(b, seconds=60, chunk=15):
        pass
    assert a.step == b.step == 40
    for (k, va), vb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(va, vb), k
    assert a.history[-1][1] < a.history[0][1] and [h[0] for h in a.history] == [10, 20, 30, 40]


def test_pack_unpack_round_trip_keeps_float16_weights(models):
    cfg = tr.TrainConfig(task="sort", steps=2, batch=4)
    state = tr.train_steps(tr.init_training(cfg), 2)
    blob = tr.pack(state, accuracy=0.5)
    model = tr.unpack(blob)
    for k, v in model.state_dict().items():
        assert_close(v, state.model.state_dict()[k].half().float())
    assert not model.training


@pytest.mark.parametrize("make,match", [
    (lambda: tr.TrainConfig(steps=tr.MAX_TRAIN_STEPS + 1), "Invalid steps"),
    (lambda: tr.TrainConfig(task="shuffle"), "Invalid task"),
    (lambda: tr.TrainConfig(batch=0), "Invalid batch"),
    (lambda: tr.ModelConfig(d_model=60, n_heads=8), "divisor of d_model = 60"),
    (lambda: tr.ModelConfig(n_layers=5), "Invalid model size"),
    (lambda: tr.run_on(tr.make_model(tr.ModelConfig(), 0), "copy", [1] * (tr.MAX_LEN + 1)), "Invalid digits"),
    (lambda: tr.target("shuffle", [1, 2]), "Invalid task"),
])
def test_config_caps_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- the block against torch.nn, same weights

def _copy_attention(ours: tr.Attention, theirs: nn.MultiheadAttention) -> None:
    """torch packs W_q, W_k, W_v into one in_proj matrix (and bias); W_o is out_proj."""
    theirs.in_proj_weight.copy_(torch.cat([ours.q.weight, ours.k.weight, ours.v.weight]))
    theirs.in_proj_bias.copy_(torch.cat([ours.q.bias, ours.k.bias, ours.v.bias]))
    theirs.out_proj.load_state_dict(ours.o.state_dict())


def _copy_feed_forward(block: tr.Block, layer: nn.Module) -> None:
    layer.linear1.load_state_dict(block.ffn[0].state_dict())
    layer.linear2.load_state_dict(block.ffn[2].state_dict())


def _torch_layer(kind: type, cfg: tr.ModelConfig) -> nn.Module:
    """The pre-LN torch layer with the toy model's sizes: ReLU feed-forward, no dropout, (B, T, d) tensors."""
    return kind(cfg.d_model, cfg.n_heads, cfg.d_ff, dropout=0.0, activation="relu", batch_first=True,
                norm_first=True, dtype=torch.float64).eval()


@pytest.mark.parametrize("causal", [False, True])
def test_encoder_block_equals_torch_transformer_encoder_layer_with_the_same_weights(causal):
    cfg = tr.ModelConfig()
    torch.manual_seed(0)
    block = tr.Block(cfg, cross=False).double().eval()
    ref = _torch_layer(nn.TransformerEncoderLayer, cfg)
    with torch.no_grad():
        _copy_attention(block.attn, ref.self_attn)
        ref.norm1.load_state_dict(block.ln1.state_dict())
        ref.norm2.load_state_dict(block.ln2.state_dict())
        _copy_feed_forward(block, ref)
        x = torch.randn(3, 7, cfg.d_model, dtype=torch.float64) * 2 + 1      # a large mean: LayerNorm matters
        mask = nn.Transformer.generate_square_subsequent_mask(7, dtype=torch.float64) if causal else None
        y, w_self, w_cross = block(x, causal=causal)
        expected = ref(x, src_mask=mask, is_causal=causal)
    assert w_cross is None and w_self.shape == (3, cfg.n_heads, 7, 7)
    assert_close(y, expected, rtol=1e-9, atol=1e-9)


def test_decoder_block_equals_torch_transformer_decoder_layer_with_the_same_weights():
    cfg = tr.ModelConfig()
    torch.manual_seed(1)
    block = tr.Block(cfg, cross=True).double().eval()
    ref = _torch_layer(nn.TransformerDecoderLayer, cfg)
    with torch.no_grad():
        _copy_attention(block.attn, ref.self_attn)
        _copy_attention(block.cross, ref.multihead_attn)
        for ours, theirs in ((block.ln1, ref.norm1), (block.ln_x, ref.norm2), (block.ln2, ref.norm3)):
            theirs.load_state_dict(ours.state_dict())
        _copy_feed_forward(block, ref)
        y_in = torch.randn(2, 6, cfg.d_model, dtype=torch.float64)
        memory = torch.randn(2, 9, cfg.d_model, dtype=torch.float64)
        y, w_self, w_cross = block(y_in, memory=memory, causal=True)
        expected = ref(y_in, memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64),
                       tgt_is_causal=True)
        _, torch_cross = ref.multihead_attn(ref.norm2(y_in + block.attn(block.ln1(y_in), causal=True)[0]), memory,
                                            memory, need_weights=True, average_attn_weights=False)
    assert_close(y, expected, rtol=1e-9, atol=1e-9)
    assert_close(w_cross, torch_cross, rtol=1e-9, atol=1e-9)                 # the cross-attention map the page draws
    assert torch.all(torch.triu(w_self, 1) == 0)
