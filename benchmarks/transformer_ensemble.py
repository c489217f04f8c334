"""Benchmark: a seed sweep of small transformers trained three ways — loop, vmap, stacked.

The sweep: E members (16 and 32) of a decoder-only ``models.Transformer`` at two sizes,

* ``small``:  width 32, one layer, one head (MLP width 128);
* ``medium``: width 64, two layers, two heads (MLP width 256);

learned positions, vocabulary 16, on a previous-token task (target at position t is the token at
t − 1; position 0 is not scored), batches of 32 sequences of length 24, Adam (lr 1e-3), a fixed
number of steps. Every method sees the same batches (drawn once, before timing) and starts from
the same initial weights (``Transformer(seed=e)``):

1. ``loop``    — a Python loop over the E models, each with its own ``torch.optim.Adam``;
2. ``vmap``    — ``ensemble.FunctionalEnsemble`` (``torch.func.functional_call`` under
   ``torch.vmap``) + ``train.fit``: what ``ensemble.stack`` chose for transformers before;
3. ``stacked`` — ``ensemble.stack`` (a ``StackedTransformer``) + ``train.fit``.

The three methods are timed back to back in one process, repetition by repetition (so that a busy
moment on a shared machine hits all of them); the median of ``--repeats`` is reported, after one
untimed warm-up run per method. Printed per configuration: the wall-clock times and their ratios,
the ratios of the process CPU times (``time.process_time``; with one thread, a measure of the work
that a busy shared machine disturbs less than the wall clock), the stacked
path's achieved FLOP/s as a fraction of a large (1024 × 1024) float32 matmul measured in the same
process with the same threads, and the largest deviation of a member's final held-out loss from
the loop's. The whole table is printed for each ``--threads`` value (default 1 and 2).

FLOP count per member and step (forward; forward + backward counted as 3×): with N = B·T
positions, every linear map d_in → d_out costs 2·N·d_in·d_out (query/key/value, output, the two
MLP maps, the read-out), and attention 2 · 2·B·H·T²·D (scores and the weighted sum; the masked
half is computed too). The embedding, LayerNorms, activations, softmax and the optimiser are not
counted (they are part of why the fraction is below one).

Usage::

    python benchmarks/transformer_ensemble.py                   # 1 and 2 threads, ~3-4 minutes
    python benchmarks/transformer_ensemble.py --threads 1 --repeats 5 --steps 20
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from lmt_core import ensemble, models, runtime, train  # noqa: E402

V, B, T, LR = 16, 32, 24, 1e-3
SIZES = {
    "small": dict(d_model=32, n_layers=1, n_heads=1),
    "medium": dict(d_model=64, n_layers=2, n_heads=2),
}


def make_data(
    steps: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training batches ``(steps, B, T)`` and a held-out set ``(256, T)``, tokens and targets."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, V, (steps + 1, max(B, 256), T), generator=g)
    y = x.roll(1, dims=-1)
    y[..., 0] = train.IGNORE_INDEX
    return x[:steps, :B], y[:steps, :B], x[steps], y[steps]


def flops_per_step(size: dict, members: int) -> float:
    """Matmul FLOPs of one training step of ``members`` transformers (forward + backward)."""
    d, L, H = size["d_model"], size["n_layers"], size["n_heads"]
    D, m, N = d // H, 4 * d, B * T
    per_layer = 2 * N * (d * 3 * H * D + H * D * d + 2 * d * m) + 2 * 2 * B * H * T * T * D
    return 3.0 * members * (L * per_layer + 2 * N * d * V)


def matmul_flops(n: int = 1024, reps: int = 5) -> float:
    """FLOP/s of an n × n float32 matmul with the current threads (best of ``reps``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def run_loop(inits: list[nn.Module], data: tuple) -> list[nn.Module]:
    """E models, each with its own Adam, in a Python loop (what a reader writes first)."""
    ms = [copy.deepcopy(m) for m in inits]
    opts = [torch.optim.Adam(m.parameters(), lr=LR) for m in ms]
    xs, ys = data[0], data[1]
    for t in range(len(xs)):
        for m, opt in zip(ms, opts):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(xs[t]).reshape(-1, V), ys[t].reshape(-1))
            loss.backward()
            opt.step()
    return ms


