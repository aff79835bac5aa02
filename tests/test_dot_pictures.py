"""Pictures of graphs with dot nodes (x₁·y₁ + … + xₙ·yₙ as one node of 2n parents).

Every diagram kind, the extended graph (both styles), the step records, the step
diagrams and the step-through page, checked on hypothesis-generated graphs that hold
dot nodes: one node per graph node, one edge per (non-constant) parent, each local
derivative the pair partner, and the numbers those of the same function built from
binary ``*`` and ``+`` nodes (an independent graph, differentiated by the binary walks).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from test_extension import check_extension
from test_walkthrough import Tab, check_step

import scalargrad as sg
from scalargrad import Value, draw, steps
from scalargrad.core import topological_order
from scalargrad.extension import Extension, GradientGraph
from scalargrad.notation.names import BAR, TEXT
from scalargrad.notation.numbering import Graph
from scalargrad.stepping import MODES
from scalargrad.testing import GeneratedExpression, expressions_and_points
from scalargrad.viz._steps import build_step_dot
from scalargrad.viz.page import Walkthrough, write_walkthrough

DOT_OPS = ("dot", "sin", "exp", "mul", "add", "sub", "tanh")
"""Steps drawn mostly among few ops, so that most generated graphs hold a dot node."""
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Case = tuple[GeneratedExpression, list[float]]
cases = expressions_and_points(min_inputs=1, max_inputs=3, ops=DOT_OPS, bound=1.0, max_depth=4)


def is_dot(v: Value) -> bool:
    return v.op is not None and v.op.arity is None


def build(case: Case) -> tuple[list[Value], Value]:
    """The generated graph at its point; only graphs with a dot node that depends on an input."""
    f, point = case
    xs = [Value(x, label=f"x{i + 1}") for i, x in enumerate(point)]
    y = f(*xs)
    assume(isinstance(y, Value) and not y.is_constant)
    assume(any(is_dot(v) and not all(p.is_constant for p in v.parents) for v in topological_order(y)))
    return xs, y


def partner(v: Value, position: int) -> Value:
    """The operand a dot node's operand ``position`` is multiplied by: xₖ's is yₖ, yₖ's is xₖ."""
    n = len(v.operands) // 2
    return v.operands[(position + n) % (2 * n)]


def binary_copy(case: Case, xs: list[Value]) -> tuple[list[Value], Value]:
    """The case's function with each dot node as the products and sums it stands for (binary
    nodes only, :meth:`~scalargrad.testing.GeneratedExpression.as_binary`) over new inputs like
    ``xs``: an independent graph computing the same function."""
    new = [Value(x.data, label=x.label) for x in xs]
    return new, case[0].as_binary()(*new)


