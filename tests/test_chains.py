"""Tests of lmt_core.tasks.chains: parity chains, threshold circuits, addition, multiplication."""

import pytest
import torch

from lmt_core import tasks, train
from lmt_core.tasks import IGNORE_INDEX, ParityCoT, running_parities, tokens_to_signs


def test_ignore_index_matches_train():
    assert IGNORE_INDEX == train.IGNORE_INDEX


def test_shapes_and_targets_with_cot():
    task = ParityCoT(6, (4, 1, 2))
    tok, tgt = task.sample(50, generator=torch.Generator().manual_seed(0))
    assert tok.shape == tgt.shape == (50, task.length) == (50, 9)
    assert tok.dtype == tgt.dtype == torch.long
    assert ((tok == 0) | (tok == 1)).all()
    # targets are the next tokens at positions n-1 .. T-2 and ignored elsewhere
    assert (tgt[:, : task.n - 1] == IGNORE_INDEX).all() and (tgt[:, -1] == IGNORE_INDEX).all()
    assert torch.equal(tgt[:, task.n - 1 : -1], tok[:, task.n :])
    # the chain is the running XOR in the given order, and the answer is the parity of the support
    x = tok[:, :6]
    assert torch.equal(tok[:, 6], x[:, 4])
    assert torch.equal(tok[:, 7], x[:, 4] ^ x[:, 1])
    assert torch.equal(tok[:, 8], x[:, 4] ^ x[:, 1] ^ x[:, 2])
    signs = tasks.parity(tokens_to_signs(x), [1, 2, 4])
    assert torch.equal(tokens_to_signs(task.answers(tok)), signs)
    assert task.generated_positions == [6, 7, 8] and task.answer_position == 7


def test_without_cot_same_answer():
    task = ParityCoT.random(10, 4, seed=3)
    plain = task.with_cot(False)
    assert plain.length == 11 and plain.support == task.support
    bits = torch.randint(0, 2, (40, 10), generator=torch.Generator().manual_seed(1))
    tok_c, _ = task.sequences(bits)
    tok_p, tgt_p = plain.sequences(bits)
    assert torch.equal(tok_c[:, -1], tok_p[:, -1])
    assert (tgt_p[:, :9] == IGNORE_INDEX).all() and torch.equal(tgt_p[:, 9], tok_p[:, 10])
    assert plain.attended_input(9) is None and task.attended_input(9) == task.support[0]
    assert task.attended_input(12) == task.support[3] and task.attended_input(13) is None


def test_seeded_and_random_support():
    def g():
        return torch.Generator().manual_seed(7)

    task = ParityCoT.random(12, 3, seed=5)
    assert task == ParityCoT.random(12, 3, seed=5)
    assert len(set(task.support)) == 3 and list(task.support) == sorted(task.support)
    a, b = task.sample(20, generator=g()), task.sample(20, generator=g())
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_all_sequences_exhaustive():
    task = ParityCoT(5, (0, 3))
    tok, _ = task.all_sequences()
    assert tok.shape == (32, 7)
    assert len({tuple(r) for r in tok[:, :5].tolist()}) == 32
    assert torch.equal(tok[:, -1], tok[:, 0] ^ tok[:, 3])


def test_running_parities_and_prefixes():
    bits = torch.tensor([[1, 0, 1, 1], [0, 1, 1, 0]])
    assert running_parities(bits, [2, 0, 3]).tolist() == [[1, 0, 1], [1, 1, 1]]
    task = ParityCoT(4, (2, 0, 3))
    tok, tgt = task.sequences(bits)
    prefix, nxt, pos = task.prefixes(tok)
    assert prefix.shape == (2, 3, 6) and nxt.shape == (2, 3) and pos.tolist() == [3, 4, 5]
    assert torch.equal(nxt, tok[:, 4:])
    assert (prefix[:, 0, 4:] == -1).all() and torch.equal(prefix[:, 0, :4], tok[:, :4])
    assert torch.equal(prefix[:, 2], tok[:, :6])
    assert torch.equal(nxt, tgt[:, pos])


def test_validation():
    with pytest.raises(ValueError):
        ParityCoT(5, (1, 1))
    with pytest.raises(ValueError):
        ParityCoT(5, (5,))
    with pytest.raises(ValueError):
        ParityCoT(5, ())
    with pytest.raises(ValueError):
        ParityCoT(5, (1,)).sequences(torch.full((2, 5), 2))
    with pytest.raises(TypeError):
        ParityCoT(5, (1,)).sample(3, generator=0)


