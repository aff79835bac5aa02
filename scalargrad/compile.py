"""The old location of :mod:`scalargrad.codegen` and :mod:`scalargrad.plot`: their names, re-exported."""

from __future__ import annotations

from .codegen.callables import BLOCK, ArrayGradient, CompiledGradient
from .codegen.compiler import MAX_NODES, compile
from .codegen.errors import CompileCheckError, CompileError
from .codegen.program import READABLE_NODES
from .codegen.program import Factor as Factor
from .codegen.templates import VALUE as VALUE
from .codegen.templates import literal
from .codegen.templates import template as _template  # noqa: F401  (read by tests/test_compile.py)
from .plot import plot

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
