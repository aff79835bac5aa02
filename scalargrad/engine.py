"""The Value graph: scalar nodes, each op's single definition, and the walks over them.

A :class:`Value` is one node v_i of the notes' computational graph. It keeps its
forward value ``data``, its adjoint ``grad``, at most two parents and the *local
derivative* dv_i/dv_k with respect to each parent, computed once at forward time
as plain floats. Every differentiation method is a walk over this one graph:
:func:`accumulate_adjoints` (reverse mode, used by ``backward``, ``grad``,
``adjoints`` and the trace tables), :func:`accumulate_tangents` (forward mode),
and the walks of :mod:`scalargrad.autodiff` built on them.

Each op is defined once, as an :class:`Op` (see :mod:`scalargrad.ops` for the
built-in definitions): its name, how it prints (text and LaTeX), how it evaluates
on floats, and its derivative ``rule``, a function of the op's inputs and output
that works on floats *and* on Values. Evaluated on floats it gives the local
derivatives; evaluated on Values it builds them as new graph nodes
(``create_graph``); evaluated on named leaves and printed it gives the notes'
formulas (``cos(v2)``). A built-in op gives its forward value and its derivatives
as Python expressions over ``a``, ``b`` and ``out``; the hot Value methods
(``__mul__``, ``tanh``, …) are generated from those expressions at import time,
and :func:`method_source` shows the code of any of them.

A plain number in an op (the ``2`` in ``2 * x``) is not a node: the node keeps the
number itself and prints it as a constant (``2*x``).
"""

from __future__ import annotations

import itertools
import linecache
import math
import numbers
import pickle
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple, Union

__all__ = [
    "OPS",
    "Op",
    "OpDefinitionError",
    "Partial",
    "Value",
    "accumulate_adjoints",
    "accumulate_tangents",
    "count_ops",
    "define_op",
    "evaluation_order",
    "formula",
    "formula_parts",
    "method_source",
    "no_grad",
    "topological_order",
]

Operand = Union["Value", int, float]
Rule = Callable[..., tuple[Any, ...]]

ATOM = 9  # precedence of leaves, constants and function calls: never parenthesised

DOMAINS: dict[str, str] = {
    "real": "any real number",
    "positive": "x > 0",
    "nonzero": "x != 0",
    "unit": "-1 < x < 1",
    "above_minus_one": "x > -1",
    "bounded": "|x| <= 1 (the op overflows or has poles further out)",
}
"""Where an op's argument may lie, by name. Strategies in :mod:`scalargrad.testing`
keep random expressions inside these domains, and :func:`scalargrad.check_op` draws
its points from them."""


class OpDefinitionError(TypeError, ValueError):
    """A user-defined op is defined wrongly: a bad name or LaTeX template at :func:`define_op`,
    or, wherever the op runs, an ``evaluate`` that returns no real number or a derivative
    that returns the wrong count or type.

    It is both a TypeError and a ValueError, the types :func:`define_op` raised for
    these mistakes before, so existing ``except`` clauses keep working.
    """


