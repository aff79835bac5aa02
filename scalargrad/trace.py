"""The notes' evaluation traces: forward, tangent (forward mode) and adjoint (reverse mode) tables.

:func:`trace` numbers a graph's nodes the way the lecture notes do — inputs
``v1…vk`` first, then the intermediates by depth — and writes out each step::

    v3 = ln(v1) = ln(2) = 0.693                         (forward evaluation)
    v̇4 = v2·v̇1 + v1·v̇2 = 5·1 + 2·0 = 5                  (tangents w.r.t. x1)
    v̄2 = v̄5·cos(v2) + v̄4·v1 = -1·cos(5) + 1·2 = -0.284 + 2 = 1.716   (adjoints)

The local derivative formulas (``cos(v2)``, ``v1``, ``1/v1``) come from each op's
single definition: its ``rule`` is evaluated on named leaf Values and printed with
the op's own symbol, notation and precedence. Constants (the ``2`` in ``2*x``) are
shown inline as numbers. A :class:`Trace` prints as plain text and renders as
Markdown, LaTeX and HTML (inline in Jupyter); :meth:`Trace.to_dict` is JSON-able.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .autodiff import adjoints, tangents
from .engine import ATOM, OPS, Partial, Value, evaluation_order, formula_parts

__all__ = ["Row", "Table", "Trace", "format_number", "trace"]

DOT = "\u0307"  # combining dot above: v̇
BAR = "\u0304"  # combining macron: v̄
TIMES = "·"

_ATOM = ATOM
_NEG = OPS["neg"].precedence


# --------------------------------------------------------------------------- #
# numbering and numbers                                                        #
# --------------------------------------------------------------------------- #


def format_number(x: float, digits: int = 3) -> str:
    """``x`` rounded for reading: ``digits`` decimals, but at least ``digits`` significant digits.

    Integers print without a decimal point (``10``), trailing zeros are dropped
    (``0.5``), small numbers keep their significant digits (``0.00091``) and very
    large or very small ones use exponent notation.

    >>> format_number(0.6931471805599453), format_number(10.0), format_number(0.000910221)
    ('0.693', '10', '0.00091')
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    ax = abs(x)
    if ax >= 1e15 or ax < 1e-4:
        return f"{x:.{digits}g}"
    decimals = max(digits, digits - 1 - math.floor(math.log10(ax)))
    s = f"{x:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# --------------------------------------------------------------------------- #
# printing rule results (small graphs over named leaves) as text or LaTeX      #
# --------------------------------------------------------------------------- #

_LATEX_CALLS = {
    "log": r"\ln",
    "exp": r"\exp",
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "tanh": r"\tanh",
    "sigmoid": r"\sigma",
}


def _latex_number(s: str) -> str:
    if s in ("inf", "-inf"):
        return s.replace("inf", r"\infty")
    if s == "nan":
        return r"\mathrm{NaN}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s


def _latex_name(name: str) -> str:
    """``v3`` → ``v_{3}``, ``x1`` → ``x_{1}``, ``v̄3`` → ``\\bar v_{3}``, others as text."""
    accent = ""
    if len(name) > 1 and name[1] in (DOT, BAR):
        accent = r"\dot " if name[1] == DOT else r"\bar "
        name = name[0] + name[2:]
    m = re.fullmatch(r"([A-Za-z])_?(\d+)(?:→(\d+))?", name)
    if m:
        sub = m.group(2) if m.group(3) is None else rf"{m.group(2)} \to {m.group(3)}"
        return rf"{accent}{m.group(1)}_{{{sub}}}"
    if re.fullmatch(r"[A-Za-z]", name):
        return accent + name
    return rf"{accent}\mathrm{{{_latex_escape(name)}}}"


def _latex_escape(text: str) -> str:
    """``text`` safe inside ``\\mathrm{}``/``\\text{}`` (and inside Markdown table cells)."""
    text = re.sub(r"([{}_^#$%&~])", r"\\\1", text.replace("\\", "/"))
    return text.replace("|", r"\vert ")


