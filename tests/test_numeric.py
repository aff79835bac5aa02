"""numerical_grad, gradcheck and gradgradcheck: the notes' examples, failures, bad input."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given

import scalargrad as sg
from scalargrad import (
    OPS,
    GradcheckError,
    Value,
    grad,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)
from scalargrad.testing import GeneratedExpression, expressions_and_points

Case = tuple[GeneratedExpression, list[float]]
"""A random expression and a point to evaluate it at."""


def sigmoid_example(x: Any, a: Any, b: Any) -> Any:
    """The notes' y = σ(a·x + b)."""
    return sg.sigmoid(a * x + b)


def notes_example(x1: Any, x2: Any) -> Any:
    """The notes' y = ln(x1) + x1·x2 − sin(x2)."""
    return sg.log(x1) + x1 * x2 - sg.sin(x2)


# --------------------------------------------------------------------------- #
# the notes' examples                                                          #
# --------------------------------------------------------------------------- #


def test_sigmoid_example_central_differences_match_the_notes() -> None:
    # the notes' numpy cell prints dy_dx= 0.00273066354528062, dy_da= 0.0018204423579692983,
    # dy_db= 0.0009102211706579765 for epsilon = 1e-5
    numeric = numerical_grad(sigmoid_example, [2.0, 3.0, 1.0], eps=1e-5)
    assert numeric == pytest.approx([0.00273066354528062, 0.0018204423579692983, 0.0009102211706579765])
    assert [round(d, 5) for d in numeric] == [0.00273, 0.00182, 0.00091]


def test_sigmoid_example_autodiff_agrees_with_central_differences() -> None:
    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    y = sigmoid_example(x, a, b)
    assert round(y.data, 5) == 0.99909
    analytic = grad(y, [x, a, b])
    s = 1 / (1 + math.exp(-7))
    assert analytic == pytest.approx([3 * s * (1 - s), 2 * s * (1 - s), s * (1 - s)], rel=1e-12)
    assert [round(d, 5) for d in analytic] == [0.00273, 0.00182, 0.00091]
    numeric = numerical_grad(sigmoid_example, [2.0, 3.0, 1.0], eps=1e-5)
    assert analytic == pytest.approx(numeric, rel=1e-6)
    assert gradcheck(sigmoid_example, [2.0, 3.0, 1.0], eps=1e-5)
    assert gradgradcheck(sigmoid_example, [2.0, 3.0, 1.0])


def test_notes_example_gradcheck() -> None:
    assert numerical_grad(notes_example, [2.0, 5.0]) == pytest.approx([5.5, 1.7163378145367738], rel=1e-8)
    assert gradcheck(notes_example, [2.0, 5.0], directions=50)
    assert gradgradcheck(notes_example, [2.0, 5.0])


def test_extended_graph_differentiated_twice_matches_the_closed_form() -> None:
    # f = (exp(v1) + 1)·exp(v1) = e^{2x} + e^x, f' = 2e^{2x} + e^x, f'' = 4e^{2x} + e^x
    for x in (-1.5, 0.0, 0.5, 2.0):
        v1 = Value(x, label="v1")
        v2 = v1.exp()
        f = (v2 + 1) * v2
        first = grad(f, v1, create_graph=True)
        second = grad(first, v1, create_graph=True)
        third = grad(second, v1)
        assert first.data == pytest.approx(2 * math.exp(2 * x) + math.exp(x), rel=1e-14)
        assert second.data == pytest.approx(4 * math.exp(2 * x) + math.exp(x), rel=1e-14)
        assert third == pytest.approx(8 * math.exp(2 * x) + math.exp(x), rel=1e-14)

        def extended(v: Any) -> Any:
            e = sg.exp(v)
            return (e + 1) * e

        assert gradgradcheck(extended, [x])
        # f'' again, as central differences of the create_graph gradient's value
        (fd,) = numerical_grad(lambda t: grad(extended(v := Value(t)), v, create_graph=True), [x], eps=1e-5)
        assert fd == pytest.approx(4 * math.exp(2 * x) + math.exp(x), rel=1e-7)


# --------------------------------------------------------------------------- #
# numerical_grad                                                               #
# --------------------------------------------------------------------------- #


