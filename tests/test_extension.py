"""The notes' extended graph for any expression: names, indices, numbers and layout.

seeds/000, "reverse mode AD by extending computational graph": every adjoint v̄ᵢ is a
node, partial adjoints v̄ₖ→ᵢ of nodes with several consumers are nodes (or, when they
equal v̄ᵢ, labelled edges into the sum), local derivatives that are formulas are nodes
∂vᵢ/∂vₖ = formula, and no internal id ever shows. Checked on generated graphs.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given, settings

import scalargrad as sg
from scalargrad import Value, draw, steps
from scalargrad.extension import Extension
from scalargrad.notation.names import BAR, text_name
from scalargrad.notation.numbering import Graph
from scalargrad.testing import ALL_OPS, GeneratedExpression, expressions_and_points

SUB = "₀₁₂₃₄₅₆₇₈₉"
INDEX = f"[{SUB}]+"
USE = "(?:⁽([⁰¹²³⁴⁵⁶⁷⁸⁹]+)⁾)?"  # one use of a parent its child reads more than once
ADJOINT = re.compile(f"^v̄({INDEX})$")
PARTIAL = re.compile(f"^v̄({INDEX})→({INDEX}){USE}$")
SEED_PARTIAL = re.compile(f"^v̄({INDEX})→[yf][{SUB}]*$")
DERIVATIVE = re.compile(f"^∂v({INDEX})/∂v({INDEX}){USE}$")
MARK = "(?:⁽[⁰¹²³⁴⁵⁶⁷⁸⁹]+⁾)?"
NAME = re.compile(f"v̄{INDEX}(?:→(?:{INDEX}{MARK}|[yf][{SUB}]*))?|∂v{INDEX}/∂v{INDEX}{MARK}|v{INDEX}")


def number(sub: str) -> int:
    return int(sub.translate(str.maketrans(SUB + "⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789" * 2)))


def use_position(child: Value, parent: Value, use: str | None) -> int:
    """The operand position of ``parent`` in ``child`` that a name's use mark (or none) stands for."""
    positions = [k for k, p in enumerate(child.parents) if p is parent]
    assert (use is None) == (len(positions) == 1), (use, positions)
    return positions[0 if use is None else number(use) - 1]


def build(case: tuple[GeneratedExpression, list[float]]) -> Value:
    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    return y if isinstance(y, Value) and not y.is_constant else xs[0] * 2.0


def sigmoid() -> Value:
    point = [(2, "w0"), (-1, "x0"), (-3, "w1"), (-2, "x1"), (-3, "w2")]
    w0, x0, w1, x1, w2 = (Value(v, label=n) for v, n in point)
    return 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())


def check_extension(y: Value) -> Extension:
    """The naming rule (README, "The extended graph"), its indices and its numbers."""
    g = Graph([y])
    ext = Extension(g, g.inputs)
    by_id = {u.id: u for u in ext.nodes}

    def name_of(ident: str) -> str:
        return by_id[ident].name if ident in by_id else text_name(ident)

    forward_ids = {g.name(v): v for v in g.order}
    adjoint = sg.adjoints(y)
    names = [u.name for u in ext.nodes]
    assert len(set(names)) == len(names)
    # every adjoint of a node that depends on an input is a node named v̄ᵢ, valued as backward gives
    needed = {v for v in g.order if not v.is_constant}
    assert set(ext.adjoint_of) == needed
    for v, u in ext.adjoint_of.items():
        assert u.name == text_name(g.name(v, BAR))
        assert math.isclose(u.value, adjoint[v], rel_tol=1e-12, abs_tol=1e-300) or (
            math.isnan(u.value) and math.isnan(adjoint[v])
        )
    for u in ext.nodes:
        assert not re.search(r"\ba\d|\bt[₀-₉]", u.text()), u.text()  # no internal id
        incoming = [e for e in ext.edges if e.target == u.id]
        # each name in the definition is an edge into the node: from that node, or a labelled
        # edge standing for a partial adjoint that is no node (v̄₂→₃ = v̄₃)
        sources = {e.label or name_of(e.source) for e in incoming}
        referenced = NAME.findall(u.definition)
        assert set(referenced) == sources, (u.text(), sources)
        if m := PARTIAL.match(u.name):
            k, i = number(m[1]), number(m[2])
            vk, vi = g.order[k - 1], g.order[i - 1]
            assert vk in vi.parents and ext.adjoint_of[vi].name in referenced
            position = use_position(vi, vk, m[3])
            assert u.value == adjoint[vi] * vi.local_grads[position] or math.isnan(u.value)
        elif m := ADJOINT.match(u.name):
            vk = g.order[number(m[1]) - 1]
            if u.kind == "adjoint":  # its one partial adjoint: v̄ₖ = v̄ᵢ·∂vᵢ/∂vₖ for its consumer vᵢ
                (vi,) = [c for c in g.order if vk in c.parents]
                assert ext.adjoint_of[vi].name in referenced
            elif u.kind == "sum":
                assert all(PARTIAL.match(r) or SEED_PARTIAL.match(r) for r in referenced)
                assert {number(PARTIAL.match(r)[1]) for r in referenced if PARTIAL.match(r)} <= {number(m[1])}
        elif m := DERIVATIVE.match(u.name):
            vi, vk = g.order[number(m[1]) - 1], g.order[number(m[2]) - 1]
            assert vk in vi.parents and u.kind == "derivative"
            position = use_position(vi, vk, m[3])
            assert u.value == vi.local_grads[position] or math.isnan(u.value)
        else:
            assert SEED_PARTIAL.match(u.name) and u.kind == "seed", u.name
    for e in ext.edges:  # edges come from forward nodes or new nodes, and go to new nodes
        assert e.target in by_id and (e.source in by_id or e.source in forward_ids)
    return ext


