"""The notes' worked example y = ln(x1) + x1*x2 - sin(x2) at x1 = 2, x2 = 5, by every method.

Run: python examples/notes_example.py
"""

from scalargrad import Value, grad, jvp


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    print(f"y = {y} = {y.data:.3f}")
    print(f"forward mode:  dy/dx1 = {jvp(y, {x1: 1.0}):.3f}   dy/dx2 = {jvp(y, {x2: 1.0}):.3f}")
    y.backward()
    print(f"reverse mode:  x1.grad = {x1.grad:.3f}   x2.grad = {x2.grad:.3f}")
    g1, g2 = grad(y, [x1, x2], create_graph=True)
    print(f"gradient graph: dy/dx1 = {g1} = {g1.data:.3f}   dy/dx2 = {g2} = {g2.data:.3f}")


if __name__ == "__main__":
    main()
