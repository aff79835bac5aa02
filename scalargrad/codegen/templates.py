"""Templates: each op's value and derivative expressions, renamed once with :mod:`ast`, filled per node."""

from __future__ import annotations

import ast
import io
import math
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

from ..core import Op
from ..core.op import CHECKED as CHECKED
from ..core.op import FLOAT_NAMESPACE
from .errors import CompileError
from .forms import VARIADIC_VALUES

_SLOTS = ("a", "b", "out")
_PLACEHOLDERS = ("__slot_a__", "__slot_b__", "__slot_out__")
_ATOMS = (ast.Name, ast.Constant, ast.Call, ast.Subscript, ast.Attribute)


VALUE = -1
"""The template index of an op's forward value (derivative templates are 0 and 1)."""


@dataclass(frozen=True)
class _Template:
    """One op expression with its operand names renamed to numbered slots.

    ``text`` is a format string (``"{0} * {1}"``) made by parsing the expression with
    :mod:`ast`, renaming ``a``, ``b``, ``out`` to placeholder names, unparsing it and
    replacing each placeholder *token* by its slot number; filling a slot with a name
    or a parenthesised number gives exactly the code that renaming the AST node and
    unparsing would. ``slots`` are the slots used, ``names`` the other names it reads
    (bound in the namespace), ``atomic`` whether it needs no parentheses as a factor.
    """

    text: str
    slots: frozenset[int]
    names: frozenset[str]
    atomic: bool

    def fill(self, args: Sequence[str]) -> str:
        return self.text.format(*args)


@dataclass(frozen=True)
class _Halves(_Template):
    """A variadic op's value: ``text``, its function, called on the two halves of its operands.

    Filled with a dot node's x1, x2, y1, y2 (and out) it is ``sum_of_products([x1, x2], [y1, y2])``.
    """

    def fill(self, args: Sequence[str]) -> str:
        operands = args[:-1]
        n = len(operands) // 2
        return f"{self.text}([{', '.join(operands[:n])}], [{', '.join(operands[n:])}])"


def boolean_helpers() -> frozenset[str]:
    """The helpers of the derivative templates that return a truth value: their float
    function (an op entry's ``helpers=``) is annotated ``-> bool``. Their array forms
    return arrays of truth values, so a condition keeps them as they are."""
    return frozenset(
        name
        for name, fn in FLOAT_NAMESPACE.items()
        if callable(fn) and getattr(fn, "__annotations__", {}).get("return") in ("bool", bool)
    )


