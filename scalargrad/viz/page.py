"""Step through the notes' algorithms in a browser: one self-contained, offline HTML page.

:func:`walkthrough` returns one HTML page (``write_walkthrough`` writes it) with the
expression, the three trace tables (forward, tangent, adjoint) and a step-through
of every mode of :func:`scalargrad.steps` — forward evaluation, forward mode,
reverse mode (the notes' ``node_to_grad`` algorithm) and reverse mode by
extending the graph. Buttons, a slider and the keys ←/→, Home/End move through
the steps; tabs pick the mode. At each step the step's line, its table row, the
diagram node and (reverse mode) the whole ``node_to_grad`` state are shown and
highlighted together. Everything is inline — CSS, JavaScript, SVG, data — and a
Content-Security-Policy forbids the page to fetch anything, so it works offline
and from a file.

How the diagrams are made: one layout per mode, restyled per step
------------------------------------------------------------------

Each mode's diagram is laid out **once**, as the union of its steps' diagrams
(:func:`scalargrad.viz._steps.layout_source`, also behind the frames of
:mod:`scalargrad.viz.frames`) with every label at its widest, so every
intermediate label fits; per step the page only restyles it: the visited / done /
waiting colours, the edges the step used and their labels (the partial adjoints
v̄ₖ→ᵢ in reverse mode, the local derivatives ∂vᵢ/∂vₖ in forward mode; when extending
the graph the partial adjoints are nodes of the adjoint graph), the text of each
node's fields (value, tangent, ``node_to_grad`` list, adjoint; only the fields that
changed are stored per step) and, when extending the graph, which adjoint nodes
exist yet. Forward mode has a tab per input (up to :data:`MAX_TANGENT_TABS`), all
restyling one layout. Node ``<g>`` elements are found by the DOT id in their
``<title>``. Nodes keep their place from step to step, which is easier to follow
than a diagram laid out afresh each step, and the server-side work is four
Graphviz layouts whatever the number of steps. When edge labels would make a layout
too costly it is made without them (a note says so), before giving up a diagram.

The alternative, pre-rendering every step's own SVG (``draw_step(steps, k)`` for
every k) and showing one at a time, was measured against it on a 2-core machine
with the WebAssembly Graphviz and headless Chromium (``docs/measure_walkthrough.py``;
a step is the key press's script, style and layout, median of 40):

=====================  ===================  ========================
151-node graph         one layout per mode  an SVG for every step
=====================  ===================  ========================
page build (Python)    2.1 s                274 s (3 modes only)
page size              1.7 MB               86 MB (3 modes only)
open in Chromium       0.5 s                3.2 s
one step               3.9 ms               8.6 ms
=====================  ===================  ========================

(a chain of tanh, sin, products and sums over three inputs, 151 steps per mode;
the per-step extended graphs could not be laid out at all — a layout cost of
42,000 — so that page has no ``"extend"`` mode, and its reverse-mode diagrams
needed twice the usual layout-cost limit, their edges carrying labels; the
one-layout page has a forward-mode tab for each of the three inputs, and its
tangent and reverse diagrams are laid out without edge labels, which would cost
too much here). For the notes' 7-node example both are instant: 0.03 s vs 0.05 s
to build, 90 kB vs 270 kB, about 3 ms a step. Pre-rendering grows as steps × graph
size, so it cannot open a 150-node graph without a wait; one layout per mode does,
and its build time is mostly the four layouts and the steps' node texts.

Graphs whose layout would take Graphviz too long (:func:`scalargrad.viz.layout_cost`
above ``max_layout_cost``) get no diagram, only a note saying so; the lines,
tables and ``node_to_grad`` state still step. The extended graph grows fastest:
when its layout is too costly the ``"extend"`` mode shows the forward graph
instead and lists the adjoint nodes each step adds. Without JavaScript (a
sanitised viewer) the page shows the starting step and every step's line.

The same machinery backs the notebook widget's kernel-free view
(:class:`scalargrad.viz.widget.StepThrough`).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..engine import Value, topological_order
from ..extension import Extension
from ..files import check_writable, write_atomic
from ..steps import MODES, Steps, steps
from ..trace import BAR, DOT, TEXT, Trace, as_outputs, text_name, trace
from ._dot import TooManyNodesError, tensor_groups
from ._render import MAX_LAYOUT_COST, RenderError, layout_cost, pipe
from ._steps import STEP_STYLE, build_step_dot, edge_labels, layout_source, node_fields

__all__ = ["MAX_NODES", "MAX_TANGENT_TABS", "MODE_TITLES", "walkthrough", "write_walkthrough"]

MAX_NODES = 2000
"""Largest graph :func:`walkthrough` (and the widget) accepts by default (``max_nodes``).

