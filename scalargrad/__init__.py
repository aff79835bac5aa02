"""scalargrad: a small, exact, pure-Python scalar autograd engine that shows its work.

>>> from scalargrad import Value, grad
>>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
>>> y = x1.log() + x1 * x2 - x2.sin()
>>> round(y.data, 3)
11.652
>>> y.backward()
>>> x1.grad, round(x2.grad, 3)
(5.5, 1.716)
"""

import warnings
from typing import Any

from . import graph as graph  # graph inspection: topological_order, count_ops, formula, ...
from . import ops as ops  # the built-in ops: registered before anything else uses the engine
from ._deprecated import install_moved_modules
from .arrays import array, check_vjp, matmul  # NumPy object arrays of Values; imports NumPy only when used
from .autodiff import adjoints, grad, hessian, jacobian, jvp, tangents, tree_flatten, tree_unflatten, vjp
from .codegen import CompileCheckError, CompiledGradient, CompileError, compile
from .core import OPS, Op, OpDefinitionError, Value, define_op, no_grad
from .numeric import GradcheckError, Tolerance, gradcheck, gradgradcheck, numerical_grad
from .opcheck import check_op
from .ops import *  # noqa: F403  (every op function, ops.__all__: adding an op needs no edit here)
from .stepping import MODES as steps_modes
from .stepping import Step, Steps, steps
from .tables import Trace, trace
from .viz import (  # imports graphviz only when a diagram is built
    Diagram,
    StepThrough,
    draw,
    draw_step,
    walkthrough,
    write_frames,
    write_walkthrough,
)

install_moved_modules()  # scalargrad.engine, .trace, .steps, .compile: the old paths, deprecated
del install_moved_modules  # not part of the API

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "CompileCheckError",
    "CompileError",
    "CompiledGradient",
    "Diagram",
    "GradcheckError",
    "Op",
    "OpDefinitionError",
    "Step",
    "StepThrough",
    "Steps",
    "Tolerance",
    "Trace",
    "Value",
    "adjoints",
    "array",
    "check_op",
    "check_vjp",
    "compile",
    "define_op",
    "draw",
    "draw_step",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "hessian",
    "jacobian",
    "jvp",
    "matmul",
    "no_grad",
    "numerical_grad",
    "steps",
    "steps_modes",
    "tangents",
    "trace",
    "tree_flatten",
    "tree_unflatten",
    "vjp",
    "walkthrough",
    "write_frames",
    "write_walkthrough",
]
__all__ += ops.__all__  # the op functions (sg.exp, …), as listed in scalargrad/ops.py

_MOVED_TO_GRAPH = ("count_ops", "evaluation_order", "formula", "method_source", "topological_order")
"""Names that were at the top level in 0.1.0 and live in :mod:`scalargrad.graph` now."""


def __getattr__(name: str) -> Any:
    """The old top-level names of :mod:`scalargrad.graph`'s helpers, with a DeprecationWarning (PEP 562)."""
    if name in _MOVED_TO_GRAPH:
        warnings.warn(
            f"scalargrad.{name} is deprecated and will be removed in the next release; "
            f"use scalargrad.graph.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(graph, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
