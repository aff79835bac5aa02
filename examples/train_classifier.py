"""Train a scalargrad MLP classifier with SGD on a real dataset shipped with scikit-learn.

Iris (150 flowers, 4 features, 3 species) by default, or Wine (178 wines, 13 features,
3 cultivars) with ``--dataset wine``. Every prediction is a graph of scalar Values; the loss
is the notes' softmax cross-entropy ℓ = −h_y + log Σ exp h_j (with the max trick), averaged
over a mini-batch, and one ``backward()`` per batch gives every weight's gradient.

Prints the train/test accuracy, shows a progress bar over epochs (tqdm: one line updated in
place in a terminal, a widget in Jupyter, nothing when the output is captured or logged) and saves the loss
curves (matplotlib, Agg backend) to ``--out`` (default: examples/output/, git-ignored).
Needs the ``examples`` extra: pip install -e ".[examples]"

With ``--compiled`` the loss and gradient of one example are compiled to straight-line
float code once per class (``scalargrad.nn.compile_loss``) and every step runs that code
instead of building a graph; the script trains both ways from the same initialisation and
batch order and prints both times.

Run: python examples/train_classifier.py [--dataset iris|wine] [--epochs 40] [--out loss.png] [--compiled]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris, load_wine
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm  # a widget in Jupyter, one line updated in place in a terminal

from scalargrad import Value
from scalargrad.nn import MLP, SGD, compile_loss, softmax_cross_entropy

DATASETS = {"iris": load_iris, "wine": load_wine}
DEFAULT_OUT = Path(__file__).resolve().parent / "output" / "loss_curve.png"

Rows = list[list[float]]


def load(name: str, seed: int) -> tuple[Rows, list[int], Rows, list[int], list[str]]:
    """A stratified 75/25 split, standardised with the training set's mean and std."""
    bunch = DATASETS[name]()
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.25, stratify=bunch.target, random_state=seed
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    scale = lambda a: ((a - mean) / std).tolist()
    return scale(x_train), y_train.tolist(), scale(x_test), y_test.tolist(), list(bunch.target_names)


def example_loss(model: MLP, x: list[Value], y: int) -> Value:
    """The loss of one example: what compile_loss compiles (once per class)."""
    return softmax_cross_entropy(model(x), y)


def mean_loss(model: MLP, xs: Rows, ys: list[int]) -> Value:
    """The mean softmax cross-entropy over a batch, one running sum."""
    total = softmax_cross_entropy(model(xs[0]), ys[0])
    for x, y in zip(xs[1:], ys[1:]):
        total = total + softmax_cross_entropy(model(x), y)
    return total / len(xs)


def predict(model: MLP, x: list[float]) -> int:
    logits = model(x)
    return max(range(len(logits)), key=lambda k: logits[k].data)


def accuracy(model: MLP, xs: Rows, ys: list[int]) -> float:
    return sum(predict(model, x) == y for x, y in zip(xs, ys)) / len(xs)


def confusion(model: MLP, xs: Rows, ys: list[int], n: int) -> list[list[int]]:
    table = [[0] * n for _ in range(n)]
    for x, y in zip(xs, ys):
        table[y][predict(model, x)] += 1
    return table


