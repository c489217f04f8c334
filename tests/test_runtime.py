"""Tests of lmt_core.runtime: scale, device, seeds, generators, static builds."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from lmt_core import runtime


@pytest.fixture(autouse=True)
def _no_scale_from_the_environment(monkeypatch):
    """`make test` exports LMT_SCALE=quick, which would override every scale asked for here."""
    monkeypatch.delenv("LMT_SCALE", raising=False)


@pytest.fixture(autouse=True)
def _keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("arg", ["quick", "full", "QUICK", "Full"])
def test_resolve_scale_from_argument(arg, monkeypatch):
    monkeypatch.delenv("LMT_SCALE", raising=False)
    assert runtime.resolve_scale(arg) == arg.lower()


@pytest.mark.parametrize("arg", ["quick", "full"])
def test_environment_overrides_the_chapter_setting(arg, monkeypatch):
    other = "full" if arg == "quick" else "quick"
    monkeypatch.setenv("LMT_SCALE", other)
    assert runtime.resolve_scale(arg) == other  # builds and tests fix the scale of every chapter


@pytest.mark.parametrize("env", ["quick", "full", " Full ", "QUICK"])
def test_resolve_scale_from_env(env, monkeypatch):
    monkeypatch.setenv("LMT_SCALE", env)
    assert runtime.resolve_scale() == env.strip().lower()


def test_quick_is_the_default_with_or_without_cuda(monkeypatch):
    monkeypatch.delenv("LMT_SCALE", raising=False)
    assert runtime.resolve_scale() == "quick"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.resolve_scale() == "quick"
    monkeypatch.setenv("LMT_SCALE", "")  # empty counts as unset
    assert runtime.resolve_scale() == "quick"


@pytest.mark.parametrize("bad", ["fast", "medium", 3])
def test_bad_scale_argument_raises(bad, monkeypatch):
    monkeypatch.delenv("LMT_SCALE", raising=False)
    with pytest.raises(ValueError, match="scale"):
        runtime.resolve_scale(bad)


def test_bad_scale_env_raises(monkeypatch):
    monkeypatch.setenv("LMT_SCALE", "huge")
    with pytest.raises(ValueError, match="scale"):
        runtime.resolve_scale()
    with pytest.raises(ValueError, match="scale"):
        runtime.setup(0, verbose=False)


def test_setup_config_and_pick(monkeypatch):
    monkeypatch.delenv("LMT_SCALE", raising=False)
    cfg = runtime.setup(3, device="cpu", verbose=False)
    assert cfg.scale == "quick" and cfg.quick and cfg.seed == 3
    assert cfg.device == torch.device("cpu") and cfg.dtype == torch.float32
    assert cfg.pick(quick=10, full=1000) == 10
    assert "scale=quick" in str(cfg) and "seed=3" in str(cfg)
    full = runtime.setup(3, scale="full", device="cpu", verbose=False)
    assert not full.quick and full.pick(quick=10, full=1000) == 1000


def test_setup_prints_when_verbose(capsys):
    runtime.setup(0, scale="quick", device="cpu", verbose=True)
    assert "LMT runtime" in capsys.readouterr().out


def test_setup_seeds_every_rng():
    runtime.setup(11, scale="quick", device="cpu", verbose=False)
    a = (random.random(), np.random.rand(), torch.rand(3))
    runtime.setup(11, scale="quick", device="cpu", verbose=False)
    b = (random.random(), np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    runtime.setup(12, scale="quick", device="cpu", verbose=False)
    assert not torch.equal(torch.rand(3), a[2])


def test_setup_threads():
    runtime.setup(0, scale="quick", device="cpu", threads=1, verbose=False)
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="threads"):
        runtime.setup(0, scale="quick", device="cpu", threads=0, verbose=False)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_seed_validation(bad):
    with pytest.raises(ValueError, match="seed"):
        runtime.setup(bad, scale="quick", device="cpu", verbose=False)


def test_generator_determinism():
    cfg = runtime.setup(5, scale="quick", device="cpu", verbose=False)
    g1, g2 = cfg.generator(), cfg.generator()
    assert isinstance(g1, torch.Generator) and g1.device == cfg.device
    assert g1.initial_seed() == 5
    assert torch.equal(torch.rand(8, generator=g1), torch.rand(8, generator=g2))
    assert torch.equal(
        torch.rand(8, generator=cfg.generator(9)), torch.rand(8, generator=cfg.generator(9))
    )
    assert not torch.equal(
        torch.rand(8, generator=cfg.generator(9)), torch.rand(8, generator=cfg.generator(10))
    )
    # a generator is independent of the global RNG
    g = cfg.generator(1)
    torch.manual_seed(123)
    first = torch.rand(4, generator=g)
    torch.manual_seed(456)
    assert torch.equal(first, torch.rand(4, generator=cfg.generator(1)))


def test_resolve_device():
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    assert runtime.resolve_device(torch.device("cpu")).type == "cpu"
    assert runtime.resolve_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        runtime.resolve_device("not-a-device")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            runtime.resolve_device("cuda")


def test_is_interactive_false_when_static(monkeypatch):
    monkeypatch.setenv("LMT_STATIC", "1")
    assert runtime.is_interactive() is False


def test_is_interactive_false_outside_a_kernel(monkeypatch):
    monkeypatch.delenv("LMT_STATIC", raising=False)
    assert runtime.is_interactive() is False  # pytest is not an IPython kernel


def test_retain_freed_memory():
    import platform
    import sys

    applied = runtime.retain_freed_memory()
    assert isinstance(applied, bool)
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert applied  # mallopt accepted both settings
    assert runtime.retain_freed_memory() == applied  # idempotent


# ---------------------------------------------------------------- checkpoints, progress, cap


def test_checkpoint_is_none_in_quick_mode_and_under_the_root_in_full(monkeypatch, tmp_path):
    quick = runtime.setup(scale="quick", verbose=False)
    assert quick.checkpoint("ch01/main") is None
    full = runtime.setup(scale="full", device="cpu", verbose=False)
    monkeypatch.delenv("LMT_CHECKPOINTS", raising=False)
    assert full.checkpoint("ch01/main") == Path("checkpoints") / "ch01" / "main"
    monkeypatch.setenv("LMT_CHECKPOINTS", str(tmp_path))
    assert full.checkpoint("ch07/mul") == tmp_path / "ch07" / "mul"
    for bad in ["", "/abs", "../up"]:
        with pytest.raises(ValueError, match="name"):
            full.checkpoint(bad)


def test_max_steps_reads_the_environment(monkeypatch):
    monkeypatch.delenv("LMT_MAX_STEPS", raising=False)
    assert runtime.max_steps() is None
    monkeypatch.setenv("LMT_MAX_STEPS", "5")
    assert runtime.max_steps() == 5
    for bad in ["0", "-2", "abc"]:
        monkeypatch.setenv("LMT_MAX_STEPS", bad)
        with pytest.raises(ValueError, match="LMT_MAX_STEPS"):
            runtime.max_steps()


def test_progress_iterates_everything_and_caps(monkeypatch):
    monkeypatch.setenv("LMT_STATIC", "1")
    monkeypatch.delenv("LMT_MAX_STEPS", raising=False)
    assert list(runtime.progress(range(10), "all")) == list(range(10))
    assert list(runtime.progress(iter("abc"), "no length")) == ["a", "b", "c"]
    monkeypatch.setenv("LMT_MAX_STEPS", "3")
    assert list(runtime.progress(range(10), "capped", steps=True)) == [0, 1, 2]
    assert list(runtime.progress(range(2), "short", steps=True)) == [0, 1]
    # a sweep (sizes, seeds, settings) is never cut short: its results would change shape
    assert list(runtime.progress(range(10), "sweep")) == list(range(10))
    with pytest.raises(TypeError, match="steps"):
        runtime.progress(range(3), "x", steps=1)
    with pytest.raises(TypeError, match="desc"):
        runtime.progress(range(3), 5)


def test_progress_closes_an_early_stopped_bar_as_complete(monkeypatch):
    """A bar left below its total is drawn as failed (red) in a notebook: the total is lowered."""
    monkeypatch.delenv("LMT_MAX_STEPS", raising=False)
    monkeypatch.setattr(runtime, "is_interactive", lambda: True)  # a live bar, not a disabled one
    bar = runtime.progress(range(100), "early stop")
    for i in bar:
        if i == 9:
            break
    assert bar.bar.total == bar.bar.n <= 10 and bar.bar.disable  # closed, and not below total
    bar = runtime.progress(range(5), "to the end")
    assert list(bar) == list(range(5)) and bar.bar.n == bar.bar.total == 5 and not bar.bar.leave


def test_a_notebook_bar_leaves_no_widget_behind(monkeypatch):
    """In Jupyter the bar is a widget shown through a display handle; when the loop ends the
    handle's output is replaced, so a saved notebook does not refer to a widget that is gone."""
    pytest.importorskip("ipywidgets")
    import IPython.display
    import tqdm.auto
    import tqdm.notebook

    class Handle:
        def __init__(self, obj):
            self.shown, self.updates = obj, []

        def update(self, obj):
            self.updates.append(obj)

    handles = []

    def display(obj, display_id=False):
        handles.append(Handle(obj))
        return handles[-1]

    monkeypatch.delenv("LMT_MAX_STEPS", raising=False)
    monkeypatch.setattr(runtime, "is_interactive", lambda: True)
    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm.notebook.tqdm)
    monkeypatch.setattr(IPython.display, "display", display)
    for i in runtime.progress(range(50), "widget"):
        if i == 4:
            break
    assert len(handles) == 1 and handles[0].shown.__class__.__name__.endswith("HBox")
    assert [type(u).__name__ for u in handles[0].updates] == ["HTML"]
    assert handles[0].updates[0].data == ""
