"""The numbering of a graph's nodes v₁…vₙ as the notes write it, and the names it gives them.

Inputs come first, then the intermediates by depth (``evaluation_order``); the tables,
step pictures and diagrams all number a graph this way. The local derivative formulas
(``cos(v₂)``, ``v₁``, ``1/v₁``) come from each op's single definition: its ``rule`` is
evaluated on named leaf Values and printed with the op's own symbol, notation and precedence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..core import Value, evaluation_order
from .formula import formula
from .names import BAR, LATEX, NAMED_CONSTANTS, STYLES, TEXT, Digits, Named, Rounder, ln_name, text_name


class Graph:
    """A graph numbered the notes' way, with each node's symbolic local derivatives.

    Internal helper shared with :mod:`scalargrad.viz`, which numbers its diagrams
    the same way (not public API, not in ``__all__``).
    """

    def __init__(self, outputs: Sequence[Value]) -> None:
        self.outputs = list(outputs)
        # Numbers print inline, and so do constant leaves, except an output that is a constant
        # (such as a create_graph gradient that does not depend on its input): numbered last.
        constant_outputs = [o for o in dict.fromkeys(self.outputs) if o.is_constant]
        self.order = evaluation_order(self.outputs) + constant_outputs
        self.index = {v: i + 1 for i, v in enumerate(self.order)}
        self.inputs = [v for v in self.order if v.op is None and not v.is_constant]
        # One named leaf per numbered node, carrying its data so rules evaluate as in the graph.
        self.leaf = {v: Value(v.data, label=f"v{i}") for v, i in self.index.items()}
        self._leaves = set(self.leaf.values())
        self._constants: dict[Value, Named] = {}
        self._names: dict[tuple[str, bool, Digits], dict[Value, str]] = {}
        self._derivatives: dict[Value, list[tuple[Value, Any]]] = {}
        self._uses: dict[Value, list[int | None]] = {}

    def name(self, v: Value, mark: str = "") -> str:
        return f"v{mark}{self.index[v]}"

    def output_names(self) -> list[str]:
        """What the outputs are called: ``y`` (``y1``, ``y2``, … for several), or ``f`` when
        an input is itself named ``y``, so that ``∂y/∂y`` cannot appear."""
        taken = {v.label for v in self.inputs}
        letter = "f" if "y" in taken or any(f"y{i + 1}" in taken for i in range(len(self.outputs))) else "y"
        return [letter] if len(self.outputs) == 1 else [f"{letter}{i + 1}" for i in range(len(self.outputs))]

    def partial_name(self, k: Value, i: Value, position: int | None = None) -> str:
        """The notes' name of the partial adjoint v_k receives from v_i: ``v̄2→5``.

        One name per use: where v_i reads v_k at several operand positions (``x*x``,
        ``dot((x, y), (y, 2))``) each use is a partial adjoint of its own, with its own
        value, numbered in operand order: ``position`` (the index among ``i.parents``)
        gives ``v̄2→3(1)``, ``v̄2→3(2)``. A parent used once keeps the notes' ``v̄2→5``.
        """
        name = f"v{BAR}{self.index[k]}→{self.index[i]}"
        if position is None:
            return name
        use = self.use_number(i, position)
        return name if use is None else f"{name}({use})"

    def use_number(self, i: Value, position: int) -> int | None:
        """Which use (1, 2, …) of its parent the operand at ``position`` of ``i`` is, or None
        when ``i`` reads that parent only once."""
        uses = self._uses.get(i)
        if uses is None:
            parents = i.parents
            counts: dict[Value, int] = {}
            for p in parents:
                counts[p] = counts.get(p, 0) + 1
            seen: dict[Value, int] = {}
            uses = []
            for p in parents:
                seen[p] = seen.get(p, 0) + 1
                uses.append(seen[p] if counts[p] > 1 else None)
            self._uses[i] = uses
        return uses[position]

    def input_name(self, v: Value) -> str:
        return v.label if v.label is not None else self.name(v)

    def stand_ins(self, v: Value) -> list[Value | float]:
        """``v``'s operands as named leaves (numbers and constants as numbers)."""
        return [
            (p.data if p.is_constant else self.leaf[p]) if isinstance(p, Value) else p for p in v.operands
        ]

    def definition(self, v: Value) -> Value:
        """``v``'s op applied to the named leaves of its operands (for printing)."""
        op = v.op
        assert op is not None
        return op(*self.stand_ins(v))  # type: ignore[no-any-return]

    def derivatives(self, v: Value) -> list[tuple[Value, Any]]:
        """Each parent of ``v`` (as in ``v.parents``) with its local derivative from the op's rule.

        The rule runs over the named leaves, so the result prints as a formula;
        operands that are numbers have no entry. Computed once per node.
        """
        found = self._derivatives.get(v)
        if found is None:
            op = v.op
            assert op is not None
            rule = op.rule(*self.stand_ins(v), self.leaf[v])
            found = [(p, d) for p, d in zip(v.operands, rule) if isinstance(p, Value)]
            self._derivatives[v] = found
        return found

    def term_order(self, v: Value) -> Sequence[int]:
        """The parent positions in the order ``v``'s tangent terms are written: operand order,
        but pair by pair for a sum of products (x₁, y₁, x₂, y₂, … for ``dot``), so that
        ``v̇₅ = v₃·v̇₁ + v₁·v̇₃ + v₄·v̇₂ + v₂·v̇₄`` reads as the product rule of each pair."""
        count = len(v.local_grads)
        op = v.op
        if op is None or op.notation != "dot":
            return range(count)
        n = count // 2
        return [p for k in range(n) for p in (k, k + n)]

    def constants(self, v: Value) -> Named:
        """The numbers ``v``'s derivative formulas print by name: :data:`NAMED_CONSTANTS`, and
        ln c for each number c among ``v``'s operands that prints exactly (``3**x`` has the
        derivative ``v₂*ln(3)``)."""
        found = self._constants.get(v)
        if found is None:
            found = NAMED_CONSTANTS
            for p in v.operands:
                c = p if not isinstance(p, Value) else p.data if p.is_constant else math.nan
                named = ln_name(c) if c > 0.0 else None
                if named is not None:
                    found = {**found, math.log(c): named}
            self._constants[v] = found
        return found

    def value_at(self, v: Value) -> Callable[[Rounder], float]:
        """``v``'s value recomputed from what its definition shows (``pi*0.3``)."""
        op = v.op
        assert op is not None
        return lambda rounded: float(
            op.evaluate(*(self.shown_value(p, rounded, NAMED_CONSTANTS) for p in self.stand_ins(v)))
        )

    def derivative_at(self, v: Value, position: int) -> Callable[[Rounder], float]:
        """The local derivative ∂v/∂parent[position] recomputed from what its formula shows."""
        return lambda rounded: self.shown_value(self.derivatives(v)[position][1], rounded, self.constants(v))

    def shown_value(self, d: Any, rounded: Rounder, named: Named) -> float:
        """``d`` (a rule result over the named leaves, or a number) evaluated from what its
        formula shows: each leaf's and each number's value rounded as printed, the numbers
        printed by name (``named``) exact."""

        def number(x: float) -> float:
            return x if x in named or -x in named else rounded(x)

        if not isinstance(d, Value):
            return number(float(d))
        values: dict[Value, float] = {}
        stack = [d]
        while stack:
            u = stack[-1]
            op = u.op
            if u in self._leaves or op is None:
                values[u] = rounded(u.data) if u in self._leaves else number(u.data)
            else:
                pending = [p for p in u.parents if p not in values]
                if pending:
                    stack.extend(pending)
                    continue
                operands = (values[p] if isinstance(p, Value) else number(p) for p in u.operands)
                values[u] = float(op.evaluate(*operands))
            stack.pop()
        return values[d]

    def leaves(self, style: str, numbers: bool, digits: Digits) -> dict[Value, str]:
        """How to print each named leaf: as its name or as its rounded value (cached)."""
        key = (style, numbers, digits)
        found = self._names.get(key)
        if found is None:
            printer = STYLES[style]
            if numbers:
                found = {leaf: printer.operand(v.data, digits) for v, leaf in self.leaf.items()}
            else:
                found = {leaf: printer.name(self.name(v)) for v, leaf in self.leaf.items()}
            self._names[key] = found
        return found


