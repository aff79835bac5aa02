"""The open core: user-defined ops through every method, no_grad/detach, copies and pickles,
generated methods, and the one reverse walk shared by backward, adjoints and the trace."""

from __future__ import annotations

import copy
import math
import pickle
import re
import threading

import pytest
from hypothesis import given, settings

import scalargrad as sg
from scalargrad import OPS, Value
from scalargrad.core import Partial, accumulate_adjoints, saving, topological_order
from scalargrad.testing import (
    GeneratedExpression,
    assert_gradients_close,
    expressions,
    expressions_and_points,
)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# A user's unary op and binary op, defined the documented way (README "Your own ops").
SOFTPLUS = sg.define_op("user_softplus", _softplus, lambda x, out: sg.sigmoid(x))
SMOOTHMAX = sg.define_op(
    "user_smoothmax",
    lambda a, b: max(a, b) + math.log1p(math.exp(-abs(a - b))),
    lambda a, b, out: (sg.sigmoid(a - b), sg.sigmoid(b - a)),
    arity=2,
    latex=r"\operatorname{{smax}}\left({0}, {1}\right)",
)


def notes_with_user_ops() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return SOFTPLUS(x1 * x2) + SMOOTHMAX(x1, x2.sin()), x1, x2


def expected_gradient(a: float, b: float) -> list[float]:
    s = 1 / (1 + math.exp(-a * b))
    t = 1 / (1 + math.exp(-(a - math.sin(b))))
    return [s * b + t, s * a + (1 - t) * math.cos(b)]


# --------------------------------------------------------------------------- #
# user-defined ops get everything a built-in op gets                           #
# --------------------------------------------------------------------------- #


def test_user_op_backward_grad_and_forward_mode() -> None:
    y, x1, x2 = notes_with_user_ops()
    want = expected_gradient(2.0, 5.0)
    y.backward()
    assert [x1.grad, x2.grad] == pytest.approx(want, rel=1e-12)
    assert sg.grad(y, [x1, x2]) == pytest.approx(want, rel=1e-12)
    assert [sg.jvp(y, {x1: 1.0}), sg.jvp(y, {x2: 1.0})] == pytest.approx(want, rel=1e-12)
    assert sg.tangents(y, {x1: 1.0})[y] == pytest.approx(want[0], rel=1e-12)
    assert SOFTPLUS(1000.0) == 1000.0 and isinstance(SOFTPLUS(0.5), float)


def test_user_op_gradient_as_a_graph_and_hessian() -> None:
    y, x1, x2 = notes_with_user_ops()
    g = sg.grad(y, [x1, x2], create_graph=True)
    assert all(isinstance(gi, Value) for gi in g)
    assert [gi.data for gi in g] == pytest.approx(expected_gradient(2.0, 5.0), rel=1e-12)
    assert "sigmoid(x1*x2)" in str(g[0])
    h = sg.hessian(y, [x1, x2])
    eps = 1e-6
    for j in range(2):
        plus = expected_gradient(2.0 + eps * (j == 0), 5.0 + eps * (j == 1))
        minus = expected_gradient(2.0 - eps * (j == 0), 5.0 - eps * (j == 1))
        for i in range(2):
            assert h[i][j] == pytest.approx((plus[i] - minus[i]) / (2 * eps), rel=1e-5, abs=1e-7)
    assert sg.gradgradcheck(lambda a, b: SOFTPLUS(a * b) + SMOOTHMAX(a, sg.sin(b)), [2.0, 5.0])


