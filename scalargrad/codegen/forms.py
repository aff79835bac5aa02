"""The op-specific names of the generated code: what codegen knows of ops besides their templates.

The rest of :mod:`scalargrad.codegen` learns an op's meaning only from its templates
(``Op.source``) and the float helpers' text in :mod:`scalargrad.ops`. Each table here
restates part of that meaning (the ops' functions over NumPy arrays and PyTorch
tensors, their derivative helpers per element, the builtins and constants their
templates read) and is to move into the op's own entry in :mod:`scalargrad.ops`.
Data only: this module imports nothing.
"""

BOOLEAN_HELPERS = frozenset({"inside_unit", "normal_square"})
"""Helpers of the derivative templates that return a truth value (arrays of them in the array form)."""


BUILTINS = {"abs": abs, "min": min, "max": max, "float": float}
"""The builtins an op template may call (``abs(a)``): Python's own, so the source defines none of them."""


ARRAY_HELPERS: dict[str, str] = {
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
    "min_share": '''\
def min_share(a, b):
    """d minimum(a, b)/da per element: 0 where a loses, 0.5 at a tie, else 1."""
    return where(a > b, 0.0, where(a == b, 0.5, 1.0))
''',
    "max_share": '''\
def max_share(a, b):
    """d maximum(a, b)/da per element: 0 where a loses, 0.5 at a tie, else 1."""
    return where(a < b, 0.0, where(a == b, 0.5, 1.0))
''',
    "inside_unit": '''\
def inside_unit(a):
    """True strictly inside (-1, 1), and for nan."""
    return ~(abs(a) >= 1.0)
''',
    "normal_square": '''\
def normal_square(a, b):
    """True where a*a + b*b is a normal finite float (not subnormal, not overflowed)."""
    s = a * a + b * b
    return (s >= 2.2250738585072014e-308) & (s < inf)
''',
}
"""The derivative helpers of :mod:`scalargrad.ops` over arrays, as source (emitted and exec'd):
the same values per element, written with ``where``, for NumPy and PyTorch alike."""

NUMPY: dict[str, str] = {
    **{
        name: f"np.{name}"
        for name in (
            "where",
            "logical_or",
            "logical_and",
            "logical_not",
            "abs",
            "sign",
            "exp",
            "log",
            "sqrt",
            "sin",
            "cos",
            "tan",
            "sinh",
            "cosh",
            "tanh",
            "log1p",
            "expm1",
            "log2",
            "log10",
            "hypot",
            "minimum",
            "maximum",
            "power",
        )
    },
    "asin": "np.arcsin",
    "acos": "np.arccos",
    "atan": "np.arctan",
    "atan2": "np.arctan2",
    "divide": "np.true_divide",
    "erf": "np.vectorize(math.erf, otypes=[np.float64])",
    "sigmoid": '''\
def sigmoid(x):
    """1 / (1 + e**-x) per element, without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    "softplus": '''\
def softplus(x):
    """ln(1 + e**x) per element, without overflow: max(x, 0) + ln(1 + e**-|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
''',
}
"""NumPy's version of every name the built-in ops' templates read: a NumPy function, or source."""

TORCH: dict[str, str] = {
    **{
        name: f"lift(torch.{name})"
        for name in (
            "logical_or",
            "logical_and",
            "logical_not",
            "abs",
            "exp",
            "log",
            "sqrt",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "sinh",
            "cosh",
            "tanh",
            "atan",
            "log1p",
            "expm1",
            "log2",
            "log10",
            "erf",
            "atan2",
            "hypot",
            "minimum",
            "maximum",
        )
    },
    "divide": "lift(torch.true_divide)",
    "power": "lift(torch.pow)",
    "tensor": '''\
def tensor(x):
    """x as a float64 tensor: tensors as they are, numbers converted."""
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)
''',
    "lift": '''\
def lift(fn):
    """The torch function fn, taking numbers too (as float64 tensors)."""
    return lambda *xs: fn(*(tensor(x) for x in xs))
''',
    "where": '''\
def where(c, x, y):
    """x where c is true, else y, per element."""
    return torch.where(tensor(c).bool(), tensor(x), tensor(y))
''',
    "sign": '''\
def sign(x):
    """1, -1 or 0 per element; nan stays nan."""
    x = tensor(x)
    return torch.where(torch.isnan(x), x, torch.sign(x))
''',
    "sigmoid": '''\
def sigmoid(x):
    """1 / (1 + e**-x) per element, without overflow."""
    x = tensor(x)
    e = torch.exp(-torch.abs(x))
    return torch.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    "softplus": '''\
def softplus(x):
    """ln(1 + e**x) per element, without overflow: max(x, 0) + ln(1 + e**-|x|)."""
    x = tensor(x)
    return torch.clamp(x, min=0.0) + torch.log1p(torch.exp(-torch.abs(x)))
''',
}
"""PyTorch's (float64 tensors) version of every name the built-in ops' templates read, as source."""

CONSTANTS = ("inf", "nan", "LN2", "LN10", "TWO_OVER_SQRT_PI")
"""Names both forms share: numbers, written out as :mod:`scalargrad.ops` defines them."""
