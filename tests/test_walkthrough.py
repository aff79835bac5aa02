"""The step-through page, the notebook widget's kernel-free HTML and the step frames.

The page and the widget's HTML are tested in a real browser: Debian's Chromium
(``/usr/bin/chromium``, or the ``CHROMIUM`` environment variable) driven by
Playwright from PyPI (never ``playwright install``). Without them these tests skip,
except under CI (``CI`` set), which installs both: there a missing one fails.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import need_program

from scalargrad import Steps, Value, draw_step, steps
from scalargrad.core import constant
from scalargrad.notation.names import TEXT, text_name
from scalargrad.notation.numbering import Graph
from scalargrad.stepping import MODES
from scalargrad.viz import RenderError
from scalargrad.viz import frames as frames_module
from scalargrad.viz._steps import STEP_STYLE, edge_labels, node_fields
from scalargrad.viz.frames import Frames, write_animation, write_frames
from scalargrad.viz.page import Walkthrough, walkthrough, write_walkthrough
from scalargrad.viz.widget import StepThrough


def notes_example() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1, x2, x1.log() + x1 * x2 - x2.sin()


def extension_example() -> Value:
    """The notes' extended-graph example (exp(v1) + 1)·exp(v1) at v1 = 0: v2 = exp(v1) used twice."""
    x1 = Value(0.0, label="x1")
    v2 = x1.exp()
    return (v2 + 1) * v2


def chain(nodes: int) -> Value:
    """A graph of about ``nodes`` nodes: v ← tanh(sin(v·xᵢ) + v) over three inputs, repeated."""
    xs = [Value(0.1 * (i + 1), label=f"x{i + 1}") for i in range(3)]
    v, i = xs[0], 0
    while len(Graph([v]).order) < nodes:
        v = ((v * xs[i % 3]).sin() + v).tanh()
        i += 1
    return v


# --------------------------------------------------------------------------- #
# the data behind the page, in Python                                          #
# --------------------------------------------------------------------------- #


def test_reverse_step_visiting_v2_shows_the_notes_lists_and_sum() -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    step = next(i + 1 for i, st in enumerate(w.modes["reverse"].steps) if st.node == "v2")
    lists = {ident: (entries, total) for ident, entries, total in w.node_to_grad(step)}
    entries, total = lists["v2"]
    assert [(n, v) for n, v, _ in entries] == [("v̄₂→₅", "−0.284"), ("v̄₂→₄", "2")]
    assert total == "1.716"
    assert lists["v1"] == ([("v̄₁→₄", "5", False)], "")  # appended by the step before, not this one
    assert [i for i, _, _ in w.node_to_grad(step)] == ["v7", "v6", "v5", "v4", "v3", "v2", "v1"]
    panel = w.panel_html("reverse", step)
    assert "node_to_grad[v₂]</td><td>[v̄₂→₅ = −0.284, v̄₂→₄ = 2]</td><td class='sgw-sum'>v̄₂ = 1.716" in panel
    assert "<tr class='sgw-visited' data-n='v2'>" in panel


def test_entries_appended_by_the_step_are_marked() -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    first = {i: e for i, e, _ in w.node_to_grad(1)}
    assert first == {"v7": [("1", "1", False)], "v6": [("v̄₆→₇", "1", True)], "v5": [("v̄₅→₇", "−1", True)]}
    fourth = {i: e for i, e, _ in w.node_to_grad(4)}  # visiting v4 appends to v1 and v2
    assert fourth["v1"] == [("v̄₁→₄", "5", True)]
    assert fourth["v2"] == [("v̄₂→₅", "−0.284", False), ("v̄₂→₄", "2", True)]


def test_the_diagram_is_laid_out_once_and_restyled_per_step() -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    svg = w.svg_at("reverse", 5)
    assert svg is not None and svg.startswith("<svg") and "<?xml" not in svg and "<!--" not in svg
    classes = dict((n, c) for c, n in re.findall(r'<g class="node ([^"]*)" data-n="([^"]*)"', svg))
    assert classes == {
        "v1": "sg-waiting",
        "v2": "sg-visited",
        "v3": "sg-waiting",
        "v4": "sg-done",
        "v5": "sg-done",
        "v6": "sg-done",
        "v7": "sg-done",
    }
    v2 = re.search(r'data-n="v2">(.*?)</g>', svg, re.DOTALL)
    assert v2 is not None
    texts = re.findall(r"<text data-f=\"\d\"[^>]*>(.*?)</text>", v2.group(1))
    assert texts == ["v₂ = x₂", "5", "node_to_grad: [v̄₂→₅ = −0.284, v̄₂→₄ = 2]", "v̄₂ = 1.716"]
    v3 = re.search(r'data-n="v3">(.*?)</g>', svg, re.DOTALL)
    assert v3 is not None and "v̄₃ = ?" in v3.group(1)  # not visited yet
    first = w.svg_at("reverse", 1)
    assert first is not None
    assert re.search(r'data-n="v1">.*?node_to_grad: \[\]', first, re.DOTALL)  # nothing received yet
    # the same layout at every step: only classes and texts change
    strip = lambda s: re.sub(r"<text[^>]*>.*?</text>|class=\"[^\"]*\"", "", s)
    assert all(strip(w.svg_at("reverse", k) or "") == strip(svg) for k in range(1, 8))
    used = re.findall(r'<g class="edge sg-used" data-e="([^"]*)"', first)
    assert sorted(used) == ["v5 v7", "v6 v7"]


