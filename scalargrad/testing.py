"""Property-based testing helpers: random expression graphs and derivative assertions.

This is the only scalargrad module that imports hypothesis (install the ``test``
extra); ``import scalargrad`` never imports it.

* :func:`expressions` — a strategy for random functions of ``n`` inputs, as
  :class:`GeneratedExpression` objects: callable on numbers *and* on Values, with a
  readable ``str`` (``sin(x0)*x1 + log(1 + x0*x0)``). Every op's argument is kept
  inside its domain by composing with safe maps, so an expression is defined
  and finite at every point. The variadic ``dot`` is drawn too, as one node over
  1 to 3 pairs (printed as its sum of products, ``x0*x1 + sin(x1)*x0``);
  :meth:`GeneratedExpression.as_binary` is the same function with each dot written
  as those products and sums, the one a printed formula reads back as.
* :func:`points` — a strategy for input points (lists of bounded floats).
* :func:`expressions_and_points` — both at once, with a random number of inputs.
* :func:`assert_gradients_close` / :func:`assert_hessian_close` — check a
  function's scalargrad first/second derivatives against central finite
  differences, with :mod:`scalargrad.numeric`'s one tolerance policy
  (:class:`~scalargrad.numeric.Tolerance`), which accounts for rounding in the function.
* :func:`shapes`, :func:`broadcastable_shapes`, :func:`axes`, :func:`permutations`,
  :func:`matmul_shapes` — strategies for the shapes and ``axes=`` arguments of tensor
  ops, for :func:`scalargrad.check_vjp` (plain tuples: NumPy is not imported here).
* :func:`assert_gradients_close_batched` — the same first-derivative check at many
  points, the gradient compiled once and run over NumPy arrays, against f's own
  central differences.

A property-based test::

    from hypothesis import given
    from scalargrad.testing import assert_gradients_close, expressions_and_points

    @given(expressions_and_points())
    def test_gradients(case):
        f, point = case
        assert_gradients_close(f, point)
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from .autodiff import grad
from .codegen import CompileCheckError, compile
from .core import OPS, Value
from .notation.formula import formula
from .numeric import (
    NOT_A_GRAPH_HINT,
    UNIT_ROUNDOFF,
    Comparisons,
    GradcheckError,
    Tolerance,
    as_point,
    as_positive,
    as_result,
    as_tolerance,
    central_difference,
    check_function,
    close,
    compare_inputs,
    gradient_difference,
    rounding_scale,
)

__all__ = [
    "ALL_OPS",
    "DEFAULT_OPS",
    "GeneratedExpression",
    "assert_gradients_close",
    "assert_gradients_close_batched",
    "assert_hessian_close",
    "axes",
    "broadcastable_shapes",
    "expressions",
    "expressions_and_points",
    "matmul_shapes",
    "permutations",
    "points",
    "shapes",
]

Step = tuple[str, tuple[int, ...], float]
"""One instruction of an :class:`GeneratedExpression`: (primitive op, operand slots, constant value).

A variadic op's step (``dot``) lists its 2n operand slots, x₁…xₙ then y₁…yₙ."""

DEFAULT_OPS: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.builtin and op.smooth)
"""The ops :func:`expressions` draws from by default: every smooth built-in op of the engine,
the variadic ``dot`` (x₁·y₁ + … + xₙ·yₙ as one node, drawn with 1 to 3 pairs) included, as
likely as any other op."""

ALL_OPS: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.builtin)
"""Every built-in op, ``dot`` included. Those with kinks (``abs``, ``relu``, ``minimum``,
``maximum``) are not in the default mix: at a kink finite differences disagree with any
derivative. Ops from
:func:`scalargrad.define_op` can be drawn too: name them in ``ops``."""

