"""The public entry :func:`compile`: a graph, or a function traced once, as a :class:`CompiledGradient`."""

from __future__ import annotations

import gc
import itertools
import numbers
import operator
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..autodiff import grad, hessian, tree_flatten
from ..core import Value, topological_order
from .callables import CompiledGradient, Signature, as_list
from .program import COMMENT_INPUTS, build

MAX_NODES = 200_000
"""The largest graph :func:`compile` accepts by default (nodes, leaves included).

Compiling takes about 2 s per 10⁵ nodes (Python's own ``compile`` of the generated
function is most of it) and the source, about 100 bytes per node, stays in memory
for tracebacks. Pass ``max_nodes=`` to go further."""


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
    if len(named) > COMMENT_INPUTS:
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
    program = build(output, leaves_order, wrt_values, order, max_nodes, _labels(wrt_values))
    leaves_in_graph = {v for v in topological_order(output) if v.op is None and not v.is_constant}
    program.comments = _input_comments(program.params, _labels(leaves_order), bool(leaves_in_graph - seen))
    reference = _replayer(output, leaves_order, wrt_values, order) if check else None
    return CompiledGradient(
        program,
        Signature(structure, len(leaves_order)),
        _fast_rebuild(wrt, rebuild),
        isinstance(wrt, Value),
        reference,
        float(check_rtol),
        traced=False,
    )


def _fast_rebuild(wrt: Any, rebuild: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """The gradient's shape from the flat list: the list itself when ``wrt`` is a flat list of Values."""
    if type(wrt) is list and all(isinstance(w, Value) for w in wrt):
        return as_list
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
    program = build(output, inputs, wrt, order, max_nodes, _labels(wrt))
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
        Signature(tuple(traced), len(inputs)),
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
