"""Copying and pickling graphs of any depth: saved flat, as columns of the nodes' fields, and
checked as they load.

A graph of 10⁵ nodes saved node by node costs a Python call per node on each side and,
saved parent inside child, recursion as deep as the graph. Saved as a few lists (floats,
ops, parents' places), it is written and read by the pickler in C and rebuilt and checked
in one loop here. :class:`~scalargrad.core.value.Value` gets its ``__copy__``,
``__deepcopy__``, ``__reduce_ex__`` and ``__setstate__`` from this module, so
:mod:`~scalargrad.core.value` says what a node is and this module how it is saved.
"""

from __future__ import annotations

import gc
import itertools
import pickle
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .op import CONST, CONSTANT_FORMS, OPS, ConstantForm, Form, Op, described
from .value import Fan, Value

_new = object.__new__


class _Saving:
    """What one thread's pickles are saving. One thread writes a pickle, so another thread's
    pickles, of the same nodes or others, neither see nor clear these."""

    __slots__ = ("groups", "live", "nodes")

    def __init__(self) -> None:
        self.nodes: dict[Any, weakref.ref[_SavedGraph]] = {}
        """The nodes of the graphs being pickled: the saved graph that holds each."""
        self.groups: dict[int, tuple[weakref.ref[_SavedGraph], tuple[int, ...]]] = {}
        """The Fans' groups those graphs saved, by identity: the graph and the group's places."""
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
        saved: dict[int, tuple[int, ...]] = {}
        groups = self.saving.groups
        columns = field_columns(self.nodes, self.places, self._shared_group if groups else None, saved)
        ref = self.ref
        for key, places in saved.items():
            groups.setdefault(key, (ref, places))
        return (self.load, (tuple(self.outside), *columns))

    def _shared_group(self, group: tuple[Value, ...]) -> _SharedGroup | None:
        """How this graph saves a Fan's group an earlier graph of the pickle saved: as that one."""
        known = self.saving.groups.get(id(group))
        graph = None if known is None else known[0]()
        return None if graph is None or graph is self else _SharedGroup(graph, known[1])  # type: ignore[index]

    def __del__(self) -> None:
        state = self.saving
        state.live -= 1
        if not state.live:
            state.nodes.clear()
            state.groups.clear()
            return
        ref = self.ref
        known = state.nodes
        for v in self.nodes:
            if known.get(v) is ref:
                del known[v]
        groups = state.groups
        for key in [key for key, (graph, _) in groups.items() if graph is ref]:
            del groups[key]


class _SharedGroup:
    """A Fan's group saved by an earlier graph of the same pickle, which loads as the group
    that graph loaded (the same tuple object), so Fans of different graphs share it again."""

    __slots__ = ("graph", "places")

    def __init__(self, graph: _SavedGraph, places: tuple[int, ...]) -> None:
        self.graph = graph
        self.places = places

    def __reduce__(self) -> tuple[Any, ...]:
        return (_loaded_group, (self.graph, self.places))


def ancestors_not_in(root: Any, known: Callable[[Any], bool] | None) -> tuple[list[Any], list[Any]]:
    """``root`` and its ancestors in topological order, stopping at ``known`` nodes (already
    saved or copied); and the known nodes reached, the graph's outside parents."""
    outside: list[Any] = []
    order: list[Any] = []
    seen = {root}
    stack = [root]
    resume: dict[Any, tuple[tuple[Any, ...], int]] = {}
    while stack:
        v = stack[-1]
        a = v._a
        if a is not None:
            if a not in seen:
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
        elif type(v._op) is Fan and _next_fan_parent(v, seen, known, outside, stack, resume):
            continue
        order.append(stack.pop())
    return outside, order


def _next_fan_parent(
    v: Value,
    seen: set[Any],
    known: Callable[[Any], bool] | None,
    outside: list[Any],
    stack: list[Any],
    resume: dict[Any, tuple[tuple[Any, ...], int]],
) -> bool:
    """One step of :func:`ancestors_not_in` at a Fan node: True if it pushed a parent, False
    when all its parents are placed. The search of its parents resumes where it stopped, with
    the parents joined once (as :func:`~scalargrad.core.value.topological_order`'s search does)."""
    parents, start = resume.pop(v) if v in resume else (v._op.parents, 0)  # type: ignore[union-attr]
    for i in range(start, len(parents)):
        p = parents[i]
        if p in seen:
            continue
        seen.add(p)
        if known is not None and known(p):
            outside.append(p)
            continue
        resume[v] = (parents, i + 1)
        stack.append(p)
        return True
    return False


