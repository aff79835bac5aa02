"""A child that reads one parent at several operand positions: one partial adjoint per use.

``x*x``, ``x - x`` and ``dot((x, y), (y, 2))`` read a parent twice, and each use passes
back its own v̄ᵢ·∂vᵢ/∂vₖ (the engine's ``node_to_grad`` appends one per edge, as the notes'
algorithm does for each of ``inputs(i)``). Every view names them v̄ₖ→ᵢ⁽¹⁾, v̄ₖ→ᵢ⁽²⁾, … in
operand order, each with its own value; a parent read once keeps the notes' v̄ₖ→ᵢ. Checked
on generated graphs: no name stands for two numbers in any view, a node's named partials
sum to its adjoint (the gradient), and the steps, the trace tables, the adjoint diagram and
the extended graph give each name the same number.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from hypothesis import given, settings

import scalargrad as sg
from scalargrad import Value, draw, steps, trace
from scalargrad.extension import Extension, GradientGraph
from scalargrad.notation.names import BAR, TEXT, ascii_name, latex_name, text_name
from scalargrad.notation.numbering import Graph
from scalargrad.ops import dot
from scalargrad.testing import GeneratedExpression, expressions_and_points

OPS = ["add", "sub", "mul", "div", "dot", "exp", "sin", "tanh"]
LABEL = re.compile(r'^\s*(v\d+) -> (v\d+) \[label="(.*) = ([^"]*)"\]$', re.M)


def build(case: tuple[GeneratedExpression, list[float]]) -> Value:
    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    return y if isinstance(y, Value) and not y.is_constant else xs[0] * xs[0]


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def partials_by_node(y: Value) -> dict[str, list[tuple[str, float]]]:
    """The reverse steps' ``node_to_grad`` after the last step: node -> [(name, value)], seeds left out."""
    final = steps(y, mode="reverse")[-1].node_to_grad
    return {node: [(n, x) for n, x in entries if n != "1"] for node, entries in final.items()}


def check_views(y: Value) -> None:
    g = Graph([y])
    adjoint = sg.adjoints(y)
    listed = partials_by_node(y)
    named: dict[str, float] = {}
    for node, entries in listed.items():
        names = [n for n, _ in entries]
        assert len(set(names)) == len(names), (node, names)
        for n, x in entries:
            assert n not in named, n
            named[n] = x
    # the names say which use: v̄k→i(u) exactly when v_i reads v_k more than once
    for v in g.order:
        for position, p in enumerate(v.parents):
            if p not in g.index:
                continue
            name = g.partial_name(p, v, position)
            assert name.endswith(")") == (v.parents.count(p) > 1), name
    # each node's list, summed in order from the seed, is its adjoint: the gradient
    seeds = {g.name(o): 1.0 for o in g.outputs}
    for v in g.order:
        entries = listed.get(g.name(v), [])
        total = seeds.get(g.name(v), 0.0) if entries or g.name(v) in seeds else None
        for _, x in entries:
            total = (total or 0.0) + x
        if total is not None:
            assert same(total, adjoint[v]), (g.name(v), total, adjoint[v])
    for x, d in zip(g.inputs, sg.grad(y, g.inputs)):
        assert same(adjoint.get(x, 0.0), d)
    # the trace tables' terms: the same names (ASCII) with the same numbers, node by node
    rows = trace(y, digits=3).to_dict()["adjoint"]["rows"]
    in_table = {
        r["node"]: [(t["partial"], t["value"]) for t in r.get("terms", []) if t["partial"] != "seed"]
        for r in rows
    }
    for v in g.order:
        want = [(ascii_name(n), x) for n, x in listed.get(g.name(v), [])]
        got = in_table[ascii_name(g.name(v, BAR))]
        assert [n for n, _ in got] == [n for n, _ in want]
        assert all(same(float(a), b) for (_, a), (_, b) in zip(got, want))
    # the adjoint diagram: an edge per use, labelled with its own name and number
    source = draw(y, kind="adjoint", max_nodes=500).source
    labels = Counter((a, b, name) for a, b, name, _ in LABEL.findall(source))
    assert all(c == 1 for c in labels.values()), labels
    for _, _, name, shown in LABEL.findall(source):
        raw = {text_name(n): n for n in named}
        assert name in raw, name
        assert shown == TEXT.number(named[raw[name]], 3)[0]
    # the extended graph: its partial adjoints are the steps' (a node, or a labelled edge)
    ext = Extension(g, g.inputs)
    text_named = {text_name(n): x for n, x in named.items()}
    for u in ext.nodes:
        if u.kind == "partial":
            assert same(u.value, text_named[u.name]), u.text()
        elif u.kind == "adjoint":  # the one partial adjoint of a node read once
            (entry,) = listed[g.name(next(v for v in g.order if ext.adjoint_of.get(v) is u))]
            assert same(u.value, entry[1])
    for e in ext.edges:
        if e.label:
            assert e.label in text_named, e.label
    names = [u.name for u in ext.nodes]
    assert len(set(names)) == len(names)
    compact = GradientGraph(g, g.inputs)
    assert len(set(compact.names.values())) == len(compact.names)


