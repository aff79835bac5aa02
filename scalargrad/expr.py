"""A safe parser for arithmetic expressions such as ``ln(x1) + x1*x2 - sin(x2)``.

The text is parsed with :mod:`ast` and checked against a whitelist — numbers,
variable names, ``+ - * / **``, unary ``-``/``+``, parentheses and calls of the
built-in ops (:data:`FUNCTIONS`: ``ln log exp sin … atan2(y, x) maximum(a, b)``),
``dot((x1, x2), (y1, y2))`` (:data:`SEQUENCE_FUNCTIONS`: two tuples or lists of equal
length, one node for x1*y1 + x2*y2) and the constants ``pi`` and ``e``
(:data:`CONSTANTS`) — and then evaluated by walking the checked tree. Nothing is ever
passed to ``eval``.

It reads what the traces print (:func:`normalise`): the minus sign ``−`` is ``-``, the
products ``·``, ``⋅`` and ``×`` are ``*`` (two in a row, ``x××y``, are an error, not the
power ``**``), and subscript digits in a name are its digits,
so ``x₁`` is the variable ``x1`` (its Value is labelled ``x1`` and prints as ``x₁``).
Names are NFKC-normalised, as Python normalises identifiers, and so are the names given
values: ``{"x₁": 2}`` is a value for ``x1``. :func:`constant` evaluates a number written
as an expression without variables (``pi``, ``-pi/2``, ``2e−3``).

Identical subexpressions become one node when the graph is built
(``(exp(x1) + 1)*exp(x1)`` has one ``exp`` node, used twice), unless ``share=False``.
Limits on the text's length, the tree's size and the size of
constant exponents keep every accepted expression fast to evaluate.

Every problem is reported as an :class:`ExpressionError` with a one-line message.

>>> e = parse("ln(x1) + x1*x2 - sin(x2)")
>>> e.names
('x1', 'x2')
>>> round(e.evaluate({"x1": 2, "x2": 5}), 3)
11.652
>>> y, inputs = e.build({"x1": 2, "x2": 5})
>>> inputs["x1"], str(y)
(Value(data=2.0, grad=0.0, label='x1'), 'ln(x1) + x1*x2 - sin(x2)')
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import ops
from .core import OPS, Op, Value, real_float

T = TypeVar("T")

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "SEQUENCE_FUNCTIONS",
    "Expression",
    "ExpressionError",
    "constant",
    "normalise",
    "parse",
]

MAX_LENGTH = 2000
"""Longest expression text accepted, in characters."""
MAX_NODES = 1000
"""Most syntax-tree nodes (numbers, names, operators, calls) in an expression."""
MAX_EXPONENT = 1000.0
"""Largest magnitude of a constant exponent in ``a ** n``."""

FUNCTIONS: dict[str, Callable[..., Any]] = {"ln": ops.log, **ops.FUNCTIONS}
"""The functions an expression may call, from the op registry (``log`` is the natural log, like ``ln``)."""

SEQUENCE_FUNCTIONS: dict[str, Op] = {op.name: op for op in OPS.values() if op.builtin and op.arity is None}
"""The functions of two equal-length sequences, ``dot((x1, x2), (y1, y2))``: the built-in
variadic ops, each one node for all its operands (x1…xn, then y1…yn)."""

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Names that stand for numbers, not variables: ``pi`` (π) and ``e`` (Euler's number)."""

_BINARY: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}

_FORBIDDEN = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment expressions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "strings",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}

_OP_NAMES: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^ (use ** for powers)",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; the message is one line."""


