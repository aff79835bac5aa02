"""Diagrams: DOT structure, golden DOT source, WebAssembly and system Graphviz rendering."""

import math
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalargrad import Value
from scalargrad.stepping import MODES
from scalargrad.testing import expressions_and_points
from scalargrad.viz import Diagram, RenderError, available_backend, draw
from scalargrad.viz._dot import TooManyNodesError

GOLDEN = Path(__file__).parent / "golden"
HAS_DOT = shutil.which("dot") is not None
SVG_NS = "{http://www.w3.org/2000/svg}"


def notes_example() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1, x2, x1.log() + x1 * x2 - x2.sin()


def nodes(source: str) -> dict[str, str]:
    """Node id -> record label of every node statement in a DOT source."""
    return dict(re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', source, flags=re.M))


def edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, label) of every edge statement in a DOT source."""
    found = []
    for m in re.finditer(r"^\s*(\w+) -> (\w+)(.*)$", source, flags=re.M):
        label = re.search(r'label=(?:"((?:[^"\\]|\\.)*)"|([^ \]]+))', m.group(3))
        found.append((m.group(1), m.group(2), "" if label is None else label.group(1) or label.group(2)))
    return found


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML or it raises
    assert root.tag == SVG_NS + "svg"
    return [t.text or "" for t in root.iter(SVG_NS + "text")]


# --------------------------------------------------------------------------- DOT


@pytest.mark.parametrize("kind", ["forward", "tangent", "adjoint", "extended"])
def test_dot_source_matches_golden_file(kind: str) -> None:
    _, _, y = notes_example()
    source = draw(y, kind=kind).source
    golden = GOLDEN / f"notes_{kind}.dot"
    if os.environ.get("SCALARGRAD_UPDATE_GOLDEN"):
        golden.write_text(source, encoding="utf-8")
    assert source == golden.read_text(encoding="utf-8")


def test_extended_graph_is_the_notes_figure() -> None:
    """seeds/000, "reverse mode AD by extending computational graph": (exp(v₁)+1)*exp(v₁)."""
    x1 = Value(1.0, label="x1")
    e = x1.exp()
    source = draw((e + 1) * e, kind="extended").source
    golden = GOLDEN / "notes_exp_extended.dot"
    if os.environ.get("SCALARGRAD_UPDATE_GOLDEN"):
        golden.write_text(source, encoding="utf-8")
    assert source == golden.read_text(encoding="utf-8")
    for label in (
        "v̄₄\\n1",
        "v̄₃ = v̄₄·v₂",
        "v̄₂→₄ = v̄₄·v₃",
        "v̄₂ = v̄₂→₃ + v̄₂→₄",
        "v̄₁ = v̄₂·v₂",
        'xlabel="v̄₂→₃"',  # v̄₂→₃ = v̄₃·1 is the edge from v̄₃, labelled
    ):
        assert label in source, label
    compact = draw((e + 1) * e, kind="extended", style="compact").source
    assert "v̄₄|1" not in compact and "v̄₁ = " in compact


def test_dot_is_byte_stable_across_graphs() -> None:
    sources = {draw(notes_example()[2], kind="adjoint").source for _ in range(3)}
    assert len(sources) == 1


def test_forward_structure() -> None:
    _, _, y = notes_example()
    source = draw(y).source
    assert "rankdir=LR" in source and "shape=record" in source
    assert "<" not in source.replace("->", "")  # record labels only, never HTML-like ones
    ns = nodes(source)
    assert list(ns) == [f"v{i}" for i in range(1, 8)]
    assert ns["v1"] == "v₁ = x₁|2" and ns["v3"] == "v₃ = ln(v₁)|0.693" and ns["v5"] == "v₅ = sin(v₂)|−0.959"
    es = edges(source)
    assert len(es) == 8
    assert ("v2", "v5", "cos(v₂) = 0.284") in es
    assert ("v1", "v3", "1/v₁ = 0.5") in es


def test_tangent_diagram_shows_tangents() -> None:
    _, x2, y = notes_example()
    ns = nodes(draw(y, kind="tangent", wrt=x2).source)
    assert ns["v2"].endswith("|v̇₂ = 1") and ns["v7"].endswith("|v̇₇ = 1.716")
    assert nodes(draw(y, kind="tangent").source)["v7"].endswith("|v̇₇ = 5.5")  # first input by default


def test_tangent_diagram_shows_forward_modes_numbers() -> None:
    from scalargrad import jvp

    z, w = Value(0.0, label="z"), Value(1.0, label="w")
    y = z.sqrt() + w  # sqrt'(0) = inf times z's tangent 0 contributes nothing
    labels = nodes(draw(y, kind="tangent", wrt=w).source)
    assert [labels[f"v{i}"].rsplit("|", 1)[1] for i in range(1, 5)] == [
        "v̇₁ = 0",
        "v̇₂ = 1",
        "v̇₃ = 0",
        "v̇₄ = 1",
    ]
    assert jvp(y, {w: 1.0}) == 1.0
    assert labels["v4"].endswith("v̇₄ = 1")


def test_adjoint_diagram_shows_adjoints_and_partial_adjoints() -> None:
    _, _, y = notes_example()
    source = draw(y, kind="adjoint").source
    ns = nodes(source)
    assert (
        ns["v1"].endswith("|v̄₁ = 5.5") and ns["v2"].endswith("|v̄₂ = 1.716") and ns["v5"].endswith("|v̄₅ = −1")
    )
    labels = {label for _, _, label in edges(source)}
    assert {"v̄₂→₅ = −0.284", "v̄₂→₄ = 2", "v̄₁→₃ = 0.5", "v̄₁→₄ = 5"} <= labels


def test_extended_diagram_has_both_kinds_of_nodes() -> None:
    _, _, y = notes_example()
    source = draw(y, kind="extended").source
    assert 'band0 [label="forward graph"' in source and 'band1 [label="adjoint graph"' in source
    assert "layout=neato" in source  # placed by scalargrad (columns and bands), routed by Graphviz
    ns = nodes(source)
    forward = [n for n in ns if n.startswith("v")]
    adjoint = [n for n in ns if n.startswith("a")]
    # the notes' form: every adjoint, the partial adjoints of v₁ and v₂ and their sums, and the
    # local derivatives that are formulas (1/v₁, cos(v₂))
    assert len(forward) == 7 and len(adjoint) == 13
    labels = set(ns.values())
    assert "v̄₁ = v̄₁→₃ + v̄₁→₄\\n5.5" in labels and "v̄₂ = v̄₂→₄ + v̄₂→₅\\n1.716" in labels
    assert "∂v₅/∂v₂ = cos(v₂)\\n0.284" in labels and "v̄₂→₅ = v̄₅·∂v₅/∂v₂\\n−0.284" in labels
    assert "v̄₅ = −v̄₇\\n−1" in labels and "v̄₆ = v̄₇\\n1" in labels  # ±1 times another: still a node
    assert source.count('fillcolor="#dbe9ff"') == 13  # adjoint nodes are drawn differently
    compact = nodes(draw(y, kind="extended", style="compact").source)
    assert len([n for n in compact if n.startswith("a")]) == 5
    assert {"v̄₁ = v₂ + v̄₁→₃|5.5", "v̄₂ = v̄₂→₅ + v₁|1.716", "v̄₂→₅ = −∂v₅/∂v₂|−0.284"} <= set(compact.values())


def test_extended_notes_example_exp() -> None:
    # seeds/000 "reverse mode AD by extending computational graph": (exp(v1) + 1) * exp(v1)
    v1 = Value(0.5, label="x")
    e = v1.exp()
    source = draw((e + 1) * e, kind="extended", style="compact").source
    labels = set(nodes(source).values())
    assert "v̄₁ = v̄₂*v₂|7.085" in labels  # the notes' v̄1 = v̄2 * exp(v1) = v̄2 * v2
    assert "v̄₂ = v₃ + v₂|4.297" in labels
    assert "v₃ = v₂ + 1|2.649|v̄₃ = v₂" in labels  # an adjoint that is a forward node


def test_constants_inline_and_labels_escaped() -> None:
    x = Value(3.0, label='a|b{c}<d>"e\\')
    source = draw(2 * x + 1).source
    ns = nodes(source)
    assert list(ns) == ["v1", "v2", "v3"]
    assert ns["v1"] == 'v₁ = a\\|b\\{c\\}\\<d\\>\\"e\\\\|3'
    assert ns["v2"] == "v₂ = 2*v₁|6" and ns["v3"] == "v₃ = v₂ + 1|7"
    svg = draw(2 * x + 1).pipe("svg", backend="wasm")
    assert 'v₁ = a|b{c}<d>"e\\' in svg_texts(svg)


def test_pi_e_and_rule_constants_are_named_in_labels() -> None:
    x = Value(0.5, label="x")
    source = draw((math.pi * x).sin() + 2**x * math.e).source
    ns, es = nodes(source), edges(source)
    assert ns["v2"] == "v₂ = pi*v₁|1.571" and ns["v5"] == "v₅ = v₃*e|3.844"
    assert es[:4] == [
        ("v1", "v2", "pi = 3.142"),
        ("v1", "v3", "v₃*ln(2) = 0.98"),
        ("v2", "v4", "cos(v₂) = 6.12e−17"),
        ("v3", "v5", "e = 2.718"),
    ]


def test_a_constant_output_is_drawn() -> None:
    from scalargrad import grad

    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    g = grad(x1 + x2, x1, create_graph=True)  # the constant 1
    assert g.is_constant
    for kind, label in [("forward", "v₁|1"), ("adjoint", "v₁|1|v̄₁ = 1"), ("extended", "v₁\\n1")]:
        source = draw(g, kind=kind).source
        shown = {k: v for k, v in nodes(source).items() if k != "graph" and not k.startswith("band")}
        assert shown == {"v1": label}, kind
        assert edges(source) == []
    with pytest.raises(ValueError, match="needs an input"):
        draw(g, kind="tangent")
    assert nodes(draw([x1 * x2, g], kind="tangent").source)["v4"] == "v₄|1|v̇₄ = 0"


def test_too_many_nodes_is_refused_quickly() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(10_000):
        y = y * 1.0
    start = time.perf_counter()
    with pytest.raises(ValueError, match="more than max_nodes=150"):
        draw(y)
    assert time.perf_counter() - start < 2.0
    with pytest.raises(ValueError, match="max_nodes=5"):
        draw(x * x * x * x * x * x, max_nodes=5)
    assert len(nodes(draw(x * x, max_nodes=2).source)) == 2
    with pytest.raises(ValueError, match="extended graph has"):
        draw(notes_example()[2], kind="extended", max_nodes=8)
    with pytest.raises(TooManyNodesError) as error:
        draw(x * x * x, max_nodes=2)
    assert (error.value.what, error.value.nodes, error.value.max_nodes) == ("the graph", 3, 2)
    assert error.value.message("--max-nodes").startswith("the graph has 3 nodes, more than --max-nodes 2;")


def test_bad_arguments() -> None:
    _, _, y = notes_example()
    with pytest.raises(ValueError, match="unknown diagram kind 'backward'"):
        draw(y, kind="backward")
    with pytest.raises(TypeError, match="draw needs a Value"):
        draw(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wrt must be an input"):
        draw(y, kind="tangent", wrt=y)
    with pytest.raises(ValueError, match="max_nodes"):
        draw(y, max_nodes=0)
    with pytest.raises(ValueError, match="unknown diagram format 'bmp'"):
        draw(y).pipe("bmp")
    with pytest.raises(ValueError, match="unknown backend"):
        draw(y).pipe("svg", backend="cairo")


# ---------------------------------------------------------------- rendering


def test_wasm_svg_is_well_formed_with_labels() -> None:
    _, _, y = notes_example()
    svg = draw(y, kind="adjoint").pipe("svg", backend="wasm")
    texts = svg_texts(svg)
    for label in ["v₁ = x₁", "v₃ = ln(v₁)", "0.693", "v̄₂ = 1.716", "v̄₂→₅ = −0.284", "v₇ = v₆ − v₅"]:
        assert label in texts


def test_wasm_is_compiled_once_and_then_fast() -> None:
    _, _, y = notes_example()
    d = draw(y, kind="extended")
    d.pipe("svg", backend="wasm")
    start = time.perf_counter()
    for _ in range(5):
        d.pipe("svg", backend="wasm")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("fmt", ["dot", "json", "plain"])
def test_wasm_other_text_formats(fmt: str) -> None:
    out = draw(notes_example()[2]).pipe(fmt, backend="wasm").decode("utf-8")
    assert "v₃" in out


@pytest.mark.parametrize("fmt", ["jpg", "gif"])
def test_wasm_refuses_image_formats_and_stays_usable(fmt: str) -> None:
    d = draw(notes_example()[2])
    with pytest.raises(RenderError, match="needs the system Graphviz: install Graphviz"):
        d.pipe(fmt, backend="wasm")
    assert svg_texts(d.pipe("svg", backend="wasm"))


def test_render_writes_the_file(tmp_path: Path) -> None:
    d = draw(notes_example()[2], kind="adjoint")
    out = d.render(tmp_path / "graph.svg", backend="wasm")
    assert out == tmp_path / "graph.svg"
    assert "v̄₁ = 5.5" in svg_texts(out.read_bytes())
    d.render(tmp_path / "graph.txt", format="plain", backend="wasm")
    assert (tmp_path / "graph.txt").read_text().startswith("graph ")
    with pytest.raises(ValueError, match="cannot tell the format"):
        d.render(tmp_path / "graph")


def test_repr_mimebundle_is_svg() -> None:
    bundle = draw(notes_example()[2], kind="tangent")._repr_mimebundle_()
    assert "v̇₇ = 5.5" in svg_texts(bundle["image/svg+xml"].encode("utf-8"))
    assert bundle["text/plain"].startswith("<Diagram kind='tangent'")


def test_auto_backend_follows_path() -> None:
    assert available_backend() == ("system" if HAS_DOT else "wasm")


def test_system_dot_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert available_backend() == "wasm"
    d = draw(notes_example()[2])
    with pytest.raises(RenderError, match="`dot` was not found: install Graphviz"):
        d.pipe("svg", backend="system")
    assert svg_texts(d.pipe("svg"))  # auto falls back to WebAssembly


@pytest.mark.skipif(not HAS_DOT, reason="the system Graphviz `dot` is not installed")
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_system_dot_renders(fmt: str, tmp_path: Path) -> None:
    d = draw(notes_example()[2], kind="adjoint")
    data = d.pipe(fmt, backend="system")
    if fmt == "svg":
        assert "v̄₂ = 1.716" in svg_texts(data)
    else:
        assert data.startswith(b"\x89PNG" if fmt == "png" else b"%PDF")
    assert d.render(tmp_path / f"g.{fmt}", backend="system").read_bytes() == data


def test_diagram_repr() -> None:
    d = Diagram("digraph {}\n", "forward")
    assert repr(d) == "<Diagram kind='forward': 1 lines of DOT>"


def test_extended_without_new_adjoint_nodes_has_no_adjoint_cluster() -> None:
    x, z = Value(3.0), Value(2.0)
    source = draw(x * z, kind="extended", wrt=z, style="compact").source  # v̄2 is the forward node v1
    assert "cluster_adjoint" not in source
    assert nodes(source)["v2"] == "v₂|2|v̄₂ = v₁"


def _edge_points(svg: str) -> dict[str, list[tuple[float, float]]]:
    """Points along each edge: its cubic Bézier segments sampled finely (Graphviz writes M, then C)."""
    import html
    import re

    found = {}
    for title, d in re.findall(r'class="edge">\s*<title>([^<]*)</title>\s*<path[^>]*\bd="([^"]*)"', svg):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
        pts = list(zip(numbers[::2], numbers[1::2]))
        samples = [pts[0]]
        for k in range(1, len(pts) - 2, 3):
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts[k - 1], pts[k], pts[k + 1], pts[k + 2]
            for i in range(1, 41):
                t = i / 40
                u = 1 - t
                samples.append(
                    (
                        u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
                        u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3,
                    )
                )
        found[html.unescape(title)] = samples
    return found


def _title_box(svg: str, cluster: str) -> tuple[float, float, float, float]:
    """The bounding box (x0, y0, x1, y1) of a cluster's title text, from its anchor and size."""
    import re

    block = svg[svg.index(f"<title>{cluster}</title>") :]
    m = re.search(
        r'<text[^>]*text-anchor="middle" x="([-\d.]+)" y="([-\d.]+)"[^>]*font-size="([\d.]+)"[^>]*>([^<]*)<',
        block,
    )
    assert m, cluster
    x, y, size, text = float(m.group(1)), float(m.group(2)), float(m.group(3)), m.group(4)
    half = 0.3 * size * len(text)  # generous: Helvetica averages about 0.5 em a letter
    return x - half, y - size, x + half, y + 0.3 * size


