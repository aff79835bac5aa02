"""Differentiation methods as walks over the Value graph.

* :func:`grad` — reverse mode (the notes' ``node_to_grad`` algorithm) without
  touching ``.grad``; with ``create_graph=True`` the adjoints are built as new
  Value nodes ("reverse mode AD by extending the computational graph"), so they
  can be differentiated again, printed as formulas and drawn.
* :func:`vjp` — reverse mode's vector-Jacobian product ūᵀJ for a cotangent ū.
* :func:`jvp` — forward mode: one tangent pass in topological order (J v).
* :func:`hessian`, :func:`jacobian` — built from the above; a Hessian is shaped
  like wrt-of-wrt, as in JAX.

Gradients keep the structure of what you ask for: ``wrt`` may be a Value or any
nesting of dicts, lists and tuples of Values (the notes' "adjoint in the same data
type as the value"); :func:`tree_flatten` and :func:`tree_unflatten` do that. A NumPy
array (an object array of Values, see :func:`scalargrad.array`) is one container of
leaves: its gradient is a float array of its shape. NumPy is never imported here.
"""

from __future__ import annotations

import sys
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .core import (
    OpDefinitionError,
    Partial,
    Value,
    accumulate_adjoints,
    accumulate_tangents,
    constant,
    evaluation_order,
    real_float,
    topological_order,
)
from .core.walks import depending_on, reverse_walk

__all__ = [
    "TreeDef",
    "adjoints",
    "grad",
    "hessian",
    "jacobian",
    "jvp",
    "tangents",
    "tree_flatten",
    "tree_leaves_like",
    "tree_unflatten",
    "vjp",
]

Tree = Any
TreeDef = Callable[[list[Any]], Any]
"""Rebuilds a structure from its flat list of leaves (see :func:`tree_flatten`)."""


# --------------------------------------------------------------------------- #
# pytrees: dicts, lists, tuples (named tuples too) and NumPy arrays of leaves #
# --------------------------------------------------------------------------- #


MAX_TREE_DEPTH = 1000
"""Deepest nesting of dicts/lists/tuples that :func:`tree_flatten` accepts."""


def tree_flatten(tree: Tree) -> tuple[list[Any], TreeDef]:
    """The leaves of a nested dict/list/tuple, in order, and a function rebuilding it.

    >>> leaves, rebuild = tree_flatten({"w": [1, 2], "b": 3})
    >>> leaves, rebuild([4, 5, 6])
    ([1, 2, 3], {'w': [4, 5], 'b': 6})

    Mappings rebuild as dicts (OrderedDicts stay ordered dicts), named tuples as
    themselves, other tuples as tuples and lists as lists. A NumPy array's entries are
    leaves (in C order, never looked inside); it rebuilds as an array of its shape,
    of floats when every new leaf is a number, else of objects. The walk is iterative:
    a structure that contains itself raises ValueError, and so does one nested
    more than :data:`MAX_TREE_DEPTH` levels deep. A container that appears twice
    (without containing itself) is flattened twice.
    """
    return _flatten(tree, "the structure")


def tree_unflatten(treedef: TreeDef, leaves: Iterable[Any]) -> Tree:
    """Rebuild the structure recorded by :func:`tree_flatten` around new leaves."""
    return treedef(list(leaves))


