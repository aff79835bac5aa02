"""Step through the notes' algorithms in a notebook: :class:`StepThrough`.

With a kernel, ``StepThrough(y)`` displays an ipywidgets control: mode buttons,
Play, a step slider and previous/next buttons, showing each step's diagram
beside its trace-table row and, in reverse mode, the whole ``node_to_grad``
state. Without a kernel — a notebook exported to HTML, a static viewer, VS Code
showing saved outputs — the same output carries a self-contained HTML/JavaScript
version of it (the machinery of :func:`scalargrad.viz.page.walkthrough`: every
mode, buttons, slider, play, ←/→ keys once it has the focus), which front ends
show when they cannot show the widget. A viewer that runs no JavaScript shows
the starting step and every step's line.

The displayed output holds both forms (a MIME bundle with the widget view and
``text/html``). JupyterLab, reopening a notebook whose kernel is gone, shows a
"model not found" note for the widget view rather than the HTML; pass
``widget=False`` to display only the kernel-free version, which works there too.

ipywidgets is imported only when the widget is built.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import re
from collections.abc import Sequence
from typing import Any

from ..core import Value
from ..stepping import MODES, Steps
from ._page_assets import style
from ._render import MAX_LAYOUT_COST
from .page import MAX_NODES, Walkthrough, new_root_id

__all__ = ["StepThrough"]

_TRACE_STYLE = re.compile(r"<style>.*?</style>", re.DOTALL)


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (where a widget can talk to the front end)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()  # type: ignore[no-untyped-call]
    return shell is not None and getattr(shell, "kernel", None) is not None


class StepThrough:
    """Watch :func:`scalargrad.steps` run: every mode, one step at a time, in a notebook.

    ``outputs_or_steps`` is the graph's output(s), or a :class:`scalargrad.Steps`
    (its graph, and its mode to start in). ``mode`` and ``step`` (1-based) pick
    the step shown first; ``wrt`` is the input of the tangent mode (default the
    first); ``digits`` decimals are shown. ``widget=False`` displays only the
    kernel-free HTML version. ``max_nodes`` and ``max_layout_cost`` bound the work
    as for :func:`scalargrad.viz.walkthrough`.

    :meth:`show` moves to a step (and moves the widget if it is displayed);
    :meth:`shown` returns what is shown, as text, so a notebook can assert it.

    >>> from scalargrad import Value
    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> st = StepThrough(x1.log() + x1 * x2 - x2.sin(), step=5)
    >>> st.shown()["line"]
    'visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)'
    >>> st.shown()["node_to_grad"]["v₂"]
    'node_to_grad[v₂] = [v̄₂→₅ = −0.284, v̄₂→₄ = 2], v̄₂ = 1.716'
    """

    def __init__(
        self,
        outputs_or_steps: Value | Sequence[Value] | Steps,
        *,
        mode: str | None = None,
        step: int = 1,
        wrt: Value | None = None,
        digits: int = 3,
        max_layout_cost: int | None = MAX_LAYOUT_COST,
        widget: bool = True,
        max_nodes: int | None = MAX_NODES,
    ) -> None:
        if isinstance(outputs_or_steps, Steps):
            outputs: Value | Sequence[Value] = outputs_or_steps.graph.outputs
            if mode is None:
                mode = outputs_or_steps.mode
            if wrt is None and outputs_or_steps.mode == "tangent":
                wrt = outputs_or_steps.wrt
        else:
            outputs = outputs_or_steps
        if not isinstance(widget, bool):
            raise TypeError(f"widget must be True or False, got {widget!r}")
        self.walkthrough = Walkthrough(
            outputs, wrt=wrt, digits=digits, max_layout_cost=max_layout_cost, max_nodes=max_nodes
        )
        mode = "reverse" if mode is None else mode
        self.walkthrough.check_step(mode, step)
        self.mode = mode
        self.step = step
        self.interactive = widget
        self._widget: Any = None
        self._controls: dict[str, Any] = {}
        self._updating = False
        self._trace_style = "".join(_TRACE_STYLE.findall(self.walkthrough.trace.to_html())[:1])

    def __repr__(self) -> str:
        count = len(self.walkthrough.modes[self.mode].steps)
        return f"<StepThrough {self.mode} step {self.step} of {count}: {self.walkthrough.caption}>"

    @property
    def steps(self) -> dict[str, Steps]:
        """Every mode's :class:`scalargrad.Steps` (forward mode's for ``wrt``; see ``walkthrough.modes``
        for the other inputs')."""
        return {m: w.steps for m, w in self.walkthrough.modes.items() if m in MODES}

    # ------------------------------------------------------------- moving
    def show(self, mode: str | None = None, step: int | None = None) -> StepThrough:
        """Show ``step`` (1-based; default 1 when the mode changes, else the current one) of
        ``mode`` (default: the current mode); the widget follows. Returns self."""
        mode = self.mode if mode is None else mode
        if step is None:
            step = self.step if mode == self.mode else 1
        self.walkthrough.check_step(mode, step)
        self.mode, self.step = mode, step
        self._refresh()
        return self

    def shown(self) -> dict[str, Any]:
        """What the current step shows, as text: ``mode``, ``step``, ``steps`` (how many),
        ``node`` (the visited node's id), ``line``, ``row`` (the trace-table row's cells
        joined by " = ") and, in reverse mode, ``node_to_grad`` (node name → its list and
        sum as shown) or, extending the graph, ``added`` (the adjoint nodes this step adds)."""
        w = self.walkthrough
        m = w.modes[self.mode]
        st = m.steps[self.step - 1]
        out: dict[str, Any] = {
            "mode": self.mode,
            "step": self.step,
            "steps": len(m.steps),
            "node": st.node,
            "line": st.line,
            "row": "",
        }
        row = w._row(m, st.node)
        if row is not None:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", w._table_rows[row[0]][row[1]], re.DOTALL)
            out["row"] = " = ".join(html.unescape(c) for c in cells if c)
        if self.mode == "reverse":
            lists = {}
            for ident, entries, total in w.node_to_grad(self.step):
                shown = ", ".join(n if n == "1" else f"{n} = {v}" for n, v, _ in entries)
                text = f"node_to_grad[{w.names[ident]}] = [{shown}]"
                lists[w.names[ident]] = text + (f", {w.bars[ident]} = {total}" if total else "")
            out["node_to_grad"] = lists
        if self.mode == "extend":
            out["added"] = [f"{d} = {x}" for d, x in self._added(st.added)]
        return out

    def _added(self, added: list[tuple[str, str, float]]) -> list[tuple[str, str]]:
        from ..notation.names import TEXT

        return [(d, TEXT.number(x, self.walkthrough.digits)[0]) for _, d, x in added]

    def svg(self) -> str | None:
        """The current step's diagram (SVG markup), or None when the graph has none."""
        return self.walkthrough.svg_at(self.mode, self.step)

    # ------------------------------------------------------- without kernel
    def to_html(self) -> str:
        """The kernel-free version: one self-contained HTML fragment (inline CSS, JS and SVG)."""
        return self.walkthrough.fragment(
            root_id=new_root_id(), start_mode=self.mode, start_step=self.step, full_tables=False
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    # ---------------------------------------------------------- with kernel
    @property
    def widget(self) -> Any:
        """The ipywidgets control (built on first use; needs ipywidgets, the notebook extra)."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget view (in a kernel, with ipywidgets) plus the kernel-free HTML for every
        front end that cannot show it."""
        bundle: dict[str, Any] = {}
        if self.interactive and _in_kernel():
            with contextlib.suppress(ImportError):  # no ipywidgets: the HTML version only
                bundle.update(self.widget._repr_mimebundle_() or {})
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = repr(self)
        return bundle

    def _build(self) -> Any:
        try:
            widgets = importlib.import_module("ipywidgets")
        except ImportError:
            raise ImportError(
                "StepThrough's widget needs ipywidgets: pip install 'scalargrad-autodiff[notebook]' "
                "(without it, StepThrough shows its kernel-free HTML version)"
            ) from None
        w = self.walkthrough
        count = len(w.modes[self.mode].steps)
        modes = widgets.ToggleButtons(
            options=[(w.mode_title(m), m) for m in w.modes], value=self.mode, style={"button_width": "auto"}
        )
        play = widgets.Play(value=self.step, min=1, max=count, interval=1000, description="play")
        slider = widgets.IntSlider(
            value=self.step, min=1, max=count, description="step", continuous_update=True
        )
        widgets.jslink((play, "value"), (slider, "value"))
        previous = widgets.Button(description="◀ prev", tooltip="previous step", layout={"width": "6em"})
        following = widgets.Button(description="next ▶", tooltip="next step", layout={"width": "6em"})
        diagram = widgets.HTML(layout={"flex": "1 1 60%", "overflow": "auto", "max_height": "70vh"})
        panel = widgets.HTML(layout={"flex": "1 1 40%", "overflow": "auto", "max_height": "70vh"})
        self._controls = {"modes": modes, "play": play, "slider": slider, "diagram": diagram, "panel": panel}

        def on_mode(change: dict[str, Any]) -> None:
            if not self._updating:
                self.show(mode=change["new"], step=1)

        def on_step(change: dict[str, Any]) -> None:
            if not self._updating:
                self.show(step=int(change["new"]))

        def step_by(delta: int) -> None:
            last = len(w.modes[self.mode].steps)
            self.show(step=min(last, max(1, self.step + delta)))

        modes.observe(on_mode, names="value")
        slider.observe(on_step, names="value")
        previous.on_click(lambda _: step_by(-1))
        following.on_click(lambda _: step_by(1))
        box = widgets.VBox(
            [
                modes,
                widgets.HBox([play, previous, slider, following]),
                widgets.HBox([diagram, panel], layout={"align_items": "flex-start", "width": "100%"}),
            ]
        )
        self._widget = box
        self._refresh()
        return box

    def _refresh(self) -> None:
        """Bring the widget (if built) to the current mode and step."""
        if not self._controls:
            return
        c = self._controls
        w = self.walkthrough
        self._updating = True
        try:
            count = len(w.modes[self.mode].steps)
            c["modes"].value = self.mode
            for name in ("play", "slider"):
                c[name].max = count
                c[name].value = self.step
            svg = self.svg()
            note = w.modes[self.mode].note
            c["diagram"].value = (
                f"<style>{style()}</style><div class='sgw'>"
                + (f"<p class='sgw-note'>{html.escape(note)}</p>" if note else "")
                + (svg or "")
                + "</div>"
            )
            c["panel"].value = (
                f"{self._trace_style}<style>{style()}</style><div class='sgw'>"
                f"<div class='sgw-count'>step {self.step} of {count}</div>"
                f"<div class='sgw-panel'>{w.panel_html(self.mode, self.step)}</div></div>"
            )
        finally:
            self._updating = False
