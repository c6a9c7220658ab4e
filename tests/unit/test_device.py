import pytest
import torch

from dlcore import device


def test_pick_falls_back_to_cpu_for_unknown_or_unavailable():
    assert device.pick("cpu").type == "cpu"
    assert device.pick("banana").type == "cpu"
    if not torch.cuda.is_available():
        assert device.pick("cuda").type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_pick_cuda_when_available():
    assert device.pick("cuda").type == "cuda"
    assert "cuda" in device.describe(device.pick("cuda")).available


def test_describe_cpu_names_thread_count():
    info = device.describe(torch.device("cpu"))
    assert info.kind == "cpu" and "CPU" in info.name and info.available[0] == "cpu"


def test_generator_is_reproducible_and_private():
    torch.manual_seed(123)
    before = torch.rand(1)
    a = torch.randn(5, generator=device.generator(7))
    b = torch.randn(5, generator=device.generator(7))
    torch.testing.assert_close(a, b)
    torch.manual_seed(123)
    torch.testing.assert_close(torch.rand(1), before)  # global stream untouched by private generators


def test_seeded_block_is_reproducible_and_restores_global_state():
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    torch.manual_seed(5)
    with device.seeded(1):
        w1 = torch.nn.Linear(3, 2).weight.detach().clone()
    with device.seeded(1):
        w2 = torch.nn.Linear(3, 2).weight.detach().clone()
    torch.testing.assert_close(w1, w2)
    torch.testing.assert_close(torch.rand(3), expected_next)


def test_seeded_draws_what_torch_manual_seed_draws():
    with device.seeded(11):
        ours = torch.nn.Conv2d(2, 3, 3).weight.detach().clone()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)                       # the textbook way
        ref = torch.nn.Conv2d(2, 3, 3).weight.detach().clone()
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)


def test_set_threads_rejects_zero():
    with pytest.raises(AssertionError):
        device.set_threads(0)