def tree_leaves_like(tree: Tree, like: Tree, what: str = "the structure") -> list[Any]:
    """The leaves of ``tree`` in the order of ``like``'s leaves, matching dict entries by key.

    >>> tree_leaves_like({"b": 2, "a": 1}, {"a": 0, "b": 0})
    [1, 2]

    ``tree`` must have ``like``'s shape: a dict where ``like`` has one, with the same
    keys (in any order); a list or tuple of the same length where ``like`` has a list
    or tuple; a single leaf where ``like`` has a leaf. Otherwise ValueError, naming
    ``what`` and where inside it the shapes part. The walk follows ``like``, so it is
    as deep as ``like`` (which :func:`tree_flatten` accepts) and never recurses.
    """
    _flatten(like, what)  # refuses a ``like`` that contains itself or is nested too deep
    leaves: list[Any] = []
    stack: list[tuple[Any, Any, str]] = [(like, tree, what)]
    arrays = _ndarray()
    while stack:
        ref, item, where = stack.pop()
        if arrays is not None and isinstance(ref, arrays):
            entries = item if isinstance(item, arrays) else sys.modules["numpy"].asarray(item, dtype=object)
            if entries.shape != ref.shape or isinstance(item, Mapping):
                raise ValueError(f"{where} must be an array of shape {ref.shape}, got {_kind(item)}")
            leaves.extend(entries.ravel().tolist())
        elif isinstance(ref, Mapping):
            if not isinstance(item, Mapping):
                raise ValueError(f"{where} must be a dict with the keys {list(ref)}, got {_kind(item)}")
            if len(item) != len(ref) or any(k not in item for k in ref):
                raise ValueError(f"{where} must have the keys {list(ref)}, got {list(item)}")
            stack.extend((ref[k], item[k], f"{where}[{k!r}]") for k in reversed(list(ref)))
        elif isinstance(ref, (list, tuple)):
            if not isinstance(item, (list, tuple)) or len(item) != len(ref):
                raise ValueError(f"{where} must be a list or tuple of {len(ref)}, got {_kind(item)}")
            pairs = list(zip(ref, item))
            stack.extend((r, i, f"{where}[{n}]") for n, (r, i) in reversed(list(enumerate(pairs))))
        elif isinstance(item, (Mapping, list, tuple)):
            raise ValueError(f"{where} must be a single value, got {_kind(item)}")
        else:
            leaves.append(item)
    return leaves


def _ndarray() -> Any:
    """NumPy's array type if NumPy has been imported (else no value can be an array)."""
    numpy = sys.modules.get("numpy")
    return None if numpy is None else numpy.ndarray


def _kind(item: Any) -> str:
    """How an error names what it got instead: ``a dict of 2``, ``a float``."""
    name = type(item).__name__
    article = "an" if name[:1] in "aeiou" else "a"
    arrays = _ndarray()
    if arrays is not None and isinstance(item, arrays):
        return f"an array of shape {item.shape}"
    if isinstance(item, (Mapping, list, tuple)):
        return f"{article} {name} of {len(item)}"
    return f"{article} {name}"


class _Node:
    """One container or leaf of a flattened tree, in depth-first (pre-)order.

    ``kind`` is ``"leaf"`` (``index`` into the leaves), ``"array"`` (its entries are the
    leaves from ``index`` on; ``named``: its shape), ``"dict"``/``"ordered"``
    (``keys``), ``"named"`` (``named``: the tuple's type), ``"tuple"`` or ``"list"``;
    ``children`` are positions in the node list.
    """

    __slots__ = ("children", "index", "keys", "kind", "named")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.children: list[int] = []
        self.keys: list[Any] = []
        self.index = 0
        self.named: Any = None


