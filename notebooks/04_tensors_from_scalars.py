# %% [markdown]
# # Tensors from scalars: the notes' $\bar X = \bar Z W^\top$
#
# The notes extend reverse mode to tensors: with $Z = XW$ and $v = f(Z)$, the forward trace in
# scalar form is $Z_{ij} = \sum_k X_{ik}W_{kj}$, and reverse evaluation in scalar form gives
#
# $$\bar X_{ik} = \sum_j W_{kj}\, \bar Z_{ij}, \qquad \text{i.e. in matrix form} \qquad
# \bar X = \bar Z W^\top, \qquad \bar W = X^\top \bar Z.$$
#
# scalargrad only knows scalars, but `scalargrad.array` makes a NumPy object array of `Value`s
# named as the notes name entries ($X_{11} \dots X_{22}$), and NumPy's `@` then builds
# $Z_{ij}$ out of scalar `*` and `+` nodes. Reverse mode over that scalar graph must reproduce
# the matrix formulas — and it checks the homework's matrix rules entry by entry.

# %%
import numpy as np

from scalargrad import array, check_vjp, grad, matmul, trace
from scalargrad.arrays import VJPMismatch, data, structure_trace, tensor_trace
from scalargrad.graph import count_ops

X = array([[1, 2], [3, 4]], name="X")
W = array([[1, 0, -1], [0.5, 1, 2]], name="W")
Z = X @ W                       # a 2×3 object array of Values
print(Z.shape, "Z₁₁ =", Z[0, 0], "  ops in Z:", count_ops(list(Z.flat)))

# %% [markdown]
# ## Scalar form
#
# Take $v = f(Z) = \tfrac12 \sum_{ij} Z_{ij}^2$ (so $\bar Z = Z$). The forward evaluation
# trace is the notes' scalar form, one node per product and sum; `grad(v, X)` is a float
# array shaped like $X$.

# %%
v = (Z * Z).sum() / 2
t = trace(v)
print("\n".join(t.lines(t.forward)))
print("grad(v, X) =\n", grad(v, X))

# %% [markdown]
# `tensor_trace` writes out the reverse evaluation in scalar form, one line
# $\bar X_{ik} = \sum_j W_{kj} \bar Z_{ij}$ per entry with its numbers, and the matrix form
# computed by NumPy next to it.

# %%
tt = tensor_trace([[1, 2], [3, 4]], [[1, 0, -1], [0.5, 1, 2]])
print("\n".join(tt.X_lines + tt.W_lines + tt.matrix_lines))

# %% [markdown]
# `matmul(X, W)` makes each entry one node, $Z_{ij} = \sum_k X_{ik}W_{kj}$ with $2n$ parents
# (the op `dot`), whose local derivatives are the other factors: $\partial Z_{ij}/\partial
# X_{ik} = W_{kj}$. The adjoint trace then has one partial adjoint $\bar Z_{ij} W_{kj}$ per
# term, and each $\bar X_{ik}$ line is the notes' sum. It is also the fast way to multiply
# arrays of Values: one node per entry instead of $2n - 1$.

# %%
Z = matmul(X, W)
v = (Z * Z).sum() / 2
t = trace(v)
print("Z₁₁ =", Z[0, 0], "  ops in Z:", count_ops(list(Z.flat)))
print("\n".join(t.lines(t.adjoint)[-12:-8]))  # v̄₂ and v̄₁: X₁₂ and X₁₁
assert np.array_equal(grad(v, X), grad(((X @ W) * (X @ W)).sum() / 2, X))

# %% [markdown]
# ## Matrix form
#
# The same at random values, with $v = \sum_{ij} \tanh(Z_{ij})$: scalar reverse mode gives
# $\bar Z$, $\bar X$ and $\bar W$, and NumPy's $\bar Z W^\top$ and $X^\top \bar Z$ agree.

# %%
rng = np.random.default_rng(0)
X = array(rng.normal(size=(2, 3)), name="X")
W = array(rng.normal(size=(3, 4)), name="W")
Z = X @ W
v = np.tanh(Z).sum()
Z_bar, X_bar, W_bar = grad(v, [Z, X, W])
Xd, Wd = data(X), data(W)
print("Z̄ matches 1 − tanh(Z)²:", np.allclose(Z_bar, 1 - np.tanh(data(Z)) ** 2))
print("X̄ = Z̄ Wᵀ:", np.allclose(X_bar, Z_bar @ Wd.T), "   W̄ = Xᵀ Z̄:", np.allclose(W_bar, Xd.T @ Z_bar))
assert np.allclose(X_bar, Z_bar @ Wd.T) and np.allclose(W_bar, Xd.T @ Z_bar)

# %% [markdown]
# ## Adjoints keep the data type
#
# The notes: *define the adjoint in the same data type as the forward value*. For a dict
# $d = \{\text{cat}: a_0, \text{dog}: a_1\}$, $b = d[\text{cat}]$ and $v = f(b)$, the adjoint
# is $\bar d = \{\text{cat}: \bar b, \text{dog}: 0\}$ — and `grad` returns exactly that.

# %%
print(structure_trace())

# %% [markdown]
# ## The homework's rules, each checked
#
# `check_vjp(forward, rule, *shapes)` builds `forward` on arrays of Values at random points,
# seeds scalar reverse mode with a random $\bar Z$ and compares the rule
# `rule(out_grad, *inputs)` with it entry by entry. MatMul's rule from the notes passes:

# %%
matmul = lambda x, w: x @ w
check_vjp(matmul, lambda g, x, w: (g @ w.T, x.T @ g), (2, 3), (3, 4), op="MatMul")
print("MatMul: X̄ = Z̄Wᵀ, W̄ = XᵀZ̄ agree with scalar reverse mode")

# %% [markdown]
# A wrong rule is caught, with the entry, both numbers, and the partial adjoints the entry
# should sum, read off the scalar graph:

# %%
try:
    check_vjp(matmul, lambda g, x, w: (w.T @ g, x.T @ g), (2, 2), (2, 2), op="MatMul")
except VJPMismatch as e:
    print(e)

# %% [markdown]
# `examples/tensor_rules.py` writes every op of the homework (EWiseMul, PowerScalar with
# $\partial a^s/\partial s = a^s \ln a$, EWiseDiv, DivScalar, Transpose, Reshape, BroadcastTo,
# Summation, MatMul, Negate, Log, Exp, ReLU, LogSoftmax with $\partial s_1/\partial x_1 = s_1 - s_1^2$)
# with its matrix rule and checks it at several shapes, broadcasting and `axes=` included; and
# deliberately wrong variants, each caught.

# %%
import sys

sys.path.insert(0, "../examples")
import tensor_rules

for op in tensor_rules.OPS:
    tensor_rules.check(op)
    print(f"{op.name:<12} ok   {op.note}")
for op in tensor_rules.OPS:
    for wrong in op.wrong:
        found = tensor_rules.first_mismatch(op, wrong)
        assert found is not None
        print(f"\n{op.name}, {wrong}:\n{found}")
