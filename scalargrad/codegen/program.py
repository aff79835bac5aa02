"""The program: a graph numbered as the notes number it, written as forward and reverse statements.

The :class:`Program` holds text and ops only, not the graph, so that every form
(floats, NumPy, PyTorch, with or without the rounding bound) is emitted from it.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..autodiff import grad
from ..core import Op, Value, evaluation_order, topological_order
from ..core.op import FLOAT_NAMESPACE
from ..core.walks import depending_on, reverse_walk
from .errors import CompileError
from .forms import BUILTINS
from .templates import CHECKED, VALUE, literal, operand_derivatives, template

READABLE_NODES = 2_000
"""Above this many nodes the code is written for speed rather than reading: an adjoint that is
just a copy of one child's adjoint (``v6_bar = v7_bar``, below a ``+``) gets no variable of its
own, and its uses read the child's. The numbers are the same; the function has fewer
statements and local variables (the MLP step of the benchmarks runs about 15 % faster)."""

COMMENT_INPUTS = 12
"""Inputs named one by one in the source's first comment; more are summarised."""


class Expr(NamedTuple):
    """An op expression: which template (op, :data:`VALUE` or derivative index) and the texts of
    a, b, out (of every operand, then out, for a variadic op)."""

    op: Op
    which: int
    args: tuple[str, ...]


Factor = Expr | str | None
"""How a partial adjoint scales its child's adjoint: None is ×1, ``"-"`` negates, a
str is a number literal or (a variadic op's operand) a variable, an :class:`Expr` a
derivative computed per call."""


class _Sum:
    """An adjoint as the reverse walk builds it for code: its partial adjoints in arrival order.

    Each term is (the child's :class:`_Sum`, the factor); ``name`` is the variable (or
    the child's, for a copy) the statements give it, set once its children are named.
    """

    __slots__ = ("name", "terms")

    def __init__(self) -> None:
        self.name = ""
        self.terms: list[tuple[_Sum, Factor]] = []

    @staticmethod
    def term(child: _Sum, factor: Factor) -> tuple[_Sum, Factor]:
        """The partial adjoint child_bar · factor, to write later: :func:`reverse_walk`'s ``times``."""
        return (child, factor)

    @staticmethod
    def plus(total: _Sum | None, term: tuple[_Sum, Factor] | None) -> _Sum:
        """``total`` with ``term`` appended (None: the seed, no sum): :func:`reverse_walk`'s ``plus``."""
        total = _Sum() if total is None else total
        if term is not None:
            total.terms.append(term)
        return total


@dataclass
class _Block:
    """One reverse pass: the seed's adjoint and, child before parent, each adjoint's partial adjoints."""

    comment: str
    seed: str | None
    bars: list[tuple[str, list[tuple[str, Factor]]]]


@dataclass
class Program:
    """Everything the emitter needs, as text and ops: the graph itself is not kept."""

    params: list[str]
    comments: list[str]
    forward: list[tuple[str, Expr]]
    blocks: list[_Block]
    value: str
    gradient: list[str]
    hessian: list[list[str]] | None
    rounding: list[tuple[str, str]]
    split: int | None = None
    split_comment: str = ""
    ops: dict[str, Op] = field(default_factory=dict)
    nodes: int = 0