def _latex_head(name: str) -> str:
    """A row's left-hand side in LaTeX: ``v̄3``, ``y`` or a derivative ``∂y/∂x1``."""
    m = re.fullmatch(r"∂(.+)/∂(.+)", name)
    if m:
        y = m.group(1)
        if y.startswith("(") and y.endswith(")"):
            top = r"\left(" + " + ".join(_latex_name(p) for p in y[1:-1].split(" + ")) + r"\right)"
        else:
            top = _latex_name(y)
        return rf"\frac{{\partial {top}}}{{\partial {_latex_name(m.group(2))}}}"
    return _latex_name(name)


class Printer:
    """Prints rule results and numbers as text or LaTeX, through ``engine.formula_parts``.

    Internal helper shared with :mod:`scalargrad.viz` (not public API, not in ``__all__``);
    :data:`TEXT` and :data:`LATEX` are its two instances.
    """

    def __init__(self, latex: bool) -> None:
        self.latex = latex

    def number(self, x: float, digits: int) -> tuple[str, int]:
        s = format_number(x, digits)
        text = _latex_number(s) if self.latex else s
        return text, (_NEG if s.startswith("-") else _ATOM)

    def name(self, name: str) -> str:
        return _latex_name(name) if self.latex else name

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex else f"({s})"

    def expr(self, value: Any, leaves: dict[Value, tuple[str, int]], digits: int) -> tuple[str, int]:
        """(text, precedence) of ``value``: a float, or a Value whose leaves are in ``leaves``."""
        if not isinstance(value, Value):
            return self.number(float(value), digits)
        names = {v: text for v, (text, _) in leaves.items()}
        return formula_parts(value, names, number=lambda x: self.number(x, digits)[0], latex=self.latex)


TEXT = Printer(latex=False)
"""The plain-text :class:`Printer` (shared with :mod:`scalargrad.viz`)."""
LATEX = Printer(latex=True)
"""The LaTeX :class:`Printer`."""


# --------------------------------------------------------------------------- #
# the tables                                                                   #
# --------------------------------------------------------------------------- #


@dataclass
class Term:
    """One summand of a tangent or adjoint: ``factor · derivative`` (or just a seed)."""

    factor: str  # the tangent v̇k or adjoint v̄i it multiplies, "" for an output's seed
    factor_value: float
    derivative: Any  # rule result: float or Value over the named leaves
    value: float
    partial: str = ""  # for adjoints: the partial adjoint's name, e.g. v̄2→5


@dataclass
class Row:
    """One line of a table: ``name = formula = substituted [= partial values] = value``."""

    name: str
    value: float
    formula: dict[str, str] = field(default_factory=dict)  # style -> text, "" if none
    substituted: dict[str, str] = field(default_factory=dict)
    partials: dict[str, str] = field(default_factory=dict)
    terms: list[dict[str, Any]] = field(default_factory=list)
    label: str | None = None

    def parts(self, style: str, digits: int) -> list[str]:
        """The row's sides in ``style`` ("text" or "latex"), without repeats."""
        printer = LATEX if style == "latex" else TEXT
        out = [_latex_head(self.name) if style == "latex" else self.name]
        if self.label is not None:
            out.append(printer.name(self.label))
        for piece in (
            self.formula.get(style, ""),
            self.substituted.get(style, ""),
            self.partials.get(style, ""),
        ):
            if piece and piece != out[-1]:
                out.append(piece)
        value = printer.number(self.value, digits)[0]
        if value != out[-1] or len(out) == 1:
            out.append(value)
        return out


@dataclass
class Table:
    """A titled list of rows, followed by summary rows such as ``∂y/∂x1 = v̇7 = 5.5``."""

    kind: str  # "forward", "tangent" or "adjoint"
    title: str
    rows: list[Row]
    summary: list[Row]
    wrt: str | None = None


