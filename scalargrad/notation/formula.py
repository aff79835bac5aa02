"""Formulas: a Value's expression as text or LaTeX, with minimal parentheses, as the notes write it.

Every printed number is exact and the text parses back to the same numbers
(:mod:`scalargrad.expr`). A dot node prints as the sum of products it is (``x1*y1 + x2*y2``),
which reads back as that function of binary ``*`` and ``+``: the same up to the rounding of
the sum, which the node does exactly. Importing this module makes it how Values print (``str(v)``,
``v.formula()``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ..core.op import ATOM, OPS, Op
from ..core.value import Fan, Value

_NAMED_NUMBERS = {math.pi: ("pi", r"\pi"), math.e: ("e", "e")}
"""The doubles nearest π and e, printed by name (text, LaTeX), as the expression parser reads them."""


def _format_number(x: float, latex: bool = False) -> str:
    """Integers without ``.0``, π and e by name, other numbers as ``repr`` (exact, re-readable)."""
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x)) if x or math.copysign(1.0, x) > 0 else "-0.0"
    named = _NAMED_NUMBERS.get(abs(x))
    if named is not None:
        return ("-" if x < 0 else "") + named[latex]
    return repr(x)


def formula(
    value: Value,
    names: Mapping[Value, str] | None = None,
    *,
    number: Callable[[float], str] | None = None,
    latex: bool = False,
    max_length: int = 10_000,
    minus: str = "-",
) -> str:
    """``value``'s expression in infix notation with minimal parentheses.

    Leaves print as their label (or their number when unlabelled); ``names`` maps
    any node to the text to print for it instead of expanding it (what it was
    computed from is then not visited); ``number`` formats numbers (default:
    integers without ``.0``, the doubles nearest π and e as ``pi`` and ``e``
    (``\\pi`` in LaTeX), others as ``repr``, so the text parses back to the same
    numbers); ``latex=True`` prints each op's LaTeX form; ``minus`` is the sign
    printed for subtraction and negation (the trace tables use the typographic
    minus ``−``). Shared subgraphs are printed
    out in full each time, so the text can be exponentially longer than the
    graph: beyond ``max_length`` characters a ValueError is raised.
    """
    return formula_parts(value, names, number=number, latex=latex, max_length=max_length, minus=minus)[0]


def formula_parts(
    value: Value,
    names: Mapping[Value, str] | None = None,
    *,
    number: Callable[[float], str] | None = None,
    latex: bool = False,
    max_length: int = 10_000,
    minus: str = "-",
) -> tuple[str, int]:
    """:func:`formula`'s text and its precedence, for embedding it in a larger expression.

    The precedence is that of the outermost op (``ATOM`` for leaves and calls);
    text with a lower precedence than its surroundings needs parentheses.
    """
    names = names or {}
    printer = _Printer(names, number or (lambda x: _format_number(x, latex)), latex, minus)
    text: dict[Value, tuple[str, int]] = {}
    for v in _printing_order(value, names):
        text[v] = printer.node(v, text)
        if len(text[v][0]) > max_length:
            raise ValueError(f"formula longer than max_length={max_length} characters")
    return text[value]


def _printing_order(value: Value, names: Mapping[Value, str]) -> list[Value]:
    """The nodes a formula prints, parents first: a named node is printed as its name,
    so what it was computed from is not visited (one-level formulas cost one node)."""
    order: list[Value] = []
    seen = {value}
    stack = [value]
    while stack:
        v = stack[-1]
        if v not in names:
            pushed = False
            form = v._op
            for p in form.parents if type(form) is Fan else (v._a, v._b):
                if p is not None and p not in seen:
                    seen.add(p)
                    stack.append(p)
                    pushed = True
                    break
            if pushed:
                continue
        order.append(stack.pop())
    return order


class _Printer:
    """Prints one node at a time, given the printed text of its parents."""

    def __init__(
        self, names: Mapping[Value, str], number: Callable[[float], str], latex: bool, minus: str
    ) -> None:
        self.names = names
        self.number = number
        self.latex = latex
        self.minus = minus
        self.signs = ("-", minus)

    def negative(self, text: str) -> bool:
        return text.startswith(self.signs)

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex else f"({s})"

    def constant(self, x: float) -> tuple[str, int]:
        s = self.number(x)
        return s, (OPS["neg"].precedence if self.negative(s) else ATOM)

    def node(self, v: Value, text: dict[Value, tuple[str, int]]) -> tuple[str, int]:
        name = self.names.get(v)
        if name is not None:
            return name, (OPS["neg"].precedence if self.negative(name) else ATOM)
        op = v.op
        if op is None:
            if v.label is not None and v._op is None:
                return v.label, ATOM
            return self.constant(v.data)
        parts = [text[x] if isinstance(x, Value) else self.constant(x) for x in v.operands]
        if op.notation == "call":
            args = [s for s, _ in parts]
            return (op.latex.format(*args) if self.latex else f"{op.symbol}({', '.join(args)})"), ATOM
        if op.notation == "prefix":
            s, p = parts[0]
            sign = self.minus if not self.latex else "-"
            return (
                f"{sign}{self.paren(s)}" if p < op.precedence or self.negative(s) else f"{sign}{s}"
            ), op.precedence
        if op.notation == "dot":
            return self.sum_of_products(op, parts)
        (ls, lp), (rs, rp) = parts
        prec = op.precedence
        name = op.name
        if self.latex and name == "div":
            return op.latex.format(ls, rs), ATOM
        if lp < prec or (name == "pow" and lp == prec):
            ls = self.paren(ls)
        if self.latex and name == "pow":
            return op.latex.format(ls, rs), prec
        # a right operand of equal precedence keeps its parentheses even for + and *:
        # floating-point sums and products are not associative, and the text must parse
        # back to the same number (a + (b - c) is not a + b - c at b = c = 1e16)
        if rp < prec or self.negative(rs) or (rp == prec and name != "pow"):
            rs = self.paren(rs)
        if self.latex:
            return op.latex.format(ls, rs), prec
        symbol = self.minus if name == "sub" else op.symbol
        return (f"{ls} {symbol} {rs}" if prec == 1 else f"{ls}{symbol}{rs}"), prec

    def sum_of_products(self, op: Op, parts: list[tuple[str, int]]) -> tuple[str, int]:
        """A dot node over printed operands x₁…xₙ, y₁…yₙ as the sum of products it is,
        ``x1*y1 + x2*y2``: each pair with ``op``'s symbol (LaTeX: its template) as ``mul``
        prints a product, the pairs joined as ``add`` prints a sum (``op.precedence``),
        so it reads as the same function built from binary ``*`` and ``+``."""
        n = len(parts) // 2
        if n == 0:
            return self.constant(0.0)
        times, plus = OPS["mul"].precedence, OPS["add"]
        products = [self.join(times, op.symbol, op.latex, x, y) for x, y in zip(parts[:n], parts[n:])]
        total = products[0]
        for product in products[1:]:
            total = self.join(op.precedence, plus.symbol, plus.latex, total, product)
        return total

    def join(
        self, prec: int, symbol: str, template: str, left: tuple[str, int], right: tuple[str, int]
    ) -> tuple[str, int]:
        """``left symbol right`` with the parentheses ``mul`` and ``add`` print: the left
        operand's below ``prec``, the right one's up to ``prec`` and a negative one's."""
        (ls, lp), (rs, rp) = left, right
        if lp < prec:
            ls = self.paren(ls)
        if rp <= prec or self.negative(rs):
            rs = self.paren(rs)
        if self.latex:
            return template.format(ls, rs), prec
        return (f"{ls} {symbol} {rs}" if prec == 1 else f"{ls}{symbol}{rs}"), prec


Value._printer = formula
