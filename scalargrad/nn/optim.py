"""Optimisers: :class:`SGD`, which moves parameters against their gradients in place."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ..core import Value, real_float
from .checks import is_number, is_vector
from .modules import Module


def _real(x: object, name: str) -> float:
    """A real-number hyperparameter (int, float, Fraction, NumPy scalar) as a finite float."""
    value = real_float(x)
    if value is None:
        raise ValueError(f"{name} must be a real number, got {type(x).__name__}: {x!r:.60}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {x!r:.60}")
    return value


class SGD:
    """Stochastic gradient descent, with optional (heavy-ball) momentum.

    Each :meth:`step` updates ``p.data`` in place, as PyTorch's ``SGD`` does::

        velocity = momentum * velocity + g      (velocity starts at 0)
        p.data  -= lr * velocity                (momentum = 0: p.data -= lr * g)

    ``g`` is ``p.grad`` (after ``loss.backward()``), or the numbers passed to
    ``step`` (e.g. ``grad(loss, params)``), in the order of ``params``.

    ``params`` is an iterable of distinct Values, or a :class:`Module` (its
    ``parameters()``); ``lr`` and ``momentum`` may be any real numbers (NumPy's too).
    """

    def __init__(self, params: Iterable[Value] | Module, lr: float = 0.01, momentum: float = 0.0) -> None:
        if isinstance(params, Module):
            params = params.parameters()
        if isinstance(params, (Value, str, bytes, Mapping)) or not isinstance(params, Iterable):
            raise TypeError(
                "SGD needs an iterable of Values (e.g. model.parameters()) or a Module, "
                f"got {type(params).__name__}: {params!r}"
            )
        self.params = list(params)
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"SGD needs Values to optimise, found {type(p).__name__}: {p!r}")
            if id(p) in seen:
                raise ValueError(
                    f"SGD got the same parameter twice (positions {seen[id(p)]} and {i}): {p!r}; "
                    "it would be updated twice per step"
                )
            seen[id(p)] = i
        self.lr = _real(lr, "lr")
        if not self.lr > 0:
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        self.momentum = _real(momentum, "momentum")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
        self.velocity = [0.0] * len(self.params)

    def step(self, grads: Iterable[float] | None = None) -> None:
        """Move every parameter against its gradient (``p.grad``, or ``grads`` if given).

        ``grads`` is an iterable of numbers (a list, a generator, a NumPy array), one
        per parameter in the order of ``params``.
        """
        params = self.params
        gs = [p.grad for p in params] if grads is None else self._gradients(grads)
        lr, mu = self.lr, self.momentum
        if mu == 0.0:
            for p, g in zip(params, gs):
                p.data -= lr * g
            return
        vel = self.velocity
        for i, (p, g) in enumerate(zip(params, gs)):
            v = mu * vel[i] + g
            vel[i] = v
            p.data -= lr * v

    def _gradients(self, grads: object) -> list[float]:
        if isinstance(grads, Mapping):
            raise TypeError(
                f"step needs the gradients as a sequence in the order of the params, got a "
                f"{type(grads).__name__} (keys {list(grads)[:3]!r}...); pass grad(loss, params) "
                "with params a list, or the values in params' order"
            )
        if not is_vector(grads):
            raise TypeError(
                f"step needs a sequence of gradients (numbers), got {type(grads).__name__}: {grads!r}"
            )
        assert isinstance(grads, Iterable)
        gs: list[float] = []
        for g in grads:
            if isinstance(g, Value):
                g = g.data
            if not is_number(g):
                raise TypeError(f"step's gradients must be numbers, found {type(g).__name__}: {g!r}")
            gs.append(float(g))
        if len(gs) != len(self.params):
            raise ValueError(
                f"step needs one gradient per parameter: {len(self.params)} params, {len(gs)} grads"
            )
        return gs

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 on every parameter."""
        for p in self.params:
            p.grad = 0.0

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, params={len(self.params)})"
