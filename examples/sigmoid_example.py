"""The notes' sigmoid example: y = σ(a·x + b) at x = 2, a = 3, b = 1, differentiated three ways.

1. symbolic: the hand-derived formulas dy/dx = a·e/(1 + e)², dy/da = x·e/(1 + e)², dy/db = e/(1 + e)²
   with e = exp(-(a·x + b)), evaluated at the point;
2. numerical: central differences (y(θ + ε) − y(θ − ε)) / 2ε with ε = 1e-5;
3. automatic: reverse mode over the Value graph (``backward``), plus the gradient graph
   printed as formulas (``grad(..., create_graph=True)``).

The notes' numbers: y ≈ 0.99909, dy/dx ≈ 0.00273, dy/da ≈ 0.00182, dy/db ≈ 0.00091.

Run: python examples/sigmoid_example.py
"""

import math

from scalargrad import Value, grad

X, A, B = 2.0, 3.0, 1.0
EPS = 1e-5


def y_float(x: float, a: float, b: float) -> float:
    """The function on plain floats, for the symbolic and numerical methods."""
    return 1.0 / (1.0 + math.exp(-(a * x + b)))


def symbolic(x: float, a: float, b: float) -> list[float]:
    e = math.exp(-(a * x + b))
    common = e / (1.0 + e) ** 2
    return [a * common, x * common, common]


def central_differences(x: float, a: float, b: float, eps: float = EPS) -> list[float]:
    return [
        (y_float(x + eps, a, b) - y_float(x - eps, a, b)) / (2 * eps),
        (y_float(x, a + eps, b) - y_float(x, a - eps, b)) / (2 * eps),
        (y_float(x, a, b + eps) - y_float(x, a, b - eps)) / (2 * eps),
    ]


def main() -> None:
    x, a, b = Value(X, label="x"), Value(A, label="a"), Value(B, label="b")
    y = (a * x + b).sigmoid()
    y.backward()
    autodiff = [x.grad, a.grad, b.grad]
    rows = {
        "symbolic": symbolic(X, A, B),
        "central differences (eps=1e-5)": central_differences(X, A, B),
        "autodiff (reverse mode)": autodiff,
    }

    print(f"y = sigmoid(a*x + b) at x = {X:g}, a = {A:g}, b = {B:g}")
    print(f"y = {y.data:.5f}")
    print()
    print(f"{'method':<32}{'dy/dx':>10}{'dy/da':>10}{'dy/db':>10}")
    for name, (gx, ga, gb) in rows.items():
        print(f"{name:<32}{gx:>10.5f}{ga:>10.5f}{gb:>10.5f}")
    worst = max(abs(u - v) for u, v in zip(rows["central differences (eps=1e-5)"], autodiff))
    exact = max(abs(u - v) for u, v in zip(rows["symbolic"], autodiff))
    print()
    print(f"max |autodiff - central differences| = {worst:.1e}")
    print(f"max |autodiff - symbolic|            = {exact:.1e}")
    print()
    print("the gradient as a graph (reverse mode by extending the graph):")
    for name, g in zip("xab", grad(y, [x, a, b], create_graph=True)):
        print(f"  dy/d{name} = {g}")


if __name__ == "__main__":
    main()
