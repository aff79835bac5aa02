"""The walks every differentiation method shares: reverse (:func:`accumulate_adjoints`) and
forward (:func:`accumulate_tangents`), the notes' numbering of nodes, and op counts.

:meth:`Value.backward`, :func:`scalargrad.grad`, the trace tables and the walks of
:mod:`scalargrad.autodiff` all run these, so their numbers agree to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .op import CONST
from .value import Value, topological_order


class Partial(NamedTuple):
    """One partial adjoint v̄k→i = v̄i · ∂vi/∂vk, as the reverse walk appends it to v_k's list.

    ``child`` is v_i (None for an output's seed), ``position`` the index of v_k
    among v_i's parents, ``value`` the number (with ``create_graph``: a node, or
    a number where it folded to one).
    """

    child: Value | None
    position: int
    value: Any


def accumulate_adjoints(
    order: list[Value],
    seeds: Iterable[tuple[Value, float]],
    node_to_grad: dict[Value, list[Partial]] | None = None,
) -> dict[Value, float]:
    """The one reverse walk: every node's adjoint, summing partial adjoints as they arrive.

    ``order`` is a topological order (:func:`topological_order`) and ``seeds``
    gives the outputs' adjoints. Nodes are visited in reverse order; each passes
    v̄i · ∂vi/∂vk to its parents, added to their running sums in arrival order.
    With ``node_to_grad`` (the notes' name) each partial adjoint is also appended
    to its node's list. ``backward``, ``grad``, ``adjoints`` and the trace tables
    all use this walk, so their numbers agree to the last bit.
    """
    adj: dict[Value, float] = {}
    get = adj.get
    record = node_to_grad is not None
    for out, s in seeds:
        adj[out] = get(out, 0.0) + s
        if record:
            node_to_grad.setdefault(out, []).append(Partial(None, 0, s))  # type: ignore[union-attr]
    for v in reversed(order):
        a = v._a
        if a is None:
            continue
        g = get(v)
        if g is None:
            continue
        partial = g * v._da
        adj[a] = get(a, 0.0) + partial
        if record:
            node_to_grad.setdefault(a, []).append(Partial(v, 0, partial))  # type: ignore[union-attr]
        b = v._b
        if b is not None:
            partial = g * v._db
            adj[b] = get(b, 0.0) + partial
            if record:
                node_to_grad.setdefault(b, []).append(Partial(v, 1, partial))  # type: ignore[union-attr]
    return adj


def accumulate_tangents(order: list[Value], seed: Mapping[Value, float]) -> dict[Value, float]:
    """The one forward-mode walk: v̇i = Σk ∂vi/∂vk · v̇k in topological ``order``.

    ``seed`` gives the inputs' tangents. Zero tangents are structural: nodes whose
    tangent is zero are absent, and a zero tangent contributes nothing even where
    the local derivative is infinite (``sqrt`` at 0).
    """
    tangent = {v: float(t) for v, t in seed.items() if t}
    get = tangent.get
    for v in order:
        a = v._a
        if a is None or v in tangent:
            continue
        ta = get(a)
        b = v._b
        tb = None if b is None else get(b)
        if ta is None and tb is None:
            continue
        t = 0.0 if ta is None else ta * v._da
        if tb is not None:
            t += tb * v._db
        if t:
            tangent[v] = t
    return tangent


def evaluation_order(outputs: Value | Iterable[Value]) -> list[Value]:
    """The nodes as the notes number them v1…vn: inputs first, then by depth.

    Depth is the longest path from an input; ties keep topological order. For
    ln(x1) + x1*x2 - sin(x2) this gives v3 = ln, v4 = mul, v5 = sin, v6 = add,
    v7 = sub, as in the notes. Constant leaves are left out: they print as numbers.
    """
    depth: dict[Value, int] = {}
    for v in topological_order(outputs):
        a, b = v._a, v._b
        if a is None:
            depth[v] = 0
        else:
            depth[v] = 1 + (depth[a] if b is None else max(depth[a], depth[b]))
    return sorted((v for v in depth if v._op is not CONST), key=depth.__getitem__)


def count_ops(outputs: Value | Iterable[Value]) -> dict[str, int]:
    """How many nodes of each op the graph holds, e.g. ``{"mul": 3, "add": 2}``.

    Inputs and constants are not ops and are not counted; ``sum(...values())``
    is the graph's total number of operations.
    """
    counts: dict[str, int] = {}
    for v in topological_order(outputs):
        op = v.op
        if op is not None:
            counts[op.name] = counts.get(op.name, 0) + 1
    return counts
