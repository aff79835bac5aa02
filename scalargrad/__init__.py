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

from . import ops as ops  # the built-in ops: registered before anything else uses the engine
from .arrays import array, check_vjp  # NumPy object arrays of Values; imports NumPy only when used
from .autodiff import adjoints, grad, hessian, jacobian, jvp, tangents, tree_flatten, tree_unflatten
from .compile import CompileCheckError, CompiledGradient, compile
from .engine import (
    OPS,
    Op,
    OpDefinitionError,
    Value,
    count_ops,
    define_op,
    evaluation_order,
    formula,
    method_source,
    no_grad,
    topological_order,
)
from .numeric import GradcheckError, check_op, gradcheck, gradgradcheck, numerical_grad
from .ops import (
    acos,
    asin,
    atan,
    atan2,
    cos,
    cosh,
    erf,
    exp,
    expm1,
    hypot,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    relu,
    sigmoid,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
    tanh,
)
from .steps import MODES as steps_modes
from .steps import Step, Steps, steps
from .trace import Trace, trace
from .viz import (  # imports graphviz only when a diagram is built
    Diagram,
    StepThrough,
    draw,
    draw_step,
    walkthrough,
    write_frames,
    write_walkthrough,
)

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "CompileCheckError",
    "CompiledGradient",
    "Diagram",
    "GradcheckError",
    "Op",
    "OpDefinitionError",
    "Step",
    "StepThrough",
    "Steps",
    "Trace",
    "Value",
    "acos",
    "adjoints",
    "array",
    "asin",
    "atan",
    "atan2",
    "check_op",
    "check_vjp",
    "compile",
    "cos",
    "cosh",
    "count_ops",
    "define_op",
    "draw",
    "draw_step",
    "erf",
    "evaluation_order",
    "exp",
    "expm1",
    "formula",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "hypot",
    "jacobian",
    "jvp",
    "log",
    "log1p",
    "log2",
    "log10",
    "maximum",
    "method_source",
    "minimum",
    "no_grad",
    "numerical_grad",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "steps",
    "steps_modes",
    "tan",
    "tangents",
    "tanh",
    "topological_order",
    "trace",
    "tree_flatten",
    "tree_unflatten",
    "walkthrough",
    "write_frames",
    "write_walkthrough",
]