def test_central_is_second_order_and_forward_first_order() -> None:
    def cube(x: Any) -> Any:
        return x * x * x

    eps = 1e-3
    (central,) = numerical_grad(cube, [2.0], eps=eps)
    (forward,) = numerical_grad(cube, [2.0], eps=eps, method="forward")
    # (x+ε)³ − (x−ε)³ / 2ε = 3x² + ε²;  ((x+ε)³ − x³)/ε = 3x² + 3xε + ε²
    assert central == pytest.approx(12 + eps**2, rel=1e-9)
    assert forward == pytest.approx(12 + 6 * eps + eps**2, rel=1e-9)


def test_numerical_grad_accepts_ints_tuples_and_value_results() -> None:
    assert numerical_grad(lambda x, y: Value(x) * y, (2, 3)) == pytest.approx([3.0, 2.0])
    assert numerical_grad(lambda x: 7, [1.0]) == [0.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"args": []}, ValueError, "args is empty"),
        ({"args": 2.0}, TypeError, "args must be a list"),
        ({"args": "12"}, TypeError, "args must be a list"),
        ({"args": [1.0, "2"]}, TypeError, r"args\[1\] must be a real number"),
        ({"args": [None]}, TypeError, r"args\[0\] must be a real number"),
        ({"args": [True]}, TypeError, r"args\[0\] must be a real number"),
        ({"args": [Value(1.0)]}, TypeError, r"args\[0\] is a Value"),
        ({"args": [math.nan]}, ValueError, "must be finite"),
        ({"eps": 0.0}, ValueError, "eps must be a finite number > 0"),
        ({"eps": -1e-6}, ValueError, "eps must be a finite number > 0"),
        ({"eps": math.inf}, ValueError, "eps must be a finite number > 0"),
        ({"eps": "small"}, TypeError, "eps must be a real number"),
        ({"method": "backward"}, ValueError, "method must be 'central' or 'forward'"),
        ({"f": 3}, TypeError, "f must be callable"),
        ({"f": lambda x: "one"}, TypeError, "f must return a number or a Value, got str"),
        ({"f": lambda x: [x]}, TypeError, "f must return a number or a Value, got list"),
    ],
)
def test_numerical_grad_bad_input(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    call: dict[str, Any] = {"f": lambda x: x * x, "args": [1.0], **kwargs}
    with pytest.raises(error, match=message):
        numerical_grad(call.pop("f"), call.pop("args"), **call)


def test_domain_errors_name_the_point() -> None:
    with pytest.raises(ValueError, match="log") as info:
        numerical_grad(sg.log, [0.0])
    assert any("evaluating f at" in note for note in info.value.__notes__)


# --------------------------------------------------------------------------- #
# gradcheck                                                                    #
# --------------------------------------------------------------------------- #


def wrong_sin(self: Value) -> Value:
    """sin with the wrong local derivative (−cos instead of cos): a deliberate bug."""
    out = Value(math.sin(self.data))
    # a real node whose recorded local derivative is wrong
    out._op, out._a, out._da = OPS["sin"], self, -math.cos(self.data)
    return out


def test_gradcheck_reports_a_wrong_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Value, "sin", wrong_sin)
    with pytest.raises(GradcheckError) as info:
        gradcheck(notes_example, [2.0, 5.0])
    error = info.value
    assert isinstance(error, AssertionError)
    # only x2 goes through sin: x̄2 = x1 + cos(x2) instead of x1 − cos(x2)
    assert error.index == 1 and error.direction is None
    assert error.analytic == pytest.approx(2.0 + math.cos(5.0))
    assert error.numeric == pytest.approx(2.0 - math.cos(5.0), rel=1e-8)
    assert error.error == pytest.approx(2 * math.cos(5.0), rel=1e-6)
    assert error.mismatches >= 2  # the coordinate and (almost surely) some directions
    message = str(error)
    assert "gradcheck failed" in message
    assert "worst mismatch: input 1" in message
    assert f"analytic={error.analytic!r}" in message and f"numeric={error.numeric!r}" in message
    assert "error=0.567" in message
    assert "direction" in message


def cone(x: Any, y: Any) -> Any:
    """x²y/(x² + y²): both partials are 0 at the origin, but it is not differentiable there.

    Called with Values it claims the gradient (0, 0), which the coordinate checks accept;
    only the notes' check along random directions δ sees the difference.
    """
    if isinstance(x, Value):
        return 0 * x + 0 * y
    return x * x * y / (x * x + y * y) if x or y else 0.0


def test_random_directions_catch_what_coordinates_miss() -> None:
    assert gradcheck(cone, [0.0, 0.0], directions=0)
    with pytest.raises(GradcheckError) as info:
        gradcheck(cone, [0.0, 0.0])
    error = info.value
    assert error.index is None and error.direction is not None
    assert error.analytic == 0.0 and error.numeric != 0.0
    assert "worst mismatch: direction" in str(error) and "δ = [" in str(error)


