"""The walks every differentiation method shares: reverse (:func:`reverse_walk`) and
forward (:func:`accumulate_tangents`), the notes' numbering of nodes, and op counts.

:func:`reverse_walk` is the one reverse walk: ``grad(..., create_graph=True)`` runs it
on Values and :func:`scalargrad.compile` on the code it writes. The float adjoints of
:func:`accumulate_adjoints` (``grad``, ``adjoints``, the trace tables) and of
:meth:`Value.backward` are specialised copies of it, kept for speed; ``tests/test_walks.py``
checks that all of them sum the same partial adjoints in the same order, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from .op import CONST
from .value import Fan, Value, topological_order


class Partial(NamedTuple):
    """One partial adjoint v̄k→i = v̄i · ∂vi/∂vk, as the reverse walk appends it to v_k's list.

    ``child`` is v_i (None for an output's seed), ``position`` the index of v_k
    among v_i's parents, ``value`` the number (with ``create_graph``: a node, or
    a number where it folded to one).
    """

    child: Value | None
    position: int
    value: Any


Adjoint = TypeVar("Adjoint")
"""What a reverse walk sums into each node: a float, a Value, or the code that computes one."""
Derivative = TypeVar("Derivative")
"""A local derivative ∂vi/∂vk: a float, a Value (or a number), or code."""
Term = TypeVar("Term")
"""One partial adjoint v̄i · ∂vi/∂vk, as the walk's ``times`` makes it."""


def reverse_walk(
    order: Sequence[Value],
    seeds: Iterable[tuple[Value, Term]],
    local: Callable[[Value], Sequence[Derivative]],
    times: Callable[[Adjoint, Derivative], Term | None],
    plus: Callable[[Adjoint | None, Term], Adjoint],
    *,
    relevant: Container[Value] | None = None,
    node_to_grad: dict[Value, list[Partial]] | None = None,
) -> dict[Value, Adjoint]:
    """The reverse walk, for any arithmetic: each node's adjoint, partial adjoints summed as they arrive.

    ``order`` is a topological order (:func:`topological_order`) and ``seeds`` gives
    the outputs' adjoints, each added with ``plus(adjoint so far or None, seed)``. Nodes
    are visited in reverse ``order``; a node v with an adjoint g passes
    ``times(g, local(v)[k])`` to its k-th parent (in operand order), which ``plus``
    adds to that parent's running sum. So every node's partial adjoints are summed in
    one order, the arrival order, whatever the arithmetic: floats, Values
    (``create_graph``) or the statements :func:`scalargrad.compile` writes. ``times``
    may return None for a partial adjoint that is structurally zero: it is not added.

    With ``relevant`` (see :func:`depending_on`) only the nodes in it get adjoints,
    seeds included; entries of ``local(v)`` for parents outside it are never read.
    With ``node_to_grad`` each partial adjoint is also appended to its node's list.
    Nodes the walk never reaches are absent from the result.
    """
    adj: dict[Value, Adjoint] = {}
    get = adj.get
    for out, s in seeds:
        if relevant is None or out in relevant:
            adj[out] = plus(get(out), s)
            if node_to_grad is not None:
                node_to_grad.setdefault(out, []).append(Partial(None, 0, s))
    for v in reversed(order):
        a = v._a
        if a is None and type(v._op) is not Fan:
            continue
        g = get(v)
        if g is None:
            continue
        derivatives = local(v)
        b = v._b
        parents = v.parents if a is None else (a,) if b is None else (a, b)
        for position, parent in enumerate(parents):
            if relevant is not None and parent not in relevant:
                continue
            term = times(g, derivatives[position])
            if term is None:
                continue
            adj[parent] = plus(get(parent), term)
            if node_to_grad is not None:
                node_to_grad.setdefault(parent, []).append(Partial(v, position, term))
    return adj


def float_local(v: Value) -> tuple[float, ...]:
    """The float local derivatives of ``v``, one per parent: :func:`reverse_walk`'s ``local`` for floats."""
    return v.local_grads


def float_plus(total: float | None, term: float) -> float:
    """``total + term`` from 0.0: :func:`reverse_walk`'s ``plus`` for floats, summing as ``backward`` does."""
    return (0.0 if total is None else total) + term


def depending_on(order: Iterable[Value], wrt: Iterable[Value] | None) -> set[Value]:
    """The nodes of ``order`` that depend on a ``wrt`` node, and ``wrt`` itself (all non-constants if None).

    Only these have adjoints when differentiating with respect to ``wrt``: it is
    :func:`reverse_walk`'s ``relevant`` for ``create_graph`` and for compiled code.
    """
    if wrt is None:
        return {v for v in order if not v.is_constant}
    relevant = set(wrt)
    for v in order:
        a = v._a
        if a is not None:
            if a in relevant or (v._b is not None and v._b in relevant):
                relevant.add(v)
        elif type(fan := v._op) is Fan and not all(map(relevant.isdisjoint, fan.groups)):
            relevant.add(v)
    return relevant


def accumulate_adjoints(
    order: list[Value],
    seeds: Iterable[tuple[Value, float]],
    node_to_grad: dict[Value, list[Partial]] | None = None,
) -> dict[Value, float]:
    """:func:`reverse_walk` on floats: every node's adjoint, summing partial adjoints as they arrive.

    ``order`` is a topological order (:func:`topological_order`) and ``seeds``
    gives the outputs' adjoints. Nodes are visited in reverse order; each passes
    v̄i · ∂vi/∂vk to its parents, added to their running sums (from 0.0) in arrival
    order. With ``node_to_grad`` (the notes' name) each partial adjoint is also
    appended to its node's list. ``grad``, ``adjoints`` and the trace tables use
    it; it is ``reverse_walk(order, seeds, float_local, operator.mul, float_plus)``
    written out, more than twice as fast, and ``tests/test_walks.py`` checks the two bit for bit.
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
            if type(fan := v._op) is Fan and (g := get(v)) is not None:
                if record:
                    for position, (parent, d) in enumerate(zip(fan.parents, fan.local_grads)):
                        partial = g * d
                        adj[parent] = get(parent, 0.0) + partial
                        node_to_grad.setdefault(parent, []).append(Partial(v, position, partial))  # type: ignore[union-attr]
                else:
                    for parents, grads in zip(fan.groups, fan.grad_groups):
                        for parent, d in zip(parents, grads):
                            adj[parent] = get(parent, 0.0) + g * d
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
        if a is None:
            if type(fan := v._op) is Fan and v not in tangent:
                terms = [
                    t * d
                    for parents, grads in zip(fan.groups, fan.grad_groups)
                    for p, d in zip(parents, grads)
                    if (t := get(p)) is not None
                ]
                if terms:
                    t = terms[0]
                    for term in terms[1:]:
                        t += term
                    if t:
                        tangent[v] = t
            continue
        if v in tangent:
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
            depth[v] = (1 + max(map(depth.__getitem__, v.parents))) if type(v._op) is Fan else 0
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