def _flatten(tree: Tree, what: str, *, arrays_as_leaves: bool = False) -> tuple[list[Any], TreeDef]:
    """:func:`tree_flatten`, naming the structure ``what`` in its errors.

    With ``arrays_as_leaves`` a NumPy array is one leaf (itself) instead of its entries.
    """
    leaves: list[Any] = []
    nodes: list[_Node] = []
    on_path: set[int] = set()  # ids of the containers enclosing the current one
    # (item, parent position or -1, depth), or (None, container id, -1) to leave a container
    stack: list[tuple[Any, int, int]] = [(tree, -1, 0)]
    arrays = _ndarray()
    while stack:
        item, parent, depth = stack.pop()
        if depth < 0:
            on_path.discard(parent)
            continue
        position = len(nodes)
        if arrays is not None and isinstance(item, arrays) and not arrays_as_leaves:
            node = _Node("array")
            node.index = len(leaves)
            node.named = item.shape
            leaves.extend(item.ravel().tolist())
            children = None
        elif isinstance(item, Mapping):
            node = _Node("ordered" if isinstance(item, OrderedDict) else "dict")
            node.keys = list(item.keys())
            children = [item[k] for k in node.keys]
        elif isinstance(item, (list, tuple)):
            if hasattr(item, "_fields"):
                node = _Node("named")
                node.named = type(item)
            else:
                node = _Node("tuple" if isinstance(item, tuple) else "list")
            children = list(item)
        else:
            node = _Node("leaf")
            node.index = len(leaves)
            leaves.append(item)
            children = None
        nodes.append(node)
        if parent >= 0:
            nodes[parent].children.append(position)
        if children is None:
            continue
        if id(item) in on_path:
            kind = type(item).__name__
            raise ValueError(f"{what} contains itself (a {kind} inside itself), so it cannot be flattened")
        if depth >= MAX_TREE_DEPTH:
            raise ValueError(f"{what} is nested more than {MAX_TREE_DEPTH} levels deep")
        on_path.add(id(item))
        stack.append((None, id(item), -1))
        stack.extend((child, position, depth + 1) for child in reversed(children))
    count = len(leaves)

    def unflatten(new_leaves: list[Any]) -> Any:
        if len(new_leaves) != count:
            raise ValueError(f"expected {count} leaves to rebuild the structure, got {len(new_leaves)}")
        built: list[Any] = [None] * len(nodes)
        for position in range(len(nodes) - 1, -1, -1):  # children come after their parent
            node = nodes[position]
            if node.kind == "leaf":
                built[position] = new_leaves[node.index]
                continue
            if node.kind == "array":
                built[position] = _array(node.named, new_leaves, node.index)
                continue
            items = [built[c] for c in node.children]
            if node.kind == "dict":
                built[position] = dict(zip(node.keys, items))
            elif node.kind == "ordered":
                built[position] = OrderedDict(zip(node.keys, items))
            elif node.kind == "named":
                built[position] = node.named(*items)
            elif node.kind == "tuple":
                built[position] = tuple(items)
            else:
                built[position] = items
        return built[0]

    return leaves, unflatten


def _array(shape: tuple[int, ...], leaves: list[Any], start: int) -> Any:
    """``leaves[start:]``'s first entries as an array of ``shape``: floats if all are numbers."""
    numpy = sys.modules["numpy"]
    size = 1
    for n in shape:
        size *= n
    chunk = leaves[start : start + size]
    if all(isinstance(x, (int, float)) for x in chunk):
        return numpy.array(chunk, dtype=float).reshape(shape)
    return numpy.fromiter(chunk, dtype=object, count=size).reshape(shape)


def _values_in(tree: Tree, what: str) -> tuple[list[Value], TreeDef]:
    leaves, treedef = _flatten(tree, what)
    for leaf in leaves:
        if not isinstance(leaf, Value):
            raise TypeError(
                f"{what} must be Values (or dicts/lists/tuples/object arrays of Values), "
                f"found {type(leaf).__name__}: {leaf!r}"
            )
    return leaves, treedef


# --------------------------------------------------------------------------- #
# reverse mode                                                                 #
# --------------------------------------------------------------------------- #


def adjoints(
    outputs: Tree,
    seed: Tree = None,
    *,
    create_graph: bool = False,
    wrt: Value | Iterable[Value] | None = None,
    node_to_grad: dict[Value, list[Partial]] | None = None,
) -> dict[Value, Any]:
    """The notes' ``node_to_grad``: every node's adjoint, by one reverse walk.

    ``seed`` gives each output's adjoint (default 1.0 each). With
    ``create_graph=False`` adjoints are floats, from the same walk as
    ``backward`` (:func:`~scalargrad.core.walks.accumulate_adjoints`); pass a dict as
    ``node_to_grad`` to also get each node's list of partial adjoints, in the
    order they were summed. With ``create_graph=True`` they are Values built from
    each op's derivative rule (or plain numbers where the adjoint is a constant),
    and only the nodes on a path from ``wrt`` (a Value or an iterable of Values;
    anything else is a TypeError) to the outputs get one. Nodes the walk never
    reaches are absent.
    """
    if wrt is not None:
        wrt = _wrt_values(wrt)
    outs, _ = _values_in(outputs, "outputs")
    seeds = _seeds(outputs, outs, seed)
    order = topological_order(outs)
    if create_graph:
        return _graph_adjoints(order, outs, seeds, wrt, node_to_grad)
    return accumulate_adjoints(order, [(o, float(s)) for o, s in zip(outs, seeds)], node_to_grad)


