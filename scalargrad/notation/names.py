"""Names and numbers as the notes write them, in text and in LaTeX.

One notation everywhere (tables, diagrams, formulas): v̄ᵢ for adjoints, v̄ᵢ→ⱼ for the
partial adjoint v_i passes to v_j, v̇ᵢ for tangents, with Unicode subscript digits
and a real minus sign in the text forms, and ``\\bar v_{i \\to j}`` in LaTeX. Numbers are
rounded for reading (:func:`format_number`); π, e and the constants of the derivative rules
print by name (:data:`NAMED_CONSTANTS`). :class:`Printer` writes rule results, names and
numbers in either style, and the sums of products that tangent and adjoint lines are made of.
"""

from __future__ import annotations

import functools
import gc
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from ..core import ATOM, OPS, Value
from .formula import formula, formula_parts

DOT = "\u0307"  # combining dot above: v̇
BAR = "\u0304"  # combining macron: v̄
TIMES = "·"
MINUS = "−"  # U+2212, the minus sign of displayed numbers and formulas
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUPERSCRIPTS = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")

_NEG = OPS["neg"].precedence
_MUL = OPS["mul"].precedence
_NAME = re.compile(r"([^\W\d_])([\u0304\u0307]?)([0-9]+)(?:→([0-9]+)(?:\(([0-9]+)\))?)?")
"""A numbered name: ``v3``, ``v̄3``, ``v̇3``, a partial adjoint ``v̄2→5``, and one use of a
parent its child reads at several operand positions, ``v̄2→3(1)`` (see
:meth:`scalargrad.notation.numbering.Graph.partial_name`)."""
_INDEXED = (
    re.compile(r"([^\W\d][^\s,]*[0-9])_([0-9]+(?:,[0-9]+)*)"),  # W1_1,2, x1_2: a base ending in digits, _
    re.compile(r"([^\W\d][^\s,]*?)(?<![0-9_])([0-9]+(?:,[0-9]+)+)"),  # B1,12, W̄h1,12: with commas
)
"""An array entry's label (:func:`scalargrad.arrays.entry_label`) that :data:`_NAME` does
not read: the base as written, then its 1-based indices, separated by commas."""

Rounder = Callable[[float], float]
Named = Mapping[float, tuple[str, str]]
"""Numbers printed by name in formulas: the exact double -> (text, LaTeX)."""


def _ln(c: str) -> tuple[str, str]:
    log = OPS["log"]
    return f"{log.symbol}({c})", log.latex.format(c)


@functools.lru_cache(maxsize=1024)
def ln_name(c: float) -> tuple[str, str] | None:
    """How ``ln(c)`` prints (text, LaTeX) when its formulas may name it: ``c`` positive, not 1,
    shown exactly or by name (``ln(pi)``), and ln c not a whole number or a constant named
    already (ln 2, ln 10)."""
    ln = math.log(c) if math.isfinite(c) and c > 0.0 else 0.0
    if ln.is_integer() or ln in NAMED_CONSTANTS or -ln in NAMED_CONSTANTS:
        return None
    named = NAMED_CONSTANTS.get(c)
    if named is not None:
        return _ln(named[0])[0], _ln(named[1])[1]
    shown = format_number(c)
    if float(shown) != c:
        return None
    return _ln(TEXT.numeral(shown))[0], _ln(LATEX.numeral(shown))[1]


NAMED_CONSTANTS: Named = {
    math.pi: ("pi", r"\pi"),  # π and e as captions and the expression parser name them
    math.e: ("e", "e"),
    math.log(2.0): _ln("2"),
    math.log(10.0): _ln("10"),
    2.0 / math.sqrt(math.pi): (f"(2/{OPS['sqrt'].symbol}(pi))", r"\frac{2}{\sqrt{\pi}}"),
}
"""Constants that formulas in tables and diagrams print by name, in both the symbolic and the
substituted column: π, e, and the constants of the built-in ops' derivative rules (ln 2, ln 10,
2/√π). Rounded to the table's digits they could not be checked (``1024*0.693`` is not 709.783),
so the check by hand takes them as exact, as it takes ``ln(2)`` in ``v₃ = ln(2) = 0.693``.

:meta hide-value:
"""


