"""scalargrad.nn: modules, losses and SGD, checked against finite differences and hand math."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from scalargrad import Value, grad
from scalargrad.nn import (
    ACTIVATIONS,
    MLP,
    SGD,
    Layer,
    Module,
    Neuron,
    hinge_loss,
    logsumexp,
    mse,
    softmax,
    softmax_cross_entropy,
)
from scalargrad.numeric import numerical_grad


def central_differences(loss: Callable[[], Value], params: list[Value], eps: float = 1e-6) -> list[float]:
    """d loss / d p for each parameter by scalargrad.numeric's central differences, rebuilding the graph."""
    saved = [p.data for p in params]

    def f(*theta: float) -> float:
        for p, t in zip(params, theta):
            p.data = t
        return loss().data

    try:
        return numerical_grad(f, saved, eps=eps)
    finally:
        for p, x in zip(params, saved):
            p.data = x


def _close(a: list[float], b: list[float], tol: float = 1e-6) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert abs(x - y) <= tol * (1 + abs(y)), (x, y)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_gradients_match_finite_differences(activation: str) -> None:
    model = MLP(3, [4, 3, 2], activation=activation, seed=7)
    rng = random.Random(1)
    batch = [([rng.uniform(-2, 2) for _ in range(3)], rng.randrange(2)) for _ in range(4)]

    def loss() -> Value:
        total = softmax_cross_entropy(model(batch[0][0]), batch[0][1])
        for x, t in batch[1:]:
            total = total + softmax_cross_entropy(model(x), t)
        return total / len(batch)

    params = model.parameters()
    analytic = grad(loss(), params)
    _close(analytic, central_differences(loss, params), tol=1e-5)
    assert any(abs(g) > 1e-3 for g in analytic)


def test_backward_and_grad_agree_and_zero_grad_resets() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=3)
    loss = mse(model([0.5, -1.5]), [2.0])
    expected = grad(loss, model.parameters())
    model.zero_grad()
    loss.backward()
    assert [p.grad for p in model.parameters()] == expected
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_mse_gradient_matches_finite_differences() -> None:
    preds = [Value(0.3), Value(-1.2), Value(2.0)]
    targets = [1.0, -1.0, 0.5]
    g = grad(mse(preds, targets), preds)
    _close(g, [2 * (p.data - t) / 3 for p, t in zip(preds, targets)], tol=1e-12)
    _close(g, central_differences(lambda: mse(preds, targets), preds))


# --------------------------------------------------------------------------- modules


def test_parameter_counts_order_and_labels() -> None:
    model = MLP(4, [5, 3], seed=0)
    params = model.parameters()
    assert len(params) == (4 + 1) * 5 + (5 + 1) * 3
    assert all(isinstance(p, Value) and p.is_leaf for p in params)
    assert len(set(params)) == len(params)
    assert params[0].label == "L0.n0.w0"
    assert params[4].label == "L0.n0.b"
    assert params[-1].label == "L1.n2.b"
    assert params == [p for layer in model.layers for p in layer.parameters()]


def test_seeded_initialisation_is_repeatable() -> None:
    data = lambda m: [p.data for p in m.parameters()]
    assert data(MLP(3, [4, 2], seed=5)) == data(MLP(3, [4, 2], seed=5))
    assert data(MLP(3, [4, 2], seed=5)) != data(MLP(3, [4, 2], seed=6))
    assert data(MLP(3, [4, 2], seed=random.Random(5))) == data(MLP(3, [4, 2], seed=5))
    bound = 1 / math.sqrt(3)
    assert all(-bound <= w <= bound for w in data(Neuron(3, seed=0)))