def test_gradcheck_hints_at_functions_that_leave_the_graph() -> None:
    with pytest.raises(GradcheckError, match="convert Values to floats") as info:
        gradcheck(lambda x: math.sin(x), [0.5])
    assert info.value.analytic == 0.0
    assert info.value.numeric == pytest.approx(math.cos(0.5))


def test_gradcheck_directions_are_reproducible_and_in_the_unit_ball() -> None:
    import random

    from scalargrad.numeric import _unit_ball

    first = [_unit_ball(random.Random(7), 3) for _ in range(2)]
    assert first[0] == first[1]
    rng = random.Random(1)
    samples = [_unit_ball(rng, 3) for _ in range(2000)]
    norms = [math.sqrt(sum(x * x for x in s)) for s in samples]
    assert max(norms) <= 1.0
    # uniform in the ball: P(|δ| <= 1/2) = 1/8 in 3 dimensions
    assert 0.09 < sum(n <= 0.5 for n in norms) / len(norms) < 0.16
    assert all(abs(sum(s[i] for s in samples) / len(samples)) < 0.05 for i in range(3))


def test_gradcheck_tolerances_decide() -> None:
    def slightly_wrong(x: Any) -> Any:
        if isinstance(x, Value):
            out = Value(x.data * x.data)
            out._op, out._a, out._da = OPS["mul"], x, 2 * x.data * (1 + 1e-3)
            return out
        return x * x

    with pytest.raises(GradcheckError):
        gradcheck(slightly_wrong, [1.0])
    assert gradcheck(slightly_wrong, [1.0], rtol=1e-2)
    assert gradcheck(slightly_wrong, [1.0], atol=1e-2, rtol=0.0, directions=0)


def test_an_infinite_difference_never_passes() -> None:
    def blows_up(x: Any) -> Any:  # slope 1 on Values; on floats inf just above 1
        return x if isinstance(x, Value) or x <= 1.0 else math.inf

    with pytest.raises(GradcheckError, match=r"analytic=1\.0, numeric=inf"):
        gradcheck(blows_up, [1.0])  # atol + rtol·|numeric| is inf: the tolerance must not accept it
    assert gradcheck(blows_up, [0.5])


def test_agree_matches_equal_values_and_finite_differences_only() -> None:
    from scalargrad.numeric import agree

    assert agree(math.inf, math.inf, 0.0) and agree(1.0, 1.0 + 1e-12, 1e-9)
    assert not agree(math.inf, 2.0, math.inf) and not agree(math.inf, -math.inf, math.inf)
    assert not agree(math.nan, math.nan, math.inf) and agree(math.nan, math.nan, 0.0, nan_equal=True)
    assert not agree(math.nan, 1.0, math.inf, nan_equal=True)
    np = pytest.importorskip("numpy")
    a = np.array([math.inf, 1.0, math.nan, 1.0])
    b = np.array([math.inf, math.inf, math.nan, 1.5])
    with np.errstate(invalid="ignore"):
        assert agree(a, b, np.inf).tolist() == [True, False, False, True]


def test_options_accept_any_real_number() -> None:
    from fractions import Fraction

    np = pytest.importorskip("numpy")
    for eps in (np.float32(1e-3), Fraction(1, 1000), np.float64(1e-3)):
        assert numerical_grad(lambda x: x * x, [1.0], eps=eps) == pytest.approx([2.0])
    assert gradcheck(lambda x: x * x, [1.0], atol=np.float32(1e-5), rtol=Fraction(1, 10**4))
    with pytest.raises(TypeError, match="eps must be a real number, got bool"):
        numerical_grad(lambda x: x * x, [1.0], eps=True)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        numerical_grad(lambda x: x * x, [1.0], eps=10**400)


