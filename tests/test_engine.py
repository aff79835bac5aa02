"""The engine: the notes' worked examples, number protocol, domain errors, backward's walk."""

from __future__ import annotations

import gc
import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value, testing
from scalargrad.expr import parse
from scalargrad.graph import count_ops, topological_order

# ---------------------------------------------------------------- the notes


def notes_example() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1, x2, x1.log() + x1 * x2 - x2.sin()


def test_notes_forward_trace_values() -> None:
    *_, y = notes_example()
    order = topological_order(y)
    by_op = {v.op.name: v.data for v in order if v.op is not None}
    assert by_op["log"] == pytest.approx(0.693, abs=5e-4)
    assert by_op["mul"] == 10.0
    assert by_op["sin"] == pytest.approx(-0.959, abs=5e-4)
    assert by_op["add"] == pytest.approx(10.693, abs=5e-4)
    assert y.data == pytest.approx(11.652, abs=5e-4)


def test_notes_adjoints() -> None:
    x1, x2, y = notes_example()
    y.backward()
    assert x1.grad == pytest.approx(5.5, abs=1e-12)
    assert x2.grad == pytest.approx(-math.cos(5.0) + 2.0, abs=1e-12)
    assert x2.grad == pytest.approx(1.716, abs=5e-4)
    assert y.grad == 1.0


def test_notes_sigmoid_example() -> None:
    x, a, b = Value(2.0), Value(3.0), Value(1.0)
    y = (a * x + b).sigmoid()
    y.backward()
    assert y.data == pytest.approx(0.99909, abs=5e-6)
    assert x.grad == pytest.approx(0.00273, abs=5e-6)
    assert a.grad == pytest.approx(0.00182, abs=5e-6)
    assert b.grad == pytest.approx(0.00091, abs=5e-6)
    s = 1 / (1 + math.exp(-7))
    assert (x.grad, a.grad, b.grad) == pytest.approx((3 * s * (1 - s), 2 * s * (1 - s), s * (1 - s)))


def test_notes_extended_graph_example_backward() -> None:
    v1 = Value(0.3)
    v2 = v1.exp()
    y = (v2 + 1) * v2
    y.backward()
    e = math.exp(0.3)
    assert v1.grad == pytest.approx(2 * e * e + e)
    assert v2.grad == pytest.approx(2 * e + 1)


def test_multiple_pathways_sum_partial_adjoints() -> None:
    v1 = Value(1.5)
    v2, v3 = v1.exp(), v1 * v1
    y = v2 * v3
    y.backward()
    assert v1.grad == pytest.approx(math.exp(1.5) * 1.5**2 + math.exp(1.5) * 2 * 1.5)
    z = Value(3.0)
    w = z + z + z * z
    w.backward()
    assert z.grad == 2 + 2 * 3.0


# ------------------------------------------------------------- backward twice


def test_backward_twice_doubles_grads_without_compounding() -> None:
    x = Value(3.0)
    y = x * x * x
    y.backward()
    assert x.grad == 27.0
    y.backward()
    assert x.grad == 54.0
    intermediate = y.parents[0]
    assert intermediate.grad == 2 * 3.0  # d(x*x*x)/d(x*x) = x, twice


def test_zero_grad_resets_the_whole_graph() -> None:
    x = Value(3.0)
    y = (x * x).exp()
    y.backward()
    y.zero_grad()
    assert all(v.grad == 0.0 for v in topological_order(y))
    y.backward(seed=2.0)
    assert x.grad == pytest.approx(2 * math.exp(9.0) * 6.0)


def test_deep_chain_of_a_million_ops_does_not_recurse() -> None:
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(1.5)
    assert len(topological_order(y)) == 1_000_001  # the numbers live in the nodes, not in nodes of their own
    del y
    gc.collect()


def test_graph_is_freed_by_reference_counting() -> None:
    gc.disable()
    try:
        x = Value(1.0)
        y = (x * 2).tanh() + x
        y.backward()
        probe = (x * 3).exp()
        before = len(gc.get_referrers(x))
        del y, probe
        assert len(gc.get_referrers(x)) < before
    finally:
        gc.enable()


