"""Neural networks from scalar Values: modules, losses and an SGD optimiser.

Everything here is built from :class:`~scalargrad.engine.Value` ops, so a
network's loss is an ordinary graph: ``loss.backward()`` fills ``p.grad`` for
every parameter, and ``grad(loss, model.parameters())`` returns the gradients as
a plain list without touching ``.grad``. Parameters are Values in plain lists.
:func:`compile_loss` compiles a network's loss and gradient to straight-line code
once, so that training steps run on plain floats instead of rebuilding the graph.

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

import itertools
import math
import numbers
import operator
import random
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from .autodiff import grad
from .compile import CompileCheckError, CompiledGradient, compile
from .engine import Value, real_float
from .numeric import agree

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

Scalar = Value | int | float
"""A Value or a plain number: inputs, targets and logits may be either."""

ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
"""The activation names a :class:`Neuron`, :class:`Layer` or :class:`MLP` accepts."""

MAX_PARAMETERS = 10_000_000
"""The most parameters a :class:`Neuron`, :class:`Layer` or :class:`MLP` may have.

Each parameter is a Value of about 200 bytes (with its label), so 10⁷ of them take
about 2 GB; a larger network is refused at once with a ValueError instead of
filling the memory. Raise it (``scalargrad.nn.MAX_PARAMETERS = ...``) if you mean it."""

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


def _as_index(x: object) -> int | None:
    """``x`` as an int if it is an integer (int, NumPy's integers: ``operator.index``), not a bool."""
    if isinstance(x, bool) or type(x).__name__ == "bool_":  # NumPy's bool_ as well
        return None
    try:
        return operator.index(x)  # type: ignore[arg-type]
    except TypeError:
        return None


def _check_size(name: str, n: object) -> int:
    size = _as_index(n)
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


def _is_number(x: object) -> bool:
    """A real number (``numbers.Real``: int, float, Fraction, NumPy's scalars), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_vector(x: object) -> bool:
    """An ordered collection of items: not a number, string, Value, set or mapping."""
    unordered = isinstance(x, (AbstractSet, Mapping))
    scalar_like = isinstance(x, (Value, str, bytes, numbers.Number))
    return isinstance(x, Iterable) and not unordered and not scalar_like


def _inputs(x: object, n: int, who: str) -> list[Value | float]:
    """One input vector of length ``n``: Values kept, real numbers (NumPy's too) made floats."""
    if not _is_vector(x):
        raise TypeError(f"{who} expects a sequence of {n} inputs, got {type(x).__name__}: {x!r}")
    assert isinstance(x, Iterable)
    out: list[Value | float] = []
    for xk in x:
        if isinstance(xk, Value):
            out.append(xk)
        elif _is_number(xk):
            out.append(float(xk))
        else:
            kind = type(xk).__name__
            raise TypeError(f"{who}'s inputs must be Values or numbers, found {kind}: {xk!r}")
    if len(out) != n:
        raise ValueError(f"{who} expects {n} inputs, got {len(out)}")
    return out


def _running_sum(terms: Iterable[Scalar]) -> Scalar:
    """Σ terms with one running total: no list of partial sums, no leading ``0 +`` node."""
    it = iter(terms)
    total: Scalar = next(it, 0.0)
    for t in it:
        total = total + t
    return total


def _scalars(xs: object, what: str) -> list[Scalar]:
    """``xs`` as a list of Values and floats (real numbers converted), or a TypeError naming ``what``."""
    if not _is_vector(xs):
        raise TypeError(f"{what} must be a sequence of Values or numbers, got {type(xs).__name__}: {xs!r}")
    assert isinstance(xs, Iterable)
    items: list[Scalar] = []
    for x in xs:
        if isinstance(x, Value):
            items.append(x)
        elif _is_number(x):
            items.append(float(x))
        else:
            raise TypeError(f"{what} must contain Values or numbers, found {type(x).__name__}: {x!r}")
    return items


# --------------------------------------------------------------------------- #
# modules                                                                      #
# --------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------- #
# losses                                                                       #
# --------------------------------------------------------------------------- #


def mse(predictions: Sequence[Scalar], targets: Sequence[Scalar]) -> Value:
    """Mean squared error ``(1/n) Σ (prediction_i − target_i)²``.

    >>> mse([Value(1.0), Value(3.0)], [0.0, 1.0]).data
    2.5
    """
    preds = _scalars(predictions, "predictions")
    targs = _scalars(targets, "targets")
    if len(preds) != len(targs):
        raise ValueError(f"mse needs as many targets as predictions, got {len(preds)} and {len(targs)}")
    if not preds:
        raise ValueError("mse needs at least one prediction")
    total = _running_sum((p - t) * (p - t) for p, t in zip(preds, targs))
    return _as_value(total / len(preds))


def _as_value(x: Scalar) -> Value:
    return x if isinstance(x, Value) else Value(float(x))


def logsumexp(values: Sequence[Scalar]) -> Value:
    """``log Σ exp(v_j)``, computed stably with the max trick.

    ``m = max_j v_j`` is subtracted as a constant: ``m + log Σ exp(v_j − m)``. The
    largest term is exp(0) = 1, so nothing overflows and the log's argument is
    at least 1, even for values of ±1000. The gradient is unchanged by the
    shift: d/dv_i = exp(v_i − m) / Σ_j exp(v_j − m) = softmax(v)_i.

    >>> round(logsumexp([1000.0, 1000.0]).data - 1000.0, 6) == round(math.log(2), 6)
    True
    """
    vs = _scalars(values, "logsumexp's values")
    if not vs:
        raise ValueError("logsumexp needs at least one value")
    m = _finite_max(vs, "logsumexp")
    total = _running_sum((v - m).exp() if isinstance(v, Value) else math.exp(v - m) for v in vs)
    if isinstance(total, Value):
        return total.log() + m
    return Value(m + math.log(total))


def _finite_max(vs: list[Scalar], who: str) -> float:
    m = -math.inf
    for v in vs:
        x = float(v)
        if not math.isfinite(x):
            raise ValueError(f"{who} needs finite values, got {x!r}")
        if x > m:
            m = x
    return m


def softmax(logits: Sequence[Scalar]) -> list[Value]:
    """``exp(h_i) / Σ_j exp(h_j)``, each as a Value, shifted by the max like :func:`logsumexp`."""
    hs = _scalars(logits, "logits")
    if not hs:
        raise ValueError("softmax needs at least one logit")
    m = _finite_max(hs, "softmax")
    exps = [_as_value(h - m).exp() for h in hs]
    total = _running_sum(exps)
    return [e / total for e in exps]


def _check_target(target: object, n: int) -> int:
    """A class index in 0..n-1: an int or any integer ``operator.index`` accepts (numpy.int64)."""
    y = _as_index(target)
    if y is None:
        raise TypeError(f"target must be a class index (int), got {type(target).__name__}: {target!r}")
    if not 0 <= y < n:
        raise ValueError(f"target {y} is out of range for {n} classes (0..{n - 1})")
    return y


def softmax_cross_entropy(logits: Sequence[Scalar], target: int) -> Value:
    """The notes' softmax loss ``ℓ = −h_y + log Σ_j exp(h_j)`` for class ``target``.

    Computed with the max trick, ``ℓ = log Σ_j exp(h_j − m) − (h_y − m)`` with
    ``m = max_j h_j``, so logits of ±1000 give a finite loss and gradient, and a
    tiny loss (a confident, correct prediction) is not swamped by ``m`` or by the
    rounding of ``1 + Σ_{j≠argmax} exp(h_j − m)``; dℓ/dh = softmax(h) − onehot(target).

    >>> round(softmax_cross_entropy([Value(1000.0), Value(-1000.0)], 1).data, 6)
    2000.0
    >>> math.isclose(softmax_cross_entropy([1000.0, 970.0], 0).data, math.log1p(math.exp(-30)))
    True
    """
    hs = _scalars(logits, "logits")
    if not hs:
        raise ValueError("softmax_cross_entropy needs at least one logit")
    y = _check_target(target, len(hs))
    m = _finite_max(hs, "softmax_cross_entropy")
    k = next(j for j, h in enumerate(hs) if float(h) == m)
    shifted = [h - m for h in hs]
    exps = [s.exp() if isinstance(s, Value) else math.exp(s) for s in shifted]
    top = exps[k]  # exp(0) = 1
    rest = _running_sum(e for j, e in enumerate(exps) if j != k)
    total = top + rest
    # log(total) loses the low bits of rest, which is the whole loss when rest << 1; the
    # rounding error of top + rest is rest − (total − top), exactly when rest <= top = 1, and
    # adding carry / total restores it to first order. carry is identically 0 as a function
    # of the logits, so its gradient contributions cancel exactly.
    carry = rest - (total - top)
    log_total = total.log() if isinstance(total, Value) else math.log(total)
    return _as_value(log_total + carry / total - shifted[y])


def hinge_loss(scores: Sequence[Scalar], target: int, margin: float = 1.0) -> Value:
    """The multiclass SVM (max-margin) loss ``Σ_{j≠y} max(0, s_j − s_y + margin)``.

    Zero once the true class's score beats every other by at least ``margin``.
    This is the CS231n sum over the other classes; PyTorch's ``MultiMarginLoss``
    divides the same sum by the number of classes.

    >>> hinge_loss([Value(3.0), Value(1.0), Value(2.5)], 0).data
    0.5
    """
    ss = _scalars(scores, "scores")
    if not ss:
        raise ValueError("hinge_loss needs at least one score")
    y = _check_target(target, len(ss))
    if not _is_number(margin) or not math.isfinite(margin):
        raise ValueError(f"margin must be a finite number, got {margin!r}")
    sy = ss[y]
    total = _running_sum(_as_value(s - sy + margin).relu() for j, s in enumerate(ss) if j != y)
    return _as_value(total)


# --------------------------------------------------------------------------- #
# optimiser                                                                    #
# --------------------------------------------------------------------------- #


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
        if not _is_vector(grads):
            raise TypeError(
                f"step needs a sequence of gradients (numbers), got {type(grads).__name__}: {grads!r}"
            )
        assert isinstance(grads, Iterable)
        gs: list[float] = []
        for g in grads:
            if isinstance(g, Value):
                g = g.data
            if not _is_number(g):
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


# --------------------------------------------------------------------------- #
# compiled training                                                            #
# --------------------------------------------------------------------------- #

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
    :class:`~scalargrad.compile.CompileCheckError` if they differ.

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
    class (or None when targets are data) to its :class:`~scalargrad.compile.CompiledGradient`
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
        self.n_inputs = len(_scalars(x, "the example's x"))
        self.static = _as_index(y) is not None
        """Whether targets are class indices (one compiled function per class) or data."""
        self.n_targets = 0 if self.static else len(_target_numbers(y))
        self.check = check
        self.compiled: dict[Hashable, CompiledGradient] = {}
        self.compile_seconds = 0.0
        self._example_x = [float(v) for v in _scalars(x, "the example's x")]
        self._functions: dict[Hashable, Callable[..., Any]] = {}
        self._function(self._key(y), y)

    def _key(self, y: Any) -> Hashable:
        return _as_index(y) if self.static else None

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
    if _is_number(y):
        return [float(y)]
    return [float(t) for t in _scalars(y, "the target")]


def _shaped_like(y: Any, values: list[Value]) -> Any:
    return values[0] if _is_number(y) else values
