"""The notes' evaluation traces: forward, tangent (forward mode) and adjoint (reverse mode) tables.

:func:`trace` numbers a graph's nodes the way the lecture notes do — inputs
``v₁…vₖ`` first, then the intermediates by depth — and writes out each step::

    v₃ = ln(v₁) = ln(2) = 0.693                                   (forward evaluation)
    v̇₄ = v₂·v̇₁ + v₁·v̇₂ = 5·1 + 2·0 = 5                            (tangents w.r.t. x₁)
    v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716  (adjoints)

The numbers mirror the formula term by term: every name is replaced by its value, ±1 and 0
included (``v̄₂ = v̄₃·v₁ = 1·(−1)``), with the formula's own ``+`` and ``−`` (``0 + (−2)``,
``−(−0.197)``); a negative number inside a term comes in parentheses unless it leads the line.
A derivative ±1 is left out of the formula (``v̄₈ = v̄₉``, ``v̄₅ = −v̄₇``) and so of its numbers.

Names and numbers are written as :mod:`scalargrad.notation.names` writes them, nodes numbered
and their local derivatives found as in :mod:`scalargrad.notation.numbering`. The adjoint
table's numbers are the one reverse walk's (:func:`scalargrad.adjoints`), with each node's
partial adjoints in the order the walk summed them, so they equal ``backward`` and ``grad``
to the last bit.

With ``digits="auto"`` (the default) each table shows the fewest digits (3 to 8)
at which every line can be checked by hand: recomputing it from exactly what it
shows (each number as printed, each named constant exact) gives the result it
shows, to its last digit (give or take one unit there, as sums of rounded numbers do).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .autodiff import adjoints, tangents
from .core import ATOM, Partial, Value
from .notation.names import (
    BAR,
    DOT,
    NAMED_CONSTANTS,
    STYLES,
    Digits,
    Named,
    Precision,
    Rounder,
    Summand,
    alone_summand,
    ascii_name,
    bulk,
    format_number,
    join_summands,
    json_number,
    last_digit,
    latex_escape,
    latex_name,
    product_summand,
    text_name,
    unit_derivative,
    visible,
)
from .notation.numbering import Graph, as_outputs, describe, with_tangent

__all__ = ["Row", "Table", "Trace", "trace"]

AUTO_DIGITS_MAX_ROWS = 5000
"""Tables longer than this are shown with 3 digits under ``digits="auto"`` (checking
every line at several precisions would cost more than the table)."""

AUTO_DIGITS = tuple(Precision(d, 2) for d in range(3, 9))
"""The precisions ``digits="auto"`` tries, fewest first: 3 to 8 decimals, at least 2
significant digits (``0.00091``; more significant digits than an operand carries could
never be recomputed from it)."""


@dataclass
class Term:
    """One summand of a tangent or adjoint: ``factor · derivative`` (or just a seed).

    ``derivative_at(round)`` recomputes the local derivative from what its formula
    shows, to check a line by hand (see ``digits="auto"``); ``named`` are the numbers
    the formula prints by name (see :meth:`Graph.constants`).
    """

    factor: str  # the tangent v̇k or adjoint v̄i it multiplies, "" for an output's seed
    factor_value: float
    derivative: Any  # rule result: float or Value over the named leaves
    value: float
    partial: str = ""  # for adjoints: the partial adjoint's name, e.g. v̄2→5
    derivative_at: Callable[[Rounder], float] | None = None
    named: Named = field(default_factory=lambda: NAMED_CONSTANTS)


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
    definition: Any = None  # forward rows: the op over the named leaves
    recompute: Callable[[Rounder], float] | None = None  # forward rows: the value from what they show
    summands: list[Term] = field(default_factory=list)  # tangent and adjoint rows

    def parts(self, style: str, digits: Digits) -> list[str]:
        """The row's sides in ``style`` ("text" or "latex"), without repeats."""
        printer = STYLES[style]
        out = [printer.head(self.name)]
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
    """A titled list of rows, followed by summary rows such as ``∂y/∂x1 = v̇7 = 5.5``.

    ``digits`` is the precision the table is shown with; ``caption`` says what was
    traced (the expression and the point, and for tangents the input), or is None.
    """

    kind: str  # "forward", "tangent" or "adjoint"
    title: str
    rows: list[Row]
    summary: list[Row]
    wrt: str | None = None
    digits: Digits = 3
    caption: str | None = None
    latex_caption: str | None = None
    graph: Graph | None = field(default=None, repr=False, compare=False)
    styles: set[str] = field(default_factory=set, repr=False, compare=False)

    def ensure(self, style: str) -> Table:
        """Write the rows' formulas in ``style`` ("text" or "latex") if not yet done.

        Tables are written on demand, one style at a time, so a long trace costs
        only the form it is printed in.
        """
        if style not in self.styles and self.graph is not None:
            with bulk():
                _render(self, self.graph, style)
            self.styles.add(style)
        return self


