"""Pickles and deep copies of graphs whose Fans share groups (matmul's rows and columns):
the twin shares each group exactly where the original did, at about the original's size."""

from __future__ import annotations

import copy
import pickle
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from test_core_pickle import SavedGraph, same_graph, twins
from test_walks import dags, run

import scalargrad
from scalargrad.core import OPS, Value, saving, topological_order, value


def sharing(roots: list[Value]) -> list[tuple[int, ...]]:
    """Which of the graph's Fans share each group: every group (of parents and of local
    derivatives) named by the first place, in topological order, holding the same object."""
    first: dict[int, int] = {}
    pattern = []
    for v in topological_order(roots):
        if type(fan := v._op) is value.Fan:
            pattern.append(
                tuple(first.setdefault(id(g), len(first)) for g in (*fan.groups, *fan.grad_groups))
            )
    return pattern


def check_twins(roots: list[Value]) -> None:
    """Each twin of ``roots`` is the same graph, its groups shared exactly as in ``roots``."""
    pattern = sharing(roots)
    for twin in twins(roots):
        for t, r in zip(twin, roots, strict=True):
            same_graph(t, r)
        assert sharing(twin) == pattern
        assert len(topological_order(twin)) == len(topological_order(roots))
    assert not saving.saving().nodes and not saving.saving().groups


@st.composite
def matmul_graphs(draw: st.DrawFn) -> list[Value]:
    """The entries of a random matmul (vectors, matrices, a stack; some entries plain numbers),
    or one output reading them all."""
    batch = draw(st.sampled_from([(), (), (2,)]))
    m, n, p = (draw(st.integers(1, 4)) for _ in range(3))
    entries = st.floats(-3, 3, allow_nan=False)
    x = np.array(draw(st.lists(entries, min_size=m * n, max_size=m * n)) * (batch[0] if batch else 1))
    w = np.array(draw(st.lists(entries, min_size=n * p, max_size=n * p)))
    X = scalargrad.array(x.reshape(*batch, m, n), name="X")
    W = scalargrad.array(w.reshape(n, p), name="W")
    if draw(st.booleans()):
        W = W.astype(object)
        W[0, 0] = float(w[0])  # a plain number: a constant leaf of its own
    if draw(st.booleans()):
        X = X[..., 0, :]  # a vector on the left
    Z = np.asarray(scalargrad.matmul(X, W), dtype=object)
    if draw(st.booleans()):
        return list(Z.flat)
    y = np.tanh(Z).sum()
    y.backward()
    return [y]


@settings(max_examples=60)
@given(matmul_graphs())
def test_matmul_graphs_load_and_copy_sharing_their_rows_and_columns(roots: list[Value]) -> None:
    check_twins(roots)


@settings(max_examples=60)
@given(dags(), st.data())
def test_graphs_with_dot_nodes_load_sharing_as_they_did(plan: Any, data: st.DataObject) -> None:
    xs = [Value(data.draw(st.floats(-2, 2)), label=f"x{i}") for i in range(plan[0])]
    try:
        slots = [v for v in run(plan, xs) if isinstance(v, Value)]
    except (ArithmeticError, ValueError):
        reject()
    check_twins([slots[-1], *slots])


def matmul_64() -> Value:
    rng = np.random.default_rng(0)
    X = scalargrad.array(rng.normal(size=(64, 64)), name="X")
    W = scalargrad.array(rng.normal(size=(64, 64)), name="W")
    return np.tanh(scalargrad.matmul(X, W)).sum()  # type: ignore[no-any-return]


def graph_bytes(y: Value) -> int:
    """The bytes of ``y``'s graph: every distinct object it holds (nodes, their numbers, Fans and
    their groups), each counted once, as ``sys.getsizeof`` gives them. Unlike tracemalloc this
    does not depend on what the allocator's free lists held before."""
    held: dict[int, int] = {}

    def hold(x: object) -> None:
        held.setdefault(id(x), sys.getsizeof(x))

    for v in topological_order(y):
        hold(v)
        hold(v.data)
        hold(v.grad)
        if type(v._op) is value.Fan:
            hold(v._op)
            for group in (*v._op.groups, *v._op.grad_groups):
                hold(group)
                for x in group:
                    hold(x)
    return sum(held.values())


def size_of_fans(y: Value) -> tuple[int, int]:
    """The groups' tuples of ``y``'s graph: how many distinct ones, and their bytes."""
    groups = {
        id(g): sys.getsizeof(g)
        for v in topological_order(y)
        if type(v._op) is value.Fan
        for g in (*v._op.groups, *v._op.grad_groups)
    }
    return len(groups), sum(groups.values())


def test_a_loaded_64_by_64_matmul_graph_is_about_the_size_of_the_original() -> None:
    y = matmul_64()
    data = pickle.dumps(y, pickle.HIGHEST_PROTOCOL)
    twin, double = pickle.loads(data), copy.deepcopy(y)
    built = graph_bytes(y)
    assert graph_bytes(twin) < 1.5 * built and graph_bytes(double) < 1.5 * built
    assert size_of_fans(twin) == size_of_fans(double) == size_of_fans(y)
    assert sharing([twin]) == sharing([double]) == sharing([y])
    # each group written once: per entry, its 128 local derivatives alone are 4096 × 128 × 9 bytes
    assert len(data) < 2_000_000


def test_a_group_shared_with_an_earlier_graph_is_checked() -> None:
    x, y = Value(2.0), Value(3.0)
    with pytest.raises(pickle.UnpicklingError, match="Fan's groups must be saved by a graph loaded before"):
        saving._loaded_group([x, y], (0, 1))
    nodes = pickle.loads(
        pickle.dumps(SavedGraph((), [2.0], [0.0], ["x"], [None], [None], [0.0], [None], [0.0]))
    )
    with pytest.raises(pickle.UnpicklingError, match="Fan's parents must be a node loaded before"):
        saving._loaded_group(nodes, (0, 1))
    assert saving._loaded_group(nodes, (0, 0)) == (nodes[0], nodes[0])  # not loaded by it: found anew
    dot = (OPS["dot"], ((x,), (7,)), ((3.0,), (2.0,)))
    columns = [[6.0], [0.0], [None], [dot], [None], [0.0], [None], [0.0]]
    with pytest.raises(pickle.UnpicklingError, match="Fan's parents must be"):
        pickle.loads(pickle.dumps(SavedGraph((x,), *columns)))
    group = (x,)
    columns[3] = [(OPS["dot"], (group, group), ((2.0,), (2.0,)))]
    (twin, loaded) = pickle.loads(pickle.dumps(SavedGraph((x,), *columns)))  # a group of outside parents
    assert loaded.parents == (twin, twin) and loaded._op.groups[0] is loaded._op.groups[1]
