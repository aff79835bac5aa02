"""scalargrad.testing: GeneratedExpression, the strategies and the assertion helpers."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import OPS, GradcheckError, Value, gradcheck
from scalargrad.expr import FUNCTIONS
from scalargrad.graph import topological_order
from scalargrad.numeric import Tolerance
from scalargrad.testing import (
    ALL_OPS,
    DEFAULT_OPS,
    GeneratedExpression,
    assert_gradients_close,
    assert_hessian_close,
    expressions,
    expressions_and_points,
    points,
)

NAMESPACE = FUNCTIONS  # the expression parser's whitelist: every op function, ln and log

Case = tuple[GeneratedExpression, list[float]]
"""A random expression and a point to evaluate it at."""


def evaluate_text(text: str, point: list[float]) -> float:
    """Evaluate a GeneratedExpression's str with only scalargrad's functions in scope (TEST ONLY)."""
    names = {f"x{i}": x for i, x in enumerate(point)}
    code = compile(text, "<expression>", "eval")
    assert all(name in NAMESPACE or name in names for name in code.co_names), code.co_names
    return float(eval(code, {"__builtins__": {}}, {**NAMESPACE, **names}))


# --------------------------------------------------------------------------- #
# GeneratedExpression                                                                   #
# --------------------------------------------------------------------------- #


def test_expression_prints_evaluates_and_builds_graphs() -> None:
    e = GeneratedExpression(
        2,
        [
            ("mul", (0, 0), 0.0),  # 2: x0*x0
            ("const", (), 1.0),  # 3
            ("add", (3, 2), 0.0),  # 4: 1 + x0*x0
            ("log", (4,), 0.0),  # 5
            ("sin", (1,), 0.0),  # 6
            ("mul", (6, 5), 0.0),  # 7
        ],
    )
    assert str(e) == "sin(x1)*log(1 + x0*x0)"
    assert repr(e) == "GeneratedExpression('sin(x1)*log(1 + x0*x0)', n_inputs=2)"
    assert e.ops == {"mul", "add", "log", "sin"}
    assert e(2.0, 0.5) == math.sin(0.5) * math.log(5.0)
    x0, x1 = Value(2.0), Value(0.5)
    y = e(x0, x1)
    assert isinstance(y, Value) and y.data == e(2.0, 0.5)
    assert sg.grad(y, [x0, x1]) == pytest.approx([math.sin(0.5) * 4 / 5, math.cos(0.5) * math.log(5.0)])


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        ([("add", (0, 1), 0), ("neg", (2,), 0)], "-(x0 + x1)"),
        ([("neg", (0,), 0), ("const", (), 2), ("pow", (2, 3), 0)], "(-x0)**2"),
        ([("const", (), 2), ("pow", (0, 2), 0), ("neg", (3,), 0)], "-x0**2"),
        ([("sub", (1, 0), 0), ("sub", (0, 2), 0)], "x0 - (x1 - x0)"),
        ([("sub", (0, 1), 0), ("sub", (2, 0), 0)], "x0 - x1 - x0"),
        ([("div", (0, 1), 0), ("div", (0, 2), 0)], "x0/(x0/x1)"),
        ([("mul", (0, 1), 0), ("div", (2, 0), 0)], "x0*x1/x0"),
        ([("pow", (0, 1), 0), ("pow", (2, 1), 0)], "(x0**x1)**x1"),
        ([("pow", (0, 1), 0), ("pow", (1, 2), 0)], "x1**x0**x1"),  # ** is right-associative
        ([("neg", (0,), 0), ("neg", (2,), 0)], "-(-x0)"),
        ([("const", (), -2), ("neg", (2,), 0)], "-(-2)"),
        ([("const", (), 2), ("neg", (2,), 0), ("pow", (0, 3), 0)], "x0**(-2)"),
        ([("const", (), 1e-300), ("mul", (0, 2), 0), ("log", (3,), 0)], "log(x0*1e-300)"),
        ([("const", (), -1.5), ("mul", (0, 2), 0)], "x0*(-1.5)"),
        ([("const", (), 0.5), ("sub", (0, 2), 0), ("exp", (3,), 0)], "exp(x0 - 0.5)"),
    ],
)
def test_expression_printing_uses_python_precedence(steps: list[Any], text: str) -> None:
    e = GeneratedExpression(2, steps)
    assert str(e) == text
    point = [1.25, 0.75]
    assert evaluate_text(text, point) == pytest.approx(e(*point), rel=1e-15)


def test_expression_prints_with_the_engines_printer() -> None:
    # the engine's printer, so the same graph prints the same way (only ln is spelt log)
    e = GeneratedExpression(1, [("neg", (0,), 0), ("neg", (1,), 0)])
    x0 = Value(1.0, label="x0")
    assert str(e) == str(e(x0)) == "-(-x0)"
    assert repr(e) == "GeneratedExpression('-(-x0)', n_inputs=1)"
    e = GeneratedExpression(2, [("div", (0, 1), 0), ("log", (2,), 0), ("neg", (3,), 0)])
    assert str(e) == str(e(Value(1.0, label="x0"), Value(2.0, label="x1"))).replace("ln", "log")


def test_expression_prints_where_it_is_undefined() -> None:
    # printing never evaluates: log(x0 - x0) and 1/0 are defined nowhere, but print
    e = GeneratedExpression(1, [("sub", (0, 0), 0), ("log", (1,), 0)])
    assert str(e) == "log(x0 - x0)"
    e = GeneratedExpression(1, [("const", (), 1), ("const", (), 0), ("div", (1, 2), 0), ("add", (0, 3), 0)])
    assert str(e) == "x0 + 1/0"
    with pytest.raises(ZeroDivisionError):
        e(1.0)


def test_expression_bad_input() -> None:
    with pytest.raises(ValueError, match="n_inputs >= 1"):
        GeneratedExpression(0, [])
    with pytest.raises(ValueError, match="unknown op 'erfc'"):
        GeneratedExpression(1, [("erfc", (0,), 0.0)])
    with pytest.raises(ValueError, match="needs 2 operands"):
        GeneratedExpression(1, [("add", (0,), 0.0)])
    with pytest.raises(ValueError, match=r"among slots 0\.\.1"):
        GeneratedExpression(2, [("sin", (2,), 0.0)])
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        GeneratedExpression(2, [("add", (0, 1), 0.0)])(1.0)


# --------------------------------------------------------------------------- #
# strategies                                                                   #
# --------------------------------------------------------------------------- #


@given(expressions_and_points(max_inputs=4, ops=ALL_OPS))
def test_expressions_are_defined_and_consistent_everywhere(case: Case) -> None:
    f, point = case
    as_number = f(*point)
    xs = [Value(x) for x in point]
    as_value = f(*xs)
    assert isinstance(as_number, float) and math.isfinite(as_number)
    assert isinstance(as_value, Value)
    assert as_value.data == as_number  # the same ops in the same order
    assert any(x in set(topological_order(as_value)) for x in xs)  # depends on an input
    # the printed expression is Python over scalargrad's functions, and means the same
    assert evaluate_text(str(f), point) == pytest.approx(as_number, rel=1e-9, abs=1e-12)


@given(expressions_and_points(bound=2.0))
def test_expressions_stay_finite_near_the_bounds_and_beyond(case: Case) -> None:
    f, point = case
    for scale in (1.0, 1.5):
        assert math.isfinite(f(*(scale * x for x in point)))


@given(st.data())
def test_the_op_mix_is_configurable(data: st.DataObject) -> None:
    assert data.draw(expressions(2, ops=["sin", "cos"])).ops <= {"sin", "cos"}
    assert data.draw(expressions(2, ops=["mul"])).ops == {"mul"}
    assert data.draw(expressions(1, ops=["log"])).ops <= {"log", "add", "mul"}  # log(1 + a*a)
    assert data.draw(expressions(1, ops=["exp"])).ops <= {"exp", "tanh"}  # exp(tanh(a))
    assert data.draw(expressions(3)).ops.isdisjoint({"abs", "relu"})


@given(st.data())
def test_max_depth_bounds_the_nesting(data: st.DataObject) -> None:
    def op_steps(e: GeneratedExpression) -> int:
        return sum(kind != "const" for kind, _, _ in e.steps)

    assert op_steps(data.draw(expressions(3, ops=["sin", "add"], max_depth=1))) == 1
    assert 1 <= op_steps(data.draw(expressions(2, ops=["sin"], max_depth=3))) <= 3


def test_abs_and_relu_can_be_drawn() -> None:
    seen: set[str] = set()

    @given(expressions(2, ops=["abs", "relu"]))
    def collect(e: GeneratedExpression) -> None:
        seen.update(e.ops)

    collect()
    assert seen == {"abs", "relu"}
    assert set(ALL_OPS) - set(DEFAULT_OPS) == {"abs", "relu", "minimum", "maximum"}


@given(points(3, bound=0.5), st.data())
def test_points_have_the_right_length_and_bounds(point: list[float], data: st.DataObject) -> None:
    assert len(point) == 3 and all(-0.5 <= x <= 0.5 for x in point)
    f, p = data.draw(expressions_and_points(min_inputs=2, max_inputs=2))
    assert f.n_inputs == 2 and len(p) == 2


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: expressions(0), ValueError, "n_inputs must be >= 1"),
        (lambda: expressions(1.5), TypeError, "n_inputs must be an int"),
        (lambda: expressions(2, ops=["sin", "erfc"]), ValueError, r"unknown ops \['erfc'\]"),
        (lambda: expressions(2, ops=[]), ValueError, "ops is empty"),
        (lambda: expressions(2, ops="sin"), TypeError, "not a single string"),
        (lambda: expressions(2, max_depth=0), ValueError, "max_depth must be >= 1"),
        (lambda: points(2, bound=0), ValueError, "bound must be a finite number > 0"),
        (lambda: points(0), ValueError, "n_inputs must be >= 1"),
        (lambda: expressions_and_points(3, 2), ValueError, "max_inputs"),
    ],
)
def test_strategy_bad_input(make: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


# --------------------------------------------------------------------------- #
# dot steps: one node over 2n operands                                         #
# --------------------------------------------------------------------------- #

_WITH_DOT = ["dot"] * 15 + [name for name in DEFAULT_OPS if name != "dot"]
"""The smooth ops with dot weighted up, so that most drawn expressions have a dot node."""


def test_dot_is_in_both_mixes() -> None:
    assert "dot" in DEFAULT_OPS and "dot" in ALL_OPS and OPS["dot"].arity is None


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        ([("dot", (0, 1, 1, 0), 0)], "x0*x1 + x1*x0"),
        ([("dot", (0, 1, 0, 1), 0)], "x0*x0 + x1*x1"),
        ([("dot", (0, 1), 0), ("sin", (2,), 0)], "sin(x0*x1)"),
        ([("dot", (0, 1, 1, 0), 0), ("mul", (2, 1), 0)], "(x0*x1 + x1*x0)*x1"),
        ([("dot", (0, 1, 1, 0), 0), ("sub", (1, 2), 0)], "x1 - (x0*x1 + x1*x0)"),
        ([("add", (0, 1), 0), ("dot", (2, 0, 1, 2), 0)], "(x0 + x1)*x1 + x0*(x0 + x1)"),
        ([("const", (), -0.5), ("dot", (0, 2, 1, 0), 0)], "x0*x1 + (-0.5*x0)"),
        ([("log", (0,), 0), ("dot", (2, 1), 0)], "log(x0)*x1"),
    ],
)
def test_a_dot_step_prints_as_its_sum_of_products(steps: list[Any], text: str) -> None:
    e = GeneratedExpression(2, steps)
    assert str(e) == text and "dot" in e.ops
    point = [1.25, 0.75]
    assert evaluate_text(text, point) == pytest.approx(e(*point), rel=1e-15)


@pytest.mark.parametrize("operands", [(), (0,), (0, 1, 1), (0, 1, 1, 0, 1), (0, 2), (0, -1), (2, 0, 1, 1)])
def test_a_dot_step_needs_2n_operands_among_the_filled_slots(operands: tuple[int, ...]) -> None:
    with pytest.raises(ValueError) as info:
        GeneratedExpression(2, [("dot", operands, 0.0)])
    assert str(info.value) == f"step 'dot' needs 2n (n >= 1) operands among slots 0..1, got {operands}"


def test_a_dot_steps_slot_is_an_operand_of_later_steps() -> None:
    e = GeneratedExpression(2, [("dot", (0, 0), 0.0), ("dot", (2, 1, 1, 2), 0.0)])
    assert e(2.0, 3.0) == 4.0 * 3.0 + 3.0 * 4.0
    with pytest.raises(ValueError, match=r"among slots 0\.\.2, got \(0, 3\)"):
        GeneratedExpression(2, [("dot", (0, 0), 0.0), ("dot", (0, 3), 0.0)])


def test_as_binary_writes_each_dot_step_as_its_products_and_sums() -> None:
    e = GeneratedExpression(
        2, [("const", (), 2.0), ("dot", (0, 2, 1, 1, 0, 2), 0.0), ("sin", (3,), 0.0), ("dot", (4, 0), 0.0)]
    )
    twin = e.as_binary()
    assert twin.n_inputs == 2 and "dot" not in twin.ops
    assert twin.steps == (
        ("const", (), 2.0),
        ("mul", (0, 1), 0.0),  # x0*x1
        ("mul", (2, 0), 0.0),  # 2*x0
        ("add", (3, 4), 0.0),
        ("mul", (1, 2), 0.0),  # x1*2
        ("add", (5, 6), 0.0),
        ("sin", (7,), 0.0),  # the later steps read the sum's slot
        ("mul", (8, 0), 0.0),
    )
    assert str(twin) == str(e) == "sin(x0*x1 + 2*x0 + x1*2)*x0"
    plain = GeneratedExpression(1, [("const", (), -1.5), ("mul", (0, 1), 0.0), ("exp", (2,), 0.0)])
    assert plain.as_binary().steps == plain.steps


def test_as_binary_sums_left_to_right_where_dot_sums_exactly() -> None:
    e = GeneratedExpression(1, [("const", (), 1.0), ("const", (), -1.0), ("dot", (0, 1, 0, 1, 1, 2), 0.0)])
    assert str(e) == "x0*1 + 1*1 + x0*(-1)"
    assert e(1e16) == 1.0  # one rounding of the exact sum
    assert e.as_binary()(1e16) == 0.0 == evaluate_text(str(e), [1e16])  # as the formula reads


@given(expressions_and_points(max_inputs=3, ops=_WITH_DOT, max_depth=3))
def test_as_binary_is_the_function_the_printed_formula_reads_back_as(case: Case) -> None:
    f, point = case
    twin = f.as_binary()
    assert "dot" not in twin.ops and twin.ops <= f.ops | {"mul", "add"} and twin.n_inputs == f.n_inputs
    assert str(twin) == str(f)
    value = twin(*point)
    assert evaluate_text(str(f), point) == value  # bit for bit
    assert value == pytest.approx(f(*point), rel=1e-9, abs=1e-12)  # the dots' rounding aside
    if "dot" not in f.ops:
        assert twin.steps == f.steps
        return
    xs, bx = [Value(x) for x in point], [Value(x) for x in point]
    assert sg.grad(twin(*bx), bx) == pytest.approx(sg.grad(f(*xs), xs), rel=1e-9, abs=1e-12)


def test_dot_steps_are_drawn_with_one_to_three_pairs_and_no_guards() -> None:
    counts: set[int] = set()

    @given(expressions(2, ops=["dot"], max_depth=2))
    def collect(e: GeneratedExpression) -> None:
        assert e.ops == {"dot"}
        counts.update(len(operands) for kind, operands, _ in e.steps if kind == "dot")

    collect()
    assert counts == {2, 4, 6}


@given(expressions_and_points(max_inputs=4, ops=_WITH_DOT))
def test_expressions_with_dot_nodes_have_gradients_matching_finite_differences(case: Case) -> None:
    """The guarantee of the strategies: a drawn expression's gradient, dot nodes and all, is
    its finite differences' (and forward mode's, the graph walked the other way)."""
    f, point = case
    assume("dot" in f.ops)
    xs = [Value(x) for x in point]
    y = f(*xs)
    assert any(v.op is OPS["dot"] for v in topological_order(y))
    gradient = assert_gradients_close(f, point)
    assert [sg.jvp(y, {x: 1.0}) for x in xs] == pytest.approx(gradient, rel=1e-9, abs=1e-12)


@given(expressions_and_points(max_inputs=3, ops=_WITH_DOT, max_depth=3))
def test_expressions_with_dot_nodes_have_hessians_matching_finite_differences(case: Case) -> None:
    f, point = case
    assume("dot" in f.ops)
    assert_hessian_close(f, point)


# --------------------------------------------------------------------------- #
# assertion helpers                                                            #
# --------------------------------------------------------------------------- #


@given(expressions_and_points())
def test_readme_style_property(case: Case) -> None:
    f, point = case
    assert_gradients_close(f, point)


def test_assert_gradients_close_returns_the_gradient() -> None:
    assert assert_gradients_close(lambda x, y: sg.log(x) + x * y - sg.sin(y), [2.0, 5.0]) == [
        5.5,
        pytest.approx(1.7163378145367738),
    ]
    assert assert_gradients_close(lambda x: 2.0, [1.0]) == [0.0]


def test_assert_gradients_close_catches_a_wrong_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong_cos(self: Value) -> Value:
        out = Value(math.cos(self.data))
        out._op, out._a, out._da = OPS["cos"], self, math.sin(self.data)  # sign error
        return out

    f = GeneratedExpression(2, [("cos", (0,), 0.0), ("mul", (2, 1), 0.0)])
    assert_gradients_close(f, [0.4, 3.0])
    monkeypatch.setattr(Value, "cos", wrong_cos)
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(f, [0.4, 3.0])
    assert isinstance(info.value, GradcheckError) and info.value.index == 0
    message = str(info.value)
    assert "GeneratedExpression('cos(x0)*x1', n_inputs=2)" in message and "args=[0.4, 3.0]" in message
    assert "worst mismatch: input 0" in message


def test_rounding_slack_tracks_the_scale_of_the_computation() -> None:
    def offset(x: Any) -> Any:
        return (x + 1e8) - 1e8  # exact derivative 1; its value is rounded at the scale of 1e8

    # fixed tolerances alone (ulps=0) blame the derivative for the differences' rounding error
    with pytest.raises(GradcheckError):
        gradcheck(offset, [0.3], tolerance=Tolerance(ulps=0.0))
    with pytest.raises(GradcheckError):
        assert_gradients_close(offset, [0.3], tolerance=Tolerance(ulps=0.0))
    # the one policy allows for it, in every checker
    assert assert_gradients_close(offset, [0.3]) == [1.0]
    assert gradcheck(offset, [0.3])

    def wrong(x: Any) -> Any:
        if isinstance(x, Value):
            out = Value(x.data)
            out._op, out._a, out._da = OPS["neg"], x, 1.001  # 0.1 % off
            return out
        return x

    # ...but at an ordinary scale the slack is tiny and a 0.1 % error is caught
    with pytest.raises(GradcheckError):
        assert_gradients_close(wrong, [0.3])


def test_assert_hessian_close(monkeypatch: pytest.MonkeyPatch) -> None:
    def f(x: Any, y: Any) -> Any:
        return sg.sin(x) * y * y

    h = assert_hessian_close(f, [0.5, 2.0])
    assert h == [
        [pytest.approx(-math.sin(0.5) * 4), pytest.approx(math.cos(0.5) * 4)],
        [pytest.approx(math.cos(0.5) * 4), pytest.approx(2 * math.sin(0.5))],
    ]
    assert assert_hessian_close(lambda x: 3.0, [1.0]) == [[0.0]]
    monkeypatch.setattr(OPS["sin"], "rule", lambda a, out: (math.cos(float(a)),))
    with pytest.raises(GradcheckError, match=r"second derivative \(0, 0\)"):
        assert_hessian_close(f, [0.5, 2.0])


@pytest.mark.parametrize("helper", [assert_gradients_close, assert_hessian_close])
def test_assertion_helpers_fail_with_a_hint_when_f_loses_its_graph(helper: Callable[..., Any]) -> None:
    # math.sin turns the Value into a float: every analytic derivative is 0, f's are not
    with pytest.raises(GradcheckError, match=r"input 0 \(df/dx0\)(?s:.*)hint: f returned a plain number"):
        helper(lambda x: math.sin(x), [0.3])
    # a path lost inside a Value result: the mismatch is reported without the hint
    with pytest.raises(GradcheckError, match=r"input 0") as info:
        helper(lambda x, y: math.sin(x) * y, [0.3, 1.0])
    assert "hint:" not in str(info.value)


INFINITE_SQUARE = sg.define_op("testing_infinite_square", lambda x: x * x, lambda x, out: math.inf)
"""x·x with a derivative rule that says inf: rtol·max(|inf|, |2|) is inf, and must not accept it."""


def test_an_infinite_gradient_is_never_close_to_a_finite_difference() -> None:
    from scalargrad.testing import assert_gradients_close_batched

    with pytest.raises(GradcheckError, match=r"analytic=inf, numeric=2\.0") as info:
        assert_gradients_close(lambda x: INFINITE_SQUARE(x), [1.0])
    assert info.value.analytic == math.inf
    with pytest.raises(GradcheckError, match=r"analytic=inf, numeric=2\.0"):
        assert_gradients_close_batched(lambda x: INFINITE_SQUARE(x), [[1.0]])
    assert assert_gradients_close(lambda x: x * x, [1.0]) == [2.0]


@pytest.mark.parametrize(
    ("f", "grid"),
    [
        (lambda x: math.sin(x) + x, [[1.0]]),
        (lambda x, y: math.sin(x) + y, [[1.0, 0.0], [1.0, 2.0]]),
    ],
)
def test_batched_differences_are_differences_of_f(f: Callable[..., Any], grid: list[list[float]]) -> None:
    # math.sin on a Value is a float: the compiled graph, and its values at θ ± εeᵢ, miss it
    from scalargrad.testing import assert_gradients_close_batched

    with pytest.raises(GradcheckError, match=r"input 0 \(df/dx0\): analytic=[01]\.0, numeric=") as info:
        assert_gradients_close_batched(f, grid)
    assert info.value.numeric == pytest.approx(math.cos(1.0) + (1.0 if len(grid[0]) == 1 else 0.0))


def test_batched_value_mismatch_names_both_causes() -> None:
    from scalargrad.codegen import CompileCheckError
    from scalargrad.testing import assert_gradients_close_batched

    with pytest.raises(CompileCheckError, match="control flow depends on its inputs, or f computes with num"):
        assert_gradients_close_batched(lambda x: math.sin(x) + x, [[1.0], [2.0]])


def test_assert_hessian_close_checks_the_first_derivative() -> None:
    # the Value path's slope is wrong but its second derivative (0) is right: only the
    # first-order comparison with f's central differences can see it
    def f(x: Any) -> Any:
        return 2.0 * x if isinstance(x, Value) else 3.0 * x

    with pytest.raises(GradcheckError, match=r"input 0 \(df/dx0\): analytic=2.0, numeric=(2.99|3.0)"):
        assert_hessian_close(f, [0.3])


@pytest.mark.parametrize("helper", [assert_gradients_close, assert_hessian_close])
def test_assertion_helpers_bad_input(helper: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="args is empty"):
        helper(lambda x: x, [])
    with pytest.raises(TypeError, match="f must be callable"):
        helper(None, [1.0])
    with pytest.raises(ValueError, match="eps must be"):
        helper(lambda x: x, [1.0], eps=-1.0)
    with pytest.raises(TypeError, match="f must return a number or a Value"):
        helper(lambda x: "x", [1.0])


def test_importing_scalargrad_does_not_import_hypothesis() -> None:
    code = "import sys, scalargrad; assert 'hypothesis' not in sys.modules, 'hypothesis imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_modules_import_no_private_names_from_each_other() -> None:
    # a name shared across modules is a documented internal helper without a leading underscore
    import ast
    from pathlib import Path

    package = Path(sg.__file__).parent
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            internal = isinstance(node, ast.ImportFrom) and (
                node.level > 0 or (node.module or "").startswith("scalargrad")
            )
            if internal:
                assert isinstance(node, ast.ImportFrom)
                found |= {(path.name, a.name) for a in node.names if a.name.startswith("_")}
    assert found == set()


def test_the_differences_truncation_error_is_allowed_for_but_not_a_wrong_rule() -> None:
    sin_x12 = GeneratedExpression(
        1,
        [
            ("const", (), 2.0),
            ("pow", (0, 1), 0),
            ("pow", (2, 1), 0),
            ("const", (), 3.0),
            ("pow", (3, 4), 0),
            ("sin", (5,), 0),
        ],
    )
    assert str(sin_x12) == "sin(((x0**2)**2)**3)"
    assert assert_gradients_close(sin_x12, [2.0]) == [pytest.approx(12 * 2**11 * math.cos(2**12), rel=1e-12)]
    off = sg.define_op("testing_sin_off_by_a_thousandth", math.sin, lambda x, out: sg.cos(x) * 1.001)
    with pytest.raises(GradcheckError, match="input 0"):
        assert_gradients_close(lambda x: off(x), [1.0])


def test_batched_check_takes_a_constant_function_as_gradcheck_does() -> None:
    pytest.importorskip("numpy")
    from scalargrad.testing import assert_gradients_close_batched

    assert assert_gradients_close_batched(lambda x: 3.0, [[1.0], [2.0]]).tolist() == [[0.0], [0.0]]
    with pytest.raises(GradcheckError):  # a number for Values that is not constant: the differences see it
        assert_gradients_close_batched(lambda x: math.sin(float(x)), [[1.0], [2.0]])


def test_expressions_and_points_checks_its_bound_when_built() -> None:
    with pytest.raises(ValueError, match="expressions_and_points: bound must be a finite number > 0"):
        expressions_and_points(bound=-1)


def test_the_truncation_allowance_does_not_let_a_slightly_wrong_rule_pass() -> None:
    off = sg.define_op("testing_sin_off_by_a_percent", math.sin, lambda x, out: 0.99 * sg.cos(x))
    with pytest.raises(GradcheckError):
        assert_gradients_close(lambda x: off(2e5 * x), [0.3])  # D(ε) is off by 1 % here too


def test_batched_check_refuses_a_result_that_is_not_a_number() -> None:
    pytest.importorskip("numpy")
    from scalargrad.testing import assert_gradients_close_batched

    with pytest.raises(TypeError, match="f must return a number or a Value, got NoneType"):
        assert_gradients_close_batched(lambda x: None if isinstance(x, Value) else 1.0, [[1.0]])
