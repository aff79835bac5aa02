"""The Value: one scalar node of the notes' computational graph, and what it is made of.

A :class:`Value` keeps its forward value ``data``, its adjoint ``grad``, its parents
and the *local derivative* dv_i/dv_k with respect to each parent, computed once at
forward time as plain floats. One or two parents (every op but ``dot``) sit in the
node's own fields; a node with more, a dot product of 2n operands, keeps them in a
:class:`Fan`. :meth:`Value.backward` is the notes' reverse pass over
:func:`topological_order`. The op methods (``__mul__``, ``tanh``, …) are generated from
each op's definition by :mod:`scalargrad.core.methods` (read one with
``scalargrad.graph.method_source("__mul__")``); a plain number in an op (the ``2`` in
``2 * x``) is not a node: the node keeps the number and prints it (``2*x``).

Copying and pickling graphs of any depth is :mod:`scalargrad.core.saving`'s job.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from fractions import Fraction
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar, Union

from .op import CONST, ConstantLeaf, Form, Op

Operand = Union["Value", int, float]

_new = object.__new__


class Value:
    """A scalar node of a computational graph.

    ``data`` is the forward value, ``grad`` the adjoint dy/dv accumulated by
    :meth:`backward`. Arithmetic with Values or plain numbers on either side
    builds new nodes; every op of :data:`OPS` is also a method (``x.sin()``,
    ``y.atan2(x)``). Values compare (``<``, ``<=``, ``>``, ``>=``) by ``data``,
    but ``==`` and ``hash`` are by identity, so Values can be dict keys.

    A graph is not safe to run :meth:`backward` on from two threads at once (both
    add into the same ``grad`` fields); use :func:`scalargrad.grad`, which keeps
    its adjoints in a dict of its own, from each thread instead.
    """

    __slots__ = ("_a", "_b", "_da", "_db", "_op", "data", "grad", "label")

    data: float  # the forward value v_i
    grad: float  # the adjoint v̄_i, summed by backward
    label: str | None  # the name it prints with, if any
    _op: Form | ConstantLeaf | Fan | None  # the op that made it; None for an input
    _a: Value | None  # the first parent v_k
    _da: float  # ∂v_i/∂v_k for the first parent
    _b: Value | None  # the second parent, if any
    _db: float  # ∂v_i/∂ of the second parent, or the plain-number operand of a ConstantForm
    # a node with any number of parents (a dot product) has _a and _b None and its form is a Fan

    _printer: ClassVar[Callable[..., str]]
    """How a Value prints (``str``, :meth:`formula`): :func:`scalargrad.notation.formula.formula`,
    which sets it. The notation stands on the core, so the core cannot import it."""

    def __init__(self, data: float, label: str | None = None) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data) needs a number; use the Value itself instead of wrapping it")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a str or None, got {type(label).__name__}")
        self.data = _as_float(data)
        self.grad = 0.0
        self.label = label
        self._op = None
        self._a = self._b = None
        self._da = self._db = 0.0

    if TYPE_CHECKING:  # the methods generated from OPS at import time (see method_source)
        # Python's operators, which type checkers look up on the class; every other op's method
        # (x.sin(), y.atan2(x)) through __getattr__, so the core names no op and a new op needs no stub

        def __add__(self, other: Operand) -> Value: ...
        def __radd__(self, other: Operand) -> Value: ...
        def __sub__(self, other: Operand) -> Value: ...
        def __rsub__(self, other: Operand) -> Value: ...
        def __mul__(self, other: Operand) -> Value: ...
        def __rmul__(self, other: Operand) -> Value: ...
        def __truediv__(self, other: Operand) -> Value: ...
        def __rtruediv__(self, other: Operand) -> Value: ...
        def __pow__(self, other: Operand) -> Value: ...
        def __rpow__(self, other: Operand) -> Value: ...
        def __neg__(self) -> Value: ...
        def __abs__(self) -> Value: ...
        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    # ------------------------------------------------------------------ graph
    @property
    def op(self) -> Op | None:
        """The :class:`Op` that made this node; None for an input or constant leaf."""
        form = self._op
        return None if form is None else form.op

    @property
    def is_leaf(self) -> bool:
        """True for inputs and constants: nodes without parents."""
        return self._a is None and type(self._op) is not Fan

    @property
    def is_constant(self) -> bool:
        """True for constant leaves (a zero gradient from ``grad(..., create_graph=True)``)."""
        return self._op is CONST

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order (numbers left out)."""
        if self._a is None:
            form = self._op
            return form.parents if type(form) is Fan else ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """The local derivatives d self / d parent, one per parent, as floats."""
        if self._a is None:
            form = self._op
            return form.local_grads if type(form) is Fan else ()
        return (self._da,) if self._b is None else (self._da, self._db)

    @property
    def operands(self) -> tuple[Value | float, ...]:
        """The op's operands in order: the parents, and a float where a plain number was used."""
        a = self._a
        if a is None:
            form = self._op
            return form.parents if type(form) is Fan else ()
        position = self._op.constant_at  # type: ignore[union-attr]
        if position is None:
            return (a,) if self._b is None else (a, self._b)
        return (self._db, a) if position == 0 else (a, self._db)

    def detach(self) -> Value:
        """A new leaf with the same value: gradients stop here (JAX's ``stop_gradient``)."""
        return Value(self.data)

    # -------------------------------------------------------- number protocol
    def __pos__(self) -> Value:
        return self

    def __float__(self) -> float:
        return self.data

    def __int__(self) -> int:
        return int(self.data)

    def __bool__(self) -> bool:
        return self.data != 0.0

    # Rounding is piecewise constant: these return plain numbers, outside the graph.
    def __round__(self, ndigits: int | None = None) -> int | float:
        return round(self.data) if ndigits is None else round(self.data, ndigits)

    def __trunc__(self) -> int:
        return math.trunc(self.data)

    def __floor__(self) -> int:
        return math.floor(self.data)

    def __ceil__(self) -> int:
        return math.ceil(self.data)

    def __lt__(self, other: Operand) -> bool:
        o = _compared(other)
        return NotImplemented if o is None else self.data < o

    def __le__(self, other: Operand) -> bool:
        o = _compared(other)
        return NotImplemented if o is None else self.data <= o

    def __gt__(self, other: Operand) -> bool:
        o = _compared(other)
        return NotImplemented if o is None else self.data > o

    def __ge__(self, other: Operand) -> bool:
        o = _compared(other)
        return NotImplemented if o is None else self.data >= o

    # __eq__ and __hash__ stay object identity: Values are dict keys.

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __str__(self) -> str:
        try:
            return Value._printer(self)
        except ValueError:
            return repr(self)

    def formula(self, *, max_length: int = 10_000) -> str:
        """This node's expression in infix notation with minimal parentheses."""
        return Value._printer(self, max_length=max_length)

    # ---------------------------------------------------------- reverse mode
    def backward(self, seed: float = 1.0) -> None:
        """Reverse-mode AD: add d self / d v (times ``seed``) to ``v.grad`` for every v.

        One walk in reverse topological order, summing each node's partial
        adjoints before passing its adjoint on, as the notes' ``node_to_grad``
        algorithm does. It is :func:`accumulate_adjoints` (the walk ``grad`` and the
        trace tables use) with the running sums kept in ``grad`` instead of a dict,
        which is faster; ``tests/test_walks.py`` checks that both equal the one
        generic walk, :func:`~scalargrad.core.walks.reverse_walk`, bit for bit. The
        walk starts from zero, so calling ``backward`` twice doubles every ``grad``
        instead of compounding them.
        """
        order = topological_order(self)
        carried = []
        for v in order:
            if v.grad:
                carried.append((v, v.grad))
                v.grad = 0.0
        self.grad = _as_float(seed)
        for v in reversed(order):
            a = v._a
            if a is not None:
                g = v.grad
                a.grad += g * v._da
                b = v._b
                if b is not None:
                    b.grad += g * v._db
            elif type(fan := v._op) is Fan:
                g = v.grad
                for parents, grads in zip(fan.groups, fan.grad_groups):
                    for parent, d in zip(parents, grads):
                        parent.grad += g * d
        for v, g in carried:
            v.grad += g

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 on this node and every node it depends on."""
        for v in topological_order(self):
            v.grad = 0.0


def _no_printer(value: Value, *, max_length: int = 10_000) -> str:
    raise ValueError("no formula printer is loaded: import scalargrad.notation.formula")


Value._printer = _no_printer


def _as_float(x: object) -> float:
    if isinstance(x, (int, float)) or (hasattr(x, "__float__") and not isinstance(x, (str, bytes, complex))):
        try:
            return float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    raise TypeError(f"expected a real number or a Value, got {type(x).__name__}: {x!r}")


def plain_number(x: object) -> float | None:
    """A plain real number as a float (the operand of a ConstantForm), None otherwise."""
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    return None


def real_float(x: object, what: str | None = None) -> float | None:
    """A real number given by a user (an option, a point, a seed) as a float; None if it is not one.

    Any ``numbers.Real`` but a bool or a Value counts (ints, Fractions, NumPy's
    scalars). An int or Fraction too large for a float is ±inf, for callers that
    refuse infinities with their own "must be finite" message; a caller that takes
    infinities passes ``what`` and gets a ValueError naming it instead.
    """
    if isinstance(x, (bool, Value)) or not isinstance(x, numbers.Real):
        return None
    try:
        return float(x)
    except OverflowError:
        if what is not None:
            raise ValueError(f"{what} is too large for a float: {x!r:.60}") from None
        return math.inf if isinstance(x, numbers.Rational) and int(x.numerator) > 0 else -math.inf


def _compared(other: object) -> Any:
    """What a Value's data compares with: a Value's data, a real number as it is, else None.

    A number is not converted to float first, so ``Value(0.1) > Fraction(1, 10)`` is
    ``0.1 > Fraction(1, 10)``, exactly, and a huge int or Fraction cannot overflow.
    """
    if isinstance(other, Value):
        return other.data
    if isinstance(other, (int, float, Fraction)):
        return other
    if isinstance(other, numbers.Integral):
        return int(other)
    if isinstance(other, numbers.Real):  # NumPy's float32 would round the float to its own precision
        return float(other)
    return None


def constant(x: float) -> Value:
    """A constant leaf (a gradient that is a number, from ``grad(..., create_graph=True)``)."""
    v = Value(x)
    v._op = CONST
    return v


def leaf(data: float) -> Value:
    """An unlabelled input leaf; what ops return inside :func:`no_grad`."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v._op = v._a = v._b = None
    v._da = v._db = 0.0
    return v


