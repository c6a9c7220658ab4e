"""dlcore.jobs.dumps / loads: what a training worker and the server send each other. Checked against torch's
own pickling (the reference) on every kind of tensor a training state holds."""

import pickle
import warnings
from dataclasses import dataclass, field

import pytest
import torch
from torch import nn

from dlcore import jobs


def _same(a: torch.Tensor, b: torch.Tensor) -> None:
    assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
    assert a.requires_grad == b.requires_grad and a.device == b.device
    assert torch.equal(a.detach(), b.detach())


@pytest.mark.parametrize("tensor", [
    torch.randn(3, 4, dtype=torch.float64), torch.randn(5), torch.randn(2, 2).half(), torch.tensor(2.5),
    torch.arange(6).reshape(2, 3), torch.tensor([True, False]), torch.randint(0, 255, (4,), dtype=torch.uint8),
    torch.randn(3, dtype=torch.complex64), torch.empty(0, 3), torch.randn(4, 6)[:, ::2],     # a strided view
    torch.randn(3, 5).t(), torch.randn(3).bfloat16(),                                   # no numpy dtype: torch's way
    torch.randn(3, requires_grad=True), nn.Parameter(torch.randn(2, 2)),
    torch.randn(3, dtype=torch.complex64).conj(), -torch.randn(3).abs(),
], ids=lambda t: f"{type(t).__name__}-{t.dtype}-{tuple(t.shape)}")
def test_every_tensor_comes_back_as_torch_pickle_brings_it(tensor):
    reference = pickle.loads(pickle.dumps(tensor))
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # e.g. torch.from_numpy on a read-only array would warn
        back = jobs.loads(jobs.dumps(tensor))
    _same(back, reference)
    _same(back, tensor)
    back.detach().zero_()                         # writable, and its own memory
    assert not back.is_shared()


@dataclass
class _State:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: list[float] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)


def test_a_training_state_round_trips_with_identity_and_optimizer_state_intact():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    for _ in range(3):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    shared = torch.randn(4)
    state = _State(model, opt, [1.0, 0.5], [shared, shared])
    back = jobs.loads(jobs.dumps(state))
    assert back.history == [1.0, 0.5] and back.snapshots[0] is back.snapshots[1]   # one object stays one
    for a, b in zip(model.parameters(), back.model.parameters()):
        _same(a, b)
    # the optimizer still refers to the model's own parameters, with the same moments: both go on alike
    assert [p for g in back.optimizer.param_groups for p in g["params"]] == list(back.model.parameters())
    for model_i, opt_i in ((model, opt), (back.model, back.optimizer)):
        opt_i.zero_grad()
        nn.functional.mse_loss(model_i(x), y).backward()
        opt_i.step()
    for a, b in zip(model.parameters(), back.model.parameters()):
        assert torch.equal(a, b)


def test_call_runs_a_job_from_its_payload():
    payload = jobs.dumps((torch.add, (torch.ones(2), torch.full((2,), 2.0)), {"alpha": 3}))
    assert torch.equal(jobs.loads(jobs.call(payload)), torch.tensor([7.0, 7.0]))
    assert jobs.loads(jobs.call(jobs.dumps((jobs.collect, (range, 3), {})))) == [0, 1, 2]


def test_tensors_travel_by_value_not_as_shared_memory_handles():
    # torch's multiprocessing pickler would send a file-descriptor handle; ours carries the numbers themselves
    tensor = torch.randn(1000)
    data = jobs.dumps(tensor)
    assert len(data) >= tensor.numel() * 4 and not tensor.is_shared()
