"""Write the notebooks in this directory from the cell sources below (outputs empty).

Run: python notebooks/make_notebooks.py [NAME ...]   (needs nbformat; the notebook extra)
Edit the cells here, not in the .ipynb files, and re-run; tests/test_notebooks.py executes them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}


def notebook(name: str, *cells: tuple[str, str]) -> None:
    NOTEBOOKS[name] = list(cells)


def md(text: str) -> tuple[str, str]:
    return ("markdown", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip("\n"))


# --------------------------------------------------------------------------- 01
notebook(
    "01_differentiation_methods",
    md(r"""
# Differentiation methods, side by side

The notes' running example

$$y = f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2 \quad\text{at}\quad x_1 = 2,\ x_2 = 5$$

differentiated by every method of the lecture: numerical, symbolic, forward-mode and
reverse-mode automatic differentiation. In scalargrad each is a different walk over one
graph of `Value` nodes; the trace tables and diagrams below are read off that same graph.
"""),
    code(r"""
from scalargrad import Value, count_ops, draw, grad, gradcheck, jvp, log, numerical_grad, sin, trace

x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = x1.log() + x1 * x2 - x2.sin()
print(f"y = {y} = {y.data:.3f}")
"""),
    md(r"""
## The computational graph and its forward evaluation trace

Nodes are numbered $v_1 \dots v_7$ in topological order, exactly as in the notes.
"""),
    code(r"""
t = trace(y)
print("\n".join(t.lines(t.forward)))
draw(y)
"""),
    md(r"""
## Numerical differentiation

$\frac{\partial f}{\partial \theta_i} \approx \frac{f(\theta + \epsilon e_i) - f(\theta - \epsilon e_i)}{2\epsilon}$:
two evaluations of $f$ per input, with an $O(\epsilon^2)$ error plus rounding. `gradcheck`
does the notes' check $\delta^\top \nabla f \approx (f(\theta + \epsilon\delta) - f(\theta - \epsilon\delta))/2\epsilon$
for random $\delta$ on the unit ball.
"""),
    code(r"""
def f(a, b):
    return log(a) + a * b - sin(b)

central = numerical_grad(f, [2.0, 5.0])
print("central differences:", central)
print("forward differences:", numerical_grad(f, [2.0, 5.0], method="forward"))
print("gradcheck:", gradcheck(f, [2.0, 5.0]))
assert [round(d, 3) for d in central] == [5.5, 1.716]
"""),
    md(r"""
## Symbolic differentiation

`grad(..., create_graph=True)` returns the derivatives as new graphs, which print as formulas.
Done naively, symbolic differentiation repeats work: for $f(\theta) = \prod_i \theta_i$ each of
the $n$ partials $\prod_{j \ne k} \theta_j$ costs $n - 2$ multiplications, $n(n-2)$ in all;
reverse mode shares the partial products and needs $O(n)$.
"""),
    code(r"""
g1, g2 = grad(y, [x1, x2], create_graph=True)
print("dy/dx1 =", g1, "=", g1.data)
print("dy/dx2 =", g2, "=", round(g2.data, 3))

n = 8
theta = [Value(1.0 + i / 10, label=f"t{i}") for i in range(n)]
prod = theta[0]
for t_i in theta[1:]:
    prod = prod * t_i
partials = grad(prod, theta, create_graph=True)
forward_ops = sum(count_ops(prod).values())
with_gradient = sum(count_ops([prod, *partials]).values())
print(f"n = {n}: naive symbolic {n * (n - 2)} multiplications; "
      f"reverse mode adds {with_gradient - forward_ops} ops to the {forward_ops} of the forward pass")
"""),
    md(r"""
## Forward mode: tangents

$\dot v_i = \partial v_i / \partial x_1$, computed in topological order: one pass per input.
"""),
    code(r"""
print("jvp(y, {x1: 1}) =", jvp(y, {x1: 1.0}))
print("\n".join(t.lines(t.tangents[0])))
draw(y, kind="tangent", wrt=x1)
"""),
    md(r"""
## Reverse mode: adjoints

$\bar v_i = \partial y / \partial v_i$, in reverse topological order, summing the partial
adjoints $\bar v_{k \to i} = \bar v_i\, \partial v_i / \partial v_k$: one pass for all inputs.
"""),
    code(r"""
y.backward()
print(f"x1.grad = {x1.grad}, x2.grad = {x2.grad:.3f}")
print("\n".join(t.lines(t.adjoint)))
draw(y, kind="adjoint")
"""),
    md(r"""
## The sigmoid example