@settings(max_examples=80, deadline=None)
@given(expressions_and_points(1, 3, ops=OPS, max_depth=4))
def test_every_view_names_each_use_once_and_they_sum_to_the_gradient(
    case: tuple[GeneratedExpression, list[float]],
) -> None:
    check_views(build(case))


def test_a_dot_reading_each_input_twice() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    z = dot((x, y), (y, x))  # x*y + y*x: x at positions 0 and 3, y at 1 and 2
    check_views(z)
    lines = [str(s) for s in steps(z, mode="reverse")]
    assert lines[0] == (
        "visit v₃: node_to_grad[v₃] = [1], v̄₃ = 1; append v̄₁→₃⁽¹⁾ = 3 to node_to_grad[v₁], "
        "v̄₂→₃⁽¹⁾ = 2 to node_to_grad[v₂], v̄₂→₃⁽²⁾ = 2 to node_to_grad[v₂], v̄₁→₃⁽²⁾ = 3 to node_to_grad[v₁]"
    )
    assert "node_to_grad[v₁] = [v̄₁→₃⁽¹⁾, v̄₁→₃⁽²⁾] = [3, 3], v̄₁ = 6" in "\n".join(lines)
    ext = [str(s) for s in steps(z, mode="extend")]
    assert ext[0].endswith(
        "v̄₁→₃⁽¹⁾ = v̄₃·v₂ = 3, v̄₂→₃⁽¹⁾ = v̄₃·v₁ = 2, v̄₂→₃⁽²⁾ = v̄₃·v₁ = 2, v̄₁→₃⁽²⁾ = v̄₃·v₂ = 3"
    )


def test_two_uses_with_different_numbers_have_different_names() -> None:
    """The review's case: y is operand 2 and 3 of x*y + y*2, its two partials differ."""
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    z = dot((x, y), (y, 2.0))
    check_views(z)
    assert (
        str(steps(z, mode="reverse")[1])
        == "visit v₂: node_to_grad[v₂] = [v̄₂→₃⁽¹⁾, v̄₂→₃⁽²⁾] = [2, 2], v̄₂ = 4 (an input)"
    )
    z = dot((x, y), (y, 7.0))
    assert "[v̄₂→₃⁽¹⁾, v̄₂→₃⁽²⁾] = [7, 2]" in str(steps(z, mode="reverse")[1])
    edges = LABEL.findall(draw(z, kind="adjoint").source)
    assert [(a, b, n, s) for a, b, n, s in edges if a == "v2"] == [
        ("v2", "v3", "v̄₂→₃⁽¹⁾", "7"),
        ("v2", "v3", "v̄₂→₃⁽²⁾", "2"),
    ]
    assert [u.text() for u in Extension(Graph([z]), [x, y]).nodes][-1] == "v̄₂ = v̄₂→₃⁽¹⁾ + v̄₂→₃⁽²⁾"


def test_binary_ops_of_a_node_with_itself() -> None:
    x = Value(3.0, label="x")
    check_views(x * x)
    check_views(x / x)
    check_views(x - x)
    t = trace(x * x)
    assert t.lines(t.adjoint)[1] == "v̄₁ = v̄₂·v₁ + v̄₂·v₁ = 1·3 + 1·3 = 3 + 3 = 6"  # the text has no names
    terms = t.to_dict()["adjoint"]["rows"][1]["terms"]
    assert [term["partial"] for term in terms] == ["v1_bar_to_2_use1", "v1_bar_to_2_use2"]
    nodes = [u.text() for u in Extension(Graph([x / x]), [x]).nodes]
    assert "∂v₂/∂v₁⁽²⁾ = −v₂/v₁" in nodes and "v̄₁→₂⁽²⁾ = v̄₂·∂v₂/∂v₁⁽²⁾" in nodes


def test_the_notes_example_keeps_its_names() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    s = steps(x1.log() + x1 * x2 - x2.sin(), mode="reverse")
    assert str(s[4]) == "visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)"


def test_a_use_prints_in_every_notation() -> None:
    assert text_name("v̄2→13(2)") == "v̄₂→₁₃⁽²⁾"
    assert latex_name("v̄2→13(2)") == r"\bar v_{2 \to 13}^{(2)}"
    assert ascii_name("v̄2→13(2)") == "v2_bar_to_13_use2"
    assert text_name("v̄2→13") == "v̄₂→₁₃" and ascii_name("v̄2→13") == "v2_bar_to_13"