def test_the_notes_figure() -> None:
    """(exp(v₁) + 1)·exp(v₁): the notes' five adjoint nodes, v̄₂→₃ = v̄₃ the labelled edge."""
    x = Value(1.0, label="x1")
    e = x.exp()
    ext = check_extension((e + 1) * e)
    assert [u.text() for u in ext.nodes] == [
        "v̄₄",
        "v̄₃ = v̄₄·v₂",
        "v̄₂→₄ = v̄₄·v₃",
        "v̄₂ = v̄₂→₃ + v̄₂→₄",
        "v̄₁ = v̄₂·v₂",
    ]
    assert [e.label for e in ext.edges if e.label] == ["v̄₂→₃"]
    assert [round(u.value, 3) for u in ext.nodes] == [1.0, 2.718, 3.718, 6.437, 17.496]


def test_the_sigmoid_has_every_adjoint_and_its_derivative_formula() -> None:
    ext = check_extension(sigmoid())
    text = [u.text() for u in ext.nodes]
    assert "∂v₁₃/∂v₁₂ = −v₁₃/v₁₂" in text and "v̄₁₂ = v̄₁₃·∂v₁₃/∂v₁₂" in text
    for shown in ("v̄₉ = −v̄₁₀", "v̄₈ = v̄₉", "v̄₅ = v̄₉", "v̄₄ = v̄₇·v₃", "v̄₁ = v̄₆·v₂"):
        assert shown in text
    assert round(next(u.value for u in ext.nodes if u.name == "v̄₅"), 3) == 0.197  # ∂y/∂w₂


def test_atan_tanh_sqrt_names_each_local_derivative() -> None:
    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    ext = check_extension((x * y).atan() + x.tanh() / y.sqrt())
    text = [u.text() for u in ext.nodes]
    assert "∂v₆/∂v₃ = 1/(1 + v₃*v₃)" in text and "∂v₄/∂v₁ = 1 − v₄*v₄" in text


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_the_naming_rule_holds_on_generated_graphs(case: tuple[GeneratedExpression, list[float]]) -> None:
    check_extension(build(case))


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_extend_steps_add_every_node_once(case: tuple[GeneratedExpression, list[float]]) -> None:
    y = build(case)
    s = steps(y, mode="extend")
    ext = Extension(s.graph, s.graph.inputs)
    added = [name for step in s for name, _, _ in step.added]
    assert added and sorted(added) == sorted(u.name for u in ext.nodes)
    for step in s:
        assert not re.search(r"\ba\d|\bt[₀-₉]", step.line)


Point = tuple[float, float]