$y = \sigma(ax + b)$ at $x = 2, a = 3, b = 1$: the notes' symbolic formulas, central
differences with $\epsilon = 10^{-5}$ and autodiff agree on $0.00273, 0.00182, 0.00091$.
"""),
    code(r"""
import math

x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
s = (a * x + b).sigmoid()
e = math.exp(-(3.0 * 2.0 + 1.0))
symbolic = [3.0 * e / (1 + e) ** 2, 2.0 * e / (1 + e) ** 2, e / (1 + e) ** 2]
numeric = numerical_grad(lambda x_, a_, b_: 1 / (1 + math.exp(-(a_ * x_ + b_))), [2.0, 3.0, 1.0], eps=1e-5)
auto = grad(s, [x, a, b])
print(f"y = {s.data:.5f}")
for name, row in [("symbolic", symbolic), ("central differences", numeric), ("autodiff", auto)]:
    print(f"{name:>20}: " + "  ".join(f"{v:.5f}" for v in row))
    assert [round(v, 5) for v in row] == [0.00273, 0.00182, 0.00091], (name, row)
assert all(math.isclose(u, v, rel_tol=1e-12) for u, v in zip(auto, symbolic))
"""),
    md(r"""
## Interactive: move the inputs, watch the adjoints

Drag the sliders to redraw the adjoint diagram. The update function is also called once
directly, so the cell runs (and draws) when the notebook is executed headless.
"""),
    code(r"""
import ipywidgets as widgets
from IPython.display import display

out = widgets.Output()
slider1 = widgets.FloatSlider(value=2.0, min=0.1, max=5.0, step=0.1, description="x1")
slider2 = widgets.FloatSlider(value=5.0, min=-5.0, max=5.0, step=0.1, description="x2")

def update(change=None):
    a, b = Value(slider1.value, label="x1"), Value(slider2.value, label="x2")
    y_ = a.log() + a * b - b.sin()
    diagram = draw(y_, kind="adjoint")
    with out:
        out.clear_output(wait=True)
        print(f"y = {y_.data:.3f}   dy/dx1 = {grad(y_, a):.3f}   dy/dx2 = {grad(y_, b):.3f}")
        display(diagram)
    return diagram

slider1.observe(update, names="value")
slider2.observe(update, names="value")
display(widgets.VBox([widgets.HBox([slider1, slider2]), out]))
diagram = update()      # headless: draw once without touching a slider
assert "svg" in diagram.pipe("svg").decode()[:400].lower()
"""),
)

# --------------------------------------------------------------------------- 02
notebook(
    "02_reverse_mode_by_graph_extension",
    md(r"""
# Reverse mode by extending the computational graph

Backprop runs the backward operations on the forward graph and produces numbers. Modern
frameworks instead *extend the graph*: each adjoint becomes a new node, so the gradient is
itself a graph — it can be printed, drawn, optimised and differentiated again.

The notes' example: $y = (e^{v_1} + 1)\,e^{v_1}$ with $v_2 = \exp v_1$, $v_3 = v_2 + 1$,
$v_4 = v_3 v_2$. Walking in reverse: $\bar v_4 = 1$, $\bar v_3 = \bar v_4 v_2$,
$\bar v_2 = \bar v_3 + \bar v_4 v_3$ (two paths), $\bar v_1 = \bar v_2 v_2$.
"""),
    code(r"""
import math

from scalargrad import Value, draw, formula, grad, gradgradcheck, hessian, jvp, log, sin, topological_order

v1 = Value(1.0, label="v1")
v2 = v1.exp()
v3 = v2 + 1
v4 = v3 * v2
dv1 = grad(v4, v1, create_graph=True)
print(f"{dv1.label} = {formula(dv1, {v2: 'v2', v3: 'v3'})} = {dv1}")
print(f"value {dv1.data:.6f}, closed form 2e^2 + e = {2 * math.e ** 2 + math.e:.6f}")
assert math.isclose(dv1.data, 2 * math.e ** 2 + math.e, rel_tol=1e-12)
"""),
    md(r"""
The extended graph: the forward nodes and, in their own cluster, the adjoint nodes that
`create_graph=True` built. They reuse $v_2$ and $v_3$ from the forward pass.
"""),
    code(r"""
draw(v4, kind="extended")
"""),
    md(r"""
## Gradient of the gradient

The adjoint graph is an ordinary graph, so reverse mode runs on it again:
$\frac{d^2 y}{dv_1^2} = 4e^{2v_1} + e^{v_1}$.
"""),
    code(r"""
