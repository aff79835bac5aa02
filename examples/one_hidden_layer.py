"""The notes' one-hidden-layer network L = ½‖y − W2 φ(W1 x)‖², backward checked by hand.

Forward pass (the notes' four operators):
    x2 = W1 x,   x3 = φ(x2),   x4 = W2 x3,   L = ½‖y − x4‖²          (φ = tanh here)
Backward pass, the notes' hand-derived formulas:
    u4 = ∂L/∂x4 = −(y − x4)
    ∂L/∂W2 = u4 x3ᵀ,   u3 = W2ᵀ u4
    u2 = u3 ⊙ φ'(x2) = u3 ⊙ (1 − x3²)
    ∂L/∂W1 = u2 x1ᵀ,   u1 = ∂L/∂x = W1ᵀ u2
scalargrad's reverse mode gets all of them from one walk over the scalar graph, shaped like
the inputs ({"W1": [[...]], "W2": [[...]], "x": [...]}); then a few SGD steps lower L.

Run: python examples/one_hidden_layer.py
"""

import random

from scalargrad import Value, grad, tree_flatten
from scalargrad.nn import SGD

N_IN, N_HIDDEN, N_OUT = 3, 4, 2


def matvec(w: list[list[Value]], v: list) -> list:
    """W v with one running sum per row."""
    out = []
    for row in w:
        total = row[0] * v[0]
        for wij, vj in zip(row[1:], v[1:]):
            total = total + wij * vj
        out.append(total)
    return out


def loss(w1: list[list[Value]], w2: list[list[Value]], x: list, y: list[float]) -> tuple[Value, dict]:
    x2 = matvec(w1, x)
    x3 = [z.tanh() for z in x2]
    x4 = matvec(w2, x3)
    total = None
    for yi, oi in zip(y, x4):
        d = yi - oi
        total = d * d if total is None else total + d * d
    return 0.5 * total, {"x2": x2, "x3": x3, "x4": x4}


def hand_backward(w1: list[list[float]], w2: list[list[float]], x: list[float], y: list[float],
                  x3: list[float], x4: list[float]) -> dict:
    """The notes' formulas on plain floats."""
    u4 = [-(yi - oi) for yi, oi in zip(y, x4)]
    g_w2 = [[u4[i] * x3[j] for j in range(N_HIDDEN)] for i in range(N_OUT)]
    u3 = [sum(w2[i][j] * u4[i] for i in range(N_OUT)) for j in range(N_HIDDEN)]
    u2 = [u3[j] * (1.0 - x3[j] ** 2) for j in range(N_HIDDEN)]
    g_w1 = [[u2[i] * x[j] for j in range(N_IN)] for i in range(N_HIDDEN)]
    u1 = [sum(w1[i][j] * u2[i] for i in range(N_HIDDEN)) for j in range(N_IN)]
    return {"W1": g_w1, "W2": g_w2, "x": u1}


def fmt(rows: list) -> str:
    return "\n".join("    [" + ", ".join(f"{v:+.6f}" for v in row) + "]" for row in rows)


def main() -> None:
    rng = random.Random(0)
    w1 = [[Value(rng.gauss(0, 0.7), label=f"W1[{i}][{j}]") for j in range(N_IN)] for i in range(N_HIDDEN)]
    w2 = [[Value(rng.gauss(0, 0.7), label=f"W2[{i}][{j}]") for j in range(N_HIDDEN)] for i in range(N_OUT)]
    x = [Value(v, label=f"x[{j}]") for j, v in enumerate((0.5, -1.0, 2.0))]
    y = [1.0, -0.5]

    L, acts = loss(w1, w2, x, y)
    print(f"L = ½‖y − W2 tanh(W1 x)‖² = {L.data:.6f}   ({len(tree_flatten([w1, w2])[0])} weights)")
    grads = grad(L, {"W1": w1, "W2": w2, "x": x})
    data = lambda t: [[v.data for v in row] for row in t]
    hand = hand_backward(data(w1), data(w2), [v.data for v in x], y,
                         [v.data for v in acts["x3"]], [v.data for v in acts["x4"]])

    worst = 0.0
    for name in ("W2", "W1", "x"):
        auto = grads[name] if name != "x" else [grads["x"]]
        ref = hand[name] if name != "x" else [hand["x"]]
        diff = max(abs(a - b) for ra, rb in zip(auto, ref) for a, b in zip(ra, rb))
        worst = max(worst, diff)
        print(f"\n∂L/∂{name} (autodiff)  — max |autodiff − hand formula| = {diff:.1e}")
        print(fmt(auto))
    print(f"\nbackward matches the notes' formulas: {'yes' if worst < 1e-12 else 'NO'}")
    if worst >= 1e-12:
        raise SystemExit(1)

    print("\nSGD on W1, W2 (lr = 0.1):")
    params, _ = tree_flatten([w1, w2])
    opt = SGD(params, lr=0.1)
    for step in range(31):
        L, _ = loss(w1, w2, x, y)
        if step % 10 == 0:
            print(f"  step {step:2d}: L = {L.data:.6f}")
        opt.step(grad(L, params))


if __name__ == "__main__":
    main()