def as_outputs(outputs: Value | Sequence[Value], who: str) -> list[Value]:
    """``outputs`` as a list of Values: one Value or a non-empty list/tuple of them."""
    if isinstance(outputs, Value):
        return [outputs]
    if isinstance(outputs, (list, tuple)) and outputs and all(isinstance(o, Value) for o in outputs):
        return list(outputs)
    raise TypeError(f"{who} needs a Value or a non-empty list of Values, got {outputs!r}")


def describe(g: Graph, ynames: list[str], latex: bool = False) -> str:
    """The caption of a trace or diagram: each output's formula and the point, e.g.
    ``y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5``."""
    printer = LATEX if latex else TEXT
    names = {v: printer.name(g.input_name(v)) for v in g.inputs}
    outputs = []
    for y, out in zip(ynames, g.outputs):
        try:
            text = formula(out, names, number=printer.exact, latex=latex, max_length=300, minus=printer.minus)
        except ValueError:
            text = printer.name(g.name(out))
        outputs.append(f"{printer.name(y)} = {text}")
    point = ", ".join(f"{names[v]} = {printer.number(v.data, 15)[0]}" for v in g.inputs)
    at = r" \text{ at } " if latex else " at "
    return ", ".join(outputs) + (at + point if point else "")


def with_tangent(caption: str, x: str) -> str:
    """A caption for forward mode w.r.t. the input named ``x``: ``…; tangents w.r.t. x₁``."""
    return f"{caption}; tangents w.r.t. {text_name(x)}"
