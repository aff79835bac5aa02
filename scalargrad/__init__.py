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

from .autodiff import adjoints, grad, hessian, jacobian, jvp, tangents, tree_flatten, tree_unflatten
from .engine import (
    OPS,
    Op,
    Value,
    cos,
    count_ops,
    evaluation_order,
    exp,
    formula,
    log,
    relu,
    sigmoid,
    sin,
    sqrt,
    tan,
    tanh,
    topological_order,
)
from .numeric import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .trace import Trace, trace
from .viz import Diagram, draw  # imports graphviz only when a diagram is built

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "Diagram",
    "GradcheckError",
    "Op",
    "Trace",
    "Value",
    "adjoints",
    "cos",
    "count_ops",
    "draw",
    "evaluation_order",
    "exp",
    "formula",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "jacobian",
    "jvp",
    "log",
    "numerical_grad",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "tan",
    "tangents",
    "tanh",
    "topological_order",
    "trace",
    "tree_flatten",
    "tree_unflatten",
]
