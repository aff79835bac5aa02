"""Numerical differentiation and gradient checks: the oracle for every other method.

* :func:`numerical_grad` — the notes' two finite-difference formulas, one
  coordinate at a time: central ``(f(θ + εeᵢ) − f(θ − εeᵢ)) / 2ε`` (error O(ε²))
  and forward ``(f(θ + εeᵢ) − f(θ)) / ε`` (error O(ε)).
* :func:`gradcheck` — the notes' *numerical gradient checking*: for random δ
  drawn uniformly from the unit ball, δᵀ∇f(θ) ≈ (f(θ + εδ) − f(θ − εδ)) / 2ε,
  plus the same comparison along every coordinate.
* :func:`gradgradcheck` — the same for second derivatives: the gradient of each
  component of the ``create_graph`` gradient against finite differences of the
  plain gradient.

Checking one op (a user-defined one, say) with both at random points of its domain is
:func:`scalargrad.opcheck.check_op`'s job.

Every check, here, in :mod:`scalargrad.testing` and :func:`scalargrad.check_vjp`, decides
with one policy, :class:`Tolerance` and :func:`close`: numbers agree when
``|a − b| <= atol + rtol·max(|a|, |b|) + ulps·u·rounding``, the last term the finite
difference's own rounding error estimated from f's graph (:func:`rounding_scale`).

``f`` is called as ``f(*args)``. It must work on plain numbers (for the finite
differences) and on Values (for the analytic gradient), and return a number or
a Value. Functions written with operators and the module functions
(``scalargrad.sin``, ``scalargrad.exp``, …) do both.

Internal helpers shared with :mod:`scalargrad.testing` (not public API, not in
``__all__``): :func:`check_function`, :func:`as_point`, :func:`as_positive`,
:func:`as_result` (argument checks with the messages above), :func:`basis`,
:func:`central_difference`, :func:`gradient_difference`, :func:`plain_grad`,
:func:`agree` (equal, or within an absolute bound: :func:`close`'s last step, also used by
:mod:`scalargrad.codegen` and :mod:`scalargrad.nn`), :func:`compare_difference` (a
derivative against its central difference, with Richardson extrapolation where that
differs) and :class:`Comparisons` (tolerance checks reported as one :class:`GradcheckError`).
:mod:`scalargrad.opcheck` uses :func:`as_positive` and :func:`as_tolerance` too.
"""

from __future__ import annotations

import math
import numbers
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .autodiff import adjoints, grad
from .core import Value, real_float

__all__ = [
    "DEFAULT_TOLERANCE", "GradcheckError", "Tolerance", "close",
    "gradcheck", "gradgradcheck", "numerical_grad", "rounding_scale",
]

Function = Callable[..., Any]
Index = int | tuple[int, int] | None