class Precision(NamedTuple):
    """How many digits a number shows: ``decimals``, but at least ``significant`` digits."""

    decimals: int
    significant: int


Digits = int | Precision
"""An int n means n decimals and at least n significant digits (``digits=n``)."""



@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects at once.

    A trace of 10⁵ nodes makes millions of rows, strings and dicts, none of them in
    a reference cycle; the collector's repeated passes over them cost four times
    the work itself. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def format_number(x: float, digits: Digits = 3) -> str:
    """``x`` rounded for reading: ``digits`` decimals, but at least ``digits`` significant digits.

    Integers print without a decimal point (``10``), trailing zeros are dropped
    (``0.5``), small numbers keep their significant digits (``0.00091``) and very
    large or very small ones use exponent notation. ``digits`` may also be a
    :class:`Precision` (decimals and significant digits apart). The sign is ASCII
    ``-``; the text tables print it as ``−``.

    >>> format_number(0.6931471805599453), format_number(10.0), format_number(0.000910221)
    ('0.693', '10', '0.00091')
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    places, significant = digits if isinstance(digits, Precision) else (digits, digits)
    ax = abs(x)
    if ax >= 1e15 or ax < 1e-4:
        return f"{x:.{max(places, significant)}g}"
    decimals = max(places, significant - 1 - math.floor(math.log10(ax)))
    s = f"{x:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def last_digit(shown: str) -> float:
    """One unit in the last digit of a number as :func:`format_number` prints it."""
    mantissa, _, exponent = shown.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** ((int(exponent) if exponent else 0) - decimals)


def _indexed(name: str) -> tuple[str, str] | None:
    """``(base, indices)`` of an array entry's label with commas or an ``_`` before its
    indices (``B1,12`` → ``("B", "1,12")``, ``W1_1,2`` → ``("W1", "1,2")``), else None."""
    for pattern in _INDEXED:
        m = pattern.fullmatch(name)
        if m:
            return m.group(1), m.group(2)
    return None


def visible(text: str) -> str:
    """``text`` with each control or format character (a newline, ESC, NUL, U+2028) written as
    Python writes it (``\\n``, ``\\x1b``): a label printed to a terminal or drawn cannot move
    the cursor, recolour the screen or break a line."""
    if all(unicodedata.category(c) not in _INVISIBLE for c in text):
        return text
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in _INVISIBLE else c for c in text)


def text_name(name: str) -> str:
    """A node's name as the text tables and diagrams print it: ``v̄2→5`` → ``v̄₂→₅``, ``x1`` → ``x₁``,
    one use of a repeated parent ``v̄2→3(1)`` → ``v̄₂→₃⁽¹⁾``.

    An array entry's label (:func:`scalargrad.arrays.entry_label`) prints its indices as
    subscripts, commas kept, after its name as written: ``X12`` → ``X₁₂``, ``B1,12`` →
    ``B₁,₁₂``, and for a name ending in a digit, whose indices follow an ``_``,
    ``W1_1,2`` → ``W1₁,₂`` and ``x1_2`` → ``x1₂``. Other names that are not a letter (with
    an accent) and a number are left as they are (``x_1``, ``w_hidden``, ``Ωmax``), with any
    control character written as an escape (:func:`visible`).
    """
    m = _NAME.fullmatch(name)
    if not m:
        indexed = _indexed(name)
        if indexed is None:
            return visible(name)
        base, indices = indexed
        return base + indices.translate(SUBSCRIPTS)
    letter, accent, i, j, use = m.groups()
    out = f"{letter}{accent}{i.translate(SUBSCRIPTS)}"
    if j is not None:
        out += f"→{j.translate(SUBSCRIPTS)}"
    return out if use is None else out + f"({use})".translate(SUPERSCRIPTS)


def ascii_name(name: str) -> str:
    """A row's name as :meth:`scalargrad.tables.Trace.to_dict` gives it, in ASCII: ``v3``,
    ``v̇3`` → ``v3_dot``, ``v̄3`` → ``v3_bar`` (as :func:`scalargrad.compile` names adjoints),
    ``v̄2→5`` → ``v2_bar_to_5``, ``v̄2→3(1)`` → ``v2_bar_to_3_use1``, ``∂y/∂x1`` → ``dy/dx1``.
    An input's name is user text and stays as given (``∂y/∂α`` → ``dy/dα``)."""
    parts = _derivative_head(name)
    if parts is not None:
        return f"d{parts[0]}/d{parts[1]}"
    m = _NAME.fullmatch(name)
    if m is None:
        return name
    letter, accent, i, j, use = m.groups()
    out = letter + i + {DOT: "_dot", BAR: "_bar"}.get(accent, "")
    if j is not None:
        out += f"_to_{j}"
    return out if use is None else f"{out}_use{use}"