class Trace:
    """The forward, tangent and adjoint tables of a graph (see :func:`trace`).

    ``str(trace)`` is plain text; ``to_markdown()``, ``to_latex()`` and
    ``to_html()`` give the other formats (and Jupyter displays it inline);
    ``to_dict()``/``to_json()`` give the tables as data.
    """

    def __init__(self, tables: list[Table], digits: int) -> None:
        self.tables = tables
        self.digits = digits

    @property
    def forward(self) -> Table:
        """The forward evaluation trace."""
        return next(t for t in self.tables if t.kind == "forward")

    @property
    def tangents(self) -> list[Table]:
        """One forward-mode (tangent) table per input differentiated against."""
        return [t for t in self.tables if t.kind == "tangent"]

    @property
    def adjoint(self) -> Table:
        """The reverse-mode (adjoint) table."""
        return next(t for t in self.tables if t.kind == "adjoint")

    # ------------------------------------------------------------------ text
    def lines(self, table: Table) -> list[str]:
        """The plain-text lines of one table (without its title)."""
        return [" = ".join(r.parts("text", self.digits)) for r in table.rows + table.summary]

    def to_text(self) -> str:
        """All tables as plain text, each under its title."""
        blocks = []
        for t in self.tables:
            blocks.append("\n".join([t.title, *("  " + line for line in self.lines(t))]))
        return "\n\n".join(blocks) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        kinds = ", ".join(t.kind if t.wrt is None else f"{t.kind}({t.wrt})" for t in self.tables)
        return f"<Trace: {len(self.forward.rows)} nodes; {kinds}>"

    # ------------------------------------------------------------ rich forms
    def to_latex(self) -> str:
        """All tables as one LaTeX ``aligned`` block per table, wrapped in ``$$``."""
        blocks = []
        for t in self.tables:
            lines = []
            for r in t.rows + t.summary:
                head, *rest = r.parts("latex", self.digits)
                lines.append(f"{head} &= " + " = ".join(rest))
            body = " \\\\\n".join(lines)
            title = _latex_escape(t.title)
            blocks.append(f"$$\\textbf{{{title}}}\\\\\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}$$")
        return "\n\n".join(blocks)

    def _cells(self, r: Row, style: str) -> tuple[str, str, str]:
        head, *rest = r.parts(style, self.digits)
        if len(rest) == 1:
            return head, "", rest[0]
        return head, " = ".join(rest[:-1]), rest[-1]

    def to_markdown(self) -> str:
        """All tables as Markdown tables with LaTeX math cells."""
        blocks = []
        for t in self.tables:
            rows = [f"**{t.title}**", "", "| node | definition | value |", "| --- | --- | ---: |"]
            for r in t.rows + t.summary:
                head, middle, value = self._cells(r, "latex")
                mid = f"${middle}$" if middle else ""
                rows.append(f"| ${head}$ | {mid} | ${value}$ |")
            blocks.append("\n".join(rows))
        return "\n\n".join(blocks) + "\n"

    def to_html(self) -> str:
        """All tables as HTML ``<table>`` elements."""
        blocks = []
        for t in self.tables:
            rows = [
                "<table class='scalargrad-trace'>",
                f"<caption>{html.escape(t.title)}</caption>",
                "<tr><th>node</th><th>definition</th><th>value</th></tr>",
            ]
            for r in t.rows + t.summary:
                cells = self._cells(r, "text")
                rows.append(
                    "<tr>"
                    + "".join(
                        f"<td style='text-align:{a}'>{html.escape(c)}</td>"
                        for c, a in zip(cells, ("left", "left", "right"))
                    )
                    + "</tr>"
                )
            rows.append("</table>")
            blocks.append("\n".join(rows))
        return "\n".join(blocks)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        return self.to_latex()

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        """The tables as plain data (JSON-able: non-finite numbers become strings)."""

        def row(r: Row) -> dict[str, Any]:
            d: dict[str, Any] = {"node": r.name, "value": _json_number(r.value)}
            if r.label is not None:
                d["label"] = r.label
            if r.formula.get("text"):
                d["formula"] = r.formula["text"]
            if r.substituted.get("text"):
                d["substituted"] = r.substituted["text"]
            if r.terms:
                d["terms"] = r.terms
            d["line"] = " = ".join(r.parts("text", self.digits))
            return d

        out: dict[str, Any] = {"digits": self.digits}
        for t in self.tables:
            entry: dict[str, Any] = {
                "title": t.title,
                "rows": [row(r) for r in t.rows],
                "summary": [row(r) for r in t.summary],
            }
            if t.kind == "tangent":
                entry["wrt"] = t.wrt
                out.setdefault("tangents", []).append(entry)
            else:
                out[t.kind] = entry
        return out

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (``kwargs`` go to ``json.dumps``)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def _json_number(x: float) -> float | str:
    return x if math.isfinite(x) else format_number(x)


