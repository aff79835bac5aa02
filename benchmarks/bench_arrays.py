"""Arrays of Values (scalargrad.arrays): what exact scalar checking of tensor rules costs.

Run on demand (not part of the test suite)::

    python benchmarks/bench_arrays.py            # both measurements, 5 repeats, medians
    python benchmarks/bench_arrays.py --repeats 9 --size 64 --check-size 32

1. ``check_vjp`` of MatMul at ``check-size``×``check-size`` @ ``check-size``×``check-size``
   (issue 19's target: under 2 s), with one trial and with the default three.
2. The exact gradient of v = Σᵢⱼ tanh((XW)ᵢⱼ) for X, W of ``size``×``size`` (issue 19's
   target: at most 3.5× hand-written float loops): scalargrad builds the graph on object
   arrays (``scalargrad.array``, ``scalargrad.matmul``, ``np.tanh``) and takes
   ``grad(v, [X, W])``; the float code is the forward pass and the hand-derived backward pass
   (Z̄ = 1 − tanh², X̄ = Z̄Wᵀ, W̄ = XᵀZ̄) as Python loops over lists of floats. All are checked
   to agree first. NumPy's ``X @ W`` on the same object arrays (n products and n − 1 sums per
   entry, one scalar node each) and NumPy's float matmul are shown for scale.

What it measured (Python 3.11, 9 repeats, a quiet machine; see benchmarks/README.md):
check_vjp(MatMul) at 32×32 @ 32×32 0.08 s for one trial, 0.23 s for the default three
(target met). The 64×64 gradient: 76–82 ms (72–79 ms with the cyclic GC paused) against
30–31 ms for the float loops, 2.4–2.8× (target met). ``matmul`` makes one ``dot`` node per entry, 4096 nodes
of 128 parents each that share their row of X and column of W; NumPy's ``X @ W`` makes
5·10⁵ binary nodes and takes about a second, 26–32× the loops.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scalargrad import array, check_vjp, grad, matmul


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gc_paused(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` with the cyclic garbage collector paused (the graph has no cycles to collect)."""

    def run() -> Any:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


def scalargrad_gradient(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z = matmul(X, W): one dot node per entry."""
    X, W = array(x), array(w)
    v = np.tanh(matmul(X, W)).sum()
    gx, gw = grad(v, [X, W])
    return gx, gw


def scalargrad_binary_gradient(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z = X @ W: NumPy's object matmul, n products and n − 1 sums per entry."""
    X, W = array(x), array(w)
    v = np.tanh(X @ W).sum()
    gx, gw = grad(v, [X, W])
    return gx, gw


def loops_gradient(x: list[list[float]], w: list[list[float]]) -> tuple[list[list[float]], list[list[float]]]:
    """Forward and backward of v = Σ tanh(XW) as plain Python loops over floats."""
    m, n, p = len(x), len(w), len(w[0])
    tanh = math.tanh
    z_bar = []
    for i in range(m):
        xi = x[i]
        row = []
        for j in range(p):
            s = 0.0
            for k in range(n):
                s += xi[k] * w[k][j]
            t = tanh(s)
            row.append(1.0 - t * t)
        z_bar.append(row)
    x_bar = []
    for i in range(m):
        zi = z_bar[i]
        row = []
        for k in range(n):
            wk = w[k]
            s = 0.0
            for j in range(p):
                s += zi[j] * wk[j]
            row.append(s)
        x_bar.append(row)
    w_bar = []
    for k in range(n):
        row = []
        for j in range(p):
            s = 0.0
            for i in range(m):
                s += x[i][k] * z_bar[i][j]
            row.append(s)
        w_bar.append(row)
    return x_bar, w_bar


def numpy_gradient(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z_bar = 1.0 - np.tanh(x @ w) ** 2
    return z_bar @ w.T, x.T @ z_bar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--check-size", type=int, default=32)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    c = args.check_size
    print(f"1. check_vjp(MatMul) at {c}×{c} @ {c}×{c}  (target: under 2 s)")

    def matmul_check(trials: int) -> None:
        check_vjp(lambda a, b: a @ b, lambda g, a, b: (g @ b.T, a.T @ g), (c, c), (c, c), trials=trials)

    for trials in (1, 3):
        t = median_time(lambda trials=trials: matmul_check(trials), args.repeats)  # type: ignore[misc]
        print(f"   trials={trials}: {t:.2f} s")

    n = args.size
    x = rng.standard_normal((n, n)) / math.sqrt(n)
    w = rng.standard_normal((n, n))
    gx, gw = scalargrad_gradient(x, w)
    bx, bw = scalargrad_binary_gradient(x, w)
    lx, lw = loops_gradient(x.tolist(), w.tolist())
    nx, nw = numpy_gradient(x, w)
    for ax, aw in ((bx, bw), (lx, lw), (nx, nw)):
        assert np.allclose(gx, ax) and np.allclose(gw, aw)
    print(f"\n2. exact gradient of Σ tanh(XW), X and W {n}×{n}  (target: ≤ 3.5× the float loops)")
    xs, ws = x.tolist(), w.tolist()
    t_sg = median_time(lambda: scalargrad_gradient(x, w), args.repeats)
    t_sg_nogc = median_time(gc_paused(lambda: scalargrad_gradient(x, w)), args.repeats)
    t_loops = median_time(lambda: loops_gradient(xs, ws), args.repeats)
    t_np = median_time(lambda: numpy_gradient(x, w), args.repeats)
    t_binary = median_time(lambda: scalargrad_binary_gradient(x, w), max(1, args.repeats // 3))
    edges = 2 * n * n * n  # each of the n·n dot nodes has 2n parents
    shape = f"{n * n:,} dot nodes, {edges:,} edges"
    print(f"   scalargrad, matmul (one dot node per entry): {t_sg:.3f} s   ({shape})")
    print(f"   the same, cyclic GC paused:                  {t_sg_nogc:.3f} s")
    ratios = f"ratio {t_sg / t_loops:.1f}× ({t_sg_nogc / t_loops:.1f}× GC paused)"
    print(f"   hand-written float loops:                    {t_loops:.3f} s   {ratios}")
    binary_nodes = n * n * (2 * n - 1)
    print(
        f"   scalargrad, X @ W ({binary_nodes:,} binary nodes):   {t_binary:.3f} s   "
        f"ratio {t_binary / t_loops:.1f}× the loops"
    )
    print(f"   NumPy float arrays (for scale):              {t_np * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