def _latex_number(s: str) -> str:
    if s in ("inf", "-inf"):
        return s.replace("inf", r"\infty")
    if s == "nan":
        return r"\mathrm{NaN}"
    mantissa, e, exponent = s.partition("e")
    if mantissa and e and exponent[1:].isdigit():
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s


_GREEK_MACROS = (  # noqa: SIM905 (a table: letter, macro name, …)
    "α alpha β beta γ gamma δ delta ε varepsilon ζ zeta η eta θ theta ι iota κ kappa λ lambda μ mu "
    "ν nu ξ xi π pi ρ rho ς varsigma σ sigma τ tau υ upsilon φ varphi χ chi ψ psi ω omega "
    "ϵ epsilon ϑ vartheta ϕ phi ϖ varpi ϱ varrho "
    "Γ Gamma Δ Delta Θ Theta Λ Lambda Ξ Xi Π Pi Σ Sigma Υ Upsilon Φ Phi Ψ Psi Ω Omega"
).split()
GREEK_LATEX = {
    **{g: "\\" + macro for g, macro in zip(_GREEK_MACROS[::2], _GREEK_MACROS[1::2])},
    **{g: rf"{{\mathrm{{{a}}}}}" for g, a in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")},
    "ο": "o",
}
"""Greek letters in LaTeX math: their macros (``α`` → ``\\alpha``, ``Γ`` → ``\\Gamma``); the
capitals LaTeX has no macro for look like Latin ones and are those, upright (``Α`` →
``\\mathrm{A}``, as KaTeX's ``\\Alpha``), and omicron is ``o``."""


def _latex_letter(c: str) -> str:
    """One letter in math: ASCII as it is, Greek as its macro, any other as ``{\\text{é}}``."""
    return c if c.isascii() else GREEK_LATEX.get(c, rf"{{\text{{{c}}}}}")


def latex_name(name: str) -> str:
    """A name in LaTeX math: ``v3`` → ``v_{3}``, ``v̄2→5`` → ``\\bar v_{2 \\to 5}``, ``α1`` → ``\\alpha_{1}``;
    ``v̄2→3(1)`` → ``\\bar v_{2 \\to 3}^{(1)}``.

    Greek letters are their macros (:data:`GREEK_LATEX`), other non-ASCII letters stay
    UTF-8 inside ``\\text{}``, where KaTeX, MathJax, XeLaTeX and LuaLaTeX accept any
    character and pdflatex those of its UTF-8 input (accented Latin letters such as
    ``é``; not CJK, which needs XeLaTeX, LuaLaTeX or the CJK package). A longer name of
    ASCII letters, digits, ``_`` and Greek letters is ``\\mathrm{}``, any other
    ``\\text{}`` (see :func:`latex_escape`). An array entry's label subscripts its
    indices as :func:`text_name` does: ``B1,12`` → ``B_{1,12}``, ``W1_1,2`` →
    ``\\mathrm{W1}_{1,2}``.
    """
    m = _NAME.fullmatch(name)
    if m:
        letter, accent, i, j, use = m.groups()
        mark = {DOT: r"\dot ", BAR: r"\bar "}.get(accent, "")
        sub = i if j is None else rf"{i} \to {j}"
        sup = "" if use is None else f"^{{({use})}}"
        return rf"{mark}{_latex_letter(letter)}_{{{sub}}}{sup}"
    indexed = _indexed(name)
    if indexed is not None:
        base, indices = indexed
        return rf"{_latex_plain(base)}_{{{indices}}}"
    return _latex_plain(name)


def _latex_plain(name: str) -> str:
    """A name in LaTeX math, its digits not read as a subscript (see :func:`latex_name`).

    A dot or bar over a longer name is over its braced group (``\\bar{\\mathrm{W1}}``):
    pdflatex refuses ``\\bar \\mathrm{W1}``.
    """
    accent = ""
    if len(name) > 1 and name[1] in (DOT, BAR):
        accent = r"\dot" if name[1] == DOT else r"\bar"
        name = name[0] + name[2:]
    if len(name) == 1 and name.isalpha():
        return f"{accent} {_latex_letter(name)}" if accent else _latex_letter(name)
    if re.fullmatch(r"[A-Za-z0-9_ ]*", name.translate(_NO_GREEK)):
        text = "".join(rf"{{{GREEK_LATEX[c]}}}" if c in GREEK_LATEX else _LATEX_TEXT.get(c, c) for c in name)
        body = rf"\mathrm{{{text}}}"
    else:
        body = rf"\text{{{latex_escape(name)}}}"
    return rf"{accent}{{{body}}}" if accent else body


_NO_GREEK = str.maketrans(dict.fromkeys(GREEK_LATEX, "a"))
_LATEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "|": r"\textbar{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "→": r"$\to$",
    "−": "-",
    "·": r"$\cdot$",
    "∂": r"$\partial$",
    "—": "--",
    "…": r"\dots{}",
    **dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789")),
    **{g: f"${latex}$" for g, latex in GREEK_LATEX.items()},
}


