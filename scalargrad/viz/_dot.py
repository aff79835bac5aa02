"""Building the DOT source of a diagram with the ``graphviz`` package.

Node ids come from the notes' numbering (``v1``…``vn`` for the forward graph,
``a1``…``am`` for adjoint nodes of the extended graph), never from ``id()``, so
the same graph always gives byte-identical DOT. Labels are Graphviz *record*
labels (the WebAssembly Graphviz drops HTML-like labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autodiff import adjoints, tangents
from ..engine import Value, formula, topological_order
from ..trace import BAR, DOT, TEXT, Graph, format_number

__all__ = ["KINDS", "build_dot"]

KINDS = ("forward", "tangent", "adjoint", "extended")

_INPUT_FILL = "#eeeeee"
_ADJOINT_FILL = "#dbe9ff"
_ADJOINT_COLOR = "#1f5fbf"


def _record(*fields: str) -> str:
    """A record label whose fields stack vertically (rankdir=LR), with special characters escaped."""
    return "|".join(_escape(f) for f in fields)


def _escape(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    for ch in "{}|<>":
        out = out.replace(ch, "\\" + ch)
    return out


def _one_level(v: Value, names: dict[Value, str], digits: int) -> str:
    """``v``'s op over its parents' names (constants inline), e.g. ``ln(v1)``."""
    parents = {p: (TEXT.number(p.data, digits)[0] if p.is_constant else names[p]) for p in v.parents}
    return formula(v, parents, number=lambda x: TEXT.number(x, digits)[0])


def _count(outputs: Sequence[Value]) -> int:
    """The nodes a diagram shows: all but the constants, which are inline (unless outputs)."""
    shown = set(outputs)
    return sum(1 for v in topological_order(outputs) if not v.is_constant or v in shown)


def build_dot(outputs: Sequence[Value], kind: str, wrt: Value | None, max_nodes: int, digits: int) -> str:
    """The DOT source of one diagram (see :func:`scalargrad.viz.draw`)."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw needs the graphviz package: pip install 'scalargrad-autodiff[viz]'") from None

    n = _count(outputs)
    if n > max_nodes:
        raise ValueError(
            f"the graph has {n} nodes, more than max_nodes={max_nodes}; "
            f"pass a larger max_nodes to draw it anyway (large diagrams are hard to read)"
        )
    g = Graph(outputs)
    if kind == "tangent":
        if wrt is None:
            if not g.inputs:
                raise ValueError("a tangent diagram needs an input to differentiate against")
            wrt = g.inputs[0]
        elif wrt not in g.index or wrt.op is not None or wrt.is_constant:
            raise ValueError(f"wrt must be an input of the drawn graph, got {wrt!r}")
    dot = graphviz.Digraph(
        "scalargrad",
        graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11", "nodesep": "0.3"},
        node_attr={"shape": "record", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )
    names = {v: g.name(v) for v in g.order}
    outs = set(outputs)
    adjoint_names: dict[Value, str] = {}
    adjoint_order: list[Value] = []
    adj: dict[Value, Any] = {}
    if kind == "extended":
        targets = g.inputs if wrt is None else [wrt]
        adj = adjoints(list(outputs), create_graph=True, wrt=targets)
        adjoint_order, adjoint_names = _name_adjoints(g, adj)
        if n + len(adjoint_order) > max_nodes:
            raise ValueError(
                f"the extended graph has {n + len(adjoint_order)} nodes, more than max_nodes={max_nodes}; "
                "pass a larger max_nodes to draw it anyway (large diagrams are hard to read)"
            )
    elif kind == "adjoint":
        adj = adjoints(list(outputs))

    extra = _extra_fields(g, kind, wrt, adj, digits)
    forward = dot
    if kind == "extended":
        forward = graphviz.Digraph(
            "cluster_forward", graph_attr={"label": "forward graph", "style": "rounded"}
        )
    for v in g.order:
        head = names[v] if v.op is None else f"{names[v]} = {_one_level(v, names, digits)}"
        if v.op is None and v.label is not None:
            head = f"{names[v]} = {v.label}"
        fields = [head, format_number(v.data, digits), *extra.get(v, [])]
        shown = isinstance(adj.get(v), Value) and adjoint_names.get(adj[v]) == g.name(v, BAR)
        if kind == "extended" and v in adj and not shown:
            fields.append(f"{g.name(v, BAR)} = {_adjoint_text(adj[v], names, adjoint_names, digits)}")
        attrs: dict[str, str] = {}
        if v.op is None:
            attrs.update(style="filled", fillcolor=_INPUT_FILL)
        if v in outs:
            attrs["penwidth"] = "2"
        forward.node(names[v], graphviz.nohtml(_record(*fields)), **attrs)
    for v in g.order:
        for label, p in _edges(g, v, kind, adj, digits):
            if label:
                forward.edge(names[p], names[v], label=label)
            else:
                forward.edge(names[p], names[v])
    if kind == "extended":
        dot.subgraph(forward)
        _draw_adjoint_side(dot, graphviz, adjoint_order, names, adjoint_names, digits)
    return str(dot.source)


def _extra_fields(
    g: Graph, kind: str, wrt: Value | None, adj: dict[Value, Any], digits: int
) -> dict[Value, list[str]]:
    """Tangent or adjoint fields per node, e.g. ``v̄3 = 1``."""
    if kind == "tangent":
        assert wrt is not None
        tangent = tangents(g.outputs, {wrt: 1.0})  # forward mode's walk: the numbers jvp gives
        return {v: [f"{g.name(v, DOT)} = {format_number(tangent.get(v, 0.0), digits)}"] for v in g.order}
    if kind == "adjoint":
        return {v: [f"{g.name(v, BAR)} = {format_number(adj.get(v, 0.0), digits)}"] for v in g.order}
    return {}


def _edges(g: Graph, v: Value, kind: str, adj: dict[Value, Any], digits: int) -> list[tuple[str, Value]]:
    """(label, parent) for each edge into ``v``: local derivatives, or partial adjoints."""
    if v.op is None:
        return []
    out = []
    if kind == "adjoint":
        for p, d in zip(v.parents, v.local_grads):
            if not p.is_constant:
                partial = f"{BAR}{g.index[p]}→{g.index[v]}"
                out.append((f"v{partial} = {format_number(adj[v] * d, digits)}", p))
        return out
    if kind == "extended":
        return [("", p) for p in v.parents if not p.is_constant]
    symbols = g.leaves("text", False, digits)
    for (p, rule), d in zip(g.derivatives(v), v.local_grads):
        if p.is_constant:
            continue
        value = format_number(d, digits)
        formula = TEXT.expr(rule, symbols, digits)[0]
        out.append((value if formula == value else f"{formula} = {value}", p))
    return out


def _name_adjoints(g: Graph, adj: dict[Value, Any]) -> tuple[list[Value], dict[Value, str]]:
    """The extended graph's adjoint nodes in topological order, and their names.

    An adjoint node is named v̄k after its forward node (the one nearest the
    output, where one node is the adjoint of several); the nodes in between
    are named by their position, ``a1``, ``a2``, … (also their DOT ids).
    """
    forward = set(g.order)
    side = [a for a in adj.values() if isinstance(a, Value)]
    order = [u for u in topological_order(side) if u not in forward and not u.is_constant] if side else []
    names = {u: f"a{i + 1}" for i, u in enumerate(order)}
    named: set[Value] = set()
    for v in reversed(g.order):
        a = adj.get(v)
        if isinstance(a, Value) and a in names and a not in named:
            names[a] = g.name(v, BAR)
            named.add(a)
    return order, names


def _adjoint_text(a: Any, names: dict[Value, str], adjoint_names: dict[Value, str], digits: int) -> str:
    if isinstance(a, Value):
        if a in names:
            return names[a]
        if a in adjoint_names:
            return adjoint_names[a]
        return format_number(a.data, digits)
    return format_number(float(a), digits)


def _draw_adjoint_side(
    dot: Any,
    graphviz: Any,
    order: list[Value],
    names: dict[Value, str],
    adjoint_names: dict[Value, str],
    digits: int,
) -> None:
    """The adjoint nodes of the extended graph, in their own cluster, with their edges."""
    if not order:  # e.g. every adjoint is a number or a forward node
        return
    everything = {**names, **adjoint_names}
    cluster = graphviz.Digraph(
        "cluster_adjoint",
        graph_attr={"label": "adjoint graph", "style": "rounded", "color": _ADJOINT_COLOR},
    )
    ids = {u: f"a{i + 1}" for i, u in enumerate(order)}
    for u in order:
        fields = [f"{adjoint_names[u]} = {_one_level(u, everything, digits)}", format_number(u.data, digits)]
        cluster.node(
            ids[u],
            graphviz.nohtml(_record(*fields)),
            style="filled",
            fillcolor=_ADJOINT_FILL,
            color=_ADJOINT_COLOR,
        )
    dot.subgraph(cluster)
    for u in order:
        for p in u.parents:
            if p.is_constant:
                continue
            source = ids[p] if p in ids else names[p]
            dot.edge(source, ids[u], color=_ADJOINT_COLOR)
