"""The gradient as code: a graph compiled to straight-line Python, the notes' traces as statements.

:func:`compile` turns a graph (an output and the inputs to differentiate with
respect to), or a Python function traced once at example inputs (as ``jax.jit``
traces), into a :class:`CompiledGradient`: a callable that takes new input values
and returns the value and the gradient, computed with plain floats and no graph.
Its ``source`` is the code it runs, a module that runs on its own: first what the
function calls (``import math``, and the helpers, here the checked ``log``, ``sin``
and ``cos`` that raise the engine's errors, written out as :mod:`scalargrad.ops`
defines them), then the function, written as the notes write their traces:

>>> from scalargrad import Value, log, sin
>>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
>>> y = log(x1) + x1 * x2 - sin(x2)
>>> g = compile(y, [x1, x2])
>>> print(g.source[g.source.index("def value_and_grad"):], end="")
def value_and_grad(v1, v2):
    # inputs: v1 = x1, v2 = x2
    # forward evaluation trace
    v3 = log(v1)
    v4 = v1 * v2
    v5 = sin(v2)
    v6 = v3 + v4
    v7 = v6 - v5
    # reverse adjoint trace: vk_bar = dy/dvk, the sum of the partial adjoints vi_bar * dvi/dvk
    v7_bar = 1.0
    v6_bar = v7_bar
    v5_bar = -v7_bar
    v4_bar = v6_bar
    v3_bar = v6_bar
    v2_bar = v5_bar * cos(v2) + v4_bar * v1
    v1_bar = v4_bar * v2 + v3_bar * (1.0 / v1)
    return v7, [v1_bar, v2_bar]
>>> value, gradient = g(2.0, 5.0)
>>> round(value, 3), gradient[0], round(gradient[1], 3)
(11.652, 5.5, 1.716)
>>> namespace = {}
>>> exec(g.source, namespace)  # or save it as a file and import it: no scalargrad needed
>>> namespace["value_and_grad"](2.0, 5.0) == (value, gradient)
True

**How the code is written.** Nodes are numbered v1…vn as the notes number them
(:func:`~scalargrad.engine.evaluation_order`: inputs first, then by depth). Each
forward line is the op's own value template from its single definition
(:mod:`scalargrad.ops`), and each partial adjoint ``vi_bar * dvi/dvk`` uses the
op's own derivative template: the templates are parsed with :mod:`ast`, their
operand names ``a``, ``b`` and ``out`` renamed, and unparsed (once per template;
each node then fills the renamed names with variable names or number literals,
which is what makes 10⁵ nodes compile in a few seconds). The partial adjoints of
a node are summed in the order the engine's reverse walk sums them
(:func:`~scalargrad.engine.accumulate_adjoints`), so the gradient is equal to
:func:`~scalargrad.grad`'s bit for bit (a sum that the engine starts at ``0.0 +``
may differ only in the sign of a zero). Constants are folded as ``create_graph``
folds them: no ``* 1.0``, ``* -1.0`` becomes a minus sign, no ``+ 0.0``, and a
derivative that depends on numbers only is computed once (``x / 4`` gives
``v2_bar * 0.25``). Leaves that are not inputs, and everything computed from them
alone, are constants with their values at compile time.

**Piecewise ops keep their branch per call.** ``relu``, ``abs``, ``minimum`` and
``maximum`` are conditional expressions in their templates, so a new input on
the other side of a kink gets the right value and derivative.

**Python control flow is fixed at trace time**, as in ``jax.jit``: an ``if x > 0:``
on a Value, ``max()`` of Values, a float computed from ``.data`` (the max shift of
:func:`scalargrad.nn.softmax_cross_entropy`) or a loop whose length depends on a
value are run once, at the example inputs, and the compiled code is the path they
took. ``check=True`` re-runs the engine at every call and raises
:class:`CompileCheckError` (an ``AssertionError``) when the compiled result differs.
With ``order=2`` the same holds for every branch a *derivative rule* takes on values:
the Hessian code is compiled from the ``create_graph`` gradient graph built at the
example inputs, in which relu'(x) and abs'(x) are the numbers chosen there, minimum's
and maximum's winner is fixed, and so are the special cases of sqrt's and pow's rules
at 0, asin's and acos's at ±1 and atan2's and hypot's at the origin (a zero base makes
``x**y``'s gradient a constant, so its Hessian code is zero everywhere). Elsewhere the
Hessian may be silently wrong (``check=True`` catches it), or its code may fail (a
division by zero where the engine's rule takes its special case), which raises a
:class:`CompileCheckError` saying so rather than an error from a line the user never wrote.

**Limits.** Graphs above :data:`MAX_NODES` nodes are refused with a
:class:`CompileError` (pass ``max_nodes=`` to raise the limit: compiling costs about
2 s per 10⁵ nodes, most of it in Python's own ``compile``, and the code is kept in
memory). No label, formula or other user text is ever part of the code: a label
appears only in a comment, and only when it is an identifier.

**The source is self-contained.** It names everything it uses, and only what it
uses, in a fixed order: imports (:mod:`math`; NumPy or PyTorch in the array form),
then each helper the function calls, after the helpers it calls in turn. The float
helpers (``divide``, ``power``, ``pow_base_grad``, the checked ``log`` ...) are the
text of their one definition in :mod:`scalargrad.ops`, read from its source with
:mod:`ast` (kept with their type annotations, hence ``from __future__ import
annotations``); the array helpers are source text in this module. The callable is
made by running exactly that text, so ``exec(g.source, {})``, or
the source saved as a file and imported by a Python without scalargrad, gives the
callable's numbers bit for bit. The one exception is a user-defined op
(:func:`scalargrad.define_op`), whose functions have no source to write out: its
code calls ``user_<op>_value`` and ``user_<op>_rule``, the source's first comment
says so, and ``g.user_functions`` holds them (``exec(g.source,
dict(g.user_functions))``).

**Over many points.** :meth:`CompiledGradient.vectorized` gives the same code over
NumPy arrays (or PyTorch tensors): conditional expressions become ``where``, the
checked helpers become NumPy functions, so the gradient at 10⁶ points is one call
(its ``source`` is self-contained too, importing NumPy or PyTorch);
:func:`plot` draws f, f′ and f″ with it.
"""

from __future__ import annotations

import ast
import builtins
import concurrent.futures
import contextlib
import copy
import functools
import gc
import inspect
import io
import itertools
import linecache
import math
import numbers
import operator
import re
import time
import tokenize
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .autodiff import grad, hessian, tree_flatten, tree_leaves_like
from .engine import FLOAT_NAMESPACE, Op, Value, evaluation_order, real_float, topological_order
from .numeric import agree

__all__ = [
    "BLOCK",
    "MAX_NODES",
    "READABLE_NODES",
    "ArrayGradient",
    "CompileCheckError",
    "CompileError",
    "CompiledGradient",
    "compile",
    "literal",
    "plot",
]

MAX_NODES = 200_000
"""The largest graph :func:`compile` accepts by default (nodes, leaves included).

Compiling takes about 2 s per 10⁵ nodes (Python's own ``compile`` of the generated
function is most of it) and the source, about 100 bytes per node, stays in memory
for tracebacks. Pass ``max_nodes=`` to go further."""

READABLE_NODES = 2_000
"""Above this many nodes the code is written for speed rather than reading: an adjoint that is
just a copy of one child's adjoint (``v6_bar = v7_bar``, below a ``+``) gets no variable of its
own, and its uses read the child's. The numbers are the same; the function has fewer
statements and local variables (the MLP step of the benchmarks runs about 15 % faster)."""

_SUM_CHUNK = 64
"""Partial adjoints per statement: longer sums continue as ``vk_bar = vk_bar + ...``
(the same left-to-right additions), so that Python's compiler never meets a deeply
nested expression."""

_COMMENT_INPUTS = 12
"""Inputs named one by one in the source's first comment; more are summarised."""


class CompileError(ValueError):
    """A graph or function that :func:`compile` cannot turn into code (too large, no array form, ...)."""


class CompileCheckError(AssertionError):
    """With ``check=True``: the compiled result differs from the engine's at these inputs.

    For a traced function this means that its Python control flow (an ``if`` on a
    Value, ``max`` of Values, a number computed from ``.data``) took another path than
    at trace time: compile again at these inputs, or write the branch with a
    piecewise op (``relu``, ``abs``, ``minimum``, ``maximum``), which the compiled code
    evaluates per call. Also raised, with or without ``check``, when an ``order=2``
    function's Hessian code fails (a division by zero, say) because a derivative rule's
    branch fixed at trace time does not hold at these inputs; ``compiled`` and
    ``engine`` are NaN then. Attributes: ``inputs`` (the inputs, flat), ``what`` (which
    result differs first), ``compiled`` and ``engine`` (its two values).
    """

    def __init__(self, message: str, *, args: list[float], what: str, compiled: float, engine: float) -> None:
        super().__init__(message)
        self.inputs = args
        self.what = what
        self.compiled = compiled
        self.engine = engine


# --------------------------------------------------------------------------- #
# Templates: each op's expressions, renamed once with ast                      #
# --------------------------------------------------------------------------- #

_SLOTS = ("a", "b", "out")
_PLACEHOLDERS = ("__slot_a__", "__slot_b__", "__slot_out__")
_ATOMS = (ast.Name, ast.Constant, ast.Call, ast.Subscript, ast.Attribute)
_BOOLEAN_HELPERS = frozenset({"inside_unit", "normal_square"})
"""Helpers of the derivative templates that return a truth value (arrays of them in the array form)."""

VALUE = -1
"""The template index of an op's forward value (derivative templates are 0 and 1)."""