# --------------------------------------------------------------- number protocol

REFLECTED: list[tuple[str, Callable[[object, object], object]]] = [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("pow", operator.pow),
]


@pytest.mark.parametrize(("name", "op"), REFLECTED)
@pytest.mark.parametrize("number", [2, 2.5])
def test_mixed_operands_on_either_side(
    name: str, op: Callable[[object, object], object], number: float
) -> None:
    x = Value(1.5)
    left, right = op(x, number), op(number, x)
    assert isinstance(left, Value) and isinstance(right, Value)
    assert left.data == pytest.approx(op(1.5, number))  # type: ignore[arg-type]
    assert right.data == pytest.approx(op(number, 1.5))  # type: ignore[arg-type]
    assert left.op is sg.OPS[name.replace("truediv", "div")] and right.op is left.op
    # the number is kept in the node, not made a node of its own, and still printed
    assert left.parents == (x,) and right.parents == (x,)
    assert left.operands == (x, float(number)) and right.operands == (float(number), x)
    assert len(sg.graph.topological_order(left)) == 2
    right.backward()
    h = 1e-6
    assert x.grad == pytest.approx((op(number, 1.5 + h) - op(number, 1.5 - h)) / (2 * h), rel=1e-5)  # type: ignore[operator]


def test_unary_number_protocol() -> None:
    x = Value(-2.5, label="x")
    assert (-x).data == 2.5 and (+x) is x and abs(x).data == 2.5
    assert float(x) == -2.5 and int(x) == -2 and bool(x) and not bool(Value(0.0))
    assert math.isclose(math.sin(x), math.sin(-2.5))  # type: ignore[arg-type]


def test_comparisons_are_by_value_equality_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b and not a < b and a < 2 and a > 0.5 and a < 2
    assert a != b and a == a
    assert {a: "a", b: "b"}[b] == "b"
    assert max([Value(1.0), Value(3.0), Value(2.0)]).data == 3.0
    assert sorted([Value(2.0), Value(-1.0)])[0].data == -1.0
    with pytest.raises(TypeError, match="not supported"):
        _ = a < "1"  # type: ignore[operator]
    assert Value(0.5) < Fraction(1, 2) + Fraction(1, 4) and Value(3.0) > Fraction(5, 2)


def test_sum_builtin_works() -> None:
    xs = [Value(float(i)) for i in range(5)]
    total = sum(xs)
    assert isinstance(total, Value) and total.data == 10.0
    total.backward()
    assert [x.grad for x in xs] == [1.0] * 5


def test_bad_operands_raise_type_error() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError):
        _ = x + "1"  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = [1] * x  # type: ignore[operator]
    with pytest.raises(TypeError, match="real number"):
        Value("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Value itself"):
        Value(x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="real number"):
        x.backward(seed="1")  # type: ignore[arg-type]


def test_repr_and_str() -> None:
    x1, _, y = notes_example()
    assert repr(x1) == "Value(data=2.0, grad=0.0, label='x1')"
    assert repr(Value(1.0)) == "Value(data=1.0, grad=0.0)"
    assert str(y) == "ln(x1) + x1*x2 - sin(x2)"
    assert y.formula() == str(y)
    assert str(Value(3.0)) == "3"


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda x, y: x - (y - 1), "x - (y - 1)"),
        (lambda x, y: (x - y) - 1, "x - y - 1"),
        (lambda x, y: x / (y * 2), "x/(y*2)"),
        (lambda x, y: -(x**2), "-x**2"),
        (lambda x, y: (-x) ** 2, "(-x)**2"),
        (lambda x, y: x ** (y**2), "x**y**2"),
        (lambda x, y: (x**y) ** 2, "(x**y)**2"),
        (lambda x, y: x * -y, "x*(-y)"),
        (lambda x, y: 2**x + (x + y).sin(), "2**x + sin(x + y)"),
        (lambda x, y: x**-1, "x**(-1)"),
        (lambda x, y: -(x + y), "-(x + y)"),
        (lambda x, y: -(-x), "-(-x)"),  # noqa: B002
        (lambda x, y: -(x - 2 * x) * (0 - 2), "-(x - 2*x)*(-2)"),
    ],
)
def test_formula_uses_minimal_parentheses(build: Callable[[Value, Value], Value], expected: str) -> None:
    assert str(build(Value(2.0, label="x"), Value(3.0, label="y"))) == expected