@pytest.mark.parametrize("style", ["notes", "compact"])
@pytest.mark.parametrize("example", ["notes", "exp", "sigmoid"])
def test_no_edge_crosses_a_cluster_title(example: str, style: str) -> None:
    pytest.importorskip("wasmtime")
    if example == "notes":
        y = notes_example()
    elif example == "exp":
        x1 = Value(1.0, label="x1")
        e = x1.exp()
        y = (e + 1) * e
    else:
        x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
        y = (a * x + b).sigmoid()
    svg = draw(y, kind="extended", style=style).pipe("svg", backend="wasm").decode("utf-8")
    for cluster in ("cluster_forward", "cluster_adjoint"):
        if f"<title>{cluster}</title>" not in svg:
            continue
        x0, y0, x1_, y1 = _title_box(svg, cluster)
        for edge, points in _edge_points(svg).items():
            for px, py in points:
                assert not (x0 <= px <= x1_ and y0 <= py <= y1), (cluster, edge, (px, py), (x0, y0, x1_, y1))


def test_a_caption_gets_side_room_for_fonts_wider_than_graphvizs_estimate() -> None:
    from scalargrad.viz._dot import _label_pad

    x = Value(10.0, label="x")
    source = draw(2**x, kind="forward", caption=True).source
    assert 'pad="' in source
    short, long = (float(_label_pad("y" * n, 12).split(",")[0]) for n in (10, 80))
    assert 0.1 < short < long and long > 0.5  # 80 characters spill about half an inch each side
    assert 'pad="' not in draw(2**x, kind="forward").source


