"""scalargrad.compile on graphs with dot nodes (x1*y1 + ... + xn*yn as one node).

The compiled value and gradient (and Hessian) equal the engine's bit for bit, the source
runs on its own with the engine's ``sum_of_products`` written out, the gradient agrees
with the same function built from binary ``mul`` and ``add`` nodes, and the array forms
agree with the float form; the arrays' compensated sum keeps Sum2's error bound.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_compile import (
    assert_bits,
    assert_same,
    check_numpy_form,
    check_order_two,
    engine_at,
    outcome,
    same,
)

import scalargrad as sg
from scalargrad import Value, grad, ops
from scalargrad.codegen import CompileError, compile
from scalargrad.core import OPS, Op, fan_node
from scalargrad.testing import DEFAULT_OPS, GeneratedExpression, expressions, points

SMOOTH = [name for name in DEFAULT_OPS if name != "dot"]


@st.composite
def with_dot(draw: Any, max_depth: int = 3) -> tuple[GeneratedExpression, list[float]]:
    """A generated expression (itself drawing dot steps) ending in one more dot step, and a point.

    The last step's operands are any slots, among them constants such as 1.0 and -1.0
    that the code folds; its first operand is the expression, so it depends on an input.
    """
    n = draw(st.integers(1, 3))
    f = draw(expressions(n, ops=[*SMOOTH, "dot"], max_depth=max_depth))
    steps = list(f.steps)
    for value in draw(st.lists(st.sampled_from([1.0, -1.0, 0.0, 2.5]), max_size=2)):
        steps.append(("const", (), value))
    last = n + len(f.steps) - 1
    slots = n + len(steps)
    pairs = draw(st.integers(1, 3))
    operands = [
        last,
        *draw(st.lists(st.integers(0, slots - 1), min_size=2 * pairs - 1, max_size=2 * pairs - 1)),
    ]
    steps.append(("dot", tuple(operands), 0.0))
    return GeneratedExpression(n, steps), draw(points(n))


@given(with_dot(), st.data())
def test_compiled_dot_graphs_equal_the_engine_bit_for_bit(case: Any, data: Any) -> None:
    f, point = case
    xs = [Value(x) for x in point]
    y = f(*xs)
    g = compile(y, xs, check=True)  # check: the engine replays the graph at every call, too
    assert "sum_of_products([" in g.source
    value, gradient = g(*point)
    assert_same(value, y.data)
    assert_same(gradient, grad(y, xs))
    new = data.draw(points(len(point), bound=3.0))
    expected = engine_at(f, new)
    if isinstance(expected, type):
        with pytest.raises(expected):
            g(*new)
        return
    value, gradient = g(*new)
    assert_same(value, expected[0])
    assert_same(gradient, expected[1])
    traced = compile(f, point)  # the function traced at the point: the same numbers
    traced_value, traced_gradient = traced(*new)
    assert_same([traced_value, *traced_gradient], [value, *gradient])


def _dot_values_are_plain_sums(f: GeneratedExpression, at: list[float]) -> bool:
    """True when every dot step's fsum equals the left-to-right sum of its products at ``at``."""
    slots = list(at)
    for kind, operands, value in f.steps:
        args = [slots[o] for o in operands]
        if kind == "dot":
            half = len(args) // 2
            plain = 0.0
            for x, y in zip(args[:half], args[half:]):
                plain += x * y
            if not same(ops.sum_of_products(args[:half], args[half:]), plain):
                return False
        slots.append(value if kind == "const" else OPS[kind](*args))
    return True


@given(with_dot())
def test_the_dot_gradient_is_the_gradient_of_its_products_and_sums(case: Any) -> None:
    f, point = case
    assume(_dot_values_are_plain_sums(f, point))  # else the values differ by fsum's exactness
    g = compile(f, point)
    value, gradient = g(*point)
    xs = [Value(x) for x in point]
    y = f.as_binary()(*xs)
    assert same(value, y.data)
    for a, b in zip(gradient, grad(y, xs)):
        assert same(a, b) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (gradient, grad(y, xs))


@given(with_dot(max_depth=2), st.data())
@settings(max_examples=25)
def test_order_two_with_dot_equals_hessian(case: Any, data: Any) -> None:
    f, point = case
    check_order_two(f, point, data.draw(points(len(point))))


