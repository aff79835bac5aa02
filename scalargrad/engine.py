"""The Value graph: scalar nodes, each op's single definition, and backpropagation.

A :class:`Value` is one node v_i of the notes' computational graph. It keeps its
forward value ``data``, its adjoint ``grad``, at most two parents and the *local
derivative* dv_i/dv_k with respect to each parent, computed once at forward time
as plain floats. Every differentiation method is a walk over this one graph:
``backward`` (here), and ``grad``/``jvp``/``hessian`` in :mod:`scalargrad.autodiff`.

Each op is defined once, as an :class:`Op`: its name, how it prints, and its
derivative ``rule`` — a function of the op's inputs and output that works on
floats *and* on Values. Evaluated on floats it gives the local derivatives;
evaluated on Values it builds them as new graph nodes (``create_graph``); evaluated
on named leaves and printed it gives the notes' formulas (``cos(v2)``). The Value
methods below compute the same local derivatives inline, because they sit on the
hot path; ``tests/test_ops.py`` checks them against the rules.

Non-differentiable points follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``,
``sqrt'(0) = inf``, ``d(x**0)/dx = 0``, ``d(x**y)/dy = 0`` at ``x == 0`` and
``nan`` where ``ln x`` is undefined (``x < 0``). Where Python's ``math`` raises,
the op raises the same exception type with a message naming the op and the value.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable
from typing import Any, Union

__all__ = [
    "OPS",
    "Op",
    "Value",
    "cos",
    "count_ops",
    "exp",
    "formula",
    "formula_parts",
    "log",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "tan",
    "tanh",
    "topological_order",
]

Number = int | float
Operand = Union["Value", int, float]
Rule = Callable[..., tuple[Any, ...]]


class Op:
    """The single definition of one operation.

    ``rule(*inputs, out)`` returns the local derivatives d out / d input, one per
    input; it must work on floats and on Values alike. ``apply(*inputs)`` performs
    the op (a new node for Values, a float for numbers). ``notation`` is
    ``"infix"`` (``a * b``), ``"prefix"`` (``-a``) or ``"call"`` (``sin(a)``);
    ``precedence`` orders infix and prefix ops when printing with minimal
    parentheses; ``latex`` is the LaTeX template, ``{0}``/``{1}`` the operands.
    """

    __slots__ = ("apply", "arity", "latex", "name", "notation", "precedence", "rule", "symbol")

    def __init__(
        self,
        name: str,
        symbol: str,
        notation: str,
        precedence: int,
        rule: Rule,
        apply: Callable[..., Any],
        latex: str,
    ) -> None:
        self.name = name
        self.symbol = symbol
        self.notation = notation
        self.precedence = precedence
        self.rule = rule
        self.apply = apply
        self.latex = latex
        self.arity = 0 if notation == "leaf" else (2 if notation == "infix" else 1)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


OPS: dict[str, Op] = {}
"""Every op by name, e.g. ``OPS["mul"]``; walks and printers look ops up here."""

ATOM = 9  # precedence of leaves, constants and function calls: never parenthesised


def _define(
    name: str,
    symbol: str,
    notation: str,
    precedence: int,
    rule: Rule,
    apply: Callable[..., Any],
    latex: str,
) -> Op:
    op = Op(name, symbol, notation, precedence, rule, apply, latex)
    OPS[name] = op
    return op


# --------------------------------------------------------------------------- #
# Forward evaluation on floats, with math-module errors that name the op.      #
# --------------------------------------------------------------------------- #


def _domain_error(op: str, x: float, need: str) -> ValueError:
    return ValueError(f"{op}: math domain error at x = {x!r} ({op} needs {need})")


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: result too large at x = {x!r} (exp overflows above x = 709.78)") from None


def _log(x: float) -> float:
    if x <= 0.0:
        raise _domain_error("log", x, "x > 0")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise _domain_error("sqrt", x, "x >= 0")
    return math.sqrt(x)


def _trig(name: str, fn: Callable[[float], float]) -> Callable[[float], float]:
    def evaluate(x: float) -> float:
        try:
            return fn(x)
        except ValueError:
            raise _domain_error(name, x, "a finite x") from None

    return evaluate


_sin, _cos, _tan = _trig("sin", math.sin), _trig("cos", math.cos), _trig("tan", math.tan)


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _div(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({a!r} / {b!r})")
    return a / b


def _pow(a: float, b: float) -> float:
    finite = math.isfinite(b)
    if a == 0.0 and b < 0.0 and finite:
        raise ZeroDivisionError(f"pow: 0.0 cannot be raised to a negative power ({a!r} ** {b!r})")
    if a < 0.0 and finite and not b.is_integer():
        raise ValueError(
            f"pow: math domain error for {a!r} ** {b!r} (a negative base needs an integer exponent)"
        )
    try:
        return math.pow(a, b)
    except OverflowError:
        raise OverflowError(f"pow: result too large for {a!r} ** {b!r}") from None


def _pow_base_grad(a: float, b: float, out: float) -> float:
    """d(a**b)/da = b * a**(b-1), with PyTorch's values where a == 0 or b == 0."""
    if b == 0.0:
        return 0.0
    if a == 0.0:
        return math.inf if b < 1.0 else (1.0 if b == 1.0 else 0.0)
    return b * (out / a)


