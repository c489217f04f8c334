"""Benchmark: a seed sweep trained three ways — a Python loop, torch.func (vmap), and lmt_core.

The sweep: E members of a width-128 two-layer ReLU MLP on an (n=50, k=3) sparse parity, online SGD
(batch 32, hinge loss, plain SGD), a fixed number of steps. Every method sees the same shared
batches (drawn once, before timing) and starts from the same initial weights (``MLP(seed=e)``):

1. ``loop``   — a Python loop over E ``models.MLP``, each with its own ``torch.optim.SGD`` (what a
   reader writes first);
2. ``vmap``   — PyTorch's "model ensembling" recipe: ``torch.func.stack_module_state`` and
   ``vmap(grad_and_value(loss of functional_call))``, then a manual in-place SGD update;
3. ``engine`` — ``ensemble.stack`` + ``train.fit(progress=False)`` (what the book uses).

All three run in one process, set up as ``runtime.setup`` sets up a chapter on the CPU: the given
threads, and ``runtime.retain_freed_memory`` (glibc keeps freed buffers instead of trimming them
and faulting them in again every step; ``--malloc-default`` turns this off). Each method is warmed
up, then timed ``--repeats`` times (interleaved, best time reported, so that other processes on a
shared machine bias no method). Peak memory is
``torch.cuda.max_memory_allocated`` on CUDA. On CPU it is measured after the timing, in a separate
20-step pass per method: the growth of the process's peak resident set size (Linux ``VmHWM``,
reset through ``/proc/self/clear_refs``) while glibc serves every block of at least 4 KiB with its
own ``mmap`` and unmaps it when freed, so that the RSS follows the live tensors (≈ the peak memory
the run allocates beyond the models it was given). Without glibc or ``/proc`` it falls back to
``getrusage`` ``ru_maxrss`` growth (coarse).

FLOP count: per member and step, the forward pass does B·(n·d + d) multiply-adds (first layer
n·d, second layer d, per example), i.e. 2·B·(n·d + d) FLOPs; forward + backward is counted as
3× the forward. The engine's achieved FLOP/s is compared with the FLOP/s of a 2048×2048 float32
matmul measured in the same process with the same threads (best of several measurements spread
over the run, so that a busy moment does not lower the reference).

Usage::

    python benchmarks/ensemble_vs_loop.py                  # CPU, 32 members, 200 steps, 2 threads
    python benchmarks/ensemble_vs_loop.py --members 64 --steps 400
    python benchmarks/ensemble_vs_loop.py --device cuda    # 128 members by default on CUDA
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run from a checkout without installing

from lmt_core import ensemble, models, runtime, tasks, train  # noqa: E402

N, K, WIDTH, BATCH = 50, 3, 128, 32


# ---------------------------------------------------------------- measurement helpers


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _status_kib(field: str) -> int | None:
    """A field of /proc/self/status in KiB (Linux), else None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmHWM") is not None
    except OSError:
        return False


def _map_every_buffer() -> bool:
    """Make glibc serve every block of >= 4 KiB with its own mmap and unmap it when freed.

    Then the resident set follows the live tensors: the growth of the peak RSS during a run is
    (close to) the peak memory the run allocated. Slow, so only for the untimed memory pass.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(-3, 4096) and libc.mallopt(-1, 4096)  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        libc.malloc_trim(0)
        return bool(ok)
    except (OSError, AttributeError):
        return False


class CudaPeak:
    """Peak CUDA memory allocated during a block, above what was allocated before it."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.peak_bytes = device, 0

    def __enter__(self) -> "CudaPeak":
        if self.device.type == "cuda":
            sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            sync(self.device)
            self.peak_bytes = max(0, torch.cuda.max_memory_allocated(self.device) - self.base)


def cpu_peak_memory(fn, nets, data, lr) -> tuple[int, str]:
    """Peak memory growth of ``fn(nets, data, lr)`` on the CPU, and how it was measured."""
    if _reset_peak_rss():
        base = _status_kib("VmRSS") * 1024
        fn(nets, data, lr)
        return max(0, _status_kib("VmHWM") * 1024 - base), "peak RSS growth (VmHWM)"
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    fn(nets, data, lr)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return max(0, peak - base), "ru_maxrss growth (never reset: a lower bound)"