# --------------------------------------------------------------------------- #
# building the tables                                                          #
# --------------------------------------------------------------------------- #


class Graph:
    """A graph numbered the notes' way, with each node's symbolic local derivatives.

    Internal helper shared with :mod:`scalargrad.viz`, which numbers its diagrams
    the same way (not public API, not in ``__all__``).
    """

    def __init__(self, outputs: Sequence[Value]) -> None:
        self.outputs = list(outputs)
        # Constants print inline as numbers, except an output that is a constant (such as
        # a create_graph gradient that does not depend on its input): it is numbered last.
        constant_outputs = [o for o in dict.fromkeys(self.outputs) if o.is_constant]
        self.order = evaluation_order(self.outputs) + constant_outputs
        self.index = {v: i + 1 for i, v in enumerate(self.order)}
        self.inputs = [v for v in self.order if v.op is None and not v.is_constant]
        # One named leaf per numbered node, carrying its data so rules evaluate as in the graph.
        self.leaf = {v: Value(v.data, label=f"v{i}") for v, i in self.index.items()}
        self._leaves: dict[tuple[str, bool, int], dict[Value, tuple[str, int]]] = {}

    def name(self, v: Value, mark: str = "") -> str:
        return f"v{mark}{self.index[v]}"

    def input_name(self, v: Value) -> str:
        return v.label if v.label is not None else self.name(v)

    def _stand_ins(self, v: Value) -> list[Value | float]:
        """``v``'s operands as named leaves (numbers and constants as numbers)."""
        return [
            (p.data if p.is_constant else self.leaf[p]) if isinstance(p, Value) else p for p in v.operands
        ]

    def definition(self, v: Value) -> Value:
        """``v``'s op applied to the named leaves of its operands (for printing)."""
        op = v.op
        assert op is not None
        return op(*self._stand_ins(v))  # type: ignore[no-any-return]

    def derivatives(self, v: Value) -> list[tuple[Value, Any]]:
        """Each parent of ``v`` (as in ``v.parents``) with its local derivative from the op's rule.

        The rule runs over the named leaves, so the result prints as a formula;
        operands that are numbers have no entry.
        """
        op = v.op
        assert op is not None
        rule = op.rule(*self._stand_ins(v), self.leaf[v])
        return [(p, d) for p, d in zip(v.operands, rule) if isinstance(p, Value)]

    def leaves(self, style: str, numbers: bool, digits: int) -> dict[Value, tuple[str, int]]:
        """How to print each named leaf: as its name or as its rounded value (cached)."""
        key = (style, numbers, digits)
        found = self._leaves.get(key)
        if found is None:
            printer = LATEX if style == "latex" else TEXT
            if numbers:
                found = {leaf: printer.number(v.data, digits) for v, leaf in self.leaf.items()}
            else:
                found = {leaf: (printer.name(self.name(v)), _ATOM) for v, leaf in self.leaf.items()}
            self._leaves[key] = found
        return found


def _product(factor: tuple[str, int], derivative: tuple[str, int], style: str, derivative_first: bool) -> str:
    """``factor · derivative`` (or ``derivative · factor``), dropping a derivative ±1."""
    printer = LATEX if style == "latex" else TEXT
    times = r" \cdot " if style == "latex" else TIMES
    d_text, d_prec = derivative
    if d_text == "1":
        return factor[0]
    if d_text == "-1":
        f_text = factor[0]
        return f"-{printer.paren(f_text)}" if factor[1] < _ATOM else f"-{f_text}"
    if d_prec < _ATOM:
        d_text = printer.paren(d_text)
    if derivative_first:
        f_text = printer.paren(factor[0]) if factor[1] < _ATOM else factor[0]
        return f"{d_text}{times}{f_text}"
    return f"{factor[0]}{times}{d_text}"