@dataclass(frozen=True)
class _Template:
    """One op expression with its operand names renamed to numbered slots.

    ``text`` is a format string (``"{0} * {1}"``) made by parsing the expression with
    :mod:`ast`, renaming ``a``, ``b``, ``out`` to placeholder names, unparsing it and
    replacing each placeholder *token* by its slot number; filling a slot with a name
    or a parenthesised number gives exactly the code that renaming the AST node and
    unparsing would. ``slots`` are the slots used, ``names`` the other names it reads
    (bound in the namespace), ``atomic`` whether it needs no parentheses as a factor.
    """

    text: str
    slots: frozenset[int]
    names: frozenset[str]
    atomic: bool

    def fill(self, args: Sequence[str]) -> str:
        return self.text.format(*args)


class _ArrayForm(ast.NodeTransformer):
    """Rewrites a float expression for arrays: ``x if c else y`` becomes ``where(c, x, y)``."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        test = self.condition(node.test)
        return ast.Call(
            ast.Name("where", ast.Load()), [test, self.visit(node.body), self.visit(node.orelse)], []
        )

    def condition(self, node: ast.expr) -> ast.expr:
        """A truth value per element: comparisons stay, ``a or b`` is ``logical_or``, a number is ``!= 0``."""
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            pairs: list[ast.expr] = [
                ast.Compare(self.visit(left), [op], [self.visit(right)])
                for left, op, right in zip(parts, node.ops, parts[1:])
            ]
            return self.combine("logical_and", pairs)
        if isinstance(node, ast.BoolOp):
            name = "logical_and" if isinstance(node.op, ast.And) else "logical_or"
            return self.combine(name, [self.condition(v) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ast.Call(ast.Name("logical_not", ast.Load()), [self.condition(node.operand)], [])
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _BOOLEAN_HELPERS
        ):
            return self.visit(node)  # type: ignore[no-any-return]
        return ast.Compare(self.visit(node), [ast.NotEq()], [ast.Constant(0.0)])

    @staticmethod
    def combine(name: str, parts: list[ast.expr]) -> ast.expr:
        result = parts[0]
        for p in parts[1:]:
            result = ast.Call(ast.Name(name, ast.Load()), [result, p], [])
        return result

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        raise CompileError(f"no array form for a boolean expression outside a condition: {ast.unparse(node)}")


def _template_from(expression: str, array: bool) -> _Template:
    """Parse ``expression``, rename its operands to slots with ast, unparse, and split at the slots."""
    tree: ast.AST = ast.parse(expression, mode="eval")
    if array:
        tree = ast.fix_missing_locations(_ArrayForm().visit(tree))
    renamed = 0
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in _SLOTS:
                node.id = _PLACEHOLDERS[_SLOTS.index(node.id)]
                renamed += 1
            else:
                if node.id.startswith(_CHECKED):
                    node.id = node.id.removeprefix(_CHECKED)  # reads as the notes do: log(v1)
                names.add(node.id)
    text = ast.unparse(tree)
    pieces: list[str] = []
    slots: list[int] = []
    last = 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string in _PLACEHOLDERS:
            start, end = tok.start[1], tok.end[1]
            pieces.append(text[last:start].replace("{", "{{").replace("}", "}}"))
            slot = _PLACEHOLDERS.index(tok.string)
            pieces.append(f"{{{slot}}}")
            slots.append(slot)
            last = end
    pieces.append(text[last:].replace("{", "{{").replace("}", "}}"))
    if len(slots) != renamed or "\n" in text:  # every renamed name is one placeholder token
        raise CompileError(f"cannot make a template of {expression!r}")
    body = tree.body if isinstance(tree, ast.Expression) else tree
    return _Template("".join(pieces), frozenset(slots), frozenset(names), isinstance(body, _ATOMS))


_CHECKED = "checked_"
"""Prefix of the float namespace's functions that raise ``math``'s errors naming the op.

The float code calls them by their plain name (``log(v1)``, as the notes write it), bound to
the checked function; a derivative template's ``cos`` is then the checked one too, which
gives the same numbers inside the domain the forward pass has already checked."""


def _user_expression(op: Op, index: int) -> str:
    """The expression standing for a user-defined op, which has no source: calls of its own functions."""
    operands = ("a", "b")[: op.arity]
    if index == VALUE:
        return f"user_{op.name}_value({', '.join(operands)})"
    return f"user_{op.name}_rule({', '.join((*operands, 'out'))})[{index}]"


_TEMPLATES: dict[tuple[str, int, bool], _Template] = {}


def _template(op: Op, index: int, array: bool) -> _Template:
    """The template of ``op``'s value (``index`` :data:`VALUE`) or of its ``index``-th derivative."""
    key = (op.name, index, array)
    t = _TEMPLATES.get(key)
    if t is None:
        if op.source is None:
            expression = _user_expression(op, index)
        else:
            value, derivatives = op.source
            expression = value if index == VALUE else derivatives[index]
        t = _TEMPLATES[key] = _template_from(expression, array)
    return t


def literal(x: float) -> str:
    """``x`` as Python source that evaluates to exactly ``x``: ``2.5``, ``(-2.0)``, ``inf``, ``nan``.

    Negative numbers are parenthesised so that they can fill any operand of a
    template (``(-2.0) ** v1``); ``inf`` and ``nan`` are names of the namespace.
    """
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "(-inf)"
    text = repr(float(x))
    return f"({text})" if math.copysign(1.0, x) < 0 else text


# --------------------------------------------------------------------------- #
# The program: forward and reverse statements, independent of the graph       #
# --------------------------------------------------------------------------- #


class _Expr(NamedTuple):
    """An op expression: which template (op, :data:`VALUE` or derivative index) and the texts of a, b, out."""

    op: Op
    which: int
    args: tuple[str, str, str]


Factor = _Expr | str | None
"""How a partial adjoint scales its child's adjoint: None is ×1, ``"-"`` negates, a
str is a number literal, an :class:`_Expr` a derivative computed per call."""


@dataclass
class _Block:
    """One reverse pass: the seed's adjoint and, child before parent, each adjoint's partial adjoints."""

    comment: str
    seed: str | None
    bars: list[tuple[str, list[tuple[str, Factor]]]]


@dataclass
class _Program:
    """Everything the emitter needs, as text and ops: the graph itself is not kept."""

    params: list[str]
    comments: list[str]
    forward: list[tuple[str, _Expr]]
    blocks: list[_Block]
    value: str
    gradient: list[str]
    hessian: list[list[str]] | None
    rounding: list[tuple[str, str]]
    split: int | None = None
    split_comment: str = ""
    ops: dict[str, Op] = field(default_factory=dict)
    nodes: int = 0