def _pow_exponent_grad(a: float, out: float) -> float:
    """d(a**b)/db = a**b * ln a: 0 where a == 0, nan where ln a is undefined."""
    if a > 0.0:
        return out * math.log(a)
    return 0.0 if a == 0.0 else math.nan


# --------------------------------------------------------------------------- #
# Module-level functions: on a Value they build a node, on a number a float.  #
# --------------------------------------------------------------------------- #


def _unary(method: str, evaluate: Callable[[float], float]) -> Callable[[Operand], Any]:
    def function(x: Operand) -> Any:
        if isinstance(x, Value):
            return getattr(x, method)()
        return evaluate(_as_float(x))

    function.__name__ = method
    function.__qualname__ = method
    function.__doc__ = f"``{method}(x)``: a new Value node for a Value, a float for a number."
    return function


exp = _unary("exp", _exp)
log = _unary("log", _log)
sqrt = _unary("sqrt", _sqrt)
sin = _unary("sin", _sin)
cos = _unary("cos", _cos)
tan = _unary("tan", _tan)
tanh = _unary("tanh", math.tanh)
sigmoid = _unary("sigmoid", _sigmoid)
relu = _unary("relu", lambda x: 0.0 if x <= 0.0 else x)


def _sign(x: Any) -> float:
    """1, -1 or 0 (PyTorch's abs'(0) = 0); nan stays nan."""
    x = float(x)
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else math.nan


def _pow_base_rule(a: Any, b: Any, out: Any) -> Any:
    """d(a**b)/da as a graph: b * a**(b-1), folded where the exponent is a constant.

    Where a**(b-1) cannot be evaluated (a == 0 with b < 1) the float convention of
    :func:`_pow_base_grad` stands in, as it does for plain numbers; where it
    overflows, the equal b * (a**b / a) is built instead.
    """
    a_, b_ = float(a), float(b)
    if not isinstance(a, Value) or (a_ == 0.0 and b_ < 1.0):
        return _pow_base_grad(a_, b_, float(out))
    variable = isinstance(b, Value) and not b.is_constant
    if not variable and (b_ == 0.0 or b_ == 1.0):
        return b_
    try:
        if variable:
            return b * a ** (b - 1)
        power = a if b_ == 2.0 else a ** (b_ - 1.0)
    except OverflowError:  # a**(b-1) too large although a**b is not: use b * (a**b / a)
        return b * (out / a)
    return -power if b_ == -1.0 else b_ * power


def _pow_exponent_rule(a: Any, out: Any) -> Any:
    return out * log(a) if float(a) > 0.0 else _pow_exponent_grad(float(a), float(out))


# --------------------------------------------------------------------------- #
# The ops. Each rule is the notes' local derivative, on floats or on Values.  #
# --------------------------------------------------------------------------- #

