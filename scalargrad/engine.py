"""The old location of :mod:`scalargrad.core` and :mod:`scalargrad.notation.formula`, re-exported."""

from .core import methods as core_methods
from .core import value as core_value
from .core.define import define_op as define_op
from .core.methods import apply as apply
from .core.methods import builtin_op as builtin_op
from .core.methods import method_source as method_source
from .core.methods import no_grad as no_grad
from .core.op import ATOM as ATOM
from .core.op import CONST as CONST
from .core.op import DOMAINS as DOMAINS
from .core.op import FLOAT_NAMESPACE as FLOAT_NAMESPACE
from .core.op import GRAPH_NAMESPACE as GRAPH_NAMESPACE
from .core.op import OPS as OPS
from .core.op import ConstantForm as ConstantForm
from .core.op import Form as Form
from .core.op import Op as Op
from .core.op import OpDefinitionError as OpDefinitionError
from .core.op import Rule as Rule
from .core.op import registered_form as registered_form
from .core.op import registered_op as registered_op
from .core.value import Operand as Operand
from .core.value import Value as Value
from .core.value import constant as constant
from .core.value import leaf as leaf
from .core.value import node as node
from .core.value import operand_error as operand_error
from .core.value import real_float as real_float
from .core.value import topological_order as topological_order
from .core.walks import Partial as Partial
from .core.walks import accumulate_adjoints as accumulate_adjoints
from .core.walks import accumulate_tangents as accumulate_tangents
from .core.walks import count_ops as count_ops
from .core.walks import evaluation_order as evaluation_order
from .notation import formula as notation_formula
from .notation.formula import formula as formula
from .notation.formula import formula_parts as formula_parts

# The private names other code still reads here (tests, mostly), as attributes, not imports.
_new = core_value._new
_SOURCES = core_methods._SOURCES
_printing_order = notation_formula._printing_order

__all__ = [
    "OPS",
    "Op",
    "OpDefinitionError",
    "Partial",
    "Value",
    "accumulate_adjoints",
    "accumulate_tangents",
    "count_ops",
    "define_op",
    "evaluation_order",
    "formula",
    "formula_parts",
    "method_source",
    "no_grad",
    "topological_order",
]
