"""The notes' two examples as printed traces: Z = XW, v = f(Z) (:func:`tensor_trace`), and a
dict (:func:`structure_trace`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..autodiff import grad
from ..core import Value
from .entries import array, data, entry_name, numpy_module


@dataclass
class TensorTrace:
    """:func:`tensor_trace`'s result: ``str()`` prints it; the parts are fields."""

    X: Any
    W: Any
    Z: Any
    v: Value
    trace: Any
    """scalargrad.trace(v): the forward (and adjoint) tables in scalar form."""
    Z_bar: Any
    X_bar: Any
    """grad(v, X): scalar reverse mode."""
    W_bar: Any
    X_lines: list[str] = field(default_factory=list)
    W_lines: list[str] = field(default_factory=list)
    matrix_lines: list[str] = field(default_factory=list)
    f_text: str = ""

    def __str__(self) -> str:
        t = self.trace
        out = [
            f"Z = XW, v = f(Z) = {self.f_text}   (X {_dims(self.X)}, W {_dims(self.W)})",
            "",
            "Forward evaluation trace, scalar form (Zᵢⱼ = Σₖ XᵢₖWₖⱼ):",
            *("  " + line for line in t.lines(t.forward)),
            "",
            "Adjoints of Z (Z̄ᵢⱼ = ∂v/∂Zᵢⱼ):",
            "  "
            + "   ".join(
                f"{entry_name('Z', i, self.Z.shape, bar=True)} = {_num(float(g))}"
                for i, g in _enumerate(self.Z_bar)
            ),
            "",
            "Reverse evaluation, scalar form: X̄ᵢₖ = Σⱼ Wₖⱼ Z̄ᵢⱼ",
            *("  " + line for line in self.X_lines),
            "and W̄ₖⱼ = Σᵢ Xᵢₖ Z̄ᵢⱼ",
            *("  " + line for line in self.W_lines),
            "",
            "Matrix form (NumPy, on the float values):",
            *("  " + line for line in self.matrix_lines),
        ]
        return "\n".join(out)


def _dims(a: Any) -> str:
    return "×".join(str(n) for n in a.shape)


def _num(x: float) -> str:
    from ..notation.names import format_number

    return format_number(x, 4).replace("-", "−")


def _factor(x: float) -> str:
    s = _num(x)
    return f"({s})" if s.startswith("−") else s


def _enumerate(a: Any) -> Iterable[tuple[tuple[int, ...], Any]]:
    np = numpy_module()
    return list(np.ndenumerate(a))


def _matrix(a: Any) -> str:
    rows = a.tolist() if a.ndim == 2 else [a.tolist()]
    return "[" + "; ".join(" ".join(_num(float(x)) for x in row) for row in rows) + "]"


