"""The built-in ops against a 50-digit mpmath reference.

* values and first derivatives (``scalargrad.grad``) at fixed points of each op's
  domain and at random ones (hypothesis), to a relative 1e-12;
* second derivatives through ``grad(..., create_graph=True)``, to a relative 1e-9;
* special points, with PyTorch's conventions, asserted exactly;
* numbers mixed with Values give the same numbers as Values only.

The reference is independent of the package: each op's value is an mpmath
function, its derivatives come from ``mpmath.diff`` (closed forms for the kinked
``minimum``/``maximum``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import mpmath  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import OPS, Value

DPS = 50
REL, ABS = 1e-12, 1e-15  # first-order checks
REL2, ABS2 = 1e-9, 1e-12  # second derivatives

# --------------------------------------------------------------------------- #
# The reference                                                                #
# --------------------------------------------------------------------------- #


def _tie_split(winner: Callable[[mpmath.mpf, mpmath.mpf], bool]) -> Callable[..., tuple[float, float]]:
    """d min/max(a, b) / d(a, b): 1/0 to the winner, 0.5/0.5 at a tie (PyTorch)."""

    def partials(a: mpmath.mpf, b: mpmath.mpf) -> tuple[float, float]:
        if a == b:
            return (0.5, 0.5)
        return (1.0, 0.0) if winner(a, b) else (0.0, 1.0)

    return partials


class Row(NamedTuple):
    """One op's reference data: the op on mpf numbers, and where to try it beyond its domain."""

    value: Callable[..., mpmath.mpf]
    extra: tuple[float, ...] = ()
    """Further points of a unary op, outside its (conservative) domain but where it is still fine."""
    random: st.SearchStrategy[float] | None = None
    """A wider range for a unary op's random points than its domain's."""
    partials: Callable[..., tuple[float, ...]] | None = None
    """Closed-form first partials, for an op mpmath.diff cannot differentiate (kinks)."""
    exact: tuple[tuple[float, float, float], ...] = ()
    """Special points of a unary op, asserted exactly: (x, value, derivative), as for sqrt'(0) = inf."""


# One row per built-in op written as a call (abs is Python's abs, checked in tests/test_ops.py):
# adding an op adds its row here.
REFERENCE: dict[str, Row] = {
    "exp": Row(mpmath.exp, (-30.0, 30.0), st.floats(-50.0, 50.0)),
    "log": Row(mpmath.log),
    "sqrt": Row(mpmath.sqrt, exact=((0.0, 0.0, math.inf), (4.0, 2.0, 0.25))),
    "sin": Row(mpmath.sin),
    "cos": Row(mpmath.cos),
    "tan": Row(mpmath.tan, (-1.2, 1.5), st.floats(-1.5, 1.5)),
    "tanh": Row(mpmath.tanh, (-8.0, 8.0)),
    "sigmoid": Row(lambda x: 1 / (1 + mpmath.exp(-x)), (-25.0, 25.0)),
    "relu": Row(
        lambda x: max(x, mpmath.mpf(0)), (-1e-300, 1e-300), partials=lambda x: (1.0 if x > 0 else 0.0,)
    ),
    "atan": Row(mpmath.atan, (-50.0, 1e-9)),
    "asin": Row(mpmath.asin, (-0.999, 0.999)),
    "acos": Row(mpmath.acos, (-0.999, 0.999)),
    "sinh": Row(mpmath.sinh, (-10.0, 1e-9, 20.0), st.floats(-20.0, 20.0)),
    "cosh": Row(mpmath.cosh, (-10.0, 20.0), st.floats(-20.0, 20.0)),
    "log1p": Row(mpmath.log1p, (-0.999, 1e-12, 1e6)),
    "expm1": Row(mpmath.expm1, (-20.0, -1e-12, 15.0), st.floats(-20.0, 20.0)),
    "log2": Row(lambda x: mpmath.log(x, 2), (1e-8, 1024.0)),
    "log10": Row(mpmath.log10, (1e-8, 1e5)),
    "erf": Row(mpmath.erf, (-4.0, 1e-9, 6.0)),
    "softplus": Row(lambda x: mpmath.log1p(mpmath.exp(x)), (-30.0, 30.0)),
    "atan2": Row(mpmath.atan2),  # atan2(y, x)
    "hypot": Row(mpmath.hypot),
    "minimum": Row(min, partials=_tie_split(lambda a, b: a < b)),
    "maximum": Row(max, partials=_tie_split(lambda a, b: a > b)),
    "cbrt": Row(
        lambda x: mpmath.sign(x) * mpmath.cbrt(abs(x)),
        (-27.0, 1e-9, 1e6),
        exact=((0.0, 0.0, math.inf), (-8.0, -2.0, 1 / 12), (1.0, 1.0, 1 / 3)),
    ),
}