_PAGE_STYLE = """\
table.scalargrad-trace { border-collapse: collapse; margin: 0.6em 0 1.2em 0;
  font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 0.95em; }
table.scalargrad-trace caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
table.scalargrad-trace caption .what { display: block; font-weight: normal; color: #444; }
table.scalargrad-trace th, table.scalargrad-trace td { border: 1px solid #bbb; padding: 0.25em 0.8em; }
table.scalargrad-trace th { background: #f2f2f2; }
table.scalargrad-trace td.value { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; padding-left: 1.5em; }
table.scalargrad-trace tr.summary td { border-top: 2px solid #888; font-weight: bold; }
table.scalargrad-trace tr.summary + tr.summary td { border-top: 1px solid #bbb; }
"""


class Trace:
    """The forward, tangent and adjoint tables of a graph (see :func:`trace`).

    ``str(trace)`` is plain text; ``to_markdown()``, ``to_latex()`` and
    ``to_html()`` give the other formats (and Jupyter displays it inline);
    ``to_dict()``/``to_json()`` give the tables as data.
    """

    def __init__(self, tables: list[Table], digits: int | str, caption: str | None = None) -> None:
        self.tables = tables
        self.digits = digits
        """What was asked for: an int, or ``"auto"`` (each table's own is ``Table.digits``)."""
        self.caption = caption
        """What was traced (expression and point), or None."""

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
        table.ensure("text")
        return [" = ".join(r.parts("text", table.digits)) for r in table.rows + table.summary]

    def to_text(self) -> str:
        """All tables as plain text, each under its title, below the caption if there is one."""
        blocks = [] if self.caption is None else [visible(self.caption)]
        for t in self.tables:
            blocks.append("\n".join([t.title, *("  " + line for line in self.lines(t))]))
        return "\n\n".join(blocks) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        kinds = ", ".join(t.kind if t.wrt is None else f"{t.kind}({t.wrt})" for t in self.tables)
        return f"<Trace: {len(self.forward.rows)} nodes; {kinds}>"

    # ------------------------------------------------------------ rich forms
    def latex_blocks(self) -> list[str]:
        """One display-math block per table: its title, caption and aligned rows.

        Each block is ``$$\\begin{gathered}…\\end{gathered}$$`` with the rows in
        ``aligned``: valid in LaTeX with amsmath, in KaTeX and in MathJax alike.
        """
        blocks = []
        for t in self.tables:
            lines = []
            for r in t.ensure("latex").rows + t.summary:
                head, *rest = r.parts("latex", t.digits)
                lines.append(f"{head} &= " + " = ".join(rest))
            body = " \\\\\n".join(lines)
            top = [rf"\textbf{{{latex_escape(t.title)}}}"]
            if t.latex_caption is not None:
                top.append(t.latex_caption)
            head = " \\\\\n".join(top)
            blocks.append(
                f"$$\\begin{{gathered}}\n{head} \\\\\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n"
                "\\end{gathered}$$"
            )
        return blocks

    def to_latex(self, *, document: bool = False) -> str:
        """All tables as LaTeX display math (see :meth:`latex_blocks`).

        ``document=True`` gives a complete document (``article`` with ``amsmath``)
        that ``pdflatex`` compiles as it is.
        """
        body = "\n\n".join(self.latex_blocks())
        if not document:
            return body
        return (
            "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage[margin=2cm]{geometry}\n"
            f"\\begin{{document}}\n\\allowdisplaybreaks\n{body}\n\\end{{document}}\n"
        )

    def _cells(self, r: Row, style: str, digits: Digits) -> tuple[str, str, str]:
        head, *rest = r.parts(style, digits)  # the caller ensured the style
        if len(rest) == 1:
            return head, "", rest[0]
        return head, " = ".join(rest[:-1]), rest[-1]

    def to_markdown(self) -> str:
        """All tables as Markdown tables with LaTeX math cells, under the caption line."""
        blocks = [] if self.caption is None else [self.caption]
        for t in self.tables:
            rows = [f"**{t.title}**", "", "| node | definition | value |", "| --- | --- | ---: |"]
            for r in t.ensure("latex").rows + t.summary:
                head, middle, value = self._cells(r, "latex", t.digits)
                mid = f"${middle}$" if middle else ""
                rows.append(f"| ${head}$ | {mid} | ${value}$ |")
            blocks.append("\n".join(rows))
        return "\n\n".join(blocks) + "\n"

    def to_html(self, *, document: bool = False) -> str:
        """All tables as styled HTML ``<table>`` elements (a fragment with its ``<style>``).

        ``document=True`` gives a complete page (doctype, UTF-8 charset, title).
        """
        blocks = [f"<style>\n{_PAGE_STYLE}</style>"]
        for t in self.tables:
            caption = html.escape(t.title)
            if t.caption is not None:
                caption += f"<span class='what'>{html.escape(t.caption)}</span>"
            rows = [
                "<table class='scalargrad-trace'>",
                f"<caption>{caption}</caption>",
                "<tr><th>node</th><th>definition</th><th>value</th></tr>",
            ]
            for r in t.ensure("text").rows:
                rows.append(self._html_row(r, t.digits, ""))
            for r in t.summary:
                rows.append(self._html_row(r, t.digits, " class='summary'"))
            rows.append("</table>")
            blocks.append("\n".join(rows))
        fragment = "\n".join(blocks)
        if not document:
            return fragment
        title = html.escape(self.caption or "scalargrad trace")
        return (
            "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<title>{title}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
        )

    def _html_row(self, r: Row, digits: Digits, attrs: str) -> str:
        head, middle, value = (html.escape(c) for c in self._cells(r, "text", digits))
        return f"<tr{attrs}><td>{head}</td><td>{middle}</td><td class='value'>{value}</td></tr>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        return self.to_latex()

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        """The tables as plain data (JSON-able: non-finite numbers become "inf", "-inf", "nan").

        Each row has ``node``, its name in ASCII (:func:`ascii_name`: ``v3``, ``v3_dot``,
        ``v3_bar``, ``dy/dx1``, and ``v2_bar_to_5`` for a partial adjoint in ``terms``),
        ``value`` at full precision, and as shown ``formula``, ``substituted`` and ``line``.
        """

        def row(r: Row, digits: Digits) -> dict[str, Any]:
            d: dict[str, Any] = {"node": ascii_name(r.name), "value": json_number(r.value)}
            if r.label is not None:
                d["label"] = r.label
            if r.formula.get("text"):
                d["formula"] = r.formula["text"]
            if r.substituted.get("text"):
                d["substituted"] = r.substituted["text"]
            if r.terms:
                d["terms"] = [{**term, "partial": ascii_name(term["partial"])} for term in r.terms]
            d["line"] = " = ".join(r.parts("text", digits))
            return d

        out: dict[str, Any] = {"digits": self.digits}
        if self.caption is not None:
            out["caption"] = self.caption
        for t in self.tables:
            t.ensure("text")
            entry: dict[str, Any] = {
                "title": t.title,
                "digits": t.digits if isinstance(t.digits, int) else t.digits.decimals,
                "rows": [row(r, t.digits) for r in t.rows],
                "summary": [row(r, t.digits) for r in t.summary],
            }
            if t.kind == "tangent":
                entry["wrt"] = t.wrt
                out.setdefault("tangents", []).append(entry)
            else:
                out[t.kind] = entry
        return out

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (``kwargs`` go to ``json.dumps``); always valid JSON."""
        kwargs.setdefault("allow_nan", False)
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def _fill(row: Row, g: Graph, digits: Digits, adjoint: bool, style: str) -> None:
    """Set a tangent/adjoint row's formula, substituted numbers and partial values.

    Tangent terms read ``∂vi/∂vk · v̇k`` and adjoint terms ``v̄i · ∂vi/∂vk``, as in the
    notes; adjoint rows with several terms also show each partial adjoint's value. The
    numbers mirror the formula term by term: each name replaced by its value, with the
    formula's operators, so that every line can be checked by hand.
    """
    terms = row.summands
    printer = STYLES[style]
    sym, num = g.leaves(style, False, digits), g.leaves(style, True, digits)
    symbolic: list[Summand] = []
    substituted: list[Summand] = []
    partial: list[Summand] = []
    for t in terms:
        leading = not symbolic
        if not t.factor:  # an output's seed
            symbolic.append(Summand("1"))
            substituted.append(Summand("1"))
            partial.append(Summand("1"))
            continue
        d_symbolic = printer.expr(t.derivative, sym, digits, t.named)
        d_number = printer.expr(t.derivative, num, digits, t.named)
        d_number = (d_number[0], min(d_number[1], d_symbolic[1]))
        unit = unit_derivative(d_symbolic[0])
        symbolic.append(
            product_summand((printer.name(t.factor), ATOM), d_symbolic, unit, printer, not adjoint, leading)
        )
        factor = printer.number(t.factor_value, digits)
        substituted.append(product_summand(factor, d_number, unit, printer, not adjoint, leading))
        shown = printer.number(-t.value if unit == -1 else t.value, digits)
        partial.append(alone_summand(shown, printer, unit == -1, leading))
    row.formula[style] = join_summands(symbolic, printer)
    row.substituted[style] = join_summands(substituted, printer)
    row.partials[style] = join_summands(partial, printer) if adjoint and len(terms) > 1 else ""


def _render(table: Table, g: Graph, style: str) -> None:
    """Write every row of ``table`` in ``style`` with the table's digits."""
    digits = table.digits
    printer = STYLES[style]
    symbols, numbers = g.leaves(style, False, digits), g.leaves(style, True, digits)
    adjoint = table.kind == "adjoint"
    for row in table.rows:
        if row.definition is not None:
            row.formula[style] = printer.expr(row.definition, symbols, digits)[0]
            row.substituted[style] = printer.expr(row.definition, numbers, digits)[0]
        elif row.summands and not _is_seed_only(row):
            _fill(row, g, digits, adjoint, style)


