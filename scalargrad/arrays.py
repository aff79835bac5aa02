"""Reverse mode on tensors, in the notes' scalar form: NumPy object arrays of Values.

The lecture notes write Z = XW entry by entry, Zᵢⱼ = Σₖ XᵢₖWₖⱼ, and derive the matrix
rule X̄ = Z̄Wᵀ from the scalar one X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ. This module gives both sides:

* :func:`array` — a NumPy object array of leaf Values named as the notes name entries
  (``X₁₁ … X₂₂``). NumPy's own operators work on it entry by entry (``X @ W``,
  ``X.sum(axis=0)``, ``np.exp(X)``, broadcasting, ``.T``, ``.reshape``), so ``Z = X @ W``
  is a scalar graph, and ``grad(v, X)`` is a float array shaped like ``X`` (also inside
  dicts and lists: ``grad(v, {"X": X, "W": W})``). ``jvp(Z, dict(zip(X.flat, dX.flat)))``
  is forward mode along a tangent array ``dX``, a float array shaped like ``Z``.
* :func:`check_vjp` — checks a matrix-form gradient rule ``(out_grad, *inputs) -> grads``
  against exact scalar reverse mode on that graph, entry by entry; a wrong entry is a
  :class:`VJPMismatch` naming it and the partial adjoints it should sum
  (``X̄₁₂ should be Z̄₁₁·W₂₁ + Z̄₁₂·W₂₂``).
* :func:`tensor_trace` and :func:`structure_trace` — the notes' two examples (Z = XW,
  v = f(Z); and a dict ``d``, ``b = d["cat"]``, v = f(b)) as printed traces.
* :func:`unbroadcast` — sums a gradient over the axes NumPy broadcast (the rule of
  BroadcastTo, and of every op that broadcasts its operands).

NumPy is optional: ``import scalargrad`` does not import it, and this module imports it
only when one of its functions runs (install NumPy, e.g. ``pip install numpy``).

Labels. An entry of an array named ``X`` is labelled with its 1-based index after the
name: ``X12`` for X[0, 1], which prints as ``X₁₂`` (``x3`` for the third entry of a
vector). When some axis is longer than 9 (or the name ends in a digit) the digits would be
ambiguous (is ``X111`` X₁,₁₁ or X₁₁,₁?), so the indices are separated by commas:
``X1,12``, printed as ``X₁,₁₂`` (``W1_1,2`` for a name ``W1``, printed as ``W1₁,₂``;
``x1_2`` for a vector ``x1``, printed as ``x1₂``). Traces, diagrams and :func:`entry_name`
print them alike.

Size. Every entry is a Python object and every scalar op a graph node (one to two
microseconds and about 100 bytes each): a 64×64 @ 64×64 product is 5·10⁵ nodes (n products
and n − 1 sums per entry) and takes about a second to build, and ``grad`` about as long
again; :func:`check_vjp` of a 32×32 @ 32×32 product takes 0.2 s a trial (see
``benchmarks/bench_arrays.py``). :data:`MAX_ENTRIES` (10⁶) bounds
the arrays :func:`array` makes and the values :func:`check_vjp` builds; beyond it, building
alone would take minutes and gigabytes, and a ValueError says so.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .autodiff import adjoints, grad
from .core import Partial, Value
from .notation.formula import formula
from .notation.names import text_name
from .numeric import Tolerance, close

__all__ = [
    "MAX_ENTRIES",
    "TensorTrace",
    "VJPMismatch",
    "array",
    "check_vjp",
    "data",
    "entry_label",
    "entry_name",
    "structure_trace",
    "tensor_trace",
    "unbroadcast",
]

MAX_ENTRIES = 1_000_000
"""The most entries :func:`array` makes (and :func:`check_vjp` builds in one graph):
about a second per 10⁶ Values at best, and a product's graph grows as n³."""

BAR = "\u0304"


