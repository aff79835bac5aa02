"""The ``scalargrad`` command line: the notes' trace tables and diagrams for an expression.

    scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5
    scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5 --wrt x1 --draw adjoint -o graph.svg
    scalargrad "sigmoid(a*x + b)" x=2 a=3 b=1 --format json
    scalargrad "tanh(dot((w1, w2), (x1, x2)) + b)" w1=1 w2=2 x1=0.3 x2=-0.1 b=0.5
    scalargrad "ln(x₁) + x₁·x₂ − sin(x₂)" x₁=2 x₂=pi --format latex-document > trace.tex

The expression is parsed by :mod:`scalargrad.expr` (an ``ast`` whitelist, never
``eval``); identical subexpressions become one node (``--no-share`` keeps them
apart), ``pi`` and ``e`` are constants, and ``dot((x1, x2), (y1, y2))`` is one node
for x1*y1 + x2*y2. It may be written as the traces print it: ``x₁`` is ``x1``, ``−``
is ``-``, ``·`` and ``×`` are ``*``, so a caption pasted back is the same function (a
dot's caption is its sum of products: the same value, up to rounding). A value is a
number or an expression without variables (``x=pi``, ``x=-pi/2``), parsed the same
way. Everything after ``--`` is positional, so an expression starting with ``-`` goes
there: ``scalargrad -- "-x + 1" x=2``.

Options that could not all be honoured are refused, not ignored: several ``--wrt``
with a diagram or page of one input's tangents, ``--code`` or ``--steps`` with a
``--format`` they cannot print in, ``--no-trace`` with nothing to write.

Errors print one line on stderr: exit status 2 for bad input (the expression, the
values, the options, an output path that cannot be written — checked before any
work —, numbers the traces or diagrams cannot be computed for), 1 when a diagram
cannot be built, rendered or written (the ``viz`` extra is not installed, the
graph is too complex to lay out, the render times out) or the output cannot be
written (a full disk). Never a traceback, never a silent failure.

Files are written atomically (a temporary file renamed into place, so a failed
write leaves an existing file as it was) and never to a FIFO, device or directory
(:mod:`scalargrad.files`). The work is bounded: ``--max-nodes`` caps the graph of
``--draw``, ``--frames`` and ``--html``, ``--max-frames`` the frames,
``--max-layout-cost`` a diagram's layout and ``--timeout`` a render.

``--format json`` is strict JSON: non-finite numbers are the strings ``"inf"``,
``"-inf"`` and ``"nan"`` wherever they occur (:func:`json_safe`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .cli_options import (
    MAX_NODES,
    MAX_PAGE_NODES,
    UsageError,
    check_directory,
    check_limits,
    check_options,
    check_output,
    check_size,
    one_line,
    parse_args,
    parser,
    read_values,
)
from .expr import ExpressionError, parse
from .files import UnwritablePathError, shown_path
from .tables import trace

__all__ = ["json_safe", "main"]

T = TypeVar("T")

BAD_INPUT = 2
FAILED = 1

_parser = parser  # the name tests/test_ops.py reads the help by; the grammar is in cli_options


def _run(args: argparse.Namespace) -> int:
    check_options(args)
    check_limits(args)
    if args.draw is not None:
        check_output(args.output, args.image_format)
    if args.html is not None:
        check_output(args.html, None, option="--html", diagram=False)
    if args.frames is not None:
        check_directory(args.frames)
    expression = parse(args.expression)
    values = read_values(args.values)
    y, inputs = expression.build(values, share=not args.no_share)
    check_size(args, y)
    wanted: list[str] = []
    for name in args.wrt or []:
        name = unicodedata.normalize("NFKC", name.strip())  # as the expression's names are
        if name not in inputs:
            raise UsageError(f"--wrt {name}: not a variable of the expression ({', '.join(inputs)})")
        if name in wanted:
            raise UsageError(f"--wrt {name} is given more than once")
        wanted.append(name)
    wrt = [inputs[name] for name in wanted]
    # The traces are computed (and formatted) before a diagram is written, so that
    # an error in either leaves no diagram behind.
    traced: str | dict[str, Any] | None = None
    if args.no_trace:
        pass
    elif args.steps is not None:
        traced = _computed("record the steps", lambda: _steps_text(args, y, wrt))
    elif args.code:
        traced = _computed("compile the expression", lambda: _code(args, y, inputs, wrt))
    else:
        traced = _computed("trace the expression", lambda: _traces(args, y, inputs, wrt))
    diagram_path = None
    if args.draw is not None:
        diagram_path = _draw(args, y, wrt)
    if args.frames is not None:
        _frames(args, y, wrt)
    page_path = None
    if args.html is not None:
        page_path = _page(args, y, wrt)
    if isinstance(traced, dict):
        if diagram_path is not None:
            traced["diagram"] = diagram_path
        if page_path is not None:
            traced["page"] = page_path
        _write(json.dumps(json_safe(traced), ensure_ascii=False, indent=2, allow_nan=False) + "\n")
    elif traced is not None:
        _write(traced)
    return 0


def _steps_of(args: argparse.Namespace, y: Any, wrt: list[Any]) -> Any:
    from .stepping import steps

    mode = args.steps or "reverse"
    digits = args.digits if isinstance(args.digits, int) else 3
    return steps(y, mode=mode, wrt=wrt[0] if wrt and mode == "tangent" else None, digits=digits)


def _steps_text(args: argparse.Namespace, y: Any, wrt: list[Any]) -> str:
    """``--steps MODE``: one line per step, or the steps as JSON."""
    recorded = _steps_of(args, y, wrt)
    if args.format == "json":
        return str(recorded.to_json(indent=2)) + "\n"
    return f"{recorded}\n"


def _frames(args: argparse.Namespace, y: Any, wrt: list[Any]) -> None:
    from .viz import DiagramTooComplexError, RenderError, write_frames
    from .viz.frames import TooManyFramesError

    recorded = _computed("record the steps", lambda: _steps_of(args, y, wrt))
    try:
        frames = write_frames(
            recorded,
            args.frames,
            backend=args.backend,
            timeout=args.timeout,
            max_frames=args.max_frames,
            max_layout_cost=args.max_layout_cost,
        )
    except TooManyFramesError as e:
        raise UsageError(f"--frames: {e.message('--max-frames')}") from None
    except UnwritablePathError as e:
        raise UsageError(f"--frames: {one_line(e)}") from None
    except DiagramTooComplexError as e:
        raise _Failure(_too_complex(e)) from None
    except (RenderError, OSError, ImportError) as e:
        raise _Failure(one_line(e)) from None
    for fmt, why in frames.skipped.items():
        _say(f"scalargrad: {fmt} frames not written: {why}")
    formats = ", ".join(dict.fromkeys(path.suffix.lstrip(".") for path in frames))
    _say(
        f"scalargrad: wrote {len(recorded)} frames of the {recorded.mode} steps "
        f"({len(frames)} files: {formats}) to {shown_path(args.frames)}"
    )


def _page(args: argparse.Namespace, y: Any, wrt: list[Any]) -> str:
    """``--html PATH``: write the step-through page; return its path."""
    from .viz import write_walkthrough

    mode = args.steps or "reverse"
    try:
        path = write_walkthrough(
            y,
            args.html,
            wrt=wrt[0] if wrt else None,
            mode=mode,
            max_layout_cost=args.max_layout_cost,
            max_nodes=args.max_nodes if args.max_nodes is not None else MAX_PAGE_NODES,
        )
    except UnwritablePathError as e:
        raise UsageError(f"--html {one_line(e)}") from None
    except (OSError, ImportError) as e:
        raise _Failure(one_line(e)) from None
    _say(f"scalargrad: wrote the step-through page to {shown_path(path)}")
    return str(path)


def _code(args: argparse.Namespace, y: Any, inputs: dict[str, Any], wrt: list[Any]) -> str | dict[str, Any]:
    """The value and gradient as Python (``--code``): the notes' traces as statements.

    ``--format markdown`` fences the code; ``--format json`` gives the source with the
    value and the gradient it computes at the point (the compiled function's own results).
    """
    from .codegen import compile as compile_gradient

    leaves = list(inputs.values())
    targets = wrt or leaves
    compiled = compile_gradient(y, targets, inputs=leaves)
    source = str(compiled.source)
    if args.format == "markdown":
        return f"```python\n{source.rstrip()}\n```\n"
    if args.format == "json":
        value, gradient = compiled(*(leaf.data for leaf in leaves))
        return {
            "expression": args.expression,
            "values": {n: inputs[n].data for n in inputs},
            "source": source,
            "value": value,
            "gradient": {x.label: g for x, g in zip(targets, gradient)},
        }
    return source


def _write(text: str) -> None:
    """Write ``text`` to stdout and flush, so that a full disk is an error here, not at exit."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise _OutputError(f"cannot write the output: {e.strerror or one_line(e)}") from None


def json_safe(data: Any) -> Any:
    """``data`` with every non-finite float replaced by ``"inf"``, ``"-inf"`` or ``"nan"``.

    Applied to dicts, lists and tuples at any depth (iteratively), so that
    ``json.dumps(..., allow_nan=False)`` gives standard JSON (no ``Infinity`` or
    ``NaN`` tokens). The strings are the ones the trace tables print.

    >>> json_safe({"value": float("inf"), "terms": [1.5, float("nan"), (-float("inf"),)]})
    {'value': 'inf', 'terms': [1.5, 'nan', ['-inf']]}
    """

    def convert(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return "nan" if math.isnan(x) else "inf" if x > 0 else "-inf"
        return x

    root: list[Any] = [data]
    stack: list[tuple[Any, Any]] = [(root, 0)]  # (container, key) whose item is still to convert
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, dict):
            copy: Any = dict(item)
        elif isinstance(item, (list, tuple)):
            copy = list(item)
        else:
            container[key] = convert(item)
            continue
        container[key] = copy
        stack.extend((copy, k) for k in (copy.keys() if isinstance(copy, dict) else range(len(copy))))
    return root[0]


def _computed(what: str, compute: Callable[[], T]) -> T:
    """``compute()``, with the library's errors for bad numbers turned into one-line usage errors.

    The forward pass has already succeeded, so these are numbers that the traces
    or diagrams cannot be computed for (a derivative that overflows, say): a
    safety net so that the command line never prints a traceback.
    """
    try:
        return compute()
    except (ArithmeticError, ValueError) as e:
        raise UsageError(f"cannot {what}: {one_line(e)}") from None


def _traces(args: argparse.Namespace, y: Any, inputs: dict[str, Any], wrt: list[Any]) -> str | dict[str, Any]:
    """The traces as text in ``args.format``, or as JSON-able data for ``--format json``."""
    t = trace(y, wrt=wrt or None, digits=args.digits, caption=not args.no_caption)
    if args.format == "json":
        return {
            "expression": args.expression,
            "values": {n: inputs[n].data for n in inputs},
            "value": y.data,
            "trace": t.to_dict(),
        }
    return _render_trace(t, args.format or "text")


def _render_trace(t: Any, fmt: str) -> str:
    if fmt == "markdown":
        return str(t.to_markdown())
    if fmt == "latex":
        return str(t.to_latex()) + "\n"
    if fmt == "latex-document":
        return str(t.to_latex(document=True))
    if fmt == "html":
        return str(t.to_html(document=True))
    return str(t)


def _draw(args: argparse.Namespace, y: Any, wrt: list[Any]) -> str:
    try:
        from .viz import DiagramTooComplexError, RenderError, draw  # imports graphviz only here
        from .viz._dot import TooManyNodesError
    except ImportError as e:  # pragma: no cover - the viz module itself imports nothing optional
        raise _Failure(one_line(e)) from None

    def build() -> Any:
        try:
            return draw(
                y,
                kind=args.draw,
                wrt=wrt[0] if wrt else None,
                max_nodes=args.max_nodes if args.max_nodes is not None else MAX_NODES,
                digits=args.digits if isinstance(args.digits, int) else 3,
                caption=not args.no_caption,
                max_layout_cost=args.max_layout_cost,
            )
        except DiagramTooComplexError as e:  # a ValueError, but not bad input: exit 1
            raise _Failure(_too_complex(e)) from None
        except TooManyNodesError as e:
            raise UsageError(f"cannot draw the {args.draw} diagram: {e.message('--max-nodes')}") from None

    try:
        diagram = _computed(f"draw the {args.draw} diagram", build)
    except ImportError as e:  # the viz extra (the graphviz package) is not installed
        raise _Failure(one_line(e)) from None
    try:
        path = diagram.render(
            args.output, format=args.image_format, backend=args.backend, timeout=args.timeout
        )
    except ValueError as e:  # an unknown format or a path without a suffix
        raise UsageError(str(e)) from None
    except UnwritablePathError as e:  # became a FIFO, say, since it was checked
        raise UsageError(f"-o {one_line(e)}") from None
    except (RenderError, OSError, ImportError) as e:
        raise _Failure(one_line(e)) from None
    _say(f"scalargrad: wrote the {args.draw} diagram to {shown_path(path)}")
    return str(path)


def _too_complex(e: Any) -> str:
    """A DiagramTooComplexError worded for the command line (the API's remedy is no option here)."""
    remedy = f"--max-layout-cost {e.cost} lays it out anyway (it may take long), or draw a smaller graph"
    return one_line(e.message(remedy))


def _say(line: str) -> None:
    """One line on stderr; a stderr that cannot be written is not worth a traceback."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


class _Failure(Exception):
    """A diagram could not be built, rendered or written, or the output not written (exit status 1)."""


class _OutputError(_Failure):
    """The traces could not be written to stdout (exit status 1)."""


def _discard_stdout() -> None:
    """Point the real stdout at /dev/null, so the interpreter's final flush of text that
    could not be written (full disk, closed pipe) does not print an "Exception ignored"."""
    if sys.stdout is not sys.__stdout__ or sys.stdout is None:
        return
    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        return
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        try:
            args = parse_args(sys.argv[1:] if argv is None else list(argv))
        except SystemExit as e:  # --help printed the help
            _write("")
            return e.code if isinstance(e.code, int) else 0
        if args.version:
            import scalargrad  # the package's version, set in its __init__

            _write(f"scalargrad {scalargrad.__version__}\n")
            return 0
        return _run(args)
    except (UsageError, ExpressionError) as e:
        _say(f"scalargrad: error: {one_line(e)}")
        return BAD_INPUT
    except _Failure as e:
        if isinstance(e, _OutputError):
            _discard_stdout()
        _say(f"scalargrad: error: {one_line(e)}")
        return FAILED
    except BrokenPipeError:
        _discard_stdout()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
