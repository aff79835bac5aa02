# %% [markdown]
# # Reverse mode by extending the computational graph
#
# Backprop runs the backward operations on the forward graph and produces numbers. Modern
# frameworks instead *extend the graph*: each adjoint becomes a new node, so the gradient is
# itself a graph — it can be printed, drawn, optimised and differentiated again.
#
# The notes' example: $y = (e^{v_1} + 1)\,e^{v_1}$ with $v_2 = \exp v_1$, $v_3 = v_2 + 1$,
# $v_4 = v_3 v_2$. Walking in reverse: $\bar v_4 = 1$, $\bar v_3 = \bar v_4 v_2$,
# $\bar v_2 = \bar v_3 + \bar v_4 v_3$ (two paths), $\bar v_1 = \bar v_2 v_2$.

# %%
import math

from scalargrad import Value, draw, grad, gradgradcheck, hessian, jvp, log, sin
from scalargrad.graph import formula, topological_order

v1 = Value(1.0, label="v1")
v2 = v1.exp()
v3 = v2 + 1
v4 = v3 * v2
dv1 = grad(v4, v1, create_graph=True)
print(f"{dv1.label} = {formula(dv1, {v2: 'v2', v3: 'v3'})} = {dv1}")
print(f"value {dv1.data:.6f}, closed form 2e^2 + e = {2 * math.e ** 2 + math.e:.6f}")
assert math.isclose(dv1.data, 2 * math.e ** 2 + math.e, rel_tol=1e-12)

# %% [markdown]
# The extended graph: the forward nodes and, in their own cluster, the adjoint nodes that
# `create_graph=True` built. They reuse $v_2$ and $v_3$ from the forward pass.

# %%
draw(v4, kind="extended")

# %% [markdown]
# ## Gradient of the gradient
#
# The adjoint graph is an ordinary graph, so reverse mode runs on it again:
# $\frac{d^2 y}{dv_1^2} = 4e^{2v_1} + e^{v_1}$.

# %%
d2 = grad(dv1, v1)
print(f"second derivative {d2:.6f}, closed form 4e^2 + e = {4 * math.e ** 2 + math.e:.6f}")
assert math.isclose(d2, 4 * math.e ** 2 + math.e, rel_tol=1e-12)
d2_graph = grad(dv1, v1, create_graph=True)
print("as a formula:", d2_graph)
print("nodes: y", len(topological_order(v4)), "| y'", len(topological_order(dv1)),
      "| y''", len(topological_order(d2_graph)))
draw(dv1)

# %% [markdown]
# ## A Hessian
#
# For the notes' $y = \ln x_1 + x_1 x_2 - \sin x_2$, the gradient graph gives
# $\nabla y = (x_2 + 1/x_1,\ x_1 - \cos x_2)$, and differentiating each component again gives
# the Hessian $\begin{pmatrix} -1/x_1^2 & 1 \\ 1 & \sin x_2 \end{pmatrix}$. Forward mode over the
# gradient graph gives Hessian-vector products in one pass.

# %%
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
