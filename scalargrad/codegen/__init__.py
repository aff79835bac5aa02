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
(:func:`~scalargrad.core.walks.evaluation_order`: inputs first, then by depth). Each
forward line is the op's own value template from its single definition
(:mod:`scalargrad.ops`), and each partial adjoint ``vi_bar * dvi/dvk`` uses the
op's own derivative template: the templates are parsed with :mod:`ast`, their
operand names ``a``, ``b`` and ``out`` renamed, and unparsed (once per template;
each node then fills the renamed names with variable names or number literals,
which is what makes 10⁵ nodes compile in a few seconds). The partial adjoints of
a node are summed in the order the engine's reverse walk sums them
(:func:`~scalargrad.core.walks.accumulate_adjoints`), so the gradient is equal to
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
annotations``); the array helpers are source text in :mod:`scalargrad.codegen.forms`. The callable is
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
:func:`scalargrad.plot.plot` draws f, f′ and f″ with it.

**Layout**, each module using only those before it: :mod:`~scalargrad.codegen.errors`;
:mod:`~scalargrad.codegen.forms` (the op-specific tables: NumPy and PyTorch forms,
array helpers); :mod:`~scalargrad.codegen.templates` (each op's expressions as
templates); :mod:`~scalargrad.codegen.program` (the graph as forward and reverse
statements); :mod:`~scalargrad.codegen.helpers` (the definitions of the names the source
reads); :mod:`~scalargrad.codegen.emit` (the source, and the callable run from it);
:mod:`~scalargrad.codegen.backends` (NumPy and PyTorch);
:mod:`~scalargrad.codegen.callables` (:class:`CompiledGradient`, :class:`ArrayGradient`);
:mod:`~scalargrad.codegen.compiler` (:func:`compile`).
"""

from __future__ import annotations

from .callables import BLOCK, ArrayGradient, CompiledGradient
from .compiler import MAX_NODES, compile
from .errors import CompileCheckError, CompileError
from .program import READABLE_NODES
from .templates import literal

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
]
