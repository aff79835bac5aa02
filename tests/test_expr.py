"""The safe expression parser: whitelist, limits, one-line errors, never anything but ExpressionError."""

import math
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalargrad import Value, grad
from scalargrad.expr import (
    FUNCTIONS,
    MAX_LENGTH,
    SEQUENCE_FUNCTIONS,
    Expression,
    ExpressionError,
    constant,
    normalise,
    parse,
)


def test_notes_example() -> None:
    e = parse("ln(x1) + x1*x2 - sin(x2)")
    assert e.names == ("x1", "x2")
    y, inputs = e.build({"x1": 2, "x2": 5})
    assert y.data == pytest.approx(11.652071455223084)
    assert grad(y, [inputs["x1"], inputs["x2"]]) == pytest.approx([5.5, 1.7163378145367738])
    assert str(y) == "ln(x1) + x1*x2 - sin(x2)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-x + +x * 2", 2.0),
        ("x ** 2 / 4", 1.0),
        ("2 ** x", 4.0),
        ("(x - 3) * (x + 1)", -3.0),
        ("log(x) - ln(x)", 0.0),
        ("exp(0*x)", 1.0),
        ("sqrt(x * 8)", 4.0),
        ("abs(-x)", 2.0),
        ("relu(-x) + relu(x)", 2.0),
        ("tanh(x) - tanh(x)", 0.0),
        ("sigmoid(0 * x)", 0.5),
        ("cos(x) ** 2 + sin(x) ** 2", 1.0),
        ("tan(x) * cos(x) / sin(x)", 1.0),
        ("1e-3 * x + .5", 0.502),
        ("(-8) ** (1/3 * 3) + x", -6.0),
        ("-" * 300 + "x", 2.0),
        ("x" + "+x" * 199, 400.0),
    ],
)
def test_every_allowed_form_evaluates(text: str, expected: float) -> None:
    y, _ = parse(text).build({"x": 2.0})
    assert y.data == pytest.approx(expected)


def test_every_function_is_callable() -> None:
    for name, function in FUNCTIONS.items():
        args = ", ".join(["x"] * function.arity)  # type: ignore[attr-defined]
        y, _ = parse(f"{name}({args})").build({"x": 0.5})
        assert isinstance(y, Value) and math.isfinite(y.data)
    for name, op in SEQUENCE_FUNCTIONS.items():
        y, _ = parse(f"{name}((x, 2), [3, x])").build({"x": 0.5})
        assert isinstance(y, Value) and y.op is op and math.isfinite(y.data)


def test_numbers_only_evaluate_to_floats_and_values_can_be_values() -> None:
    assert parse("2 * 3 + 1").evaluate({}) == 7.0
    x = Value(3.0)
    out = parse("x * x").evaluate({"x": x})
    assert isinstance(out, Value) and out.data == 9.0 and out.parents == (x, x)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x +", "invalid syntax"),
        ("(x", "'(' was never closed"),
        ("x y", "invalid syntax at column 3"),
        ("x = 1", "invalid syntax"),
        ("", "empty"),
        ("x\n+ 1", "single line"),
        ("foo(x)", "unknown function 'foo'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("x.real", "not allowed: attribute access"),
        ("x.__class__.__mro__", "not allowed: attribute access"),
        ("math.sin(x)", "not allowed: attribute access"),
        ("x[0]", "not allowed: indexing"),
        ("x < 1", "not allowed: comparisons"),
        ("x and y", "not allowed: 'and'/'or'"),
        ("lambda: x", "not allowed: lambda"),
        ("[x]", "not allowed: lists"),
        ("(x, y)", "not allowed: tuples"),
        ("'x'", "not allowed: strings"),
        ("f'{x}'", "not allowed: strings"),
        ("1j * x", "not allowed: complex numbers"),
        ("None", "not allowed: 'None'"),
        ("True + x", "not allowed: 'True'"),
        ("x // 2", "operator // is not supported"),
        ("x % 2", "operator % is not supported"),
        ("x ^ 2", "use ** for powers"),
        ("~x", "operator ~ is not supported"),
        ("not x", "operator not is not supported"),
        ("sin", "'sin' is a function"),
        ("sin(x, x)", "exactly one argument"),
        ("sin()", "exactly one argument"),
        ("sin(*x)", "not allowed: starred"),
        ("sin(x=1)", "no keyword arguments"),
        ("(x)(1)", "unknown function 'x'"),
        ("sin(x)(1)", "only named functions"),
        ("_x + 1", "names starting with '_'"),
        ("1e999 * x", "too large"),
        ("x ** 100000", "exponent 100000 is too large"),
        ("x ** -(5000.0)", "exponent -5000.0 is too large"),
        ("x" + "+x" * 999, "too large (more than 1000 parts)"),
        ("-" * 1500 + "x", "too large"),
        ("1" * 5000, f"too long (5000 characters; the limit is {MAX_LENGTH})"),
        ("(" * 250 + "x" + ")" * 250, "too many nested parentheses"),
    ],
)
def test_rejected_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("ln(x)", {"x": 0.0}, "log: math domain error"),
        ("sqrt(x)", {"x": -1.0}, "sqrt: math domain error"),
        ("1 / (x - 2)", {"x": 2.0}, "division by zero"),
        ("1 / 0 + x", {"x": 2.0}, "division by zero"),
        ("exp(x)", {"x": 1000.0}, "exp: result too large"),
        ("9 ** 9 ** 9 + x", {"x": 1.0}, "too large"),
        ("(-8) ** (1/3) + x", {"x": 1.0}, "negative base"),
        ("x ** 0.5", {"x": -4.0}, "negative base"),
        ("x + y", {"x": 1.0}, "no value for 'y'"),
        ("x", {"x": 1.0, "z": 2.0}, "'z' does not appear"),
        ("x", {"x": "2"}, "must be a real number, got str"),
        ("x", {"x": True}, "must be a real number, got bool"),
        ("x", {"x": math.nan}, "finite"),
        ("x", {"x": 10**400}, "must be a finite number, got 1000000000"),
        ("2 + 3", {}, "no variables"),
    ],
)
def test_evaluation_errors(text: str, values: dict[str, float], message: str) -> None:
    with pytest.raises(ExpressionError, match=None) as info:
        parse(text).build(values)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_error_type_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(b"x")  # type: ignore[arg-type]