class _ArrayForm(ast.NodeTransformer):
    """Rewrites a float expression for arrays: ``x if c else y`` becomes ``where(c, x, y)``."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        test = self.condition(node.test)
        return ast.Call(
            ast.Name("where", ast.Load()), [test, self.visit(node.body), self.visit(node.orelse)], []
        )

    def condition(self, node: ast.expr) -> ast.expr:
        """A truth value per element: comparisons stay, ``a or b`` is ``logical_or``, a number is ``!= 0``."""
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            pairs: list[ast.expr] = [
                ast.Compare(self.visit(left), [op], [self.visit(right)])
                for left, op, right in zip(parts, node.ops, parts[1:])
            ]
            return self.combine("logical_and", pairs)
        if isinstance(node, ast.BoolOp):
            name = "logical_and" if isinstance(node.op, ast.And) else "logical_or"
            return self.combine(name, [self.condition(v) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ast.Call(ast.Name("logical_not", ast.Load()), [self.condition(node.operand)], [])
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Name) and func.id in boolean_helpers():
            return self.visit(node)  # type: ignore[no-any-return]
        return ast.Compare(self.visit(node), [ast.NotEq()], [ast.Constant(0.0)])

    @staticmethod
    def combine(name: str, parts: list[ast.expr]) -> ast.expr:
        result = parts[0]
        for p in parts[1:]:
            result = ast.Call(ast.Name(name, ast.Load()), [result, p], [])
        return result

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        raise CompileError(f"no array form for a boolean expression outside a condition: {ast.unparse(node)}")


def _template_from(expression: str, array: bool) -> _Template:
    """Parse ``expression``, rename its operands to slots with ast, unparse, and split at the slots."""
    tree: ast.AST = ast.parse(expression, mode="eval")
    if array:
        tree = ast.fix_missing_locations(_ArrayForm().visit(tree))
    renamed = 0
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in _SLOTS:
                node.id = _PLACEHOLDERS[_SLOTS.index(node.id)]
                renamed += 1
            else:
                if node.id.startswith(CHECKED):
                    node.id = node.id.removeprefix(CHECKED)  # reads as the notes do: log(v1)
                names.add(node.id)
    text = ast.unparse(tree)
    pieces: list[str] = []
    slots: list[int] = []
    last = 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string in _PLACEHOLDERS:
            start, end = tok.start[1], tok.end[1]
            pieces.append(text[last:start].replace("{", "{{").replace("}", "}}"))
            slot = _PLACEHOLDERS.index(tok.string)
            pieces.append(f"{{{slot}}}")
            slots.append(slot)
            last = end
    pieces.append(text[last:].replace("{", "{{").replace("}", "}}"))
    if len(slots) != renamed or "\n" in text:  # every renamed name is one placeholder token
        raise CompileError(f"cannot make a template of {expression!r}")
    body = tree.body if isinstance(tree, ast.Expression) else tree
    return _Template("".join(pieces), frozenset(slots), frozenset(names), isinstance(body, _ATOMS))


# CHECKED (from the core): the float code calls a checked function by its plain name (``log(v1)``,
# as the notes write it), bound to the checked function; a derivative template's ``cos`` is then
# the checked one too, which gives the same numbers inside the domain the forward pass has checked.


def user_defined(op: Op) -> bool:
    """True for an op made by :func:`~scalargrad.define_op`: its code calls its own functions."""
    return op.source is None and op.arity is not None


def _user_expression(op: Op, index: int) -> str:
    """The expression standing for a user-defined op, which has no source: calls of its own functions."""
    operands = ("a", "b")[: op.arity]
    if index == VALUE:
        return f"user_{op.name}_value({', '.join(operands)})"
    return f"user_{op.name}_rule({', '.join((*operands, 'out'))})[{index}]"


_TEMPLATES: dict[tuple[str, int, bool], _Template] = {}


def template(op: Op, index: int, array: bool) -> _Template:
    """The template of ``op``'s value (``index`` :data:`VALUE`) or of its ``index``-th derivative."""
    key = (op.name, index, array)
    t = _TEMPLATES.get(key)
    if t is None and op.arity is None:
        function = VARIADIC_VALUES.get(op.notation)
        if function is None or index != VALUE:
            raise CompileError(f"compile has no code form of the variadic op {op.name!r}")
        t = _TEMPLATES[key] = _Halves(function, frozenset(), frozenset({function}), True)
    if t is None:
        if op.source is None:
            expression = _user_expression(op, index)
        else:
            value, derivatives = op.source
            expression = value if index == VALUE else derivatives[index]
        t = _TEMPLATES[key] = _template_from(expression, array)
    return t


def operand_derivatives(op: Op, count: int) -> tuple[int, ...]:
    """Which operand each local derivative of a variadic op is, read from the op's own rule.

    ``dot``'s rule gives d/dxk = yk and d/dyk = xk, the operands themselves; given
    ``count`` markers it returns them permuted, which is all the code needs. A rule
    that computes something else has no code form here (a :class:`CompileError`).
    """
    key = (op.name, count)
    found = _DERIVATIVES.get(key)
    if found is None:
        markers = [object() for _ in range(count)]
        place = {id(m): k for k, m in enumerate(markers)}
        try:
            local = tuple(op.rule(*markers, object()))
        except Exception:  # any failure means: not a permutation of the operands
            local = ()
        found = tuple(place.get(id(d), -1) for d in local)
        if len(found) != count or -1 in found:
            raise CompileError(
                f"compile writes a variadic op's derivatives only when they are its operands; "
                f"{op.name!r}'s are not"
            )
        _DERIVATIVES[key] = found
    return found


_DERIVATIVES: dict[tuple[str, int], tuple[int, ...]] = {}


def literal(x: float) -> str:
    """``x`` as Python source that evaluates to exactly ``x``: ``2.5``, ``(-2.0)``, ``inf``, ``nan``.

    Negative numbers are parenthesised so that they can fill any operand of a
    template (``(-2.0) ** v1``); ``inf`` and ``nan`` are names of the namespace.
    """
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "(-inf)"
    text = repr(float(x))
    return f"({text})" if math.copysign(1.0, x) < 0 else text