The page holds every step of every mode and the trace tables, so its size and build
time grow with the graph (and, with a diagram, faster); beyond a few thousand nodes
it is too big to read or to open. ``max_nodes=None`` lifts the limit."""

MAX_TANGENT_TABS = 8
"""Forward mode gets a tab for each input, for this many inputs at most (the first ones)."""
MODE_TITLES = {
    "forward": "forward evaluation",
    "tangent": "forward mode (tangents)",
    "reverse": "reverse mode (node_to_grad)",
    "extend": "reverse mode by extending the graph",
}
"""The tab title of each mode of :func:`scalargrad.steps`."""


def _number(x: float, digits: int) -> str:
    return TEXT.number(x, digits)[0]


def _check_int(value: object, name: str, low: int, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return value


# --------------------------------------------------------------------------- #
# one diagram per mode: laid out once, annotated for restyling                 #
# --------------------------------------------------------------------------- #

_PROLOG = re.compile(r"<\?xml.*?\?>\s*|<!DOCTYPE.*?>\s*|<!--.*?-->\s*", re.DOTALL)
_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)">\s*<title>(.*?)</title>')
_GROUP_ID = re.compile(r'(<g) id="[^"]*"')
_NODE_BLOCK = re.compile(r'(<g class="node[^"]*" data-n=")([^"]*)(">)(.*?)(</g>)', re.DOTALL)
_EDGE_BLOCK = re.compile(r'<g class="edge[^"]*" data-e="([^"]*)">(.*?)</g>', re.DOTALL)
_TEXT = re.compile(r'(<text)(?: data-f="(\d+)")?([^>]*>)(.*?)(</text>)', re.DOTALL)


def _annotate(svg: str) -> str:
    """Graphviz SVG made ready to restyle: node groups carry ``data-n`` (their DOT id),
    edges ``data-e`` ("from to"), each node's texts ``data-f`` (field 0 is the head).

    The XML prolog, comments and element ids go (the page holds several SVGs; the
    ids would clash).
    """
    svg = _PROLOG.sub("", svg)

    def group(m: re.Match[str]) -> str:
        kind, title = m.group(1), html.unescape(m.group(2))
        if kind == "node":
            return f'<g class="node" data-n="{html.escape(title)}">\n<title>{m.group(2)}</title>'
        tail, _, head = title.partition("->")
        return (
            f'<g class="edge" data-e="{html.escape(tail)} {html.escape(head)}">\n<title>{m.group(2)}</title>'
        )

    svg = _GROUP_ID.sub(r"\1", _GROUP.sub(group, svg))

    def node(m: re.Match[str]) -> str:
        count = iter(range(10**9))
        body = _TEXT.sub(lambda t: f'<text data-f="{next(count)}"{t.group(3)}{t.group(4)}</text>', m.group(4))
        return m.group(1) + m.group(2) + m.group(3) + body + m.group(5)

    return _NODE_BLOCK.sub(node, svg).strip()


def _layout_steps(s: Steps, extension: bool) -> Steps:
    """``s``, or with ``extension=False`` ``s`` without the adjoint nodes of ``"extend"``."""
    return s if extension else Steps(s.mode, s.graph, [replace(st, added=[]) for st in s], s.wrt, s.groups)


_EDGE_LABEL = re.compile(r'^(\t[^\n]* -> [^\n]*?\[)label="(?:[^"\\]|\\.)*" ?', re.MULTILINE)
"""An edge's label in a step's DOT (the graphviz package writes ``label`` first)."""
_GRAPH_LABEL = re.compile(r'^(\tgraph \[.*?)\blabel="(?:[^"\\]|\\.)*" ', re.MULTILINE)


def _layout(
    s: Steps,
    digits: int,
    max_layout_cost: int | None,
    fields: Callable[[], list[dict[str, list[str]]]] | None = None,
) -> tuple[str | None, bool, str]:
    """(annotated SVG or None, whether the adjoint nodes are in it, a note for the reader).

    Edge labels double the ranks Graphviz lays out, and the adjoint nodes of ``"extend"``
    add more: when the whole diagram would cost too much, the edge labels are left out
    first, then the adjoint nodes. ``fields`` gives ``node_fields(s, digits)`` (quadratic in
    the graph's size: asked for only once the bare graph is known to be cheap enough)."""
    extensions = [True, False] if s.mode == "extend" else [False]
    reasons: list[str] = []
    notes: list[str] = []
    for extension in extensions:
        try:
            bare = _EDGE_LABEL.sub(r"\1", build_step_dot(_layout_steps(s, extension), len(s), digits))
        except ImportError as e:
            return None, False, f"No diagram: {e}."
        cost = layout_cost(bare)
        if max_layout_cost is not None and cost > max_layout_cost:
            what = "the graph with its adjoint nodes" if extension else "the graph"
            reasons.append(
                f"{what} would take Graphviz too long to lay out (cost {cost} > {max_layout_cost})"
            )
            continue
        for labelled in (True, False):
            source = layout_source(
                _layout_steps(s, extension),
                digits,
                edge_labels_shown=labelled,
                fields=fields() if fields is not None else None,
            )
            source = _GRAPH_LABEL.sub(r"\1", source, count=1)  # the step line is shown above instead
            cost = layout_cost(source)
            if max_layout_cost is not None and cost > max_layout_cost:
                what = "the graph with its adjoint nodes" if extension else "the graph"
                what += " and its edge labels" if labelled else ""
                reasons.append(
                    f"{what} would take Graphviz too long to lay out (cost {cost} > {max_layout_cost})"
                )
                continue
            try:
                svg = pipe(source, "svg").decode("utf-8")
            except RenderError as e:
                return None, False, f"No diagram: {e}."
            if s.mode == "extend" and not extension:
                notes.append(
                    "The diagram shows the forward graph only: "
                    f"{next(r for r in reasons if 'adjoint' in r and 'edge' not in r)}; "
                    "each step's new adjoint nodes are listed."
                )
            if not labelled:
                notes.append(
                    f"The edges carry no labels: {reasons[-1]}; each step's line says what they carry."
                )
            return _annotate(svg), extension and s.mode == "extend", " ".join(notes)
    return None, False, f"No diagram: {'; '.join(reasons)}."


class PageTooLargeError(TooManyNodesError):
    """A graph with more nodes than the page's ``max_nodes`` (a ValueError)."""

    def message(self, option: str, sep: str = " ") -> str:
        return (
            f"{self.what} has {self.nodes} nodes, more than {option}{sep}{self.max_nodes} for a step-through "
            f"page; pass a larger {option} to build it anyway (the page grows with the graph)"
        )


# --------------------------------------------------------------------------- #
# what each step shows                                                         #
# --------------------------------------------------------------------------- #


@dataclass
class _Mode:
    """One mode's steps, its diagram and what the page shows at each step."""

    steps: Steps
    svg: str | None
    note: str
    table: int | None  # index of its trace table
    rows: dict[str, int]  # node id -> row index in that table
    fields: list[dict[str, list[str]]] = field(default_factory=list)  # per step: node -> its state fields
    built: dict[str, int] = field(default_factory=dict)  # adjoint node id -> step (0-based) adding it
    new: list[list[str]] = field(default_factory=list)  # per step: adjoint node ids it adds

    @property
    def mode(self) -> str:
        return self.steps.mode


class Walkthrough:
    """Every mode's steps, diagrams and trace tables for one graph: the data behind the
    page (:func:`walkthrough`) and the notebook widget. Internal (not public API)."""

    def __init__(
        self,
        outputs: Value | Sequence[Value],
        *,
        wrt: Value | None = None,
        digits: int = 3,
        max_layout_cost: int | None = MAX_LAYOUT_COST,
        max_nodes: int | None = MAX_NODES,
        groups: Mapping[str, Any] | None = None,
    ) -> None:
        outs = as_outputs(outputs, "walkthrough")
        boxes = tensor_groups(groups, "forward")
        _check_int(digits, "digits", 1, 15)
        if max_layout_cost is not None:
            _check_int(max_layout_cost, "max_layout_cost", 1)
        if max_nodes is not None:
            _check_int(max_nodes, "max_nodes", 1)
            nodes = len(topological_order(outs))
            if nodes > max_nodes:
                raise PageTooLargeError("the graph", nodes, max_nodes)
        self.outputs = outs
        self.digits = digits
        self.steps: dict[str, Steps] = {}
        for mode in MODES:
            try:
                self.steps[mode] = steps(
                    outs, mode=mode, wrt=wrt if mode == "tangent" else None, digits=digits
                )
                self.steps[mode].groups = list(boxes)
            except ValueError:
                if mode != "tangent" or wrt is not None:
                    raise
                # a graph without inputs has no tangents: no tangent mode
        self.graph = self.steps["forward"].graph
        g = self.graph
        tangent = self.steps.get("tangent")
        self.wrt = tangent.wrt if tangent is not None else None
        self.tangent_inputs: dict[str, Value] = {}  # tangent mode -> its input
        if self.wrt is not None:
            self.tangent_inputs["tangent"] = self.wrt
            others = [x for x in g.inputs if x is not self.wrt][: MAX_TANGENT_TABS - 1]
            for x in others:
                self.tangent_inputs[f"tangent-{g.index[x]}"] = x
        every: dict[str, Steps] = {}
        for mode, s in self.steps.items():
            every[mode] = s
            if mode == "tangent":
                for key, x in list(self.tangent_inputs.items())[1:]:
                    every[key] = steps(outs, mode="tangent", wrt=x, digits=digits)
                    every[key].groups = list(boxes)
        self.trace: Trace = trace(outs, wrt=list(self.tangent_inputs.values()), digits=digits, caption=True)
        self.caption = self.trace.caption or ""
        self.order = [g.name(v) for v in g.order]
        self.names = {g.name(v): text_name(g.name(v)) for v in g.order}
        self.bars = {g.name(v): text_name(g.name(v, BAR)) for v in g.order}
        kinds = [t.kind for t in self.trace.tables]
        tangent_tables = [i for i, k in enumerate(kinds) if k == "tangent"]
        tangents = [every[key] for key in self.tangent_inputs]
        layouts: dict[str, tuple[str | None, bool, str]] = {}
        if tangents:  # one layout serves every input's tangent mode: the same nodes and edges
            joined = Steps("tangent", g, [st for t in tangents for st in t], tangents[0].wrt, boxes)
            layouts.update(dict.fromkeys(self.tangent_inputs, _layout(joined, digits, max_layout_cost)))
        known: dict[str, list[dict[str, list[str]]]] = {}

        def fields_of(mode: str) -> Callable[[], list[dict[str, list[str]]]]:
            def get() -> list[dict[str, list[str]]]:
                if mode not in known:
                    known[mode] = node_fields(every[mode], digits)
                return known[mode]

            return get

        self.modes: dict[str, _Mode] = {}
        for mode, s in every.items():
            if mode in self.tangent_inputs:
                table: int | None = tangent_tables[list(self.tangent_inputs).index(mode)]
            else:
                kind = "forward" if mode == "forward" else "adjoint"
                table = kinds.index(kind) if kind in kinds else None
            rows: dict[str, int] = {}
            if table is not None:
                for i, r in enumerate(self.trace.tables[table].rows):
                    rows[r.name.replace(BAR, "").replace(DOT, "")] = i
            svg, extension, note = layouts.get(mode) or _layout(s, digits, max_layout_cost, fields_of(mode))
            m = _Mode(s, svg, note, table, rows)
            self._fill(m, extension, fields_of(mode))
            self.modes[mode] = m
        self._table_rows = _table_rows(self.trace.to_html())

    def _fill(self, m: _Mode, extension: bool, fields: Callable[[], list[dict[str, list[str]]]]) -> None:
        """Each step's node fields, and (extending the graph) the adjoint nodes it adds.

        Without a diagram there are no fields to show (and computing them is quadratic)."""
        s = m.steps
        if m.svg is None:
            m.fields = [{} for _ in s]
            m.new = [[] for _ in s]
            return
        every = fields()
        width = {k: len(v) for k, v in every[-1].items()}  # the last step's are the most and widest
        for shown in every:
            m.fields.append({k: self._pad(s.mode, k, v, width.get(k, len(v))) for k, v in shown.items()})
        if s.mode != "extend":
            return
        ext_ids: dict[str, list[str]] = {}
        if extension:
            for u in Extension(s.graph, s.graph.inputs).nodes:
                ext_ids.setdefault(u.name, []).append(u.id)
        for k, st in enumerate(s):
            ids = [i for name, _, _ in st.added for i in ext_ids.get(name, [])]
            m.new.append(ids)
            for i in ids:
                m.built.setdefault(i, k)

    def _pad(self, mode: str, node: str, fields: list[str], width: int) -> list[str]:
        """``fields`` filled up to the ``width`` the layout has room for. In reverse mode a node
        that has no list yet shows ``node_to_grad: []``, and one not visited yet ``v̄ᵢ = ?``."""
        if mode != "reverse":
            return fields + [""] * (width - len(fields))
        blanks = ["", "node_to_grad: []", f"{self.bars[node]} = ?"]
        return fields + blanks[len(fields) : width]

    # ------------------------------------------------------------------ data
    def payload(self, start_mode: str, start_step: int) -> dict[str, Any]:
        """What the page's script needs (JSON-able; per-step field texts as changes only)."""
        modes = []
        for mode, m in self.modes.items():
            d = self.digits
            items = []
            previous: dict[str, list[str]] = {}
            for k, st in enumerate(m.steps):
                changed = {n: f for n, f in m.fields[k].items() if previous.get(n) != f}
                previous = m.fields[k]
                item: dict[str, Any] = {
                    "node": st.node,
                    "line": st.line,
                    "row": self._row(m, st.node),
                    "edges": [list(e) for e in st.edges],
                    "labels": [list(e) for e in edge_labels(m.steps, k + 1, d)],
                    "value": _number(st.value, d),
                    "fields": changed,
                }
                if mode == "reverse":
                    item["appended"] = [[t, text_name(n), _number(x, d)] for t, n, x in st.appended]
                if mode == "extend":
                    item["added"] = [[n, defn, _number(x, d)] for n, defn, x in st.added]
                    item["new"] = m.new[k]
                items.append(item)
            entry: dict[str, Any] = {
                "mode": mode,
                "title": self.mode_title(mode),
                "table": m.table,
                "steps": items,
            }
            if mode == "reverse":
                entry["initial"] = {
                    k: [[n if n == "1" else text_name(n), _number(x, d)] for n, x in lst]
                    for k, lst in self._initial_lists().items()
                }
            if mode == "extend":
                entry["built"] = m.built
            modes.append(entry)
        return {
            "version": 1,
            "start": {"mode": start_mode, "step": start_step - 1},
            "order": self.order,
            "names": self.names,
            "bars": self.bars,
            "tables": [t.title for t in self.trace.tables],
            "modes": modes,
        }

    def mode_title(self, mode: str) -> str:
        x = self.tangent_inputs.get(mode)
        if x is not None:
            return f"forward mode (tangents w.r.t. {text_name(self.graph.input_name(x))})"
        return MODE_TITLES[mode]

    def _row(self, m: _Mode, node: str) -> list[int] | None:
        if m.table is None or node not in m.rows:
            return None
        return [m.table, m.rows[node]]

    def _initial_lists(self) -> dict[str, list[tuple[str, float]]]:
        """node_to_grad before the first reverse step: each output's list holds the seed 1."""
        return {self.graph.name(o): [("1", 1.0)] for o in self.graph.outputs}

    # -------------------------------------------------- a step, server-side
    def check_step(self, mode: str, step: int) -> None:
        if mode not in self.modes:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(self.modes)}")
        _check_int(step, "step", 1, len(self.modes[mode].steps))

    def node_to_grad(self, step: int) -> list[tuple[str, list[tuple[str, str, bool]], str]]:
        """The reverse mode's lists after ``step`` (1-based) as shown: (node id, [(partial
        adjoint, value, appended by this step)], its sum if visited yet), from v̄ₙ down to v̄₁."""
        m = self.modes["reverse"]
        d = self.digits
        lists: dict[str, list[tuple[str, str, bool]]] = {
            k: [(n if n == "1" else text_name(n), _number(x, d), False) for n, x in lst]
            for k, lst in self._initial_lists().items()
        }
        sums: dict[str, str] = {}
        for k, st in enumerate(m.steps[:step]):
            sums[st.node] = _number(st.value, d)
            for target, n, x in st.appended:
                lists.setdefault(target, []).append((text_name(n), _number(x, d), k == step - 1))
        return [(i, lists[i], sums.get(i, "")) for i in reversed(self.order) if i in lists]

    def svg_at(self, mode: str, step: int) -> str | None:
        """The mode's diagram restyled for ``step`` (1-based), as the page's script would."""
        m = self.modes[mode]
        if m.svg is None:
            return None
        k = step - 1
        st = m.steps[k]
        done = {x.node for x in m.steps[:step]}
        used = {f"{a} {b}" for a, b in st.edges}
        hidden = {i for i, when in m.built.items() if when > k}
        fresh = set(m.new[k]) if m.new else set()

        def node(x: re.Match[str]) -> str:
            ident = html.unescape(x.group(2))
            if ident in m.built:
                cls = "sg-hidden" if ident in hidden else "sg-adj sg-new" if ident in fresh else "sg-adj"
            else:
                cls = "sg-visited" if ident == st.node else "sg-done" if ident in done else "sg-waiting"
            texts = m.fields[k].get(ident)
            body = x.group(4)
            if texts is not None:

                def text(t: re.Match[str]) -> str:
                    f = int(t.group(2) or 0)
                    if 1 <= f <= len(texts):
                        return f'<text data-f="{f}"{t.group(3)}{html.escape(texts[f - 1])}</text>'
                    return t.group(0)

                body = _TEXT.sub(text, body)
            return f'<g class="node {cls}" data-n="{x.group(2)}">{body}</g>'

        labels: dict[str, list[str]] = {}
        for a, b, label in edge_labels(m.steps, step, self.digits):
            labels.setdefault(f"{a} {b}", []).append(label)

        def edge(x: re.Match[str]) -> str:
            a, _, b = html.unescape(x.group(1)).partition(" ")
            cls = "sg-hidden" if a in hidden or b in hidden else "sg-used" if f"{a} {b}" in used else ""
            waiting = labels.get(f"{a} {b}")
            text = html.escape(waiting.pop(0)) if waiting else ""
            body = _TEXT.sub(lambda t: f"{t.group(1)}{t.group(3)}{text}{t.group(5)}", x.group(2), count=1)
            return f'<g class="edge{" " + cls if cls else ""}" data-e="{x.group(1)}">{body}</g>'

        svg = _NODE_BLOCK.sub(node, m.svg)
        return _EDGE_BLOCK.sub(edge, svg)

    def panel_html(self, mode: str, step: int) -> str:
        """The step's line, its table row and its state (node_to_grad, added nodes), as HTML."""
        m = self.modes[mode]
        st = m.steps[step - 1]
        parts = [f"<div class='sgw-line'>{html.escape(st.line)}</div>", "<div class='sgw-row'>"]
        row = self._row(m, st.node)
        if row is not None:
            t, r = row
            title = html.escape(self.trace.tables[t].title)
            parts.append(
                f"<table class='scalargrad-trace'><caption>{title}</caption>"
                f"<tr><th>node</th><th>definition</th><th>value</th></tr>{self._table_rows[t][r]}</table>"
            )
        parts.append("</div><div class='sgw-state'>")
        if mode == "reverse":
            parts.append(
                "<div class='sgw-state-title'>node_to_grad after this step</div>"
                "<div class='sgw-ntg-box'><table class='sgw-ntg'>"
            )
            done = {x.node for x in m.steps[:step]}
            for ident, entries, total in self.node_to_grad(step):
                cls = "sgw-visited" if ident == st.node else "sgw-done" if ident in done else ""
                shown = ", ".join(
                    (
                        f"<span class='sgw-new'>{html.escape(_entry(n, v))}</span>"
                        if new
                        else html.escape(_entry(n, v))
                    )
                    for n, v, new in entries
                )
                adjoint = f"{html.escape(self.bars[ident])} = {html.escape(total)}" if total else ""
                parts.append(
                    f"<tr class='{cls}' data-n='{ident}'>"
                    f"<td>node_to_grad[{html.escape(self.names[ident])}]</td>"
                    f"<td>[{shown}]</td><td class='sgw-sum'>{adjoint}</td></tr>"
                )
            parts.append("</table></div>")
        elif mode == "extend":
            parts.append(
                "<div class='sgw-state-title'>adjoint nodes added by this step</div><ul class='sgw-added'>"
            )
            for _, definition, x in st.added:
                parts.append(f"<li>{html.escape(definition)} = {html.escape(_number(x, self.digits))}</li>")
            if not st.added:
                parts.append("<li class='sgw-none'>none</li>")
            parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)

    # ---------------------------------------------------------------- markup
    def fragment(self, *, root_id: str, start_mode: str, start_step: int, full_tables: bool) -> str:
        """The step-through as one HTML fragment (root element, data and script)."""
        self.check_step(start_mode, start_step)
        count = len(self.modes[start_mode].steps)
        tabs = "".join(
            f"<button type='button' class='sgw-mode{' sgw-on' if mode == start_mode else ''}' "
            f"data-mode='{mode}' aria-pressed='{'true' if mode == start_mode else 'false'}'>"
            f"{html.escape(self.mode_title(mode))}</button>"
            for mode in self.modes
        )
        nav = (
            "<button type='button' class='sgw-first' title='first step (Home)'>|◀ first</button>"
            "<button type='button' class='sgw-prev' title='previous step (←)'>◀ prev</button>"
            "<button type='button' class='sgw-play' title='play / pause'>▶ play</button>"
            "<button type='button' class='sgw-next' title='next step (→)'>next ▶</button>"
            "<button type='button' class='sgw-last' title='last step (End)'>last ▶|</button>"
            f"<input type='range' class='sgw-slider' min='1' max='{count}' value='{start_step}' "
            "aria-label='step'>"
            f"<span class='sgw-count'>step {start_step} of {count}</span>"
        )
        diagrams = []
        for mode, m in self.modes.items():
            hidden = "" if mode == start_mode else " hidden"
            svg = self.svg_at(mode, start_step if mode == start_mode else 1)
            note = f"<p class='sgw-note'>{html.escape(m.note)}</p>" if m.note else ""
            diagrams.append(f"<div class='sgw-svg' data-mode='{mode}'{hidden}>{note}{svg or ''}</div>")
        legend = (
            "<div class='sgw-legend'><span class='sgw-key sgw-key-visited'>visited</span>"
            "<span class='sgw-key sgw-key-done'>done</span>"
            "<span class='sgw-key sgw-key-waiting'>waiting</span>"
            "<span class='sgw-key sgw-key-used'>edge used by the step</span></div>"
        )
        tables = self.trace.to_html()
        tables_html = (
            f"<div class='sgw-tables'>{tables}</div>"
            if full_tables
            else "<details class='sgw-more'><summary>trace tables</summary>"
            f"<div class='sgw-tables'>{tables}</div></details>"
        )  # beside the diagram, under the step: the current row is scrolled into view there
        every = "".join(
            f"<h4>{html.escape(self.mode_title(mode))}</h4><ol>"
            + "".join(f"<li>{html.escape(st.line)}</li>" for st in m.steps)
            + "</ol>"
            for mode, m in self.modes.items()
        )
        data = json.dumps(self.payload(start_mode, start_step), ensure_ascii=False, separators=(",", ":"))
        data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return (
            f"<div class='sgw' id='{root_id}' tabindex='0' data-mode='{start_mode}'>"
            f"<div class='sgw-bar'><div class='sgw-modes'>{tabs}</div><div class='sgw-nav'>{nav}</div></div>"
            f"<div class='sgw-body'><div class='sgw-diagram'>{legend}{''.join(diagrams)}</div>"
            f"<div class='sgw-side'><div class='sgw-panel'>{self.panel_html(start_mode, start_step)}</div>"
            f"{tables_html}</div></div>"
            f"<details class='sgw-more sgw-all'><summary>every step, as text</summary>{every}</details>"
            f"<script type='application/json' class='sgw-data'>{data}</script>"
            f"</div>\n<style>{STYLE}</style>\n<script>{SCRIPT}\n"
            f"window.scalargradStepThrough1(document.getElementById('{root_id}'), "
            f"{{globalKeys: {'true' if full_tables else 'false'}}});</script>"
        )