def node(form: Form, data: float, a: Value, da: float, b: Value | None = None, db: float = 0.0) -> Value:
    """A new op node; ``b`` None with a :class:`ConstantForm` keeps the number ``db``."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v._op = form
    v._a = a
    v._da = da
    v._b = b
    v._db = db
    return v


class Fan:
    """The form of a node with any number of parents (a dot product of 2n operands).

    A node keeps one or two parents in its own fields, which the walks read first and
    fastest; a node of a variadic op (``dot``) has ``_a`` and ``_b`` None (and ``_da``,
    ``_db`` 0.0) and its form is a Fan: its op, its parents in operand order and the
    local derivative with respect to each. Its operands are all Values: a plain
    number among them is a constant leaf. A Fan is never changed once made.

    The parents are kept in ``groups`` (tuples; joined, they are ``parents``) and their
    local derivatives likewise in ``grad_groups``, so that a group can be shared rather
    than copied: the entries of a matrix product share a row of X and a column of W
    (:meth:`grouped`). The walks read the groups; ``parents`` joins them.
    """

    __slots__ = ("grad_groups", "groups", "op")

    op: Op
    groups: tuple[tuple[Value, ...], ...]
    grad_groups: tuple[tuple[float, ...], ...]

    def __init__(self, op: Op, parents: tuple[Value, ...], local_grads: tuple[float, ...]) -> None:
        self.op = op
        self.groups = (parents,)
        self.grad_groups = (local_grads,)

    @classmethod
    def grouped(
        cls, op: Op, groups: tuple[tuple[Value, ...], ...], grad_groups: tuple[tuple[float, ...], ...]
    ) -> Fan:
        """A Fan whose parents are the groups joined, each group with its local derivatives."""
        fan = _new(cls)
        fan.op = op
        fan.groups = groups
        fan.grad_groups = grad_groups
        return fan

    @property
    def parents(self) -> tuple[Value, ...]:
        """The parents in operand order."""
        groups = self.groups
        return groups[0] if len(groups) == 1 else tuple(chain.from_iterable(groups))

    @property
    def local_grads(self) -> tuple[float, ...]:
        """The local derivative with respect to each parent, in operand order."""
        groups = self.grad_groups
        return groups[0] if len(groups) == 1 else tuple(chain.from_iterable(groups))

    def __repr__(self) -> str:
        return f"Fan({self.op.name!r}, {sum(map(len, self.groups))} parents)"


def fan_node(op: Op, data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...]) -> Value:
    """A new node of a variadic op, with its parents and their local derivatives (see :class:`Fan`)."""
    return node_of_fan(data, Fan(op, parents, local_grads))


def node_of_fan(data: float, fan: Fan) -> Value:
    """A new node of a variadic op whose form is ``fan``."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v._op = fan
    v._a = v._b = None
    v._da = v._db = 0.0
    return v