def test_limits_accept_reasonable_expressions() -> None:
    e = parse(" + ".join(f"sin(x{i}) * x{i}" for i in range(100)))
    assert len(e.names) == 100
    assert isinstance(e, Expression) and repr(e).startswith("Expression('sin(x0)")


_DOUBLED_PRODUCT = re.compile(r"[·⋅×][*·⋅×]|\*[·⋅×]")  # two product signs in a row, one printed


def _check_quietly(text: str) -> None:
    start = time.perf_counter()
    try:
        e = parse(text)
        e.evaluate(dict.fromkeys(e.names, 1.5))
    except ExpressionError as err:
        assert "\n" not in str(err)
    else:
        assert not _DOUBLED_PRODUCT.search(text), f"{text!r} was read with ×× or ·* as a power"
    assert time.perf_counter() - start < 0.5


@given(st.text(max_size=200))
def test_random_text_raises_only_expression_error(text: str) -> None:
    _check_quietly(text)


_PIECES = ["x", "y", "2", "0", "1e308", "0.5", "+", "-", "*", "/", "**", "(", ")", " ", ",", "."]
_PIECES += [f"{name}(" for name in [*FUNCTIONS, *SEQUENCE_FUNCTIONS]]
_PIECES += ["foo(", "[", "]", "=", "9", "_", "'", "lambda", "j"]
_PIECES += ["−", "·", "×", "⋅", "₁", "₀", "x₁", "pi", "e", "é", "²"]  # what the traces print, and near it


@given(st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))
def test_random_token_soup_raises_only_expression_error(text: str) -> None:
    _check_quietly(text)


@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_constant_raises_only_expression_error(text: str) -> None:
    try:
        value = constant(text)
    except ExpressionError as err:
        assert "\n" not in str(err)
    else:
        assert math.isfinite(value)
        assert not _DOUBLED_PRODUCT.search(text), f"{text!r} was read with ×× or ·* as a power"


_PRODUCT_SIGNS = ["*", "·", "⋅", "×"]
_OPERANDS = ["x", "y", "x₁", "2", "3", "pi", "(x+1)", "sin(y)"]


@given(
    st.sampled_from(_OPERANDS),
    st.sampled_from(_PRODUCT_SIGNS),
    st.sampled_from(_PRODUCT_SIGNS),
    st.sampled_from(_OPERANDS),
    st.sampled_from(["", " "]),
    st.sampled_from(["", " "]),
)
def test_two_product_signs_in_a_row_are_never_a_power(
    a: str, first: str, second: str, b: str, before: str, after: str
) -> None:
    """``x××y`` mapped one character at a time would be ``x**y``; only ``**`` itself is a power,
    and one printed sign, spaced or not, is a product."""
    text = f"{a}{before}{first}{second}{after}{b}"
    if first == second == "*":
        assert _at_2_and_3(text) == _at_2_and_3(f"{a}**{b}")
        return
    column = len(a) + len(before) + 1
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert str(info.value) == (
        f"two product signs in a row at column {column} ('{first}{second}'): write one, or ** for a power"
    )
    with pytest.raises(ExpressionError, match="two product signs in a row"):
        normalise(text)
    assert _at_2_and_3(f"{a}{before}{first}{after}{b}") == _at_2_and_3(f"{a}*{b}")  # one sign is a product