NAMES = tuple(REFERENCE)
SMOOTH_UNARY = [n for n in NAMES if OPS[n].arity == 1 and OPS[n].smooth]
SMOOTH_BINARY = [n for n in NAMES if OPS[n].arity == 2 and OPS[n].smooth]


def ref_value(name: str, *args: float) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        return +REFERENCE[name].value(*map(mpmath.mpf, args))


def ref_partials(name: str, *args: float) -> list[mpmath.mpf]:
    """d op / d each operand at ``args``."""
    with mpmath.workdps(DPS):
        point = [mpmath.mpf(a) for a in args]
        partials = REFERENCE[name].partials
        if partials is not None:
            return [mpmath.mpf(p) for p in partials(*point)]
        f = REFERENCE[name].value
        if len(args) == 1:
            return [mpmath.diff(f, point[0])]
        return [mpmath.diff(f, tuple(point), order) for order in ((1, 0), (0, 1))]


def ref_second(name: str, *args: float) -> list[list[mpmath.mpf]]:
    """The Hessian of the op at ``args`` (a 1 x 1 matrix for a unary op)."""
    with mpmath.workdps(DPS):
        point = [mpmath.mpf(a) for a in args]
        f = REFERENCE[name].value
        if len(args) == 1:
            return [[mpmath.diff(f, point[0], 2)]]
        orders = [[(2, 0), (1, 1)], [(1, 1), (0, 2)]]
        return [[mpmath.diff(f, tuple(point), o) for o in row] for row in orders]


def assert_close(actual: float, expected: mpmath.mpf, what: str, rel: float = REL, abs_: float = ABS) -> None:
    """|actual - expected| <= max(rel * |expected|, abs_), the difference taken at 50 digits."""
    assert isinstance(actual, float), (what, actual)
    with mpmath.workdps(DPS):
        error = abs(mpmath.mpf(actual) - expected)
        bound = max(rel * abs(expected), abs_)
        assert error <= bound, (
            f"{what}: got {actual!r}, mpmath says {mpmath.nstr(expected, 20)} (error {mpmath.nstr(error, 3)})"
        )


# --------------------------------------------------------------------------- #
# Points                                                                       #
# --------------------------------------------------------------------------- #

# A handful of fixed points inside each of scalargrad.core.op.DOMAINS
DOMAIN_POINTS: dict[str, tuple[float, ...]] = {
    "real": (-3.0, -0.5, 0.0, 0.1, 1.0, 2.5),
    "positive": (1e-3, 0.1, 0.5, 1.0, 2.0, 100.0),
    "nonzero": (-7.0, -0.5, 0.2, 1.0, 3.0),
    "unit": (-0.9, -0.3, 0.0, 0.25, 0.75),
    "above_minus_one": (-0.9, -0.25, 0.0, 1e-8, 0.5, 10.0),
    "bounded": (-1.0, -0.5, 0.0, 0.3, 1.0),
}

# Moderate ranges for random points, by domain, and wider ones for some ops
RANDOM_POINTS: dict[str, st.SearchStrategy[float]] = {
    "real": st.floats(-20.0, 20.0),
    "positive": st.floats(1e-3, 1e3),
    "nonzero": st.floats(0.05, 20.0) | st.floats(-20.0, -0.05),
    "unit": st.floats(-0.99, 0.99),
    "above_minus_one": st.floats(-0.99, 50.0),
    "bounded": st.floats(-1.0, 1.0),
}

# Two points per domain for the second derivatives
SECOND_POINTS: dict[str, tuple[float, ...]] = {
    "real": (-1.3, 0.7),
    "positive": (0.3, 2.5),
    "nonzero": (-1.7, 0.6),
    "unit": (-0.6, 0.35),
    "above_minus_one": (-0.4, 1.7),
    "bounded": (-0.8, 0.45),
}


def _fmt(args: Sequence[float]) -> str:
    return ",".join(repr(a) for a in args)


def ordinary_cases(names: Sequence[str]) -> list[Any]:
    cases: list[Any] = []
    points: list[tuple[float, ...]]
    for name in names:
        op = OPS[name]
        if op.arity == 1:
            points = [(x,) for x in DOMAIN_POINTS[op.domains[0]] + REFERENCE[name].extra]
        else:
            points = list(itertools.product(*(DOMAIN_POINTS[d] for d in op.domains)))
        cases += [pytest.param(name, args, id=f"{name}({_fmt(args)})") for args in points]
    return cases