def test_tiny_transformer_learns_with_cot():
    """A one-layer transformer fits the chain of a small instance (the chapter's phenomenon, tiny)."""
    from lmt_core.models import Transformer

    torch.manual_seed(0)
    task = ParityCoT(6, (1, 4))
    net = Transformer(
        2, d_model=16, n_layers=1, n_heads=2, max_len=task.length, activation="relu", seed=0
    )
    hist = train.fit(
        net,
        lambda s, g: task.sample(64, generator=g),
        steps=400,
        loss="cross_entropy",
        optimizer="adam",
        lr=5e-3,
        progress=False,
    )
    tok, tgt = task.all_sequences()
    pred = net(tok).argmax(-1)
    mask = tgt != IGNORE_INDEX
    assert (pred[mask] == tgt[mask]).float().mean() >= 0.95, hist.final("loss")


# ---- threshold circuits and arithmetic ----------------------------------------------------


def test_parity_circuit_computes_parity_on_the_cube():
    c = tasks.parity_circuit(7)
    x = c.all_inputs()
    assert c.size == 12 and c.wires == 19
    assert torch.equal(c.output_values(x)[:, 0], x.sum(1) % 2)


def test_sparse_parity_circuit_and_gate_fan_in():
    c = tasks.parity_circuit(6, support=[4, 1, 3])
    x = c.all_inputs()
    assert torch.equal(c.output_values(x)[:, 0], x[:, [1, 3, 4]].sum(1) % 2)
    assert max(len(g.inputs) for g in c.gates) == 3


def test_adder_circuit_adds():
    for m in (1, 2, 3):
        c = tasks.adder_circuit(m)
        x = c.all_inputs()
        out = tasks.digits_to_int(c.output_values(x), 2)
        assert torch.equal(out, tasks.digits_to_int(x[:, :m], 2) + tasks.digits_to_int(x[:, m:], 2))


def test_circuit_sequences_targets():
    c = tasks.parity_circuit(4)
    tok, tgt = c.sequences(c.all_inputs(), cot=True)
    assert tok.shape == (16, c.wires)
    assert (tgt[:, :3] == tasks.IGNORE_INDEX).all() and torch.equal(tgt[:, 3:-1], tok[:, 4:])
    tok0, tgt0 = c.sequences(c.all_inputs(), cot=False)
    assert tok0.shape == (16, 5) and torch.equal(tgt0[:, 3], tok0[:, 4])


def test_circuit_validation():
    with pytest.raises(ValueError):
        tasks.ThresholdCircuit(2, (tasks.Gate((0, 2), (1, 1), 1),))  # reads its own output
    with pytest.raises(ValueError):
        tasks.parity_circuit(3, support=[0])


@pytest.mark.parametrize("base", [2, 4, 10])
def test_addition_sequences(base):
    task = tasks.AdditionCoT(3, base)
    tok, tgt = task.sample(500, generator=torch.Generator().manual_seed(0))
    a, b = task.operands(tok)
    assert tok.shape == (500, task.length) and int(tok.max()) < task.vocab_size
    assert torch.equal(task.answer(tok), a + b)
    assert torch.equal(tgt[:, task.prompt_length - 1 : -1], tok[:, task.prompt_length :])
    tok0, _ = task.with_cot(False).sequences(a, b)
    assert tok0.shape[1] == 3 * 3 + 1 and torch.equal(task.answer(tok0), a + b)


@pytest.mark.parametrize("digits", [1, 2, 4])
def test_multiplication_sequences(digits):
    task = tasks.MultiplicationCoT(digits)
    tok, _ = task.sample(500, generator=torch.Generator().manual_seed(1))
    a, b = task.operands(tok)
    assert tok.shape == (500, task.length) and int(tok.max()) < task.vocab_size
    assert torch.equal(task.answer(tok), a * b)
    top = torch.full((1,), 10**digits - 1)
    tok_top, _ = task.sequences(top, top)  # the largest tokens appear here
    assert int(tok_top.max()) < task.vocab_size
    tok0, _ = task.with_cot(False).sequences(a, b)
    assert tok0.shape[1] == 4 * digits and torch.equal(task.answer(tok0), a * b)


def test_digits_round_trip():
    v = torch.tensor([0, 7, 12345])
    assert torch.equal(tasks.digits_to_int(tasks.int_to_digits(v, 5), 10), v)