def parent_places(outside: list[Any], nodes: list[Any]) -> dict[Any, int]:
    """Each node's place in ``outside + nodes``: how a saved graph names a parent."""
    return dict(zip(itertools.chain(outside, nodes), itertools.count()))


def field_columns(
    nodes: list[Any],
    places: dict[Any, int],
    shared: Callable[[tuple[Value, ...]], object] | None = None,
    saved: dict[int, tuple[int, ...]] | None = None,
) -> list[list[Any]]:
    """The fields of ``nodes`` as 8 lists, a parent given by its place (see :func:`parent_places`).

    A :class:`Fan` saves as the tuple (its op, its groups as tuples of their parents'
    places, its ``grad_groups``). A group several Fans share (a row of X in a matrix
    product) saves as one tuple object, which pickle writes once and loads as one, and
    so the loaded Fans share their group again, as the saved ones did. A group that
    ``shared`` knows (saved or copied with an earlier graph) saves as what it gives instead;
    ``saved`` gets the places saved for each other group, by the group's identity.
    """
    forms = [v._op for v in nodes]
    if Fan in map(type, forms):
        forms = _saved_fans(forms, places, shared, {} if saved is None else saved)
    return [
        [v.data for v in nodes],
        [v.grad for v in nodes],
        [v.label for v in nodes],
        forms,
        [None if v._a is None else places[v._a] for v in nodes],
        [v._da for v in nodes],
        [None if v._b is None else places[v._b] for v in nodes],
        [v._db for v in nodes],
    ]


def _saved_fans(
    forms: list[Any],
    places: dict[Any, int],
    shared: Callable[[tuple[Value, ...]], object] | None,
    saved: dict[int, Any],
) -> list[Any]:
    """``forms`` with each Fan saved as :func:`field_columns` says, each of its groups' places
    one tuple object however many Fans share the group (found by identity: the nodes, and so
    their groups, live as long as the saving)."""
    place = places.__getitem__
    outer: dict[int, object] = {}

    def group_places(group: tuple[Value, ...]) -> object:
        key = id(group)
        known = saved.get(key)
        if known is None:
            known = outer.get(key)
            if known is None:
                known = None if shared is None else shared(group)
                if known is None:
                    known = saved[key] = tuple(map(place, group))
                else:
                    outer[key] = known
        return known

    return [(f.op, tuple(map(group_places, f.groups)), f.grad_groups) if type(f) is Fan else f for f in forms]


def saved_graph(node: Any, load: Callable[..., list[Any]]) -> _SavedGraph:
    """The saved graph ``node`` is pickled in: one a pickle in progress saves already, or a new
    one, which loads by calling ``load`` on its columns."""
    saved = saving().nodes.get(node)
    graph = None if saved is None else saved()
    return _SavedGraph(node, load) if graph is None else graph