d2 = grad(dv1, v1)
print(f"second derivative {d2:.6f}, closed form 4e^2 + e = {4 * math.e ** 2 + math.e:.6f}")
assert math.isclose(d2, 4 * math.e ** 2 + math.e, rel_tol=1e-12)
d2_graph = grad(dv1, v1, create_graph=True)
print("as a formula:", d2_graph)
print("nodes: y", len(topological_order(v4)), "| y'", len(topological_order(dv1)),
      "| y''", len(topological_order(d2_graph)))
draw(dv1)
"""),
    md(r"""
## A Hessian

For the notes' $y = \ln x_1 + x_1 x_2 - \sin x_2$, the gradient graph gives
$\nabla y = (x_2 + 1/x_1,\ x_1 - \cos x_2)$, and differentiating each component again gives
the Hessian $\begin{pmatrix} -1/x_1^2 & 1 \\ 1 & \sin x_2 \end{pmatrix}$. Forward mode over the
gradient graph gives Hessian-vector products in one pass.
"""),
    code(r"""
x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = x1.log() + x1 * x2 - x2.sin()
g = grad(y, [x1, x2], create_graph=True)
print("gradient graph:", [str(gi) for gi in g])
H = hessian(y, [x1, x2])
print("Hessian:", H)
closed = [[-1 / 4, 1.0], [1.0, math.sin(5.0)]]
print("closed form:", closed)
assert all(math.isclose(h, c, rel_tol=1e-12) for h_row, c_row in zip(H, closed) for h, c in zip(h_row, c_row))
hv = jvp(g, {x1: 1.0})
print("H·(1, 0) by forward mode over the gradient graph:", hv)
assert all(math.isclose(u, c, rel_tol=1e-12) for u, c in zip(hv, [closed[0][0], closed[1][0]]))
print("gradgradcheck:", gradgradcheck(lambda a, b: log(a) + a * b - sin(b), [2.0, 5.0]))
draw(y, kind="extended")
"""),
)

# --------------------------------------------------------------------------- 03
notebook(
    "03_training_an_mlp",
    md(r"""
# Training an MLP with scalargrad

A classifier for the Iris flowers (150 samples, 4 features, 3 species, shipped with
scikit-learn), built from `scalargrad.nn`: every prediction is a graph of scalar `Value`s,
the loss is the notes' softmax cross-entropy

$$\ell(h, y) = -h_y + \log \sum_j \exp h_j,$$

computed with the max trick, and one `backward()` per mini-batch gives every weight's
gradient, which `SGD` uses to update the weights; without momentum that is
$\theta := \theta - \frac{\alpha}{B}\sum_{i=1}^{B} \nabla_\theta \ell(h_\theta(x^{(i)}), y^{(i)})$,
and with momentum $\mu$ (0.9 below) the step is a running sum of those gradients,
$v := \mu v + g$, $\theta := \theta - \alpha v$.
"""),
    code(r"""
import random

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from scalargrad import grad, topological_order
from scalargrad.nn import MLP, SGD, softmax, softmax_cross_entropy

iris = load_iris()
x_train, x_test, y_train, y_test = train_test_split(
    iris.data, iris.target, test_size=0.25, stratify=iris.target, random_state=0)
mean, std = x_train.mean(axis=0), x_train.std(axis=0)
x_train, x_test = ((x_train - mean) / std).tolist(), ((x_test - mean) / std).tolist()
y_train, y_test = y_train.tolist(), y_test.tolist()
len(x_train), len(x_test), [str(name) for name in iris.target_names]
"""),
    md(r"""
## The model and one loss

`MLP(4, [8, 3])`: 4 inputs, 8 tanh hidden units, 3 linear outputs (the logits $h$). Its
parameters are plain `Value`s in a list, so `grad(loss, model.parameters())` works as well as
`loss.backward()`.
"""),
    code(r"""
model = MLP(4, [8, 3], activation="tanh", seed=0)
logits = model(x_train[0])
loss = softmax_cross_entropy(logits, y_train[0])
print(model, "with", len(model.parameters()), "parameters")
print("logits:", [round(h.data, 3) for h in logits], " softmax:", [round(p.data, 3) for p in softmax(logits)])
print("loss:", round(loss.data, 4), "  nodes in its graph:", len(topological_order(loss)))
g = grad(loss, logits)
print("dloss/dlogits = softmax - onehot:", [round(v, 3) for v in g])
"""),
    md("## Training with mini-batch SGD"),
    code(r"""
def mean_loss(model, xs, ys):
    total = softmax_cross_entropy(model(xs[0]), ys[0])
    for x, y in zip(xs[1:], ys[1:]):
        total = total + softmax_cross_entropy(model(x), y)
    return total / len(xs)

def predict(model, x):
    logits = model(x)
    return max(range(len(logits)), key=lambda k: logits[k].data)

