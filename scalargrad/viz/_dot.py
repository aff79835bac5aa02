"""Building the DOT source of a diagram with the ``graphviz`` package.

Node ids come from the notes' numbering (``v1``…``vn`` for the forward graph,
``a1``…``am`` for adjoint nodes of the extended graph), never from ``id()``, so
the same graph always gives byte-identical DOT. Labels use the notation of the
trace tables (``v₃``, ``v̄₂→₅``, ``v̇₄``, the minus sign ``−``) and are Graphviz
*record* labels (the WebAssembly Graphviz drops HTML-like labels).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from ..arrays import entry_name
from ..autodiff import adjoints, tangents
from ..core import Value, topological_order
from ..extension import Extension, GradientGraph
from ..notation.formula import formula
from ..notation.names import BAR, DOT, TEXT, Digits, visible
from ..notation.numbering import Graph
from ._layout import Box, place, text_width

__all__ = [
    "EXTENDED_STYLES",
    "KINDS",
    "Groups",
    "TooManyNodesError",
    "build_dot",
    "group_boxes",
    "tensor_groups",
]

KINDS = ("forward", "tangent", "adjoint", "extended")
Groups = Sequence[tuple[str, Sequence[tuple[str, Value]]]]
"""Tensors to box in a diagram: (title, [(entry name, node), …]) each."""
EXTENDED_STYLES = ("notes", "compact")

_INPUT_FILL = "#eeeeee"
_GROUP_BOX = {"style": "rounded", "color": "#888888", "labelloc": "t", "labeljust": "l", "fontsize": "12"}
"""How a tensor (a group of entries) is boxed."""
_ADJOINT_NODE = {"style": "filled", "fillcolor": "#dbe9ff", "color": "#1f5fbf"}
_ADJOINT_CLUSTER = {
    "label": "adjoint graph",
    "style": "rounded",
    "color": "#1f5fbf",
    "fontcolor": "#1f5fbf",
    "labelloc": "b",
    "labeljust": "r",
}
_ADJOINT_FILL = "#dbe9ff"
_ADJOINT_COLOR = "#1f5fbf"


def record(*fields: str) -> str:
    """A record label whose fields stack vertically (rankdir=LR), with special characters escaped."""
    return "|".join(_escape(f) for f in fields)


def lines(*texts: str) -> str:
    """A plain label of one line per text (for ``shape=box``), with special characters escaped."""
    return "\\n".join(plain_label(t).replace('"', '\\"') for t in texts)


def plain_label(text: str) -> str:
    """``text`` as a graph's ``label`` shows it: backslashes doubled, or Graphviz would read
    ``\\n``, ``\\l``, ``\\G`` in a name as its own escapes, and always a quoted string: the
    graphviz package would pass a text in ``<…>`` through as an HTML-like label, markup and
    all (a caption could then add nodes, links or attributes to the diagram). Control
    characters are written as escapes (:func:`~scalargrad.notation.names.visible`); ``&`` is
    written ``&amp;``: Graphviz decodes entities in every label, so ``&lt;`` would show ``<``."""
    import graphviz

    return graphviz.nohtml(visible(text).replace("\\", "\\\\").replace("&", "&amp;"))  # type: ignore[no-any-return]


def _escape(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    for ch in "{}|<>":
        out = out.replace(ch, "\\" + ch)
    return out


def _number(x: float, digits: Digits) -> str:
    return TEXT.number(x, digits)[0]


def one_level(v: Value, names: dict[Value, str], digits: Digits) -> str:
    """``v``'s op over its operands' names (numbers inline, π and e by name), e.g. ``ln(v₁)``."""
    parents = {p: (_number(p.data, digits) if p.is_constant else names[p]) for p in v.parents}
    return formula(v, parents, number=lambda x: TEXT.constant(x, digits), max_length=2**62, minus=TEXT.minus)


def _count(outputs: Sequence[Value]) -> int:
    """The nodes a diagram shows: all but the constants, which are inline (unless outputs)."""
    shown = set(outputs)
    return sum(1 for v in topological_order(outputs) if not v.is_constant or v in shown)


def _label_pad(label: str, fontsize: float) -> str:
    """The ``pad`` (inches: sides, top and bottom) of a graph with ``label`` above it.

    Graphviz sizes the label in Helvetica and centres the text on that width. A renderer
    that draws it in a wider font (resvg falls back to DejaVu Sans, about 15 % wider, for
    the subscripts and accents) spills it over both ends, so each side gets room for that.
    """
    width = len(label) * 0.55 * fontsize / 72
    return f"{0.1 + 0.08 * width:.2f},0.1"


class TooManyNodesError(ValueError):
    """A graph with more nodes than ``max_nodes``: ``what`` (``"the graph"``) has ``nodes``.

    A ValueError; :meth:`message` words it for the option that sets the limit
    (``--max-nodes`` on the command line).
    """

    def __init__(self, what: str, nodes: int, max_nodes: int) -> None:
        self.what, self.nodes, self.max_nodes = what, nodes, max_nodes
        super().__init__(self.message("max_nodes", "="))

    def message(self, option: str, sep: str = " ") -> str:
        return (
            f"{self.what} has {self.nodes} nodes, more than {option}{sep}{self.max_nodes}; "
            f"pass a larger {option} to draw it anyway (large diagrams are hard to read)"
        )


def build_dot(
    outputs: Sequence[Value],
    kind: str,
    wrt: Value | None,
    max_nodes: int,
    digits: Digits,
    *,
    caption: str | None = None,
    style: str | None = None,
    groups: Groups = (),
) -> str:
    """The DOT source of one diagram (see :func:`scalargrad.viz.draw`); ``groups`` are
    (title, [(entry name, node), …]) pairs, each drawn as one labelled box."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw needs the graphviz package: pip install 'scalargrad-autodiff[viz]'") from None

    n = _count(outputs)
    if n > max_nodes:
        raise TooManyNodesError("the graph", n, max_nodes)
    g = Graph(outputs)
    if kind == "tangent" and wrt is None:
        if not g.inputs:
            raise ValueError("a tangent diagram needs an input to differentiate against")
        wrt = g.inputs[0]
    if wrt is not None and (wrt not in g.index or wrt.op is not None or wrt.is_constant):
        raise ValueError(f"wrt must be an input of the drawn graph, got {wrt!r}")
    graph_attr = {"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11", "nodesep": "0.3"}
    if caption:
        graph_attr.update(label=plain_label(caption), labelloc="t", labeljust="l", fontsize="12")
        graph_attr["pad"] = _label_pad(caption, 12)
    dot = graphviz.Digraph(
        "scalargrad",
        graph_attr=graph_attr,
        node_attr={"shape": "record", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )
    names = {v: TEXT.name(g.name(v)) for v in g.order}
    outs = set(outputs)
    side: _AdjointSide | None = None
    notes: Extension | None = None
    adj: dict[Value, Any] = {}
    if kind == "extended":
        targets = [wrt] if wrt is not None else g.inputs
        if (style or "notes") == "notes":
            notes = Extension(g, targets, digits)
            added = len(notes.nodes)
        else:
            side = _AdjointSide(g, targets)
            added = len(side.order)
        if n + added > max_nodes:
            raise TooManyNodesError("the extended graph", n + added, max_nodes)
    elif kind == "adjoint":
        adj = adjoints(list(outputs))

    if notes is not None:
        return _notes_figure(dot, graphviz, notes, outs, digits)
    extra = _extra_fields(g, kind, wrt, adj, digits)
    forward = dot
    if kind == "extended":
        forward = graphviz.Digraph(
            "cluster_forward",
            graph_attr={"label": "forward graph", "style": "rounded", "labelloc": "t", "labeljust": "l"},
        )
    boxes, entries = group_boxes(graphviz, g, groups)
    for v in g.order:
        fields = [node_head(v, names, digits, entries.get(v)), _number(v.data, digits), *extra.get(v, [])]
        if side is not None:
            fields += side.forward_fields(v, digits)
        attrs: dict[str, str] = {}
        if v.op is None:
            attrs.update(style="filled", fillcolor=_INPUT_FILL)
        if v in outs:
            attrs["penwidth"] = "2"
        boxes.get(v, forward).node(g.name(v), graphviz.nohtml(record(*fields)), **attrs)
    for box in dict.fromkeys(boxes.values()):
        forward.subgraph(box)
    for v in g.order:
        for label, p in _edges(g, v, kind, adj, digits):
            if label:
                forward.edge(g.name(p), g.name(v), label=label)
            else:
                forward.edge(g.name(p), g.name(v))
    if forward is not dot:
        dot.subgraph(forward)
    if side is not None:
        side.draw(dot, graphviz, digits)
    return str(dot.source)


def tensor_groups(groups: Mapping[str, Any] | None, kind: str) -> Groups:
    """``draw``'s (and the step pictures') ``groups`` as (title, [(entry name, Value), …]),
    entries named as the notes name them (``Z₁₁``, ``x₃``)."""
    if not groups:
        return []
    if kind == "extended":
        raise ValueError("groups box tensors in forward, tangent and adjoint diagrams, not in extended ones")
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must map names to arrays of Values, got {type(groups).__name__}")
    out = []
    for name, members in groups.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"groups: each name must be a non-empty string, got {name!r}")
        if isinstance(members, Value):
            out.append((name, [(TEXT.name(name), members)]))
            continue
        shape = getattr(members, "shape", None)
        if shape is None:
            import numpy as np

            members = np.array(members, dtype=object)
            shape = members.shape
        entries = []
        for index in itertools.product(*(range(n) for n in shape)):
            v = members[index]
            if not isinstance(v, Value):
                raise TypeError(f"groups: {name}{list(index)} is {type(v).__name__}, not a Value")
            entries.append((entry_name(name, index, shape), v))
        out.append((name, entries))
    return out