def test_formula_refuses_exponential_blowup() -> None:
    x = Value(1.0, label="x")
    for _ in range(40):
        x = x * x
    with pytest.raises(ValueError, match="max_length"):
        x.formula()
    assert str(x).startswith("Value(data=")


# ----------------------------------------------------------------- domain errors

DOMAIN_ERRORS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("log(0)", lambda: Value(0.0).log(), ValueError, "log.*0.0"),
    ("log(-1)", lambda: Value(-1.0).log(), ValueError, "log.*-1.0"),
    ("sqrt(-1)", lambda: Value(-1.0).sqrt(), ValueError, "sqrt.*-1.0"),
    ("1/0", lambda: 1 / Value(0.0), ZeroDivisionError, "div.*0.0"),
    ("x/0", lambda: Value(1.0) / 0, ZeroDivisionError, "div"),
    ("0**-1", lambda: Value(0.0) ** -1, ZeroDivisionError, "pow.*negative power"),
    ("exp(1000)", lambda: Value(1000.0).exp(), OverflowError, "exp.*1000.0"),
    ("(-2)**0.5", lambda: Value(-2.0) ** 0.5, ValueError, "pow.*-2.0"),
    ("10**400", lambda: Value(10.0) ** 400, OverflowError, "pow"),
    ("sin(inf)", lambda: Value(math.inf).sin(), ValueError, "sin.*inf"),
    ("log(0) number", lambda: sg.log(0), ValueError, "log"),
]


@pytest.mark.parametrize(
    ("case", "thunk", "kind", "message"), DOMAIN_ERRORS, ids=[c[0] for c in DOMAIN_ERRORS]
)
def test_domain_errors_match_math(
    case: str, thunk: Callable[[], object], kind: type[Exception], message: str
) -> None:
    with pytest.raises(kind, match=message):
        thunk()


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_forward_never_returns_complex(a: float, b: float) -> None:
    try:
        y = Value(a) ** Value(b)
    except (ValueError, ZeroDivisionError, OverflowError):
        return
    assert isinstance(y.data, float)


# --------------------------------------------------- random compositions vs FD

UNARY_SAFE: list[Callable[[Value], Value]] = [
    lambda v: v.tanh(),
    lambda v: v.sin(),
    lambda v: v.cos(),
    lambda v: v.sigmoid(),
    lambda v: (v * v + 1).log(),
    lambda v: (v * v + 1).sqrt(),
    lambda v: (v * 0.1).exp(),
    lambda v: -v,
]
BINARY_SAFE: list[Callable[[Value, Value], Value]] = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1),
    lambda a, b: (a * a + 1) ** b.tanh(),
]


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[tuple[int, int, int, int]], list[float]]:
    """A random straight-line program over 3 inputs: (kind, op, i, j) steps."""
    steps = []
    for k in range(draw(st.integers(1, 12))):
        available = 3 + k
        steps.append(
            (
                draw(st.integers(0, 1)),
                draw(st.integers(0, max(len(UNARY_SAFE), len(BINARY_SAFE)) - 1)),
                draw(st.integers(0, available - 1)),
                draw(st.integers(0, available - 1)),
            )
        )
    point = [draw(st.floats(-2, 2)) for _ in range(3)]
    return steps, point