def _wrt_values(wrt: Any) -> list[Value]:
    """``adjoints``' ``wrt`` as a list of Values: a Value, or an iterable of Values, else a TypeError."""
    if isinstance(wrt, Value):
        return [wrt]
    if isinstance(wrt, (str, bytes)) or not isinstance(wrt, Iterable):
        raise TypeError(
            f"wrt must be a Value or an iterable of Values, got {type(wrt).__name__}: {wrt!r:.60}"
        )
    items = list(wrt)
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(f"wrt must hold Values only, found {type(item).__name__}: {item!r:.60}")
    return items


def _seeds(outputs: Tree, outs: list[Value], seed: Tree) -> list[Any]:
    """One seed per output, matched to the outputs by position and, in dicts, by key."""
    if seed is None:
        return [1.0] * len(outs)
    seeds = tree_leaves_like(seed, outputs, "seed (shaped like the outputs, to match them)")
    floats = [s if isinstance(s, Value) else real_float(s, "a seed") for s in seeds]
    for s, f in zip(seeds, floats):
        if f is None:
            raise TypeError(f"seeds must be numbers or Values, found {type(s).__name__}: {s!r:.60}")
    return floats


def _graph_adjoints(
    order: list[Value],
    outs: list[Value],
    seeds: list[Any],
    wrt: Iterable[Value] | None,
    node_to_grad: dict[Value, list[Partial]] | None = None,
) -> dict[Value, Any]:
    """Reverse walk whose adjoints are new Value nodes (the extended graph).

    It is :func:`~scalargrad.core.walks.reverse_walk`, the walk whose float copy is
    :func:`~scalargrad.core.walks.accumulate_adjoints`, with each op's rule evaluated on
    Values instead of its float local derivatives, and constants folded.
    """
    adj = reverse_walk(
        order,
        zip(outs, seeds),
        _rule_partials,
        _times,
        _plus,
        relevant=depending_on(order, wrt),
        node_to_grad=node_to_grad,
    )
    existing = set(order).union(topological_order([s for s in seeds if isinstance(s, Value)]))
    _label_adjoints(order, adj, existing)
    return adj


def _rule_partials(v: Value) -> list[Any]:
    """dv/dparent for each of v's parents, from v's op's rule on Values (constant operands as numbers)."""
    operands = v.operands
    op = v.op
    assert op is not None
    if not op.graph_rule:
        raise OpDefinitionError(
            f"{op.name}: its derivative computes on floats when given Values (math.cos where "
            f"scalargrad.cos was meant, say), so create_graph cannot differentiate it again; write "
            f"it with scalargrad's functions (see define_op)"
        )
    partials = op.rule(
        *(p.data if isinstance(p, Value) and p.is_constant else p for p in operands), v
    )
    return [d for p, d in zip(operands, partials) if isinstance(p, Value)]


def _number(x: Any) -> float | None:
    """x as a float if it is a plain number or a constant Value, else None."""
    if isinstance(x, Value):
        return x.data if x.is_constant else None
    return float(x)


def _times(g: Any, d: Any) -> Any:
    """g * d, folding constants: no multiplications by 0 or ±1; None for a zero product."""
    gn, dn = _number(g), _number(d)
    if gn is not None and dn is not None:
        product = gn * dn
        return None if product == 0.0 else product
    for number, other in ((dn, g), (gn, d)):
        if number is not None:
            if number == 0.0:
                return None
            if number == 1.0:
                return other
            if number == -1.0:
                return -other
            return number * other
    return g * d


def _plus(total: Any, term: Any) -> Any:
    """total + term, where total None means nothing yet and zeros are not added."""
    if total is None or _number(total) == 0.0:
        return term
    if _number(term) == 0.0:
        return total
    tn, sn = _number(total), _number(term)
    if tn is not None and sn is not None:
        return tn + sn
    return total + term


def _label_adjoints(order: list[Value], adj: dict[Value, Any], existing: set[Value]) -> None:
    """Name each adjoint node this walk made after its forward node, as the notes do: ``x̄1``, ``v̄3``.

    Numbers follow :func:`evaluation_order`; where one node is the adjoint of
    several (``+`` passes its adjoint on), the one nearest the inputs names it,
    so a gradient with respect to an input carries that input's name. Nodes
    that existed before the walk (``existing``: the forward graph, the seeds)
    keep their labels.
    """
    for i, v in enumerate(evaluation_order(order)):
        a = adj.get(v)
        if isinstance(a, Value) and a not in existing and a.label is None:
            name = v.label or f"v{i + 1}"
            a.label = f"{name[0]}\u0304{name[1:]}"


