"""The forward values of the built-in ops on floats, raising ``math``'s exception types
with messages that name the op (``log: math domain error at x = -1.0``).

The entries of :mod:`scalargrad.ops` call these from their value expressions; they are
plain float functions, so the code :func:`scalargrad.compile` writes copies them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable


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
