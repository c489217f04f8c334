"""Tests of lmt_core.tasks.facts: the synthetic subject–relation–answer task."""

import math

import pytest
import torch

from lmt_core.tasks import Facts


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_answers_in_their_relation_set_and_balanced():
    t = Facts(12, 3, 4, seed=1)
    assert t.answers.shape == (12, 3) and t.n_answers == 12 and t.n_facts == 36
    for r in range(3):
        col = t.answers[:, r]
        assert set(col.tolist()) <= set(t.answer_set(r).tolist())
        assert torch.bincount(col - r * 4, minlength=4).tolist() == [3, 3, 3, 3]  # balanced


def test_relation_only_loss_is_log_D():
    t = Facts(16, 2, 8, seed=0)
    assert t.relation_only_loss() == pytest.approx(math.log(8))
    # the relation-only logits give exactly that loss on every fact
    x, y = t.all_facts(generator=gen())
    logits = t.relation_only_logits(torch.arange(t.n_facts) % t.R)
    assert torch.nn.functional.cross_entropy(logits, y).item() == pytest.approx(
        math.log(8), abs=1e-6
    )


def test_query_layout():
    t = Facts(10, 3, 5, seq_len=6, n_noise=4, seed=0)
    x, y = t.sample(500, generator=gen(2))
    assert x.shape == (500, 6) and y.shape == (500,) and x.dtype == torch.long
    assert (x[:, -1] >= 10).all() and (x[:, -1] < 13).all()  # relation last
    head = x[:, :-1]
    is_subject = head < 10
    assert (is_subject.sum(1) == 1).all()  # exactly one subject
    assert ((head >= 13) | is_subject).all()  # the rest is noise
    assert (head < t.vocab_size).all()
    s = head[is_subject]
    assert torch.equal(y, t.answers[s, x[:, -1] - 10])  # target = a*(s, r)
    assert len(set(is_subject.float().argmax(1).tolist())) == 5  # subject at every position


def test_all_facts_covers_every_pair_and_is_seeded():
    t = Facts(8, 2, 4, seed=3)
    x, y = t.all_facts(generator=gen(0))
    pairs = {(int(s), int(r)) for s, r in zip(x[:, :-1].min(1).values, x[:, -1] - 8)}
    assert len(pairs) == 16 and y.shape == (16,)
    assert torch.equal(t.sample(20, generator=gen(4))[0], t.sample(20, generator=gen(4))[0])
    assert not torch.equal(Facts(8, 2, 4, seed=3).answers, Facts(8, 2, 4, seed=4).answers)


def test_seq_len_two_has_no_noise():
    t = Facts(4, 2, 2, seq_len=2, n_noise=0)
    x, _ = t.sample(10, generator=gen())
    assert (x[:, 0] < 4).all() and (x[:, 1] >= 4).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="divide"):
        Facts(10, 2, 3)
    with pytest.raises(ValueError, match="seq_len"):
        Facts(4, 2, 2, seq_len=1)
    with pytest.raises(ValueError, match="subjects"):
        Facts(4, 2, 2).encode(torch.tensor([4]), torch.tensor([0]), generator=gen())
    with pytest.raises(ValueError, match="same length"):
        Facts(4, 2, 2).encode(torch.tensor([0, 1]), torch.tensor([0]), generator=gen())
    with pytest.raises(TypeError, match="generator"):
        Facts(4, 2, 2).sample(3, generator=None)


def test_facts_is_a_frozen_task():
    t = Facts(4, 2, 2, seed=1)
    assert t == Facts(4, 2, 2, seed=1) and t.vocab_size == 4 + 2 + 8 and t.n_answers == 4
    with pytest.raises(AttributeError):
        t.seq_len = 5
