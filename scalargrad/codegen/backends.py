"""Array namespaces: NumPy and PyTorch, how each makes arrays and writes the array form's source."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ..core import Op, Value
from .emit import read_names, render, source_header
from .errors import CompileError
from .helpers import array_definition, module_source, user_rule, user_value
from .program import Program
from .templates import VALUE, template, user_defined


class Backend:
    """An array library: its module, how to make arrays, and its versions of the float namespace."""

    def __init__(self, name: str, module: Any) -> None:
        self.name = name
        self.module = module

    def source(self, program: Program, *, rounding: bool = False) -> tuple[str, str]:
        """The array form's whole source (imports, helpers, the function) and the function's name.

        Raises :class:`CompileError` for a name the library has no form of, and for
        user-defined ops outside NumPy.
        """
        function, name = render(program, True, rounding=rounding, header=f"# the array form ({self.name})")
        names = read_names(program, True, function) | ({"abs"} if rounding else set())
        for key in sorted(names):
            if array_definition(self.name, key) is None and not key.startswith("user_"):
                op_names = [
                    op.name
                    for op in program.ops.values()
                    if any(key in template(op, i, True).names for i in (VALUE, *range(op.arity or 0)))
                ]
                raise CompileError(f"no {self.name} form of {key!r}, used by the op(s) {', '.join(op_names)}")
        for op in program.ops.values():
            if user_defined(op) and self.name != "numpy":
                raise CompileError(
                    f"the user-defined op {op.name!r} has no {self.name} form (only NumPy applies "
                    "user-defined ops element by element)"
                )
        what = "The value and gradient" + (" and Hessian" if program.hessian is not None else "")
        library, arrays = ("NumPy", "arrays") if self.name == "numpy" else ("PyTorch", "tensors")
        header = source_header(program.ops, f"{what} over {library} {arrays}", f"(needs {library})")
        return module_source(function, names, lambda key, _: array_definition(self.name, key), header), name

    def user_functions(self, program: Program) -> dict[str, Callable[..., Any]]:
        """User-defined ops' value and rule, applied element by element (NumPy only)."""
        functions: dict[str, Callable[..., Any]] = {}
        for op in sorted(program.ops.values(), key=lambda op: op.name):
            if user_defined(op) and self.name == "numpy":
                functions[f"user_{op.name}_value"] = self._elementwise_value(op)
                functions[f"user_{op.name}_rule"] = self._elementwise_rule(op)
        return functions

    def _elementwise_value(self, op: Op) -> Callable[..., Any]:
        """A user-defined op's value, applied element by element (NumPy's frompyfunc)."""
        np = self.module
        ufunc = np.frompyfunc(user_value(op), op.arity, 1)
        return lambda *xs: np.asarray(ufunc(*xs), dtype=np.float64)

    def _elementwise_rule(self, op: Op) -> Callable[..., tuple[Any, ...]]:
        """A user-defined op's local derivatives, element by element: a tuple of arrays, one per operand."""
        np = self.module
        rule = user_rule(op)
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


def array_backend(xp: Any) -> Backend:
    name = xp if isinstance(xp, str) else getattr(xp, "__name__", None)
    if name == "numpy":
        import numpy

        return Backend("numpy", numpy)
    if name == "torch":
        import torch

        return Backend("torch", torch)
    raise ValueError(f"vectorized needs xp='numpy' or 'torch' (or the module), got {xp!r}")