def test_user_op_formulas_traces_and_diagrams() -> None:
    y, x1, _ = notes_with_user_ops()
    assert str(y) == "user_softplus(x1*x2) + user_smoothmax(x1, sin(x2))"
    latex = sg.graph.formula(y, latex=True)
    assert r"\operatorname{user\_softplus}\left(x1 \cdot x2\right)" in latex
    assert r"\operatorname{smax}\left(x1, \sin\left(x2\right)\right)" in latex
    t = sg.trace(y)
    lines = str(t)
    assert "v₅ = user_softplus(v₃) = user_softplus(10) = 10" in lines
    assert "v₆ = user_smoothmax(v₁, v₄) = user_smoothmax(2, −0.959) = 2.051" in lines
    assert "v̇₅ = sigmoid(v₃)·v̇₃ = sigmoid(10)·5 = 5" in lines
    assert "v̄₁ = v̄₆·sigmoid(v₁ − v₄) + v̄₃·v₂ = 1·sigmoid(2 − (−0.959)) + 1·5 = 0.951 + 5 = 5.95" in lines
    assert t.adjoint.rows[-1].value == sg.grad(y, x1)
    pytest.importorskip("graphviz")
    for kind in ("forward", "tangent", "adjoint", "extended"):
        source = sg.draw(y, kind=kind).source
        assert "user_smoothmax(v₁, v₄)" in source, kind


def test_user_op_gradcheck_check_op_and_strategies() -> None:
    assert sg.gradcheck(lambda a, b: SMOOTHMAX(SOFTPLUS(a), b), [0.3, -1.2])
    assert sg.check_op(SOFTPLUS) and sg.check_op("user_smoothmax")

    @settings(max_examples=25, deadline=None)
    @given(expressions_and_points(max_inputs=2, ops=["user_softplus", "user_smoothmax", "mul"]))
    def property_holds(case: tuple[GeneratedExpression, list[float]]) -> None:
        f, point = case
        assert_gradients_close(f, point)

    property_holds()
    seen: set[str] = set()

    @settings(max_examples=30, deadline=None)
    @given(expressions(2, ops=["user_softplus", "user_smoothmax"]))
    def collect(e: GeneratedExpression) -> None:
        seen.update(e.ops)

    collect()
    assert {"user_softplus", "user_smoothmax"} <= seen


def test_check_op_catches_a_wrong_rule_and_a_rule_that_drops_the_graph() -> None:
    wrong = sg.define_op("user_wrong_square", lambda x: x * x, lambda x, out: 3 * x)
    with pytest.raises(sg.GradcheckError, match="op 'user_wrong_square' at"):
        sg.check_op(wrong)
    flat = sg.define_op("user_flat_sin", math.sin, lambda x, out: math.cos(x))  # math.cos: no graph
    assert sg.gradcheck(flat, [0.7])
    with pytest.raises(sg.OpDefinitionError, match="user_flat_sin: its derivative computes on floats"):
        sg.check_op(flat)


def test_a_rule_that_computes_on_floats_is_refused_by_create_graph_not_taken_for_a_constant() -> None:
    """``math.cos`` in a rule gives numbers for Values: the Hessian would silently be 0."""
    flat = sg.define_op("user_flat_cos_rule", math.sin, lambda x, out: math.cos(x))
    x = Value(0.7, label="x")
    assert sg.grad(flat(x), x) == math.cos(0.7)  # first order is right
    for second_order in (
        lambda: sg.hessian(flat(x), x),
        lambda: sg.grad(flat(x), x, create_graph=True),
        lambda: sg.gradgradcheck(flat, [0.7]),
    ):
        with pytest.raises(sg.OpDefinitionError, match="computes on floats when given Values"):
            second_order()
    constant = sg.define_op("user_constant_rule", lambda x: 2 * x, lambda x, out: 2.0)
    infinite = sg.define_op("user_infinite_rule", lambda x: x * x, lambda x, out: math.inf)
    graph = sg.define_op("user_graph_rule", math.sin, lambda x, out: sg.cos(x))
    assert constant.graph_rule and infinite.graph_rule and graph.graph_rule and not flat.graph_rule
    assert sg.hessian(constant(x) * x, x) == 4.0
    assert sg.hessian(graph(x), x) == -math.sin(0.7)


