"""The notes' notation: how values, names, numbers and formulas are written.

It stands on :mod:`scalargrad.core` and knows nothing of tables, diagrams or code generation.
"""
