"""The DOT source of one step of an algorithm (see :func:`scalargrad.steps`).

The diagram is the forward graph (or, for ``"extend"``, the extended graph as far
as it is built) with the step's state drawn on it: the visited node highlighted,
nodes already done and nodes still waiting drawn differently, what each node
holds at this point (its value, tangent, adjoint, or its ``node_to_grad`` list),
and the edges the step used marked with what travelled along them (the partial
adjoints in reverse mode, the local derivatives in forward mode). Node ids and
attribute order are fixed, so each step's DOT is byte-for-byte reproducible.

:func:`layout_source` is the DOT the steps of one mode are laid out with, once:
every node, edge and label any step shows, each at its widest, so that every
step fits the same layout (see :mod:`scalargrad.viz.frames`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..extension import Extension
from ..notation.names import BAR, DOT, TEXT, text_name
from ..stepping import Step, Steps
from ._dot import draw_extension, group_boxes, node_head, plain_label, record

__all__ = ["STEP_STYLE", "DotGraph", "build_step_dot", "edge_labels", "layout_source", "node_fields"]

STEP_STYLE = {
    "visited": {"style": "filled", "fillcolor": "#ffd54f", "penwidth": "2.5"},
    "done": {"style": "filled", "fillcolor": "#d7eed8"},
    "waiting": {"style": "filled", "fillcolor": "#ffffff", "color": "#9e9e9e", "fontcolor": "#616161"},
}
"""How a node looks when it is the one visited, done, or still waiting."""
_USED_EDGE = {"color": "#d84315", "penwidth": "2.2", "fontcolor": "#d84315"}
_ADJOINT_COLOR = "#1f5fbf"
FONT_SIZE = "14"
"""Points of every text in a step diagram: node fields and edge labels alike, so that the
edge labels stay legible when a wide diagram is scaled down (the GIF, the page)."""


def _number(x: float, digits: int) -> str:
    return TEXT.number(x, digits)[0]


def build_step_dot(steps: Steps, index: int, digits: int = 3) -> str:
    """The DOT of step ``index`` (1-based) of ``steps``."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw_step needs the graphviz package: pip install 'scalargrad-autodiff[viz]'"
        ) from None
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= len(steps):
        raise ValueError(f"step index must be an integer from 1 to {len(steps)}, got {index!r}")
    step = steps[index - 1]
    g = steps.graph
    dot = graphviz.Digraph(
        "scalargrad_step",
        graph_attr={
            "rankdir": "LR",
            "fontname": "Helvetica",
            "fontsize": FONT_SIZE,
            "nodesep": "0.25",
            "ranksep": "0.3",
            "label": plain_label(f"{steps.mode} step {index} of {len(steps)}: {step.line}"),
            "labelloc": "t",
            "labeljust": "l",
        },
        node_attr={"shape": "record", "fontname": "Helvetica", "fontsize": FONT_SIZE},
        edge_attr={"fontname": "Helvetica", "fontsize": FONT_SIZE, "arrowsize": "0.8"},
    )
    names = {v: text_name(g.name(v)) for v in g.order}
    done = set(step.done)
    used = set(step.edges)
    travelled: dict[tuple[str, str], list[str]] = {}  # per edge, in operand order: x - x has two
    for a, b, label in edge_labels(steps, index, digits):
        travelled.setdefault((a, b), []).append(label)
    state = node_fields(steps, digits, only=index)[0]
    boxes, entries = group_boxes(graphviz, g, steps.groups)
    for v in g.order:
        ident = g.name(v)
        fields = [node_head(v, names, digits, entries.get(v)), *state.get(ident, [])]
        status = "visited" if ident == step.node else "done" if ident in done else "waiting"
        boxes.get(v, dot).node(ident, graphviz.nohtml(record(*fields)), **STEP_STYLE[status])
    for box in dict.fromkeys(boxes.values()):
        dot.subgraph(box)
    for v in g.order:
        for p in v.parents:
            if p not in g.index:
                continue
            edge = (g.name(p), g.name(v))
            if edge in used:
                labels = travelled.get(edge)
                label = labels.pop(0) if labels else ""
                attrs = dict(_USED_EDGE, label=label) if label else dict(_USED_EDGE)
                dot.edge(*edge, **attrs)
            else:
                dot.edge(*edge, color="#9e9e9e")
    if steps.mode == "extend":
        _draw_extension(dot, graphviz, steps, step, digits)
    return str(dot.source)