_METHODS = ("central", "forward")


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck`/:func:`gradgradcheck` when derivatives disagree.

    The attributes describe the worst mismatch (the largest error relative to its
    tolerance, coordinates before random directions): ``index`` is the input
    index (an ``(i, j)`` pair for second derivatives, None for a random
    direction), ``direction`` the random direction's number (None for a
    coordinate), and ``analytic``, ``numeric``,
    ``error`` and ``tolerance`` the numbers compared. ``mismatches`` counts all
    comparisons out of tolerance.
    """

    def __init__(
        self,
        message: str,
        *,
        index: Index,
        direction: int | None,
        analytic: float,
        numeric: float,
        error: float,
        tolerance: float,
        mismatches: int,
    ) -> None:
        super().__init__(message)
        self.index = index
        self.direction = direction
        self.analytic = analytic
        self.numeric = numeric
        self.error = error
        self.tolerance = tolerance
        self.mismatches = mismatches


# --------------------------------------------------------------------------- #
# input checking and evaluation (shared with scalargrad.testing)               #
# --------------------------------------------------------------------------- #


def check_function(f: object, who: str) -> None:
    """Raise a TypeError naming ``who`` unless ``f`` is callable."""
    if not callable(f):
        raise TypeError(f"{who}: f must be callable, got {type(f).__name__}: {f!r}")


def as_point(args: object, who: str) -> list[float]:
    """``args`` as a non-empty list of finite floats, or a clear TypeError/ValueError."""
    if getattr(args, "ndim", None) == 1 and hasattr(args, "tolist"):  # a NumPy vector
        args = args.tolist()
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(f"{who}: args must be a list of numbers, got {type(args).__name__}: {args!r}")
    if len(args) == 0:
        raise ValueError(f"{who}: args is empty; give at least one number to differentiate at")
    point = []
    for i, a in enumerate(args):
        if isinstance(a, Value):
            raise TypeError(f"{who}: args[{i}] is a Value; pass plain numbers (e.g. v.data)")
        x = real_float(a)
        if x is None:
            raise TypeError(f"{who}: args[{i}] must be a real number, got {type(a).__name__}: {a!r:.60}")
        if not math.isfinite(x):
            raise ValueError(f"{who}: args[{i}] must be finite, got {a!r:.60}")
        point.append(x)
    return point


def as_positive(x: object, name: str, who: str, *, zero_ok: bool = False) -> float:
    """The option ``name`` as a finite float > 0 (>= 0 if ``zero_ok``), or a clear TypeError/ValueError.

    Any real number but a bool is accepted (NumPy's scalars and ``Fraction`` too), as for ``args``.
    """
    value = real_float(x)
    if value is None:
        raise TypeError(f"{who}: {name} must be a real number, got {type(x).__name__}: {x!r:.60}")
    if not math.isfinite(value) or value < 0.0 or (value == 0.0 and not zero_ok):
        need = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{who}: {name} must be a finite number {need}, got {x!r:.60}")
    return value


def as_result(y: object, who: str) -> float:
    """f's result (a number or a Value) as a float; anything else is a TypeError naming ``who``."""
    if isinstance(y, Value):
        return y.data
    if isinstance(y, bool) or not isinstance(y, numbers.Real):
        raise TypeError(f"{who}: f must return a number or a Value, got {type(y).__name__}: {y!r}")
    return float(y)


def _evaluate(f: Function, point: list[float], who: str) -> float:
    """f at a point of plain floats, as a float; names the point if f raises."""
    try:
        y = f(*point)
    except (ArithmeticError, ValueError) as e:
        e.add_note(f"{who}: raised while evaluating f at {point!r} for finite differences")
        raise
    return as_result(y, who)


def _shifted(point: list[float], direction: Sequence[float], step: float) -> list[float]:
    return [x + step * d for x, d in zip(point, direction)]


def basis(n: int, i: int) -> list[float]:
    """The i-th unit vector of length n."""
    e = [0.0] * n
    e[i] = 1.0
    return e


Vector = Callable[[list[float]], list[float]]
"""A function of the point with a list of numbers as its value: f's value alone, or its gradient."""


def _difference(
    g: Vector, point: list[float], direction: Sequence[float], eps: float
) -> tuple[list[float], list[float]]:
    """(g(θ + εδ) − g(θ − εδ)) / 2ε, and the direction δ' the two points actually differ by.

    θ ± εδ are rounded to floats, so they lie 2εδ' apart rather than 2εδ: far from 0 the
    step is whole ulps (at θ = 10⁷, ε = 10⁻⁶ is 0.54 ulp). The quotient estimates the
    derivative along δ', which is what to compare it with.
    """
    plus_point, minus_point = _shifted(point, direction, eps), _shifted(point, direction, -eps)
    taken = [(p - m) / (2.0 * eps) for p, m in zip(plus_point, minus_point)]
    return [(p - m) / (2.0 * eps) for p, m in zip(g(plus_point), g(minus_point))], taken


def _along(g: Vector, point: list[float], i: int, eps: float, who: str) -> list[float]:
    """∂g/∂θᵢ by central differences, divided by the step as rounded (see :func:`_difference`)."""
    quotients, taken = _difference(g, point, basis(len(point), i), eps)
    ratio = _step_taken(taken[i], point, i, eps, who)
    return [q / ratio for q in quotients]


def directional_difference(
    f: Function, point: list[float], direction: Sequence[float], eps: float, who: str
) -> tuple[float, list[float]]:
    """(f(θ + εδ) − f(θ − εδ)) / 2ε and the direction δ' taken (see :func:`_difference`)."""
    quotients, taken = _difference(lambda p: [_evaluate(f, p, who)], point, direction, eps)
    return quotients[0], taken


def central_difference(f: Function, point: list[float], i: int, eps: float, who: str) -> float:
    """∂f/∂θᵢ: (f(θ + εeᵢ) − f(θ − εeᵢ)) divided by the distance between the two points as rounded."""
    return _along(lambda p: [_evaluate(f, p, who)], point, i, eps, who)[0]


def gradient_difference(f: Function, point: list[float], j: int, eps: float, who: str) -> list[float]:
    """Column j of f's Hessian: central differences of the plain gradient along eⱼ, as rounded."""
    return _along(lambda p: plain_grad(f, p, who), point, j, eps, who)


def _step_taken(step: float, point: list[float], i: int, eps: float, who: str) -> float:
    """``step`` (the step along θᵢ as rounded, or its ratio to ε), or a ValueError when ε is
    lost in θᵢ's rounding."""
    if step == 0.0:
        raise ValueError(
            f"{who}: eps={eps:g} is below half a unit in the last place of args[{i}]={point[i]!r}, "
            "so θ ± ε rounds back to θ; use a larger eps"
        )
    return step


def numerical_grad(
    f: Function,
    args: Sequence[float],
    *,
    eps: float = 1e-6,
    method: str = "central",
) -> list[float]:
    """∇f at ``args`` by finite differences, one coordinate at a time (2n or n+1 calls of f).

    ``method="central"``: (f(θ + εeᵢ) − f(θ − εeᵢ)) / 2ε, error O(ε²).
    ``method="forward"``: (f(θ + εeᵢ) − f(θ)) / ε, error O(ε).

    >>> [round(d, 6) for d in numerical_grad(lambda x, y: x * y + x, [2.0, 5.0])]
    [6.0, 2.0]
    """
    who = "numerical_grad"
    check_function(f, who)
    point = as_point(args, who)
    step = as_positive(eps, "eps", who)
    if method not in _METHODS:
        raise ValueError(f"{who}: method must be 'central' or 'forward', got {method!r}")
    n = len(point)
    if method == "central":
        return [central_difference(f, point, i, step, who) for i in range(n)]
    here = _evaluate(f, point, who)
    grads = []
    for i in range(n):
        shifted = _shifted(point, basis(n, i), step)
        taken = _step_taken(shifted[i] - point[i], point, i, step, who)
        grads.append((_evaluate(f, shifted, who) - here) / taken)
    return grads


# --------------------------------------------------------------------------- #
# analytic gradients                                                           #
# --------------------------------------------------------------------------- #


def _analytic_grad(f: Function, point: list[float], who: str) -> tuple[list[float], bool, float]:
    """f's reverse-mode gradient at ``point``, whether f returned a Value at all, and its
    :func:`rounding_scale` (0.0 without a graph), from one reverse walk."""
    inputs = [Value(x) for x in point]
    out = f(*inputs)
    if not isinstance(out, Value):
        as_result(out, who)  # a number is fine (gradient 0); anything else is a TypeError
        return [0.0] * len(point), False, 0.0
    adj = adjoints(out)
    total = math.fsum(abs(v.data * a) for v, a in adj.items())
    return [adj.get(x, 0.0) for x in inputs], True, total if math.isfinite(total) else 0.0


def _graph_grad(f: Function, point: list[float], who: str) -> tuple[list[Value | None], list[Value]]:
    """The create_graph gradient of f at ``point`` (None where f returned a number) and its inputs."""
    inputs = [Value(x) for x in point]
    out = f(*inputs)
    if not isinstance(out, Value):
        as_result(out, who)
        return [None] * len(point), inputs
    gradient: list[Value] = grad(out, inputs, create_graph=True)
    return list(gradient), inputs


def plain_grad(f: Function, point: list[float], who: str) -> list[float]:
    """f's reverse-mode gradient at ``point`` as floats (zeros where f returns a plain number)."""
    return _analytic_grad(f, point, who)[0]


def _unit_ball(rng: random.Random, n: int) -> list[float]:
    """A point drawn uniformly from the n-dimensional unit ball."""
    while True:
        g = [rng.gauss(0.0, 1.0) for _ in range(n)]
        norm = math.sqrt(sum(x * x for x in g))
        if norm > 0.0:
            break
    radius = rng.random() ** (1.0 / n)
    return [radius * x / norm for x in g]


# --------------------------------------------------------------------------- #
# comparison and reporting                                                     #
# --------------------------------------------------------------------------- #


UNIT_ROUNDOFF = 2.0**-53
"""u: half the distance from 1.0 to the next float, the relative error of one rounding."""


@dataclass(frozen=True)
class Tolerance:
    """How far a derivative may be from its estimate and still agree: one policy for every check.

    ``a`` and ``b`` agree when ``|a − b| <= atol + rtol·max(|a|, |b|) + ulps·u·rounding``
    (see :func:`close`). ``rtol`` allows for the estimate's truncation error (central
    differences with ε = 10⁻⁶ are far better than 10⁻⁴ where f is smooth), ``atol`` for a
    derivative that is 0 or nearly so. ``rounding`` is what the check knows of the
    estimate's rounding error, in units of u: for a central difference of f with step ε
    it is Σ|v·∂f/∂v|/ε over f's graph (:func:`rounding_scale`), since u·Σ|v·∂f/∂v|
    bounds f's own rounding error to first order; ``ulps`` allows a few rounding errors
    per operation (math library functions are not always correctly rounded). With
    ``ulps=0`` only the fixed ``atol``/``rtol`` remain.

    >>> Tolerance().bound(1.0, 1.00001)
    0.0001001010000...
    """

    rtol: float = 1e-4
    atol: float = 1e-7
    ulps: float = 4.0

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "ulps"):
            object.__setattr__(self, name, as_positive(getattr(self, name), name, "Tolerance", zero_ok=True))

    def __str__(self) -> str:
        return f"atol={self.atol:g}, rtol={self.rtol:g}, ulps={self.ulps:g}"

    def bound(self, a: Any, b: Any, rounding: Any = 0.0) -> Any:
        """The largest ``|a − b|`` allowed: a float, or an array for NumPy arrays (element by element)."""
        arrays = sys.modules.get("numpy")
        if arrays is not None and (isinstance(a, arrays.ndarray) or isinstance(b, arrays.ndarray)):
            scale = arrays.maximum(abs(a), abs(b))
        else:
            scale = max(abs(a), abs(b))
        return self.atol + self.rtol * scale + self.ulps * UNIT_ROUNDOFF * rounding


DEFAULT_TOLERANCE = Tolerance()
"""The one default of every derivative check: ``rtol=1e-4, atol=1e-7, ulps=4`` (see :class:`Tolerance`)."""


def close(
    a: Any,
    b: Any,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    *,
    rounding: Any = 0.0,
    nan_equal: bool = False,
) -> Any:
    """Whether ``a`` and ``b`` agree under ``tolerance``: the test every check uses.

    Equal numbers (equal infinities too) agree; otherwise the difference must be finite
    and within ``tolerance.bound(a, b, rounding)``. Floats give a bool, NumPy arrays a
    boolean array (the caller silences NumPy's warnings for inf − inf).

    >>> close(2.0, 2.0001), close(2.0, 2.01), close(math.inf, math.inf), close(1.0, math.inf)
    (True, False, True, False)
    """
    return agree(a, b, tolerance.bound(a, b, rounding), nan_equal=nan_equal)


def rounding_scale(out: Value) -> float:
    """Σ|v·∂out/∂v| over out's graph: u times it bounds out's rounding error to first order.

    Divided by a finite difference's step it is the ``rounding`` of :class:`Tolerance`.
    0.0 where the sum is not finite (no bound to give).

    >>> x = Value(3.0)
    >>> rounding_scale(x * x + 1.0)  # |x*x + 1| + |x*x| + |x·2x|
    37.0
    """
    total = math.fsum(abs(v.data * a) for v, a in adjoints(out).items())
    return total if math.isfinite(total) else 0.0


def agree(a: Any, b: Any, tolerance: Any, *, nan_equal: bool = False) -> Any:
    """Whether ``a`` and ``b`` match: equal (equal infinities included), or a finite ``|a − b| <= tolerance``.

    A non-finite difference (an infinity against a finite number or the opposite
    infinity, or a NaN) never matches, whatever the tolerance: a relative tolerance
    ``rtol·max(|a|, |b|)`` is itself infinite there. NaN matches NaN only if
    ``nan_equal``. Floats give a bool; NumPy arrays give a boolean array (element by
    element; the caller silences NumPy's warnings for inf − inf).
    """
    error = abs(a - b)
    same = (a == b) | ((error <= tolerance) & (error < math.inf))
    if nan_equal:
        same = same | ((a != a) & (b != b))
    return same


class Comparisons:
    """Collects (what, analytic, numeric) comparisons under one :class:`Tolerance`; reports the worst.

    ``raise_if_failed`` raises one :class:`GradcheckError` for all mismatches.
    """

    def __init__(self, who: str, tolerance: Tolerance = DEFAULT_TOLERANCE) -> None:
        self.who = who
        self.tolerance = tolerance
        self.failures: list[tuple[float, str, Index, int | None, float, float, float, float]] = []
        self.count = 0

    def compare(
        self,
        what: str,
        index: Index,
        direction: int | None,
        analytic: float,
        numeric: float,
        *,
        rounding: float = 0.0,
    ) -> None:
        """Record a mismatch unless ``analytic`` and ``numeric`` are :func:`close` (``rounding`` as there)."""
        self.count += 1
        tolerance = self.tolerance.bound(analytic, numeric, rounding)
        if agree(analytic, numeric, tolerance):
            return
        error = abs(analytic - numeric)
        finite = math.isfinite(error) and tolerance > 0.0
        badness = error / tolerance if finite else math.inf
        self.failures.append((badness, what, index, direction, analytic, numeric, error, tolerance))

    def raise_if_failed(self, header: str, hint: str = "") -> None:
        if not self.failures:
            return
        # a mismatch along a coordinate names an input, so it ranks before random directions
        ranked = sorted(self.failures, key=lambda f: (f[3] is not None, -f[0]))
        _, what, index, direction, analytic, numeric, error, tolerance = ranked[0]
        lines = [
            f"{self.who} failed: {len(ranked)} of {self.count} comparisons out of tolerance ({header})",
            f"worst mismatch: {what}: analytic={analytic!r}, numeric={numeric!r}, "
            f"error={error:.3g} > tolerance={tolerance:.3g}",
        ]
        for _, w, _, _, a, nu, err, _ in ranked[1:6]:
            lines.append(f"  also {w}: analytic={a!r}, numeric={nu!r}, error={err:.3g}")
        if len(ranked) > 6:
            lines.append(f"  ... and {len(ranked) - 6} more")
        if hint:
            lines.append(hint)
        raise GradcheckError(
            "\n".join(lines),
            index=index,
            direction=direction,
            analytic=analytic,
            numeric=numeric,
            error=error,
            tolerance=tolerance,
            mismatches=len(ranked),
        )


def compare_difference(
    checks: Comparisons,
    what: str,
    index: Index,
    direction: int | None,
    analytic: float,
    difference: Callable[[float], float],
    eps: float,
    rounding: float = 0.0,
) -> None:
    """Compare ``analytic`` with the central difference ``difference(eps)`` (``rounding``: see Tolerance).

    Where they disagree, the difference's own truncation error is taken out: with steps
    ε and 2ε, D(ε) = f′ + cε² and D(2ε) = f′ + 4cε², so (4·D(ε) − D(2ε))/3 is f′ to
    O(ε⁴) (Richardson), and that is compared instead, its rounding allowance tripled (the
    weights sum to 5/3 over two differences). The error grows with f's third derivative:
    sin(x**12) at 2 has one large enough to put its exact gradient outside the tolerance
    of D(ε). It costs one more difference, and only for a comparison that would
    otherwise fail. Where D(2ε) and D(ε) differ by more than 1 % there is no ε²
    behaviour to extrapolate (f oscillates faster than ε resolves), and D(ε) stands.
    """
    numeric = difference(eps)
    if not close(analytic, numeric, checks.tolerance, rounding=rounding):
        wider = difference(2.0 * eps)
        if abs(wider - numeric) <= 0.01 * abs(numeric):
            numeric, rounding = (4.0 * numeric - wider) / 3.0, 3.0 * rounding
    checks.compare(what, index, direction, analytic, numeric, rounding=rounding)


def compare_inputs(
    checks: Comparisons,
    f: Function,
    point: list[float],
    analytic: Sequence[float],
    eps: float,
    rounding: float,
    who: str,
    what: str,
) -> None:
    """:func:`compare_difference` for each ∂f/∂θᵢ in ``analytic`` (``what``: its name, with ``{i}``)."""
    for i in range(len(point)):
        difference = lambda e, i=i: central_difference(f, point, i, e, who)
        compare_difference(checks, what.format(i=i), i, None, analytic[i], difference, eps, rounding)


def _check_options(
    f: Function,
    args: Sequence[float],
    eps: float,
    atol: float | None,
    rtol: float | None,
    tolerance: Tolerance | None,
    directions: int,
    who: str,
) -> tuple[list[float], float, Tolerance, int]:
    check_function(f, who)
    point = as_point(args, who)
    step = as_positive(eps, "eps", who)
    policy = as_tolerance(tolerance, who, atol=atol, rtol=rtol)
    if isinstance(directions, bool) or not isinstance(directions, numbers.Integral):
        raise TypeError(f"{who}: directions must be an int, got {type(directions).__name__}: {directions!r}")
    if directions < 0:
        raise ValueError(f"{who}: directions must be >= 0, got {directions}")
    return point, step, policy, int(directions)


def as_tolerance(tolerance: object, who: str, *, atol: Any = None, rtol: Any = None) -> Tolerance:
    """A checker's ``tolerance`` (None: :data:`DEFAULT_TOLERANCE`), ``atol``/``rtol`` replacing its fields."""
    if tolerance is None:
        tolerance = DEFAULT_TOLERANCE
    if not isinstance(tolerance, Tolerance):
        kind = type(tolerance).__name__
        raise TypeError(f"{who}: tolerance must be a Tolerance, got {kind}: {tolerance!r:.60}")
    given = {"atol": atol, "rtol": rtol}
    checked = {k: as_positive(v, k, who, zero_ok=True) for k, v in given.items() if v is not None}
    return replace(tolerance, **checked)


NOT_A_GRAPH_HINT = (
    "hint: f returned a plain number for Value inputs, so its analytic gradient is 0; "
    "does f convert Values to floats (e.g. math.sin(x) instead of scalargrad.sin(x))?"
)
"""Appended to a failed check's message when f returned a plain number for Value inputs
(internal, shared with :mod:`scalargrad.testing`)."""


def gradcheck(
    f: Function,
    args: Sequence[float],
    *,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    directions: int = 10,
    seed: int | None = 0,
    tolerance: Tolerance | None = None,
) -> bool:
    """Check f's reverse-mode gradient at ``args`` against central differences.

    Compares ∂f/∂θᵢ with (f(θ + εeᵢ) − f(θ − εeᵢ)) / 2ε for every input, and, for
    ``directions`` random δ drawn uniformly from the unit ball (reproducibly from
    ``seed``), δᵀ∇f(θ) with (f(θ + εδ) − f(θ − εδ)) / 2ε — the notes' gradient
    check. A comparison passes when the two are :func:`close` under ``tolerance``
    (default :data:`DEFAULT_TOLERANCE`; ``atol``/``rtol`` replace its fields), the
    differences' rounding error estimated from f's graph; where one fails, the
    difference is extrapolated (see :func:`compare_difference`) before it counts.

    Returns True, or raises :class:`GradcheckError` (an AssertionError) naming the
    worst mismatch: the input index (or direction), analytic, numeric and error.

    >>> from scalargrad import log, sin
    >>> gradcheck(lambda x1, x2: log(x1) + x1 * x2 - sin(x2), [2.0, 5.0])
    True
    """
    who = "gradcheck"
    point, step, policy, count = _check_options(f, args, eps, atol, rtol, tolerance, directions, who)
    analytic, is_graph, scale = _analytic_grad(f, point, who)
    checks = Comparisons(who, policy)
    rounding = scale / step
    n = len(point)
    compare_inputs(checks, f, point, analytic, step, rounding, who, "input {i} (df/dargs[{i}])")
    rng = random.Random(seed)
    for k in range(count):
        delta = _unit_ball(rng, n)
        _, taken = directional_difference(f, point, delta, step, who)
        projected = math.fsum(d * g for d, g in zip(taken, analytic))
        shown = ", ".join(f"{d:.3g}" for d in delta)
        compare_difference(
            checks,
            f"direction {k} (δ = [{shown}], δᵀ∇f)",
            None,
            k,
            projected,
            _along_taken(f, point, delta, taken, analytic, who),
            step,
            rounding,
        )
    checks.raise_if_failed(f"args={point!r}, eps={step:g}, {policy}", "" if is_graph else NOT_A_GRAPH_HINT)
    return True


def _along_taken(
    f: Function, point: list[float], delta: list[float], taken: list[float], gradient: list[float], who: str
) -> Callable[[float], float]:
    """The difference along δ with step e, moved onto ``taken`` (δ as rounded at the first step) by
    the gradient's component along their tiny difference, so that two steps extrapolate."""

    def difference(e: float) -> float:
        quotient, here = directional_difference(f, point, delta, e, who)
        return quotient + math.fsum((t - h) * g for t, h, g in zip(taken, here, gradient))

    return difference


def gradgradcheck(
    f: Function,
    args: Sequence[float],
    *,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    directions: int = 3,
    seed: int | None = 0,
    tolerance: Tolerance | None = None,
) -> bool:
    """Check f's second derivatives, built by ``grad(..., create_graph=True)``.

    First, the plain gradient is compared with f's central differences (as in
    :func:`gradcheck`, so a function that returns a plain number for Value inputs
    fails), and each component of the create_graph gradient must evaluate to the
    plain gradient. Then its own reverse-mode gradient (a Hessian row) is compared with
    central differences of the plain gradient: ∂²f/∂θⱼ∂θᵢ against
    (∂ᵢf(θ + εeⱼ) − ∂ᵢf(θ − εeⱼ)) / 2ε, and, for ``directions`` random δ from the
    unit ball, the Hessian-vector product Hδ against (∇f(θ + εδ) − ∇f(θ − εδ)) / 2ε.
    The tolerance is :func:`gradcheck`'s, the rounding of each gradient component
    estimated from its create_graph graph.

    Returns True, or raises :class:`GradcheckError` naming the worst mismatch
    (``index`` is the pair (i, j) for ∂²f/∂θᵢ∂θⱼ).

    >>> gradgradcheck(lambda x, y: x * x * y, [1.5, -2.0])
    True
    """
    who = "gradgradcheck"
    point, step, policy, count = _check_options(f, args, eps, atol, rtol, tolerance, directions, who)
    n = len(point)
    first, inputs = _graph_grad(f, point, who)
    plain, is_graph, scale = _analytic_grad(f, point, who)
    checks = Comparisons(who, policy)
    # the first derivative against f's own central differences: a function that loses its
    # graph (math.sin on a Value) has zero analytic derivatives of every order, so only this
    # comparison can catch it
    compare_inputs(checks, f, point, plain, step, scale / step, who, "input {i} (df/dargs[{i}])")
    hessian: list[list[float]] = []
    roundings: list[float] = []
    for i, g in enumerate(first):
        value = 0.0 if g is None else g.data
        checks.compare(f"create_graph gradient {i} (df/dargs[{i}]) vs plain", i, None, value, plain[i])
        row: list[float] = [0.0] * n if g is None else grad(g, inputs)
        hessian.append(row)
        roundings.append(0.0 if g is None else rounding_scale(g) / step)

    for j in range(n):
        numeric = gradient_difference(f, point, j, step, who)
        for i in range(n):
            what = f"second derivative ({i}, {j}) (d²f/dargs[{i}]dargs[{j}])"
            checks.compare(what, (i, j), None, hessian[i][j], numeric[i], rounding=roundings[i])
    rng = random.Random(seed)
    for k in range(count):
        delta = _unit_ball(rng, n)
        numeric, taken = _difference(lambda p: plain_grad(f, p, who), point, delta, step)
        shown = ", ".join(f"{d:.3g}" for d in delta)
        for i in range(n):
            product = math.fsum(h * d for h, d in zip(hessian[i], taken))
            what = f"direction {k} (δ = [{shown}], (Hδ)[{i}])"
            checks.compare(what, i, k, product, numeric[i], rounding=roundings[i])
    checks.raise_if_failed(f"args={point!r}, eps={step:g}, {policy}", "" if is_graph else NOT_A_GRAPH_HINT)
    return True
