"""scalargrad.compile: the gradient as straight-line code, checked against the engine.

The compiled value and gradient must equal the engine's ``grad`` bit for bit (NaN equal to
NaN, zeros of either sign equal) at the traced point and at new points, on random graphs of
every op and on user-defined ops; the Hessian must equal ``hessian``'s; the source of the
notes' example is a golden text; the array forms agree with the float form.
"""

from __future__ import annotations

import ast
import importlib
import math
import os
import random
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value, grad, hessian
from scalargrad.codegen import (
    MAX_NODES,
    READABLE_NODES,
    ArrayGradient,
    CompileCheckError,
    CompiledGradient,
    CompileError,
    compile,
    literal,
)
from scalargrad.core import OPS
from scalargrad.core.op import FLOAT_NAMESPACE
from scalargrad.plot import plot
from scalargrad.testing import ALL_OPS, DEFAULT_OPS, GeneratedExpression, expressions_and_points, points


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


USER_UNARY = sg.define_op("compile_softplus", _softplus, lambda x, out: sg.sigmoid(x))
USER_BINARY = sg.define_op(
    "compile_mix",
    lambda a, b: a * math.sin(b),
    lambda a, b, out: (sg.sin(b), a * sg.cos(b)),
    arity=2,
)
USER_OPS = ("compile_softplus", "compile_mix")

NOTES_SOURCE = """\
def value_and_grad(v1, v2):
    # inputs: v1 = x1, v2 = x2
    # forward evaluation trace
    v3 = log(v1)
    v4 = v1 * v2
    v5 = sin(v2)
    v6 = v3 + v4
    v7 = v6 - v5
    # reverse adjoint trace: vk_bar = dy/dvk, the sum of the partial adjoints vi_bar * dvi/dvk
    v7_bar = 1.0
    v6_bar = v7_bar
    v5_bar = -v7_bar
    v4_bar = v6_bar
    v3_bar = v6_bar
    v2_bar = v5_bar * cos(v2) + v4_bar * v1
    v1_bar = v4_bar * v2 + v3_bar * (1.0 / v1)
    return v7, [v1_bar, v2_bar]
"""


def notes() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1.log() + x1 * x2 - x2.sin(), x1, x2


def same(a: float, b: float) -> bool:
    """Equal as the compiled code promises: bit for bit, NaN equal to NaN, 0.0 equal to -0.0."""
    return a == b or (a != a and b != b)


def assert_same(compiled: Any, engine: Any, what: str = "") -> None:
    if isinstance(engine, list):
        assert isinstance(compiled, list) and len(compiled) == len(engine), (compiled, engine, what)
        for i, (c, e) in enumerate(zip(compiled, engine)):
            assert_same(c, e, f"{what}[{i}]")
        return
    assert same(compiled, engine), f"{what}: compiled {compiled!r} != engine {engine!r}"


def engine_at(f: GeneratedExpression, point: list[float]) -> tuple[float, list[float]] | type[BaseException]:
    """The engine's value and gradient of f at point, or the exception type it raises there."""
    xs = [Value(x) for x in point]
    try:
        y = f(*xs)
    except (ArithmeticError, ValueError) as e:
        return type(e)
    return y.data, grad(y, xs)


# --------------------------------------------------------------------------- the notes' example


def test_the_notes_example_reads_like_the_notes() -> None:
    y, x1, x2 = notes()
    g = compile(y, [x1, x2])
    assert g.source.endswith("\n\n\n" + NOTES_SOURCE)  # after what it needs: math and the checked functions
    assert 'log = checked("log", math.log, lambda x: x <= 0.0, "x > 0")' in g.source.splitlines()
    value, gradient = g(2.0, 5.0)
    assert round(value, 3) == 11.652
    assert gradient == grad(y, [x1, x2]) == [5.5, 1.7163378145367738]
    assert round(gradient[1], 3) == 1.716


def test_a_traced_function_gives_the_same_code() -> None:
    g = compile(lambda a, b: sg.log(a) + a * b - sg.sin(b), (2.0, 5.0))
    y, x1, x2 = notes()
    assert g.source == compile(y, [x1, x2]).source  # traced inputs are labelled x1, x2 as in the notes
    value, gradient = g(2.0, 5.0)
    assert gradient == (5.5, 1.7163378145367738)  # one entry per argument
    assert value == notes()[0].data


