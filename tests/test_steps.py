"""The notes' algorithms step by step (seeds/000 and 002: the node_to_grad algorithm)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given

import scalargrad as sg
from scalargrad import Value, steps
from scalargrad.testing import ALL_OPS, GeneratedExpression, expressions_and_points


def notes_example() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1, x2, x1.log() + x1 * x2 - x2.sin()


def test_reverse_steps_are_the_notes_node_to_grad_algorithm() -> None:
    x1, x2, y = notes_example()
    s = steps(y, mode="reverse")
    assert [step.node for step in s] == ["v7", "v5", "v6", "v4", "v2", "v3", "v1"]  # reverse topological
    first = s[0]
    assert first.partials == [("1", 1.0)] and first.value == 1.0
    assert [(k, n) for k, n, _ in first.appended] == [("v6", "v̄6→7"), ("v5", "v̄5→7")]
    v2 = next(step for step in s if step.node == "v2")
    assert [n for n, _ in v2.partials] == ["v̄2→5", "v̄2→4"]  # in the order they were appended
    assert [round(x, 3) for _, x in v2.partials] == [-0.284, 2.0]
    assert v2.value == sg.grad(y, x2) and round(v2.value, 3) == 1.716
    assert v2.line == "visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)"
    assert s[-1].node == "v1" and s[-1].value == sg.grad(y, x1) == 5.5
    # the whole node_to_grad after each step: lists only grow, in order
    assert s[0].node_to_grad == {"v7": [("1", 1.0)], "v6": [("v̄6→7", 1.0)], "v5": [("v̄5→7", -1.0)]}
    assert s[-1].node_to_grad["v1"] == [("v̄1→4", 5.0), ("v̄1→3", 0.5)]
    assert s[-1].done == [step.node for step in s]


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_reverse_steps_sum_to_the_walks_adjoints(case: tuple[GeneratedExpression, list[float]]) -> None:
    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    adj = sg.adjoints(y)
    s = steps(y)
    for step in s:
        node = next(v for v in s.graph.order if s.graph.name(v) == step.node)
        assert step.value == adj[node]
        total = 0.0
        for _, x in step.partials:
            total += x
        assert total == step.value  # summed in the listed order: bit for bit


def test_forward_and_tangent_steps_are_the_trace_lines() -> None:
    x1, _, y = notes_example()
    forward = steps(y, mode="forward")
    t = sg.trace(y)
    assert [step.line for step in forward] == t.lines(t.forward)[:-1]
    tangent = steps(y, mode="tangent", wrt=x1)
    assert [step.line for step in tangent] == t.lines(t.tangents[0])[:-1]
    assert tangent[-1].value == sg.jvp(y, {x1: 1.0}) == 5.5


def test_extend_steps_add_the_notes_adjoint_nodes() -> None:
    x1 = Value(1.0, label="x1")
    e = x1.exp()
    s = steps((e + 1) * e, mode="extend")
    added = [[name for name, _, _ in step.added] for step in s]
    assert added == [["v̄₄", "v̄₃", "v̄₂→₄"], [], ["v̄₂", "v̄₁"], []]
    assert s[2].added[0][1] == "v̄₂ = v̄₂→₃ + v̄₂→₄"  # v̄₂→₃ = v̄₃·1 = v̄₃: an edge, not a node
    assert s[2].added[1][1] == "v̄₁ = v̄₂·v₂"


def test_extend_steps_name_pi_and_rule_constants() -> None:
    x = Value(1.0, label="x")
    s = steps(2**x * math.pi, mode="extend")
    assert [line for _, line, _ in s[0].added] == ["v̄₃", "v̄₂ = v̄₃·pi"]
    assert [line for _, line, _ in s[1].added] == ["∂v₂/∂v₁ = v₂*ln(2)", "v̄₁ = v̄₂·∂v₂/∂v₁"]


def test_steps_are_plain_data() -> None:
    _, _, y = notes_example()
    for mode in sg.steps_modes:
        data = json.loads(steps(y, mode=mode).to_json())
        assert len(data) == 7 and data[0]["mode"] == mode and data[0]["index"] == 1
    assert str(steps(y)).splitlines()[0].startswith("  1. visit v₇:")


def test_step_diagrams_are_deterministic_and_show_the_state() -> None:
    pytest.importorskip("graphviz")
    _, _, y = notes_example()
    s = steps(y)
    sources = [sg.draw_step(s, 5).source for _ in range(3)]
    assert len(set(sources)) == 1
    source = sources[0]
    assert 'v2 [label="v₂ = x₂|5|node_to_grad: [v̄₂→₅ = −0.284, v̄₂→₄ = 2]|v̄₂ = 1.716"' in source
    assert 'fillcolor="#ffd54f"' in source.split("v2 [", 1)[1].split("\n", 1)[0]  # the visited node
    first = sg.draw_step(s, 1).source
    assert 'v6 -> v7 [label="v̄₆→₇ = 1"' in first  # the edge used, with the partial adjoint it carried
    for mode in sg.steps_modes:
        ms = steps(y, mode=mode)
        assert all(sg.draw_step(ms, k).source for k in range(1, len(ms) + 1))
    assert 'band1 [label="adjoint graph"' in sg.draw_step(steps(y, mode="extend"), 2).source


def test_bad_input() -> None:
    _, _, y = notes_example()
    with pytest.raises(ValueError, match="unknown mode 'sideways'"):
        steps(y, mode="sideways")
    with pytest.raises(ValueError, match="wrt must be an input"):
        steps(y, mode="tangent", wrt=y)
    with pytest.raises(TypeError, match="steps needs a Value"):
        steps(2.0)  # type: ignore[arg-type]
    pytest.importorskip("graphviz")
    with pytest.raises(ValueError, match="from 1 to 7"):
        sg.draw_step(steps(y), 8)
    with pytest.raises(TypeError, match="draw_step needs"):
        sg.draw_step([], 1)  # type: ignore[arg-type]


def test_reverse_steps_on_the_extended_graph_example() -> None:
    """seeds/000's (exp(v1)+1)*exp(v1): v2 = exp(v1) has two consumers, v3 and v4."""
    x1 = Value(1.0, label="x1")
    e = x1.exp()
    y = (e + 1) * e
    s = steps(y, mode="reverse")
    assert [step.node for step in s] == ["v4", "v3", "v2", "v1"]
    v2 = s[2]
    assert [n for n, _ in v2.partials] == ["v̄2→4", "v̄2→3"]
    assert [round(x, 3) for _, x in v2.partials] == [3.718, 2.718] and round(v2.value, 3) == 6.437
    assert s[-1].value == sg.grad(y, x1) and round(s[-1].value, 3) == 17.496
    assert s[-1].node_to_grad["v1"] == [("v̄1→2", s[-1].value)]


