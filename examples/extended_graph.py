"""Reverse mode by extending the computational graph: the notes' (exp(v1) + 1)·exp(v1).

Forward graph (the notes' numbering):  v2 = exp(v1),  v3 = v2 + 1,  v4 = v3·v2.
``grad(v4, v1, create_graph=True)`` does not return a number but new graph nodes that
compute the adjoints: v̄4 = 1, v̄3 = v̄4·v2, v̄2 = v̄3 + v̄4·v3 (two paths), v̄1 = v̄2·v2.
That gradient graph prints as a formula and, being an ordinary graph, can be
differentiated again. Closed forms: y' = 2e^{2x} + e^x and y'' = 4e^{2x} + e^x.

Run: python examples/extended_graph.py
"""

import math

from scalargrad import Value, grad
from scalargrad.graph import count_ops, formula, topological_order

X = 1.0


def main() -> None:
    v1 = Value(X, label="v1")
    v2 = v1.exp()
    v3 = v2 + 1
    v4 = v3 * v2
    names = {v2: "v2", v3: "v3"}
    print("forward graph:  v2 = exp(v1),  v3 = v2 + 1,  v4 = v3*v2")
    print(f"y = v4 = {v4}  at v1 = {X:g}:  y = {v4.data:.6f}")
    print(f"forward graph ops: {count_ops(v4)}")
    print()

    dy = grad(v4, v1, create_graph=True)
    print("first derivative, as a new graph (adjoint nodes extend the forward graph):")
    print(f"  {dy.label} = {formula(dy, names)}")
    print(f"  {' ' * len(str(dy.label))} = {dy}")
    forward = set(topological_order(v4))
    new = [v for v in topological_order(dy) if v not in forward and not v.is_leaf]
    reused = [names[v] for v in topological_order(dy) if v in names]
    print(f"  new nodes: {[v.op.name for v in new]}; reused from the forward graph: {reused}")
    closed1 = 2 * math.exp(2 * X) + math.exp(X)
    print(f"  value {dy.data:.12f}   closed form 2e^(2x) + e^x = {closed1:.12f}")
    print()

    d2 = grad(dy, v1)
    closed2 = 4 * math.exp(2 * X) + math.exp(X)
    print("second derivative, by differentiating the gradient graph:")
    print(f"  value {d2:.12f}   closed form 4e^(2x) + e^x = {closed2:.12f}")
    d2_graph = grad(dy, v1, create_graph=True)
    print(f"  as a graph: {d2_graph}")
    ok = abs(dy.data - closed1) < 1e-12 * closed1 and abs(d2 - closed2) < 1e-12 * closed2
    print()
    print("matches the closed forms:", "yes" if ok else "NO")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
