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

from . import modules
from .compiled import CompiledLoss, compile_loss
from .losses import hinge_loss, logsumexp, mse, softmax, softmax_cross_entropy
from .modules import ACTIVATIONS, MAX_PARAMETERS, MLP, Layer, Module, Neuron
from .optim import SGD

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
    """``scalargrad.nn`` itself: setting ``nn.MAX_PARAMETERS`` sets the limit the modules check.

    The limit lives in :mod:`scalargrad.nn.modules`, beside the check; a plain re-export
    would be a copy, and setting it would change nothing. Setting it here sets both, so the
    documented ``scalargrad.nn.MAX_PARAMETERS = ...`` and ``mock.patch.object(nn,
    "MAX_PARAMETERS", ...)`` work, and restoring it restores the check's.
    """

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "MAX_PARAMETERS":
            modules.MAX_PARAMETERS = value  # type: ignore[assignment]


sys.modules[__name__].__class__ = _Package
