# %% [markdown]
# # Watch reverse mode
#
# The notes' reverse-mode algorithm keeps `node_to_grad`, a list of *partial adjoints* per node.
# It visits the nodes in reverse topological order; at each node it sums the node's list into
# its adjoint $\bar v_i$ and appends a partial adjoint $\bar v_{k \to i} = \bar v_i \,
# \partial v_i / \partial v_k$ to the list of each input $v_k$. `steps` records that, one step per
# node, and `StepThrough` lets you watch it: play/pause, previous/next and a slider, the step's
# diagram beside its trace-table row and the whole `node_to_grad` state, for all four
# algorithms (forward evaluation, forward mode, reverse mode, reverse mode by extending the graph).
#
# The notes' example: $y = \ln x_1 + x_1 x_2 - \sin x_2$ at $x_1 = 2,\ x_2 = 5$.

# %%
from scalargrad import Value, grad, steps
from scalargrad.viz.widget import StepThrough

x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
y = x1.log() + x1 * x2 - x2.sin()
reverse = steps(y, mode="reverse")
print(reverse)
assert reverse[4].line == "visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)"

# %% [markdown]
# ## Step through it
#
# The widget opens on step 5, the visit of $v_2 = x_2$: its list holds the two partial adjoints
# that reached it, $\bar v_{2 \to 5} = \bar v_5 \cos v_2 = -0.284$ and
# $\bar v_{2 \to 4} = \bar v_4\, v_1 = 2$, which sum to $\bar v_2 = 1.716 = \partial y / \partial x_2$.
# The visited node is amber, the nodes already visited green, the ones still waiting white; the
# edges a step uses are red. Use the buttons, the slider or Play; the tabs switch algorithm.
#
# The output also carries a self-contained HTML/JavaScript version of the widget, with the same
# controls (and the ← → keys once you click it), for front ends that show saved outputs but no
# widgets. Exporters that prefer the widget view (`jupyter nbconvert --to html`) show an empty
# widget there instead; for a page that steps through without a kernel, `widget=False` gives
# only the HTML version, as in the cell after this one.

# %%
watch = StepThrough(y, mode="reverse", step=5)
shown = watch.shown()
print(shown["line"])
assert shown["node"] == "v2"
assert shown["node_to_grad"]["v₂"] == "node_to_grad[v₂] = [v̄₂→₅ = −0.284, v̄₂→₄ = 2], v̄₂ = 1.716"
assert shown["row"] == "v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716"
watch

# %%
# the HTML version alone: it steps in an exported page too
StepThrough(y, mode="reverse", step=5, widget=False)

# %% [markdown]
# ## Every step, checked
#
# Each step's sum is the adjoint that `grad` computes (bit for bit: the steps replay the one
# reverse walk), and the last step leaves $\bar v_1 = 5.5$ and $\bar v_2 = 1.716$. Moving the
# widget from code moves the displayed widget too.

# %%
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

# %% [markdown]
# The other tabs are the other algorithms on the same graph: forward evaluation and forward
# mode walk it in topological order (one tangent per pass: here w.r.t. $x_1$, giving
# $\dot v_7 = \partial y / \partial x_1 = 5.5$).

# %%
watch.show(mode="tangent", step=7)  # the widget above follows
assert watch.shown()["line"] == "v̇₇ = v̇₆ − v̇₅ = 5.5 − 0 = 5.5"
assert watch.shown()["row"] == "v̇₇ = v̇₆ − v̇₅ = 5.5 − 0 = 5.5"

# %% [markdown]
# ## Reverse mode by extending the graph
#
# The notes' second example, $y = (e^{v_1} + 1)\,e^{v_1}$ with $v_2 = \exp v_1$ used twice
# ($v_3 = v_2 + 1$, $v_4 = v_3 v_2$). Here the adjoints are new nodes: each step of the
# "extending the graph" tab adds the nodes it builds, and the diagram grows an adjoint graph
# beside the forward one. $v_2$ has two consumers, so its list has two partial adjoints and the
# extended graph a sum node $\bar v_2 = \bar v_{2 \to 4} + \bar v_3$ (through $v_3 = v_2 + 1$ the
# partial adjoint is $\bar v_3$ itself); at $v_1 = 1$ the result is $dy/dv_1 = 2e^2 + e$.

# %%
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
