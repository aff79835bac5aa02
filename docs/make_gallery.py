"""Render the README gallery's pictures with scalargrad itself.

Run: python docs/make_gallery.py [FILE ...]   (needs the viz extra: pip install -e ".[viz]")
Writes (all, or the FILEs named), for the notes' y = ln(x1) + x1*x2 - sin(x2) at x1 = 2, x2 = 5:

* docs/adjoint.svg: its adjoint diagram;
* docs/extended.png: the notes' extended-graph figure for (exp(x1)+1)*exp(x1) at x1 = 1
  (reverse mode by extending the computational graph), parsed as the command line
  parses it, so the shared exp node is one node;
* docs/extended_*.png: the same figure for the notes' other examples (the notes' y, the
  neuron σ(a·x + b)), the sigmoid neuron 1/(1 + exp(−(w0*x0 + w1*x1 + w2))),
  atan(x*y) + tanh(x)/sqrt(y) and a 30-node network loss, each parsed as the command line
  parses it;
* docs/tensor_adjoint.png: the adjoint diagram of the notes' Z = XW in scalar form
  (v = Σᵢⱼ Zᵢⱼ), with X, W and Z each boxed;
* docs/reverse_steps.gif: the notes' reverse-mode (node_to_grad) algorithm, one step per
  frame, made from the library's own step diagrams (scalargrad.draw_step, as
  ``scalargrad ... --frames DIR`` writes them) by scalargrad.viz.frames.write_animation:
  laid out once, so no node moves; 1200 px wide, where its text (edge labels too) is
  about 12 px high.

Rendered with the WebAssembly Graphviz so the files do not depend on whether a system
Graphviz is installed.
"""

import sys
from collections.abc import Callable
from pathlib import Path

from scalargrad import Value, array, draw, steps
from scalargrad.expr import parse
from scalargrad.viz.frames import write_animation

HERE = Path(__file__).resolve().parent
EXTENDED = {
    "extended.png": ("(exp(x1)+1)*exp(x1)", {"x1": 1.0}),
    "extended_notes.png": ("ln(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0}),
    "extended_neuron.png": ("sigmoid(a*x + b)", {"x": 2.0, "a": 3.0, "b": 1.0}),
    "extended_sigmoid.png": (
        "1/(1 + exp(-(w0*x0 + w1*x1 + w2)))",
        {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
    ),
    "extended_atan.png": ("atan(x*y) + tanh(x)/sqrt(y)", {"x": 0.5, "y": 2.0}),
    "extended_mlp.png": (
        "(c1*tanh(a1*x + b1) + c2*tanh(a2*x + b2) + d - t)**2 + 0.1*(a1*a1 + a2*a2 + c1*c1 + c2*c2)",
        {"x": 0.5, "a1": 1.0, "b1": -0.5, "a2": -2.0, "b2": 0.3, "c1": 0.8, "c2": -1.2, "d": 0.1, "t": 1.0},
    ),
}
"""The extended-graph figures: the expression as typed on the command line, and the point."""


def tensor_adjoint(path: Path) -> Path:
    """The notes' Z = XW as scalars, v = Σᵢⱼ Zᵢⱼ: the adjoint diagram with X, W and Z boxed."""
    X = array([[1, 2], [3, 4]], name="X")
    W = array([[1, -1], [0.5, 2]], name="W")
    Z = X @ W
    caption = "v = Σᵢⱼ Zᵢⱼ with Z = XW"
    diagram = draw(Z.sum(), kind="adjoint", groups={"X": X, "W": W, "Z": Z}, caption=caption)
    return diagram.render(path, backend="wasm")


def extended(text: str, point: dict[str, float], path: Path) -> Path:
    y, _ = parse(text).build(point)
    return draw(y, kind="extended", caption=True).render(path, backend="wasm")


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    pictures: dict[str, Callable[[Path], Path]] = {
        "adjoint.svg": lambda path: draw(y, kind="adjoint").render(path, backend="wasm"),
        "reverse_steps.gif": lambda path: write_animation(
            steps(y, mode="reverse"), path, backend="wasm", max_width=1200
        ),
    }
    pictures["tensor_adjoint.png"] = tensor_adjoint
    for name, (text, point) in EXTENDED.items():
        pictures[name] = lambda path, text=text, point=point: extended(text, point, path)
    names = sys.argv[1:] or list(pictures)
    unknown = [n for n in names if n not in pictures]
    if unknown:
        sys.exit(f"unknown picture(s): {', '.join(unknown)}; known: {', '.join(pictures)}")
    for name in names:
        path = pictures[name](HERE / name)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