def grad(
    outputs: Tree,
    wrt: Tree,
    *,
    seed: Tree = None,
    create_graph: bool = False,
) -> Tree:
    """d outputs / d wrt by reverse mode, shaped like ``wrt``; ``.grad`` is left alone.

    ``outputs`` is a Value or a structure of Values; ``seed`` (same structure,
    default 1.0 each) weights them, so several outputs give a vector-Jacobian
    product. A ``wrt`` node the outputs do not depend on gets 0.0.

    With ``create_graph=True`` every gradient is a Value: the adjoint computation
    is recorded as new graph nodes, so it can be printed (``str(g)``), drawn and
    differentiated again.

    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> y = x1.log() + x1 * x2 - x2.sin()
    >>> grad(y, {"a": x1, "b": [x2]})["a"]
    5.5
    >>> str(grad(y, x1, create_graph=True))
    'x2 + 1/x1'
    """
    targets, treedef = _values_in(wrt, "wrt")
    adj = adjoints(outputs, seed, create_graph=create_graph, wrt=targets)
    if not create_graph:
        return treedef([adj.get(t, 0.0) for t in targets])
    return treedef([_as_value(adj.get(t, 0.0)) for t in targets])


def vjp(outputs: Tree, wrt: Tree, seed: Tree, *, create_graph: bool = False) -> Tree:
    """Reverse mode's vector-Jacobian product ūᵀJ: the cotangent ``seed`` pulled back to ``wrt``.

    ``seed`` is the cotangent ū, shaped like ``outputs`` (a number, or a Value with
    ``create_graph=True``, per output; dict entries matched by key); the result is
    Σₖ ūₖ ∂outputₖ/∂wrt, shaped like ``wrt``, by one reverse walk. It is
    :func:`grad` with its ``seed`` made required: a one-hot ``seed`` gives one
    output's gradient, and ⟨ū, J v⟩ = ⟨ūᵀJ, v⟩ ties it to :func:`jvp`. With
    ``create_graph=True`` every entry is a Value, to differentiate again.

    >>> x, y = Value(2.0), Value(3.0)
    >>> vjp([x * y, x + y], {"x": x, "y": y}, [1.0, 10.0])
    {'x': 13.0, 'y': 12.0}
    """
    return grad(outputs, wrt, seed=seed, create_graph=create_graph)


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else constant(float(x))


# --------------------------------------------------------------------------- #
# forward mode                                                                 #
# --------------------------------------------------------------------------- #


def tangents(outputs: Tree, seed: Mapping[Value, float]) -> dict[Value, float]:
    """Forward mode's walk: every node's tangent v̇ for the input tangents ``seed``.

    The counterpart of :func:`adjoints`: one pass in topological order computes
    v̇_i = Σ_k (∂v_i/∂v_k) v̇_k, as in the notes. Zero tangents are structural:
    nodes whose tangent is zero are absent, and a zero tangent contributes
    nothing even where the local derivative is infinite (``sqrt`` at 0).
    """
    outs, _ = _values_in(outputs, "outputs")
    if not isinstance(seed, Mapping):
        raise TypeError(f"tangents must map input Values to numbers, got {type(seed).__name__}")
    floats: dict[Value, float] = {}
    for v, t in seed.items():
        if not isinstance(v, Value):
            raise TypeError(f"tangents' keys must be Values, found {type(v).__name__}: {v!r}")
        number = real_float(t, "a tangent")
        if number is None:
            raise TypeError(f"tangents' values must be numbers, found {type(t).__name__}: {t!r:.60}")
        floats[v] = number
    return accumulate_tangents(topological_order(outs), floats)