def group_boxes(graphviz: Any, g: Graph, groups: Groups) -> tuple[dict[Value, Any], dict[Value, str]]:
    """One labelled cluster per group, and the entry name of each node in one: a node is
    declared in ``boxes[v]`` (when it has one) instead of the diagram, and the caller adds
    each box to the diagram after its nodes (``dict.fromkeys(boxes.values())``)."""
    boxes: dict[Value, Any] = {}
    entries: dict[Value, str] = {}
    for k, (title, members) in enumerate(groups):
        box = graphviz.Digraph(f"cluster_group{k + 1}", graph_attr=_GROUP_BOX | {"label": plain_label(title)})
        for entry, v in members:
            if v in g.index and v not in boxes:
                boxes[v] = box
                entries[v] = entry
    return boxes, entries


def node_head(v: Value, names: dict[Value, str], digits: Digits, entry: str | None = None) -> str:
    """A forward node's first line: ``v₃ = ln(v₁)``, ``v₁ = x₁`` for a named input, and for a
    computed entry ``entry`` of a tensor ``v₉ = Z₁₁ = v₅ + v₆``."""
    if v.op is None and v.label is not None:
        return f"{names[v]} = {TEXT.name(v.label)}"
    if entry is not None:
        return f"{names[v]} = {entry} = {one_level(v, names, digits)}"
    return names[v] if v.op is None else f"{names[v]} = {one_level(v, names, digits)}"


