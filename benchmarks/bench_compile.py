"""scalargrad.compile against hand-written float code: the targets of issue 13.

Run on demand (not part of the test suite)::

    python benchmarks/bench_compile.py              # default sizes, about a minute
    python benchmarks/bench_compile.py --quick      # small sizes, seconds
    python benchmarks/bench_compile.py --repeats 9 --dag-size 1e5 --points 1e6

The workloads are those of ``benchmarks/bench.py`` (imported from it, not copied):

A. one training step of the MLP 2→16→16→1 on 100 points (forward, mean squared error,
   backward, SGD update), compiled once from scalargrad's graph of the loss, against the
   hand-written float step (``PlainMLP.step``) and scalargrad's graph step. Two compiled
   variants: the batch as constants of the code (it is the same batch at every step),
   and the batch as inputs of the code (``compile(..., inputs=[*params, *data])``).
C. forward + backward of the seeded random DAG of N op nodes (default 10⁵), compiled
   once, against the hand-written float code (``dag_plain``) and the engine.

and, for the array form, the gradient of the notes' example ln(x1) + x1·x2 − sin(x2) at
10⁶ points: one NumPy call against the compiled float form called in a loop.

Everything is checked to agree before it is timed (compiled = engine bit for bit; =
hand-written floats to 1e-9; for C, ``compiled.source`` exec'd on its own = compiled, bit
for bit, and timed beside it: the compiled function is made from that very text). Times
are medians of ``--repeats`` samples, peers interleaved, with the garbage collector run
before each sample (not inside it, as ``bench.measure`` does for graph-building peers: see
:func:`measure`). "Calls to pay
off" is compile time / (engine time − compiled time): after that many calls, compiling
once has cost less than building the graph every time.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # the workloads of benchmarks/bench.py, reused

from scalargrad import Value, grad
from scalargrad.codegen import CompiledGradient, compile


def scalargrad_peer() -> bench.Peer:
    """scalargrad's peer of benchmarks/bench.py: leaves, ops, backward and SGD on Values."""
    return bench.load_peers(["scalargrad"])["scalargrad"]


