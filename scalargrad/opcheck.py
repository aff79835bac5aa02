"""Checking an op's definition against finite differences.

:func:`check_op` runs :mod:`scalargrad.numeric`'s two checks on one op (a user-defined one,
say) at random points of its domain: :func:`~scalargrad.numeric.gradcheck` for its local
derivatives and, for a smooth op, :func:`~scalargrad.numeric.gradgradcheck` for its rule
built as a graph. The points come from :data:`DOMAIN_SAMPLES`, one interval for each of
:data:`scalargrad.core.op.DOMAINS`; a variadic op (``dot``) is checked at each count of 1 to 4
operands it takes. ``scalargrad.check_op`` is this function.
"""

from __future__ import annotations

import numbers
import random

from .core import OPS, Op
from .numeric import (
    GradcheckError,
    Tolerance,
    as_positive,
    as_tolerance,
    gradcheck,
    gradgradcheck,
)

__all__ = ["DOMAIN_SAMPLES", "check_op"]

DOMAIN_SAMPLES: dict[str, tuple[float, float]] = {
    "real": (-3.0, 3.0),
    "positive": (0.1, 5.0),
    "nonzero": (0.2, 3.0),  # either sign
    "unit": (-0.9, 0.9),
    "above_minus_one": (-0.9, 3.0),
    "bounded": (-1.0, 1.0),
}
"""Where :func:`check_op` draws points for each of :data:`scalargrad.core.op.DOMAINS`."""


def sample_domain(domain: str, rng: random.Random) -> float:
    """A random point of ``domain`` (see :data:`DOMAIN_SAMPLES`)."""
    low, high = DOMAIN_SAMPLES[domain]
    x = rng.uniform(low, high)
    return -x if domain == "nonzero" and rng.random() < 0.5 else x


def check_op(
    op: Op | str,
    *,
    points: int = 20,
    seed: int | None = 0,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    tolerance: Tolerance | None = None,
) -> bool:
    """Check an op's derivative rule against finite differences at random points of its domain.

    For ``points`` points drawn from the op's domains (reproducibly from ``seed``),
    :func:`~scalargrad.numeric.gradcheck` compares the rule's local derivatives with central
    differences of ``evaluate``; for smooth ops :func:`~scalargrad.numeric.gradgradcheck`
    also checks the rule built as a graph (``create_graph``), which catches a rule written
    with ``math.sin`` instead of ``scalargrad.sin``. A variadic op is checked at each count
    of 1 to 4 operands it takes. The tolerance is theirs
    (:data:`~scalargrad.numeric.DEFAULT_TOLERANCE`, ``atol``/``rtol`` replacing its fields).
    Returns True or raises :class:`~scalargrad.numeric.GradcheckError` naming the op and the
    point.

    >>> import scalargrad as sg
    >>> check_op("atan2")
    True
    """
    who = "check_op"
    if isinstance(op, str):
        if op not in OPS:
            raise ValueError(f"{who}: no op named {op!r}; known: {', '.join(sorted(OPS))}")
        op = OPS[op]
    if not isinstance(op, Op):
        raise TypeError(f"{who}: op must be an Op or an op's name, got {type(op).__name__}: {op!r}")
    if isinstance(points, bool) or not isinstance(points, numbers.Integral):
        raise TypeError(f"{who}: points must be an int, got {type(points).__name__}: {points!r}")
    if points < 1:
        raise ValueError(f"{who}: points must be >= 1, got {points!r}")
    eps = as_positive(eps, "eps", who)
    policy = as_tolerance(tolerance, who, atol=atol, rtol=rtol)
    rng = random.Random(seed)
    for _ in range(points):
        for point in _op_points(op, rng):
            try:
                gradcheck(op, point, eps=eps, tolerance=policy, directions=2, seed=seed)
                if op.smooth:
                    gradgradcheck(op, point, eps=eps, tolerance=policy, directions=1, seed=seed)
            except GradcheckError as e:
                e.args = (f"op {op.name!r} at {point!r}: {e.args[0]}",)
                raise
    return True


def _op_points(op: Op, rng: random.Random) -> list[list[float]]:
    """One point per operand count :func:`check_op` tries: the arity, or each count of 1 to 4
    that a variadic op takes."""
    counts = [op.arity] if op.arity is not None else [n for n in range(1, 5) if _takes(op, n)]
    return [[sample_domain(op.domains[i % len(op.domains)], rng) for i in range(n)] for n in counts or [1]]


def _takes(op: Op, n: int) -> bool:
    """Whether a variadic op takes ``n`` operands: its evaluate raises no TypeError on n ones."""
    try:
        op.evaluate(*[1.0] * n)
    except TypeError:
        return False
    return True
