"""Defining a new primitive op from Python: :func:`define_op` and the checks that make its
mistakes clear errors where they are made, not wrong numbers later."""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Callable
from typing import Any

from .methods import checked_grads
from .op import CONST, DOMAINS, OPS, Op, OpDefinitionError, Rule, described, register
from .value import Value


def _check_name(name: object) -> str:
    """``name`` if it is a free ASCII identifier, else a clear error.

    Python reads identifiers in NFKC form, so ``ﬁ`` and ``fi`` would be one name in
    compiled code: names are compared in NFKC form, and a name must be ASCII, so
    every name :func:`scalargrad.compile` and the command line write is the name
    you gave.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise OpDefinitionError(f"an op's name must be an identifier not starting with '_', got {name!r}")
    normal = unicodedata.normalize("NFKC", name)
    taken = next((other for other in OPS if unicodedata.normalize("NFKC", other) == normal), None)
    if taken == name:
        raise OpDefinitionError(f"an op named {name!r} is already defined; choose another name")
    if taken is not None:
        raise OpDefinitionError(
            f"an op's name {name!r} reads as {normal!r} once normalised (NFKC, as Python reads names), "
            f"the same as the op {taken!r} already defined; choose another name"
        )
    if not name.isascii():
        reads = f" (Python reads it as {normal!r})" if normal != name else ""
        raise OpDefinitionError(
            f"an op's name must be ASCII (letters a-z, A-Z, digits, '_'), got {name!r}{reads}: compiled "
            "code and the command line write it as a Python name"
        )
    if hasattr(Value, name):
        raise OpDefinitionError(f"{name!r} is already a Value attribute; choose another name")
    if name == CONST.name:
        raise OpDefinitionError(f"{name!r} names the form of constant leaves; choose another name")
    return name


def _check_latex(name: str, arity: int, latex: object) -> str | None:
    """A user op's ``latex=``: None, or a ``str.format`` template over the op's operands."""
    if latex is None:
        return None
    if not isinstance(latex, str):
        raise OpDefinitionError(
            f"{name}: latex must be a str.format template such as r'\\operatorname{{{{{name}}}}}"
            f"\\left({{0}}\\right)' (or None), got {type(latex).__name__}: {latex!r:.60}"
        )
    operands = ["x", "y"][:arity]
    try:
        latex.format(*operands)
    except (IndexError, KeyError, ValueError, AttributeError, TypeError) as e:
        fields = " and ".join(f"{{{i}}}" for i in range(arity))
        raise OpDefinitionError(
            f"{name}: latex={latex!r:.80} is not a template over {fields} "
            f"({type(e).__name__}: {e}); it is a str.format template: write the operand"
            f"{'s' if arity > 1 else ''} as {fields} and double literal braces, as in "
            f"r'\\operatorname{{{{{name}}}}}\\left({{0}}\\right)'"
        ) from None
    return latex


def _call(name: str, args: tuple[Any, ...]) -> str:
    """The point an op ran at, for an error message: ``derivative(5.0, out=25.0)``."""
    shown = [repr(x.data if isinstance(x, Value) else x) for x in args]
    if name == "derivative":
        shown[-1] = f"out={shown[-1]}"
    return f"{name}({', '.join(shown)})"


def _is_number(x: object) -> bool:
    """A real number an op may return: any ``numbers.Real`` but a bool or a Value."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, Value))


def _checked_evaluate(name: str, evaluate: Callable[..., Any]) -> Callable[..., Any]:
    """``evaluate``, refusing a result that is not a real number wherever the op runs."""

    def checked(*xs: float) -> Any:
        out = evaluate(*xs)
        if type(out) is float or _is_number(out):
            return out
        raise OpDefinitionError(
            f"{name}: {_call('evaluate', xs)} returned {described(out)}; it must return a real number"
        )

    checked.__wrapped__ = evaluate  # type: ignore[attr-defined]
    return checked


