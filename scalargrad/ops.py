"""The built-in ops, each defined once.

Every entry below is one op: its name, the Python expression of its forward value
on floats (``a``, ``b``), the expression of each local derivative (over ``a``,
``b`` and the output ``out``), and how it prints. From that one entry
:func:`~scalargrad.engine.builtin_op` generates the hot Value methods (with the
names bound to ``math``'s float functions) and the derivative rule used by
``create_graph``, the trace tables and the diagrams (with the same names bound to
scalargrad's functions, which work on Values too). ``method_source("tanh")``
prints a generated method.

Where Python's ``math`` raises, the op raises the same exception type with a
message naming the op and the value. Values and derivatives at special points
follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``, ``sqrt'(0) = inf``,
``asin'(±1) = inf``, ``d(x**0)/dx = 0``, ``d(x**y)/dy = 0`` at ``x == 0`` and
``nan`` where ``ln x`` is undefined, ``atan2`` and ``hypot`` derivatives ``nan``
at (0, 0), and ``minimum``/``maximum`` split the gradient 0.5/0.5 at a tie.
Each op is also a module function here: ``ops.sin(x)`` builds a node for a Value
and returns a float for a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .engine import FLOAT_NAMESPACE, GRAPH_NAMESPACE, OPS, Op, Value, builtin_op

__all__ = [
    "acos",
    "asin",
    "atan",
    "atan2",
    "cos",
    "cosh",
    "erf",
    "exp",
    "expm1",
    "hypot",
    "log",
    "log1p",
    "log2",
    "log10",
    "maximum",
    "minimum",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
    "tanh",
]

# --------------------------------------------------------------------------- #
# Forward values on floats, with math-module errors that name the op.          #
# --------------------------------------------------------------------------- #


def _domain_error(op: str, x: float, need: str) -> ValueError:
    return ValueError(f"{op}: math domain error at x = {x!r} ({op} needs {need})")


def _checked(
    name: str, fn: Callable[[float], float], outside: Callable[[float], bool], need: str
) -> Callable[[float], float]:
    """``fn``, raising errors that name ``name`` where ``outside(x)`` and where math raises.

    NaN is let through (``log(nan)`` is nan), so a diverged computation shows as NaN.
    """

    def evaluate(x: float) -> float:
        if outside(x):
            raise _domain_error(name, x, need)
        try:
            return fn(x)
        except ValueError:
            raise _domain_error(name, x, need) from None
        except OverflowError:
            raise OverflowError(f"{name}: result too large at x = {x!r}") from None

    return evaluate


def _checked_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: result too large at x = {x!r} (exp overflows above x = 709.78)") from None


def _divide(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({a!r} / {b!r})")
    return a / b


def _power(a: float, b: float) -> float:
    finite = math.isfinite(b)
    if a == 0.0 and b < 0.0 and finite:
        raise ZeroDivisionError(f"pow: 0.0 cannot be raised to a negative power ({a!r} ** {b!r})")
    if a < 0.0 and finite and not b.is_integer():
        raise ValueError(
            f"pow: math domain error for {a!r} ** {b!r} (a negative base needs an integer exponent)"
        )
    try:
        return math.pow(a, b)
    except OverflowError:
        raise OverflowError(f"pow: result too large for {a!r} ** {b!r}") from None


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    """ln(1 + e**x) without overflow: max(x, 0) + ln(1 + e**-|x|), so softplus(1000) = 1000."""
    if x != x:
        return x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _minimum(a: float, b: float) -> float:
    return a + b if a != a or b != b else min(a, b)


def _maximum(a: float, b: float) -> float:
    return a + b if a != a or b != b else max(a, b)


# --------------------------------------------------------------------------- #
# Helpers of the derivative expressions, on floats and on Values.              #
# --------------------------------------------------------------------------- #


def _sign(x: Any) -> float:
    """1, -1 or 0 (PyTorch's abs'(0) = 0); nan stays nan."""
    x = float(x)
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else math.nan


def _inside_unit(x: Any) -> bool:
    """True strictly inside (−1, 1), and for NaN, where the ordinary formula gives NaN."""
    return not abs(float(x)) >= 1.0


def _tie_share(mine: Any, other: Any, losing: Callable[[float, float], bool]) -> float:
    """d min/max(mine, other)/d mine: 0 when ``mine`` loses, 0.5 at a tie, else 1 (as PyTorch)."""
    m, o = float(mine), float(other)
    if losing(m, o):
        return 0.0
    return 0.5 if m == o else 1.0


def _normal_square(a: Any, b: Any) -> bool:
    """True where a² + b² is a normal finite float: not subnormal, where it has lost digits
    (atan2(0, 2.5e-162) would give ∂/∂y = 5.06e161 for 4e161), and not overflowed."""
    x, y = float(a), float(b)
    return 2.2250738585072014e-308 <= x * x + y * y < math.inf  # sys.float_info.min


def _pow_base_grad(a: float, b: float, out: float) -> float:
    """d(a**b)/da = b * a**(b-1), with PyTorch's values where a == 0 or b == 0.

    Computed as written, not as b * (out / a), which loses everything when a**b
    underflows or overflows (x**2 at 1e-200, or at inf); b * (out / a) stands in
    only where a**(b-1) itself overflows, giving the same infinity. The extra power
    costs about 35 ns a call; exactness is worth it.
    """
    if b == 0.0:
        return 0.0
    if a == 0.0:
        return math.inf if b < 1.0 else (1.0 if b == 1.0 else 0.0)
    if b == 2.0:
        return 2.0 * a
    try:
        power: float = a ** (b - 1.0)  # a real number: a < 0 comes only with an integer b
    except OverflowError:
        return b * (out / a)
    return b * power


def _pow_exponent_grad(a: float, out: float) -> float:
    """d(a**b)/db = a**b * ln a: 0 where a == 0, nan where ln a is undefined."""
    if a > 0.0:
        return out * math.log(a)
    return 0.0 if a == 0.0 else math.nan


def _pow_base_rule(a: Any, b: Any, out: Any) -> Any:
    """d(a**b)/da as a graph: b * a**(b-1), folded where the exponent is a number.

    Where a**(b-1) cannot be evaluated (a == 0 with b < 1) the float convention of
    :func:`_pow_base_grad` stands in, as it does for plain numbers; where it
    overflows, the equal b * (a**b / a) is built instead.
    """
    a_, b_ = float(a), float(b)
    if not isinstance(a, Value) or (a_ == 0.0 and b_ < 1.0):
        return _pow_base_grad(a_, b_, float(out))
    variable = isinstance(b, Value) and not b.is_constant
    if not variable and (b_ == 0.0 or b_ == 1.0):
        return b_
    try:
        if variable:
            return b * a ** (b - 1)
        power = a if b_ == 2.0 else a ** (b_ - 1.0)
    except OverflowError:  # a**(b-1) too large although a**b is not: use b * (a**b / a)
        return b * (out / a)
    return -power if b_ == -1.0 else b_ * power


def _pow_exponent_rule(a: Any, out: Any) -> Any:
    return out * log(a) if float(a) > 0.0 else _pow_exponent_grad(float(a), float(out))


_SHARED = {
    "inf": math.inf,
    "nan": math.nan,
    "LN2": math.log(2.0),
    "LN10": math.log(10.0),
    "TWO_OVER_SQRT_PI": 2.0 / math.sqrt(math.pi),
    "sign": _sign,
    "inside_unit": _inside_unit,
    "normal_square": _normal_square,
    "min_share": lambda a, b: _tie_share(a, b, lambda m, o: m > o),
    "max_share": lambda a, b: _tie_share(a, b, lambda m, o: m < o),
}
FLOAT_NAMESPACE.update(
    {name: getattr(math, name) for name in dir(math) if not name.startswith("_")},  # math.cos as cos, …
    **_SHARED,
    sigmoid=_sigmoid,
    softplus=_softplus,
    minimum=_minimum,
    maximum=_maximum,
    divide=_divide,
    power=_power,
    checked_exp=_checked_exp,
    pow_base_grad=_pow_base_grad,
    pow_exponent_grad=_pow_exponent_grad,
    checked_log=_checked("log", math.log, lambda x: x <= 0.0, "x > 0"),
    checked_sqrt=_checked("sqrt", math.sqrt, lambda x: x < 0.0, "x >= 0"),
    checked_sin=_checked("sin", math.sin, math.isinf, "a finite x"),
    checked_cos=_checked("cos", math.cos, math.isinf, "a finite x"),
    checked_tan=_checked("tan", math.tan, math.isinf, "a finite x"),
    checked_asin=_checked("asin", math.asin, lambda x: abs(x) > 1.0, "-1 <= x <= 1"),
    checked_acos=_checked("acos", math.acos, lambda x: abs(x) > 1.0, "-1 <= x <= 1"),
    checked_sinh=_checked("sinh", math.sinh, lambda x: False, "a finite x"),
    checked_cosh=_checked("cosh", math.cosh, lambda x: False, "a finite x"),
    checked_log1p=_checked("log1p", math.log1p, lambda x: x <= -1.0, "x > -1"),
    checked_expm1=_checked("expm1", math.expm1, lambda x: False, "a finite x"),
    checked_log2=_checked("log2", math.log2, lambda x: x <= 0.0, "x > 0"),
    checked_log10=_checked("log10", math.log10, lambda x: x <= 0.0, "x > 0"),
)
GRAPH_NAMESPACE.update(_SHARED, pow_base_grad=_pow_base_rule, pow_exponent_grad=_pow_exponent_rule)

# --------------------------------------------------------------------------- #
# The ops: name, forward value, local derivatives, printing.                   #
# --------------------------------------------------------------------------- #

_add = builtin_op(
    "add", "a + b", ("1.0", "1.0"), symbol="+", notation="infix", precedence=1, latex="{0} + {1}"
)
_sub = builtin_op(
    "sub", "a - b", ("1.0", "-1.0"), symbol="-", notation="infix", precedence=1, latex="{0} - {1}"
)
_mul = builtin_op(
    "mul", "a * b", ("b", "a"), symbol="*", notation="infix", precedence=2, latex=r"{0} \cdot {1}"
)
_div = builtin_op(
    "div",
    "divide(a, b)",
    ("1.0 / b", "-out / b"),
    symbol="/",
    notation="infix",
    precedence=2,
    latex=r"\frac{{{0}}}{{{1}}}",
    domains=("real", "nonzero"),
)
_neg = builtin_op("neg", "-a", ("-1.0",), symbol="-", notation="prefix", precedence=3, latex="-{0}")
_pow = builtin_op(
    "pow",
    "power(a, b)",
    ("pow_base_grad(a, b, out)", "pow_exponent_grad(a, out)"),
    symbol="**",
    notation="infix",
    precedence=4,
    latex="{0}^{{{1}}}",
    domains=("positive", "real"),
)
_abs = builtin_op("abs", "abs(a)", ("sign(a)",), latex=r"\left\lvert {0} \right\rvert", smooth=False)
exp = builtin_op("exp", "checked_exp(a)", ("out",), latex=r"\exp\left({0}\right)", domains=("bounded",))
log = builtin_op(
    "log", "checked_log(a)", ("1.0 / a",), symbol="ln", latex=r"\ln\left({0}\right)", domains=("positive",)
)
sqrt = builtin_op(
    "sqrt", "checked_sqrt(a)", ("0.5 / out if out else inf",), latex=r"\sqrt{{{0}}}", domains=("positive",)
)
sin = builtin_op("sin", "checked_sin(a)", ("cos(a)",), latex=r"\sin\left({0}\right)")
cos = builtin_op("cos", "checked_cos(a)", ("-sin(a)",), latex=r"\cos\left({0}\right)")
tan = builtin_op(
    "tan", "checked_tan(a)", ("1.0 + out * out",), latex=r"\tan\left({0}\right)", domains=("bounded",)
)
tanh = builtin_op("tanh", "tanh(a)", ("1.0 - out * out",), latex=r"\tanh\left({0}\right)")
# σ' = σ(x)·σ(−x), not σ(1 − σ): 1 − σ(x) loses digits for large x (all of them past
# x = 37), σ(−x) is exact everywhere; the out it reuses is σ(x)
sigmoid = builtin_op("sigmoid", "sigmoid(a)", ("out * sigmoid(-a)",), latex=r"\sigma\left({0}\right)")
relu = builtin_op(
    "relu",
    "0.0 if a <= 0.0 else a",
    ("0.0 if a <= 0.0 else 1.0",),
    latex=r"\operatorname{{relu}}\left({0}\right)",
    smooth=False,
)
atan = builtin_op("atan", "atan(a)", ("1.0 / (1.0 + a * a)",), latex=r"\arctan\left({0}\right)")
asin = builtin_op(
    "asin",
    "checked_asin(a)",
    ("1.0 / sqrt(1.0 - a * a) if inside_unit(a) else inf",),
    latex=r"\arcsin\left({0}\right)",
    domains=("unit",),
)
acos = builtin_op(
    "acos",
    "checked_acos(a)",
    ("-1.0 / sqrt(1.0 - a * a) if inside_unit(a) else -inf",),
    latex=r"\arccos\left({0}\right)",
    domains=("unit",),
)
sinh = builtin_op(
    "sinh", "checked_sinh(a)", ("cosh(a)",), latex=r"\sinh\left({0}\right)", domains=("bounded",)
)
cosh = builtin_op(
    "cosh", "checked_cosh(a)", ("sinh(a)",), latex=r"\cosh\left({0}\right)", domains=("bounded",)
)
log1p = builtin_op(
    "log1p",
    "checked_log1p(a)",
    ("1.0 / (1.0 + a)",),
    latex=r"\ln\left(1 + {0}\right)",
    domains=("above_minus_one",),
)
expm1 = builtin_op(
    "expm1", "checked_expm1(a)", ("exp(a)",), latex=r"\left(e^{{{0}}} - 1\right)", domains=("bounded",)
)
log2 = builtin_op(
    "log2", "checked_log2(a)", ("1.0 / (a * LN2)",), latex=r"\log_2\left({0}\right)", domains=("positive",)
)
log10 = builtin_op(
    "log10",
    "checked_log10(a)",
    ("1.0 / (a * LN10)",),
    latex=r"\log_{{10}}\left({0}\right)",
    domains=("positive",),
)
erf = builtin_op(
    "erf", "erf(a)", ("TWO_OVER_SQRT_PI * exp(-(a * a))",), latex=r"\operatorname{{erf}}\left({0}\right)"
)
softplus = builtin_op(
    "softplus", "softplus(a)", ("sigmoid(a)",), latex=r"\operatorname{{softplus}}\left({0}\right)"
)
atan2 = builtin_op(
    "atan2",
    "atan2(a, b)",
    # x/(x² + y²) and -y/(x² + y²); where x² + y² underflows to 0 or overflows, the same
    # divided by the hypotenuse twice; nan at (0, 0)
    (
        "b / (a * a + b * b) if normal_square(a, b) else (b / hypot(a, b) / hypot(a, b) if a or b else nan)",
        "-a / (a * a + b * b) if normal_square(a, b) else (-a / hypot(a, b) / hypot(a, b) if a or b else nan)",  # noqa: E501
    ),
    latex=r"\operatorname{{atan2}}\left({0}, {1}\right)",
    domains=("real", "positive"),
)
hypot = builtin_op(
    "hypot",
    "hypot(a, b)",
    ("a / out if out else nan", "b / out if out else nan"),
    latex=r"\operatorname{{hypot}}\left({0}, {1}\right)",
    domains=("nonzero", "real"),
)
minimum = builtin_op(
    "minimum",
    "minimum(a, b)",
    ("min_share(a, b)", "min_share(b, a)"),
    latex=r"\min\left({0}, {1}\right)",
    smooth=False,
)
maximum = builtin_op(
    "maximum",
    "maximum(a, b)",
    ("max_share(a, b)", "max_share(b, a)"),
    latex=r"\max\left({0}, {1}\right)",
    smooth=False,
)

GRAPH_NAMESPACE.update(
    exp=exp, log=log, sqrt=sqrt, sin=sin, cos=cos, sinh=sinh, cosh=cosh, sigmoid=sigmoid, hypot=hypot
)

FUNCTIONS: dict[str, Op] = {op.name: op for op in OPS.values() if op.builtin and op.notation == "call"}
"""The built-in ops written as calls (``sin(x)``, ``atan2(y, x)``), by name."""
