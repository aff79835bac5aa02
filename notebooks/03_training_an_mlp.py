# %% [markdown]
# # Training an MLP with scalargrad
#
# A classifier for the Iris flowers (150 samples, 4 features, 3 species, shipped with
# scikit-learn), built from `scalargrad.nn`: every prediction is a graph of scalar `Value`s,
# the loss is the notes' softmax cross-entropy
#
# $$\ell(h, y) = -h_y + \log \sum_j \exp h_j,$$
#
# computed with the max trick, and one `backward()` per mini-batch gives every weight's
# gradient, which `SGD` uses to update the weights; without momentum that is
# $\theta := \theta - \frac{\alpha}{B}\sum_{i=1}^{B} \nabla_\theta \ell(h_\theta(x^{(i)}), y^{(i)})$,
# and with momentum $\mu$ (0.9 below) the step is a running sum of those gradients,
# $v := \mu v + g$, $\theta := \theta - \alpha v$.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from scalargrad import grad
from scalargrad.graph import topological_order
from scalargrad.nn import MLP, SGD, softmax, softmax_cross_entropy

iris = load_iris()
x_train, x_test, y_train, y_test = train_test_split(
    iris.data, iris.target, test_size=0.25, stratify=iris.target, random_state=0)
mean, std = x_train.mean(axis=0), x_train.std(axis=0)
x_train, x_test = ((x_train - mean) / std).tolist(), ((x_test - mean) / std).tolist()
y_train, y_test = y_train.tolist(), y_test.tolist()
len(x_train), len(x_test), [str(name) for name in iris.target_names]

# %% [markdown]
# ## The model and one loss
#
# `MLP(4, [8, 3])`: 4 inputs, 8 tanh hidden units, 3 linear outputs (the logits $h$). Its
# parameters are plain `Value`s in a list, so `grad(loss, model.parameters())` works as well as
# `loss.backward()`.

# %%
model = MLP(4, [8, 3], activation="tanh", seed=0)
logits = model(x_train[0])
loss = softmax_cross_entropy(logits, y_train[0])
print(model, "with", len(model.parameters()), "parameters")
print("logits:", [round(h.data, 3) for h in logits], " softmax:", [round(p.data, 3) for p in softmax(logits)])
print("loss:", round(loss.data, 4), "  nodes in its graph:", len(topological_order(loss)))
g = grad(loss, logits)
print("dloss/dlogits = softmax - onehot:", [round(v, 3) for v in g])

# %% [markdown]
# ## Training with mini-batch SGD

# %%
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
for _epoch in range(30):
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

# %%
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
        color = "white" if cm[i, j] > cm.max() / 2 else "black"
        ax2.text(j, i, cm[i, j], ha="center", va="center", color=color)
ax2.set(xticks=range(n), yticks=range(n), xticklabels=iris.target_names, yticklabels=iris.target_names,
        xlabel="predicted", ylabel="true", title="test confusion matrix")
fig.tight_layout()

# %% [markdown]
# ## Check the gradients
#
# The whole network is differentiated by the same reverse walk as the notes' small examples;
# a finite-difference check on a few weights confirms it.

# %%
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