def run(steps: list[tuple[int, int, int, int]], inputs: list[Value]) -> Value:
    nodes = list(inputs)
    for kind, op, i, j in steps:
        if kind == 0:
            nodes.append(UNARY_SAFE[op % len(UNARY_SAFE)](nodes[i]))
        else:
            nodes.append(BINARY_SAFE[op % len(BINARY_SAFE)](nodes[i], nodes[j]))
    return nodes[-1]


@given(programs())
def test_random_compositions_match_finite_differences(
    program: tuple[list[tuple[int, int, int, int]], list[float]],
) -> None:
    steps, point = program
    inputs = [Value(x) for x in point]
    y = run(steps, inputs)
    y.backward()
    h = 1e-6
    for i in range(3):
        up = [Value(x + (h if k == i else 0.0)) for k, x in enumerate(point)]
        down = [Value(x - (h if k == i else 0.0)) for k, x in enumerate(point)]
        numeric = (run(steps, up).data - run(steps, down).data) / (2 * h)
        assert inputs[i].grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


def test_topological_order_and_count_ops() -> None:
    x1, x2, y = notes_example()
    order = topological_order(y)
    assert order[-1] is y and order[0] is x1 and order[1].op is sg.OPS["log"] and order[2] is x2
    position = {v: i for i, v in enumerate(order)}
    assert all(position[p] < position[v] for v in order for p in v.parents)
    assert count_ops(y) == {"log": 1, "mul": 1, "add": 1, "sin": 1, "sub": 1}
    assert topological_order([y, x1]) == order
    with pytest.raises(TypeError, match="Values"):
        topological_order([y, 3.0])  # type: ignore[list-item]


def test_evaluation_order_numbers_nodes_like_the_notes() -> None:
    x1, _, y = notes_example()
    names = [v.label or v.op.name for v in sg.graph.evaluation_order(y * 2)]  # type: ignore[union-attr]
    assert names == ["x1", "x2", "log", "mul", "sin", "add", "sub", "mul"]
    assert sg.graph.evaluation_order(x1) == [x1]


def test_formula_in_latex() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    z = (x / y).sin() ** 2 - x.sqrt() * -y.relu()
    assert sg.graph.formula(z, latex=True) == (
        r"\sin\left(\frac{x}{y}\right)^{2} - \sqrt{x} \cdot \left(-\operatorname{relu}\left(y\right)\right)"
    )
    assert sg.graph.formula(x * y, {x: "a"}, number=str) == "a*y"


def test_formula_names_pi_and_e_and_parses_back() -> None:
    x = Value(0.5, label="x")
    y = (math.pi * x).sin() + math.e * x - math.pi + x**-math.e
    text = sg.graph.formula(y)
    assert text == "sin(pi*x) + e*x - pi + x**(-e)"
    assert sg.graph.formula(math.pi * x, latex=True) == r"\pi \cdot x"
    again = parse(text).evaluate({"x": 0.5})
    assert isinstance(again, float) and again == y.data
    # only the exact doubles are named: a number near π prints as itself
    assert sg.graph.formula(x * 3.14159) == "x*3.14159"


@pytest.mark.parametrize("name", sorted(set(sg.OPS) - {"const"}))
def test_op_apply_builds_the_ops_node(name: str) -> None:
    op = sg.OPS[name]
    operands = [Value(0.7), Value(1.3)][: op.arity]
    node = op(*operands)
    assert node.op is op and node.parents == tuple(operands)
    assert op(*(v.data for v in operands)) == pytest.approx(node.data)


def test_zero_tangents_are_structural() -> None:
    z, w = Value(0.0, label="z"), Value(1.0, label="w")
    y = z.sqrt() + w
    assert sg.jvp(y, {w: 1.0}) == 1.0
    assert sg.jvp(y, {w: 1.0, z: 0.0}) == 1.0
    assert sg.jvp(y, {z: 1.0}) == math.inf
    found = sg.tangents(y, {w: 2.0, z: 0.0})
    assert found[y] == 2.0 and z not in found and y.parents[0] not in found


