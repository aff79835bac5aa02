"""The compiled callables: :class:`CompiledGradient` over floats, :class:`ArrayGradient` over arrays."""

from __future__ import annotations

import concurrent.futures
import linecache
import math
import warnings
from collections.abc import Callable
from typing import Any

from ..autodiff import tree_leaves_like
from ..core import Value, real_float
from ..numeric import agree
from .backends import Backend, array_backend
from .emit import define, float_source
from .errors import CompileCheckError
from .helpers import user_functions
from .program import Program


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


class Signature:
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


def same_result(a: float, b: float, rtol: float) -> bool:
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
        program: Program,
        signature: Signature,
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
            signature.scalars and self.order == 1 and reference is None and rebuild_gradient is as_list
        )
        source, name = float_source(program)
        self.source: str = source
        """The generated Python code, a module that runs on its own: its imports (Python's :mod:`math`),
        the helpers it calls (as :mod:`scalargrad.ops` defines them), then the function, forward trace
        then reverse trace(s). ``exec`` it, or save it as a file and import it: :attr:`function` is
        the function it defines."""
        self.user_functions: dict[str, Callable[..., Any]] = user_functions(program.ops)
        """What ``source`` cannot define: the functions of user-defined ops, by the names it calls them
        (``user_<op>_value``, ``user_<op>_rule``); empty without such ops. To run the source with
        them: ``exec(source, dict(user_functions))``."""
        self.function: Callable[..., Any] = define(source, name, self.user_functions, "compiled gradient")
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
            if not same_result(compiled, engine, self._check_rtol):
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
        return ArrayGradient(self, self._program, array_backend(xp), threads)

    def __repr__(self) -> str:
        return (
            f"CompiledGradient(order={self.order}, inputs={self._signature.n_inputs}, "
            f"nodes={self.nodes}, check={self.check})"
        )


def _second_order_lines(source: str, program: Program) -> list[range]:
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
    >>> from scalargrad import compile, sin
    >>> g = compile(lambda x: x * sin(x), (1.0,)).vectorized()
    >>> value, (dx,) = g(np.array([0.0, np.pi / 2]))
    >>> value.round(6).tolist(), dx.round(6).tolist()
    ([0.0, 1.570796], [0.0, 1.0])
    """

    def __init__(self, compiled: CompiledGradient, program: Program, backend: Backend, threads: int) -> None:
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
        self.function: Callable[..., Any] = define(
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
            self._rounding = define(source, name, self.user_functions, "rounding")
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


def as_list(flat: list[Any]) -> list[Any]:
    """The gradient of a flat list of Values: the generated function's own (new) list."""
    return flat
