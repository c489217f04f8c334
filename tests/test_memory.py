import pytest
import torch
from torch import nn

from lmt_core.analysis import memory
from lmt_core.models import MLP


def _ce(out, y):
    return nn.functional.cross_entropy(out, y)


def test_tensor_bytes_counts_once():
    a = torch.zeros(10)
    assert memory.tensor_bytes([a, a, torch.zeros(3, dtype=torch.float64)]) == 40 + 24


def test_saved_activations_of_a_linear_layer():
    lin = nn.Linear(5, 7)
    x = torch.randn(11, 5)
    saved, out = memory.saved_activation_bytes(lambda: lin(x), exclude=list(lin.parameters()))
    assert out.shape == (11, 7)
    assert saved == 11 * 5 * 4  # the input is saved for the weight gradient; weights excluded


def test_budget_orders_methods():
    net = MLP(16, 32, depth=2, n_out=4, seed=0)
    x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
    b = {m: memory.memory_budget(net, x, y, _ce, m) for m in memory.METHODS}
    p = sum(q.numel() * 4 for q in net.parameters())
    assert b["inference"]["parameters"] == p
    assert b["adam"]["optimizer_state"] == 2 * p and b["sgd"]["gradients"] == p
    assert b["mezo"]["perturbation"] == 32 * 32 * 4
    assert b["inference"]["total"] < b["mezo"]["total"] < b["sgd"]["total"] < b["adam"]["total"]
    assert b["mezo"]["activations"] == max(64 * 16 * 4 + 64 * 32 * 4, 64 * 32 * 8)
    assert all(v["total"] == sum(w for k, w in v.items() if k != "total") for v in b.values())


def test_frozen_parameters_have_no_gradients():
    net = MLP(8, 8, depth=2, n_out=2, seed=0)
    for q in net.layers[0].parameters():
        q.requires_grad_(False)
    x, y = torch.randn(4, 8), torch.randint(0, 2, (4,))
    b = memory.memory_budget(net, x, y, _ce, "sgd")
    assert b["gradients"] == sum(q.numel() * 4 for q in net.parameters() if q.requires_grad)


def test_cuda_peak_needs_cuda():
    with pytest.raises(ValueError):
        memory.cuda_peak_bytes(lambda: None, "cpu")
    with pytest.raises(ValueError):
        memory.memory_budget(nn.Linear(2, 2), torch.zeros(1, 2), torch.zeros(1), _ce, "lbfgs")
