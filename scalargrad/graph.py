"""Inspecting a Value graph: its nodes in order, its op counts, its formula, a method's code.

One namespace for the helpers that look at a graph rather than differentiate it
(``scalargrad.graph.topological_order(y)``, ``scalargrad.graph.count_ops(y)``), so the
package's top level holds the differentiation API alone.

>>> import scalargrad as sg
>>> x = sg.Value(3.0, label="x")
>>> y = x * x + x
>>> sg.graph.formula(y), sg.graph.count_ops(y), len(sg.graph.topological_order(y))
('x*x + x', {'mul': 1, 'add': 1}, 3)
"""

from __future__ import annotations

from .core import count_ops, evaluation_order, method_source, topological_order
from .notation.formula import formula

__all__ = ["count_ops", "evaluation_order", "formula", "method_source", "topological_order"]