CONST = _define("const", "", "leaf", ATOM, lambda out: (), float, "{0}")
ADD = _define("add", "+", "infix", 1, lambda a, b, out: (1.0, 1.0), operator.add, "{0} + {1}")
SUB = _define("sub", "-", "infix", 1, lambda a, b, out: (1.0, -1.0), operator.sub, "{0} - {1}")
MUL = _define("mul", "*", "infix", 2, lambda a, b, out: (b, a), operator.mul, r"{0} \cdot {1}")
DIV = _define(
    "div", "/", "infix", 2, lambda a, b, out: (1 / b, -out / b), operator.truediv, r"\frac{{{0}}}{{{1}}}"
)
NEG = _define("neg", "-", "prefix", 3, lambda a, out: (-1.0,), operator.neg, "-{0}")
POW = _define(
    "pow",
    "**",
    "infix",
    4,
    lambda a, b, out: (_pow_base_rule(a, b, out), _pow_exponent_rule(a, out)),
    operator.pow,
    "{0}^{{{1}}}",
)
ABS = _define("abs", "abs", "call", ATOM, lambda a, out: (_sign(a),), abs, r"\left\lvert {0} \right\rvert")
EXP = _define("exp", "exp", "call", ATOM, lambda a, out: (out,), exp, r"\exp\left({0}\right)")
LOG = _define("log", "ln", "call", ATOM, lambda a, out: (1 / a,), log, r"\ln\left({0}\right)")
SQRT = _define(
    "sqrt",
    "sqrt",
    "call",
    ATOM,
    lambda a, out: (0.5 / out if float(out) else math.inf,),
    sqrt,
    r"\sqrt{{{0}}}",
)
SIN = _define("sin", "sin", "call", ATOM, lambda a, out: (cos(a),), sin, r"\sin\left({0}\right)")
COS = _define("cos", "cos", "call", ATOM, lambda a, out: (-sin(a),), cos, r"\cos\left({0}\right)")
TAN = _define("tan", "tan", "call", ATOM, lambda a, out: (1 + out * out,), tan, r"\tan\left({0}\right)")
TANH = _define("tanh", "tanh", "call", ATOM, lambda a, out: (1 - out * out,), tanh, r"\tanh\left({0}\right)")
SIGMOID = _define(
    "sigmoid", "sigmoid", "call", ATOM, lambda a, out: (out * (1 - out),), sigmoid, r"\sigma\left({0}\right)"
)
RELU = _define(
    "relu",
    "relu",
    "call",
    ATOM,
    lambda a, out: (0.0 if a <= 0 else 1.0,),
    relu,
    r"\operatorname{{relu}}\left({0}\right)",
)


def _as_float(x: object) -> float:
    if isinstance(x, (int, float)) or (hasattr(x, "__float__") and not isinstance(x, (str, bytes, complex))):
        try:
            return float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    raise TypeError(f"expected a real number or a Value, got {type(x).__name__}: {x!r}")


_new = object.__new__


def _node(data: float, op: Op, a: Value, da: float, b: Value | None = None, db: float = 0.0) -> Value:
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v._op = op
    v._a = a
    v._da = da
    v._b = b
    v._db = db
    return v


def constant(x: float) -> Value:
    """A constant leaf: the node a plain number becomes (the ``2`` in ``2 * x``)."""
    v = _new(Value)
    v.data = x
    v.grad = 0.0
    v.label = None
    v._op = CONST
    v._a = v._b = None
    v._da = v._db = 0.0
    return v


def _operand(x: object) -> Value | None:
    """A Value for a Value or a real number (as a constant node), None otherwise."""
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float, numbers.Real)):
        return constant(float(x))
    return None


