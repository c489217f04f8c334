"""Tests of lmt_core.tasks.arithmetic: circuits compute what they claim, sequences are consistent."""

import pytest
import torch

from lmt_core.tasks import arithmetic as ar


def test_parity_circuit_computes_parity_on_the_cube():
    c = ar.parity_circuit(7)
    x = c.all_inputs()
    assert c.size == 12 and c.wires == 19
    assert torch.equal(c.output_values(x)[:, 0], x.sum(1) % 2)


def test_sparse_parity_circuit_and_gate_fan_in():
    c = ar.parity_circuit(6, support=[4, 1, 3])
    x = c.all_inputs()
    assert torch.equal(c.output_values(x)[:, 0], x[:, [1, 3, 4]].sum(1) % 2)
    assert max(len(g.inputs) for g in c.gates) == 3


def test_adder_circuit_adds():
    for m in (1, 2, 3):
        c = ar.adder_circuit(m)
        x = c.all_inputs()
        out = ar.digits_to_int(c.output_values(x), 2)
        assert torch.equal(out, ar.digits_to_int(x[:, :m], 2) + ar.digits_to_int(x[:, m:], 2))


def test_circuit_sequences_targets():
    c = ar.parity_circuit(4)
    tok, tgt = c.sequences(c.all_inputs(), cot=True)
    assert tok.shape == (16, c.wires)
    assert (tgt[:, :3] == ar.IGNORE_INDEX).all() and torch.equal(tgt[:, 3:-1], tok[:, 4:])
    tok0, tgt0 = c.sequences(c.all_inputs(), cot=False)
    assert tok0.shape == (16, 5) and torch.equal(tgt0[:, 3], tok0[:, 4])


def test_circuit_validation():
    with pytest.raises(ValueError):
        ar.ThresholdCircuit(2, (ar.Gate((0, 2), (1, 1), 1),))  # reads its own output
    with pytest.raises(ValueError):
        ar.parity_circuit(3, support=[0])


@pytest.mark.parametrize("base", [2, 4, 10])
def test_addition_sequences(base):
    task = ar.AdditionCoT(3, base)
    tok, tgt = task.sample(500, generator=torch.Generator().manual_seed(0))
    a, b = task.operands(tok)
    assert tok.shape == (500, task.length) and int(tok.max()) < task.vocab_size
    assert torch.equal(task.answer(tok), a + b)
    assert torch.equal(tgt[:, task.prompt_length - 1:-1], tok[:, task.prompt_length:])
    tok0, _ = task.with_cot(False).sequences(a, b)
    assert tok0.shape[1] == 3 * 3 + 1 and torch.equal(task.answer(tok0), a + b)


@pytest.mark.parametrize("digits", [1, 2, 4])
def test_multiplication_sequences(digits):
    task = ar.MultiplicationCoT(digits)
    tok, _ = task.sample(500, generator=torch.Generator().manual_seed(1))
    a, b = task.operands(tok)
    assert tok.shape == (500, task.length) and int(tok.max()) < task.vocab_size
    assert torch.equal(task.answer(tok), a * b)
    top = torch.full((1,), 10**digits - 1)
    tok_top, _ = task.sequences(top, top)                      # the largest tokens appear here
    assert int(tok_top.max()) < task.vocab_size
    tok0, _ = task.with_cot(False).sequences(a, b)
    assert tok0.shape[1] == 4 * digits and torch.equal(task.answer(tok0), a * b)


def test_digits_round_trip():
    v = torch.tensor([0, 7, 12345])
    assert torch.equal(ar.digits_to_int(ar.int_to_digits(v, 5), 10), v)
