"""Tests of lmt_core.models.linear_ar: causality, shapes, ensembles, generation, a tiny task learned."""

import torch

from lmt_core import ensemble, tasks, train
from lmt_core.models import linear_ar as la


def _causal(model, V, T):
    x = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(0))
    y = x.clone()
    y[:, -1] = (y[:, -1] + 1) % V  # change the last token only
    with torch.no_grad():
        a, b = model(x), model(y)
    assert a.shape == (4, T, V)
    assert torch.allclose(a[:, :-1], b[:, :-1])  # earlier positions do not see it


def test_models_are_causal():
    _causal(la.LinearAR(3, 6, init_scale=1.0), 3, 6)
    _causal(la.PrefixMLP(3, 6, 16, depth=2), 3, 6)


def test_linear_ar_is_a_linear_map_of_the_one_hot_prefix():
    m = la.LinearAR(2, 3, init_scale=1.0, seed=1)
    x = torch.tensor([[1, 0, 1]])
    with torch.no_grad():
        out = m(x)[0, 2]
        want = m.bias[2] + m.weight[2, :, 0, 1] + m.weight[2, :, 1, 0] + m.weight[2, :, 2, 1]
    assert torch.allclose(out, want)


def test_shorter_inputs_and_generation():
    m = la.PrefixMLP(5, 8, 8)
    seq = la.greedy_generate(m, torch.zeros(3, 2, dtype=torch.long), 6)
    assert seq.shape == (3, 8) and int(seq.max()) < 5
    with torch.no_grad():
        assert torch.equal(m(seq)[:, 3].argmax(-1), seq[:, 4])  # generation = argmax at each step


def test_ensemble_generation_per_member():
    ens = ensemble.stack(
        [la.LinearAR(2, 5, init_scale=1.0, seed=s) for s in range(3)], per_member_inputs=True
    )
    seq = la.greedy_generate(ens, torch.zeros(3, 4, 2, dtype=torch.long), 3)
    assert seq.shape == (3, 4, 5)
    one = la.greedy_generate(ens.member(1), torch.zeros(4, 2, dtype=torch.long), 3)
    assert torch.equal(seq[1], one)


def test_linear_ar_learns_the_and_chain():
    circ = tasks.parity_circuit(3)  # 4 gates: AND, XOR, AND, XOR
    model = la.LinearAR(2, circ.wires)

    def batches(step, g):
        return circ.sequences(torch.randint(0, 2, (64, 3), generator=g))

    train.fit(
        model, batches, steps=200, loss="cross_entropy", optimizer="adam", lr=0.1, progress=False
    )
    x = circ.all_inputs()
    seq = la.greedy_generate(model, x, circ.size)
    assert torch.equal(seq[:, -1], x.sum(1) % 2)
