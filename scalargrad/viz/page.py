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
and from a file. The script, the styles and the page around the step-through are files in
``scalargrad/viz/assets/`` (:mod:`scalargrad.viz._page_assets` reads them), inlined
unchanged; the data each step shows is JSON in its own ``<script type="application/json">``.

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
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import Value, topological_order
from ..extension import Extension
from ..files import check_writable, write_atomic
from ..notation.names import BAR, DOT, TEXT, text_name
from ..notation.numbering import as_outputs
from ..stepping import MODES, Steps, steps
from ..tables import Trace, trace
from ._dot import TooManyNodesError, tensor_groups
from ._page_assets import inline_json, page_style, page_template, script, script_call, style
from ._page_layout import EDGE_BLOCK, NODE_BLOCK, SVG_TEXT, layout
from ._render import MAX_LAYOUT_COST
from ._steps import edge_labels, node_fields

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
            layouts.update(dict.fromkeys(self.tangent_inputs, layout(joined, digits, max_layout_cost)))
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
            svg, extension, note = layouts.get(mode) or layout(s, digits, max_layout_cost, fields_of(mode))
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

                body = SVG_TEXT.sub(text, body)
            return f'<g class="node {cls}" data-n="{x.group(2)}">{body}</g>'

        labels: dict[str, list[str]] = {}
        for a, b, label in edge_labels(m.steps, step, self.digits):
            labels.setdefault(f"{a} {b}", []).append(label)

        def edge(x: re.Match[str]) -> str:
            a, _, b = html.unescape(x.group(1)).partition(" ")
            cls = "sg-hidden" if a in hidden or b in hidden else "sg-used" if f"{a} {b}" in used else ""
            waiting = labels.get(f"{a} {b}")
            text = html.escape(waiting.pop(0)) if waiting else ""
            body = SVG_TEXT.sub(lambda t: f"{t.group(1)}{t.group(3)}{text}{t.group(5)}", x.group(2), count=1)
            return f'<g class="edge{" " + cls if cls else ""}" data-e="{x.group(1)}">{body}</g>'

        svg = NODE_BLOCK.sub(node, m.svg)
        return EDGE_BLOCK.sub(edge, svg)

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
    def page(self, *, mode: str = "reverse", title: str | None = None) -> str:
        """The whole offline HTML page of :func:`walkthrough`, opening on ``mode``'s first step."""
        if mode not in self.modes:
            raise ValueError(f"the graph has no {mode} steps (it has no inputs)")
        heading = title if title is not None else "Watch automatic differentiation step by step"
        body = self.fragment(root_id="sgw-page", start_mode=mode, start_step=1, full_tables=True)
        return page_template().substitute(
            heading=html.escape(heading), caption=html.escape(self.caption), style=page_style(), body=body
        )

    def fragment(self, *, root_id: str, start_mode: str, start_step: int, full_tables: bool) -> str:
        """The step-through as one HTML fragment (root element, data and script).

        ``root_id`` is the root element's id: a letter, then letters, digits, ``-`` or ``_``."""
        if not isinstance(root_id, str) or not _ROOT_ID.fullmatch(root_id):
            raise ValueError(f"root_id must be a letter then letters, digits, - or _, got {root_id!r}")
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
        data = inline_json(self.payload(start_mode, start_step))
        return (
            f"<div class='sgw' id='{root_id}' tabindex='0' data-mode='{start_mode}'>"
            f"<div class='sgw-bar'><div class='sgw-modes'>{tabs}</div><div class='sgw-nav'>{nav}</div></div>"
            f"<div class='sgw-body'><div class='sgw-diagram'>{legend}{''.join(diagrams)}</div>"
            f"<div class='sgw-side'><div class='sgw-panel'>{self.panel_html(start_mode, start_step)}</div>"
            f"{tables_html}</div></div>"
            f"<details class='sgw-more sgw-all'><summary>every step, as text</summary>{every}</details>"
            f"<script type='application/json' class='sgw-data'>{data}</script>"
            f"</div>\n<style>{style()}</style>\n<script>{script()}\n"
            f"{script_call(root_id, global_keys=full_tables)}</script>"
        )


_ROOT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


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
    return w.page(mode=mode, title=title)


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