class Value:
    """A scalar node of a computational graph.

    ``data`` is the forward value, ``grad`` the adjoint dy/dv accumulated by
    :meth:`backward`. Arithmetic with Values or plain numbers on either side
    builds new nodes. Values compare (``<``, ``<=``, ``>``, ``>=``) by ``data``,
    but ``==`` and ``hash`` are by identity, so Values can be dict keys.
    """

    __slots__ = ("_a", "_b", "_da", "_db", "_op", "data", "grad", "label")

    data: float
    grad: float
    label: str | None
    _op: Op | None
    _a: Value | None
    _da: float
    _b: Value | None
    _db: float

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

    # ------------------------------------------------------------------ graph
    @property
    def op(self) -> Op | None:
        """The :class:`Op` that made this node; None for an input leaf."""
        return None if self._op is CONST else self._op

    @property
    def is_leaf(self) -> bool:
        """True for inputs and constants: nodes without parents."""
        return self._a is None

    @property
    def is_constant(self) -> bool:
        """True for the leaves made from plain numbers (``2`` in ``2 * x``)."""
        return self._op is CONST

    @property
    def parents(self) -> tuple[Value, ...]:
        """The nodes this one was computed from, in operand order."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """The local derivatives d self / d parent, one per parent, as floats."""
        if self._a is None:
            return ()
        return (self._da,) if self._b is None else (self._da, self._db)

    # ------------------------------------------------------------ arithmetic
    # The hot ops build their node inline: a call to _node costs a sixth of an op.
    def __add__(self, other: Operand) -> Value:
        if type(other) is not Value:
            return _with_number(ADD, self, other)
        v = _new(Value)
        v.data = self.data + other.data
        v.grad = 0.0
        v.label = None
        v._op = ADD
        v._a = self
        v._da = 1.0
        v._b = other
        v._db = 1.0
        return v

    def __sub__(self, other: Operand) -> Value:
        if type(other) is not Value:
            return _with_number(SUB, self, other)
        v = _new(Value)
        v.data = self.data - other.data
        v.grad = 0.0
        v.label = None
        v._op = SUB
        v._a = self
        v._da = 1.0
        v._b = other
        v._db = -1.0
        return v

    def __mul__(self, other: Operand) -> Value:
        if type(other) is not Value:
            return _with_number(MUL, self, other)
        v = _new(Value)
        v.data = self.data * other.data
        v.grad = 0.0
        v.label = None
        v._op = MUL
        v._a = self
        v._da = other.data
        v._b = other
        v._db = self.data
        return v

    def __truediv__(self, other: Operand) -> Value:
        if type(other) is not Value:
            return _with_number(DIV, self, other)
        out = _div(self.data, other.data)
        return _node(out, DIV, self, 1.0 / other.data, other, -out / other.data)

    def __pow__(self, other: Operand) -> Value:
        if type(other) is not Value:
            return _with_number(POW, self, other)
        x, y = self.data, other.data
        out = _pow(x, y)
        return _node(out, POW, self, _pow_base_grad(x, y, out), other, _pow_exponent_grad(x, out))

    def __radd__(self, other: Number) -> Value:
        return _with_number(ADD, other, self)

    def __rsub__(self, other: Number) -> Value:
        return _with_number(SUB, other, self)

    def __rmul__(self, other: Number) -> Value:
        return _with_number(MUL, other, self)

    def __rtruediv__(self, other: Number) -> Value:
        return _with_number(DIV, other, self)

    def __rpow__(self, other: Number) -> Value:
        return _with_number(POW, other, self)

    def __neg__(self) -> Value:
        return _node(-self.data, NEG, self, -1.0)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        x = self.data
        return _node(abs(x), ABS, self, _sign(x))

    # ------------------------------------------------------------- functions
    def exp(self) -> Value:
        """e**x; d/dx = e**x. Raises OverflowError above x = 709.78."""
        out = _exp(self.data)
        return _node(out, EXP, self, out)

    def log(self) -> Value:
        """Natural log ln x; d/dx = 1/x. Raises ValueError for x <= 0."""
        x = self.data
        return _node(_log(x), LOG, self, 1.0 / x)

    def sqrt(self) -> Value:
        """Square root; d/dx = 1/(2 sqrt x), inf at 0. Raises ValueError for x < 0."""
        out = _sqrt(self.data)
        return _node(out, SQRT, self, 0.5 / out if out else math.inf)

    def sin(self) -> Value:
        """sin x; d/dx = cos x. Raises ValueError for an infinite x."""
        x = self.data
        try:
            return _node(math.sin(x), SIN, self, math.cos(x))
        except ValueError:
            raise _domain_error("sin", x, "a finite x") from None

    def cos(self) -> Value:
        """cos x; d/dx = -sin x. Raises ValueError for an infinite x."""
        x = self.data
        try:
            return _node(math.cos(x), COS, self, -math.sin(x))
        except ValueError:
            raise _domain_error("cos", x, "a finite x") from None

    def tan(self) -> Value:
        """tan x; d/dx = 1 + tan(x)**2. Raises ValueError for an infinite x."""
        out = _tan(self.data)
        return _node(out, TAN, self, 1.0 + out * out)

    def tanh(self) -> Value:
        """tanh x; d/dx = 1 - tanh(x)**2."""
        out = math.tanh(self.data)
        v = _new(Value)
        v.data = out
        v.grad = 0.0
        v.label = None
        v._op = TANH
        v._a = self
        v._da = 1.0 - out * out
        v._b = None
        v._db = 0.0
        return v

    def sigmoid(self) -> Value:
        """The logistic function 1/(1 + e**-x), computed without overflow; d/dx = s(1 - s)."""
        out = _sigmoid(self.data)
        return _node(out, SIGMOID, self, out * (1.0 - out))

    def relu(self) -> Value:
        """max(x, 0); d/dx = 1 for x > 0 and 0 for x <= 0 (PyTorch's relu'(0) = 0); nan stays nan."""
        x = self.data
        if x <= 0.0:
            return _node(0.0, RELU, self, 0.0)
        return _node(x, RELU, self, 1.0)

    # -------------------------------------------------------- number protocol
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

        Walks the graph once in reverse topological order. Each node's adjoint is
        summed from its partial adjoints before it is passed on, as in the notes'
        ``node_to_grad`` algorithm; the walk starts from zero, so calling
        ``backward`` twice doubles every ``grad`` instead of compounding them.
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


def _compared(other: object) -> float | None:
    """The number a Value compares against: a Value's data, a real number, else None."""
    if isinstance(other, Value):
        return other.data
    if isinstance(other, (int, float)):
        return other
    if isinstance(other, numbers.Real):
        return float(other)
    return None