def _is_seed_only(row: Row) -> bool:
    return len(row.summands) == 1 and not row.summands[0].factor and row.summands[0].value == 1.0


def _rounder(digits: Digits) -> Rounder:
    def rounded(x: float) -> float:
        return float(format_number(x, digits)) if math.isfinite(x) else x

    return rounded


def _agrees(recomputed: float, value: float, digits: Digits) -> bool:
    """Whether ``recomputed`` is the shown ``value`` to its last shown digit (±1 in that digit)."""
    shown = format_number(value, digits)
    if not math.isfinite(value) or not math.isfinite(recomputed):
        return shown == format_number(recomputed, digits)
    return abs(recomputed - float(shown)) <= last_digit(shown) * (1.0 + 1e-9)


def mismatches(table: Table, digits: Digits) -> int:
    """How many lines of ``table``, shown with ``digits``, cannot be checked by hand.

    A line passes when recomputing it from what it shows (each operand, factor,
    constant and partial adjoint as printed, constants printed by name exact, see
    :data:`NAMED_CONSTANTS`) gives the result it shows to its last
    digit, give or take one unit there: a sum of rounded numbers can differ from
    the rounded sum by one unit, and exact agreement would need many more digits.
    """
    rounded = _rounder(digits)
    bad = 0
    for row in table.rows:
        try:
            if row.recompute is not None:
                bad += not _agrees(row.recompute(rounded), row.value, digits)
                continue
            terms = [t for t in row.summands if t.factor]
            if not terms:
                continue
            recomputed = []
            for t in terms:
                factor = rounded(t.factor_value)
                d = t.derivative_at(rounded) if t.derivative_at is not None else 0.0
                recomputed.append(0.0 if factor == 0.0 else factor * d)
            seeds = sum(t.value for t in row.summands if not t.factor)
            if table.kind == "adjoint" and len(row.summands) > 1:
                bad += any(not _agrees(r, t.value, digits) for r, t in zip(recomputed, terms))
                total = seeds + sum(rounded(t.value) for t in terms)
            else:
                total = seeds + sum(recomputed)
            bad += not _agrees(total, row.value, digits)
        except (ArithmeticError, ValueError):
            bad += 1
    return bad