def _np() -> Any:
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - NumPy is installed wherever tests run
        raise ImportError("scalargrad's arrays need NumPy: pip install numpy") from e
    return numpy


# --------------------------------------------------------------------------- #
# names                                                                        #
# --------------------------------------------------------------------------- #


def _compact(name: str, shape: tuple[int, ...]) -> bool:
    """Whether entries of ``name`` (of ``shape``) are labelled by bare digits (``X12``)."""
    if len(shape) <= 1:
        return True
    return not name[-1:].isdigit() and all(n <= 9 for n in shape)


def entry_label(name: str, index: Sequence[int], shape: Sequence[int]) -> str:
    """The label of ``name[index]`` in an array of ``shape``: 1-based indices after the name.

    >>> entry_label("X", (0, 1), (2, 2)), entry_label("x", (11,), (12,)), entry_label("X", (0, 11), (2, 12))
    ('X12', 'x12', 'X1,12')
    """
    shape = tuple(shape)
    digits = [str(i + 1) for i in index]
    if not digits:
        return name
    if _compact(name, shape):
        if len(shape) == 1 and name[-1:].isdigit():
            return f"{name}_{digits[0]}"
        return name + "".join(digits)
    return f"{name}{'_' if name[-1:].isdigit() else ''}{','.join(digits)}"


def entry_name(name: str, index: Sequence[int], shape: Sequence[int], bar: bool = False) -> str:
    """How ``name[index]`` prints: its label as traces and diagrams print it
    (:func:`scalargrad.notation.names.text_name` of :func:`entry_label`), with ``bar`` its adjoint's.

    >>> entry_name("X", (0, 1), (2, 2)), entry_name("X", (0, 11), (2, 12)), entry_name("W1", (0, 1), (2, 2))
    ('X₁₂', 'X₁,₁₂', 'W1₁,₂')
    >>> entry_name("X", (0, 1), (2, 2), bar=True), entry_name("W1", (0, 1), (2, 2), bar=True)
    ('X̄₁₂', 'W̄1₁,₂')
    """
    label = entry_label(name, index, shape)
    if bar:
        label = label[:1] + BAR + label[1:]
    return text_name(label)


# --------------------------------------------------------------------------- #
# arrays of Values                                                             #
# --------------------------------------------------------------------------- #


def _check_size(size: int, who: str) -> None:
    if size > MAX_ENTRIES:
        raise ValueError(
            f"{who}: {size:,} entries is more than scalargrad.arrays.MAX_ENTRIES = {MAX_ENTRIES:,}: "
            "an object array of Values that large takes minutes and gigabytes to build; "
            "use NumPy floats (or a tensor library) at that size"
        )


def array(values: Any, name: str | None = None) -> Any:
    """A NumPy object array of leaf Values, labelled in the notes' way when ``name`` is given.

    >>> from scalargrad import grad
    >>> X = array([[1, 2], [3, 4]], name="X")
    >>> X[0, 1]
    Value(data=2.0, grad=0.0, label='X12')
    >>> W = array([[1, 0, -1], [2, 1, 0]], name="W")
    >>> Z = X @ W
    >>> str(Z[0, 0])
    'X11*W11 + X12*W21'
    >>> grad(Z.sum(), X)
    array([[0., 3.],
           [0., 3.]])

    ``values`` is anything ``numpy.asarray`` makes an array of numbers of (nested lists,
    arrays, a number for a 0-d array). Labels are :func:`entry_label`'s. More than
    :data:`MAX_ENTRIES` entries is a ValueError.
    """
    np = _np()
    floats = np.asarray(values, dtype=float)
    _check_size(floats.size, "scalargrad.array")
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"scalargrad.array: name must be a non-empty str, got {name!r}")
    out = np.empty(floats.shape, dtype=object)
    shape = floats.shape
    if name is None:
        for index, x in np.ndenumerate(floats):
            out[index] = Value(float(x))
    else:
        for index, x in np.ndenumerate(floats):
            out[index] = Value(float(x), label=entry_label(name, index, shape))
    return out