def test_activations_and_identity_output_layer() -> None:
    model = MLP(2, [3, 3, 2], activation="sigmoid", seed=0)
    assert [layer.activation for layer in model.layers] == ["sigmoid", "sigmoid", "identity"]
    hidden = model.layers[0]([1.0, 2.0])
    assert all(0.0 < h.data < 1.0 for h in hidden)
    assert [op.op.name for op in hidden] == ["sigmoid"] * 3  # type: ignore[union-attr]
    assert all(v.op.name == "add" for v in model([1.0, 2.0]))  # type: ignore[union-attr]

    n = Neuron(2, "relu", seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 1.0, 1.0, 0.0
    assert n([-1.0, -2.0]).data == 0.0
    assert n([1.0, 2.0]).data == 3.0
    n.activation = "tanh"
    assert n([0.25, 0.25]).data == pytest.approx(math.tanh(0.5))
    n.activation = "identity"
    assert n([-1.0, -2.0]).data == -3.0


def test_inputs_may_be_values_or_numbers() -> None:
    model = MLP(2, [2], activation="tanh", seed=0)
    x = [Value(1.0, label="x0"), 2]
    out = model(x)
    assert grad(out[0], x[0]) != 0.0
    assert [v.data for v in model((1.0, 2.0))] == [v.data for v in out]
    assert isinstance(model, Module)
    assert repr(model) == "MLP(nin=2, nouts=[2], activation='tanh')"
    assert repr(model.layers[0]) == "Layer(nin=2, nout=2, activation='identity')"


# --------------------------------------------------------------------------- training


def test_fixed_seed_training_reduces_loss_hundredfold() -> None:
    """Full-batch SGD with momentum on y = sin(2x) shrinks the MSE over 100x in 150 steps (~200x seen)."""
    xs = [i / 5 - 1.0 for i in range(11)]
    ys = [math.sin(2 * x) for x in xs]
    model = MLP(1, [8, 1], activation="tanh", seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)

    def loss() -> Value:
        return mse([model([x])[0] for x in xs], ys)

    first = loss().data
    for _ in range(150):
        current = loss()
        opt.zero_grad()
        current.backward()
        opt.step()
    last = loss().data
    assert last < first / 100, (first, last)


# --------------------------------------------------------------------------- losses


def test_logsumexp_matches_naive_formula_and_its_gradient_is_softmax() -> None:
    hs = [Value(0.5), Value(-1.0), Value(2.0)]
    naive = math.log(sum(math.exp(h.data) for h in hs))
    lse = logsumexp(hs)
    assert lse.data == pytest.approx(naive, rel=1e-15)
    _close(grad(lse, hs), [s.data for s in softmax(hs)], tol=1e-15)
    _close(grad(lse, hs), central_differences(lambda: logsumexp(hs), hs))
    assert logsumexp([1.0, 2.0]).data == pytest.approx(math.log(math.e + math.e**2))


def test_logsumexp_with_the_max_subtracted_as_a_value_gives_the_same_gradient() -> None:
    hs = [Value(3.0), Value(1.0), Value(-2.0)]
    m = max(hs, key=float)  # the max as a graph node: its gradient contributions cancel
    shifted = [h - m for h in hs]
    total = shifted[0].exp()
    for s in shifted[1:]:
        total = total + s.exp()
    as_value = m + total.log()
    assert as_value.data == pytest.approx(logsumexp(hs).data, rel=1e-15)
    _close(grad(as_value, hs), grad(logsumexp(hs), hs), tol=1e-15)


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_softmax_cross_entropy_is_stable_for_huge_logits(big: float) -> None:
    logits = [Value(big), Value(-big), Value(0.0)]
    # the true class holds -|big|, so the loss is 2|big| (the other terms are exp(-1000) = 0)
    target = 0 if big < 0 else 1
    loss = softmax_cross_entropy(logits, target)
    assert loss.data == pytest.approx(2000.0)
    g = grad(loss, logits)
    assert all(math.isfinite(x) for x in g)
    expected = [1.0, -1.0, 0.0] if big > 0 else [-1.0, 1.0, 0.0]
    _close(g, expected, tol=1e-12)
    twins = [Value(1000.0), Value(1000.0)]
    same = softmax_cross_entropy(twins, 0)
    assert same.data == pytest.approx(math.log(2))
    _close(grad(same, twins), [-0.5, 0.5], tol=1e-15)


def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot() -> None:
    rng = random.Random(0)
    for _ in range(20):
        n = rng.randint(1, 6)
        logits = [Value(rng.uniform(-5, 5)) for _ in range(n)]
        y = rng.randrange(n)
        loss = softmax_cross_entropy(logits, y)
        exps = [math.exp(h.data) for h in logits]
        probs = [e / sum(exps) for e in exps]
        assert loss.data == pytest.approx(-logits[y].data + math.log(sum(exps)), rel=1e-12)
        _close(grad(loss, logits), [p - (j == y) for j, p in enumerate(probs)], tol=1e-12)


def test_softmax_sums_to_one_and_is_stable() -> None:
    probs = softmax([Value(1000.0), Value(999.0), 0.0])
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    assert probs[0].data == pytest.approx(1 / (1 + math.exp(-1)))
    assert probs[2].data == 0.0


def test_hinge_loss_values_and_gradient() -> None:
    s = [Value(3.0), Value(1.0), Value(2.5)]
    loss = hinge_loss(s, 0)
    assert loss.data == 0.5  # max(0, 1-3+1) + max(0, 2.5-3+1)
    assert grad(loss, s) == [-1.0, 0.0, 1.0]
    assert hinge_loss(s, 1).data == (3 - 1 + 1) + (2.5 - 1 + 1)
    assert hinge_loss(s, 0, margin=0.4).data == 0.0
    assert hinge_loss([Value(5.0), Value(1.0)], 0).data == 0.0
    assert hinge_loss([Value(2.0)], 0).data == 0.0
    assert hinge_loss([1.0, 2.0], 0).data == 2.0  # plain numbers work too


def test_mse_values() -> None:
    assert mse([Value(1.0), Value(3.0)], [0.0, 1.0]).data == 2.5
    assert mse([Value(2.0)], [Value(2.0)]).data == 0.0


# --------------------------------------------------------------------------- SGD


def test_sgd_plain_step() -> None:
    p, q = Value(1.0), Value(-2.0)
    p.grad, q.grad = 2.0, -4.0
    opt = SGD([p, q], lr=0.5)
    opt.step()
    assert (p.data, q.data) == (0.0, 0.0)
    opt.step([1.0, 1.0])  # explicit gradients, e.g. from grad(loss, params)
    assert (p.data, q.data) == (-0.5, -0.5)
    opt.zero_grad()
    assert (p.grad, q.grad) == (0.0, 0.0)


def test_sgd_momentum_update_math() -> None:
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 2.0
    opt.step()  # v = 2, p = 1 - 0.2
    assert p.data == pytest.approx(0.8)
    opt.step()  # v = 0.9 * 2 + 2 = 3.8, p = 0.8 - 0.38
    assert opt.velocity == [pytest.approx(3.8)]
    assert p.data == pytest.approx(0.42)
    p.grad = 0.0
    opt.step()  # v = 3.42: momentum keeps moving without a gradient
    assert p.data == pytest.approx(0.42 - 0.342)


# --------------------------------------------------------------------------- errors


def test_errors_name_the_problem() -> None:
    model = MLP(3, [2], seed=0)
    with pytest.raises(ValueError, match="MLP expects 3 inputs, got 2"):
        model([1.0, 2.0])
    with pytest.raises(TypeError, match="MLP expects a sequence of 3 inputs"):
        model(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be Values or numbers, found str"):
        model([1.0, 2.0, "x"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="Layer expects 2 inputs, got 1"):
        Layer(2, 2)([1.0])
    with pytest.raises(ValueError, match="Neuron expects 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown activation 'softplus'; choose one of relu, tanh"):
        MLP(2, [2], activation="softplus")
    with pytest.raises(ValueError, match="nouts must be a non-empty list"):
        MLP(2, [])
    with pytest.raises(ValueError, match="layer size in nouts must be a positive int, got 0"):
        MLP(2, [3, 0])
    with pytest.raises(ValueError, match="nin must be a positive int"):
        Neuron(0)
    with pytest.raises(TypeError, match=r"seed must be an int, a random\.Random or None"):
        MLP(2, [2], seed="abc")  # type: ignore[arg-type]


def test_loss_errors() -> None:
    logits = [Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match="target 2 is out of range for 2 classes"):
        softmax_cross_entropy(logits, 2)
    with pytest.raises(ValueError, match="target -1 is out of range"):
        hinge_loss(logits, -1)
    with pytest.raises(TypeError, match="class index"):
        softmax_cross_entropy(logits, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="class index"):
        softmax_cross_entropy(logits, True)
    with pytest.raises(ValueError, match="logsumexp needs at least one value"):
        logsumexp([])
    with pytest.raises(ValueError, match="finite values, got nan"):
        logsumexp([Value(1.0), Value(math.nan)])
    with pytest.raises(TypeError, match="logits must be a sequence"):
        softmax_cross_entropy(Value(1.0), 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="as many targets as predictions, got 2 and 1"):
        mse(logits, [1.0])
    with pytest.raises(ValueError, match="at least one prediction"):
        mse([], [])
    with pytest.raises(ValueError, match="margin must be a finite number"):
        hinge_loss(logits, 0, margin=math.inf)


def test_empty_logits_are_named_before_the_target() -> None:
    with pytest.raises(ValueError, match="softmax_cross_entropy needs at least one logit"):
        softmax_cross_entropy([], 0)
    with pytest.raises(ValueError, match="hinge_loss needs at least one score"):
        hinge_loss([], 0)


def test_sgd_errors() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        SGD([p], lr=0.0)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
        SGD([p], lr=0.1, momentum=1.0)
    with pytest.raises(TypeError, match="SGD needs Values"):
        SGD([1.0], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="one gradient per parameter: 1 params, 2 grads"):
        SGD([p], lr=0.1).step([1.0, 2.0])


def test_activation_names_are_published() -> None:
    assert ACTIVATIONS == ("relu", "tanh", "sigmoid", "identity")


# --------------------------------------------------------------------------- real numbers


def test_numpy_scalars_mix_in_like_floats() -> None:
    np = pytest.importorskip("numpy")
    model = MLP(np.int64(2), [np.int64(3), 2], activation="tanh", seed=0)
    x = np.array([0.5, -1.0])
    logits = model(x)  # float64 elements
    y = np.array([0, 1])[1]  # scikit-learn's targets are numpy.int64
    loss = softmax_cross_entropy(logits, y)
    assert loss.data == pytest.approx(softmax_cross_entropy(model([0.5, -1.0]), 1).data)
    assert hinge_loss(logits, np.int32(0), margin=np.float32(0.5)).data >= 0.0
    assert mse([np.float64(1.0)], [Value(0.5)]).data == 0.25
    opt = SGD(model.parameters(), lr=np.float64(0.1), momentum=np.float32(0.5))
    assert (opt.lr, opt.momentum) == (0.1, 0.5)
    opt.step(np.ones(len(model.parameters())))
    with pytest.raises(TypeError, match="class index"):
        softmax_cross_entropy(logits, np.bool_(True))
    with pytest.raises(TypeError, match="class index"):
        softmax_cross_entropy(logits, np.float64(1.0))


def test_fractions_mix_in_like_floats() -> None:
    from fractions import Fraction

    model = MLP(2, [2], seed=0)
    assert model([Fraction(1, 2), 1])[0].data == model([0.5, 1.0])[0].data
    assert mse([Fraction(1, 2)], [Fraction(1, 4)]).data == 0.0625
    assert SGD([Value(1.0)], lr=Fraction(1, 10)).lr == 0.1


def test_inputs_reject_bools_and_unordered_collections() -> None:
    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match="must be Values or numbers, found bool"):
        model([True, 1.0])
    with pytest.raises(TypeError, match="MLP expects a sequence of 2 inputs, got set"):
        model({1.0, 2.0})
    with pytest.raises(TypeError, match="MLP expects a sequence of 2 inputs, got dict"):
        model({"a": 1.0, "b": 2.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be Values or numbers, found str"):
        model(["1.0", 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="logits must be a sequence"):
        softmax_cross_entropy({1.0, 2.0}, 0)


# --------------------------------------------------------------------------- activation


def test_an_unknown_activation_cannot_be_assigned() -> None:
    n = Neuron(2, "relu", seed=0)
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        n.activation = "softplus"
    assert n.activation == "relu"
    assert n([1.0, 2.0]).op.name in ("relu",)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- SGD input


def test_sgd_takes_a_module_and_rejects_duplicates() -> None:
    model = MLP(2, [2], seed=0)
    assert SGD(model, lr=0.1).params == model.parameters()
    p = Value(1.0)
    with pytest.raises(ValueError, match=r"same parameter twice \(positions 0 and 1\)"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="SGD needs an iterable of Values"):
        SGD(p, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SGD needs an iterable of Values"):
        SGD(3, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lr must be finite"):
        SGD([p], lr=math.nan)
    with pytest.raises(ValueError, match="lr must be a real number"):
        SGD([p], lr="0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="momentum must be finite"):
        SGD([p], momentum=math.inf)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
        SGD([p], momentum=-0.1)


def test_sgd_step_grads_errors_and_iterables() -> None:
    p, q = Value(1.0), Value(2.0)
    opt = SGD([p, q], lr=0.5)
    opt.step(g for g in (1.0, 2.0))  # a generator is fine
    assert (p.data, q.data) == (0.5, 1.0)
    with pytest.raises(TypeError, match="sequence in the order of the params, got a dict"):
        opt.step({"w": 1.0, "b": 2.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step needs a sequence of gradients"):
        opt.step(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step's gradients must be numbers, found str"):
        opt.step(["1", "2"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="one gradient per parameter: 2 params, 1 grads"):
        opt.step(iter([1.0]))
    assert (p.data, q.data) == (0.5, 1.0)


# --------------------------------------------------------------------------- precision


@pytest.mark.parametrize(
    ("logits", "target", "exact"),
    [
        ([1000.0, 970.0], 0, math.log1p(math.exp(-30.0))),  # 9.357622968839737e-14
        ([970.0, 1000.0], 1, math.log1p(math.exp(-30.0))),
        ([5.0, -40.0, -35.0], 0, math.log1p(math.exp(-45.0) + math.exp(-40.0))),
        ([1000.0, 970.0], 1, 30.0 + math.log1p(math.exp(-30.0))),
        ([0.0, 0.0, 0.0], 2, math.log(3.0)),
    ],
)
def test_softmax_cross_entropy_is_accurate_for_tiny_losses(
    logits: list[float], target: int, exact: float
) -> None:
    for hs in (logits, [Value(h) for h in logits]):
        assert softmax_cross_entropy(hs, target).data == pytest.approx(exact, rel=1e-15, abs=0.0)
    # the gradient is still softmax − onehot
    hs = [Value(h) for h in logits]
    loss = softmax_cross_entropy(hs, target)
    expected = [s.data - (j == target) for j, s in enumerate(softmax(logits))]
    assert grad(loss, hs) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_mlp_hidden_activation_is_read_only() -> None:
    model = MLP(2, [3, 1], "tanh", seed=0)
    assert model.hidden_activation == "tanh"
    with pytest.raises(AttributeError):
        model.hidden_activation = "relu"  # type: ignore[misc]


# --------------------------------------------------------------------------- compile_loss


def _mean_graph_loss(model: Module, loss_fn: Callable[..., Value], xs: list[list[float]], ys: list) -> Value:
    total = loss_fn(model, [Value(v) for v in xs[0]], ys[0])
    for x, y in zip(xs[1:], ys[1:]):
        total = total + loss_fn(model, [Value(v) for v in x], y)
    return total / len(xs)


def _cross_entropy(model: Module, x: list[Value], y: int) -> Value:
    return softmax_cross_entropy(model(x), y)


def test_compile_loss_equals_the_graph_per_class() -> None:
    from scalargrad.nn import CompiledLoss, compile_loss

    model = MLP(3, [5, 3], activation="tanh", seed=2)
    rng = random.Random(0)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(12)]
    ys = [k % 3 for k in range(12)]
    loss = compile_loss(model, _cross_entropy, (xs[0], ys[0]))
    assert isinstance(loss, CompiledLoss) and list(loss.compiled) == [0]
    value, grads = loss(xs, ys)
    assert sorted(loss.compiled) == [0, 1, 2]  # one function per class, compiled on first use
    reference = _mean_graph_loss(model, _cross_entropy, xs, ys)
    assert math.isclose(value, reference.data, rel_tol=1e-12)
    _close(grads, grad(reference, model.parameters()), 1e-12)
    assert "def value_and_grad(" in loss.compiled[1].source
    assert repr(loss) == "CompiledLoss(38 parameters, 3 compiled (per class))"


def test_compiled_training_follows_the_graph_training() -> None:
    from scalargrad.nn import compile_loss

    rng = random.Random(4)
    xs = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(8)]
    ys = [int(x[0] * x[1] > 0) for x in xs]
    graph_model, compiled_model = MLP(2, [6, 2], seed=5), MLP(2, [6, 2], seed=5)  # relu hidden units
    graph_opt = SGD(graph_model, lr=0.2, momentum=0.5)
    compiled_opt = SGD(compiled_model, lr=0.2, momentum=0.5)
    loss = compile_loss(compiled_model, _cross_entropy, (xs[0], ys[0]), check=True)
    for _ in range(20):
        reference = _mean_graph_loss(graph_model, _cross_entropy, xs, ys)
        graph_opt.step(grad(reference, graph_model.parameters()))
        value, grads = loss(xs, ys)  # relu's branches are taken per call: units may switch on and off
        compiled_opt.step(grads)
        assert math.isclose(value, reference.data, rel_tol=1e-9)
    _close([p.data for p in compiled_model.parameters()], [p.data for p in graph_model.parameters()], 1e-9)


def test_compile_loss_with_targets_as_data() -> None:
    from scalargrad.nn import compile_loss

    model = MLP(2, [4, 1], activation="sigmoid", seed=1)

    def squared_error(m: Module, x: list[Value], y: list[Value]) -> Value:
        return mse(m(x), y)

    loss = compile_loss(model, squared_error, ([0.5, 0.5], [1.0]))
    xs, ys = [[0.1, 0.2], [1.0, -1.0], [0.3, 0.0]], [[0.5], [-2.0], [3.0]]
    value, grads = loss(xs, ys)
    assert list(loss.compiled) == [None]  # targets are inputs of the one compiled function
    reference = _mean_graph_loss(model, squared_error, xs, ys)
    assert math.isclose(value, reference.data, rel_tol=1e-12)
    _close(grads, grad(reference, model.parameters()), 1e-12)
    scalar = compile_loss(model, lambda m, x, y: (m(x)[0] - y) * (m(x)[0] - y), ([0.5, 0.5], 1.5))
    assert math.isclose(scalar([[0.1, 0.2]], [0.5])[0], (model([0.1, 0.2])[0].data - 0.5) ** 2, rel_tol=1e-12)
    for wrong in ([], [1.0, 2.0]):
        with pytest.raises(ValueError, match=rf"needs 1 number \(as in the example\), got {len(wrong)}"):
            loss([[0.1, 0.2]], [wrong])


def test_compile_loss_check_catches_control_flow() -> None:
    from scalargrad.codegen import CompileCheckError
    from scalargrad.nn import compile_loss

    model = MLP(1, [2, 1], seed=0)

    def branchy(m: Module, x: list[Value], y: float) -> Value:
        out = m(x)[0]
        return out * out if x[0] > 0 else out

    loss = compile_loss(model, branchy, ([1.0], 0.0), check=True)
    loss([[2.0]], [0.0])
    with pytest.raises(CompileCheckError, match="control flow"):
        loss([[-2.0]], [0.0])


def test_compile_loss_check_rejects_an_infinite_gradient_against_a_finite_one() -> None:
    from scalargrad import sqrt
    from scalargrad.codegen import CompileCheckError
    from scalargrad.nn import compile_loss

    model = MLP(1, [1], seed=0)
    w, b = model.parameters()
    w.data, b.data = 1.0, -1.0

    def kinked(m: Module, x: list[Value], y: float) -> Value:
        out = m(x)[0]
        return sqrt(out) if out > 0 else 2 * out  # traced at out = 1; at x = 1, out = 0 and sqrt' = inf

    loss = compile_loss(model, kinked, ([2.0], 0.0), check=True)
    with pytest.raises(CompileCheckError, match=r"gradient\[0\] is inf compiled, 2.0 by the engine"):
        loss([[1.0]], [0.0])


def test_compile_loss_bad_input() -> None:
    from scalargrad.nn import compile_loss

    model = MLP(2, [2], seed=0)
    with pytest.raises(TypeError, match="needs a Module"):
        compile_loss([], _cross_entropy, ([1.0, 2.0], 0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="loss_fn"):
        compile_loss(model, None, ([1.0, 2.0], 0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one example"):
        compile_loss(model, _cross_entropy, [1.0, 2.0, 0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must return a Value"):
        compile_loss(model, lambda m, x, y: 1.0, ([1.0, 2.0], 0))
    loss = compile_loss(model, _cross_entropy, ([1.0, 2.0], 0))
    with pytest.raises(ValueError, match="each input needs 2 numbers"):
        loss([[1.0]], [0])
    with pytest.raises(ValueError, match="as many targets"):
        loss([[1.0, 2.0]], [0, 1])
    with pytest.raises(TypeError, match="class indices"):
        loss([[1.0, 2.0]], [0.5])


def test_a_numpy_integer_seeds_like_an_int() -> None:
    np = pytest.importorskip("numpy")
    assert [p.data for p in MLP(2, [3, 1], seed=np.int64(1)).parameters()] == [
        p.data for p in MLP(2, [3, 1], seed=1).parameters()
    ]


def test_a_network_too_large_to_build_is_refused_before_allocating() -> None:
    with pytest.raises(
        ValueError, match=r"MLP\(1000000, \[1000000\]\) would have 1,000,001,000,000 parameters"
    ):
        MLP(10**6, [10**6])
    with pytest.raises(ValueError, match="MAX_PARAMETERS"):
        Layer(10**4, 10**4)
    with pytest.raises(ValueError, match="MAX_PARAMETERS"):
        Neuron(10**8)
    assert len(MLP(3, [4, 1], seed=0).parameters()) == 21


def test_the_parameter_limit_is_set_on_scalargrad_nn(monkeypatch: pytest.MonkeyPatch) -> None:
    import scalargrad.nn
    import scalargrad.nn.modules

    monkeypatch.setattr(scalargrad.nn, "MAX_PARAMETERS", 21)
    assert scalargrad.nn.MAX_PARAMETERS == scalargrad.nn.modules.MAX_PARAMETERS == 21
    assert len(MLP(3, [4, 1], seed=0).parameters()) == 21  # 4*(3+1) + 1*(4+1)
    with pytest.raises(ValueError, match="MAX_PARAMETERS = 21"):
        MLP(3, [4, 2])  # 26


def test_mock_patch_of_the_parameter_limit_sets_it_and_restores_it() -> None:
    from unittest import mock

    import scalargrad.nn
    import scalargrad.nn.modules

    before = scalargrad.nn.MAX_PARAMETERS
    with mock.patch.object(scalargrad.nn, "MAX_PARAMETERS", 21):
        assert scalargrad.nn.modules.MAX_PARAMETERS == 21
        with pytest.raises(ValueError, match="MAX_PARAMETERS = 21"):
            MLP(3, [4, 2])
    assert scalargrad.nn.MAX_PARAMETERS == scalargrad.nn.modules.MAX_PARAMETERS == before
    assert "MAX_PARAMETERS" in vars(scalargrad.nn)


def test_models_pickle_and_pickles_naming_scalargrad_nn_still_load() -> None:
    import pickle

    model = MLP(2, [3, 1], seed=0)
    old = pickle.dumps(model, protocol=0).replace(b"scalargrad.nn.modules", b"scalargrad.nn")
    assert b"scalargrad.nn.modules" not in old  # as pickled when the classes lived in scalargrad.nn
    for data in (pickle.dumps(model), old):
        loaded = pickle.loads(data)
        assert type(loaded) is MLP and [p.data for p in loaded.parameters()] == [
            p.data for p in model.parameters()
        ]
