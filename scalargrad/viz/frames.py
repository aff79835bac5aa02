"""Step diagrams as files: one picture per step for slides, and an animation of the steps.

:func:`write_frames` writes :func:`scalargrad.draw_step`'s diagram of every step
of a :class:`scalargrad.Steps` to a directory (SVG, and PNG or PDF); :func:`write_animation`
puts the same frames, one after the other, into an animated GIF or PNG (APNG) with
Pillow — the README's gallery picture of the reverse steps is made this way
(``docs/make_gallery.py``).

One layout per mode, restyled per step
--------------------------------------

A mode's steps are laid out **once** (:class:`StepLayout`): Graphviz lays out
:func:`scalargrad.viz._steps.layout_source`, the diagram holding every node, edge
and label that any step shows, each label at its widest. Each frame is that one
SVG with the step's own diagram (``draw_step``'s DOT, read back) painted on it:
fills, outlines, text colours, the record fields' and edge labels' text, and what
is not drawn at that step (later adjoint nodes, edges not used) left out. So no
node moves from frame to frame, every frame of a mode has the same size, and the
work is one Graphviz layout whatever the number of steps. This works alike with
the system ``dot`` and the WebAssembly Graphviz (only SVG is asked of either); PNG
and PDF are made from the restyled SVG by ``resvg-py``.
"""

from __future__ import annotations

import copy
import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..files import check_writable, write_atomic
from ..stepping import Steps
from ._render import (
    MAX_LAYOUT_COST,
    RENDER_TIMEOUT,
    RenderError,
    check_format,
    check_layout_cost,
    convert_svg,
    pipe,
)
from ._steps import DotGraph, build_step_dot, layout_source, record_fields, unescape

__all__ = ["MAX_FRAMES", "Frames", "StepLayout", "TooManyFramesError", "write_animation", "write_frames"]

MAX_FRAMES = 200
"""Most steps :func:`write_frames` and :func:`write_animation` accept by default (``max_frames``).

Each frame restyles the whole layout, so the work grows as steps × graph size (a
1000-step chain took about 3.7 s a frame); 200 frames of a 200-node graph take a
few minutes at most. ``max_frames=None`` lifts the limit."""


_MARGIN = '\tgraph [pad="0.6,0.1"]\n'
"""Inches of margin around a frame (left/right, top/bottom): the step line above the diagram is
as wide as Graphviz estimates it in Helvetica, and a renderer that falls back to a wider font
for the subscripts and accents (resvg with DejaVu Sans, say) would otherwise cut off its ends."""
_FRAME_FORMATS = ("svg", "png", "pdf")
"""What a frame is written as: the restyled SVG, and images converted from it."""

_SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_G, _TITLE, _TEXT = f"{{{_SVG}}}g", f"{{{_SVG}}}title", f"{{{_SVG}}}text"
_SHAPES = {f"{{{_SVG}}}{tag}" for tag in ("polygon", "polyline", "path", "ellipse")}
_DASHES = {"dashed": "5,2", "dotted": "1,5"}


def _framed(source: str) -> str:
    """A step's DOT with :data:`_MARGIN` around the drawing."""
    head, brace, rest = source.partition("{\n")
    return head + brace + _MARGIN + rest if brace else source


def _styles(attrs: dict[str, str]) -> set[str]:
    return {x.strip() for x in attrs.get("style", "").split(",")}