def _build(
    output: Value, inputs: list[Value], wrt: list[Value], order: int, max_nodes: int, labels: list[str | None]
) -> _Program:
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
    input_set = set(inputs)
    wrt_set = set(wrt)
    variable: set[Value] = set()  # depends on an input: recomputed at every call
    depends: set[Value] = set()  # depends on a wrt input: has an adjoint
    for v in topo:
        parents = v.parents
        if v in input_set or any(p in variable for p in parents):
            variable.add(v)
            if v in wrt_set or any(p in depends for p in parents):
                depends.add(v)
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
    program = _Program(
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
    arguments: dict[Value, tuple[str, str, str]] = {}  # each op node's a, b, out as code
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
        args = arguments[v] = (text(operands[0]), text(operands[1]) if len(operands) > 1 else "", name[v])
        program.forward.append((name[v], _Expr(op, VALUE, args)))

    alias = len(topo) > READABLE_NODES
    folded: dict[str, float | None] = {}
    uses: dict[tuple[str, int], tuple[bool, bool, bool]] = {}

    def factor(op: Op, position: int, args: tuple[str, str, str], var_a: bool, var_b: bool) -> Factor:
        """dv_child/dv_operand as code, or folded: None for 1, "-" for -1, a literal for a number."""
        key = (op.name, position)
        used = uses.get(key)
        if used is None:
            slots = _template(op, position, False).slots
            used = uses[key] = (0 in slots, 1 in slots, 2 in slots)
        if used[2] or (used[0] and var_a) or (used[1] and var_b):
            return _Expr(op, position, args)
        code = _template(op, position, False).fill(args)  # numbers only: computed once, as the engine does
        if code not in folded:
            folded[code] = _constant_value(code)
        c = folded[code]
        if c is None:
            return _Expr(op, position, args)
        if c == 1.0:
            return None
        if c == -1.0:
            return "-"
        return literal(c)

    def block(seed: Value, suffix: str, comment: str) -> tuple[_Block, dict[Value, str]]:
        """The reverse pass from ``seed``, summing each node's partial adjoints as the engine's walk does."""
        bars: dict[Value, str] = {}
        if seed not in depends:
            return _Block(comment, None, []), bars
        arrivals: dict[Value, list[tuple[Value, Factor]]] = {}
        walk = forward_topo if seed is output else topological_order(seed)
        for c in reversed(walk):
            if c not in depends:
                continue
            op = c.op
            if op is None:
                continue
            operands = c.operands
            a = operands[0]
            b = operands[1] if len(operands) > 1 else None
            args = arguments[c]
            var_a = isinstance(a, Value) and a in variable
            var_b = isinstance(b, Value) and b in variable
            if isinstance(a, Value) and a in depends:
                arrivals.setdefault(a, []).append((c, factor(op, 0, args, var_a, var_b)))
            if isinstance(b, Value) and b in depends:
                arrivals.setdefault(b, []).append((c, factor(op, 1, args, var_a, var_b)))
        seed_bar = f"{name[seed]}_bar{suffix}"
        bars[seed] = seed_bar
        lines = []
        for v in sorted(arrivals, key=index.__getitem__, reverse=True):  # children before parents
            terms = arrivals[v]
            if alias and len(terms) == 1 and terms[0][1] is None:
                bars[v] = bars[terms[0][0]]  # a copy of one child's adjoint: no variable of its own
                continue
            bar = bars[v] = f"{name[v]}_bar{suffix}"
            lines.append((bar, [(bars[c], f) for c, f in terms]))
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
        shown = described if len(described) <= _COMMENT_INPUTS else [*described[:3], "..."]
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


# --------------------------------------------------------------------------- #
# Emitting the source                                                          #
# --------------------------------------------------------------------------- #


def _render(program: _Program, array: bool, *, rounding: bool = False, header: str = "") -> tuple[str, str]:
    """The function's source and name: forward trace, reverse trace(s), return."""
    name = "value_and_grad" if program.hessian is None else "value_grad_hessian"
    if rounding:
        name += "_and_rounding"
    lines = [f"def {name}({', '.join(program.params)}):"]
    lines.extend(f"    {c}" for c in program.comments)
    if header:
        lines.append(f"    {header}")

    def expression(e: _Expr) -> tuple[str, bool]:
        t = _template(e.op, e.which, array)
        return t.fill(e.args), t.atomic

    lines.append("    # forward evaluation trace")
    for i, (target, e) in enumerate(program.forward):
        if i == program.split:
            lines.append(f"    {program.split_comment}")
        lines.append(f"    {target} = {expression(e)[0]}")
    for b in program.blocks:
        lines.append(f"    {b.comment}")
        if b.seed is None:
            continue
        lines.append(f"    {b.seed} = 1.0")
        for bar, terms in b.bars:
            rendered = []
            for child, f in terms:
                if f is None:
                    rendered.append(child)
                elif f == "-":
                    rendered.append(f"-{child}")
                elif isinstance(f, str):
                    rendered.append(f"{child} * {f}")
                else:
                    code, atomic = expression(f)
                    rendered.append(f"{child} * {code}" if atomic else f"{child} * ({code})")
            lines.extend(_sum(bar, rendered))
    result = f"{program.value}, [{', '.join(program.gradient)}]"
    if program.hessian is not None:
        result += ", [" + ", ".join(f"[{', '.join(row)}]" for row in program.hessian) + "]"
    if rounding:
        lines.append(
            "    # rounding: the sum over the nodes of |vk * vk_bar| bounds y's rounding error (times u)"
        )
        bounds = [f"abs({v} * {b})" for v, b in program.rounding]
        lines.extend(_sum("rounding", bounds or ["0.0"]))
        result += ", rounding"
    lines.append(f"    return {result}")
    return "\n".join(lines) + "\n", name


def _sum(target: str, terms: list[str]) -> list[str]:
    """``target = t1 + t2 + ...``, in chunks of :data:`_SUM_CHUNK` terms, left to right."""
    out = []
    for start in range(0, len(terms), _SUM_CHUNK):
        chunk = terms[start : start + _SUM_CHUNK]
        parts = [chunk[0]] if start == 0 else [target, _signed(chunk[0])]
        parts.extend(_signed(t) for t in chunk[1:])
        out.append(f"    {target} = {''.join(parts)}")
    return out


def _signed(term: str) -> str:
    """`` + term``, or `` - x`` for ``-x`` (x + (-y) and x - y are the same IEEE operation)."""
    return f" - {term[1:]}" if term.startswith("-") else f" + {term}"


_generated = itertools.count()


def _define(source: str, name: str, namespace: dict[str, Any], kind: str) -> Callable[..., Any]:
    """Run the generated ``source``, a whole module, in a namespace holding ``namespace``; return ``name``.

    The callable is made from exactly the text that ``source`` shows (with none of this
    module's ``__future__`` flags), so the two cannot differ; tracebacks show its lines.
    """
    filename = f"<scalargrad {kind} #{next(_generated)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(namespace)
    code = builtins.compile(source, filename, "exec", dont_inherit=True)
    exec(code, scope)  # generated from op templates and scalargrad's own helper source only
    fn: Callable[..., Any] = scope[name]
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return fn


_SPECIAL = re.compile(r"\b(inf|nan)\b")


def _names(program: _Program, array: bool, function: str = "") -> set[str]:
    """The names the generated code reads besides its variables (``inf``, ``nan``: if ``function`` does)."""
    used = set(_SPECIAL.findall(function))
    seen: set[tuple[str, int]] = set()
    for _, e in program.forward:
        seen.add((e.op.name, VALUE))
    for b in program.blocks:
        for _, terms in b.bars:
            for _, f in terms:
                if isinstance(f, _Expr):
                    seen.add((f.op.name, f.which))
    for op_name, i in seen:
        used |= _template(program.ops[op_name], i, array).names
    return used


_BUILTINS = {"abs": abs, "min": min, "max": max, "float": float}
"""The builtins an op template may call (``abs(a)``): Python's own, so the source defines none of them."""


def _float_namespace() -> dict[str, Any]:
    """Every name of the float code bound as the engine binds it (for folding constants, not for the code)."""
    namespace: dict[str, Any] = {k: v for k, v in FLOAT_NAMESPACE.items() if not k.startswith("_")}
    namespace.update(_BUILTINS)
    namespace.update(
        {k.removeprefix(_CHECKED): v for k, v in FLOAT_NAMESPACE.items() if k.startswith(_CHECKED)}
    )
    namespace.update(inf=math.inf, nan=math.nan)
    return namespace


# --------------------------------------------------------------------------- #
# Writing the helpers out: the source defines every name it reads             #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Definition:
    """How the source gets one name it reads: imported from a module, or defined by source text.

    ``origin`` (module, attribute) is emitted as ``from module import attribute [as name]``;
    otherwise ``text`` (a ``def`` or an assignment) is emitted, after the definitions of
    ``needs``, the other names it reads (``math``, ``np`` and ``torch`` are modules).
    """

    text: str = ""
    needs: tuple[str, ...] = ()
    origin: tuple[str, str] | None = None
    annotated: bool = False


_MODULES = {"math": "import math", "np": "import numpy as np", "torch": "import torch"}
"""Module names a helper may read, and the import statement that binds each."""

_FROM = {"math": "math", "np": "numpy", "torch": "torch"}


def _free_names(node: ast.AST) -> tuple[str, ...]:
    """The names ``node`` reads that it does not bind itself and that are not Python's builtins, sorted.

    Type annotations do not count: the source is run with ``from __future__ import annotations``.
    """
    node = copy.deepcopy(node)
    bound: set[str] = set()
    loaded: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.FunctionDef):
            n.returns = None
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            n.annotation = None
            bound.add(n.arg)
        elif isinstance(n, ast.AnnAssign):
            n.annotation = ast.Constant(None)
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (loaded if isinstance(n.ctx, ast.Load) else bound).add(n.id)
    return tuple(sorted(name for name in loaded - bound if not hasattr(builtins, name)))


def _annotated(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.arg) and n.annotation is not None)
        or (isinstance(n, ast.FunctionDef) and n.returns is not None)
        for n in ast.walk(node)
    )


class _OpsSource(NamedTuple):
    """The module that fills the float namespace (:mod:`scalargrad.ops`), read as source."""

    text: str
    functions: dict[str, ast.FunctionDef]  # its module-level functions
    bindings: dict[str, ast.expr]  # each FLOAT_NAMESPACE name it binds explicitly, and to what