def _records(source: str) -> dict[str, list[str]]:
    """Node id -> its record fields (unescaped) in a DOT source from draw_step."""
    found = {}
    for ident, label in re.findall(r'^\t(v\d+) \[label="((?:[^"\\]|\\.)*)"', source, flags=re.M):
        fields = re.split(r"(?<!\\)\|", label)
        found[ident] = [re.sub(r"\\(.)", r"\1", f) for f in fields]
    return found


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("example", ["notes", "extension", "two outputs"])
def test_node_fields_are_what_draw_step_shows(mode: str, example: str) -> None:
    """The page restyles one layout with node_fields; draw_step draws each step: they agree."""
    if example == "notes":
        y: Any = notes_example()[2]
    elif example == "extension":
        y = extension_example()
    else:
        a, b = Value(1.5, label="a"), Value(2.0, label="b")
        y = [a * b, (a + b).sin()]
    s = steps(y, mode=mode)
    fields = node_fields(s, 3)
    for k in range(1, len(s) + 1):
        drawn = _records(draw_step(s, k).source)
        assert {n: f[1:] for n, f in drawn.items()} == fields[k - 1]


def test_extending_the_graph_shows_adjoint_nodes_as_they_are_added() -> None:
    w = Walkthrough(extension_example())
    m = w.modes["extend"]
    assert m.svg is not None and m.note == ""
    added = [len(st.added) for st in m.steps]
    assert added == [3, 0, 2, 0]
    assert m.built == {"a1": 0, "a2": 0, "a3": 0, "a4": 2, "a5": 2}
    assert [d for _, d, _ in m.steps[2].added] == ["v̄₂ = v̄₂→₃ + v̄₂→₄", "v̄₁ = v̄₂·v₂"]  # the sum node
    for k in range(1, len(m.steps) + 1):
        svg = w.svg_at("extend", k) or ""
        shown = [
            n for c, n in re.findall(r'<g class="node ([^"]*)" data-n="(a\d+)"', svg) if "sg-hidden" not in c
        ]
        assert len(shown) == sum(added[:k])
        fresh = re.findall(r'<g class="node sg-adj sg-new" data-n="(a\d+)"', svg)
        assert len(fresh) == added[k - 1]


def test_page_is_one_offline_document() -> None:
    _, _, y = notes_example()
    page = walkthrough(y, title="The notes' example")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<meta charset='utf-8'>" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # no resource to fetch: the only URLs are the SVG namespace names, which are never fetched
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", page)
    assert (
        page.count("<svg") == 5 and page.count("<table class='scalargrad-trace'>\n") == 4
    )  # a tangent tab (and table) per input; + the row shown
    assert "y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5" in page
    assert "<title>The notes&#x27; example</title>" in page
    assert walkthrough(y, title="The notes' example") == page  # deterministic


ASSETS = resources.files("scalargrad.viz") / "assets"


def test_the_page_inlines_its_asset_files_found_through_importlib_resources() -> None:
    """The script and styles are the package's files, found where it is installed, and inlined
    unchanged (with the node colours of STEP_STYLE after the step-through's CSS)."""
    script = (ASSETS / "step_through.js").read_text(encoding="utf-8")
    style = (ASSETS / "step_through.css").read_text(encoding="utf-8")
    page_style = (ASSETS / "page.css").read_text(encoding="utf-8")
    assert "window.scalargradStepThrough1 = setup" in script and ".sgw .sgw-line" in style
    assert "</script" not in script.lower() and "</style" not in (style + page_style).lower()
    _, _, y = notes_example()
    page = walkthrough(y)
    assert f"<script>{script}\n" in page and f"<style>{style}" in page
    assert f"<style>{page_style}</style>" in page
    assert f".sgw g.node.sg-visited > polygon {{ fill: {STEP_STYLE['visited']['fillcolor']}; }}" in page
    assert page.startswith((ASSETS / "page.html").read_text(encoding="utf-8").split("${heading}")[0])
    fragment = StepThrough(y).to_html()
    assert f"<script>{script}\n" in fragment and f"<style>{style}" in fragment
    assert page.count("window.scalargradStepThrough1(") == 1 + script.count("window.scalargradStepThrough1(")