def test_gradcheck_passes_constant_functions() -> None:
    assert gradcheck(lambda x, y: 3.0, [1.0, 2.0])
    assert gradgradcheck(lambda x, y: 3.0, [1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"args": []}, ValueError, "args is empty"),
        ({"args": ["x"]}, TypeError, "must be a real number"),
        ({"eps": 0}, ValueError, "eps must be"),
        ({"atol": -1.0}, ValueError, "atol must be a finite number >= 0"),
        ({"rtol": math.nan}, ValueError, "rtol must be a finite number >= 0"),
        ({"directions": -1}, ValueError, "directions must be >= 0"),
        ({"directions": 2.5}, TypeError, "directions must be an int"),
        ({"f": lambda x: None}, TypeError, "f must return a number or a Value, got NoneType"),
        ({"f": lambda x: (x, x)}, TypeError, "f must return a number or a Value, got tuple"),
    ],
)
@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_gradcheck_bad_input(
    check: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    call: dict[str, Any] = {"f": lambda x: x * x, "args": [1.0], **kwargs}
    with pytest.raises(error, match=message):
        check(call.pop("f"), call.pop("args"), **call)


@given(expressions_and_points(max_inputs=3))
def test_gradcheck_passes_on_random_expressions(case: Case) -> None:
    f, point = case
    # where some value in the graph is huge (x**3**3 at 2 is 1.3e8), central differences
    # carry rounding error ~|v|·u/eps; the one tolerance policy estimates it from the graph
    assert gradcheck(f, point, directions=3)


# --------------------------------------------------------------------------- #
# gradgradcheck                                                                #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("f", "args"),
    [
        (lambda x, y: x * x * y, [1.5, -2.0]),
        (lambda x: sg.tanh(x) * sg.exp(x), [0.3]),
        (lambda x, y: x / (1 + y * y), [2.0, 0.5]),
        (lambda x, y: (1 + x * x) ** y, [0.7, 1.3]),
        (lambda x, y, z: sg.sqrt(x * x + y * y + z * z), [1.0, 2.0, 2.0]),
        (notes_example, [2.0, 5.0]),
    ],
)
def test_gradgradcheck_passes_on_good_functions(f: Any, args: list[float]) -> None:
    assert gradgradcheck(f, args)


def test_gradgradcheck_catches_a_wrong_derivative_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # the rule's value is right, so first derivatives agree; but it is a constant, not cos(a),
    # so the create_graph gradient forgets that it depends on a
    monkeypatch.setattr(OPS["sin"], "rule", lambda a, out: (math.cos(float(a)),))
    assert gradcheck(notes_example, [2.0, 5.0])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(notes_example, [2.0, 5.0])
    error = info.value
    assert error.index == (1, 1)
    assert error.analytic == 0.0
    assert error.numeric == pytest.approx(math.sin(5.0), rel=1e-6)
    assert "second derivative (1, 1)" in str(error)


def test_gradgradcheck_catches_a_wrong_create_graph_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OPS["sin"], "rule", lambda a, out: (-sg.cos(a),))
    with pytest.raises(GradcheckError, match="create_graph gradient 1"):
        gradgradcheck(notes_example, [2.0, 5.0])


def test_gradgradcheck_fails_with_a_hint_when_f_loses_its_graph() -> None:
    # math.sin returns a float: analytic derivatives of every order are 0, so only comparing
    # the first derivative with f's own central differences can catch it
    with pytest.raises(GradcheckError, match=r"input 0 \(df/dargs\[0\]\)(?s:.*)hint: f returned a plain"):
        gradgradcheck(lambda x: math.sin(x), [0.3])


def test_gradgradcheck_checks_the_first_derivative() -> None:
    def f(x: Any) -> Any:  # wrong slope on the Value path, right (zero) second derivative
        return 2.0 * x if isinstance(x, Value) else 3.0 * x

    with pytest.raises(GradcheckError, match=r"input 0 \(df/dargs\[0\]\): analytic=2.0, numeric=(2.99|3.0)"):
        gradgradcheck(f, [0.3])


def test_any_real_numbers_are_accepted() -> None:
    from fractions import Fraction

    assert numerical_grad(lambda x: x * x, [Fraction(1, 2)]) == pytest.approx([1.0])
    assert gradcheck(lambda x: x * x, [Fraction(3, 2)])
    assert numerical_grad(lambda x: Fraction(2), [1.0]) == [0.0]


def test_differences_divide_by_the_step_actually_taken() -> None:
    # far from 0, θ ± ε rounds to whole ulps: dividing by the nominal 2ε gave 0.95 for d(x)/dx at 1e9
    assert numerical_grad(lambda x: x, [1e9]) == [1.0]
    assert numerical_grad(lambda x: x, [1e7], method="forward") == [1.0]
    assert gradcheck(lambda x: x, [1e7]) and gradcheck(lambda x, y: y, [3.0, -3e6])  # exact outputs
    assert gradgradcheck(lambda x: x, [1e9])


