"""Tests of lmt_core.models.recurrent: shapes, causality, state sizes, the SSM recurrence, learning."""

import pytest
import torch

from lmt_core import ensemble, tasks, train
from lmt_core.models.recurrent import LSTM, SSM, SelectiveSSM

V, T = 6, 8


def tokens(B=3, seed=0):
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    "make",
    [
        lambda **k: LSTM(V, d_hidden=12, **k),
        lambda **k: SSM(V, d_model=8, d_state=4, n_layers=2, **k),
    ],
)
@pytest.mark.parametrize("attention", [False, True])
def test_shapes_and_causality(make, attention):
    model = make(attention=attention)
    x = tokens()
    y = x.clone()
    y[:, 5:] = (y[:, 5:] + 1) % V
    with torch.no_grad():
        out_x, out_y = model(x), model(y)
    assert out_x.shape == (3, T, V)
    torch.testing.assert_close(out_x[:, :5], out_y[:, :5])
    assert not torch.allclose(out_x[:, 5:], out_y[:, 5:])


def test_state_sizes():
    assert LSTM(V, d_hidden=10, n_layers=3).state_size() == 60
    assert SSM(V, d_model=8, d_state=4, expand=2, n_layers=3).state_size() == 16 * 4 * 3


def test_selective_ssm_matches_its_recurrence():
    torch.manual_seed(0)
    layer = SelectiveSSM(3, 2)
    u = torch.randn(1, 4, 3)
    with torch.no_grad():
        y = layer(u)
        delta = torch.nn.functional.softplus(layer.to_delta(u))[0]
        A = -torch.exp(layer.A_log)
        Bt, Ct = layer.to_B(u)[0], layer.to_C(u)[0]
        h = torch.zeros(3, 2)
        for t in range(4):
            for c in range(3):
                for s in range(2):
                    h[c, s] = (
                        torch.exp(delta[t, c] * A[c, s]) * h[c, s]
                        + delta[t, c] * u[0, t, c] * Bt[t, s]
                    )
            want = (h * Ct[t]).sum(1) + layer.D * u[0, t]
            torch.testing.assert_close(y[0, t], want)


def test_seeded_initialisation_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = LSTM(V, seed=0), LSTM(V, seed=0), LSTM(V, seed=1)
    assert torch.equal(torch.rand(1), before)
    x = tokens()
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))
        assert not torch.allclose(a(x), c(x))


def test_ssm_ensemble_runs_under_vmap():
    ens = ensemble.stack([SSM(V, d_model=8, d_state=4, n_layers=1, seed=s) for s in range(2)])
    assert ens(tokens()).shape == (2, 3, T, V)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="d_hidden"):
        LSTM(V, d_hidden=0)
    with pytest.raises(ValueError, match="d_state"):
        SSM(V, d_state=0)
    with pytest.raises(TypeError, match="integer"):
        SSM(V, d_model=8)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        LSTM(V)(torch.zeros(3, dtype=torch.long))


def previous_token(step, gen, B=32):
    x = torch.randint(0, V, (B, T), generator=gen)
    y = torch.full_like(x, tasks.IGNORE_INDEX)
    y[:, 1:] = x[:, :-1]
    return x, y


@pytest.mark.parametrize(
    "make", [lambda: LSTM(V, d_hidden=32), lambda: SSM(V, d_model=16, d_state=4, n_layers=1)]
)
def test_learns_the_previous_token(make):
    torch.manual_seed(0)
    model = make()
    hist = train.fit(
        model,
        previous_token,
        steps=150,
        loss="cross_entropy",
        optimizer="adam",
        lr=1e-2,
        progress=False,
        eval_every=25,
    )
    assert hist["loss"][-1] < 0.2 * hist["loss"][0]