def _choose_digits(table: Table, digits: int | str) -> Digits:
    if isinstance(digits, int):
        return digits
    if len(table.rows) > AUTO_DIGITS_MAX_ROWS:
        return AUTO_DIGITS[0]
    fewest = (len(table.rows) + 1, AUTO_DIGITS[0])
    for d in AUTO_DIGITS:
        bad = mismatches(table, d)
        if bad == 0:
            return d
        fewest = min(fewest, (bad, d))
    return fewest[1]


def check_digits(digits: object, who: str = "trace") -> int | str:
    """``digits`` as given if it is ``"auto"`` or an int from 1 to 15, else a ValueError."""
    if digits == "auto":
        return "auto"
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"{who}: digits must be 'auto' or an integer from 1 to 15, got {digits!r}")
    return digits



def trace(
    outputs: Value | Sequence[Value],
    *,
    wrt: Value | Sequence[Value] | None = None,
    digits: int | str = "auto",
    caption: bool | str = False,
) -> Trace:
    """The notes' forward, tangent and adjoint tables for ``outputs``.

    Nodes are numbered v₁…vₙ as in the notes (inputs first, see ``evaluation_order``);
    numbers in ops print inline (π, e and the derivative rules' constants such as
    ln 2 by name, see :data:`NAMED_CONSTANTS`), but an output that is itself a constant (a
    ``create_graph`` gradient that does not depend on the input, say) is numbered
    last, so its tables read ``v₁ = 1``, ``y = v₁ = 1``.
    ``wrt`` selects the inputs to run forward mode for (default: every input),
    one tangent table each. The adjoint table is reverse mode from the outputs
    (each seeded with 1, so several outputs give the gradient of their sum),
    listing each adjoint as the sum of its partial adjoints v̄ₖ→ᵢ = v̄ᵢ·∂vᵢ/∂vₖ in the
    order the reverse walk summed them.

    ``digits``: an int shows that many decimals (at least that many significant
    digits, see :func:`format_number`); ``"auto"`` (default) picks, per table, the
    fewest digits from 3 to 8 at which every line can be recomputed by hand from
    the numbers it shows (tables over 5000 rows use 3). ``caption``: True adds
    the expression and the point (``y = … at x₁ = 2, x₂ = 5``; for tangent tables
    also the input), a string sets it.

    >>> from scalargrad import Value
    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> t = trace(x1.log() + x1 * x2 - x2.sin())
    >>> print(t.lines(t.adjoint)[5])
    v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716
    """
    outs = as_outputs(outputs, "trace")
    wanted = check_digits(digits)
    if not isinstance(caption, (bool, str)):
        raise TypeError(f"trace: caption must be True, False or a string, got {caption!r}")
    g = Graph(outs)
    if wrt is None:
        targets = list(g.inputs)
    else:
        targets = [wrt] if isinstance(wrt, Value) else list(wrt)
        for t in targets:
            if not isinstance(t, Value) or t not in g.index or t.op is not None or t.is_constant:
                raise ValueError(f"wrt must be inputs of the traced graph, got {t!r}")
    ynames = g.output_names()
    with bulk():
        tables = [_forward_table(g, ynames)]
        tables += [_tangent_table(g, t, ynames) for t in targets]
        tables.append(_adjoint_table(g, ynames))
        digits_chosen = [_choose_digits(table, wanted) for table in tables]
    text_caption = latex_caption = None
    if caption:
        text_caption = caption if isinstance(caption, str) else describe(g, ynames)
        latex_caption = (
            rf"\text{{{latex_escape(caption)}}}"
            if isinstance(caption, str)
            else describe(g, ynames, latex=True)
        )
    for table, chosen in zip(tables, digits_chosen):
        table.digits = chosen
        table.graph = g
        if text_caption is not None:
            table.caption = text_caption
            table.latex_caption = latex_caption
            if table.wrt is not None:
                table.caption = with_tangent(text_caption, table.wrt)
                table.latex_caption = rf"{latex_caption} \text{{; tangents w.r.t. }} {latex_name(table.wrt)}"
    return Trace(tables, wanted, text_caption)