def test_the_script_is_valid_javascript() -> None:
    node = need_program("node")
    path = ASSETS / "step_through.js"
    with resources.as_file(path) as file:
        done = subprocess.run([node, "--check", str(file)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_script_is_started_with_json_not_formatted() -> None:
    """Only the step-through's root id and options reach the script's call, as escaped JSON; a
    root id that is not a plain name is refused."""
    _, _, y = notes_example()
    w = Walkthrough(y)
    fragment = w.fragment(root_id="sgw-x_1", start_mode="reverse", start_step=1, full_tables=False)
    assert 'document.getElementById("sgw-x_1"), {"globalKeys":false});</script>' in fragment
    for bad in ["", "1a", "a'b", "a b", "</script><script>alert(1)//", "a\n"]:
        with pytest.raises(ValueError, match="root_id"):
            w.fragment(root_id=bad, start_mode="reverse", start_step=1, full_tables=False)


def test_write_walkthrough(tmp_path: Path) -> None:
    _, _, y = notes_example()
    path = write_walkthrough(y, tmp_path / "walk.html", mode="forward")
    assert path == tmp_path / "walk.html"
    text = path.read_text(encoding="utf-8")
    assert "data-mode='forward'" in text and '"start":{"mode":"forward","step":0}' in text


def test_bad_arguments() -> None:
    x1, _, y = notes_example()
    with pytest.raises(ValueError, match="unknown mode"):
        walkthrough(y, mode="backward")
    with pytest.raises(ValueError, match="digits"):
        walkthrough(y, digits=0)
    with pytest.raises(ValueError, match="max_layout_cost"):
        walkthrough(y, max_layout_cost=0)
    with pytest.raises(ValueError, match="wrt"):
        walkthrough(y, wrt=x1 * 2)
    with pytest.raises(TypeError, match="title"):
        walkthrough(y, title=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        walkthrough([])
    with pytest.raises(ValueError, match="step"):
        StepThrough(y, step=8)
    with pytest.raises(ValueError, match="unknown mode"):
        StepThrough(y).show(mode="sideways")


def test_a_graph_too_costly_to_lay_out_gets_a_note_and_still_steps() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(40):
        y = y + x  # every addition uses x: long edges, a costly layout
    w = Walkthrough(y, max_layout_cost=200)
    assert all(m.svg is None and "too long to lay out" in m.note for m in w.modes.values())
    page = walkthrough(y, max_layout_cost=200)
    assert "<svg" not in page and "too long to lay out" in page
    assert len(w.modes["reverse"].steps) == 41


def test_a_large_extended_graph_falls_back_to_the_forward_graph() -> None:
    y = chain(60)
    w = Walkthrough(y)
    m = w.modes["extend"]
    assert m.svg is not None and "forward graph only" in m.note
    assert m.built == {} and 'data-n="a1"' not in m.svg
    assert w.modes["reverse"].note == ""


def test_tangent_mode_follows_wrt() -> None:
    _, x2, y = notes_example()
    w = Walkthrough(y, wrt=x2)
    assert w.mode_title("tangent") == "forward mode (tangents w.r.t. x₂)"
    assert [st.line for st in w.modes["tangent"].steps][-1] == "v̇₇ = v̇₆ − v̇₅ = 2 − 0.284 = 1.716"
    assert [t.kind for t in w.trace.tables] == ["forward", "tangent", "tangent", "adjoint"]
    assert w.trace.tables[1].wrt == "x2" and w.trace.tables[2].wrt == "x1"
    assert list(w.modes) == ["forward", "tangent", "tangent-1", "reverse", "extend"]


def test_forward_mode_has_a_tab_per_input() -> None:
    _, x2, y = notes_example()
    w = Walkthrough(y)
    assert list(w.modes) == ["forward", "tangent", "tangent-2", "reverse", "extend"]
    assert w.mode_title("tangent-2") == "forward mode (tangents w.r.t. x₂)"
    assert w.modes["tangent-2"].steps.wrt is x2
    assert w.modes["tangent-2"].steps[-1].line == "v̇₇ = v̇₆ − v̇₅ = 2 − 0.284 = 1.716"
    row = w._row(w.modes["tangent-2"], "v7")
    assert row is not None and w.trace.tables[row[0]].wrt == "x2"
    svg = w.svg_at("tangent-2", 7) or ""
    assert "v̇₇ = 1.716" in svg and "∂v₇/∂v₅ = −1" in svg  # the local derivatives on the used edges


def test_edges_the_step_uses_carry_partial_adjoints_and_local_derivatives() -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    step4 = w.svg_at("reverse", 4) or ""  # visiting v4 appends v̄₁→₄ = 5 and v̄₂→₄ = 2
    labels = dict(re.findall(r'data-e="([^"]*)">.*?<text[^>]*>([^<]*)</text>', step4, re.DOTALL))
    assert labels["v1 v4"] == "v̄₁→₄ = 5" and labels["v2 v4"] == "v̄₂→₄ = 2"
    assert labels["v1 v3"] == ""  # not used by this step
    for m in w.modes.values():  # the layout is of no step: no edge looks used before restyling
        assert m.svg is not None and 'stroke="#d84315"' not in m.svg
    tangent = w.svg_at("tangent", 3) or ""
    assert re.search(r'data-e="v1 v3">.*?<text[^>]*>∂v₃/∂v₁ = 0.5</text>', tangent, re.DOTALL)


def test_a_graph_without_inputs_has_no_tangent_mode() -> None:
    c = constant(2.0)  # a gradient that is a number, as create_graph returns it
    w = Walkthrough(c)
    assert list(w.modes) == ["forward", "reverse", "extend"]
    assert [t.kind for t in w.trace.tables] == ["forward", "adjoint"]
    assert "tangent" not in walkthrough(c)
    with pytest.raises(ValueError, match="no tangent steps"):
        walkthrough(c, mode="tangent")


# --------------------------------------------------------------------------- #
# the widget, in Python                                                        #
# --------------------------------------------------------------------------- #


def test_step_through_shows_what_the_notes_say() -> None:
    _, _, y = notes_example()
    st = StepThrough(y)
    assert st.shown()["node"] == "v7" and st.shown()["step"] == 1 and st.shown()["steps"] == 7
    st.show(step=5)
    shown = st.shown()
    assert shown["line"] == "visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)"
    assert shown["row"] == "v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716"
    assert shown["node_to_grad"]["v₂"] == "node_to_grad[v₂] = [v̄₂→₅ = −0.284, v̄₂→₄ = 2], v̄₂ = 1.716"
    st.show(mode="forward")
    assert st.step == 1 and st.shown()["line"] == "v₁ = x₁ = 2" and st.shown()["row"] == "v₁ = x₁ = 2"
    st.show(mode="extend", step=5)
    assert st.shown()["added"] == ["v̄₂ = v̄₂→₄ + v̄₂→₅ = 1.716"]
    assert 'sg-visited" data-n="v2"' in (st.svg() or "")


def test_step_through_of_steps_starts_in_their_mode() -> None:
    _, x2, y = notes_example()
    st = StepThrough(steps(y, mode="tangent", wrt=x2))
    assert st.mode == "tangent" and st.shown()["line"] == "v̇₁ = 0"
    assert isinstance(st.steps["reverse"], Steps) and set(st.steps) == set(MODES)
    assert st.steps["tangent"].wrt is x2 and "tangent-1" in st.walkthrough.modes
    assert repr(st).startswith("<StepThrough tangent step 1 of 7")


def test_step_through_mimebundle_always_has_the_kernel_free_html(monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, y = notes_example()
    st = StepThrough(y)
    bundle = st._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}  # no kernel here: no widget view
    assert "<script>" in bundle["text/html"] and "sgw-data" in bundle["text/html"]
    assert st._repr_html_().count("<svg") == 5
    pytest.importorskip("ipywidgets")
    from scalargrad.viz import widget as widget_module

    monkeypatch.setattr(widget_module, "_in_kernel", lambda: True)
    bundle = st._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" in bundle
    assert set(StepThrough(y, widget=False)._repr_mimebundle_()) == {"text/html", "text/plain"}


def test_step_through_widget_moves_with_its_controls() -> None:
    pytest.importorskip("ipywidgets")
    _, _, y = notes_example()
    st = StepThrough(y)
    box = st.widget
    controls = st._controls
    assert box is st.widget  # built once
    controls["slider"].value = 5
    assert st.step == 5 and "node_to_grad[v₂]" in controls["panel"].value
    assert 'class="node sg-visited" data-n="v2"' in controls["diagram"].value
    assert "v̄₂ = 1.716" in controls["panel"].value
    controls["modes"].value = "forward"
    assert (st.mode, st.step, controls["slider"].value, controls["slider"].max) == ("forward", 1, 1, 7)
    st.show(step=7)
    assert controls["slider"].value == 7 and controls["play"].value == 7
    assert "v₇ = v₆ − v₅ = 10.693 − (−0.959) = 11.652" in controls["panel"].value


# --------------------------------------------------------------------------- #
# frames and the animation                                                     #
# --------------------------------------------------------------------------- #


def test_write_frames_writes_one_file_per_step_and_format(tmp_path: Path) -> None:
    _, _, y = notes_example()
    s = steps(y)
    written = write_frames(s, tmp_path / "frames")
    names = sorted(p.name for p in written)
    assert names == sorted(f"reverse_step_{k}.{f}" for k in range(1, 8) for f in ("svg", "png"))
    assert written.skipped == {}
    fifth = (tmp_path / "frames" / "reverse_step_5.svg").read_text(encoding="utf-8")
    assert "reverse step 5 of 7: visit v₂" in fifth
    assert (tmp_path / "frames" / "reverse_step_5.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    sizes = set()
    for png in (p for p in written if p.suffix == ".png"):
        with Image.open(png) as image:
            sizes.add(image.size)
    assert len(sizes) == 1  # one layout: every frame of the mode has the same pixel size
    fourth = (tmp_path / "frames" / "reverse_step_4.svg").read_text(encoding="utf-8")
    assert "v̄₂→₄ = 2" in fourth  # the partial adjoints on the edges the step uses
    # the README's GIF is these frames 1200 px wide: the smallest text (edge labels) at least 11 px
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', fourth).group(1))  # type: ignore[union-attr]
    smallest = min(float(f) for f in re.findall(r'font-size="([\d.]+)"', fourth))
    assert smallest * 1200 / width >= 11
    many = steps(chain(30), mode="forward")
    svgs = write_frames(many, tmp_path / "many", formats=["svg"], prefix="f")
    assert [p.name for p in svgs][:2] == ["f01.svg", "f02.svg"] and len(svgs) == len(many)


def test_write_frames_leaves_out_a_format_it_cannot_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, y = notes_example()
    s = steps(y, mode="forward")

    def no_png(*args: Any, **kwargs: Any) -> bytes:
        raise RenderError("png without the system Graphviz needs resvg-py")

    monkeypatch.setattr(frames_module, "convert_svg", no_png)
    written = write_frames(s, tmp_path)
    assert isinstance(written, Frames) and all(p.suffix == ".svg" for p in written) and len(written) == 7
    assert "resvg-py" in written.skipped["png"]
    with pytest.raises(RenderError):
        write_frames(s, tmp_path, formats=("png",))


def test_write_frames_bad_arguments(tmp_path: Path) -> None:
    _, _, y = notes_example()
    with pytest.raises(TypeError, match=r"scalargrad\.steps"):
        write_frames(y, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="format"):
        write_frames(steps(y), tmp_path, formats=("bmp",))
    with pytest.raises(ValueError, match="prefix"):
        write_frames(steps(y), tmp_path, prefix="a/b")
    with pytest.raises(ValueError, match="too complex"):
        x = Value(1.0, label="x")
        z = x
        for _ in range(40):
            z = z + x
        write_frames(steps(z), tmp_path, max_layout_cost=100)
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


@pytest.mark.parametrize("suffix", ["gif", "png"])
def test_write_animation(tmp_path: Path, suffix: str) -> None:
    from PIL import Image

    _, _, y = notes_example()
    path = write_animation(
        steps(y), tmp_path / f"reverse.{suffix}", seconds=1.0, last_seconds=3.0, max_width=800
    )
    with Image.open(path) as image:
        assert image.format == ("GIF" if suffix == "gif" else "PNG")
        assert getattr(image, "n_frames", 1) == 7 and image.width == 800
        durations = []
        for k in range(7):
            image.seek(k)
            durations.append(image.info["duration"])
        assert durations == [1000] * 6 + [3000]
    with pytest.raises(ValueError, match="gif"):
        write_animation(steps(y), tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="seconds"):
        write_animation(steps(y), tmp_path / "x.gif", seconds=0)


# --------------------------------------------------------------------------- #
# in a real browser                                                            #
# --------------------------------------------------------------------------- #


class Tab:
    """One browser page, with every request that is not file:// or data: recorded and refused."""

    def __init__(self, browser: Any, javascript: bool = True) -> None:
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.fetched: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.fetched.append(url)
            route.abort()

    def open(self, path: Path) -> Any:
        self.page.goto(path.as_uri())
        return self.page

    def close(self) -> None:
        assert self.fetched == [], f"the page fetched {self.fetched}"
        assert self.errors == [], f"errors in the page: {self.errors}"
        self.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    t = Tab(browser)
    yield t
    t.close()


def shown(page: Any, root: str = ".sgw") -> dict[str, Any]:
    """What the step-through ``root`` shows: its step, line, highlighted node and row, state."""
    return dict(
        page.evaluate(
            """(sel) => {
      const root = document.querySelector(sel);
      const svg = root.querySelector(".sgw-svg:not([hidden])");
      const visited = svg ? Array.from(svg.querySelectorAll("g.node.sg-visited"), g => g.dataset.n) : null;
      const current = root.querySelectorAll("tr.sgw-current");
      const ntg = root.querySelector(".sgw-panel tr.sgw-visited");
      const rowCell = root.querySelector(".sgw-panel .sgw-row td");
      const node = svg && root.dataset.node ? svg.querySelector(`g[data-n="${root.dataset.node}"]`) : null;
      return {
        mode: root.dataset.mode, step: +root.dataset.step, node: root.dataset.node,
        count: root.querySelector(".sgw-count").textContent,
        slider: root.querySelector(".sgw-slider").value,
        line: root.querySelector(".sgw-panel .sgw-line").textContent,
        visited: visited,
        rows: Array.from(current).map(r => r.cells[0].textContent),
        row: rowCell ? rowCell.textContent : "",
        ntg: ntg ? Array.from(ntg.cells).map(c => c.textContent) : null,
        nodeTexts: node ? Array.from(node.querySelectorAll("text")).map(t => t.textContent) : [],
        newEntries: Array.from(root.querySelectorAll(".sgw-panel .sgw-new")).map(e => e.textContent),
        added: Array.from(root.querySelectorAll(".sgw-panel .sgw-added li")).map(e => e.textContent),
        hiddenAdjoint: svg ? svg.querySelectorAll("g.node.sg-hidden").length : 0,
        freshAdjoint: svg ? svg.querySelectorAll("g.node.sg-new").length : 0,
      };
    }""",
            root,
        )
    )


def check_step(page: Any, w: Walkthrough, mode: str, k: int, root: str = ".sgw") -> dict[str, Any]:
    """The browser shows step ``k`` (1-based) of ``mode`` as the data says: line, node, row, count."""
    m = w.modes[mode]
    st = m.steps[k - 1]
    got = shown(page, root)
    assert (got["mode"], got["step"], got["node"]) == (mode, k, st.node)
    assert got["line"] == st.line
    assert got["count"] == f"step {k} of {len(m.steps)}" and got["slider"] == str(k)
    if m.svg is not None:
        assert got["visited"] == [st.node]
    row = w._row(m, st.node)
    assert row is not None
    name = w.trace.tables[row[0]].rows[row[1]].name
    assert got["rows"] == [text_name(name)]
    assert got["row"] == got["rows"][0]
    return got


def test_page_steps_through_every_mode_with_keys(tab: Tab, tmp_path: Path) -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    path = write_walkthrough(y, tmp_path / "notes.html")
    page = tab.open(path)
    page.wait_for_selector(".sgw[data-ready='1']")
    for mode in MODES:
        page.click(f"button.sgw-mode[data-mode='{mode}']")
        n = len(w.modes[mode].steps)
        check_step(page, w, mode, 1)
        for k in range(2, n + 1):
            page.keyboard.press("ArrowRight")
            check_step(page, w, mode, k)
        page.keyboard.press("ArrowRight")  # stays on the last step
        check_step(page, w, mode, n)
        page.keyboard.press("Home")
        check_step(page, w, mode, 1)
        page.keyboard.press("End")
        check_step(page, w, mode, n)
        page.keyboard.press("ArrowLeft")
        check_step(page, w, mode, n - 1)
        assert page.get_attribute(f"button.sgw-mode[data-mode='{mode}']", "aria-pressed") == "true"
    # each mode remembers its step
    page.click("button.sgw-mode[data-mode='forward']")
    check_step(page, w, "forward", 6)


def test_reverse_step_visiting_v2_in_the_browser(tab: Tab, tmp_path: Path) -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "notes.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    for _ in range(4):
        page.click("button.sgw-next")
    got = check_step(page, w, "reverse", 5)
    assert got["node"] == "v2"
    assert got["ntg"] == ["node_to_grad[v₂]", "[v̄₂→₅ = −0.284, v̄₂→₄ = 2]", "v̄₂ = 1.716"]
    assert got["nodeTexts"] == ["v₂ = x₂", "5", "node_to_grad: [v̄₂→₅ = −0.284, v̄₂→₄ = 2]", "v̄₂ = 1.716"]
    assert got["newEntries"] == []  # visiting an input appends nothing
    page.click("button.sgw-prev")
    got = check_step(page, w, "reverse", 4)  # visiting v4 appends to v1 and v2
    assert got["newEntries"] == ["v̄₂→₄ = 2", "v̄₁→₄ = 5"]  # lists from v̄₇ down to v̄₁
    panel = page.inner_text(".sgw-panel .sgw-ntg")
    assert "node_to_grad[v₂]\t[v̄₂→₅ = −0.284, v̄₂→₄ = 2]" in panel
    page.click("button.sgw-last")
    check_step(page, w, "reverse", 7)
    assert shown(page)["ntg"] == ["node_to_grad[v₁]", "[v̄₁→₄ = 5, v̄₁→₃ = 0.5]", "v̄₁ = 5.5"]
    page.click("button.sgw-first")
    got = check_step(page, w, "reverse", 1)
    assert got["nodeTexts"] == ["v₇ = v₆ − v₅", "11.652", "node_to_grad: [1]", "v̄₇ = 1"]
    page.fill(".sgw-slider", "5")  # the slider
    check_step(page, w, "reverse", 5)
    used = page.eval_on_selector_all(
        ".sgw-svg:not([hidden]) g.edge.sg-used", "gs => gs.map(g => g.dataset.e)"
    )
    assert used == []
    page.keyboard.press("Home")
    used = page.eval_on_selector_all(
        ".sgw-svg:not([hidden]) g.edge.sg-used", "gs => gs.map(g => g.dataset.e)"
    )
    assert sorted(used) == ["v5 v7", "v6 v7"]


def test_play_runs_to_the_end(tab: Tab, tmp_path: Path) -> None:
    y = extension_example()
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "ext.html", mode="extend"))
    page.wait_for_selector(".sgw[data-ready='1']")
    page.click("button.sgw-play")
    assert page.inner_text("button.sgw-play") == "❚❚ pause"
    page.wait_for_selector(".sgw[data-step='4']", timeout=10_000)
    page.wait_for_function(
        "() => document.querySelector('button.sgw-play').textContent === '▶ play'", timeout=5_000
    )
    check_step(page, w, "extend", 4)


def test_extended_graph_grows_step_by_step_in_the_browser(tab: Tab, tmp_path: Path) -> None:
    y = extension_example()
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "ext.html", mode="extend"))
    page.wait_for_selector(".sgw[data-ready='1']")
    added = [len(st.added) for st in w.modes["extend"].steps]
    for k in range(1, 5):
        got = check_step(page, w, "extend", k)
        assert got["freshAdjoint"] == added[k - 1]
        assert got["hiddenAdjoint"] == 5 - sum(added[:k])
        expected = [f"{d} = {TEXT.number(x, 3)[0]}" for _, d, x in w.modes["extend"].steps[k - 1].added]
        assert got["added"] == (expected or ["none"])
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Home")  # back: the later nodes disappear again
    assert shown(page)["hiddenAdjoint"] == 2