def test_define_op_rejects_bad_definitions_at_once() -> None:
    with pytest.raises(ValueError, match="'sin' is already defined"):
        sg.define_op("sin", math.sin, lambda x, out: sg.cos(x))
    with pytest.raises(ValueError, match="'user_softplus' is already defined"):
        sg.define_op("user_softplus", _softplus, lambda x, out: sg.sigmoid(x))
    with pytest.raises(ValueError, match="already a Value attribute"):
        sg.define_op("backward", math.sin, lambda x, out: sg.cos(x))
    with pytest.raises(ValueError, match="identifier"):
        sg.define_op("two words", math.sin, lambda x, out: sg.cos(x))
    with pytest.raises(TypeError, match=r"must return 2 local derivatives .* got 1"):
        sg.define_op("user_bad_arity", lambda a, b: a * b, lambda a, b, out: (b,), arity=2)
    with pytest.raises(TypeError, match=r"must return 1 local derivative .* got 2"):
        sg.define_op("user_bad_unary", math.exp, lambda x, out: (out, out))
    with pytest.raises(TypeError, match=r"derivative.* failed"):
        sg.define_op("user_bad_signature", math.exp, lambda x: x)
    with pytest.raises(ValueError, match="domain must be one of"):
        sg.define_op("user_bad_domain", math.exp, lambda x, out: out, domain="complex")
    for name in ("user_bad_arity", "user_bad_unary", "user_bad_signature", "user_bad_domain"):
        assert name not in OPS


# --------------------------------------------------------------------------- #
# detach and no_grad                                                           #
# --------------------------------------------------------------------------- #


def test_detach_stops_gradients() -> None:
    x = Value(3.0, label="x")
    frozen = (x * x).detach()
    assert frozen.is_leaf and frozen.data == 9.0
    y = x * frozen
    assert sg.grad(y, x) == 9.0  # not 27: the detached factor is a constant


def test_no_grad_builds_no_graph_and_nests() -> None:
    x, w = Value(2.0), Value(0.5)
    with sg.no_grad():
        y = (x * w + 1).tanh()
        with sg.no_grad():
            z = SOFTPLUS(x) + sg.sin(x) + x**2 + 2 - x
        after_inner = x * w
    assert isinstance(y, Value) and y.is_leaf and y.data == math.tanh(2.0)
    assert z.is_leaf and z.data == pytest.approx(_softplus(2.0) + math.sin(2.0) + 4.0)
    assert after_inner.is_leaf
    outside = x * w
    assert outside.parents == (x, w)


def test_no_grad_is_restored_after_an_exception() -> None:
    x = Value(1.0)
    with pytest.raises(ZeroDivisionError), sg.no_grad():
        _ = x / 0
    assert (x * 2).parents == (x,)


# --------------------------------------------------------------------------- #
# generated methods                                                            #
# --------------------------------------------------------------------------- #


def test_method_source_is_the_code_that_runs() -> None:
    source = sg.graph.method_source("tanh")
    assert source.startswith("def tanh(self):") and "v._da = 1.0 - out * out" in source
    assert "out = tanh(a)" in source
    assert "v._db = b" in sg.graph.method_source("__mul__")  # a number operand kept in the node
    import inspect

    assert inspect.getsource(Value.tanh) == source
    with pytest.raises(LookupError, match="no generated method 'nope'"):
        sg.graph.method_source("nope")


def test_numbers_cost_no_node_and_still_print() -> None:
    x = Value(1.5, label="x")
    y = 2 * x + x**2 - 1 / x
    assert len(topological_order(y)) == 6  # x, 2*x, x**2, +, 1/x, -
    assert str(y) == "2*x + x**2 - 1/x"
    t = sg.trace(y)
    assert "v₂ = 2*v₁ = 2*1.5 = 3" in str(t)


# --------------------------------------------------------------------------- #
# copies and pickles                                                           #
# --------------------------------------------------------------------------- #


