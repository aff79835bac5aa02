"""The ``scalargrad`` command line's grammar: its options, their defaults and limits, and the checks.

:func:`parse_args` reads the arguments (everything after ``--`` is positional);
the ``check_*`` functions refuse, before any work, what could not all be honoured
or would not fit the limits, each with one line naming the option: a
:class:`UsageError`, which :func:`scalargrad.cli.main` prints and exits with status 2.
What the command line then does with the options is :mod:`scalargrad.cli`.
"""

from __future__ import annotations

import argparse
import math
import os
import unicodedata
from collections.abc import Sequence
from typing import Any, NoReturn

from .expr import CONSTANTS, FUNCTIONS, SEQUENCE_FUNCTIONS, ExpressionError, constant
from .files import UnwritablePathError, check_writable, shown_path
from .viz._render import (  # the standard library only: no graphviz yet
    MAX_LAYOUT_COST,
    MAX_TIMEOUT,
    RENDER_TIMEOUT,
    check_format,
)

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

_SEQUENCE_CALLS = "".join(
    f"{name}((x1, x2), (y1, y2)) is x1*y1 + x2*y2 as one node (one pair or more);\n"
    for name in SEQUENCE_FUNCTIONS
)

_EPILOG = f"""\
functions: {", ".join(sorted(FUNCTIONS))} (log is the natural log, like ln);
{_SEQUENCE_CALLS}\
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


class UsageError(Exception):
    """Bad command-line input; the message is printed as one line."""


def one_line(e: BaseException) -> str:
    """An error's message on one line, as the command line prints every error."""
    return " ".join(str(e).split()) or type(e).__name__


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`UsageError`: one line, never an exit from here."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see scalargrad --help)")