@functools.cache
def _ops_source() -> _OpsSource:
    """Parse :mod:`scalargrad.ops`: its functions, and the expressions its ``FLOAT_NAMESPACE.update`` binds.

    The float helpers are written out from this text, so that the source's ``divide`` or
    checked ``log`` is the engine's own definition, not a copy of it.
    """
    from . import ops

    try:
        text = inspect.getsource(ops)
    except OSError as e:  # installed without its .py files
        raise CompileError(f"compile writes its helpers out from scalargrad/ops.py's source: {e}") from None
    tree = ast.parse(text)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    dicts = {
        n.targets[0].id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Dict)
    }
    bindings: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "FLOAT_NAMESPACE"
        ):
            continue
        for keyword in node.keywords:
            if keyword.arg is not None:
                bindings[keyword.arg] = keyword.value
            elif isinstance(keyword.value, ast.Name) and keyword.value.id in dicts:  # **_SHARED
                entries = dicts[keyword.value.id]
                for key, value in zip(entries.keys, entries.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        bindings[key.value] = value
    return _OpsSource(text, functions, bindings)


@functools.cache
def _float_definition(name: str, read_by_code: bool) -> _Definition | None:
    """How the float source gets ``name``: from :mod:`math`, or as :mod:`scalargrad.ops` defines it.

    ``read_by_code``: a name the generated function reads, bound (as the engine binds it)
    to the checked function where there is one (``log`` is ``checked_log``); otherwise a
    name a helper reads (``_checked``), a function of ``ops`` by that name. None for a
    name of Python's builtins and for a user-defined op's functions (which it cannot write out).
    """
    if name.startswith("user_"):
        return None
    if name in _MODULES:
        return _Definition(text=_MODULES[name])
    ops = _ops_source()
    key = f"{_CHECKED}{name}" if read_by_code and f"{_CHECKED}{name}" in FLOAT_NAMESPACE else name
    node: ast.AST | None = ops.bindings.get(key) if read_by_code else ops.functions.get(name)
    if isinstance(node, ast.Name) and node.id in ops.functions:  # divide=_divide: its def, named divide
        node = ops.functions[node.id]
    if isinstance(node, ast.FunctionDef):
        text = ast.get_source_segment(ops.text, node)
        assert text is not None
        text = text.replace(f"def {node.name}(", f"def {name}(", 1)
        return _Definition(text, _free_names(node), annotated=_annotated(node))
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math":
        return _Definition(origin=("math", node.attr))
    if isinstance(node, ast.expr):
        text = ast.get_source_segment(ops.text, node)
        assert text is not None
        return _Definition(f"{name} = {text}", _free_names(node), annotated=_annotated(node))
    if read_by_code and key in FLOAT_NAMESPACE and getattr(math, key, None) is FLOAT_NAMESPACE[key]:
        return _Definition(origin=("math", key))
    if read_by_code and (name in _BUILTINS or name in ("inf", "nan")):
        return _Definition(origin=("math", name)) if name in ("inf", "nan") else None
    raise CompileError(
        f"compile cannot write out {name!r}: scalargrad.ops defines it in a form it cannot read"
    )


_ARRAY_HELPERS: dict[str, str] = {
    "pow_base_grad": '''\
def pow_base_grad(a, b, out):
    """d(a**b)/da per element: b * a**(b-1), with ops.py's values where a == 0 or b == 0."""
    at_zero = where(b < 1.0, inf, where(b == 1.0, 1.0, 0.0))
    return where(b == 0.0, 0.0, where(a == 0.0, at_zero, b * where(a == 0.0, 1.0, a) ** (b - 1.0)))
''',
    "pow_exponent_grad": '''\
def pow_exponent_grad(a, out):
    """d(a**b)/db per element: a**b * ln a, 0 where a == 0, nan where ln a is undefined."""
    positive = a > 0.0
    return where(positive, out * log(where(positive, a, 1.0)), where(a == 0.0, 0.0, nan))
''',
    "min_share": '''\
def min_share(a, b):
    """d minimum(a, b)/da per element: 0 where a loses, 0.5 at a tie, else 1."""
    return where(a > b, 0.0, where(a == b, 0.5, 1.0))
''',
    "max_share": '''\
def max_share(a, b):
    """d maximum(a, b)/da per element: 0 where a loses, 0.5 at a tie, else 1."""
    return where(a < b, 0.0, where(a == b, 0.5, 1.0))
''',
    "inside_unit": '''\
def inside_unit(a):
    """True strictly inside (-1, 1), and for nan."""
    return ~(abs(a) >= 1.0)
''',
    "normal_square": '''\
def normal_square(a, b):
    """True where a*a + b*b is a normal finite float (not subnormal, not overflowed)."""
    s = a * a + b * b
    return (s >= 2.2250738585072014e-308) & (s < inf)
''',
}
"""The derivative helpers of :mod:`scalargrad.ops` over arrays, as source (emitted and exec'd):
the same values per element, written with ``where``, for NumPy and PyTorch alike."""

_NUMPY: dict[str, str] = {
    **{
        name: f"np.{name}"
        for name in (
            "where",
            "logical_or",
            "logical_and",
            "logical_not",
            "abs",
            "sign",
            "exp",
            "log",
            "sqrt",
            "sin",
            "cos",
            "tan",
            "sinh",
            "cosh",
            "tanh",
            "log1p",
            "expm1",
            "log2",
            "log10",
            "hypot",
            "minimum",
            "maximum",
            "power",
        )
    },
    "asin": "np.arcsin",
    "acos": "np.arccos",
    "atan": "np.arctan",
    "atan2": "np.arctan2",
    "divide": "np.true_divide",
    "erf": "np.vectorize(math.erf, otypes=[np.float64])",
    "sigmoid": '''\
def sigmoid(x):
    """1 / (1 + e**-x) per element, without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    "softplus": '''\
def softplus(x):
    """ln(1 + e**x) per element, without overflow: max(x, 0) + ln(1 + e**-|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
''',
}
"""NumPy's version of every name the built-in ops' templates read: a NumPy function, or source."""

_TORCH: dict[str, str] = {
    **{
        name: f"lift(torch.{name})"
        for name in (
            "logical_or",
            "logical_and",
            "logical_not",
            "abs",
            "exp",
            "log",
            "sqrt",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "sinh",
            "cosh",
            "tanh",
            "atan",
            "log1p",
            "expm1",
            "log2",
            "log10",
            "erf",
            "atan2",
            "hypot",
            "minimum",
            "maximum",
        )
    },
    "divide": "lift(torch.true_divide)",
    "power": "lift(torch.pow)",
    "tensor": '''\
def tensor(x):
    """x as a float64 tensor: tensors as they are, numbers converted."""
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)
''',
    "lift": '''\
def lift(fn):
    """The torch function fn, taking numbers too (as float64 tensors)."""
    return lambda *xs: fn(*(tensor(x) for x in xs))
''',
    "where": '''\
def where(c, x, y):
    """x where c is true, else y, per element."""
    return torch.where(tensor(c).bool(), tensor(x), tensor(y))
''',
    "sign": '''\
def sign(x):
    """1, -1 or 0 per element; nan stays nan."""
    x = tensor(x)
    return torch.where(torch.isnan(x), x, torch.sign(x))
''',
    "sigmoid": '''\
def sigmoid(x):
    """1 / (1 + e**-x) per element, without overflow."""
    x = tensor(x)
    e = torch.exp(-torch.abs(x))
    return torch.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
    "softplus": '''\
def softplus(x):
    """ln(1 + e**x) per element, without overflow: max(x, 0) + ln(1 + e**-|x|)."""
    x = tensor(x)
    return torch.clamp(x, min=0.0) + torch.log1p(torch.exp(-torch.abs(x)))
''',
}
"""PyTorch's (float64 tensors) version of every name the built-in ops' templates read, as source."""

_CONSTANTS = ("inf", "nan", "LN2", "LN10", "TWO_OVER_SQRT_PI")
"""Names both forms share: numbers, written out as :mod:`scalargrad.ops` defines them."""


@functools.cache
def _array_definition(backend: str, name: str) -> _Definition | None:
    """How the ``backend`` ("numpy" or "torch") source gets ``name``; None if it has no form of it."""
    if name.startswith("user_"):
        return None
    if name in _MODULES:
        return _Definition(text=_MODULES[name])
    if name in _CONSTANTS:
        return _float_definition(name, True)
    table = _NUMPY if backend == "numpy" else _TORCH
    text = table.get(name, _ARRAY_HELPERS.get(name))
    if text is None:
        return None
    if text.startswith("def "):
        return _Definition(text.rstrip("\n"), _free_names(ast.parse(text)))
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in _FROM:
        return _Definition(origin=(_FROM[node.value.id], node.attr))
    return _Definition(f"{name} = {text}", _free_names(node))


def _user_note(ops: dict[str, Op]) -> list[str]:
    """The source's first comment when it calls user-defined ops, which it cannot define."""
    users = sorted((op for op in ops.values() if op.source is None), key=lambda op: op.name)
    if not users:
        return []
    lines = [
        f"# NOT self-contained: it calls the user-defined op{'s' if len(users) > 1 else ''} "
        f"{', '.join(op.name for op in users)}, whose Python functions scalargrad cannot write out.",
        "# Bind these names first (the compiled object's user_functions has them: exec(source, dict(them))):",
    ]
    for op in users:
        operands = ", ".join(("a", "b")[: op.arity])
        partials = ", ".join(f"d/d{x}" for x in ("a", "b")[: op.arity])
        lines.append(
            f"#     user_{op.name}_value({operands}) -> its value, "
            f"user_{op.name}_rule({operands}, out) -> ({partials}{',' if op.arity == 1 else ''})"
        )
    return lines


def _module(
    function: str,
    names: set[str],
    definition: Callable[[str, bool], _Definition | None],
    header: list[str],
) -> str:
    """The whole source: ``header`` comments, imports, the helpers that ``names`` need, then ``function``.

    Helpers are emitted in a fixed order: the names the function reads, sorted, each
    after the definitions it needs; functions (``def``) before assignments.
    ``definition(name, read_by_code)`` says how to get one name; a name it gives None
    for is Python's own.
    """
    imports: set[str] = set()
    from_imports: dict[str, list[str]] = {}
    texts: list[str] = []
    annotated = False
    done: set[str] = set()

    def add(name: str, read_by_code: bool) -> None:
        nonlocal annotated
        if name in done:
            return
        done.add(name)
        d = definition(name, read_by_code)
        if d is None:
            return
        if d.origin is not None:
            module, attribute = d.origin
            item = attribute if attribute == name else f"{attribute} as {name}"
            from_imports.setdefault(module, []).append(item)
            return
        if name in _MODULES:
            imports.add(d.text)
            return
        for need in d.needs:
            add(need, False)
        texts.append(d.text)
        annotated = annotated or d.annotated

    for name in sorted(names):
        add(name, True)
    lines = list(header)
    if annotated:  # the engine's helpers keep their type annotations, which need not be evaluated
        lines.append("from __future__ import annotations")
    if imports or from_imports:
        if annotated:
            lines.append("")
        lines.extend(sorted(imports))
        lines.extend(
            f"from {m} import {', '.join(sorted(items))}" for m, items in sorted(from_imports.items())
        )
    # the functions first, then the assignments, which may call them (log = _checked(...)) as the
    # module runs; a function's body runs only when called, so the functions' own order is free
    functions = [text for text in texts if text.startswith("def ")]
    assignments = [text for text in texts if not text.startswith("def ")]
    parts = ["\n".join(lines)] if lines else []
    parts.extend(functions)
    if assignments:
        parts.append("\n".join(assignments))
    parts.append(function.rstrip("\n"))
    return "\n\n\n".join(parts) + "\n"


def _check_op_name(op: Op) -> None:
    """Refuse an op whose name the source cannot write as the same Python name.

    :func:`~scalargrad.define_op` takes ASCII identifiers only; this guards ops made
    some other way, since Python reads names in NFKC form (``ﬁ`` is ``fi``).
    """
    if not (op.name.isascii() and op.name.isidentifier()):
        raise CompileError(f"the op {op.name!r} has no ASCII name to call it by in Python source")


def _user_functions(ops: dict[str, Op]) -> dict[str, Callable[..., Any]]:
    """The functions the source calls for user-defined ops, by the names it calls them."""
    functions: dict[str, Callable[..., Any]] = {}
    for op in sorted(ops.values(), key=lambda op: op.name):
        if op.source is None:
            functions[f"user_{op.name}_value"] = _user_value(op)
            functions[f"user_{op.name}_rule"] = _user_rule(op)
    return functions


def _header(ops: dict[str, Op], what: str, needs: str) -> list[str]:
    """The source's first comment: what it computes, and that it runs on its own (or what it needs)."""
    note = _user_note(ops)
    first = f"# {what}, by scalargrad.compile"
    return [f"{first}.", *note] if note else [f"{first}: self-contained {needs}."]


def _float_source(program: _Program) -> tuple[str, str]:
    """The float form's whole source (helpers, then the function) and the function's name."""
    function, name = _render(program, False)
    what = "The value and gradient" + (" and Hessian" if program.hessian is not None else "")
    header = _header(program.ops, what, "plain Python")
    return _module(function, _names(program, False, function), _float_definition, header), name


def _user_value(op: Op) -> Callable[..., float]:
    evaluate = op.evaluate

    def value(*xs: float) -> float:
        return float(evaluate(*xs))

    return value


def _user_rule(op: Op) -> Callable[..., tuple[float, ...]]:
    rule = op.rule
    name = op.name

    def local_derivatives(*xs: float) -> tuple[float, ...]:
        try:
            return tuple(float(g) for g in rule(*xs))
        except (TypeError, ValueError):
            raise TypeError(f"{name}: its rule must return numbers, got {rule(*xs)!r}") from None

    return local_derivatives


# --------------------------------------------------------------------------- #
# The compiled callables                                                       #
# --------------------------------------------------------------------------- #


def _real(x: object, where: str) -> float:
    """One input number as a float, or a TypeError naming where it was found."""
    if type(x) is float:
        return x
    if isinstance(x, float):  # NumPy's float64 and other float subclasses
        return float(x)
    number = real_float(x, f"compiled gradient: {where}")
    if number is None:
        hint = " (pass numbers, e.g. v.data)" if isinstance(x, Value) else ""
        raise TypeError(
            f"compiled gradient: {where} must be a real number, got {type(x).__name__}: {x!r:.60}{hint}"
        )
    return number


class _Signature:
    """How a call's arguments map to the flat inputs and back: the structure of the example."""

    def __init__(self, structure: tuple[Any, ...], n_inputs: int) -> None:
        self.structure = structure  # one entry per positional argument: a leaf or a dict/list/tuple of leaves
        self.n_inputs = n_inputs
        self.scalars = all(isinstance(s, Value) for s in structure)

    def flatten(self, args: tuple[Any, ...]) -> list[float]:
        if len(args) != len(self.structure):
            raise TypeError(
                f"compiled gradient takes {len(self.structure)} argument"
                f"{'s' if len(self.structure) != 1 else ''} (as compiled), got {len(args)}"
            )
        if self.scalars:
            return [_real(a, f"argument {i}") for i, a in enumerate(args)]
        flat: list[float] = []
        for i, (arg, example) in enumerate(zip(args, self.structure)):
            if isinstance(example, Value):
                flat.append(_real(arg, f"argument {i}"))
                continue
            leaves = tree_leaves_like(arg, example, f"compiled gradient: argument {i}")
            flat.extend(_real(x, f"argument {i}") for x in leaves)
        return flat


def _same(a: float, b: float, rtol: float) -> bool:
    """Equal, NaN and NaN, or within ``rtol`` relative (never an infinity against another number)."""
    return bool(agree(a, b, rtol * max(abs(a), abs(b)), nan_equal=True))


class CompiledGradient:
    """A graph's value and gradient as straight-line float code: ``g(*inputs) -> (value, gradient)``.

    Made by :func:`compile`. Call it with new input values shaped like the inputs
    it was compiled for; it returns ``(value, gradient)`` with the gradient shaped
    like ``wrt`` (as :func:`scalargrad.grad` returns it), or ``(value, gradient,
    hessian)`` for ``order=2`` (the Hessian shaped as :func:`scalargrad.hessian`
    returns it). Plain floats, no graph: it is safe to call from several threads.

    * ``source``: the code, a self-contained module (see the module
      documentation), ``function``: the function it defines, taking one float per
      input in order and returning the value, the flat gradient list (and the
      Hessian rows); ``user_functions``: what the source needs bound for
      user-defined ops (empty without them);
    * ``nodes``: the graph's size, ``compile_seconds``: the time compiling took;
    * :meth:`vectorized`: the same code over NumPy arrays or PyTorch tensors.
    """

    def __init__(
        self,
        program: _Program,
        signature: _Signature,
        rebuild_gradient: Callable[[list[Any]], Any],
        single_wrt: bool,
        reference: Callable[[list[float]], tuple[float, list[float], list[list[float]] | None]] | None,
        check_rtol: float,
        *,
        traced: bool,
    ) -> None:
        self._program = program
        self._signature = signature
        self._rebuild = rebuild_gradient
        self._single = single_wrt
        self._reference = reference
        self._check_rtol = check_rtol
        self._traced = traced
        self.order = 1 if program.hessian is None else 2
        # one float argument per input, a flat list of Values as wrt, order 1, no check: the fast path
        self._plain = (
            signature.scalars and self.order == 1 and reference is None and rebuild_gradient is _as_list
        )
        source, name = _float_source(program)
        self.source: str = source
        """The generated Python code, a module that runs on its own: its imports (Python's :mod:`math`),
        the helpers it calls (as :mod:`scalargrad.ops` defines them), then the function, forward trace
        then reverse trace(s). ``exec`` it, or save it as a file and import it: :attr:`function` is
        the function it defines."""
        self.user_functions: dict[str, Callable[..., Any]] = _user_functions(program.ops)
        """What ``source`` cannot define: the functions of user-defined ops, by the names it calls them
        (``user_<op>_value``, ``user_<op>_rule``); empty without such ops. To run the source with
        them: ``exec(source, dict(user_functions))``."""
        self.function: Callable[..., Any] = _define(source, name, self.user_functions, "compiled gradient")
        """The function ``source`` defines: one float per input; returns the value, the flat gradient (and
        Hessian)."""
        self._second_order_lines = _second_order_lines(source, program)
        self.nodes: int = program.nodes
        """How many nodes (leaves included) the compiled graph has."""
        self.compile_seconds: float = 0.0
        """How long :func:`compile` took, tracing included."""

    @property
    def check(self) -> bool:
        """Whether every call re-runs the engine and compares (``compile(..., check=True)``)."""
        return self._reference is not None

    def __call__(self, *args: Any) -> tuple[Any, ...]:
        if self._plain and len(args) == self._signature.n_inputs:
            for a in args:  # the common case, floats in order: no conversion
                if type(a) is not float:
                    args = tuple(self._signature.flatten(args))
                    break
            result = self.function(*args)
            return result[0], result[1]
        flat = self._signature.flatten(args)
        try:
            result = self.function(*flat)
        except (ArithmeticError, ValueError) as e:
            line = _failing_line(e, self.function)
            if line is None or not any(line in lines for lines in self._second_order_lines):
                raise  # f's own forward trace or gradient: the engine raises the same error
            raise CompileCheckError(
                f"compiled Hessian failed at inputs {flat!r:.300}: {type(e).__name__}: {e} (in the line "
                f"{linecache.getline(self.function.__code__.co_filename, line).strip()!r:.200}). The Hessian "
                "code is the create_graph gradient graph built at the example inputs, and derivative rules "
                "branch on values (sqrt's and pow's at 0, asin's at ±1, hypot's at the origin, ...), so the "
                "branches they took there are fixed in it, and do not hold here. Use scalargrad.hessian at "
                "such inputs, or compile again at them (check=True also catches the inputs where a fixed "
                "branch silently gives other numbers).",
                args=flat,
                what="the Hessian",
                compiled=math.nan,
                engine=math.nan,
            ) from e
        if self._reference is not None:
            self._verify(flat, result)
        gradient = self._rebuild(result[1])
        if self.order == 1:
            return result[0], gradient
        rows = result[2]
        return result[0], gradient, (rows[0][0] if self._single else rows)

    def _verify(self, flat: list[float], result: tuple[Any, ...]) -> None:
        assert self._reference is not None
        value, gradient, rows = self._reference(flat)
        pairs: list[tuple[str, float, float]] = [("the value", result[0], value)]
        pairs += [(f"gradient[{i}]", a, b) for i, (a, b) in enumerate(zip(result[1], gradient))]
        if rows is not None:
            pairs += [
                (f"hessian[{i}][{j}]", a, b)
                for i, (ra, rb) in enumerate(zip(result[2], rows))
                for j, (a, b) in enumerate(zip(ra, rb))
            ]
        for what, compiled, engine in pairs:
            if not _same(compiled, engine, self._check_rtol):
                raise CompileCheckError(
                    f"compile check failed at inputs {flat!r:.300}: {what} is {compiled!r} compiled but "
                    f"{engine!r} by the engine. {self._causes(what.startswith('hessian'))}",
                    args=flat,
                    what=what,
                    compiled=compiled,
                    engine=engine,
                )

    def _causes(self, hessian: bool) -> str:
        """Why a checked result can differ from the engine's, for a traced function or a graph."""
        if self._traced:
            causes = (
                "The compiled code is the path the traced function took at its example inputs; Python "
                "control flow on values (if on a Value, max() of Values, numbers computed from .data) "
                "may have taken another path here"
            )
            fix = "Compile again at these inputs, or write the branch with relu/abs/minimum/maximum."
        else:
            causes = (
                "The compiled code is the graph as recorded, with the leaves that are not inputs "
                "frozen at their values when compiled; the engine replayed its ops at these inputs with "
                "those leaves' current values: a leaf that is not an input may have changed since "
                "(pass it in inputs=), or an op of your own may not be a function of its operands"
            )
            fix = "Compile the graph again."
        if hessian:
            causes += (
                "; or, for the Hessian, a derivative rule that branches on values (relu's at its kink, "
                "sqrt's and pow's at 0, asin's at ±1, ...) took another branch here than when the "
                "create_graph gradient graph was built at the example inputs"
            )
            fix = fix.removesuffix(".") + ", or use scalargrad.hessian at these inputs."
        return f"{causes}. {fix}"

    def vectorized(self, xp: Any = "numpy", *, threads: int = 1) -> ArrayGradient:
        """The same code over arrays: ``xp`` is ``"numpy"`` (default), ``"torch"``, or either module.

        Conditional expressions become ``where``, the checked float helpers become the
        array library's functions (where the float code raises a domain error, the
        array code gives nan or ±inf at that point, as NumPy does, without warnings),
        and user-defined ops are applied element by element (NumPy only). NumPy is
        imported only here. Large NumPy inputs run in cache-sized blocks, on
        ``threads`` threads if more than 1. See :class:`ArrayGradient`.

        The array form never re-runs the engine: ``check=True`` checks the float form's
        calls only (per point it would cost as much as the engine), so for a checked
        gradient this warns; check array results with
        :func:`scalargrad.testing.assert_gradients_close_batched` or the float form at
        a few of the points.
        """
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int, got {threads!r}")
        if self.check:
            warnings.warn(
                "vectorized(): the array form of a check=True compiled gradient is not checked (it never "
                "re-runs the engine); where the compiled code does not stand for the engine (Python "
                "control flow fixed at trace time, or a derivative rule's branch with order=2) its numbers "
                "are silently wrong: check such points with the float form",
                stacklevel=2,
            )
        return ArrayGradient(self, self._program, _array_backend(xp), threads)

    def __repr__(self) -> str:
        return (
            f"CompiledGradient(order={self.order}, inputs={self._signature.n_inputs}, "
            f"nodes={self.nodes}, check={self.check})"
        )


def _second_order_lines(source: str, program: _Program) -> list[range]:
    """The source lines an order-2 function computes from the create_graph gradient graph.

    Those are the gradient graph's forward lines and the Hessian rows' reverse traces; the
    forward trace of f and its gradient's reverse trace are what order 1 runs, as the engine does.
    """
    if program.hessian is None:
        return []
    lines = source.splitlines()

    def number(comment: str) -> int:
        return lines.index(f"    {comment}") + 1

    ranges = []
    if program.split is not None:
        ranges.append(range(number(program.split_comment) + 1, number(program.blocks[0].comment)))
    if len(program.blocks) > 1:
        ranges.append(range(number(program.blocks[1].comment) + 1, len(lines) + 1))
    return ranges


def _failing_line(error: BaseException, function: Callable[..., Any]) -> int | None:
    """The line of the generated ``function`` that was running when ``error`` was raised."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is function.__code__:
            return tb.tb_lineno
        tb = tb.tb_next
    return None


BLOCK = 16_384
"""Points per block of the NumPy form (see :meth:`ArrayGradient._evaluate`): 128 KiB per array."""


def _flat_results(result: tuple[Any, ...]) -> list[Any]:
    """The generated function's results in one list: value, gradient, Hessian rows, extras."""
    flat = [result[0], *result[1]]
    rest = result[2:]
    if rest and isinstance(rest[0], list):
        flat.extend(h for row in rest[0] for h in row)
        rest = rest[1:]
    flat.extend(rest)
    return flat


class ArrayGradient:
    """A :class:`CompiledGradient`'s code over arrays: the gradient at many points in one call.

    Call it like the float form, with arrays (or numbers) in place of numbers; they
    are broadcast together, and every result (value, each gradient entry, each
    Hessian entry) is a float64 array of the broadcast shape. ``source`` is the
    code, a self-contained module that imports NumPy (or PyTorch), ``xp`` the array
    module.

    >>> import numpy as np
    >>> from scalargrad import sin
    >>> g = compile(lambda x: x * sin(x), (1.0,)).vectorized()
    >>> value, (dx,) = g(np.array([0.0, np.pi / 2]))
    >>> value.round(6).tolist(), dx.round(6).tolist()
    ([0.0, 1.570796], [0.0, 1.0])
    """

    def __init__(
        self, compiled: CompiledGradient, program: _Program, backend: _Backend, threads: int
    ) -> None:
        self.threads = threads
        """Threads the blocks of a large NumPy call run on (see :meth:`CompiledGradient.vectorized`)."""
        self._compiled = compiled
        self._program = program
        self._backend = backend
        self.xp: Any = backend.module
        self.user_functions: dict[str, Callable[..., Any]] = backend.user_functions(program)
        """What ``source`` cannot define: user-defined ops applied element by element (see
        :attr:`CompiledGradient.user_functions`)."""
        self.source, name = backend.source(program)
        """The generated code over arrays, a module that runs on its own with NumPy (or PyTorch) installed."""
        self.function: Callable[..., Any] = _define(
            self.source, name, self.user_functions, f"{backend.name} gradient"
        )
        self._rounding: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> tuple[Any, ...]:
        return self._assemble(self._evaluate(self.function, self._arrays(args)))

    def with_rounding(self, *args: Any) -> tuple[Any, ...]:
        """As a call, plus a last result: Σ|vk·v̄k| over the nodes, per point.

        Times the unit roundoff, this bounds the rounding error of the value to first
        order (what :func:`scalargrad.testing.assert_gradients_close_batched` uses).
        """
        if self._rounding is None:
            source, name = self._backend.source(self._program, rounding=True)
            self._rounding = _define(source, name, self.user_functions, "rounding")
        flat = self._evaluate(self._rounding, self._arrays(args))
        return (*self._assemble(flat[:-1]), flat[-1])

    def _evaluate(self, fn: Callable[..., Any], arrays: list[Any]) -> list[Any]:
        """Every result (value, gradient, Hessian entries, ...) as an array of the inputs' broadcast shape.

        NumPy inputs of more than :data:`BLOCK` points run in blocks of that many, so
        that the code's temporaries stay in the processor's cache (about twice as fast
        at 10⁶ points as one call over whole arrays), on ``threads`` threads (NumPy
        releases the GIL inside its loops); the numbers are the same.
        """
        backend = self._backend
        shape = backend.shape(arrays)
        size = math.prod(shape)
        if backend.name != "numpy" or size <= BLOCK:
            with backend.quiet():
                return [backend.full(r, shape) for r in _flat_results(fn(*arrays))]
        np = backend.module
        flat = [a if a.ndim == 0 else np.broadcast_to(a, shape).reshape(-1) for a in arrays]

        def run(start: int) -> list[Any]:
            with backend.quiet():  # NumPy's error state is per thread
                return _flat_results(fn(*(a if a.ndim == 0 else a[start : start + BLOCK] for a in flat)))

        first = run(0)
        outputs = [np.empty(size, dtype=np.float64) for _ in first]

        def store(start: int, results: list[Any]) -> None:
            for out, r in zip(outputs, results):
                out[start : start + BLOCK] = r

        store(0, first)
        starts = range(BLOCK, size, BLOCK)
        if self.threads > 1:
            with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
                for start, results in zip(starts, pool.map(run, starts)):
                    store(start, results)
        else:
            for start in starts:
                store(start, run(start))
        return [out.reshape(shape) for out in outputs]

    def _assemble(self, flat: list[Any]) -> tuple[Any, ...]:
        """``(value, gradient shaped like wrt[, hessian])`` from the flat results."""
        n = len(self._program.gradient)
        value, gradient = flat[0], self._compiled._rebuild(flat[1 : 1 + n])
        if self._program.hessian is None:
            return value, gradient
        rows = [flat[1 + n + i * n : 1 + n + (i + 1) * n] for i in range(n)]
        return value, gradient, (rows[0][0] if self._compiled._single else rows)

    def _arrays(self, args: tuple[Any, ...]) -> list[Any]:
        signature = self._compiled._signature
        if len(args) != len(signature.structure):
            raise TypeError(
                f"array gradient takes {len(signature.structure)} argument"
                f"{'s' if len(signature.structure) != 1 else ''} (as compiled), got {len(args)}"
            )
        leaves: list[Any] = []
        for i, (arg, example) in enumerate(zip(args, signature.structure)):
            if isinstance(example, Value):
                leaves.append(arg)
                continue
            leaves.extend(tree_leaves_like(arg, example, f"array gradient: argument {i}"))
        return [self._backend.array(x, i) for i, x in enumerate(leaves)]

    def __repr__(self) -> str:
        return (
            f"ArrayGradient({self._backend.name}, order={self._compiled.order}, nodes={self._compiled.nodes})"
        )


# --------------------------------------------------------------------------- #
# Array namespaces: NumPy and PyTorch versions of the float helpers            #
# --------------------------------------------------------------------------- #


class _Backend:
    """An array library: its module, how to make arrays, and its versions of the float namespace."""

    def __init__(self, name: str, module: Any) -> None:
        self.name = name
        self.module = module

    def source(self, program: _Program, *, rounding: bool = False) -> tuple[str, str]:
        """The array form's whole source (imports, helpers, the function) and the function's name.

        Raises :class:`CompileError` for a name the library has no form of, and for
        user-defined ops outside NumPy.
        """
        function, name = _render(program, True, rounding=rounding, header=f"# the array form ({self.name})")
        names = _names(program, True, function) | ({"abs"} if rounding else set())
        for key in sorted(names):
            if _array_definition(self.name, key) is None and not key.startswith("user_"):
                op_names = [
                    op.name
                    for op in program.ops.values()
                    if any(key in _template(op, i, True).names for i in (VALUE, *range(op.arity)))
                ]
                raise CompileError(f"no {self.name} form of {key!r}, used by the op(s) {', '.join(op_names)}")
        for op in program.ops.values():
            if op.source is None and self.name != "numpy":
                raise CompileError(
                    f"the user-defined op {op.name!r} has no {self.name} form (only NumPy applies "
                    "user-defined ops element by element)"
                )
        what = "The value and gradient" + (" and Hessian" if program.hessian is not None else "")
        library, arrays = ("NumPy", "arrays") if self.name == "numpy" else ("PyTorch", "tensors")
        header = _header(program.ops, f"{what} over {library} {arrays}", f"(needs {library})")
        return _module(function, names, lambda key, _: _array_definition(self.name, key), header), name

    def user_functions(self, program: _Program) -> dict[str, Callable[..., Any]]:
        """User-defined ops' value and rule, applied element by element (NumPy only)."""
        functions: dict[str, Callable[..., Any]] = {}
        for op in sorted(program.ops.values(), key=lambda op: op.name):
            if op.source is None and self.name == "numpy":
                functions[f"user_{op.name}_value"] = self._elementwise_value(op)
                functions[f"user_{op.name}_rule"] = self._elementwise_rule(op)
        return functions

    def _elementwise_value(self, op: Op) -> Callable[..., Any]:
        """A user-defined op's value, applied element by element (NumPy's frompyfunc)."""
        np = self.module
        ufunc = np.frompyfunc(_user_value(op), op.arity, 1)
        return lambda *xs: np.asarray(ufunc(*xs), dtype=np.float64)

    def _elementwise_rule(self, op: Op) -> Callable[..., tuple[Any, ...]]:
        """A user-defined op's local derivatives, element by element: a tuple of arrays, one per operand."""
        np = self.module
        rule = _user_rule(op)
        if op.arity == 1:
            first = np.frompyfunc(lambda *xs: rule(*xs)[0], 2, 1)
            return lambda *xs: (np.asarray(first(*xs), dtype=np.float64),)
        both = np.frompyfunc(rule, 3, 2)
        return lambda *xs: tuple(np.asarray(r, dtype=np.float64) for r in both(*xs))

    def array(self, x: Any, i: int) -> Any:
        if isinstance(x, (Value, str, bytes)):
            raise TypeError(f"array gradient: input {i} must be numbers or an array, got {type(x).__name__}")
        if self.name == "numpy":
            return self.module.asarray(x, dtype=self.module.float64)
        return self.module.as_tensor(x, dtype=self.module.float64)

    def shape(self, arrays: list[Any]) -> tuple[int, ...]:
        shapes = [tuple(a.shape) for a in arrays]
        return tuple(self.module.broadcast_shapes(*shapes)) if shapes else ()

    def full(self, x: Any, shape: tuple[int, ...]) -> Any:
        a = self.array(x, 0)
        if tuple(a.shape) == shape:
            return a
        if self.name == "numpy":
            return self.module.broadcast_to(a, shape).copy()
        return a.broadcast_to(shape).clone()

    def quiet(self) -> Any:
        """NumPy's floating-point warnings off: nan and inf are the array form's domain errors."""
        if self.name == "numpy":
            return self.module.errstate(all="ignore")
        return contextlib.nullcontext()


def _array_backend(xp: Any) -> _Backend:
    name = xp if isinstance(xp, str) else getattr(xp, "__name__", None)
    if name == "numpy":
        import numpy

        return _Backend("numpy", numpy)
    if name == "torch":
        import torch

        return _Backend("torch", torch)
    raise ValueError(f"vectorized needs xp='numpy' or 'torch' (or the module), got {xp!r}")


# --------------------------------------------------------------------------- #
# compile                                                                      #
# --------------------------------------------------------------------------- #


def compile(
    target: Value | Callable[..., Any],
    wrt: Any = None,
    *,
    inputs: Any = None,
    argnums: int | Sequence[int] | None = None,
    order: int = 1,
    check: bool = False,
    check_rtol: float = 0.0,
    max_nodes: int = MAX_NODES,
) -> CompiledGradient:
    """Compile a graph's value and gradient (and Hessian) to straight-line Python.

    Two forms:

    * ``compile(y, wrt, inputs=None)``: ``y`` is a Value (the output) and ``wrt`` the
      input leaves to differentiate with respect to, a Value or any nesting of
      dicts, lists and tuples of them. ``inputs`` (default ``wrt``) are the leaves
      the compiled function takes as arguments: give it to pass data that is not
      differentiated (e.g. ``inputs=[*params, *xs]``). If ``inputs`` is a list or
      tuple, the compiled function takes one positional argument per item, else one
      argument shaped like ``inputs``. Every other leaf of the graph is a constant
      with its value at compile time.
    * ``compile(f, example_args, argnums=None)``: ``f`` is traced once, called on
      Values made from ``example_args`` (a tuple or list of arguments, each a number
      or a dict/list/tuple of numbers; a single number is a one-argument call), as
      ``jax.jit`` traces. The compiled function takes arguments shaped like the
      example. The gradient is with respect to the arguments ``argnums`` (an int:
      shaped like that argument; a tuple: a tuple of those; None, the default: a
      tuple with one entry per argument).

    Returns a :class:`CompiledGradient`: ``g(*new_inputs)`` gives ``(value,
    gradient)``, or ``(value, gradient, hessian)`` with ``order=2`` (the Hessian over
    the flattened ``wrt``, as :func:`scalargrad.hessian` returns it; its code is
    compiled from the ``create_graph`` gradient graph, so the branches derivative rules
    took on the example's values are fixed in it: see the module documentation). The
    value and gradient are equal to :func:`scalargrad.grad`'s bit for bit, and the
    Hessian to :func:`scalargrad.hessian`'s, where the graph is the same.

    ``check=True`` re-runs the engine at every call (the traced function again, or
    the graph replayed with the new inputs) and raises :class:`CompileCheckError` when
    a result differs by more than ``check_rtol`` (relative; default 0: bit for bit,
    NaN equal to NaN). Python control flow in a traced function is fixed at trace
    time (see the module documentation); this is how to catch it.

    Raises TypeError/ValueError for bad arguments, :class:`CompileError` for a graph of
    more than ``max_nodes`` nodes (default :data:`MAX_NODES`).
    """
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"order must be 1 (value and gradient) or 2 (and the Hessian), got {order!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    if isinstance(check_rtol, bool) or not isinstance(check_rtol, numbers.Real) or not check_rtol >= 0:
        raise ValueError(f"check_rtol must be a number >= 0, got {check_rtol!r}")
    # Compiling allocates a few objects per node (the program, the source, Python's own compile);
    # each allocation burst would start full collections that walk the whole graph, which doubles
    # the time for 10^5 nodes. The collector is paused for the call and restored after.
    start = time.perf_counter()
    paused = gc.isenabled()
    gc.disable()
    try:
        compiled = _compile(target, wrt, inputs, argnums, order, check, float(check_rtol), max_nodes)
    finally:
        if paused:
            gc.enable()
    compiled.compile_seconds = time.perf_counter() - start
    return compiled


def _compile(
    target: Value | Callable[..., Any],
    wrt: Any,
    inputs: Any,
    argnums: int | Sequence[int] | None,
    order: int,
    check: bool,
    check_rtol: float,
    max_nodes: int,
) -> CompiledGradient:
    if isinstance(target, Value):
        if argnums is not None:
            raise TypeError(
                "argnums is for a traced function; with a graph, say what to differentiate in wrt"
            )
        if wrt is None:
            raise TypeError("compile(y, wrt) needs wrt: the input Values to differentiate with respect to")
        return _compile_graph(
            target, wrt, wrt if inputs is None else inputs, order, check, check_rtol, max_nodes
        )
    if callable(target):
        if inputs is not None:
            raise TypeError("inputs is for a graph; a traced function's inputs are its arguments")
        return _compile_function(target, wrt, argnums, order, check, check_rtol, max_nodes)
    raise TypeError(
        f"compile needs a Value (the output of a graph) or a function to trace, got {type(target).__name__}"
    )


def _leaves(tree: Any, what: str) -> list[Value]:
    leaves, _ = tree_flatten(tree)
    for leaf in leaves:
        if not isinstance(leaf, Value):
            raise TypeError(
                f"{what} must be Values (or dicts/lists/tuples of Values), found {type(leaf).__name__}"
            )
    return leaves


def _labels(values: list[Value]) -> list[str | None]:
    """Labels that may appear in a comment: identifiers only, never arbitrary text."""
    return [v.label if v.label is not None and v.label.isidentifier() else None for v in values]


def _input_comments(params: list[str], labels: list[str | None], frozen: bool) -> list[str]:
    named = [f"{p} = {label}" if label else p for p, label in zip(params, labels)]
    if len(named) > _COMMENT_INPUTS:
        named = [*named[:3], "...", named[-1]]
        comment = f"# inputs ({len(params)} numbers): {', '.join(named)}"
    else:
        comment = f"# inputs: {', '.join(named)}" if named else "# no inputs"
    comments = [comment]
    if frozen:
        comments.append("# leaves that are not inputs are constants, with their values when compiled")
    return comments


def _compile_graph(
    output: Value, wrt: Any, inputs: Any, order: int, check: bool, check_rtol: float, max_nodes: int
) -> CompiledGradient:
    wrt_values = _leaves(wrt, "wrt")
    input_values = _leaves(inputs, "inputs")
    seen: set[Value] = set()
    for v in input_values:
        if v.op is not None or v.is_constant:
            kind = f"a node made by {v.op.name}" if v.op is not None else "a constant leaf"
            raise ValueError(f"compile's inputs must be input leaves (Value(...)), got {kind}: {v!r}")
        if v in seen:
            raise ValueError(f"the same Value appears twice in compile's inputs: {v!r}")
        seen.add(v)
    for w in wrt_values:
        if w not in seen:
            raise ValueError(f"every wrt Value must be one of compile's inputs; {w!r} is not")
    structure = (
        tuple(inputs) if isinstance(inputs, (list, tuple)) and not hasattr(inputs, "_fields") else (inputs,)
    )
    leaves_order = [leaf for part in structure for leaf in _leaves(part, "inputs")]
    _, rebuild = tree_flatten(wrt)
    program = _build(output, leaves_order, wrt_values, order, max_nodes, _labels(wrt_values))
    leaves_in_graph = {v for v in topological_order(output) if v.op is None and not v.is_constant}
    program.comments = _input_comments(program.params, _labels(leaves_order), bool(leaves_in_graph - seen))
    reference = _replayer(output, leaves_order, wrt_values, order) if check else None
    return CompiledGradient(
        program,
        _Signature(structure, len(leaves_order)),
        _fast_rebuild(wrt, rebuild),
        isinstance(wrt, Value),
        reference,
        float(check_rtol),
        traced=False,
    )


def _as_list(flat: list[Any]) -> list[Any]:
    """The gradient of a flat list of Values: the generated function's own (new) list."""
    return flat


def _fast_rebuild(wrt: Any, rebuild: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """The gradient's shape from the flat list: the list itself when ``wrt`` is a flat list of Values."""
    if type(wrt) is list and all(isinstance(w, Value) for w in wrt):
        return _as_list
    if isinstance(wrt, Value):
        return lambda flat: flat[0]
    return rebuild


_INFIX: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
    "neg": operator.neg,
    "abs": operator.abs,
}
"""Ops replayed through Python's operators, so that the engine's own (hot, reflected) methods run."""


def _replayer(
    output: Value, inputs: list[Value], wrt: list[Value], order: int
) -> Callable[[list[float]], tuple[float, list[float], list[list[float]] | None]]:
    """The engine's results at new inputs, by applying the recorded graph's ops again (``check=True``)."""
    nodes = topological_order([output, *inputs])
    positions = {v: i for i, v in enumerate(inputs)}

    def reference(flat: list[float]) -> tuple[float, list[float], list[list[float]] | None]:
        fresh = [Value(x, label=v.label) for v, x in zip(inputs, flat)]
        mapped: dict[Value, Value] = {}
        for v in nodes:
            if v in positions:
                mapped[v] = fresh[positions[v]]
            elif v.op is not None:
                op = v.op
                args = [mapped.get(x, x) if isinstance(x, Value) else x for x in v.operands]
                apply = _INFIX.get(op.name, op) if op.builtin else op
                mapped[v] = apply(*args)
        y = mapped.get(output, output)
        targets = [mapped[w] for w in wrt]
        gradient = grad(y, targets)
        rows = hessian(y, targets) if order == 2 else None
        return y.data, gradient, rows

    return reference


def _compile_function(
    fn: Callable[..., Any],
    example_args: Any,
    argnums: int | Sequence[int] | None,
    order: int,
    check: bool,
    check_rtol: float,
    max_nodes: int,
) -> CompiledGradient:
    if example_args is None:
        raise TypeError("compile(f, example_args) needs the example arguments to trace f at, e.g. (2.0, 5.0)")
    args = tuple(example_args) if isinstance(example_args, (list, tuple)) else (example_args,)
    if not args:
        raise ValueError("compile(f, example_args): example_args is empty; give at least one argument")
    selected = _argnums(argnums, len(args))
    counter = itertools.count(1)
    traced: list[Any] = []
    for i, arg in enumerate(args):
        leaves, rebuild = tree_flatten(arg)
        if not leaves:
            raise ValueError(f"compile(f, example_args): argument {i} holds no numbers")
        values = [Value(_example_number(x, i), label=f"x{next(counter)}") for x in leaves]
        traced.append(rebuild(values) if not _is_leaf(arg) else values[0])
    inputs = _leaves(tuple(traced), "inputs")
    wrt_tree: Any = (
        tuple(traced)
        if argnums is None
        else (traced[selected[0]] if isinstance(argnums, int) else tuple(traced[i] for i in selected))
    )
    wrt = _leaves(wrt_tree, "wrt")

    def trace(values: list[Value]) -> Value:
        it = iter(values)
        call_args = []
        for part in traced:
            if isinstance(part, Value):
                call_args.append(next(it))
            else:
                leaves, rebuild = tree_flatten(part)
                call_args.append(rebuild([next(it) for _ in leaves]))
        y = fn(*call_args)
        if not isinstance(y, Value):
            raise TypeError(
                f"compile: f returned {type(y).__name__} {y!r:.80}, not a Value: it does not depend on its "
                "arguments through scalargrad ops (math.sin on a Value gives a float; use scalargrad.sin)"
            )
        return y

    output = trace(inputs)
    program = _build(output, inputs, wrt, order, max_nodes, _labels(wrt))
    program.comments = _input_comments(program.params, _labels(inputs), False)
    reference = None
    if check:
        where = {v: i for i, v in enumerate(inputs)}
        positions = [where[w] for w in wrt]

        def reference(flat: list[float]) -> tuple[float, list[float], list[list[float]] | None]:
            fresh = [Value(x, label=v.label) for v, x in zip(inputs, flat)]
            y = trace(fresh)
            targets = [fresh[p] for p in positions]
            return y.data, grad(y, targets), hessian(y, targets) if order == 2 else None

    _, rebuild = tree_flatten(wrt_tree)
    return CompiledGradient(
        program,
        _Signature(tuple(traced), len(inputs)),
        _fast_rebuild(wrt_tree, rebuild) if not isinstance(wrt_tree, tuple) else rebuild,
        isinstance(wrt_tree, Value),
        reference,
        float(check_rtol),
        traced=True,
    )


def _is_leaf(x: Any) -> bool:
    leaves, _ = tree_flatten(x)
    return len(leaves) == 1 and leaves[0] is x


def _example_number(x: Any, i: int) -> float:
    if isinstance(x, Value):
        raise TypeError(
            f"compile(f, example_args): argument {i} holds a Value; pass plain numbers (e.g. v.data)"
        )
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"compile(f, example_args): argument {i} must hold real numbers, found {type(x).__name__}: {x!r}"
        )
    return float(x)


def _argnums(argnums: int | Sequence[int] | None, n: int) -> list[int]:
    if argnums is None:
        return list(range(n))
    items = [argnums] if isinstance(argnums, int) and not isinstance(argnums, bool) else argnums
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    chosen = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"argnums must be ints, got {a!r}")
        if not -n <= a < n:
            raise ValueError(f"argnums {a} is out of range for {n} argument{'s' if n != 1 else ''}")
        chosen.append(a % n)
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"argnums names an argument twice: {argnums!r}")
    return chosen