def latex_escape(text: str) -> str:
    """``text`` for LaTeX text mode (``\\text{}``, ``\\textbf{}``), as KaTeX takes it too.

    LaTeX's special characters are escaped, Greek letters and the notation's symbols
    (``→``, ``·``, ``∂``, a letter with a bar or dot) become math, a control or format
    character (a newline, NUL, ESC, U+2028) is written as its escape (``\\n``, ``\\x1b``), and
    any other character stays UTF-8 (see :func:`latex_name` for what pdflatex accepts).
    """
    out = []
    for k, c in enumerate(text):
        if c in (BAR, DOT):
            continue
        mark = text[k + 1 : k + 2]
        if mark in (BAR, DOT) and c.isalpha():
            accent = r"\bar" if mark == BAR else r"\dot"
            out.append(rf"${accent}{{{_latex_letter(c)}}}$")
        elif c in _LATEX_TEXT:
            out.append(_LATEX_TEXT[c])
        elif unicodedata.category(c) in _INVISIBLE:  # shown as Python writes it: \n, \x1b
            out.append(r"\textbackslash{}" + repr(c)[2:-1])
        else:
            out.append(c)
    return "".join(out)


_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
"""Unicode categories of characters a LaTeX document cannot show (controls, format marks,
line and paragraph separators): LaTeX output writes them as escapes instead."""


def _derivative_head(name: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"∂(.+)/∂(.+)", name)
    return None if m is None else (m.group(1), m.group(2))


