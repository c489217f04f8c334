"""Tests of lmt_core.notebook: glue and explore, outside a live kernel."""

import numpy as np
import pytest
import torch

from lmt_core import notebook


@pytest.fixture(autouse=True)
def _static(monkeypatch):
    monkeypatch.setenv("LMT_STATIC", "1")


@pytest.mark.parametrize("value", [3, 0.25, "text", [1, 2]])
def test_glue_returns_its_value(value, capsys):
    assert notebook.glue("some_name", value) is value
    assert capsys.readouterr().out == ""  # nothing is displayed


@pytest.mark.parametrize("name", ["", None, 3])
def test_glue_bad_name(name):
    with pytest.raises(ValueError, match="name"):
        notebook.glue(name, 1)


def test_explore_calls_fn_once_with_defaults():
    calls = []
    notebook.explore(lambda **kw: calls.append(kw), width=(64, (16, 256)), lr=(0.1, (0.01, 1.0, 0.01)),
                     act=("relu", ["relu", "tanh"]))
    assert calls == [{"width": 64, "lr": 0.1, "act": "relu"}]


def test_explore_without_controls():
    calls = []
    notebook.explore(lambda: calls.append("drawn"))
    assert calls == ["drawn"]


def test_explore_static_even_if_ipywidgets_present(monkeypatch):
    pytest.importorskip("ipywidgets")
    import ipywidgets

    def boom(*a, **k):
        raise AssertionError("interact_manual must not be used in a static build")

    monkeypatch.setattr(ipywidgets, "interact_manual", boom)
    calls = []
    notebook.explore(lambda k: calls.append(k), k=(2, (1, 5)))
    assert calls == [2]


@pytest.mark.parametrize("spec", [5, (1,), (1, 2, 3), [1, (0, 2)]])
def test_explore_bad_controls(spec):
    calls = []
    with pytest.raises(ValueError, match="k"):
        notebook.explore(lambda **kw: calls.append(kw), k=spec)
    assert calls == []  # nothing drawn when a control is malformed


@pytest.mark.parametrize("value, want", [
    (np.float64(0.25), 0.25), (np.int64(3), 3), (np.array(1.5), 1.5), (torch.tensor(2.0), 2.0),
    (torch.tensor([7]), 7), ("text", "text"), ([1, 2], [1, 2]),
])
def test_glue_stores_plain_python_numbers(value, want):
    """myst-nb cannot apply a format spec to np.float64(...): glue hands it a Python number."""
    got = notebook.glue("x", value)
    assert got == want and type(got) is type(want)
