"""Every differentiation method cross-checked on random expressions from scalargrad.testing.

backward == grad == jvp along each basis direction == central differences; create_graph
gradients evaluate to the plain ones and differentiate again correctly; pytrees keep their
structure; the extended graph stays small and is labelled; formulas print and re-evaluate.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict, namedtuple
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scalargrad import (
    Value,
    adjoints,
    grad,
    hessian,
    jacobian,
    jvp,
    tree_flatten,
    tree_unflatten,
    vjp,
)
from scalargrad.expr import FUNCTIONS  # the parser's whitelist: every op function, ln and log
from scalargrad.graph import count_ops, formula, topological_order
from scalargrad.testing import (
    GeneratedExpression,
    assert_gradients_close,
    assert_hessian_close,
    expressions,
    expressions_and_points,
    points,
)

CASES = expressions_and_points(min_inputs=1, max_inputs=3)

Case = tuple[GeneratedExpression, list[float]]
"""A random expression and a point to evaluate it at."""


def inputs(point: list[float]) -> list[Value]:
    return [Value(x, label=f"x{i}") for i, x in enumerate(point)]


def close(a: float, b: float, scale: float = 1.0) -> bool:
    """Equal up to rounding in a different summation order."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, scale))


def magnitude(y: Value) -> float:
    """The largest |value| in y's graph: the scale of rounding errors in its derivatives."""
    return max(abs(v.data) for v in topological_order(y))


def new_nodes(gradients: list[Value], forward: Value) -> list[Value]:
    """The nodes a create_graph gradient added to the forward graph."""
    old = set(topological_order(forward))
    return [v for v in topological_order(gradients) if v not in old]


def new_ops(gradients: list[Value], forward: Value) -> dict[str, int]:
    """count_ops restricted to the nodes the gradient added: the backward pass's own ops."""
    counts: dict[str, int] = {}
    for v in new_nodes(gradients, forward):
        if v.op is not None:
            counts[v.op.name] = counts.get(v.op.name, 0) + 1
    return counts


# --------------------------------------------------------------------------- #
# first order: every method agrees                                             #
# --------------------------------------------------------------------------- #