def _latex_head(name: str) -> str:
    """A row's left-hand side in LaTeX: ``v̄3``, ``y`` or a derivative ``∂y/∂x1``."""
    parts = _derivative_head(name)
    if parts is None:
        return latex_name(name)
    y, x = parts
    if y.startswith("(") and y.endswith(")"):
        top = r"\left(" + " + ".join(latex_name(p) for p in y[1:-1].split(" + ")) + r"\right)"
    else:
        top = latex_name(y)
    return rf"\frac{{\partial {top}}}{{\partial {latex_name(x)}}}"


def _text_head(name: str) -> str:
    """A row's left-hand side in text: ``v̄₃``, ``y`` or ``∂y/∂x₁``."""
    parts = _derivative_head(name)
    if parts is None:
        return text_name(name)
    y, x = parts
    if y.startswith("(") and y.endswith(")"):
        y = "(" + " + ".join(text_name(p) for p in y[1:-1].split(" + ")) + ")"
    else:
        y = text_name(y)
    return f"∂{y}/∂{text_name(x)}"


class Printer:
    """Prints rule results, names and numbers as text or LaTeX, through
    :func:`scalargrad.notation.formula.formula_parts`.

    Internal helper shared with :mod:`scalargrad.viz` (not public API, not in ``__all__``);
    :data:`TEXT` and :data:`LATEX` are its two instances.
    """

    def __init__(self, latex: bool) -> None:
        self.latex = latex
        self.minus = "-" if latex else MINUS

    def numeral(self, s: str) -> str:
        """A number printed by :func:`format_number` (ASCII) in this style: every ``-`` the
        minus sign ``−`` (``3.81e−06``), or LaTeX (``3.81 \\times 10^{-6}``)."""
        return _latex_number(s) if self.latex else s.replace("-", MINUS)

    def number(self, x: float, digits: Digits) -> tuple[str, int]:
        """(text, precedence) of ``x`` rounded to ``digits``; LaTeX's ``1 \\times 10^{-5}`` is a product."""
        s = format_number(x, digits)
        if self.latex:
            text = _latex_number(s)
            return text, (_NEG if s.startswith("-") else ATOM if text == s else _MUL)
        if "-" not in s:
            return s, ATOM
        return s.replace("-", MINUS), (_NEG if s.startswith("-") else ATOM)

    def operand(self, x: float, digits: Digits) -> str:
        """``x`` rounded as an operand in a formula: LaTeX's ``1 \\times 10^{-5}`` in parentheses
        (``10^{-5}^{2}`` does not compile, ``2 \\cdot 1 \\times 10^{-5}`` misreads)."""
        text, precedence = self.number(x, digits)
        return self.paren(text) if precedence == _MUL else text

    def exact(self, x: float) -> str:
        """A number as captions print it: exact, as :func:`scalargrad.notation.formula.formula` writes it
        (``1e-05``, ``pi``), in this style (``1e−05``, ``1 \\times 10^{-5}``)."""
        text = self.numeral(formula(Value(x), latex=self.latex))
        return self.paren(text) if self.latex and r"\times" in text else text

    def constant(self, x: float, digits: Digits, named: Named = NAMED_CONSTANTS) -> str:
        """A number inside a formula: by name if it is one of ``named`` (``pi``, ``−ln(2)``), else rounded."""
        found = named.get(x)
        if found is not None:
            return found[self.latex]
        found = named.get(-x)
        if found is not None:
            return self.minus + found[self.latex]
        return self.operand(x, digits)

    def name(self, name: str) -> str:
        return latex_name(name) if self.latex else text_name(name)

    def head(self, name: str) -> str:
        return _latex_head(name) if self.latex else _text_head(name)

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex else f"({s})"

    def expr(
        self, value: Any, names: dict[Value, str], digits: Digits, named: Named = NAMED_CONSTANTS
    ) -> tuple[str, int]:
        """(text, precedence) of ``value``: a float, or a Value over the leaves named in ``names``;
        numbers in it are rounded to ``digits``, those in ``named`` printed by name."""
        if not isinstance(value, Value):
            text = self.constant(float(value), digits, named)
            return text, (_NEG if text.startswith(("-", MINUS)) else ATOM)
        text, precedence = formula_parts(
            value,
            names,
            number=lambda x: self.constant(x, digits, named),
            latex=self.latex,
            max_length=2**62,
            minus=self.minus,
        )
        if self.latex:  # an operand 1 \times 10^{-5} comes in parentheses; a call adds its own
            text = _DOUBLE_PARENS.sub(r"\\left(\1\\right)", text)
        return text, precedence


