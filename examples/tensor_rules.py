"""The homework's tensor ops, each with its matrix-form gradient rule, checked entry by entry.

Each op is written once on NumPy arrays (so it runs on float arrays *and* on object arrays
of Values), with the notes' rule ``(out_grad, *inputs) -> input gradients``.
``scalargrad.check_vjp`` builds the op on arrays of Values, runs exact scalar reverse mode
seeded with a random out_grad and compares every entry with the rule, at several shapes
(broadcasting and ``axes=`` cases included). Then a deliberately wrong variant of some rules
(BroadcastTo without the sum, Transpose without argsort, …) shows what a mismatch says.

Run: python examples/tensor_rules.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalargrad import Value, check_vjp
from scalargrad.arrays import VJPMismatch, unbroadcast

Case = tuple[tuple[Any, ...], dict[str, Any]]
"""(the inputs' shapes, the op's keyword parameters)."""


@dataclass
class TensorOp:
    """One homework op: forward on NumPy arrays, its matrix-form rule, the cases to check."""

    name: str
    forward: Callable[..., Any]
    rule: Callable[..., Any]
    cases: list[Case]
    domain: Any = (-2.0, 2.0)
    names: tuple[str, ...] | None = None
    note: str = ""
    wrong: dict[str, Callable[..., Any]] = field(default_factory=dict)
    """Deliberately wrong variants of ``rule``, by what they get wrong."""


def _t(a: Any) -> Any:
    """Swap the last two axes (the transpose of a matrix, or of each matrix of a batch)."""
    return np.swapaxes(a, -1, -2)


# --------------------------------------------------------------------------- #
# forward ops (NumPy only, so they run on floats and on Values alike)           #
# --------------------------------------------------------------------------- #


def ewise_mul(a: Any, b: Any) -> Any:
    return a * b


def power_scalar(a: Any, s: Any) -> Any:
    return a**s


def ewise_div(a: Any, b: Any) -> Any:
    return a / b


def div_scalar(a: Any, *, scalar: float) -> Any:
    return a / scalar


def transpose(a: Any, *, axes: tuple[int, ...]) -> Any:
    return a.transpose(axes)


def reshape(a: Any, *, shape: tuple[int, ...]) -> Any:
    return a.reshape(shape)


def broadcast_to(a: Any, *, shape: tuple[int, ...]) -> Any:
    return np.broadcast_to(a, shape)


def summation(a: Any, *, axes: Any = None) -> Any:
    return a.sum(axis=axes)


def matmul(a: Any, b: Any) -> Any:
    return a @ b


def negate(a: Any) -> Any:
    return -a


def log(a: Any) -> Any:
    return np.log(a)


def exp(a: Any) -> Any:
    return np.exp(a)


def relu(a: Any) -> Any:
    # Value.relu entry by entry on Values: np.maximum(a, 0) keeps the Value on a tie (a = 0),
    # so the exact reference would have relu′(0) = 1, not the convention relu′(0) = 0
    # (Value.relu's, PyTorch's) that the rule ȳ·(a > 0) follows.
    if np.asarray(a).dtype != object:
        return np.maximum(a, 0.0)
    return _relu_entries(a)


_relu_entries = np.vectorize(
    lambda v: v.relu() if isinstance(v, Value) else max(float(v), 0.0), otypes=[object]
)


def log_softmax(a: Any, *, axis: int = -1) -> Any:
    # The max trick, log(C eˣ / C Σ eˣ) with ln C = −max x. The shift m is taken as a
    # constant: the result does not depend on it (∂/∂m = −1 + Σ sᵢ = 0), and the exact
    # scalar graph then has one partial adjoint less per entry to print.
    z = a - _numbers(a.max(axis=axis, keepdims=True))
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _numbers(a: Any) -> Any:
    """The float values of an array (of floats, or of Values: their ``data``)."""
    return np.vectorize(float, otypes=[float])(a)


def _softmax(a: Any, axis: int) -> Any:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _keep(g: Any, axes: Any, ndim: int) -> Any:
    """out_grad with the summed axes put back as length 1 (what keepdims=True would give)."""
    if axes is None:
        return np.reshape(g, (1,) * ndim)
    axes = (axes,) if isinstance(axes, int) else axes
    return np.expand_dims(g, tuple(a % ndim for a in axes))


# --------------------------------------------------------------------------- #
# the ops with their rules                                                     #
# --------------------------------------------------------------------------- #

OPS: list[TensorOp] = [
    TensorOp(
        "EWiseMul",
        ewise_mul,
        lambda g, a, b: (unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)),
        [(((2, 3), (2, 3)), {}), (((3, 1), (1, 4)), {}), (((2, 3, 4), (4,)), {})],
        note="V̄₂ = V̄₄·V₃, V̄₃ = V̄₄·V₂ (summed over broadcast axes)",
        wrong={"no sum over broadcast axes": lambda g, a, b: (g * b, g * a)},
    ),
    TensorOp(
        "PowerScalar",
        power_scalar,
        lambda g, a, s: (g * s * a ** (s - 1), np.sum(g * a**s * np.log(a))),
        [(((2, 3), ()), {}), (((4,), ()), {})],
        domain=[(0.5, 2.0), (-2.0, 3.0)],
        names=("a", "s"),
        note="ā = ȳ·s·aˢ⁻¹, s̄ = Σ ȳ·aˢ·ln a",
        wrong={"∂/∂s without ln a": lambda g, a, s: (g * s * a ** (s - 1), np.sum(g * a**s))},
    ),
    TensorOp(
        "EWiseDiv",
        ewise_div,
        lambda g, a, b: (unbroadcast(g / b, a.shape), unbroadcast(-g * a / b**2, b.shape)),
        [(((2, 3), (2, 3)), {}), (((2, 3), (3,)), {})],
        domain=[(-2.0, 2.0), (0.5, 2.0)],
        note="ū = ȳ/v, v̄ = −ȳ·u/v²",
        wrong={"∂/∂v with the wrong sign": lambda g, a, b: (g / b, unbroadcast(g * a / b**2, b.shape))},
    ),
    TensorOp(
        "DivScalar",
        div_scalar,
        lambda g, a, *, scalar: g / scalar,
        [(((2, 3),), {"scalar": 2.5}), (((4,),), {"scalar": -0.5})],
        note="ā = ȳ/s",
    ),
    TensorOp(
        "Transpose",
        transpose,
        lambda g, a, *, axes: g.transpose(np.argsort(axes)),
        [
            (((2, 3),), {"axes": (1, 0)}),
            (((2, 3, 4),), {"axes": (1, 2, 0)}),
            (((2, 2, 2),), {"axes": (2, 0, 1)}),
        ],
        note="ā = ȳ.transpose(argsort(axes))",
        wrong={"without argsort": lambda g, a, *, axes: g.transpose(axes)},
    ),
    TensorOp(
        "Reshape",
        reshape,
        lambda g, a, *, shape: g.reshape(a.shape),
        [(((2, 3),), {"shape": (3, 2)}), (((2, 3, 4),), {"shape": (4, 6)}), (((6,),), {"shape": (2, 1, 3)})],
        note="ā = ȳ.reshape(a.shape)",
    ),
    TensorOp(
        "BroadcastTo",
        broadcast_to,
        lambda g, a, *, shape: unbroadcast(g, a.shape),
        [(((3,),), {"shape": (2, 3)}), (((3, 1),), {"shape": (3, 4)}), (((1, 3, 1),), {"shape": (2, 3, 4)})],
        note="ā = the sum of ȳ over the broadcast axes",
        wrong={"without the sum": lambda g, a, *, shape: g},
    ),
    TensorOp(
        "Summation",
        summation,
        lambda g, a, *, axes=None: np.broadcast_to(_keep(g, axes, a.ndim), a.shape),
        [
            (((2, 3),), {"axes": None}),
            (((2, 3),), {"axes": 1}),
            (((2, 3, 4),), {"axes": (0, 2)}),
            (((4, 4),), {"axes": 1}),
        ],
        note="ā = ȳ broadcast back (with the summed axes kept)",
        wrong={"keepdims forgotten": lambda g, a, *, axes=None: np.broadcast_to(g, a.shape)},
    ),
    TensorOp(
        "MatMul",
        matmul,
        lambda g, a, b: (unbroadcast(g @ _t(b), a.shape), unbroadcast(_t(a) @ g, b.shape)),
        [(((2, 2), (2, 2)), {}), (((2, 3), (3, 4)), {}), (((2, 2, 3), (3, 2)), {})],
        names=("X", "W"),
        note="X̄ = Z̄Wᵀ, W̄ = XᵀZ̄ (summed over a broadcast batch)",
        wrong={"the wrong side transposed": lambda g, a, b: (_t(b) @ g, g @ _t(a))},
    ),
    TensorOp("Negate", negate, lambda g, a: -g, [(((2, 3),), {})], note="ā = −ȳ"),
    TensorOp(
        "Log",
        log,
        lambda g, a: g / a,
        [(((2, 3),), {})],
        domain=(0.5, 3.0),
        note="ā = ȳ/a",
        wrong={"ȳ·a for ȳ/a": lambda g, a: g * a},
    ),
    TensorOp("Exp", exp, lambda g, a: g * np.exp(a), [(((2, 3),), {})], note="ā = ȳ·eᵃ"),
    TensorOp(
        "ReLU",
        relu,
        lambda g, a: g * (a > 0),
        [(((3, 4),), {})],
        note="ā = ȳ where a > 0, else 0 (relu′(0) = 0)",
        wrong={"the gradient passed everywhere": lambda g, a: g},
    ),
    TensorOp(
        "LogSoftmax",
        log_softmax,
        lambda g, a, *, axis=-1: g - _softmax(a, axis) * g.sum(axis=axis, keepdims=True),
        [(((2, 4),), {}), (((3, 2),), {"axis": 0}), (((2, 3, 4),), {"axis": 1})],
        note="ā = ȳ − s·Σȳ  (∂sᵢ/∂xᵢ = sᵢ − sᵢ², ∂sᵢ/∂xⱼ = −sᵢsⱼ)",
        wrong={"without the softmax term": lambda g, a, *, axis=-1: g},
    ),
]


def check(op: TensorOp, rule: Callable[..., Any] | None = None, trials: int = 2, seed: int = 0) -> None:
    """check_vjp for every case of ``op`` (with ``rule`` instead of its own, if given)."""
    for shapes, params in op.cases:
        check_vjp(
            op.forward,
            rule or op.rule,
            *shapes,
            params=params,
            names=op.names,
            op=op.name,
            trials=trials,
            seed=seed,
            domain=op.domain,
        )


def first_mismatch(op: TensorOp, wrong: str, seed: int = 0) -> VJPMismatch | None:
    """The mismatch check_vjp finds in ``op``'s wrong variant ``wrong`` (None if none)."""
    try:
        check(op, op.wrong[wrong], seed=seed)
    except VJPMismatch as e:
        return e
    return None


def main() -> None:
    print("The homework's ops, each rule checked against exact scalar reverse mode:")
    for op in OPS:
        check(op)
        cases = [
            " and ".join(str(s) for s in shapes) + (f" {params}" if params else "")
            for shapes, params in op.cases
        ]
        shapes = "; ".join(cases)
        print(f"  {op.name:<12} ok   {op.note}   [{shapes}]")
    print()
    print("Deliberately wrong rules, and what check_vjp says:")
    for op in OPS:
        for wrong in op.wrong:
            found = first_mismatch(op, wrong)
            print()
            print(f"{op.name}, {wrong}:")
            print(f"  {found}" if found is not None else "  NOT CAUGHT")


if __name__ == "__main__":
    main()
