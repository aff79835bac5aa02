"""The core: scalar Values, the ops they are made with, and the walks that differentiate them.

Read it in this order. :mod:`~scalargrad.core.op` says what an op is (:class:`Op`, one
definition of one operation) and keeps the registry :data:`OPS`; it knows no individual
op. :mod:`~scalargrad.core.value` is the :class:`Value`, a node of the notes'
computational graph with ``backward``, and :func:`topological_order`;
:mod:`~scalargrad.core.saving` copies and pickles graphs of any depth, flat.
:mod:`~scalargrad.core.methods` generates Value's op methods from each op's definition
(:func:`builtin_op`) and switches them off under :func:`no_grad`;
:mod:`~scalargrad.core.define` adds your own op (:func:`define_op`).
:mod:`~scalargrad.core.walks` holds the reverse and forward walks every method shares.

The built-in ops live in :mod:`scalargrad.ops` and the formula printer in
:mod:`scalargrad.notation.formula`; the core imports nothing outside itself and the
standard library.
"""

from . import saving as saving  # gives Value its copy and pickle methods
from .define import define_op
from .methods import apply, builtin_op, method_source, no_grad
from .op import ATOM, CONST, DOMAINS, OPS, ConstantForm, ConstantLeaf, Form, Op, OpDefinitionError
from .value import (
    Fan,
    Operand,
    Value,
    constant,
    fan_node,
    leaf,
    node,
    node_of_fan,
    real_float,
    topological_order,
)
from .walks import Partial, accumulate_adjoints, accumulate_tangents, count_ops, evaluation_order

__all__ = [
    "ATOM",
    "CONST",
    "DOMAINS",
    "OPS",
    "ConstantForm",
    "ConstantLeaf",
    "Fan",
    "Form",
    "Op",
    "OpDefinitionError",
    "Operand",
    "Partial",
    "Value",
    "accumulate_adjoints",
    "accumulate_tangents",
    "apply",
    "builtin_op",
    "constant",
    "count_ops",
    "define_op",
    "evaluation_order",
    "fan_node",
    "leaf",
    "method_source",
    "no_grad",
    "node",
    "node_of_fan",
    "real_float",
    "topological_order",
]
