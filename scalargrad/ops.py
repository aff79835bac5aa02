"""The built-in ops, each defined once.

Every entry below is one op: its name, the Python expression of its forward value
on floats (``a``, ``b``), the expression of each local derivative (over ``a``,
``b`` and the output ``out``), and how it prints. From that one entry
:func:`~scalargrad.core.methods.builtin_op` generates the hot Value methods (with the
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
from collections.abc import Sequence
from typing import Any

from .core import OPS, Fan, Op, Value, leaf, node_of_fan
from .core.methods import builtin_op, check_namespaces, grad_enabled
from .core.op import FLOAT_NAMESPACE, GRAPH_NAMESPACE, register
from .floats import (
    INSIDE_UNIT_FORM,
    SUM_OF_PRODUCTS_NUMPY,
    SUM_OF_PRODUCTS_TORCH,
    TORCH_SIGN_FORM,
    checked,
    checked_exp,
    divide,
    float_maximum,
    float_minimum,
    float_sigmoid,
    float_softplus,
    inside_unit,
    normal_square,
    pow_base_grad,
    pow_exponent_grad,
    power,
    sign,
    sum_of_products,
    tie_share,
)

__all__ = [
    "acos",
    "asin",
    "atan",
    "atan2",
    "cbrt",
    "cos",
    "cosh",
    "dot",
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

# Every function of math by its name (math.cos as cos, …): what the templates call on floats
FLOAT_NAMESPACE.update({name: getattr(math, name) for name in dir(math) if not name.startswith("_")})
GRAPH_NAMESPACE.update(inf=math.inf, nan=math.nan)

# The graph versions of pow's derivatives (the rule's, on Values): they build nodes with the ops.


def _pow_base_rule(a: Any, b: Any, out: Any) -> Any:
    """d(a**b)/da as a graph: b * a**(b-1), folded where the exponent is a number.

    Where a**(b-1) cannot be evaluated (a == 0 with b < 1) the float convention of
    :func:`pow_base_grad` stands in, as it does for plain numbers; where it
    overflows, the equal b * (a**b / a) is built instead.
    """
    a_, b_ = float(a), float(b)
    if not isinstance(a, Value) or (a_ == 0.0 and b_ < 1.0):
        return pow_base_grad(a_, b_, float(out))
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
    return out * log(a) if float(a) > 0.0 else pow_exponent_grad(float(a), float(out))


# --------------------------------------------------------------------------- #
# The ops: name, forward value, local derivatives, printing, domain, the      #
# helpers its expressions read, its NumPy and PyTorch forms, its table row.   #
# --------------------------------------------------------------------------- #

_add = builtin_op(
    "add",
    "a + b",
    ("1.0", "1.0"),
    symbol="+",
    notation="infix",
    precedence=1,
    latex="{0} + {1}",
    methods=("__add__", "__radd__"),
    doc=("a + b", "1, 1", ""),
)
_sub = builtin_op(
    "sub",
    "a - b",
    ("1.0", "-1.0"),
    symbol="-",
    notation="infix",
    precedence=1,
    latex="{0} - {1}",
    methods=("__sub__", "__rsub__"),
    doc=("a − b", "1, −1", ""),
)
_mul = builtin_op(
    "mul",
    "a * b",
    ("b", "a"),
    symbol="*",
    notation="infix",
    precedence=2,
    latex=r"{0} \cdot {1}",
    methods=("__mul__", "__rmul__"),
    doc=("a · b", "b, a", ""),
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
    methods=("__truediv__", "__rtruediv__"),
    helpers={"divide": divide},
    numpy="np.true_divide",
    torch="torch.true_divide",
    doc=("a / b", "1/b, −a/b²", "`x / 0` raises `ZeroDivisionError` (PyTorch: ±inf or nan)"),
)
_neg = builtin_op(
    "neg",
    "-a",
    ("-1.0",),
    symbol="-",
    notation="prefix",
    precedence=3,
    latex="-{0}",
    methods=("__neg__",),
    doc=("negation", "−1", ""),
)
_pow = builtin_op(
    "pow",
    "power(a, b)",
    ("pow_base_grad(a, b, out)", "pow_exponent_grad(a, out)"),
    symbol="**",
    notation="infix",
    precedence=4,
    latex="{0}^{{{1}}}",
    domains=("positive", "real"),
    methods=("__pow__", "__rpow__"),
    helpers={"power": power, "pow_base_grad": pow_base_grad, "pow_exponent_grad": pow_exponent_grad},
    graph_helpers={"pow_base_grad": _pow_base_rule, "pow_exponent_grad": _pow_exponent_rule},
    numpy="np.power",
    torch="torch.pow",
    arrays={
        "pow_base_grad": '''\
def pow_base_grad(a, b, out):
    """d(a**b)/da per element: b * a**(b-1), with ops.py's values where a == 0 or b == 0."""
    at_zero = where(b < 1.0, inf, where(b == 1.0, 1.0, 0.0))
    return where(b == 0.0, 0.0, where(a == 0.0, at_zero, b * where(a == 0.0, 1.0, a) ** (b - 1.0)))