def build(
    output: Value, inputs: list[Value], wrt: list[Value], order: int, max_nodes: int, labels: list[str | None]
) -> Program:
    """Number the graph as the notes do and write its forward and reverse traces as statements.

    ``labels`` name the ``wrt`` inputs in the Hessian blocks' comments (identifiers or None).
    """
    forward_topo = topological_order([output, *inputs])
    _check_size(forward_topo, max_nodes, "the graph")
    roots = [output]
    gradient_nodes: list[Value] = []
    topo = forward_topo
    if order == 2:
        gradient_nodes = grad(output, wrt, create_graph=True)
        roots.extend(gradient_nodes)
        topo = topological_order([*roots, *inputs])
        _check_size(topo, max_nodes, "the graph with its create_graph gradient (order=2)")
        if len(topo) * (len(wrt) + 1) > max_nodes:  # one reverse trace per Hessian row, each up to len(topo)
            raise CompileError(
                f"order=2 writes a reverse trace over the {len(topo):,} nodes of the graph and its gradient "
                f"graph for each of the {len(wrt)} wrt inputs: up to {len(topo) * (len(wrt) + 1):,} "
                f"statements, more than compile's limit of {max_nodes:,}; pass max_nodes= to raise it, "
                "or use order=1 with scalargrad.hessian"
            )
    variable = depending_on(topo, inputs)  # depends on an input: recomputed at every call
    depends = depending_on(topo, wrt)  # depends on a wrt input (one of the inputs): has an adjoint
    # v1...vn as the notes number them (inputs first, then by depth): the forward graph first, as in
    # order 1 and in trace(y), then the nodes of the create_graph gradient graph (order 2)
    name: dict[Value, str] = {}
    groups = [[output, *inputs], roots] if order == 2 else [[output, *inputs]]
    forward_nodes = 0
    for group in groups:
        for v in evaluation_order(group):
            if v in variable and v not in name:
                name[v] = f"v{len(name) + 1}"
        forward_nodes = forward_nodes or len(name)
    index = {v: k for k, v in enumerate(name, 1)}
    program = Program(
        params=[name[v] for v in inputs],
        comments=[],
        forward=[],
        blocks=[],
        value="",
        gradient=[],
        hessian=None,
        rounding=[],
        nodes=len(topo),
    )

    def text(x: Value | float) -> str:
        if isinstance(x, Value):
            n = name.get(x)
            return n if n is not None else literal(x.data)
        return literal(x)

    ops = program.ops
    arguments: dict[Value, tuple[str, ...]] = {}  # each op node's a, b (or all operands), out as code
    for v, k in index.items():  # in the notes' order
        op = v.op
        if op is None:
            continue
        if k > forward_nodes and program.split is None:
            program.split = len(program.forward)
        if op.name not in ops:
            _check_op_name(op)
            ops[op.name] = op
        operands = v.operands
        if op.arity is None:
            args = arguments[v] = (*map(text, operands), name[v])
        else:
            args = arguments[v] = (text(operands[0]), text(operands[1]) if len(operands) > 1 else "", name[v])
        program.forward.append((name[v], Expr(op, VALUE, args)))

    alias = len(topo) > READABLE_NODES
    folded: dict[str, float | None] = {}
    uses: dict[tuple[str, int], tuple[bool, bool, bool]] = {}

    def factor(op: Op, position: int, args: tuple[str, ...], var_a: bool, var_b: bool) -> Factor:
        """dv_child/dv_operand as code, or folded: None for 1, "-" for -1, a literal for a number."""
        key = (op.name, position)
        used = uses.get(key)
        if used is None:
            slots = template(op, position, False).slots
            used = uses[key] = (0 in slots, 1 in slots, 2 in slots)
        if used[2] or (used[0] and var_a) or (used[1] and var_b):
            return Expr(op, position, args)
        code = template(op, position, False).fill(args)  # numbers only: computed once, as the engine does
        if code not in folded:
            folded[code] = _constant_value(code)
        c = folded[code]
        if c is None:
            return Expr(op, position, args)
        if c == 1.0:
            return None
        if c == -1.0:
            return "-"
        return literal(c)

    def factors(c: Value) -> list[Factor]:
        """dc/dparent as code for each of c's parents with an adjoint (None, never read, for the others)."""
        op = c.op
        assert op is not None
        operands = c.operands
        if op.arity is None:
            return variadic_factors(c, op, operands)
        a = operands[0]
        b = operands[1] if len(operands) > 1 else None
        args = arguments[c]
        var_a = isinstance(a, Value) and a in variable
        var_b = isinstance(b, Value) and b in variable
        return [
            factor(op, k, args, var_a, var_b) if p in depends else None
            for k, p in enumerate(operands)
            if isinstance(p, Value)
        ]

    def variadic_factors(c: Value, op: Op, operands: tuple[Any, ...]) -> list[Factor]:
        """A variadic node's local derivatives, each one of its operands (dot's d/dxk is yk), folded
        as :func:`factor` folds a number: the operand's name, or its value when it is a constant."""
        found: list[Factor] = []
        for p, k in zip(operands, operand_derivatives(op, len(operands))):
            d = operands[k]
            if p not in depends:
                found.append(None)
            elif d in variable:
                found.append(name[d])
            else:
                found.append(None if d.data == 1.0 else "-" if d.data == -1.0 else literal(d.data))
        return found

    def block(seed: Value, suffix: str, comment: str) -> tuple[_Block, dict[Value, str]]:
        """The reverse pass from ``seed``: the engine's walk, with each adjoint a :class:`_Sum` to write."""
        bars: dict[Value, str] = {}
        if seed not in depends:
            return _Block(comment, None, []), bars
        walk = forward_topo if seed is output else topological_order(seed)
        sums = reverse_walk(walk, [(seed, None)], factors, _Sum.term, _Sum.plus, relevant=depends)
        seed_bar = sums[seed].name = bars[seed] = f"{name[seed]}_bar{suffix}"
        lines = []
        for v in sorted(sums.keys() - {seed}, key=index.__getitem__, reverse=True):  # children before parents
            terms = sums[v].terms
            if alias and len(terms) == 1 and terms[0][1] is None:
                # a copy of one child's adjoint: no variable of its own
                sums[v].name = bars[v] = terms[0][0].name
                continue
            bar = sums[v].name = bars[v] = f"{name[v]}_bar{suffix}"
            lines.append((bar, [(child.name, f) for child, f in terms]))
        return _Block(comment, seed_bar, lines), bars

    first, first_bars = block(
        output,
        "",
        "# reverse adjoint trace: vk_bar = dy/dvk, the sum of the partial adjoints vi_bar * dvi/dvk",
    )
    program.blocks.append(first)
    program.value = text(output)
    program.gradient = [first_bars.get(w, "0.0") for w in wrt]
    program.rounding = [(name[v], b) for v, b in first_bars.items()]
    if order == 2:
        rows = []
        described = []
        for i, (g, label) in enumerate(zip(gradient_nodes, labels)):
            what = f"dy/d{label}" if label is not None else f"the gradient's component {i + 1}"
            described.append(f"{what} = {text(g)}")
            where = f" = {name[g]}" if g in name else ""
            b, bars = block(
                g, f"_{i + 1}", f"# reverse adjoint trace of {what}{where}: row {i + 1} of the Hessian"
            )
            program.blocks.append(b)
            rows.append([bars.get(w, "0.0") for w in wrt])
        program.hessian = rows
        shown = described if len(described) <= COMMENT_INPUTS else [*described[:3], "..."]
        program.split_comment = (
            "# the gradient graph of grad(y, wrt, create_graph=True), evaluated forward: " + ", ".join(shown)
        )
    return program