def close(a: float, b: float) -> bool:
    """Equal up to the rounding of the sum (a dot sums exactly, the binary copy left to right)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))


def nodes_and_edges(source: str) -> tuple[set[str], list[tuple[str, str, str]]]:
    """Node ids and (tail, head, label) of each edge statement of a DOT source."""
    ids = set(re.findall(r'^\s*(\w+) \[label="', source, flags=re.M))
    found = []
    for m in re.finditer(r"^\s*(\w+) -> (\w+)(.*)$", source, flags=re.M):
        label = re.search(r'\blabel=(?:"((?:[^"\\]|\\.)*)"|([^ \]]+))', m.group(3))
        found.append((m.group(1), m.group(2), "" if label is None else label.group(1) or label.group(2)))
    return ids, found


def laid_out(source: str) -> tuple[set[str], Counter[tuple[str, str]]]:
    """What Graphviz (WebAssembly) read from ``source``: its node names and edges."""
    laid = json.loads(sg.viz.Diagram(source, "test").pipe("json", backend="wasm"))
    names = {o["_gvid"]: o["name"] for o in laid["objects"]}
    return set(names.values()), Counter((names[e["tail"]], names[e["head"]]) for e in laid.get("edges", []))


def expected_edges(g: Graph) -> Counter[tuple[str, str]]:
    """One edge per parent that is drawn (constants print inline): 2n into a dot node."""
    return Counter((g.name(p), g.name(v)) for v in g.order for p in v.parents if p in g.index)


def number(x: float) -> str:
    return TEXT.number(x, 3)[0]


# --------------------------------------------------------------------------- diagrams


@SLOW
@given(cases)
def test_every_diagram_kind_has_each_node_once_and_an_edge_per_parent(case: Case) -> None:
    _, y = build(case)
    g = Graph([y])
    forward = {g.name(v) for v in g.order}
    for v in g.order:
        if is_dot(v):
            assert len(v.parents) == len(v.operands) and len(v.parents) % 2 == 0
    for kind in ("forward", "tangent", "adjoint"):
        source = draw(y, kind=kind, max_nodes=500).source
        ids, edges = nodes_and_edges(source)
        assert ids == forward
        assert Counter((a, b) for a, b, _ in edges) == expected_edges(g)
        parsed_nodes, parsed_edges = laid_out(source)
        assert parsed_nodes == forward and parsed_edges == expected_edges(g)


@SLOW
@given(cases)
def test_a_dot_nodes_edges_are_labelled_with_the_pair_partner(case: Case) -> None:
    """Forward and tangent diagrams label the edge from xₖ with yₖ (its local derivative), the
    adjoint diagram with the partial adjoint v̄ᵢ·yₖ; the node shows the sum of products."""
    _, y = build(case)
    g = Graph([y])
    adj = sg.adjoints(y)
    for kind in ("forward", "tangent", "adjoint"):
        _, edges = nodes_and_edges(draw(y, kind=kind, max_nodes=500).source)
        for v in filter(is_dot, g.order):
            got = Counter((a, label) for a, b, label in edges if b == g.name(v))
            wanted: Counter[tuple[str, str]] = Counter()
            for position, p in enumerate(v.operands):
                if p.is_constant:
                    continue
                q = partner(v, position)
                if kind == "adjoint":
                    label = f"{TEXT.name(g.partial_name(p, v, position))} = {number(adj[v] * q.data)}"
                elif q.is_constant:
                    label = number(q.data)
                else:
                    label = f"{TEXT.name(g.name(q))} = {number(q.data)}"
                wanted[(g.name(p), label.replace('"', '\\"'))] += 1
            assert got == wanted, (kind, g.name(v))
    names = {v: TEXT.name(g.name(v)) for v in g.order}
    source = draw(y, kind="forward", max_nodes=500).source
    for v in filter(is_dot, g.order):
        n = len(v.operands) // 2
        terms = [(v.operands[k], v.operands[n + k]) for k in range(n)]
        label = re.search(rf'^\s*{g.name(v)} \[label="([^|]*)\|', source, flags=re.M)
        assert label is not None
        shown = [names.get(a, "") if not a.is_constant else "" for pair in terms for a in pair]
        assert label.group(1).count(" + ") >= n - 1 and all(s in label.group(1) for s in shown)


@SLOW
@given(cases)
def test_the_adjoint_diagram_shows_the_binary_graphs_adjoints(case: Case) -> None:
    xs, y = build(case)
    bx, by = binary_copy(case, xs)
    assert close(by.data, y.data)
    g = Graph([y])
    fields = dict(
        re.findall(r'^\s*(v\d+) \[label="[^"]*\|v̄[₀-₉]+ = ([^"|]*)"', draw(y, kind="adjoint").source, re.M)
    )
    for x, b in zip(xs, sg.grad(by, bx)):
        if x in g.index:
            assert fields[g.name(x)] == number(sg.adjoints(y)[x])
            assert close(sg.adjoints(y)[x], b)


# --------------------------------------------------------------------------- the extended graph


@SLOW
@given(cases)
def test_the_extended_graph_of_a_dot_is_named_numbered_and_multiplies_by_the_partner(case: Case) -> None:
    xs, y = build(case)
    ext = check_extension(y)  # the notes' naming rule, its indices and its numbers
    g = ext.g
    bx, by = binary_copy(case, xs)
    for x, b in zip(xs, sg.grad(by, bx)):
        if x in ext.adjoint_of:
            assert close(ext.adjoint_of[x].value, b)
    by_name = {u.name: u for u in ext.nodes}
    into = Counter((e.source, e.target) for e in ext.edges)
    for v in filter(is_dot, g.order):
        if v not in ext.adjoint_of:
            continue
        bar = ext.adjoint_of[v].name
        for position, k in enumerate(v.operands):
            q = partner(v, position)
            if k not in ext.needed or v.operands.count(k) > 1 or q.is_constant:
                continue
            several = len(ext.consumers[k]) > 1 or k in g.outputs
            u = by_name[ext.partial_name(k, v) if several else ext.name(k, BAR)]
            assert u.definition == f"{bar}·{ext.name(q)}", u.text()
            assert into[(g.name(q), u.id)] == 1 and into[(ext.adjoint_of[v].id, u.id)] == 1
            assert close(u.value, ext.adjoint[v] * q.data)
    source = draw(y, kind="extended", max_nodes=500, max_layout_cost=None).source
    parsed, edges = laid_out(source)
    forward = {g.name(v) for v in g.order}
    assert forward | {u.id for u in ext.nodes} <= parsed
    assert +(edges - Counter((e.source, e.target) for e in ext.edges)) == expected_edges(g)


@SLOW
@given(cases)
def test_the_compact_extended_graph_of_a_dot_differentiates_like_the_binary_graph(case: Case) -> None:
    xs, y = build(case)
    g = Graph([y])
    side = GradientGraph(g, g.inputs)
    bx, by = binary_copy(case, xs)
    for x, b in zip(xs, sg.grad(by, bx)):
        a = side.adj.get(x)
        if x in g.index and a is not None:
            assert close(float(a.data if isinstance(a, Value) else a), b)
    source = draw(y, kind="extended", style="compact", max_nodes=500, max_layout_cost=None).source
    parsed, edges = laid_out(source)
    assert {g.name(v) for v in g.order} | set(side.ids.values()) <= parsed
    forward = Counter({e: c for e, c in edges.items() if e[1].startswith("v")})
    assert forward == expected_edges(g)


# --------------------------------------------------------------------------- steps and the page


@SLOW
@given(cases)
def test_steps_visit_every_node_and_give_the_binary_graphs_numbers(case: Case) -> None:
    xs, y = build(case)
    bx, by = binary_copy(case, xs)
    grads = dict(zip(xs, sg.grad(by, bx)))
    for mode in MODES:
        s = steps(y, mode=mode)
        g = s.graph
        visited = [step.node for step in s]
        assert sorted(visited) == sorted(g.name(v) for v in g.order)
        for k in range(1, len(s) + 1):
            source = build_step_dot(s, k)
            ids, edges = nodes_and_edges(source)
            assert {i for i in ids if i.startswith("v")} == {g.name(v) for v in g.order}
            drawn = Counter((a, b) for a, b, _ in edges if b.startswith("v"))
            assert drawn == expected_edges(g), (mode, k)
        if mode == "reverse":
            for step in s:
                x = next(u for u in g.order if g.name(u) == step.node)
                if x in grads:
                    assert close(step.value, grads[x])
        if mode == "tangent":
            wrt = s.graph.inputs[0]
            assert close(s[-1].value, sg.grad(by, bx[xs.index(wrt)]))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_the_step_through_page_draws_every_node_and_edge_at_every_step(case: Case) -> None:
    _, y = build(case)
    w = Walkthrough(y, max_layout_cost=None)
    g = Graph([y])
    edges = expected_edges(g)
    for mode, m in w.modes.items():
        for k, step in enumerate(m.steps, 1):
            svg = w.svg_at(mode, k)
            assert svg is not None
            classes = {n: c for c, n in re.findall(r'<g class="node ([^"]*)" data-n="(v\d+)"', svg)}
            assert set(classes) == {g.name(v) for v in g.order}, (mode, k)
            assert classes[step.node] == "sg-visited"
            got = Counter(
                tuple(e.split()) for e in re.findall(r'<g class="edge[^"]*" data-e="(v\d+ v\d+)"', svg)
            )
            assert got == edges, (mode, k)


def dot_example() -> Value:
    x1, x2, x3 = Value(0.5, label="x1"), Value(-1.0, label="x2"), Value(2.0, label="x3")
    return sg.ops.dot([x1, x2, x3], [x3, x1.sin(), 2.0]).tanh()


def test_a_dot_node_reads_as_its_sum_of_products() -> None:
    source = draw(dot_example(), kind="tangent").source
    assert 'v5 [label="v₅ = v₁*v₃ + v₂*v₄ + v₃*2|4.521|v̇₅ = 1.122"]' in source
    _, edges = nodes_and_edges(source)
    assert sorted((a, label) for a, b, label in edges if b == "v5") == [
        ("v1", "v₃ = 2"),
        ("v2", "v₄ = 0.479"),
        ("v3", "2"),
        ("v3", "v₁ = 0.5"),
        ("v4", "v₂ = −1"),
    ]
    g = Graph([dot_example()])
    texts = [u.text() for u in Extension(g, g.inputs).nodes]
    assert "v̄₂ = v̄₅·v₄" in texts  # v₃ is read twice: one partial adjoint per use
    assert {"v̄₃→₅⁽¹⁾ = v̄₅·2", "v̄₃→₅⁽²⁾ = v̄₅·v₁", "v̄₃ = v̄₃→₅⁽¹⁾ + v̄₃→₅⁽²⁾"} <= set(texts)


def test_the_page_steps_through_a_dot_graph_in_the_browser(tab: Tab, tmp_path: Path) -> None:
    y = dot_example()
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "dot.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    for mode in MODES:
        page.click(f"button.sgw-mode[data-mode='{mode}']")
        page.keyboard.press("Home")
        check_step(page, w, mode, 1)
        for k in range(2, len(w.modes[mode].steps) + 1):
            page.keyboard.press("ArrowRight")
            check_step(page, w, mode, k)


@pytest.fixture
def tab(browser: Any) -> Any:
    t = Tab(browser)
    yield t
    t.close()


@pytest.mark.parametrize("mode", MODES)
def test_the_frames_of_a_dot_graph_share_one_layout(mode: str, tmp_path: Path) -> None:
    """Each step frame draws every forward node; a node keeps its place in every frame; one size."""
    from test_viz import _node_places

    from scalargrad.viz.frames import write_frames

    s = steps(dot_example(), mode=mode)
    written = write_frames(s, tmp_path, formats=("svg",), backend="wasm")
    assert len(written) == len(s) == len(s.graph.order)
    frames = [_node_places(p.read_text(encoding="utf-8")) for p in written]
    assert len({size for size, _ in frames}) == 1
    every: dict[str, str] = {}
    for _, places in frames:
        assert {f"v{i}" for i in range(1, 7)} <= set(places)
        for node, place in places.items():
            assert every.setdefault(node, place) == place, f"{node} moved"
