"""The old location of :mod:`scalargrad.core` and :mod:`scalargrad.notation.formula`, re-exported."""

from .core.define import _PROBES as _PROBES
from .core.define import _call as _call
from .core.define import _check_latex as _check_latex
from .core.define import _check_name as _check_name
from .core.define import _check_rule as _check_rule
from .core.define import _check_symbol as _check_symbol
from .core.define import _checked_evaluate as _checked_evaluate
from .core.define import _checked_rule as _checked_rule
from .core.define import _is_number as _is_number
from .core.define import define_op as define_op
from .core.methods import _BINARY_METHOD as _BINARY_METHOD
from .core.methods import _DUNDERS as _DUNDERS
from .core.methods import _GRAPH_METHODS as _GRAPH_METHODS
from .core.methods import _NO_GRAPH_METHOD as _NO_GRAPH_METHOD
from .core.methods import _NO_GRAPH_METHODS as _NO_GRAPH_METHODS
from .core.methods import _REFLECTED_METHOD as _REFLECTED_METHOD
from .core.methods import _SOURCES as _SOURCES
from .core.methods import _UNARY_METHOD as _UNARY_METHOD
from .core.methods import _building as _building
from .core.methods import _checked_grads as _checked_grads
from .core.methods import _constant_name as _constant_name
from .core.methods import _evaluator_from_source as _evaluator_from_source
from .core.methods import _generate as _generate
from .core.methods import _generated as _generated
from .core.methods import _grad_enabled as _grad_enabled
from .core.methods import _install_methods as _install_methods
from .core.methods import _no_grad_lock as _no_grad_lock
from .core.methods import _rule_from_source as _rule_from_source
from .core.methods import apply as apply
from .core.methods import builtin_op as builtin_op
from .core.methods import method_source as method_source
from .core.methods import no_grad as no_grad
from .core.op import _FORMS as _FORMS
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
from .core.op import _register as _register
from .core.op import _shown as _shown
from .core.op import registered_form as registered_form
from .core.op import registered_op as registered_op
from .core.value import Operand as Operand
from .core.value import Value as Value
from .core.value import _as_float as _as_float
from .core.value import _compared as _compared
from .core.value import _loaded_fields as _loaded_fields
from .core.value import _new as _new
from .core.value import _number as _number
from .core.value import _release as _release
from .core.value import _Saved as _Saved
from .core.value import _saving as _saving
from .core.value import _unpickling as _unpickling
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
from .notation.formula import _NAMED_NUMBERS as _NAMED_NUMBERS
from .notation.formula import _format_number as _format_number
from .notation.formula import _Printer as _Printer
from .notation.formula import _printing_order as _printing_order
from .notation.formula import formula as formula
from .notation.formula import formula_parts as formula_parts

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