class StepLayout:
    """The steps of one mode laid out once (:func:`layout_source`), and each step's frame: that
    layout restyled as the step's own diagram draws it (see the module's docstring).

    A layout whose cost exceeds ``max_layout_cost`` raises
    :class:`scalargrad.viz.DiagramTooComplexError` before Graphviz runs.
    """

    def __init__(
        self,
        steps: Steps,
        digits: int = 3,
        *,
        backend: str = "auto",
        max_layout_cost: int | None = MAX_LAYOUT_COST,
        timeout: float = RENDER_TIMEOUT,
    ) -> None:
        self.steps = steps
        self.dots = [DotGraph.parse(build_step_dot(steps, k, digits)) for k in range(1, len(steps) + 1)]
        self.source = _framed(layout_source(steps, digits))
        check_layout_cost(self.source, max_layout_cost, f"the diagram of the {steps.mode} steps")
        self.laid = DotGraph.parse(self.source)
        self.svg = pipe(self.source, "svg", backend, timeout)
        self._tree = ET.fromstring(self.svg)

    def frame(self, index: int) -> bytes:
        """Step ``index`` (1-based) as SVG: the one layout, drawn as that step's diagram."""
        if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= len(self.dots):
            raise ValueError(f"step index must be an integer from 1 to {len(self.dots)}, got {index!r}")
        root = copy.deepcopy(self._tree)
        step = self.dots[index - 1]
        hidden = {n for n, a in step.nodes.items() if "invis" in _styles(a)}
        hidden |= set(self.laid.nodes) - set(step.nodes)
        step_edges = dict(zip(step.edge_keys(), (attrs for _, _, attrs in step.edges)))
        laid_edges = dict(zip(self.laid.edge_keys(), (attrs for _, _, attrs in self.laid.edges)))
        parents = {child: parent for parent in root.iter() for child in parent}
        seen: dict[tuple[str, str], int] = {}
        drop = []
        for g in root.iter(_G):
            kind = g.get("class", "")
            title = g.findtext(_TITLE, "")
            if kind == "node":
                if title in hidden:
                    drop.append(g)
                else:
                    self._paint_node(g, self.laid.nodes.get(title, {}), step.nodes[title], step)
            elif kind == "edge":
                a, _, b = title.partition("->")
                k = seen.get((a, b), 0)
                seen[(a, b)] = k + 1
                attrs = step_edges.get((a, b, k))
                if attrs is None or "invis" in _styles(attrs) or a in hidden or b in hidden:
                    drop.append(g)
                else:
                    self._paint_edge(g, laid_edges.get((a, b, k), {}), attrs)
            elif kind == "cluster":
                members = step.clusters.get(title, [])
                if not members or all(n in hidden for n in members):
                    drop.append(g)
            elif kind == "graph":
                texts = [t for t in g if t.tag == _TEXT]
                if texts and "label" in step.graph:
                    texts[0].text = unescape(step.graph["label"])
                    texts[0].set("text-anchor", "start")
                    texts[0].set("x", "8")  # Graphviz's left margin of a left-justified label
                    for t in texts[1:]:
                        g.remove(t)
        for g in drop:
            parents[g].remove(g)
        body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
        return b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + body

    @staticmethod
    def _paint_node(g: ET.Element, laid: dict[str, str], attrs: dict[str, str], step: DotGraph) -> None:
        shape = attrs.get("shape", step.defaults["node"].get("shape", "ellipse"))
        filled = "filled" in _styles(attrs)
        fill = attrs.get("fillcolor", attrs.get("color", "lightgrey")) if filled else "none"
        stroke, width = attrs.get("color", "black"), attrs.get("penwidth", "1")
        outline = True
        for e in g:
            if e.tag in _SHAPES:
                if outline:
                    e.set("fill", fill)
                    outline = False
                e.set("stroke", stroke)
                _set_width(e, width)
        lines = _aligned(laid.get("label", ""), attrs.get("label", ""), shape == "record")
        _paint([t for t in g if t.tag == _TEXT], lines, attrs.get("fontcolor"))

    @staticmethod
    def _paint_edge(g: ET.Element, laid: dict[str, str], attrs: dict[str, str]) -> None:
        color, width = attrs.get("color", "black"), attrs.get("penwidth", "1")
        dash = next((_DASHES[s] for s in _styles(attrs) if s in _DASHES), None)
        for e in g:
            if e.tag not in _SHAPES:
                continue
            e.set("stroke", color)
            _set_width(e, width)
            if e.tag.endswith("path"):
                if dash:
                    e.set("stroke-dasharray", dash)
                else:
                    e.attrib.pop("stroke-dasharray", None)
            else:
                e.set("fill", color)
        texts = [t for t in g if t.tag == _TEXT]
        lines = [
            *_aligned(laid.get("label", ""), attrs.get("label", ""), False),
            *_aligned(laid.get("xlabel", ""), attrs.get("xlabel", ""), False),
        ]
        _paint(texts, lines, attrs.get("fontcolor"))


def _set_width(e: ET.Element, width: str) -> None:
    if width in ("1", "1.0"):
        e.attrib.pop("stroke-width", None)
    else:
        e.set("stroke-width", width)


