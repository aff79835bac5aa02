"""Networks as modules: a :class:`Neuron`, a :class:`Layer` of them, an :class:`MLP` of layers.

A :class:`Module` is something with parameters (Values in a plain list); calling a
network on an input vector builds the graph of its outputs from the engine's ops.
The sizes are checked before any parameter is made, so a typo such as
``MLP(10**6, [10**6])`` is a ValueError at once instead of gigabytes of Values.
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Iterable, Sequence

from ..core import Value
from .checks import Scalar, as_index, is_number, is_vector

ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
"""The activation names a :class:`Neuron`, :class:`Layer` or :class:`MLP` accepts."""

MAX_PARAMETERS = 10_000_000
"""The most parameters a :class:`Neuron`, :class:`Layer` or :class:`MLP` may have.

Each parameter is a Value of about 200 bytes (with its label), so 10⁷ of them take
about 2 GB; a larger network is refused at once with a ValueError instead of
filling the memory. Raise it (``scalargrad.nn.MAX_PARAMETERS = ...``, which sets this one) if
you mean it; the check reads it at every call."""

Seed = int | random.Random | None


def _rng(seed: Seed) -> random.Random:
    """A Random for ``seed``: an int seeds a new one, a Random is used as is, None is unseeded."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return random.Random(None if seed is None else int(seed))
    raise TypeError(f"seed must be an int, a random.Random or None, got {type(seed).__name__}: {seed!r}")


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


def _check_size(name: str, n: object) -> int:
    size = as_index(n)
    if size is None or size < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return size


def _check_parameters(what: str, count: int) -> None:
    """Refuse a module of more than :data:`MAX_PARAMETERS` parameters before allocating any."""
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"{what} would have {count:,} parameters, more than scalargrad.nn.MAX_PARAMETERS = "
            f"{MAX_PARAMETERS:,} (about 200 bytes each as Values); raise the limit if you mean it"
        )


def _inputs(x: object, n: int, who: str) -> list[Value | float]:
    """One input vector of length ``n``: Values kept, real numbers (NumPy's too) made floats."""
    if not is_vector(x):
        raise TypeError(f"{who} expects a sequence of {n} inputs, got {type(x).__name__}: {x!r}")
    assert isinstance(x, Iterable)
    out: list[Value | float] = []
    for xk in x:
        if isinstance(xk, Value):
            out.append(xk)
        elif is_number(xk):
            out.append(float(xk))
        else:
            kind = type(xk).__name__
            raise TypeError(f"{who}'s inputs must be Values or numbers, found {kind}: {xk!r}")
    if len(out) != n:
        raise ValueError(f"{who} expects {n} inputs, got {len(out)}")
    return out