def test_rounding_returns_plain_numbers() -> None:
    x = Value(-2.5)
    assert round(x) == -2 and round(Value(2.675), 1) == 2.7
    assert math.floor(x) == -3 and math.ceil(x) == -2 and math.trunc(x) == -2


def test_fractions_mix_like_numbers() -> None:
    x = Value(2.0)
    y = Fraction(1, 2) * x + x / Fraction(4)
    assert isinstance(y, Value) and y.data == 1.5


def test_infinite_exponents_follow_math_pow() -> None:
    assert (Value(-2.0) ** math.inf).data == math.pow(-2.0, math.inf)
    assert (Value(0.0) ** -math.inf).data == math.pow(0.0, -math.inf)


def test_overflowing_pow_rule_still_builds_the_gradient_graph() -> None:
    x = Value(1e-103, label="x")
    g = sg.grad(x**-2, x, create_graph=True)
    assert g.data == -math.inf or g.data == pytest.approx(-2e309)  # -2 * x**-3 overflows
    y = Value(-0.5, label="y")
    gy = sg.grad(Value(1e-300) ** y, y, create_graph=True)
    assert gy.data == pytest.approx(1e150 * math.log(1e-300))
    gx = sg.grad(x**y, x, create_graph=True)
    assert gx.data == pytest.approx(-0.5 * (1e-103) ** -1.5)


def test_seed_values_keep_their_labels() -> None:
    x = Value(2.0, label="x")
    seed = Value(3.0)
    g = sg.grad(x * x, x, seed=seed, create_graph=True)
    assert seed.label is None and g.data == 12.0


def test_nan_propagates_through_kinks() -> None:
    for y in (Value(math.nan).relu(), abs(Value(math.nan))):
        assert math.isnan(y.data)
    assert math.isnan(sg.relu(math.nan))
    assert math.isnan(abs(Value(math.nan)).local_grads[0])


def test_pow_derivative_survives_underflow_and_overflow_of_the_power() -> None:
    cases = [(1e-200, 2.0, 2e-200), (1e-160, 2.0, 2e-160), (math.inf, 2.0, math.inf), (1e-120, 3.0, 3e-240)]
    for a, b, expected in cases:
        x = Value(a)
        assert sg.grad(x**b, x) == expected == sg.grad(x**b, x, create_graph=True).data
    base, exponent = Value(-2.0), Value(math.inf)
    assert sg.grad(base**exponent, base) == math.inf == sg.grad(base**exponent, base, create_graph=True).data


def test_named_binary_methods_refuse_foreign_operands_with_a_type_error() -> None:
    from decimal import Decimal

    x = Value(1.0)
    calls = [
        lambda: x.atan2("a"),
        lambda: sg.hypot(x, None),
        lambda: sg.maximum(x, Decimal(2)),
        lambda: sg.OPS["mul"](x, "a"),
        lambda: sg.OPS["atan2"](x, [1.0]),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="expected a real number or a Value"):
            call()
        with sg.no_grad(), pytest.raises(TypeError, match="expected a real number or a Value"):
            call()
    with pytest.raises(TypeError, match="unsupported operand"):
        x + "a"  # operators still hand the operand back to Python first


def test_comparisons_with_other_real_numbers_are_exact() -> None:
    from fractions import Fraction

    assert Value(0.1) > Fraction(1, 10)  # 0.1 is 0.1000000000000000055...
    assert Value(1e300) < Fraction(10**400)
    assert Value(1e300) < 10**400
    assert not Value(0.1) < Fraction(1, 10)


def test_define_op_checks_its_rule_where_the_op_is_defined() -> None:
    acosh = sg.define_op("test_acosh", math.acosh, lambda x, out: 1 / (x * x - 1) ** 0.5, domain="positive")
    x = Value(2.0)
    assert sg.grad(acosh(x), x) == pytest.approx(1 / math.sqrt(3))
    pole = sg.define_op("test_pole", lambda x: 1 / (x - 0.5), lambda x, out: -out * out)
    assert sg.grad(pole(x), x) == pytest.approx(-1 / 2.25)
    with pytest.raises(ValueError, match="could not be evaluated at any of the points"):
        sg.define_op("test_nowhere", lambda x: math.log(-abs(x) - 1), lambda x, out: 1.0)
    with pytest.raises(TypeError, match="must return 1 local derivative"):
        sg.define_op("test_two", math.acosh, lambda x, out: (1.0, 2.0))


