"""The one reverse walk: backward, adjoints, grad(create_graph=True) and compiled code agree bit for bit.

:func:`~scalargrad.core.walks.reverse_walk` is generic in its arithmetic. ``create_graph``
and :func:`scalargrad.compile` run it; :func:`accumulate_adjoints` and
:meth:`Value.backward` are float copies of it kept for speed. These tests check, on
hypothesis-generated DAGs (interior nodes shared, so adjoints sum several partial
adjoints) and expressions over every built-in op, with seeds other than 1 (0, -0.0,
negative, 2.5, ±inf, nan) and ``.grad`` already holding numbers, that all of them sum
the same partial adjoints in the same order: their numbers are equal with ``==``
(NaN equal to NaN). Zeros may differ in sign: ``backward`` starts the output at its
seed, the walks add the seed to 0.0, and compiled sums start from the first term.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import given, reject, settings
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value
from scalargrad.core import OPS, topological_order
from scalargrad.core.walks import (
    Partial,
    accumulate_adjoints,
    depending_on,
    float_local,
    float_plus,
    reverse_walk,
)
from scalargrad.testing import ALL_OPS, GeneratedExpression, expressions_and_points

TOTAL_OPS = ("add", "sub", "mul", "neg", "tanh", "sigmoid", "sin", "cos", "atan", "abs", "relu", "maximum")
"""Ops defined on every finite float, so a random DAG of them rarely raises (``sin(inf)`` does)."""

DAG_KINDS = (*TOTAL_OPS, "dot", "dot")
"""What a random DAG's steps draw from: dot twice, so most DAGs have dot nodes."""

Plan = tuple[int, list[tuple[str, tuple[int, ...], float]]]
"""A DAG as a straight-line program: its number of inputs and (op or "const", operands, constant) steps."""

SEEDS = st.sampled_from([1.0, 0.0, -0.0, -1.0, 2.5, -3.25, math.inf, -math.inf, math.nan]) | st.floats(
    -1e3, 1e3
)
GRADS = st.sampled_from([0.0, -0.0, 1.0, -2.5, 1e300, math.inf, math.nan]) | st.floats(-10, 10)


@st.composite
def dags(draw: st.DrawFn, max_inputs: int = 3, max_steps: int = 30, kinds: Sequence[str] = DAG_KINDS) -> Plan:
    """A random DAG: each step an op of ``kinds`` (or a constant) on any earlier slots.

    A ``dot`` step takes 1 to 3 pairs of slots (a constant slot becomes a constant leaf,
    a dot slot makes a dot of dots), and half the time pairs each x with itself (x·x).
    """
    n = draw(st.integers(1, max_inputs))
    steps: list[tuple[str, tuple[int, ...], float]] = []
    for k in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from([*kinds, "const"]))
        if kind == "const":
            steps.append(("const", (), draw(st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 3.0]))))
            continue
        operands = st.integers(0, n + k - 1)
        arity = OPS[kind].arity
        if arity is None:
            xs = [draw(operands) for _ in range(draw(st.integers(1, 3)))]
            ys = xs if draw(st.booleans()) else [draw(operands) for _ in xs]
            steps.append((kind, (*xs, *ys), 0.0))
            continue
        steps.append((kind, tuple(draw(operands) for _ in range(arity)), 0.0))
    return n, steps


def run(plan: Plan, xs: list[Value], *, binary: bool = False) -> list[Any]:
    """Every slot of ``plan`` on the inputs ``xs``: Values, or floats where only constants went in.

    With ``binary``, each dot is built from binary ``*`` and ``+`` instead, left to right.
    """
    slots: list[Any] = list(xs)
    for kind, operands, value in plan[1]:
        args = [slots[o] for o in operands]
        if kind == "const":
            slots.append(value)
        elif binary and OPS[kind].arity is None:
            half = len(args) // 2
            total = args[0] * args[half]
            for x, y in zip(args[1:half], args[half + 1 :]):
                total = total + x * y
            slots.append(total)
        else:
            slots.append(OPS[kind](*args))
    return slots


