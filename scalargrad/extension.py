"""The notes' extended graph: reverse mode by extending the computational graph, named.

The notes draw reverse mode as new nodes added to the forward graph (the figure
for ``(exp(v₁) + 1)·exp(v₁)``). :class:`Extension` builds that figure for any
graph, every node named in the notes' notation and nothing else:

* every adjoint v̄ᵢ of a forward node that depends on an input differentiated
  against is a node; an output's is the seed ``v̄ₙ = 1``;
* a node vₖ with one consumer vᵢ has v̄ₖ = v̄ᵢ·∂vᵢ/∂vₖ as its adjoint node;
  one with several consumers gets a node for each partial adjoint
  ``v̄ₖ→ᵢ = v̄ᵢ·∂vᵢ/∂vₖ`` and its adjoint is their sum ``v̄ₖ = v̄ₖ→ᵢ + v̄ₖ→ⱼ``;
  a consumer that reads vₖ at several operand positions (``x*x``, a dot) passes
  back one partial adjoint per use, ``v̄ₖ→ᵢ⁽¹⁾``, ``v̄ₖ→ᵢ⁽²⁾`` in operand order, each
  with the local derivative of its position (``∂vᵢ/∂vₖ⁽²⁾`` when that is a node), as
  the reverse walk appends them;
  a partial adjoint that *is* v̄ᵢ (∂vᵢ/∂vₖ = 1) is no node but the edge from
  v̄ᵢ into the sum, labelled ``v̄ₖ→ᵢ``;
* the local derivative ∂vᵢ/∂vₖ multiplies in as what the op's rule gives: a
  number inline (``v̄₉ = −v̄₁₀``, ``v̄₁ = v̄₂·3``), a forward node by an edge from
  it (``v̄₃ = v̄₄·v₂``), and any other formula as a node of its own,
  ``∂vᵢ/∂vₖ = formula`` (``∂v₆/∂v₃ = 1/(1 + v₃*v₃)``), with edges from the
  forward nodes it reads.

Each new node records the forward node whose column it is drawn in and the
forward node whose visit in the notes' algorithm makes it: a seed or a sum v̄ₖ
belongs to vₖ; what vᵢ sends back to an input vₖ (the partial adjoint, which is
v̄ₖ itself when vᵢ is vₖ's only consumer, and the local derivative ∂vᵢ/∂vₖ)
belongs to vᵢ. So the adjoint graph mirrors the forward graph, right to left. Values are the float
reverse walk's (:func:`scalargrad.adjoints`) and the ops' local derivatives, so
the figure's numbers are the ones ``backward`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .autodiff import adjoints
from .core import Partial, Value, topological_order
from .notation.names import BAR, SUBSCRIPTS, SUPERSCRIPTS, TEXT, Digits
from .notation.numbering import Graph

__all__ = ["AdjointEdge", "AdjointNode", "Extension", "GradientGraph"]

TIMES = "·"


@dataclass(frozen=True)
class AdjointNode:
    """One node the extension adds.

    ``id`` is its DOT id (``a1``…), ``name`` its notation (``v̄₃``, ``v̄₂→₄``,
    ``∂v₆/∂v₃``), ``definition`` what it computes over other names (``v̄₄·v₂``;
    empty for a seed), ``kind`` one of ``"seed"``, ``"sum"`` (an adjoint summing
    partial adjoints), ``"adjoint"`` (one that is its only partial adjoint),
    ``"partial"``, ``"derivative"``; ``column`` the forward node it is drawn under and ``made_at``
    the forward node whose visit makes it.
    """

    id: str
    name: str
    definition: str
    value: float
    kind: str
    column: Value
    made_at: Value

    def text(self) -> str:
        """``name = definition`` (or just the name of a seed)."""
        return f"{self.name} = {self.definition}" if self.definition else self.name


@dataclass(frozen=True)
class AdjointEdge:
    """An edge into an adjoint-side node: from a forward node (``v3``) or a new one (``a2``)."""

    source: str
    target: str
    label: str = ""


class Extension:
    """The extended graph of ``g`` for the inputs ``targets``, in the notes' notation.

    ``nodes`` are the new nodes in the order the notes' algorithm makes them (the
    visits in reverse topological order), ``edges`` the edges into them, and
    ``adjoint_of`` maps each forward node with an adjoint to its adjoint node.
    """

    def __init__(self, g: Graph, targets: list[Value], digits: Digits = 3) -> None:
        self.g = g
        self.digits = digits
        wanted = set(targets)
        needed: set[Value] = set()
        for v in g.order:  # nodes on a path from a target: their consumers are too
            if v in wanted or any(p in needed for p in v.parents):
                needed.add(v)
        self.needed = needed
        self.adjoint = adjoints(list(g.outputs))
        self.consumers: dict[Value, list[Value]] = {v: [] for v in g.order}
        self.uses: dict[Value, list[tuple[Value, int]]] = {v: [] for v in g.order}
        for v in g.order:
            if v not in needed:
                continue
            for position, p in enumerate(v.parents):
                if p in needed:
                    self.uses[p].append((v, position))
            for p in dict.fromkeys(v.parents):
                if p in needed:
                    self.consumers[p].append(v)
        self.nodes: list[AdjointNode] = []
        self.edges: list[AdjointEdge] = []
        self.adjoint_of: dict[Value, AdjointNode] = {}
        # (k, i, position) -> (edge source, label) of the partial adjoint that use passes back
        self._partial_edges: dict[tuple[Value, Value, int], tuple[str, str]] = {}
        self._forward_of = {leaf: v for v, leaf in g.leaf.items()}  # a rule's named leaf -> its node
        self._outputs = outputs = set(g.outputs)
        self.visits = [v for v in reversed(g.order) if v in needed]
        for v in self.visits:
            self._sum(v, v in outputs)
            if v.op is not None:
                for position, k in enumerate(v.parents):
                    if k in needed:
                        self._pass_back(v, k, position)

    # --- names -----------------------------------------------------------------
    def name(self, v: Value, mark: str = "") -> str:
        return TEXT.name(self.g.name(v, mark))

    def partial_name(self, k: Value, i: Value, position: int | None = None) -> str:
        return TEXT.name(self.g.partial_name(k, i, position))

    def _add(
        self, name: str, definition: str, value: float, kind: str, column: Value, made_at: Value
    ) -> AdjointNode:
        node = AdjointNode(f"a{len(self.nodes) + 1}", name, definition, value, kind, column, made_at)
        self.nodes.append(node)
        return node

    # --- the notes' algorithm --------------------------------------------------
    def _sum(self, v: Value, is_output: bool) -> None:
        """Visiting v: its adjoint is the seed, or the sum of the partial adjoints it received."""
        bar = self.name(v, BAR)
        value = float(self.adjoint.get(v, 0.0))
        if not is_output and len(self.uses[v]) == 1:
            return  # its one partial adjoint is its adjoint node, made when its consumer was visited
        sources: list[tuple[str, str]] = []  # (edge source, label) per summand, in the sum's order
        names: list[str] = []
        for i, position in self.uses[v]:
            source, label = self._partial_edges[(v, i, position)]
            sources.append((source, label))
            names.append(self.partial_name(v, i, position))
        if is_output:
            ynames = [y for o, y in zip(self.g.outputs, self.g.output_names()) if o is v]
            if not sources and len(ynames) == 1:
                self.adjoint_of[v] = self._add(bar, "", 1.0, "seed", v, v)
                return
            for k, y in enumerate(ynames):  # node_to_grad starts with the seeds: {out: [1]}
                seed = self._add(f"{bar}→{TEXT.name(y)}", "", 1.0, "seed", v, v)
                sources.insert(k, (seed.id, ""))
                names.insert(k, seed.name)
        node = self._add(bar, " + ".join(names), value, "sum", v, v)
        self.adjoint_of[v] = node
        for source, label in sources:
            self.edges.append(AdjointEdge(source, node.id, label))

    def _pass_back(self, i: Value, k: Value, position: int) -> None:
        """Visiting i: the partial adjoint v̄ₖ→ᵢ = v̄ᵢ·∂vᵢ/∂vₖ it passes to its input k at
        operand ``position``; one per use where i reads k more than once (v̄ₖ→ᵢ⁽¹⁾, v̄ₖ→ᵢ⁽²⁾)."""
        g = self.g
        a = self.adjoint_of[i]
        rule: Any = g.derivatives(i)[position][1]
        local = i.local_grads[position]
        value = float(self.adjoint.get(i, 0.0)) * local
        several = len(self.uses[k]) > 1 or k in self._outputs
        name = self.partial_name(k, i, position) if several else self.name(k, BAR)
        reads: list[Value] = []
        if isinstance(rule, Value):
            reads = [self._forward_of[u] for u in topological_order([rule]) if u in self._forward_of]
        if not reads:  # a number
            c = float(rule.data) if isinstance(rule, Value) else float(rule)
            if c == 1.0:
                if several:
                    self._partial_edges[(k, i, position)] = (a.id, name)
                else:
                    node = self._add(name, a.name, value, "adjoint", i, i)
                    self.edges.append(AdjointEdge(a.id, node.id))
                    self.adjoint_of[k] = node
                return
            shown = TEXT.constant(c, self.digits, g.constants(i))
            definition = f"{TEXT.minus}{a.name}" if c == -1.0 else f"{a.name}{TIMES}{_operand(shown)}"
            sources = [a.id]
        elif len(reads) == 1 and rule is g.leaf[reads[0]]:
            definition = f"{a.name}{TIMES}{self.name(reads[0])}"
            sources = [a.id, g.name(reads[0])]
        else:
            symbols = g.leaves("text", False, self.digits)
            formula = TEXT.expr(rule, symbols, self.digits, g.constants(i))[0]
            use = g.use_number(i, position)
            mark = "" if use is None else f"({use})".translate(SUPERSCRIPTS)
            d = self._add(f"∂{self.name(i)}/∂{self.name(k)}{mark}", formula, float(local), "derivative", i, i)
            for u in dict.fromkeys(reads):
                self.edges.append(AdjointEdge(g.name(u), d.id))
            definition = f"{a.name}{TIMES}{d.name}"
            sources = [a.id, d.id]
        node = self._add(name, definition, value, "partial" if several else "adjoint", i, i)
        for source in sources:
            self.edges.append(AdjointEdge(source, node.id))
        if several:
            self._partial_edges[(k, i, position)] = (node.id, "")
        else:
            self.adjoint_of[k] = node


def _operand(text: str) -> str:
    """A number as a factor: in parentheses when it has a sign (``v̄₂·(−3)``)."""
    return f"({text})" if text.startswith(("-", TEXT.minus)) else text


class GradientGraph:
    """The nodes ``grad(..., create_graph=True)`` builds (the compact extended diagram), named.

    ``adj`` and ``node_to_grad`` are the create_graph walk's, ``order`` the new
    nodes in topological order, ``ids`` their DOT ids ``a1``…, ``names`` their
    names: v̄ₖ, v̄ₖ→ᵢ, ∂vᵢ/∂vₖ where the node is one, and t₁, t₂, … for the
    intermediate values of a derivative rule (``−sin(v₁)`` builds ``sin(v₁)``
    first); ``partial_names`` the partial adjoint each sum node adds. Unlike
    :class:`Extension` the walk folds what the numbers allow (the seed 1, a
    factor ±1), so an adjoint may be a forward node or a number and have no node.
    """

    def __init__(self, g: Graph, targets: list[Value]) -> None:
        self.g = g
        forward = set(g.order)
        self.node_to_grad: dict[Value, list[Partial]] = {}
        self.adj = adjoints(list(g.outputs), create_graph=True, wrt=targets, node_to_grad=self.node_to_grad)
        made = [a for a in self.adj.values() if isinstance(a, Value)]
        self.order = (
            [u for u in topological_order(made) if u not in forward and not u.is_constant] if made else []
        )
        self.ids = {u: f"a{i + 1}" for i, u in enumerate(self.order)}
        self.names: dict[Value, str] = {}
        self.partial_names: dict[tuple[Value, Value], str] = {}  # (sum node, term) -> v̄k→i
        for v in reversed(g.order):
            a = self.adj.get(v)
            bar = TEXT.name(g.name(v, BAR))
            if isinstance(a, Value) and a in self.ids:
                self.names.setdefault(a, bar)
            partials = self.node_to_grad.get(v, [])
            if len(partials) < 2:
                continue
            for child, position, term in partials:
                if child is None:
                    continue
                partial = TEXT.name(g.partial_name(v, child, position))
                if isinstance(term, Value) and term in self.ids:
                    self.names.setdefault(term, partial)
                if isinstance(a, Value):
                    self.partial_names[(a, term)] = partial if isinstance(term, Value) else ""
        self.partials = self._partials()
        made_for = {(term, child): (parent, position) for (child, parent, position), term in self.partials}
        for (child, _, _), term in self.partials:
            # a partial adjoint v̄i·∂vi/∂vk: name the local derivative it multiplies by
            # (v̄i·d, or −d where v̄i = −1 folded away)
            if term.op is None or term.op.name not in ("mul", "neg"):
                continue
            if term.op.name == "mul" and self.adj.get(child) not in term.parents:
                continue
            others = [p for p in term.parents if p is not self.adj.get(child)]
            for d in others[:1]:
                if d in self.ids and d not in self.names:
                    self.names[d] = self._derivative_name(child, *made_for[(term, child)])
        self._name_running_sums()
        seen: set[str] = set()
        for u in self.order:  # a name the heuristics above gave twice names only its first node
            if u in self.names and self.names[u] in seen:
                del self.names[u]
            elif u in self.names:
                seen.add(self.names[u])
        rest = [u for u in self.order if u not in self.names]  # intermediate nodes of a rule
        for i, u in enumerate(rest):
            self.names[u] = f"t{str(i + 1).translate(SUBSCRIPTS)}"

    def _name_running_sums(self) -> None:
        """Name the partial sums of a node with three or more consumers after the partial adjoints
        they add up: v̄₁ = v̄₁→₃,₄ + v̄₁→₂ where v̄₁→₃,₄ = v̄₁→₄ + v̄₁→₃, the walk's running sum."""
        g = self.g
        for v, partials in self.node_to_grad.items():
            children = [child for child, _, _ in partials]
            if len(partials) < 3 or None in children or len(set(children)) < len(children):
                continue  # a child using v twice has a partial adjoint per use: no one index for the sum
            node = self.adj.get(v)
            for k in range(len(partials) - 1, 1, -1):  # node is the sum of the first k + 1 terms
                if not isinstance(node, Value) or node.op is None or node.op.name != "add":
                    break
                node = node.parents[0]
                if node not in self.ids or node in self.names:
                    break
                consumers = ",".join(str(i) for i in sorted(g.index[c] for c in children[:k]))  # type: ignore[index]
                self.names[node] = f"{TEXT.name(g.name(v, BAR))}→{consumers.translate(SUBSCRIPTS)}"

    def _partials(self) -> list[tuple[tuple[Value, Value, int], Value]]:
        """((child, parent, position), partial-adjoint node) for every partial adjoint that is a new node."""
        found = []
        for v, partials in self.node_to_grad.items():
            for child, position, term in partials:
                if child is not None and isinstance(term, Value) and term in self.ids:
                    found.append(((child, v, position), term))
        return found

    def _derivative_name(self, child: Value, parent: Value, position: int) -> str:
        g = self.g
        use = g.use_number(child, position)
        mark = "" if use is None else f"({use})".translate(SUPERSCRIPTS)
        return f"∂{TEXT.name(g.name(child))}/∂{TEXT.name(g.name(parent))}{mark}"
