"""Tests of lmt_core.notebook: glue and explore, outside a live kernel."""

import numpy as np
import pytest
import torch

from lmt_core import notebook


@pytest.fixture(autouse=True)
def _static(monkeypatch):
    monkeypatch.setenv("LMT_STATIC", "1")


@pytest.mark.parametrize("value", [3, 0.25, "text", [1, 2]])
def test_glue_keeps_its_value_and_returns_nothing(value, capsys):
    # returns None: a cell ending in notebook.glue(...) must not echo a bare number
    assert notebook.glue("some_name", value) is None
    assert notebook.glued("some_name") is value
    assert capsys.readouterr().out == ""  # nothing is displayed


@pytest.mark.parametrize("name", ["", None, 3])
def test_glue_bad_name(name):
    with pytest.raises(ValueError, match="name"):
        notebook.glue(name, 1)


def test_explore_calls_fn_once_with_defaults():
    calls = []
    notebook.explore(
        lambda **kw: calls.append(kw),
        width=(64, (16, 256)),
        lr=(0.1, (0.01, 1.0, 0.01)),
        act=("relu", ["relu", "tanh"]),
    )
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


@pytest.mark.parametrize(
    "value, want",
    [
        (np.float64(0.25), 0.25),
        (np.int64(3), 3),
        (np.array(1.5), 1.5),
        (torch.tensor(2.0), 2.0),
        (torch.tensor([7]), 7),
        ("text", "text"),
        ([1, 2], [1, 2]),
    ],
)
def test_glue_stores_plain_python_numbers(value, want):
    """myst-nb cannot apply a format spec to np.float64(...): glue hands it a Python number."""
    notebook.glue("x", value)
    got = notebook.glued("x")
    assert got == want and type(got) is type(want)


# --- glued values for the student notebooks (colab/, tools/student_notebooks.py) ---------------


def test_glue_keeps_the_value_for_show_prose():
    notebook.glue("helper_rate", np.float64(0.125))
    assert notebook.glued("helper_rate") == 0.125
    with pytest.raises(KeyError):
        notebook.glued("helper_never_glued")


@pytest.mark.parametrize(
    "value, spec, want",
    [
        (0.123456, "", "0.123456"),
        (0.123456, ".2f", "0.12"),
        (3.0, "d", "3"),
        (12, ".1f", "12.0"),
        (0.25, ".0%", "25%"),
        ("abc", "", "abc"),
        ("abc", "s", "abc"),
        (np.float64(2.5), ".1f", "2.5"),
    ],
)
def test_format_glued_like_myst_nb(value, spec, want):
    assert notebook.format_glued(value, spec) == want


def test_fill_glued_and_show_prose(capsys):
    notebook.glue("helper_acc", 0.987654)
    notebook.glue("helper_n", 12)
    text = (
        "Accuracy {{helper_acc:.3f}} over {{helper_n}} runs; $\\{\\pm 1\\}^n$ and "
        "{{helper_missing}}."
    )
    filled = notebook.fill_glued(text)
    assert filled.startswith("Accuracy 0.988 over 12 runs; $\\{\\pm 1\\}^n$ and ")
    assert "helper_missing: run the cells above first" in filled
    notebook.show_prose(text)
    assert capsys.readouterr().out.strip() == filled  # printed outside a notebook front end
    with pytest.raises(TypeError, match="text"):
        notebook.fill_glued(3)


# --- explore in a live notebook: drawn at once, a labelled button or live redraws -------------


@pytest.fixture
def live_notebook(monkeypatch):
    """Pretend to be a live kernel; collect what explore displays."""
    ipywidgets = pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(notebook, "is_interactive", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, *a, **k: shown.append(obj))
    return ipywidgets, shown


def test_explore_draws_at_once_with_the_defaults_and_a_labelled_button(live_notebook):
    ipywidgets, shown = live_notebook
    calls = []
    notebook.explore(
        lambda **kw: calls.append(kw),
        width=(64, (16, 256)),
        lr=(0.1, (0.02, 0.5, 0.02)),
        act=("tanh", ["relu", "tanh"]),
    )
    assert calls == [{"width": 64, "lr": 0.1, "act": "tanh"}]  # the figure, before any click
    (panel,) = shown
    assert panel.manual_button.description == notebook.RERUN_LABEL == "Re-run with these settings"
    sliders = {w.description: w for w in panel.kwargs_widgets}
    assert sliders["width"].value == 64 and sliders["act"].value == "tanh"
    assert sliders["lr"].style.description_width == "initial"  # labels are not cut off
    sliders["lr"].value = 0.1 + 2 * 0.02  # 0.14000000000000001
    panel.manual_button.click()
    assert calls[-1]["lr"] == 0.14 and repr(calls[-1]["lr"]) == "0.14"
    assert len(calls) == 2


def test_explore_live_redraws_on_change(live_notebook):
    ipywidgets, shown = live_notebook
    calls = []
    notebook.explore(lambda k: calls.append(k), live=True, k=(2, (1, 5)))
    assert calls == [2]  # drawn once, at once
    (panel,) = shown
    assert not hasattr(panel, "manual_button")
    panel.kwargs_widgets[0].value = 4
    assert calls == [2, 4]


def test_explore_live_must_be_bool():
    with pytest.raises(TypeError, match="live"):
        notebook.explore(lambda: None, live="yes")
