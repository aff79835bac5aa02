"""Compiled training: a network's loss and gradient as straight-line code, compiled once.

Rebuilding the graph at every step costs far more than the arithmetic it does;
:func:`compile_loss` traces the loss once and reuses the compiled code, reading
the parameters' current values at every call.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from ..autodiff import grad
from ..codegen import CompileCheckError, CompiledGradient, compile
from ..core import Value
from ..numeric import agree
from .checks import as_index, is_number, scalars
from .modules import Module

LossFunction = Callable[[Any, list[Value], Any], Value]
"""``loss_fn(model, x, y)``: the loss of one example, a Value (x is a list of input Values)."""


def compile_loss(
    model: Module, loss_fn: LossFunction, example: tuple[Sequence[float], Any], *, check: bool = False
) -> CompiledLoss:
    """Compile ``loss_fn``'s value and parameter gradient once, to reuse at every training step.

    ``loss_fn(model, x, y)`` is the loss of one example (``x`` a list of input
    Values, ``y`` its target), e.g. ``lambda m, x, y: softmax_cross_entropy(m(x), y)``;
    ``example`` is one ``(x, y)`` pair to trace it at. The network's structure must not
    change (same parameters, same operations); its parameter *values* are read at
    every call, so an optimiser that updates ``p.data`` (:class:`SGD`) just works.

    A target that is a class index (an int) chooses the graph (``-h_y``), so one
    function is compiled per class, on its first use (as ``jax.jit`` recompiles
    for a new static argument); any other target (numbers, or a list of numbers) is
    an input of the compiled code like ``x``. As with every traced function, Python
    control flow runs once, at the example: :func:`softmax_cross_entropy` subtracts
    the largest logit *of the traced example* as a constant, which gives the same
    loss (to rounding) for any logits within about 700 of it. ``check=True`` compares
    every example with the engine (to 1e-9 relative, plus 1e-12 of the largest
    finite result for gradients near zero; an infinity matches only itself) and raises
    :class:`~scalargrad.codegen.CompileCheckError` if they differ.

    >>> from scalargrad.nn import MLP, SGD, softmax_cross_entropy
    >>> model = MLP(2, [4, 3], activation="tanh", seed=0)
    >>> loss = compile_loss(model, lambda m, x, y: softmax_cross_entropy(m(x), y), ([0.5, -1.0], 2))
    >>> value, grads = loss([[0.5, -1.0], [1.0, 2.0]], [2, 0])
    >>> len(grads) == len(model.parameters())
    True
    >>> SGD(model, lr=0.1).step(grads)
    """
    return CompiledLoss(model, loss_fn, example, check=check)


class CompiledLoss:
    """A model's mean loss and parameter gradients over a batch, run as compiled code.

    Made by :func:`compile_loss`. ``loss(xs, ys)`` returns ``(mean loss, gradients)``:
    the gradients of the batch's mean loss, one float per ``model.parameters()``
    entry, in that order (ready for ``SGD.step``). ``compiled`` maps each target
    class (or None when targets are data) to its :class:`~scalargrad.codegen.CompiledGradient`
    (``.source`` shows the code); ``compile_seconds`` is the total compile time.
    """

    def __init__(
        self,
        model: Module,
        loss_fn: LossFunction,
        example: tuple[Sequence[float], Any],
        *,
        check: bool = False,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"compile_loss needs a Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError(f"compile_loss needs loss_fn(model, x, y) -> Value, got {type(loss_fn).__name__}")
        if not isinstance(example, (tuple, list)) or len(example) != 2:
            raise TypeError("compile_loss needs one example (x, y) to trace the loss at")
        x, y = example
        self.model = model
        self.loss_fn = loss_fn
        self.params = model.parameters()
        self.n_inputs = len(scalars(x, "the example's x"))
        self.static = as_index(y) is not None
        """Whether targets are class indices (one compiled function per class) or data."""
        self.n_targets = 0 if self.static else len(_target_numbers(y))
        self.check = check
        self.compiled: dict[Hashable, CompiledGradient] = {}
        self.compile_seconds = 0.0
        self._example_x = [float(v) for v in scalars(x, "the example's x")]
        self._functions: dict[Hashable, Callable[..., Any]] = {}
        self._function(self._key(y), y)

    def _key(self, y: Any) -> Hashable:
        return as_index(y) if self.static else None

    def _function(self, key: Hashable, y: Any) -> Callable[..., Any]:
        fn = self._functions.get(key)
        if fn is None:
            start = time.perf_counter()
            xs = [Value(v, label=f"x{i}") for i, v in enumerate(self._example_x)]
            ys = [] if self.static else [Value(t, label=f"y{i}") for i, t in enumerate(_target_numbers(y))]
            loss = self._loss(xs, y if self.static else _shaped_like(y, ys))
            compiled = compile(loss, self.params, inputs=[*self.params, *xs, *ys])
            self.compiled[key] = compiled
            fn = self._functions[key] = compiled.function
            self.compile_seconds += time.perf_counter() - start
        return fn

    def _loss(self, xs: list[Value], y: Any) -> Value:
        loss = self.loss_fn(self.model, xs, y)
        if not isinstance(loss, Value):
            raise TypeError(f"loss_fn must return a Value, got {type(loss).__name__}: {loss!r:.80}")
        return loss

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> tuple[float, list[float]]:
        """The batch's mean loss and its gradient with respect to every parameter."""
        if len(xs) != len(ys) or len(xs) == 0:
            raise ValueError(f"need as many targets as inputs (at least one), got {len(xs)} and {len(ys)}")
        theta = [p.data for p in self.params]
        total = 0.0
        acc: list[float] | None = None
        for x, y in zip(xs, ys):
            row = [float(v) for v in x]
            if len(row) != self.n_inputs:
                raise ValueError(f"each input needs {self.n_inputs} numbers, got {len(row)}")
            key = self._key(y)
            if self.static and key is None:
                raise TypeError(f"targets must be class indices (ints) as in the example, got {y!r}")
            targets = [] if self.static else _target_numbers(y)
            if len(targets) != self.n_targets:
                need = f"{self.n_targets} number{'s' if self.n_targets != 1 else ''}"
                raise ValueError(f"each target needs {need} (as in the example), got {len(targets)}")
            fn = self._function(key, y)
            value, gradient = fn(*theta, *row, *targets)
            if self.check:
                self._verify(row, y, value, gradient)
            total += value
            acc = gradient if acc is None else list(map(operator.add, acc, gradient))
        assert acc is not None
        n = len(xs)
        return total / n, [g / n for g in acc]

    def _verify(self, row: list[float], y: Any, value: float, gradient: list[float]) -> None:
        xs = [Value(v) for v in row]
        target = y if self.static else _shaped_like(y, [Value(t) for t in _target_numbers(y)])
        loss = self._loss(xs, target)
        expected = [loss.data, *grad(loss, self.params)]
        scale = max((abs(e) for e in expected if math.isfinite(e)), default=0.0)
        for what, a, b in zip(
            ["the loss", *(f"gradient[{i}]" for i in range(len(gradient)))], [value, *gradient], expected
        ):
            if not agree(a, b, 1e-9 * max(abs(a), abs(b)) + 1e-12 * scale, nan_equal=True):
                raise CompileCheckError(
                    f"compiled loss differs from the engine at x={row!r}, y={y!r}: {what} is {a!r} "
                    f"compiled, {b!r} by the engine; loss_fn's Python control flow depends on the "
                    "values here (compile again with this example)",
                    args=row,
                    what=what,
                    compiled=a,
                    engine=b,
                )

    def __repr__(self) -> str:
        kind = "per class" if self.static else "targets as data"
        return f"CompiledLoss({len(self.params)} parameters, {len(self.compiled)} compiled ({kind}))"


def _target_numbers(y: Any) -> list[float]:
    """A data target as numbers: one number, or a flat sequence of them."""
    if is_number(y):
        return [float(y)]
    return [float(t) for t in scalars(y, "the target")]


def _shaped_like(y: Any, values: list[Value]) -> Any:
    return values[0] if is_number(y) else values