@given(CASES)
def test_backward_grad_jvp_and_central_differences_agree(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    y.backward()
    backward = [x.grad for x in xs]
    reverse = grad(y, xs)
    forward = [jvp(y, {x: 1.0}) for x in xs]
    numeric_checked = assert_gradients_close(f, point)
    scale = magnitude(y) * max(1.0, *(abs(g) for g in reverse))
    assert reverse == backward  # the same walk, summing in the same order
    assert numeric_checked == reverse
    for r, t in zip(reverse, forward):
        assert close(r, t, scale), (f, point, reverse, forward)


@given(CASES)
def test_grad_leaves_dot_grad_alone(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    grad(y, xs)
    grad(y, xs, create_graph=True)
    assert all(v.grad == 0.0 for v in topological_order(y))


@given(CASES)
def test_create_graph_gradients_evaluate_to_the_plain_gradients(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    plain = grad(y, xs)
    graphs = grad(y, xs, create_graph=True)
    assert all(isinstance(g, Value) for g in graphs)
    scale = magnitude(y) * max(1.0, *(abs(g) for g in plain))
    for p, g in zip(plain, graphs):
        assert close(p, g.data, scale), (f, point, plain, [g.data for g in graphs])


@given(CASES)
def test_inputs_not_reached_get_zero(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    reached = set(topological_order(y))
    plain = grad(y, xs)
    graphs = grad(y, xs, create_graph=True)
    for x, p, g in zip(xs, plain, graphs):
        if x not in reached:
            assert p == 0.0
            assert g.is_constant and g.data == 0.0
            assert jvp(y, {x: 1.0}) == 0.0


def test_wrt_not_reached_gets_zero() -> None:
    x, unused = Value(3.0, label="x"), Value(4.0, label="unused")
    y = x * x
    assert grad(y, [x, unused]) == [6.0, 0.0]
    assert grad(y, {"u": unused}) == {"u": 0.0}
    g = grad(y, unused, create_graph=True)
    assert isinstance(g, Value) and g.is_constant and g.data == 0.0
    assert jvp(y, {unused: 1.0}) == 0.0


def test_grad_with_respect_to_an_intermediate_node_and_the_output() -> None:
    x = Value(0.5, label="x")
    s = x.sin()
    y = s * s
    assert grad(y, s) == pytest.approx(2 * math.sin(0.5))
    assert grad(y, y) == 1.0
    assert grad(y, y, create_graph=True).data == 1.0


# --------------------------------------------------------------------------- #
# second order                                                                 #
# --------------------------------------------------------------------------- #


@given(CASES)
def test_second_derivatives_equal_differences_of_first_derivatives(
    case: Case,
) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    rows = assert_hessian_close(f, point)
    assert rows == hessian(y, xs)


@given(CASES)
def test_hessian_is_symmetric(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    h = hessian(y, xs)
    scale = max(1.0, *(abs(e) for row in h for e in row)) * magnitude(y)
    n = len(xs)
    for i in range(n):
        for j in range(i + 1, n):
            assert math.isclose(h[i][j], h[j][i], rel_tol=1e-7, abs_tol=1e-10 * scale), (f, point, h)


def test_hessian_of_a_single_value_is_a_number() -> None:
    x = Value(2.0)
    assert hessian(x**3, x) == 12.0


def test_hessian_is_shaped_like_wrt_of_wrt() -> None:
    x, y, z = Value(1.0), Value(3.0), Value(2.0)
    out = x * x * y + y * z
    flat = hessian(out, [x, y, z])
    assert flat == [[6.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    assert hessian(out, {"x": x, "y": y}) == {"x": {"x": 6.0, "y": 2.0}, "y": {"x": 2.0, "y": 0.0}}
    nested = hessian(out, {"a": [x, y], "z": z})
    assert nested["a"][1] == {"a": [2.0, 0.0], "z": 1.0}
    assert nested["z"] == {"a": [0.0, 1.0], "z": 0.0}
    assert hessian(out, (x, y)) == ((6.0, 2.0), (2.0, 0.0))
    assert hessian(out, []) == []


def test_hessian_of_arrays_has_the_shapes_side_by_side() -> None:
    np = pytest.importorskip("numpy")
    from scalargrad import array

    X, b = array(np.array([[1.0, 2.0], [3.0, 4.0]]), "X"), Value(2.0)
    out = (X * X).sum() * b
    h = hessian(out, {"X": X, "b": b})
    assert h["X"]["X"].shape == (2, 2, 2, 2)
    assert h["X"]["X"][0, 1, 0, 1] == 4.0 and h["X"]["X"][0, 1, 1, 0] == 0.0
    assert h["X"]["b"].tolist() == h["b"]["X"].tolist() == [[2.0, 4.0], [6.0, 8.0]]
    assert h["b"]["b"] == 0.0
    flat = hessian(out, [*X.flat, b])
    assert np.array_equal(h["X"]["X"].reshape(4, 4), np.array(flat)[:4, :4])


def test_third_derivative_by_repeated_create_graph() -> None:
    x = Value(0.7, label="x")
    y = x.sin() * x
    d1 = grad(y, x, create_graph=True)
    d2 = grad(d1, x, create_graph=True)
    d3 = grad(d2, x)
    # (x sin x)''' = -3 sin x - x cos x
    assert d3 == pytest.approx(-3 * math.sin(0.7) - 0.7 * math.cos(0.7), rel=1e-12)


def test_pow_second_derivative_at_zero_base() -> None:
    x = Value(0.0, label="x")
    assert hessian(x**2, x) == 2.0


def test_pow_second_derivative_at_zero_exponent() -> None:
    x, y = Value(2.0, label="x"), Value(0.0, label="y")
    h = hessian(x**y, [x, y])
    assert h[0][1] == pytest.approx(0.5)
    assert h[0][1] == pytest.approx(h[1][0])


# --------------------------------------------------------------------------- #
# several outputs: vector-Jacobian products and Jacobians                      #
# --------------------------------------------------------------------------- #

SEEDS = st.floats(-3, 3, allow_nan=False)


@st.composite
def two_functions(draw: Any) -> tuple[GeneratedExpression, GeneratedExpression, list[float]]:
    n = draw(st.integers(1, 3))
    return draw(expressions(n)), draw(expressions(n)), draw(points(n))


@given(two_functions(), SEEDS, SEEDS)
def test_seeded_outputs_give_vector_jacobian_products(
    fs: tuple[GeneratedExpression, GeneratedExpression, list[float]], s1: float, s2: float
) -> None:
    f1, f2, point = fs
    xs = inputs(point)
    y1, y2 = f1(*xs), f2(*xs)
    g1, g2 = grad(y1, xs), grad(y2, xs)
    expected = [s1 * a + s2 * b for a, b in zip(g1, g2)]
    scale = (magnitude(y1) + magnitude(y2)) * max(1.0, *(abs(g) for g in g1 + g2))
    seeded = grad([y1, y2], xs, seed=[s1, s2])
    as_dict = grad({"a": y1, "b": y2}, xs, seed={"a": s1, "b": s2})
    graphs = grad((y1, y2), xs, seed=(s1, s2), create_graph=True)
    for e, v, d, g in zip(expected, seeded, as_dict, graphs):
        assert close(e, v, scale) and close(e, d, scale) and close(e, g.data, scale)
    assert jacobian([y1, y2], xs) == [g1, g2]
    assert jacobian({"a": y1, "b": y2}, {"x": xs}) == [{"x": g1}, {"x": g2}]


@given(two_functions(), SEEDS, SEEDS)
def test_vjp_with_a_one_hot_seed_is_the_gradient_and_is_linear_in_the_seed(
    fs: tuple[GeneratedExpression, GeneratedExpression, list[float]], s1: float, s2: float
) -> None:
    f1, f2, point = fs
    xs = inputs(point)
    ys = {"first": f1(*xs), "second": f2(*xs)}
    wrt = {"x": xs}
    assert vjp(ys, wrt, {"first": 1.0, "second": 0.0}) == grad(ys["first"], wrt)
    assert vjp(ys, wrt, {"second": 1.0, "first": 0.0}) == grad(ys["second"], wrt)
    assert vjp(ys, wrt, {"first": s1, "second": s2}) == grad(ys, wrt, seed={"first": s1, "second": s2})
    # linear in the seed: vjp(a·u + b·w) = a·vjp(u) + b·vjp(w), up to rounding
    g1, g2 = grad(ys["first"], xs), grad(ys["second"], xs)
    combined = vjp(ys, xs, {"first": s1, "second": s2})
    scale = (magnitude(ys["first"]) + magnitude(ys["second"])) * max(1.0, *(abs(g) for g in g1 + g2))
    for c, a, b in zip(combined, g1, g2):
        assert close(c, s1 * a + s2 * b, scale)
    graphs = vjp(ys, wrt, {"first": s1, "second": s2}, create_graph=True)
    assert all(isinstance(g, Value) for g in graphs["x"])
    assert [g.data for g in graphs["x"]] == [pytest.approx(c, rel=1e-9, abs=1e-12 * scale) for c in combined]


@given(st.data())
def test_vjp_and_jvp_are_transposes(data: st.DataObject) -> None:
    """⟨ū, J v⟩ = ⟨Jᵀū, v⟩ for m random functions of n inputs and random ū, v."""
    n, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    fs = [data.draw(expressions(n)) for _ in range(m)]
    point = data.draw(points(n))
    u = data.draw(st.lists(SEEDS, min_size=m, max_size=m))
    v = data.draw(st.lists(SEEDS, min_size=n, max_size=n))
    xs = inputs(point)
    ys = [f(*xs) for f in fs]
    pushed: list[float] = jvp(ys, dict(zip(xs, v)))
    pulled: list[float] = vjp(ys, xs, u)
    left = math.fsum(a * b for a, b in zip(u, pushed))
    right = math.fsum(a * b for a, b in zip(pulled, v))
    rows = jacobian(ys, xs)
    terms = sum(abs(a * j * b) for a, row in zip(u, rows) for j, b in zip(row, v))
    scale = max(magnitude(y) for y in ys) * max(1.0, terms)
    assert close(left, right, scale), (fs, point, u, v, left, right)


def test_vjp_seed_is_shaped_like_the_outputs() -> None:
    x = Value(2.0, label="x")
    assert vjp(x * x, x, 3.0) == 12.0
    assert vjp([x * x, x], [x], [1.0, 2.0]) == [6.0]
    assert str(vjp(x * x, x, 3.0, create_graph=True)) == "3*x + 3*x"
    with pytest.raises(ValueError, match="seed"):
        vjp([x * x, x], x, [1.0])
    with pytest.raises(TypeError):
        vjp(x * x, x)  # type: ignore[call-arg]


def test_jvp_takes_seed_and_its_old_keyword_tangents_with_a_warning() -> None:
    x = Value(2.0)
    assert jvp(x * x, {x: 1.0}) == jvp(x * x, seed={x: 1.0}) == 4.0
    with pytest.warns(DeprecationWarning, match=r"jvp\(outputs, seed=\.\.\.\)"):
        assert jvp(x * x, tangents={x: 1.0}) == 4.0
    with pytest.raises(TypeError, match="both 'seed' and its old name 'tangents'"):
        jvp(x * x, {x: 1.0}, tangents={x: 1.0})
    with pytest.raises(TypeError, match="unexpected keyword argument 'tangent'"):
        jvp(x * x, tangent={x: 1.0})
    with pytest.raises(TypeError, match="missing its argument 'seed'"):
        jvp(x * x)


def test_an_output_listed_twice_counts_twice() -> None:
    x = Value(3.0)
    y = x * x
    assert grad([y, y], x) == 12.0
    assert grad([y, y], x, seed=[1.0, -1.0]) == 0.0


def test_default_seed_sums_the_outputs() -> None:
    x = Value(2.0)
    assert grad([x * x, x.exp()], x) == pytest.approx(4.0 + math.exp(2.0))


# --------------------------------------------------------------------------- #
# pytrees                                                                      #
# --------------------------------------------------------------------------- #

Pair = namedtuple("Pair", "first second")
LEAF = 0

TREES = st.recursive(
    st.just(LEAF),
    lambda kids: st.lists(kids, max_size=3)
    | st.lists(kids, max_size=3).map(tuple)
    | st.dictionaries(st.sampled_from("abcd"), kids, max_size=3)
    | st.dictionaries(st.sampled_from("wxyz"), kids, max_size=3).map(lambda d: OrderedDict(sorted(d.items())))
    | st.tuples(kids, kids).map(lambda t: Pair(*t)),
    max_leaves=8,
)


def shape(tree: Any) -> Any:
    """The tree's containers and keys, with every leaf replaced by None; types included."""
    if isinstance(tree, dict):
        return (type(tree), [(k, shape(v)) for k, v in tree.items()])
    if isinstance(tree, (list, tuple)):
        return (type(tree), [shape(v) for v in tree])
    return None


@given(TREES, st.integers(0, 2**32 - 1))
def test_grad_keeps_the_structure_of_wrt(tree: Any, seed: int) -> None:
    markers, rebuild = tree_flatten(tree)
    xs = [Value(0.25 * (k + 1) * (-1) ** (seed >> k & 1), label=f"x{k}") for k in range(len(markers))]
    wrt = rebuild(xs)
    extra = Value(1.5)
    y = extra * extra
    for k, x in enumerate(xs):
        y = y + (k + 1) * x * x
    result = grad(y, wrt)
    assert shape(result) == shape(wrt)
    assert tree_flatten(result)[0] == [2 * (k + 1) * x.data for k, x in enumerate(xs)]
    graphs = grad(y, wrt, create_graph=True)
    assert shape(graphs) == shape(wrt)
    assert [g.data for g in tree_flatten(graphs)[0]] == tree_flatten(result)[0]
    leaves, treedef = tree_flatten(result)
    assert tree_unflatten(treedef, leaves) == result


def test_nested_structures_round_trip() -> None:
    a, b, c, d = (Value(v) for v in (1.0, 2.0, 3.0, 4.0))
    wrt = {"w": [a, (b, Pair(c, {"z": d}))], "b": OrderedDict(k=a)}
    y = a * b + c * d
    result = grad(y, wrt)
    assert result == {"w": [2.0, (1.0, Pair(4.0, {"z": 3.0}))], "b": OrderedDict(k=2.0)}
    assert type(result["w"][1][1]) is Pair and type(result["b"]) is OrderedDict
    leaves, rebuild = tree_flatten(result)
    assert leaves == [2.0, 1.0, 4.0, 3.0, 2.0]
    assert rebuild(leaves) == result
    with pytest.raises(ValueError, match="expected 5 leaves"):
        rebuild([1.0])


def test_a_value_listed_twice_in_wrt_gets_its_gradient_twice() -> None:
    x = Value(3.0)
    assert grad(x * x, [x, x]) == [6.0, 6.0]


# --------------------------------------------------------------------------- #
# the extended graph: small, labelled, printable                               #
# --------------------------------------------------------------------------- #


def is_literal(v: Value, *values: float) -> bool:
    return v.is_constant and v.data in values


@given(CASES)
def test_create_graph_adds_no_trivial_operations(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    graphs = grad(y, xs, create_graph=True)
    for v in new_nodes(graphs, y):
        name = v.op.name if v.op is not None else None
        if name == "mul":
            assert not any(is_literal(p, 1.0, -1.0, 0.0) for p in v.parents), formula(v)
        if name in ("add", "sub"):
            assert not any(is_literal(p, 0.0) for p in v.parents), formula(v)


def test_create_graph_drops_cancelled_float_adjoints() -> None:
    x = Value(0.5, label="x")
    y = x - (x + x.exp())
    g = grad(y, x, create_graph=True)
    assert str(g) == "-exp(x)"


def test_create_graph_folds_constant_value_derivatives() -> None:
    x = Value(3.0, label="x")
    assert str(grad(x.sin() * 1, x, create_graph=True)) == "cos(x)"
    assert str(grad(x.sin() * 0, x, create_graph=True)) == "0"
    y = x.sin() + 0 * x
    assert new_ops([grad(y, x, create_graph=True)], y) == {"cos": 1}


def test_create_graph_folds_rules_of_constants() -> None:
    x = Value(3.0, label="x")
    y = x.sin() / 1
    g = grad(y, x, create_graph=True)
    assert str(g) == "cos(x)"
    assert new_ops([g], y) == {"cos": 1}
    z = (2 * x).sin() / 2
    assert str(grad(z, x, create_graph=True)) == "2*(0.5*cos(2*x))"  # grouped as built


def test_create_graph_of_reciprocal_power_has_no_mul_by_minus_one() -> None:
    x = Value(2.0, label="x")
    g = grad(x**-1, x, create_graph=True)
    assert "mul" not in new_ops([g], x**-1)


def test_product_gradient_adds_no_nodes() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1 * x2
    g1, g2 = grad(y, [x1, x2], create_graph=True)
    assert g1 is x2 and g2 is x1  # 1 * x2 is x2 itself: no mul by 1
    assert count_ops([g1, g2]) == {}


def test_notes_example_gradient_graph_is_minimal() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    g = grad(y, [x1, x2], create_graph=True)
    assert [str(gi) for gi in g] == ["x2 + 1/x1", "-cos(x2) + x1"]
    # 1/x1 (the log rule) and one add for x̄1; cos, neg and add for x̄2
    assert new_ops(g, y) == {"div": 1, "add": 2, "cos": 1, "neg": 1}


def test_branches_not_leading_to_wrt_get_no_adjoints() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1 * x2 + x2.sin() * x2.exp()
    g = grad(y, x1, create_graph=True)
    assert g is x2
    assert "cos" not in count_ops(g)
    assert set(adjoints(y, create_graph=True, wrt=[x1])) == {y, y.parents[0], x1}


def test_notes_extended_graph_has_the_notes_adjoint_nodes() -> None:
    v1 = Value(0.5, label="v1")
    v2 = v1.exp()
    v3 = v2 + 1
    v4 = v2 * v3
    g = grad(v4, v1, create_graph=True)
    # v̄3 = v̄4*v2 = v2, v̄2 = v̄2→4 + v̄2→3 = v3 + v2, v̄1 = v̄2 * v2
    assert str(g) == "(exp(v1) + 1 + exp(v1))*exp(v1)"
    assert new_ops([g], v4) == {"add": 1, "mul": 1}
    assert g.label == "v̄1"


def test_a_shared_adjoint_node_is_named_after_the_input() -> None:
    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    gb = grad((a * x + b).sigmoid(), b, create_graph=True)
    assert gb.label == "b̄"


def test_adjoint_nodes_are_labelled_after_their_forward_node() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    adj = adjoints(y, create_graph=True)
    assert adj[x1].label == "x̄1" and adj[x2].label == "x̄2"
    assert (x1.label, x2.label, y.label) == ("x1", "x2", None)  # forward labels untouched
    # adjoints equal to forward nodes are not relabelled
    g1, g2 = grad(x1 * x2, [x1, x2], create_graph=True)
    assert (g1.label, g2.label) == ("x2", "x1")


def test_unlabelled_nodes_are_numbered_in_topological_order() -> None:
    x = Value(0.3)  # v1
    s = x.sin()  # v2
    y = s * s  # v3
    adj = adjoints(y, create_graph=True)
    assert adj[s].label == "v̄2"
    assert adj[x].label == "v̄1"


@given(CASES)
def test_every_new_adjoint_node_is_labelled(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    forward = set(topological_order(y))
    for v, a in adjoints(y, create_graph=True).items():
        if isinstance(a, Value) and a not in forward and not a.is_constant:
            assert a.label is not None and re.fullmatch(r"[xv]\u0304\d+", a.label), (v, a.label)


# --------------------------------------------------------------------------- #
# formulas                                                                     #
# --------------------------------------------------------------------------- #


def evaluate_formula(text: str, names: dict[str, float]) -> float:
    """Evaluate a printed formula with only scalargrad's functions in scope (TEST ONLY)."""
    assert "__" not in text, text
    code = compile(text, "<formula>", "eval")
    assert all(name in FUNCTIONS or name in names for name in code.co_names), code.co_names
    return float(eval(code, {"__builtins__": {}}, {**FUNCTIONS, **names}))


def test_notes_formulas() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    assert str(y) == "ln(x1) + x1*x2 - sin(x2)"
    assert str(grad(y, x1, create_graph=True)) == "x2 + 1/x1"
    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    s = (a * x + b).sigmoid()
    assert str(s) == "sigmoid(a*x + b)"
    assert [str(g) for g in grad(s, [x, a, b], create_graph=True)] == [
        "sigmoid(a*x + b)*sigmoid(-(a*x + b))*a",
        "sigmoid(a*x + b)*sigmoid(-(a*x + b))*x",
        "sigmoid(a*x + b)*sigmoid(-(a*x + b))",
    ]
    v1 = Value(0.0, label="v1")
    assert str((v1.exp() + 1) * v1.exp()) == "(exp(v1) + 1)*exp(v1)"


def test_formulas_use_minimal_parentheses() -> None:
    a, b, c = Value(2.0, label="a"), Value(3.0, label="b"), Value(4.0, label="c")
    assert str(a - (b - c)) == "a - (b - c)"
    assert str((a - b) - c) == "a - b - c"
    assert str(a / (b * c)) == "a/(b*c)"
    assert str(-(a**b)) == "-a**b"
    assert str((-a) ** b) == "(-a)**b"
    assert str(a ** (b**c)) == "a**b**c"
    assert str((a**b) ** c) == "(a**b)**c"
    assert str(a * -b) == "a*(-b)"
    assert str(2 * a - 1) == "2*a - 1"
    for v in (a - (b - c), a / (b * c), -(a**b), (-a) ** 2, a * -b, (a**b) ** c, -2 * a - -1.5):
        assert evaluate_formula(str(v), {"a": 2.0, "b": 3.0, "c": 4.0}) == v.data


@given(CASES)
def test_printed_formulas_evaluate_to_the_same_numbers(case: Case) -> None:
    f, point = case
    xs = inputs(point)
    y = f(*xs)
    names = {f"x{i}": x for i, x in enumerate(point)}
    # a*(b/c) prints as a*b/c and a + (b - c) as a + b - c: equal, but rounded differently
    assert close(evaluate_formula(formula(y), names), y.data, magnitude(y))
    for g in grad(y, xs, create_graph=True):
        try:
            text = formula(g, max_length=5000)
        except ValueError:
            continue  # shared subgraphs printed in full can get long; skip those
        assume("inf" not in text and "nan" not in text)
        assert close(evaluate_formula(text, names), g.data, magnitude(g)), text


# --------------------------------------------------------------------------- #
# bad input                                                                    #
# --------------------------------------------------------------------------- #


def test_bad_input_errors() -> None:
    x = Value(2.0)
    y = x * x
    with pytest.raises(TypeError, match="wrt must be Values"):
        grad(y, 3.0)
    with pytest.raises(TypeError, match="wrt must be Values"):
        grad(y, {"a": [x, "b"]})
    with pytest.raises(TypeError, match="outputs must be Values"):
        grad(4.0, x)
    with pytest.raises(ValueError, match=r"to match them\) must be a list or tuple of 2, got a list of 1"):
        grad([y, y], x, seed=[1.0])
    with pytest.raises(TypeError, match="seeds must be numbers"):
        grad(y, x, seed="1")
    with pytest.raises(TypeError, match="tangents must map"):
        jvp(y, [x])
    with pytest.raises(TypeError, match="keys must be Values"):
        jvp(y, {2.0: 1.0})
    with pytest.raises(TypeError, match="values must be numbers"):
        jvp(y, {x: Value(1.0)})
    with pytest.raises(TypeError, match="single Value output"):
        hessian([y], x)
    with pytest.raises(TypeError, match="outputs must be Values"):
        jacobian([y, 1.0], x)


# --------------------------------------------------------------------------- #
# op counts: the notes' product example                                        #
# --------------------------------------------------------------------------- #


def load_example(name: str) -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("n", [2, 3, 10, 50])
def test_product_partials_cost_n_squared_naively_and_n_in_reverse_mode(n: int) -> None:
    example = load_example("product_op_counts")
    assert example.naive_symbolic_muls(n) == n * (n - 2)
    forward, extended, backward = example.reverse_mode_muls(n)
    assert (forward, extended, backward) == (n - 1, 2 * (n - 2), 2 * (n - 1))
    assert count_ops(example.product(example.thetas(n))) == {"mul": n - 1}



# --------------------------------------------------------------------------- #
# hostile structures: deep or self-containing wrt/outputs (issue 11.16)        #
# --------------------------------------------------------------------------- #


def _nested(leaf: Any, depth: int) -> Any:
    tree = leaf
    for _ in range(depth):
        tree = [tree]
    return tree


@pytest.mark.parametrize(
    "call",
    [
        lambda y, x, tree: grad(y, tree),
        lambda y, x, tree: grad(y, tree, create_graph=True),
        lambda y, x, tree: hessian(y, tree),
        lambda y, x, tree: jacobian(y, tree),
        lambda y, x, tree: grad(tree, x),
        lambda y, x, tree: jvp(tree, {x: 1.0}),
        lambda y, x, tree: jacobian(tree, x),
        lambda y, x, tree: tree_flatten(tree),
    ],
)
def test_deep_and_self_containing_structures_raise_value_error(call: Any) -> None:
    x = Value(2.0, label="x")
    y = x * x
    deep = _nested(x, 100_000)
    with pytest.raises(ValueError, match="nested more than 1000 levels deep"):
        call(y, x, deep)
    looped: list[Any] = [x]
    looped.append(looped)
    with pytest.raises(ValueError, match=r"contains itself \(a list inside itself\)"):
        call(y, x, looped)
    mapping: dict[str, Any] = {"x": x}
    mapping["again"] = {"inner": (mapping,)}
    with pytest.raises(ValueError, match=r"contains itself \(a dict inside itself\)"):
        call(y, x, mapping)


def test_the_error_names_the_argument() -> None:
    x = Value(2.0)
    looped: list[Any] = [x]
    looped.append(looped)
    with pytest.raises(ValueError, match=r"^wrt contains itself"):
        grad(x * x, looped)
    with pytest.raises(ValueError, match=r"^outputs is nested more than"):
        grad(_nested(x * x, 2000), x)


def test_nesting_up_to_the_limit_and_shared_containers_work() -> None:
    x = Value(2.0)
    deep = _nested(x, 1000)
    result = grad(x * x, deep)
    leaves, rebuild = tree_flatten(result)
    assert leaves == [4.0]
    rebuilt, depth = rebuild([1.0]), 0
    while isinstance(rebuilt, list):  # == on 1000 nested lists would itself recurse too deep
        assert len(rebuilt) == 1
        rebuilt, depth = rebuilt[0], depth + 1
    assert (rebuilt, depth) == (1.0, 1000)
    shared = [x, x]
    assert grad(x * x, [shared, {"a": shared}, (shared,)]) == [[4.0, 4.0], {"a": [4.0, 4.0]}, ([4.0, 4.0],)]


def test_dict_seeds_and_compiled_dict_arguments_are_matched_by_key() -> None:
    from fractions import Fraction

    from scalargrad import compile
    from scalargrad.autodiff import tree_leaves_like

    x = Value(2.0)
    outs = {"a": x * 10, "b": x * 1}
    assert grad(outs, x, seed={"a": 1.0, "b": 0.0}) == 10.0
    assert grad(outs, x, seed={"b": 0.0, "a": 1.0}) == 10.0
    assert grad(outs, x, seed={"b": 0.0, "a": 1.0}, create_graph=True).data == 10.0
    with pytest.raises(ValueError, match=r"seed .* must have the keys \['a', 'b'\], got \['c', 'd'\]"):
        grad(outs, x, seed={"c": 1.0, "d": 0.0})
    # any real number is a seed or a tangent, converted to float
    assert grad(x * x, x, seed=Fraction(1, 2)) == 2.0
    assert jvp(x * x, {x: Fraction(1, 2)}) == 2.0

    def f(d: dict[str, float]) -> Any:
        return d["a"] * 10 + d["b"]

    compiled = compile(f, ({"a": 1.0, "b": 2.0},))
    assert compiled({"b": 4.0, "a": 3.0})[0] == 34.0
    with pytest.raises(ValueError, match=r"argument 0 must have the keys \['a', 'b'\]"):
        compiled({"x": 3.0, "y": 4.0})
    a, b = Value(1.0), Value(2.0)
    assert compile(a * 10 + b, {"a": a, "b": b})({"b": 4.0, "a": 3.0})[0] == 34.0
    nested = {"w": [1, (2, 3)], "b": {"k": 4}}
    assert tree_leaves_like({"b": {"k": 40}, "w": [10, [20, 30]]}, nested) == [10, 20, 30, 40]
    with pytest.raises(ValueError, match=r"structure\['w'\]\[1\] must be a list or tuple of 2, got an int"):
        tree_leaves_like({"b": {"k": 40}, "w": [10, 20]}, nested)


def test_adjoints_refuses_wrt_items_that_are_not_values() -> None:
    x = Value(1.0)
    y = x * x
    with pytest.raises(TypeError, match=r"wrt must hold Values only, found int: 3"):
        adjoints(y, wrt=[3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"found int: 3"):
        adjoints(y, wrt=[x, 3], create_graph=True)  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"wrt must be a Value or an iterable of Values, got str"):
        adjoints(y, wrt="x")  # type: ignore[arg-type]
    assert adjoints(y, wrt=x, create_graph=True)[x].data == 2.0