class Module:
    """Base class: something with parameters (Values) that can be trained."""

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order (a new list each call)."""
        return []

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 on every parameter (``backward`` adds to ``.grad``)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """One unit: ``activation(b + Σ_k w_k x_k)``.

    Weights and bias start uniform in ±1/√nin (PyTorch's ``Linear`` default),
    drawn from ``seed`` (an int, a shared ``random.Random``, or None for an
    unseeded one). Parameters are labelled ``{name}w0, {name}w1, …, {name}b``.
    """

    def __init__(self, nin: int, activation: str = "relu", *, seed: Seed = None, name: str = "") -> None:
        nin = _check_size("nin", nin)
        _check_parameters(f"Neuron({nin})", nin + 1)
        self.activation = activation
        rng = _rng(seed)
        bound = 1.0 / math.sqrt(nin)
        self.w = [Value(rng.uniform(-bound, bound), label=f"{name}w{k}") for k in range(nin)]
        self.b = Value(rng.uniform(-bound, bound), label=f"{name}b")

    @property
    def activation(self) -> str:
        """The activation's name, one of :data:`ACTIVATIONS`; assigning an unknown name is a ValueError."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return len(self.w)

    def __call__(self, x: Sequence[Scalar]) -> Value:
        """The neuron's output for one input vector ``x`` of length ``nin``."""
        return self._forward(_inputs(x, len(self.w), "Neuron"))

    def _forward(self, x: Sequence[Value | float]) -> Value:
        """The output for a checked input vector: one running sum, then the activation."""
        total = self.b
        for wk, xk in zip(self.w, x):
            total = total + wk * xk
        act = self.activation
        if act == "relu":
            return total.relu()
        if act == "tanh":
            return total.tanh()
        if act == "sigmoid":
            return total.sigmoid()
        if act == "identity":
            return total
        raise ValueError(f"unknown activation {act!r}")  # unreachable: the setter checks

    def parameters(self) -> list[Value]:
        """The weights, then the bias."""
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron(nin={self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons, each seeing the whole input vector; returns a list of ``nout`` Values."""

    def __init__(
        self, nin: int, nout: int, activation: str = "relu", *, seed: Seed = None, name: str = ""
    ) -> None:
        nin = _check_size("nin", nin)
        nout = _check_size("nout", nout)
        _check_parameters(f"Layer({nin}, {nout})", nout * (nin + 1))
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng, name=f"{name}n{j}.") for j in range(nout)]

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        """The number of outputs."""
        return len(self.neurons)

    @property
    def activation(self) -> str:
        """The activation of every neuron in the layer."""
        return self.neurons[0].activation

    def __call__(self, x: Sequence[Scalar]) -> list[Value]:
        """The layer's outputs for one input vector ``x`` of length ``nin``."""
        return self._forward(_inputs(x, self.nin, "Layer"))

    def _forward(self, x: Sequence[Value | float]) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        """Each neuron's parameters, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Hidden layers use ``activation`` (``"relu"``, ``"tanh"`` or ``"sigmoid"``); the
    output layer is linear (identity), so its outputs are logits or regression
    values. ``MLP(4, [8, 3])`` maps 4 features to 3 logits through 8 hidden units.
    ``seed`` (int, ``random.Random`` or None) makes the initialisation repeatable.
    Calling the model on an input vector returns the list of outputs. A network of
    more than :data:`MAX_PARAMETERS` (10⁷) parameters is refused with a ValueError
    before any is made.

    >>> model = MLP(3, [4, 4, 1], seed=1)
    >>> model
    MLP(nin=3, nouts=[4, 4, 1], activation='relu')
    >>> len(model.parameters())
    41
    >>> [round(v.data, 4) for v in model([1.0, 2.0, 3.0])] == [
    ...     round(v.data, 4) for v in MLP(3, [4, 4, 1], seed=1)([1.0, 2.0, 3.0])]
    True
    """

    def __init__(
        self, nin: int, nouts: Sequence[int], activation: str = "relu", *, seed: Seed = None
    ) -> None:
        nin = _check_size("nin", nin)
        if isinstance(nouts, int) or not isinstance(nouts, Sequence) or len(nouts) == 0:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        _check_activation(activation)
        rng = _rng(seed)
        sizes = [nin, *(_check_size("each layer size in nouts", n) for n in nouts)]
        count = sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(sizes))
        _check_parameters(f"MLP({nin}, {sizes[1:]})", count)
        last = len(nouts) - 1
        self._hidden_activation = activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else "identity", seed=rng, name=f"L{i}.")
            for i in range(len(nouts))
        ]

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return self.layers[0].nin

    @property
    def hidden_activation(self) -> str:
        """The hidden layers' activation, fixed when the layers are built (read-only)."""
        return self._hidden_activation

    def __call__(self, x: Sequence[Scalar]) -> list[Value]:
        """The network's outputs (a list, even for one output) for one input vector."""
        out = self.layers[0]._forward(_inputs(x, self.nin, "MLP"))
        for layer in self.layers[1:]:
            out = layer._forward(out)
        return out

    def parameters(self) -> list[Value]:
        """Every layer's parameters, first layer first."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        nouts = [layer.nout for layer in self.layers]
        return f"MLP(nin={self.nin}, nouts={nouts}, activation={self.hidden_activation!r})"
