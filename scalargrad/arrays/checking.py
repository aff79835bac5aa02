"""Checking a matrix-form gradient rule against exact scalar reverse mode: :func:`check_vjp`."""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..autodiff import adjoints
from ..core import Partial, Value
from ..notation.formula import formula
from ..numeric import Tolerance, close
from .entries import array, check_size, entry_name, numpy_module


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
    np = numpy_module()
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
            check_size(p.size, f"check_vjp({what})")
        leaves = [array(p, name) for p, name in zip(points, letters)]
        enabled = gc.isenabled()
        gc.disable()  # many small objects, no cycles: the collector's passes would cost more
        try:
            out = np.asarray(forward(*leaves, **kwargs), dtype=object)
        finally:
            if enabled:
                gc.enable()
        check_size(out.size, f"check_vjp({what}) (the output)")
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
    from ..notation.names import format_number

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
    from ..notation.names import format_number

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
    np = numpy_module()
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
