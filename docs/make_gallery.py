"""Render the README gallery's pictures with scalargrad itself.

Run: python docs/make_gallery.py [FILE ...]   (needs the viz extra: pip install -e ".[viz]")
Writes (all, or the FILEs named), for the notes' y = ln(x1) + x1*x2 - sin(x2) at x1 = 2, x2 = 5:

* docs/adjoint.svg: its adjoint diagram;
* docs/extended.png: the notes' extended-graph figure for (exp(x1)+1)*exp(x1) at x1 = 1
  (reverse mode by extending the computational graph), parsed as the command line
  parses it, so the shared exp node is one node;
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

from scalargrad import Value, draw, steps
from scalargrad.expr import parse
from scalargrad.viz.frames import write_animation

HERE = Path(__file__).resolve().parent


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    notes_figure, _ = parse("(exp(x1)+1)*exp(x1)").build({"x1": 1.0})
    pictures: dict[str, Callable[[Path], Path]] = {
        "adjoint.svg": lambda path: draw(y, kind="adjoint").render(path, backend="wasm"),
        "extended.png": lambda path: draw(notes_figure, kind="extended", caption=True).render(
            path, backend="wasm"
        ),
        "reverse_steps.gif": lambda path: write_animation(
            steps(y, mode="reverse"), path, backend="wasm", max_width=1200
        ),
    }
    names = sys.argv[1:] or list(pictures)
    unknown = [n for n in names if n not in pictures]
    if unknown:
        sys.exit(f"unknown picture(s): {', '.join(unknown)}; known: {', '.join(pictures)}")
    for name in names:
        path = pictures[name](HERE / name)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
