"""Tests of lmt_core.tasks.copying: encodings, masks, the n-gram lookup, and a tiny task learned."""

import math

import pytest
import torch

from lmt_core import train
from lmt_core.models import LSTM
from lmt_core.tasks import copying


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_copy_encoding_and_mask():
    task = copying.Copy(5)
    x = torch.tensor([[0, 1, 2], [4, 4, 3]])
    inputs, targets = task.encode(x)
    assert task.vocab_size == 7 and inputs.shape == targets.shape == (2, 7)
    assert inputs[0].tolist() == [5, 0, 1, 2, 6, 0, 1]                 # BOS x SEP x_1 .. x_{L-1}
    assert targets[0].tolist() == [-100, -100, -100, -100, 0, 1, 2]    # only the copy is scored
    assert (targets[1, 4:] == x[1]).all()


def test_copy_sample_is_seeded_and_in_range():
    task = copying.Copy(4)
    a, b = task.sample(8, 6, gen(1)), task.sample(8, 6, gen(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0][:, 1:7].max() < 4 and a[0][:, 1:7].min() >= 0


def test_associative_recall_answers_are_the_stored_values():
    task = copying.AssociativeRecall(10, 6)
    inputs, targets = task.sample(50, 5, 4, gen(2))
    N = 5
    assert inputs.shape == targets.shape == (50, 2 * (N + 4) - 1)
    for b in range(50):
        keys, values = inputs[b, 0:2 * N:2], inputs[b, 1:2 * N:2]
        assert len(set(keys.tolist())) == N and keys.max() < 10 and values.min() >= 10
        table = dict(zip(keys.tolist(), values.tolist()))
        scored = torch.nonzero(targets[b] != copying.IGNORE).flatten().tolist()
        assert scored == [2 * N + 2 * j for j in range(4)]            # the query positions
        for p in scored:
            assert targets[b, p].item() == table[inputs[b, p].item()]
    with pytest.raises(ValueError, match="n_keys"):
        task.sample(2, 11, 1)


def test_token_accuracy_ignores_unscored_positions():
    targets = torch.tensor([[-100, 1, 2]])
    logits = torch.nn.functional.one_hot(torch.tensor([[0, 1, 0]]), 3).float()
    assert copying.token_accuracy(logits, targets).item() == pytest.approx(0.5)


def test_has_repeated_ngram():
    x = torch.tensor([[0, 1, 2, 0, 1], [0, 1, 2, 3, 4]])
    assert copying.has_repeated_ngram(x, 2).tolist() == [True, False]
    assert copying.has_repeated_ngram(x, 3).tolist() == [False, False]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_ngram_copy_copies_every_string_without_repeats(n):
    task = copying.Copy(6)
    x = task.strings(400, 20, gen(3))
    inputs, targets = task.encode(x)
    pred = copying.ngram_copy(inputs, n, 6)
    scored = targets != copying.IGNORE
    copied = ((pred == targets) | ~scored).all(1)
    ok = ~copying.has_repeated_ngram(x, n)
    assert copied[ok].all()
    assert ok.any() or n == 1


def test_ngram_copy_success_matches_the_union_bound():
    D, L, n = 8, 40, 4
    task = copying.Copy(D)
    x = task.strings(3000, L, gen(4))
    inputs, targets = task.encode(x)
    copied = ((copying.ngram_copy(inputs, n, D) == targets) | (targets == copying.IGNORE)).all(1)
    assert copied.float().mean() >= 1 - math.comb(L - n + 1, 2) * D ** (-n) - 0.03


def test_lstm_with_attention_learns_small_associative_recall():
    task = copying.AssociativeRecall(6, 4)
    xe, ye = task.sample(256, 4, 4, gen(5))
    model = LSTM(task.vocab_size, d_hidden=32, attention=True, seed=0)
    train.fit(model, lambda s, g: task.sample(32, 4, 4, g), steps=150, loss="cross_entropy", optimizer="adam",
              lr=3e-3, progress=False)
    with torch.no_grad():
        assert copying.token_accuracy(model(xe), ye).item() >= 0.9