def _loaded_fields(v: Value, state: object, fans: _Fans | None = None) -> tuple[Any, ...]:
    """The fields of a node being loaded from a pickle or copy, checked: a graph, not arbitrary objects.

    ``data``, ``grad`` and the local derivatives are floats, ``label`` a str or None,
    the op a registered op (or form) with one parent Value per operand, and every
    parent a Value loaded before this node (so the graph has no cycle). Anything
    else is a :class:`pickle.UnpicklingError` naming the field. This guards
    against damaged or edited files, not attacks: loading a pickle can run any
    code, so never load one from an untrusted source.
    """
    fields = state[1] if type(state) is tuple and len(state) in (2, 3) else None
    if type(fields) is not tuple or len(fields) != 8:
        raise _unpickling("state", "a tuple of a Value's 8 fields", state)
    data, grad, label, form, a, da, b, db = fields
    if type(data) is not float:
        raise _unpickling("data", "a float", data)
    if type(grad) is not float:
        raise _unpickling("grad", "a float", grad)
    if label is not None and type(label) is not str:
        raise _unpickling("label", "a str or None", label)
    if type(da) is not float:
        raise _unpickling("_da", "a float", da)
    if type(db) is not float:
        raise _unpickling("_db", "a float", db)
    if hasattr(v, "data"):
        raise _unpickling("state", "set once, on a new node (the pickle sets it twice)", state)
    if form is None or form is CONST:
        if a is not None or b is not None:
            raise _unpickling("_a", "None for a leaf (an input or constant)", a)
        return fields
    if type(form) is Fan:
        fan = (getattr(form, "op", None), getattr(form, "groups", None), getattr(form, "grad_groups", None))
        return (data, grad, label, _loaded_fan(fan, a, da, b, db, fans), None, 0.0, None, 0.0)
    if type(form) is tuple and fans is not None:  # a saved graph's Fan, as _saved_fan reads it
        return (data, grad, label, _loaded_fan(form, a, da, b, db, fans), None, 0.0, None, 0.0)
    if type(form) is Op:
        arity = form.arity
        registered: Form | None = OPS.get(form.name)
    elif type(form) is ConstantForm and form.op.name in OPS and form.constant_at in (0, 1):
        arity = 1  # the other operand is the number kept in _db
        registered = OPS[form.op.name].with_constant[form.constant_at]
    else:
        raise _unpickling("_op", "a registered op", form)
    if registered is not form:
        raise _unpickling("_op", "a registered op", form)
    for field, parent in (("_a", a), ("_b", b)):
        if field == "_b" and arity == 1:
            if parent is not None:
                raise _unpickling("_b", f"None for an op with one parent ({form!r})", parent)
            break
        if type(parent) is not Value:
            raise _unpickling(field, "a Value (a parent node)", parent)
        if not hasattr(parent, "data"):
            raise _unpickling(field, "a node loaded before this one (the graph has a cycle)", parent)
    return fields


class _Fans:
    """What loading one graph knows of its Fans, so that each shared thing is loaded and
    checked once: the group of parents loaded for each saved group (Fans that shared a group
    share it again), the groups of parents and of local derivatives checked, and the operand
    counts each op was asked about. Objects are known by identity: the columns being loaded
    and the loaded Fans keep them alive until the load ends."""

    __slots__ = ("counts", "grads", "groups", "parents")

    def __init__(self) -> None:
        self.groups: dict[int, tuple[object, tuple[Value, ...]]] = {}
        """By the identity of a saved group (its places): it, kept alive, and the group loaded."""
        self.parents: set[int] = set()
        self.grads: set[int] = set()
        self.counts: dict[tuple[Op, int], bool] = {}


def _loaded_fan(
    fields: tuple[object, object, object],
    a: object,
    da: float,
    b: object,
    db: float,
    fans: _Fans | None = None,
) -> Fan:
    """A loaded node's :class:`Fan` of ``fields`` (op, groups, grad_groups), checked as
    :func:`_loaded_fields` checks two parents, and made anew for this node alone: a
    registered variadic op, its groups of parents Values loaded before the node, as many in
    all as the op takes, and a group of float local derivatives for each, as long as it."""
    for field, parent in (("_a", a), ("_b", b)):
        if parent is not None:
            raise _unpickling(field, "None for a node of a variadic op (its parents are in its Fan)", parent)
    for field, d in (("_da", da), ("_db", db)):
        if d != 0.0:
            raise _unpickling(field, "0.0 for a node of a variadic op", d)
    op, groups, grad_groups = fields
    if type(op) is not Op or OPS.get(op.name) is not op or op.arity is not None:
        raise _unpickling("Fan's op", "a registered variadic op", op)
    if fans is None:
        fans = _Fans()
    if type(groups) is not tuple:
        raise _unpickling("Fan's groups", "a tuple of groups of parents (tuples)", groups)
    count = 0
    for group in groups:
        if id(group) not in fans.parents:
            _check_parents(group)
            fans.parents.add(id(group))
        count += len(group)
    if not count:
        raise _unpickling("Fan's parents", "one Value or more", groups)
    if type(grad_groups) is not tuple or len(grad_groups) != len(groups):
        expected = f"a tuple of {len(groups)} groups, one per group of parents"
        raise _unpickling("Fan's grad_groups", expected, grad_groups)
    for group, grads in zip(groups, grad_groups):
        if id(grads) not in fans.grads:
            if type(grads) is not tuple or not _FLOAT.issuperset(map(type, grads)):
                raise _unpickling(
                    "Fan's local_grads", f"a tuple of {len(group)} floats, one per parent", grads
                )
            fans.grads.add(id(grads))
        if len(grads) != len(group):
            raise _unpickling("Fan's local_grads", f"a tuple of {len(group)} floats, one per parent", grads)
    takes = fans.counts.get((op, count))
    if takes is None:
        takes = fans.counts[op, count] = _takes(op, groups)
    if not takes:
        raise _unpickling("Fan's parents", f"as many as {op.name} takes", count)
    return Fan.grouped(op, groups, grad_groups)  # type: ignore[arg-type]


