r"""The one training-loop helper of the lessons that train a model step by step in front of the learner
(the LSTM gates' sequence tasks, the attention lesson's toy Transformer, seq2seq's translator).

Built on ``torch.optim`` and ``torch.optim.lr_scheduler``: a step is zero_grad, backward, gradient clipping,
the optimizer's step, then the schedule's step. The schedule is the cosine decay to zero the lessons use,

.. math:: \eta_k = \eta \, \frac{1 + \cos(\pi k / K)}{2}, \qquad k = 0, 1, \dots, K,

written in closed form: torch's ``CosineAnnealingLR`` draws the same curve recursively (equal to 1e-12, a test
checks it), and the closed form keeps the bundled models reproducible bit for bit.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class CosineToZero(torch.optim.lr_scheduler.LRScheduler):
    r"""Cosine decay of every parameter group's learning rate from its initial value to 0 over ``total_steps``
    steps, :math:`\eta_k = \eta (1 + \cos(\pi k / K)) / 2` (held at 0 after ``K``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, total_steps: int, last_epoch: int = -1) -> None:
        if not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"Invalid total_steps: {total_steps!r} (a positive integer)")
        self.total_steps = total_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        k = min(self.last_epoch, self.total_steps)
        return [base * 0.5 * (1 + math.cos(math.pi * k / self.total_steps)) for base in self.base_lrs]


def step(model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler | None,
         loss: torch.Tensor, clip: float | None = None) -> float:
    """One optimisation step on ``loss``: gradients, clipping at norm ``clip`` (None: none), the optimizer's
    step and the schedule's. Returns the loss as a float."""
    optimizer.zero_grad()
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return float(loss.detach())
