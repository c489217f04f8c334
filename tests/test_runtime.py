"""Tests of lmt_core.runtime: scale, device, seeds, generators, static builds."""

import random

import numpy as np
import pytest
import torch

from lmt_core import runtime


@pytest.fixture(autouse=True)
def _keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("arg", ["quick", "full", "QUICK", "Full"])
def test_resolve_scale_from_argument(arg, monkeypatch):
    monkeypatch.setenv("LMT_SCALE", "full" if arg.lower() == "quick" else "quick")
    assert runtime.resolve_scale(arg) == arg.lower()  # the argument wins over the environment


@pytest.mark.parametrize("env", ["quick", "full", " Full ", "QUICK"])
def test_resolve_scale_from_env(env, monkeypatch):
    monkeypatch.setenv("LMT_SCALE", env)
    assert runtime.resolve_scale() == env.strip().lower()


def test_resolve_scale_default_depends_on_cuda(monkeypatch):
    monkeypatch.delenv("LMT_SCALE", raising=False)
    assert runtime.resolve_scale() == ("full" if torch.cuda.is_available() else "quick")
    monkeypatch.setenv("LMT_SCALE", "")  # empty counts as unset
    assert runtime.resolve_scale() == ("full" if torch.cuda.is_available() else "quick")


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
    monkeypatch.setenv("LMT_SCALE", "quick")
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
    assert torch.equal(torch.rand(8, generator=cfg.generator(9)), torch.rand(8, generator=cfg.generator(9)))
    assert not torch.equal(torch.rand(8, generator=cfg.generator(9)), torch.rand(8, generator=cfg.generator(10)))
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