def _at_2_and_3(text: str) -> Value | float:
    e = parse(text)
    return e.evaluate({name: 2.0 if name.startswith("x") else 3.0 for name in e.names})


@pytest.mark.parametrize("text", ["2××3", "2··3", "2·×3", "2*×3", "2×*3", "2⋅⋅3", "pi × × 2"])
def test_constant_refuses_two_product_signs_in_a_row(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"product signs in a row|invalid syntax"):
        constant(text)


# --------------------------------------------------------------------------- #
# identical subexpressions are one node; pi and e are constants (issue 11.3)  #
# --------------------------------------------------------------------------- #


def _node_count(y: Value) -> int:
    from scalargrad.graph import topological_order

    return len(topological_order(y))


def test_the_notes_extended_example_has_one_exp_node_used_twice() -> None:
    y, inputs = parse("(exp(x1)+1)*exp(x1)").build({"x1": 0.5})
    assert _node_count(y) == 4  # x1, exp, add, mul: the notes' graph
    add, exp = y.parents
    assert exp.parents == (inputs["x1"],) and add.parents == (exp,)
    unshared, _ = parse("(exp(x1)+1)*exp(x1)").build({"x1": 0.5}, share=False)
    assert _node_count(unshared) == 5
    assert unshared.data == y.data
    assert grad(y, inputs["x1"]) == pytest.approx(math.exp(0.5) * (2 * math.exp(0.5) + 1))


@pytest.mark.parametrize(
    ("text", "shared", "unshared"),
    [
        ("sin(x)*sin(x)", 3, 4),
        ("-x + -x", 3, 4),
        ("ln(x) + log(x)", 3, 4),  # ln is log
        ("(x+1) * (x+1.0)", 3, 4),  # equal numbers
        ("x*y + y*x", 5, 5),  # operands as written: no algebra
        ("x*0.0 + x*-0.0", 4, 4),  # 0.0 and -0.0 differ
        ("exp(x) + exp(y)", 5, 5),
        ("sin(cos(x)) + sin(cos(x)) + sin(cos(x))", 5, 9),
        ("+x * x", 2, 2),
    ],
)
def test_identical_subexpressions_share_a_node(text: str, shared: int, unshared: int) -> None:
    values = {n: 0.75 for n in parse(text).names}
    y, _ = parse(text).build(values)
    z, _ = parse(text).build(values, share=False)
    assert (_node_count(y), _node_count(z)) == (shared, unshared)
    assert y.data == z.data


def test_sharing_keeps_values_and_gradients() -> None:
    text = "x*y + sin(x*y) * exp(x*y) / (1 + exp(x*y)) - (x*y)**2"
    e = parse(text)
    y, inputs = e.build({"x": 0.3, "y": -1.2})
    z, others = e.build({"x": 0.3, "y": -1.2}, share=False)
    assert y.data == pytest.approx(z.data, rel=1e-15)
    assert grad(y, [inputs["x"], inputs["y"]]) == pytest.approx(grad(z, [others["x"], others["y"]]))
    assert _node_count(y) < _node_count(z)


def test_evaluate_shares_too_and_numbers_stay_numbers() -> None:
    x = Value(1.0, label="x")
    out = parse("exp(x) * exp(x)").evaluate({"x": x})
    assert isinstance(out, Value) and out.parents[0] is out.parents[1]
    assert parse("exp(x) * exp(x)").evaluate({"x": 1.0}) == pytest.approx(math.e**2)
    out = parse("exp(x) * exp(x)").evaluate({"x": x}, share=False)
    assert isinstance(out, Value) and out.parents[0] is not out.parents[1]


def test_pi_and_e_are_constants() -> None:
    e = parse("sin(pi*x) + e**x")
    assert e.names == ("x",)
    y, inputs = e.build({"x": 1.0})
    assert list(inputs) == ["x"]
    assert y.data == pytest.approx(math.sin(math.pi) + math.e)
    assert parse("2*pi + e").evaluate({}) == pytest.approx(2 * math.pi + math.e)
    with pytest.raises(ExpressionError, match="no variables"):
        parse("pi * e").build({})


@pytest.mark.parametrize("name", ["pi", "e"])
def test_a_constant_cannot_be_given_a_value(name: str) -> None:
    for values in ({"x": 1.0, name: 3.0}, {name: 3.0}):
        with pytest.raises(ExpressionError, match=f"'{name}' is the constant .*, not a variable") as info:
            parse(f"sin({name}*x)").build(values)
        assert "\n" not in str(info.value)
    with pytest.raises(ExpressionError, match="not a variable"):
        parse("x").evaluate({"x": 1.0, name: 3.0})
    with pytest.raises(ExpressionError, match=f"unknown function '{name}'"):
        parse(f"{name}(x)")


