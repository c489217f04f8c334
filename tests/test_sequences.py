"""Tests of lmt_core.tasks.sequences: copy and recall encodings, the n-gram lookup, Dyck languages."""

import dataclasses
import math

import pytest
import torch

from lmt_core import analysis, tasks, train
from lmt_core.models import LSTM


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_copy_encoding_and_mask():
    task = tasks.Copy(5, 3)
    x = torch.tensor([[0, 1, 2], [4, 4, 3]])
    inputs, targets = task.encode(x)
    assert task.vocab_size == 7 and inputs.shape == targets.shape == (2, 7)
    assert inputs[0].tolist() == [5, 0, 1, 2, 6, 0, 1]  # BOS x SEP x_1 .. x_{L-1}
    assert targets[0].tolist() == [-100, -100, -100, -100, 0, 1, 2]  # only the copy is scored
    assert (targets[1, 4:] == x[1]).all()


def test_copy_sample_is_seeded_and_in_range():
    task = tasks.Copy(4, 6)
    a, b = task.sample(8, generator=gen(1)), task.sample(8, generator=gen(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0][:, 1:7].max() < 4 and a[0][:, 1:7].min() >= 0


def test_associative_recall_answers_are_the_stored_values():
    task = tasks.AssociativeRecall(10, 6, n_pairs=5, n_queries=4)
    inputs, targets = task.sample(50, generator=gen(2))
    N = 5
    assert inputs.shape == targets.shape == (50, 2 * (N + 4) - 1)
    for b in range(50):
        keys, values = inputs[b, 0 : 2 * N : 2], inputs[b, 1 : 2 * N : 2]
        assert len(set(keys.tolist())) == N and keys.max() < 10 and values.min() >= 10
        table = dict(zip(keys.tolist(), values.tolist()))
        scored = torch.nonzero(targets[b] != tasks.IGNORE_INDEX).flatten().tolist()
        assert scored == [2 * N + 2 * j for j in range(4)]  # the query positions
        for p in scored:
            assert targets[b, p].item() == table[inputs[b, p].item()]
    with pytest.raises(ValueError, match="n_keys"):
        dataclasses.replace(task, n_pairs=11)


def test_has_repeated_ngram():
    x = torch.tensor([[0, 1, 2, 0, 1], [0, 1, 2, 3, 4]])
    assert tasks.has_repeated_ngram(x, 2).tolist() == [True, False]
    assert tasks.has_repeated_ngram(x, 3).tolist() == [False, False]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_ngram_copy_copies_every_string_without_repeats(n):
    task = tasks.Copy(6, 20)
    x = task.strings(400, generator=gen(3))
    inputs, targets = task.encode(x)
    pred = tasks.ngram_copy(inputs, n, 6)
    scored = targets != tasks.IGNORE_INDEX
    copied = ((pred == targets) | ~scored).all(1)
    ok = ~tasks.has_repeated_ngram(x, n)
    assert copied[ok].all()
    assert ok.any() or n == 1


def test_ngram_copy_success_matches_the_union_bound():
    D, L, n = 8, 40, 4
    task = tasks.Copy(D, L)
    x = task.strings(3000, generator=gen(4))
    inputs, targets = task.encode(x)
    copied = ((tasks.ngram_copy(inputs, n, D) == targets) | (targets == tasks.IGNORE_INDEX)).all(1)
    assert copied.float().mean() >= 1 - math.comb(L - n + 1, 2) * D ** (-n) - 0.03


def test_lstm_with_attention_learns_small_associative_recall():
    task = tasks.AssociativeRecall(6, 4, n_pairs=4, n_queries=4)
    xe, ye = task.sample(256, generator=gen(5))
    model = LSTM(task.vocab_size, d_hidden=32, attention=True, seed=0)
    train.fit(
        model,
        lambda s, g: task.sample(32, generator=g),
        steps=150,
        loss="cross_entropy",
        optimizer="adam",
        lr=3e-3,
        progress=False,
    )
    with torch.no_grad():
        assert analysis.token_accuracy(model(xe), ye).item() >= 0.9


# ---- Dyck languages ----------------------------------------------------------------------


def brute_member(lang, s):
    """Reference membership by an explicit Python stack."""
    stack = []
    for t in s:
        if t < lang.k:
            if len(stack) == lang.D:
                return False
            stack.append(t)
        else:
            if not stack or stack[-1] != t - lang.k:
                return False
            stack.pop()
    return not stack


def test_membership_matches_reference_on_all_short_strings():
    for k, D in [(1, 2), (2, 2), (2, 3)]:
        lang = tasks.Dyck(k, D)
        for length in range(0, 7):
            x = lang.all_strings(length)
            want = torch.tensor([brute_member(lang, row.tolist()) for row in x])
            assert torch.equal(lang.is_member(x), want), (k, D, length)
            assert torch.equal(lang.is_member(lang.with_bos(x)), want)  # BOS is neutral


def test_scan_depth_top_and_validity():
    lang = tasks.Dyck(2, 2)
    x = lang.with_bos(torch.tensor([[0, 1, 3, 2, 0, 0]]))  # ^ ( [ ] ) ( (
    s = lang.scan(x)
    assert s["depth"][0].tolist() == [0, 1, 2, 1, 0, 1, 2]
    assert s["top"][0].tolist() == [-1, 0, 1, 0, -1, 0, 0]
    assert s["valid"][0].all()
    y = torch.tensor([[0, 3]])  # ( ] : wrong type
    assert s["valid"].dtype == torch.bool and not lang.scan(y)["valid"][0, 1]
    z = torch.tensor([[0, 0, 0]])  # depth 3 > D = 2
    assert lang.scan(z)["valid"][0].tolist() == [True, True, False]


def test_allowed_next_agrees_with_membership_of_extensions():
    lang = tasks.Dyck(2, 3)
    x = lang.all_prefixes(5)
    allowed = lang.allowed_next(x)[:, -1]
    for v in range(2 * lang.k):
        ext = torch.cat([x, torch.full((len(x), 1), v)], 1)
        assert torch.equal(allowed[:, v], lang.scan(ext)["valid"][:, -1])
    assert torch.equal(allowed[:, lang.bos], lang.is_member(x))


def test_all_prefixes_equals_filtered_enumeration():
    lang = tasks.Dyck(2, 2)
    for length in range(0, 7):
        x = lang.all_strings(length)
        if length:
            x = x[lang.scan(x)["valid"][:, -1]]
        assert torch.equal(lang.all_prefixes(length), x)


def test_samples_are_valid_and_seeded():
    lang = tasks.Dyck(3, 4)
    lang = dataclasses.replace(lang, length=30)
    a = lang.prefixes(256, generator=torch.Generator().manual_seed(1))
    b = lang.prefixes(256, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (256, 30)
    s = lang.scan(a)
    assert s["valid"].all()
    assert s["depth"].max() == lang.D  # the walk reaches the bound


def test_to_string_and_errors():
    lang = tasks.Dyck(2, 2)
    assert lang.to_string([4, 0, 1, 3, 2]) == "^([])"
    with pytest.raises(ValueError):
        tasks.Dyck(0, 2)
    with pytest.raises(ValueError):
        lang.scan(torch.tensor([[0, 7]]))
    with pytest.raises(TypeError):
        lang.scan(torch.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError):
        tasks.Dyck(2, 2, p_open=1.5)


def test_dyck_sample_is_next_token_data_on_valid_prefixes():
    lang = tasks.Dyck(2, 3, length=12)
    tokens, targets = lang.sample(64, generator=torch.Generator().manual_seed(2))
    x = lang.prefixes(64, generator=torch.Generator().manual_seed(2))
    assert tokens.shape == targets.shape == (64, 12) and torch.equal(targets, x)
    assert (tokens[:, 0] == lang.bos).all() and torch.equal(tokens[:, 1:], x[:, :-1])
    allowed = lang.allowed_next(tokens)  # every target is an allowed token
    assert allowed.gather(2, targets.unsqueeze(-1)).all()
