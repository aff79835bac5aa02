"""Neural networks from scalar Values: modules, losses and an SGD optimiser.

Everything here is built from :class:`~scalargrad.core.value.Value` ops, so a
network's loss is an ordinary graph: ``loss.backward()`` fills ``p.grad`` for
every parameter, and ``grad(loss, model.parameters())`` returns the gradients as
a plain list without touching ``.grad``. Parameters are Values in plain lists.
:func:`compile_loss` compiles a network's loss and gradient to straight-line code
once, so that training steps run on plain floats instead of rebuilding the graph.

The parts, like ``torch.nn`` and ``torch.optim``: :mod:`scalargrad.nn.modules`
(the networks), :mod:`scalargrad.nn.losses`, :mod:`scalargrad.nn.optim` (SGD),
:mod:`scalargrad.nn.compiled` (compiled training) and :mod:`scalargrad.nn.checks`
(the input checks they share). Every public name is importable from here.

>>> from scalargrad import grad
>>> model = MLP(2, [3, 2], activation="tanh", seed=0)
>>> logits = model([1.0, -2.0])
>>> loss = softmax_cross_entropy(logits, 1)
>>> grads = grad(loss, model.parameters())
>>> len(grads) == len(model.parameters()) == 2 * 3 + 3 + 3 * 2 + 2
True
>>> SGD(model.parameters(), lr=0.1).step(grads)
>>> softmax_cross_entropy(model([1.0, -2.0]), 1).data < loss.data
True
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from . import modules
from .compiled import CompiledLoss, compile_loss
from .losses import hinge_loss, logsumexp, mse, softmax, softmax_cross_entropy
from .modules import ACTIVATIONS, MLP, Layer, Module, Neuron
from .optim import SGD

if TYPE_CHECKING:  # at run time, the property below
    from .modules import MAX_PARAMETERS

__all__ = [
    "ACTIVATIONS",
    "MAX_PARAMETERS",
    "MLP",
    "SGD",
    "CompiledLoss",
    "Layer",
    "Module",
    "Neuron",
    "compile_loss",
    "hinge_loss",
    "logsumexp",
    "mse",
    "softmax",
    "softmax_cross_entropy",
]


class _Package(types.ModuleType):
    """``scalargrad.nn`` itself: ``nn.MAX_PARAMETERS`` reads and sets the limit the modules check.

    The limit lives in :mod:`scalargrad.nn.modules`, beside the check; this property
    keeps the documented ``scalargrad.nn.MAX_PARAMETERS = ...`` working (a plain
    re-export would be a copy, and setting it would change nothing).
    """

    @property
    def MAX_PARAMETERS(self) -> int:
        return modules.MAX_PARAMETERS

    @MAX_PARAMETERS.setter
    def MAX_PARAMETERS(self, value: int) -> None:
        modules.MAX_PARAMETERS = value


sys.modules[__name__].__class__ = _Package