def test_the_source_beside_the_adjoint_trace_table() -> None:
    # every reverse line of the code is a row of trace()'s adjoint table, in the same order
    y, x1, x2 = notes()
    table = sg.trace(y).lines(sg.trace(y).adjoint)
    source = compile(y, [x1, x2]).source
    code = [line.strip() for line in source.splitlines() if line.startswith("    v") and "_bar =" in line]
    assert len(code) == 7
    for line, row in zip(code, table):
        head = line.split(" = ")[0].replace("_bar", "")
        assert row.startswith("v̄" + head[1:].translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")))


def test_new_points_and_domain_errors() -> None:
    y, x1, x2 = notes()
    g = compile(y, [x1, x2])
    for a, b in [(1.0, 1.0), (0.5, -3.0), (10.0, 0.25)]:
        v1, v2 = Value(a), Value(b)
        ref = v1.log() + v1 * v2 - v2.sin()
        assert g(a, b) == (ref.data, grad(ref, [v1, v2]))
    with pytest.raises(ValueError, match=r"log: math domain error at x = -1\.0"):
        g(-1.0, 2.0)  # log: the engine's checked log, its own error, naming the op
    with pytest.raises(ValueError, match="sin"):
        g(1.0, math.inf)


# --------------------------------------------------------------------------- random graphs of every op


def check_expression(f: GeneratedExpression, point: list[float], new: list[float]) -> None:
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    assume(isinstance(y, Value))
    g = compile(y, xs)
    value, gradient = g(*point)
    assert_same(value, y.data, "value at the traced point")
    assert_same(gradient, grad(y, xs), "gradient at the traced point")
    reference = engine_at(f, new)
    if isinstance(reference, type):
        with pytest.raises(reference):
            g(*new)
        return
    value, gradient = g(*new)
    assert_same(value, reference[0], "value at a new point")
    assert_same(gradient, reference[1], "gradient at a new point")


@given(expressions_and_points(ops=ALL_OPS), st.data())
def test_compiled_gradients_equal_the_engine_bit_for_bit(
    case: tuple[GeneratedExpression, list[float]], data: Any
) -> None:
    f, point = case
    check_expression(f, point, data.draw(points(len(point), bound=3.0)))


@given(expressions_and_points(ops=[*DEFAULT_OPS, *USER_OPS]), st.data())
def test_user_defined_ops_are_called_through_the_namespace(
    case: tuple[GeneratedExpression, list[float]], data: Any
) -> None:
    f, point = case
    check_expression(f, point, data.draw(points(len(point))))


def test_user_defined_op_code() -> None:
    x = Value(0.5, label="x")
    y = USER_BINARY(USER_UNARY(2 * x), x)
    g = compile(y, x)
    assert "v3 = user_compile_softplus_value(v2)" in g.source
    assert "v4 = user_compile_mix_value(v3, v1)" in g.source
    assert "v4_bar * user_compile_mix_rule(v3, v1, v4)[1]" in g.source
    assert "v3_bar * user_compile_softplus_rule(v2, v3)[0]" in g.source
    for at in (0.5, -3.0, 40.0):
        v = Value(at)
        ref = USER_BINARY(USER_UNARY(2 * v), v)
        assert g(at) == (ref.data, grad(ref, v))


# --------------------------------------------------------------------------- piecewise ops


def kinked(x: Any, y: Any) -> Any:
    return sg.relu(x) * y + abs(x - 1) + sg.minimum(x, y) + sg.maximum(x, 2 * y) + sg.relu(y - x)


@pytest.mark.parametrize(
    ("traced", "new"),
    [
        ((0.5, 2.0), (-0.5, -2.0)),
        ((-1.0, -3.0), (3.0, 1.0)),
        ((2.0, 2.0), (2.0, 2.0)),
        ((1.0, 0.5), (1.0, 1.0)),
    ],
)
def test_piecewise_ops_take_their_branch_at_every_call(
    traced: tuple[float, float], new: tuple[float, float]
) -> None:
    g = compile(kinked, traced)
    assert "if" in g.source and "min_share" in g.source and "sign(" in g.source
    x, y = Value(new[0]), Value(new[1])
    ref = kinked(x, y)
    value, gradient = g(*new)
    assert value == ref.data
    assert list(gradient) == grad(ref, [x, y])


def test_ties_and_kinks_follow_pytorch() -> None:
    g = compile(lambda x, y: sg.relu(x) + abs(y) + sg.maximum(x, y), (1.0, 1.0))
    assert g(0.0, 0.0) == (0.0, (0.5, 0.5))  # relu'(0) = abs'(0) = 0, a tie splits 0.5/0.5


# --------------------------------------------------------------------------- control flow and check=True


def branchy(x: Any) -> Any:
    return x * x if x > 0 else -x  # Python control flow: fixed at trace time


def test_control_flow_is_fixed_at_trace_time_and_check_catches_it() -> None:
    g = compile(branchy, (1.0,))
    assert g(-1.0) == (1.0, (-2.0,))  # the traced branch, x * x, at x = -1: the documented limit
    checked = compile(branchy, (1.0,), check=True)
    assert checked.check
    assert checked(3.0) == (9.0, (6.0,))  # same branch: passes
    with pytest.raises(CompileCheckError, match="control flow") as info:
        checked(-1.0)
    assert isinstance(info.value, AssertionError)
    assert info.value.what == "gradient[0]"  # the values agree (1.0); the derivatives do not
    assert (info.value.compiled, info.value.engine) == (-2.0, -1.0)


def test_check_catches_a_number_computed_from_data() -> None:
    def shifted(x: Any, y: Any) -> Any:
        m = max(x.data, y.data)  # a float from .data, like softmax_cross_entropy's shift
        return ((x - m).exp() + (y - m).exp()).log() + m

    g = compile(shifted, (1.0, 2.0), check=True)
    g(1.0, 2.0)  # at the example: the same operations, bit for bit
    with pytest.raises(CompileCheckError):
        g(1.5, 2.5)  # the same formula with another constant m: equal to rounding, not bit for bit
    loose = compile(shifted, (1.0, 2.0), check=True, check_rtol=1e-9)
    loose(1.5, 2.5)  # which check_rtol accepts
    with pytest.raises(OverflowError):  # but the stale shift m = 2 no longer protects exp
        compile(shifted, (1.0, 2.0))(800.0, 0.0)


def test_check_replays_a_graph() -> None:
    y, x1, x2 = notes()
    g = compile(y, [x1, x2], check=True, order=2)
    value, gradient, rows = g(3.0, 0.5)
    a, b = Value(3.0), Value(0.5)
    ref = a.log() + a * b - b.sin()
    assert (value, gradient, rows) == (ref.data, grad(ref, [a, b]), hessian(ref, [a, b]))


def test_check_catches_stale_derivative_branches_of_order_two() -> None:
    x = Value(1.0)
    y = sg.relu(x) * x  # y'' = 2 for x > 0, 0 for x < 0; the create_graph graph fixed relu' = 1
    g = compile(y, [x], order=2, check=True)
    assert g(2.0)[2] == [[2.0]]
    with pytest.raises(CompileCheckError, match="hessian"):
        g(-2.0)


def test_check_never_accepts_an_infinity_against_a_number() -> None:
    def f(x: Any) -> Any:
        return x**0.5 if x > 0 else 2 * x  # at 0 the traced branch's gradient is inf, the engine's 2

    for rtol in (0.0, 1e-9):  # rtol·max(|inf|, 2) is inf: the relative tolerance must not swallow it
        with pytest.raises(CompileCheckError, match="gradient") as info:
            compile(f, 1.0, check=True, check_rtol=rtol)(0.0)
        assert (info.value.compiled, info.value.engine) == (math.inf, 2.0)
    compile(lambda x: x**0.5, 1.0, check=True, check_rtol=1e-9)(0.0)  # equal infinities agree


def test_a_graphs_check_blames_what_can_differ_in_a_graph() -> None:
    x, k = Value(1.0), Value(2.0)
    g = compile(x * k, [x], check=True)  # k is a constant of the code, read afresh by the replay
    k.data = 3.0
    with pytest.raises(CompileCheckError, match="leaf that is not an input") as info:
        g(1.0)
    assert "traced function" not in str(info.value)


@pytest.mark.parametrize(
    ("f", "example", "at"),
    [
        (sg.sqrt, (1.0,), (0.0,)),
        (lambda x: x**0.5, (1.0,), (0.0,)),
        (sg.asin, (0.5,), (1.0,)),
        (sg.hypot, (1.0, 2.0), (0.0, 0.0)),
    ],
)
def test_order_two_code_failing_at_a_boundary_says_why(f: Any, example: tuple[float, ...], at: Any) -> None:
    compile(f, example)(*at)  # order 1 and the engine are defined there
    with pytest.raises(CompileCheckError, match="create_graph gradient graph built at the example") as info:
        compile(f, example, order=2)(*at)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert "scalargrad.hessian" in str(info.value) and "derivative rules branch on values" in str(info.value)


def test_order_two_passes_f_s_own_domain_errors_through() -> None:
    with pytest.raises(ValueError, match="log: math domain error") as info:
        compile(sg.log, 1.0, order=2)(-1.0)  # f itself is undefined there, as in the engine
    assert not isinstance(info.value, CompileCheckError)


def test_check_catches_a_stale_pow_rule_of_order_two() -> None:
    def power(x: Any, y: Any) -> Any:
        return x**y

    assert compile(power, (0.0, 0.5), order=2)(2.0, 3.0)[2] == [[0.0, 0.0], [0.0, 0.0]]  # the limit
    with pytest.raises(CompileCheckError, match="derivative rule that branches on values") as info:
        compile(power, (0.0, 0.5), order=2, check=True)(2.0, 3.0)
    assert info.value.what.startswith("hessian") and info.value.engine == 12.0


# --------------------------------------------------------------------------- second order


def check_order_two(f: GeneratedExpression, point: list[float], new: list[float]) -> None:
    """``compile(order=2)`` of f at point gives the engine's value, gradient and Hessian bit for
    bit there and at ``new`` (unless the engine raises there)."""
    xs = [Value(x) for x in point]
    y = f(*xs)
    g = compile(y, xs, order=2)
    value, gradient, rows = g(*point)
    assert_same(value, y.data)
    assert_same(gradient, grad(y, xs))
    assert_same(rows, hessian(y, xs))
    fresh = [Value(x) for x in new]
    try:
        ref = f(*fresh)
        expected = (ref.data, grad(ref, fresh), hessian(ref, fresh))
    except (ArithmeticError, ValueError):
        return
    value, gradient, rows = g(*new)
    assert_same(value, expected[0])
    assert_same(gradient, expected[1])
    assert_same(rows, expected[2])


@given(expressions_and_points(ops=[*DEFAULT_OPS, "compile_softplus"], max_depth=3), st.data())
@settings(max_examples=25)
def test_order_two_equals_hessian(case: tuple[GeneratedExpression, list[float]], data: Any) -> None:
    f, point = case
    check_order_two(f, point, data.draw(points(len(point))))


def test_order_two_source_and_shapes() -> None:
    y, x1, x2 = notes()
    g = compile(y, [x1, x2], order=2)
    assert "\n\n\ndef value_grad_hessian(v1, v2):\n" in g.source
    assert NOTES_SOURCE.splitlines()[4] in g.source  # the forward trace keeps the notes' numbering
    assert "# reverse adjoint trace of dy/dx1 = v10: row 1 of the Hessian" in g.source
    assert g(2.0, 5.0) == (y.data, [5.5, 1.7163378145367738], [[-0.25, 1.0], [1.0, -0.9589242746631385]])
    one = compile(y, x1, inputs=[x1, x2], order=2)  # a single wrt: numbers, as hessian(y, x1)
    assert one(2.0, 5.0) == (y.data, 5.5, -0.25)
    traced = compile(lambda x: x**3, (2.0,), argnums=0, order=2)
    assert traced(3.0) == (27.0, 27.0, 18.0)


# --------------------------------------------------------------------------- structure of inputs and outputs


def test_gradients_are_shaped_like_wrt() -> None:
    w = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
    b = Value(0.25, label="b")
    x = [Value(2.0), Value(3.0)]  # data: inputs of the compiled code, not differentiated
    y = sg.tanh(w[0] * x[0] + w[1] * x[1] + b)
    g = compile(y, {"w": w, "b": b}, inputs=[*w, b, *x])
    value, gradient = g(0.5, -1.0, 0.25, 2.0, 3.0)
    assert value == y.data
    assert gradient == grad(y, {"w": w, "b": b})
    assert set(gradient) == {"w", "b"} and isinstance(gradient["w"], list)
    value, gradient = g(0.5, -1.0, 0.25, -2.0, 1.0)  # new data, same parameters
    assert value == math.tanh(0.5 * -2.0 + -1.0 * 1.0 + 0.25)
    nested = compile(y, {"w": w, "b": b})  # one argument shaped like the dict
    assert nested({"w": [0.5, -1.0], "b": 0.25}) == (y.data, grad(y, {"w": w, "b": b}))
    assert "# leaves that are not inputs are constants" in nested.source


def test_traced_function_with_structured_arguments_and_argnums() -> None:
    def f(params: dict[str, Any], xs: list[Any]) -> Any:
        return sg.sigmoid(params["a"] * xs[0] + params["b"] * xs[1])

    example = ({"a": 3.0, "b": 1.0}, [2.0, 1.0])
    g = compile(f, example, argnums=0)
    value, gradient = g({"a": 3.0, "b": 1.0}, [2.0, 1.0])
    assert round(value, 5) == 0.99909 and set(gradient) == {"a", "b"}
    assert round(gradient["a"], 5) == 0.00182 and round(gradient["b"], 5) == 0.00091
    both = compile(f, example, argnums=(1, 0))
    assert both(*example)[1][1] == gradient and len(both(*example)[1][0]) == 2
    assert compile(f, example)(*example)[1][0] == gradient  # argnums=None: every argument
    with pytest.raises(ValueError, match="argument 1 must be a list or tuple of 2"):
        g({"a": 3.0, "b": 1.0}, [2.0])


def test_inputs_the_output_does_not_depend_on_and_constant_outputs() -> None:
    x, z = Value(2.0, label="x"), Value(1.0, label="z")
    g = compile(x * x, [x, z])
    assert g(3.0, 7.0) == (9.0, [6.0, 0.0])
    assert compile(x, [x])(5.0) == (5.0, [1.0])
    assert compile(x * 1.0 + 0.0, [z], inputs=[x, z])(4.0, 1.0) == (4.0, [0.0])
    c = compile(lambda a: a * 0.0 + 3.0, (1.0,))
    assert c(2.0) == (3.0, (0.0,))


def test_constants_are_folded_as_create_graph_folds_them() -> None:
    x = Value(3.0, label="x")
    g = compile((x / 4 + 2) * 1.0 - (5 - x) ** 2, [x])
    reverse = g.source.split("# reverse")[1]
    assert "v6 = v4 * 1.0" in g.source  # the forward trace computes what the graph computes
    assert "* 1.0" not in reverse and "+ 0.0" not in reverse  # adjoints are folded
    assert "v2_bar * 0.25" in g.source  # d(x/4)/dx computed once
    assert "v5_bar * pow_base_grad(v3, 2.0, v5)" in g.source  # a derivative with a variable: per call
    v = Value(-1.5)
    ref = (v / 4 + 2) * 1.0 - (5 - v) ** 2
    assert g(-1.5) == (ref.data, grad(ref, [v]))


def test_literals_round_trip_exactly() -> None:
    for x in [0.1, -2.5, 1e-300, -0.0, 0.0, 1.7976931348623157e308, math.inf, -math.inf, 5e-324]:
        assert eval(literal(x), {"inf": math.inf, "nan": math.nan}) == x
    assert literal(math.nan) == "nan" and literal(-2.0) == "(-2.0)"
    x = Value(2.0)
    g = compile(x**-2.0 * -3.0 + (-0.0) * x, [x])
    assert "power(v1, (-2.0))" in g.source
    v = Value(-0.5)
    ref = v**-2.0 * -3.0 + (-0.0) * v
    assert g(-0.5) == (ref.data, grad(ref, [v]))


# --------------------------------------------------------------------------- templates and safety


def renamed(expression: str, args: list[str]) -> str:
    """The reference: rename a, b, out in the AST (numbers as constants) and unparse.

    The checked helpers read by their plain names (``checked_log`` is written ``log``).
    """
    tree = ast.parse(expression, mode="eval")

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id not in ("a", "b", "out"):
                return ast.Name(node.id.removeprefix("checked_"), node.ctx)
            text = args[("a", "b", "out").index(node.id)]
            return ast.parse(text, mode="eval").body

    return ast.unparse(Rename().visit(tree))


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n].source is not None))
def test_templates_fill_as_renaming_the_ast_would(name: str) -> None:
    from scalargrad.codegen.templates import VALUE
    from scalargrad.codegen.templates import template as _template

    op = OPS[name]
    assert op.source is not None
    value, derivatives = op.source
    rng = random.Random(name)
    for index, expression in [(VALUE, value), *enumerate(derivatives)]:
        for _ in range(5):
            numbers = [2.0, -0.5, 1e-7, -math.inf]
            args = [rng.choice(["v12", "v3_bar", literal(rng.choice(numbers))]) for _ in "abc"]
            args[2] = "v99"
            filled = _template(op, index, False).fill(args)
            assert ast.unparse(ast.parse(filled, mode="eval")) == renamed(expression, args), (name, index)


