"""Step diagrams as files: one picture per step for slides, and an animation of the steps.

:func:`write_frames` writes :func:`scalargrad.draw_step`'s diagram of every step
of a :class:`scalargrad.Steps` to a directory (SVG, and PNG where it can be
made); :func:`write_animation` puts the same frames, one after the other, into
an animated GIF or PNG (APNG) with Pillow — the README's gallery picture of the
reverse steps is made this way (``docs/make_gallery.py``).

Each frame is the step's own diagram (the DOT of ``draw_step``, with a margin),
laid out by Graphviz for that step, so a frame reads on its own (on a slide,
say); the frames of an animation are put on one canvas of the largest frame's
size.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..steps import Steps
from ._render import (
    MAX_LAYOUT_COST,
    RENDER_TIMEOUT,
    RenderError,
    check_format,
    check_layout_cost,
    pipe,
)
from ._steps import build_step_dot

__all__ = ["Frames", "write_animation", "write_frames"]


_MARGIN = '\tgraph [pad="0.6,0.1"]\n'
"""Inches of margin around a frame (left/right, top/bottom): the step line above the diagram is
as wide as Graphviz estimates it in Helvetica, and a renderer that falls back to a wider font
for the subscripts and accents (resvg with DejaVu Sans, say) would otherwise cut off its ends."""


def _framed(source: str) -> str:
    """A step's DOT with :data:`_MARGIN` around the drawing."""
    head, brace, rest = source.partition("{\n")
    return head + brace + _MARGIN + rest if brace else source


class Frames(list[Path]):
    """The files :func:`write_frames` wrote (a list of paths, step by step, format by format).

    ``skipped`` maps each format that could not be made here to the reason
    (PNG without ``resvg-py`` and without the system Graphviz, say).
    """

    def __init__(self, paths: Sequence[Path] = (), skipped: dict[str, str] | None = None) -> None:
        super().__init__(paths)
        self.skipped: dict[str, str] = dict(skipped or {})


def _check_steps(steps: object, who: str) -> Steps:
    if not isinstance(steps, Steps):
        raise TypeError(f"{who} needs the result of scalargrad.steps(...), got {type(steps).__name__}")
    if not steps:
        raise ValueError(f"{who}: there are no steps")
    return steps


def write_frames(
    steps: Steps,
    directory: str | Path,
    formats: Sequence[str] = ("svg", "png"),
    *,
    prefix: str | None = None,
    digits: int = 3,
    backend: str = "auto",
    max_layout_cost: int | None = MAX_LAYOUT_COST,
    timeout: float = RENDER_TIMEOUT,
) -> Frames:
    """Write the diagram of every step of ``steps`` to ``directory``, one file per step and format.

    Files are named ``{prefix}{k}.{format}`` with ``k`` zero-padded so they sort in
    step order (``prefix`` defaults to ``"{mode}_step_"``: ``reverse_step_1.svg`` …
    ``reverse_step_7.svg``); the directory is created if needed. SVG always works
    with the ``viz`` extra; any other format that cannot be made on this machine
    (PNG needs ``resvg-py`` or the system Graphviz) is left out and reported in
    the result's ``skipped``, unless it is the only format asked for or none of the
    formats can be made, which raises :class:`scalargrad.viz.RenderError`. A step
    whose layout would cost more than ``max_layout_cost`` raises
    :class:`scalargrad.viz.DiagramTooComplexError` before anything is written.
    """
    s = _check_steps(steps, "write_frames")
    if isinstance(formats, str):
        formats = (formats,)
    wanted = list(dict.fromkeys(check_format(f) for f in formats))
    if not wanted:
        raise ValueError("write_frames: give at least one format")
    if prefix is None:
        prefix = f"{s.mode}_step_"
    if not isinstance(prefix, str) or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a file name prefix (no directory), got {prefix!r}")
    sources = [_framed(build_step_dot(s, k, digits)) for k in range(1, len(s) + 1)]
    for k, source in enumerate(sources, start=1):
        check_layout_cost(source, max_layout_cost, f"the diagram of step {k}")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    width = len(str(len(s)))
    written: list[Path] = []
    skipped: dict[str, str] = {}
    for k, source in enumerate(sources, start=1):
        for fmt in wanted:
            if fmt in skipped:
                continue
            try:
                data = pipe(source, fmt, backend, timeout)
            except RenderError as e:
                if k > 1 or len(wanted) == 1 or fmt == "svg":
                    raise
                skipped[fmt] = str(e)
                if len(skipped) == len(wanted):  # nothing could be made: say why, as for one format
                    raise RenderError("; ".join(f"{f}: {why}" for f, why in skipped.items())) from None
                continue
            path = target / f"{prefix}{k:0{width}d}.{fmt}"
            path.write_bytes(data)
            written.append(path)
    return Frames(written, skipped)


def write_animation(
    steps: Steps,
    path: str | Path,
    *,
    seconds: float = 1.6,
    last_seconds: float = 4.0,
    max_width: int | None = 1400,
    digits: int = 3,
    backend: str = "auto",
    max_layout_cost: int | None = MAX_LAYOUT_COST,
) -> Path:
    """An animated picture of ``steps`` (one frame per step's diagram), written to ``path``.

    The format follows the suffix: ``.gif`` (GIF, 256 colours) or ``.png``
    (animated PNG, full colour; browsers and GitHub play both). Each step shows
    for ``seconds``, the last for ``last_seconds``, and the animation loops.
    Frames are PNG renders (:func:`write_frames`' diagrams) centred on a white
    canvas of the largest frame's size, scaled down to ``max_width`` pixels wide
    (None: not scaled). Needs Pillow and a PNG renderer (the ``viz`` extra).
    """
    s = _check_steps(steps, "write_animation")
    target = Path(path)
    kind = target.suffix.lower().lstrip(".")
    if kind not in ("gif", "png"):
        raise ValueError(f"write_animation writes .gif or .png (animated PNG), not {str(target)!r}")
    for name, value in (("seconds", seconds), ("last_seconds", last_seconds)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if max_width is not None and (
        isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 16
    ):
        raise ValueError(f"max_width must be an integer of at least 16 pixels or None, got {max_width!r}")
    try:
        from PIL import Image
    except ImportError:
        raise RenderError("write_animation needs Pillow: pip install 'scalargrad-autodiff[viz]'") from None
    pngs = []
    for k in range(1, len(s) + 1):
        source = _framed(build_step_dot(s, k, digits))
        check_layout_cost(source, max_layout_cost, f"the diagram of step {k}")
        pngs.append(pipe(source, "png", backend, RENDER_TIMEOUT))
    images = []
    for data in pngs:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            images.append(opened.convert("RGBA"))
    size = (max(i.width for i in images), max(i.height for i in images))
    frames: list[Any] = []
    for image in images:
        canvas = Image.new("RGB", size, "white")
        canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2), image)
        if max_width is not None and size[0] > max_width:
            height = max(1, round(size[1] * max_width / size[0]))
            canvas = canvas.resize((max_width, height), Image.Resampling.LANCZOS)
        frames.append(canvas)
    durations = [round(seconds * 1000)] * (len(frames) - 1) + [round(last_seconds * 1000)]
    options: dict[str, Any] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": durations,
        "loop": 0,
    }
    if kind == "gif":
        frames = [
            f.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for f in frames
        ]
        options["append_images"] = frames[1:]
        frames[0].save(target, format="GIF", optimize=True, disposal=1, **options)
    else:
        frames[0].save(target, format="PNG", optimize=True, **options)
    return target
