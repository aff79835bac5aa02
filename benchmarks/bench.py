"""scalargrad against its peers: micrograd, PyTorch 0-d tensors and hand-written floats.

Run on demand (not part of the test suite)::

    python benchmarks/bench.py            # everything, default sizes (a few minutes)
    python benchmarks/bench.py --quick    # small sizes, seconds; works with scalargrad alone
    python benchmarks/bench.py --workloads A,C --repeats 7
    python benchmarks/bench.py --baseline /tmp/old   # also another checkout's scalargrad

Workloads, each built from the same Python code for every graph-building peer and
checked to agree numerically (assert) before anything is timed:

A. one training step of an MLP 2→16→16→1 (relu hidden, linear out) on 100 points:
   forward, mean squared error, backward and an SGD update;
B. forward + backward of a deep chain ``y = tanh(y * w)`` of N = 10³…10⁶ ops;
C. forward + backward of a seeded random DAG of N = 10⁴…10⁶ op nodes, each an
   add, mul, tanh or sin of earlier random nodes, all sinks summed into one output;
D. memory per graph node retained (tracemalloc) and the time to free a graph, each
   peer measured in a fresh subprocess;
E. forward + backward of a chain with plain numbers in the ops,
   ``y = tanh(y * 1.0001 + 0.1)`` repeated N = 10⁵ times (3 ops each).

``--baseline PATH`` adds the peer "baseline": the ``scalargrad`` package of another
checkout (PATH is its root, e.g. the previous commit checked out elsewhere), imported
under the module name ``scalargrad_baseline`` and run through every workload like
scalargrad itself, so that each table has the ratio baseline / scalargrad of the same
run, and the summary one line "scalargrad vs baseline" per workload (and size).

Times are medians of several repeats, peers interleaved within each repeat, with
the cyclic garbage collector left on as in ordinary use (``--gc-off`` disables it in
the timed region, as ``timeit`` does). Each sample ends with a ``gc.collect()`` inside
the timed region: freeing a graph is part of its cost, and micrograd's graphs (every
node a reference cycle through its closure) are freed only there. After the
peers are imported, ``gc.freeze()`` moves the objects of their imports (about 150,000
for torch) out of the collector's sight, so that each full collection costs what it
would in a process running that peer alone (``--no-freeze`` to skip). Ratios are peer
time / scalargrad time, measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

try:
    import scalargrad
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import scalargrad

Node = Any
"""A graph node of whichever peer is running (a Value or a 0-d tensor)."""

PEER_NAMES = ("scalargrad", "baseline", "micrograd", "torch", "plain", "floor", "floor-tape")
"""Every peer, in table order; "baseline" runs only with ``--baseline PATH``. The two
floors are not autodiff engines but lower bounds: :class:`FloorNode` and :class:`TapeHandle`."""
NO_GC = "scalargrad, GC off"
"""Extra row of (B) and (C): scalargrad with the cyclic GC disabled inside the timed call."""
GRAPH_PEERS = ("scalargrad", "baseline", "micrograd", "torch")
BASELINE_MODULE = "scalargrad_baseline"
"""Module name under which ``--baseline PATH`` imports that checkout's ``scalargrad``."""
LEAVES = 16  # inputs of the random DAG
LR = 0.05  # SGD step of workload A

# --------------------------------------------------------------------------- #
# Peers: how each library makes leaves, applies ops, backpropagates           #
# --------------------------------------------------------------------------- #


@dataclass
class Peer:
    """The handful of library calls the shared workload code needs."""

    name: str
    leaf: Callable[[float], Node]
    tanh: Callable[[Node], Node]
    sin: Callable[[Node], Node]
    relu: Callable[[Node], Node]
    backward: Callable[[Node], None]
    value: Callable[[Node], float]
    grad: Callable[[Node], float]
    sgd: Callable[[list[Node], float], None]


