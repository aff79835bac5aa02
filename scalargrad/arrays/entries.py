"""Arrays of Values: making them (:func:`array`, named in the notes' way), reading them
(:func:`data`), multiplying them (:func:`matmul`, one ``dot`` node per entry) and
:func:`unbroadcast`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..core import Value, constant, leaf, real_float
from ..notation.names import text_name
from ..ops import dot_of_values

MAX_ENTRIES = 1_000_000
"""The most entries :func:`array` makes (and :func:`check_vjp` builds in one graph):
about a second per 10⁶ Values at best, and a product's graph grows as n³."""

BAR = "\u0304"


def numpy_module() -> Any:
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - NumPy is installed wherever tests run
        raise ImportError("scalargrad's arrays need NumPy: pip install numpy") from e
    return numpy


# --------------------------------------------------------------------------- #
# names                                                                        #
# --------------------------------------------------------------------------- #


def _compact(name: str, shape: tuple[int, ...]) -> bool:
    """Whether entries of ``name`` (of ``shape``) are labelled by bare digits (``X12``)."""
    if len(shape) <= 1:
        return True
    return not name[-1:].isdigit() and all(n <= 9 for n in shape)


def entry_label(name: str, index: Sequence[int], shape: Sequence[int]) -> str:
    """The label of ``name[index]`` in an array of ``shape``: 1-based indices after the name.

    >>> entry_label("X", (0, 1), (2, 2)), entry_label("x", (11,), (12,)), entry_label("X", (0, 11), (2, 12))
    ('X12', 'x12', 'X1,12')
    """
    shape = tuple(shape)
    digits = [str(i + 1) for i in index]
    if not digits:
        return name
    if _compact(name, shape):
        if len(shape) == 1 and name[-1:].isdigit():
            return f"{name}_{digits[0]}"
        return name + "".join(digits)
    return f"{name}{'_' if name[-1:].isdigit() else ''}{','.join(digits)}"


def entry_name(name: str, index: Sequence[int], shape: Sequence[int], bar: bool = False) -> str:
    """How ``name[index]`` prints: its label as traces and diagrams print it
    (:func:`scalargrad.notation.names.text_name` of :func:`entry_label`), with ``bar`` its adjoint's.

    >>> entry_name("X", (0, 1), (2, 2)), entry_name("X", (0, 11), (2, 12)), entry_name("W1", (0, 1), (2, 2))
    ('X₁₂', 'X₁,₁₂', 'W1₁,₂')
    >>> entry_name("X", (0, 1), (2, 2), bar=True), entry_name("W1", (0, 1), (2, 2), bar=True)
    ('X̄₁₂', 'W̄1₁,₂')
    """
    label = entry_label(name, index, shape)
    if bar:
        label = label[:1] + BAR + label[1:]
    return text_name(label)


# --------------------------------------------------------------------------- #
# arrays of Values                                                             #
# --------------------------------------------------------------------------- #


def check_size(size: int, who: str, what: str = "entries") -> None:
    """A ValueError naming ``who`` if ``size`` (of ``what``) is more than :data:`MAX_ENTRIES`."""
    if size > MAX_ENTRIES:
        raise ValueError(
            f"{who}: {size:,} {what} is more than scalargrad.arrays.MAX_ENTRIES = {MAX_ENTRIES:,}: "
            "an object array of Values that large takes minutes and gigabytes to build; "
            "use NumPy floats (or a tensor library) at that size"
        )


def array(values: Any, name: str | None = None) -> Any:
    """A NumPy object array of leaf Values, labelled in the notes' way when ``name`` is given.

    >>> from scalargrad import grad
    >>> X = array([[1, 2], [3, 4]], name="X")
    >>> X[0, 1]
    Value(data=2.0, grad=0.0, label='X12')
    >>> W = array([[1, 0, -1], [2, 1, 0]], name="W")
    >>> Z = X @ W
    >>> str(Z[0, 0])
    'X11*W11 + X12*W21'
    >>> grad(Z.sum(), X)
    array([[0., 3.],
           [0., 3.]])

    ``values`` is anything ``numpy.asarray`` makes an array of numbers of (nested lists,
    arrays, a number for a 0-d array). Labels are :func:`entry_label`'s. More than
    :data:`MAX_ENTRIES` entries is a ValueError.
    """
    np = numpy_module()
    floats = np.asarray(values, dtype=float)
    check_size(floats.size, "scalargrad.array")
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"scalargrad.array: name must be a non-empty str, got {name!r}")
    shape = floats.shape
    if name is None:
        out = np.empty(floats.size, dtype=object)
        out[:] = [leaf(x) for x in floats.ravel().tolist()]
        return out.reshape(shape)
    out = np.empty(shape, dtype=object)
    for index, x in np.ndenumerate(floats):
        out[index] = Value(float(x), label=entry_label(name, index, shape))
    return out


