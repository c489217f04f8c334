"""Tests of lmt_core.tasks.dyck: the stack machine, next-token sets, sampling and enumeration."""

import pytest
import torch

from lmt_core.tasks.dyck import Dyck


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
        lang = Dyck(k, D)
        for length in range(0, 7):
            x = lang.all_strings(length)
            want = torch.tensor([brute_member(lang, row.tolist()) for row in x])
            assert torch.equal(lang.is_member(x), want), (k, D, length)
            assert torch.equal(lang.is_member(lang.with_bos(x)), want)   # BOS is neutral


def test_scan_depth_top_and_validity():
    lang = Dyck(2, 2)
    x = lang.with_bos(torch.tensor([[0, 1, 3, 2, 0, 0]]))   # ^ ( [ ] ) ( (
    s = lang.scan(x)
    assert s["depth"][0].tolist() == [0, 1, 2, 1, 0, 1, 2]
    assert s["top"][0].tolist() == [-1, 0, 1, 0, -1, 0, 0]
    assert s["valid"][0].all()
    y = torch.tensor([[0, 3]])                                # ( ] : wrong type
    assert s["valid"].dtype == torch.bool and not lang.scan(y)["valid"][0, 1]
    z = torch.tensor([[0, 0, 0]])                             # depth 3 > D = 2
    assert lang.scan(z)["valid"][0].tolist() == [True, True, False]


def test_allowed_next_agrees_with_membership_of_extensions():
    lang = Dyck(2, 3)
    x = lang.all_prefixes(5)
    allowed = lang.allowed_next(x)[:, -1]
    for v in range(2 * lang.k):
        ext = torch.cat([x, torch.full((len(x), 1), v)], 1)
        assert torch.equal(allowed[:, v], lang.scan(ext)["valid"][:, -1])
    assert torch.equal(allowed[:, lang.bos], lang.is_member(x))


def test_all_prefixes_equals_filtered_enumeration():
    lang = Dyck(2, 2)
    for length in range(0, 7):
        x = lang.all_strings(length)
        if length:
            x = x[lang.scan(x)["valid"][:, -1]]
        assert torch.equal(lang.all_prefixes(length), x)


def test_samples_are_valid_and_seeded():
    lang = Dyck(3, 4)
    a = lang.sample_prefixes(256, 30, generator=torch.Generator().manual_seed(1))
    b = lang.sample_prefixes(256, 30, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (256, 30)
    s = lang.scan(a)
    assert s["valid"].all()
    assert s["depth"].max() == lang.D                          # the walk reaches the bound


def test_to_string_and_errors():
    lang = Dyck(2, 2)
    assert lang.to_string([4, 0, 1, 3, 2]) == "^([])"
    with pytest.raises(ValueError):
        Dyck(0, 2)
    with pytest.raises(ValueError):
        lang.scan(torch.tensor([[0, 7]]))
    with pytest.raises(TypeError):
        lang.scan(torch.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError):
        lang.sample_prefixes(4, 5, p_open=1.5)
