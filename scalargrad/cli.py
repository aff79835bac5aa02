"""The ``scalargrad`` command line: the notes' trace tables and diagrams for an expression.

    scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5
    scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5 --wrt x1 --draw adjoint -o graph.svg
    scalargrad "sigmoid(a*x + b)" x=2 a=3 b=1 --format json
    scalargrad "ln(x₁) + x₁·x₂ − sin(x₂)" x₁=2 x₂=pi --format latex-document > trace.tex

The expression is parsed by :mod:`scalargrad.expr` (an ``ast`` whitelist, never
``eval``); identical subexpressions become one node (``--no-share`` keeps them
apart), and ``pi`` and ``e`` are constants. It may be written as the traces print
it: ``x₁`` is ``x1``, ``−`` is ``-``, ``·`` and ``×`` are ``*``, so a caption pasted
back is the same function. A value is a number or an expression without variables
(``x=pi``, ``x=-pi/2``), parsed the same way. Everything after ``--`` is positional,
so an expression starting with ``-`` goes there: ``scalargrad -- "-x + 1" x=2``.

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
from typing import Any, NoReturn, TypeVar

from .expr import CONSTANTS, FUNCTIONS, ExpressionError, constant, parse
from .files import UnwritablePathError, check_writable, shown_path
from .trace import trace
from .viz._render import (  # the standard library only: no graphviz yet
    MAX_LAYOUT_COST,
    MAX_TIMEOUT,
    RENDER_TIMEOUT,
    check_format,
)

__all__ = ["json_safe", "main"]

T = TypeVar("T")

BAD_INPUT = 2
FAILED = 1

FORMATS = ("text", "markdown", "latex", "latex-document", "html", "json")
"""The values of ``--format``: how the traces are printed."""
CODE_FORMATS = ("text", "markdown", "json")
"""The formats ``--code`` prints in: the source, the source in a fenced block, or JSON."""
STEPS_FORMATS = ("text", "json")
"""The formats ``--steps`` prints in."""
MAX_NODES = 150
"""Default ``--max-nodes`` of ``--draw`` and ``--frames``: diagrams read well up to about 50 nodes."""
MAX_PAGE_NODES = 2000
"""Default ``--max-nodes`` of ``--html`` (the page's own default, :data:`scalargrad.viz.page.MAX_NODES`)."""
MAX_FRAMES = 200
"""Default ``--max-frames`` (:data:`scalargrad.viz.frames.MAX_FRAMES`)."""

_EPILOG = f"""\
functions: {", ".join(sorted(FUNCTIONS))} (log is the natural log, like ln);
constants: {", ".join(CONSTANTS)}; operators: + - * / ** and parentheses.
What the traces print is accepted as written: x₁ is x1, − is -, · and × are *.
A VALUE is a number or an expression without variables: x=2, x=pi, x=-pi/2, x=2*e.
Identical subexpressions are one node, as in the notes' (exp(x1) + 1)*exp(x1).
Start an expression that begins with '-' after '--', e.g.  scalargrad -- "-x + 1" x=2
(or with the minus sign the traces print, which is no option:  scalargrad "−x + 1" x=2)

LaTeX: --format latex prints display-math blocks to paste into a document that
loads amsmath; --format latex-document prints a whole document for pdflatex:
  scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5 --format latex-document > t.tex

Limits (each refused with exit status 2 and the option that raises it):
--max-nodes (default {MAX_NODES} for --draw and --frames, {MAX_PAGE_NODES} for --html),
--max-frames (default {MAX_FRAMES}), --max-layout-cost (default {MAX_LAYOUT_COST}),
--timeout (default {RENDER_TIMEOUT:g}, at most {MAX_TIMEOUT:g} seconds).
Files are written atomically: a failed write leaves an existing file as it was.
A FIFO, device or directory is never written to.

exit status: 0 success; 1 a diagram could not be built, rendered or written (too
complex to lay out, a render over the time limit), or the output could not be
written; 2 bad input (including an -o PATH that cannot be written).
"""


class _UsageError(Exception):
    """Bad command-line input; the message is printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see scalargrad --help)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="scalargrad",
        usage="%(prog)s [options] [--] expression [NAME=VALUE ...]",
        description="Print the forward, tangent (forward mode) and adjoint (reverse mode) "
        "evaluation traces of an expression, as in the lecture notes, and draw its graph.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Optional here so that it may come after "--" (see _parse); _parse requires it.
    p.add_argument("expression", nargs="?", help='the expression, e.g. "ln(x1) + x1*x2 - sin(x2)"')
    p.add_argument(
        "values",
        nargs="*",
        metavar="NAME=VALUE",
        help="a number for each variable, e.g. x1=2, x₁=2, x=pi or x=-pi/2",
    )
    p.add_argument(
        "--wrt",
        action="append",
        metavar="NAME",
        help="input to run forward mode for (repeatable; default: every input). A tangent "
        "diagram, an extended diagram and the --html page follow one input: give at most one",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="how to print the traces: text (default); markdown; latex, display-math blocks to paste "
        "into a LaTeX document that loads amsmath (a fragment: pdflatex cannot compile it alone); "
        "latex-document, a complete LaTeX document for pdflatex; html, a complete web page; json. "
        "With --code: text, markdown (a fenced block) or json; with --steps: text or json",
    )
    p.add_argument(
        "--digits",
        type=_digits,
        default="auto",
        help="decimals shown in the traces and diagrams, or 'auto': per table, the fewest (3 to 8) at "
        "which every line can be checked by hand (default: auto; diagrams then show 3)",
    )
    p.add_argument(
        "--steps",
        choices=("forward", "tangent", "reverse", "extend"),
        metavar="MODE",
        help="print the notes' algorithm step by step instead of the traces: forward, tangent, "
        "reverse (the node_to_grad algorithm) or extend",
    )
    p.add_argument(
        "--frames",
        metavar="DIR",
        help="write one diagram per step into DIR (svg and png) for slides: the --steps mode, or reverse",
    )
    p.add_argument(
        "--html",
        metavar="PATH",
        help="write an offline web page stepping through every mode, with the trace tables "
        "(enough on its own; add --no-trace to print nothing)",
    )
    p.add_argument(
        "--code",
        action="store_true",
        help="print the value-and-gradient code (scalargrad.compile) instead of the traces; "
        "--format markdown puts it in a fenced block, --format json adds the value and gradient",
    )
    p.add_argument(
        "--no-caption",
        action="store_true",
        help="no caption (the expression and the point) above the traces and the diagram",
    )
    p.add_argument(
        "--draw",
        choices=("forward", "tangent", "adjoint", "extended"),
        metavar="KIND",
        help="also write a diagram: forward, tangent, adjoint or extended (needs -o)",
    )
    p.add_argument("-o", "--output", metavar="PATH", help="where to write the diagram, e.g. graph.svg")
    p.add_argument(
        "--image-format",
        metavar="FMT",
        help="diagram format (svg, png, pdf, dot, json, plain; default: from the suffix of -o)",
    )
    p.add_argument(
        "--backend",
        choices=("auto", "system", "wasm"),
        default="auto",
        help="Graphviz to render with: the system `dot`, WebAssembly, or auto (default)",
    )
    p.add_argument(
        "--max-nodes",
        type=int,
        metavar="N",
        help=f"largest graph to draw (default: {MAX_NODES} for --draw and --frames, "
        f"{MAX_PAGE_NODES} for --html)",
    )
    p.add_argument(
        "--max-frames",
        type=int,
        default=MAX_FRAMES,
        metavar="N",
        help=f"most frames --frames writes, one per step (default: {MAX_FRAMES})",
    )
    p.add_argument(
        "--max-layout-cost",
        type=int,
        default=MAX_LAYOUT_COST,
        metavar="N",
        help=f"largest layout cost of a diagram, about its nodes plus the ranks its edges cross "
        f"(default: {MAX_LAYOUT_COST}, a few seconds to lay out; the time grows as its cube)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=RENDER_TIMEOUT,
        metavar="SECONDS",
        help=f"longest a diagram's render may take (default: {RENDER_TIMEOUT:g}, at most {MAX_TIMEOUT:g})",
    )
    p.add_argument(
        "--no-trace",
        action="store_true",
        help="print nothing, only write the files of --draw, --html or --frames (needs one of them)",
    )
    p.add_argument(
        "--no-share",
        action="store_true",
        help="make a node for every occurrence of a repeated subexpression (default: one node)",
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def _values(items: Sequence[str]) -> dict[str, float]:
    """``NAME=VALUE`` arguments as numbers: a VALUE is a number or a constant expression
    (``pi``, ``-pi/2``, ``2*e``), read by the expression parser, never ``eval``."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python normalises identifiers
        if not sep or not name:
            raise _UsageError(f"expected NAME=VALUE, got {item!r}")
        if not name.isidentifier():
            raise _UsageError(f"{name!r} is not a valid variable name (in {item!r})")
        if name in values:
            raise _UsageError(f"'{name}' is given more than once")
        values[name] = _value(name, text)
    return values


def _value(name: str, text: str) -> float:
    """One VALUE: a plain number as ``float`` reads it, else a constant expression."""
    try:
        number = float(text.strip())
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise _UsageError(f"the value of '{name}' must be a finite number, got {text!r}")
        return number
    try:
        return constant(text)
    except ExpressionError as e:
        raise _UsageError(f"the value of '{name}' is not a number: {text!r} ({_one_line(e)})") from None


def _digits(text: str) -> int | str:
    """``--digits``: ``auto`` or an integer from 1 to 15."""
    if text == "auto":
        return "auto"
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or an integer from 1 to 15, got {text!r}") from None
    if not 1 <= n <= 15:
        raise argparse.ArgumentTypeError(f"must be 'auto' or an integer from 1 to 15, got {n}")
    return n


def _check_limits(args: argparse.Namespace) -> None:
    """Range-check the limits before any work: one error line each, never a traceback later."""
    for option, value in (
        ("--max-nodes", args.max_nodes),
        ("--max-frames", args.max_frames),
        ("--max-layout-cost", args.max_layout_cost),
    ):
        if value is not None and value < 1:
            raise _UsageError(f"{option} must be positive, got {value}")
    if not 0 < args.timeout <= MAX_TIMEOUT:
        raise _UsageError(
            f"--timeout must be a positive number of seconds, at most {MAX_TIMEOUT:g}, got {args.timeout:g}"
        )


def _check_options(args: argparse.Namespace) -> None:
    """Refuse, before any work, options that cannot all be honoured, rather than ignore one."""
    if args.draw is None and (args.output or args.image_format):
        raise _UsageError("-o/--image-format need --draw KIND")
    if args.draw is not None and not args.output:
        raise _UsageError("--draw needs -o PATH, e.g. -o graph.svg")
    fmt = args.format or "text"
    if args.no_trace:
        if args.draw is None and args.html is None and args.frames is None:
            raise _UsageError(
                "--no-trace prints nothing and there is nothing to write: "
                "add --draw KIND -o PATH, --html PATH or --frames DIR"
            )
        if args.code:
            raise _UsageError("--code prints the code and --no-trace prints nothing: give one of them")
        if args.format is not None:
            raise _UsageError(f"--format {fmt} has nothing to format: --no-trace prints nothing")
    if args.code and args.steps is not None:
        raise _UsageError("--code and --steps both replace the traces: give one of them")
    if args.code and fmt not in CODE_FORMATS:
        raise _UsageError(f"--code prints Python code in text, markdown or json, not --format {fmt}")
    if args.steps is not None and fmt not in STEPS_FORMATS:
        raise _UsageError(f"--steps prints in {' or '.join(STEPS_FORMATS)}, not --format {fmt}")
    n = len(args.wrt or [])
    if n > 1 and args.steps == "tangent":
        raise _UsageError("--steps tangent follows one input: give at most one --wrt")
    if n > 1 and args.draw == "tangent":
        raise _UsageError(
            f"--draw tangent draws the tangents of one input, not of {n}: "
            "give one --wrt per diagram (--wrt x1 -o tangent_x1.svg, then --wrt x2 -o tangent_x2.svg)"
        )
    if n > 1 and args.draw == "extended":
        raise _UsageError(
            f"--draw extended differentiates w.r.t. one input or, without --wrt, every input, not {n}: "
            "give at most one --wrt"
        )
    if n > 1 and args.html is not None:
        raise _UsageError(f"--html shows the tangents of one input, not of {n}: give at most one --wrt")


def _run(args: argparse.Namespace) -> int:
    _check_options(args)
    _check_limits(args)
    if args.draw is not None:
        _check_output(args.output, args.image_format)
    if args.html is not None:
        _check_output(args.html, None, option="--html", diagram=False)
    if args.frames is not None:
        _check_directory(args.frames)
    expression = parse(args.expression)
    values = _values(args.values)
    y, inputs = expression.build(values, share=not args.no_share)
    _check_size(args, y)
    wanted: list[str] = []
    for name in args.wrt or []:
        name = unicodedata.normalize("NFKC", name.strip())  # as the expression's names are
        if name not in inputs:
            raise _UsageError(f"--wrt {name}: not a variable of the expression ({', '.join(inputs)})")
        if name in wanted:
            raise _UsageError(f"--wrt {name} is given more than once")
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
    from .steps import steps

    mode = args.steps or "reverse"
    digits = args.digits if isinstance(args.digits, int) else 3
    return steps(y, mode=mode, wrt=wrt[0] if wrt and mode == "tangent" else None, digits=digits)


def _steps_text(args: argparse.Namespace, y: Any, wrt: list[Any]) -> str:
    """``--steps MODE``: one line per step, or the steps as JSON."""
    recorded = _steps_of(args, y, wrt)
    if args.format == "json":
        return str(recorded.to_json(indent=2)) + "\n"
    return f"{recorded}\n"


def _check_size(args: argparse.Namespace, y: Any) -> None:
    """Refuse, before any work, a graph larger than ``--max-nodes`` for the files asked for:
    a diagram and frames default to :data:`MAX_NODES` nodes, the page to :data:`MAX_PAGE_NODES`."""
    from .engine import topological_order

    if args.draw is None and args.frames is None and args.html is None:
        return
    nodes = len(topological_order([y]))
    for option, wanted, default in (
        ("--frames", args.frames, MAX_NODES),
        ("--html", args.html, MAX_PAGE_NODES),
    ):
        limit = args.max_nodes if args.max_nodes is not None else default
        if wanted is not None and nodes > limit:
            raise _UsageError(
                f"{option}: the graph has {nodes} nodes, more than --max-nodes {limit}; "
                "pass a larger --max-nodes to go on anyway (the work grows with the graph)"
            )


def _check_directory(path: str) -> None:
    """``--frames DIR``: an existing directory, or one that can be made, before any work."""
    where = f"--frames {shown_path(path)}"
    if os.path.exists(path) and not os.path.isdir(path):
        raise _UsageError(f"{where}: not a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(path) and not os.path.isdir(parent):
        raise _UsageError(f"{where}: the directory {shown_path(parent)} does not exist")
    if not os.access(path if os.path.exists(path) else parent, os.W_OK):
        raise _UsageError(f"{where}: cannot write there")


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
        raise _UsageError(f"--frames: {e.message('--max-frames')}") from None
    except UnwritablePathError as e:
        raise _UsageError(f"--frames: {_one_line(e)}") from None
    except DiagramTooComplexError as e:
        raise _Failure(_too_complex(e)) from None
    except (RenderError, OSError, ImportError) as e:
        raise _Failure(_one_line(e)) from None
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
        raise _UsageError(f"--html {_one_line(e)}") from None
    except (OSError, ImportError) as e:
        raise _Failure(_one_line(e)) from None
    _say(f"scalargrad: wrote the step-through page to {shown_path(path)}")
    return str(path)


def _code(args: argparse.Namespace, y: Any, inputs: dict[str, Any], wrt: list[Any]) -> str | dict[str, Any]:
    """The value and gradient as Python (``--code``): the notes' traces as statements.

    ``--format markdown`` fences the code; ``--format json`` gives the source with the
    value and the gradient it computes at the point (the compiled function's own results).
    """
    from .compile import compile as compile_gradient

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


def _check_output(path: str, image_format: str | None, *, option: str = "-o", diagram: bool = True) -> None:
    """Refuse, before any work, an output path that cannot take the diagram.

    :func:`scalargrad.files.check_writable` refuses a directory, a FIFO (writing
    would block until a reader comes), a device or socket, a missing or
    non-directory parent, and (probing with a temporary file, as the atomic write
    will make one) a directory that cannot be written in. For a diagram, the
    format (from ``--image-format`` or the suffix) is checked too; ``option``
    names the option in messages.
    """
    try:
        check_writable(path, probe=True)
    except UnwritablePathError as e:
        raise _UsageError(f"{option} {_one_line(e)}") from None
    if diagram and image_format is None and not os.path.splitext(path)[1]:
        raise _UsageError(
            f"cannot tell the format of {shown_path(path)}: give a suffix such as .svg or pass --image-format"
        )
    if diagram:
        try:
            check_format(image_format or os.path.splitext(path)[1])
        except ValueError as e:
            raise _UsageError(str(e)) from None


def _write(text: str) -> None:
    """Write ``text`` to stdout and flush, so that a full disk is an error here, not at exit."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise _OutputError(f"cannot write the output: {e.strerror or _one_line(e)}") from None


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
        raise _UsageError(f"cannot {what}: {_one_line(e)}") from None


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
        raise _Failure(_one_line(e)) from None

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
            raise _UsageError(f"cannot draw the {args.draw} diagram: {e.message('--max-nodes')}") from None

    try:
        diagram = _computed(f"draw the {args.draw} diagram", build)
    except ImportError as e:  # the viz extra (the graphviz package) is not installed
        raise _Failure(_one_line(e)) from None
    try:
        path = diagram.render(
            args.output, format=args.image_format, backend=args.backend, timeout=args.timeout
        )
    except ValueError as e:  # an unknown format or a path without a suffix
        raise _UsageError(str(e)) from None
    except UnwritablePathError as e:  # became a FIFO, say, since it was checked
        raise _UsageError(f"-o {_one_line(e)}") from None
    except (RenderError, OSError, ImportError) as e:
        raise _Failure(_one_line(e)) from None
    _say(f"scalargrad: wrote the {args.draw} diagram to {shown_path(path)}")
    return str(path)


def _too_complex(e: Any) -> str:
    """A DiagramTooComplexError worded for the command line (the API's remedy is no option here)."""
    remedy = f"--max-layout-cost {e.cost} lays it out anyway (it may take long), or draw a smaller graph"
    return _one_line(e.message(remedy))


def _say(line: str) -> None:
    """One line on stderr; a stderr that cannot be written is not worth a traceback."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


class _Failure(Exception):
    """A diagram could not be built, rendered or written, or the output not written (exit status 1)."""


class _OutputError(_Failure):
    """The traces could not be written to stdout (exit status 1)."""


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _parse(argv: list[str]) -> argparse.Namespace:
    """The options and arguments; everything after the first ``--`` is positional.

    ``parse_intermixed_args`` does not honour ``--`` before a dash-prefixed token
    such as ``-x``, so the split is done here.
    """
    rest: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    parser = _parser()
    args = parser.parse_intermixed_args(argv)
    positional = ([] if args.expression is None else [args.expression]) + list(args.values) + rest
    if args.version:
        return args
    if not positional:
        parser.error("the following arguments are required: expression")
    args.expression, args.values = positional[0], positional[1:]
    args.expression = _from_argv(args.expression)
    args.values = [_from_argv(v) for v in args.values]
    args.wrt = None if args.wrt is None else [_from_argv(w) for w in args.wrt]
    return args


def _from_argv(text: str) -> str:
    """An argument as text: where Python decoded the command line in a non-UTF-8 locale (the C
    locale without UTF-8 mode), bytes it could not read are lone surrogates (``surrogateescape``),
    and ``α`` arrives as two of them; they are read again as UTF-8. Not for paths, which the
    file system wants back as they came."""
    if not any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        return text
    try:
        return os.fsencode(text).decode("utf-8")
    except (UnicodeError, ValueError):
        raise _UsageError(
            f"the argument {text!a} is not valid UTF-8: write it in UTF-8, or with ASCII names "
            "and operators only"
        ) from None


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
            args = _parse(sys.argv[1:] if argv is None else list(argv))
        except SystemExit as e:  # --help printed the help
            _write("")
            return e.code if isinstance(e.code, int) else 0
        if args.version:
            import scalargrad  # the package's version, set in its __init__

            _write(f"scalargrad {scalargrad.__version__}\n")
            return 0
        return _run(args)
    except (_UsageError, ExpressionError) as e:
        _say(f"scalargrad: error: {_one_line(e)}")
        return BAD_INPUT
    except _Failure as e:
        if isinstance(e, _OutputError):
            _discard_stdout()
        _say(f"scalargrad: error: {_one_line(e)}")
        return FAILED
    except BrokenPipeError:
        _discard_stdout()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