def _sum(terms: list[str]) -> str:
    if not terms:
        return "0"
    out = terms[0]
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def _fill(row: Row, g: Graph, terms: list[Term], digits: int, adjoint: bool) -> None:
    """Set a tangent/adjoint row's formula, substituted numbers and partial values.

    Tangent terms read ``∂vi/∂vk · v̇k`` and adjoint terms ``v̄i · ∂vi/∂vk``, as in the
    notes; adjoint rows with several terms also show each partial adjoint's value.
    """
    for style in ("text", "latex"):
        printer = LATEX if style == "latex" else TEXT
        sym, num = g.leaves(style, False, digits), g.leaves(style, True, digits)
        symbolic, substituted, partial = [], [], []
        for t in terms:
            if not t.factor:  # an output's seed
                symbolic.append("1")
                substituted.append("1")
                partial.append("1")
                continue
            symbolic.append(
                _product(
                    (printer.name(t.factor), _ATOM),
                    printer.expr(t.derivative, sym, digits),
                    style,
                    not adjoint,
                )
            )
            substituted.append(
                _product(
                    printer.number(t.factor_value, digits),
                    printer.expr(t.derivative, num, digits),
                    style,
                    not adjoint,
                )
            )
            partial.append(printer.number(t.value, digits)[0])
        row.formula[style] = _sum(symbolic)
        row.substituted[style] = _sum(substituted)
        if adjoint and len(terms) > 1:
            row.partials[style] = _sum(partial)


def as_outputs(outputs: Value | Sequence[Value], who: str) -> list[Value]:
    """``outputs`` as a list of Values: one Value or a non-empty list/tuple of them."""
    if isinstance(outputs, Value):
        return [outputs]
    if isinstance(outputs, (list, tuple)) and outputs and all(isinstance(o, Value) for o in outputs):
        return list(outputs)
    raise TypeError(f"{who} needs a Value or a non-empty list of Values, got {outputs!r}")


def trace(
    outputs: Value | Sequence[Value], *, wrt: Value | Sequence[Value] | None = None, digits: int = 3
) -> Trace:
    """The notes' forward, tangent and adjoint tables for ``outputs``.

    Nodes are numbered v1…vn as in the notes (inputs first, see ``evaluation_order``);
    constants print inline as numbers, but an output that is itself a constant (a
    ``create_graph`` gradient that does not depend on the input, say) is numbered
    last, so its tables read ``v1 = 1``, ``y = v1 = 1``.
    ``wrt`` selects the inputs to run forward mode for (default: every input),
    one tangent table each. The adjoint table is reverse mode from the outputs
    (each seeded with 1, so several outputs give the gradient of their sum),
    listing each adjoint as the sum of its partial adjoints v̄k→i = v̄i·∂vi/∂vk.
    Numbers print with ``digits`` decimals (see :func:`format_number`).

    >>> from scalargrad import Value
    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> t = trace(x1.log() + x1 * x2 - x2.sin())
    >>> print(t.lines(t.adjoint)[5])
    v̄2 = v̄5·cos(v2) + v̄4·v1 = -1·cos(5) + 1·2 = -0.284 + 2 = 1.716
    """
    outs = as_outputs(outputs, "trace")
    if not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15, got {digits!r}")
    g = Graph(outs)
    if wrt is None:
        targets = list(g.inputs)
    else:
        targets = [wrt] if isinstance(wrt, Value) else list(wrt)
        for t in targets:
            if not isinstance(t, Value) or t not in g.index or t.op is not None or t.is_constant:
                raise ValueError(f"wrt must be inputs of the traced graph, got {t!r}")
    ynames = ["y"] if len(outs) == 1 else [f"y{i + 1}" for i in range(len(outs))]
    tables = [_forward_table(g, ynames, digits)]
    tables += [_tangent_table(g, t, ynames, digits) for t in targets]
    tables.append(_adjoint_table(g, ynames, digits))
    return Trace(tables, digits)