def test_the_generated_code_defines_what_it_reads_as_the_engine_does() -> None:
    import inspect

    from scalargrad import ops

    x = Value(0.5, label="x; import os")  # a label that is not an identifier never reaches the code
    y = sg.atan2(sg.hypot(x, 2.0), sg.erf(x)) + sg.relu(x) ** 2 + sg.maximum(x, 0.25) + sg.log(x) / x
    g = compile(y, [x])
    assert "x; " not in g.source and "os" not in g.source.split()
    tree = ast.parse(g.source)
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(node) for node in imports] == [
        "from __future__ import annotations",
        "import math",
        "from math import atan2, erf, hypot, nan",
    ]
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    defined |= {
        t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    function = g.function
    names = {n.id for n in ast.walk(tree.body[-1]) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    imported = {a.asname or a.name for node in imports for a in node.names}
    for n in {n for n in names if not n.startswith("v")}:  # each: the engine's binding, or its source
        bound = FLOAT_NAMESPACE.get(f"checked_{n}", FLOAT_NAMESPACE.get(n, abs))
        if n in defined:  # written out from scalargrad.ops: the same text, so the same numbers
            assert function.__globals__[n] is not bound
        else:  # Python's: from math, or a builtin
            assert n in imported or n == "abs", n
            assert function.__globals__.get(n, abs) is bound, n
    assert inspect.getsource(ops.divide) in g.source
    assert inspect.getsource(ops.pow_base_grad) in g.source
    assert "\nmax_share = lambda a, b: tie_share(a, b, lambda m, o: m < o)\n" in g.source


def test_tracebacks_show_the_generated_line() -> None:
    import traceback

    g = compile(lambda x: sg.log(x) * 2, (1.0,))
    try:
        g(-1.0)
    except ValueError as e:
        text = "".join(traceback.format_exception(e))
    assert "v2 = log(v1)" in text


# --------------------------------------------------------------------------- limits and big graphs


def test_graphs_above_the_limit_are_refused() -> None:
    x = Value(1.0)
    y = x
    for _ in range(50):
        y = y * 1.01
    with pytest.raises(CompileError, match="51 nodes, more than compile's limit of 50"):
        compile(y, [x], max_nodes=50)
    assert isinstance(CompileError("x"), ValueError)
    xs = [Value(float(k)) for k in range(10)]
    total = xs[0] * xs[1]
    for v in xs[2:]:
        total = total + v * v
    with pytest.raises(CompileError, match="for each of the 10 wrt inputs"):
        compile(total, xs, order=2, max_nodes=300)
    assert MAX_NODES >= 100_000
    compile(y, [x], max_nodes=51)


def test_a_large_dag_compiles_in_speed_mode_and_stays_bit_identical() -> None:
    rng = random.Random(3)
    leaves = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    nodes = list(leaves)
    for _ in range(3 * READABLE_NODES):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.randrange(4)
        nodes.append(a + b if kind == 0 else a * b if kind == 1 else a.tanh() if kind == 2 else b.sin())
    y = nodes[-1]
    for n in nodes[8:-1]:
        y = y + n
    g = compile(y, leaves)
    assert g.nodes > READABLE_NODES
    value, gradient = g(*(v.data for v in leaves))
    assert value == y.data and gradient == grad(y, leaves)


def test_long_sums_are_split_into_statements() -> None:
    x = Value(0.3, label="x")
    terms = [x * (k + 1) for k in range(150)]
    y = terms[0]
    for t in terms[1:]:
        y = y + t
    g = compile(y, [x])
    assert sum(line.startswith("    v1_bar =") for line in g.source.splitlines()) == 3
    assert g(0.3) == (y.data, grad(y, [x]))


# --------------------------------------------------------------------------- bad input


def test_bad_input_gets_clear_errors() -> None:
    y, x1, x2 = notes()
    with pytest.raises(TypeError, match=r"needs a Value .* or a function"):
        compile(3.0, [x1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs wrt"):
        compile(y)
    with pytest.raises(TypeError, match="wrt must be Values"):
        compile(y, [x1, 2.0])
    with pytest.raises(ValueError, match="must be one of compile's inputs"):
        compile(y, [x1, x2], inputs=[x1])
    with pytest.raises(ValueError, match="inputs must be input leaves"):
        compile(y, [x1], inputs=[x1, x1 * x2])
    with pytest.raises(ValueError, match="appears twice"):
        compile(y, [x1, x1])
    with pytest.raises(ValueError, match="order must be 1"):
        compile(y, [x1], order=3)
    with pytest.raises(ValueError, match="max_nodes"):
        compile(y, [x1], max_nodes=0)
    with pytest.raises(TypeError, match="argnums is for a traced function"):
        compile(y, [x1], argnums=0)
    g = compile(y, [x1, x2])
    with pytest.raises(TypeError, match="takes 2 arguments"):
        g(1.0)
    with pytest.raises(TypeError, match="argument 1 must be a real number, got str"):
        g(1.0, "2")
    with pytest.raises(TypeError, match="pass numbers"):
        g(1.0, Value(2.0))
    assert g(2, 5) == g(2.0, 5.0)  # ints are numbers
    with pytest.raises(TypeError, match="needs the example arguments"):
        compile(lambda a: a)
    with pytest.raises(ValueError, match="example_args is empty"):
        compile(lambda a: a, ())
    with pytest.raises(TypeError, match="holds a Value"):
        compile(lambda a: a, (Value(1.0),))
    with pytest.raises(TypeError, match="must hold real numbers"):
        compile(lambda a: a, ("1",))
    with pytest.raises(TypeError, match="not a Value"):
        compile(lambda a: math.sin(a), (1.0,))
    with pytest.raises(ValueError, match="out of range"):
        compile(lambda a: a, (1.0,), argnums=1)
    with pytest.raises(TypeError, match="inputs is for a graph"):
        compile(lambda a: a, (1.0,), inputs=[x1])
    with pytest.raises(ValueError, match="check_rtol"):
        compile(y, [x1, x2], check_rtol=-1.0)


def test_repr() -> None:
    y, x1, x2 = notes()
    g = compile(y, [x1, x2])
    assert repr(g) == "CompiledGradient(order=1, inputs=2, nodes=7, check=False)"
    assert isinstance(g, CompiledGradient) and g.compile_seconds > 0


# --------------------------------------------------------------------------- array forms


def need(module: str) -> Any:
    """``module``, imported; if missing, skip the test (fail it under CI, which installs every extra)."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_the_numpy_form_is_the_same_code_over_arrays() -> None:
    np = need("numpy")
    y, x1, x2 = notes()
    vg = compile(y, [x1, x2]).vectorized()
    assert isinstance(vg, ArrayGradient) and vg.xp is np
    assert "# the array form (numpy)" in vg.source and "v2_bar = v5_bar * cos(v2) + v4_bar * v1" in vg.source
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 5.0, 1000), rng.uniform(-5.0, 5.0, 1000)
    value, (ga, gb) = vg(a, b)
    assert value.shape == ga.shape == gb.shape == (1000,)
    g = compile(y, [x1, x2])
    for i in range(0, 1000, 97):
        v, (da, db) = g(float(a[i]), float(b[i]))
        assert math.isclose(value[i], v, rel_tol=1e-13) and math.isclose(ga[i], da, rel_tol=1e-13)
        assert math.isclose(gb[i], db, rel_tol=1e-12, abs_tol=1e-13)
    value, (ga, gb) = vg(a, 2.0)  # broadcasting: every result has the broadcast shape
    assert gb.shape == (1000,)
    value, (ga, gb) = vg(-1.0, 2.0)  # where the float code raises, the array code gives nan
    assert math.isnan(float(value))


def test_the_numpy_form_turns_conditionals_into_where() -> None:
    np = need("numpy")
    g = compile(kinked, (0.5, 2.0))
    vg = g.vectorized("numpy")
    assert " if " not in vg.source and "where(" in vg.source
    xs = np.linspace(-3, 3, 61)
    ys = np.linspace(2, -2, 61)
    value, (gx, gy) = vg(xs, ys)
    for i in range(61):
        v, (dx, dy) = g(float(xs[i]), float(ys[i]))
        assert value[i] == v and gx[i] == dx and gy[i] == dy


def check_numpy_form(f: GeneratedExpression, point: list[float], *, runs_alone: bool = False) -> None:
    """The NumPy form of ``compile(f, point, order=2)`` over a batch of three points gives the
    float form's numbers there (to rounding: NumPy's functions may round otherwise); with
    ``runs_alone`` (no user-defined ops), its source run on its own gives the same value."""
    np = need("numpy")
    g = compile(f, point, order=2)
    vg = g.vectorized()
    batch = [np.array([x, x / 2 + 0.25, -x]) for x in point]
    with np.errstate(all="ignore"):  # a point outside a domain gives NaN, as the float form raises
        value, gradient, rows = vg(*batch)
        if runs_alone:
            scope: dict[str, Any] = {}
            exec(vg.source, scope)  # TEST ONLY: compile's own array source
            assert np.array_equal(scope[vg.function.__name__](*batch)[0], value, equal_nan=True)
    for k in range(3):
        at = [float(b[k]) for b in batch]
        try:
            expected = g(*at)
        except (ArithmeticError, ValueError):
            continue
        got = [float(value[k]), *(float(d[k]) for d in gradient), *(float(h[k]) for r in rows for h in r)]
        want = [expected[0], *expected[1], *(h for r in expected[2] for h in r)]
        for a, b in zip(got, want):
            close = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            assert a == b or (a != a and b != b) or close, (got, want)


@given(expressions_and_points(ops=[*ALL_OPS, "compile_softplus"]))
@settings(max_examples=30)
def test_the_numpy_form_agrees_with_the_float_form(case: tuple[GeneratedExpression, list[float]]) -> None:
    check_numpy_form(*case)


def test_the_torch_form() -> None:
    torch = pytest.importorskip("torch")  # the bench extra; tested where installed
    y, x1, x2 = notes()
    vg = compile(y, [x1, x2], order=2).vectorized("torch")
    value, gradient, rows = vg(torch.tensor([2.0, 3.0], dtype=torch.float64), 5.0)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float64
    assert gradient[0].tolist() == [5.5, 5.0 + 1 / 3]
    assert rows[0][0].tolist() == [-0.25, -1 / 9]
    k = compile(kinked, (0.5, 2.0)).vectorized(torch)
    value, (gx, gy) = k(torch.tensor([-1.0, 1.0]), torch.tensor([1.0, -1.0]))
    ref = [compile(kinked, (0.5, 2.0))(-1.0, 1.0), compile(kinked, (0.5, 2.0))(1.0, -1.0)]
    assert gx.tolist() == [r[1][0] for r in ref] and gy.tolist() == [r[1][1] for r in ref]
    with pytest.raises(CompileError, match="no torch form"):
        compile(lambda x: USER_UNARY(x), (1.0,)).vectorized("torch")
    with pytest.raises(ValueError, match="xp='numpy' or 'torch'"):
        compile(lambda x: x * x, (1.0,)).vectorized("jax")


def test_a_checked_gradient_warns_that_its_array_form_is_not_checked() -> None:
    np = need("numpy")
    checked = compile(branchy, 1.0, check=True)
    with pytest.warns(UserWarning, match="not checked"):
        vg = checked.vectorized()
    value, _ = vg(np.array([-2.0, 2.0]))
    assert value.tolist() == [4.0, 4.0]  # the traced branch, unchecked, as the warning says


def test_plot_rejects_an_infinite_derivative_against_a_finite_one() -> None:
    need("numpy")
    with pytest.raises(CompileCheckError, match=r"f′\(0\.0\) is inf"):
        plot(lambda x: sg.sqrt(x) if x > 0 else 2 * x, (0.0, 1.0))


def test_plot_draws_f_and_its_derivatives() -> None:
    np = need("numpy")
    matplotlib = need("matplotlib")

    matplotlib.use("Agg")
    ax = plot(lambda x: sg.sin(x) * x, (-3.0, 3.0), points=101)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines[:3]] == ["f", "f′", "f″"]
    xs, d2 = lines[2].get_data()
    assert np.allclose(d2, 2 * np.cos(xs) - xs * np.sin(xs))
    ax = plot(lambda x: sg.log(x), (0.0, 2.0))  # undefined at 0: -inf there (NumPy's log), no error
    assert not math.isfinite(ax.get_lines()[0].get_ydata()[0])
    with pytest.raises(CompileCheckError, match="fixed at the point"):
        plot(branchy, (-1.0, 2.0))
    with pytest.raises(ValueError, match="lo < hi"):
        plot(branchy, (1.0, 1.0))


def test_batched_gradient_check() -> None:
    np = need("numpy")
    from scalargrad.numeric import GradcheckError
    from scalargrad.testing import assert_gradients_close_batched

    rng = np.random.default_rng(1)
    pts = rng.uniform(-2, 2, size=(500, 2))
    grads = assert_gradients_close_batched(lambda x, y: sg.sin(x * y) + sg.exp(-x * x) * y, pts)
    assert grads.shape == (500, 2)
    x, y = pts[:, 0], pts[:, 1]
    assert np.allclose(grads[:, 0], y * np.cos(x * y) - 2 * x * np.exp(-x * x) * y)

    wrong = sg.define_op("compile_wrong_square", lambda x: x * x, lambda x, out: 3 * x)
    with pytest.raises(GradcheckError, match="point"):
        assert_gradients_close_batched(lambda x: wrong(x), rng.uniform(-1, 1, size=(50, 1)))
    with pytest.raises(CompileCheckError):  # traced control flow: the compiled values are not f's
        assert_gradients_close_batched(lambda x: x * x if x > 0 else x, np.array([[1.0], [-1.0]]))
    infinite = sg.define_op("compile_infinite_square", lambda x: x * x, lambda x, out: math.inf)
    with pytest.raises(GradcheckError, match="analytic=inf"):
        assert_gradients_close_batched(lambda x: infinite(x), np.array([[1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        assert_gradients_close_batched(branchy, np.array([1.0, 2.0]))


@given(expressions_and_points(ops=DEFAULT_OPS))
@settings(max_examples=20)
def test_batched_check_on_random_expressions(case: tuple[GeneratedExpression, list[float]]) -> None:
    np = need("numpy")
    from scalargrad.testing import assert_gradients_close_batched

    f, point = case
    rng = np.random.default_rng(len(str(f)))
    pts = np.vstack([np.array(point), rng.uniform(-2, 2, size=(64, len(point)))])
    assert_gradients_close_batched(f, pts)


# --------------------------------------------------------------------------- the source runs on its own


def run_alone(source: str, name: str, *args: Any, namespace: dict[str, Any] | None = None) -> Any:
    """Exec ``source`` in a new namespace (``{}`` unless given); call the function ``name`` it defines."""
    scope: dict[str, Any] = {} if namespace is None else dict(namespace)
    exec(source, scope)  # TEST ONLY: compile's own output, which must run on its own
    return scope[name](*args)


def outcome(fn: Any, *args: Any) -> Any:
    """``fn(*args)``, or the type and message of the error it raises."""
    try:
        return fn(*args)
    except (ArithmeticError, ValueError) as e:
        return (type(e), str(e))


def flat(result: Any) -> list[float]:
    """The generated function's result as one list of floats: value, gradient, Hessian rows."""
    out = [result[0], *result[1]]
    if len(result) > 2:
        out.extend(h for row in result[2] for h in row)
    return out


def assert_bits(alone: Any, compiled: Any) -> None:
    """The same numbers bit for bit (NaN equal to NaN, and the sign of a zero too), or the same error."""
    if isinstance(compiled, tuple) and isinstance(compiled[0], type):
        assert alone == compiled
        return
    a, c = flat(alone), flat(compiled)
    assert len(a) == len(c)
    for x, y in zip(a, c):
        assert (x != x and y != y) or (x == y and math.copysign(1.0, x) == math.copysign(1.0, y)), (a, c)


def notes_sigmoid() -> tuple[Value, list[Value]]:
    """The notes' logistic neuron: 1/(1 + exp(-(w0*x0 + w1*x1 + w2)))."""
    w0, w1, w2 = Value(2.0, label="w0"), Value(-3.0, label="w1"), Value(-3.0, label="w2")
    x0, x1 = Value(-1.0, label="x0"), Value(-2.0, label="x1")
    return 1 / (1 + sg.exp(-(w0 * x0 + w1 * x1 + w2))), [w0, w1, w2, x0, x1]


def test_the_notes_sigmoid_source_runs_on_its_own() -> None:
    y, leaves = notes_sigmoid()
    g = compile(y, leaves)
    assert "divide(" in g.source and "def divide(" in g.source  # the helper it calls is in the text
    at = [2.0, -3.0, -3.0, -1.0, -2.0]
    alone = run_alone(g.source, "value_and_grad", *at)
    assert alone == g.function(*at) == (y.data, grad(y, leaves))
    assert alone[1][:3] == pytest.approx([-0.19661193324148185, -0.3932238664829637, 0.19661193324148185])
    assert_bits(
        run_alone(g.source, "value_and_grad", 0.5, 0.25, -1.0, 3.0, 4.0),
        g.function(0.5, 0.25, -1.0, 3.0, 4.0),
    )


def test_the_notes_source_runs_on_its_own_with_the_engine_s_errors() -> None:
    y, x1, x2 = notes()
    g = compile(y, [x1, x2])
    assert g.source.rstrip().endswith(NOTES_SOURCE.rstrip())  # the notes' function, after what it needs
    assert run_alone(g.source, "value_and_grad", 2.0, 5.0) == (y.data, [5.5, 1.7163378145367738])
    with pytest.raises(ValueError, match=r"log: math domain error at x = -1\.0"):
        run_alone(g.source, "value_and_grad", -1.0, 2.0)  # the same checked log, naming the op


def check_alone(
    g: CompiledGradient, points_: list[list[float]], f: GeneratedExpression | None = None
) -> None:
    """``g.source`` exec'd in ``{}`` gives g's results bit for bit, and grad's (to rounding) at each point.

    With user-defined ops, in ``{}`` it fails naming what to bind, and with ``g.user_functions`` it runs.
    """
    name = g.function.__name__
    if g.user_functions:
        with pytest.raises(NameError, match="user_"):
            run_alone(g.source, name, *points_[0])
    scope: dict[str, Any] = dict(g.user_functions)
    exec(g.source, scope)  # TEST ONLY: compile's own output
    alone = scope[name]
    for at in points_:
        result = outcome(alone, *at)
        assert_bits(result, outcome(g.function, *at))
        if f is None or isinstance(result[0], type):
            continue
        xs = [Value(x) for x in at]
        y = f(*xs)
        assert math.isclose(result[0], y.data, rel_tol=1e-12) or same(result[0], y.data)
        for a, b in zip(result[1], grad(y, xs)):
            assert same(a, b) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (result, grad(y, xs))


@given(expressions_and_points(ops=ALL_OPS), st.data())
def test_the_source_of_every_op_runs_on_its_own(
    case: tuple[GeneratedExpression, list[float]], data: Any
) -> None:
    f, point = case
    xs = [Value(x) for x in point]
    y = f(*xs)
    assume(isinstance(y, Value))
    g = compile(y, xs)
    check_alone(g, [point, data.draw(points(len(point), bound=3.0))], f)


@given(expressions_and_points(ops=[*DEFAULT_OPS, *USER_OPS]), st.data())
def test_the_source_with_user_defined_ops_runs_with_its_user_functions(
    case: tuple[GeneratedExpression, list[float]], data: Any
) -> None:
    f, point = case
    g = compile(f, point)
    check_alone(g, [point, data.draw(points(len(point)))], f)
    assert all(k.removeprefix("user_").rsplit("_", 1)[0] in f.ops for k in g.user_functions)
    assert g.source.startswith("# The value and gradient, by scalargrad.compile")
    assert ("NOT self-contained" in g.source.splitlines()[1]) == bool(g.user_functions)


@given(expressions_and_points(ops=DEFAULT_OPS, max_depth=3), st.data())
@settings(max_examples=25)
def test_the_order_two_source_runs_on_its_own(
    case: tuple[GeneratedExpression, list[float]], data: Any
) -> None:
    f, point = case
    g = compile(f, point, order=2)
    check_alone(g, [point, data.draw(points(len(point)))])


def test_a_source_names_only_what_it_uses() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    plain = compile(x * y + x, [x, y]).source
    assert "import" not in plain and "def " not in plain.split("def value_and_grad")[0]
    assert run_alone(plain, "value_and_grad", 2.0, 3.0) == (8.0, [4.0, 2.0])
    source = compile(sg.tanh(x) / y + sg.sqrt(x) ** y, [x, y]).source
    assert source == compile(sg.tanh(x) / y + sg.sqrt(x) ** y, [x, y]).source  # deterministic
    tree = ast.parse(source)
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert defined[-1] == "value_and_grad" and {
        "divide",
        "power",
        "pow_base_grad",
        "pow_exponent_grad",
    } <= set(defined)
    assert "sigmoid" not in defined and "def exp" not in source  # only what is used
    for node in ast.walk(tree):  # the only modules are Python's own
        if isinstance(node, ast.Import):
            assert [a.name for a in node.names] == ["math"]
        if isinstance(node, ast.ImportFrom):
            assert node.module in ("math", "__future__")


def test_user_defined_ops_say_that_the_source_needs_them() -> None:
    x = Value(0.5, label="x")
    g = compile(USER_BINARY(USER_UNARY(2 * x), x), x)
    head = g.source.split("def value_and_grad")[0]
    assert "user_compile_softplus_value" in head and "user_compile_mix_rule" in head  # said at the top
    with pytest.raises(NameError, match="user_compile"):
        run_alone(g.source, "value_and_grad", 0.5)
    assert sorted(g.user_functions) == [
        "user_compile_mix_rule",
        "user_compile_mix_value",
        "user_compile_softplus_rule",
        "user_compile_softplus_value",
    ]
    for at in (0.5, -3.0):
        assert run_alone(g.source, "value_and_grad", at, namespace=g.user_functions) == g.function(at)


def test_the_source_runs_in_a_fresh_interpreter(tmp_path: Any) -> None:
    import subprocess
    import sys

    y, leaves = notes_sigmoid()
    order2 = compile(
        lambda a, b: sg.log(a) + a * b - sg.sin(b) + sg.relu(a - b) * sg.atan2(a, b), (2.0, 5.0), order=2
    )
    cases = {
        "sigmoid_grad": (compile(y, leaves), [0.5, 0.25, -1.0, 3.0, 4.0]),
        "notes_hessian": (order2, [3.0, 0.5]),
    }
    for module, (g, _) in cases.items():
        (tmp_path / f"{module}.py").write_text(g.source, encoding="utf-8")
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import notes_hessian, sigmoid_grad\n"
        "assert not any(m.startswith('scalargrad') for m in sys.modules), 'scalargrad was imported'\n"
        "def flat(r):\n"
        "    return [r[0], *r[1], *(h for row in (r[2] if len(r) > 2 else []) for h in row)]\n"
        "def show(r):\n"
        "    print(' '.join(x.hex() for x in flat(r)))\n"
        f"show(sigmoid_grad.value_and_grad(*{cases['sigmoid_grad'][1]!r}))\n"
        f"show(notes_hessian.value_grad_hessian(*{cases['notes_hessian'][1]!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for line, (g, at) in zip(lines, cases.values()):
        assert [float.fromhex(h) for h in line.split()] == flat(g.function(*at))
    assert len(lines) == 2


def test_the_numpy_source_runs_on_its_own() -> None:
    np = need("numpy")
    y, x1, x2 = notes()
    vg = compile(y, [x1, x2], order=2).vectorized()
    assert "from numpy import" in vg.source
    a, b = np.array([2.0, 0.5, -1.0]), np.array([5.0, 3.0, 2.0])
    scope: dict[str, Any] = {}
    exec(vg.source, scope)  # TEST ONLY: compile's own output
    with np.errstate(all="ignore"):
        alone = flat(scope[vg.function.__name__](a, b))
        compiled = flat(vg.function(a, b))
    for p, q in zip(alone, compiled):
        assert np.array_equal(p, q, equal_nan=True)


@given(expressions_and_points(ops=[*ALL_OPS]))
@settings(max_examples=30)
def test_the_numpy_source_of_every_op_runs_on_its_own(case: tuple[GeneratedExpression, list[float]]) -> None:
    np = need("numpy")
    f, point = case
    g = compile(f, point)
    vg = g.vectorized()
    batch = [np.array([x, x / 2 + 0.25, -x]) for x in point]
    scope: dict[str, Any] = {}
    exec(vg.source, scope)  # TEST ONLY: compile's own output
    with np.errstate(all="ignore"):
        alone = flat(scope[vg.function.__name__](*batch))
        compiled = flat(vg.function(*batch))
    for p, q in zip(alone, compiled):
        assert np.array_equal(np.asarray(p, dtype=float), np.asarray(q, dtype=float), equal_nan=True)


def test_the_torch_source_runs_on_its_own() -> None:
    torch = pytest.importorskip("torch")  # the bench extra; tested where installed
    vg = compile(kinked, (0.5, 2.0), order=2).vectorized("torch")
    assert "import torch" in vg.source
    scope: dict[str, Any] = {}
    exec(vg.source, scope)  # TEST ONLY: compile's own output
    args = (torch.tensor([-1.0, 1.0], dtype=torch.float64), torch.tensor([1.0, -1.0], dtype=torch.float64))
    for p, q in zip(flat(scope[vg.function.__name__](*args)), flat(vg.function(*args))):
        assert torch.equal(torch.as_tensor(p), torch.as_tensor(q))