def _value_peer(name: str, value_cls: Any) -> Peer:
    """The peer of a scalargrad ``Value`` class: this checkout's or the baseline's."""

    def sgd(params: list[Node], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0.0

    return Peer(
        name=name,
        leaf=value_cls,
        tanh=value_cls.tanh,
        sin=value_cls.sin,
        relu=value_cls.relu,
        backward=value_cls.backward,
        value=lambda v: v.data,
        grad=lambda v: float(v.grad),
        sgd=sgd,
    )


def _scalargrad_peer() -> Peer:
    from scalargrad import Value

    return _value_peer("scalargrad", Value)


def load_baseline(path: str) -> ModuleType:
    """The ``scalargrad`` package of the checkout at ``path``, imported as ``scalargrad_baseline``.

    The module is registered in ``sys.modules`` before it runs, so that its relative
    imports (``from .engine import ...``) resolve inside it, not in this checkout's
    package. No bytecode is written into the baseline checkout.
    """
    if BASELINE_MODULE in sys.modules:
        return sys.modules[BASELINE_MODULE]
    package = os.path.join(os.path.abspath(path), "scalargrad")
    init = os.path.join(package, "__init__.py")
    spec = importlib.util.spec_from_file_location(BASELINE_MODULE, init, submodule_search_locations=[package])
    if not os.path.isfile(init) or spec is None or spec.loader is None:
        raise ImportError(f"no scalargrad package in {path} (looked for {init})")
    module = importlib.util.module_from_spec(spec)
    sys.modules[BASELINE_MODULE] = module
    write_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for name in [m for m in sys.modules if m.partition(".")[0] == BASELINE_MODULE]:
            del sys.modules[name]
        raise
    finally:
        sys.dont_write_bytecode = write_bytecode
    return module


def _baseline_peer(path: str) -> Peer:
    return _value_peer("baseline", load_baseline(path).Value)


def _micrograd_peer() -> Peer:
    from micrograd.engine import Value

    # micrograd 0.1.0 has relu but no tanh/sin: add them in its own style
    # (a closure per node, as its relu and as the tanh of the micrograd lecture).
    def tanh(self: Any) -> Any:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sin(self: Any) -> Any:
        out = Value(math.sin(self.data), (self,), "sin")

        def _backward() -> None:
            self.grad += math.cos(self.data) * out.grad

        out._backward = _backward
        return out

    Value.tanh = tanh  # type: ignore[attr-defined]
    Value.sin = sin  # type: ignore[attr-defined]

    def sgd(params: list[Node], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0

    return Peer(
        name="micrograd",
        leaf=Value,
        tanh=tanh,
        sin=sin,
        relu=Value.relu,
        backward=Value.backward,
        value=lambda v: float(v.data),
        grad=lambda v: float(v.grad),
        sgd=sgd,
    )


def _torch_peer() -> Peer:
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import torch

    torch.set_num_threads(1)  # scalar ops cannot use threads; keep the 2 cores quiet

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def backward(v: Any) -> None:
        v.backward()

    def grad(v: Any) -> float:
        return 0.0 if v.grad is None else float(v.grad.item())

    def sgd(params: list[Node], lr: float) -> None:
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-lr)
                p.grad = None

    return Peer(
        name="torch",
        leaf=leaf,
        tanh=torch.tanh,
        sin=torch.sin,
        relu=torch.relu,
        backward=backward,
        value=lambda v: float(v.item()),
        grad=grad,
        sgd=sgd,
    )


class FloorNode:
    """The cheapest graph node pure Python allows: its value and its two parents, nothing else.

    Not an autodiff engine: it stores no local derivative and its backward does nothing.
    Building and freeing a graph of these is a lower bound for any engine whose nodes
    are Python objects, since each op still pays an operator dispatch, an object
    allocation, the cyclic GC walking the growing graph, and freeing it. The row
    "floor" of (A), (C) and (E) measures that bound in the same run as the others.
    """

    __slots__ = ("_a", "_b", "data")

    _a: FloorNode | None
    _b: FloorNode | None

    def __init__(self, data: float) -> None:
        self.data = data
        self._a = self._b = None

    def __add__(self, other: Any) -> FloorNode:
        v = _new_floor(FloorNode)
        if type(other) is FloorNode:
            v.data, v._a, v._b = self.data + other.data, self, other
        else:
            v.data, v._a, v._b = self.data + other, self, None
        return v

    def __sub__(self, other: Any) -> FloorNode:
        v = _new_floor(FloorNode)
        if type(other) is FloorNode:
            v.data, v._a, v._b = self.data - other.data, self, other
        else:
            v.data, v._a, v._b = self.data - other, self, None
        return v

    def __mul__(self, other: Any) -> FloorNode:
        v = _new_floor(FloorNode)
        if type(other) is FloorNode:
            v.data, v._a, v._b = self.data * other.data, self, other
        else:
            v.data, v._a, v._b = self.data * other, self, None
        return v

    def relu(self) -> FloorNode:
        v = _new_floor(FloorNode)
        d = self.data
        v.data, v._a, v._b = (d if d > 0.0 else 0.0), self, None
        return v

    def tanh(self) -> FloorNode:
        v = _new_floor(FloorNode)
        v.data, v._a, v._b = math.tanh(self.data), self, None
        return v

    def sin(self) -> FloorNode:
        v = _new_floor(FloorNode)
        v.data, v._a, v._b = math.sin(self.data), self, None
        return v


_new_floor = object.__new__


class TapeHandle:
    """The cheapest op-by-op recording without a graph of nodes: a tape, as a Wengert list.

    Each op returns a handle (its value and its index) and appends its operands'
    indices to a list; handles of intermediate results die young, so the cyclic GC
    never walks them twice. No derivative is stored and nothing is walked back. It
    bounds engines that record a tape instead of linking nodes (not scalargrad's
    design, whose walks all start from a Value's parents).
    """

    __slots__ = ("data", "i")

    def __init__(self, data: float) -> None:
        self.data = data
        self.i = -1

    def __add__(self, other: Any) -> TapeHandle:
        v = _new_floor(TapeHandle)
        if type(other) is TapeHandle:
            _record((self.i, other.i))
            v.data = self.data + other.data
        else:
            _record((self.i, -1))
            v.data = self.data + other
        v.i = len(_TAPE)
        return v

    def __sub__(self, other: Any) -> TapeHandle:
        v = _new_floor(TapeHandle)
        if type(other) is TapeHandle:
            _record((self.i, other.i))
            v.data = self.data - other.data
        else:
            _record((self.i, -1))
            v.data = self.data - other
        v.i = len(_TAPE)
        return v

    def __mul__(self, other: Any) -> TapeHandle:
        v = _new_floor(TapeHandle)
        if type(other) is TapeHandle:
            _record((self.i, other.i))
            v.data = self.data * other.data
        else:
            _record((self.i, -1))
            v.data = self.data * other
        v.i = len(_TAPE)
        return v

    def relu(self) -> TapeHandle:
        v = _new_floor(TapeHandle)
        _record((self.i, -1))
        d = self.data
        v.data = d if d > 0.0 else 0.0
        v.i = len(_TAPE)
        return v

    def tanh(self) -> TapeHandle:
        v = _new_floor(TapeHandle)
        _record((self.i, -1))
        v.data = math.tanh(self.data)
        v.i = len(_TAPE)
        return v

    def sin(self) -> TapeHandle:
        v = _new_floor(TapeHandle)
        _record((self.i, -1))
        v.data = math.sin(self.data)
        v.i = len(_TAPE)
        return v


_TAPE: list[tuple[int, int]] = []
_record = _TAPE.append


def _floor_peer(name: str, node: Any, backward: Callable[[Node], None]) -> Peer:
    return Peer(
        name=name,
        leaf=node,
        tanh=node.tanh,
        sin=node.sin,
        relu=node.relu,
        backward=backward,
        value=lambda v: v.data,
        grad=lambda v: math.nan,
        sgd=lambda params, lr: None,
    )


FLOORS = {
    "floor": _floor_peer("floor", FloorNode, lambda v: None),
    "floor-tape": _floor_peer("floor-tape", TapeHandle, lambda v: _TAPE.clear()),
}
"""The two lower bounds: build (and free) the forward record, compute no derivative."""


def floor_lines(label: str, timings: dict[str, Timing], bound: float) -> list[str]:
    """The lines "floor/plain": the lowest ratio a pure-Python recording reaches on this workload."""
    lines = []
    p = timings.get("plain")
    for name in FLOORS:
        f = timings.get(name)
        if f is None or p is None or f.error or p.error:
            continue
        ratio = f.seconds / p.seconds
        line = (
            f"  {label} ({name})/plain: {ratio:.2f} (the forward recorded and freed, no derivative;"
            f" the target ≤ {bound:g} leaves {bound - ratio:.2f} for the derivatives)"
        )
        print(line)
        lines.append(line)
    return lines


_LOADERS: dict[str, Callable[[], Peer]] = {
    "scalargrad": _scalargrad_peer,
    "micrograd": _micrograd_peer,
    "torch": _torch_peer,
}


def load_peers(names: Sequence[str], baseline: str | None = None) -> dict[str, Peer]:
    """The requested graph-building peers that are installed; say which are skipped.

    "baseline" is loaded from the checkout at ``baseline``; failing to load it is an error.
    """
    peers: dict[str, Peer] = {}
    for name in names:
        if name == "baseline":
            if baseline is None:
                raise ValueError("the baseline peer needs --baseline PATH")
            peers[name] = _baseline_peer(baseline)
            continue
        if name not in _LOADERS:
            continue
        try:
            peers[name] = _LOADERS[name]()
        except ImportError:
            print(f"{name}: skipped: not installed")
    return peers


# --------------------------------------------------------------------------- #
# Timing                                                                      #
# --------------------------------------------------------------------------- #


@dataclass
class Timing:
    """Median seconds per call, or why the peer could not run."""

    seconds: float = math.nan
    error: str = ""
    samples: int = 0


GC_OFF = False
"""Disable the cyclic garbage collector while timing (``--gc-off``)."""


def measure(fns: dict[str, Callable[[], object]], repeats: int, min_time: float = 0.05) -> dict[str, Timing]:
    """Median time per call of each function, peers interleaved within each repeat.

    Each sample loops a function enough times to last ``min_time`` seconds; a
    function that raises (micrograd's RecursionError) is reported, not timed.
    """
    if GC_OFF:
        gc.disable()
    try:
        return _measure(fns, repeats, min_time)
    finally:
        gc.enable()


def _measure(fns: dict[str, Callable[[], object]], repeats: int, min_time: float) -> dict[str, Timing]:
    results: dict[str, Timing] = {}
    loops: dict[str, int] = {}
    for name, fn in fns.items():
        gc.collect()
        try:
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
        except (RecursionError, MemoryError) as e:
            results[name] = Timing(error=type(e).__name__)
            continue
        loops[name] = max(1, math.ceil(min_time / first)) if first < min_time else 1
    samples: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeats):
        for name, n in loops.items():
            fn = fns[name]
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            if not GC_OFF:
                gc.collect()  # freeing the graphs is part of the cost: micrograd's cycles go only here
            samples[name].append((time.perf_counter() - t0) / n)
    for name in fns:
        if name in samples:
            results[name] = Timing(statistics.median(samples[name]), samples=len(samples[name]))
    return results