def _forward_table(g: Graph, ynames: list[str], digits: int) -> Table:
    rows = []
    for v in g.order:
        if v.op is None:
            rows.append(Row(g.name(v), v.data, label=v.label))
            continue
        row = Row(g.name(v), v.data)
        d = g.definition(v)
        for style in ("text", "latex"):
            printer = LATEX if style == "latex" else TEXT
            row.formula[style] = printer.expr(d, g.leaves(style, False, digits), digits)[0]
            row.substituted[style] = printer.expr(d, g.leaves(style, True, digits), digits)[0]
        rows.append(row)
    summary = []
    for y, out in zip(ynames, g.outputs):
        summary.append(Row(y, out.data, formula={"text": g.name(out), "latex": _latex_name(g.name(out))}))
    return Table("forward", "Forward evaluation trace", rows, summary)


def _tangent_table(g: Graph, wrt: Value, ynames: list[str], digits: int) -> Table:
    # The numbers are forward mode's own walk (so every value equals jvp's); the
    # table only writes out each term ∂vi/∂vk·v̇k. Zero tangents are structural: a
    # term whose tangent v̇k is 0 contributes 0, even where ∂vi/∂vk is infinite.
    tangent = tangents(g.outputs, {wrt: 1.0})
    rows = []
    for v in g.order:
        row = Row(g.name(v, DOT), tangent.get(v, 0.0))
        rows.append(row)
        if v.op is None:
            continue
        terms = []
        for (p, d), local in zip(g.derivatives(v), v.local_grads):
            if p.is_constant:
                continue
            factor = tangent.get(p, 0.0)
            terms.append(Term(g.name(p, DOT), factor, d, local * factor if factor else 0.0))
        _fill(row, g, terms, digits, adjoint=False)
    x = g.input_name(wrt)
    summary = []
    for y, out in zip(ynames, g.outputs):
        name = g.name(out, DOT)
        summary.append(
            Row(f"∂{y}/∂{x}", tangent.get(out, 0.0), formula={"text": name, "latex": _latex_name(name)})
        )
    return Table("tangent", f"Forward mode AD trace w.r.t. {x}", rows, summary, wrt=x)


def _adjoint_table(g: Graph, ynames: list[str], digits: int) -> Table:
    # The numbers are the one reverse walk's (so every value equals adjoints() and
    # backward to the last bit); the table writes out each node's partial adjoints
    # v̄k→i = v̄i·∂vi/∂vk in the order the walk summed them.
    node_to_grad: dict[Value, list[Partial]] = {}
    adjoint = adjoints(g.outputs, node_to_grad=node_to_grad)
    rule = {v: g.derivatives(v) for v in g.order if v.op is not None}
    rows = []
    for v in reversed(g.order):
        terms = []
        for child, position, value in node_to_grad.get(v, []):
            if child is None:
                terms.append(Term("", 1.0, 1.0, value))
                continue
            parent, d = rule[child][position]
            assert parent is v
            name = f"v{BAR}{g.index[v]}→{g.index[child]}"
            terms.append(Term(g.name(child, BAR), adjoint[child], d, value, partial=name))
        row = Row(g.name(v, BAR), adjoint.get(v, 0.0))
        if terms != [Term("", 1.0, 1.0, 1.0)]:
            _fill(row, g, terms, digits, adjoint=True)
        row.terms = [{"partial": t.partial or "seed", "value": _json_number(t.value)} for t in terms]
        rows.append(row)
    what = ynames[0] if len(ynames) == 1 else "(" + " + ".join(ynames) + ")"
    summary = []
    for x in g.inputs:
        name = g.name(x, BAR)
        summary.append(
            Row(f"∂{what}/∂{g.input_name(x)}", adjoint[x], formula={"text": name, "latex": _latex_name(name)})
        )
    return Table("adjoint", "Reverse mode AD trace", rows, summary)
