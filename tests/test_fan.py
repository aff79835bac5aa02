"""Dot nodes (a Fan of 2n parents) in the core's walks and in autodiff, checked by independent means.

On hypothesis DAGs with dot steps (shared operands, dots of dots, constants among the
operands, x·x pairs): topological_order against a search of ``parents``, depending_on
against ancestor sets, forward mode against reverse mode, each against the same
function built from binary ``*`` and ``+`` (the sums round differently: a tolerance),
and gradients, Hessians and check_op against finite differences.
"""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from test_walks import Plan, dags, float_walk, run, same

import scalargrad as sg
from scalargrad import Value, ops
from scalargrad.core import OPS, topological_order
from scalargrad.core.walks import accumulate_adjoints, accumulate_tangents, depending_on
from scalargrad.testing import assert_gradients_close, assert_hessian_close, expressions_and_points

SMOOTH_KINDS = ("add", "sub", "mul", "neg", "tanh", "sin", "atan", "dot", "dot", "dot")
"""Smooth ops defined everywhere: the binary build and the dot build differ only by rounding."""

DOT_HEAVY = ("dot", "dot", "dot", "mul", "add", "sin", "tanh", "exp", "log")


def slots_of(plan: Plan, point: list[float], *, binary: bool = False) -> tuple[list[Value], list[Any]]:
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    try:
        return xs, run(plan, xs, binary=binary)
    except (ArithmeticError, ValueError):
        reject()


def ancestors(roots: list[Value]) -> set[Value]:
    """Every node reached from ``roots`` by ``parents``: the reference for the walks' order."""
    found, todo = set(roots), list(roots)
    while todo:
        for p in todo.pop().parents:
            if p not in found:
                found.add(p)
                todo.append(p)
    return found


@given(dags(), st.data())
def test_topological_order_puts_each_node_once_after_its_parents(plan: Plan, data: st.DataObject) -> None:
    point = data.draw(st.lists(st.floats(-2, 2), min_size=plan[0], max_size=plan[0]))
    _, slots = slots_of(plan, point)
    values = [v for v in slots if isinstance(v, Value)]
    outs = data.draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    order = topological_order(outs)
    place = {v: k for k, v in enumerate(order)}
    assert len(place) == len(order) and place.keys() == ancestors(outs)
    for v in order:
        assert all(place[p] < place[v] for p in v.parents)
        if v.op is OPS["dot"]:
            assert v.parents == v.operands and len(v.local_grads) == len(v.parents) and not v.is_leaf
            half = len(v.parents) // 2
            assert v.local_grads == tuple(p.data for p in (*v.parents[half:], *v.parents[:half]))
    wrt = data.draw(st.lists(st.sampled_from(order), unique=True))
    relevant = depending_on(order, wrt)
    assert relevant == {v for v in order if not ancestors([v]).isdisjoint(wrt)}


@given(dags(kinds=SMOOTH_KINDS, max_steps=12), st.data())
def test_dot_nodes_equal_binary_products_and_sums_forward_and_reverse(
    plan: Plan, data: st.DataObject
) -> None:
    point = data.draw(st.lists(st.floats(-2, 2), min_size=plan[0], max_size=plan[0]))
    xs, slots = slots_of(plan, point)
    bxs, bslots = slots_of(plan, point, binary=True)
    values = [k for k, v in enumerate(slots) if isinstance(v, Value)]
    y, by = slots[values[-1]], bslots[values[-1]]
    order = topological_order(y)
    scale = max(abs(v.data) for v in topological_order(by))
    if not math.isfinite(scale) or scale > 1e6:
        reject()
    assert math.isclose(y.data, by.data, rel_tol=1e-9, abs_tol=1e-9 * scale)
    reverse, binary = sg.grad(y, xs), sg.grad(by, bxs)
    forward = [sg.jvp(y, {x: 1.0}) for x in xs]
    tangents = [accumulate_tangents(order, {x: 1.0}).get(y, 0.0) for x in xs]
    gscale = scale * max(1.0, *map(abs, binary))
    for r, b, f, t in zip(reverse, binary, forward, tangents, strict=True):
        assert math.isclose(r, b, rel_tol=1e-7, abs_tol=1e-7 * gscale), (r, b)
        assert math.isclose(r, f, rel_tol=1e-9, abs_tol=1e-9 * gscale), (r, f)
        assert same(f, t)
    assert [g.data for g in sg.grad(y, xs, create_graph=True)] == reverse