class Expression:
    """A checked expression parsed from text, ready to evaluate (make one with :func:`parse`).

    Not to be confused with :class:`scalargrad.testing.GeneratedExpression`, hypothesis's
    random programs of ops (called ``Expression`` before).
    """

    def __init__(self, text: str, tree: ast.expr, names: tuple[str, ...]) -> None:
        self.text = text
        self._tree = tree
        self.names = names
        """The variable names, in order of first appearance."""

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def build(self, values: Mapping[str, float], *, share: bool = True) -> tuple[Value, dict[str, Value]]:
        """The expression's graph: its output Value and one labelled input Value per name.

        ``values`` gives each name's number; raises :class:`ExpressionError` as
        :meth:`evaluate` does, and when the expression has no names at all.
        With ``share`` (the default) identical subexpressions are one node
        (see :meth:`evaluate`).
        """
        if not self.names:
            raise ExpressionError("the expression has no variables to differentiate")
        inputs: dict[str, Value] = {}
        for name, v in _named(values).items():
            inputs[name] = Value(_number_for(name, v), label=name)
        out = self.evaluate(inputs, share=share)  # type: ignore[arg-type]
        if not isinstance(out, Value):  # e.g. 0*x is still a Value; only name-free results are floats
            raise ExpressionError("the expression does not depend on its variables")
        return out, {n: inputs[n] for n in self.names if n in inputs}

    def evaluate(self, values: Mapping[str, Value | float], *, share: bool = True) -> Value | float:
        """The expression's value with ``values`` for its names.

        Pass Values to build a graph (the result is a Value whenever the
        expression has a name); numbers are used as constants. Names are
        NFKC-normalised as the expression's are (``x₁`` is ``x1``). Names missing from
        ``values`` or present there but not in the expression (the constants
        ``pi`` and ``e`` included), values that are not real numbers, and math
        errors (``ln(0)``, ``1/0``, overflow) raise :class:`ExpressionError`.

        With ``share`` (the default), identical subexpressions — the same op or
        function applied to the same nodes and numbers — give the same Value, so
        the graph of ``(exp(x) + 1)*exp(x)`` has one ``exp`` node used twice, as the
        notes draw it. ``share=False`` makes a node for every occurrence.
        Operands are matched as written: ``x*y`` and ``y*x`` stay two nodes.

        >>> from scalargrad import Value
        >>> y = parse("(exp(x) + 1)*exp(x)").evaluate({"x": Value(0.0, label="x")})
        >>> y.parents[0].parents[0] is y.parents[1]
        True
        """
        env: dict[str, Value | float] = {}
        for name, v in _named(values).items():
            if name not in self.names:
                raise ExpressionError(f"'{name}' does not appear in the expression")
            env[name] = v if isinstance(v, Value) else _number_for(name, v)
        missing = [n for n in self.names if n not in env]
        if missing:
            raise ExpressionError("no value for " + ", ".join(f"'{n}'" for n in missing))
        try:
            return _evaluate(self._tree, env, share)
        except ExpressionError:
            raise
        except (ArithmeticError, ValueError) as e:
            raise ExpressionError(f"cannot evaluate {self.text.strip()!r}: {_one_line(e)}") from None


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


def _named(values: Mapping[str, T]) -> dict[str, T]:
    """``values`` keyed by NFKC-normalised names, as Python normalises the expression's
    identifiers (``x₁`` → ``x1``); a name given twice that way, or a constant's name, is refused."""
    named: dict[str, T] = {}
    spelled: dict[str, str] = {}
    for name, v in values.items():
        key = unicodedata.normalize("NFKC", name) if isinstance(name, str) else name
        _check_variable(key)
        if key in named:
            raise ExpressionError(
                f"'{key}' is given more than once: {spelled[key]!r} and {name!r} are one name"
            )
        named[key], spelled[key] = v, name
    return named


def _check_variable(name: object) -> None:
    """Refuse a value for a constant's name (``pi=3``): it is not a variable."""
    if isinstance(name, str) and name in CONSTANTS:
        raise ExpressionError(
            f"'{name}' is the constant {CONSTANTS[name]!r}, not a variable: it cannot be given a value"
        )


def _number_for(name: str, v: object) -> float:
    """A variable's value as a finite float: any real number but a bool, else ExpressionError."""
    number = real_float(v)
    if number is None:
        raise ExpressionError(f"the value of '{name}' must be a real number, got {type(v).__name__}")
    if not math.isfinite(number):
        raise ExpressionError(f"the value of '{name}' must be a finite number, got {v!r:.40}")
    return number