def _aligned(laid: str, label: str, record_shape: bool) -> list[str]:
    """``label``'s lines, one for each line Graphviz drew of ``laid`` (the layout's label):
    line by line, or record field by field, so that a field or line empty at this step
    keeps its place ("")."""
    laid_lines, lines = _lines_per_field(laid, record_shape), _lines_per_field(label, record_shape)
    out = []
    for i, field_lines in enumerate(laid_lines):
        mine = lines[i] if i < len(lines) else []
        out += [mine[j] if j < len(mine) else "" for j, line in enumerate(field_lines) if line]
    return out


def _lines_per_field(label: str, record_shape: bool) -> list[list[str]]:
    fields = record_fields(label) if record_shape else [label]
    return [re.split(r"(?<!\\)\\[nlr]", f) for f in fields]


def _paint(texts: list[ET.Element], lines: list[str], color: str | None) -> None:
    """Give the ``<text>`` elements Graphviz drew for a label the step's ``lines`` in ``color``."""
    if len(texts) != len(lines):
        return  # a label drawn otherwise than expected: keep the layout's text
    for t, line in zip(texts, lines):
        t.text = unescape(line)
        t.set("fill", color or "black")


class Frames(list[Path]):
    """The files :func:`write_frames` wrote (a list of paths, step by step, format by format).

    ``skipped`` maps each format that could not be made here to the reason
    (PNG without ``resvg-py``, say: frames are converted from the restyled SVG).
    """

    def __init__(self, paths: Sequence[Path] = (), skipped: dict[str, str] | None = None) -> None:
        super().__init__(paths)
        self.skipped: dict[str, str] = dict(skipped or {})


def _check_steps(steps: object, who: str, max_frames: int | None) -> Steps:
    if not isinstance(steps, Steps):
        raise TypeError(f"{who} needs the result of scalargrad.steps(...), got {type(steps).__name__}")
    if not steps:
        raise ValueError(f"{who}: there are no steps")
    if max_frames is not None:
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
            raise ValueError(f"max_frames must be a positive integer or None, got {max_frames!r}")
        if len(steps) > max_frames:
            raise TooManyFramesError(who, len(steps), max_frames)
    return steps


class TooManyFramesError(ValueError):
    """More steps than ``max_frames``; :meth:`message` words it for the option that sets the limit."""

    def __init__(self, who: str, steps: int, max_frames: int) -> None:
        self.who, self.steps, self.max_frames = who, steps, max_frames
        super().__init__(self.message("max_frames", "="))

    def message(self, option: str, sep: str = " ") -> str:
        return (
            f"{self.who}: {self.steps} steps, more than {option}{sep}{self.max_frames} frames; "
            f"pass a larger {option} to write them anyway (each frame costs a restyle of the whole diagram)"
        )


def write_frames(
    steps: Steps,
    directory: str | Path,
    formats: Sequence[str] = ("svg", "png"),
    *,
    prefix: str | None = None,
    digits: int = 3,
    backend: str = "auto",
    max_layout_cost: int | None = MAX_LAYOUT_COST,
    timeout: float = RENDER_TIMEOUT,
    max_frames: int | None = MAX_FRAMES,
) -> Frames:
    """Write the diagram of every step of ``steps`` to ``directory``, one file per step and format.

    Files are named ``{prefix}{k}.{format}`` with ``k`` zero-padded so they sort in
    step order (``prefix`` defaults to ``"{mode}_step_"``: ``reverse_step_1.svg`` …
    ``reverse_step_7.svg``); the directory is created if needed. The steps are laid
    out once (:class:`StepLayout`), so every frame has the same size and every node
    the same place. Formats are svg, png and pdf; SVG always works with the ``viz``
    extra, and PNG or PDF that cannot be made here (they need ``resvg-py``) is left
    out and reported in the result's ``skipped``, unless it is the only format asked
    for, which raises :class:`scalargrad.viz.RenderError`. A layout that would cost
    more than ``max_layout_cost`` raises :class:`scalargrad.viz.DiagramTooComplexError`
    before anything is written, and so do more steps than ``max_frames`` (default
    :data:`MAX_FRAMES`; None: no limit), a ``TooManyFramesError`` (a ValueError).

    Every frame's path is checked before any work (a FIFO, device or directory of
    that name raises :class:`scalargrad.files.UnwritablePathError`) and each file is
    written atomically, so an existing frame is either replaced whole or left as it was.
    """
    s = _check_steps(steps, "write_frames", max_frames)
    if isinstance(formats, str):
        formats = (formats,)
    wanted = list(dict.fromkeys(check_format(f) for f in formats))
    if not wanted:
        raise ValueError("write_frames: give at least one format")
    other = [f for f in wanted if f not in _FRAME_FORMATS]
    if other:
        raise ValueError(f"frames are written as {', '.join(_FRAME_FORMATS)}, not {', '.join(other)}")
    if prefix is None:
        prefix = f"{s.mode}_step_"
    if not isinstance(prefix, str) or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a file name prefix (no directory), got {prefix!r}")
    target = Path(directory)
    width = len(str(len(s)))

    def path_of(k: int, fmt: str) -> Path:
        return target / f"{prefix}{k:0{width}d}.{fmt}"

    if target.is_dir():  # a new directory holds nothing to refuse
        for k in range(1, len(s) + 1):
            for fmt in wanted:
                check_writable(path_of(k, fmt))
    layout = StepLayout(s, digits, backend=backend, max_layout_cost=max_layout_cost, timeout=timeout)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    skipped: dict[str, str] = {}
    for k in range(1, len(s) + 1):
        svg = layout.frame(k)
        for fmt in wanted:
            if fmt in skipped:
                continue
            try:
                data = svg if fmt == "svg" else convert_svg(svg, fmt)
            except RenderError as e:
                if k > 1 or len(wanted) == 1:
                    raise
                skipped[fmt] = str(e)
                continue
            written.append(write_atomic(path_of(k, fmt), data))
    return Frames(written, skipped)


