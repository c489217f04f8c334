"""Tests of lmt_core.models.transformer: shapes, masks, positional schemes, learning a tiny task."""

import pytest
import torch

from lmt_core import ensemble, tasks, train
from lmt_core.models import transformer
from lmt_core.models.transformer import Transformer, _rotate

V, T = 7, 9


def tokens(B=4, T=T, seed=0):
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("positional", transformer.POSITIONAL)
def test_shapes_and_attention_rows(positional):
    model = Transformer(V, d_model=16, n_layers=2, n_heads=2, positional=positional, max_len=16)
    logits, maps = model(tokens(), return_attention=True)
    assert logits.shape == (4, T, V)
    assert len(maps) == 2 and all(a.shape == (4, 2, T, T) for a in maps)
    for a in maps:
        torch.testing.assert_close(a.sum(-1), torch.ones(4, 2, T))
        assert torch.all(a.triu(diagonal=1) == 0), "causal: no attention to later positions"


@pytest.mark.parametrize("positional", transformer.POSITIONAL)
def test_future_tokens_do_not_change_past_logits(positional):
    model = Transformer(V, d_model=16, n_layers=2, n_heads=2, positional=positional, max_len=16)
    x = tokens()
    y = x.clone()
    y[:, 5:] = (y[:, 5:] + 1) % V
    with torch.no_grad():
        torch.testing.assert_close(model(x)[:, :5], model(y)[:, :5])
        assert not torch.allclose(model(x)[:, 5:], model(y)[:, 5:])


def test_bidirectional_attention_sees_the_future():
    model = Transformer(V, d_model=16, n_layers=1, causal=False)
    _, (a,) = model(tokens(), return_attention=True)
    assert a.triu(diagonal=1).sum() > 0


def test_hard_alibi_windows_restrict_attention():
    model = Transformer(
        V, d_model=12, n_layers=1, n_heads=3, positional="hard_alibi", windows=[None, 1, 3]
    )
    _, (a,) = model(tokens(), return_attention=True)
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    torch.testing.assert_close(a[:, 1], torch.eye(T).expand(4, T, T))  # window 1: only itself
    assert torch.all(a[:, 2][:, (i - j >= 3).expand(T, T)] == 0)
    assert torch.all(a[:, 2][:, ((i - j < 3) & (i >= j)).expand(T, T)] > 0)
    assert torch.all(a[:, 0][:, (i >= j).expand(T, T)] > 0)


def test_default_hard_alibi_windows():
    model = Transformer(V, d_model=16, n_layers=1, n_heads=4, positional="hard_alibi")
    assert model.blocks[0].attn.windows.tolist() == [0, 1, 2, 4]  # 0 = unlimited


def test_alibi_bias_is_linear_in_distance():
    model = Transformer(V, d_model=8, n_layers=1, n_heads=2, positional="alibi")
    bias = model.blocks[0].attn.score_bias(5, torch.device("cpu"))
    slopes = transformer.alibi_slopes(2)
    assert bias[0, 4, 1] == pytest.approx(-3 * slopes[0].item())
    assert bias[1, 2, 2] == 0 and bias[1, 1, 3] == float("-inf")


def test_rope_scores_depend_only_on_relative_position():
    model = Transformer(V, d_model=8, n_layers=1, positional="rope")
    cos, sin = model._rope(20, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(8, generator=g), torch.randn(8, generator=g)

    def score(i, j):
        return (_rotate(q, cos[i], sin[i]) * _rotate(k, cos[j], sin[j])).sum()

    torch.testing.assert_close(score(7, 3), score(15, 11))
    torch.testing.assert_close(score(3, 3), (q * k).sum())


def test_attention_only_model_has_no_mlp():
    model = Transformer(V, d_model=16, n_layers=2, mlp=False)
    assert all(b.mlp is None for b in model.blocks)
    assert not any("mlp" in name for name, _ in model.named_parameters())


def test_seeded_initialisation():
    a, b, c = (Transformer(V, d_model=16, seed=s) for s in (0, 0, 1))
    x = tokens()
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))
        assert not torch.allclose(a(x), c(x))


def test_prefix_embeddings_are_prepended():
    model = Transformer(V, d_model=16, n_layers=1, max_len=16)
    x = tokens()
    prefix = torch.randn(3, 16)
    out = model(x, prefix=prefix)
    assert out.shape == (4, 3 + T, V)
    with pytest.raises(ValueError, match="prefix"):
        model(x, prefix=torch.randn(3, 5))


def test_mlp_activation_is_hookable():
    model = Transformer(V, d_model=8, n_layers=1, d_mlp=10)
    seen = []
    model.blocks[0].mlp.act.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    model(tokens())
    assert seen == [torch.Size([4, T, 10])]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d_model=10, n_heads=3), "divisible"),
        (dict(positional="rotary"), "positional"),
        (dict(positional="rope", d_model=6, n_heads=2), "even d_head"),
        (dict(positional="hard_alibi", n_heads=2, windows=[1]), "one window per head"),
        (dict(windows=[1]), "only used with"),
        (dict(d_model=0), "d_model"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Transformer(V, **kwargs)


def test_bad_inputs():
    model = Transformer(V, d_model=8, n_layers=1, max_len=8)
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="max_len"):
        model(torch.zeros(2, 9, dtype=torch.long))


def previous_token_batches(step, gen, B=64):
    """Predict the previous token: y_t = x_{t-1}; position 0 is left out of the loss."""
    x = torch.randint(0, V, (B, T), generator=gen)
    y = torch.full_like(x, tasks.IGNORE_INDEX)
    y[:, 1:] = x[:, :-1]
    return x, y


def test_learns_previous_token_task_and_ignores_masked_targets():
    torch.manual_seed(0)
    model = Transformer(
        V, d_model=32, n_layers=1, n_heads=1, mlp=False, positional="learned", max_len=T
    )
    hist = train.fit(
        model,
        previous_token_batches,
        steps=300,
        loss="cross_entropy",
        optimizer="adam",
        lr=1e-2,
        progress=False,
        eval_every=50,
    )
    x, y = previous_token_batches(0, torch.Generator().manual_seed(1), B=256)
    with torch.no_grad():
        acc = (model(x).argmax(-1)[:, 1:] == y[:, 1:]).float().mean().item()
    assert hist["loss"][-1] < 0.3 * hist["loss"][0]
    assert acc > 0.95


def test_ensemble_of_transformers_trains_with_sequence_cross_entropy():
    models = [
        Transformer(V, d_model=16, n_layers=1, mlp=False, max_len=T, seed=s) for s in range(3)
    ]
    ens = ensemble.stack(models)
    x, y = previous_token_batches(0, torch.Generator().manual_seed(0))
    assert ens(x).shape == (3, 64, T, V)
    hist = train.fit(
        ens,
        previous_token_batches,
        steps=20,
        loss="cross_entropy",
        optimizer="adam",
        lr=1e-2,
        progress=False,
        eval_every=10,
    )
    assert hist["loss"].shape == (2, 3)
    assert torch.isfinite(torch.as_tensor(hist["loss"])).all()


def test_member_of_a_transformer_ensemble_matches_its_slice():
    """Non-persistent buffers (ALiBi slopes, windows) must not break FunctionalEnsemble.member."""
    models = [
        Transformer(V, d_model=16, n_layers=1, n_heads=2, positional="hard_alibi", seed=s)
        for s in range(3)
    ]
    ens = ensemble.stack(models)
    x = tokens()
    with torch.no_grad():
        torch.testing.assert_close(ens.member(1)(x), ens(x)[1])
        torch.testing.assert_close(ens.member(2)(x), models[2](x))
