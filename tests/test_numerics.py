"""Derivatives that stay exact where a textbook formula loses digits, against 50-digit mpmath.

* sigmoid: σ'(x) = σ(x)·σ(−x), exact for large |x| where σ(1 − σ) is not (1e-3 off at
  x = 30, 0 for 2.6e-218 at x = 501); softplus'' is the same σ'. Checked in the float
  rule, through ``create_graph`` (the value and the derivative of the gradient graph) and
  in compiled code (Python floats, NumPy arrays, and ``order=2``).
* atan2: the derivatives divide by x² + y² only where it is a normal float, so
  atan2(0, 2.5e-162) gives ∂/∂y = 1/x = 4e161, not the 5.06e161 of a subnormal x².
* hypothesis: sigmoid's and softplus's first and second derivatives within a few ulps
  over [−700, 700]. σ'' = σ'·(σ(−x) − σ(x)) is a difference of two terms of size σ'(x);
  near 0 it cancels, so there it is within a few ulps of σ'(x), not of σ''(x).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalargrad import Value, atan2, compile, grad, sigmoid, softplus

DPS = 50
ULPS1 = 4  # first derivatives (and softplus'' = σ'): measured at most 3.2 ulps
ULPS2 = 6  # sigmoid'' (measured at most 4.6)

# --------------------------------------------------------------------------- #
# The reference                                                                #
# --------------------------------------------------------------------------- #


def _sigma(x: mpmath.mpf) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-x))


def ref_sigmoid(x: float) -> mpmath.mpf:
    """σ(x), softplus'(x)."""
    with mpmath.workdps(DPS):
        return +_sigma(mpmath.mpf(x))


def ref_sigmoid1(x: float) -> mpmath.mpf:
    """σ'(x) = σ(x)·σ(−x), softplus''(x); exact at any x, unlike σ(1 − σ) in finite digits."""
    with mpmath.workdps(DPS):
        t = mpmath.mpf(x)
        return +(_sigma(t) * _sigma(-t))


def ref_sigmoid2(x: float) -> mpmath.mpf:
    """σ''(x) = σ'(x)·(1 − 2σ(x)) = −σ'(x)·tanh(x/2), the second form exact near 0 too."""
    with mpmath.workdps(DPS):
        t = mpmath.mpf(x)
        return +(-_sigma(t) * _sigma(-t) * mpmath.tanh(t / 2))


def rel_error(got: float, exact: mpmath.mpf) -> float:
    with mpmath.workdps(DPS):
        return float(abs((mpmath.mpf(got) - exact) / exact))


def ulps_off(got: float, exact: mpmath.mpf, scale: mpmath.mpf | None = None) -> float:
    """|got − exact| in units in the last place of ``scale`` (default: of ``exact``)."""
    unit = math.ulp(float(exact if scale is None else scale))
    with mpmath.workdps(DPS):
        return float(abs(mpmath.mpf(got) - exact) / unit)


def _number(d: Value | float) -> float:
    return d.data if isinstance(d, Value) else float(d)


def first(f: Callable[[Value], Value], x: float) -> float:
    """f'(x) by the float rule (``backward``)."""
    v = Value(x)
    f(v).backward()
    return v.grad


def graph_first_and_second(f: Callable[[Value], Value], x: float) -> tuple[float, float]:
    """f'(x) as ``grad(..., create_graph=True)`` computes it, and f''(x) as grad of that grad."""
    v = Value(x)
    d = grad(f(v), v, create_graph=True)
    assert isinstance(d, Value)
    return d.data, _number(grad(d, v))


# --------------------------------------------------------------------------- #
# sigmoid and softplus at the points where σ(1 − σ) failed                     #
# --------------------------------------------------------------------------- #

POINTS = [(30.0, 1e-15), (-30.0, 1e-15), (501.0, 1e-14), (-501.0, 1e-14)]


@pytest.mark.parametrize(("x", "rel"), POINTS)
def test_sigmoid_derivative_is_exact_for_large_inputs(x: float, rel: float) -> None:
    exact = ref_sigmoid1(x)
    assert rel_error(first(sigmoid, x), exact) < rel
    d, dd = graph_first_and_second(sigmoid, x)
    assert rel_error(d, exact) < rel
    assert rel_error(dd, ref_sigmoid2(x)) < rel


def test_sigmoid_derivative_at_501_is_not_zero() -> None:
    # σ(501) rounds to 1, so σ(1 − σ) gave 0; σ'(501) = e⁻⁵⁰¹/(1 + e⁻⁵⁰¹)² ≈ 2.62e-218
    assert first(sigmoid, 501.0) == pytest.approx(2.6209851870952e-218, rel=1e-12)
    assert first(sigmoid, -501.0) == first(sigmoid, 501.0)
    assert graph_first_and_second(sigmoid, 501.0)[1] == pytest.approx(-2.6209851870952e-218, rel=1e-12)


@pytest.mark.parametrize(("x", "rel"), POINTS)
def test_softplus_second_derivative_is_exact_for_large_inputs(x: float, rel: float) -> None:
    assert rel_error(first(softplus, x), ref_sigmoid(x)) < rel
    d, dd = graph_first_and_second(softplus, x)
    assert rel_error(d, ref_sigmoid(x)) < rel
    assert rel_error(dd, ref_sigmoid1(x)) < rel