def _layout(y: Value) -> tuple[dict[str, Point], dict[str, list[Point]], list[str]]:
    """Node centres, edge points (by "tail->head") and the DOT labels of the extended diagram."""
    diagram = draw(y, kind="extended", max_nodes=400, max_layout_cost=None)
    source = diagram.source
    laid = json.loads(diagram.pipe("json", backend="wasm"))
    ids = {o["_gvid"]: o["name"] for o in laid["objects"]}
    centres = {o["name"]: tuple(map(float, o["pos"].split(","))) for o in laid["objects"] if "pos" in o}
    edges: dict[str, list[tuple[float, float]]] = {}
    for e in laid.get("edges", []):
        if e.get("style") == "invis":
            continue
        points = [tuple(map(float, p.lstrip("es,").split(",")[-2:])) for p in e["pos"].split()]
        edges[f"{ids[e['tail']]}->{ids[e['head']]}"] = points  # type: ignore[assignment]
    labels = re.findall(r'(?:label|xlabel)="([^"]*)"', source)
    return centres, edges, labels  # type: ignore[return-value]


@settings(max_examples=8, deadline=None)
@given(expressions_and_points(min_inputs=2, max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_the_adjoint_graph_mirrors_the_forward_graph(case: tuple[GeneratedExpression, list[float]]) -> None:
    """Each new node stands in its forward node's column; the forward and the adjoint graph are
    two bands, one above the other; no adjoint edge leaves the picture's box of nodes."""
    y = build(case)
    g = Graph([y])
    ext = Extension(g, g.inputs)
    centres, edges, labels = _layout(y)
    for text in labels:
        assert not re.search(r"\ba\d|\bt[₀-₉]", text)
    forward = [centres[g.name(v)][1] for v in g.order]
    added = [centres[u.id][1] for u in ext.nodes]
    assert max(added) < min(forward) or min(added) > max(forward)
    for u in ext.nodes:
        assert math.isclose(centres[u.id][0], centres[g.name(u.column)][0], abs_tol=1.0)
    xs = [c[0] for c in centres.values()]
    ys = [c[1] for c in centres.values()]
    new = {u.id for u in ext.nodes}
    for edge, points in edges.items():
        if edge.split("->")[1] not in new:
            continue
        for px, py in points:
            assert min(xs) - 150 <= px <= max(xs) + 150 and min(ys) - 60 <= py <= max(ys) + 60, edge


def _boxes(y: Value | list[Value]) -> dict[str, tuple[float, float, float, float]]:
    """Each drawn node's box (left, bottom, right, top) in points, as Graphviz sized it."""
    diagram = draw(y, kind="extended", max_nodes=400, max_layout_cost=None)
    laid = json.loads(diagram.pipe("json", backend="wasm"))
    found = {}
    for o in laid["objects"]:
        if "pos" in o:
            x, yy = map(float, o["pos"].split(","))
            w, h = float(o["width"]) * 36, float(o["height"]) * 36
            found[o["name"]] = (x - w, yy - h, x + w, yy + h)
    return found


def assert_no_overlap(y: Value | list[Value]) -> None:
    boxes = sorted(_boxes(y).items(), key=lambda item: item[1][0])
    for i, (a, (_, b1, r1, t1)) in enumerate(boxes):
        for b, (l2, b2, _, t2) in boxes[i + 1 :]:
            if l2 >= r1:
                break
            assert b2 >= t1 or t2 <= b1, f"{a} and {b} overlap"


@pytest.mark.parametrize("terms", [4, 8])
def test_no_two_boxes_overlap_when_a_node_has_many_consumers(terms: int) -> None:
    x = Value(0.5, label="x")
    assert_no_overlap(sum((x * k for k in range(1, terms + 1)), Value(0.0)))


@settings(max_examples=10, deadline=None)
@given(expressions_and_points(min_inputs=1, max_inputs=3, ops=ALL_OPS, bound=1.0, max_depth=5))
def test_no_two_boxes_overlap_on_generated_graphs(case: tuple[GeneratedExpression, list[float]]) -> None:
    y = build(case)
    assert_no_overlap([y, y.parents[0]] if y.parents and not y.parents[0].is_constant else y)


def test_the_sigmoid_fits_a_slide() -> None:
    """A 16:9 slide (13.33 × 7.5 in) shows the 13-node sigmoid's extended graph with 9-pt text."""
    svg = draw(sigmoid(), kind="extended", caption=True).pipe("svg", backend="wasm").decode()
    width, height = map(float, re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg).groups())
    scale = min(13.333 * 72 / width, 7.5 * 72 / height, 1.0)
    assert 11 * scale >= 9.0


@pytest.mark.parametrize("style", ["notes", "compact"])
def test_no_internal_id_in_either_style(style: str) -> None:
    source = draw(sigmoid(), kind="extended", style=style).source
    for text in re.findall(r'label="([^"]*)"', source):
        assert not re.search(r"\ba\d", text), text