GUARDS: dict[str, str] = {
    "real": "a",
    "positive": "1 + a*a",
    "nonzero": "1 + a*a",
    "above_minus_one": "a*a",
    "bounded": "tanh(a)",
    "unit": "0.5*tanh(a)",
}
"""How :func:`expressions` keeps an operand ``a`` inside its op's domain (one per
:data:`scalargrad.core.op.DOMAINS` name) and away from overflow. ``pow`` has forms of
its own: ``a**2``, ``a**3``, ``(1 + a*a)**c`` for c in (-1, -0.5, 0.5, 1.5), or
``(1 + a*a)**tanh(b)``."""

# --------------------------------------------------------------------------- #
# GeneratedExpression: a straight-line program of primitive ops               #
# --------------------------------------------------------------------------- #

_NO_LIMIT = 2**62  # GeneratedExpression's str prints in full, however long (formula's max_length)


def _apply(kind: str, operands: list[Any]) -> Any:
    """The primitive op ``kind`` (a name in ``OPS``) on numbers or Values."""
    return OPS[kind](*operands)


class GeneratedExpression:
    """A function of ``n_inputs`` inputs built from scalargrad ops, callable on numbers or Values.

    It is a straight-line program: slots ``0 … n_inputs-1`` are the inputs
    ``x0, x1, …``, and each step ``(op, operand slots, constant)`` fills the next
    slot; the last step is the output. A variadic op takes 2n slots, x₁…xₙ then
    y₁…yₙ: ``("dot", (0, 1, 1, 0), 0.0)`` is x0*x1 + x1*x0, one node; other counts,
    and slots not yet filled, are a ValueError. Called with Values it builds a graph,
    called with numbers it returns a float — the same function, so it can be
    differentiated by scalargrad and by finite differences alike.
    ``str(expr)`` is the expression in Python syntax over ``x0, x1, …`` and the
    scalargrad functions (``log`` is the natural log), printed by the engine's
    :func:`~scalargrad.graph.formula` with minimal parentheses; a dot prints as
    the sum of products it is, so the text is that function made of ``*`` and ``+``
    (equal to the dot up to rounding: the dot sums exactly, then rounds once).

    >>> e = GeneratedExpression(2, [("mul", (0, 1), 0.0), ("sin", (2,), 0.0)])
    >>> str(e), e(0.5, 3.0) == math.sin(1.5)
    ('sin(x0*x1)', True)
    >>> e
    GeneratedExpression('sin(x0*x1)', n_inputs=2)
    >>> d = GeneratedExpression(2, [("dot", (0, 1, 1, 0), 0.0)])
    >>> str(d), d(2.0, 3.0)
    ('x0*x1 + x1*x0', 12.0)
    """

    __slots__ = ("n_inputs", "steps")

    n_inputs: int
    steps: tuple[Step, ...]

    def __init__(self, n_inputs: int, steps: Iterable[Step]) -> None:
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
            raise ValueError(f"a GeneratedExpression needs n_inputs >= 1, got {n_inputs!r}")
        checked: list[Step] = []
        for kind, operands, value in steps:
            slot = n_inputs + len(checked)
            if kind != "const" and kind not in OPS:
                raise ValueError(f"unknown op {kind!r} in a GeneratedExpression step")
            arity = 0 if kind == "const" else OPS[kind].arity
            if arity is None:  # a variadic op (dot) takes 2n operands, n >= 1
                wrong_count = len(operands) < 2 or len(operands) % 2 == 1
                wanted = "2n (n >= 1)"
            else:
                wrong_count, wanted = len(operands) != arity, str(arity)
            if wrong_count or any(not 0 <= o < slot for o in operands):
                raise ValueError(
                    f"step {kind!r} needs {wanted} operands among slots 0..{slot - 1}, got {operands}"
                )
            checked.append((kind, tuple(operands), float(value)))
        self.n_inputs = n_inputs
        self.steps = tuple(checked)

    @property
    def ops(self) -> frozenset[str]:
        """The primitive op names the expression uses (guards included, ``const`` not)."""
        return frozenset(kind for kind, _, _ in self.steps if kind != "const")

    def as_binary(self) -> GeneratedExpression:
        """The same function with each dot step written as the binary ``mul`` and ``add``
        steps it stands for, x₁*y₁ + x₂*y₂ + … summed left to right, as its printed formula reads.

        So ``str(e.as_binary()) == str(e)``, and ``str(e)`` read back by a parser (Python's,
        :func:`scalargrad.expr.parse`) gives ``e.as_binary()``'s value bit for bit, while ``e``'s
        own value may differ in the last place: a dot sums exactly and rounds once. Without
        dot steps it is ``e``'s steps unchanged.

        >>> d = GeneratedExpression(1, [("dot", (0, 0, 0, 0), 0.0)])
        >>> d.as_binary().steps
        (('mul', (0, 0), 0.0), ('mul', (0, 0), 0.0), ('add', (1, 2), 0.0))
        >>> str(d.as_binary()) == str(d) == 'x0*x0 + x0*x0'
        True
        """
        n = self.n_inputs
        steps: list[Step] = []
        where = list(range(n))  # self's slot -> the new expression's

        def step(kind: str, *operands: int, value: float = 0.0) -> int:
            steps.append((kind, operands, value))
            return n + len(steps) - 1

        for kind, operands, value in self.steps:
            mapped = [where[o] for o in operands]
            if kind != "const" and OPS[kind].notation == "dot":
                half = len(mapped) // 2
                total = step("mul", mapped[0], mapped[half])
                for x, y in zip(mapped[1:half], mapped[half + 1 :]):
                    total = step("add", total, step("mul", x, y))
                where.append(total)
            else:
                where.append(step(kind, *mapped, value=value))
        return GeneratedExpression(n, steps)

    def __call__(self, *args: Any) -> Any:
        """Evaluate at ``args`` (numbers or Values): a float, or a Value built from them."""
        if len(args) != self.n_inputs:
            raise TypeError(f"{self!r} takes {self.n_inputs} arguments, got {len(args)}")
        slots: list[Any] = list(args)
        for kind, operands, value in self.steps:
            slots.append(value if kind == "const" else _apply(kind, [slots[o] for o in operands]))
        return slots[-1]

    def __str__(self) -> str:
        # The steps applied to named leaves give a graph that formula prints: one
        # printer for the whole package. The leaves hold NaN, so no op raises (a hand-made
        # GeneratedExpression may be undefined everywhere, e.g. log(x0 - x0)), and constants are
        # leaves too, named by their number as the engine prints it, so that nothing is
        # folded. Natural logs print as log(...), scalargrad's name, not ln(...).
        names: dict[Value, str] = {}
        slots: list[Value] = [Value(math.nan, label=f"x{i}") for i in range(self.n_inputs)]
        for kind, operands, value in self.steps:
            if kind == "const":
                leaf = Value(math.nan)
                names[leaf] = formula(Value(value))
                slots.append(leaf)
                continue
            node = _apply(kind, [slots[o] for o in operands])
            if kind == "log":
                names[node] = f"log({formula(slots[operands[0]], names, max_length=_NO_LIMIT)})"
            slots.append(node)
        return formula(slots[-1], names, max_length=_NO_LIMIT)

    def __repr__(self) -> str:
        return f"GeneratedExpression({str(self)!r}, n_inputs={self.n_inputs})"