def _notes_figure(dot: Any, graphviz: Any, ext: Extension, outs: set[Value], digits: Digits) -> str:
    """The extended graph as the notes draw it: the forward graph above, the adjoint graph
    mirrored below it (see :func:`draw_extension`)."""
    g = ext.g
    names = {v: TEXT.name(g.name(v)) for v in g.order}
    dot.node_attr.update(shape="box")
    for v in g.order:
        attrs: dict[str, str] = {}
        if v.op is None:
            attrs.update(style="filled", fillcolor=_INPUT_FILL)
        if v in outs:
            attrs["penwidth"] = "2"
        label = lines(node_head(v, names, digits), _number(v.data, digits))
        dot.node(g.name(v), graphviz.nohtml(label), **attrs)
    for v in g.order:
        for p in v.parents:
            if p in g.index:
                dot.edge(g.name(p), g.name(v))
    draw_extension(dot, graphviz, ext, digits)
    return str(dot.source)


def draw_extension(
    dot: Any,
    graphviz: Any,
    ext: Extension,
    digits: Digits,
    *,
    fontsize: float = 11.0,
    styles: dict[str, dict[str, str]] | None = None,
) -> None:
    """The new nodes and edges of the notes' extended graph (:class:`~scalargrad.extension.Extension`),
    and a place for every node, the forward ones (declared by the caller) included.

    Each forward node keeps its column (:func:`columns`); each new node stands in the column
    of its forward node, below the forward graph, so the adjoint graph mirrors the forward
    graph right to left, and a local derivative sits right above the partial adjoint that
    uses it. scalargrad places the nodes (:mod:`._layout`) and Graphviz only routes the
    edges (``neato`` with every node pinned): Graphviz's ``dot`` puts either cluster on top
    and sends long edges around the outside. ``styles`` restyles new nodes by id; a node
    styled ``invis`` hides its edges too (the step pictures keep later nodes' places).
    """
    styles = styles or {}
    g = ext.g
    rank = columns(g)
    names = {v: TEXT.name(g.name(v)) for v in g.order}
    boxes = [
        Box(g.name(v), [node_head(v, names, digits), _number(v.data, digits)], rank[v], 0) for v in g.order
    ]
    boxes += [Box(u.id, [u.text(), _number(u.value, digits)], rank[u.column], 1) for u in ext.nodes]
    forward_edges = [(g.name(p), g.name(v)) for v in g.order for p in v.parents if p in g.index]
    derivatives = {u.id for u in ext.nodes if u.kind == "derivative"}
    above = {e.source: e.target for e in ext.edges if e.source in derivatives}
    edges = forward_edges + [(e.source, e.target) for e in ext.edges]
    pos = place(boxes, edges, fontsize, above=above)
    dot.attr(layout="neato", splines="true", overlap="true", outputorder="edgesfirst")
    for box in boxes:
        x, y = pos[box.id]
        at = f"{x / 72:.3f},{y / 72:.3f}!"
        if not box.band:
            dot.node(box.id, pos=at)
            continue
        attrs = {**_ADJOINT_NODE, **styles.get(box.id, {})}
        dot.node(box.id, graphviz.nohtml(lines(*box.lines)), shape="box", pos=at, **attrs)
    for band, title in enumerate(("forward graph", "adjoint graph")):  # above each band, at the left
        inside = [box for box in boxes if box.band == band]
        if inside:
            sizes = {box.id: box.size(fontsize) for box in inside}
            top = max(pos[b.id][1] + sizes[b.id][1] / 2 for b in inside)
            left = min(pos[b.id][0] - sizes[b.id][0] / 2 for b in inside)
            x = left + text_width(title, fontsize) / 2
            color = {"fontcolor": _ADJOINT_COLOR} if band else {}
            at = f"{x / 72:.3f},{(top + fontsize + 3) / 72:.3f}!"
            dot.node(
                f"band{band}", title, shape="plaintext", height="0", width="0", margin="0", pos=at, **color
            )
    hidden = {ident for ident, style in styles.items() if style.get("style") == "invis"}
    for e in ext.edges:
        attrs = {"color": _ADJOINT_COLOR}
        if e.label:  # an external label sits by its edge
            attrs.update(xlabel=e.label, fontcolor=_ADJOINT_COLOR)
        if e.source in hidden or e.target in hidden:
            attrs["style"] = "invis"
        dot.edge(e.source, e.target, **attrs)


