"""What an op is: one definition (:class:`Op`), the registry of them (:data:`OPS`), and their domains.

This module knows no individual op (the built-in ones are defined in :mod:`scalargrad.ops`)
and no Value: it comes first, so everything else in the core can build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

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
    * ``arity``: 1 or 2 operands, or None for a variadic op (``dot``), whose nodes keep
      their parents in a :class:`~scalargrad.core.value.Fan`.
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
    * ``methods``: for built-in ops, the Value methods generated for it: the
      operator and its reflected form (``("__mul__", "__rmul__")``), or the op's name.
    * ``forms``: for built-in ops, the array forms of the names its templates read, by
      library (``{"numpy": {"asin": "np.arcsin"}, "torch": {...}}``): an expression, or
      the source of a ``def``. The code generator reads them; the core does not.
    * ``doc``: for built-in ops, its row of the op table as Markdown: the value, the
      derivatives, and its values at special points.
    * ``graph_rule``: False for a user op whose rule computes on floats even when given
      Values (``math.cos`` where ``scalargrad.cos`` was meant): ``create_graph`` then
      refuses it, instead of taking its local derivatives for constants.

    Calling an op applies it: a new node when an operand is a Value, a float for
    plain numbers. Ops pickle and copy by name, so a copied graph keeps the
    registered ops.
    """

    __slots__ = (
        "arity",
        "builtin",
        "doc",
        "domains",
        "evaluate",
        "forms",
        "graph_rule",
        "latex",
        "methods",
        "name",
        "notation",
        "precedence",
        "rule",
        "smooth",
        "source",
        "symbol",
        "with_constant",
    )

    _applying: ClassVar[Callable[[Op, tuple[Any, ...]], Any]]
    """How a call applies an op (:func:`scalargrad.core.methods.apply`). Applying builds
    Values, which come after this module, so :mod:`scalargrad.core.methods` sets it."""

    def __init__(
        self,
        name: str,
        *,
        arity: int | None,
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
        methods: tuple[str, ...] = (),
        forms: dict[str, dict[str, str]] | None = None,
        doc: tuple[str, str, str] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.evaluate = evaluate
        self.rule = rule
        self.symbol = name if symbol is None else symbol
        self.notation = notation
        self.precedence = precedence
        if latex is None:
            args = ", ".join(f"{{{i}}}" for i in range(arity or 0))
            escaped = name.replace("_", r"\_")
            latex = rf"\operatorname{{{{{escaped}}}}}\left({args}\right)"
        self.latex = latex
        self.domains = domains or ("real",) * (arity or 1)
        self.smooth = smooth
        self.builtin = builtin
        self.source = source
        self.methods = methods
        self.forms = forms or {}
        self.doc = doc
        self.graph_rule = True
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
        return Op._applying(self, operands)

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


class ConstantLeaf:
    """The form of a constant leaf: a number in the graph that is not an input.

    It is no op (not in :data:`OPS`, nothing to apply, no derivative). The core needs
    it to tell a constant (a gradient that folded to a number under ``create_graph``)
    from an input: inputs print by label and get gradients; constants print as
    numbers and are left out of the notes' numbering. It pickles by the name
    ``"const"``, which no op may take.
    """

    __slots__ = ()

    name = "const"
    op = None
    constant_at = None

    def __repr__(self) -> str:
        return "CONST"

    def __reduce__(self) -> tuple[Any, ...]:
        return (registered_op, (self.name,))


CONST = ConstantLeaf()
"""The form of every constant leaf."""

OPS: dict[str, Op] = {}
"""Every op by name, e.g. ``OPS["mul"]``: built-in ops and those from :func:`define_op`.

:meta hide-value:
"""

CONSTANT_FORMS: set[ConstantForm] = set()
"""The constant-operand forms of the ops ever registered (a fast check for loading pickles).

:meta hide-value:
"""

FLOAT_NAMESPACE: dict[str, Any] = {}
"""Names the built-in ops' source expressions see when run on floats (the hot methods).

Filled as ops are defined (:func:`~scalargrad.core.methods.builtin_op` binds each op's
helpers, and its own name to its float function where nothing else is bound to it).

:meta hide-value:
"""
GRAPH_NAMESPACE: dict[str, Any] = {}
"""Names the built-in ops' derivative expressions see as rules (on floats or Values).

Filled as ops are defined: each op under its own name, and its helpers (or their graph
versions), so a derivative can call any op, its own included.

:meta hide-value:
"""

CHECKED = "checked_"
"""Prefix of the float namespace's functions that raise ``math``'s errors naming the op
(``checked_log``): a value template calls them, and the code generator writes them by the
plain name (``log(v1)``, as the notes do)."""


def registered_op(name: str) -> Op | ConstantLeaf:
    """The op registered as ``name``; how pickled and copied graphs find their ops."""
    if name == CONST.name:
        return CONST
    try:
        return OPS[name]
    except KeyError:
        raise LookupError(
            f"no op named {name!r} is registered; define it (define_op) before loading a graph that uses it"
        ) from None


def registered_form(name: str, constant_at: int) -> ConstantForm:
    """The constant-operand form of a registered binary op (for pickles and copies)."""
    op = registered_op(name)
    if not isinstance(op, Op):
        raise LookupError(f"{name!r} is the form of constant leaves, not a binary op")
    return op.with_constant[constant_at]


def register(op: Op) -> None:
    """Add ``op`` to :data:`OPS` under its name, which must be free."""
    if op.name in OPS:
        raise ValueError(f"an op named {op.name!r} is already defined; choose another name")
    OPS[op.name] = op
    CONSTANT_FORMS.update(op.with_constant)


def described(x: object) -> str:
    """An object for an error message: its repr (cut short) and type."""
    text = repr(x)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(x).__name__})"