def test_deepcopy_and_pickle_keep_registered_ops_and_sharing() -> None:
    y, x1, x2 = notes_with_user_ops()
    y = y + 3 * x1 - x2.log()
    for twin_y, twin_x1, twin_x2 in (
        copy.deepcopy((y, x1, x2)),
        pickle.loads(pickle.dumps((y, x1, x2))),
    ):
        assert str(twin_y) == str(y) and twin_y.data == y.data
        pairs = zip(topological_order(twin_y), topological_order(y), strict=True)
        assert all(a.op is b.op for a, b in pairs)
        assert sg.grad(twin_y, [twin_x1, twin_x2]) == sg.grad(y, [x1, x2])
        assert twin_x1 is not x1
    assert saving.saving().nodes == {}


def test_deep_graphs_copy_and_pickle_without_recursion() -> None:
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = (y * 1.0001 + 0.1).tanh()
    expected = sg.grad(y, x)
    for twin in (copy.deepcopy(y), pickle.loads(pickle.dumps(y))):
        assert twin.data == y.data
        twin_x = topological_order(twin)[0]
        assert sg.grad(twin, twin_x) == expected


def test_an_unregistered_op_fails_to_load_with_a_clear_message() -> None:
    op = sg.define_op("user_transient", math.exp, lambda x, out: out)
    data = pickle.dumps(op(Value(0.1)))
    del OPS["user_transient"]
    with pytest.raises(LookupError, match="no op named 'user_transient' is registered"):
        pickle.loads(data)


# --------------------------------------------------------------------------- #
# one reverse walk                                                             #
# --------------------------------------------------------------------------- #


def bits(x: float) -> str:
    return x.hex() if not math.isnan(x) else "nan"


@given(expressions_and_points(max_inputs=3, max_depth=5))
def test_backward_is_the_shared_walk_bit_for_bit(case: tuple[GeneratedExpression, list[float]]) -> None:
    f, point = case
    xs = [Value(x) for x in point]
    y = f(*xs)
    walk = accumulate_adjoints(topological_order(y), [(y, 1.0)])
    y.backward()
    for v in topological_order(y):
        assert bits(v.grad) == bits(walk.get(v, 0.0) + 0.0)


@given(expressions_and_points(max_inputs=3, max_depth=5))
def test_trace_adjoint_table_equals_adjoints_exactly(case: tuple[GeneratedExpression, list[float]]) -> None:
    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    node_to_grad: dict[Value, list[Partial]] = {}
    adj = sg.adjoints(y, node_to_grad=node_to_grad)
    table = sg.trace(y).adjoint
    g_order = sg.graph.evaluation_order(y)
    for row, v in zip(table.rows, reversed(g_order)):
        assert bits(row.value) == bits(adj[v])
        assert [t["value"] for t in row.terms] == [p.value for p in node_to_grad[v]]


def test_node_to_grad_lists_partials_in_the_notes_order() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    node_to_grad: dict[Value, list[Partial]] = {}
    sg.adjoints(y, node_to_grad=node_to_grad)
    partials = node_to_grad[x2]
    assert [p.child.op.name for p in partials if p.child] == ["sin", "mul"]
    assert [round(p.value, 3) for p in partials] == [-0.284, 2.0]
    assert sum(p.value for p in partials) == sg.grad(y, x2)


def test_threads_use_grad_not_backward() -> None:
    """grad keeps its adjoints to itself, so threads sharing a graph get the right numbers."""
    x = Value(0.3)
    y = x
    for _ in range(2000):
        y = (y * 1.001).tanh()
    want = sg.grad(y, x)
    results: list[float] = []
    threads = [threading.Thread(target=lambda: results.append(sg.grad(y, x))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 4


def test_readme_documents_threads_and_no_grad() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert re.search(r"not safe to run `backward` .* from two threads", readme, re.S)
    assert "no_grad" in readme and "detach" in readme