@given(with_dot(), st.data(), st.sampled_from([1, 2]))
@settings(max_examples=30)
def test_the_source_with_dot_runs_on_its_own(case: Any, data: Any, order: int) -> None:
    f, point = case
    g = compile(f, point, order=order)
    assert inspect.getsource(ops.sum_of_products) in g.source  # the engine's definition, written out
    scope: dict[str, Any] = {}
    exec(g.source, scope)  # TEST ONLY: compile's own output, which must run on its own
    alone = scope[g.function.__name__]
    for at in (point, data.draw(points(len(point), bound=3.0))):
        assert_bits(outcome(alone, *at), outcome(g.function, *at))


def test_dot_code_reads_as_the_notes_and_folds_constants() -> None:
    x, y = Value(1.5, label="x"), Value(-2.0, label="y")
    out = sg.sin(ops.dot([x, y, y], [y, 1.0, -1.0]))
    g = compile(out, [x, y])
    body = g.source[g.source.index("def value_and_grad") :]
    assert "v3 = sum_of_products([v1, v2, v2], [v2, 1.0, (-1.0)])" in body
    # y is the operands 2, 3 (an x: d/dy = 1, -1) and 4 (a y: d/dy = x), summed in that order
    assert "v2_bar = v3_bar - v3_bar + v3_bar * v1\n" in body
    assert "v1_bar = v3_bar * v2\n" in body
    assert g(1.5, -2.0) == (out.data, grad(out, [x, y]))
    one = compile(ops.dot([x], [x]), x)
    assert one(3.0) == (9.0, 6.0) and "sum_of_products([v1], [v1])" in one.source


