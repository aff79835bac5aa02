"""The DOT source of one step of an algorithm (see :func:`scalargrad.steps`).

The diagram is the forward graph (or, for ``"extend"``, the extended graph as far
as it is built) with the step's state drawn on it: the visited node highlighted,
nodes already done and nodes still waiting drawn differently, what each node
holds at this point (its value, tangent, adjoint, or its ``node_to_grad`` list),
and the edges the step used marked with what travelled along them. Node ids and
attribute order are fixed, so each step's DOT is byte-for-byte reproducible.
"""

from __future__ import annotations

from typing import Any

from ..steps import ExtendedGraph, Step, Steps
from ..trace import BAR, DOT, TEXT, text_name
from ._dot import one_level, plain_label, record

__all__ = ["STEP_STYLE", "build_step_dot", "node_fields"]

STEP_STYLE = {
    "visited": {"style": "filled", "fillcolor": "#ffd54f", "penwidth": "2.5"},
    "done": {"style": "filled", "fillcolor": "#d7eed8"},
    "waiting": {"style": "filled", "fillcolor": "#ffffff", "color": "#9e9e9e", "fontcolor": "#616161"},
}
"""How a node looks when it is the one visited, done, or still waiting."""
_USED_EDGE = {"color": "#d84315", "penwidth": "2.2", "fontcolor": "#d84315"}
_ADJOINT_COLOR = "#1f5fbf"


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
            "fontsize": "12",
            "nodesep": "0.3",
            "label": plain_label(f"{steps.mode} step {index} of {len(steps)}: {step.line}"),
            "labelloc": "t",
            "labeljust": "l",
        },
        node_attr={"shape": "record", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )
    names = {v: text_name(g.name(v)) for v in g.order}
    done = set(step.done)
    used = set(step.edges)
    travelled: dict[tuple[str, str], list[str]] = {}  # per edge, in operand order: x - x has two
    for k, pn, x in step.appended:
        travelled.setdefault((k, step.node), []).append(f"{text_name(pn)} = {_number(x, digits)}")
    state = node_fields(steps, digits, only=index)[0]
    for v in g.order:
        ident = g.name(v)
        head = names[v] if v.op is None else f"{names[v]} = {one_level(v, names, digits)}"
        if v.op is None and v.label is not None:
            head = f"{names[v]} = {TEXT.name(v.label)}"
        fields = [head, *state.get(ident, [])]
        status = "visited" if ident == step.node else "done" if ident in done else "waiting"
        dot.node(ident, graphviz.nohtml(record(*fields)), **STEP_STYLE[status])
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


def node_fields(s: Steps, digits: int, only: int | None = None) -> list[dict[str, list[str]]]:
    """What each node of the forward graph holds after each step, as the step diagrams show it
    in the node's record below its definition: its value (``?`` until evaluated), its tangent
    (``v̇ᵢ = …``), or its ``node_to_grad`` list and adjoint (``v̄ᵢ = …``) once it has them.

    One pass over the steps; ``only`` (1-based) keeps just that step's fields (what one
    diagram needs). Shared by :func:`build_step_dot` and the step-through page.
    """
    g = s.graph
    values = {g.name(v): _number(v.data, digits) for v in g.order}
    leaves = {g.name(v) for v in g.order if v.op is None}
    dots = {g.name(v): text_name(g.name(v, DOT)) for v in g.order}
    bars = {g.name(v): text_name(g.name(v, BAR)) for v in g.order}
    known: dict[str, str] = {}  # node -> its number once its step has run
    out = []
    for st in s[:only]:
        known[st.node] = _number(st.value, digits)
        if only is not None and st.index != only:
            continue
        if s.mode == "extend":
            fields = {n: [x] for n, x in values.items()}
        elif s.mode == "forward":
            fields = {n: [x if n in known or n in leaves else "?"] for n, x in values.items()}
        elif s.mode == "tangent":
            fields = {n: [x, f"{dots[n]} = {known.get(n, '?')}"] for n, x in values.items()}
        else:
            fields = {}
            for n, x in values.items():
                shown = [x]
                listed = st.node_to_grad.get(n)
                if listed:
                    entries = ", ".join(
                        k if k == "1" else f"{text_name(k)} = {_number(y, digits)}" for k, y in listed
                    )
                    shown.append(f"node_to_grad: [{entries}]")
                if n in known:
                    shown.append(f"{bars[n]} = {known[n]}")
                fields[n] = shown
        out.append(fields)
    return out


def _draw_extension(dot: Any, graphviz: Any, steps: Steps, step: Step, digits: int) -> None:
    """The adjoint nodes added up to ``step``, those of this step highlighted."""
    g = steps.graph
    ext = ExtendedGraph(g, g.inputs, notes=True)
    built = {name for s in steps[: step.index] for name, _, _ in s.added}
    now = {name for name, _, _ in step.added}
    nodes = [u for u in ext.order if ext.names[u] in built]
    if not nodes:
        return
    everything = {**{v: text_name(g.name(v)) for v in g.order}, **ext.names}
    cluster = graphviz.Digraph(
        "cluster_adjoint",
        graph_attr={"label": "adjoint graph", "style": "rounded", "color": _ADJOINT_COLOR, "labeljust": "r"},
    )
    for u in nodes:
        head = ext.names[u] if u.op is None else f"{ext.names[u]} = {one_level(u, everything, digits)}"
        style = STEP_STYLE["visited"] if ext.names[u] in now else {"style": "filled", "fillcolor": "#dbe9ff"}
        cluster.node(
            ext.ids[u], graphviz.nohtml(record(head, _number(u.data, digits))), color=_ADJOINT_COLOR, **style
        )
    dot.subgraph(cluster)
    shown = set(nodes)
    for u in nodes:
        for p in u.parents:
            if p in shown:
                dot.edge(ext.ids[p], ext.ids[u], color=_ADJOINT_COLOR)
            elif p in g.index:
                dot.edge(g.name(p), ext.ids[u], color=_ADJOINT_COLOR, style="dashed")