_DOUBLE_PARENS = re.compile(r"\\left\(\\left\(([^()]*)\\right\)\\right\)")

TEXT = Printer(latex=False)
"""The plain-text :class:`Printer` (shared with :mod:`scalargrad.viz`)."""
LATEX = Printer(latex=True)
"""The LaTeX :class:`Printer`."""
STYLES = {"text": TEXT, "latex": LATEX}


def json_number(x: float) -> float | str:
    """A number for JSON: finite floats as they are, others as "inf", "-inf" or "nan"."""
    return x if math.isfinite(x) else format_number(x)


Printed = tuple[str, int]
"""(text, precedence) of something printed, as :meth:`Printer.expr` gives it."""


class Summand(NamedTuple):
    """One summand of a tangent or adjoint line as printed: ``text`` is added, or subtracted
    when ``minus`` (the formula's ``− v̄₇`` for a derivative −1)."""

    text: str
    minus: bool = False


def unit_derivative(derivative: str) -> int:
    """1 or −1 when a symbolic derivative is that number, which its formula leaves out
    (``v̄₈ = v̄₉``, ``v̄₅ = −v̄₇``), else 0."""
    if derivative == "1":
        return 1
    return -1 if derivative in ("-1", MINUS + "1") else 0


def _operand(printed: Printed, printer: Printer, leading: bool) -> str:
    """A number or name where a term begins: a negative number in parentheses, unless it
    leads the whole line (``−1·cos(5) + (−2)·1``, as ``−3*(−2)`` in the forward table)."""
    text, precedence = printed
    return printer.paren(text) if precedence == _NEG and not leading else text


def alone_summand(printed: Printed, printer: Printer, minus: bool, leading: bool) -> Summand:
    """A number or name that is a whole summand: a factor whose derivative is ±1, or a partial
    adjoint's value; subtracted (``−(−0.197)``) when the formula subtracts it."""
    if minus:
        text, precedence = printed
        return Summand(printer.paren(text) if precedence < ATOM else text, minus=True)
    return Summand(_operand(printed, printer, leading))


def product_summand(
    factor: Printed,
    derivative: Printed,
    unit: int,
    printer: Printer,
    derivative_first: bool,
    leading: bool,
) -> Summand:
    """``factor · derivative`` (or ``derivative · factor``) as a summand of a line.

    ``unit`` is the symbolic derivative's ±1 (see :func:`unit_derivative`): the formula then shows
    just the factor, or subtracts it, and so do its numbers, whatever the numbers are
    (``v̄₉ = −v̄₁₀ = −(−0.197)``). Every other factor is shown, ±1 and 0 included.
    ``leading``: the summand begins the line.
    """
    if unit:
        return alone_summand(factor, printer, unit == -1, leading)
    times = r" \cdot " if printer.latex else TIMES
    d_text = printer.paren(derivative[0]) if derivative[1] < ATOM else derivative[0]
    if derivative_first:
        f_text = printer.paren(factor[0]) if factor[1] < ATOM else factor[0]
        return Summand(f"{d_text}{times}{f_text}")
    return Summand(f"{_operand(factor, printer, leading)}{times}{d_text}")


def join_summands(summands: list[Summand], printer: Printer) -> str:
    """The summands joined with the formula's own ``+`` and ``−`` (a negative summand stays added)."""
    if not summands:
        return "0"
    first = summands[0]
    out = [f"{printer.minus}{first.text}" if first.minus else first.text]
    out += [f" {printer.minus if s.minus else '+'} {s.text}" for s in summands[1:]]
    return "".join(out)
