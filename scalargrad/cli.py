"""The ``scalargrad`` command line: the notes' trace tables and diagrams for an expression.

    scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5
    scalargrad "ln(x1) + x1*x2 - sin(x2)" x1=2 x2=5 --wrt x1 --draw adjoint -o graph.svg
    scalargrad "sigmoid(a*x + b)" x=2 a=3 b=1 --format json

The expression is parsed by :mod:`scalargrad.expr` (an ``ast`` whitelist, never
``eval``). Everything after ``--`` is positional, so an expression starting with
``-`` goes there: ``scalargrad -- "-x + 1" x=2``. Errors print one line on stderr:
exit status 2 for bad input (the expression, the values, the options, numbers the
traces or diagrams cannot be computed for), 1 when a diagram cannot be built,
rendered or written (e.g. the ``viz`` extra is not installed). Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from .expr import FUNCTIONS, ExpressionError, parse
from .trace import format_number, trace

__all__ = ["main"]

T = TypeVar("T")

BAD_INPUT = 2
FAILED = 1

_EPILOG = f"""\
functions: {", ".join(sorted(FUNCTIONS))} (log is the natural log, like ln);
operators: + - * / ** and parentheses. Start an expression that begins with '-'
after '--', e.g.  scalargrad -- "-x + 1" x=2

exit status: 0 success, 1 a diagram could not be built, rendered or written, 2 bad input.
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
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a number for each variable, e.g. x1=2")
    p.add_argument(
        "--wrt",
        action="append",
        metavar="NAME",
        help="input to run forward mode for (repeatable; default: every input)",
    )
    p.add_argument(
        "--format",
        choices=("text", "markdown", "latex", "html", "json"),
        default="text",
        help="how to print the traces (default: text)",
    )
    p.add_argument(
        "--digits", type=int, default=3, help="decimals shown in the traces and diagrams (default: 3)"
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
    p.add_argument("--max-nodes", type=int, default=150, help="largest graph to draw (default: 150)")
    p.add_argument("--no-trace", action="store_true", help="only write the diagram, print no traces")
    return p


def _values(items: Sequence[str]) -> dict[str, float]:
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
        try:
            number = float(text.strip())
        except ValueError:
            raise _UsageError(f"the value of '{name}' is not a number: {text!r}") from None
        if not math.isfinite(number):
            raise _UsageError(f"the value of '{name}' must be a finite number, got {text!r}")
        values[name] = number
    return values


def _run(args: argparse.Namespace) -> int:
    if args.draw is None and (args.output or args.image_format):
        raise _UsageError("-o/--image-format need --draw KIND")
    if args.draw is not None and not args.output:
        raise _UsageError("--draw needs -o PATH, e.g. -o graph.svg")
    if not 1 <= args.digits <= 15:
        raise _UsageError(f"--digits must be from 1 to 15, got {args.digits}")
    if args.max_nodes < 1:
        raise _UsageError(f"--max-nodes must be positive, got {args.max_nodes}")
    expression = parse(args.expression)
    values = _values(args.values)
    y, inputs = expression.build(values)
    wrt = []
    for name in args.wrt or []:
        if name not in inputs:
            raise _UsageError(f"--wrt {name}: not a variable of the expression ({', '.join(inputs)})")
        wrt.append(inputs[name])
    # The traces are computed (and formatted) before a diagram is written, so that
    # an error in either leaves no diagram behind.
    traced = None
    if not args.no_trace:
        traced = _computed("trace the expression", lambda: _traces(args, y, inputs, wrt))
    diagram_path = None
    if args.draw is not None:
        diagram_path = _draw(args, y, wrt)
    if isinstance(traced, dict):
        if diagram_path is not None:
            traced["diagram"] = diagram_path
        print(json.dumps(traced, ensure_ascii=False, indent=2))
    elif traced is not None:
        print(traced, end="")
    return 0


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
    t = trace(y, wrt=wrt or None, digits=args.digits)
    if args.format == "json":
        return {
            "expression": args.expression,
            "values": {n: inputs[n].data for n in inputs},
            "value": y.data,
            "trace": t.to_dict(),
        }
    return _render_trace(t, args.format, str(y), inputs, args.digits)


def _render_trace(t: Any, fmt: str, formula: str, inputs: dict[str, Any], digits: int) -> str:
    if fmt == "markdown":
        return str(t.to_markdown())
    if fmt == "latex":
        return str(t.to_latex()) + "\n"
    if fmt == "html":
        return str(t.to_html()) + "\n"
    at = ", ".join(f"{n} = {format_number(v.data, digits)}" for n, v in inputs.items())
    return f"y = {formula} at {at}\n\n{t}"


def _draw(args: argparse.Namespace, y: Any, wrt: list[Any]) -> str:
    from .viz import RenderError, draw  # imports graphviz only when a diagram is built

    try:
        diagram = _computed(
            f"draw the {args.draw} diagram",
            lambda: draw(
                y,
                kind=args.draw,
                wrt=wrt[0] if wrt else None,
                max_nodes=args.max_nodes,
                digits=args.digits,
            ),
        )
    except ImportError as e:  # the viz extra (the graphviz package) is not installed
        raise _Failure(_one_line(e)) from None
    try:
        path = diagram.render(args.output, format=args.image_format, backend=args.backend)
    except ValueError as e:  # an unknown format or a path without a suffix
        raise _UsageError(str(e)) from None
    except (RenderError, OSError, ImportError) as e:
        raise _Failure(_one_line(e)) from None
    print(f"scalargrad: wrote the {args.draw} diagram to {path}", file=sys.stderr)
    return str(path)


class _Failure(Exception):
    """A diagram could not be built, rendered or written (exit status 1)."""


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
    if not positional:
        parser.error("the following arguments are required: expression")
    args.expression, args.values = positional[0], positional[1:]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        return _run(_parse(sys.argv[1:] if argv is None else list(argv)))
    except (_UsageError, ExpressionError) as e:
        print(f"scalargrad: error: {_one_line(e)}", file=sys.stderr)
        return BAD_INPUT
    except _Failure as e:
        print(f"scalargrad: error: {e}", file=sys.stderr)
        return FAILED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
