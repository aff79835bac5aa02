"""The notes' worked example y = ln(x1) + x1*x2 - sin(x2) at x1 = 2, x2 = 5, by every method.

Central differences (numerical), forward mode (one tangent per input), reverse mode
(one backward pass) and the create_graph gradient graph, then the notes' evaluation
trace tables: forward values, tangents and adjoints.

Run: python examples/notes_example.py
"""

from scalargrad import Value, grad, jvp, log, numerical_grad, sin, trace


def f(x1, x2):  # type: ignore[no-untyped-def]
    """y, on plain numbers (for central differences) and on Values (for autodiff)."""
    return log(x1) + x1 * x2 - sin(x2)


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = f(x1, x2)
    print(f"y = {y} = {y.data:.3f}")
    n1, n2 = numerical_grad(f, [2.0, 5.0])
    print(f"central differences:  dy/dx1 = {n1:.3f}   dy/dx2 = {n2:.3f}")
    print(f"forward mode:  dy/dx1 = {jvp(y, {x1: 1.0}):.3f}   dy/dx2 = {jvp(y, {x2: 1.0}):.3f}")
    y.backward()
    print(f"reverse mode:  x1.grad = {x1.grad:.3f}   x2.grad = {x2.grad:.3f}")
    g1, g2 = grad(y, [x1, x2], create_graph=True)
    print(f"gradient graph: dy/dx1 = {g1} = {g1.data:.3f}   dy/dx2 = {g2} = {g2.data:.3f}")
    error = max(abs(x1.grad - n1), abs(x2.grad - n2))
    print(f"max |reverse mode - central differences| = {error:.1e}")
    print()
    print(trace(y))


if __name__ == "__main__":
    main()