def tensor_trace(
    X: Any = ((1.0, 2.0), (3.0, 4.0)),
    W: Any = ((1.0, 0.0, -1.0), (0.5, 1.0, 2.0)),
    f: Callable[[Any], Value] | None = None,
    f_text: str | None = None,
) -> TensorTrace:
    """The notes' tensor example: Z = XW, v = f(Z), in scalar and in matrix form.

    ``X`` (m×n) and ``W`` (n×p) are numbers; ``f`` maps the object array Z to one Value
    (default ``½ Σᵢⱼ Zᵢⱼ²``, so Z̄ = Z). The result prints the forward trace in scalar form
    (:func:`scalargrad.trace` of v), Z̄, one line X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ per entry of X with its
    numbers (and W̄ₖⱼ = Σᵢ XᵢₖZ̄ᵢⱼ), and the matrix forms X̄ = Z̄Wᵀ, W̄ = XᵀZ̄ computed by
    NumPy and compared with scalar reverse mode (``grad(v, X)``).

    >>> t = tensor_trace()
    >>> t.X_lines[0]
    'X̄₁₁ = W₁₁·Z̄₁₁ + W₁₂·Z̄₁₂ + W₁₃·Z̄₁₃ = 1·2 + 0·2 + (−1)·3 = −1'
    """
    np = numpy_module()
    from ..tables import trace

    Xa, Wa = array(X, "X"), array(W, "W")
    if Xa.ndim != 2 or Wa.ndim != 2 or Xa.shape[1] != Wa.shape[0]:
        raise ValueError(f"tensor_trace: X and W must be matrices m×n and n×p, got {Xa.shape} and {Wa.shape}")
    Z = Xa @ Wa
    if f is None:
        v = 0.5 * _sum_squares(Z)
        text = f_text or "½ Σᵢⱼ Zᵢⱼ²"
    else:
        v = f(Z)
        text = str(f_text or getattr(f, "__name__", "f(Z)"))
    Z_bar = grad(v, Z)
    X_bar, W_bar = grad(v, [Xa, Wa])
    x, w = data(Xa), data(Wa)
    m, n = x.shape
    p = w.shape[1]

    def line(head: str, terms: list[tuple[str, float, tuple[int, int]]], total: float) -> str:
        """``head = Σ factor·Z̄ᵢⱼ`` with its numbers: one (factor's name, its value, Z's index) a term."""
        names = " + ".join(f"{name}·{entry_name('Z', ij, Z.shape, True)}" for name, _, ij in terms)
        numbers = " + ".join(f"{_factor(value)}·{_factor(Z_bar[ij])}" for _, value, ij in terms)
        return f"{head} = {names} = {numbers} = {_num(total)}"

    X_lines = [  # X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ
        line(
            entry_name("X", (i, k), x.shape, True),
            [(entry_name("W", (k, j), w.shape), w[k, j], (i, j)) for j in range(p)],
            X_bar[i, k],
        )
        for i in range(m)
        for k in range(n)
    ]
    W_lines = [  # W̄ₖⱼ = Σᵢ XᵢₖZ̄ᵢⱼ
        line(
            entry_name("W", (k, j), w.shape, True),
            [(entry_name("X", (i, k), x.shape), x[i, k], (i, j)) for i in range(m)],
            W_bar[k, j],
        )
        for k in range(n)
        for j in range(p)
    ]
    X_matrix, W_matrix = Z_bar @ w.T, x.T @ Z_bar
    matrix_lines = [
        f"Z̄ = {_matrix(Z_bar)}",
        f"X̄ = Z̄Wᵀ = {_matrix(X_matrix)}   equals grad(v, X): {bool(np.allclose(X_matrix, X_bar))}",
        f"W̄ = XᵀZ̄ = {_matrix(W_matrix)}   equals grad(v, W): {bool(np.allclose(W_matrix, W_bar))}",
    ]
    return TensorTrace(Xa, Wa, Z, v, trace(v), Z_bar, X_bar, W_bar, X_lines, W_lines, matrix_lines, text)


def _sum_squares(Z: Any) -> Value:
    total: Any = None
    for z in Z.ravel().tolist():
        total = z * z if total is None else total + z * z
    return total  # type: ignore[no-any-return]


def structure_trace(cat: float = 1.5, dog: float = -0.5) -> str:
    """The notes' data-structure example: d = {"cat": a₀, "dog": a₁}, b = d["cat"], v = f(b).

    With f(b) = b², the adjoint of the dict is a dict shaped like it, d̄ = {"cat": b̄, "dog": 0},
    which is what ``grad(v, d)`` returns.

    >>> print(structure_trace().splitlines()[-1])
    grad(v, d) = {'cat': 3.0, 'dog': 0.0}
    """
    a0, a1 = Value(cat, label="a0"), Value(dog, label="a1")
    d = {"cat": a0, "dog": a1}
    b = d["cat"]
    v = b * b
    g = grad(v, d)
    b_bar = grad(v, b)
    lines = [
        "Forward evaluation trace:",
        f'  d = {{"cat": a₀, "dog": a₁}} = {{"cat": {_num(cat)}, "dog": {_num(dog)}}}',
        f'  b = d["cat"] = {_num(b.data)}',
        f"  v = f(b) = b·b = {_num(v.data)}",
        "Reverse evaluation (adjoints in the data type of the values):",
        "  v̄ = 1",
        f"  b̄ = ∂v/∂b·v̄ = 2b·v̄ = 2·{_factor(b.data)}·1 = {_num(b_bar)}",
        f'  d̄ = {{"cat": b̄, "dog": 0}} = {{"cat": {_num(g["cat"])}, "dog": {_num(g["dog"])}}}',
        f"grad(v, d) = {g}",
    ]
    return "\n".join(lines)
