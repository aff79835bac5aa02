"""The step-through's diagrams: each mode's laid out once, annotated so a step can restyle it.

:func:`layout` lays out a mode's diagram (the union of its steps', every label at its
widest), leaving out edge labels and then the adjoint nodes of ``"extend"`` when Graphviz
would take too long; :func:`annotate` marks its SVG's nodes, edges and node texts so that
the page's script (and :meth:`scalargrad.viz.page.Walkthrough.svg_at`) can restyle and
refill it per step. See :mod:`scalargrad.viz.page` for why one layout per mode.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import replace

from ..stepping import Steps
from ._render import RenderError, layout_cost, pipe
from ._steps import build_step_dot, layout_source

__all__ = ["EDGE_BLOCK", "NODE_BLOCK", "SVG_TEXT", "annotate", "layout"]

_PROLOG = re.compile(r"<\?xml.*?\?>\s*|<!DOCTYPE.*?>\s*|<!--.*?-->\s*", re.DOTALL)
_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)">\s*<title>(.*?)</title>')
_GROUP_ID = re.compile(r'(<g) id="[^"]*"')
NODE_BLOCK = re.compile(r'(<g class="node[^"]*" data-n=")([^"]*)(">)(.*?)(</g>)', re.DOTALL)
EDGE_BLOCK = re.compile(r'<g class="edge[^"]*" data-e="([^"]*)">(.*?)</g>', re.DOTALL)
SVG_TEXT = re.compile(r'(<text)(?: data-f="(\d+)")?([^>]*>)(.*?)(</text>)', re.DOTALL)


def annotate(svg: str) -> str:
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
        body = SVG_TEXT.sub(
            lambda t: f'<text data-f="{next(count)}"{t.group(3)}{t.group(4)}</text>', m.group(4)
        )
        return m.group(1) + m.group(2) + m.group(3) + body + m.group(5)

    return NODE_BLOCK.sub(node, svg).strip()


def _layout_steps(s: Steps, extension: bool) -> Steps:
    """``s``, or with ``extension=False`` ``s`` without the adjoint nodes of ``"extend"``."""
    return s if extension else Steps(s.mode, s.graph, [replace(st, added=[]) for st in s], s.wrt, s.groups)


_EDGE_LABEL = re.compile(r'^(\t[^\n]* -> [^\n]*?\[)label="(?:[^"\\]|\\.)*" ?', re.MULTILINE)
"""An edge's label in a step's DOT (the graphviz package writes ``label`` first)."""
_GRAPH_LABEL = re.compile(r'^(\tgraph \[.*?)\blabel="(?:[^"\\]|\\.)*" ', re.MULTILINE)


def layout(
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
            return annotate(svg), extension and s.mode == "extend", " ".join(notes)
    return None, False, f"No diagram: {'; '.join(reasons)}."