def _check_size(nodes: list[Value], max_nodes: int, what: str) -> None:
    if len(nodes) > max_nodes:
        raise CompileError(
            f"{what} has {len(nodes):,} nodes, more than compile's limit of {max_nodes:,} "
            f"(compiling takes about 2 s per 100,000 nodes); pass max_nodes= to raise the limit, "
            "or use scalargrad.grad, which has no limit"
        )


_FOLDING: dict[str, Any] = {}


def _constant_value(code: str) -> float | None:
    """The number a numbers-only derivative expression gives on floats, or None if it raises.

    ``code`` is a built-in op's derivative template with numbers in its operands,
    evaluated in the same float namespace as the generated code.
    """
    if not _FOLDING:
        _FOLDING.update(_float_namespace(), __builtins__={})
    try:
        value = eval(builtins.compile(code, "<scalargrad constant>", "eval"), dict(_FOLDING))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return float(value)


def _float_namespace() -> dict[str, Any]:
    """Every name of the float code bound as the engine binds it (for folding constants, not for the code)."""
    namespace: dict[str, Any] = {k: v for k, v in FLOAT_NAMESPACE.items() if not k.startswith("_")}
    namespace.update(BUILTINS)
    namespace.update(
        {k.removeprefix(CHECKED): v for k, v in FLOAT_NAMESPACE.items() if k.startswith(CHECKED)}
    )
    namespace.update(inf=math.inf, nan=math.nan)
    return namespace


def _check_op_name(op: Op) -> None:
    """Refuse an op whose name the source cannot write as the same Python name.

    :func:`~scalargrad.define_op` takes ASCII identifiers only; this guards ops made
    some other way, since Python reads names in NFKC form (``ﬁ`` is ``fi``).
    """
    if not (op.name.isascii() and op.name.isidentifier()):
        raise CompileError(f"the op {op.name!r} has no ASCII name to call it by in Python source")
