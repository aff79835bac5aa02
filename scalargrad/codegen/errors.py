"""What :func:`~scalargrad.codegen.compile` raises: a graph it cannot write as code, a result that differs."""

from __future__ import annotations


class CompileError(ValueError):
    """A graph or function that :func:`compile` cannot turn into code (too large, no array form, ...)."""


class CompileCheckError(AssertionError):
    """With ``check=True``: the compiled result differs from the engine's at these inputs.

    For a traced function this means that its Python control flow (an ``if`` on a
    Value, ``max`` of Values, a number computed from ``.data``) took another path than
    at trace time: compile again at these inputs, or write the branch with a
    piecewise op (``relu``, ``abs``, ``minimum``, ``maximum``), which the compiled code
    evaluates per call. Also raised, with or without ``check``, when an ``order=2``
    function's Hessian code fails (a division by zero, say) because a derivative rule's
    branch fixed at trace time does not hold at these inputs; ``compiled`` and
    ``engine`` are NaN then. Attributes: ``inputs`` (the inputs, flat), ``what`` (which
    result differs first), ``compiled`` and ``engine`` (its two values).
    """

    def __init__(self, message: str, *, args: list[float], what: str, compiled: float, engine: float) -> None:
        super().__init__(message)
        self.inputs = args
        self.what = what
        self.compiled = compiled
        self.engine = engine
