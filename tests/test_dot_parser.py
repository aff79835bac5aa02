"""The expression parser's ``dot((x1, x2), (y1, y2))``: one dot node, clear errors, the limits,
and printed dot formulas that read back as the same function built from ``*`` and ``+``."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import assume, given

from scalargrad import OPS, Value, grad, ops
from scalargrad.expr import MAX_LENGTH, SEQUENCE_FUNCTIONS, ExpressionError, constant, parse
from scalargrad.testing import (
    DEFAULT_OPS,
    GeneratedExpression,
    assert_gradients_close,
    expressions_and_points,
)

DOT = OPS["dot"]

Case = tuple[GeneratedExpression, list[float]]

# dot weighted up among the smooth ops, so that most drawn expressions have one
_WITH_DOT = ["dot"] * 15 + [name for name in DEFAULT_OPS if name != "dot"]


def parser_text(e: GeneratedExpression) -> str:
    """``e`` written for the parser with every step as it is (``dot(...)`` calls, full
    parentheses), so that the parsed graph has the same ops on the same operands (TEST ONLY)."""
    slots = [f"x{i}" for i in range(e.n_inputs)]
    for kind, operands, value in e.steps:
        args = [slots[o] for o in operands]
        if kind == "const":
            slots.append(f"({value!r})")
            continue
        op = OPS[kind]
        if op.arity is None:
            n = len(args) // 2
            slots.append(f"{kind}(({', '.join(args[:n])},), ({', '.join(args[n:])},))")
        elif op.notation == "infix":
            slots.append(f"({args[0]}){op.symbol}({args[1]})")
        elif op.notation == "prefix":
            slots.append(f"{op.symbol}({args[0]})")
        else:
            slots.append(f"{kind}({', '.join(args)})")
    return slots[-1]


def _parsed(text: str) -> Any:
    try:
        return parse(text)
    except ExpressionError as err:  # the generator can write past the parser's limits
        assume("too long" not in str(err) and "too large" not in str(err))
        raise


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


# --------------------------------------------------------------------------- #
# one dot node                                                                 #
# --------------------------------------------------------------------------- #


def test_dot_is_one_node_with_the_operands_in_order() -> None:
    y, inputs = parse("dot((a, b*c), [d, 2])").build({"a": 1.5, "b": 2.0, "c": -3.0, "d": 0.25})
    a, b, c, d = (inputs[n] for n in "abcd")
    assert y.op is DOT and not y.is_leaf
    x2, two = y.operands[1], y.operands[3]
    assert y.operands[0] is a and y.operands[2] is d and x2.parents == (b, c)
    assert two.data == 2.0 and two.is_leaf and two not in inputs.values()
    assert y.local_grads == (0.25, 2.0, 1.5, -6.0)
    assert y.data == 1.5 * 0.25 + -6.0 * 2.0
    assert grad(y, [a, b, c, d]) == [0.25, -6.0, 4.0, 1.5]


def test_one_pair_and_a_pair_with_itself() -> None:
    y, inputs = parse("dot((x,), (x,))").build({"x": 3.0})
    assert y.op is DOT and y.data == 9.0 and y.operands == (inputs["x"], inputs["x"])
    assert grad(y, inputs["x"]) == 6.0


def test_dot_sums_exactly_as_the_op_does() -> None:
    # 1e16 + 1 - 1e16 is 0.0 summed left to right; dot rounds once
    assert constant("dot((1e16, 1, -1e16), (1, 1, 1))") == 1.0
    assert constant("1e16*1 + 1*1 + (-1e16)*1") == 0.0
    y, inputs = parse("dot((x, 1, -x), (1, 1, 1))").build({"x": 1e16})
    assert y.data == 1.0 == ops.dot([inputs["x"], 1.0, -inputs["x"]], [1.0, 1.0, 1.0]).data


def test_numbers_only_give_a_float() -> None:
    assert parse("dot((1, 2), (3, 4)) + 1").evaluate({}) == 12.0
    assert constant("dot([pi], [2])") == 2 * math.pi


def test_identical_dot_calls_share_one_node() -> None:
    text = "dot((x, y), (y, x)) * dot((x, y), (y, x))"
    shared, _ = parse(text).build({"x": 2.0, "y": 3.0})
    assert shared.parents[0] is shared.parents[1] and shared.parents[0].op is DOT
    apart, _ = parse(text).build({"x": 2.0, "y": 3.0}, share=False)
    assert apart.parents[0] is not apart.parents[1] and apart.data == shared.data == 144.0
    # the same operands split differently are different dots: the split is the length
    y, _ = parse("dot((x, y), (y, x)) - dot((x,), (y,))").build({"x": 2.0, "y": 3.0})
    assert y.parents[0] is not y.parents[1] and y.data == 6.0


def test_every_sequence_function_is_a_variadic_op() -> None:
    assert {name: op for name, op in OPS.items() if op.builtin and op.arity is None} == SEQUENCE_FUNCTIONS
    for name, op in SEQUENCE_FUNCTIONS.items():
        y, _ = parse(f"{name}((x, 2), (3, x))").build({"x": 0.5})
        assert y.op is op


# --------------------------------------------------------------------------- #
# errors name the call or the argument by column                               #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dot((x, y), (y,))", "dot() at column 1 takes two sequences of equal lengths, got 2 and 1 items"),
        ("x + dot([x], [])", "dot() argument 2 at column 14 is empty: give at least one pair"),
        ("dot((), ())", "dot() argument 1 at column 5 is empty"),
        ("dot(x, (y,))", "dot() argument 1 at column 5 must be a tuple or list of expressions, as in "
         "dot((x1, x2), (y1, y2))"),
        ("dot((x,), y)", "dot() argument 2 at column 11 must be a tuple or list"),
        ("dot((x,), 2)", "dot() argument 2 at column 11 must be a tuple or list"),
        ("dot((x,))", "dot() at column 1 takes exactly 2 arguments, two sequences as in "
         "dot((x1, x2), (y1, y2)), got 1"),
        ("2*dot()", "dot() at column 3 takes exactly 2 arguments"),
        ("dot((x,), (y,), (z,))", "got 3"),
        ("é·dot(é, (y,))", "dot() argument 1 at column 7"),  # columns count characters, not bytes
        ("x₁ − dot((x₁,), (x₁, x₁))", "dot() at column 6 takes two sequences of equal lengths, got 1 and 2"),
        ("dot", "'dot' is a function: call it, as in dot((x1, x2), (y1, y2))"),
        ("dot((x,), ys=(y,))", "dot() takes no keyword arguments"),
        ("dot(*x)", "not allowed: starred arguments"),
        ("dot((*x,), (y,))", "not allowed: starred arguments"),
        ("dot(((x, y),), ((y, x),))", "not allowed: tuples"),
        ("(x, y)", "not allowed: tuples"),
        ("[x]", "not allowed: lists"),
        ("sin((x,))", "not allowed: tuples"),
        ("dot((x, y), (y, x)).real", "not allowed: attribute access"),
        ("dott((x,), (y,))", "unknown function 'dott' (known: abs, acos"),
    ],
)
def test_bad_dot_calls_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_function_lists_dot_among_the_known() -> None:
    with pytest.raises(ExpressionError, match=r"known: .*\bdot\b.*\bexp\b"):
        parse("foo(x)")


# --------------------------------------------------------------------------- #
# generated graphs with dot nodes, through the parser                          #
# --------------------------------------------------------------------------- #


@given(expressions_and_points(1, 3, ops=_WITH_DOT, max_depth=3))
def test_generated_dot_calls_parse_to_the_same_function(case: Case) -> None:
    """A generated expression written with dot(...) calls parses to the same function: the
    same value bit for bit (the same ops on the same operands), and gradients that agree
    with the engine's on the generated graph and with finite differences."""
    e, point = case
    assume("dot" in e.ops)
    expression = _parsed(parser_text(e))
    names = expression.names
    values = {name: point[int(name[1:])] for name in names}
    assert _same(expression.evaluate(values), e(*point))
    y, inputs = expression.build(values)
    xs = [Value(x) for x in point]
    expected = grad(e(*xs), xs)
    got = grad(y, [inputs[name] for name in names])
    assert got == pytest.approx([expected[int(name[1:])] for name in names], rel=1e-12, abs=1e-300)

    def f(*args: Any) -> Any:
        return expression.evaluate(dict(zip(names, args)))

    assert_gradients_close(f, [values[name] for name in names])


