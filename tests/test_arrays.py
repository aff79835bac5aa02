"""Arrays of Values, grad/jvp on arrays, check_vjp and the homework's tensor rules (issue 19)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalargrad
from scalargrad import Value, check_vjp, grad, jvp
from scalargrad.arrays import (
    MAX_ENTRIES,
    VJPMismatch,
    array,
    data,
    entry_label,
    entry_name,
    structure_trace,
    tensor_trace,
    unbroadcast,
)
from scalargrad.notation.names import text_name
from scalargrad.testing import axes, broadcastable_shapes, matmul_shapes, permutations, shapes

ROOT = Path(__file__).resolve().parent.parent


def _load_rules() -> Any:
    spec = importlib.util.spec_from_file_location("tensor_rules", ROOT / "examples" / "tensor_rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tensor_rules"] = module
    spec.loader.exec_module(module)
    return module


RULES = _load_rules()
OPS = {op.name: op for op in RULES.OPS}


# --------------------------------------------------------------------------- #
# arrays and labels                                                            #
# --------------------------------------------------------------------------- #


def test_array_labels_print_as_the_notes_name_entries() -> None:
    X = array([[1, 2], [3, 4]], name="X")
    assert X.dtype == object and X.shape == (2, 2)
    assert [v.label for v in X.ravel()] == ["X11", "X12", "X21", "X22"]
    assert [text_name(v.label) for v in X.ravel()] == ["X₁₁", "X₁₂", "X₂₁", "X₂₂"]
    assert all(v.data == float(i + 1) for i, v in enumerate(X.ravel()))
    assert entry_name("X", (0, 1), (2, 2), bar=True) == "X̄₁₂"


def test_labels_past_nine_are_separated() -> None:
    assert entry_label("x", (11,), (12,)) == "x12"  # one index: never ambiguous
    assert entry_label("X", (0, 11), (2, 12)) == "X1,12"
    assert entry_label("X", (10, 0), (12, 2)) == "X11,1"
    assert entry_label("W1", (0, 1), (2, 2)) == "W1_1,2"
    assert entry_name("X", (0, 11), (2, 12)) == "X₁,₁₂"
    big = array(np.zeros((2, 12)), name="X")
    assert len({v.label for v in big.ravel()}) == 24
    assert array(3.0, name="s")[()].label == "s"
    assert array([1.0, 2.0])[0].label is None


@pytest.mark.parametrize(
    ("name", "index", "shape", "printed", "bar"),
    [
        ("X", (0, 1), (2, 2), "X₁₂", "X̄₁₂"),
        ("x", (11,), (12,), "x₁₂", "x̄₁₂"),
        ("B", (0, 11), (2, 12), "B₁,₁₂", "B̄₁,₁₂"),
        ("X", (10, 0, 2), (12, 2, 3), "X₁₁,₁,₃", "X̄₁₁,₁,₃"),
        ("W1", (0, 1), (2, 2), "W1₁,₂", "W̄1₁,₂"),
        ("x1", (1,), (2,), "x1₂", "x̄1₂"),
        ("Wh", (0, 11), (2, 12), "Wh₁,₁₂", "W̄h₁,₁₂"),
        ("α", (0, 1), (2, 2), "α₁₂", "α\u0304₁₂"),
    ],
)
def test_entry_name_is_how_traces_print_the_label(
    name: str, index: tuple[int, ...], shape: tuple[int, ...], printed: str, bar: str
) -> None:
    """One spelling: entry_name (check_vjp's messages, a diagram's computed entries) is text_name
    of the label (a trace's or diagram's input), its bar variant that with a bar on the name."""
    label = entry_label(name, index, shape)
    assert entry_name(name, index, shape) == text_name(label) == printed
    assert entry_name(name, index, shape, bar=True) == text_name(label[:1] + "\u0304" + label[1:]) == bar


def test_traces_print_entries_with_commas_as_subscripts() -> None:
    W1 = array([[1, 2], [3, 4]], "W1")
    B = array(np.ones((2, 12)), "B")
    x1 = array([1.0, 2.0], "x1")
    t = scalargrad.trace(W1[0, 1] * B[0, 11] * x1[1], caption=True)
    assert t.lines(t.forward)[:3] == ["v₁ = W1₁,₂ = 2", "v₂ = B₁,₁₂ = 1", "v₃ = x1₂ = 2"]
    assert t.caption == "y = W1₁,₂*B₁,₁₂*x1₂ at W1₁,₂ = 2, B₁,₁₂ = 1, x1₂ = 2"
    latex = t.to_latex()
    assert r"v_{1} &= \mathrm{W1}_{1,2} = 2" in latex and r"v_{2} &= B_{1,12} = 1" in latex
    assert r"v_{3} &= \mathrm{x1}_{2} = 2" in latex and r"\_" not in latex


def test_too_many_entries_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"1,000,001 entries is more than .*MAX_ENTRIES = 1,000,000"):
        array(np.zeros(MAX_ENTRIES + 1))


def test_core_imports_without_numpy() -> None:
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "import scalargrad\n"
        "x = scalargrad.Value(2.0)\n"
        "assert scalargrad.grad(x * x, {'a': [x]}) == {'a': [4.0]}\n"
        "try:\n    scalargrad.array([1.0])\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "need NumPy" in out.stdout


# --------------------------------------------------------------------------- #
# grad and jvp on arrays                                                       #
# --------------------------------------------------------------------------- #


def test_grad_is_a_float_array_shaped_like_wrt() -> None:
    X = array([[1, 2], [3, 4]], name="X")
    W = array([[1, 0, -1], [0.5, 1, 2]], name="W")
    v = (X @ W).sum()
    g = grad(v, X)
    assert isinstance(g, np.ndarray) and g.dtype == float and g.shape == (2, 2)
    np.testing.assert_array_equal(g, np.ones((2, 3)) @ data(W).T)
    both = grad(v, {"X": X, "W": [W]})
    np.testing.assert_array_equal(both["W"][0], data(X).T @ np.ones((2, 3)))
    symbolic = grad(v, X, create_graph=True)
    assert symbolic.dtype == object and str(symbolic[0, 0]) == "W13 + W12 + W11"


def test_array_outputs_seeds_and_jvp() -> None:
    X = array([[1, 2], [3, 4]], name="X")
    Y = X * X
    np.testing.assert_array_equal(grad(Y, X, seed=np.full((2, 2), 0.5)), data(X))
    tangent = jvp(Y, {X[0, 1]: 1.0})
    assert isinstance(tangent, np.ndarray)
    np.testing.assert_array_equal(tangent, [[0.0, 4.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"must be an array of shape \(2, 2\)"):
        grad(Y, X, seed=np.ones((3, 2)))


def test_the_notes_dict_example_keeps_the_dict() -> None:
    assert structure_trace().splitlines()[-1] == "grad(v, d) = {'cat': 3.0, 'dog': 0.0}"
    a0, a1 = Value(1.5, label="a0"), Value(-0.5, label="a1")
    d = {"cat": a0, "dog": a1}
    assert grad(d["cat"].exp(), d) == {"cat": a0.exp().data, "dog": 0.0}


def test_tensor_trace_scalar_and_matrix_forms_agree() -> None:
    t = tensor_trace()
    text = str(t)
    assert "X̄₁₂ = W₂₁·Z̄₁₁ + W₂₂·Z̄₁₂ + W₂₃·Z̄₁₃ = 0.5·2 + 1·2 + 2·3 = 9" in text
    assert "W̄₂₃ = X₁₂·Z̄₁₃ + X₂₂·Z̄₂₃ = 2·3 + 4·5 = 26" in text
    assert "X̄ = Z̄Wᵀ = [−1 9; 0 16.5]   equals grad(v, X): True" in text
    assert "W̄ = XᵀZ̄ = [17 14 18; 24 20 26]   equals grad(v, W): True" in text
    assert "v₁ = X₁₁ = 1" in text  # the forward trace, in scalar form
    np.testing.assert_allclose(t.X_bar, t.Z_bar @ data(t.W).T)
    assert len(t.X_lines) == 4 and len(t.W_lines) == 6


def test_unbroadcast() -> None:
    np.testing.assert_array_equal(unbroadcast(np.ones((3, 2, 4)), (2, 1)), np.full((2, 1), 12.0))
    np.testing.assert_array_equal(unbroadcast(np.ones((2, 3)), (2, 3)), np.ones((2, 3)))


# --------------------------------------------------------------------------- #
# check_vjp on the homework's ops                                              #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_homework_rule_agrees_with_scalar_reverse_mode(name: str) -> None:
    RULES.check(OPS[name], trials=2, seed=1)


WRONG = [(op.name, wrong) for op in RULES.OPS for wrong in op.wrong]


@pytest.mark.parametrize(("name", "wrong"), WRONG)
def test_every_wrong_rule_is_caught_naming_the_entry_and_its_sum(name: str, wrong: str) -> None:
    found = RULES.first_mismatch(OPS[name], wrong)
    assert isinstance(found, VJPMismatch) and isinstance(found, AssertionError)
    message = str(found)
    if found.error is not None:  # keepdims forgotten: the rule cannot broadcast, it blames no input
        assert found.input is None and found.entry == ""
        assert f"the rule raised {type(found.error).__name__} for these inputs" in message
        return
    assert f"is wrong at {found.entry}" in message
    assert f"{found.entry} should be {found.formula}" in message or "no partial adjoint reaches" in message
    assert found.entry.startswith(found.input_name[0] + "\u0304")
    if found.terms:
        assert "̄" in found.formula  # named by output adjoints (Z̄ᵢⱼ)
        assert abs(sum(found.term_values) - found.expected) <= 1e-9 * (1 + abs(found.expected))


def test_relu_follows_relu_prime_of_zero_is_zero() -> None:
    """At a = 0 the exact reference is Value.relu's (relu′(0) = 0, as PyTorch): np.maximum(a, 0)
    kept the Value there, so ȳ·(a > 0) was reported wrong at X̄₁."""
    relu, rule = OPS["ReLU"].forward, OPS["ReLU"].rule
    at_zero = np.array([0.0, -1.0, 2.0])
    check_vjp(relu, rule, at_zero)
    check_vjp(relu, rule, np.array([[0.0, 0.5], [-0.0, 0.0]]), trials=2)
    with pytest.raises(VJPMismatch) as info:
        check_vjp(relu, lambda g, a: g * (a >= 0), at_zero)  # relu′(0) = 1: not the convention
    assert info.value.entry == "X̄₁" and info.value.expected == 0.0
    assert "no partial adjoint reaches X₁" in str(info.value)
    np.testing.assert_array_equal(relu(at_zero), [0.0, 0.0, 2.0])  # floats stay floats
    assert relu(at_zero).dtype == float
    values = relu(array(at_zero, "a"))
    assert [v.data for v in values] == [0.0, 0.0, 2.0]
    assert all(v.op is not None and v.op.name == "relu" for v in values)


def test_required_wrong_variants_are_all_there() -> None:
    required = {
        ("BroadcastTo", "without the sum"),
        ("Transpose", "without argsort"),
        ("MatMul", "the wrong side transposed"),
        ("LogSoftmax", "without the softmax term"),
        ("Summation", "keepdims forgotten"),
    }
    assert required <= set(WRONG)


def test_mismatch_names_the_scalar_sum_of_the_notes() -> None:
    def almost(g: Any, x: Any, w: Any) -> Any:
        gx = g @ w.T
        gx[0, 1] += 1.0  # wrong only at X̄₁₂
        return gx, x.T @ g

    with pytest.raises(VJPMismatch) as info:
        check_vjp(lambda x, w: x @ w, almost, (2, 2), (2, 2), op="MatMul")
    e = info.value
    assert (e.input, e.input_name, e.index, e.entry) == (0, "X", (0, 1), "X̄₁₂")
    assert e.formula == "Z̄₁₁·W₂₁ + Z̄₁₂·W₂₂"
    assert "X̄₁₂ should be Z̄₁₁·W₂₁ + Z̄₁₂·W₂₂ = " in str(e)
    assert e.given is not None and abs(e.given - e.expected - 1.0) < 1e-9
    w, g = e.inputs[1], e.out_grad
    assert e.expected == pytest.approx(g[0, 0] * w[1, 0] + g[0, 1] * w[1, 1])


def test_wrong_shape_and_raising_rules_are_mismatches() -> None:
    with pytest.raises(VJPMismatch, match=r"shape \(2, 3\), not X's shape \(3,\)") as info:
        check_vjp(lambda x: np.broadcast_to(x, (2, 3)), lambda g, x: g, (3,))
    assert info.value.given is None and info.value.given_shape == (2, 3)
    with pytest.raises(VJPMismatch, match="the rule raised ValueError") as raised:
        check_vjp(lambda x: x.sum(axis=1), lambda g, x: np.broadcast_to(g, x.shape), (3, 4))
    assert isinstance(raised.value.error, ValueError)
    assert raised.value.input is None and raised.value.__cause__ is raised.value.error


def test_a_rule_that_raises_blames_no_input() -> None:
    """X's part (g @ W.T) is right; W's (X @ g.T) raises: that is said, X is not blamed."""
    with pytest.raises(VJPMismatch) as info:
        check_vjp(lambda x, w: x @ w, lambda g, x, w: (g @ w.T, x @ g.T), (2, 3), (3, 2))
    e, message = info.value, str(info.value)
    assert message.startswith("check_vjp(<lambda>): the rule raised ValueError for these inputs, so it")
    assert "ValueError: matmul: " in message
    assert "(inputs X (2, 3), W (3, 2); Z̄ = out_grad random, shape (2, 2))" in message
    assert "input 1" not in message and "X̄" not in message and "is wrong at" not in message
    assert e.input is None and e.entry == "" and e.given is None and isinstance(e.error, ValueError)
    assert [p.shape for p in e.inputs] == [(2, 3), (3, 2)] and e.out_grad.shape == (2, 2)
    with pytest.raises(TypeError, match="one gradient per input"):
        check_vjp(lambda x, w: x @ w, lambda g, x, w: g @ w.T, (2, 2), (2, 2))


def test_check_vjp_takes_points_and_skips_none() -> None:
    x = np.array([[0.5, 1.5], [2.0, 3.0]])
    check_vjp(lambda a, s: a**s, lambda g, a, s: (g * s * a ** (s - 1), None), x, np.array(2.0), trials=1)


# --------------------------------------------------------------------------- #
# random shapes and axes (scalargrad.testing's strategies)                     #
# --------------------------------------------------------------------------- #

FEW = settings(max_examples=15, deadline=None)


@FEW
@given(matmul_shapes(), st.integers(0, 2**16))
def test_matmul_rule_at_random_shapes(case: Any, seed: int) -> None:
    op = OPS["MatMul"]
    check_vjp(op.forward, op.rule, *case, trials=1, seed=seed)


@FEW
@given(shapes().flatmap(lambda s: st.tuples(st.just(s), broadcastable_shapes(s))), st.integers(0, 2**16))
def test_broadcasting_rules_at_random_shapes(case: Any, seed: int) -> None:
    shape, small = case
    check_vjp(
        OPS["BroadcastTo"].forward,
        OPS["BroadcastTo"].rule,
        small,
        params={"shape": shape},
        trials=1,
        seed=seed,
    )
    check_vjp(OPS["EWiseMul"].forward, OPS["EWiseMul"].rule, shape, small, trials=1, seed=seed)


@FEW
@given(
    shapes().flatmap(lambda s: st.tuples(st.just(s), axes(len(s)), permutations(len(s)))),
    st.integers(0, 2**16),
)
def test_axes_rules_at_random_shapes(case: Any, seed: int) -> None:
    shape, summed, order = case
    check_vjp(
        OPS["Summation"].forward, OPS["Summation"].rule, shape, params={"axes": summed}, trials=1, seed=seed
    )
    check_vjp(
        OPS["Transpose"].forward, OPS["Transpose"].rule, shape, params={"axes": order}, trials=1, seed=seed
    )
    axis = summed if isinstance(summed, int) else -1
    check_vjp(
        OPS["LogSoftmax"].forward, OPS["LogSoftmax"].rule, shape, params={"axis": axis}, trials=1, seed=seed
    )


def test_check_vjp_is_exported() -> None:
    assert scalargrad.check_vjp is check_vjp and scalargrad.array is array