def _check_parents(group: object) -> None:
    """Check one group of a loaded Fan's parents: a tuple of Values loaded before its node."""
    if type(group) is not tuple:
        raise _unpickling("Fan's groups", "a tuple of groups of parents (tuples)", group)
    for parent in group:
        if type(parent) is not Value:
            raise _unpickling("Fan's parents", "Values (parent nodes)", parent)
        if not hasattr(parent, "data"):
            raise _unpickling("Fan's parents", "nodes loaded before this one (the graph has a cycle)", parent)


def _takes(op: Op, groups: tuple[tuple[Value, ...], ...]) -> bool:
    """Whether variadic ``op`` takes as many operands as ``groups`` hold. An op has no field
    saying so: its ``evaluate`` raises TypeError for a count it does not take, so it is asked,
    once per op and count in a load (an error of the values themselves is not the count's)."""
    try:
        op.evaluate(*itertools.chain.from_iterable(map(_datas, groups)))
    except TypeError:
        return False
    except (ArithmeticError, ValueError):
        return True
    return True


def _datas(group: tuple[Value, ...]) -> list[float]:
    return [v.data for v in group]


def _saved_fan(saved: object, nodes: list[Value], fans: _Fans) -> tuple[object, object, object]:
    """The :class:`Fan` a saved graph keeps as (op, groups of parents' places, grad_groups), each
    group found by place among the nodes loaded before it, once for all the Fans that share it
    (the rest is checked by :func:`_loaded_fan`).

    Saved Fans of one group, (op, parents' places, local_grads), as the commit before groups
    wrote them, are refused: that form never shipped in a release."""
    if type(saved) is not tuple or len(saved) != 3 or type(saved[1]) is not tuple:
        raise _unpickling(
            "_op", "a registered op, or a saved Fan (op, groups of parents' places, grad_groups)", saved
        )
    op, places, grad_groups = saved
    loaded = fans.groups
    groups = []
    for group in places:
        known = loaded.get(id(group))
        if known is None:
            if type(group) is tuple and group and type(group[0]) is Value:  # an earlier graph's
                _check_parents(group)
                loaded[id(group)] = known = (group, group)
            else:
                loaded[id(group)] = known = (group, _placed_group(group, nodes))
            fans.parents.add(id(known[1]))
        groups.append(known[1])
    return op, tuple(groups), grad_groups


def _loaded_group(nodes: object, places: object) -> tuple[Value, ...]:
    """The group of parents an earlier graph of a pickle loaded (its ``nodes``) for its saved
    ``places``, the same object (see :class:`_SharedGroup`); found anew if that graph did not."""
    if type(nodes) is not _Loaded:
        raise _unpickling("Fan's groups", "saved by a graph loaded before", nodes)
    known = nodes.groups.get(id(places))
    if known is not None and known[0] is places:
        group: tuple[Value, ...] = known[1]
        return group
    group = _placed_group(places, nodes)
    _check_parents(group)
    return group


