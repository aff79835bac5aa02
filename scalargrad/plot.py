"""f, f′ and f″ over an interval, drawn with matplotlib from one compiled array call."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .autodiff import grad, hessian
from .codegen import ArrayGradient, CompileCheckError, compile
from .codegen.callables import same_result
from .core import Value

__all__ = ["plot"]


def plot(
    f: Callable[[Any], Any],
    interval: tuple[float, float],
    *,
    points: int = 401,
    at: float | None = None,
    ax: Any = None,
    check_points: int = 7,
) -> Any:
    """Draw f, f′ and f″ over ``interval`` with matplotlib, from one compiled array call.

    ``f`` is a function of one number written with scalargrad's ops; it is traced
    once at ``at`` (default: the middle of the interval), compiled with
    ``order=2`` and evaluated at ``points`` points with NumPy. Because Python control
    flow is fixed at trace time, the curves are compared with the engine at
    ``check_points`` points of the interval first (where ``f`` is defined), and a
    :class:`CompileCheckError` is raised if they differ. Returns the matplotlib
    Axes (``ax``, or a new figure's).
    """
    lo, hi = (float(t) for t in interval)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"plot needs a finite interval (lo, hi) with lo < hi, got {interval!r}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an int >= 2, got {points!r}")
    import numpy as np

    x0 = (lo + hi) / 2 if at is None else float(at)
    compiled = compile(f, (x0,), argnums=0, order=2)
    curves = compiled.vectorized("numpy")
    xs = np.linspace(lo, hi, points)
    y, dy, d2 = curves(xs)
    for x in np.linspace(lo, hi, check_points) if check_points > 0 else []:
        _check_curve(f, float(x), curves)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(xs, y, label="f")
    ax.plot(xs, dy, label="f′", linestyle="--")
    ax.plot(xs, d2, label="f″", linestyle=":")
    ax.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlabel("x")
    ax.legend()
    return ax


def _check_curve(f: Callable[[Any], Any], x: float, curves: ArrayGradient) -> None:
    """Compare the array code with the engine at ``x`` (skipped where f is undefined there)."""
    v = Value(x, label="x")
    try:
        y = f(v)
        if not isinstance(y, Value):
            return
        engine = [y.data, grad(y, v), hessian(y, v)]
    except (ArithmeticError, ValueError):
        return
    got = curves(x)
    compiled = [float(got[0]), float(got[1]), float(got[2])]
    for what, a, b in zip(("f", "f′", "f″"), compiled, engine):
        if not same_result(a, b, 1e-9) and not abs(a - b) <= 1e-12:
            raise CompileCheckError(
                f"plot: {what}({x!r}) is {a!r} in the compiled code but {b!r} by the engine: f's Python "
                "control flow (or, for f″, a derivative rule's branch on values) is fixed at the point f was "
                "traced at; plot a smaller interval, or pass at= inside the branch you want",
                args=[x],
                what=what,
                compiled=a,
                engine=b,
            )