def _extra_fields(
    g: Graph, kind: str, wrt: Value | None, adj: dict[Value, Any], digits: Digits
) -> dict[Value, list[str]]:
    """Tangent or adjoint fields per node, e.g. ``v̄₃ = 1``."""
    if kind == "tangent":
        assert wrt is not None
        tangent = tangents(g.outputs, {wrt: 1.0})  # forward mode's walk: the numbers jvp gives
        return {v: [f"{TEXT.name(g.name(v, DOT))} = {_number(tangent.get(v, 0.0), digits)}"] for v in g.order}
    if kind == "adjoint":
        return {v: [f"{TEXT.name(g.name(v, BAR))} = {_number(adj.get(v, 0.0), digits)}"] for v in g.order}
    return {}


def _edges(g: Graph, v: Value, kind: str, adj: dict[Value, Any], digits: Digits) -> list[tuple[str, Value]]:
    """(label, parent) for each edge into ``v``: local derivatives, or partial adjoints."""
    if v.op is None:
        return []
    out = []
    if kind == "adjoint":
        for position, (p, d) in enumerate(zip(v.parents, v.local_grads)):
            if not p.is_constant:
                partial = TEXT.name(g.partial_name(p, v, position))
                out.append((f"{partial} = {_number(adj[v] * d, digits)}", p))
        return out
    if kind == "extended":
        return [("", p) for p in v.parents if not p.is_constant]
    symbols = g.leaves("text", False, digits)
    for (p, rule), d in zip(g.derivatives(v), v.local_grads):
        if p.is_constant:
            continue
        value = _number(d, digits)
        text = TEXT.expr(rule, symbols, digits, g.constants(v))[0]
        out.append((value if text == value else f"{text} = {value}", p))
    return out