def test_local_derivatives_at_the_edges() -> None:
    x = Value(-30.0)
    assert sg.grad(x.expm1(), x) == math.exp(-30.0)  # exactly, where out + 1 lost 4 digits
    n = Value(math.nan)
    assert math.isnan(sg.grad(n.asin(), n)) and math.isnan(sg.grad(n.acos(), n))
    one = Value(1.0)
    assert sg.grad(one.asin(), one) == math.inf and sg.grad(one.acos(), one) == -math.inf
    assert str(-0.0 * Value(1.0, label="x")) == "-0.0*x"


def test_an_interrupted_pickle_leaves_nothing_behind() -> None:
    import copy
    import io
    import pickle

    from scalargrad.core import saving

    w = Value(0.5)
    for _ in range(3000):
        w = (w * 1.0001 + 0.1).tanh()

    class Full(io.RawIOBase):
        written = 0

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.written += len(b)
            if self.written > 5000:
                raise OSError(28, "No space left on device")
            return len(b)

    with pytest.raises(OSError):
        pickle.dump(w, Full())
    assert not saving.saving().nodes
    middle = w.parents[0]
    assert pickle.loads(pickle.dumps(middle)).data == middle.data
    assert copy.deepcopy(middle).data == middle.data
    assert not saving.saving().nodes


DOT_ROUNDS_ONCE = (
    testing.GeneratedExpression(1, [("const", (), 1.0), ("const", (), -1.0), ("dot", (0, 1, 0, 1, 1, 2), 0)]),
    [1e16],
)
"""``x0*1 + 1*1 + x0*(-1)`` at 1e16: the dot node's value is 1.0, the text's (left to right) 0.0."""


@given(testing.expressions_and_points(1, 3, ops=testing.ALL_OPS))
@example(DOT_ROUNDS_ONCE)
def test_a_printed_formula_parses_back_to_the_same_number(case: Any) -> None:
    """Bit for bit: the number of the function the text reads as, which is the expression
    itself, or, where it has dot steps (summed exactly, rounded once), its binary twin
    (each dot's products summed left to right, as the text reads)."""
    expression, point = case
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = expression(*inputs)
    assert isinstance(y, Value)
    text = str(y)
    again = parse(text).evaluate({f"x{i}": x for i, x in enumerate(point) if f"x{i}" in text})
    expected = expression.as_binary()(*inputs).data
    assert again == expected or (math.isnan(again) and math.isnan(expected))
    if "dot" not in expression.ops:
        assert expected == y.data or (math.isnan(expected) and math.isnan(y.data))


def test_comparisons_with_numpy_scalars_are_exact_and_plain_bools() -> None:
    np = pytest.importorskip("numpy")
    assert (Value(0.1) < np.float32(0.1)) is True  # float32(0.1) is 0.10000000149...
    assert (Value(1.0001) > np.float16(1.0)) is True
    assert (Value(0.1) >= np.float32(0.1)) is False
    assert (Value(3.0) > np.int64(2)) is True


def test_a_number_too_large_for_a_float_is_reported_as_not_finite() -> None:
    from scalargrad.core import real_float

    assert real_float(10**400) == math.inf and real_float(-(10**400)) == -math.inf
    assert real_float(True) is None and real_float("1") is None and real_float(Value(1.0)) is None
    with pytest.raises(ValueError, match=r"args\[0\] must be finite"):
        sg.gradcheck(lambda x: x * x, [10**400])
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        sg.gradcheck(lambda x: x * x, [1.0], eps=10**400)