def train(args: argparse.Namespace, compiled: bool = False) -> dict:
    x_train, y_train, x_test, y_test, classes = load(args.dataset, args.seed)
    model = MLP(len(x_train[0]), [args.hidden, len(classes)], activation="tanh", seed=args.seed)
    opt = SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    rng = random.Random(args.seed)
    order = list(range(len(x_train)))
    history: dict[str, list[float]] = {"train": [], "test": []}
    if not compiled:
        print(f"dataset: {args.dataset} ({len(x_train)} train / {len(x_test)} test, "
              f"{len(x_train[0])} features, {len(classes)} classes: {', '.join(classes)})")
        print(f"model: {model} with {len(model.parameters())} parameters; {opt}")
    start = time.perf_counter()
    # compiled: one straight-line function per class, compiled on first use and reused every step
    loss_fn = compile_loss(model, example_loss, (x_train[0], y_train[0])) if compiled else None
    desc = "epochs (compiled)" if compiled else "epochs"
    # disable=None: no bar at all when stderr is not a terminal (captured or logged output)
    bar = tqdm(range(args.epochs), desc=desc, unit="epoch", disable=True if args.no_progress else None)
    for _ in bar:
        rng.shuffle(order)
        epoch_loss = 0.0
        for s in range(0, len(order), args.batch_size):
            batch = order[s:s + args.batch_size]
            xs, ys = [x_train[i] for i in batch], [y_train[i] for i in batch]
            if loss_fn is not None:
                value, grads = loss_fn(xs, ys)
                opt.step(grads)
            else:
                loss = mean_loss(model, xs, ys)
                opt.zero_grad()
                loss.backward()
                opt.step()
                value = loss.data
            epoch_loss += value * len(batch)
        history["train"].append(epoch_loss / len(order))
        if loss_fn is not None:
            history["test"].append(loss_fn(x_test, y_test)[0])
        else:
            history["test"].append(mean_loss(model, x_test, y_test).data)
        bar.set_postfix(loss=f"{history['train'][-1]:.4f}")
    seconds = time.perf_counter() - start
    return {
        "model": model, "history": history, "classes": classes, "seconds": seconds,
        "compile_seconds": loss_fn.compile_seconds if loss_fn is not None else 0.0,
        "train_acc": accuracy(model, x_train, y_train), "test_acc": accuracy(model, x_test, y_test),
        "confusion": confusion(model, x_test, y_test, len(classes)),
    }


def plot(history: dict[str, list[float]], title: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    epochs = np.arange(1, len(history["train"]) + 1)
    ax.plot(epochs, history["train"], label="train (mean over the epoch)")
    ax.plot(epochs, history["test"], label="test (end of epoch)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("softmax cross-entropy")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def check_out(out: Path) -> str | None:
    """Why the loss curve cannot be saved to ``out`` (checked before training), or None."""
    formats = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in formats:
        return f"unsupported file type {out.suffix or '(none)'!r}; use one of {', '.join(sorted(formats))}"
    if out.is_dir():
        return "is a directory"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"cannot create its directory {out.parent}: {e.strerror or e}"
    writable = os.access(out, os.W_OK) if out.exists() else os.access(out.parent, os.W_OK)
    return None if writable else "not writable"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="iris")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=8, help="hidden units")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to save the loss-curve PNG")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--compiled", action="store_true",
        help="also train with the loss and gradient compiled to float code (scalargrad.nn.compile_loss) "
             "and print both times",
    )
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.hidden < 1:
        parser.error("--epochs, --batch-size and --hidden must be positive")
    if not (math.isfinite(args.lr) and args.lr > 0):
        parser.error(f"--lr must be a positive finite number, got {args.lr}")
    if not (math.isfinite(args.momentum) and 0 <= args.momentum < 1):
        parser.error(f"--momentum must be a number in [0, 1), got {args.momentum}")
    problem = check_out(args.out)
    if problem:
        parser.error(f"--out {args.out}: {problem}")

    result = train(args)
    h = result["history"]
    print(f"trained {args.epochs} epochs in {result['seconds']:.1f} s: "
          f"loss {h['train'][0]:.4f} -> {h['train'][-1]:.4f}")
    if args.compiled:
        graph = result
        result = train(args, compiled=True)
        h = result["history"]
        print(f"compiled: trained {args.epochs} epochs in {result['seconds']:.2f} s "
              f"(compiling {result['compile_seconds']:.2f} s of it): "
              f"loss {h['train'][0]:.4f} -> {h['train'][-1]:.4f}")
        print(f"time: graph engine {graph['seconds']:.2f} s, compiled {result['seconds']:.2f} s "
              f"({graph['seconds'] / result['seconds']:.1f}x faster)")
    print(f"train accuracy: {result['train_acc']:.3f}")
    print(f"test accuracy: {result['test_acc']:.3f}")
    print("test confusion matrix (rows: true class, columns: predicted):")
    for name, row in zip(result["classes"], result["confusion"]):
        print(f"  {name:>12} " + " ".join(f"{c:3d}" for c in row))
    plot(h, f"scalargrad MLP on {args.dataset}", args.out)
    print(f"saved loss curve to {args.out}")


if __name__ == "__main__":
    main()