def columns(g: Graph) -> dict[Value, int]:
    """The column (rank, left to right) of each forward node: one past its furthest operand,
    an input just before its first consumer (as Graphviz places them)."""
    rank: dict[Value, int] = {}
    for v in g.order:
        if v.op is not None:
            rank[v] = 1 + max((rank[p] for p in v.parents if p in rank), default=0)
    consumers: dict[Value, list[Value]] = {}
    for v in g.order:
        for p in v.parents:
            consumers.setdefault(p, []).append(v)
    for v in g.order:
        if v.op is None:
            rank[v] = min((rank[c] for c in consumers.get(v, []) if c in rank), default=1) - 1
    return rank


class _AdjointSide(GradientGraph):
    """The compact extended graph's adjoint side (see :class:`~scalargrad.extension.GradientGraph`), drawn."""

    def forward_fields(self, v: Value, digits: Digits) -> list[str]:
        """A forward node's adjoint where it is no node of the adjoint graph (a number, a forward node)."""
        a = self.adj.get(v)
        if a is None or (isinstance(a, Value) and a in self.ids):
            return []
        bar = TEXT.name(self.g.name(v, BAR))
        if isinstance(a, Value):
            text = TEXT.name(self.g.name(a)) if a in self.g.index else _number(a.data, digits)
            return [f"{bar} = {text}"]
        return [f"{bar} = {_number(float(a), digits)}"]

    def draw(self, dot: Any, graphviz: Any, digits: Digits) -> None:
        """The adjoint nodes in their own cluster, with their edges (from the forward graph too)."""
        if not self.order:  # e.g. every adjoint is a number or a forward node
            return
        g = self.g
        everything = {**{v: TEXT.name(g.name(v)) for v in g.order}, **self.names}
        cluster = graphviz.Digraph(
            "cluster_adjoint",
            graph_attr={
                "label": "adjoint graph",
                "style": "rounded",
                "color": _ADJOINT_COLOR,
                "fontcolor": _ADJOINT_COLOR,
                "labelloc": "t",
                "labeljust": "r",
            },
        )
        for u in self.order:
            head = self.names[u]
            if u.op is not None:
                head = f"{head} = {one_level(u, everything, digits)}"
            cluster.node(
                self.ids[u],
                graphviz.nohtml(record(head, _number(u.data, digits))),
                style="filled",
                fillcolor=_ADJOINT_FILL,
                color=_ADJOINT_COLOR,
            )
        dot.subgraph(cluster)
        for u in self.order:
            for p in u.parents:
                if p.is_constant:
                    continue
                source = self.ids[p] if p in self.ids else g.name(p)
                label = self.partial_names.get((u, p), "")
                if label and label != self.names.get(p):
                    dot.edge(source, self.ids[u], color=_ADJOINT_COLOR, label=label, fontcolor=_ADJOINT_COLOR)
                else:
                    dot.edge(source, self.ids[u], color=_ADJOINT_COLOR)