@given(expressions_and_points(max_inputs=3, ops=DOT_HEAVY))
def test_gradients_and_hessians_of_dot_expressions_equal_finite_differences(case: Any) -> None:
    f, point = case
    xs = [Value(x) for x in point]
    try:
        y = f(*xs)
    except (ArithmeticError, ValueError):
        reject()
    reverse = sg.grad(y, xs)
    assert assert_gradients_close(f, point) == reverse
    assert sg.gradcheck(f, point) and sg.gradgradcheck(f, point)
    rows = assert_hessian_close(f, point)
    assert rows == sg.hessian(y, xs)
    # seeding 2 scales every partial adjoint exactly, except where one is subnormal and rounds
    # on the fixed subnormal grid: (2x)*0.1 and 2*(x*0.1) may then differ in the last place
    twice = sg.vjp(y, xs, 2.0)
    assert all(math.isclose(a, 2.0 * g, rel_tol=1e-15, abs_tol=1e-322) for a, g in zip(twice, reverse))
    assert [g.data for g in sg.grad(y, xs, create_graph=True)] == reverse


def test_a_deep_chain_through_dots_and_a_dot_of_deep_branches() -> None:
    """20000 dot nodes deep, past any recursion limit: every walk is iterative, the Fan search too."""
    x, w = Value(0.5, label="x"), Value(0.999, label="w")
    v = x
    for k in range(20000):
        v = ops.dot([v, w, 0.001], [w, v, x]) if k % 2 else ops.dot([v], [w]).tanh()
    branches = [v * x, v.sin(), x]  # the top dot's search resumes after each deep branch
    y = ops.dot(branches, [*branches[1:], v])
    order = topological_order(y)
    assert len(order) == len(set(order)) == len(ancestors([y]))
    place = {n: k for k, n in enumerate(order)}
    assert all(place[p] < place[n] for n in order for p in n.parents)
    walk = float_walk([y], [1.0])
    assert accumulate_adjoints(order, [(y, 1.0)]) == walk
    y.backward()
    assert (x.grad, w.grad) == (walk[x], walk[w])
    assert sg.jvp(y, {x: 1.0}) == pytest.approx(walk[x], rel=1e-9)
    for twin in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert [n.data for n in topological_order(twin)] == [n.data for n in order]


def test_check_op_checks_dot_at_each_operand_count_it_takes() -> None:
    assert sg.check_op("dot")


@pytest.mark.parametrize("width", [10, 1000])
def test_the_search_reads_a_wide_fans_parents_once_not_once_per_return(
    monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """A dot whose operands have parents of their own sends the search back to it once per
    operand; it goes on from where it stopped, so it reads the Fan's groups a fixed number of
    times whatever the width (reading them on every return was quadratic: 17 s at 16,000).
    Pickling and copying search the graph the same way."""
    from scalargrad.core.value import Fan

    slot = Fan.__dict__["groups"]
    reads = []

    def counted(fan: Fan) -> Any:
        reads.append(fan)
        return slot.__get__(fan, Fan)

    operands = [Value(float(i)).tanh() for i in range(width)]
    y = ops.dot(operands, [Value(1.0).sin() for _ in range(width)])
    monkeypatch.setattr(Fan, "groups", property(counted, slot.__set__))
    order = topological_order(y)
    assert len(order) == 4 * width + 1 and order[-1] is y
    assert len(reads) <= 3
    for save in (pickle.dumps, copy.deepcopy):  # the search that saves and copies graphs, too
        reads.clear()
        save(y)
        assert len(reads) <= 6, save