def edge_labels(steps: Steps, index: int, digits: int) -> list[tuple[str, str, str]]:
    """(from, to, label) for each edge step ``index`` (1-based) uses, in operand order: what
    travels along it. Reverse mode: the partial adjoint the visited node vᵢ passes to vₖ
    (``v̄ₖ→ᵢ = −0.284``); forward mode: the local derivative it multiplies vₖ's tangent by
    (``∂v₅/∂v₂ = 0.284``). Forward evaluation labels no edge, and neither does extending the
    graph: there the partial adjoints are nodes of the adjoint graph."""
    step = steps[index - 1]
    if steps.mode == "reverse":
        return [(k, step.node, f"{text_name(name)} = {_number(x, digits)}") for k, name, x in step.appended]
    if steps.mode != "tangent":
        return []
    g = steps.graph
    v = next(u for u in g.order if g.name(u) == step.node)
    return [
        (g.name(p), step.node, f"∂{text_name(g.name(v))}/∂{text_name(g.name(p))} = {_number(d, digits)}")
        for p, d in zip(v.parents, v.local_grads)
        if p in g.index
    ]


def node_fields(s: Steps, digits: int, only: int | None = None) -> list[dict[str, list[str]]]:
    """What each node of the forward graph holds after each step, as the step diagrams show it
    in the node's record below its definition: its value (``?`` until evaluated), its tangent
    (``v̇ᵢ = …``), or its ``node_to_grad`` list and adjoint (``v̄ᵢ = …``; ``node_to_grad: []``
    and ``v̄ᵢ = ?`` until it has them, so a node has the same fields at every step).

    One pass over the steps; ``only`` (1-based) keeps just that step's fields (what one
    diagram needs). Shared by :func:`build_step_dot` and the step-through page.
    """
    g = s.graph
    values = {g.name(v): _number(v.data, digits) for v in g.order}
    leaves = {g.name(v) for v in g.order if v.op is None}
    dots = {g.name(v): text_name(g.name(v, DOT)) for v in g.order}
    bars = {g.name(v): text_name(g.name(v, BAR)) for v in g.order}
    known: dict[str, str] = {}  # node -> its number once its step has run
    # reverse mode: each node's node_to_grad entries as shown, replayed from the steps'
    # appends (linear; reading every step's node_to_grad would build each state afresh)
    entries: dict[str, list[str]] = {g.name(o): ["1"] for o in g.outputs}
    shown: dict[str, str] = {n: ", ".join(e) for n, e in entries.items()}
    out = []
    for k, st in enumerate(s[:only], start=1):
        known[st.node] = _number(st.value, digits)
        for target, name, y in st.appended:
            entries.setdefault(target, []).append(f"{text_name(name)} = {_number(y, digits)}")
            shown[target] = ", ".join(entries[target])
        if only is not None and k != only:
            continue
        if s.mode == "extend":
            fields = {n: [x] for n, x in values.items()}
        elif s.mode == "forward":
            fields = {n: [x if n in known or n in leaves else "?"] for n, x in values.items()}
        elif s.mode == "tangent":
            fields = {n: [x, f"{dots[n]} = {known.get(n, '?')}"] for n, x in values.items()}
        else:
            fields = {
                n: [x, f"node_to_grad: [{shown.get(n, '')}]", f"{bars[n]} = {known.get(n, '?')}"]
                for n, x in values.items()
            }
        out.append(fields)
    return out


# --------------------------------------------------------------------------- #
# one layout for all the steps of a mode                                       #
# --------------------------------------------------------------------------- #

_ID = r'(?:"(?:[^"\\]|\\.)*"|[^\s"\[\]{};=]+)'
_STATEMENT = re.compile(rf"^\s*({_ID})(?:\s*->\s*({_ID}))?\s*(?:\[(.*)\])?\s*;?\s*$")
_ATTRIBUTE = re.compile(rf"({_ID})=({_ID})")
_OPEN = re.compile(rf"^\s*(?:subgraph\s+({_ID})\s*)?\{{\s*$")
_KEYWORDS = {"graph", "node", "edge", "digraph", "subgraph", "strict"}