def operand_error(name: str, x: object) -> TypeError:
    """The error for an operand of op ``name`` that is neither a real number nor a Value."""
    return TypeError(f"{name}: expected a real number or a Value, got {type(x).__name__}: {x!r}")


def topological_order(outputs: Value | Iterable[Value]) -> list[Value]:
    """Every node the outputs depend on, parents before children (the notes' v1…vn).

    Iterative depth-first search, so graphs of any depth work. Parents are
    visited in operand order, which numbers the notes' example v1…v7 as they do.
    A node stays on the stack until all its parents are placed; one with two
    parents looks at both again when the search comes back to it, one with a Fan
    goes on from where it stopped (:func:`_visit_fan`), so wide nodes cost their width once.
    """
    roots = [outputs] if isinstance(outputs, Value) else list(outputs)
    order: list[Value] = []
    seen: set[Value] = set()
    resume: dict[Value, tuple[tuple[Value, ...], int]] = {}
    for root in roots:
        if not isinstance(root, Value):
            raise TypeError(f"topological_order needs Values, got {type(root).__name__}")
        if root in seen:
            continue
        seen.add(root)
        stack = [root]
        while stack:
            v = stack[-1]
            a = v._a
            if a is not None:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
                    continue
                b = v._b
                if b is not None and b not in seen:
                    seen.add(b)
                    stack.append(b)
                    continue
            elif type(fan := v._op) is Fan and _visit_fan(v, fan, seen, order, stack, resume):
                continue
            order.append(stack.pop())
    return order


def _visit_fan(
    v: Value,
    fan: Fan,
    seen: set[Value],
    order: list[Value],
    stack: list[Value],
    resume: dict[Value, tuple[tuple[Value, ...], int]],
) -> bool:
    """One step of the search at a Fan node: True if it pushed a parent, False when all are placed.

    A leaf parent is placed at once (the search would push and pop it); the next
    unseen parent with parents of its own is pushed, and ``resume`` keeps v's
    parents and where to go on when the search comes back to v.
    """
    if v in resume:
        parents, start = resume.pop(v)
    elif all(map(seen.issuperset, fan.groups)):  # the common case: every parent placed already
        return False
    else:
        parents, start = fan.parents, 0
    for i in range(start, len(parents)):
        p = parents[i]
        if p in seen:
            continue
        seen.add(p)
        if p._a is None and type(p._op) is not Fan:
            order.append(p)
            continue
        resume[v] = (parents, i + 1)
        stack.append(p)
        return True
    return False