def _placed_group(group: object, nodes: list[Value]) -> tuple[Value, ...]:
    """The parents a saved group names by their places among the nodes before its Fan's node."""
    if type(group) is not tuple:
        raise _unpickling("Fan's groups", "tuples of parents' places", group)
    n = len(nodes)
    if group and _INT.issuperset(map(type, group)) and min(group) >= 0 and max(group) < n:
        return tuple(map(nodes.__getitem__, group))
    return tuple(_placed(p, "Fan's parents", nodes) for p in group)


def _unpickling(field: str, expected: str, got: object) -> pickle.UnpicklingError:
    """The error for a loaded node's field that is not what a graph holds."""
    shown = type(got).__name__ if isinstance(got, Value) else described(got)
    return pickle.UnpicklingError(
        f"not a scalargrad graph: a Value's {field} must be {expected}, got {shown}"
    )


class _Loaded(list[Value]):
    """A loaded graph's nodes, and the groups its Fans loaded (:attr:`_Fans.groups`), which the
    pickle's later graphs and copies share (:func:`_loaded_group`)."""

    __slots__ = ("groups",)
    groups: dict[int, tuple[object, tuple[Value, ...]]]


def _loaded_graph(outside: object, *columns: Any) -> _Loaded:
    """The nodes of a saved graph (:mod:`scalargrad.core.saving`) as loaded: its outside parents, then
    one new node per entry of the columns, checked as :func:`_loaded_fields` checks one.

    A parent is given by its place among the nodes before it, so a loaded graph has no
    cycle; anything that is not a graph is a :class:`pickle.UnpicklingError`.
    """
    if type(outside) is not tuple or not all(type(v) is Value and hasattr(v, "data") for v in outside):
        raise _unpickling("parent", "a node loaded before this one", outside)
    if len(columns) != 8 or not all(type(c) is list for c in columns) or len(set(map(len, columns))) != 1:
        raise _unpickling("fields", "8 lists of equal length (a saved graph)", columns)
    nodes = _Loaded(outside)
    nodes.groups = (fans := _Fans()).groups
    collecting = gc.isenabled()
    if collecting:  # the loop makes a node per entry and no cycle: nothing for the collector to find
        gc.disable()
    try:
        _load_nodes(nodes, columns, fans)
    finally:
        if collecting:
            gc.enable()
    return nodes


def _load_nodes(nodes: list[Value], columns: tuple[Any, ...], fans: _Fans) -> None:
    """Append a new node to ``nodes`` for each entry of ``columns`` (see :func:`_loaded_graph`).

    The columns' types are checked a column at a time, in C; each node then only checks
    that its parents are nodes before it, as many as its op takes.
    """
    datas, grads, labels, forms, _, das, _, dbs = columns
    try:
        parents = {f: _parent_count(f) for f in set(forms)}
    except TypeError:  # an unhashable "op"
        parents = None
    if parents is None or not (
        _FLOAT.issuperset(map(type, datas))
        and _FLOAT.issuperset(map(type, grads))
        and _FLOAT.issuperset(map(type, das))
        and _FLOAT.issuperset(map(type, dbs))
        and _LABEL.issuperset(map(type, labels))
    ):
        _load_nodes_checked(nodes, columns, fans)  # says what is wrong
        return
    append = nodes.append
    for data, grad, label, form, a, da, b, db in zip(*columns):
        n = len(nodes)
        count = 0
        if a is not None:
            if type(a) is not int or not 0 <= a < n:
                raise _unpickling("_a", "a node loaded before this one (the graph has a cycle)", a)
            a = nodes[a]
            count = 1
        if b is not None:
            if type(b) is not int or not 0 <= b < n:
                raise _unpickling("_b", "a node loaded before this one (the graph has a cycle)", b)
            b = nodes[b]
            count += 2
        v = _new(Value)
        if parents[form] != count:  # a Fan, or what is wrong
            if type(form) is tuple:
                form = _loaded_fan(_saved_fan(form, nodes, fans), a, da, b, db, fans)
            else:
                form = _loaded_fields(v, (None, (data, grad, label, form, a, da, b, db)))[3]
        v.data = data
        v.grad = grad
        v.label = label
        v._op = form
        v._a = a
        v._da = da
        v._b = b
        v._db = db
        append(v)