def _entry(name: str, value: str) -> str:
    return name if name == "1" else f"{name} = {value}"


_TABLE = re.compile(r"<table class='scalargrad-trace'>.*?</table>", re.DOTALL)
_ROW = re.compile(r"<tr><td>.*?</tr>", re.DOTALL)


def _table_rows(tables_html: str) -> list[list[str]]:
    """Each trace table's body rows (``<tr>`` HTML), in order, from :meth:`Trace.to_html`."""
    return [_ROW.findall(t) for t in _TABLE.findall(tables_html)]


# --------------------------------------------------------------------------- #
# the page                                                                     #
# --------------------------------------------------------------------------- #


def walkthrough(
    outputs: Value | Sequence[Value],
    *,
    wrt: Value | None = None,
    title: str | None = None,
    mode: str = "reverse",
    digits: int = 3,
    max_layout_cost: int | None = MAX_LAYOUT_COST,
    max_nodes: int | None = MAX_NODES,
    groups: Mapping[str, Any] | None = None,
) -> str:
    """One self-contained, offline HTML page stepping through every mode of :func:`scalargrad.steps`.

    The page shows the expression, the trace tables (forward, tangent w.r.t. ``wrt``
    — default the first input — and adjoint) and a step-through with a tab per
    mode (it opens on ``mode``): buttons, a slider and the keys ←/→ (previous /
    next), Home/End (first / last) move through the steps; the step's line, its
    table row, its diagram node and, in reverse mode, the whole ``node_to_grad``
    state are highlighted together. ``digits`` decimals are shown throughout.
    Diagrams need the ``viz`` extra; a graph whose layout would cost more than
    ``max_layout_cost`` (see :func:`scalargrad.viz.layout_cost`; None: no limit)
    gets a note instead of a diagram. ``groups`` boxes tensors in the diagrams, as
    :func:`scalargrad.draw` does (``{"X": X, "Z": Z}``). A graph of more than ``max_nodes`` nodes
    (default :data:`MAX_NODES`; None: no limit) is refused with a ValueError. Nothing
    is fetched when the page is viewed.

    >>> from scalargrad import Value
    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> page = walkthrough(x1.log() + x1 * x2 - x2.sin())
    >>> page.startswith("<!DOCTYPE html>") and "node_to_grad[v₂]" in page
    True
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    w = Walkthrough(
        outputs, wrt=wrt, digits=digits, max_layout_cost=max_layout_cost, max_nodes=max_nodes, groups=groups
    )
    if mode not in w.modes:
        raise ValueError(f"the graph has no {mode} steps (it has no inputs)")
    heading = title if title is not None else "Watch automatic differentiation step by step"
    body = w.fragment(root_id="sgw-page", start_mode=mode, start_step=1, full_tables=True)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(heading)}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(heading)}</h1><p class='sgw-expression'>{html.escape(w.caption)}</p>"
        "<p class='sgw-help'>Pick an algorithm, then step with the buttons, the slider or the keys "
        "← → (Home / End: first / last step). The visited node, its line and its table row are "
        "highlighted together.</p></header>\n"
        f"<main>{body}</main>\n"
        "<footer>Made by scalargrad: everything on this page is inline; it fetches nothing.</footer>\n"
        "</body>\n</html>\n"
    )


def write_walkthrough(
    outputs: Value | Sequence[Value],
    path: str | Path,
    *,
    wrt: Value | None = None,
    title: str | None = None,
    mode: str = "reverse",
    digits: int = 3,
    max_layout_cost: int | None = MAX_LAYOUT_COST,
    max_nodes: int | None = MAX_NODES,
    groups: Mapping[str, Any] | None = None,
) -> Path:
    """Write :func:`walkthrough`'s page to ``path`` (UTF-8) and return the path.

    The path is checked before any work (a FIFO, device or directory raises
    :class:`scalargrad.files.UnwritablePathError`) and written atomically.
    """
    target = Path(path)
    check_writable(target)
    page = walkthrough(
        outputs,
        wrt=wrt,
        title=title,
        mode=mode,
        digits=digits,
        max_layout_cost=max_layout_cost,
        max_nodes=max_nodes,
        groups=groups,
    )
    return write_atomic(target, page)


def new_root_id() -> str:
    """A fresh element id for one step-through in a notebook (outputs of many sessions may meet)."""
    return f"sgw-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- #
# style and script                                                             #
# --------------------------------------------------------------------------- #


def _node_css(selector: str, attrs: dict[str, str]) -> str:
    rules = []
    if "fillcolor" in attrs:
        rules.append(f".sgw {selector} > polygon {{ fill: {attrs['fillcolor']}; }}")
    stroke = attrs.get("color", "#000000")
    width = attrs.get("penwidth", "1")
    rules.append(
        f".sgw {selector} > polygon, .sgw {selector} > polyline "
        f"{{ stroke: {stroke}; stroke-width: {width}; }}"
    )
    rules.append(f".sgw {selector} > text {{ fill: {attrs.get('fontcolor', '#000000')}; }}")
    return "\n".join(rules)


STYLE = "\n".join(
    [
        ".sgw { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; "
        "color: #222; background: #fff; "
        "padding: 0.4em; outline: none; }",
        ".sgw:focus-visible { outline: 2px solid #90caf9; }",
        ".sgw button { font: inherit; font-size: 0.9em; margin: 0 0.15em 0.2em 0; padding: 0.25em 0.6em; "
        "border: 1px solid #999; border-radius: 4px; background: #f5f5f5; color: #222; cursor: pointer; }",
        ".sgw button.sgw-on { background: #1f5fbf; border-color: #1f5fbf; color: #fff; }",
        ".sgw .sgw-nav { display: flex; align-items: center; flex-wrap: wrap; gap: 0.2em; margin: 0.3em 0; }",
        ".sgw .sgw-slider { flex: 1 1 12em; min-width: 8em; }",
        ".sgw .sgw-count { font-variant-numeric: tabular-nums; white-space: nowrap; margin-left: 0.4em; }",
        ".sgw .sgw-body { display: grid; grid-template-columns: minmax(0, 1fr) minmax(18em, 28em); gap: 1em; "
        "align-items: start; }",
        ".sgw { container-type: inline-size; }",
        "@container (max-width: 70em) { .sgw-body { grid-template-columns: minmax(0, 1fr) !important; } }",
        ".sgw .sgw-diagram { max-height: 75vh; overflow: auto; border: 1px solid #ddd; border-radius: 4px; "
        "padding: 0.3em; }",
        ".sgw .sgw-diagram svg { max-width: 100%; height: auto; }",
        ".sgw .sgw-diagram.sgw-natural svg { max-width: none; min-width: 0 !important; }",
        ".sgw .sgw-panel { overflow-x: auto; }",
        ".sgw .sgw-ntg-box { max-height: 35vh; overflow: auto; }",
        ".sgw .sgw-line { font-size: 1.05em; padding: 0.4em 0.6em; background: #fff8e1; "
        "border-left: 4px solid #ffb300; margin-bottom: 0.5em; }",
        ".sgw .sgw-state-title { font-weight: bold; margin: 0.6em 0 0.2em 0; }",
        ".sgw table.sgw-ntg { border-collapse: collapse; font-size: 0.92em; }",
        ".sgw table.sgw-ntg td { border: 1px solid #ddd; padding: 0.15em 0.5em; }",
        ".sgw table.sgw-ntg td:first-child, .sgw table.sgw-ntg td.sgw-sum { white-space: nowrap; }",
        ".sgw table.sgw-ntg tr.sgw-done td { background: #d7eed8; }",
        ".sgw table.sgw-ntg tr.sgw-visited td { background: #ffd54f; font-weight: bold; }",
        ".sgw .sgw-new { color: #d84315; font-weight: bold; }",
        ".sgw .sgw-note { color: #8a4b00; font-size: 0.9em; }",
        ".sgw tr.sgw-current td { background: #ffd54f; }",
        ".sgw .sgw-tables { display: flex; flex-wrap: wrap; gap: 0 1.5em; align-items: flex-start; "
        "max-height: 40vh; overflow: auto; margin-top: 0.6em; border-top: 1px solid #ddd; }",
        ".sgw details.sgw-more { margin-top: 0.6em; }",
        ".sgw details.sgw-all li { margin: 0.1em 0; }",
        ".sgw .sgw-legend { font-size: 0.8em; margin-bottom: 0.3em; position: sticky; left: 0; }",
        ".sgw .sgw-key { display: inline-block; padding: 0 0.5em; margin-right: 0.4em; "
        "border: 1px solid #999; }",
        f".sgw .sgw-key-visited {{ background: {STEP_STYLE['visited']['fillcolor']}; }}",
        f".sgw .sgw-key-done {{ background: {STEP_STYLE['done']['fillcolor']}; }}",
        f".sgw .sgw-key-waiting {{ background: {STEP_STYLE['waiting']['fillcolor']}; color: #616161; }}",
        ".sgw .sgw-key-used { border: none; border-bottom: 3px solid #d84315; }",
        _node_css("g.node.sg-waiting", STEP_STYLE["waiting"]),
        _node_css("g.node.sg-done", STEP_STYLE["done"]),
        _node_css("g.node.sg-visited", STEP_STYLE["visited"]),
        _node_css("g.node.sg-new", {**STEP_STYLE["visited"], "color": "#1f5fbf"}),
        ".sgw g.sg-hidden { display: none; }",
        ".sgw g.edge.sg-used > path { stroke: #d84315; stroke-width: 2.2; }",
        ".sgw g.edge.sg-used > polygon { stroke: #d84315; fill: #d84315; }",
        ".sgw g.edge.sg-used > text { fill: #d84315; }",
    ]
)
"""The step-through's CSS (scoped to ``.sgw``); node colours are :data:`STEP_STYLE`'s."""

PAGE_STYLE = """
body { margin: 0 auto; max-width: 110em; padding: 0.5em 1.2em;
  font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #222; }
h1 { font-size: 1.35em; margin: 0.4em 0 0.2em 0; }
.sgw-expression { font-size: 1.1em; margin: 0.2em 0; }
.sgw-help { color: #555; font-size: 0.9em; margin: 0.2em 0 0.4em 0; }
footer { color: #777; font-size: 0.8em; margin: 1.5em 0 0.5em 0; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  if (window.scalargradStepThrough1) return;
  function make(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function setup(root, options) {
    var data = JSON.parse(root.querySelector("script.sgw-data").textContent);
    var modes = {};
    data.modes.forEach(function (m) { modes[m.mode] = m; });
    var tables = Array.prototype.slice.call(root.querySelectorAll(".sgw-tables table.scalargrad-trace"));
    var rows = tables.map(function (t) {
      return Array.prototype.filter.call(t.querySelectorAll("tr"), function (r) {
        return r.querySelector("td") && !r.classList.contains("summary");
      });
    });
    var views = {};
    Array.prototype.forEach.call(root.querySelectorAll(".sgw-svg"), function (box) {
      var view = {box: box, nodes: {}, edges: [], applied: -1};
      Array.prototype.forEach.call(box.querySelectorAll("g[data-n]"), function (g) {
        var texts = [];
        Array.prototype.forEach.call(g.querySelectorAll("text[data-f]"), function (t) {
          texts[+t.getAttribute("data-f")] = t;
        });
        view.nodes[g.getAttribute("data-n")] = {g: g, texts: texts};
      });
      Array.prototype.forEach.call(box.querySelectorAll("g[data-e]"), function (g) {
        var ends = g.getAttribute("data-e").split(" ");
        view.edges.push({g: g, a: ends[0], b: ends[1], text: g.querySelector("text")});
      });
      views[box.getAttribute("data-mode")] = view;
    });
    var q = function (s) { return root.querySelector(s); };
    var slider = q(".sgw-slider"), count = q(".sgw-count"), panel = q(".sgw-panel"), play = q(".sgw-play");
    var diagram = q(".sgw-diagram");
    var state = {mode: data.start.mode, at: {}, timer: null, current: null};
    data.modes.forEach(function (m) { state.at[m.mode] = 0; });
    state.at[data.start.mode] = data.start.step;

    function applyFields(view, changes) {
      for (var id in changes) {
        var n = view.nodes[id];
        if (!n) continue;
        changes[id].forEach(function (text, i) {
          var e = n.texts[i + 1];
          if (e) e.textContent = text;
        });
      }
    }
    function drawDiagram(m, k) {
      var view = views[m.mode];
      if (!view || !Object.keys(view.nodes).length) return;
      var st = m.steps[k], done = {}, used = {}, fresh = {}, hidden = {}, j;
      for (j = 0; j <= k; j++) done[m.steps[j].node] = true;
      st.edges.forEach(function (e) { used[e[0] + " " + e[1]] = true; });
      (st["new"] || []).forEach(function (id) { fresh[id] = true; });
      var built = m.built || {};
      for (var id in view.nodes) {
        var cls;
        if (Object.prototype.hasOwnProperty.call(built, id)) {
          if (built[id] > k) { cls = "sg-hidden"; hidden[id] = true; }
          else cls = fresh[id] ? "sg-adj sg-new" : "sg-adj";
        } else {
          cls = id === st.node ? "sg-visited" : done[id] ? "sg-done" : "sg-waiting";
        }
        view.nodes[id].g.setAttribute("class", "node " + cls);
      }
      var labels = {};
      (st.labels || []).forEach(function (l) {
        var key = l[0] + " " + l[1];
        (labels[key] = labels[key] || []).push(l[2]);
      });
      view.edges.forEach(function (e) {
        var cls = "edge", key = e.a + " " + e.b;
        if (hidden[e.a] || hidden[e.b]) cls += " sg-hidden";
        else if (used[key]) cls += " sg-used";
        e.g.setAttribute("class", cls);
        if (e.text) e.text.textContent = labels[key] && labels[key].length ? labels[key].shift() : "";
      });
      if (view.applied < 0 || view.applied > k) {
        applyFields(view, m.steps[0].fields);
        view.applied = 0;
      }
      for (j = view.applied + 1; j <= k; j++) applyFields(view, m.steps[j].fields);
      view.applied = k;
      var target = view.nodes[st.node];
      if (target && diagram.clientWidth) {
        var box = diagram.getBoundingClientRect(), r = target.g.getBoundingClientRect();
        if (r.left < box.left || r.right > box.right) {
          diagram.scrollLeft += r.left - box.left - box.width / 2 + r.width / 2;
        }
        if (r.top < box.top || r.bottom > box.bottom) {
          diagram.scrollTop += r.top - box.top - box.height / 2 + r.height / 2;
        }
      }
    }
    function rowPanel(m, st) {
      var div = make("div", "sgw-row");
      if (state.current) state.current.classList.remove("sgw-current");
      state.current = null;
      if (!st.row || !rows[st.row[0]] || !rows[st.row[0]][st.row[1]]) return div;
      var tr = rows[st.row[0]][st.row[1]];
      tr.classList.add("sgw-current");
      state.current = tr;

      var table = make("table", "scalargrad-trace");
      table.appendChild(make("caption", "", data.tables[st.row[0]]));
      var head = make("tr");
      ["node", "definition", "value"].forEach(function (h) { head.appendChild(make("th", "", h)); });
      table.appendChild(head);
      var copy = tr.cloneNode(true);
      copy.classList.remove("sgw-current");
      table.appendChild(copy);
      div.appendChild(table);
      return div;
    }
    function entry(e) { return e[0] === "1" ? "1" : e[0] + " = " + e[1]; }
    function reverseState(m, k) {
      var lists = {}, sums = {}, done = {}, id, j;
      for (id in m.initial) lists[id] = m.initial[id].map(function (e) { return [e[0], e[1], false]; });
      for (j = 0; j <= k; j++) {
        var st = m.steps[j];
        sums[st.node] = st.value;
        done[st.node] = true;
        st.appended.forEach(function (a) {
          (lists[a[0]] = lists[a[0]] || []).push([a[1], a[2], j === k]);
        });
      }
      var table = make("table", "sgw-ntg");
      for (var i = data.order.length - 1; i >= 0; i--) {
        id = data.order[i];
        if (!lists[id]) continue;
        var tr = make("tr", id === m.steps[k].node ? "sgw-visited" : done[id] ? "sgw-done" : "");
        tr.setAttribute("data-n", id);
        tr.appendChild(make("td", "", "node_to_grad[" + data.names[id] + "]"));
        var td = make("td");
        td.appendChild(document.createTextNode("["));
        lists[id].forEach(function (e, n) {
          if (n) td.appendChild(document.createTextNode(", "));
          if (e[2]) td.appendChild(make("span", "sgw-new", entry(e)));
          else td.appendChild(document.createTextNode(entry(e)));
        });
        td.appendChild(document.createTextNode("]"));
        tr.appendChild(td);
        tr.appendChild(make("td", "sgw-sum", sums[id] !== undefined ? data.bars[id] + " = " + sums[id] : ""));
        table.appendChild(tr);
      }
      return table;
    }
    function show(mode, k) {
      var m = modes[mode];
      k = Math.max(0, Math.min(m.steps.length - 1, k));
      if (mode !== state.mode) {
        Array.prototype.forEach.call(root.querySelectorAll(".sgw-mode"), function (b) {
          var on = b.getAttribute("data-mode") === mode;
          b.classList.toggle("sgw-on", on);
          b.setAttribute("aria-pressed", on ? "true" : "false");
        });
        Array.prototype.forEach.call(root.querySelectorAll(".sgw-svg"), function (box) {
          box.hidden = box.getAttribute("data-mode") !== mode;
        });
        state.mode = mode;
        root.setAttribute("data-mode", mode);
      }
      state.at[mode] = k;
      var st = m.steps[k];
      slider.max = String(m.steps.length);
      slider.value = String(k + 1);
      count.textContent = "step " + (k + 1) + " of " + m.steps.length;
      root.setAttribute("data-step", String(k + 1));
      root.setAttribute("data-node", st.node);
      drawDiagram(m, k);
      panel.textContent = "";
      panel.appendChild(make("div", "sgw-line", st.line));
      panel.appendChild(rowPanel(m, st));
      var box = make("div", "sgw-state");
      if (mode === "reverse") {
        box.appendChild(make("div", "sgw-state-title", "node_to_grad after this step"));
        var list = make("div", "sgw-ntg-box");
        list.appendChild(reverseState(m, k));
        box.appendChild(list);
      } else if (mode === "extend") {
        box.appendChild(make("div", "sgw-state-title", "adjoint nodes added by this step"));
        var ul = make("ul", "sgw-added");
        st.added.forEach(function (a) { ul.appendChild(make("li", "", a[1] + " = " + a[2])); });
        if (!st.added.length) ul.appendChild(make("li", "sgw-none", "none"));
        box.appendChild(ul);
      }
      panel.appendChild(box);
      var scroller = panel.querySelector(".sgw-ntg-box");
      var visited = scroller ? scroller.querySelector("tr.sgw-visited") : null;
      if (visited && scroller.clientHeight) {
        var pb = scroller.getBoundingClientRect(), vr = visited.getBoundingClientRect();
        if (vr.top < pb.top || vr.bottom > pb.bottom) scroller.scrollTop += vr.top - pb.top - pb.height / 2;
      }
      keepRowInView();
    }
    function keepRowInView() {
      // the full tables' box reaches down to the window's bottom edge, and the current row is
      // scrolled into view inside it: the box scrolls, never the page
      var tr = state.current, holder = tr ? tr.closest(".sgw-tables") : null;
      if (!holder || !holder.clientHeight) return;
      var room = window.innerHeight - holder.getBoundingClientRect().top - 8;
      holder.style.maxHeight = Math.max(160, room) + "px";
      var hb = holder.getBoundingClientRect(), tb = tr.getBoundingClientRect();
      if (tb.top < hb.top || tb.bottom > hb.bottom) {
        holder.scrollTop += tb.top - hb.top - (hb.height - tb.height) / 2;
      }
      if (tb.left < hb.left || tb.right > hb.right) holder.scrollLeft += tb.left - hb.left;
    }
    function stop() {
      if (state.timer !== null) { clearInterval(state.timer); state.timer = null; }
      play.textContent = "▶ play";
    }
    function step(delta) { stop(); show(state.mode, state.at[state.mode] + delta); }
    function go(k) { stop(); show(state.mode, k); }
    Array.prototype.forEach.call(root.querySelectorAll(".sgw-mode"), function (b) {
      b.addEventListener("click", function () {
        stop();
        var mode = b.getAttribute("data-mode");
        show(mode, state.at[mode]);
      });
    });
    q(".sgw-first").addEventListener("click", function () { go(0); });
    q(".sgw-last").addEventListener("click", function () { go(modes[state.mode].steps.length - 1); });
    q(".sgw-prev").addEventListener("click", function () { step(-1); });
    q(".sgw-next").addEventListener("click", function () { step(1); });
    slider.addEventListener("input", function () { go(+slider.value - 1); });
    play.addEventListener("click", function () {
      if (state.timer !== null) { stop(); return; }
      var m = modes[state.mode];
      if (state.at[state.mode] >= m.steps.length - 1) show(state.mode, 0);
      play.textContent = "❚❚ pause";
      state.timer = setInterval(function () {
        var k = state.at[state.mode] + 1;
        if (k >= modes[state.mode].steps.length) { stop(); return; }
        show(state.mode, k);
      }, 1000);
    });
    // diagrams shrink to the width available, but never so far that their smallest text is
    // under 12.5 px high (then they scroll); a double click toggles their natural size
    Array.prototype.forEach.call(diagram.querySelectorAll("svg"), function (svg) {
      var w = parseFloat(svg.getAttribute("width")), unit = /pt$/.test(svg.getAttribute("width")) ? 4 / 3 : 1;
      var smallest = Infinity;
      Array.prototype.forEach.call(svg.querySelectorAll("text[font-size]"), function (t) {
        var f = parseFloat(t.getAttribute("font-size"));
        if (f > 0 && f < smallest) smallest = f;
      });
      var scale = smallest < Infinity ? Math.min(1, 12.5 / (smallest * unit)) : 0.6;
      if (w > 0) svg.style.minWidth = (scale * w * unit) + "px";
    });
    diagram.addEventListener("dblclick", function () { diagram.classList.toggle("sgw-natural"); });
    var keys = {ArrowLeft: function () { step(-1); }, ArrowRight: function () { step(1); },
                Home: function () { go(0); }, End: function () { go(modes[state.mode].steps.length - 1); }};
    (options.globalKeys ? document : root).addEventListener("keydown", function (ev) {
      if (ev.altKey || ev.ctrlKey || ev.metaKey || !keys[ev.key]) return;
      var t = ev.target;
      if (t && t.tagName && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
      ev.preventDefault();
      keys[ev.key]();
    });
    show(state.mode, state.at[state.mode]);
    root.setAttribute("data-ready", "1");
  }
  window.scalargradStepThrough1 = setup;
})();
"""
"""The step-through's script: no library, no network; one function per page, any number of step-throughs."""