# --------------------------------------------------------------------------- #
# strategies                                                                   #
# --------------------------------------------------------------------------- #

_CONSTANTS = st.integers(-30, 30).map(lambda k: k / 10)


class _Builder:
    """Appends the steps of one random expression; ``build`` returns the slot of a subtree."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any], n_inputs: int, ops: list[str]) -> None:
        self.draw = draw
        self.n_inputs = n_inputs
        self.ops = ops
        self.steps: list[Step] = []

    def step(self, kind: str, *operands: int, value: float = 0.0) -> int:
        self.steps.append((kind, operands, value))
        return self.n_inputs + len(self.steps) - 1

    def one_plus_square(self, a: int) -> int:
        return self.step("add", self.step("const", value=1.0), self.step("mul", a, a))

    def guarded(self, a: int, domain: str) -> int:
        """Slot ``a`` mapped into ``domain`` (see :data:`GUARDS`)."""
        if domain in ("positive", "nonzero"):
            return self.one_plus_square(a)
        if domain == "above_minus_one":
            return self.step("mul", a, a)
        if domain == "bounded":
            return self.step("tanh", a)
        if domain == "unit":
            return self.step("mul", self.step("const", value=0.5), self.step("tanh", a))
        return a

    def build(self, depth: int, *, constant_ok: bool, root: bool = False) -> int:
        draw = self.draw
        # 0 is a leaf, so hypothesis shrinks towards small expressions
        if depth <= 0 or (not root and draw(st.integers(0, 9)) < 3):
            if constant_ok and draw(st.integers(0, 4)) == 0:
                return self.step("const", value=draw(_CONSTANTS))
            return int(draw(st.integers(0, self.n_inputs - 1)))
        name = draw(st.sampled_from(self.ops))
        op = OPS[name]
        d = depth - 1
        # the first operand is never a constant, so every expression depends on an input
        a = self.build(d, constant_ok=False)
        if name == "pow":
            form = draw(st.integers(0, 2))
            if form == 0:
                return self.step("pow", a, self.step("const", value=draw(st.sampled_from([2.0, 3.0]))))
            base = self.one_plus_square(a)
            if form == 1:
                exponent = self.step("const", value=draw(st.sampled_from([0.5, -1.0, 1.5, -0.5])))
            else:
                exponent = self.step("tanh", self.build(d, constant_ok=False))
            return self.step("pow", base, exponent)
        if op.arity is None:  # dot over 1 to 3 pairs: no guards, it is defined everywhere
            rest = [self.build(d, constant_ok=True) for _ in range(2 * draw(st.integers(1, 3)) - 1)]
            return self.step(name, a, *rest)
        operands = [self.guarded(a, op.domains[0])]
        if op.arity == 2:
            operands.append(self.guarded(self.build(d, constant_ok=True), op.domains[1]))
        return self.step(name, *operands)


def _check_ops(ops: Iterable[str]) -> list[str]:
    if isinstance(ops, str):
        raise TypeError(f"ops must be a collection of op names, not a single string {ops!r}")
    chosen = list(ops)
    unknown = [o for o in chosen if o not in OPS]
    if unknown:
        raise ValueError(f"unknown ops {unknown}; choose from {list(OPS)}")
    if not chosen:
        raise ValueError("ops is empty; give at least one op name")
    return chosen


def _check_count(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


def expressions(
    n_inputs: int = 2,
    *,
    ops: Iterable[str] = DEFAULT_OPS,
    max_depth: int = 4,
) -> st.SearchStrategy[GeneratedExpression]:
    """A hypothesis strategy for random :class:`GeneratedExpression` functions of ``n_inputs`` inputs.

    Each expression is a tree of at most ``max_depth`` op levels (at least one op)
    drawn from ``ops`` (see :data:`DEFAULT_OPS`, :data:`ALL_OPS`) over the inputs
    and small constants; inputs may be used several times, so gradients sum over
    several paths. ``ops`` may name ops from :func:`scalargrad.define_op` too.
    A variadic op (``dot``) gets 1 to 3 pairs of operands, any of them but the first
    possibly a constant, and no guards (a sum of products is defined everywhere).
    Domains are guarded by composition, from each op's declared domains
    (:data:`GUARDS`), e.g. ``log(1 + a*a)``, ``a/(1 + b*b)``, ``exp(tanh(a))``, so the
    guards' ``add``, ``mul`` and ``tanh`` steps can appear whatever ``ops`` says. The
    guards keep every expression defined and smooth (with smooth ops) everywhere, and
    finite for inputs of moderate size (see :func:`points`).
    """
    n = _check_count(n_inputs, "n_inputs")
    chosen = _check_ops(ops)
    depth = _check_count(max_depth, "max_depth")

    @st.composite
    def strategy(draw: Callable[[st.SearchStrategy[Any]], Any]) -> GeneratedExpression:
        builder = _Builder(draw, n, chosen)
        builder.build(depth, constant_ok=False, root=True)
        return GeneratedExpression(n, builder.steps)

    return strategy()


def points(n_inputs: int, *, bound: float = 2.0) -> st.SearchStrategy[list[float]]:
    """A hypothesis strategy for input points: lists of ``n_inputs`` floats in [-bound, bound]."""
    n = _check_count(n_inputs, "n_inputs")
    b = as_positive(bound, "bound", "points")
    coordinate = st.floats(-b, b, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return st.lists(coordinate, min_size=n, max_size=n)


def expressions_and_points(
    min_inputs: int = 1,
    max_inputs: int = 3,
    *,
    ops: Iterable[str] = DEFAULT_OPS,
    max_depth: int = 4,
    bound: float = 2.0,
) -> st.SearchStrategy[tuple[GeneratedExpression, list[float]]]:
    """A strategy for ``(expression, point)`` pairs with between min and max inputs."""
    low = _check_count(min_inputs, "min_inputs")
    high = _check_count(max_inputs, "max_inputs")
    if high < low:
        raise ValueError(f"max_inputs ({high}) must be >= min_inputs ({low})")
    chosen = _check_ops(ops)
    depth = _check_count(max_depth, "max_depth")
    b = as_positive(bound, "bound", "expressions_and_points")  # checked now, not when first drawn
    return st.integers(low, high).flatmap(
        lambda n: st.tuples(expressions(n, ops=chosen, max_depth=depth), points(n, bound=b))
    )


# --------------------------------------------------------------------------- #
# assertions                                                                   #
# --------------------------------------------------------------------------- #

def _options(
    f: object,
    args: Sequence[float],
    eps: float,
    atol: float | None,
    rtol: float | None,
    tolerance: Tolerance | None,
    who: str,
) -> tuple[list[float], float, Tolerance]:
    check_function(f, who)
    point = as_point(args, who)
    step = as_positive(eps, "eps", who)
    return point, step, as_tolerance(tolerance, who, atol=atol, rtol=rtol)


_INPUT = "input {i} (df/dx{i})"
"""How a failed check names the derivative it compared."""


def assert_gradients_close(
    f: Callable[..., Any],
    args: Sequence[float],
    *,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    tolerance: Tolerance | None = None,
) -> list[float]:
    """Assert that f's reverse-mode gradient at ``args`` matches central differences.

    ``f(*args)`` must work on numbers and on Values (a :class:`GeneratedExpression` does).
    Each ∂f/∂θᵢ must be :func:`~scalargrad.numeric.close` to its central difference
    under ``tolerance`` (default :data:`~scalargrad.numeric.DEFAULT_TOLERANCE`, the one
    policy of every check; ``atol``/``rtol`` replace its fields): within
    ``atol + rtol·max(|analytic|, |numeric|)`` plus the finite differences' own rounding
    error, estimated from the graph as u·Σ|v·∂f/∂v|/eps, so well-scaled and badly-scaled
    functions are judged fairly. Returns the analytic gradient; raises
    :class:`~scalargrad.numeric.GradcheckError` (an AssertionError) naming f, the point
    and the worst mismatch.

    >>> from scalargrad import sin
    >>> assert_gradients_close(lambda x, y: x * y + sin(x), [0.0, 2.0])
    [3.0, 0.0]
    """
    who = "assert_gradients_close"
    point, step, policy = _options(f, args, eps, atol, rtol, tolerance, who)
    inputs = [Value(x) for x in point]
    out = f(*inputs)
    if isinstance(out, Value):
        analytic: list[float] = grad(out, inputs)
        rounding = rounding_scale(out) / step
    else:
        as_result(out, who)
        analytic, rounding = [0.0] * len(point), 0.0
    checks = Comparisons(who, policy)
    compare_inputs(checks, f, point, analytic, step, rounding, who, _INPUT)
    slack = policy.ulps * UNIT_ROUNDOFF * rounding
    header = f"f={f!r}, args={point!r}, eps={step:g}, rounding slack={slack:.3g}"
    checks.raise_if_failed(header, "" if isinstance(out, Value) else NOT_A_GRAPH_HINT)
    return analytic


def assert_hessian_close(
    f: Callable[..., Any],
    args: Sequence[float],
    *,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    tolerance: Tolerance | None = None,
) -> list[list[float]]:
    """Assert that f's second derivatives by ``create_graph`` match finite differences.

    Row i of the Hessian is the reverse-mode gradient of the i-th create_graph
    gradient; column j is compared with (∇f(θ + εeⱼ) − ∇f(θ − εeⱼ)) / 2ε, the plain
    gradient's central difference, with the tolerance of
    :func:`assert_gradients_close`. Also asserts that the plain gradient matches f's
    own central differences (so a function that returns a plain number for Value
    inputs fails unless it is constant) and that the create_graph gradient
    evaluates to the plain gradient. Returns the Hessian as a list of rows.

    >>> assert_hessian_close(lambda x, y: x * x * y, [1.0, 3.0])
    [[6.0, 2.0], [2.0, 0.0]]
    """
    who = "assert_hessian_close"
    point, step, policy = _options(f, args, eps, atol, rtol, tolerance, who)
    n = len(point)
    inputs = [Value(x) for x in point]
    out = f(*inputs)
    checks = Comparisons(who, policy)
    if not isinstance(out, Value):
        # no graph: every analytic derivative is 0, which is right only if f is constant
        as_result(out, who)
        compare_inputs(checks, f, point, [0.0] * n, step, 0.0, who, _INPUT)
        checks.raise_if_failed(f"f={f!r}, args={point!r}, eps={step:g}", NOT_A_GRAPH_HINT)
        return [[0.0] * n for _ in range(n)]
    first: list[Value] = grad(out, inputs, create_graph=True)
    plain: list[float] = grad(out, inputs)
    compare_inputs(checks, f, point, plain, step, rounding_scale(out) / step, who, _INPUT)
    rows: list[list[float]] = [grad(g, inputs) for g in first]
    roundings = [rounding_scale(g) / step for g in first]
    for i in range(n):
        what = f"create_graph gradient {i} vs plain"
        checks.compare(what, i, None, first[i].data, plain[i])

    for j in range(n):
        column = gradient_difference(f, point, j, step, who)
        for i in range(n):
            numeric = column[i]
            what = f"second derivative ({i}, {j}) (d²f/dx{i}dx{j})"
            checks.compare(what, (i, j), None, rows[i][j], numeric, rounding=roundings[i])
    checks.raise_if_failed(f"f={f!r}, args={point!r}, eps={step:g}")
    return rows


_SAME_VALUE = Tolerance(rtol=1e-12, atol=0.0, ulps=64.0)
"""How close compiled code's value must be to f's own (rounding in two orders of evaluation)."""


def assert_gradients_close_batched(
    f: Callable[..., Any],
    points: Any,
    *,
    eps: float = 1e-6,
    atol: float | None = None,
    rtol: float | None = None,
    tolerance: Tolerance | None = None,
) -> Any:
    """Assert that f's gradient matches central differences of f at every row of ``points``.

    ``points`` is an (n_points, n_inputs) array-like (NumPy is needed). The analytic
    gradient comes from ``f`` compiled once (:func:`scalargrad.compile`, traced
    at the first point) and run over all points in one NumPy call. The numeric side is
    ``f`` itself on floats: its value at every point and its central differences
    (f(θ + εeᵢ) − f(θ − εeᵢ)) / 2ε, 2·n_inputs + 1 Python calls per point, so a
    function that loses part of its graph (``math.sin`` on a Value) fails. Because the
    compiled code is the path f's Python control flow took at the first point, its
    values are first compared with f's at every point (a
    :class:`~scalargrad.codegen.CompileCheckError` if they differ beyond rounding). The
    tolerance is that of :func:`assert_gradients_close`, rounding slack included
    (estimated per point from the compiled code as u·Σ|v·∂f/∂v|/eps). Returns the
    gradients as an (n_points, n_inputs) array; raises
    :class:`~scalargrad.numeric.GradcheckError` naming the worst point and input.

    >>> import numpy as np
    >>> from scalargrad import sin
    >>> assert_gradients_close_batched(lambda x, y: x * sin(y), np.array([[1.0, 0.0], [2.0, 1.0]])).round(4)
    array([[0.    , 1.    ],
           [0.8415, 1.0806]])
    """
    import numpy as np

    who = "assert_gradients_close_batched"
    check_function(f, who)
    grid = np.asarray(points, dtype=np.float64)
    if grid.ndim != 2 or grid.shape[0] == 0 or grid.shape[1] == 0:
        raise ValueError(f"{who}: points must be a 2-D array (n_points, n_inputs), got shape {grid.shape}")
    if not np.all(np.isfinite(grid)):
        raise ValueError(f"{who}: points must be finite")
    step = as_positive(eps, "eps", who)
    policy = as_tolerance(tolerance, who, atol=atol, rtol=rtol)
    n_points, n = grid.shape
    rows: list[list[float]] = grid.tolist()
    expected = np.array([as_result(f(*row), who) for row in rows])
    traced = f(*(Value(x) for x in rows[0]))
    as_result(traced, who)  # a number or a Value, else a TypeError as in assert_gradients_close
    if isinstance(traced, Value):
        curves = compile(f, rows[0]).vectorized("numpy")
        value, gradient, rounding = curves.with_rounding(*(grid[:, i] for i in range(n)))
        rounding = np.where(np.isfinite(rounding), rounding, 0.0)
        analytic = np.stack([np.asarray(g, dtype=np.float64) for g in gradient], axis=1)
    else:  # a number for Values: a constant (as gradcheck allows), or a lost graph the differences catch
        value, rounding, analytic = expected, np.zeros(n_points), np.zeros((n_points, n))
    with np.errstate(invalid="ignore"):
        same = close(value, expected, _SAME_VALUE, rounding=rounding)
    if not same.all():
        k = int(np.argmin(same))
        raise CompileCheckError(
            f"{who}: f compiled at {rows[0]} gives {float(value[k])!r} at point {k} {rows[k]}, but f "
            f"gives {float(expected[k])!r}: f's Python control flow depends on its inputs, or f computes "
            "with numbers taken from Values (math.sin(x) instead of scalargrad.sin(x), float(x), .data), "
            "so one compiled graph cannot stand for it at every point; check the points with "
            "assert_gradients_close one at a time",
            args=rows[k],
            what="the value",
            compiled=float(value[k]),
            engine=float(expected[k]),
        )
    numeric = np.array(
        [[central_difference(f, row, i, step, who) for i in range(n)] for row in rows]
    )
    scaled = (rounding / step)[:, None]
    with np.errstate(invalid="ignore"):
        bound = policy.bound(analytic, numeric, scaled)
        error = np.abs(analytic - numeric)
        bad = ~close(analytic, numeric, policy, rounding=scaled)
    if bad.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(np.isfinite(error), error / np.maximum(bound, 1e-300), np.inf)
        badness = np.where(bad, ratio, 0.0)
        k, i = (int(t) for t in np.unravel_index(int(np.argmax(badness)), badness.shape))
        raise GradcheckError(
            f"{who} failed: {int(bad.sum())} of {bad.size} comparisons out of tolerance "
            f"(f={f!r}, {n_points} points, eps={step:g})\n"
            f"worst mismatch: point {k} {rows[k]}, input {i} (df/dx{i}): "
            f"analytic={float(analytic[k, i])!r}, numeric={float(numeric[k, i])!r}, "
            f"error={float(error[k, i]):.3g} > tolerance={float(bound[k, i]):.3g}",
            index=i,
            direction=None,
            analytic=float(analytic[k, i]),
            numeric=float(numeric[k, i]),
            error=float(error[k, i]),
            tolerance=float(bound[k, i]),
            mismatches=int(bad.sum()),
        )
    return analytic


# --------------------------------------------------------------------------- #
# shapes and axes for tensor ops (scalargrad.check_vjp)                        #
# --------------------------------------------------------------------------- #


def _check_natural(n: object, name: str) -> int:
    """An int >= 0 (the count of axes may be 0: a 0-d array)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {n!r}")
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return int(n)