_FLOAT = frozenset({float})
_INT = frozenset({int})
_LABEL = frozenset({str, type(None)})
_FAN = -2


def _parent_count(form: object) -> int:
    """The parents a node of ``form`` has: 0, 1 (``_a``) or 3 (``_a`` and ``_b``); :data:`_FAN` for a
    saved Fan (a tuple); -1 if it is no form."""
    if form is None or form is CONST:
        return 0
    if type(form) is tuple:
        return _FAN
    if type(form) is Op and OPS.get(form.name) is form:
        return 1 if form.arity == 1 else 3
    if type(form) is ConstantForm and form in CONSTANT_FORMS:
        return 1
    return -1


def _load_nodes_checked(nodes: list[Value], columns: tuple[Any, ...], fans: _Fans) -> None:
    """:func:`_load_nodes` a node at a time, each through :func:`_loaded_fields`, for columns
    that failed the fast checks: it stops at the first wrong field and names it."""
    for data, grad, label, form, a, da, b, db in zip(*columns):  # type: ignore[call-overload]
        a, b = _placed(a, "_a", nodes), _placed(b, "_b", nodes)
        if type(form) is tuple:
            form = _saved_fan(form, nodes, fans)
        v = _new(Value)
        _setstate(v, (None, (data, grad, label, form, a, da, b, db)), fans)
        nodes.append(v)


def _placed(place: object, field: str, nodes: list[Value]) -> Any:
    """The parent a saved node names by its ``place`` among the nodes before it (None: no parent)."""
    if place is None:
        return None
    if type(place) is not int or not 0 <= place < len(nodes):
        raise _unpickling(field, "a node loaded before this one (the graph has a cycle)", place)
    return nodes[place]


def _saved_node(nodes: object, place: object) -> Value:
    """The node at ``place`` in a loaded graph: how a pickled Value loads."""
    if type(nodes) is not _Loaded or type(place) is not int or not 0 <= place < len(nodes):
        raise _unpickling("place", "the place of a node in its saved graph", place)
    node: Value = nodes[place]
    return node


def _copy(self: Value) -> Value:
    v = _new(Value)
    v.data, v.grad, v.label = self.data, self.grad, self.label
    v._op, v._a, v._da, v._b, v._db = self._op, self._a, self._da, self._b, self._db
    if type(form := self._op) is Fan:  # a Fan is made for one node alone
        v._op = Fan.grouped(form.op, form.groups, form.grad_groups)
    return v


def _deepcopy(self: Value, memo: dict[int, Any]) -> Value:
    # The same flat columns a pickle saves (see _SavedGraph), copied without the bytes:
    # no recursion, and the copy is checked the same way a loaded pickle is.
    # A Fan's group is copied once, and kept in the memo as any copied object is.
    outside, nodes = ancestors_not_in(self, (lambda v: id(v) in memo) if memo else None)
    saved: dict[int, tuple[int, ...]] = {}
    columns = field_columns(
        nodes, parent_places(outside, nodes), (lambda g: memo.get(id(g))) if memo else None, saved
    )
    copies = _loaded_graph(tuple(memo[id(v)] for v in outside), *columns)
    memo.update(zip(map(id, nodes), copies[len(outside) :]))
    groups = copies.groups
    memo.update((key, groups[id(places)][1]) for key, places in saved.items())
    memo.setdefault(id(memo), []).extend(nodes)  # as copy.deepcopy keeps originals alive
    return copies[-1]


def _reduce_ex(self: Value, protocol: Any) -> tuple[Any, ...]:
    graph = saved_graph(self, _loaded_graph)
    return (_saved_node, (graph, graph.places[self]))


def _setstate(self: Value, state: tuple[Any, ...], fans: _Fans | None = None) -> None:
    # How pickles saved node by node (before graphs were saved flat) load.
    self.data, self.grad, self.label, self._op, self._a, self._da, self._b, self._db = _loaded_fields(
        self, state, fans
    )


for _name, _method in (
    ("__copy__", _copy),
    ("__deepcopy__", _deepcopy),
    ("__reduce_ex__", _reduce_ex),
    ("__setstate__", _setstate),
):
    setattr(Value, _name, _method)