def random_point(name: str, data: st.DataObject) -> tuple[float, ...]:
    op = OPS[name]
    wider = REFERENCE[name].random
    if op.arity == 1 and wider is not None:
        return (data.draw(wider, label="x"),)
    return tuple(data.draw(RANDOM_POINTS[d], label=f"operand {i}") for i, d in enumerate(op.domains))


# --------------------------------------------------------------------------- #
# Helpers on the package                                                       #
# --------------------------------------------------------------------------- #


def value_and_grads(name: str, args: Sequence[float]) -> tuple[float, list[float], tuple[float, ...]]:
    """The op on Values: its value, ``grad`` w.r.t. every operand, and its local_grads."""
    xs = [Value(a) for a in args]
    y = OPS[name](*xs)
    assert isinstance(y, Value) and y.op is OPS[name]
    return y.data, list(sg.grad(y, xs)), y.local_grads


def check_against_reference(name: str, args: Sequence[float]) -> None:
    data, grads, local = value_and_grads(name, args)
    where = f"{name}({_fmt(args)})"
    assert_close(data, ref_value(name, *args), where)
    for i, (g, expected) in enumerate(zip(grads, ref_partials(name, *args), strict=True)):
        assert_close(g, expected, f"d{where}/d operand {i}")
    assert tuple(grads) == local, (where, grads, local)
    # the float path gives the very same value
    assert OPS[name](*args) == data, where


# --------------------------------------------------------------------------- #
# 0. The table covers what it should                                           #
# --------------------------------------------------------------------------- #


def test_reference_covers_the_ops() -> None:
    calls = {name for name, op in OPS.items() if op.builtin and op.notation == "call"} - {"abs"}
    missing = sorted(calls - set(REFERENCE))
    assert not missing, f"add a row for {', '.join(missing)} to REFERENCE in tests/test_op_reference.py"
    assert set(REFERENCE) <= calls, set(REFERENCE) - calls
    for name in REFERENCE:
        assert all(d in DOMAIN_POINTS for d in OPS[name].domains), name


@pytest.mark.parametrize("name", NAMES)
def test_three_spellings_agree(name: str) -> None:
    """OPS[name], the module function and the Value method are one op."""
    op = OPS[name]
    args = tuple(DOMAIN_POINTS[d][3] for d in op.domains)
    module_fn = getattr(sg, name)
    by_op, by_fn = op(*args), module_fn(*args)
    assert type(by_op) is float and by_op == by_fn
    by_method = getattr(Value(args[0]), name)(*args[1:])
    assert isinstance(by_method, Value) and by_method.op is op and by_method.data == by_op


# --------------------------------------------------------------------------- #
# 1. Values and first derivatives                                              #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("name", "args"), ordinary_cases(NAMES))
def test_value_and_gradient_at_ordinary_points(name: str, args: tuple[float, ...]) -> None:
    check_against_reference(name, args)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_value_and_gradient_at_random_points(name: str, data: st.DataObject) -> None:
    check_against_reference(name, random_point(name, data))


# --------------------------------------------------------------------------- #
# 2. Special points (PyTorch's conventions), asserted exactly                  #
# --------------------------------------------------------------------------- #


def d(name: str, *args: float) -> list[float]:
    """grad of the op w.r.t. each operand, on Values."""
    return value_and_grads(name, args)[1]


EXACT = [(name, *point) for name, row in REFERENCE.items() for point in row.exact]


@pytest.mark.parametrize(("name", "x", "value", "derivative"), EXACT)
def test_exact_special_points(name: str, x: float, value: float, derivative: float) -> None:
    data, grads, local = value_and_grads(name, (x,))
    assert (data, grads, local) == (value, [derivative], (derivative,))
    assert OPS[name](x) == value


def test_softplus_does_not_overflow() -> None:
    assert sg.softplus(1000.0) == 1000.0
    assert sg.softplus(Value(1000.0)).data == 1000.0
    assert d("softplus", 1000.0) == [1.0]


def test_softplus_far_left_is_tiny_and_flat() -> None:
    for y in (sg.softplus(-1000.0), sg.softplus(Value(-1000.0)).data):
        assert 0.0 <= y < 1e-300
    (g,) = d("softplus", -1000.0)
    assert 0.0 <= g < 1e-300


@pytest.mark.parametrize("x", [1.0, -1.0])
def test_asin_acos_slopes_at_the_ends(x: float) -> None:
    assert d("asin", x) == [math.inf]
    assert d("acos", x) == [-math.inf]
    assert sg.asin(Value(x)).local_grads == (math.inf,)
    assert sg.acos(Value(x)).local_grads == (-math.inf,)
    assert sg.asin(x) == math.copysign(math.pi / 2, x)
    assert sg.acos(x) == (0.0 if x == 1.0 else math.pi)