def parser() -> argparse.ArgumentParser:
    """The command line's options and arguments, with the help ``scalargrad --help`` prints."""
    p = _Parser(
        prog="scalargrad",
        usage="%(prog)s [options] [--] expression [NAME=VALUE ...]",
        description="Print the forward, tangent (forward mode) and adjoint (reverse mode) "
        "evaluation traces of an expression, as in the lecture notes, and draw its graph.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Optional here so that it may come after "--" (see parse_args); parse_args requires it.
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options and arguments; everything after the first ``--`` is positional.

    ``parse_intermixed_args`` does not honour ``--`` before a dash-prefixed token
    such as ``-x``, so the split is done here.
    """
    rest: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    grammar = parser()
    args = grammar.parse_intermixed_args(argv)
    positional = ([] if args.expression is None else [args.expression]) + list(args.values) + rest
    if args.version:
        return args
    if not positional:
        grammar.error("the following arguments are required: expression")
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
        raise UsageError(
            f"the argument {text!a} is not valid UTF-8: write it in UTF-8, or with ASCII names "
            "and operators only"
        ) from None


def read_values(items: Sequence[str]) -> dict[str, float]:
    """``NAME=VALUE`` arguments as numbers: a VALUE is a number or a constant expression
    (``pi``, ``-pi/2``, ``2*e``), read by the expression parser, never ``eval``."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python normalises identifiers
        if not sep or not name:
            raise UsageError(f"expected NAME=VALUE, got {item!r}")
        if not name.isidentifier():
            raise UsageError(f"{name!r} is not a valid variable name (in {item!r})")
        if name in values:
            raise UsageError(f"'{name}' is given more than once")
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
            raise UsageError(f"the value of '{name}' must be a finite number, got {text!r}")
        return number
    try:
        return constant(text)
    except ExpressionError as e:
        raise UsageError(f"the value of '{name}' is not a number: {text!r} ({one_line(e)})") from None


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


def check_limits(args: argparse.Namespace) -> None:
    """Range-check the limits before any work: one error line each, never a traceback later."""
    for option, value in (
        ("--max-nodes", args.max_nodes),
        ("--max-frames", args.max_frames),
        ("--max-layout-cost", args.max_layout_cost),
    ):
        if value is not None and value < 1:
            raise UsageError(f"{option} must be positive, got {value}")
    if not 0 < args.timeout <= MAX_TIMEOUT:
        raise UsageError(
            f"--timeout must be a positive number of seconds, at most {MAX_TIMEOUT:g}, got {args.timeout:g}"
        )


def check_options(args: argparse.Namespace) -> None:
    """Refuse, before any work, options that cannot all be honoured, rather than ignore one."""
    if args.draw is None and (args.output or args.image_format):
        raise UsageError("-o/--image-format need --draw KIND")
    if args.draw is not None and not args.output:
        raise UsageError("--draw needs -o PATH, e.g. -o graph.svg")
    fmt = args.format or "text"
    if args.no_trace:
        if args.draw is None and args.html is None and args.frames is None:
            raise UsageError(
                "--no-trace prints nothing and there is nothing to write: "
                "add --draw KIND -o PATH, --html PATH or --frames DIR"
            )
        if args.code:
            raise UsageError("--code prints the code and --no-trace prints nothing: give one of them")
        if args.format is not None:
            raise UsageError(f"--format {fmt} has nothing to format: --no-trace prints nothing")
    if args.code and args.steps is not None:
        raise UsageError("--code and --steps both replace the traces: give one of them")
    if args.code and fmt not in CODE_FORMATS:
        raise UsageError(f"--code prints Python code in text, markdown or json, not --format {fmt}")
    if args.steps is not None and fmt not in STEPS_FORMATS:
        raise UsageError(f"--steps prints in {' or '.join(STEPS_FORMATS)}, not --format {fmt}")
    n = len(args.wrt or [])
    if n > 1 and args.steps == "tangent":
        raise UsageError("--steps tangent follows one input: give at most one --wrt")
    if n > 1 and args.draw == "tangent":
        raise UsageError(
            f"--draw tangent draws the tangents of one input, not of {n}: "
            "give one --wrt per diagram (--wrt x1 -o tangent_x1.svg, then --wrt x2 -o tangent_x2.svg)"
        )
    if n > 1 and args.draw == "extended":
        raise UsageError(
            f"--draw extended differentiates w.r.t. one input or, without --wrt, every input, not {n}: "
            "give at most one --wrt"
        )
    if n > 1 and args.html is not None:
        raise UsageError(f"--html shows the tangents of one input, not of {n}: give at most one --wrt")


def check_size(args: argparse.Namespace, y: Any) -> None:
    """Refuse, before any work, a graph larger than ``--max-nodes`` for the files asked for:
    a diagram and frames default to :data:`MAX_NODES` nodes, the page to :data:`MAX_PAGE_NODES`."""
    from .core import topological_order

    if args.draw is None and args.frames is None and args.html is None:
        return
    nodes = len(topological_order([y]))
    for option, wanted, default in (
        ("--frames", args.frames, MAX_NODES),
        ("--html", args.html, MAX_PAGE_NODES),
    ):
        limit = args.max_nodes if args.max_nodes is not None else default
        if wanted is not None and nodes > limit:
            raise UsageError(
                f"{option}: the graph has {nodes} nodes, more than --max-nodes {limit}; "
                "pass a larger --max-nodes to go on anyway (the work grows with the graph)"
            )


def check_directory(path: str) -> None:
    """``--frames DIR``: an existing directory, or one that can be made, before any work."""
    where = f"--frames {shown_path(path)}"
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{where}: not a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(path) and not os.path.isdir(parent):
        raise UsageError(f"{where}: the directory {shown_path(parent)} does not exist")
    if not os.access(path if os.path.exists(path) else parent, os.W_OK):
        raise UsageError(f"{where}: cannot write there")


def check_output(path: str, image_format: str | None, *, option: str = "-o", diagram: bool = True) -> None:
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
        raise UsageError(f"{option} {one_line(e)}") from None
    if diagram and image_format is None and not os.path.splitext(path)[1]:
        raise UsageError(
            f"cannot tell the format of {shown_path(path)}: give a suffix such as .svg or pass --image-format"
        )
    if diagram:
        try:
            check_format(image_format or os.path.splitext(path)[1])
        except ValueError as e:
            raise UsageError(str(e)) from None