def _forward_table(g: Graph, ynames: list[str]) -> Table:
    rows = []
    for v in g.order:
        if v.op is None:
            rows.append(Row(g.name(v), v.data, label=v.label))
            continue
        rows.append(Row(g.name(v), v.data, definition=g.definition(v), recompute=g.value_at(v)))
    summary = []
    for y, out in zip(ynames, g.outputs):
        name = g.name(out)
        summary.append(Row(y, out.data, formula={"text": text_name(name), "latex": latex_name(name)}))
    return Table("forward", "Forward evaluation trace", rows, summary)


def _tangent_table(g: Graph, wrt: Value, ynames: list[str]) -> Table:
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
        named = g.constants(v)
        derivatives, local_grads = g.derivatives(v), v.local_grads
        for position in g.term_order(v):
            (p, d), local = derivatives[position], local_grads[position]
            if p.is_constant:
                continue
            factor = tangent.get(p, 0.0)
            value = local * factor if factor else 0.0
            at = g.derivative_at(v, position)
            row.summands.append(Term(g.name(p, DOT), factor, d, value, derivative_at=at, named=named))
        if not row.summands:
            row.summands.append(Term("", 0.0, 0.0, 0.0))
    x = g.input_name(wrt)
    summary = []
    for y, out in zip(ynames, g.outputs):
        name = g.name(out, DOT)
        summary.append(
            Row(
                f"∂{y}/∂{x}",
                tangent.get(out, 0.0),
                formula={"text": text_name(name), "latex": latex_name(name)},
            )
        )
    return Table("tangent", f"Forward mode AD trace w.r.t. {text_name(x)}", rows, summary, wrt=x)


