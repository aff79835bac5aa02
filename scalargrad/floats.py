"""The plain functions the entries of :mod:`scalargrad.ops` call.

The forward values on floats, raising ``math``'s exception types with messages that name
the op (``log: math domain error at x = -1.0``); the helpers of the derivative expressions,
on floats and on Values; and the array forms of those helpers. The code
:func:`scalargrad.compile` writes copies the functions it calls from here as they are.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any


def domain_error(op: str, x: float, need: str) -> ValueError:
    return ValueError(f"{op}: math domain error at x = {x!r} ({op} needs {need})")


def checked(
    name: str, fn: Callable[[float], float], outside: Callable[[float], bool], need: str
) -> Callable[[float], float]:
    """``fn``, raising errors that name ``name`` where ``outside(x)`` and where math raises.

    NaN is let through (``log(nan)`` is nan), so a diverged computation shows as NaN.
    """

    def evaluate(x: float) -> float:
        if outside(x):
            raise domain_error(name, x, need)
        try:
            return fn(x)
        except ValueError:
            raise domain_error(name, x, need) from None
        except OverflowError:
            raise OverflowError(f"{name}: result too large at x = {x!r}") from None

    return evaluate


def checked_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: result too large at x = {x!r} (exp overflows above x = 709.78)") from None


def divide(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({a!r} / {b!r})")
    return a / b


def power(a: float, b: float) -> float:
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


def float_sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def float_softplus(x: float) -> float:
    """ln(1 + e**x) without overflow: ``max(x, 0) + ln(1 + e**-abs(x))``, so softplus(1000) = 1000."""
    if x != x:
        return x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def float_minimum(a: float, b: float) -> float:
    return a + b if a != a or b != b else min(a, b)


def float_maximum(a: float, b: float) -> float:
    return a + b if a != a or b != b else max(a, b)


# --------------------------------------------------------------------------- #
# Helpers of the derivative expressions, on floats and on Values.              #
# --------------------------------------------------------------------------- #


def sign(x: Any) -> float:
    """1, -1 or 0 (PyTorch's abs'(0) = 0); nan stays nan."""
    x = float(x)
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else math.nan


def inside_unit(x: Any) -> bool:
    """True strictly inside (−1, 1), and for NaN, where the ordinary formula gives NaN."""
    return not abs(float(x)) >= 1.0


def tie_share(mine: Any, other: Any, losing: Callable[[float, float], bool]) -> float:
    """d min/max(mine, other)/d mine: 0 when ``mine`` loses, 0.5 at a tie, else 1 (as PyTorch)."""
    m, o = float(mine), float(other)
    if losing(m, o):
        return 0.0
    return 0.5 if m == o else 1.0


def normal_square(a: Any, b: Any) -> bool:
    """True where a² + b² is a normal finite float: not subnormal, where it has lost digits
    (atan2(0, 2.5e-162) would give ∂/∂y = 5.06e161 for 4e161), and not overflowed."""
    x, y = float(a), float(b)
    return 2.2250738585072014e-308 <= x * x + y * y < math.inf  # sys.float_info.min


def pow_base_grad(a: float, b: float, out: float) -> float:
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


def pow_exponent_grad(a: float, out: float) -> float:
    """d(a**b)/db = a**b * ln a: 0 where a == 0, nan where ln a is undefined."""
    if a > 0.0:
        return out * math.log(a)
    return 0.0 if a == 0.0 else math.nan


# --------------------------------------------------------------------------- #
# The array versions of the derivative helpers (for compile's NumPy and       #
# PyTorch forms), next to the float ones above: the same values per element.  #
# --------------------------------------------------------------------------- #

INSIDE_UNIT_FORM = '''\
def inside_unit(a):
    """True strictly inside (-1, 1), and for nan."""
    return ~(abs(a) >= 1.0)
'''

TORCH_SIGN_FORM = '''\
def sign(x):
    """1, -1 or 0 per element; nan stays nan."""
    x = tensor(x)
    return torch.where(torch.isnan(x), x, torch.sign(x))
'''


# --------------------------------------------------------------------------- #
# dot's value: the products summed exactly, and its array forms                #
# --------------------------------------------------------------------------- #


def sum_of_products(xs: tuple[float, ...] | list[float], ys: tuple[float, ...] | list[float]) -> float:
    """Σ xₖ·yₖ: each product rounded, their sum exact and rounded once (``math.fsum``).

    Where fsum cannot (inf − inf, or a partial sum past the float range) the products
    are summed left to right instead: nan, or ±inf, or a finite sum if the overflow was
    only on the way.
    """
    try:
        return math.fsum(map(operator.mul, xs, ys))
    except (ValueError, OverflowError):
        total = 0.0
        for x, y in zip(xs, ys):
            total += x * y
        return total


_SUM_OF_PRODUCTS_FORM = '''\
def sum_of_products(xs, ys):
    """x1*y1 + ... + xn*yn per element, the products summed with their rounding errors added back.

    Each addition's error is exact (TwoSum), so the sum is as accurate as one in twice
    the precision (Ogita, Rump and Oishi's Sum2): math.fsum's correctly rounded sum but in
    rare ties and deep cancellations. Where it is not finite, the plain sum, as fsum's fallback.
    """
    products = [{product} for x, y in zip(xs, ys)]
    total, error = products[0], {zero}
    for p in products[1:]:
        s = total + p
        z = s - total
        error = error + ((total - (s - z)) + (p - z))
        total = s
    return {library}.where({library}.isfinite(total) & {library}.isfinite(error), total + error, total)
'''

SUM_OF_PRODUCTS_NUMPY = _SUM_OF_PRODUCTS_FORM.format(product="np.multiply(x, y)", zero="0.0", library="np")
"""NumPy's form of :func:`sum_of_products`, per element (compile's array code)."""

SUM_OF_PRODUCTS_TORCH = _SUM_OF_PRODUCTS_FORM.format(
    product="tensor(x) * tensor(y)", zero="tensor(0.0)", library="torch"
)
"""PyTorch's form of :func:`sum_of_products`, per element."""