# --------------------------------------------------------------------------- #
# plot                                                                         #
# --------------------------------------------------------------------------- #


def plot(
    f: Callable[[Any], Any],
    interval: tuple[float, float],
    *,
    points: int = 401,
    at: float | None = None,
    ax: Any = None,
    check_points: int = 7,
) -> Any:
    """Draw f, f′ and f″ over ``interval`` with matplotlib, from one compiled array call.

    ``f`` is a function of one number written with scalargrad's ops; it is traced
    once at ``at`` (default: the middle of the interval), compiled with
    ``order=2`` and evaluated at ``points`` points with NumPy. Because Python control
    flow is fixed at trace time, the curves are compared with the engine at
    ``check_points`` points of the interval first (where ``f`` is defined), and a
    :class:`CompileCheckError` is raised if they differ. Returns the matplotlib
    Axes (``ax``, or a new figure's).
    """
    lo, hi = (float(t) for t in interval)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"plot needs a finite interval (lo, hi) with lo < hi, got {interval!r}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an int >= 2, got {points!r}")
    import numpy as np

    x0 = (lo + hi) / 2 if at is None else float(at)
    compiled = compile(f, (x0,), argnums=0, order=2)
    curves = compiled.vectorized("numpy")
    xs = np.linspace(lo, hi, points)
    y, dy, d2 = curves(xs)
    for x in np.linspace(lo, hi, check_points) if check_points > 0 else []:
        _check_curve(f, float(x), curves)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(xs, y, label="f")
    ax.plot(xs, dy, label="f′", linestyle="--")
    ax.plot(xs, d2, label="f″", linestyle=":")
    ax.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlabel("x")
    ax.legend()
    return ax


def _check_curve(f: Callable[[Any], Any], x: float, curves: ArrayGradient) -> None:
    """Compare the array code with the engine at ``x`` (skipped where f is undefined there)."""
    v = Value(x, label="x")
    try:
        y = f(v)
        if not isinstance(y, Value):
            return
        engine = [y.data, grad(y, v), hessian(y, v)]
    except (ArithmeticError, ValueError):
        return
    got = curves(x)
    compiled = [float(got[0]), float(got[1]), float(got[2])]
    for what, a, b in zip(("f", "f′", "f″"), compiled, engine):
        if not _same(a, b, 1e-9) and not abs(a - b) <= 1e-12:
            raise CompileCheckError(
                f"plot: {what}({x!r}) is {a!r} in the compiled code but {b!r} by the engine: f's Python "
                "control flow (or, for f″, a derivative rule's branch on values) is fixed at the point f was "
                "traced at; plot a smaller interval, or pass at= inside the branch you want",
                args=[x],
                what=what,
                compiled=a,
                engine=b,
            )