def _with_number(op: Op, a: object, b: object) -> Value:
    """``op`` over a Value and a plain number: the number becomes a constant node."""
    ca, cb = _operand(a), _operand(b)
    if ca is None or cb is None:
        return NotImplemented  # type: ignore[no-any-return]
    node: Value = op.apply(ca, cb)
    return node


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


def evaluation_order(outputs: Value | Iterable[Value]) -> list[Value]:
    """The nodes as the notes number them v1…vn: inputs first, then by depth.

    Depth is the longest path from an input; ties keep topological order. For
    ln(x1) + x1*x2 - sin(x2) this gives v3 = ln, v4 = mul, v5 = sin, v6 = add,
    v7 = sub, as in the notes. Constants are left out: they print as numbers.
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
        op = v._op
        if op is not None and op is not CONST:
            counts[op.name] = counts.get(op.name, 0) + 1
    return counts


def _format_number(x: float) -> str:
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def formula(
    value: Value,
    names: dict[Value, str] | None = None,
    *,
    number: Callable[[float], str] | None = None,
    latex: bool = False,
    max_length: int = 10_000,
) -> str:
    """``value``'s expression in infix notation with minimal parentheses.

    Leaves print as their label (or their number when unlabelled); ``names`` maps
    any node to the text to print for it instead of expanding it; ``number``
    formats numbers (default: integers without ``.0``, others as ``repr``);
    ``latex=True`` prints each op's LaTeX form. Shared subgraphs are printed out
    in full each time, so the text can be exponentially longer than the graph:
    beyond ``max_length`` characters a ValueError is raised.
    """
    return formula_parts(value, names, number=number, latex=latex, max_length=max_length)[0]


def formula_parts(
    value: Value,
    names: dict[Value, str] | None = None,
    *,
    number: Callable[[float], str] | None = None,
    latex: bool = False,
    max_length: int = 10_000,
) -> tuple[str, int]:
    """:func:`formula`'s text and its precedence, for embedding it in a larger expression.

    The precedence is that of the outermost op (``ATOM`` for leaves and calls);
    text with a lower precedence than its surroundings needs parentheses.
    """
    printer = _Printer(names or {}, number or _format_number, latex)
    text: dict[Value, tuple[str, int]] = {}
    for v in topological_order(value):
        text[v] = printer.node(v, text)
        if len(text[v][0]) > max_length:
            raise ValueError(f"formula longer than max_length={max_length} characters")
    return text[value]


class _Printer:
    """Prints one node at a time, given the printed text of its parents."""

    def __init__(self, names: dict[Value, str], number: Callable[[float], str], latex: bool) -> None:
        self.names = names
        self.number = number
        self.latex = latex

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex else f"({s})"

    def node(self, v: Value, text: dict[Value, tuple[str, int]]) -> tuple[str, int]:
        name = self.names.get(v)
        if name is not None:
            return name, (NEG.precedence if name.startswith("-") else ATOM)
        op = v._op
        if op is None or op is CONST:
            if v.label is not None and op is None:
                return v.label, ATOM
            s = self.number(v.data)
            return s, (NEG.precedence if s.startswith("-") else ATOM)
        if op.notation == "call":
            arg = text[v._a][0]  # type: ignore[index]
            return (op.latex.format(arg) if self.latex else f"{op.symbol}({arg})"), ATOM
        if op.notation == "prefix":
            s, p = text[v._a]  # type: ignore[index]
            return (f"-{self.paren(s)}" if p < op.precedence or s.startswith("-") else f"-{s}"), op.precedence
        (ls, lp), (rs, rp) = text[v._a], text[v._b]  # type: ignore[index]
        prec = op.precedence
        if self.latex and op is DIV:
            return op.latex.format(ls, rs), ATOM
        if lp < prec or (op is POW and lp == prec):
            ls = self.paren(ls)
        if self.latex and op is POW:
            return op.latex.format(ls, rs), prec
        if rp < prec or rs.startswith("-") or (rp == prec and op in (SUB, DIV)):
            rs = self.paren(rs)
        if self.latex:
            return op.latex.format(ls, rs), prec
        return (f"{ls} {op.symbol} {rs}" if prec == 1 else f"{ls}{op.symbol}{rs}"), prec