@given(expressions_and_points(1, 3, ops=_WITH_DOT, max_depth=3))
def test_a_printed_dot_formula_reads_back_as_products_and_sums(case: Case) -> None:
    """A dot node prints as x1*y1 + x2*y2; parsed back, that is the function made of binary
    ``*`` and ``+`` (bit for bit), and within rounding of the dot itself, summed exactly."""
    e, point = case
    assume("dot" in e.ops)
    y = e(*(Value(x, label=f"x{i}") for i, x in enumerate(point)))
    text = str(y)
    again = _parsed(text)
    assert DOT.name + "(" not in text
    values = {name: point[int(name[1:])] for name in again.names}
    value = again.evaluate(values)
    assert _same(value, e.as_binary()(*point))
    assert value == pytest.approx(y.data, rel=1e-9, abs=1e-12)


@given(expressions_and_points(1, 3, ops=_WITH_DOT, max_depth=3))
def test_generated_expressions_print_their_dots_as_products_and_sums(case: Case) -> None:
    """``str`` of a GeneratedExpression with dot steps is its binary twin's (the sum of
    products), and reads back through the parser as that function."""
    e, point = case
    assume("dot" in e.ops)
    twin = e.as_binary()
    assert str(e) == str(twin)
    again = _parsed(str(e))
    values = {name: point[int(name[1:])] for name in again.names}
    assert again.evaluate(values) == pytest.approx(twin(*point), rel=1e-12, abs=1e-300)


def test_the_length_limit_leaves_room_for_a_long_dot() -> None:
    pairs = 150
    text = f"dot(({', '.join(f'x{i}' for i in range(pairs))}), ({', '.join(['y'] * pairs)}))"
    assert len(text) < MAX_LENGTH
    y, inputs = parse(text).build({**{f"x{i}": float(i) for i in range(pairs)}, "y": 2.0})
    assert y.op is DOT and len(y.parents) == 2 * pairs
    assert y.data == 2.0 * sum(range(pairs)) and grad(y, inputs["y"]) == sum(range(pairs))