def _checked_rule(name: str, arity: int, derivative: Callable[..., Any]) -> Rule:
    """``derivative`` as a rule: always a tuple of one number or Value per operand, or an error.

    The check runs wherever the op's rule runs (forward, ``create_graph``, trace
    tables, compiled code), not only where :func:`define_op` first tries it. A
    bare result is fine for one operand.
    """

    def rule(*args: Any) -> tuple[Any, ...]:
        result = derivative(*args)
        if isinstance(result, (tuple, list)):
            grads = tuple(result)
        elif arity == 1:
            grads = (result,)
        else:
            raise OpDefinitionError(
                f"{name}: {_call('derivative', args)} returned {described(result)}; it must return "
                f"{arity} local derivatives (one per operand)"
            )
        if len(grads) != arity:
            raise OpDefinitionError(
                f"{name}: derivative must return {arity} local derivative{'s' if arity > 1 else ''} "
                f"(one per operand), got {len(grads)} at {_call('derivative', args)}: {described(result)}"
            )
        for g in grads:
            if type(g) is not float and not isinstance(g, Value) and not _is_number(g):
                raise OpDefinitionError(
                    f"{name}: {_call('derivative', args)} returned {described(result)}; each local "
                    "derivative must be a real number or a Value"
                )
        return grads

    rule.__wrapped__ = derivative  # type: ignore[attr-defined]
    return rule


def define_op(
    name: str,
    evaluate: Callable[..., float],
    derivative: Callable[..., Any],
    *,
    arity: int = 1,
    domain: str | tuple[str, ...] = "real",
    smooth: bool = True,
    symbol: str | None = None,
    latex: str | None = None,
) -> Op:
    """Add a primitive op: ``name``, its forward value and its derivative rule.

    ``evaluate(*xs)`` computes the value on floats. ``derivative(*xs, out)``
    returns the local derivatives d out / d x, one per operand (a bare number is
    fine for one operand), and must work on floats *and* on Values: write it
    with operators and scalargrad's functions (``scalargrad.exp``, not
    ``math.exp``), so that ``grad(..., create_graph=True)`` can build it as a
    graph and differentiate it again. The op then works everywhere a built-in
    op does: ``backward``, ``grad``, ``jvp``, ``hessian``, formulas, trace
    tables, diagrams, ``gradcheck``, and ``scalargrad.testing.expressions(ops=[...,
    name])``, which keeps it inside ``domain`` (a :data:`DOMAINS` name, or one per
    operand). Check it with :func:`scalargrad.check_op`.

    ``name`` must be an ASCII identifier (compiled code and the command line
    write it as a Python name) and differ from every op's name even in NFKC
    form. ``latex`` is a ``str.format`` template over ``{0}`` (and ``{1}``), the
    operands' LaTeX, so literal braces are doubled:
    ``r"\\operatorname{{f}}\\left({0}\\right)"``; the default is that form.

    >>> import math, scalargrad as sg
    >>> softplus = define_op("smooth_relu", lambda x: math.log1p(math.exp(x)),
    ...                      lambda x, out: sg.sigmoid(x))
    >>> x = Value(0.0, label="x")
    >>> y = softplus(x)
    >>> round(y.data, 4), sg.grad(y, x), str(y)
    (0.6931, 0.5, 'smooth_relu(x)')

    Raises :class:`OpDefinitionError` (a TypeError and a ValueError) for a name
    already taken or not ASCII, a bad ``latex`` template, and a ``derivative``
    that does not return one number per operand where it is first tried; and
    later, wherever the op runs, for an ``evaluate`` that returns no real number
    or a ``derivative`` that returns the wrong count or type there (user ops
    pay one check per call; built-in ops none); and in ``create_graph`` for a
    ``derivative`` that computes on floats when given Values (``math.cos``: its
    numbers change with the operands, so they are not constants), which would
    otherwise make every second derivative through the op silently 0.
    """
    _check_name(name)
    if arity not in (1, 2):
        variadic = (
            " (an op of any number of operands, such as dot, can only be built in)" if arity is None else ""
        )
        raise ValueError(f"arity must be 1 or 2, got {arity!r}{variadic}")
    if not callable(evaluate) or not callable(derivative):
        raise TypeError("evaluate and derivative must be callables")
    domains = (domain,) * arity if isinstance(domain, str) else tuple(domain)
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown or len(domains) != arity:
        raise ValueError(f"domain must be one of {sorted(DOMAINS)} (or one per operand), got {domain!r}")
    op = Op(
        name,
        arity=arity,
        evaluate=_checked_evaluate(name, evaluate),
        rule=_checked_rule(name, arity, derivative),
        symbol=_check_symbol(name, symbol),
        latex=_check_latex(name, arity, latex),
        domains=domains,
        smooth=smooth,
    )
    _check_rule(op)
    register(op)
    return op