''',
        "pow_exponent_grad": '''\
def pow_exponent_grad(a, out):
    """d(a**b)/db per element: a**b * ln a, 0 where a == 0, nan where ln a is undefined."""
    positive = a > 0.0
    return where(positive, out * log(where(positive, a, 1.0)), where(a == 0.0, 0.0, nan))
''',
    },
    doc=(
        "a ** b",
        "b·a**(b−1), a**b·ln a",
        "`d(x**0)/dx = 0`; at `a = 0`: `∂/∂a = inf` for `b < 1`, `∂/∂b = 0`; `∂/∂b = nan` for `a < 0`",
    ),
)
_abs = builtin_op(
    "abs",
    "abs(a)",
    ("sign(a)",),
    latex=r"\left\lvert {0} \right\rvert",
    smooth=False,
    methods=("__abs__",),
    helpers={"sign": sign},
    numpy={"abs": "np.abs", "sign": "np.sign"},
    torch={"abs": "torch.abs", "sign": TORCH_SIGN_FORM},
    doc=(r"\|x\|", "sign x", "`abs'(0) = 0`, `abs'(nan) = nan` (PyTorch: 0)"),
)
exp = builtin_op(
    "exp",
    "checked_exp(a)",
    ("out",),
    latex=r"\exp\left({0}\right)",
    domains=("bounded",),
    helpers={"checked_exp": checked_exp},
    numpy="np.exp",
    torch="torch.exp",
    doc=("eˣ", "eˣ", "`exp(1000)` raises `OverflowError` (PyTorch: inf)"),
)
log = builtin_op(
    "log",
    "checked_log(a)",
    ("1.0 / a",),
    symbol="ln",
    latex=r"\ln\left({0}\right)",
    domains=("positive",),
    helpers={"checked_log": checked("log", math.log, lambda x: x <= 0.0, "x > 0")},
    numpy="np.log",
    torch="torch.log",
    doc=("ln x (also `ln` in the CLI)", "1/x", "`log(0)` raises `ValueError` (PyTorch: −inf)"),
)
sqrt = builtin_op(
    "sqrt",
    "checked_sqrt(a)",
    ("0.5 / out if out else inf",),
    latex=r"\sqrt{{{0}}}",
    domains=("positive",),
    helpers={"checked_sqrt": checked("sqrt", math.sqrt, lambda x: x < 0.0, "x >= 0")},
    numpy="np.sqrt",
    torch="torch.sqrt",
    doc=("√x", "1/(2√x)", "`sqrt'(0) = inf`"),
)
sin = builtin_op(
    "sin",
    "checked_sin(a)",
    ("cos(a)",),
    latex=r"\sin\left({0}\right)",
    helpers={"checked_sin": checked("sin", math.sin, math.isinf, "a finite x")},
    numpy="np.sin",
    torch="torch.sin",
    doc=("sin x", "cos x", "`sin(inf)` raises `ValueError` (PyTorch: nan)"),
)
cos = builtin_op(
    "cos",
    "checked_cos(a)",
    ("-sin(a)",),
    latex=r"\cos\left({0}\right)",
    helpers={"checked_cos": checked("cos", math.cos, math.isinf, "a finite x")},
    numpy="np.cos",
    torch="torch.cos",
    doc=("cos x", "−sin x", "`cos(inf)` raises `ValueError` (PyTorch: nan)"),
)
tan = builtin_op(
    "tan",
    "checked_tan(a)",
    ("1.0 + out * out",),
    latex=r"\tan\left({0}\right)",
    domains=("bounded",),
    helpers={"checked_tan": checked("tan", math.tan, math.isinf, "a finite x")},
    numpy="np.tan",
    torch="torch.tan",
    doc=("tan x", "1 + tan²x", "`tan(inf)` raises `ValueError` (PyTorch: nan)"),
)
tanh = builtin_op(
    "tanh",
    "tanh(a)",
    ("1.0 - out * out",),
    latex=r"\tanh\left({0}\right)",
    numpy="np.tanh",
    torch="torch.tanh",
    doc=("tanh x", "1 − tanh²x", ""),
)
# σ' = σ(x)·σ(−x), not σ(1 − σ): 1 − σ(x) loses digits for large x (all of them past
# x = 37), σ(−x) is exact everywhere; the out it reuses is σ(x)
sigmoid = builtin_op(
    "sigmoid",
    "sigmoid(a)",
    ("out * sigmoid(-a)",),
    latex=r"\sigma\left({0}\right)",
    helpers={"sigmoid": float_sigmoid},
    numpy='''\