def parse(text: str) -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` if it is not allowed.

    ``text`` may be written as the traces print it (see :func:`normalise`).

    >>> parse("2 ** x").names
    ('x',)
    >>> parse("ln(x₁) + x₁·x₂ − sin(x₂)").names
    ('x1', 'x2')
    >>> parse("x.__class__")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scalargrad.expr.ExpressionError: not allowed: attribute access (only numbers, names, ...)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is too long ({len(text)} characters; the limit is {MAX_LENGTH})"
        )
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if "\n" in text.strip() or "\r" in text:
        raise ExpressionError("the expression must be a single line")
    python = normalise(text.strip())
    try:
        with warnings.catch_warnings():
            # "1if x" or "2or y" warn (a number touching a keyword) before the whitelist
            # refuses them: on the command line the warning would be a second stderr line.
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(python, mode="eval").body
    except SyntaxError as e:
        msg = (
            "invalid syntax" if e.msg == "invalid syntax" else f"syntax error: {_one_line(Exception(e.msg))}"
        )
        where = f" at column {e.offset}" if e.offset else " at the end" if msg == "invalid syntax" else ""
        raise ExpressionError(f"{msg}{where}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:
        raise ExpressionError(f"cannot parse the expression: {_one_line(e)}") from None
    names = _check(tree, python)
    return Expression(text, tree, names)


_SYMBOLS = str.maketrans({"−": "-", "·": "*", "⋅": "*", "×": "*"})
"""The symbols the traces and diagrams print, as Python writes them: the minus sign
U+2212, the middle dot U+00B7, the dot operator U+22C5 and the multiplication sign U+00D7."""
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
_DOUBLED_PRODUCT = re.compile(r"[·⋅×][*·⋅×]|\*[·⋅×]")
"""Two product signs in a row, one of them printed (``××``, ``·×``, ``*·``): mapped one
character at a time they would read as ``**``, a power."""


def normalise(text: str) -> str:
    """``text`` with the notation the traces print written as Python: ``−`` → ``-``, ``·``,
    ``⋅`` and ``×`` → ``*``, and subscript digits in a name → digits (``x₁`` → ``x1``).

    Each character maps to one character, so columns in error messages still point
    into ``text``. A subscript digit that does not end a name (``2₁``, ``₁``) is an
    :class:`ExpressionError`: it could only be a typo. So are two product signs in a row
    when one is printed (``x××y``, ``x·*y``): they are not the power ``**``.

    >>> normalise("v̄₅·cos(v₂) − 2×w₁₀")
    'v̄5*cos(v2) - 2*w10'
    """
    doubled = _DOUBLED_PRODUCT.search(text)
    if doubled:
        raise ExpressionError(
            f"two product signs in a row at column {doubled.start() + 1} ({doubled.group()!r}): "
            "write one, or ** for a power"
        )
    out = list(text.translate(_SYMBOLS))
    in_name: bool | None = None  # in a run of identifier characters: does it start a name?
    for i, c in enumerate(out):
        if c in _SUBSCRIPTS:
            if not in_name:
                raise ExpressionError(
                    f"the subscript digit {c!r} at column {i + 1} is not part of a name (write x₁ or x1)"
                )
            out[i] = _SUBSCRIPTS[c]
        elif ("a" + c).isidentifier():
            if in_name is None:
                in_name = c.isidentifier()  # a letter or _, not a digit (2x, 1e5)
        else:
            in_name = None
    return "".join(out)


def constant(text: str) -> float:
    """The number ``text`` stands for, written as a number or an expression without
    variables (``2``, ``pi``, ``−pi/2``, ``2*e``, ``sqrt(2)``), parsed and checked as
    :func:`parse` does, never ``eval``; an :class:`ExpressionError` if it has variables
    or its value is not finite.

    >>> constant("-pi/2") == -math.pi / 2, constant("1e−3")
    (True, 0.001)
    """
    expression = parse(text)
    if expression.names:
        names = ", ".join(expression.names)
        raise ExpressionError(
            f"a constant may not use variables ({names}); use numbers, pi and e, as in -pi/2"
        )
    value = expression.evaluate({})
    assert not isinstance(value, Value)  # no names, so no Values
    if not math.isfinite(value):
        raise ExpressionError(f"{text.strip()!r} is not a finite number ({value!r})")
    return float(value)


def _not_allowed(what: str) -> ExpressionError:
    return ExpressionError(f"not allowed: {what} (only {_short_allowed()})")


def _short_allowed() -> str:
    return "numbers, names, + - * / **, parentheses and calls like sin(x)"


def _check(tree: ast.expr, source: str) -> tuple[str, ...]:
    """Walk the tree iteratively, enforcing the whitelist and the limits; return the names.

    ``source`` is the parsed text, for the columns errors name."""
    names: dict[str, None] = {}
    count = 0
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"the expression is too large (more than {MAX_NODES} parts)")
        if isinstance(node, ast.Constant):
            _check_number(node.value)
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"'{node.id}' is a function: call it, as in {node.id}(x)")
            if node.id in SEQUENCE_FUNCTIONS:
                raise ExpressionError(f"'{node.id}' is a function: call it, as in {_example(node.id)}")
            if node.id in CONSTANTS:
                continue
            if node.id.startswith("_"):
                raise ExpressionError(f"names starting with '_' are not allowed: '{node.id}'")
            names.setdefault(node.id, None)
        elif isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in _BINARY:
                raise ExpressionError(f"the operator {_OP_NAMES.get(op, op.__name__)} is not supported")
            if op is ast.Pow:
                _check_exponent(node.right)
            stack.append(node.right)
            stack.append(node.left)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ExpressionError(f"the operator {_OP_NAMES.get(type(node.op), '?')} is not supported")
            stack.append(node.operand)
        elif isinstance(node, ast.Call):
            stack.extend(reversed(_check_call(node, source)))
        else:
            what = _FORBIDDEN.get(type(node), f"'{type(node).__name__}'")  # type: ignore[arg-type]
            raise _not_allowed(what)
    return tuple(names)


def _check_number(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "strings" if isinstance(value, (str, bytes)) else f"{type(value).__name__} constants"
        if isinstance(value, complex):
            kind = "complex numbers"
        if value is None or isinstance(value, bool):
            kind = f"'{value}'"
        raise _not_allowed(kind)
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise ExpressionError("a number in the expression is too large") from None
    if not math.isfinite(number):
        raise ExpressionError("a number in the expression is too large")


def _check_exponent(node: ast.expr) -> None:
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        try:
            magnitude = abs(float(node.value))
        except OverflowError:
            magnitude = math.inf
        if magnitude > MAX_EXPONENT:
            shown = f"{'-' if sign < 0 else ''}{node.value}"
            raise ExpressionError(f"the exponent {shown} is too large (the limit is {MAX_EXPONENT:g})")


def _arity(name: str) -> int:
    """How many operands the function ``name`` of :data:`FUNCTIONS` takes (``ln`` takes one)."""
    op = ops.FUNCTIONS.get(name)
    return op.arity if op is not None and op.arity is not None else 1


def _example(name: str) -> str:
    return f"{name}((x1, x2), (y1, y2))"


def _column(node: ast.expr, source: str) -> int:
    """The 1-based character column of ``node`` in the one-line ``source`` (ast counts UTF-8 bytes)."""
    return len(source.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1


def _sequence_items(node: ast.Call, source: str) -> list[ast.expr]:
    """The operands of a call of a :data:`SEQUENCE_FUNCTIONS` op, x1…xn then y1…yn, checked:
    two tuples or lists, neither empty, of equal lengths."""
    name = node.func.id  # type: ignore[attr-defined]
    call = f"{name}() at column {_column(node, source)}"
    if len(node.args) != 2:
        raise ExpressionError(
            f"{call} takes exactly 2 arguments, two sequences as in {_example(name)}, got {len(node.args)}"
        )
    sequences: list[list[ast.expr]] = []
    for i, arg in enumerate(node.args, 1):
        column = _column(arg, source)
        if not isinstance(arg, (ast.Tuple, ast.List)):
            raise ExpressionError(
                f"{name}() argument {i} at column {column} must be a tuple or list of expressions, "
                f"as in {_example(name)}"
            )
        if not arg.elts:
            raise ExpressionError(
                f"{name}() argument {i} at column {column} is empty: give at least one pair, "
                f"as in {name}((x1,), (y1,))"
            )
        sequences.append(arg.elts)
    xs, ys = sequences
    if len(xs) != len(ys):
        raise ExpressionError(
            f"{call} takes two sequences of equal lengths, got {len(xs)} and {len(ys)} items"
        )
    return [*xs, *ys]


def _check_call(node: ast.Call, source: str) -> list[ast.expr]:
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            raise _not_allowed("attribute access")
        raise ExpressionError("only named functions can be called, as in sin(x)")
    name = node.func.id
    if name not in FUNCTIONS and name not in SEQUENCE_FUNCTIONS:
        known = ", ".join(sorted([*FUNCTIONS, *SEQUENCE_FUNCTIONS]))
        raise ExpressionError(f"unknown function '{name}' (known: {known})")
    if node.keywords:
        raise ExpressionError(f"{name}() takes no keyword arguments")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise _not_allowed("starred arguments")
    if name in SEQUENCE_FUNCTIONS:
        return _sequence_items(node, source)
    arity = _arity(name)
    if len(node.args) != arity:
        wanted = "one argument" if arity == 1 else f"{arity} arguments"
        raise ExpressionError(f"{name}() takes exactly {wanted}, got {len(node.args)}")
    return list(node.args)


def _evaluate(tree: ast.expr, env: Mapping[str, Value | float], share: bool = True) -> Value | float:
    """Evaluate a checked tree bottom-up, without recursion.

    With ``share``, a node whose op and operands (the same Values, equal numbers)
    were seen before reuses that result instead of making a new Value.
    """
    results: dict[ast.AST, Any] = {}
    seen: dict[tuple[object, ...], Value] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[node] = float(node.value)  # type: ignore[arg-type]
        elif isinstance(node, ast.Name):
            results[node] = CONSTANTS[node.id] if node.id in CONSTANTS else env[node.id]
        elif not ready:
            stack.append((node, True))
            for child in _children(node):
                stack.append((child, False))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            results[node] = results[node.operand]
        else:
            results[node] = _apply(node, results, seen if share else None)
    return results[tree]  # type: ignore[no-any-return]


def _apply(
    node: ast.AST, results: Mapping[ast.AST, Any], seen: dict[tuple[object, ...], Value] | None
) -> Any:
    """The value of an operator or call node whose operands are in ``results``.

    ``seen`` (when sharing) maps ``(op, operand keys…)`` to the Value made for
    it; a hit returns that Value. Operands key by identity (Values) or by value
    (numbers, ``repr`` so that ``-0.0`` and ``0.0`` differ).
    """
    if isinstance(node, ast.BinOp):
        op: object = type(node.op)
        operands = [results[node.left], results[node.right]]
    elif isinstance(node, ast.UnaryOp):
        op, operands = ast.USub, [results[node.operand]]
    else:
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        op = _function(node.func.id)  # ln and log are one function, so they share
        operands = [results[a] for a in _arguments(node)]
    key: tuple[object, ...] | None = None
    if seen is not None and any(isinstance(x, Value) for x in operands):
        key = (op, *((id(x), None) if isinstance(x, Value) else (None, repr(x)) for x in operands))
        if key in seen:
            return seen[key]
    if isinstance(node, ast.BinOp):
        out = _binary(type(node.op), *operands)
    elif isinstance(node, ast.UnaryOp):
        out = -operands[0]
    else:
        out = _function(node.func.id)(*operands)  # type: ignore[attr-defined]
    if key is not None and seen is not None and isinstance(out, Value):
        seen[key] = out
    return out


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.right, node.left]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(reversed(_arguments(node)))
    return []


def _function(name: str) -> Callable[..., Any]:
    return SEQUENCE_FUNCTIONS[name] if name in SEQUENCE_FUNCTIONS else FUNCTIONS[name]


def _arguments(node: ast.Call) -> list[ast.expr]:
    """A checked call's operands: its arguments, or for a sequence function the items of both."""
    if node.func.id in SEQUENCE_FUNCTIONS:  # type: ignore[attr-defined]
        return [item for arg in node.args for item in arg.elts]  # type: ignore[attr-defined]
    return node.args


def _binary(op: type[ast.operator], a: Any, b: Any) -> Any:
    if op is ast.Add:
        return a + b
    if op is ast.Sub:
        return a - b
    if op is ast.Mult:
        return a * b
    if op is ast.Div:
        if not isinstance(a, Value) and not isinstance(b, Value) and b == 0.0:
            raise ZeroDivisionError(f"div: division by zero ({a!r} / {b!r})")
        return a / b
    # ** on two plain floats: follow the engine (no complex results, clear errors).
    if not isinstance(a, Value) and not isinstance(b, Value):
        return (Value(a) ** b).data
    return a**b
