"""Every op's local derivative against central finite differences and against its rule."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import OPS, Value

# name -> (function on Values/numbers, strategy for points inside the domain)
UNARY: dict[str, tuple[Callable[[Value], Value], st.SearchStrategy[float]]] = {
    "neg": (lambda x: -x, st.floats(-100, 100)),
    "abs": (abs, st.floats(-100, 100).filter(lambda x: abs(x) > 1e-3)),
    "exp": (sg.exp, st.floats(-20, 20)),
    "log": (sg.log, st.floats(1e-2, 1e3)),
    "sqrt": (sg.sqrt, st.floats(1e-2, 1e3)),
    "sin": (sg.sin, st.floats(-10, 10)),
    "cos": (sg.cos, st.floats(-10, 10)),
    "tan": (sg.tan, st.floats(-1.4, 1.4)),
    "tanh": (sg.tanh, st.floats(-5, 5)),
    "sigmoid": (sg.sigmoid, st.floats(-10, 10)),
    "relu": (sg.relu, st.floats(-100, 100).filter(lambda x: abs(x) > 1e-3)),
}

BINARY: dict[
    str, tuple[Callable[[Value, Value], Value], st.SearchStrategy[float], st.SearchStrategy[float]]
] = {
    "add": (lambda a, b: a + b, st.floats(-100, 100), st.floats(-100, 100)),
    "sub": (lambda a, b: a - b, st.floats(-100, 100), st.floats(-100, 100)),
    "mul": (lambda a, b: a * b, st.floats(-100, 100), st.floats(-100, 100)),
    "div": (lambda a, b: a / b, st.floats(-100, 100), st.floats(0.1, 100) | st.floats(-100, -0.1)),
    "pow": (lambda a, b: a**b, st.floats(0.1, 10), st.floats(-3, 3)),
}


def central_difference(f: Callable[[float], float], x: float, eps: float = 1e-6) -> float:
    h = eps * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def close(analytic: float, numeric: float, scale: float = 1.0) -> bool:
    return math.isclose(analytic, numeric, rel_tol=1e-4, abs_tol=1e-6 * max(1.0, scale))


def test_every_op_is_covered() -> None:
    assert set(OPS) - {"const"} == set(UNARY) | set(BINARY)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_derivative_matches_finite_differences(name: str, data: st.DataObject) -> None:
    f, points = UNARY[name]
    x = data.draw(points)
    v = Value(x)
    y = f(v)
    assert y.op is OPS[name]
    y.backward()
    numeric = central_difference(lambda t: f(Value(t)).data, x)
    assert close(v.grad, numeric, abs(y.data)), (name, x, v.grad, numeric)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_derivatives_match_finite_differences(name: str, data: st.DataObject) -> None:
    f, left, right = BINARY[name]
    a, b = data.draw(left), data.draw(right)
    va, vb = Value(a), Value(b)
    y = f(va, vb)
    assume(abs(y.data) < 1e6)
    y.backward()
    da = central_difference(lambda t: f(Value(t), Value(b)).data, a)
    db = central_difference(lambda t: f(Value(a), Value(t)).data, b)
    assert close(va.grad, da, abs(y.data)), (name, a, b, va.grad, da)
    assert close(vb.grad, db, abs(y.data)), (name, a, b, vb.grad, db)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_local_grads_equal_the_ops_rule(name: str, data: st.DataObject) -> None:
    f, points = UNARY[name]
    y = f(Value(data.draw(points)))
    (x,) = (p.data for p in y.parents)
    assert y.local_grads == pytest.approx(OPS[name].rule(x, y.data), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_local_grads_equal_the_ops_rule(name: str, data: st.DataObject) -> None:
    f, left, right = BINARY[name]
    y = f(Value(data.draw(left)), Value(data.draw(right)))
    a, b = (p.data for p in y.parents)
    assert y.local_grads == pytest.approx(OPS[name].rule(a, b, y.data), rel=1e-12)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda x: x.relu(), 0.0),
        (lambda x: abs(x), 0.0),
        (lambda x: x.sqrt(), math.inf),
        (lambda x: x**0, 0.0),
        (lambda x: x**1, 1.0),
        (lambda x: x**2.5, 0.0),
        (lambda x: x**0.5, math.inf),
    ],
    ids=["relu", "abs", "sqrt", "pow0", "pow1", "pow2.5", "pow0.5"],
)
def test_non_differentiable_points_follow_pytorch(make: Callable[[Value], Value], expected: float) -> None:
    x = Value(0.0)
    y = make(x)
    y.backward()
    assert x.grad == expected


def test_exponent_derivative_conventions() -> None:
    base, exponent = Value(0.0), Value(2.0)
    (base**exponent).backward()
    assert exponent.grad == 0.0
    base, exponent = Value(-2.0), Value(3.0)
    y = base**exponent
    assert y.data == -8.0
    y.backward()
    assert math.isnan(exponent.grad)
    assert base.grad == 12.0


def test_pow_exponent_derivative_is_out_times_ln_base() -> None:
    x, y = Value(2.0), Value(3.0)
    (x**y).backward()
    assert y.grad == pytest.approx(8 * math.log(2))
    assert x.grad == pytest.approx(12.0)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu"])
def test_module_functions_accept_numbers_and_values(name: str) -> None:
    function = getattr(sg, name)
    assert isinstance(function(0.5), float)
    assert function(0.5) == getattr(Value(0.5), name)().data
    assert isinstance(function(Value(0.5)), Value)
    with pytest.raises(TypeError, match="real number"):
        function("0.5")


def test_sigmoid_is_stable_at_extremes() -> None:
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert sg.sigmoid(-745.0) >= 0.0


SPECIAL_POINTS: list[tuple[str, tuple[float, ...]]] = [
    *[("pow", (0.0, b)) for b in (0.0, 0.5, 1.0, 2.0, 3.0)],
    *[("pow", (-2.0, b)) for b in (-1.0, 0.0, 1.0, 2.0, 3.0)],
    *[("pow", (2.0, b)) for b in (0.0, -1.0, 0.5)],
    ("relu", (0.0,)),
    ("abs", (0.0,)),
    ("sqrt", (0.0,)),
    ("log", (1e-300,)),
    ("div", (0.0, -3.0)),
    ("tanh", (30.0,)),
    ("sigmoid", (-800.0,)),
]


@pytest.mark.parametrize(("name", "point"), SPECIAL_POINTS)
def test_local_grads_equal_the_ops_rule_at_special_points(name: str, point: tuple[float, ...]) -> None:
    """The inline derivatives and the rule agree where conventions (0, inf, nan) apply."""
    op = OPS[name]
    node = op.apply(*(Value(x) for x in point))
    expected = op.rule(*point, node.data)
    assert len(node.local_grads) == len(expected)
    for got, want in zip(node.local_grads, expected, strict=True):
        assert got == want or (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)
    graph = op.rule(*(Value(x) for x in point), node)  # the create_graph form agrees too
    for g, want in zip(graph, expected, strict=True):
        value = float(g)
        assert value == want or (math.isnan(value) and math.isnan(want)) or value == pytest.approx(want)
