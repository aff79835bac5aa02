# %% [markdown]
# # The gradient as code
#
# The notes compute a gradient by writing two traces: the forward evaluation trace
# $v_1 \dots v_n$, then the reverse adjoint trace $\bar v_n = 1, \dots, \bar v_1$. Written as
# Python statements, those traces *are* a program: straight-line float code, with no graph,
# no tape, no dictionary of adjoints. `scalargrad.compile` writes that program from a
# graph (or from a function traced once, as `jax.jit` traces) and runs it.
#
# Each line comes from the op's single definition in `scalargrad/ops.py`: the forward line is
# the op's value template (`log` is `math.log` raising an error that names the op),
# each partial adjoint $\bar v_i \,\partial v_i/\partial v_k$ uses the op's derivative template.

# %%
import math
import time

import numpy as np

from scalargrad import Value, grad, hessian, log, relu, sigmoid, sin, trace
from scalargrad.codegen import CompileCheckError, compile
from scalargrad.plot import plot

x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = log(x1) + x1 * x2 - sin(x2)
g = compile(y, [x1, x2])
print(g.source)
assert "    v2_bar = v5_bar * cos(v2) + v4_bar * v1" in g.source.splitlines()
assert "    v1_bar = v4_bar * v2 + v3_bar * (1.0 / v1)" in g.source.splitlines()

# %% [markdown]
# ## The source beside the trace tables
#
# Line for line, the code is the notes' tables: the same numbering $v_1 \dots v_7$, the same
# partial adjoints in the same order (the order in which the engine's reverse walk sums them,
# so the compiled gradient equals `grad`'s bit for bit).

# %%
t = trace(y)
code_lines = [line.strip() for line in g.source.splitlines() if line.startswith("    v")]
forward_code = [line for line in code_lines if "_bar" not in line]
reverse_code = [line for line in code_lines if "_bar" in line]
forward_rows = t.lines(t.forward)[2:7]           # v3 ... v7: the inputs v1, v2 are the arguments
reverse_rows = t.lines(t.adjoint)[:7]
width = max(map(len, code_lines))
for code_line, row in [*zip(forward_code, forward_rows), ("", ""), *zip(reverse_code, reverse_rows)]:
    print(f"{code_line:<{width}}   │  {row}")
assert len(forward_code) == 5 and len(reverse_code) == 7
subscripts = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
for code_line, row in zip(reverse_code, reverse_rows):
    assert code_line.split("_bar")[0] == row.split(" = ")[0].replace("v̄", "v").translate(subscripts)

# %% [markdown]
# ## Run it anywhere
#
# `g(x1, x2)` returns the value and the gradient at new inputs, with plain floats. At every
# point it equals the engine's `grad` on a graph built there.

# %%
value, gradient = g(2.0, 5.0)
print(f"y = {value:.3f}, dy/dx1 = {gradient[0]}, dy/dx2 = {gradient[1]:.3f}")
assert round(value, 3) == 11.652 and gradient[0] == 5.5 and round(gradient[1], 3) == 1.716
for a, b in [(1.0, 1.0), (0.5, -3.0), (7.0, 0.25)]:
    u, v = Value(a), Value(b)
    ref = log(u) + u * v - sin(v)
    assert g(a, b) == (ref.data, grad(ref, [u, v]))
print("equal to grad, bit for bit, at", [(1.0, 1.0), (0.5, -3.0), (7.0, 0.25)])

n = 20_000
start = time.perf_counter()
for _ in range(n):
    g(2.0, 5.0)