def test_numpy_vectors_and_integers_are_accepted_where_lists_and_ints_are() -> None:
    np = pytest.importorskip("numpy")
    assert numerical_grad(lambda x, y: x * y, np.array([2.0, 5.0])) == pytest.approx([5.0, 2.0])
    assert gradcheck(lambda x, y: x * y, np.array([2.0, 5.0]), directions=np.int64(3))
    assert sg.check_op("sin", points=np.int64(3))
    with pytest.raises(ValueError, match="check_op: atol must be a finite number >= 0"):
        sg.check_op("sin", atol=-1)
    with pytest.raises(TypeError, match="check_op: points must be an int, got float"):
        sg.check_op("sin", points=2.0)


def test_an_eps_lost_in_the_rounding_of_a_point_is_an_error() -> None:
    for call in (
        lambda: numerical_grad(lambda x: x, [1e20]),
        lambda: numerical_grad(lambda x: x, [1e20], method="forward"),
        lambda: gradcheck(lambda x: x, [1e20]),
        lambda: gradgradcheck(lambda x: x, [1e20]),
    ):
        with pytest.raises(ValueError, match=r"eps=1e-06 is below half a unit in the last place"):
            call()


def test_a_number_too_large_for_a_float_is_an_error_where_infinities_are_allowed() -> None:
    x = Value(1.0)
    with pytest.raises(ValueError, match="a seed is too large for a float"):
        sg.grad(x * 2, x, seed=10**400)
    with pytest.raises(ValueError, match="a tangent is too large for a float"):
        sg.tangents(x * 2, {x: 10**400})
    with pytest.raises(ValueError, match="compiled gradient: argument 0 is too large for a float"):
        sg.compile(lambda v: v * 2, [1.0])(10**400)


# --------------------------------------------------------------------------- #
# the one tolerance policy                                                     #
# --------------------------------------------------------------------------- #


def test_tolerance_is_one_formula_with_one_default() -> None:
    from scalargrad.numeric import DEFAULT_TOLERANCE, UNIT_ROUNDOFF, Tolerance, close

    assert DEFAULT_TOLERANCE == Tolerance() == Tolerance(rtol=1e-4, atol=1e-7, ulps=4.0)
    t = Tolerance(rtol=1e-3, atol=1e-6, ulps=2.0)
    assert t.bound(-2.0, 1.0, rounding=10.0) == 1e-6 + 1e-3 * 2.0 + 2.0 * UNIT_ROUNDOFF * 10.0
    assert close(1.0, 1.0 + 5e-5) and not close(1.0, 1.001)
    assert close(math.inf, math.inf) and not close(math.inf, -math.inf) and not close(1.0, math.nan)
    assert close(math.nan, math.nan, nan_equal=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.rtol = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="Tolerance: atol must be a finite number >= 0"):
        Tolerance(atol=-1.0)


def test_tolerance_works_on_arrays() -> None:
    np = pytest.importorskip("numpy")
    from scalargrad.numeric import Tolerance, close

    a, b = np.array([1.0, 1.0, np.inf]), np.array([1.0 + 1e-6, 2.0, np.inf])
    with np.errstate(invalid="ignore"):  # inf − inf, as close's callers do
        assert close(a, b, Tolerance()).tolist() == [True, False, True]
    assert Tolerance(rtol=0.5, atol=1.0).bound(a[:2], b[:2]).tolist() == [1.5 + 5e-7, 2.0]


def test_every_checker_takes_a_tolerance_and_its_old_keywords() -> None:
    from scalargrad.numeric import Tolerance

    loose = Tolerance(rtol=1e-2)

    def slightly_wrong(x: Any) -> Any:
        if isinstance(x, Value):
            out = Value(x.data * x.data)
            out._op, out._a, out._da = OPS["mul"], x, 2 * x.data * (1 + 1e-3)
            return out
        return x * x

    assert gradcheck(slightly_wrong, [1.0], tolerance=loose)
    assert gradcheck(slightly_wrong, [1.0], rtol=1e-2)  # the old keyword, on the default policy
    with pytest.raises(GradcheckError, match=r"rtol=0\.0001"):
        gradcheck(slightly_wrong, [1.0], tolerance=loose, rtol=1e-4)  # the keyword wins
    assert gradgradcheck(lambda x: x * x * x, [0.5], tolerance=loose)
    assert sg.check_op("sin", points=2, tolerance=loose)
    with pytest.raises(TypeError, match="tolerance must be a Tolerance"):
        gradcheck(lambda x: x, [1.0], tolerance=1e-3)  # type: ignore[arg-type]