# --------------------------------------------------------------------------- #
# step frames: one layout per mode                                             #
# --------------------------------------------------------------------------- #


def _node_places(svg: str) -> tuple[tuple[str, str], dict[str, str]]:
    """An SVG frame's size (width, height) and each drawn node's outline (its first shape's
    points or path), by node id."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    places = {}
    for g in root.iter(f"{ns}g"):
        if g.get("class") == "node":
            shape = next((e for e in g if e.tag in (f"{ns}polygon", f"{ns}path", f"{ns}ellipse")), None)
            if shape is None:  # a text-only node (the extended graph's band titles)
                continue
            places[g.findtext(f"{ns}title", "")] = shape.get("points") or shape.get("d") or str(shape.attrib)
    return (root.get("width", ""), root.get("height", "")), places


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions_and_points(1, 2, max_depth=3), st.sampled_from(MODES))
def test_frames_of_a_mode_share_one_layout(case: Any, mode: str) -> None:
    """Every frame of a mode has the same size, and every node the same place in each."""
    import tempfile

    from scalargrad import steps
    from scalargrad.viz.frames import write_frames

    f, point = case
    y = f(*[Value(x, label=f"x{i + 1}") for i, x in enumerate(point)])
    if not isinstance(y, Value) or y.is_constant:
        return
    s = steps(y, mode=mode)
    with tempfile.TemporaryDirectory() as tmp:
        written = write_frames(s, tmp, formats=("svg",), backend="wasm")
        frames = [_node_places(p.read_text(encoding="utf-8")) for p in written]
    sizes = {size for size, _ in frames}
    assert len(sizes) == 1, sizes
    every: dict[str, str] = {}
    for _, places in frames:
        for node, place in places.items():
            assert every.setdefault(node, place) == place, f"{node} moved"
    forward = {f"v{i}" for i in range(1, len(s.graph.order) + 1)}
    assert all(forward <= set(places) for _, places in frames)  # the forward graph is always drawn


def test_groups_box_a_tensors_entries() -> None:
    """issue 19: Z = XW drawn with X, W and Z each one labelled box of its entries."""
    pytest.importorskip("numpy")
    from scalargrad import array

    X = array([[1, 2], [3, 4]], name="X")
    W = array([[1, -1], [0.5, 2]], name="W")
    Z = X @ W
    source = draw(Z.sum(), kind="adjoint", groups={"X": X, "W": W, "Z": Z}).source
    boxes = re.findall(r"subgraph (cluster_group\d+) \{\n\t\tgraph \[[^\]]*label=(\w)", source)
    assert [title for _, title in boxes] == ["X", "W", "Z"]
    for name, title in boxes:
        body = source.split(f"subgraph {name} {{", 1)[1].split("\t}", 1)[0]
        assert len(re.findall(r"^\t\tv\d+ \[label=", body, flags=re.M)) == 4, title
    labels = set(nodes(source).values())
    assert any(label.startswith("v₁₇ = Z₁₁ = v₉ + v₁₀|2|") for label in labels)  # a computed entry
    assert any(label.startswith("v₃ = X₁₂|2|v̄₃ = 2.5") for label in labels)  # X̄₁₂ = W₂₁ + W₂₂
    svg = draw(Z.sum(), kind="adjoint", groups={"X": X, "W": W, "Z": Z}).pipe("svg", backend="wasm")
    assert all(t in svg_texts(svg) for t in ("X", "W", "Z"))
    with pytest.raises(ValueError, match="not in extended ones"):
        draw(Z.sum(), kind="extended", groups={"Z": Z})
    with pytest.raises(TypeError, match=r"Z\[0, 0\] is float"):
        draw(Z.sum(), groups={"Z": [[1.0]]})