def without_gc(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with the cyclic garbage collector disabled (our graphs need none)."""

    def run() -> object:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn()
        finally:
            if enabled:
                gc.enable()

    return run


def fmt_time(t: Timing) -> str:
    """Seconds with three significant digits, or the error."""
    if t.error:
        return t.error
    s = t.seconds
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def print_table(title: str, timings: dict[str, Timing], note: dict[str, str] | None = None) -> None:
    """One row per peer: median, and ratio to scalargrad."""
    print(f"\n{title}")
    base = timings.get("scalargrad")
    print(f"  {'peer':<19}{'median':>10}   ratio to scalargrad")
    for name in [*PEER_NAMES, *(k for k in timings if k not in PEER_NAMES)]:
        if name not in timings:
            continue
        t = timings[name]
        ratio = ""
        if base and not base.error and not t.error and name != "scalargrad":
            r = t.seconds / base.seconds
            if name == NO_GC:
                ratio = f"{r:.2f}× (the cyclic GC makes scalargrad {1 / r:.2f}× slower)"
            elif r >= 1:
                ratio = f"{r:.2f}× (scalargrad {r:.1f}× faster)"
            else:
                ratio = f"{r:.2f}× (scalargrad {1 / r:.2f}× slower)"
        extra = f"  [{note[name]}]" if note and name in note else ""
        print(f"  {name:<19}{fmt_time(t):>10}   {ratio}{extra}")


def target(label: str, ratio: float, bound: float, at_least: bool = True) -> str:
    """A target line: the measured ratio against its bound, MET or MISSED."""
    ok = ratio >= bound if at_least else ratio <= bound
    rel = "≥" if at_least else "≤"
    line = f"  target {label}: {ratio:.2f} (need {rel} {bound:g}) {'MET' if ok else 'MISSED'}"
    print(line)
    return line


def versus_baseline(label: str, new: float, old: float, better: str = "faster", worse: str = "slower") -> str:
    """The line "scalargrad vs baseline" from two costs (lower is better): how many times better or worse."""
    r = old / new
    verdict = "the same" if r == 1 else better if r > 1 else worse
    line = f"  {label} scalargrad vs baseline: {max(r, 1 / r):.2f}× ({verdict})"
    print(line)
    return line


def baseline_lines(label: str, timings: dict[str, Timing]) -> list[str]:
    """:func:`versus_baseline` of one table's times, if scalargrad and the baseline both ran."""
    new, old = timings.get("scalargrad"), timings.get("baseline")
    if new is None or old is None:
        return []
    if new.error or old.error:
        line = f"  {label} scalargrad vs baseline: not compared ({new.error or old.error})"
        print(line)
        return [line]
    return [versus_baseline(label, new.seconds, old.seconds)]


def short(n: int) -> str:
    """A size as in the targets: ``1e5`` for a power of ten, else ``12,345``."""
    e = round(math.log10(n)) if n > 0 else 0
    return f"1e{e}" if n == 10**e else f"{n:,}"


def close(a: float, b: float, scale: float, what: str, tol: float = 1e-9) -> None:
    """Assert two results agree to ``tol`` relative to ``scale``."""
    assert math.isfinite(a) and math.isfinite(b), f"{what}: non-finite {a!r} vs {b!r}"
    assert abs(a - b) <= tol * max(abs(a), abs(b), scale, 1e-300), f"{what}: {a!r} != {b!r}"


# --------------------------------------------------------------------------- #
# (A) MLP 2 -> 16 -> 16 -> 1 training step                                    #
# --------------------------------------------------------------------------- #

Params = tuple[list[list[float]], list[float], list[list[float]], list[float], list[list[float]], list[float]]


def mlp_init(seed: int) -> Params:
    """Weights uniform in (-1, 1), biases in (-0.1, 0.1): the same init for every peer."""
    rng = random.Random(seed)

    def layer(nin: int, nout: int) -> tuple[list[list[float]], list[float]]:
        w = [[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(nout)]
        return w, [rng.uniform(-0.1, 0.1) for _ in range(nout)]

    w1, b1 = layer(2, 16)
    w2, b2 = layer(16, 16)
    w3, b3 = layer(16, 1)
    return w1, b1, w2, b2, w3, b3


def mlp_data(seed: int, n: int = 100) -> tuple[list[list[float]], list[float]]:
    """n points in [-2, 2]², target sin(x0)·cos(x1)."""
    rng = random.Random(seed + 1)
    xs = [[rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0)] for _ in range(n)]
    return xs, [math.sin(x0) * math.cos(x1) for x0, x1 in xs]


def flat(params: Params) -> list[float]:
    """All parameters in one list: weights then bias, layer by layer."""
    w1, b1, w2, b2, w3, b3 = params
    return [x for w, b in ((w1, b1), (w2, b2), (w3, b3)) for x in [*(v for row in w for v in row), *b]]


class GraphMLP:
    """The MLP written once, for any peer whose nodes support ``+ - *``."""

    def __init__(self, peer: Peer, init: Params) -> None:
        self.peer = peer
        leaf = peer.leaf
        pairs = [(init[0], init[1]), (init[2], init[3]), (init[4], init[5])]
        self.layers = [([[leaf(v) for v in row] for row in w], [leaf(v) for v in b]) for w, b in pairs]
        self.params = [p for w, b in self.layers for p in [*(v for row in w for v in row), *b]]

    def loss(self, xs: list[list[float]], ys: list[float]) -> Node:
        """Mean squared error over the points: relu hidden layers, linear output."""
        relu = self.peer.relu
        (w1, b1), (w2, b2), (w3, b3) = self.layers
        total: Node = None
        for x, y in zip(xs, ys):
            h: list[Any] = x
            for w, b, act in ((w1, b1, True), (w2, b2, True), (w3, b3, False)):
                out = []
                for row, bias in zip(w, b):
                    z = bias
                    for wi, hi in zip(row, h):
                        z = z + wi * hi
                    out.append(relu(z) if act else z)
                h = out
            d = h[0] - y
            total = d * d if total is None else total + d * d
        return total * (1.0 / len(xs))

    def step(self, xs: list[list[float]], ys: list[float]) -> float:
        """Forward, backward, SGD update; returns the loss."""
        loss = self.loss(xs, ys)
        self.peer.backward(loss)
        self.peer.sgd(self.params, LR)
        return self.peer.value(loss)

    def loss_and_grads(self, xs: list[list[float]], ys: list[float]) -> tuple[float, list[float]]:
        """Loss and parameter gradients, without updating (for the agreement check)."""
        loss = self.loss(xs, ys)
        self.peer.backward(loss)
        return self.peer.value(loss), [self.peer.grad(p) for p in self.params]


class PlainMLP:
    """The same MLP as float lists with a hand-written backward pass."""

    def __init__(self, init: Params) -> None:
        self.w1, self.b1, self.w2, self.b2, self.w3, self.b3 = (
            [list(r) for r in init[0]],
            list(init[1]),
            [list(r) for r in init[2]],
            list(init[3]),
            list(init[4][0]),
            init[5][0],
        )

    def loss_and_grads(self, xs: list[list[float]], ys: list[float]) -> tuple[float, list[float]]:
        """Forward and backward over all points; gradients in :func:`flat` order."""
        w1, b1, w2, b2, w3, b3 = self.w1, self.b1, self.w2, self.b2, self.w3, self.b3
        n1, n2 = len(b1), len(b2)
        gw1 = [[0.0] * len(w1[0]) for _ in range(n1)]
        gb1 = [0.0] * n1
        gw2 = [[0.0] * n1 for _ in range(n2)]
        gb2 = [0.0] * n2
        gw3 = [0.0] * n2
        gb3 = 0.0
        total = 0.0
        scale = 1.0 / len(xs)
        for x, y in zip(xs, ys):
            z1 = []
            for row, bias in zip(w1, b1):
                z = bias
                for wi, xi in zip(row, x):
                    z += wi * xi
                z1.append(z)
            h1 = [z if z > 0.0 else 0.0 for z in z1]
            z2 = []
            for row, bias in zip(w2, b2):
                z = bias
                for wi, hi in zip(row, h1):
                    z += wi * hi
                z2.append(z)
            h2 = [z if z > 0.0 else 0.0 for z in z2]
            out = b3
            for wi, hi in zip(w3, h2):
                out += wi * hi
            d = out - y
            total += d * d
            # backward
            dout = 2.0 * d * scale
            gb3 += dout
            dz2 = []
            for k in range(n2):
                gw3[k] += dout * h2[k]
                dz2.append(dout * w3[k] if z2[k] > 0.0 else 0.0)
            dh1 = [0.0] * n1
            for k in range(n2):
                g = dz2[k]
                if g:
                    gb2[k] += g
                    row, grow = w2[k], gw2[k]
                    for j in range(n1):
                        grow[j] += g * h1[j]
                        dh1[j] += g * row[j]
            for j in range(n1):
                if z1[j] > 0.0:
                    g = dh1[j]
                    gb1[j] += g
                    grow = gw1[j]
                    for i, xi in enumerate(x):
                        grow[i] += g * xi
        grads = flat((gw1, gb1, gw2, gb2, [gw3], [gb3]))
        return total * scale, grads

    def step(self, xs: list[list[float]], ys: list[float]) -> float:
        """Forward, backward, SGD update; returns the loss."""
        loss, grads = self.loss_and_grads(xs, ys)
        it = iter(grads)
        for row in (*self.w1, *[self.b1], *self.w2, *[self.b2], self.w3):
            for i in range(len(row)):
                row[i] -= LR * next(it)
        self.b3 -= LR * next(it)
        return loss


def bench_mlp(
    peers: dict[str, Peer], plain: bool, repeats: int, seed: int, floors: dict[str, Peer] | None = None
) -> list[str]:
    """(A): check that all peers agree on loss and gradients, then time a training step."""
    init = mlp_init(seed)
    xs, ys = mlp_data(seed)
    ref_loss, ref_grads = PlainMLP(init).loss_and_grads(xs, ys)
    scale = max(abs(g) for g in ref_grads)
    for name, peer in peers.items():
        loss, grads = GraphMLP(peer, init).loss_and_grads(xs, ys)
        close(loss, ref_loss, 0.0, f"A {name} loss")
        for k, (g, r) in enumerate(zip(grads, ref_grads)):
            close(g, r, scale, f"A {name} grad {k}")
    # one full step each, then compare the updated parameters
    after: dict[str, list[float]] = {}
    models: dict[str, GraphMLP | PlainMLP] = {name: GraphMLP(p, init) for name, p in peers.items()}
    models["plain"] = PlainMLP(init)
    for name, m in models.items():
        m.step(xs, ys)
        if isinstance(m, GraphMLP):
            after[name] = [m.peer.value(p) for p in m.params]
        else:
            after[name] = flat((m.w1, m.b1, m.w2, m.b2, [m.w3], [m.b3]))
    for name, ps in after.items():
        for k, (a, b) in enumerate(zip(ps, after["plain"])):
            close(a, b, 1.0, f"A {name} param {k} after a step")
    print(f"\n(A) agree: loss {ref_loss:.12g}, {len(ref_grads)} gradients, one SGD step (rel. 1e-9)")

    if not plain:
        del models["plain"]
    for name, peer in (floors or {}).items():
        floor = GraphMLP(peer, init)
        close(peer.value(floor.loss(xs, ys)), ref_loss, 0.0, f"A {name} loss")
        peer.backward(None)
        models[name] = floor
    fns: dict[str, Callable[[], object]] = {name: partial(m.step, xs, ys) for name, m in models.items()}
    t = measure(fns, repeats)
    print_table("(A) MLP 2→16→16→1 training step, 100 points, relu (forward + backward + SGD)", t)
    lines = []
    base = t.get("scalargrad")
    if base and not base.error:
        for name, bound in (("micrograd", 12.0), ("torch", 8.0)):
            if name in t and not t[name].error:
                lines.append(target(f"A {name}/scalargrad", t[name].seconds / base.seconds, bound))
        if "plain" in t and not t["plain"].error:
            lines.append(target("A scalargrad/plain", base.seconds / t["plain"].seconds, 8.0, at_least=False))
    lines += floor_lines("A", t, 8.0)
    lines += baseline_lines("A", t)
    return lines


# --------------------------------------------------------------------------- #
# (B) deep chain                                                              #
# --------------------------------------------------------------------------- #


def chain_graph(peer: Peer, n: int) -> tuple[float, float, float]:
    """y = tanh(y * w) repeated, n ops; backward; returns (y, dy/dx, dy/dw)."""
    x, w = peer.leaf(0.5), peer.leaf(1.5)
    tanh = peer.tanh
    y = x
    for _ in range(n // 2):
        y = tanh(y * w)
    peer.backward(y)
    return peer.value(y), peer.grad(x), peer.grad(w)


def chain_plain(n: int) -> tuple[float, float, float]:
    """The chain with floats and a hand-written backward pass."""
    w = 1.5
    y = 0.5
    ys = [y]
    append = ys.append
    tanh = math.tanh
    for _ in range(n // 2):
        y = tanh(y * w)
        append(y)
    gy, gw = 1.0, 0.0
    for k in range(n // 2, 0, -1):
        t = ys[k]
        gm = gy * (1.0 - t * t)
        gw += gm * ys[k - 1]
        gy = gm * w
    return y, gy, gw


def bench_chain(
    peers: dict[str, Peer],
    plain: bool,
    sizes: list[int],
    repeats: int,
    big_repeats: int,
    caps: dict[str, int],
) -> list[str]:
    """(B): time per op of forward + backward of chains of growing length."""
    per_op: dict[str, dict[int, float]] = {}
    failed: dict[str, str] = {}
    versus: list[str] = []
    for n in sizes:
        ref = chain_plain(n)
        fns: dict[str, Callable[[], object]] = {}
        notes: dict[str, str] = {}
        for name, peer in peers.items():
            if name in failed:
                notes[name] = f"not run: {failed[name]}"
                continue
            if n > caps.get(name, n):
                notes[name] = f"not run: capped at N ≤ {caps[name]:,}"
                continue
            try:
                got = chain_graph(peer, n)
            except RecursionError:
                failed[name] = f"RecursionError at N = {n:,}"
                notes[name] = "RecursionError (recursive topological sort)"
                continue
            for what, a, b in zip(("y", "dy/dx", "dy/dw"), got, ref):
                close(a, b, abs(ref[2]), f"B {name} N={n} {what}")
            fns[name] = partial(chain_graph, peer, n)
            if name == "scalargrad" and not GC_OFF:
                fns[NO_GC] = without_gc(fns[name])
        if plain:
            fns["plain"] = partial(chain_plain, n)
        t = measure(fns, repeats if n < 1_000_000 else big_repeats)
        for name in notes:
            t.setdefault(name, Timing(error="—"))
        print_table(
            f"(B) deep chain y = tanh(y·w), N = {n:,} ops (forward + backward); agree with plain", t, notes
        )
        versus += baseline_lines(f"B N={short(n)}", t)
        for name, timing in t.items():
            if not timing.error:
                per_op.setdefault(name, {})[n] = timing.seconds / n
    print("\n(B) time per op (µs); flat if time is linear in N, ×(N ratio) per step if quadratic:")
    head = "".join(f"{f'N={n:.0e}':>11}" for n in sizes)
    print(f"  {'peer':<19}{head}   slope (1e3→max)   time/op × over last step")
    lines = []
    for name in [*PEER_NAMES, NO_GC]:
        if name not in per_op:
            continue
        row = per_op[name]
        cells = "".join(f"{row[n] * 1e6:>11.3f}" if n in row else f"{'—':>11}" for n in sizes)
        ns = sorted(row)
        slope = growth = ""
        if len(ns) >= 2:
            lo, prev, hi = ns[0], ns[-2], ns[-1]
            s = 1.0 + math.log(row[hi] / row[lo]) / math.log(hi / lo)
            g = row[hi] / row[prev]
            slope, growth = f"{s:.3f}", f"{g:.2f} (N {prev:.0e}→{hi:.0e})"
            if name in ("scalargrad", NO_GC):
                linear = g < 2.0
                verdict = ("MET" if linear else "MISSED") if hi >= 1_000_000 else "not checked (N < 1e6)"
                lines.append(
                    f"  target B {name} linear up to N = {hi:,}: time/op ×{g:.2f} from N = {prev:,}"
                    f" (quadratic: ×{hi / prev:g}), ×{row[hi] / row[lo]:.2f} from N = {lo:,};"
                    f" no RecursionError; {verdict}"
                )
        print(f"  {name:<19}{cells}   {slope:>15}   {growth}")
    for line in lines:
        print(line)
    for name, why in failed.items():
        print(f"  {name}: {why}; not tried at larger N")
    return lines + versus


# --------------------------------------------------------------------------- #
# (C) random DAG                                                              #
# --------------------------------------------------------------------------- #

ADD, MUL, TANH, SIN = 0, 1, 2, 3
Plan = list[tuple[int, int, int]]


def dag_plan(n: int, seed: int) -> Plan:
    """n op nodes over LEAVES inputs: random add/mul/tanh/sin of two earlier random nodes,
    then the nodes no one used summed pairwise (a balanced tree) into one output."""
    rng = random.Random(seed)
    plan: Plan = []
    sinks: dict[int, None] = {}  # insertion-ordered set
    size = LEAVES
    while len(plan) + len(sinks) - 1 < n:
        op = rng.randrange(4)
        i, j = rng.randrange(size), rng.randrange(size)
        plan.append((op, i, j))
        sinks.pop(i, None)
        if op < TANH:
            sinks.pop(j, None)
        sinks[size] = None
        size += 1
    level = list(sinks)
    while len(level) > 1:
        nxt = []
        for k in range(0, len(level) - 1, 2):
            plan.append((ADD, level[k], level[k + 1]))
            nxt.append(size)
            size += 1
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return plan


def leaf_values(seed: int) -> list[float]:
    """The DAG's input values, uniform in (-1, 1)."""
    rng = random.Random(seed + 7)
    return [rng.uniform(-1.0, 1.0) for _ in range(LEAVES)]


def dag_build(peer: Peer, plan: Plan, leaves: list[Node]) -> Node:
    """Run the plan with the peer's nodes; returns the output node."""
    nodes = list(leaves)
    append = nodes.append
    tanh, sin = peer.tanh, peer.sin
    for op, i, j in plan:
        if op == ADD:
            append(nodes[i] + nodes[j])
        elif op == MUL:
            append(nodes[i] * nodes[j])
        elif op == TANH:
            append(tanh(nodes[i]))
        else:
            append(sin(nodes[i]))
    return nodes[-1]


def dag_graph(peer: Peer, plan: Plan, values: list[float]) -> tuple[float, list[float]]:
    """Forward + backward of the DAG; returns the output and the inputs' gradients."""
    leaves = [peer.leaf(v) for v in values]
    out = dag_build(peer, plan, leaves)
    peer.backward(out)
    return peer.value(out), [peer.grad(v) for v in leaves]


def dag_plain(plan: Plan, values: list[float]) -> tuple[float, list[float]]:
    """The DAG with floats and a hand-written backward pass."""
    vals = list(values)
    append = vals.append
    tanh, sin, cos = math.tanh, math.sin, math.cos
    for op, i, j in plan:
        if op == ADD:
            append(vals[i] + vals[j])
        elif op == MUL:
            append(vals[i] * vals[j])
        elif op == TANH:
            append(tanh(vals[i]))
        else:
            append(sin(vals[i]))
    adj = [0.0] * len(vals)
    adj[-1] = 1.0
    k = len(vals)
    for op, i, j in reversed(plan):
        k -= 1
        g = adj[k]
        if op == ADD:
            adj[i] += g
            adj[j] += g
        elif op == MUL:
            adj[i] += g * vals[j]
            adj[j] += g * vals[i]
        elif op == TANH:
            t = vals[k]
            adj[i] += g * (1.0 - t * t)
        else:
            adj[i] += g * cos(vals[i])
    return vals[-1], adj[: len(values)]


def bench_dag(
    peers: dict[str, Peer],
    plain: bool,
    sizes: list[int],
    repeats: int,
    big_repeats: int,
    caps: dict[str, int],
    seed: int,
    floors: dict[str, Peer] | None = None,
) -> list[str]:
    """(C): forward + backward of random DAGs of growing size."""
    lines = []
    values = leaf_values(seed)
    for n in sizes:
        plan = dag_plan(n, seed)
        ref_out, ref_grads = dag_plain(plan, values)
        scale = max(abs(g) for g in ref_grads)
        fns: dict[str, Callable[[], object]] = {}
        notes: dict[str, str] = {}
        for name, peer in peers.items():
            if n > caps.get(name, n):
                notes[name] = f"not run: capped at N ≤ {caps[name]:,}"
                continue
            try:
                out, grads = dag_graph(peer, plan, values)
            except RecursionError:
                notes[name] = "RecursionError"
                continue
            close(out, ref_out, 0.0, f"C {name} N={n} output")
            for k, (g, r) in enumerate(zip(grads, ref_grads)):
                close(g, r, scale, f"C {name} N={n} grad {k}")
            fns[name] = partial(dag_graph, peer, plan, values)
            if name == "scalargrad" and not GC_OFF:
                fns[NO_GC] = without_gc(fns[name])
        if plain:
            fns["plain"] = partial(dag_plain, plan, values)
        for name, peer in (floors or {}).items():
            close(dag_graph(peer, plan, values)[0], ref_out, 0.0, f"C {name} N={n} output")
            fns[name] = partial(dag_graph, peer, plan, values)
        t = measure(fns, repeats if n < 1_000_000 else big_repeats)
        for name in notes:
            t.setdefault(name, Timing(error="—"))
        print_table(
            f"(C) random DAG, N = {len(plan):,} op nodes over {LEAVES} inputs (forward + backward); "
            f"agree: output {ref_out:.6g}, max |grad| {scale:.3g}",
            t,
            notes,
        )
        lines += baseline_lines(f"C N={short(n)}", t)
        base = t.get("scalargrad")
        if n == 100_000 and base and not base.error:
            for name, bound in (("micrograd", 5.0), ("torch", 8.0)):
                if name in t and not t[name].error:
                    lines.append(target(f"C N=1e5 {name}/scalargrad", t[name].seconds / base.seconds, bound))
            if "plain" in t and not t["plain"].error:
                lines.append(
                    target("C N=1e5 scalargrad/plain", base.seconds / t["plain"].seconds, 3.5, at_least=False)
                )
                if NO_GC in t and not t[NO_GC].error:
                    ratio = t[NO_GC].seconds / t["plain"].seconds
                    lines.append(target("C N=1e5 (scalargrad, GC off)/plain", ratio, 3.5, at_least=False))
            lines += floor_lines("C N=1e5", t, 3.5)
    return lines


# --------------------------------------------------------------------------- #
# (D) memory per node and time to free, one fresh subprocess per measurement  #
# --------------------------------------------------------------------------- #


def _rss() -> int:
    """Resident set size in bytes (Linux), or 0 where unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def memory_child(
    peer_name: str, n: int, mode: str, seed: int, baseline: str | None = None
) -> dict[str, float]:
    """Build one DAG and measure memory (``mode="tracemalloc"``) or RSS and free times.

    ``baseline`` is the checkout root that the peer "baseline" is loaded from.
    """
    peer = load_peers([peer_name], baseline)[peer_name]
    gc.freeze()
    plan = dag_plan(n, seed)
    leaves = [peer.leaf(v) for v in leaf_values(seed)]
    nodes = len(plan)
    gc.collect()
    tracing = mode == "tracemalloc"
    if tracing:
        tracemalloc.start()

    def used() -> int:
        return tracemalloc.get_traced_memory()[0] if tracing else _rss()

    base = used()
    out = dag_build(peer, plan, leaves)
    forward = used() - base
    peer.backward(out)
    gc.collect()
    backward = used() - base
    gc.disable()
    t0 = time.perf_counter()
    del out
    del_seconds = time.perf_counter() - t0
    after_del = used() - base
    t0 = time.perf_counter()
    collected = gc.collect()
    collect_seconds = time.perf_counter() - t0
    after_collect = used() - base
    gc.enable()
    return {
        "nodes": nodes,
        "forward": forward / nodes,
        "backward": backward / nodes,
        "del_seconds": del_seconds,
        "after_del": after_del / nodes,
        "collect_seconds": collect_seconds,
        "collected": collected,
        "after_collect": after_collect / nodes,
    }


def _run_child(peer: str, n: int, mode: str, seed: int, baseline: str | None) -> dict[str, float] | str:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--memory-child",
        peer,
        str(n),
        mode,
        "--seed",
        str(seed),
        *(["--baseline", baseline] if baseline else []),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_memory(peers: dict[str, Peer], n: int, seed: int, baseline: str | None = None) -> list[str]:
    """(D): bytes per node retained by a DAG of n nodes, and the time to free it.

    ``baseline`` is passed on to the child processes, which load the peer "baseline" from it.
    """
    print(f"\n(D) memory of a random DAG of {n:,} op nodes, per node, each peer in a fresh process")
    print("    tracemalloc counts Python allocations only: not PyTorch's C++ tensors and graph,")
    print("    for which the RSS growth is shown instead (approximate).")
    hdr = ("peer", "fwd B/node", "+bwd B/node", "left after del (gc off)", "after gc.collect", "RSS B/node")
    print("  " + f"{hdr[0]:<12}" + "".join(f"{h:>24}" for h in hdr[1:]))
    rows: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for name in peers:
        tm = _run_child(name, n, "tracemalloc", seed, baseline)
        rs = _run_child(name, n, "rss", seed, baseline)
        if isinstance(tm, str) or isinstance(rs, str):
            print(f"  {name:<12}failed: {tm if isinstance(tm, str) else rs}")
            continue
        rows[name] = (tm, rs)
        print(
            f"  {name:<12}{tm['forward']:>24.1f}{tm['backward']:>24.1f}{tm['after_del']:>24.1f}"
            f"{tm['after_collect']:>24.1f}{rs['forward']:>24.1f}"
        )
    print("\n  time to free the graph (no tracemalloc):")
    print(f"  {'peer':<12}{'del (gc off)':>16}{'then gc.collect()':>20}{'objects collected':>20}")
    for name, (_, rs) in rows.items():
        print(
            f"  {name:<12}{rs['del_seconds'] * 1e3:>13.1f} ms{rs['collect_seconds'] * 1e3:>17.1f} ms"
            f"{int(rs['collected']):>20,}"
        )
    lines = []
    if "scalargrad" in rows:
        tm = rows["scalargrad"][0]
        lines.append(target("D scalargrad bytes/node (forward)", tm["forward"], 180.0, at_least=False))
        lines.append(
            target("D scalargrad bytes/node (after backward)", tm["backward"], 180.0, at_least=False)
        )
        freed = tm["after_del"] < 1.0
        print(f"  scalargrad freed by refcounting alone (gc off): {'yes' if freed else 'NO'}")
        if "micrograd" in rows:
            ratio = rows["micrograd"][0]["forward"] / tm["forward"]
            lines.append(target("D micrograd/scalargrad bytes per node", ratio, 4.0))
        if "baseline" in rows:
            (old_tm, old_rs), new_rs = rows["baseline"], rows["scalargrad"][1]
            for what in ("forward", "backward"):
                lines.append(
                    versus_baseline(f"D bytes/node ({what})", tm[what], old_tm[what], "smaller", "larger")
                )
            free, old_free = (r["del_seconds"] + r["collect_seconds"] for r in (new_rs, old_rs))
            lines.append(versus_baseline("D time to free (del + gc.collect, one sample)", free, old_free))
    return lines


# --------------------------------------------------------------------------- #
# (E) chain with numbers in the ops                                           #
# --------------------------------------------------------------------------- #

SCALE, SHIFT = 1.0001, 0.1
"""The numbers of (E): ``y = tanh(y * SCALE + SHIFT)``."""
CHECK_N = 100
"""(E) is also checked at this length, short enough for micrograd's recursion and for dy/dx
(a product of factors ≈ 0.63) not to have underflowed yet: by N = 10⁴ it is stuck at the
smallest subnormal, 5e-324, in every peer."""


def number_chain_graph(peer: Peer, n: int) -> tuple[float, float]:
    """``y = tanh(y * 1.0001 + 0.1)`` n times from a leaf x, the numbers passed as they are
    (micrograd and the baseline wrap each in a constant node); backward; returns (y, dy/dx)."""
    x = peer.leaf(0.5)
    tanh = peer.tanh
    scale, shift = SCALE, SHIFT
    y = x
    for _ in range(n):
        y = tanh(y * scale + shift)
    peer.backward(y)
    return peer.value(y), peer.grad(x)


def number_chain_plain(n: int) -> tuple[float, float]:
    """The number chain with floats: forward storing the tanh outputs, then a hand-written backward."""
    scale, shift = SCALE, SHIFT
    y = 0.5
    ys: list[float] = []
    append = ys.append
    tanh = math.tanh
    for _ in range(n):
        y = tanh(y * scale + shift)
        append(y)
    g = 1.0
    for t in reversed(ys):
        g = g * (1.0 - t * t) * scale
    return y, g


def bench_number_chain(
    peers: dict[str, Peer],
    plain: bool,
    n: int,
    repeats: int,
    big_repeats: int,
    caps: dict[str, int],
    floors: dict[str, Peer] | None = None,
) -> list[str]:
    """(E): forward + backward of the number chain, checked against floats at ``CHECK_N`` and n."""
    checks = sorted({min(CHECK_N, n), n})
    refs = {m: number_chain_plain(m) for m in checks}
    fns: dict[str, Callable[[], object]] = {}
    notes: dict[str, str] = {}
    for name, peer in peers.items():
        for m in checks:
            if m > caps.get(name, m):
                notes[name] = f"not run: capped at N ≤ {caps[name]:,}"
                break
            try:
                got = number_chain_graph(peer, m)
            except RecursionError:
                notes[name] = f"RecursionError at N = {m:,} (recursive topological sort)"
                break
            for what, a, b in zip(("y", "dy/dx"), got, refs[m]):
                close(a, b, 0.0, f"E {name} N={m} {what}")
        else:
            fns[name] = partial(number_chain_graph, peer, n)
            if name == "scalargrad" and not GC_OFF:
                fns[NO_GC] = without_gc(fns[name])
    if plain:
        fns["plain"] = partial(number_chain_plain, n)
    for name, peer in (floors or {}).items():
        close(number_chain_graph(peer, n)[0], refs[n][0], 0.0, f"E {name} N={n} y")
        fns[name] = partial(number_chain_graph, peer, n)
    t = measure(fns, repeats if n < 1_000_000 else big_repeats)
    for name in notes:
        t.setdefault(name, Timing(error="—"))
    (y, dydx), (_, dydx_short) = refs[n], refs[checks[0]]
    print_table(
        f"(E) number chain y = tanh(y·{SCALE} + {SHIFT}), N = {n:,} times = {3 * n:,} ops"
        f" (forward + backward);\n    agree with plain: y {y:.12g}, dy/dx {dydx:.3g}"
        f" (at N = {checks[0]:,}: {dydx_short:.12g})",
        t,
        notes,
    )
    lines = []
    base = t.get("scalargrad")
    if base and not base.error and "plain" in t and not t["plain"].error:
        ratio = base.seconds / t["plain"].seconds
        lines.append(target(f"E N={short(n)} scalargrad/plain", ratio, 20.0, at_least=False))
    lines += floor_lines(f"E N={short(n)}", t, 20.0)
    return lines + baseline_lines(f"E N={short(n)}", t)


# --------------------------------------------------------------------------- #
# Command line                                                                #
# --------------------------------------------------------------------------- #


def _sizes(text: str) -> list[int]:
    return [int(float(s)) for s in text.split(",") if s.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options and run the chosen workloads."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes and 3 repeats (seconds, not minutes)")
    ap.add_argument(
        "--workloads", default="A,B,C,D,E", help="comma-separated subset of A,B,C,D,E (default all)"
    )
    ap.add_argument(
        "--peers",
        default=",".join(p for p in PEER_NAMES if p != "baseline"),
        help="comma-separated subset of " + ",".join(PEER_NAMES) + " (baseline: added by --baseline)",
    )
    ap.add_argument(
        "--baseline",
        metavar="PATH",
        default=None,
        help="root of another checkout whose scalargrad package runs as the peer 'baseline'",
    )
    ap.add_argument("--repeats", type=int, default=None, help="samples per median (default 5, quick 3)")
    ap.add_argument("--big-repeats", type=int, default=3, help="samples per median at N >= 1e6 (default 3)")
    ap.add_argument("--chain-sizes", type=_sizes, default=None, help="(B) sizes, default 1e3,1e4,1e5,1e6")
    ap.add_argument("--dag-sizes", type=_sizes, default=None, help="(C) sizes, default 1e4,1e5,1e6")
    ap.add_argument(
        "--number-chain-sizes",
        type=_sizes,
        default=None,
        help="(E) times the statement is repeated (3 ops each), default 33334,1e5\n"
        "(10⁵ ops, as (B) counts them, and 10⁵ repetitions; quick 1e4)",
    )
    ap.add_argument(
        "--mem-size", type=lambda s: int(float(s)), default=None, help="(D) DAG size, default 1e5"
    )
    ap.add_argument(
        "--torch-max", type=lambda s: int(float(s)), default=None, help="largest N for torch (1e5)"
    )
    ap.add_argument(
        "--micrograd-max", type=lambda s: int(float(s)), default=None, help="largest N for micrograd (1e6)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gc-off", action="store_true", help="disable the cyclic GC while timing")
    ap.add_argument("--no-freeze", action="store_true", help="no gc.freeze() after importing the peers")
    ap.add_argument("--memory-child", nargs=3, metavar=("PEER", "N", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_child:
        peer, n, mode = args.memory_child
        print(json.dumps(memory_child(peer, int(n), mode, args.seed, args.baseline)))
        return 0

    q = args.quick
    repeats = args.repeats or (3 if q else 5)
    chain_sizes = args.chain_sizes or ([1_000, 10_000, 100_000] if q else [1_000, 10_000, 100_000, 1_000_000])
    dag_sizes = args.dag_sizes or ([10_000] if q else [10_000, 100_000, 1_000_000])
    mem_size = args.mem_size or (10_000 if q else 100_000)
    number_chain_sizes = args.number_chain_sizes or ([10_000] if q else [33_334, 100_000])
    caps = {
        "torch": args.torch_max or (10_000 if q else 100_000),
        "micrograd": args.micrograd_max or (10_000 if q else 1_000_000),
    }
    names = [s.strip() for s in args.peers.split(",") if s.strip()]
    unknown = set(names) - set(PEER_NAMES)
    if unknown:
        ap.error(f"unknown peers: {', '.join(sorted(unknown))}")
    if "scalargrad" not in names:
        names.insert(0, "scalargrad")
    if args.baseline:
        if not os.path.isfile(os.path.join(args.baseline, "scalargrad", "__init__.py")):
            ap.error(f"--baseline {args.baseline}: no scalargrad/__init__.py there")
        args.baseline = os.path.abspath(args.baseline)
        if "baseline" not in names:
            names.insert(names.index("scalargrad") + 1, "baseline")
    elif "baseline" in names:
        ap.error("peer baseline needs --baseline PATH")
    workloads = {s.strip().upper() for s in args.workloads.split(",") if s.strip()}

    print(
        f"scalargrad {scalargrad.__version__} benchmarks — {time.strftime('%Y-%m-%d %H:%M')}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    )
    peers = load_peers(names, args.baseline)
    global GC_OFF
    GC_OFF = args.gc_off
    if not args.no_freeze:
        gc.collect()
        gc.freeze()
    print(
        f"cyclic GC while timing: {'off' if GC_OFF else 'on'}; "
        f"gc.freeze() after imports: {'no' if args.no_freeze else 'yes'} ({gc.get_freeze_count():,} objects)"
    )
    for name, peer in peers.items():
        if name == "baseline":
            mod = sys.modules[BASELINE_MODULE]
            where = os.path.dirname(mod.__file__ or "?")
            print(f"baseline: scalargrad {getattr(mod, '__version__', '?')} from {where}")
        elif name != "scalargrad":
            mod = (
                sys.modules[peer.leaf.__module__.split(".")[0]]
                if name == "micrograd"
                else sys.modules["torch"]
            )
            print(f"{name}: {getattr(mod, '__version__', 'installed (no __version__)')}")
    plain = "plain" in names
    floors = {name: FLOORS[name] for name in names if name in FLOORS}
    lines: list[str] = []
    if "A" in workloads:
        lines += bench_mlp(peers, plain, repeats, args.seed, floors)
    if "B" in workloads:
        lines += bench_chain(peers, plain, chain_sizes, repeats, args.big_repeats, caps)
    if "C" in workloads:
        lines += bench_dag(peers, plain, dag_sizes, repeats, args.big_repeats, caps, args.seed, floors)
    if "D" in workloads:
        lines += bench_memory(peers, mem_size, args.seed, args.baseline)
    if "E" in workloads:
        for n in number_chain_sizes:
            lines += bench_number_chain(peers, plain, n, repeats, args.big_repeats, caps, floors)
    if lines:
        print("\nSummary of targets (issues 3 and 10) and floors:")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