def test_page_of_a_100_node_graph_steps_every_mode(tab: Tab, tmp_path: Path) -> None:
    """Every step of every mode of a 100-node graph is reached with the arrow key, and the
    steps checked along the way show what the recording says. (How fast a step is shown is
    measured by ``docs/measure_walkthrough.py``, not asserted here.)"""
    y = chain(100)
    w = Walkthrough(y)
    assert len(w.order) >= 100
    assert all(m.svg is not None for m in w.modes.values())
    path = tmp_path / "big.html"
    path.write_text(w.page(), encoding="utf-8")  # the page write_walkthrough(y) writes, built once
    page = tab.open(path)
    page.wait_for_selector(".sgw[data-ready='1']", timeout=30_000)
    press = """n => { for (let i = 0; i < n; i++)
        document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true})); }"""
    for mode in MODES:
        page.click(f"button.sgw-mode[data-mode='{mode}']")
        n = len(w.modes[mode].steps)
        assert n == len(w.order)
        checked = sorted({1, 2, n // 2, n - 1, n, *range(17, n + 1, 17)})
        at = 1
        for k in checked:
            page.evaluate(press, k - at)  # the keydown handler, k - at times, in one round trip
            at = k
            got = check_step(page, w, mode, k)
            if mode == "reverse":
                ident = w.modes[mode].steps[k - 1].node
                assert got["ntg"][0] == f"node_to_grad[{w.names[ident]}]"
        page.keyboard.press("ArrowRight")  # a real key press past the last step stays there
        check_step(page, w, mode, n)


def test_labels_are_text_not_markup(tab: Tab, tmp_path: Path) -> None:
    """A label with markup in it (and two outputs) shows as text; nothing is injected."""
    a = Value(1.5, label="a</script><b>&'\"")
    b = Value(2.0, label="b")
    y1, y2 = a * b, (a + b).sin()
    w = Walkthrough([y1, y2])
    page = tab.open(write_walkthrough([y1, y2], tmp_path / "labels.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    assert page.eval_on_selector_all("b", "bs => bs.length") == 0
    assert "a</script><b>&'\"" in page.inner_text(".sgw-expression")
    page.keyboard.press("ArrowRight")
    got = check_step(page, w, "reverse", 2)
    assert got["newEntries"] == ["v̄₂→₄ = −0.936", "v̄₁→₄ = −0.936"]
    lists = page.eval_on_selector_all(".sgw-ntg tr", "trs => trs.map(t => t.cells[1].textContent)")
    assert lists[0] == "[1]" and "[1]" in lists[2:]  # both outputs start with the seed 1


def test_page_without_javascript_shows_the_first_step(browser: Any, tmp_path: Path) -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    path = write_walkthrough(y, tmp_path / "notes.html")
    t = Tab(browser, javascript=False)
    page = t.open(path)
    assert page.inner_text(".sgw-panel .sgw-line") == w.modes["reverse"].steps[0].line
    assert page.eval_on_selector_all(
        ".sgw-svg:not([hidden]) g.sg-visited", "gs => gs.map(g => g.dataset.n)"
    ) == ["v7"]
    assert "every step, as text" in page.inner_text("details.sgw-all")
    t.close()


def test_widget_html_works_without_a_kernel(browser: Any, tmp_path: Path) -> None:
    """Two StepThrough outputs in one exported notebook page: each steps on its own."""
    _, _, y = notes_example()
    first = StepThrough(y, step=5)
    second = StepThrough(extension_example(), mode="extend")
    document = tmp_path / "exported.html"
    document.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"<div class='cell'>{first.to_html()}</div><div class='cell'>{second.to_html()}</div></body></html>",
        encoding="utf-8",
    )
    # without JavaScript the server-side render of the start step shows
    t = Tab(browser, javascript=False)
    page = t.open(document)
    static = page.inner_text(".sgw >> nth=0 >> .sgw-panel")
    t.close()
    t = Tab(browser)
    page = t.open(document)
    page.wait_for_selector(".sgw[data-ready='1'] >> nth=1")
    a, b = (f"#{page.eval_on_selector_all('.sgw', 'e => e.map(x => x.id)')[i]}" for i in range(2))
    assert page.inner_text(f"{a} .sgw-panel") == static  # the script shows what the server drew
    got = check_step(page, first.walkthrough, "reverse", 5, a)
    assert got["ntg"] == ["node_to_grad[v₂]", "[v̄₂→₅ = −0.284, v̄₂→₄ = 2]", "v̄₂ = 1.716"]
    check_step(page, second.walkthrough, "extend", 1, b)
    page.click(f"{b} button.sgw-next")
    check_step(page, second.walkthrough, "extend", 2, b)
    check_step(page, first.walkthrough, "reverse", 5, a)  # untouched
    page.focus(a)  # keys move only the step-through that has the focus
    page.keyboard.press("ArrowRight")
    check_step(page, first.walkthrough, "reverse", 6, a)
    check_step(page, second.walkthrough, "extend", 2, b)
    page.click(f"{a} button.sgw-mode[data-mode='tangent']")
    check_step(page, first.walkthrough, "tangent", 1, a)
    page.keyboard.press("End")
    check_step(page, first.walkthrough, "tangent", 7, a)
    t.close()


def _diagram_text(page: Any) -> dict[str, Any]:
    """The shown diagram's smallest rendered text height (px) and its edge labels, by edge."""
    return dict(
        page.evaluate(
            """() => {
      const svg = document.querySelector(".sgw-svg:not([hidden]) svg");
      let smallest = Infinity;
      for (const t of svg.querySelectorAll("text")) {
        if (!t.textContent || !t.getBoundingClientRect().height) continue;  // empty, or hidden
        // the font size in CSS pixels: in the SVG's units, times their scale on the screen
        smallest = Math.min(smallest, parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().d);
      }
      const labels = {};
      for (const g of svg.querySelectorAll("g.edge")) {
        const t = g.querySelector("text");
        if (t && t.textContent) (labels[g.dataset.e] = labels[g.dataset.e] || []).push(t.textContent);
      }
      return {smallest: smallest, labels: labels};
    }"""
        )
    )


def test_diagram_text_is_legible_and_used_edges_are_labelled(tab: Tab, tmp_path: Path) -> None:
    """At 1400 px wide: diagram text at least 12 px; the edges each step uses carry the
    partial adjoints (reverse), or the local derivatives (tangent mode), and only those."""
    _, _, y = notes_example()
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "notes.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    for mode in ("reverse", "tangent", "extend", "forward"):
        page.click(f"button.sgw-mode[data-mode='{mode}']")
        page.keyboard.press("Home")
        for k in range(1, 8):
            got = _diagram_text(page)
            assert got["smallest"] >= 12, (mode, k, got["smallest"])
            expected: dict[str, list[str]] = {}
            for a, b, label in edge_labels(w.modes[mode].steps, k, 3):
                expected.setdefault(f"{a} {b}", []).append(label)
            assert got["labels"] == expected, (mode, k)
            page.keyboard.press("ArrowRight")
    page.click("button.sgw-mode[data-mode='reverse']")
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # visiting v4: v̄₁→₄ = 5 and v̄₂→₄ = 2 travel
    assert _diagram_text(page)["labels"] == {"v1 v4": ["v̄₁→₄ = 5"], "v2 v4": ["v̄₂→₄ = 2"]}
    page.click("button.sgw-mode[data-mode='tangent']")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # step 3: v̇₃ = (1/v₁)·v̇₁
    assert _diagram_text(page)["labels"] == {"v1 v3": ["∂v₃/∂v₁ = 0.5"]}


def test_tangent_mode_for_each_input_in_the_browser(tab: Tab, tmp_path: Path) -> None:
    _, _, y = notes_example()
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "notes.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    titles = page.eval_on_selector_all("button.sgw-mode", "bs => bs.map(b => b.textContent)")
    assert "forward mode (tangents w.r.t. x₁)" in titles and "forward mode (tangents w.r.t. x₂)" in titles
    for mode, last in (
        ("tangent", "v̇₇ = v̇₆ − v̇₅ = 5.5 − 0 = 5.5"),
        ("tangent-2", "v̇₇ = v̇₆ − v̇₅ = 2 − 0.284 = 1.716"),
    ):
        page.click(f"button.sgw-mode[data-mode='{mode}']")
        page.keyboard.press("End")
        got = check_step(page, w, mode, 7)
        assert got["line"] == last
        assert got["nodeTexts"][-1] == last.split(" = ")[0] + " = " + last.split(" = ")[-1]


def test_the_current_table_row_stays_in_view(tab: Tab, tmp_path: Path) -> None:
    """The highlighted row of the full trace table is scrolled into view inside its box
    (beside the diagram, within the window), and the page itself does not move."""
    y = chain(30)
    w = Walkthrough(y)
    page = tab.open(write_walkthrough(y, tmp_path / "chain.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    for mode in ("forward", "reverse", "tangent"):
        page.click(f"button.sgw-mode[data-mode='{mode}']")
        for key in ["Home", *["ArrowRight"] * 12, "End"]:
            page.keyboard.press(key)
            place = page.evaluate(
                """() => {
              const tr = document.querySelector("tr.sgw-current");
              const box = tr.closest(".sgw-tables").getBoundingClientRect();
              const r = tr.getBoundingClientRect();
              return {top: r.top, bottom: r.bottom, boxTop: box.top, boxBottom: box.bottom,
                      height: window.innerHeight, scrollY: window.scrollY};
            }"""
            )
            assert place["boxTop"] - 1 <= place["top"] and place["bottom"] <= place["boxBottom"] + 1, (
                mode,
                key,
                place,
            )
            assert place["top"] >= 0 and place["bottom"] <= place["height"], (mode, key, place)
            assert place["scrollY"] == 0  # the page did not jump
    assert len(w.modes["reverse"].steps) >= 30


def test_screenshot_of_a_reverse_step(tab: Tab, tmp_path: Path) -> None:
    """The page as a reader sees it renders (a PNG of the reverse step visiting v2)."""
    from PIL import Image

    _, _, y = notes_example()
    page = tab.open(write_walkthrough(y, tmp_path / "notes.html"))
    page.wait_for_selector(".sgw[data-ready='1']")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    shot = page.screenshot(full_page=True)
    with Image.open(io.BytesIO(shot)) as image:
        width, height = image.size
        assert width == 1400 and height > 600
        box = page.eval_on_selector(
            ".sgw-svg:not([hidden]) g.node.sg-visited", "g => g.getBoundingClientRect().toJSON()"
        )
        area = image.convert("RGB").crop(
            (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
        )
        colours = area.getcolors(maxcolors=1 << 20) or []
        amber = sum(n for n, c in colours if c == (0xFF, 0xD5, 0x4F))
        assert amber > 0.5 * area.width * area.height  # the visited node is filled amber


def test_the_page_steps_through_a_tensor_graph_with_its_tensors_boxed() -> None:
    """issue 19: walkthrough(..., groups=...) draws X, W and Z = XW each as one box in every
    mode's diagram, computed entries named (Z₁₁), while the steps run as for any graph."""
    pytest.importorskip("numpy")
    import scalargrad as sg

    X = sg.array([[1, 2], [3, 4]], name="X")
    W = sg.array([[1, -1], [0.5, 2]], name="W")
    Z = X @ W
    w = Walkthrough(Z.sum(), groups={"X": X, "W": W, "Z": Z})
    for mode in ("forward", "reverse"):
        svg = w.modes[mode].svg or ""
        assert svg.count('class="cluster') == 3, mode
        assert all(f">{title}</text>" in svg for title in ("X", "W", "Z")), mode
    assert "Z₁₁ = v₉ + v₁₀" in (w.modes["reverse"].svg or "")
    assert len(w.modes["reverse"].steps) == len(w.graph.order)
    with pytest.raises(TypeError, match="groups must map names"):
        Walkthrough(Z.sum(), groups=[X])  # type: ignore[arg-type]