def test_any_real_number_is_a_value() -> None:
    from fractions import Fraction

    assert parse("x*2").evaluate({"x": Fraction(1, 4)}) == 0.5
    y, inputs = parse("x*2").build({"x": Fraction(1, 4)})
    assert y.data == 0.5 and inputs["x"].data == 0.25


# --------------------------------------------------------------------------- #
# the parser reads what the traces print: x₁, −, ·, ×; constants as values     #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("printed", "python"),
    [
        ("ln(x₁) + x₁*x₂ − sin(x₂)", "ln(x1) + x1*x2 - sin(x2)"),
        ("v₂·v̇₁ + v₁·v̇₂", "v2*v̇1 + v1*v̇2"),
        ("2×w₁₀ ⋅ α₃", "2*w10 * α3"),
        ("−(−x)", "-(-x)"),
        ("1e−05*x", "1e-05*x"),
        ("x_₁", "x_1"),
    ],
)
def test_normalise_writes_the_printed_notation_as_python(printed: str, python: str) -> None:
    assert normalise(printed) == python
    assert len(normalise(printed)) == len(printed)  # columns in messages still point into the text


def test_the_printed_notation_parses_to_the_same_function() -> None:
    printed = parse("ln(x₁) + x₁·x₂ − sin(x₂) × 2")
    plain = parse("ln(x1) + x1*x2 - sin(x2) * 2")
    assert printed.names == plain.names == ("x1", "x2")
    point = {"x1": 2.0, "x2": 5.0}
    assert printed.evaluate(point) == plain.evaluate(point)
    y, inputs = printed.build(point)
    assert inputs["x1"].label == "x1" and str(y) == "ln(x1) + x1*x2 - sin(x2)*2"


def test_a_subscripted_name_is_the_plain_name() -> None:
    """x₁ and x1 are one variable, in the text and in the names given values (NFKC, as Python)."""
    e = parse("x₁ * x1")
    assert e.names == ("x1",)
    y, inputs = e.build({"x₁": 3.0})
    assert y.data == 9.0 and list(inputs) == ["x1"]
    assert e.evaluate({"x₁": 2.0}) == 4.0
    with pytest.raises(ExpressionError, match="'x1' is given more than once: 'x1' and 'x₁' are one name"):
        e.build({"x1": 1.0, "x₁": 2.0})


@pytest.mark.parametrize(
    ("text", "column"), [("2₁ + x", 2), ("x + ₁", 5), ("sin(x)₂", 7), ("1.5₀*x", 4), ("x₁ + 3₄", 7)]
)
def test_a_subscript_digit_outside_a_name_is_refused(text: str, column: int) -> None:
    with pytest.raises(
        ExpressionError, match=f"subscript digit '.' at column {column} is not part of a name"
    ):
        parse(text)


@pytest.mark.parametrize("text", ["1if x else 2", "x*1e5or 2", "0x1for"])
def test_python_syntax_warnings_are_not_shown(text: str) -> None:
    """A number touching a keyword makes Python warn; the one error line is all that is said."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError, match=r"not allowed|invalid syntax"):
            parse(text)
    assert [str(w.message) for w in caught] == []


def test_subscripts_are_read_in_linear_time() -> None:
    start = time.perf_counter()
    assert parse("x" + "₁" * (MAX_LENGTH - 1)).names == ("x" + "1" * (MAX_LENGTH - 1),)
    with pytest.raises(ExpressionError, match="not part of a name"):
        parse("1" * (MAX_LENGTH - 1) + "₁")
    assert time.perf_counter() - start < 0.5


def test_the_middle_dot_is_a_product_not_part_of_a_name() -> None:
    """Python allows · inside identifiers; the traces print it as a product, so it is one here."""
    e = parse("x·y")
    assert e.names == ("x", "y") and e.evaluate({"x": 2.0, "y": 3.0}) == 6.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", 2.0),
        ("pi", math.pi),
        ("e", math.e),
        ("-pi", -math.pi),
        ("−pi", -math.pi),
        ("-e", -math.e),
        ("2*pi", 2 * math.pi),
        ("2×pi", 2 * math.pi),
        ("pi/2", math.pi / 2),
        ("1e−3", 0.001),
        ("sqrt(2)", math.sqrt(2)),
    ],
)
def test_constant_reads_numbers_and_constant_expressions(text: str, value: float) -> None:
    assert constant(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", r"variables \(x\)"),
        ("pi*y", r"variables \(y\)"),
        ("exp(1000)", "too large"),
        ("1/0", "division by zero"),
        ("1e400", "too large"),
        ("__import__('os')", "unknown function '__import__'"),
        ("(1).real", "not allowed: attribute access"),
        ("", "empty"),
    ],
)
def test_constant_refuses_what_is_not_a_finite_number(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        constant(text)