def _check_symbol(name: str, symbol: object) -> str | None:
    """A user op's ``symbol``: None (its name) or a non-empty string of visible characters,
    since formulas, tables and diagrams print it as it is."""
    if symbol is None:
        return None
    if not isinstance(symbol, str) or not symbol or not symbol.isprintable() or symbol != symbol.strip():
        raise OpDefinitionError(
            f"{name}: symbol must be a non-empty string of visible characters (no spaces at its "
            f"ends, no control characters), got {symbol!r}"
        )
    return symbol


_PROBES = (0.5, 1.5, 2.5, -0.5, 0.25, 3.5)
"""Where :func:`define_op` first tries a new op (the same number for every operand)."""


def _computes_on_floats(op: Op, point: tuple[float, ...], out: float, grads: Any) -> bool:
    """Whether ``op``'s rule, given Values, returns numbers that are not constant: a rule
    written with ``math.cos`` where ``scalargrad.cos`` was meant. A number for a constant
    derivative (``2.0`` for 2x) is fine; one that differs at another point is not."""
    try:
        on_values = op.rule(*(Value(p) for p in point), Value(out))
    except Exception:
        return False  # create_graph meets the rule's own error, as it would without this check
    numbers = [k for k, g in enumerate(on_values) if not isinstance(g, Value)]
    for probe in _PROBES:
        other = (probe,) * op.arity  # type: ignore[operator]  # define_op makes ops of arity 1 or 2
        if other == point or not numbers:
            continue
        try:
            elsewhere = op.rule(*other, float(op.evaluate(*other)))
        except (ArithmeticError, ValueError):
            continue
        return any(_differ(float(elsewhere[k]), float(grads[k])) for k in numbers)
    return False


def _differ(a: float, b: float) -> bool:
    return a != b and not (math.isnan(a) and math.isnan(b))


def _check_rule(op: Op) -> None:
    """Call a new op's rule once where it is defined: one number per operand, or a clear error.

    The first of :data:`_PROBES` where the value and the rule both compute is used
    (an op defined only for x ≥ 1, or with a pole at 0.5, is fine); an error other
    than a math error (a wrong signature, say) is reported at once. The op's
    checked callables refuse a wrong count or type here as anywhere else.
    """
    failures = []
    for probe in _PROBES:
        point = (probe,) * op.arity  # type: ignore[operator]
        try:
            out = float(op.evaluate(*point))
        except OpDefinitionError:
            raise
        except (ArithmeticError, ValueError) as e:
            failures.append(f"evaluate{point}: {e}")
            continue
        except Exception as e:
            raise OpDefinitionError(f"{op.name}: evaluate{point} failed: {e}") from None
        try:
            grads = op.rule(*point, out)
        except OpDefinitionError:
            raise
        except (ArithmeticError, ValueError) as e:
            failures.append(f"derivative{(*point, out)}: {e}")
            continue
        except Exception as e:
            raise OpDefinitionError(f"{op.name}: derivative{(*point, out)} failed: {e}") from None
        checked_grads(op, grads)
        op.graph_rule = not _computes_on_floats(op, point, out, grads)
        return
    raise ValueError(
        f"{op.name}: could not be evaluated at any of the points {_PROBES} to check its derivative "
        f"({'; '.join(failures[-2:])})"
    )
