"""Render the README gallery's diagrams with scalargrad itself.

Run: python docs/make_gallery.py   (needs the viz extra: pip install -e ".[viz]")
Writes docs/adjoint.svg: the adjoint diagram of the notes' y = ln(x1) + x1*x2 - sin(x2)
at x1 = 2, x2 = 5. Rendered with the WebAssembly Graphviz so the file does not depend on
whether a system Graphviz is installed.
"""

from pathlib import Path

from scalargrad import Value, draw

HERE = Path(__file__).resolve().parent


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    path = draw(y, kind="adjoint").render(HERE / "adjoint.svg", backend="wasm")
    print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