def measure(
    fns: dict[str, Callable[[], object]], repeats: int, min_time: float = 0.05
) -> dict[str, bench.Timing]:
    """Median seconds per call of each function, the functions interleaved within each repeat.

    As ``bench.measure``, but the garbage collector runs *before* each sample rather than
    inside it: compiled code and hand-written floats make no cyclic garbage, and a forced
    full collection in the timed region would add the cost of walking every live object
    (here: the compiled programs and the graphs kept for comparison) to every sample.
    """
    loops = {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn()
        first = time.perf_counter() - start
        loops[name] = max(1, math.ceil(min_time / first)) if first < min_time else 1
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            n = loops[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: bench.Timing(statistics.median(s), samples=len(s)) for name, s in samples.items()}


def pay_off(compile_seconds: float, engine: float, compiled: float) -> str:
    """After how many calls compiling once is cheaper than the engine at every call."""
    saved = engine - compiled
    return f"{math.ceil(compile_seconds / saved):,} calls" if saved > 0 else "never (not faster)"


# --------------------------------------------------------------------------- #
# (A) MLP step                                                                #
# --------------------------------------------------------------------------- #


class CompiledMLP:
    """The MLP's loss compiled once; a step calls the code and updates the parameters."""

    def __init__(self, init: bench.Params, xs: list[list[float]], ys: list[float], data_inputs: bool) -> None:
        model = bench.GraphMLP(scalargrad_peer(), init)
        self.data: list[float] = []
        if data_inputs:  # the batch as inputs of the code, so another batch could be passed
            xv = [[Value(v) for v in x] for x in xs]
            yv = [Value(v) for v in ys]
            loss = model.loss(xv, yv)  # type: ignore[arg-type]
            leaves = [*(v for x in xv for v in x), *yv]
            self.compiled = compile(loss, model.params, inputs=[*model.params, *leaves])
            self.data = [v.data for v in leaves]
        else:  # the batch as constants of the code
            self.compiled = compile(model.loss(xs, ys), model.params)
        self.theta = [p.data for p in model.params]
        self.fn = self.compiled.function

    def loss_and_grads(self) -> tuple[float, list[float]]:
        value, grads = self.fn(*self.theta, *self.data)
        return value, grads

    def step(self) -> float:
        value, grads = self.fn(*self.theta, *self.data)
        lr = bench.LR
        self.theta = [p - lr * g for p, g in zip(self.theta, grads)]
        return float(value)


def bench_mlp(repeats: int, seed: int) -> list[str]:
    init = bench.mlp_init(seed)
    xs, ys = bench.mlp_data(seed)
    plain = bench.PlainMLP(init)
    ref_loss, ref_grads = plain.loss_and_grads(xs, ys)
    scale = max(abs(g) for g in ref_grads)
    engine = bench.GraphMLP(scalargrad_peer(), init)
    compiled = {"constants": CompiledMLP(init, xs, ys, False), "inputs": CompiledMLP(init, xs, ys, True)}
    for name, c in compiled.items():
        loss, grads = c.loss_and_grads()
        bench.close(loss, ref_loss, 0.0, f"A compiled ({name}) loss")
        for k, (g, r) in enumerate(zip(grads, ref_grads)):
            bench.close(g, r, scale, f"A compiled ({name}) grad {k}")
    # bit for bit against the engine's grad on the same graph
    graph_loss = engine.loss(xs, ys)
    assert compiled["constants"].loss_and_grads()[1] == grad(graph_loss, engine.params), (
        "A: not bit-identical"
    )
    # one step each, then the parameters agree
    check_plain, check_compiled = bench.PlainMLP(init), CompiledMLP(init, xs, ys, False)
    check_plain.step(xs, ys)
    check_compiled.step()
    after = bench.flat(
        (check_plain.w1, check_plain.b1, check_plain.w2, check_plain.b2, [check_plain.w3], [check_plain.b3])
    )
    for k, (a, b) in enumerate(zip(check_compiled.theta, after)):
        bench.close(a, b, 1.0, f"A param {k} after a step")
    nodes = compiled["constants"].compiled.nodes
    print(
        f"\n(A) agree: loss {ref_loss:.12g}, {len(ref_grads)} gradients, one SGD step; "
        f"graph of {nodes:,} nodes"
    )
    fns: dict[str, Callable[[], object]] = {
        "compiled (batch as constants)": compiled["constants"].step,
        "compiled (batch as inputs)": compiled["inputs"].step,
        "plain": partial(plain.step, xs, ys),
        "scalargrad (graph)": partial(engine.step, xs, ys),
    }
    t = measure(fns, repeats)
    base = t["plain"].seconds
    print("\n(A) MLP 2→16→16→1 training step, 100 points (forward + backward + SGD)")
    print(f"  {'':<31}{'median':>10}   ratio to hand-written floats")
    for name, timing in t.items():
        print(f"  {name:<31}{bench.fmt_time(timing):>10}   {timing.seconds / base:.2f}×")
    lines = []
    for name in ("compiled (batch as constants)", "compiled (batch as inputs)"):
        c = compiled["constants" if "constants" in name else "inputs"].compiled
        lines.append(bench.target(f"A {name} / plain", t[name].seconds / base, 1.2, at_least=False))
        print(
            f"  {name}: compiled in {c.compile_seconds:.2f} s; pays off against the graph step after "
            f"{pay_off(c.compile_seconds, t['scalargrad (graph)'].seconds, t[name].seconds)}"
        )
    return lines


# --------------------------------------------------------------------------- #
# (C) random DAG                                                              #
# --------------------------------------------------------------------------- #


def bench_dag(n: int, repeats: int, seed: int) -> list[str]:
    plan = bench.dag_plan(n, seed)
    values = bench.leaf_values(seed)
    peer = scalargrad_peer()
    leaves = [Value(v) for v in values]
    out = bench.dag_build(peer, plan, leaves)
    start = time.perf_counter()
    compiled: CompiledGradient = compile(out, leaves, max_nodes=max(4 * n, 200_000))
    seconds = time.perf_counter() - start
    fn = compiled.function
    ref = bench.dag_plain(plan, values)
    value, gradient = fn(*values)
    assert value == out.data and gradient == grad(out, leaves), "C: compiled != engine bit for bit"
    bench.close(value, ref[0], abs(ref[0]), "C value")
    for k, (a, b) in enumerate(zip(gradient, ref[1])):
        bench.close(a, b, max(abs(g) for g in ref[1]), f"C grad {k}")
    alone: dict[str, Any] = {}
    exec(compiled.source, alone)  # the source on its own, as a user would save it: the same code
    standalone = alone[fn.__name__]
    assert standalone(*values) == (value, gradient), "C: the source run on its own != compiled"
    lines_of_code = compiled.source.count("\n")
    print(
        f"\n(C) agree: DAG of {compiled.nodes:,} nodes (N = {n:,} ops); compiled in {seconds:.2f} s "
        f"to {lines_of_code:,} lines ({len(compiled.source) / 1e6:.1f} MB of source)"
    )
    fns: dict[str, Callable[[], object]] = {
        "compiled": partial(fn, *values),
        "compiled source, exec'd alone": partial(standalone, *values),
        "plain": partial(bench.dag_plain, plan, values),
        "scalargrad (graph)": partial(bench.dag_graph, peer, plan, values),
    }
    t = measure(fns, repeats)
    base = t["plain"].seconds
    print(f"\n(C) random DAG, N = {n:,} ops, forward + backward")
    print(f"  {'':<31}{'median':>10}   ratio to hand-written floats")
    for name, timing in t.items():
        print(f"  {name:<31}{bench.fmt_time(timing):>10}   {timing.seconds / base:.2f}×")
    print(
        f"  compiling pays off against the graph after "
        f"{pay_off(seconds, t['scalargrad (graph)'].seconds, t['compiled'].seconds)}"
    )
    return [
        bench.target(
            f"C compiled / plain (N = {bench.short(n)})", t["compiled"].seconds / base, 1.2, at_least=False
        ),
        bench.target(f"C compile time for N = {bench.short(n)} (s)", seconds, 5.0, at_least=False),
    ]


# --------------------------------------------------------------------------- #
# NumPy form                                                                  #
# --------------------------------------------------------------------------- #


def bench_numpy(points: int, repeats: int, seed: int) -> list[str]:
    import numpy as np

    from scalargrad import log, sin

    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = log(x1) + x1 * x2 - sin(x2)
    g = compile(y, [x1, x2])
    array_form = g.vectorized("numpy")
    threaded = g.vectorized("numpy", threads=2)
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 4.0, points), rng.uniform(-5.0, 5.0, points)
    value, (ga, gb) = array_form(a, b)
    for i in range(0, points, max(1, points // 50)):
        v, (da, db) = g(float(a[i]), float(b[i]))
        assert math.isclose(value[i], v, rel_tol=1e-12) and math.isclose(ga[i], da, rel_tol=1e-12)
        assert math.isclose(gb[i], db, rel_tol=1e-11, abs_tol=1e-12)
    al, bl = a.tolist(), b.tolist()
    fn = g.function

    def loop_arrays() -> None:  # what a user writes: the compiled float form over the arrays
        for u, v in zip(a, b):
            g(u, v)

    def loop_floats() -> None:  # the same over Python floats
        for u, v in zip(al, bl):
            g(u, v)

    def loop_raw() -> None:  # the generated function itself, no argument checks
        for u, v in zip(al, bl):
            fn(u, v)

    fns: dict[str, Callable[[], object]] = {
        "NumPy form, one call": partial(array_form, a, b),
        "NumPy form, 2 threads": partial(threaded, a, b),
        "float form in a loop (arrays)": loop_arrays,
        "float form in a loop (floats)": loop_floats,
        "generated function in a loop": loop_raw,
    }
    try:
        import torch

        torch.set_num_threads(1)
        tf = g.vectorized("torch")
        ta, tb = torch.tensor(a), torch.tensor(b)
        fns["torch form, one call (1 thread)"] = partial(tf, ta, tb)
    except ImportError:
        print("torch: not installed, its array form is not timed")
    t = measure(fns, repeats, min_time=0.0)
    base = t["NumPy form, one call"].seconds
    print(f"\nNumPy form: gradient of ln(x1) + x1*x2 - sin(x2) at {points:,} points")
    print(f"  {'':<34}{'median':>10}   time / NumPy form")
    for name, timing in t.items():
        print(f"  {name:<34}{bench.fmt_time(timing):>10}   {timing.seconds / base:.1f}×")
    sin_time = measure({"sin": partial(np.sin, b)}, repeats, min_time=0.0)["sin"].seconds
    print(
        f"  (NumPy's float64 sin alone takes {bench.fmt_time(bench.Timing(sin_time))} here; the code "
        "computes sin and cos of x2)"
    )
    loop = t["float form in a loop (arrays)"].seconds
    return [
        bench.target("NumPy form vs the float form in a loop over the arrays", loop / base, 100.0),
        bench.target(
            "NumPy form vs the float form in a loop over floats",
            t["float form in a loop (floats)"].seconds / base,
            100.0,
        ),
    ]


def _size(text: str) -> int:
    return int(float(text))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dag-size", type=_size, default=100_000)
    parser.add_argument("--points", type=_size, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    parser.add_argument("--workloads", default="A,C,N", help="any of A, C, N (the NumPy form)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.dag_size, args.points = 3, 10_000, 100_000
    import platform

    print(
        f"scalargrad.compile benchmarks: Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, repeats {args.repeats}"
    )
    lines: list[str] = []
    chosen = {w.strip().upper() for w in args.workloads.split(",")}
    if "A" in chosen:
        lines += bench_mlp(args.repeats, args.seed)
    if "C" in chosen:
        lines += bench_dag(args.dag_size, args.repeats, args.seed)
    if "N" in chosen:
        lines += bench_numpy(args.points, args.repeats, args.seed)
    print("\nSummary")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