@pytest.mark.parametrize(("x", "rel"), POINTS)
def test_compiled_sigmoid_and_softplus_are_exact_for_large_inputs(x: float, rel: float) -> None:
    for f, d1, d2 in ((sigmoid, ref_sigmoid1, ref_sigmoid2), (softplus, ref_sigmoid, ref_sigmoid1)):
        v = Value(1.0, label="x")
        y = f(v)
        _, gradient = compile(y, [v])(x)
        assert rel_error(gradient[0], d1(x)) < rel, f
        _, gradient, hessian = compile(y, [v], order=2)(x)
        assert rel_error(gradient[0], d1(x)) < rel, f
        assert rel_error(hessian[0][0], d2(x)) < rel, f
        _, (array,) = compile(y, [v]).vectorized("numpy")(np.array([x, -x]))
        assert rel_error(float(array[0]), d1(x)) < rel, f
        assert rel_error(float(array[1]), d1(-x)) < rel, f


def test_sigmoid_rule_prints_sigma_times_sigma_of_minus() -> None:
    x = Value(2.0, label="x")
    assert str(grad(sigmoid(x), x, create_graph=True)) == "sigmoid(x)*sigmoid(-x)"


# --------------------------------------------------------------------------- #
# Over the whole range, to a few ulps                                          #
# --------------------------------------------------------------------------- #

RANGE = st.floats(min_value=-700.0, max_value=700.0, allow_nan=False)


@given(RANGE)
def test_sigmoid_derivatives_within_a_few_ulps(x: float) -> None:
    exact1, exact2 = ref_sigmoid1(x), ref_sigmoid2(x)
    assert ulps_off(first(sigmoid, x), exact1) <= ULPS1
    d, dd = graph_first_and_second(sigmoid, x)
    assert ulps_off(d, exact1) <= ULPS1
    # σ'' is σ'·σ(−x)² − σ'·σ(x)²: within a few ulps of those terms' size σ' everywhere, and
    # of σ'' itself where they do not cancel (|x| >= 1, where |σ''| >= 0.46 σ')
    assert ulps_off(dd, exact2, scale=exact1) <= ULPS2
    if abs(x) >= 1.0:
        assert ulps_off(dd, exact2) <= ULPS2


@given(RANGE)
def test_softplus_derivatives_within_a_few_ulps(x: float) -> None:
    assert ulps_off(first(softplus, x), ref_sigmoid(x)) <= ULPS1
    d, dd = graph_first_and_second(softplus, x)
    assert ulps_off(d, ref_sigmoid(x)) <= ULPS1
    assert ulps_off(dd, ref_sigmoid1(x)) <= ULPS1


# --------------------------------------------------------------------------- #
# atan2 where x² + y² is subnormal                                             #
# --------------------------------------------------------------------------- #


def ref_atan2(y: float, x: float) -> tuple[mpmath.mpf, ...]:
    """∂/∂y, ∂/∂x, ∂²/∂y², ∂²/∂y∂x, ∂²/∂x² of atan2(y, x)."""
    with mpmath.workdps(DPS):
        b, a = mpmath.mpf(y), mpmath.mpf(x)
        r = a * a + b * b
        return (a / r, -b / r, -2 * a * b / r**2, (b * b - a * a) / r**2, 2 * a * b / r**2)


def test_atan2_derivatives_where_the_square_is_subnormal() -> None:
    dy_exact = ref_atan2(0.0, 2.5e-162)[0]  # 1/x = 4e161; x² = 6.25e-324 would give 5.06e161
    y, x = Value(0.0), Value(2.5e-162)
    dy, dx = grad(atan2(y, x), [y, x])
    assert rel_error(dy, dy_exact) < 1e-12 and dx == 0.0
    y, x = Value(0.0), Value(2.5e-162)
    gy, gx = grad(atan2(y, x), [y, x], create_graph=True)
    assert rel_error(_number(gy), dy_exact) < 1e-12 and _number(gx) == 0.0
    v, w = Value(0.0), Value(1.0)
    _, (cy, cx) = compile(atan2(v, w), [v, w])(0.0, 2.5e-162)
    assert rel_error(cy, dy_exact) < 1e-12 and cx == 0.0


@pytest.mark.parametrize(("y0", "x0"), [(0.0, 1.4e-154), (1e-155, 1.4e-154), (-1e-155, -1.2e-154)])
def test_atan2_second_derivatives_where_the_square_is_subnormal(y0: float, x0: float) -> None:
    # x² + y² < 2.2e-308 (subnormal), and the Hessian, about 1/x², is still a finite float
    assert x0 * x0 + y0 * y0 < 2.2250738585072014e-308
    exact = ref_atan2(y0, x0)
    y, x = Value(y0), Value(x0)
    gy, gx = grad(atan2(y, x), [y, x], create_graph=True)
    first_order = [_number(gy), _number(gx)]
    second_order = [_number(h) for h in grad(gy, [y, x])] + [_number(grad(gx, x))]
    # order=2 code keeps the branch the rule took at the example inputs: compile at the point
    v, w = Value(y0), Value(x0)
    _, compiled1, hessian = compile(atan2(v, w), [v, w], order=2)(y0, x0)
    compiled2 = [hessian[0][0], hessian[0][1], hessian[1][1]]
    for got, want in [*zip(first_order + second_order, exact), *zip(compiled1 + compiled2, exact)]:
        assert (got == 0.0) if want == 0 else (rel_error(got, want) < 1e-12), (got, want)