def data(values: Any) -> Any:
    """The float array of an array of Values (numbers stay numbers): the forward values."""
    np = numpy_module()
    entries = np.asarray(values, dtype=object)
    return np.array([v.data if isinstance(v, Value) else float(v) for v in entries.ravel().tolist()]).reshape(
        entries.shape
    )


def unbroadcast(grad_array: Any, shape: Sequence[int]) -> Any:
    """Sum ``grad_array`` over the axes NumPy broadcast an operand of ``shape`` along.

    The BroadcastTo rule (the notes' "sum of N gradients"), and the last step of every
    rule whose op broadcasts its operands:

    >>> import numpy as np
    >>> unbroadcast(np.ones((3, 2, 4)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    np = numpy_module()
    g = np.asarray(grad_array)
    shape = tuple(shape)
    extra = g.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"unbroadcast: a gradient of shape {g.shape} cannot come from shape {shape}")
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


# --------------------------------------------------------------------------- #
# matrix products, one dot node per entry                                      #
# --------------------------------------------------------------------------- #


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with one :func:`~scalargrad.ops.dot` node per entry: Zᵢⱼ = Σₖ XᵢₖWₖⱼ as one node.

    >>> X = array([[1, 2], [3, 4]], name="X")
    >>> W = array([[1, 0, -1], [2, 1, 0]], name="W")
    >>> Z = matmul(X, W)
    >>> str(Z[0, 0]), Z[0, 0].parents[:2]
    ('X11*W11 + X12*W21', (Value(data=1.0, grad=0.0, label='X11'), Value(data=2.0, grad=0.0, label='X12')))

    NumPy's ``X @ W`` on object arrays builds the same numbers from n products and n − 1
    sums per entry (2n − 1 nodes, each a Python call): use it to show each product in
    a trace. ``matmul`` makes one node with 2n parents per entry, whose value sums the
    rounded products exactly (``math.fsum``): about ten times faster to build and to
    differentiate, and its adjoint lines read as the notes' X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ. Shapes
    follow ``numpy.matmul``: vectors (1-D) and stacks of matrices (batch axes
    broadcast). Plain numbers among the entries are constant leaves; with no Value at
    all the result is NumPy's float product, and an inner length of 0 gives zeros
    (numbers: there is nothing to differentiate).
    """
    np = numpy_module()
    x, w = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if x.ndim == 0 or w.ndim == 0:
        raise ValueError("scalargrad.matmul: operands must have at least one axis; use * for a scalar")
    if not any(isinstance(v, Value) for v in (*x.flat, *w.flat)):
        as_floats = np.vectorize(_entry_float, otypes=[float])
        return np.matmul(as_floats(x), as_floats(w))
    x2 = x[None, :] if x.ndim == 1 else x
    w2 = w[:, None] if w.ndim == 1 else w
    m, n = x2.shape[-2:]
    p = w2.shape[-1]
    if w2.shape[-2] != n:
        raise ValueError(
            f"scalargrad.matmul: shapes {x.shape} and {w.shape} do not match: "
            f"{_count(n, 'column')} on the left, {_count(w2.shape[-2], 'row')} on the right"
        )
    batch = np.broadcast_shapes(x2.shape[:-2], w2.shape[:-2])
    check_size(math.prod(batch) * m * p * max(n, 1), "scalargrad.matmul", "products (entries × inner length)")
    x2, w2 = _as_values(np.broadcast_to(x2, (*batch, m, n))), _as_values(np.broadcast_to(w2, (*batch, n, p)))
    out = np.empty((*batch, m, p), dtype=object)
    for index in np.ndindex(*batch):
        out[index] = _matrix_product(x2[index], w2[index])
    if x.ndim == 1:
        out = out[..., 0, :]
    if w.ndim == 1:
        out = out[..., 0]
    return out[()] if out.ndim == 0 else out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _as_values(entries: Any) -> Any:
    """The array with each plain number replaced by a constant leaf (one per entry)."""
    np = numpy_module()
    out = np.empty(entries.shape, dtype=object)
    for index, v in np.ndenumerate(entries):
        out[index] = v if isinstance(v, Value) else constant(_entry_float(v))
    return out


def _entry_float(v: Any) -> float:
    number = real_float(v)
    if number is None:
        raise TypeError(
            f"scalargrad.matmul: entries must be Values or real numbers, got {type(v).__name__}: {v!r}"
        )
    return number


def _matrix_product(x: Any, w: Any) -> Any:
    """The m×p object array of dot nodes of one m×n and one n×p matrix of Values."""
    np = numpy_module()
    rows = [tuple(row) for row in x.tolist()]
    columns = [tuple(column) for column in w.T.tolist()]
    if not rows or not columns or not rows[0]:
        return np.zeros((len(rows), len(columns)))
    row_data = [tuple([v.data for v in row]) for row in rows]
    column_data = [tuple([v.data for v in column]) for column in columns]
    out = np.empty((len(rows), len(columns)), dtype=object)
    out[...] = [
        [dot_of_values(row, column, xd, yd) for column, yd in zip(columns, column_data)]
        for row, xd in zip(rows, row_data)
    ]
    return out