# op, argument, exception type
ERRORS = [
    ("asin", 1.5, ValueError),
    ("asin", -1.5, ValueError),
    ("acos", 1.5, ValueError),
    ("acos", -1.0000001, ValueError),
    ("log1p", -1.0, ValueError),
    ("log1p", -2.0, ValueError),
    ("log2", 0.0, ValueError),
    ("log10", -1.0, ValueError),
    ("sinh", 1000.0, OverflowError),
    ("sinh", -1000.0, OverflowError),
    ("cosh", 1000.0, OverflowError),
    ("expm1", 1000.0, OverflowError),
]


@pytest.mark.parametrize(("name", "x", "error"), ERRORS, ids=[f"{n}({x})" for n, x, _ in ERRORS])
@pytest.mark.parametrize("form", ["float", "Value", "method"])
def test_errors_name_the_op(name: str, x: float, error: type[Exception], form: str) -> None:
    call: Callable[[], Any] = {
        "float": lambda: OPS[name](x),
        "Value": lambda: getattr(sg, name)(Value(x)),
        "method": lambda: getattr(Value(x), name)(),
    }[form]
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()


def test_log1p_slope_at_zero() -> None:
    assert d("log1p", 0.0) == [1.0]


def test_erf_slope_at_zero() -> None:
    (g,) = d("erf", 0.0)
    assert g == 2.0 / math.sqrt(math.pi)
    with mpmath.workdps(DPS):
        assert g == float(2 / mpmath.sqrt(mpmath.pi))


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_atan2_hypot_at_the_origin(name: str) -> None:
    data, grads, local = value_and_grads(name, (0.0, 0.0))
    assert data == 0.0
    assert OPS[name](0.0, 0.0) == 0.0
    assert all(math.isnan(g) for g in grads), grads
    assert all(math.isnan(g) for g in local), local
    # with one operand a number, the other's derivative is nan as well
    a = Value(0.0)
    assert math.isnan(sg.grad(getattr(sg, name)(a, 0.0), a))
    b = Value(0.0)
    assert math.isnan(sg.grad(getattr(sg, name)(0.0, b), b))


@pytest.mark.parametrize("args", [(1e-200, 1e-200), (1e-170, -2e-170)], ids=str)
def test_atan2_at_tiny_operands(args: tuple[float, float]) -> None:
    data, grads, _ = value_and_grads("atan2", args)
    with mpmath.workdps(DPS):
        a, b = map(mpmath.mpf, args)
        expected = [b / (a * a + b * b), -a / (a * a + b * b)]  # closed form: mpmath.diff's step is absolute
    assert_close(data, ref_value("atan2", *args), "atan2")
    for g, e in zip(grads, expected, strict=True):
        assert_close(g, e, "d atan2")


# op, a, b, value, [d/da, d/db]
MIN_MAX = [
    ("maximum", 2.0, 2.0, 2.0, [0.5, 0.5]),
    ("minimum", 2.0, 2.0, 2.0, [0.5, 0.5]),
    ("maximum", 0.0, -0.0, 0.0, [0.5, 0.5]),
    ("minimum", -3.5, -3.5, -3.5, [0.5, 0.5]),
    ("maximum", 2.0, 3.0, 3.0, [0.0, 1.0]),
    ("maximum", 3.0, 2.0, 3.0, [1.0, 0.0]),
    ("minimum", 2.0, 3.0, 2.0, [1.0, 0.0]),
    ("minimum", -1.0, -5.0, -5.0, [0.0, 1.0]),
    ("maximum", -1e-300, 1e-300, 1e-300, [0.0, 1.0]),
]


@pytest.mark.parametrize(("name", "a", "b", "value", "grads"), MIN_MAX)
def test_minimum_maximum_share_the_gradient(
    name: str, a: float, b: float, value: float, grads: list[float]
) -> None:
    data, got, local = value_and_grads(name, (a, b))
    assert data == value
    assert got == grads
    assert list(local) == grads


@pytest.mark.parametrize("name", ["minimum", "maximum"])
def test_minimum_maximum_of_a_value_with_itself(name: str) -> None:
    x = Value(2.0)
    assert sg.grad(getattr(sg, name)(x, x), x) == 1.0


TINY = [(name, x) for name in ("expm1", "log1p") for x in (1e-10, -1e-10, 1e-300)]