@dataclass
class DotGraph:
    """A DOT source as :func:`build_step_dot` writes it (the graphviz package's output: one
    statement a line), read back: its nodes, edges and clusters with their attributes, every
    value as written (still DOT-escaped). Enough to compare the steps of a mode, to widen its
    labels (:func:`layout_source`) and to restyle a layout (:mod:`scalargrad.viz.frames`)."""

    lines: list[str]
    graph: dict[str, str] = field(default_factory=dict)  # the top graph's attributes
    defaults: dict[str, dict[str, str]] = field(default_factory=lambda: {"node": {}, "edge": {}})
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # every statement's attributes merged
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, list[str]] = field(default_factory=dict)  # cluster -> its nodes
    statements: list[tuple[int, str, tuple[str, ...], dict[str, str]]] = field(default_factory=list)
    """(line, kind, ids, attributes) of each node, edge and top graph statement, in order."""

    @classmethod
    def parse(cls, source: str) -> DotGraph:
        g = cls(lines=source.split("\n"))
        stack: list[str] = []  # the open (sub)graphs: a cluster's name, or "" for any other
        for i, line in enumerate(g.lines):
            text = line.strip()
            opened = _OPEN.match(line)
            if not text:
                continue
            if text.startswith(("digraph", "strict", "graph ")) and text.endswith("{"):
                stack.append("")
                continue
            if opened:
                name = _unquote(opened.group(1) or "")
                stack.append(name if name.startswith("cluster") else "")
                if stack[-1]:
                    g.clusters.setdefault(name, [])
                continue
            if text == "}":
                stack.pop()
                continue
            m = _STATEMENT.match(line)
            if m is None or "=" in m.group(1):  # rank=same and other graph attributes
                continue
            first, second, attrs = _unquote(m.group(1)), m.group(2), _attributes(m.group(3) or "")
            if second is not None:
                ids: tuple[str, ...] = (first, _unquote(second))
                g.edges.append((ids[0], ids[1], attrs))
                g.statements.append((i, "edge", ids, attrs))
            elif first in ("node", "edge"):
                g.defaults[first].update(attrs)
            elif first == "graph":
                if len(stack) <= 1:
                    g.graph.update(attrs)
                    g.statements.append((i, "graph", (), attrs))
            elif first not in _KEYWORDS:
                g.nodes.setdefault(first, {}).update(attrs)
                g.statements.append((i, "node", (first,), attrs))
                cluster = next((c for c in reversed(stack) if c), "")
                if cluster and attrs and first not in g.clusters[cluster]:
                    g.clusters[cluster].append(first)
        return g

    def edge_keys(self) -> list[tuple[str, str, int]]:
        """Each edge as (from, to, k): the k-th edge between the two (x - x has two)."""
        seen: dict[tuple[str, str], int] = {}
        keys = []
        for a, b, _ in self.edges:
            k = seen.get((a, b), 0)
            seen[(a, b)] = k + 1
            keys.append((a, b, k))
        return keys


def _unquote(token: str) -> str:
    """A DOT id or value as written, without its quotes (escapes are kept)."""
    return token[1:-1] if token.startswith('"') else token


def _attributes(text: str) -> dict[str, str]:
    return {_unquote(k): _unquote(v) for k, v in _ATTRIBUTE.findall(text)}


def unescape(value: str) -> str:
    """A DOT string's text: ``\\x`` is ``x`` (quotes, backslashes and a record's ``|{}<>``)."""
    return re.sub(r"\\(.)", r"\1", value)


def _width(text: str) -> int:
    """How wide ``text`` is, for comparing labels: its characters, the combining bar and dot
    of v̄ and v̇ not counted."""
    return len(text) - text.count("\u0304") - text.count("\u0307")


def _widest(texts: list[str]) -> str:
    return max(texts, key=_width, default="")


_USED_COLOR = f'color="{_USED_EDGE["color"]}"'
_UNUSED_COLOR = 'color="#9e9e9e"'
_UNUSED = re.compile(
    rf' (?:fontcolor="{_USED_EDGE["fontcolor"]}"|penwidth={re.escape(_USED_EDGE["penwidth"])})(?=[\s\]])'
)
"""The last step's used edges are laid out looking like the others: a layout shows no step."""
_LABEL = re.compile(r'\b(x?label)=(?:"(?:[^"\\]|\\.)*"|[^\s\]]+)')