def _adjoint_table(g: Graph, ynames: list[str]) -> Table:
    # The numbers are the one reverse walk's (so every value equals adjoints() and
    # backward to the last bit); the table writes out each node's partial adjoints
    # v̄k→i = v̄i·∂vi/∂vk in the order the walk summed them.
    node_to_grad: dict[Value, list[Partial]] = {}
    adjoint = adjoints(g.outputs, node_to_grad=node_to_grad)
    rows = []
    for v in reversed(g.order):
        row = Row(g.name(v, BAR), adjoint.get(v, 0.0))
        for child, position, value in node_to_grad.get(v, []):
            if child is None:
                row.summands.append(Term("", 1.0, 1.0, value))
                continue
            parent, d = g.derivatives(child)[position]
            assert parent is v
            name = g.partial_name(v, child, position)
            at = g.derivative_at(child, position)
            row.summands.append(
                Term(
                    g.name(child, BAR),
                    adjoint[child],
                    d,
                    value,
                    partial=name,
                    derivative_at=at,
                    named=g.constants(child),
                )
            )
        row.terms = [{"partial": t.partial or "seed", "value": json_number(t.value)} for t in row.summands]
        rows.append(row)
    what = ynames[0] if len(ynames) == 1 else "(" + " + ".join(ynames) + ")"
    summary = []
    for x in g.inputs:
        name = g.name(x, BAR)
        summary.append(
            Row(
                f"∂{what}/∂{g.input_name(x)}",
                adjoint[x],
                formula={"text": text_name(name), "latex": latex_name(name)},
            )
        )
    return Table("adjoint", "Reverse mode AD trace", rows, summary)
