# %% [markdown]
# # Property-based testing of derivatives
#
# The notes: numerical differentiation is too inaccurate and slow to train with, but it is
# *the* tool for testing an implementation of automatic differentiation:
#
# $$\delta^\top \nabla_\theta f(\theta) =
# \frac{f(\theta + \epsilon\delta) - f(\theta - \epsilon\delta)}{2\epsilon} + O(\epsilon^2).$$
#
# `scalargrad.testing` turns that into property-based tests with
# [hypothesis](https://hypothesis.readthedocs.io): instead of checking one hand-picked point,
# state a property ("the gradient matches central differences") and let hypothesis search
# for inputs — and random functions — that break it, then shrink them to a minimal example.

# %%
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

# %% [markdown]
# ## Check your own function
#
# Write the function with operators and scalargrad's functions (`exp`, `log`, `sin`, ...), so the
# same code runs on floats (for finite differences) and on `Value`s (for autodiff).

# %%
def my_loss(x, y):
    return log(1 + exp(x - y)) + sqrt(1 + x * x * y * y) * sin(y)

print(assert_gradients_close(my_loss, [0.5, -1.0]))   # returns the analytic gradient
print(gradcheck(my_loss, [0.5, -1.0]))                 # random unit-ball directions, as in the notes

# %% [markdown]
# Now as a property over the whole square $[-2, 2]^2$, first and second derivatives:

# %%
checked = []

@FAST
@given(points(2, bound=2.0))
def test_my_loss(point):
    assert_gradients_close(my_loss, point)
    assert_hessian_close(my_loss, point)
    checked.append(point)

test_my_loss()
print(f"first and second derivatives agree with central differences at {len(checked)} points")

# %% [markdown]
# ## What a failure looks like
#
# `math.sin` turns a `Value` into a float, so the graph loses the path through `x`: the
# analytic ∂f/∂x is 0, and the check names input 0 as the mismatch.

# %%
def leaky(x, y):
    return math.sin(x) * y

try:
    assert_gradients_close(leaky, [0.3, 1.0])
    raise RuntimeError("the lost path was not caught")
except GradcheckError as err:
    print(err)
    assert err.index == 0

# %% [markdown]
# If f loses its graph entirely and returns a plain float for `Value` inputs, every analytic
# derivative is 0; the checks (first *and* second order) fail and end with a hint.

# %%
try:
    assert_hessian_close(lambda x: math.sin(x), [0.3])
    raise RuntimeError("the lost graph was not caught")
except GradcheckError as err:
    print(err)
    assert "hint:" in str(err)

# %% [markdown]
# A hand-derived derivative checked against autodiff: $\frac{d}{dx}\,x\sin x$ is *not*
# $\sin x + \cos x$. Hypothesis finds a counterexample and shrinks it to the simplest one.

# %%
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

# %% [markdown]
# ## Random functions
#
# `expressions(n)` draws random expression graphs over `n` inputs from every smooth op, with
# the domains guarded (`log(1 + a*a)`, `exp(tanh(a))`, ...) so each is defined everywhere. They
# are the engine's own tests: every op, every shape of sharing, checked against finite differences.

# %%
samples = []

@settings(max_examples=6, deadline=None, database=None)
@given(expressions(2, max_depth=3))
def collect(f):
    samples.append(f)

collect()
for f in samples:
    print(f"{f!s:60}  f(0.5, -1) = {f(0.5, -1.0):+.4f}")

# %%
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