class Op:
    """The single definition of one operation.

    * ``name``: the key in :data:`OPS`, the Value method and the module function.
    * ``arity``: 1 or 2 operands.
    * ``evaluate(*floats)``: the forward value on floats, raising ``math``'s
      exception types with a message that names the op.
    * ``rule(*inputs, out)``: the local derivatives d out / d input, one per
      input, on floats or on Values alike.
    * ``symbol``, ``notation`` (``"infix"`` ``a * b``, ``"prefix"`` ``-a`` or
      ``"call"`` ``sin(a)``), ``precedence`` and ``latex`` (a template over
      ``{0}``, ``{1}``): how it prints.
    * ``domains``: one :data:`DOMAINS` name per operand; ``smooth``: False for
      ops with kinks (``relu``, ``abs``), which random tests leave out by default.
    * ``source``: for built-in ops, the Python expressions of the forward value
      and of each derivative that the hot methods are generated from.

    Calling an op applies it: a new node when an operand is a Value, a float for
    plain numbers. Ops pickle and copy by name, so a copied graph keeps the
    registered ops.
    """

    __slots__ = (
        "arity",
        "builtin",
        "domains",
        "evaluate",
        "latex",
        "name",
        "notation",
        "precedence",
        "rule",
        "smooth",
        "source",
        "symbol",
        "with_constant",
    )

    def __init__(
        self,
        name: str,
        *,
        arity: int,
        evaluate: Callable[..., float],
        rule: Rule,
        symbol: str | None = None,
        notation: str = "call",
        precedence: int = ATOM,
        latex: str | None = None,
        domains: tuple[str, ...] | None = None,
        smooth: bool = True,
        builtin: bool = False,
        source: tuple[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.evaluate = evaluate
        self.rule = rule
        self.symbol = name if symbol is None else symbol
        self.notation = notation
        self.precedence = precedence
        if latex is None:
            args = ", ".join(f"{{{i}}}" for i in range(arity))
            escaped = name.replace("_", r"\_")
            latex = rf"\operatorname{{{{{escaped}}}}}\left({args}\right)"
        self.latex = latex
        self.domains = domains or ("real",) * arity
        self.smooth = smooth
        self.builtin = builtin
        self.source = source
        self.with_constant = tuple(ConstantForm(self, i) for i in range(arity)) if arity == 2 else ()

    @property
    def op(self) -> Op:
        """As a node's form (see :class:`ConstantForm`): the op itself, applied to Values only."""
        return self

    @property
    def constant_at(self) -> int | None:
        """As a node's form: no operand is a plain number."""
        return None

    def __call__(self, *operands: Any) -> Any:
        """Apply the op: a node if an operand is a Value, else a float."""
        return apply(self, operands)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (registered_op, (self.name,))


class ConstantForm:
    """How a node applies a binary op whose operand ``constant_at`` is a plain number.

    The node keeps the number in its second slot instead of a constant node, so
    ``x * 2`` costs one node; the number still prints (``2*x``) and is passed to
    the op's rule in its place.
    """

    __slots__ = ("constant_at", "op")

    def __init__(self, op: Op, constant_at: int) -> None:
        self.op = op
        self.constant_at = constant_at

    def __repr__(self) -> str:
        return f"ConstantForm({self.op.name!r}, constant_at={self.constant_at})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (registered_form, (self.op.name, self.constant_at))


Form = Op | ConstantForm

OPS: dict[str, Op] = {}
"""Every op by name, e.g. ``OPS["mul"]``: built-in ops and those from :func:`define_op`."""


def registered_op(name: str) -> Op:
    """The op registered as ``name``; how pickled and copied graphs find their ops."""
    if name == CONST.name:  # the form of constant leaves, not an op of OPS
        return CONST
    try:
        return OPS[name]
    except KeyError:
        raise LookupError(
            f"no op named {name!r} is registered; define it (define_op) before loading a graph that uses it"
        ) from None


def registered_form(name: str, constant_at: int) -> ConstantForm:
    """The constant-operand form of a registered binary op (for pickles and copies)."""
    return registered_op(name).with_constant[constant_at]


# --------------------------------------------------------------------------- #
# The Value                                                                    #
# --------------------------------------------------------------------------- #

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

    data: float
    grad: float
    label: str | None
    _op: Form | None
    _a: Value | None
    _da: float
    _b: Value | None
    _db: float  # d self / d _b, or the plain-number operand of a ConstantForm

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
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...
        def tan(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def relu(self) -> Value: ...
        def atan(self) -> Value: ...
        def asin(self) -> Value: ...
        def acos(self) -> Value: ...
        def sinh(self) -> Value: ...
        def cosh(self) -> Value: ...
        def log1p(self) -> Value: ...
        def expm1(self) -> Value: ...
        def log2(self) -> Value: ...
        def log10(self) -> Value: ...
        def erf(self) -> Value: ...
        def softplus(self) -> Value: ...
        def atan2(self, other: Operand) -> Value: ...
        def hypot(self, other: Operand) -> Value: ...
        def minimum(self, other: Operand) -> Value: ...
        def maximum(self, other: Operand) -> Value: ...

    # ------------------------------------------------------------------ graph
    @property
    def op(self) -> Op | None:
        """The :class:`Op` that made this node; None for an input or constant leaf."""
        form = self._op
        return None if form is None or form is CONST else form.op

    @property
    def is_leaf(self) -> bool:
        """True for inputs and constants: nodes without parents."""
        return self._a is None

    @property
    def is_constant(self) -> bool:
        """True for constant leaves (a zero gradient from ``grad(..., create_graph=True)``)."""
        return self._op is CONST

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order (numbers left out)."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """The local derivatives d self / d parent, one per parent, as floats."""
        if self._a is None:
            return ()
        return (self._da,) if self._b is None else (self._da, self._db)

    @property
    def operands(self) -> tuple[Value | float, ...]:
        """The op's operands in order: the parents, and a float where a plain number was used."""
        a = self._a
        if a is None:
            return ()
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
            return formula(self)
        except ValueError:
            return repr(self)

    def formula(self, *, max_length: int = 10_000) -> str:
        """This node's expression in infix notation with minimal parentheses."""
        return formula(self, max_length=max_length)

    # ---------------------------------------------------------- reverse mode
    def backward(self, seed: float = 1.0) -> None:
        """Reverse-mode AD: add d self / d v (times ``seed``) to ``v.grad`` for every v.

        One walk in reverse topological order, summing each node's partial
        adjoints before passing its adjoint on, as the notes' ``node_to_grad``
        algorithm does. It is :func:`accumulate_adjoints` (the walk ``grad`` and the
        trace tables use) with the running sums kept in ``grad`` instead of a dict,
        which is faster; ``tests/test_engine.py`` checks the two bit for bit. The
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
        for v, g in carried:
            v.grad += g

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 on this node and every node it depends on."""
        for v in topological_order(self):
            v.grad = 0.0

    # ---------------------------------------------------------- copy, pickle
    def __copy__(self) -> Value:
        v = _new(Value)
        v.data, v.grad, v.label = self.data, self.grad, self.label
        v._op, v._a, v._da, v._b, v._db = self._op, self._a, self._da, self._b, self._db
        return v

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # A graph is saved parents first, so no node's parents are saved inside it and
        # 10⁵-deep graphs neither recurse nor hit the recursion limit: the first node
        # saved lists its ancestors in topological order; they are saved flat.
        fields = (self.data, self.grad, self.label, self._op, self._a, self._da, self._b, self._db)
        key = id(self)
        if key in _saving:
            return (_new, (Value,), (None, fields))
        ancestors = topological_order(self)[:-1]
        for v in ancestors:
            _saving[id(v)] = _saving.get(id(v), 0) + 1
        return (_new, (Value,), (tuple(ancestors), fields, _Saved([id(v) for v in ancestors])))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        # A pickle saved by __reduce_ex__ loads parents before children; checking that each
        # node is loaded once, after its parents, is what rules out cycles, in O(1) a node.
        # The common cases are checked inline (loading is a hot path); _loaded_fields checks
        # everything again and says what is wrong.
        try:
            data, grad, label, form, a, da, b, db = fields = state[1]
        except (TypeError, ValueError, IndexError, KeyError):
            fields = _loaded_fields(self, state)
        else:
            if not (
                type(data) is float
                and type(grad) is float
                and type(da) is float
                and type(db) is float
                and (label is None or type(label) is str)
                and not hasattr(self, "data")
                and (
                    (a is None and b is None and (form is None or form is CONST))
                    or (
                        type(form) is Op
                        and OPS.get(form.name) is form
                        and type(a) is Value
                        and hasattr(a, "data")
                        and (b is None if form.arity == 1 else (type(b) is Value and hasattr(b, "data")))
                    )
                    or (
                        type(form) is ConstantForm
                        and form in _FORMS
                        and OPS.get(form.op.name) is form.op
                        and type(a) is Value
                        and hasattr(a, "data")
                        and b is None
                    )
                )
            ):
                fields = _loaded_fields(self, state)
        self.data, self.grad, self.label, self._op, self._a, self._da, self._b, self._db = fields


def _loaded_fields(v: Value, state: object) -> tuple[Any, ...]:
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


def _unpickling(field: str, expected: str, got: object) -> pickle.UnpicklingError:
    """The error for a loaded node's field that is not what a graph holds."""
    shown = type(got).__name__ if isinstance(got, Value) else _shown(got)
    return pickle.UnpicklingError(
        f"not a scalargrad graph: a Value's {field} must be {expected}, got {shown}"
    )


_saving: dict[int, int] = {}
"""ids of nodes whose graph is being pickled or deep-copied, saved flat (see __reduce_ex__)."""


class _Saved:
    """Saved last with a graph: takes its nodes off :data:`_saving`.

    If saving stops before it gets here (a full disk, an unpicklable label), the
    pickler drops it unsaved, and being garbage releases the nodes just the same,
    so a failed pickle leaves nothing behind to confuse the next one.
    """

    __slots__ = ("__weakref__", "_release")

    def __init__(self, ids: list[int]) -> None:
        self._release = weakref.finalize(self, _release, ids)

    def __reduce__(self) -> tuple[Any, ...]:
        self._release()
        return (type(None), ())

    def __deepcopy__(self, memo: dict[int, Any]) -> None:
        self._release()


def _release(ids: list[int]) -> None:
    for key in ids:
        count = _saving.get(key, 0) - 1
        if count > 0:
            _saving[key] = count
        else:
            _saving.pop(key, None)


def _as_float(x: object) -> float:
    if isinstance(x, (int, float)) or (hasattr(x, "__float__") and not isinstance(x, (str, bytes, complex))):
        try:
            return float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    raise TypeError(f"expected a real number or a Value, got {type(x).__name__}: {x!r}")


def _number(x: object) -> float | None:
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


def _grad_enabled() -> bool:
    return _no_grad_depth == 0


def apply(op: Op, operands: tuple[Any, ...]) -> Any:
    """``op`` on Values or numbers: the generic path of every op (user-defined ones too)."""
    if len(operands) != op.arity:
        raise TypeError(
            f"{op.name} takes {op.arity} operand{'s' if op.arity > 1 else ''}, got {len(operands)}"
        )
    if op.builtin and type(operands[0]) is Value:  # the generated method: the fast path
        method: Callable[..., Any] = getattr(operands[0], _DUNDERS.get(op.name, (op.name,))[0])
        result = method(*operands[1:])
        if result is NotImplemented:
            raise operand_error(op.name, operands[1])
        return result
    floats = []
    values: list[Value | None] = []
    for x in operands:
        if isinstance(x, Value):
            floats.append(x.data)
            values.append(x)
            continue
        number = _number(x)
        if number is None:
            raise operand_error(op.name, x)
        floats.append(number)
        values.append(None)
    out = float(op.evaluate(*floats))
    if all(v is None for v in values):
        return out
    if not _grad_enabled():
        return leaf(out)
    grads = _checked_grads(op, op.rule(*floats, out))
    if op.arity == 1:
        return node(op, out, values[0], grads[0])  # type: ignore[arg-type]
    a, b = values
    if a is not None and b is not None:
        return node(op, out, a, grads[0], b, grads[1])
    if a is None:
        return node(op.with_constant[0], out, b, grads[1], None, floats[0])  # type: ignore[arg-type]
    return node(op.with_constant[1], out, a, grads[0], None, floats[1])


def operand_error(name: str, x: object) -> TypeError:
    """The error for an operand of op ``name`` that is neither a real number nor a Value."""
    return TypeError(f"{name}: expected a real number or a Value, got {type(x).__name__}: {x!r}")


def _checked_grads(op: Op, grads: Any) -> tuple[float, ...]:
    try:
        return tuple(float(g) for g in grads)
    except (TypeError, ValueError):
        raise TypeError(f"{op.name}: its rule must return numbers, got {grads!r}") from None


# --------------------------------------------------------------------------- #
# no_grad                                                                      #
# --------------------------------------------------------------------------- #

_no_grad_depth = 0
_no_grad_lock = threading.Lock()
_GRAPH_METHODS: dict[str, Callable[..., Any]] = {}
_NO_GRAPH_METHODS: dict[str, Callable[..., Any]] = {}


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside ``with no_grad():`` ops on Values build no graph.

    Each op returns a new *leaf* Value (no parents, no label) holding the result,
    so code that reads ``.data`` or keeps computing keeps working; nothing is
    recorded for ``backward``. Use it to update parameters or evaluate a model
    without paying for a graph. It switches the op methods of :class:`Value`
    for the whole process (that is what keeps ops outside it at full speed), so
    other threads build no graph while it is active either. Nests.
    """
    global _no_grad_depth
    with _no_grad_lock:
        _no_grad_depth += 1
        if _no_grad_depth == 1:
            for name, fn in _NO_GRAPH_METHODS.items():
                setattr(Value, name, fn)
    try:
        yield
    finally:
        with _no_grad_lock:
            _no_grad_depth -= 1
            if _no_grad_depth == 0:
                for name, fn in _GRAPH_METHODS.items():
                    setattr(Value, name, fn)


# --------------------------------------------------------------------------- #
# Defining ops                                                                 #
# --------------------------------------------------------------------------- #

_DUNDERS = {
    "add": ("__add__", "__radd__"),
    "sub": ("__sub__", "__rsub__"),
    "mul": ("__mul__", "__rmul__"),
    "div": ("__truediv__", "__rtruediv__"),
    "pow": ("__pow__", "__rpow__"),
    "neg": ("__neg__",),
    "abs": ("__abs__",),
}


def _building(indent: str, form: str, da: str, b: str, db: str) -> str:
    """The lines of a generated method that make the node ``out`` (the same in every method)."""
    lines = [
        "v = _new(Value)",
        "v.data = out",
        "v.grad = 0.0",
        "v.label = None",
        f"v._op = {form}",
        "v._a = self",
        f"v._da = {da}",
        f"v._b = {b}",
        f"v._db = {db}",
        "return v",
    ]
    return "".join(f"{indent}{line}\n" for line in lines)


_UNARY_METHOD = '''\
def {method}(self):
    """{doc}"""
    a = self.data
    out = {value}
''' + _building("    ", "{op}", "{da}", "None", "0.0")

_BINARY_METHOD = (
    '''\
def {method}(self, other):
    """{doc}"""
    a = self.data
    if type(other) is Value:
        b = other.data
        out = {value}
'''
    + _building("        ", "{op}", "{da}", "other", "{db}")
    + """\
    b = other if type(other) is float else _number(other)
    if b is None:
        {refuse}
    out = {value}
"""
    + _building("    ", "{op}_NUMBER_SECOND", "{da}", "None", "b")
)

_REFLECTED_METHOD = '''\
def {method}(self, other):
    """{doc} (a plain number on the left)"""
    a = other if type(other) is float else _number(other)
    if a is None:
        return NotImplemented
    b = self.data
    out = {value}
''' + _building("    ", "{op}_NUMBER_FIRST", "{db}", "None", "a")

_NO_GRAPH_METHOD = '''\
def {method}(self{other}):
    """{doc} (inside no_grad: a leaf, no graph)"""
    a = {a}
    b = {b}
    if a is None or b is None:
        {refuse}
    return leaf({value})
'''

FLOAT_NAMESPACE: dict[str, Any] = {}
"""Names the built-in ops' source expressions see when run on floats (the hot methods)."""
GRAPH_NAMESPACE: dict[str, Any] = {}
"""Names the built-in ops' derivative expressions see as rules (on floats or Values)."""
_SOURCES: dict[str, str] = {}
_generated = itertools.count()


def _generate(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Compile generated ``source`` defining ``name``; tracebacks and :mod:`inspect` show it."""
    filename = f"<scalargrad generated {name} #{next(_generated)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    defined: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace, defined)
    fn: Callable[..., Any] = defined[name]
    fn.__module__ = __name__
    return fn


def _constant_name(op: Op) -> str:
    return f"OP_{op.name.upper()}"


def _install_methods(op: Op) -> None:
    """Generate the Value methods of a built-in op from its source expressions."""
    assert op.source is not None
    value, derivatives = op.source
    namespace = FLOAT_NAMESPACE
    constant = _constant_name(op)
    namespace[constant] = op
    doc = (
        f"{op.name}: {op.symbol if op.notation != 'call' else op.name}; derivatives {', '.join(derivatives)}."
    )
    names = _DUNDERS.get(op.name, (op.name,))
    fields = {"value": value, "op": constant, "doc": doc, "da": derivatives[0]}
    # an operator method hands a foreign operand back to Python; a named method refuses it
    refuse = "return NotImplemented" if op.name in _DUNDERS else f"raise operand_error({op.name!r}, other)"
    fields["refuse"] = refuse
    if op.arity == 1:
        sources = {names[0]: _UNARY_METHOD.format(method=names[0], **fields)}
        no_graph = {
            names[0]: _NO_GRAPH_METHOD.format(method=names[0], other="", a="self.data", b="0.0", **fields)
        }
    else:
        namespace[constant + "_NUMBER_FIRST"], namespace[constant + "_NUMBER_SECOND"] = op.with_constant
        fields["db"] = derivatives[1]
        sources = {names[0]: _BINARY_METHOD.format(method=names[0], **fields)}
        other = "other.data if type(other) is Value else _number(other)"
        no_graph = {
            names[0]: _NO_GRAPH_METHOD.format(
                method=names[0], other=", other", a="self.data", b=other, **fields
            )
        }
        if len(names) > 1:
            sources[names[1]] = _REFLECTED_METHOD.format(method=names[1], **fields)
            reflected = {**fields, "refuse": "return NotImplemented"}
            no_graph[names[1]] = _NO_GRAPH_METHOD.format(
                method=names[1], other=", other", a="_number(other)", b="self.data", **reflected
            )
    for method, source in sources.items():
        _SOURCES[method] = source
        fn = _generate(method, source, namespace)
        _GRAPH_METHODS[method] = fn
        setattr(Value, method, fn)
        _NO_GRAPH_METHODS[method] = _generate(method, no_graph[method], namespace)


def method_source(name: str) -> str:
    """The generated source of a Value method, e.g. ``method_source("__mul__")``.

    The hot methods are built from each op's definition at import time; this is
    the code they run, for reading (``print(method_source("tanh"))``).
    """
    try:
        return _SOURCES[name]
    except KeyError:
        raise LookupError(f"no generated method {name!r}; generated: {', '.join(sorted(_SOURCES))}") from None


def _rule_from_source(name: str, arity: int, derivatives: tuple[str, ...]) -> Rule:
    params = "a, out" if arity == 1 else "a, b, out"
    body = ", ".join(derivatives) + ("," if arity == 1 else "")
    source = f"def rule_{name}({params}):\n    return ({body})\n"
    return _generate(f"rule_{name}", source, GRAPH_NAMESPACE)


def _evaluator_from_source(name: str, arity: int, value: str) -> Callable[..., float]:
    params = "a" if arity == 1 else "a, b"
    return _generate(
        f"evaluate_{name}", f"def evaluate_{name}({params}):\n    return {value}\n", FLOAT_NAMESPACE
    )


def builtin_op(
    name: str,
    value: str,
    derivatives: tuple[str, ...],
    *,
    symbol: str | None = None,
    notation: str = "call",
    precedence: int = ATOM,
    latex: str | None = None,
    domains: tuple[str, ...] | None = None,
    smooth: bool = True,
) -> Op:
    """Define a built-in op from Python expressions (see :mod:`scalargrad.ops`).

    ``value`` computes the forward value from ``a`` (and ``b``); each of
    ``derivatives`` computes one local derivative from ``a``, ``b`` and ``out``.
    Names in them resolve to floats' functions in the generated hot methods and
    to scalargrad's functions in the rule, so one expression serves both.
    """
    arity = len(derivatives)
    op = Op(
        name,
        arity=arity,
        evaluate=_evaluator_from_source(name, arity, value),
        rule=_rule_from_source(name, arity, derivatives),
        symbol=symbol,
        notation=notation,
        precedence=precedence,
        latex=latex,
        domains=domains,
        smooth=smooth,
        builtin=True,
        source=(value, derivatives),
    )
    _register(op)
    _install_methods(op)
    return op


def _register(op: Op) -> None:
    if op.name in OPS:
        raise ValueError(f"an op named {op.name!r} is already defined; choose another name")
    OPS[op.name] = op
    _FORMS.update(op.with_constant)


_FORMS: set[ConstantForm] = set()
"""The constant-operand forms of the ops ever registered (a fast check for loading pickles)."""


def _check_name(name: object) -> str:
    """``name`` if it is a free ASCII identifier, else a clear error.

    Python reads identifiers in NFKC form, so ``ﬁ`` and ``fi`` would be one name in
    compiled code: names are compared in NFKC form, and a name must be ASCII, so
    every name :func:`scalargrad.compile` and the command line write is the name
    you gave.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise OpDefinitionError(f"an op's name must be an identifier not starting with '_', got {name!r}")
    normal = unicodedata.normalize("NFKC", name)
    taken = next((other for other in OPS if unicodedata.normalize("NFKC", other) == normal), None)
    if taken == name:
        raise OpDefinitionError(f"an op named {name!r} is already defined; choose another name")
    if taken is not None:
        raise OpDefinitionError(
            f"an op's name {name!r} reads as {normal!r} once normalised (NFKC, as Python reads names), "
            f"the same as the op {taken!r} already defined; choose another name"
        )
    if not name.isascii():
        reads = f" (Python reads it as {normal!r})" if normal != name else ""
        raise OpDefinitionError(
            f"an op's name must be ASCII (letters a-z, A-Z, digits, '_'), got {name!r}{reads}: compiled "
            "code and the command line write it as a Python name"
        )
    if hasattr(Value, name):
        raise OpDefinitionError(f"{name!r} is already a Value attribute; choose another name")
    if name == CONST.name:
        raise OpDefinitionError(f"{name!r} names the form of constant leaves; choose another name")
    return name


def _check_latex(name: str, arity: int, latex: object) -> str | None:
    """A user op's ``latex=``: None, or a ``str.format`` template over the op's operands."""
    if latex is None:
        return None
    if not isinstance(latex, str):
        raise OpDefinitionError(
            f"{name}: latex must be a str.format template such as r'\\operatorname{{{{{name}}}}}"
            f"\\left({{0}}\\right)' (or None), got {type(latex).__name__}: {latex!r:.60}"
        )
    operands = ["x", "y"][:arity]
    try:
        latex.format(*operands)
    except (IndexError, KeyError, ValueError, AttributeError, TypeError) as e:
        fields = " and ".join(f"{{{i}}}" for i in range(arity))
        raise OpDefinitionError(
            f"{name}: latex={latex!r:.80} is not a template over {fields} "
            f"({type(e).__name__}: {e}); it is a str.format template: write the operand"
            f"{'s' if arity > 1 else ''} as {fields} and double literal braces, as in "
            f"r'\\operatorname{{{{{name}}}}}\\left({{0}}\\right)'"
        ) from None
    return latex


def _shown(x: object) -> str:
    """A returned object for an error message: its repr (cut short) and type."""
    text = repr(x)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(x).__name__})"


def _call(name: str, args: tuple[Any, ...]) -> str:
    """The point an op ran at, for an error message: ``derivative(5.0, out=25.0)``."""
    shown = [repr(x.data if isinstance(x, Value) else x) for x in args]
    if name == "derivative":
        shown[-1] = f"out={shown[-1]}"
    return f"{name}({', '.join(shown)})"


def _is_number(x: object) -> bool:
    """A real number an op may return: any ``numbers.Real`` but a bool or a Value."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, Value))


def _checked_evaluate(name: str, evaluate: Callable[..., Any]) -> Callable[..., Any]:
    """``evaluate``, refusing a result that is not a real number wherever the op runs."""

    def checked(*xs: float) -> Any:
        out = evaluate(*xs)
        if type(out) is float or _is_number(out):
            return out
        raise OpDefinitionError(
            f"{name}: {_call('evaluate', xs)} returned {_shown(out)}; it must return a real number"
        )

    checked.__wrapped__ = evaluate  # type: ignore[attr-defined]
    return checked


def _checked_rule(name: str, arity: int, derivative: Callable[..., Any]) -> Rule:
    """``derivative`` as a rule: always a tuple of one number or Value per operand, or an error.

    The check runs wherever the op's rule runs (forward, ``create_graph``, trace
    tables, compiled code), not only where :func:`define_op` first tries it. A
    bare result is fine for one operand.
    """

    def rule(*args: Any) -> tuple[Any, ...]:
        result = derivative(*args)
        if isinstance(result, (tuple, list)):
            grads = tuple(result)
        elif arity == 1:
            grads = (result,)
        else:
            raise OpDefinitionError(
                f"{name}: {_call('derivative', args)} returned {_shown(result)}; it must return "
                f"{arity} local derivatives (one per operand)"
            )
        if len(grads) != arity:
            raise OpDefinitionError(
                f"{name}: derivative must return {arity} local derivative{'s' if arity > 1 else ''} "
                f"(one per operand), got {len(grads)} at {_call('derivative', args)}: {_shown(result)}"
            )
        for g in grads:
            if type(g) is not float and not isinstance(g, Value) and not _is_number(g):
                raise OpDefinitionError(
                    f"{name}: {_call('derivative', args)} returned {_shown(result)}; each local "
                    "derivative must be a real number or a Value"
                )
        return grads

    rule.__wrapped__ = derivative  # type: ignore[attr-defined]
    return rule


def define_op(
    name: str,
    evaluate: Callable[..., float],
    derivative: Callable[..., Any],
    *,
    arity: int = 1,
    domain: str | tuple[str, ...] = "real",
    smooth: bool = True,
    symbol: str | None = None,
    latex: str | None = None,
) -> Op:
    """Add a primitive op: ``name``, its forward value and its derivative rule.

    ``evaluate(*xs)`` computes the value on floats. ``derivative(*xs, out)``
    returns the local derivatives d out / d x, one per operand (a bare number is
    fine for one operand), and must work on floats *and* on Values: write it
    with operators and scalargrad's functions (``scalargrad.exp``, not
    ``math.exp``), so that ``grad(..., create_graph=True)`` can build it as a
    graph and differentiate it again. The op then works everywhere a built-in
    op does: ``backward``, ``grad``, ``jvp``, ``hessian``, formulas, trace
    tables, diagrams, ``gradcheck``, and ``scalargrad.testing.expressions(ops=[...,
    name])``, which keeps it inside ``domain`` (a :data:`DOMAINS` name, or one per
    operand). Check it with :func:`scalargrad.check_op`.

    ``name`` must be an ASCII identifier (compiled code and the command line
    write it as a Python name) and differ from every op's name even in NFKC
    form. ``latex`` is a ``str.format`` template over ``{0}`` (and ``{1}``), the
    operands' LaTeX, so literal braces are doubled:
    ``r"\\operatorname{{f}}\\left({0}\\right)"``; the default is that form.

    >>> import math, scalargrad as sg
    >>> softplus = define_op("smooth_relu", lambda x: math.log1p(math.exp(x)),
    ...                      lambda x, out: sg.sigmoid(x))
    >>> x = Value(0.0, label="x")
    >>> y = softplus(x)
    >>> round(y.data, 4), sg.grad(y, x), str(y)
    (0.6931, 0.5, 'smooth_relu(x)')

    Raises :class:`OpDefinitionError` (a TypeError and a ValueError) for a name
    already taken or not ASCII, a bad ``latex`` template, and a ``derivative``
    that does not return one number per operand where it is first tried; and
    later, wherever the op runs, for an ``evaluate`` that returns no real number
    or a ``derivative`` that returns the wrong count or type there (user ops
    pay one check per call; built-in ops none).
    """
    _check_name(name)
    if arity not in (1, 2):
        raise ValueError(f"arity must be 1 or 2, got {arity!r}")
    if not callable(evaluate) or not callable(derivative):
        raise TypeError("evaluate and derivative must be callables")
    domains = (domain,) * arity if isinstance(domain, str) else tuple(domain)
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown or len(domains) != arity:
        raise ValueError(f"domain must be one of {sorted(DOMAINS)} (or one per operand), got {domain!r}")
    op = Op(
        name,
        arity=arity,
        evaluate=_checked_evaluate(name, evaluate),
        rule=_checked_rule(name, arity, derivative),
        symbol=_check_symbol(name, symbol),
        latex=_check_latex(name, arity, latex),
        domains=domains,
        smooth=smooth,
    )
    _check_rule(op)
    _register(op)
    return op


def _check_symbol(name: str, symbol: object) -> str | None:
    """A user op's ``symbol``: None (its name) or a non-empty string of visible characters,
    since formulas, tables and diagrams print it as it is."""
    if symbol is None:
        return None
    if not isinstance(symbol, str) or not symbol or not symbol.isprintable() or symbol != symbol.strip():
        raise OpDefinitionError(
            f"{name}: symbol must be a non-empty string of visible characters (no spaces at its "
            f"ends, no control characters), got {symbol!r}"
        )
    return symbol


_PROBES = (0.5, 1.5, 2.5, -0.5, 0.25, 3.5)
"""Where :func:`define_op` first tries a new op (the same number for every operand)."""


def _check_rule(op: Op) -> None:
    """Call a new op's rule once where it is defined: one number per operand, or a clear error.

    The first of :data:`_PROBES` where the value and the rule both compute is used
    (an op defined only for x ≥ 1, or with a pole at 0.5, is fine); an error other
    than a math error (a wrong signature, say) is reported at once. The op's
    checked callables refuse a wrong count or type here as anywhere else.
    """
    failures = []
    for probe in _PROBES:
        point = (probe,) * op.arity
        try:
            out = float(op.evaluate(*point))
        except OpDefinitionError:
            raise
        except (ArithmeticError, ValueError) as e:
            failures.append(f"evaluate{point}: {e}")
            continue
        except Exception as e:
            raise OpDefinitionError(f"{op.name}: evaluate{point} failed: {e}") from None
        try:
            grads = op.rule(*point, out)
        except OpDefinitionError:
            raise
        except (ArithmeticError, ValueError) as e:
            failures.append(f"derivative{(*point, out)}: {e}")
            continue
        except Exception as e:
            raise OpDefinitionError(f"{op.name}: derivative{(*point, out)} failed: {e}") from None
        _checked_grads(op, grads)
        return
    raise ValueError(
        f"{op.name}: could not be evaluated at any of the points {_PROBES} to check its derivative "
        f"({'; '.join(failures[-2:])})"
    )


# --------------------------------------------------------------------------- #
# Walks shared by every method                                                 #
# --------------------------------------------------------------------------- #


def topological_order(outputs: Value | Iterable[Value]) -> list[Value]:
    """Every node the outputs depend on, parents before children (the notes' v1…vn).

    Iterative depth-first search, so graphs of any depth work. Parents are
    visited in operand order, which numbers the notes' example v1…v7 as they do.
    """
    roots = [outputs] if isinstance(outputs, Value) else list(outputs)
    order: list[Value] = []
    seen: set[Value] = set()
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
            if a is not None and a not in seen:
                seen.add(a)
                stack.append(a)
                continue
            b = v._b
            if b is not None and b not in seen:
                seen.add(b)
                stack.append(b)
                continue
            order.append(stack.pop())
    return order


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


# --------------------------------------------------------------------------- #
# Formulas                                                                     #
# --------------------------------------------------------------------------- #


_NAMED_NUMBERS = {math.pi: ("pi", r"\pi"), math.e: ("e", "e")}
"""The doubles nearest π and e, printed by name (text, LaTeX), as the expression parser reads them."""


def _format_number(x: float, latex: bool = False) -> str:
    """Integers without ``.0``, π and e by name, other numbers as ``repr`` (exact, re-readable)."""
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x)) if x or math.copysign(1.0, x) > 0 else "-0.0"
    named = _NAMED_NUMBERS.get(abs(x))
    if named is not None:
        return ("-" if x < 0 else "") + named[latex]
    return repr(x)


def formula(
    value: Value,
    names: Mapping[Value, str] | None = None,
    *,
    number: Callable[[float], str] | None = None,
    latex: bool = False,
    max_length: int = 10_000,
    minus: str = "-",
) -> str:
    """``value``'s expression in infix notation with minimal parentheses.

    Leaves print as their label (or their number when unlabelled); ``names`` maps
    any node to the text to print for it instead of expanding it (what it was
    computed from is then not visited); ``number`` formats numbers (default:
    integers without ``.0``, the doubles nearest π and e as ``pi`` and ``e``
    (``\\pi`` in LaTeX), others as ``repr``, so the text parses back to the same
    numbers); ``latex=True`` prints each op's LaTeX form; ``minus`` is the sign
    printed for subtraction and negation (the trace tables use the typographic
    minus ``−``). Shared subgraphs are printed
    out in full each time, so the text can be exponentially longer than the
    graph: beyond ``max_length`` characters a ValueError is raised.
    """
    return formula_parts(value, names, number=number, latex=latex, max_length=max_length, minus=minus)[0]


def formula_parts(
    value: Value,
    names: Mapping[Value, str] | None = None,
    *,
    number: Callable[[float], str] | None = None,
    latex: bool = False,
    max_length: int = 10_000,
    minus: str = "-",
) -> tuple[str, int]:
    """:func:`formula`'s text and its precedence, for embedding it in a larger expression.

    The precedence is that of the outermost op (``ATOM`` for leaves and calls);
    text with a lower precedence than its surroundings needs parentheses.
    """
    names = names or {}
    printer = _Printer(names, number or (lambda x: _format_number(x, latex)), latex, minus)
    text: dict[Value, tuple[str, int]] = {}
    for v in _printing_order(value, names):
        text[v] = printer.node(v, text)
        if len(text[v][0]) > max_length:
            raise ValueError(f"formula longer than max_length={max_length} characters")
    return text[value]


def _printing_order(value: Value, names: Mapping[Value, str]) -> list[Value]:
    """The nodes a formula prints, parents first: a named node is printed as its name,
    so what it was computed from is not visited (one-level formulas cost one node)."""
    order: list[Value] = []
    seen = {value}
    stack = [value]
    while stack:
        v = stack[-1]
        if v not in names:
            pushed = False
            for p in (v._a, v._b):
                if p is not None and p not in seen:
                    seen.add(p)
                    stack.append(p)
                    pushed = True
                    break
            if pushed:
                continue
        order.append(stack.pop())
    return order


class _Printer:
    """Prints one node at a time, given the printed text of its parents."""

    def __init__(
        self, names: Mapping[Value, str], number: Callable[[float], str], latex: bool, minus: str
    ) -> None:
        self.names = names
        self.number = number
        self.latex = latex
        self.minus = minus
        self.signs = ("-", minus)

    def negative(self, text: str) -> bool:
        return text.startswith(self.signs)

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex else f"({s})"

    def constant(self, x: float) -> tuple[str, int]:
        s = self.number(x)
        return s, (OPS["neg"].precedence if self.negative(s) else ATOM)

    def node(self, v: Value, text: dict[Value, tuple[str, int]]) -> tuple[str, int]:
        name = self.names.get(v)
        if name is not None:
            return name, (OPS["neg"].precedence if self.negative(name) else ATOM)
        op = v.op
        if op is None:
            if v.label is not None and v._op is None:
                return v.label, ATOM
            return self.constant(v.data)
        parts = [text[x] if isinstance(x, Value) else self.constant(x) for x in v.operands]
        if op.notation == "call":
            args = [s for s, _ in parts]
            return (op.latex.format(*args) if self.latex else f"{op.symbol}({', '.join(args)})"), ATOM
        if op.notation == "prefix":
            s, p = parts[0]
            sign = self.minus if not self.latex else "-"
            return (
                f"{sign}{self.paren(s)}" if p < op.precedence or self.negative(s) else f"{sign}{s}"
            ), op.precedence
        (ls, lp), (rs, rp) = parts
        prec = op.precedence
        name = op.name
        if self.latex and name == "div":
            return op.latex.format(ls, rs), ATOM
        if lp < prec or (name == "pow" and lp == prec):
            ls = self.paren(ls)
        if self.latex and name == "pow":
            return op.latex.format(ls, rs), prec
        # a right operand of equal precedence keeps its parentheses even for + and *:
        # floating-point sums and products are not associative, and the text must parse
        # back to the same number (a + (b - c) is not a + b - c at b = c = 1e16)
        if rp < prec or self.negative(rs) or (rp == prec and name != "pow"):
            rs = self.paren(rs)
        if self.latex:
            return op.latex.format(ls, rs), prec
        symbol = self.minus if name == "sub" else op.symbol
        return (f"{ls} {symbol} {rs}" if prec == 1 else f"{ls}{symbol}{rs}"), prec


CONST = Op("const", arity=0, evaluate=float, rule=lambda out: (), notation="leaf", latex="{0}", builtin=True)
"""The form of constant leaves (not in :data:`OPS`: it is not an operation)."""

FLOAT_NAMESPACE.update(Value=Value, _new=_new, _number=_number, leaf=leaf, operand_error=operand_error)