def layout_source(
    s: Steps,
    digits: int = 3,
    *,
    edge_labels_shown: bool = True,
    fields: list[dict[str, list[str]]] | None = None,
) -> str:
    """The DOT that every step of ``s`` is laid out with: the last step's diagram (by
    :func:`build_step_dot`) with each forward node's record fields, each edge's label and the
    step line above at their widest over all the steps, so that every step's text fits the
    one layout. Every edge is drawn unused (grey); the adjoint nodes of ``"extend"`` are as
    the last step draws them (all of them, with the text every step gives them).

    Reads the steps' data (:func:`node_fields`, :func:`edge_labels`), not every step's DOT,
    so it costs one diagram's DOT. ``edge_labels_shown=False`` lays the graph out without
    the edge labels (they double the ranks Graphviz lays out: a cheaper layout). ``fields``
    are ``node_fields(s, digits)``, if at hand.
    """
    last = DotGraph.parse(build_step_dot(s, len(s), digits))
    widest_fields: dict[str, list[str]] = {}
    for shown in fields if fields is not None else node_fields(s, digits):
        for n, texts in shown.items():
            have = widest_fields.setdefault(n, [])
            for j, f in enumerate(texts):
                if j == len(have):
                    have.append(f)
                elif _width(f) > _width(have[j]):
                    have[j] = f
    labels: dict[tuple[str, str, int], str] = {}
    line = ""
    for k, st in enumerate(s, start=1):
        seen: dict[tuple[str, str], int] = {}
        for a, b, label in edge_labels(s, k, digits) if edge_labels_shown else []:
            nth = seen.get((a, b), 0)
            seen[(a, b)] = nth + 1
            labels[(a, b, nth)] = _widest([labels.get((a, b, nth), ""), label])
        line = _widest([line, f"{s.mode} step {k} of {len(s)}: {st.line}"])
    lines = list(last.lines)
    keys = dict(zip((id(e[2]) for e in last.edges), last.edge_keys()))
    for i, kind, ids, attrs in last.statements:
        widest: dict[str, str]
        if kind == "graph" and "label" in attrs:
            widest = {"label": _dot_string(plain_label(line))}
        elif kind == "node" and "label" in attrs and ids[0] in widest_fields:
            head = record_fields(attrs["label"])[0]
            widest = {"label": "|".join([head, *(record(f) for f in widest_fields[ids[0]])])}
        elif kind == "edge" and ids[1] in widest_fields:  # an edge of the forward graph
            widest = {"label": _dot_string(labels.get(keys[id(attrs)], ""))}
            lines[i] = _UNUSED.sub("", lines[i]).replace(_USED_COLOR, _UNUSED_COLOR)  # not the last step's
        else:
            continue
        text = _LABEL.sub(partial(_relabel, widest), lines[i])
        missing = " ".join(f'{k}="{v}"' for k, v in widest.items() if v and f"{k}=" not in text)
        if missing:
            text = text.replace(" [", f" [{missing} ", 1) if " [" in text else f"{text} [{missing}]"
        lines[i] = text
    return "\n".join(lines)


def _dot_string(text: str) -> str:
    """``text`` inside a DOT string's quotes, as the graphviz package writes it."""
    return text.replace('"', '\\"')


def _relabel(widest: dict[str, str], m: re.Match[str]) -> str:
    """The label attribute ``m`` with its widest text; an empty label is left out (Graphviz
    would still lay out a rank for it)."""
    text = widest.get(m.group(1))
    return f'{m.group(1)}="{text}"' if text else ""


def record_fields(label: str) -> list[str]:
    """A record label's fields (escaped): split at each ``|`` that is not escaped."""
    out, current, i = [], "", 0
    while i < len(label):
        if label[i] == "\\" and i + 1 < len(label):
            current += label[i : i + 2]
            i += 2
        elif label[i] == "|":
            out.append(current)
            current = ""
            i += 1
        else:
            current += label[i]
            i += 1
    return [*out, current]


def _draw_extension(dot: Any, graphviz: Any, steps: Steps, step: Step, digits: int) -> None:
    """The whole extended graph, laid out once: the adjoint nodes added up to ``step`` shown,
    those of this step highlighted, the later ones hidden (so no node moves between steps).
    Steps that list no added node at all (the forward graph only) draw none."""
    if not any(s.added for s in steps):
        return
    g = steps.graph
    ext = Extension(g, g.inputs, digits)
    built = {name for s in steps[: step.index] for name, _, _ in s.added}
    now = {name for name, _, _ in step.added}
    styles = {
        u.id: STEP_STYLE["visited"] if u.name in now else {} if u.name in built else {"style": "invis"}
        for u in ext.nodes
    }
    draw_extension(dot, graphviz, ext, digits, fontsize=float(FONT_SIZE), styles=styles)
