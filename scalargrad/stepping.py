"""The notes' algorithms recorded step by step, to watch them run.

:func:`steps` turns one evaluation of a graph into a list of :class:`Step`, one
per node visited, in the notes' notation:

* ``"forward"``: evaluation in topological order, one node per step, its
  formula and value (``v₃ = ln(v₁) = 0.693``);
* ``"tangent"``: forward mode for one input, each node's tangent as it is
  computed (``v̇₄ = v₂·v̇₁ + v₁·v̇₂ = 5``);
* ``"reverse"``: the notes' ``node_to_grad`` algorithm: at each step the node
  visited, its list of partial adjoints and their sum, the partial adjoint
  appended to each input's list, and the whole ``node_to_grad`` after the step;
* ``"extend"``: reverse mode by extending the graph: the adjoint nodes each
  step adds to the graph.

The numbers come from the one shared walk of each method (``accumulate_adjoints``
via :func:`scalargrad.adjoints`, forward mode's :func:`scalargrad.tangents`, the
``create_graph`` walk), recorded and replayed; nothing here walks the graph a
second way. The reverse walk visits nodes in *a* reverse topological order (the
one ``backward`` uses), which may differ from the notes' v₇, v₆, v₅, … where two
nodes do not depend on each other; the lists and sums are the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar, overload

from .autodiff import adjoints
from .core import Partial, Value, topological_order
from .extension import AdjointNode, Extension
from .notation.names import BAR, TEXT, json_number, text_name
from .notation.numbering import Graph, as_outputs
from .tables import trace

__all__ = ["MODES", "Step", "Steps", "steps"]

MODES = ("forward", "tangent", "reverse", "extend")


T = TypeVar("T")
Entry = tuple[str, float]
"""A partial adjoint in a ``node_to_grad`` list: its name (``v̄2→5``, or ``"1"`` for the seed) and value."""


def _number(x: float, digits: int = 3) -> str:
    return TEXT.number(x, digits)[0]


class Prefix(Sequence[T]):
    """The first ``n`` items of a list shared by every step of a walk: a read-only sequence.

    Each step's ``done`` is one of these, so recording n steps keeps one list of n
    names rather than n copies (memory linear, not quadratic, in the graph's size).
    It compares equal to a list or tuple with the same items.
    """

    __slots__ = ("_items", "_n")

    def __init__(self, items: list[T], n: int) -> None:
        self._items, self._n = items, n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self._items[k] for k in range(*i.indices(self._n))]
        k = i + self._n if i < 0 else i
        if not 0 <= k < self._n:
            raise IndexError("index out of range")
        return self._items[k]

    def __iter__(self) -> Iterator[T]:
        return islice(self._items, self._n)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Prefix, list, tuple)):
            return len(other) == self._n and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list

    def __repr__(self) -> str:
        return repr(list(self))


class _AppendLog:
    """The reverse walk's appends to ``node_to_grad``, in order, shared by all its steps.

    ``seeds`` are the lists before the first step (each output's holds ``("1", 1.0)``);
    ``appends`` are (node, partial adjoint, value). The state after a step is the seeds
    plus a prefix of the appends; the one most recently built is kept, so reading one
    step's mapping many times builds it once.
    """

    __slots__ = ("_cached", "appends", "seeds")

    def __init__(self, seeds: dict[str, list[Entry]]) -> None:
        self.seeds = seeds
        self.appends: list[tuple[str, str, float]] = []
        self._cached: tuple[int, dict[str, list[Entry]]] | None = None

    def state(self, n: int) -> dict[str, list[Entry]]:
        """The lists after the first ``n`` appends (not to be changed: it may be shared)."""
        if self._cached is not None and self._cached[0] == n:
            return self._cached[1]
        lists = {k: list(v) for k, v in self.seeds.items()}
        for k, name, x in islice(self.appends, n):
            lists.setdefault(k, []).append((name, x))
        self._cached = (n, lists)
        return lists


class NodeToGrad(Mapping[str, list[Entry]]):
    """``node_to_grad`` after one reverse step: a read-only mapping, node name → its list.

    Built on access from the walk's one shared log of appends (so n steps cost memory
    linear in n, where n full copies would be quadratic); each lookup returns a fresh
    list. Compares equal to a dict with the same lists; ``dict(m)`` is a plain copy.
    """

    __slots__ = ("_log", "_n")

    def __init__(self, log: _AppendLog, n: int) -> None:
        self._log, self._n = log, n

    def __getitem__(self, key: str) -> list[Entry]:
        return list(self._log.state(self._n)[key])

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._log.state(self._n)))

    def __len__(self) -> int:
        return len(self._log.state(self._n))

    def __contains__(self, key: object) -> bool:
        return key in self._log.state(self._n)

    def __repr__(self) -> str:
        return repr(self._log.state(self._n))


@dataclass
class Step:
    """One step of an algorithm: plain data (names are ``v3``, ``v̄2→5``; see :func:`text_name`).

    Every mode fills ``mode``, ``index`` (1-based), ``node`` (the node visited),
    ``line`` (the step in the notes' notation), ``value`` (the node's value, tangent
    or adjoint after the step), ``done`` (nodes finished after this step, in
    order) and ``edges`` (the (from, to) node pairs this step used). ``"reverse"``
    also fills ``partials`` (the visited node's list: (partial adjoint, value)
    pairs), ``appended`` ((input node, partial adjoint, value) triples) and
    ``node_to_grad`` (every list after the step); ``"extend"`` fills ``added``
    ((adjoint node name, definition, value) triples).

    In the steps :func:`steps` records, ``done`` is a read-only sequence
    (:class:`Prefix`) and ``node_to_grad`` a read-only mapping (:class:`NodeToGrad`)
    built on access: views of one record shared by all the steps, so that the
    steps of an n-node graph take memory linear in n, not n full copies of the
    state. They compare equal to the list and dict they stand for.
    """

    mode: str
    index: int
    node: str
    line: str
    value: float
    done: Sequence[str] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    partials: list[tuple[str, float]] = field(default_factory=list)
    appended: list[tuple[str, str, float]] = field(default_factory=list)
    node_to_grad: Mapping[str, list[tuple[str, float]]] = field(default_factory=dict)
    added: list[tuple[str, str, float]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.line

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-able data (non-finite numbers as "inf", "-inf", "nan")."""
        return {
            "mode": self.mode,
            "index": self.index,
            "node": self.node,
            "line": self.line,
            "value": json_number(self.value),
            "done": list(self.done),
            "edges": [list(e) for e in self.edges],
            "partials": [[n, json_number(v)] for n, v in self.partials],
            "appended": [[k, n, json_number(v)] for k, n, v in self.appended],
            "node_to_grad": {
                k: [[n, json_number(v)] for n, v in lst] for k, lst in self.node_to_grad.items()
            },
            "added": [[n, d, json_number(v)] for n, d, v in self.added],
        }


class Steps(list[Step]):
    """The steps of one algorithm on one graph (a list of :class:`Step`), with its graph.

    ``graph`` numbers the nodes (as the trace tables and diagrams do); ``groups`` are the
    tensors the step pictures box, as (title, [(entry name, node), …]) (see
    :func:`scalargrad.draw`'s ``groups``);
    ``str(steps)`` prints one line per step; ``to_json()`` gives them as data.
    """

    def __init__(
        self,
        mode: str,
        graph: Graph,
        items: list[Step],
        wrt: Value | None = None,
        groups: Sequence[tuple[str, Sequence[tuple[str, Value]]]] = (),
    ) -> None:
        super().__init__(items)
        self.mode = mode
        self.graph = graph
        self.wrt = wrt
        self.groups = list(groups)

    def __str__(self) -> str:
        return "\n".join(f"{s.index:>3}. {s.line}" for s in self)

    def to_json(self, **kwargs: Any) -> str:
        """The steps as a JSON list (``kwargs`` go to ``json.dumps``)."""
        return json.dumps([s.to_dict() for s in self], ensure_ascii=False, allow_nan=False, **kwargs)


def steps(
    outputs: Value | Sequence[Value], *, mode: str = "reverse", wrt: Value | None = None, digits: int = 3
) -> Steps:
    """The notes' algorithm ``mode`` on the graph of ``outputs``, one :class:`Step` per node visited.

    ``mode`` is ``"forward"``, ``"tangent"`` (forward mode w.r.t. ``wrt``, default
    the first input), ``"reverse"`` (the ``node_to_grad`` algorithm) or
    ``"extend"`` (reverse mode by extending the graph). Numbers in the lines show
    ``digits`` decimals; the data keep full precision.

    >>> from scalargrad import Value
    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> s = steps(x1.log() + x1 * x2 - x2.sin())
    >>> print(s[4].line)
    visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    outs = as_outputs(outputs, "steps")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15, got {digits!r}")
    g = Graph(outs)
    if wrt is not None and (not isinstance(wrt, Value) or wrt not in g.index or wrt.op is not None):
        raise ValueError(f"wrt must be an input of the graph, got {wrt!r}")
    if mode == "forward":
        return Steps(mode, g, _forward(g, digits))
    if mode == "tangent":
        if wrt is None:
            if not g.inputs:
                raise ValueError("tangent steps need an input to differentiate against")
            wrt = g.inputs[0]
        return Steps(mode, g, _tangent(g, wrt, digits), wrt)
    if mode == "reverse":
        return Steps(mode, g, _reverse(g, digits))
    return Steps(mode, g, _extend(g, digits))


def _edges_into(g: Graph, v: Value) -> list[tuple[str, str]]:
    return [(g.name(p), g.name(v)) for p in v.parents if p in g.index]


def _forward(g: Graph, digits: int) -> list[Step]:
    t = trace(g.outputs, wrt=[], digits=digits)
    lines = t.lines(t.forward)
    out, done = [], []
    for i, v in enumerate(g.order):
        done.append(g.name(v))
        out.append(
            Step("forward", i + 1, g.name(v), lines[i], v.data, Prefix(done, i + 1), _edges_into(g, v))
        )
    return out


def _tangent(g: Graph, wrt: Value, digits: int) -> list[Step]:
    t = trace(g.outputs, wrt=wrt, digits=digits)
    table = t.tangents[0]
    lines = t.lines(table)
    out, done = [], []
    for i, (v, row) in enumerate(zip(g.order, table.rows)):
        done.append(g.name(v))
        out.append(
            Step("tangent", i + 1, g.name(v), lines[i], row.value, Prefix(done, i + 1), _edges_into(g, v))
        )
    return out


def _reverse(g: Graph, digits: int) -> list[Step]:
    """Replay the one reverse walk's record as the notes' node_to_grad algorithm."""
    node_to_grad: dict[Value, list[Partial]] = {}
    adjoint = adjoints(g.outputs, node_to_grad=node_to_grad)
    appended_by: dict[Value, list[tuple[Value, Partial]]] = {}
    for parent, received in node_to_grad.items():
        for p in received:
            if p.child is not None:
                appended_by.setdefault(p.child, []).append((parent, p))
    visit = _visit_order(g)
    log = _AppendLog({g.name(out): [("1", 1.0)] for out in g.outputs})
    out_steps: list[Step] = []
    done: list[str] = []
    for i, v in enumerate(visit):
        name = g.name(v)
        partials = [(_partial_name(g, v, p), p.value) for p in node_to_grad.get(v, [])]
        total = adjoint.get(v, 0.0)
        appended = []
        for parent, p in sorted(appended_by.get(v, []), key=lambda item: item[1].position):
            if parent not in g.index:
                continue
            pname = _partial_name(g, parent, p)
            appended.append((g.name(parent), pname, p.value))
            log.appends.append((g.name(parent), pname, p.value))
        done.append(name)
        line = _reverse_line(g, v, partials, total, appended, digits)
        edges = _edges_into(g, v)
        out_steps.append(
            Step(
                "reverse",
                i + 1,
                name,
                line,
                total,
                Prefix(done, i + 1),
                edges,
                partials=partials,
                appended=appended,
                node_to_grad=NodeToGrad(log, len(log.appends)),
            )
        )
    return out_steps


def _visit_order(g: Graph) -> list[Value]:
    """The nodes in the order the reverse walk visits them (the reverse of backward's order)."""
    return [v for v in reversed(topological_order(g.outputs)) if v in g.index]


def _partial_name(g: Graph, v: Value, p: Partial) -> str:
    if p.child is None:
        return "1"
    return g.partial_name(v, p.child, p.position)


def _reverse_line(
    g: Graph,
    v: Value,
    partials: list[tuple[str, float]],
    total: float,
    appended: list[tuple[str, str, float]],
    digits: int,
) -> str:
    name = text_name(g.name(v))
    bar = text_name(g.name(v, BAR))
    names = ", ".join(n if n == "1" else text_name(n) for n, _ in partials)
    values = ", ".join(_number(x, digits) for _, x in partials)
    listed = f"[{names}]" if names == values else f"[{names}] = [{values}]"
    line = f"visit {name}: node_to_grad[{name}] = {listed}, {bar} = {_number(total, digits)}"
    if appended:
        parts = [
            f"{text_name(pn)} = {_number(x, digits)} to node_to_grad[{text_name(k)}]" for k, pn, x in appended
        ]
        line += "; append " + ", ".join(parts)
    elif v.op is None:
        line += " (an input)"
    return line


def _extend(g: Graph, digits: int) -> list[Step]:
    """The notes' extended graph built visit by visit: the adjoint nodes each visited node adds."""
    ext = Extension(g, g.inputs, digits)
    made: dict[Value, list[AdjointNode]] = {}
    for u in ext.nodes:
        made.setdefault(u.made_at, []).append(u)
    out_steps: list[Step] = []
    done: list[str] = []
    for i, v in enumerate(_visit_order(g)):
        added = [(u.name, u.text(), u.value) for u in made.get(v, [])]
        done.append(g.name(v))
        value = float(ext.adjoint.get(v, 0.0))
        shown = ", ".join(f"{d} = {_number(x, digits)}" for _, d, x in added)
        line = f"visit {text_name(g.name(v))}: {text_name(g.name(v, BAR))} = {_number(value, digits)}"
        line += f"; adds {shown}" if added else "; adds no node"
        out_steps.append(
            Step("extend", i + 1, g.name(v), line, value, Prefix(done, i + 1), _edges_into(g, v), added=added)
        )
    return out_steps