def accuracy(model, xs, ys):
    return sum(predict(model, x) == y for x, y in zip(xs, ys)) / len(xs)

opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
rng, order, history = random.Random(0), list(range(len(x_train))), {"train": [], "test": []}
for epoch in range(30):
    rng.shuffle(order)
    for s in range(0, len(order), 16):
        batch = order[s:s + 16]
        loss = mean_loss(model, [x_train[i] for i in batch], [y_train[i] for i in batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    history["train"].append(mean_loss(model, x_train, y_train).data)
    history["test"].append(mean_loss(model, x_test, y_test).data)
train_acc, test_acc = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
print(f"train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f}")
assert test_acc >= 0.9
"""),
    code(r"""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.plot(history["train"], label="train")
ax1.plot(history["test"], label="test")
ax1.set(xlabel="epoch", ylabel="softmax cross-entropy", yscale="log", title="loss")
ax1.legend()

n = len(iris.target_names)
cm = np.zeros((n, n), dtype=int)
for x, y in zip(x_test, y_test):
    cm[y, predict(model, x)] += 1
ax2.imshow(cm, cmap="Blues")
for i in range(n):
    for j in range(n):
        ax2.text(j, i, cm[i, j], ha="center", va="center", color="white" if cm[i, j] > cm.max() / 2 else "black")
ax2.set(xticks=range(n), yticks=range(n), xticklabels=iris.target_names, yticklabels=iris.target_names,
        xlabel="predicted", ylabel="true", title="test confusion matrix")
fig.tight_layout()
"""),
    md(r"""
## Check the gradients

The whole network is differentiated by the same reverse walk as the notes' small examples;
a finite-difference check on a few weights confirms it.
"""),
    code(r"""
params = model.parameters()
batch_x, batch_y = x_train[:8], y_train[:8]
analytic = grad(mean_loss(model, batch_x, batch_y), params)
eps = 1e-6
for k in (0, 17, 40, 66):
    p = params[k]
    p.data += eps
    up = mean_loss(model, batch_x, batch_y).data
    p.data -= 2 * eps
    down = mean_loss(model, batch_x, batch_y).data
    p.data += eps
    numeric = (up - down) / (2 * eps)
    print(f"{p.label:>10}: autodiff {analytic[k]:+.8f}   central difference {numeric:+.8f}")
    assert abs(analytic[k] - numeric) <= 1e-7 + 1e-5 * abs(numeric), (p.label, analytic[k], numeric)
"""),
)

# --------------------------------------------------------------------------- 04
notebook(
    "04_tensors_from_scalars",
    md(r"""
# Tensors from scalars: the notes' $\bar X = \bar Z W^\top$

The notes extend reverse mode to tensors: with $Z = XW$ and $v = f(Z)$, the forward trace in
scalar form is $Z_{ij} = \sum_k X_{ik}W_{kj}$, and reverse evaluation in scalar form gives

$$\bar X_{ik} = \sum_j W_{kj}\, \bar Z_{ij}, \qquad \text{i.e. in matrix form} \qquad
\bar X = \bar Z W^\top, \qquad \bar W = X^\top \bar Z.$$

scalargrad only knows scalars, but `scalargrad.array` makes a NumPy object array of `Value`s
named as the notes name entries ($X_{11} \dots X_{22}$), and NumPy's `@` then builds
$Z_{ij}$ out of scalar `*` and `+` nodes. Reverse mode over that scalar graph must reproduce
the matrix formulas — and it checks the homework's matrix rules entry by entry.
"""),
    code(r"""
import numpy as np

from scalargrad import array, check_vjp, count_ops, grad, trace
from scalargrad.arrays import VJPMismatch, data, structure_trace, tensor_trace

X = array([[1, 2], [3, 4]], name="X")
W = array([[1, 0, -1], [0.5, 1, 2]], name="W")
Z = X @ W                       # a 2×3 object array of Values
print(Z.shape, "Z₁₁ =", Z[0, 0], "  ops in Z:", count_ops(list(Z.flat)))
"""),
    md(r"""
## Scalar form

Take $v = f(Z) = \tfrac12 \sum_{ij} Z_{ij}^2$ (so $\bar Z = Z$). The forward evaluation
trace is the notes' scalar form, one node per product and sum; `grad(v, X)` is a float
array shaped like $X$.
"""),
    code(r"""
v = (Z * Z).sum() / 2
t = trace(v)
print("\n".join(t.lines(t.forward)))
print("grad(v, X) =\n", grad(v, X))
"""),
    md(r"""
`tensor_trace` writes out the reverse evaluation in scalar form, one line
$\bar X_{ik} = \sum_j W_{kj} \bar Z_{ij}$ per entry with its numbers, and the matrix form
computed by NumPy next to it.
"""),
    code(r"""
tt = tensor_trace([[1, 2], [3, 4]], [[1, 0, -1], [0.5, 1, 2]])
print("\n".join(tt.X_lines + tt.W_lines + tt.matrix_lines))
"""),
    md(r"""
## Matrix form

The same at random values, with $v = \sum_{ij} \tanh(Z_{ij})$: scalar reverse mode gives
$\bar Z$, $\bar X$ and $\bar W$, and NumPy's $\bar Z W^\top$ and $X^\top \bar Z$ agree.
"""),
    code(r"""
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
"""),
    md(r"""
## Adjoints keep the data type

The notes: *define the adjoint in the same data type as the forward value*. For a dict
$d = \{\text{cat}: a_0, \text{dog}: a_1\}$, $b = d[\text{cat}]$ and $v = f(b)$, the adjoint
is $\bar d = \{\text{cat}: \bar b, \text{dog}: 0\}$ — and `grad` returns exactly that.
"""),
    code(r"""
print(structure_trace())
"""),
    md(r"""
## The homework's rules, each checked

`check_vjp(forward, rule, *shapes)` builds `forward` on arrays of Values at random points,
seeds scalar reverse mode with a random $\bar Z$ and compares the rule
`rule(out_grad, *inputs)` with it entry by entry. MatMul's rule from the notes passes:
"""),
    code(r"""
matmul = lambda x, w: x @ w
check_vjp(matmul, lambda g, x, w: (g @ w.T, x.T @ g), (2, 3), (3, 4), op="MatMul")
print("MatMul: X̄ = Z̄Wᵀ, W̄ = XᵀZ̄ agree with scalar reverse mode")
"""),
    md(r"""
A wrong rule is caught, with the entry, both numbers, and the partial adjoints the entry
should sum, read off the scalar graph:
"""),
    code(r"""
try:
    check_vjp(matmul, lambda g, x, w: (w.T @ g, x.T @ g), (2, 2), (2, 2), op="MatMul")
except VJPMismatch as e:
    print(e)
"""),
    md(r"""
`examples/tensor_rules.py` writes every op of the homework (EWiseMul, PowerScalar with
$\partial a^s/\partial s = a^s \ln a$, EWiseDiv, DivScalar, Transpose, Reshape, BroadcastTo,
Summation, MatMul, Negate, Log, Exp, ReLU, LogSoftmax with $\partial s_1/\partial x_1 = s_1 - s_1^2$)
with its matrix rule and checks it at several shapes, broadcasting and `axes=` included; and
deliberately wrong variants, each caught.
"""),
    code(r"""
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
"""),
)

# --------------------------------------------------------------------------- 05
notebook(
    "05_property_based_testing",
    md(r"""
# Property-based testing of derivatives

The notes: numerical differentiation is too inaccurate and slow to train with, but it is
*the* tool for testing an implementation of automatic differentiation:

$$\delta^\top \nabla_\theta f(\theta) = \frac{f(\theta + \epsilon\delta) - f(\theta - \epsilon\delta)}{2\epsilon} + O(\epsilon^2).$$

`scalargrad.testing` turns that into property-based tests with
[hypothesis](https://hypothesis.readthedocs.io): instead of checking one hand-picked point,
state a property ("the gradient matches central differences") and let hypothesis search
for inputs — and random functions — that break it, then shrink them to a minimal example.
"""),
    code(r"""
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from scalargrad import Value, exp, grad, log, sin, sqrt
from scalargrad.numeric import GradcheckError, gradcheck
from scalargrad.testing import (
    assert_gradients_close,
    assert_hessian_close,
    expressions,
    expressions_and_points,
    points,
)

FAST = settings(max_examples=30, deadline=None, database=None)
"""),
    md(r"""
## Check your own function

Write the function with operators and scalargrad's functions (`exp`, `log`, `sin`, ...), so the
same code runs on floats (for finite differences) and on `Value`s (for autodiff).
"""),
    code(r"""
def my_loss(x, y):
    return log(1 + exp(x - y)) + sqrt(1 + x * x * y * y) * sin(y)

print(assert_gradients_close(my_loss, [0.5, -1.0]))   # returns the analytic gradient
print(gradcheck(my_loss, [0.5, -1.0]))                 # random unit-ball directions, as in the notes
"""),
    md("Now as a property over the whole square $[-2, 2]^2$, first and second derivatives:"),
    code(r"""
checked = []

@FAST
@given(points(2, bound=2.0))
def test_my_loss(point):
    assert_gradients_close(my_loss, point)
    assert_hessian_close(my_loss, point)
    checked.append(point)

test_my_loss()
print(f"first and second derivatives agree with central differences at {len(checked)} points")
"""),
    md(r"""
## What a failure looks like

`math.sin` turns a `Value` into a float, so the graph loses the path through `x`: the
analytic ∂f/∂x is 0, and the check names input 0 as the mismatch.
"""),
    code(r"""
def leaky(x, y):
    return math.sin(x) * y

try:
    assert_gradients_close(leaky, [0.3, 1.0])
    raise RuntimeError("the lost path was not caught")
except GradcheckError as err:
    print(err)
    assert err.index == 0
"""),
    md(r"""
If f loses its graph entirely and returns a plain float for `Value` inputs, every analytic
derivative is 0; the checks (first *and* second order) fail and end with a hint.
"""),
    code(r"""
try:
    assert_hessian_close(lambda x: math.sin(x), [0.3])
    raise RuntimeError("the lost graph was not caught")
except GradcheckError as err:
    print(err)
    assert "hint:" in str(err)
"""),
    md(r"""
A hand-derived derivative checked against autodiff: $\frac{d}{dx}\,x\sin x$ is *not*
$\sin x + \cos x$. Hypothesis finds a counterexample and shrinks it to the simplest one.
"""),
    code(r"""
def hand_derivative(x):
    return math.sin(x) + math.cos(x)          # wrong: should be sin(x) + x*cos(x)

@FAST
@given(st.floats(-3, 3))
def test_hand_derivative(x):
    v = Value(x)
    auto = grad(v * v.sin(), v)
    assert math.isclose(auto, hand_derivative(x), rel_tol=1e-9, abs_tol=1e-12), (x, auto, hand_derivative(x))

try:
    test_hand_derivative()
    raise RuntimeError("the bug was not found")
except AssertionError as err:
    print("hypothesis found (x, autodiff, hand) =", err)
"""),
    md(r"""
## Random functions

`expressions(n)` draws random expression graphs over `n` inputs from every smooth op, with
the domains guarded (`log(1 + a*a)`, `exp(tanh(a))`, ...) so each is defined everywhere. They
are the engine's own tests: every op, every shape of sharing, checked against finite differences.
"""),
    code(r"""
samples = []

@settings(max_examples=6, deadline=None, database=None)
@given(expressions(2, max_depth=3))
def collect(f):
    samples.append(f)

collect()
for f in samples:
    print(f"{str(f):60}  f(0.5, -1) = {f(0.5, -1.0):+.4f}")
"""),
    code(r"""
count = 0

@FAST
@given(expressions_and_points(1, 3))
def test_random_functions(case):
    global count
    f, point = case
    assert_gradients_close(f, point)
    count += 1

test_random_functions()
print(f"{count} random functions: reverse-mode gradients match central differences")
"""),
)


# --------------------------------------------------------------------------- 06
notebook(
    "06_the_gradient_as_code",
    md(r"""
# The gradient as code

The notes compute a gradient by writing two traces: the forward evaluation trace
$v_1 \dots v_n$, then the reverse adjoint trace $\bar v_n = 1, \dots, \bar v_1$. Written as
Python statements, those traces *are* a program: straight-line float code, with no graph,
no tape, no dictionary of adjoints. `scalargrad.compile.compile` writes that program from a
graph (or from a function traced once, as `jax.jit` traces) and runs it.

Each line comes from the op's single definition in `scalargrad/ops.py`: the forward line is
the op's value template (`log` is `math.log` raising an error that names the op),
each partial adjoint $\bar v_i \,\partial v_i/\partial v_k$ uses the op's derivative template.
"""),
    code(r"""
import math
import time

import numpy as np

from scalargrad import Value, grad, hessian, log, relu, sigmoid, sin, trace
from scalargrad.compile import CompileCheckError, compile, plot

x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = log(x1) + x1 * x2 - sin(x2)
g = compile(y, [x1, x2])
print(g.source)
assert "    v2_bar = v5_bar * cos(v2) + v4_bar * v1" in g.source.splitlines()
assert "    v1_bar = v4_bar * v2 + v3_bar * (1.0 / v1)" in g.source.splitlines()
"""),
    md(r"""
## The source beside the trace tables

Line for line, the code is the notes' tables: the same numbering $v_1 \dots v_7$, the same
partial adjoints in the same order (the order in which the engine's reverse walk sums them,
so the compiled gradient equals `grad`'s bit for bit).
"""),
    code(r"""
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
"""),
    md(r"""
## Run it anywhere

`g(x1, x2)` returns the value and the gradient at new inputs, with plain floats. At every
point it equals the engine's `grad` on a graph built there.
"""),
    code(r"""
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
"""),
    md(r"""
## Branches: piecewise ops per call, Python control flow once

`relu`, `abs`, `minimum` and `maximum` are conditional expressions in their templates, so
the compiled code takes their branch at every call. A Python `if` on a Value is different:
it runs once, while tracing, and the compiled code is the path it took — as in `jax.jit`.
`check=True` re-runs the engine at each call and raises when the results differ.
"""),
    code(r"""
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
"""),
    md(r"""
## Second order

`order=2` compiles the graph that `grad(..., create_graph=True)` builds (reverse mode by
extending the graph) and one more reverse trace per gradient component: value, gradient
and Hessian, equal to `hessian`'s.
"""),
    code(r"""
h = compile(y, [x1, x2], order=2)
value, gradient, H = h(2.0, 5.0)
print("Hessian:", H)
assert H == hessian(y, [x1, x2]) == [[-0.25, 1.0], [1.0, math.sin(5.0)]]
print("\n".join(line for line in h.source.splitlines() if "Hessian" in line or "gradient graph" in line))
"""),
    md(r"""
## The same code over NumPy arrays

`g.vectorized()` writes the same program for arrays: conditional expressions become
`where`, the checked helpers become NumPy functions (a domain error becomes nan or ±inf at
that point). The gradient at $10^6$ points is one call.
"""),
    code(r"""
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
      f"{compiled_time * 1e6:.2f} s as 10^6 calls of the float code ({compiled_time * 1e6 / array_time:.0f}x)")
"""),
    md(r"""
## f, f′ and f″ in one picture

`plot(f, interval)` traces `f` once, compiles it with `order=2`, runs the array form over the
interval and draws the three curves (checking them against the engine at a few points
first). Here the notes' second example, $\sigma(3x + 1)$.
"""),
    code(r"""
ax = plot(lambda x: sigmoid(3 * x + 1), (-3.0, 2.0))
ax.set_title("σ(3x + 1) and its derivatives, from one compiled array call")
xs, f1 = ax.get_lines()[1].get_data()
s = 1 / (1 + np.exp(-(3 * xs + 1)))
assert np.allclose(f1, 3 * s * (1 - s))
_, f2 = ax.get_lines()[2].get_data()
assert np.allclose(f2, 9 * s * (1 - s) * (1 - 2 * s))
"""),
    md(r"""
## Training on compiled code

A network of fixed structure has the same graph at every step; only the numbers change.
`scalargrad.nn.compile_loss` compiles one example's loss and gradient (once per class) and
every step runs that code. The training is the same; the time is not.
"""),
    code(r"""
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
"""),
)


# --------------------------------------------------------------------------- 07
notebook(
    "07_watch_reverse_mode",
    md(r"""
# Watch reverse mode

The notes' reverse-mode algorithm keeps `node_to_grad`, a list of *partial adjoints* per node.
It visits the nodes in reverse topological order; at each node it sums the node's list into
its adjoint $\bar v_i$ and appends a partial adjoint $\bar v_{k \to i} = \bar v_i \,
\partial v_i / \partial v_k$ to the list of each input $v_k$. `steps` records that, one step per
node, and `StepThrough` lets you watch it: play/pause, previous/next and a slider, the step's
diagram beside its trace-table row and the whole `node_to_grad` state, for all four
algorithms (forward evaluation, forward mode, reverse mode, reverse mode by extending the graph).

The notes' example: $y = \ln x_1 + x_1 x_2 - \sin x_2$ at $x_1 = 2,\ x_2 = 5$.
"""),
    code(r"""
from scalargrad import Value, grad, steps
from scalargrad.viz.widget import StepThrough

x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = x1.log() + x1 * x2 - x2.sin()
reverse = steps(y, mode="reverse")
print(reverse)
assert reverse[4].line == "visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)"
"""),
    md(r"""
## Step through it

The widget opens on step 5, the visit of $v_2 = x_2$: its list holds the two partial adjoints
that reached it, $\bar v_{2 \to 5} = \bar v_5 \cos v_2 = -0.284$ and
$\bar v_{2 \to 4} = \bar v_4\, v_1 = 2$, which sum to $\bar v_2 = 1.716 = \partial y / \partial x_2$.
The visited node is amber, the nodes already visited green, the ones still waiting white; the
edges a step uses are red. Use the buttons, the slider or Play; the tabs switch algorithm.

The output also carries a self-contained HTML/JavaScript version of the widget, with the same
controls (and the ← → keys once you click it), for front ends that show saved outputs but no
widgets. Exporters that prefer the widget view (`jupyter nbconvert --to html`) show an empty
widget there instead; for a page that steps through without a kernel, `widget=False` gives
only the HTML version, as in the cell after this one.
"""),
    code(r"""
watch = StepThrough(y, mode="reverse", step=5)
shown = watch.shown()
print(shown["line"])
assert shown["node"] == "v2"
assert shown["node_to_grad"]["v₂"] == "node_to_grad[v₂] = [v̄₂→₅ = −0.284, v̄₂→₄ = 2], v̄₂ = 1.716"
assert shown["row"] == "v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716"
watch
"""),
    code(r"""
StepThrough(y, mode="reverse", step=5, widget=False)  # the HTML version alone: it steps in an exported page too
"""),
    md(r"""
## Every step, checked

Each step's sum is the adjoint that `grad` computes (bit for bit: the steps replay the one
reverse walk), and the last step leaves $\bar v_1 = 5.5$ and $\bar v_2 = 1.716$. Moving the
widget from code moves the displayed widget too.
"""),
    code(r"""
adjoints = dict(zip(["v1", "v2"], grad(y, [x1, x2])))
for k, step in enumerate(watch.steps["reverse"], start=1):
    watch.show(step=k)
    print(f"{k}. {watch.shown()['line']}")
    assert sum(x for _, x in step.partials) == step.value
    if step.node in adjoints:
        assert step.value == adjoints[step.node]
lists = watch.shown()["node_to_grad"]
assert lists["v₁"] == "node_to_grad[v₁] = [v̄₁→₄ = 5, v̄₁→₃ = 0.5], v̄₁ = 5.5"
assert lists["v₂"] == "node_to_grad[v₂] = [v̄₂→₅ = −0.284, v̄₂→₄ = 2], v̄₂ = 1.716"
"""),
    md(r"""
The other tabs are the other algorithms on the same graph: forward evaluation and forward
mode walk it in topological order (one tangent per pass: here w.r.t. $x_1$, giving
$\dot v_7 = \partial y / \partial x_1 = 5.5$).
"""),
    code(r"""
watch.show(mode="tangent", step=7)  # the widget above follows
assert watch.shown()["line"] == "v̇₇ = v̇₆ − v̇₅ = 5.5 − 0 = 5.5"
assert watch.shown()["row"] == "v̇₇ = v̇₆ − v̇₅ = 5.5 − 0 = 5.5"
"""),
    md(r"""
## Reverse mode by extending the graph

The notes' second example, $y = (e^{v_1} + 1)\,e^{v_1}$ with $v_2 = \exp v_1$ used twice
($v_3 = v_2 + 1$, $v_4 = v_3 v_2$). Here the adjoints are new nodes: each step of the
"extending the graph" tab adds the nodes it builds, and the diagram grows an adjoint graph
beside the forward one. $v_2$ has two consumers, so its list has two partial adjoints and the
extended graph a sum node $\bar v_2 = \bar v_{2 \to 4} + \bar v_3$ (through $v_3 = v_2 + 1$ the
partial adjoint is $\bar v_3$ itself); at $v_1 = 1$ the result is $dy/dv_1 = 2e^2 + e$.
"""),
    code(r"""
import math

v1 = Value(1.0, label="x1")
v2 = v1.exp()
y2 = (v2 + 1) * v2
extend = StepThrough(y2, mode="extend")
lines = [s.line for s in extend.steps["extend"]]
print("\n".join(lines))
assert math.isclose(extend.steps["extend"][-1].value, 2 * math.e ** 2 + math.e, rel_tol=1e-12)
sums = [name for s in extend.steps["extend"] for name, definition, _ in s.added if " + " in definition]
assert sums == ["v̄₂"]
extend.show(mode="reverse", step=3)
assert extend.shown()["node"] == "v2"
assert len(extend.steps["reverse"][2].partials) == 2  # two consumers, two partial adjoints
extend.show(mode="extend", step=1)
extend
"""),
)


def make(name: str) -> nbformat.NotebookNode:
    """The notebook ``name``, validated, without outputs."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in NOTEBOOKS[name]:
        nb.cells.append(new_markdown_cell(source) if kind == "markdown" else new_code_cell(source))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    nbformat.validate(nb)
    return nb


def build(name: str) -> Path:
    path = HERE / f"{name}.ipynb"
    nbformat.write(make(name), path)
    return path


if __name__ == "__main__":
    names = sys.argv[1:] or list(NOTEBOOKS)
    unknown = [n for n in names if n not in NOTEBOOKS]
    if unknown:
        sys.exit(f"unknown notebook(s): {', '.join(unknown)}; known: {', '.join(NOTEBOOKS)}")
    for name in names:
        print("wrote", build(name).relative_to(HERE.parent))
