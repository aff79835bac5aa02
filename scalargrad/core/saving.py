"""How a graph is saved for a pickle or a deep copy: flat, as columns of its nodes' fields.

A graph of 10⁵ nodes saved node by node costs a Python call per node on each side and,
saved parent inside child, recursion as deep as the graph. Saved as a few lists
(floats, ops, parents' places), it is written and read by the pickler in C, and
:mod:`scalargrad.core.value` rebuilds and checks the nodes in one loop. This module sees
nodes only through their fields: it comes before Value.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from typing import Any


class _Saving:
    """What one thread's pickles are saving. One thread writes a pickle, so another thread's
    pickles, of the same nodes or others, neither see nor clear these."""

    __slots__ = ("live", "nodes")

    def __init__(self) -> None:
        self.nodes: dict[Any, weakref.ref[_SavedGraph]] = {}
        """The nodes of the graphs being pickled: the saved graph that holds each."""
        self.live = 0
        """How many saved graphs exist: when the last goes, ``nodes`` is emptied at once."""


_threads = threading.local()


def saving() -> _Saving:
    """What this thread's pickles are saving now."""
    try:
        return _threads.saving  # type: ignore[no-any-return]
    except AttributeError:
        _threads.saving = state = _Saving()
        return state


class _SavedGraph:
    """What a pickle saves of a graph at once: the ancestors of the first node pickled, parents first.

    It pickles as columns of its nodes' fields (lists of floats, of ops, of parents'
    places), which the pickler writes and reads in C: a 10⁵-node graph saves and loads
    in a fraction of a second, and no node is saved inside another, so depth costs no
    recursion. While a pickler holds it (in its memo, until the pickle is written, or
    given up), its nodes are listed in this thread's :func:`saving`: a node pickled again in
    the same pickle is saved as its place here and loads as the same object, and nodes listed
    by an earlier graph of the pickle are its ``outside`` parents instead of its own nodes.
    """

    __slots__ = ("__weakref__", "load", "nodes", "outside", "places", "ref", "saving")

    def __init__(self, root: Any, load: Callable[..., list[Any]]) -> None:
        self.load = load
        self.saving = state = saving()  # this thread's, whichever thread lets the graph go
        known = state.nodes
        self.outside, self.nodes = ancestors_not_in(root, known.__contains__ if known else None)
        self.places = parent_places(self.outside, self.nodes)
        self.ref = ref = weakref.ref(self)
        known.update(dict.fromkeys(self.nodes, ref))
        state.live += 1

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.load, (tuple(self.outside), *field_columns(self.nodes, self.places)))

    def __del__(self) -> None:
        state = self.saving
        state.live -= 1
        if not state.live:
            state.nodes.clear()
            return
        ref = self.ref
        known = state.nodes
        for v in self.nodes:
            if known.get(v) is ref:
                del known[v]


def ancestors_not_in(root: Any, known: Callable[[Any], bool] | None) -> tuple[list[Any], list[Any]]:
    """``root`` and its ancestors in topological order, stopping at ``known`` nodes (already
    saved or copied); and the known nodes reached, the graph's outside parents."""
    outside: list[Any] = []
    order: list[Any] = []
    seen = {root}
    stack = [root]
    while stack:
        v = stack[-1]
        a = v._a
        if a is not None and a not in seen:
            seen.add(a)
            if known is not None and known(a):
                outside.append(a)
            else:
                stack.append(a)
            continue
        b = v._b
        if b is not None and b not in seen:
            seen.add(b)
            if known is not None and known(b):
                outside.append(b)
            else:
                stack.append(b)
            continue
        order.append(stack.pop())
    return outside, order


def parent_places(outside: list[Any], nodes: list[Any]) -> dict[Any, int]:
    """Each node's place in ``outside + nodes``: how a saved graph names a parent."""
    return dict(zip(itertools.chain(outside, nodes), itertools.count()))


def field_columns(nodes: list[Any], places: dict[Any, int]) -> list[list[Any]]:
    """The fields of ``nodes`` as 8 lists, a parent given by its place (see :func:`parent_places`)."""
    return [
        [v.data for v in nodes],
        [v.grad for v in nodes],
        [v.label for v in nodes],
        [v._op for v in nodes],
        [None if v._a is None else places[v._a] for v in nodes],
        [v._da for v in nodes],
        [None if v._b is None else places[v._b] for v in nodes],
        [v._db for v in nodes],
    ]


def saved_graph(node: Any, load: Callable[..., list[Any]]) -> _SavedGraph:
    """The saved graph ``node`` is pickled in: one a pickle in progress saves already, or a new
    one, which loads by calling ``load`` on its columns."""
    saved = saving().nodes.get(node)
    graph = None if saved is None else saved()
    return _SavedGraph(node, load) if graph is None else graph