def test_a_node_used_twice_gets_each_partial_adjoint_on_its_own_edge() -> None:
    from scalargrad.viz import draw_step

    x = Value(3.0, label="x")
    for y, labels in (
        (x - x, ["v̄₁→₂⁽¹⁾ = 1", "v̄₁→₂⁽²⁾ = −1"]),
        (x / x, ["v̄₁→₂⁽¹⁾ = 0.333", "v̄₁→₂⁽²⁾ = −0.333"]),
    ):
        edges = [line for line in draw_step(steps(y), 1).source.splitlines() if "->" in line]
        assert [line.split('label="')[1].split('"')[0] for line in edges] == labels


def test_the_seed_of_an_output_used_by_another_output_is_named() -> None:
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    a = x * w
    b = a.sin() + x
    line = steps([a, b], mode="extend")[2].line
    assert "adds v̄₃→y₁ = 1, v̄₃ = v̄₃→y₁ + v̄₃→₄" in line and "a1" not in line


def test_a_node_with_many_consumers_sums_all_its_partial_adjoints_in_one_node() -> None:
    x = Value(2.0, label="x")
    y = x.sin() + x.cos() + x.exp() + x.tanh()
    line = steps(y, mode="extend")[-1].line
    assert "v̄₁ = v̄₁→₂ + v̄₁→₃ + v̄₁→₄ + v̄₁→₅" in line


def test_partial_adjoints_are_summed_in_numeric_order_of_their_consumers() -> None:
    x, w = Value(0.5, label="x"), Value(1.0, label="w")
    chain = [w]
    for _ in range(8):
        chain.append(chain[-1] * 1.5)  # numbered by depth: x's consumers get one- and two-digit numbers
    z = chain[4] * x + chain[5] * x + chain[8] * x + (chain[8] + 1) * x
    line = next(s.line for s in steps(z, mode="extend") if s.line.startswith("visit v₂:"))
    assert "v̄₂ = v̄₂→₇ + v̄₂→₉ + v̄₂→₁₄ + v̄₂→₁₇" in line  # 9 before 14, not after it as text would sort


# --------------------------------------------------------------------------- memory (issue 21)


def _chain(nodes: int) -> Value:
    """sin(y·0.5) + x, repeated: about ``nodes`` nodes (three per link, the constant inline)."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(nodes // 3):
        y = (y * 0.5).sin() + x
    return y


def test_recording_the_reverse_steps_takes_memory_linear_in_the_graph() -> None:
    """Each step used to carry a full copy of node_to_grad and of the done list: 2000 nodes
    took about 230 MB (quadratic: 10⁴ nodes took 5.8 GB). One shared log takes a few MB."""
    import tracemalloc

    y = _chain(2000)
    tracemalloc.start()
    try:
        s = steps(y, mode="reverse")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(s) > 1900
    assert peak < 25_000_000, f"{peak / 1e6:.0f} MB"


def test_node_to_grad_and_done_read_as_the_dict_and_list_they_stand_for() -> None:
    _, _, y = notes_example()
    s = steps(y, mode="reverse")
    every: dict[str, list[tuple[str, float]]] = {"v7": [("1", 1.0)]}
    for k, step in enumerate(s):
        for target, name, x in step.appended:
            every.setdefault(target, []).append((name, x))
        assert step.node_to_grad == every and dict(step.node_to_grad) == every
        assert list(step.node_to_grad) == list(every)  # the order the lists were started in
        assert len(step.node_to_grad) == len(every) and "v7" in step.node_to_grad
        assert step.to_dict()["node_to_grad"] == {n: [[a, x] for a, x in lst] for n, lst in every.items()}
        assert step.done == [t.node for t in s[: k + 1]] and len(step.done) == k + 1
        assert step.done[-1] == step.node and step.done[:1] == ["v7"]
    step = s[3]
    step.node_to_grad["v1"].append(("changed", 0.0))  # each lookup is a fresh list: read-only
    assert ("changed", 0.0) not in step.node_to_grad["v1"]
    with pytest.raises(TypeError):
        step.node_to_grad["v1"] = []  # type: ignore[index]
    assert s[0].node_to_grad != s[-1].node_to_grad  # earlier steps are not changed by later ones
    assert json.loads(s.to_json())[0]["node_to_grad"] == {
        "v7": [["1", 1.0]],
        "v6": [["v̄6→7", 1.0]],
        "v5": [["v̄5→7", -1.0]],
    }
