"""scalargrad.matmul and scalargrad.dot: one dot node per entry, checked against NumPy's
binary object matmul, finite differences and forward mode on generated shapes and points."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value, grad, matmul, no_grad
from scalargrad.arrays import MAX_ENTRIES, array, data
from scalargrad.core import Fan
from scalargrad.ops import dot, sum_of_products
from scalargrad.testing import matmul_shapes

finite = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)


def floats_of(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    size = math.prod(shape)
    return st.lists(finite, min_size=size, max_size=size).map(lambda xs: np.array(xs).reshape(shape))


@st.composite
def product_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    left, right = draw(matmul_shapes(max_side=4, max_batch_dims=2))
    where = draw(st.sampled_from(["left", "right", "both"]))
    if where == "right":
        left, right = left[-2:], left[:-2] + right
    elif where == "both":  # broadcast: (..., m, k) against (1, k, n)
        right = (1,) * (len(left) - 2) + right
    return draw(floats_of(left)), draw(floats_of(right))


@given(product_case())
def test_matmul_is_numpys_product_one_dot_node_per_entry(case: tuple[np.ndarray, np.ndarray]) -> None:
    x, w = case
    X, W = array(x), array(w)
    Z = matmul(X, W)
    expected = np.matmul(x, w)
    assert Z.shape == expected.shape
    assert np.allclose(data(Z), expected, rtol=1e-12, atol=1e-12)
    n = x.shape[-1]
    for z in Z.flat:
        assert type(z._op) is Fan and z.op is sg.OPS["dot"] and len(z.parents) == 2 * n
        xs, ys = z.parents[:n], z.parents[n:]
        assert z.data == math.fsum(a.data * b.data for a, b in zip(xs, ys))
        assert z.local_grads == tuple(v.data for v in ys + xs)


@given(product_case(), st.integers(0, 2**32 - 1))
def test_matmul_gradients_equal_the_binary_graph_and_the_matrix_rule(
    case: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    x, w = case
    out_grad = np.random.default_rng(seed).standard_normal(np.matmul(x, w).shape)
    X, W = array(x), array(w)
    v = (matmul(X, W) * out_grad).sum()
    X2, W2 = array(x), array(w)
    v2 = (np.matmul(X2, W2) * out_grad).sum()  # NumPy's object matmul: products and sums
    gx, gw = grad(v, [X, W])
    gx2, gw2 = grad(v2, [X2, W2])
    assert np.allclose(gx, gx2, rtol=1e-12, atol=1e-12) and np.allclose(gw, gw2, rtol=1e-12, atol=1e-12)
    # the matrix form X̄ = Z̄Wᵀ, W̄ = XᵀZ̄, summed over broadcast batch axes
    x_bar = sg.arrays.unbroadcast(out_grad @ np.swapaxes(w, -1, -2), x.shape)
    w_bar = sg.arrays.unbroadcast(np.swapaxes(x, -1, -2) @ out_grad, w.shape)
    assert np.allclose(gx, x_bar, rtol=1e-12, atol=1e-12) and np.allclose(gw, w_bar, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_matmul_through_tanh_matches_finite_differences_and_forward_mode(
    m: int, n: int, p: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((m, n)), rng.standard_normal((n, p))

    def f(xw: np.ndarray) -> float:
        return float(np.tanh(xw[: m * n].reshape(m, n) @ xw[m * n :].reshape(n, p)).sum())

    X, W = array(x), array(w)
    v = np.tanh(matmul(X, W)).sum()
    gx, gw = grad(v, [X, W])
    point = np.concatenate([x.ravel(), w.ravel()])
    h = 1e-6
    for k in range(point.size):
        e = np.zeros_like(point)
        e[k] = h
        numeric = (f(point + e) - f(point - e)) / (2 * h)
        exact = gx.ravel()[k] if k < m * n else gw.ravel()[k - m * n]
        assert math.isclose(exact, numeric, rel_tol=1e-5, abs_tol=1e-7)
    direction = rng.standard_normal(point.size)
    tangent = sg.jvp(v, dict(zip([*X.flat, *W.flat], direction.tolist())))
    assert math.isclose(
        tangent,
        float(np.dot(np.concatenate([gx.ravel(), gw.ravel()]), direction)),
        rel_tol=1e-9,
        abs_tol=1e-12,
    )


def test_vectors_stacks_and_numbers() -> None:
    X = array([[1.0, 2.0], [3.0, 4.0]], name="X")
    u = array([1.0, -1.0], name="u")
    assert matmul(u, X).shape == (2,) and matmul(X, u).shape == (2,)
    inner = matmul(u, u)
    assert isinstance(inner, Value) and inner.data == 2.0
    mixed = matmul(X, np.array([[1.0], [2.0]]))  # numbers on the right are constant leaves
    assert data(mixed).ravel().tolist() == [5.0, 11.0]
    assert grad(mixed.sum(), X).tolist() == [[1.0, 2.0], [1.0, 2.0]]
    assert matmul(np.ones((2, 2)), np.ones((2, 2))).tolist() == [[2.0, 2.0], [2.0, 2.0]]  # no Value: floats
    stacked = matmul(np.stack([X, X]), u)
    assert stacked.shape == (2, 2)
    assert matmul(array(np.ones((2, 0))), array(np.ones((0, 3)))).tolist() == [[0.0] * 3] * 2


def test_matmul_refuses_what_numpy_refuses_with_a_message() -> None:
    X = array(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 3\) do not match"):
        matmul(X, X)
    with pytest.raises(ValueError, match="at least one axis"):
        matmul(np.array(Value(1.0), dtype=object), X)
    with pytest.raises(TypeError, match="entries must be Values or real numbers, got str"):
        matmul(X, np.array([["a"], ["b"], ["c"]], dtype=object))
    with pytest.raises(TypeError, match="entries must be Values or real numbers, got str: '1'"):
        matmul(np.ones((1, 1)), np.array([["1"]], dtype=object))  # no Value: checked all the same
    with pytest.raises(ValueError, match="1 column on the left, 2 rows on the right"):
        matmul(array(np.ones((2, 1))), array(np.ones((2, 1))))
    with pytest.raises(ValueError, match=r"products \(entries × inner length\) is more than .*MAX_ENTRIES"):
        matmul(array(np.ones((1, 2))), np.ones((2, MAX_ENTRIES // 2 + 1)).astype(object))


def test_setting_max_entries_on_the_package_sets_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sg.arrays, "MAX_ENTRIES", 5)
    with pytest.raises(ValueError, match="MAX_ENTRIES = 5"):
        array(np.ones(6))
    with pytest.raises(ValueError, match="MAX_ENTRIES = 5"):
        matmul(array(np.ones((2, 2))), array(np.ones((2, 2))))


def test_dot_is_one_node_with_the_notes_local_derivatives() -> None:
    x = [Value(1.0, label="x1"), Value(2.0, label="x2")]
    y = [Value(3.0, label="y1"), Value(-4.0, label="y2")]
    d = dot(x, y)
    assert d.data == -5.0 and d.parents == (*x, *y) and d.local_grads == (3.0, -4.0, 1.0, 2.0)
    assert not d.is_leaf and d.operands == d.parents
    assert grad(d * d, x) == [2 * -5.0 * 3.0, 2 * -5.0 * -4.0]
    assert dot([1, 2], [3, 4]) == 11.0
    assert dot([], []) == 0.0
    with pytest.raises(ValueError, match="different lengths, 2 and 1"):
        dot(x, y[:1])
    with pytest.raises(TypeError, match="dot: expected a real number or a Value, got str"):
        dot(x, ["a", y[0]])
    with pytest.raises(TypeError, match=r"dot takes two sequences, dot\(xs, ys\); xs is a Value"):
        dot(x[0], y[0])
    with pytest.raises(ValueError, match="any number of operands, such as dot, can only be built in"):
        sg.define_op(
            "my_dot", arity=None, evaluate=lambda *a: 0.0, derivative=lambda *a: ()  # type: ignore[arg-type]
        )
    with no_grad():
        assert dot(x, y).is_leaf


def test_sum_of_products_is_exact_and_survives_infinities() -> None:
    assert sum_of_products((1e16, 1.0, -1e16), (1.0, 1.0, 1.0)) == 1.0  # left to right gives 0.0
    assert math.isnan(sum_of_products((math.inf, 1.0), (1.0, -math.inf)))
    assert sum_of_products((1e308, 1e308), (1.0, 1.0)) == math.inf
