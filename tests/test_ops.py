"""Every op's local derivative against central finite differences and against its rule."""

from __future__ import annotations

import ast
import inspect
import math
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import OPS, Value, ops
from scalargrad.core import methods as core_methods
from scalargrad.core import value as core_value
from scalargrad.core.op import DOMAINS

# points inside each domain an op can declare (scalargrad.core.op.DOMAINS), kept where floats behave
DOMAIN_POINTS: dict[str, st.SearchStrategy[float]] = {
    "real": st.floats(-10, 10),
    "positive": st.floats(1e-2, 1e3),
    "nonzero": st.floats(0.1, 100) | st.floats(-100, -0.1),
    "unit": st.floats(-0.95, 0.95),
    "above_minus_one": st.floats(-0.95, 100),
    "bounded": st.floats(-1.4, 1.4),
}

UNARY = sorted(name for name, op in OPS.items() if op.arity == 1 and op.builtin)  # not tests' user ops
BINARY = sorted(name for name, op in OPS.items() if op.arity == 2 and op.builtin)
KINKED = {"abs", "relu", "minimum", "maximum"}


def draw_point(name: str, data: st.DataObject) -> tuple[float, ...]:
    """A point inside the op's domains, away from its kink and from overflow."""
    if name == "pow":
        return (data.draw(st.floats(0.1, 10)), data.draw(st.floats(-3, 3)))
    point = tuple(data.draw(DOMAIN_POINTS[d]) for d in OPS[name].domains)
    if name in KINKED:
        kink = point[0] if len(point) == 1 else point[0] - point[1]
        assume(abs(kink) > 1e-3)
    return point


def central_difference(f: Callable[[float], float], x: float, eps: float = 1e-6) -> float:
    h = eps * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def close(analytic: float, numeric: float, scale: float = 1.0) -> bool:
    return math.isclose(analytic, numeric, rel_tol=1e-4, abs_tol=1e-6 * max(1.0, scale))


def test_every_op_declares_known_domains() -> None:
    assert set(DOMAIN_POINTS) == set(DOMAINS)
    for op in OPS.values():
        assert len(op.domains) == (op.arity or 1) and set(op.domains) <= set(DOMAINS), op


def test_every_list_of_ops_is_the_registry() -> None:
    """The parser, the CLI's help, the strategies, the methods and the op table all know every op."""
    from scalargrad import cli, expr, ops, testing

    builtin = {name for name, op in OPS.items() if op.builtin}
    calls = {name for name in builtin if OPS[name].notation == "call"}
    assert set(expr.FUNCTIONS) == calls | {"ln"}
    assert set(ops.FUNCTIONS) == calls
    assert set(testing.ALL_OPS) == builtin
    assert set(testing.DEFAULT_OPS) == {n for n in builtin if OPS[n].smooth}
    help_text = cli._parser().format_help()
    table = ops.table()  # the op table of the docs, made from the entries
    for name in calls - {"abs"}:  # abs is Python's abs(v), Value.__abs__
        assert callable(getattr(Value, name)) and getattr(sg, name) is OPS[name], name
    for name in calls:
        assert name in help_text, name
        assert f"`{name}(" in table, name
    # the signatures type checkers see: Value's TYPE_CHECKING block declares the operators, and
    # the named methods through __getattr__ (the core names no op); and the package's exports
    tree = ast.parse(inspect.getsource(core_value))
    value_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Value")
    block = next(
        n for n in value_class.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    declared = {f.name for f in block.body if isinstance(f, ast.FunctionDef)}
    generated = set(core_methods._SOURCES)
    if "__getattr__" in declared:
        generated = {m for m in generated if m.startswith("__")}
    assert generated <= declared, generated - declared
    assert calls - {"abs"} <= set(sg.__all__) and calls - {"abs"} <= set(ops.__all__)


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_derivative_matches_finite_differences(name: str, data: st.DataObject) -> None:
    op = OPS[name]
    (x,) = draw_point(name, data)
    v = Value(x)
    y = op(v)
    assert y.op is op
    y.backward()
    numeric = central_difference(lambda t: op(t), x)
    assert close(v.grad, numeric, abs(y.data)), (name, x, v.grad, numeric)


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_derivatives_match_finite_differences(name: str, data: st.DataObject) -> None:
    op = OPS[name]
    a, b = draw_point(name, data)
    va, vb = Value(a), Value(b)
    y = op(va, vb)
    assume(abs(y.data) < 1e6)
    y.backward()
    da = central_difference(lambda t: op(t, b), a)
    db = central_difference(lambda t: op(a, t), b)
    assert close(va.grad, da, abs(y.data)), (name, a, b, va.grad, da)
    assert close(vb.grad, db, abs(y.data)), (name, a, b, vb.grad, db)


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_local_grads_equal_the_ops_rule(name: str, data: st.DataObject) -> None:
    op = OPS[name]
    (x,) = draw_point(name, data)
    y = op(Value(x))
    assert y.local_grads == op.rule(x, y.data)


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_local_grads_equal_the_ops_rule(name: str, data: st.DataObject) -> None:
    """Every form of a binary node (two Values, a number on either side) agrees with the rule."""
    op = OPS[name]
    a, b = draw_point(name, data)
    expected = op.rule(a, b, op(a, b))
    both = op(Value(a), Value(b))
    assert both.local_grads == expected
    assert op(Value(a), b).local_grads == expected[:1]
    assert op(a, Value(b)).local_grads == expected[1:]


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


@pytest.mark.parametrize("name", sorted(set(ops.FUNCTIONS) - {"abs"}))
def test_module_functions_accept_numbers_and_values(name: str) -> None:
    function = getattr(sg, name)
    args = [0.5] * function.arity
    assert isinstance(function(*args), float)
    assert function(*args) == getattr(Value(0.5), name)(*args[1:]).data
    assert isinstance(function(Value(0.5), *args[1:]), Value)
    with pytest.raises(TypeError, match="real number"):
        function("0.5", *args[1:])


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
    node = op(*(Value(x) for x in point))
    expected = op.rule(*point, node.data)
    assert len(node.local_grads) == len(expected)
    for got, want in zip(node.local_grads, expected, strict=True):
        assert got == want or (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)
    graph = op.rule(*(Value(x) for x in point), node)  # the create_graph form agrees too
    for g, want in zip(graph, expected, strict=True):
        value = float(g)
        assert value == want or (math.isnan(value) and math.isnan(want)) or value == pytest.approx(want)


@pytest.mark.parametrize(
    ("y", "x", "dy", "dx"),
    [(0.0, 2.5e-162, 4e161, 0.0), (1e-160, 1e-160, 5e159, -5e159), (3e-170, 4e-170, 1.6e169, -1.2e169)],
)
def test_atan2_derivatives_where_the_squares_are_subnormal(y: float, x: float, dy: float, dx: float) -> None:
    """issue 18: x² + y² below the smallest normal float has lost digits; the hypotenuse does not."""
    a, b = sg.Value(y), sg.Value(x)
    got = sg.grad(sg.atan2(a, b), [a, b])
    assert math.isclose(got[0], dy, rel_tol=1e-14) and math.isclose(got[1], dx, rel_tol=1e-14, abs_tol=0.0)
    compiled = sg.compile(sg.atan2(a, b), [a, b])
    assert compiled(y, x)[1] == got
    np = pytest.importorskip("numpy")
    arrays = compiled.vectorized("numpy")(np.array([y]), np.array([x]))[1]  # the array forms' own helper
    assert [float(g[0]) for g in arrays] == got
