"""The step-through's script, styles and page template: files in ``scalargrad/viz/assets/``.

They are real files (so editors, linters and ``node --check`` see JavaScript, CSS and
HTML) read once, through :mod:`importlib.resources`, from wherever the package is installed
(setup.cfg's ``package_data`` ships them in the wheel). Nothing Python knows is formatted
into the script: the page calls it with its root element, whose data is JSON in a
``<script type="application/json">`` element (see :func:`script_call`).
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from string import Template
from typing import Any

from ._steps import STEP_STYLE

__all__ = ["ASSETS", "asset", "inline_json", "page_style", "page_template", "script", "script_call", "style"]

ASSETS = ("step_through.js", "step_through.css", "page.css", "page.html")
"""The files of ``scalargrad/viz/assets/`` that the page and the widget use."""

_CLOSES = {".js": "</script", ".css": "</style"}
"""What may not appear in a file inlined into the element it names (it would end it early)."""


@functools.cache
def asset(name: str) -> str:
    """The text of ``assets/<name>`` (one of :data:`ASSETS`), read once.

    A script or style holding its element's end tag is refused: inlined, it would end the
    element early and the rest would be read as markup."""
    if name not in ASSETS:
        raise ValueError(f"unknown asset {name!r}; choose one of {', '.join(ASSETS)}")
    text = (files("scalargrad.viz") / "assets" / name).read_text(encoding="utf-8")
    close = next((c for ext, c in _CLOSES.items() if name.endswith(ext)), None)
    if close is not None and close in text.lower():
        raise ValueError(f"assets/{name} holds {close!r}, which would end its inline element")
    return text


def script() -> str:
    """The step-through's script: defines ``window.scalargradStepThrough1`` once per page."""
    return asset("step_through.js")


def inline_json(value: Any) -> str:
    """``value`` as JSON safe to put inside a ``<script>`` element: ``<``, ``>`` and ``&`` are
    written as ``\\u003c``, ``\\u003e`` and ``\\u0026``, so no text in it can end the element
    (``</script>``) or open a comment; JSON.parse and JavaScript read them back unchanged."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_call(root_id: str, global_keys: bool) -> str:
    """The statement starting one step-through: its root element's id and its options, as
    :func:`inline_json` (the script's source is never formatted)."""
    root, options = inline_json(root_id), inline_json({"globalKeys": global_keys})
    return f"window.scalargradStepThrough1(document.getElementById({root}), {options});"


def _node_css(selector: str, attrs: dict[str, str]) -> str:
    """CSS giving the diagram nodes matching ``selector`` Graphviz's ``attrs`` (fill, pen, font)."""
    rules = []
    if "fillcolor" in attrs:
        rules.append(f".sgw {selector} > polygon {{ fill: {attrs['fillcolor']}; }}")
    stroke = attrs.get("color", "#000000")
    width = attrs.get("penwidth", "1")
    rules.append(
        f".sgw {selector} > polygon, .sgw {selector} > polyline "
        f"{{ stroke: {stroke}; stroke-width: {width}; }}"
    )
    rules.append(f".sgw {selector} > text {{ fill: {attrs.get('fontcolor', '#000000')}; }}")
    return "\n".join(rules)


def _state_css() -> str:
    """The node states' colours, and their keys in the legend, from :data:`STEP_STYLE`."""
    return "\n".join(
        [
            f".sgw .sgw-key-visited {{ background: {STEP_STYLE['visited']['fillcolor']}; }}",
            f".sgw .sgw-key-done {{ background: {STEP_STYLE['done']['fillcolor']}; }}",
            f".sgw .sgw-key-waiting {{ background: {STEP_STYLE['waiting']['fillcolor']}; color: #616161; }}",
            _node_css("g.node.sg-waiting", STEP_STYLE["waiting"]),
            _node_css("g.node.sg-done", STEP_STYLE["done"]),
            _node_css("g.node.sg-visited", STEP_STYLE["visited"]),
            _node_css("g.node.sg-new", {**STEP_STYLE["visited"], "color": "#1f5fbf"}),
        ]
    )


@functools.cache
def style() -> str:
    """The step-through's CSS (scoped to ``.sgw``): ``step_through.css`` and the node colours."""
    return asset("step_through.css") + _state_css() + "\n"


def page_style() -> str:
    """The CSS of the page around the step-through."""
    return asset("page.css")


def page_template() -> Template:
    """The page: ``${heading}``, ``${caption}`` (escaped text), ``${style}`` and ``${body}``
    (markup) are filled in by one :meth:`~string.Template.substitute`, which never reads a
    placeholder in what it fills in."""
    return Template(asset("page.html"))