def matmul_flops(device: torch.device, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a size×size float32 matmul (best of ``repeats``)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    c = a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        c = a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    del c
    return 2 * size**3 / best


def hinge(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.relu(1 - y * out).mean(-1)


# ---------------------------------------------------------------- the three methods


def run_loop(nets: list[models.MLP], data: list, lr: float) -> list[models.MLP]:
    """(1) A Python loop over E models, each with its own torch.optim.SGD."""
    opts = [torch.optim.SGD(m.parameters(), lr=lr) for m in nets]
    for x, y in data:
        for m, opt in zip(nets, opts):
            loss = hinge(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return nets


def run_vmap(nets: list[models.MLP], data: list, lr: float) -> dict[str, torch.Tensor]:
    """(2) torch.func model ensembling: stack_module_state + vmap(grad(functional_call))."""
    params, buffers = torch.func.stack_module_state(nets)
    params = {k: v.detach() for k, v in params.items()}
    base = copy.deepcopy(nets[0]).to("meta")

    def loss_fn(p, b, x, y):
        return hinge(torch.func.functional_call(base, (p, b), (x,)), y)

    step = torch.vmap(torch.func.grad_and_value(loss_fn), in_dims=(0, 0, None, None))
    for x, y in data:
        grads, _ = step(params, buffers, x, y)
        with torch.no_grad():
            for k, g in grads.items():
                params[k].sub_(g, alpha=lr)
    return params


def run_engine(nets: list[models.MLP], data: list, lr: float) -> ensemble.Ensemble:
    """(3) lmt_core: ensemble.stack + train.fit."""
    ens = ensemble.stack(nets)
    train.fit(
        ens,
        lambda t, g: data[t],
        steps=len(data),
        loss="hinge",
        lr=lr,
        optimizer="sgd",
        eval_every=len(data),
        progress=False,
    )
    return ens


# ---------------------------------------------------------------- final losses (the check)


@torch.no_grad()
def final_losses(
    method: str, result, x: torch.Tensor, y: torch.Tensor, template: models.MLP
) -> torch.Tensor:
    """Hinge loss of every member on a held-out batch, shape (E,)."""
    if method == "loop":
        return torch.stack([hinge(m(x), y) for m in result])
    if method == "vmap":
        base = copy.deepcopy(template).to("meta")
        f = torch.vmap(lambda p, xx: torch.func.functional_call(base, p, (xx,)), in_dims=(0, None))
        return hinge(f(result, x), y)
    return hinge(result(x), y)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=None, help="E (default 32 on CPU, 128 on CUDA)")
    ap.add_argument("--steps", type=int, default=200, help="SGD steps (default 200)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    ap.add_argument(
        "--repeats", type=int, default=5, help="timed runs per method, best reported (default 5)"
    )
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--tol", type=float, default=1e-3, help="max allowed final-loss deviation")
    ap.add_argument(
        "--malloc-default",
        action="store_true",
        help="keep glibc's malloc defaults (by default the benchmark calls "
        "runtime.retain_freed_memory, as runtime.setup does on the CPU)",
    )
    args = ap.parse_args(argv)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: CUDA is not available")
    E = args.members if args.members is not None else (128 if device.type == "cuda" else 32)
    retained = False
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
        retained = False if args.malloc_default else runtime.retain_freed_memory()
    os.environ.setdefault("LMT_STATIC", "1")

    task = tasks.SparseParity.first(N, K)
    g = torch.Generator(device=device).manual_seed(0)
    warm = [task.sample(BATCH, generator=g) for _ in range(10)]
    data = [task.sample(BATCH, generator=g) for _ in range(args.steps)]
    x_test, y_test = task.sample(2048, generator=g)

    def fresh() -> list[models.MLP]:
        return [models.MLP(N, WIDTH, seed=e).to(device) for e in range(E)]

    methods = {"loop": run_loop, "vmap": run_vmap, "engine": run_engine}
    times: dict[str, list[float]] = {m: [] for m in methods}
    mem: dict[str, int] = {}
    results = {}
    template = fresh()[0]

    for name, fn in methods.items():  # warm-up: kernels, allocator, vmap/autograd caches
        fn(fresh(), warm, args.lr)
    peak = 0.0
    for r in range(args.repeats):
        peak = max(peak, matmul_flops(device, repeats=3))  # the reference, best over the whole run
        for name, fn in methods.items():
            nets = fresh()
            sync(device)
            with CudaPeak(device) as pm:
                t0 = time.perf_counter()
                res = fn(nets, data, args.lr)
                sync(device)
                times[name].append(time.perf_counter() - t0)
            mem[name] = max(mem.get(name, 0), pm.peak_bytes)
            if r == 0:
                results[name] = final_losses(name, res, x_test, y_test, template)

    peak = max(peak, matmul_flops(device))
    if device.type == "cuda":
        mem_how = (
            "torch.cuda.max_memory_allocated during the timed runs, above what was allocated before"
        )
    else:  # an untimed pass of 20 steps per method, every buffer >= 4 KiB mapped and unmapped
        mapped = _map_every_buffer()
        for name, fn in methods.items():
            mem[name], how = cpu_peak_memory(fn, fresh(), data[:20], args.lr)
        mem_how = f"CPU, a separate untimed 20-step pass: {how}" + (
            " with glibc serving every block >= 4 KiB by mmap (~ peak live tensors)"
            if mapped
            else " (allocator-dependent: coarse)"
        )
    flop = 3 * 2 * BATCH * (N * WIDTH + WIDTH) * E * args.steps
    best = {m: min(t) for m, t in times.items()}
    ref = results["loop"]
    dev = {m: (results[m] - ref).abs().max().item() for m in methods}
    max_dev = max(dev.values())

    print(
        f"ensemble_vs_loop: E={E} members, MLP n={N} d={WIDTH} (2 layers, ReLU), (n={N}, k={K}) sparse "
        f"parity, batch {BATCH}, hinge, SGD lr={args.lr}, {args.steps} steps"
    )
    print(
        f"device={device.type}"
        + (
            f", torch threads={torch.get_num_threads()}"
            if device.type == "cpu"
            else f" ({torch.cuda.get_device_name(device)})"
        )
        + f", torch {torch.__version__}, best of {args.repeats} (after warm-up)"
    )
    if hasattr(os, "getloadavg"):
        print(
            f"load average at the end: {os.getloadavg()[0]:.2f} (other processes distort CPU timings)"
        )
    if device.type == "cpu":
        print(
            "malloc: "
            + (
                "freed memory retained (runtime.retain_freed_memory, as runtime.setup does)"
                if retained
                else "glibc defaults (freed memory may be trimmed and faulted in again)"
            )
        )
    print(f"peak memory: {mem_how}")
    print(
        f"FLOPs: 3 x 2*B*(n*d + d) per member per step (forward + backward) = {flop / 1e9:.3f} GFLOP in all"
    )
    print(f"reference: {2048}x{2048} float32 matmul = {peak / 1e9:.1f} GFLOP/s")
    print(
        f"{'method':<8} {'time [s]':>9} {'median':>8} {'vs loop':>8} {'peak mem [MiB]':>15} {'GFLOP/s':>8} "
        f"{'% matmul':>9} {'final loss':>11} {'|dev| vs loop':>14}"
    )
    for m in methods:
        fl = flop / best[m]
        med = sorted(times[m])[len(times[m]) // 2]
        print(
            f"{m:<8} {best[m]:9.3f} {med:8.3f} {best['loop'] / best[m]:7.1f}x {mem[m] / 2**20:15.1f} "
            f"{fl / 1e9:8.2f} {100 * fl / peak:8.1f}% {results[m].mean().item():11.5f} {dev[m]:14.2e}"
        )
    ok = max_dev <= args.tol
    print(
        f"max final-loss deviation between methods: {max_dev:.2e} ({'OK' if ok else 'FAIL'}, tol {args.tol:g})"
    )
    summary = {
        "E": E,
        "steps": args.steps,
        "device": device.type,
        "loop_s": best["loop"],
        "vmap_s": best["vmap"],
        "engine_s": best["engine"],
        "speedup_vs_loop": best["loop"] / best["engine"],
        "speedup_vs_vmap": best["vmap"] / best["engine"],
        "engine_frac_matmul": flop / best["engine"] / peak,
        "max_dev": max_dev,
    }
    print(
        f"SUMMARY E={E} steps={args.steps} device={device.type}: loop {best['loop']:.3f} s, vmap "
        f"{best['vmap']:.3f} s, engine {best['engine']:.3f} s | engine {summary['speedup_vs_loop']:.1f}x loop, "
        f"{summary['speedup_vs_vmap']:.2f}x vmap, {100 * summary['engine_frac_matmul']:.1f}% of matmul "
        f"FLOP/s | max loss dev {max_dev:.1e}"
    )
    if not ok:
        raise SystemExit(1)
    return summary


if __name__ == "__main__":
    main()