@pytest.mark.parametrize(("name", "x"), TINY)
def test_tiny_arguments_keep_precision(name: str, x: float) -> None:
    expected = ref_value(name, x)
    assert_close(getattr(sg, name)(x), expected, f"{name}({x!r})", rel=1e-15, abs_=0.0)
    assert_close(getattr(sg, name)(Value(x)).data, expected, f"{name}(Value({x!r}))", rel=1e-15, abs_=0.0)


# --------------------------------------------------------------------------- #
# 3. Second derivatives through create_graph                                   #
# --------------------------------------------------------------------------- #

def second_cases() -> list[Any]:
    return [
        pytest.param(name, x, id=f"{name}({x!r})")
        for name in SMOOTH_UNARY
        for x in SECOND_POINTS[OPS[name].domains[0]]
    ]


@pytest.mark.parametrize(("name", "x"), second_cases())
def test_second_derivative_through_create_graph(name: str, x: float) -> None:
    v = Value(x)
    first = sg.grad(getattr(sg, name)(v), v, create_graph=True)
    assert isinstance(first, Value)
    assert_close(first.data, ref_partials(name, x)[0], f"{name}'({x!r})")
    second = sg.grad(first, v)
    assert_close(second, ref_second(name, x)[0][0], f"{name}''({x!r})", rel=REL2, abs_=ABS2)


@pytest.mark.parametrize("name", SMOOTH_BINARY)
@pytest.mark.parametrize("args", [(0.7, -1.3), (-2.0, 0.5)], ids=str)
def test_hessian_of_binary_ops_through_create_graph(name: str, args: tuple[float, float]) -> None:
    xs = [Value(a) for a in args]
    firsts = sg.grad(OPS[name](*xs), xs, create_graph=True)
    expected = ref_second(name, *args)
    for i, first in enumerate(firsts):
        for j, got in enumerate(sg.grad(first, xs)):
            assert_close(got, expected[i][j], f"d2 {name}/d{i}d{j} at {args}", rel=REL2, abs_=ABS2)


# --------------------------------------------------------------------------- #
# 4. Numbers mixed with Values                                                 #
# --------------------------------------------------------------------------- #

MIXED_POINTS = [
    ("atan2", 1.0, 2.0),
    ("atan2", -0.5, -3.0),
    ("hypot", 1.0, 2),
    ("hypot", -3, 4.0),
    ("maximum", 3, 2.0),
    ("maximum", 2.0, 3),
    ("minimum", 3, 2.0),
    ("minimum", -1.0, 5),
]


@pytest.mark.parametrize(("name", "a", "b"), MIXED_POINTS)
def test_numbers_mixed_with_values(name: str, a: float, b: float) -> None:
    va, vb = Value(float(a)), Value(float(b))
    y = getattr(sg, name)(va, vb)
    ga, gb = sg.grad(y, [va, vb])

    # the number first, the Value second
    vb2 = Value(float(b))
    for mixed in (getattr(sg, name)(a, vb2), OPS[name](a, vb2)):
        assert mixed.data == y.data
        assert sg.grad(mixed, vb2) == gb
        assert mixed.local_grads == (gb,)

    # the Value first, the number second: function, method and OPS
    va2 = Value(float(a))
    for mixed in (getattr(sg, name)(va2, b), getattr(va2, name)(b), OPS[name](va2, b)):
        assert mixed.data == y.data
        assert sg.grad(mixed, va2) == ga
        assert mixed.local_grads == (ga,)

    # and both numbers: a float
    assert OPS[name](a, b) == y.data


def test_the_briefs_mixed_examples() -> None:
    assert sg.atan2(1.0, Value(2.0)).data == sg.atan2(Value(1.0), Value(2.0)).data == math.atan2(1.0, 2.0)
    assert Value(1.0).hypot(2).data == sg.hypot(Value(1.0), Value(2.0)).data == math.hypot(1.0, 2.0)
    assert sg.maximum(3, Value(2.0)).data == sg.maximum(Value(3.0), Value(2.0)).data == 3.0
    assert Value(1.0).atan2(2.0).data == math.atan2(1.0, 2.0)


@pytest.mark.parametrize(("name", "a", "b"), [("atan2", 0.7, -1.3), ("hypot", -2.0, 0.5)])
def test_mixed_second_derivatives_match_all_value_form(name: str, a: float, b: float) -> None:
    expected = ref_second(name, a, b)
    x = Value(a)
    second = sg.grad(sg.grad(OPS[name](x, b), x, create_graph=True), x)
    assert_close(second, expected[0][0], f"d2 {name}/da2", REL2, ABS2)
    x = Value(b)
    second = sg.grad(sg.grad(OPS[name](a, x), x, create_graph=True), x)
    assert_close(second, expected[1][1], f"d2 {name}/db2", REL2, ABS2)
