"""The one training-loop helper (dlcore.training): its schedule against torch's CosineAnnealingLR, and the
lessons' training loops against a plain PyTorch loop over the same batches."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcore import training
from dlcore.attention import transformer as tr
from dlcore.device import generator
from dlcore.sequences import tasks


def test_the_cosine_schedule_is_torchs_cosine_annealing_to_zero():
    w = torch.nn.Parameter(torch.zeros(1))
    ours_opt = torch.optim.SGD([{"params": [w], "lr": 0.1}, {"params": [torch.nn.Parameter(torch.zeros(1))],
                                                           "lr": 0.03}])
    ref_opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
                               {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.03}])
    ours, ref = training.CosineToZero(ours_opt, 37), torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, 37, 0.0)
    for k in range(38):
        got, want = [g["lr"] for g in ours_opt.param_groups], [g["lr"] for g in ref_opt.param_groups]
        assert got == pytest.approx(want, abs=1e-12), k
        assert got[0] == 0.1 * 0.5 * (1 + math.cos(math.pi * k / 37))   # the closed form, bit for bit
        ours_opt.step()
        ref_opt.step()
        ours.step()
        ref.step()
    assert [g["lr"] for g in ours_opt.param_groups] == [0.0, 0.0]       # held at zero after K


@pytest.mark.parametrize("bad", [0, -3, 2.5, None])
def test_a_schedule_needs_a_positive_whole_number_of_steps(bad):
    with pytest.raises(ValueError):
        training.CosineToZero(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), bad)


def test_the_sequence_tasks_loop_is_a_plain_adam_loop_over_the_same_batches():
    cfg = tasks.TrainConfig.for_task("recall", steps=12, batch=8, hidden=16, target=None, eval_every=5)
    state = tasks.train_steps(tasks.init_training(cfg), 12)
    model = tasks.make_model(cfg)                       # the same initial weights (seeded by the config)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps, 0.0)
    g, task = generator(cfg.seed + 1), tasks.TASKS[cfg.task]
    model.train()
    for _ in range(12):
        length = int(torch.randint(task.min_len, cfg.max_len + 1, (1,), generator=g))
        x, y = tasks.batch(cfg.task, cfg.batch, length, g)
        loss = tasks.loss_fn(cfg.task, model(x), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        sched.step()
    for (name, a), b in zip(state.model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert state.step == 12 and [h[0] for h in state.history] == [5, 10, 12]   # and at the last step


def test_the_transformer_loop_is_a_plain_adamw_loop_over_the_same_batches():
    cfg = tr.TrainConfig(task="copy", steps=10, batch=8, lr=2e-3, weight_decay=0.01, eval_every=5)
    state = tr.train_steps(tr.init_training(cfg), 10)
    model = tr.make_model(tr.ModelConfig(), cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps, 0.0)
    g = generator(cfg.seed + 1)
    model.train()
    for _ in range(10):
        length = int(torch.multinomial(torch.arange(1.0, tr.MAX_LEN + 1), 1, generator=g)) + 1
        src, tgt_in, tgt_out = tr.batch(cfg.task, cfg.batch, length, g)
        logits, _ = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, tr.VOCAB), tgt_out.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        sched.step()
    for (name, a), b in zip(state.model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert [h[0] for h in state.history] == [5, 10]
