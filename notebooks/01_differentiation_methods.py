# %% [markdown]
# # Differentiation methods, side by side
#
# The notes' running example
#
# $$y = f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2 \quad\text{at}\quad x_1 = 2,\ x_2 = 5$$
#
# differentiated by every method of the lecture: numerical, symbolic, forward-mode and
# reverse-mode automatic differentiation. In scalargrad each is a different walk over one
# graph of `Value` nodes; the trace tables and diagrams below are read off that same graph.

# %%
from scalargrad import Value, draw, grad, gradcheck, jvp, log, numerical_grad, sin, trace
from scalargrad.graph import count_ops

x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = x1.log() + x1 * x2 - x2.sin()
print(f"y = {y} = {y.data:.3f}")

# %% [markdown]
# ## The computational graph and its forward evaluation trace
#
# Nodes are numbered $v_1 \dots v_7$ in topological order, exactly as in the notes.

# %%
t = trace(y)
print("\n".join(t.lines(t.forward)))
draw(y)

# %% [markdown]
# ## Numerical differentiation
#
# Central differences,
#
# $$\frac{\partial f}{\partial \theta_i} \approx
# \frac{f(\theta + \epsilon e_i) - f(\theta - \epsilon e_i)}{2\epsilon},$$
#
# take two evaluations of $f$ per input, with an $O(\epsilon^2)$ error plus rounding. `gradcheck`
# does the notes' check
# $\delta^\top \nabla f \approx (f(\theta + \epsilon\delta) - f(\theta - \epsilon\delta))/2\epsilon$
# for random $\delta$ on the unit ball.

# %%
def f(a, b):
    return log(a) + a * b - sin(b)

central = numerical_grad(f, [2.0, 5.0])
print("central differences:", central)
print("forward differences:", numerical_grad(f, [2.0, 5.0], method="forward"))
print("gradcheck:", gradcheck(f, [2.0, 5.0]))
assert [round(d, 3) for d in central] == [5.5, 1.716]

# %% [markdown]
# ## Symbolic differentiation
#
# `grad(..., create_graph=True)` returns the derivatives as new graphs, which print as formulas.
# Done naively, symbolic differentiation repeats work: for $f(\theta) = \prod_i \theta_i$ each of
# the $n$ partials $\prod_{j \ne k} \theta_j$ costs $n - 2$ multiplications, $n(n-2)$ in all;
# reverse mode shares the partial products and needs $O(n)$.

# %%
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

# %% [markdown]
# ## Forward mode: tangents
#
# $\dot v_i = \partial v_i / \partial x_1$, computed in topological order: one pass per input.

# %%
print("jvp(y, {x1: 1}) =", jvp(y, {x1: 1.0}))
print("\n".join(t.lines(t.tangents[0])))
draw(y, kind="tangent", wrt=x1)

# %% [markdown]
# ## Reverse mode: adjoints
#
# $\bar v_i = \partial y / \partial v_i$, in reverse topological order, summing the partial
# adjoints $\bar v_{k \to i} = \bar v_i\, \partial v_i / \partial v_k$: one pass for all inputs.

# %%
y.backward()
print(f"x1.grad = {x1.grad}, x2.grad = {x2.grad:.3f}")
print("\n".join(t.lines(t.adjoint)))
draw(y, kind="adjoint")

# %% [markdown]
# ## The sigmoid example
#
# $y = \sigma(ax + b)$ at $x = 2, a = 3, b = 1$: the notes' symbolic formulas, central
# differences with $\epsilon = 10^{-5}$ and autodiff agree on $0.00273, 0.00182, 0.00091$.

# %%
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

# %% [markdown]
# ## Interactive: move the inputs, watch the adjoints
#
# Drag the sliders to redraw the adjoint diagram. The update function is also called once
# directly, so the cell runs (and draws) when the notebook is executed headless.

# %%
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