compiled_time = (time.perf_counter() - start) / n
start = time.perf_counter()
for _ in range(n // 10):
    a, b = Value(2.0), Value(5.0)
    grad(log(a) + a * b - sin(b), [a, b])
graph_time = (time.perf_counter() - start) / (n // 10)
print(f"per gradient: compiled {compiled_time * 1e6:.2f} µs, building the graph and walking it "
      f"{graph_time * 1e6:.2f} µs")
assert compiled_time < graph_time

# %% [markdown]
# ## Branches: piecewise ops per call, Python control flow once
#
# `relu`, `abs`, `minimum` and `maximum` are conditional expressions in their templates, so
# the compiled code takes their branch at every call. A Python `if` on a Value is different:
# it runs once, while tracing, and the compiled code is the path it took — as in `jax.jit`.
# `check=True` re-runs the engine at each call and raises when the results differ.

# %%
k = compile(lambda x: relu(x) * x, (1.0,))
print(k.source)
for x in (2.0, -2.0):
    v = Value(x)
    assert k(x) == (relu(v).data * x, (grad(relu(v) * v, v),))
print("relu's branch per call:", k(2.0), k(-2.0))

def branchy(x):
    return x * x if x > 0 else -x          # Python control flow: fixed at trace time

b = compile(branchy, (1.0,), check=True)
print("b(3.0) =", b(3.0))
try:
    b(-1.0)
except CompileCheckError as e:
    print("check=True:", str(e)[:150], "...")
else:
    raise AssertionError("check=True should have caught the other branch")

# %% [markdown]
# ## Second order
#
# `order=2` compiles the graph that `grad(..., create_graph=True)` builds (reverse mode by
# extending the graph) and one more reverse trace per gradient component: value, gradient
# and Hessian, equal to `hessian`'s.

# %%
h = compile(y, [x1, x2], order=2)
value, gradient, H = h(2.0, 5.0)
print("Hessian:", H)
assert H == hessian(y, [x1, x2]) == [[-0.25, 1.0], [1.0, math.sin(5.0)]]
print("\n".join(line for line in h.source.splitlines() if "Hessian" in line or "gradient graph" in line))

# %% [markdown]
# ## The same code over NumPy arrays
#
# `g.vectorized()` writes the same program for arrays: conditional expressions become
# `where`, the checked helpers become NumPy functions (a domain error becomes nan or ±inf at
# that point). The gradient at $10^6$ points is one call.

# %%
vg = g.vectorized()
print(vg.source.split("# forward")[0] + "...")
rng = np.random.default_rng(0)
a = rng.uniform(0.5, 4.0, 1_000_000)
b = rng.uniform(-5.0, 5.0, 1_000_000)
start = time.perf_counter()
values, (ga, gb) = vg(a, b)
array_time = time.perf_counter() - start
for i in range(0, 1_000_000, 99_991):
    v, (da, db) = g(float(a[i]), float(b[i]))
    assert math.isclose(values[i], v, rel_tol=1e-13) and math.isclose(ga[i], da, rel_tol=1e-13)
    assert math.isclose(gb[i], db, rel_tol=1e-12, abs_tol=1e-12)
assert np.allclose(ga, b + 1 / a) and np.allclose(gb, a - np.cos(b))
print(f"10^6 gradients: {array_time * 1e3:.0f} ms in one array call, "
      f"{compiled_time * 1e6:.2f} s as 10^6 calls of the float code "
      f"({compiled_time * 1e6 / array_time:.0f}x)")

# %% [markdown]
# ## f, f′ and f″ in one picture
#
# `plot(f, interval)` traces `f` once, compiles it with `order=2`, runs the array form over the
# interval and draws the three curves (checking them against the engine at a few points
# first). Here the notes' second example, $\sigma(3x + 1)$.

# %%
ax = plot(lambda x: sigmoid(3 * x + 1), (-3.0, 2.0))
ax.set_title("σ(3x + 1) and its derivatives, from one compiled array call")
xs, f1 = ax.get_lines()[1].get_data()
s = 1 / (1 + np.exp(-(3 * xs + 1)))
assert np.allclose(f1, 3 * s * (1 - s))
_, f2 = ax.get_lines()[2].get_data()
assert np.allclose(f2, 9 * s * (1 - s) * (1 - 2 * s))

# %% [markdown]
# ## Training on compiled code
#
# A network of fixed structure has the same graph at every step; only the numbers change.
# `scalargrad.nn.compile_loss` compiles one example's loss and gradient (once per class) and
# every step runs that code. The training is the same; the time is not.

# %%
from scalargrad.nn import MLP, SGD, compile_loss, softmax_cross_entropy

data_rng = np.random.default_rng(1)
xs = data_rng.uniform(-1, 1, size=(64, 2)).tolist()
ys = [int(x * y > 0) for x, y in xs]

def example_loss(model, x, y):
    return softmax_cross_entropy(model(x), y)

def mean_loss(model, xs, ys):
    total = example_loss(model, xs[0], ys[0])
    for x, y in zip(xs[1:], ys[1:]):
        total = total + example_loss(model, x, y)
    return total / len(xs)

def train(compiled):
    model = MLP(2, [16, 2], activation="tanh", seed=0)
    opt = SGD(model, lr=0.3, momentum=0.9)
    loss_fn = compile_loss(model, example_loss, (xs[0], ys[0])) if compiled else None
    start = time.perf_counter()
    for _ in range(30):
        if compiled:
            value, grads = loss_fn(xs, ys)
        else:
            loss = mean_loss(model, xs, ys)
            value, grads = loss.data, grad(loss, model.parameters())
        opt.step(grads)
    return value, time.perf_counter() - start

graph_loss, graph_seconds = train(compiled=False)
compiled_loss, compiled_seconds = train(compiled=True)
print(f"30 steps: graph {graph_seconds:.2f} s, compiled {compiled_seconds:.2f} s; "
      f"final loss {graph_loss:.6f} vs {compiled_loss:.6f}")
assert math.isclose(graph_loss, compiled_loss, rel_tol=1e-9)
