"""Losses of a network's outputs: mean squared error, softmax cross-entropy and hinge.

Each takes Values or plain numbers and returns a Value, so ``loss.backward()``
reaches every parameter behind the outputs. The softmax family subtracts the
largest logit first (the max trick), so logits of ±1000 neither overflow nor
lose the loss to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ..core import Value
from .checks import Scalar, as_index, is_number, scalars


def _running_sum(terms: Iterable[Scalar]) -> Scalar:
    """Σ terms with one running total: no list of partial sums, no leading ``0 +`` node."""
    it = iter(terms)
    total: Scalar = next(it, 0.0)
    for t in it:
        total = total + t
    return total


def mse(predictions: Sequence[Scalar], targets: Sequence[Scalar]) -> Value:
    """Mean squared error ``(1/n) Σ (prediction_i − target_i)²``.

    >>> mse([Value(1.0), Value(3.0)], [0.0, 1.0]).data
    2.5
    """
    preds = scalars(predictions, "predictions")
    targs = scalars(targets, "targets")
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
    vs = scalars(values, "logsumexp's values")
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
    hs = scalars(logits, "logits")
    if not hs:
        raise ValueError("softmax needs at least one logit")
    m = _finite_max(hs, "softmax")
    exps = [_as_value(h - m).exp() for h in hs]
    total = _running_sum(exps)
    return [e / total for e in exps]


def _check_target(target: object, n: int) -> int:
    """A class index in 0..n-1: an int or any integer ``operator.index`` accepts (numpy.int64)."""
    y = as_index(target)
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
    hs = scalars(logits, "logits")
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
    ss = scalars(scores, "scores")
    if not ss:
        raise ValueError("hinge_loss needs at least one score")
    y = _check_target(target, len(ss))
    if not is_number(margin) or not math.isfinite(margin):
        raise ValueError(f"margin must be a finite number, got {margin!r}")
    sy = ss[y]
    total = _running_sum(_as_value(s - sy + margin).relu() for j, s in enumerate(ss) if j != y)
    return _as_value(total)