def data(values: Any) -> Any:
    """The float array of an array of Values (numbers stay numbers): the forward values."""
    np = _np()
    entries = np.asarray(values, dtype=object)
    return np.array([v.data if isinstance(v, Value) else float(v) for v in entries.ravel().tolist()]).reshape(
        entries.shape
    )


def unbroadcast(grad_array: Any, shape: Sequence[int]) -> Any:
    """Sum ``grad_array`` over the axes NumPy broadcast an operand of ``shape`` along.

    The BroadcastTo rule (the notes' "sum of N gradients"), and the last step of every
    rule whose op broadcasts its operands:

    >>> import numpy as np
    >>> unbroadcast(np.ones((3, 2, 4)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    np = _np()
    g = np.asarray(grad_array)
    shape = tuple(shape)
    extra = g.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"unbroadcast: a gradient of shape {g.shape} cannot come from shape {shape}")
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


# --------------------------------------------------------------------------- #
# check_vjp                                                                    #
# --------------------------------------------------------------------------- #


class VJPMismatch(AssertionError):
    """A matrix-form gradient rule disagrees with exact scalar reverse mode.

    Fields: ``op`` (its name), ``input`` (position of the input whose gradient is wrong;
    None when the rule raised, which blames no input), ``input_name`` (``X``), ``index``
    (the first wrong entry, 0-based), ``entry`` (its printed name, ``X̄₁₂``), ``expected``
    (scalar reverse mode's adjoint), ``given`` (the rule's number there, or None when the
    rule's array has the wrong shape or the rule raised), ``given_shape``, ``terms`` (the
    partial adjoints the entry should sum, as printed: ``Z̄₁₁·W₂₁``) and ``term_values``
    (their numbers), ``formula`` (the sum, ``Z̄₁₁·W₂₁ + Z̄₁₂·W₂₂``), ``error`` (the
    exception the rule raised, if it did; then the entry's fields are empty), and the
    case: ``inputs`` (float arrays), ``out_grad``, ``params``.
    """

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.op: str = fields.get("op", "")
        self.input: int | None = fields.get("input")
        self.input_name: str = fields.get("input_name", "")
        self.index: tuple[int, ...] = fields.get("index", ())
        self.entry: str = fields.get("entry", "")
        self.expected: float = fields.get("expected", math.nan)
        self.given: float | None = fields.get("given")
        self.given_shape: tuple[int, ...] | None = fields.get("given_shape")
        self.terms: list[str] = fields.get("terms", [])
        self.term_values: list[float] = fields.get("term_values", [])
        self.formula: str = fields.get("formula", "")
        self.error: BaseException | None = fields.get("error")
        self.inputs: list[Any] = fields.get("inputs", [])
        self.out_grad: Any = fields.get("out_grad")
        self.params: dict[str, Any] = fields.get("params", {})


_DEFAULT_NAMES = ("X", "W", "U", "V", "A", "B", "C", "D")


def _is_shape(x: Any) -> bool:
    return isinstance(x, tuple) and all(isinstance(n, int) and not isinstance(n, bool) for n in x)


def _domains(domain: Any, n: int) -> list[tuple[float, float]]:
    if isinstance(domain, tuple) and len(domain) == 2 and all(isinstance(x, (int, float)) for x in domain):
        return [(float(domain[0]), float(domain[1]))] * n
    found = [(float(lo), float(hi)) for lo, hi in domain]
    if len(found) != n:
        raise ValueError(f"check_vjp: domain has {len(found)} (low, high) pairs for {n} inputs")
    return found


def _as_tuple(result: Any, n: int, op: str) -> list[Any]:
    if n == 1 and not isinstance(result, (tuple, list)):
        return [result]
    if not isinstance(result, (tuple, list)) or len(result) != n:
        many = isinstance(result, (tuple, list))
        got = f"a {type(result).__name__} of {len(result)}" if many else "one array"
        raise TypeError(f"check_vjp({op}): the rule must return one gradient per input ({n}), got {got}")
    return list(result)


def check_vjp(
    forward: Callable[..., Any],
    rule: Callable[..., Any],
    *inputs: Any,
    params: Mapping[str, Any] | None = None,
    names: Sequence[str] | None = None,
    out_name: str = "Z",
    op: str | None = None,
    trials: int = 3,
    seed: int | None = 0,
    domain: Any = (-2.0, 2.0),
    rtol: float = 1e-7,
    atol: float = 1e-9,
) -> None:
    """Check a matrix-form gradient rule against exact scalar reverse mode, entry by entry.

    ``forward(*arrays, **params)`` is the op on NumPy arrays, written with NumPy's
    operators and functions so that it also runs on object arrays of Values (``a * b``,
    ``a @ b``, ``np.exp(a)``, ``a.sum(axis=…)``, ``np.broadcast_to``, ``.transpose``…).
    ``rule(out_grad, *arrays, **params)`` is its gradient rule: the adjoint of each input
    (a tuple, or one array for one input; None for an input not to check) given the
    output's adjoint ``out_grad``.

    Each input is a shape (a tuple: a random point, uniform in ``domain``, a (low, high)
    pair or one per input) or an array (that point). For each of ``trials`` random
    ``out_grad`` (and a new random point for each input given as a shape) the op is
    built on :func:`array` s of Values named ``names`` (``X``, ``W``, … by default;
    the output ``out_name``), reverse mode seeded with
    ``out_grad`` gives every input entry's exact adjoint, and the rule's arrays must have
    the inputs' shapes and be :func:`~scalargrad.numeric.close` under
    ``Tolerance(rtol, atol, ulps=0)`` (the checks' one policy; the defaults are tight, as
    both sides are exact up to summation order). Otherwise :class:`VJPMismatch`
    names the input, the first wrong entry, the expected and the given value, and the
    partial adjoints that entry should sum, read off the graph::

        X̄₁₂ should be Z̄₁₁·W₂₁ + Z̄₁₂·W₂₂ = 0.27 + (−1.4) = −1.13, the rule gave 0.518

    A rule that raises (for these inputs' shapes, say) is a :class:`VJPMismatch` saying
    so, blaming no input (``input`` None, ``error`` the exception).

    >>> import numpy as np
    >>> check_vjp(lambda x, w: x @ w, lambda g, x, w: (g @ w.T, x.T @ g), (2, 3), (3, 4), op="MatMul")
    """
    np = _np()
    what = str(op or getattr(forward, "__name__", "op"))
    policy = Tolerance(rtol=rtol, atol=atol, ulps=0.0)  # two exact computations: no finite differences
    if not inputs:
        raise TypeError(f"check_vjp({what}): give at least one input (a shape or an array)")
    n = len(inputs)
    letters = list(names) if names is not None else list(_DEFAULT_NAMES[:n])
    if len(letters) != n:
        raise ValueError(f"check_vjp({what}): {len(letters)} names for {n} inputs")
    if out_name in letters:
        out_name = next(c for c in "ZYVOQ" if c not in letters)
    kwargs = dict(params or {})
    ranges = _domains(domain, n)
    rng = np.random.default_rng(seed)
    given_points = [None if _is_shape(x) else np.asarray(x, dtype=float) for x in inputs]
    for _ in range(max(1, trials)):
        points = []
        for x, p, (lo, hi) in zip(inputs, given_points, ranges):
            points.append(p if p is not None else rng.uniform(lo, hi, size=x))
        for p in points:
            _check_size(p.size, f"check_vjp({what})")
        leaves = [array(p, name) for p, name in zip(points, letters)]
        enabled = gc.isenabled()
        gc.disable()  # many small objects, no cycles: the collector's passes would cost more
        try:
            out = np.asarray(forward(*leaves, **kwargs), dtype=object)
        finally:
            if enabled:
                gc.enable()
        _check_size(out.size, f"check_vjp({what}) (the output)")
        plain = np.asarray(forward(*[p.copy() for p in points], **kwargs), dtype=float)
        if plain.shape != out.shape:
            raise ValueError(
                f"check_vjp({what}): forward gives shape {plain.shape} on floats but {out.shape} on Values"
            )
        out_grad = rng.standard_normal(out.shape)
        flat = out.ravel().tolist()
        seeds = out_grad.ravel().tolist()
        outs = [v for v in flat if isinstance(v, Value)]
        weights = [s for v, s in zip(flat, seeds) if isinstance(v, Value)]
        adj = adjoints(outs, weights) if outs else {}
        try:
            result = rule(out_grad.copy(), *[p.copy() for p in points], **kwargs)
        except (ValueError, TypeError, IndexError) as e:  # a wrong rule may raise (NumPy's AxisError too)
            raise _raised(what, e, letters, out, out_grad, out_name, points, kwargs) from e
        given = _as_tuple(result, n, what)
        for k in range(n):
            if given[k] is None:
                continue
            exact = [adj.get(v, 0.0) for v in leaves[k].ravel().tolist()]
            expected = np.array(exact, dtype=float).reshape(points[k].shape)
            rule_grad = np.asarray(given[k], dtype=float)
            if rule_grad.shape == expected.shape:
                with np.errstate(invalid="ignore"):
                    same = close(rule_grad, expected, policy)
                if same.all():
                    continue
                index = tuple(int(i) for i in np.argwhere(~same)[0])
            else:
                index = (0,) * expected.ndim
            case = (leaves, out, out_grad, out_name, points, kwargs)
            raise _mismatch(what, k, letters, index, expected, rule_grad, *case)
    return None


def _case(letters: list[str], points: list[Any], params: dict[str, Any], out: Any, out_name: str) -> str:
    shapes = ", ".join(f"{n_} {p.shape}" for n_, p in zip(letters, points))
    extra = f", params {params}" if params else ""
    return f"(inputs {shapes}{extra}; {out_name}̄ = out_grad random, shape {out.shape})"


def _raised(
    op: str,
    error: BaseException,
    letters: list[str],
    out: Any,
    out_grad: Any,
    out_name: str,
    points: list[Any],
    params: dict[str, Any],
) -> VJPMismatch:
    """The mismatch of a rule that raised: no input's gradient is blamed, none was given."""
    kind = type(error).__name__
    case = _case(letters, points, params, out, out_name)
    message = (
        f"check_vjp({op}): the rule raised {kind} for these inputs, so it gave no gradient to check:\n"
        f"  {kind}: {error}\n  {case}"
    )
    return VJPMismatch(
        message, op=op, input=None, error=error, inputs=points, out_grad=out_grad, params=params
    )


def _mismatch(
    op: str,
    k: int,
    letters: list[str],
    index: tuple[int, ...],
    expected: Any,
    rule_grad: Any,
    leaves: list[Any],
    out: Any,
    out_grad: Any,
    out_name: str,
    points: list[Any],
    params: dict[str, Any],
) -> VJPMismatch:
    from .notation.names import format_number

    def number(x: float) -> str:
        s = format_number(x, 4)
        return s.replace("-", "−")

    name = letters[k]
    leaf = leaves[k][index]
    entry = entry_name(name, index, leaves[k].shape, bar=True)
    terms, values = _partial_adjoints(leaf, leaves, letters, out, out_grad, out_name)
    formula_text = _join(terms)
    exp = float(expected[index])
    if not terms:
        what_entry = entry_name(name, index, leaves[k].shape)
        total = (
            f"0 (no partial adjoint reaches {what_entry}: no output entry depends on it through a Value, "
            "or only through derivatives that are 0 there, as relu′(a) for a ≤ 0)"
        )
    elif len(values) > 1:
        shown = " + ".join(number(v) if i == 0 or v >= 0 else f"({number(v)})" for i, v in enumerate(values))
        total = f"{formula_text} = {shown} = {number(exp)}"
    else:
        total = f"{formula_text} = {number(exp)}"
    head = f"check_vjp({op}): the rule's gradient for {name} (input {k + 1}) is wrong at {entry}"
    head += f" (index {index})"
    given_value: float | None = None
    if rule_grad.shape != expected.shape:
        said = f"the rule gave an array of shape {rule_grad.shape}, not {name}'s shape {expected.shape}"
    else:
        given_value = float(rule_grad[index])
        said = f"the rule gave {number(given_value)}"
    message = (
        f"{head}:\n  {entry} should be {total},\n  {said}.\n  {_case(letters, points, params, out, out_name)}"
    )
    return VJPMismatch(
        message,
        op=op,
        input=k,
        input_name=name,
        index=index,
        entry=entry,
        expected=exp,
        given=given_value,
        given_shape=tuple(rule_grad.shape),
        terms=terms,
        term_values=values,
        formula=formula_text,
        inputs=points,
        out_grad=out_grad,
        params=params,
    )


_LONE_STAR = re.compile(r"(?<!\*)\*(?!\*)")


def _short(x: float) -> str:
    """A number inside a printed partial adjoint: 4 significant decimals, ASCII minus."""
    from .notation.names import format_number

    return format_number(x, 4)


def _join(terms: list[str]) -> str:
    """Terms summed as printed: ``a + b``, a term with a leading minus as ``a − b``."""
    if not terms:
        return "0"
    out = terms[0]
    for t in terms[1:]:
        out += f" − {t[1:]}" if t.startswith("−") else f" + {t}"
    return out


def _partial_adjoints(
    leaf: Value, leaves: list[Any], letters: list[str], out: Any, out_grad: Any, out_name: str
) -> tuple[list[str], list[float]]:
    """The partial adjoints reaching ``leaf``, as formulas in the output adjoints and the inputs.

    Reverse mode by extending the graph, seeded with named leaves Z̄ᵢⱼ (holding out_grad's
    numbers), restricted to ``leaf``: each partial adjoint into ``leaf`` is a small graph
    whose formula names the output entries and the factors.
    """
    np = _np()
    names: dict[Value, str] = {}
    for arr, letter in zip(leaves, letters):
        for index, v in np.ndenumerate(arr):
            names[v] = entry_name(letter, index, arr.shape)
    outs: list[Value] = []
    seeds: list[Value] = []
    for index, v in np.ndenumerate(out):
        if isinstance(v, Value):
            s = Value(float(out_grad[index]))
            names[s] = entry_name(out_name, index, out.shape, bar=True)
            outs.append(v)
            seeds.append(s)
    if not outs:
        return [], []
    node_to_grad: dict[Value, list[Partial]] = {}
    adjoints(outs, seeds, create_graph=True, wrt=[leaf], node_to_grad=node_to_grad)
    terms, values = [], []
    for partial in reversed(node_to_grad.get(leaf, [])):  # the first output's term first
        c = partial.value
        if isinstance(c, Value):
            try:
                text = formula(c, names, number=_short, minus="−", max_length=600)
            except ValueError:
                text = "(a long formula)"
            terms.append(_LONE_STAR.sub("·", text))
            values.append(c.data)
        else:
            terms.append(str(c))
            values.append(float(c))
    return terms, values


# --------------------------------------------------------------------------- #
# the notes' two examples as traces                                            #
# --------------------------------------------------------------------------- #


@dataclass
class TensorTrace:
    """:func:`tensor_trace`'s result: ``str()`` prints it; the parts are fields."""

    X: Any
    W: Any
    Z: Any
    v: Value
    trace: Any
    """scalargrad.trace(v): the forward (and adjoint) tables in scalar form."""
    Z_bar: Any
    X_bar: Any
    """grad(v, X): scalar reverse mode."""
    W_bar: Any
    X_lines: list[str] = field(default_factory=list)
    W_lines: list[str] = field(default_factory=list)
    matrix_lines: list[str] = field(default_factory=list)
    f_text: str = ""

    def __str__(self) -> str:
        t = self.trace
        out = [
            f"Z = XW, v = f(Z) = {self.f_text}   (X {_dims(self.X)}, W {_dims(self.W)})",
            "",
            "Forward evaluation trace, scalar form (Zᵢⱼ = Σₖ XᵢₖWₖⱼ):",
            *("  " + line for line in t.lines(t.forward)),
            "",
            "Adjoints of Z (Z̄ᵢⱼ = ∂v/∂Zᵢⱼ):",
            "  "
            + "   ".join(
                f"{entry_name('Z', i, self.Z.shape, bar=True)} = {_num(float(g))}"
                for i, g in _enumerate(self.Z_bar)
            ),
            "",
            "Reverse evaluation, scalar form: X̄ᵢₖ = Σⱼ Wₖⱼ Z̄ᵢⱼ",
            *("  " + line for line in self.X_lines),
            "and W̄ₖⱼ = Σᵢ Xᵢₖ Z̄ᵢⱼ",
            *("  " + line for line in self.W_lines),
            "",
            "Matrix form (NumPy, on the float values):",
            *("  " + line for line in self.matrix_lines),
        ]
        return "\n".join(out)


def _dims(a: Any) -> str:
    return "×".join(str(n) for n in a.shape)


def _num(x: float) -> str:
    from .notation.names import format_number

    return format_number(x, 4).replace("-", "−")


def _factor(x: float) -> str:
    s = _num(x)
    return f"({s})" if s.startswith("−") else s


def _enumerate(a: Any) -> Iterable[tuple[tuple[int, ...], Any]]:
    np = _np()
    return list(np.ndenumerate(a))


def _matrix(a: Any) -> str:
    rows = a.tolist() if a.ndim == 2 else [a.tolist()]
    return "[" + "; ".join(" ".join(_num(float(x)) for x in row) for row in rows) + "]"


def tensor_trace(
    X: Any = ((1.0, 2.0), (3.0, 4.0)),
    W: Any = ((1.0, 0.0, -1.0), (0.5, 1.0, 2.0)),
    f: Callable[[Any], Value] | None = None,
    f_text: str | None = None,
) -> TensorTrace:
    """The notes' tensor example: Z = XW, v = f(Z), in scalar and in matrix form.

    ``X`` (m×n) and ``W`` (n×p) are numbers; ``f`` maps the object array Z to one Value
    (default ``½ Σᵢⱼ Zᵢⱼ²``, so Z̄ = Z). The result prints the forward trace in scalar form
    (:func:`scalargrad.trace` of v), Z̄, one line X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ per entry of X with its
    numbers (and W̄ₖⱼ = Σᵢ XᵢₖZ̄ᵢⱼ), and the matrix forms X̄ = Z̄Wᵀ, W̄ = XᵀZ̄ computed by
    NumPy and compared with scalar reverse mode (``grad(v, X)``).

    >>> t = tensor_trace()
    >>> t.X_lines[0]
    'X̄₁₁ = W₁₁·Z̄₁₁ + W₁₂·Z̄₁₂ + W₁₃·Z̄₁₃ = 1·2 + 0·2 + (−1)·3 = −1'
    """
    np = _np()
    from .tables import trace

    Xa, Wa = array(X, "X"), array(W, "W")
    if Xa.ndim != 2 or Wa.ndim != 2 or Xa.shape[1] != Wa.shape[0]:
        raise ValueError(f"tensor_trace: X and W must be matrices m×n and n×p, got {Xa.shape} and {Wa.shape}")
    Z = Xa @ Wa
    if f is None:
        v = 0.5 * _sum_squares(Z)
        text = f_text or "½ Σᵢⱼ Zᵢⱼ²"
    else:
        v = f(Z)
        text = str(f_text or getattr(f, "__name__", "f(Z)"))
    Z_bar = grad(v, Z)
    X_bar, W_bar = grad(v, [Xa, Wa])
    x, w = data(Xa), data(Wa)
    m, n = x.shape
    p = w.shape[1]

    def line(head: str, terms: list[tuple[str, float, tuple[int, int]]], total: float) -> str:
        """``head = Σ factor·Z̄ᵢⱼ`` with its numbers: one (factor's name, its value, Z's index) a term."""
        names = " + ".join(f"{name}·{entry_name('Z', ij, Z.shape, True)}" for name, _, ij in terms)
        numbers = " + ".join(f"{_factor(value)}·{_factor(Z_bar[ij])}" for _, value, ij in terms)
        return f"{head} = {names} = {numbers} = {_num(total)}"

    X_lines = [  # X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ
        line(
            entry_name("X", (i, k), x.shape, True),
            [(entry_name("W", (k, j), w.shape), w[k, j], (i, j)) for j in range(p)],
            X_bar[i, k],
        )
        for i in range(m)
        for k in range(n)
    ]
    W_lines = [  # W̄ₖⱼ = Σᵢ XᵢₖZ̄ᵢⱼ
        line(
            entry_name("W", (k, j), w.shape, True),
            [(entry_name("X", (i, k), x.shape), x[i, k], (i, j)) for i in range(m)],
            W_bar[k, j],
        )
        for k in range(n)
        for j in range(p)
    ]
    X_matrix, W_matrix = Z_bar @ w.T, x.T @ Z_bar
    matrix_lines = [
        f"Z̄ = {_matrix(Z_bar)}",
        f"X̄ = Z̄Wᵀ = {_matrix(X_matrix)}   equals grad(v, X): {bool(np.allclose(X_matrix, X_bar))}",
        f"W̄ = XᵀZ̄ = {_matrix(W_matrix)}   equals grad(v, W): {bool(np.allclose(W_matrix, W_bar))}",
    ]
    return TensorTrace(Xa, Wa, Z, v, trace(v), Z_bar, X_bar, W_bar, X_lines, W_lines, matrix_lines, text)


def _sum_squares(Z: Any) -> Value:
    total: Any = None
    for z in Z.ravel().tolist():
        total = z * z if total is None else total + z * z
    return total  # type: ignore[no-any-return]


def structure_trace(cat: float = 1.5, dog: float = -0.5) -> str:
    """The notes' data-structure example: d = {"cat": a₀, "dog": a₁}, b = d["cat"], v = f(b).

    With f(b) = b², the adjoint of the dict is a dict shaped like it, d̄ = {"cat": b̄, "dog": 0},
    which is what ``grad(v, d)`` returns.

    >>> print(structure_trace().splitlines()[-1])
    grad(v, d) = {'cat': 3.0, 'dog': 0.0}
    """
    a0, a1 = Value(cat, label="a0"), Value(dog, label="a1")
    d = {"cat": a0, "dog": a1}
    b = d["cat"]
    v = b * b
    g = grad(v, d)
    b_bar = grad(v, b)
    lines = [
        "Forward evaluation trace:",
        f'  d = {{"cat": a₀, "dog": a₁}} = {{"cat": {_num(cat)}, "dog": {_num(dog)}}}',
        f'  b = d["cat"] = {_num(b.data)}',
        f"  v = f(b) = b·b = {_num(v.data)}",
        "Reverse evaluation (adjoints in the data type of the values):",
        "  v̄ = 1",
        f"  b̄ = ∂v/∂b·v̄ = 2b·v̄ = 2·{_factor(b.data)}·1 = {_num(b_bar)}",
        f'  d̄ = {{"cat": b̄, "dog": 0}} = {{"cat": {_num(g["cat"])}, "dog": {_num(g["dog"])}}}',
        f"grad(v, d) = {g}",
    ]
    return "\n".join(lines)