def test_a_variadic_op_compile_cannot_write_is_refused() -> None:
    x, y = Value(1.0), Value(2.0)
    scaled = Op(
        "scaled_dot",
        arity=None,
        evaluate=lambda *a: 2.0 * ops.sum_of_products(a[: len(a) // 2], a[len(a) // 2 :]),
        rule=lambda *a: tuple(2.0 * v for v in (*a[len(a[:-1]) // 2 : -1], *a[: len(a[:-1]) // 2])),
        notation="dot",
    )
    node = fan_node(scaled, 4.0, (x, y), (4.0, 2.0))
    with pytest.raises(CompileError, match="derivatives only when they are its operands"):
        compile(node, [x, y])
    other = Op("fanned", arity=None, evaluate=lambda *a: sum(a), rule=lambda a, b, out: (b, a))
    with pytest.raises(CompileError, match="no code form of the variadic op 'fanned'"):
        compile(fan_node(other, 3.0, (x, y), (1.0, 1.0)), [x, y])


# --------------------------------------------------------------------------- the array forms


def _numpy_sum() -> Any:
    """NumPy's ``sum_of_products``, run from its source text as the generated code runs it."""
    from scalargrad.codegen.helpers import array_forms

    scope: dict[str, Any] = {}
    exec("import numpy as np\n" + array_forms("numpy")["sum_of_products"], scope)  # TEST ONLY
    return scope["sum_of_products"]


finite = st.floats(-1e150, 1e150, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=6))
def test_the_numpy_sum_of_products_keeps_sum2_s_bound(pairs: list[tuple[float, float]]) -> None:
    np = pytest.importorskip("numpy")
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    exact = ops.sum_of_products(xs, ys)
    got = float(_numpy_sum()([np.array([x]) for x in xs], [np.array([y]) for y in ys])[0])
    if len(pairs) <= 2:  # one rounding of an exact sum, as fsum's
        assert same(got, exact)
        return
    u = 2.0**-53
    gamma = (len(pairs) - 1) * u / (1 - (len(pairs) - 1) * u)
    # Sum2: |got - s| <= u|s| + gamma**2 * sum|p| for the exact sum s, and |s - exact| <= u|exact|
    bound = 2 * u * abs(exact) * (1 + u) + gamma**2 * math.fsum(abs(x * y) for x, y in pairs)
    assert abs(got - exact) <= bound, (got, exact, bound)


def test_the_numpy_sum_of_products_is_the_engine_s_at_infinities() -> None:
    np = pytest.importorskip("numpy")
    total = _numpy_sum()
    cases = [
        ([math.inf, 1.0], [1.0, 2.0]),
        ([math.inf, math.inf], [1.0, -1.0]),
        ([1e308, 1e308, -1e308], [1.0] * 3),
    ]
    for xs, ys in cases:
        with np.errstate(all="ignore"):  # inf - inf in the error terms, unused where the sum is not finite
            got = float(total([np.array(x) for x in xs], [np.array(y) for y in ys]))
        assert same(got, ops.sum_of_products(xs, ys)), (xs, ys, got)


@given(with_dot())
@settings(max_examples=30)
def test_the_numpy_form_with_dot_agrees_with_the_float_form(case: Any) -> None:
    check_numpy_form(*case, runs_alone=True)


def test_the_torch_form_with_dot() -> None:
    torch = pytest.importorskip("torch")  # the bench extra; tested where installed
    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    out = sg.tanh(ops.dot([x, y, 3.0], [y, x, x]))
    g = compile(out, [x, y])
    vg = g.vectorized("torch")
    xs = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    ys = torch.tensor([2.0, 0.25, -3.0], dtype=torch.float64)
    value, gradient = vg(xs, ys)
    for k in range(3):
        v, d = g(float(xs[k]), float(ys[k]))
        assert math.isclose(float(value[k]), v, rel_tol=1e-12)
        for a, b in zip(gradient, d):
            assert math.isclose(float(a[k]), b, rel_tol=1e-9, abs_tol=1e-12)


def test_the_torch_source_with_dot_runs_on_a_numpy_stand_in() -> None:
    # where torch is not installed: its source still defines all it reads and sums as NumPy's does
    np = pytest.importorskip("numpy")
    import types

    from scalargrad.codegen.backends import Backend

    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    g = compile(sg.tanh(ops.dot([x, y, 3.0], [y, x, x])), [x, y])
    source, name = Backend("torch", None).source(g._program)
    stand_in = types.SimpleNamespace(
        Tensor=np.ndarray, float64=np.float64, tanh=np.tanh, where=np.where, isfinite=np.isfinite
    )
    stand_in.as_tensor = lambda v, dtype: np.asarray(v, dtype=dtype)
    scope: dict[str, Any] = {"torch": stand_in}
    exec(source.replace("import torch\n", ""), scope)  # TEST ONLY: compile's own output
    xs, ys = np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.25, -3.0])
    value, gradient = scope[name](xs, ys)
    numpy_value, numpy_gradient = g.vectorized()(xs, ys)
    assert np.array_equal(value, numpy_value)
    assert all(np.array_equal(a, b) for a, b in zip(gradient, numpy_gradient))


@given(st.integers(0, 2**32))
@settings(max_examples=3)
def test_a_large_graph_of_dot_layers_in_speed_mode_stays_bit_identical(seed: int) -> None:
    import random

    from scalargrad.codegen import READABLE_NODES

    rng = random.Random(seed)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    layer = xs
    for _ in range(60):  # each entry a dot of the layer with weights: constants, or inputs again
        weights = [[rng.choice([rng.uniform(-1, 1), 1.0, rng.choice(xs)]) for _ in layer] for _ in layer]
        layer = [sg.tanh(ops.dot(layer, w)) for w in weights]
    y = ops.dot(layer, [1.0] * len(layer))
    g = compile(y, xs)
    assert g._program.nodes > READABLE_NODES  # copies of an adjoint get no variable of their own
    assert_same([*g(*(x.data for x in xs))], [y.data, grad(y, xs)])
    new = [rng.uniform(-2, 2) for _ in xs]
    fresh = [Value(v) for v in new]
    mapped = dict(zip(xs, fresh))
    assert_same(g(*new)[1], grad(_replay(y, mapped), fresh))


def _replay(y: Value, mapped: dict[Value, Value]) -> Value:
    """``y``'s graph applied again to the Values ``mapped`` stands for (its leaves' new Values)."""
    from scalargrad.core import topological_order

    for v in topological_order(y):
        if v.op is not None:
            mapped[v] = v.op(*(mapped.get(p, p) if isinstance(p, Value) else p for p in v.operands))
    return mapped.get(y, y)