Case = tuple[Callable[[list[Value]], list[Value]], list[float]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Outputs built on fresh inputs, and the inputs' values: a random DAG (one to three outputs), or an
    expression of :func:`scalargrad.testing.expressions_and_points` over every built-in op.

    A DAG's first choice of output is the sum of its sinks, so the whole DAG reaches it and every
    node used several times sums several partial adjoints, where the order of the sum shows.
    """
    if draw(st.booleans()):
        f, point = draw(expressions_and_points(max_inputs=3, ops=ALL_OPS, max_depth=4))
        expression: GeneratedExpression = f
        return (lambda xs: [expression(*xs)]), point
    plan = draw(dags())
    point = draw(st.lists(st.floats(-2, 2), min_size=plan[0], max_size=plan[0]))
    picks = draw(st.lists(st.integers(0, 1000), min_size=1, max_size=3))

    def outputs(xs: list[Value]) -> list[Value]:
        slots = run(plan, xs)
        used = {o for _, operands, _ in plan[1] for o in operands}
        sinks = [v for k, v in enumerate(slots) if k not in used and isinstance(v, Value)]
        total = sinks[0]
        for v in sinks[1:]:
            total = total + v
        values = [total, *(v for v in reversed(slots) if isinstance(v, Value))]
        return [values[p % len(values)] for p in picks]

    return outputs, point


def built(case: Case) -> tuple[list[Value], list[Value]]:
    """The case's outputs and inputs, or a rejected example where the graph cannot be built."""
    outputs, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    try:
        return outputs(xs), xs
    except (ArithmeticError, ValueError):
        reject()


def same(a: Any, b: Any) -> bool:
    """Equal as the walks promise: ``==`` (so 0.0 equals -0.0), and NaN equal to NaN."""
    a, b = _number(a), _number(b)
    return a == b or (math.isnan(a) and math.isnan(b))


def _number(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def float_walk(
    outs: list[Value], seeds: list[float], node_to_grad: dict[Value, list[Partial]] | None = None
) -> dict[Value, float]:
    """The generic walk on floats: the reference every float copy is checked against."""
    order = topological_order(outs)
    return reverse_walk(
        order, zip(outs, seeds), float_local, operator.mul, float_plus, node_to_grad=node_to_grad
    )


# --------------------------------------------------------------------------- the float copies


@given(cases(), st.data())
def test_accumulate_adjoints_is_the_walk_on_floats(case: Case, data: st.DataObject) -> None:
    outs, _ = built(case)
    seeds = [data.draw(SEEDS) for _ in outs]
    walked: dict[Value, list[Partial]] = {}
    copied: dict[Value, list[Partial]] = {}
    want = float_walk(outs, seeds, walked)
    got = accumulate_adjoints(topological_order(outs), zip(outs, seeds), copied)
    assert want.keys() == got.keys()
    for v in want:
        assert math.copysign(1.0, want[v]) == math.copysign(1.0, got[v]) and same(want[v], got[v])
        assert [(p.child, p.position) for p in walked[v]] == [(p.child, p.position) for p in copied[v]]
        assert all(same(p.value, q.value) for p, q in zip(walked[v], copied[v]))


@given(cases(), SEEDS, st.data())
def test_backward_is_the_walk_with_any_seed_and_grads_already_there(
    case: Case, seed: float, data: st.DataObject
) -> None:
    outs, _ = built(case)
    y = outs[0]
    order = topological_order(y)
    before = {v: data.draw(GRADS) for v in order}
    walk = float_walk([y], [seed])  # adjoints leave .grad alone
    for v, g in before.items():
        v.grad = g
    y.backward(seed)
    for v in order:
        assert same(v.grad, walk[v] + before[v]), (v, v.grad, walk[v], before[v])


@given(cases(), st.data())
def test_adjoints_and_grad_are_the_walk_on_floats(case: Case, data: st.DataObject) -> None:
    outs, xs = built(case)
    seeds = [data.draw(SEEDS) for _ in outs]
    walk = float_walk(outs, seeds)
    adj = sg.adjoints(outs, seeds)
    assert adj.keys() == walk.keys() and all(same(adj[v], walk[v]) for v in walk)
    for x, g in zip(xs, sg.grad(outs, xs, seed=seeds)):
        assert same(g, walk.get(x, 0.0))


# --------------------------------------------------------------------------- create_graph


@given(cases(), st.data())
def test_create_graph_sums_the_same_partial_adjoints_in_the_same_order(
    case: Case, data: st.DataObject
) -> None:
    """Where the float adjoint is not NaN, the Value walk's adjoint evaluates to it exactly.

    The Value walk leaves out structurally zero partial adjoints (0 · ∂ gives no node),
    so where the float walk forms 0 · ∞ = NaN it has a number instead. NaN spreads to
    every node the NaN's node depends on, so a float adjoint that is not NaN never met
    one, and each partial adjoint the Value walk dropped was a zero in the float walk.
    """
    outs, xs = built(case)
    seeds = [data.draw(SEEDS) for _ in outs]
    wrt = data.draw(st.lists(st.sampled_from(xs), unique=True, min_size=1))
    walked: dict[Value, list[Partial]] = {}
    graphed: dict[Value, list[Partial]] = {}
    walk = float_walk(outs, seeds, walked)
    adj = sg.adjoints(outs, seeds, create_graph=True, wrt=wrt, node_to_grad=graphed)
    relevant = depending_on(topological_order(outs), wrt)
    assert adj.keys() <= relevant
    for v in relevant & walk.keys():
        if not math.isnan(walk[v]):
            assert same(adj.get(v, 0.0), walk[v]), (v, adj.get(v), walk[v])
        # the Value walk's partial adjoints are the float walk's, in order, less structural zeros
        floats = iter([p for p in walked[v] if p.child is None or p.child in relevant])
        for p in graphed.get(v, []):
            q = next(floats)
            while (q.child, q.position) != (p.child, p.position):
                assert q.value == 0.0 or math.isnan(q.value), (v, p, q)
                q = next(floats)
            assert same(p.value, q.value) or math.isnan(q.value)
        assert all(q.value == 0.0 or math.isnan(q.value) for q in floats)
    for x, g in zip(wrt, sg.grad(outs, wrt, seed=seeds, create_graph=True)):
        if not math.isnan(walk.get(x, 0.0)):
            assert same(g, walk.get(x, 0.0))


# --------------------------------------------------------------------------- compiled code


@settings(max_examples=60, deadline=None)
@given(cases(), st.data())
def test_compiled_gradients_are_the_walk(case: Case, data: st.DataObject) -> None:
    outs, xs = built(case)
    y = outs[0]
    wrt = data.draw(st.lists(st.sampled_from(xs), unique=True, min_size=1))
    compiled = sg.compile(y, wrt, inputs=xs)
    value, gradient = compiled(*(x.data for x in xs))
    walk = float_walk([y], [1.0])
    assert same(value, y.data)
    for w, g in zip(wrt, gradient):
        assert same(g, walk.get(w, 0.0))
    y.backward()
    assert all(same(g, w.grad) for w, g in zip(wrt, gradient))


@settings(max_examples=30, deadline=None)
@given(cases(), st.data())
def test_compiled_hessians_are_the_walk_over_the_create_graph_gradient(
    case: Case, data: st.DataObject
) -> None:
    outs, xs = built(case)
    y = outs[0]
    wrt = data.draw(st.lists(st.sampled_from(xs), unique=True, min_size=1, max_size=2))
    compiled = sg.compile(y, wrt, inputs=xs, order=2)
    _, gradient, hessian = compiled(*(x.data for x in xs))
    walk = float_walk([y], [1.0])
    assert all(same(g, walk.get(w, 0.0)) for w, g in zip(wrt, gradient))
    for row, g in zip(hessian, sg.grad(y, wrt, create_graph=True)):
        walk = float_walk([g], [1.0])
        assert all(same(h, walk.get(w, 0.0)) for h, w in zip(row, wrt))


# --------------------------------------------------------------------------- the walk itself


def test_the_walk_visits_children_before_parents_and_sums_in_arrival_order() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    arrivals: dict[Value, list[Partial]] = {}
    adj = reverse_walk(
        topological_order(y),
        [(y, "ȳ")],
        lambda v: ("∂a", "∂b"),
        lambda g, d: f"{g}·{d}",
        _concat,
        node_to_grad=arrivals,
    )
    assert adj[x2] == "ȳ·∂b·∂a + ȳ·∂a·∂b·∂b"  # from sin first, then mul, as the notes sum v̄2
    assert [p.child.op.name for p in arrivals[x2] if p.child is not None] == ["sin", "mul"]
    only_x1 = depending_on(topological_order(y), [x1])
    assert x2 not in only_x1 and y in only_x1
    within = reverse_walk(
        topological_order(y),
        [(y, "ȳ")],
        lambda v: ("∂a", "∂b"),
        lambda g, d: f"{g}·{d}",
        _concat,
        relevant=only_x1,
    )
    assert within.keys() == only_x1 and within[x1] == adj[x1]


def _concat(total: str | None, term: str) -> str:
    return term if total is None else f"{total} + {term}"