def jvp(outputs: Tree, seed: Mapping[Value, float] | None = None, **deprecated: Any) -> Tree:
    """Forward mode: the derivative of ``outputs`` along ``seed``, the Jacobian-vector product J v.

    ``seed`` maps input Values to their tangents v̇ (inputs not listed get 0), as
    in :func:`tangents`, whose one pass in topological order this is; the result
    has the structure of ``outputs``. The keyword ``tangents=`` is the old name of
    ``seed``: it still works, with a DeprecationWarning, for one release.

    >>> x1, x2 = Value(2.0), Value(5.0)
    >>> jvp(x1.log() + x1 * x2 - x2.sin(), {x1: 1.0})
    5.5
    """
    if deprecated:
        seed = _renamed_seed(seed, deprecated)
    if seed is None:
        raise TypeError("jvp() missing its argument 'seed' (a dict of input Values to tangents)")
    outs, treedef = _values_in(outputs, "outputs")
    found = tangents(outs, seed)
    return treedef([found.get(o, 0.0) for o in outs])


def _renamed_seed(seed: Any, keywords: dict[str, Any]) -> Any:
    """jvp's ``seed`` given by its old keyword ``tangents=`` (with a DeprecationWarning)."""
    unknown = sorted(set(keywords) - {"tangents"})
    if unknown:
        raise TypeError(f"jvp() got an unexpected keyword argument {unknown[0]!r}")
    if seed is not None:
        raise TypeError("jvp() got both 'seed' and its old name 'tangents'; pass seed only")
    warnings.warn(
        "jvp(outputs, tangents=...) is deprecated and will be removed in the next release; "
        "use jvp(outputs, seed=...) (or pass it by position)",
        DeprecationWarning,
        stacklevel=3,
    )
    return keywords["tangents"]


# --------------------------------------------------------------------------- #
# second order and Jacobians                                                   #
# --------------------------------------------------------------------------- #


def hessian(output: Value, wrt: Tree) -> Any:
    """Second derivatives ∂²output/∂wᵢ∂wⱼ by reverse mode over reverse mode, shaped like wrt-of-wrt.

    As in JAX, the result has ``wrt``'s structure, and each of its entries ``wrt``'s
    structure again: a single Value gives a float, a list a list of lists, a dict a
    dict of dicts (``h["a"]["b"]`` is ∂²output/∂a∂b). A NumPy array of Values is one
    block: entry (i, j) of arrays of shapes s and t is a float array of shape s + t.

    >>> x, y = Value(1.0), Value(3.0)
    >>> hessian(x * x * y, {"x": x, "y": y})
    {'x': {'x': 6.0, 'y': 2.0}, 'y': {'x': 2.0, 'y': 0.0}}
    >>> hessian(x * x * y, [x, y]), hessian(x * x * y, x)
    ([[6.0, 2.0], [2.0, 0.0]], 6.0)
    """
    if not isinstance(output, Value):
        raise TypeError(f"hessian needs a single Value output, got {type(output).__name__}")
    rows = _hessian_flat(output, _values_in(wrt, "wrt")[0])
    blocks, rebuild = _flatten(wrt, "wrt", arrays_as_leaves=True)
    starts = [0]
    for block in blocks:
        starts.append(starts[-1] + (1 if isinstance(block, Value) else block.size))

    def entry(i: int, j: int) -> Any:
        """Block (i, j): a float, or an array of shape (block i's shape + block j's shape)."""
        numbers = [row[starts[j] : starts[j + 1]] for row in rows[starts[i] : starts[i + 1]]]
        shape = tuple(n for b in (blocks[i], blocks[j]) if not isinstance(b, Value) for n in b.shape)
        if not shape:
            return numbers[0][0]
        return sys.modules["numpy"].array(numbers, dtype=float).reshape(shape)

    count = len(blocks)
    return rebuild([rebuild([entry(i, j) for j in range(count)]) for i in range(count)])


def _hessian_flat(output: Value, targets: list[Value]) -> list[list[float]]:
    """The n×n Hessian of ``output`` over a flat list of Values, as rows."""
    first = grad(output, targets, create_graph=True)
    return [grad(g, targets) for g in first]


def jacobian(outputs: Tree, wrt: Tree) -> list[Tree]:
    """One gradient per (flattened) output, each shaped like ``wrt``: the Jacobian's rows."""
    outs, _ = _values_in(outputs, "outputs")
    return [grad(o, wrt) for o in outs]