def run_engine(kind: str, inits: list[nn.Module], data: tuple) -> ensemble.Ensemble:
    """``train.fit`` on a FunctionalEnsemble (``vmap``) or on ``ensemble.stack`` (``stacked``)."""
    ms = [copy.deepcopy(m) for m in inits]
    ens = ensemble.FunctionalEnsemble(ms) if kind == "vmap" else ensemble.stack(ms)
    if kind == "stacked" and not isinstance(ens, ensemble.StackedTransformer):
        raise RuntimeError("ensemble.stack did not choose the stacked transformer path")
    xs, ys = data[0], data[1]
    train.fit(
        ens,
        lambda t, g: (xs[t], ys[t]),
        steps=len(xs),
        loss="cross_entropy",
        optimizer="adam",
        lr=LR,
        progress=False,
    )
    return ens


def final_losses(kind: str, result: object, data: tuple) -> torch.Tensor:
    """Each member's held-out cross-entropy ``(E,)``."""
    xt, yt = data[2], data[3]
    with torch.no_grad():
        if kind == "loop":
            out = torch.stack([m(xt) for m in result])  # type: ignore[attr-defined]
        else:
            out = result(xt)  # type: ignore[operator]
        return train.member_losses(out, yt, "cross_entropy")


def bench(size_name: str, members: int, steps: int, repeats: int) -> dict:
    size = SIZES[size_name]
    inits = [models.Transformer(V, max_len=T, seed=e, **size) for e in range(members)]
    data = make_data(steps)
    warm = make_data(2, seed=1)
    methods = {
        "loop": lambda: run_loop(inits, data),
        "vmap": lambda: run_engine("vmap", inits, data),
        "stacked": lambda: run_engine("stacked", inits, data),
    }
    run_loop(inits, warm), run_engine("vmap", inits, warm), run_engine("stacked", inits, warm)
    times: dict[str, list[float]] = {k: [] for k in methods}
    cpu: dict[str, list[float]] = {k: [] for k in methods}
    results: dict[str, object] = {}
    for _ in range(repeats):  # interleaved: a busy moment hits every method
        for k, f in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            results[k] = f()
            times[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    losses = {k: final_losses(k, r, data) for k, r in results.items()}
    init_loss = final_losses("loop", inits, data)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "size": size_name,
        "E": members,
        "time": med,
        "cpu": cpu_med,
        "flops": flops_per_step(size, members) * steps / med["stacked"],
        "dev": {k: float((losses[k] - losses["loop"]).abs().max()) for k in ("vmap", "stacked")},
        "moved": float((losses["loop"] - init_loss).abs().min()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=8, help="training steps per run")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per method (median)")
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument("--members", default="16,32", help="comma-separated ensemble sizes")
    ap.add_argument("--tol", type=float, default=1e-4, help="allowed final-loss deviation")
    args = ap.parse_args()
    runtime.retain_freed_memory()
    ok = True
    print(
        f"torch {torch.__version__}, vocab {V}, batch {B}, length {T}, Adam lr {LR}, "
        f"{args.steps} steps, median of {args.repeats}"
    )
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        ref = matmul_flops()
        print(f"\n{threads} thread(s): 1024² float32 matmul {ref / 1e9:.1f} GFLOP/s")
        print(
            f"{'size':7s} {'E':>3s} {'loop [s]':>9s} {'vmap [s]':>9s} {'stacked [s]':>11s} "
            f"{'vs loop':>8s} {'vs vmap':>8s} {'cpu vs loop':>11s} {'cpu vs vmap':>11s} "
            f"{'GFLOP/s':>8s} {'% matmul':>9s} {'|dev| vmap':>11s} {'|dev| stk':>10s}"
        )
        for size_name in SIZES:
            for members in [int(e) for e in args.members.split(",")]:
                r = bench(size_name, members, args.steps, args.repeats)
                ref = max(ref, matmul_flops())  # best reference over the run
                t, c = r["time"], r["cpu"]
                print(
                    f"{size_name:7s} {members:3d} {t['loop']:9.3f} {t['vmap']:9.3f} "
                    f"{t['stacked']:11.3f} {t['loop'] / t['stacked']:7.2f}x "
                    f"{t['vmap'] / t['stacked']:7.2f}x {c['loop'] / c['stacked']:10.2f}x "
                    f"{c['vmap'] / c['stacked']:10.2f}x {r['flops'] / 1e9:8.1f} "
                    f"{100 * r['flops'] / ref:8.1f}% {r['dev']['vmap']:11.1e} "
                    f"{r['dev']['stacked']:10.1e}",
                    flush=True,
                )
                ok &= max(r["dev"].values()) <= args.tol and r["moved"] > 10 * args.tol
        print(f"(reference matmul, best over the run: {ref / 1e9:.1f} GFLOP/s)")
    if not ok:
        print("FAILED: the final losses disagree (or the training did not move them)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