def write_animation(
    steps: Steps,
    path: str | Path,
    *,
    seconds: float = 1.6,
    last_seconds: float = 4.0,
    max_width: int | None = 1400,
    digits: int = 3,
    backend: str = "auto",
    max_layout_cost: int | None = MAX_LAYOUT_COST,
    max_frames: int | None = MAX_FRAMES,
) -> Path:
    """An animated picture of ``steps`` (one frame per step's diagram), written to ``path``.

    The format follows the suffix: ``.gif`` (GIF, 256 colours) or ``.png``
    (animated PNG, full colour; browsers and GitHub play both). Each step shows
    for ``seconds``, the last for ``last_seconds``, and the animation loops.
    Frames are PNG renders of :func:`write_frames`' diagrams (one layout, so one
    size, and no node moves), on white, scaled down to ``max_width`` pixels wide
    (None: not scaled). Needs Pillow and ``resvg-py`` (the ``viz`` extra). More steps
    than ``max_frames`` are refused (see :func:`write_frames`). The path is checked
    before any work and written atomically (see :mod:`scalargrad.files`).
    """
    s = _check_steps(steps, "write_animation", max_frames)
    target = Path(path)
    kind = target.suffix.lower().lstrip(".")
    if kind not in ("gif", "png"):
        raise ValueError(f"write_animation writes .gif or .png (animated PNG), not {str(target)!r}")
    for name, value in (("seconds", seconds), ("last_seconds", last_seconds)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if max_width is not None and (
        isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 16
    ):
        raise ValueError(f"max_width must be an integer of at least 16 pixels or None, got {max_width!r}")
    check_writable(target)
    try:
        from PIL import Image
    except ImportError:
        raise RenderError("write_animation needs Pillow: pip install 'scalargrad-autodiff[viz]'") from None
    layout = StepLayout(s, digits, backend=backend, max_layout_cost=max_layout_cost)
    frames: list[Any] = []
    for k in range(1, len(s) + 1):
        with Image.open(io.BytesIO(convert_svg(layout.frame(k), "png"))) as opened:
            opened.load()
            image = opened.convert("RGBA")
        canvas = Image.new("RGB", image.size, "white")  # every frame has the layout's size
        canvas.paste(image, (0, 0), image)
        if max_width is not None and canvas.width > max_width:
            height = max(1, round(canvas.height * max_width / canvas.width))
            canvas = canvas.resize((max_width, height), Image.Resampling.LANCZOS)
        frames.append(canvas)
    durations = [round(seconds * 1000)] * (len(frames) - 1) + [round(last_seconds * 1000)]
    options: dict[str, Any] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": durations,
        "loop": 0,
    }
    if kind == "gif":
        frames = [
            f.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for f in frames
        ]
        options["append_images"] = frames[1:]
    data = io.BytesIO()
    if kind == "gif":
        frames[0].save(data, format="GIF", optimize=True, disposal=1, **options)
    else:
        frames[0].save(data, format="PNG", optimize=True, **options)
    return write_atomic(target, data.getvalue())