def sigmoid(x):
    """1 / (1 + e**-x) per element, without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    torch='''\
def sigmoid(x):
    """1 / (1 + e**-x) per element, without overflow."""
    x = tensor(x)
    e = torch.exp(-torch.abs(x))
    return torch.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    doc=("1/(1 + e⁻ˣ), no overflow", "σ(x)·σ(−x)", "`sigmoid(-1000) = 0`, `sigmoid(1000) = 1`"),
)
relu = builtin_op(
    "relu",
    "0.0 if a <= 0.0 else a",
    ("0.0 if a <= 0.0 else 1.0",),
    latex=r"\operatorname{{relu}}\left({0}\right)",
    smooth=False,
    doc=("max(x, 0)", "1 for x > 0, else 0", "`relu'(0) = 0`; nan stays nan"),
)
atan = builtin_op(
    "atan",
    "atan(a)",
    ("1.0 / (1.0 + a * a)",),
    latex=r"\arctan\left({0}\right)",
    numpy="np.arctan",
    torch="torch.atan",
    doc=("arctan x", "1/(1 + x²)", ""),
)
asin = builtin_op(
    "asin",
    "checked_asin(a)",
    ("1.0 / sqrt(1.0 - a * a) if inside_unit(a) else inf",),
    latex=r"\arcsin\left({0}\right)",
    domains=("unit",),
    helpers={
        "checked_asin": checked("asin", math.asin, lambda x: abs(x) > 1.0, "-1 <= x <= 1"),
        "inside_unit": inside_unit,
    },
    numpy="np.arcsin",
    torch="torch.asin",
    arrays={"inside_unit": INSIDE_UNIT_FORM},
    doc=("arcsin x", "1/√(1 − x²)", r"`asin'(±1) = inf`; \|x\| > 1 raises `ValueError` (PyTorch: nan)"),
)
acos = builtin_op(
    "acos",
    "checked_acos(a)",
    ("-1.0 / sqrt(1.0 - a * a) if inside_unit(a) else -inf",),
    latex=r"\arccos\left({0}\right)",
    domains=("unit",),
    helpers={
        "checked_acos": checked("acos", math.acos, lambda x: abs(x) > 1.0, "-1 <= x <= 1"),
        "inside_unit": inside_unit,
    },
    numpy="np.arccos",
    torch="torch.acos",
    arrays={"inside_unit": INSIDE_UNIT_FORM},
    doc=("arccos x", "−1/√(1 − x²)", r"`acos'(±1) = −inf`; \|x\| > 1 raises `ValueError` (PyTorch: nan)"),
)
sinh = builtin_op(
    "sinh",
    "checked_sinh(a)",
    ("cosh(a)",),
    latex=r"\sinh\left({0}\right)",
    domains=("bounded",),
    helpers={"checked_sinh": checked("sinh", math.sinh, lambda x: False, "a finite x")},
    numpy="np.sinh",
    torch="torch.sinh",
    doc=("sinh x", "cosh x", r"overflow above \|x\| ≈ 710.5 raises `OverflowError` (PyTorch: ±inf)"),
)
cosh = builtin_op(
    "cosh",
    "checked_cosh(a)",
    ("sinh(a)",),
    latex=r"\cosh\left({0}\right)",
    domains=("bounded",),
    helpers={"checked_cosh": checked("cosh", math.cosh, lambda x: False, "a finite x")},
    numpy="np.cosh",
    torch="torch.cosh",
    doc=("cosh x", "sinh x", r"overflow above \|x\| ≈ 710.5 raises `OverflowError` (PyTorch: inf)"),
)
log1p = builtin_op(
    "log1p",
    "checked_log1p(a)",
    ("1.0 / (1.0 + a)",),
    latex=r"\ln\left(1 + {0}\right)",
    domains=("above_minus_one",),
    helpers={"checked_log1p": checked("log1p", math.log1p, lambda x: x <= -1.0, "x > -1")},
    numpy="np.log1p",
    torch="torch.log1p",
    doc=("ln(1 + x), exact near 0", "1/(1 + x)", "`log1p(-1)` raises `ValueError` (PyTorch: −inf)"),
)
expm1 = builtin_op(
    "expm1",
    "checked_expm1(a)",
    ("exp(a)",),
    latex=r"\left(e^{{{0}}} - 1\right)",
    domains=("bounded",),
    helpers={"checked_expm1": checked("expm1", math.expm1, lambda x: False, "a finite x")},
    numpy="np.expm1",
    torch="torch.expm1",
    doc=("eˣ − 1, exact near 0", "eˣ", "`expm1(1000)` raises `OverflowError` (PyTorch: inf)"),
)
log2 = builtin_op(
    "log2",
    "checked_log2(a)",
    ("1.0 / (a * LN2)",),
    latex=r"\log_2\left({0}\right)",
    domains=("positive",),
    helpers={
        "checked_log2": checked("log2", math.log2, lambda x: x <= 0.0, "x > 0"),
        "LN2": math.log(2.0),
    },
    numpy="np.log2",
    torch="torch.log2",
    doc=("log₂ x", "1/(x ln 2)", "`log2(0)` raises `ValueError` (PyTorch: −inf)"),
)
log10 = builtin_op(
    "log10",
    "checked_log10(a)",
    ("1.0 / (a * LN10)",),
    latex=r"\log_{{10}}\left({0}\right)",
    domains=("positive",),
    helpers={
        "checked_log10": checked("log10", math.log10, lambda x: x <= 0.0, "x > 0"),
        "LN10": math.log(10.0),
    },
    numpy="np.log10",
    torch="torch.log10",
    doc=("log₁₀ x", "1/(x ln 10)", "`log10(0)` raises `ValueError` (PyTorch: −inf)"),
)
erf = builtin_op(
    "erf",
    "erf(a)",
    ("TWO_OVER_SQRT_PI * exp(-(a * a))",),
    latex=r"\operatorname{{erf}}\left({0}\right)",
    helpers={"TWO_OVER_SQRT_PI": 2.0 / math.sqrt(math.pi)},
    numpy="np.vectorize(math.erf, otypes=[np.float64])",
    torch="torch.erf",
    doc=("error function", "2/√π · e^(−x²)", "`erf'(0) = 2/√π`"),
)
softplus = builtin_op(
    "softplus",
    "softplus(a)",
    ("sigmoid(a)",),
    latex=r"\operatorname{{softplus}}\left({0}\right)",
    helpers={"softplus": float_softplus},
    numpy='''\
def softplus(x):
    """ln(1 + e**x) per element, without overflow: max(x, 0) + ln(1 + e**-|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
''',
    torch='''\
def softplus(x):
    """ln(1 + e**x) per element, without overflow: max(x, 0) + ln(1 + e**-|x|)."""
    x = tensor(x)
    return torch.clamp(x, min=0.0) + torch.log1p(torch.exp(-torch.abs(x)))
''',
    doc=(
        r"ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−\|x\|)",
        "σ(x)",
        "`softplus(1000) = 1000`, no overflow (PyTorch's `threshold=20` switches to x above 20; "
        "here the value is exact everywhere)",
    ),
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
    helpers={"normal_square": normal_square},
    numpy="np.arctan2",
    torch="torch.atan2",
    arrays={
        "normal_square": '''\
def normal_square(a, b):
    """True where a*a + b*b is a normal finite float (not subnormal, not overflowed)."""
    s = a * a + b * b
    return (s >= 2.2250738585072014e-308) & (s < inf)
''',
    },
    doc=(
        "the angle of the point (b, a)",
        "b/(a² + b²), −a/(a² + b²)",
        "both derivatives `nan` at (0, 0) (PyTorch: 0 and −0)",
    ),
)
hypot = builtin_op(
    "hypot",
    "hypot(a, b)",
    ("a / out if out else nan", "b / out if out else nan"),
    latex=r"\operatorname{{hypot}}\left({0}, {1}\right)",
    domains=("nonzero", "real"),
    numpy="np.hypot",
    torch="torch.hypot",
    doc=("√(a² + b²)", "a/hypot, b/hypot", "both derivatives `nan` at (0, 0)"),
)
minimum = builtin_op(
    "minimum",
    "minimum(a, b)",
    ("min_share(a, b)", "min_share(b, a)"),
    latex=r"\min\left({0}, {1}\right)",
    smooth=False,
    helpers={"minimum": float_minimum, "min_share": lambda a, b: tie_share(a, b, lambda m, o: m > o)},
    numpy="np.minimum",
    torch="torch.minimum",
    arrays={
        "min_share": '''\
def min_share(a, b):
    """d minimum(a, b)/da per element: 0 where a loses, 0.5 at a tie, else 1."""
    return where(a > b, 0.0, where(a == b, 0.5, 1.0))
''',
    },
    doc=(
        "the smaller",
        "1 to the smaller, 0 to the other",
        "a tie splits the gradient 0.5/0.5; a nan operand gives nan, and gradient 1 to both",
    ),
)
maximum = builtin_op(
    "maximum",
    "maximum(a, b)",
    ("max_share(a, b)", "max_share(b, a)"),
    latex=r"\max\left({0}, {1}\right)",
    smooth=False,
    helpers={"maximum": float_maximum, "max_share": lambda a, b: tie_share(a, b, lambda m, o: m < o)},
    numpy="np.maximum",
    torch="torch.maximum",
    arrays={
        "max_share": '''\
def max_share(a, b):
    """d maximum(a, b)/da per element: 0 where a loses, 0.5 at a tie, else 1."""
    return where(a < b, 0.0, where(a == b, 0.5, 1.0))
''',
    },
    doc=(
        "the larger",
        "1 to the larger, 0 to the other",
        "a tie splits the gradient 0.5/0.5; a nan operand gives nan, and gradient 1 to both",
    ),
)

# cbrt' = 1/(3·∛x²), written with cbrt itself (the rule builds it as a graph); inf at 0, as sqrt'
cbrt = builtin_op(
    "cbrt",
    "cbrt(a)",
    ("1.0 / (3.0 * cbrt(a) ** 2) if a else inf",),
    latex=r"\sqrt[3]{{{0}}}",
    domains=("nonzero",),
    numpy="np.cbrt",
    torch='''\
def cbrt(x):
    """The real cube root per element: sign(x) * |x| ** (1/3)."""
    x = tensor(x)
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)
''',
    doc=("∛x, the real cube root", "1/(3∛x²)", "`cbrt'(0) = inf`; `cbrt(-8) = -2`"),
)


# dot: one node for x₁y₁ + … + xₙyₙ (a matrix product's entry), its 2n operands x₁…xₙ, y₁…yₙ
# kept in a Fan; each product rounded, their sum exact and rounded once (math.fsum), and
# ∂/∂xₖ = yₖ, ∂/∂yₖ = xₖ are its operands themselves, so the rule works on Values too.
def _dot_value(*operands: float) -> float:
    n, odd = divmod(len(operands), 2)
    if odd:
        raise TypeError(f"dot takes 2n operands (x1…xn, y1…yn), got {len(operands)}")
    return sum_of_products(operands[:n], operands[n:])


def _dot_rule(*operands_and_out: Any) -> tuple[Any, ...]:
    operands = operands_and_out[:-1]
    n = len(operands) // 2
    return (*operands[n:], *operands[:n])


_dot = Op(
    "dot",
    arity=None,
    evaluate=_dot_value,
    rule=_dot_rule,
    symbol="*",
    notation="dot",
    precedence=1,
    latex=r"{0} \cdot {1}",
    builtin=True,
    forms={
        "numpy": {"sum_of_products": SUM_OF_PRODUCTS_NUMPY},
        "torch": {"sum_of_products": SUM_OF_PRODUCTS_TORCH},
    },
    doc=(
        "x₁·y₁ + … + xₙ·yₙ, the products' sum exact (`math.fsum`)",
        "yₖ, xₖ",
        "one node for 2n operands; `matmul` makes one per entry",
    ),
)
register(_dot)
GRAPH_NAMESPACE["dot"] = _dot
FLOAT_NAMESPACE["dot"] = _dot_value


def dot(xs: Sequence[Any], ys: Sequence[Any]) -> Any:
    """x₁·y₁ + … + xₙ·yₙ as one node with 2n parents (a float for plain numbers).

    The notes' Zᵢⱼ = Σₖ XᵢₖWₖⱼ is one ``dot`` per entry: one node instead of n
    products and n − 1 sums, with local derivatives ∂/∂xₖ = yₖ and ∂/∂yₖ = xₖ.
    Each product is rounded and their sum is exact, rounded once (``math.fsum``; left
    to right where a partial sum overflows). It prints as the sum of products it is
    (``x1*y1 + x2*y2``), and a one-pair dot as the product. A plain number among Values
    becomes a constant leaf; sequences of different lengths are a ValueError, and
    empty ones give 0.0. Unlike the other ops it is not a Value method.
    """
    xs, ys = _sequence(xs, "xs"), _sequence(ys, "ys")
    if len(xs) != len(ys):
        raise ValueError(f"dot: the sequences have different lengths, {len(xs)} and {len(ys)}")
    if not xs:
        return 0.0
    if all(type(x) is Value for x in xs) and all(type(y) is Value for y in ys):
        return dot_of_values(xs, ys, tuple([x.data for x in xs]), tuple([y.data for y in ys]))
    return _dot(*xs, *ys)


def _sequence(operands: Any, name: str) -> tuple[Any, ...]:
    try:
        return tuple(operands)
    except TypeError:
        raise TypeError(
            f"dot takes two sequences, dot(xs, ys); {name} is a {type(operands).__name__}: {operands!r:.60}"
        ) from None


def dot_of_values(
    xs: tuple[Value, ...], ys: tuple[Value, ...], xd: tuple[float, ...], yd: tuple[float, ...]
) -> Value:
    """:func:`dot` of Values whose data ``xd``, ``yd`` are at hand (matmul reuses a row's for each column)."""
    out = sum_of_products(xd, yd)
    if not grad_enabled():
        return leaf(out)
    return node_of_fan(out, Fan.grouped(_dot, (xs, ys), (yd, xd)))


check_namespaces(OPS)

FUNCTIONS: dict[str, Op] = {op.name: op for op in OPS.values() if op.builtin and op.notation == "call"}
"""The built-in ops written as calls (``sin(x)``, ``atan2(y, x)``), by name."""


def table() -> str:
    """The op table as Markdown, one row per built-in op, from each entry's ``doc``.

    The documentation site's ops page is this table (docs/build_site.py writes it), so
    adding an op adds its row. Operands print as ``x`` (one) or ``a, b`` (two).
    """
    rows = [
        "| op | value | derivative | special points (as PyTorch unless said) |",
        "| --- | --- | --- | --- |",
    ]
    for op in OPS.values():
        if not op.builtin or op.doc is None:
            continue
        if op.notation == "infix":
            usage = f"a {op.symbol} b"
        elif op.notation == "prefix":
            usage = f"{op.symbol}x"
        elif op.notation == "dot":
            usage = f"{op.name}(xs, ys)"
        else:
            usage = f"{op.name}({'x' if op.arity == 1 else 'a, b'})"
        value, derivative, special = op.doc
        rows.append(f"| `{usage}` | {value} | {derivative} | {special} |")
    return "\n".join(rows) + "\n"
