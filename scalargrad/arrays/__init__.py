"""Reverse mode on tensors, in the notes' scalar form: NumPy object arrays of Values.

The lecture notes write Z = XW entry by entry, Zᵢⱼ = Σₖ XᵢₖWₖⱼ, and derive the matrix
rule X̄ = Z̄Wᵀ from the scalar one X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ. This module gives both sides:

* :func:`array` — a NumPy object array of leaf Values named as the notes name entries
  (``X₁₁ … X₂₂``). NumPy's own operators work on it entry by entry (``X @ W``,
  ``X.sum(axis=0)``, ``np.exp(X)``, broadcasting, ``.T``, ``.reshape``), so ``Z = X @ W``
  is a scalar graph, and ``grad(v, X)`` is a float array shaped like ``X`` (also inside
  dicts and lists: ``grad(v, {"X": X, "W": W})``). ``jvp(Z, dict(zip(X.flat, dX.flat)))``
  is forward mode along a tangent array ``dX``, a float array shaped like ``Z``.
* :func:`matmul` — ``X @ W`` with one ``dot`` node per entry (Zᵢⱼ = Σₖ XᵢₖWₖⱼ as one node
  with 2n parents): the fast way to multiply arrays of Values, and its adjoint lines read
  X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ.
* :func:`check_vjp` — checks a matrix-form gradient rule ``(out_grad, *inputs) -> grads``
  against exact scalar reverse mode on that graph, entry by entry; a wrong entry is a
  :class:`VJPMismatch` naming it and the partial adjoints it should sum
  (``X̄₁₂ should be Z̄₁₁·W₂₁ + Z̄₁₂·W₂₂``).
* :func:`tensor_trace` and :func:`structure_trace` — the notes' two examples (Z = XW,
  v = f(Z); and a dict ``d``, ``b = d["cat"]``, v = f(b)) as printed traces.
* :func:`unbroadcast` — sums a gradient over the axes NumPy broadcast (the rule of
  BroadcastTo, and of every op that broadcasts its operands).

NumPy is optional: ``import scalargrad`` does not import it, and this module imports it
only when one of its functions runs (install NumPy, e.g. ``pip install numpy``).

Labels. An entry of an array named ``X`` is labelled with its 1-based index after the
name: ``X12`` for X[0, 1], which prints as ``X₁₂`` (``x3`` for the third entry of a
vector). When some axis is longer than 9 (or the name ends in a digit) the digits would be
ambiguous (is ``X111`` X₁,₁₁ or X₁₁,₁?), so the indices are separated by commas:
``X1,12``, printed as ``X₁,₁₂`` (``W1_1,2`` for a name ``W1``, printed as ``W1₁,₂``;
``x1_2`` for a vector ``x1``, printed as ``x1₂``). Traces, diagrams and :func:`entry_name`
print them alike.

Size. Every entry is a Python object and every scalar op a graph node (about a microsecond
and 100 bytes each). NumPy's ``X @ W`` makes n products and n − 1 sums per entry: a 64×64 @
64×64 product is 5·10⁵ nodes, about a second to build and as long again to differentiate.
:func:`matmul` makes one ``dot`` node per entry instead (4096 nodes of 128 parents there): the
exact gradient of Σ tanh(XW) at that size takes about 0.1 s, within 3.5× of the same
gradient written by hand as Python loops over floats. :func:`check_vjp` of a 32×32 @ 32×32
product takes 0.2 s a trial (see ``benchmarks/bench_arrays.py``). :data:`MAX_ENTRIES` (10⁶)
bounds the arrays :func:`array` makes, the values :func:`check_vjp` builds and the products
:func:`matmul` sums; beyond it, building alone would take minutes and gigabytes, and a
ValueError says so.
"""

from __future__ import annotations

import sys
import types

from . import entries
from .checking import VJPMismatch, check_vjp
from .entries import MAX_ENTRIES, array, data, entry_label, entry_name, matmul, unbroadcast
from .traces import TensorTrace, structure_trace, tensor_trace

__all__ = [
    "MAX_ENTRIES",
    "TensorTrace",
    "VJPMismatch",
    "array",
    "check_vjp",
    "data",
    "entry_label",
    "entry_name",
    "matmul",
    "structure_trace",
    "tensor_trace",
    "unbroadcast",
]

for _name in __all__:  # documented, printed and pickled as scalargrad.arrays.<name>
    _public = globals()[_name]
    if hasattr(_public, "__module__"):
        _public.__module__ = __name__
del _name, _public


class _Package(types.ModuleType):
    """``scalargrad.arrays`` itself: setting ``arrays.MAX_ENTRIES`` sets the limit the checks read.

    The limit lives in :mod:`scalargrad.arrays.entries`, beside the check; a plain
    re-export would be a copy, so setting it here sets both.
    """

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "MAX_ENTRIES":
            entries.MAX_ENTRIES = value  # type: ignore[assignment]


sys.modules[__name__].__class__ = _Package
