"""Measure the step-through page two ways: one layout per mode (what scalargrad does) vs an SVG per step.

Run: python docs/measure_walkthrough.py [NODES ...]   (default 7 and 151)
Needs the viz extra, Playwright (pip install playwright) and Debian's chromium at /usr/bin/chromium
(or CHROMIUM=/path/to/chrome). Prints, for each graph: the time to build the page in Python, its
size, the time to open it in headless Chromium and the median time of one step (the key press's
script, style and layout; the numbers in scalargrad/viz/page.py's docstring come from here).

"An SVG per step" pre-renders ``draw_step(steps, k)`` for every step of every mode into one page
and steps by showing the next SVG and hiding the current one. A mode whose step diagrams are
too costly to lay out even at twice the usual limit (the extended graph of a large graph) is left
out of that page.
"""

from __future__ import annotations

import html
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scalargrad import Value, draw_step, steps
from scalargrad.notation.numbering import Graph
from scalargrad.stepping import MODES
from scalargrad.viz import MAX_LAYOUT_COST, layout_cost
from scalargrad.viz.page import walkthrough

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def notes_example() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1.log() + x1 * x2 - x2.sin()


def chain(nodes: int) -> Value:
    """A graph of about ``nodes`` nodes: v ← tanh(sin(v·xᵢ) + v) over three inputs, repeated."""
    xs = [Value(0.1 * (i + 1), label=f"x{i + 1}") for i in range(3)]
    v, i = xs[0], 0
    while len(Graph([v]).order) < nodes:
        v = ((v * xs[i % 3]).sin() + v).tanh()
        i += 1
    return v


def per_step_page(y: Value) -> str:
    """Every step's own diagram, pre-rendered; a step shows one SVG and hides the other."""
    blocks = []
    for mode in MODES:
        s = steps(y, mode=mode)
        diagrams = [draw_step(s, k) for k in range(1, len(s) + 1)]
        if max(layout_cost(d.source) for d in diagrams) > 2 * MAX_LAYOUT_COST:
            print(f"  (an SVG for every step: no {mode} diagrams, their layout is too costly)", flush=True)
            continue
        for k, d in enumerate(diagrams, start=1):
            svg = d.pipe("svg").decode("utf-8")
            svg = svg[svg.index("<svg") :]
            hidden = "" if not blocks else " hidden"
            blocks.append(f"<div class='f' data-mode='{mode}' data-k='{k}'{hidden}>{svg}</div>")
    script = """
    var frames = document.querySelectorAll(".f"), at = 0;
    document.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowRight" || at + 1 >= frames.length) return;
      frames[at].hidden = true; at += 1; frames[at].hidden = false;
    });
    document.body.setAttribute("data-ready", "1");
    """
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        + html.escape("per-step SVGs")
        + "</title></head><body>"
        + "".join(blocks)
        + f"<script>{script}</script></body></html>"
    )


STEP_TIMES = """() => {
  const times = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true}));
    document.body.offsetHeight;  // force style and layout
    times.push(performance.now() - t);
  }
  return times;
}"""


def browse(path: Path, ready: str) -> tuple[float, float]:
    """(seconds to open and set up the page, median milliseconds of one step) in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector(ready, state="attached", timeout=120_000)
        opened = time.perf_counter() - start
        times = page.evaluate(STEP_TIMES)
        browser.close()
    return opened, statistics.median(times)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [7, 151]
    draw_step(steps(notes_example()), 1).pipe("svg")  # compile the WebAssembly Graphviz first
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            y = notes_example() if n <= 7 else chain(n)
            count = len(Graph([y]).order)
            for name, build, ready in (
                ("one layout per mode", walkthrough, ".sgw[data-ready='1']"),
                ("an SVG for every step", per_step_page, "body[data-ready='1']"),
            ):
                start = time.perf_counter()
                page = build(y)
                built = time.perf_counter() - start
                path = Path(tmp) / f"{n}-{len(name)}.html"
                path.write_text(page, encoding="utf-8")
                opened, step = browse(path, ready)
                print(
                    f"{count:4d} nodes, {name:22s}: build {built:6.2f} s, "
                    f"{len(page.encode()) / 1e6:7.2f} MB, "
                    f"open {opened:5.2f} s, step {step:6.2f} ms (median)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