def shapes(
    *, min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes: ``min_dims``…``max_dims`` axes of ``min_side``…``max_side`` entries.

    The defaults keep arrays of Values small (at most 64 entries), as an exact check needs.
    """
    side = st.integers(_check_count(min_side, "min_side"), _check_count(max_side, "max_side"))
    low, high = _check_natural(min_dims, "min_dims"), _check_natural(max_dims, "max_dims")
    return st.lists(side, min_size=low, max_size=high).map(tuple)


def broadcastable_shapes(shape: Sequence[int], *, min_dims: int = 0) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes NumPy broadcasts to ``shape``: a suffix of it (at least ``min_dims`` axes), some
    sides 1 (``(3,)``, ``(1, 3)``, ``(2, 1)`` for ``(2, 3)``)."""
    target = tuple(shape)
    low = min(_check_natural(min_dims, "min_dims"), len(target))

    def build(n: int) -> st.SearchStrategy[tuple[int, ...]]:
        tail = target[len(target) - n :]
        return st.tuples(*(st.sampled_from((side, 1)) for side in tail))

    return st.integers(low, len(target)).flatmap(build)


def axes(ndim: int, *, allow_none: bool = True, allow_int: bool = True) -> st.SearchStrategy[Any]:
    """``axes=`` arguments of a reduction over ``ndim`` axes: None (all), one int, or a sorted tuple."""
    n = _check_natural(ndim, "ndim")
    options: list[st.SearchStrategy[Any]] = []
    if allow_none:
        options.append(st.none())
    if n:
        if allow_int:
            options.append(st.integers(0, n - 1))
        options.append(st.sets(st.integers(0, n - 1), min_size=1).map(lambda s: tuple(sorted(s))))
    return st.one_of(*options) if options else st.just(())


def permutations(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """``axes`` for a transpose of ``ndim`` axes: a permutation of ``range(ndim)``."""
    return st.permutations(list(range(_check_natural(ndim, "ndim")))).map(tuple)


def matmul_shapes(
    *, max_side: int = 4, max_batch_dims: int = 1
) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Shapes ``((…, m, k), (k, n))`` of a matrix product, with up to ``max_batch_dims``
    batch axes on the left operand (broadcast over the right one)."""
    side = st.integers(1, _check_count(max_side, "max_side"))
    batch = st.lists(st.integers(1, 3), max_size=_check_natural(max_batch_dims, "max_batch_dims")).map(tuple)
    return st.tuples(batch, side, side, side).map(lambda t: ((*t[0], t[1], t[2]), (t[2], t[3])))


def __getattr__(name: str) -> Any:
    """``Expression``, the old name of :class:`GeneratedExpression`, with a DeprecationWarning (PEP 562).

    Renamed so that it is not confused with :class:`scalargrad.expr.Expression` (parsed text).
    """
    if name == "Expression":
        warnings.warn(
            "scalargrad.testing.Expression is deprecated and will be removed in the next release; "
            "use scalargrad.testing.GeneratedExpression",
            DeprecationWarning,
            stacklevel=2,
        )
        return GeneratedExpression
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
