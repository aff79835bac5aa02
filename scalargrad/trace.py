"""The notes' evaluation traces: forward, tangent (forward mode) and adjoint (reverse mode) tables.

:func:`trace` numbers a graph's nodes the way the lecture notes do — inputs
``v₁…vₖ`` first, then the intermediates by depth — and writes out each step::

    v₃ = ln(v₁) = ln(2) = 0.693                                   (forward evaluation)
    v̇₄ = v₂·v̇₁ + v₁·v̇₂ = 5·1 + 2·0 = 5                            (tangents w.r.t. x₁)
    v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716  (adjoints)

The numbers mirror the formula term by term: every name is replaced by its value, ±1 and 0
included (``v̄₂ = v̄₃·v₁ = 1·(−1)``), with the formula's own ``+`` and ``−`` (``0 + (−2)``,
``−(−0.197)``); a negative number inside a term comes in parentheses unless it leads the line.
A derivative ±1 is left out of the formula (``v̄₈ = v̄₉``, ``v̄₅ = −v̄₇``) and so of its numbers.

One notation everywhere (tables, diagrams, formulas): v̄ᵢ for adjoints, v̄ᵢ→ⱼ for the
partial adjoint v_i passes to v_j, v̇ᵢ for tangents, with Unicode subscript digits
and a real minus sign in the text forms, and ``\\bar v_{i \\to j}`` in LaTeX.

The local derivative formulas (``cos(v₂)``, ``v₁``, ``1/v₁``) come from each op's
single definition: its ``rule`` is evaluated on named leaf Values and printed with
the op's own symbol, notation and precedence. Numbers in ops (the ``2`` in
``2*x``) are shown inline; π, e and the constants of the derivative rules (ln 2,
ln 10, 2/√π, ln c in ``c**x``) by name (``pi``, ``v₂*ln(2)``), exact as ``ln(2)``
is in ``v₃ = ln(2)``. The adjoint table's numbers are the one reverse walk's
(:func:`scalargrad.adjoints`), with each node's partial adjoints in the order the
walk summed them, so they equal ``backward`` and ``grad`` to the last bit.

With ``digits="auto"`` (the default) each table shows the fewest digits (3 to 8)
at which every line can be checked by hand: recomputing it from exactly what it
shows (each number as printed, each named constant exact) gives the result it
shows, to its last digit (give or take one unit there, as sums of rounded numbers do).
"""

from __future__ import annotations

import functools
import gc
import html
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .autodiff import adjoints, tangents
from .engine import ATOM, OPS, Partial, Value, evaluation_order, formula, formula_parts

__all__ = ["Row", "Table", "Trace", "format_number", "text_name", "trace"]

DOT = "\u0307"  # combining dot above: v̇
BAR = "\u0304"  # combining macron: v̄
TIMES = "·"
MINUS = "−"  # U+2212, the minus sign of displayed numbers and formulas
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
AUTO_DIGITS_MAX_ROWS = 5000
"""Tables longer than this are shown with 3 digits under ``digits="auto"`` (checking
every line at several precisions would cost more than the table)."""

_NEG = OPS["neg"].precedence
_MUL = OPS["mul"].precedence
_NAME = re.compile(r"([^\W\d_])([\u0304\u0307]?)([0-9]+)(?:→([0-9]+))?")
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
def _ln_name(c: float) -> tuple[str, str] | None:
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
so the check by hand takes them as exact, as it takes ``ln(2)`` in ``v₃ = ln(2) = 0.693``."""


class Precision(NamedTuple):
    """How many digits a number shows: ``decimals``, but at least ``significant`` digits."""

    decimals: int
    significant: int


Digits = int | Precision
"""An int n means n decimals and at least n significant digits (``digits=n``)."""

AUTO_DIGITS = tuple(Precision(d, 2) for d in range(3, 9))
"""The precisions ``digits="auto"`` tries, fewest first: 3 to 8 decimals, at least 2
significant digits (``0.00091``; more significant digits than an operand carries could
never be recomputed from it)."""


# --------------------------------------------------------------------------- #
# names and numbers                                                            #
# --------------------------------------------------------------------------- #


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
    """A node's name as the text tables and diagrams print it: ``v̄2→5`` → ``v̄₂→₅``, ``x1`` → ``x₁``.

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
    letter, accent, i, j = m.groups()
    out = f"{letter}{accent}{i.translate(SUBSCRIPTS)}"
    return out if j is None else f"{out}→{j.translate(SUBSCRIPTS)}"


def ascii_name(name: str) -> str:
    """A row's name as :meth:`Trace.to_dict` gives it, in ASCII: ``v3``, ``v̇3`` → ``v3_dot``,
    ``v̄3`` → ``v3_bar`` (as :func:`scalargrad.compile` names adjoints), ``v̄2→5`` →
    ``v2_bar_to_5``, ``∂y/∂x1`` → ``dy/dx1``. An input's name is user text and stays as
    given (``∂y/∂α`` → ``dy/dα``)."""
    parts = _derivative_head(name)
    if parts is not None:
        return f"d{parts[0]}/d{parts[1]}"
    m = _NAME.fullmatch(name)
    if m is None:
        return name
    letter, accent, i, j = m.groups()
    out = letter + i + {DOT: "_dot", BAR: "_bar"}.get(accent, "")
    return out if j is None else f"{out}_to_{j}"


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


def _latex_name(name: str) -> str:
    """A name in LaTeX math: ``v3`` → ``v_{3}``, ``v̄2→5`` → ``\\bar v_{2 \\to 5}``, ``α1`` → ``\\alpha_{1}``.

    Greek letters are their macros (:data:`GREEK_LATEX`), other non-ASCII letters stay
    UTF-8 inside ``\\text{}``, where KaTeX, MathJax, XeLaTeX and LuaLaTeX accept any
    character and pdflatex those of its UTF-8 input (accented Latin letters such as
    ``é``; not CJK, which needs XeLaTeX, LuaLaTeX or the CJK package). A longer name of
    ASCII letters, digits, ``_`` and Greek letters is ``\\mathrm{}``, any other
    ``\\text{}`` (see :func:`_latex_escape`). An array entry's label subscripts its
    indices as :func:`text_name` does: ``B1,12`` → ``B_{1,12}``, ``W1_1,2`` →
    ``\\mathrm{W1}_{1,2}``.
    """
    m = _NAME.fullmatch(name)
    if m:
        letter, accent, i, j = m.groups()
        mark = {DOT: r"\dot ", BAR: r"\bar "}.get(accent, "")
        sub = i if j is None else rf"{i} \to {j}"
        return rf"{mark}{_latex_letter(letter)}_{{{sub}}}"
    indexed = _indexed(name)
    if indexed is not None:
        base, indices = indexed
        return rf"{_latex_plain(base)}_{{{indices}}}"
    return _latex_plain(name)


def _latex_plain(name: str) -> str:
    """A name in LaTeX math, its digits not read as a subscript (see :func:`_latex_name`).

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
        body = rf"\text{{{_latex_escape(name)}}}"
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


def _latex_escape(text: str) -> str:
    """``text`` for LaTeX text mode (``\\text{}``, ``\\textbf{}``), as KaTeX takes it too.

    LaTeX's special characters are escaped, Greek letters and the notation's symbols
    (``→``, ``·``, ``∂``, a letter with a bar or dot) become math, a control or format
    character (a newline, NUL, ESC, U+2028) is written as its escape (``\\n``, ``\\x1b``), and
    any other character stays UTF-8 (see :func:`_latex_name` for what pdflatex accepts).
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
        return _latex_name(name)
    y, x = parts
    if y.startswith("(") and y.endswith(")"):
        top = r"\left(" + " + ".join(_latex_name(p) for p in y[1:-1].split(" + ")) + r"\right)"
    else:
        top = _latex_name(y)
    return rf"\frac{{\partial {top}}}{{\partial {_latex_name(x)}}}"


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
    """Prints rule results, names and numbers as text or LaTeX, through ``engine.formula_parts``.

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
        """A number as captions print it: exact, as :func:`engine.formula` writes it
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
        return _latex_name(name) if self.latex else text_name(name)

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


# --------------------------------------------------------------------------- #
# the tables                                                                   #
# --------------------------------------------------------------------------- #


@dataclass
class Term:
    """One summand of a tangent or adjoint: ``factor · derivative`` (or just a seed).

    ``derivative_at(round)`` recomputes the local derivative from what its formula
    shows, to check a line by hand (see ``digits="auto"``); ``named`` are the numbers
    the formula prints by name (see :meth:`Graph.constants`).
    """

    factor: str  # the tangent v̇k or adjoint v̄i it multiplies, "" for an output's seed
    factor_value: float
    derivative: Any  # rule result: float or Value over the named leaves
    value: float
    partial: str = ""  # for adjoints: the partial adjoint's name, e.g. v̄2→5
    derivative_at: Callable[[Rounder], float] | None = None
    named: Named = field(default_factory=lambda: NAMED_CONSTANTS)


@dataclass
class Row:
    """One line of a table: ``name = formula = substituted [= partial values] = value``."""

    name: str
    value: float
    formula: dict[str, str] = field(default_factory=dict)  # style -> text, "" if none
    substituted: dict[str, str] = field(default_factory=dict)
    partials: dict[str, str] = field(default_factory=dict)
    terms: list[dict[str, Any]] = field(default_factory=list)
    label: str | None = None
    definition: Any = None  # forward rows: the op over the named leaves
    recompute: Callable[[Rounder], float] | None = None  # forward rows: the value from what they show
    summands: list[Term] = field(default_factory=list)  # tangent and adjoint rows

    def parts(self, style: str, digits: Digits) -> list[str]:
        """The row's sides in ``style`` ("text" or "latex"), without repeats."""
        printer = STYLES[style]
        out = [printer.head(self.name)]
        if self.label is not None:
            out.append(printer.name(self.label))
        for piece in (
            self.formula.get(style, ""),
            self.substituted.get(style, ""),
            self.partials.get(style, ""),
        ):
            if piece and piece != out[-1]:
                out.append(piece)
        value = printer.number(self.value, digits)[0]
        if value != out[-1] or len(out) == 1:
            out.append(value)
        return out


@dataclass
class Table:
    """A titled list of rows, followed by summary rows such as ``∂y/∂x1 = v̇7 = 5.5``.

    ``digits`` is the precision the table is shown with; ``caption`` says what was
    traced (the expression and the point, and for tangents the input), or is None.
    """

    kind: str  # "forward", "tangent" or "adjoint"
    title: str
    rows: list[Row]
    summary: list[Row]
    wrt: str | None = None
    digits: Digits = 3
    caption: str | None = None
    latex_caption: str | None = None
    graph: Graph | None = field(default=None, repr=False, compare=False)
    styles: set[str] = field(default_factory=set, repr=False, compare=False)

    def ensure(self, style: str) -> Table:
        """Write the rows' formulas in ``style`` ("text" or "latex") if not yet done.

        Tables are written on demand, one style at a time, so a long trace costs
        only the form it is printed in.
        """
        if style not in self.styles and self.graph is not None:
            with bulk():
                _render(self, self.graph, style)
            self.styles.add(style)
        return self


_PAGE_STYLE = """\
table.scalargrad-trace { border-collapse: collapse; margin: 0.6em 0 1.2em 0;
  font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 0.95em; }
table.scalargrad-trace caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
table.scalargrad-trace caption .what { display: block; font-weight: normal; color: #444; }
table.scalargrad-trace th, table.scalargrad-trace td { border: 1px solid #bbb; padding: 0.25em 0.8em; }
table.scalargrad-trace th { background: #f2f2f2; }
table.scalargrad-trace td.value { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; padding-left: 1.5em; }
table.scalargrad-trace tr.summary td { border-top: 2px solid #888; font-weight: bold; }
table.scalargrad-trace tr.summary + tr.summary td { border-top: 1px solid #bbb; }
"""


class Trace:
    """The forward, tangent and adjoint tables of a graph (see :func:`trace`).

    ``str(trace)`` is plain text; ``to_markdown()``, ``to_latex()`` and
    ``to_html()`` give the other formats (and Jupyter displays it inline);
    ``to_dict()``/``to_json()`` give the tables as data.
    """

    def __init__(self, tables: list[Table], digits: int | str, caption: str | None = None) -> None:
        self.tables = tables
        self.digits = digits
        """What was asked for: an int, or ``"auto"`` (each table's own is ``Table.digits``)."""
        self.caption = caption
        """What was traced (expression and point), or None."""

    @property
    def forward(self) -> Table:
        """The forward evaluation trace."""
        return next(t for t in self.tables if t.kind == "forward")

    @property
    def tangents(self) -> list[Table]:
        """One forward-mode (tangent) table per input differentiated against."""
        return [t for t in self.tables if t.kind == "tangent"]

    @property
    def adjoint(self) -> Table:
        """The reverse-mode (adjoint) table."""
        return next(t for t in self.tables if t.kind == "adjoint")

    # ------------------------------------------------------------------ text
    def lines(self, table: Table) -> list[str]:
        """The plain-text lines of one table (without its title)."""
        table.ensure("text")
        return [" = ".join(r.parts("text", table.digits)) for r in table.rows + table.summary]

    def to_text(self) -> str:
        """All tables as plain text, each under its title, below the caption if there is one."""
        blocks = [] if self.caption is None else [visible(self.caption)]
        for t in self.tables:
            blocks.append("\n".join([t.title, *("  " + line for line in self.lines(t))]))
        return "\n\n".join(blocks) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        kinds = ", ".join(t.kind if t.wrt is None else f"{t.kind}({t.wrt})" for t in self.tables)
        return f"<Trace: {len(self.forward.rows)} nodes; {kinds}>"

    # ------------------------------------------------------------ rich forms
    def latex_blocks(self) -> list[str]:
        """One display-math block per table: its title, caption and aligned rows.

        Each block is ``$$\\begin{gathered}…\\end{gathered}$$`` with the rows in
        ``aligned``: valid in LaTeX with amsmath, in KaTeX and in MathJax alike.
        """
        blocks = []
        for t in self.tables:
            lines = []
            for r in t.ensure("latex").rows + t.summary:
                head, *rest = r.parts("latex", t.digits)
                lines.append(f"{head} &= " + " = ".join(rest))
            body = " \\\\\n".join(lines)
            top = [rf"\textbf{{{_latex_escape(t.title)}}}"]
            if t.latex_caption is not None:
                top.append(t.latex_caption)
            head = " \\\\\n".join(top)
            blocks.append(
                f"$$\\begin{{gathered}}\n{head} \\\\\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n"
                "\\end{gathered}$$"
            )
        return blocks

    def to_latex(self, *, document: bool = False) -> str:
        """All tables as LaTeX display math (see :meth:`latex_blocks`).

        ``document=True`` gives a complete document (``article`` with ``amsmath``)
        that ``pdflatex`` compiles as it is.
        """
        body = "\n\n".join(self.latex_blocks())
        if not document:
            return body
        return (
            "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage[margin=2cm]{geometry}\n"
            f"\\begin{{document}}\n\\allowdisplaybreaks\n{body}\n\\end{{document}}\n"
        )

    def _cells(self, r: Row, style: str, digits: Digits) -> tuple[str, str, str]:
        head, *rest = r.parts(style, digits)  # the caller ensured the style
        if len(rest) == 1:
            return head, "", rest[0]
        return head, " = ".join(rest[:-1]), rest[-1]

    def to_markdown(self) -> str:
        """All tables as Markdown tables with LaTeX math cells, under the caption line."""
        blocks = [] if self.caption is None else [self.caption]
        for t in self.tables:
            rows = [f"**{t.title}**", "", "| node | definition | value |", "| --- | --- | ---: |"]
            for r in t.ensure("latex").rows + t.summary:
                head, middle, value = self._cells(r, "latex", t.digits)
                mid = f"${middle}$" if middle else ""
                rows.append(f"| ${head}$ | {mid} | ${value}$ |")
            blocks.append("\n".join(rows))
        return "\n\n".join(blocks) + "\n"

    def to_html(self, *, document: bool = False) -> str:
        """All tables as styled HTML ``<table>`` elements (a fragment with its ``<style>``).

        ``document=True`` gives a complete page (doctype, UTF-8 charset, title).
        """
        blocks = [f"<style>\n{_PAGE_STYLE}</style>"]
        for t in self.tables:
            caption = html.escape(t.title)
            if t.caption is not None:
                caption += f"<span class='what'>{html.escape(t.caption)}</span>"
            rows = [
                "<table class='scalargrad-trace'>",
                f"<caption>{caption}</caption>",
                "<tr><th>node</th><th>definition</th><th>value</th></tr>",
            ]
            for r in t.ensure("text").rows:
                rows.append(self._html_row(r, t.digits, ""))
            for r in t.summary:
                rows.append(self._html_row(r, t.digits, " class='summary'"))
            rows.append("</table>")
            blocks.append("\n".join(rows))
        fragment = "\n".join(blocks)
        if not document:
            return fragment
        title = html.escape(self.caption or "scalargrad trace")
        return (
            "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<title>{title}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
        )

    def _html_row(self, r: Row, digits: Digits, attrs: str) -> str:
        head, middle, value = (html.escape(c) for c in self._cells(r, "text", digits))
        return f"<tr{attrs}><td>{head}</td><td>{middle}</td><td class='value'>{value}</td></tr>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        return self.to_latex()

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        """The tables as plain data (JSON-able: non-finite numbers become "inf", "-inf", "nan").

        Each row has ``node``, its name in ASCII (:func:`ascii_name`: ``v3``, ``v3_dot``,
        ``v3_bar``, ``dy/dx1``, and ``v2_bar_to_5`` for a partial adjoint in ``terms``),
        ``value`` at full precision, and as shown ``formula``, ``substituted`` and ``line``.
        """

        def row(r: Row, digits: Digits) -> dict[str, Any]:
            d: dict[str, Any] = {"node": ascii_name(r.name), "value": json_number(r.value)}
            if r.label is not None:
                d["label"] = r.label
            if r.formula.get("text"):
                d["formula"] = r.formula["text"]
            if r.substituted.get("text"):
                d["substituted"] = r.substituted["text"]
            if r.terms:
                d["terms"] = [{**term, "partial": ascii_name(term["partial"])} for term in r.terms]
            d["line"] = " = ".join(r.parts("text", digits))
            return d

        out: dict[str, Any] = {"digits": self.digits}
        if self.caption is not None:
            out["caption"] = self.caption
        for t in self.tables:
            t.ensure("text")
            entry: dict[str, Any] = {
                "title": t.title,
                "digits": t.digits if isinstance(t.digits, int) else t.digits.decimals,
                "rows": [row(r, t.digits) for r in t.rows],
                "summary": [row(r, t.digits) for r in t.summary],
            }
            if t.kind == "tangent":
                entry["wrt"] = t.wrt
                out.setdefault("tangents", []).append(entry)
            else:
                out[t.kind] = entry
        return out

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (``kwargs`` go to ``json.dumps``); always valid JSON."""
        kwargs.setdefault("allow_nan", False)
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def json_number(x: float) -> float | str:
    """A number for JSON: finite floats as they are, others as "inf", "-inf" or "nan"."""
    return x if math.isfinite(x) else format_number(x)


# --------------------------------------------------------------------------- #
# building the tables                                                          #
# --------------------------------------------------------------------------- #


class Graph:
    """A graph numbered the notes' way, with each node's symbolic local derivatives.

    Internal helper shared with :mod:`scalargrad.viz`, which numbers its diagrams
    the same way (not public API, not in ``__all__``).
    """

    def __init__(self, outputs: Sequence[Value]) -> None:
        self.outputs = list(outputs)
        # Numbers print inline, and so do constant leaves, except an output that is a constant
        # (such as a create_graph gradient that does not depend on its input): numbered last.
        constant_outputs = [o for o in dict.fromkeys(self.outputs) if o.is_constant]
        self.order = evaluation_order(self.outputs) + constant_outputs
        self.index = {v: i + 1 for i, v in enumerate(self.order)}
        self.inputs = [v for v in self.order if v.op is None and not v.is_constant]
        # One named leaf per numbered node, carrying its data so rules evaluate as in the graph.
        self.leaf = {v: Value(v.data, label=f"v{i}") for v, i in self.index.items()}
        self._leaves = set(self.leaf.values())
        self._constants: dict[Value, Named] = {}
        self._names: dict[tuple[str, bool, Digits], dict[Value, str]] = {}
        self._derivatives: dict[Value, list[tuple[Value, Any]]] = {}

    def name(self, v: Value, mark: str = "") -> str:
        return f"v{mark}{self.index[v]}"

    def output_names(self) -> list[str]:
        """What the outputs are called: ``y`` (``y1``, ``y2``, … for several), or ``f`` when
        an input is itself named ``y``, so that ``∂y/∂y`` cannot appear."""
        taken = {v.label for v in self.inputs}
        letter = "f" if "y" in taken or any(f"y{i + 1}" in taken for i in range(len(self.outputs))) else "y"
        return [letter] if len(self.outputs) == 1 else [f"{letter}{i + 1}" for i in range(len(self.outputs))]

    def partial_name(self, k: Value, i: Value) -> str:
        """The notes' name of the partial adjoint v_k passes on from v_i: ``v̄2→5``."""
        return f"v{BAR}{self.index[k]}→{self.index[i]}"

    def input_name(self, v: Value) -> str:
        return v.label if v.label is not None else self.name(v)

    def stand_ins(self, v: Value) -> list[Value | float]:
        """``v``'s operands as named leaves (numbers and constants as numbers)."""
        return [
            (p.data if p.is_constant else self.leaf[p]) if isinstance(p, Value) else p for p in v.operands
        ]

    def definition(self, v: Value) -> Value:
        """``v``'s op applied to the named leaves of its operands (for printing)."""
        op = v.op
        assert op is not None
        return op(*self.stand_ins(v))  # type: ignore[no-any-return]

    def derivatives(self, v: Value) -> list[tuple[Value, Any]]:
        """Each parent of ``v`` (as in ``v.parents``) with its local derivative from the op's rule.

        The rule runs over the named leaves, so the result prints as a formula;
        operands that are numbers have no entry. Computed once per node.
        """
        found = self._derivatives.get(v)
        if found is None:
            op = v.op
            assert op is not None
            rule = op.rule(*self.stand_ins(v), self.leaf[v])
            found = [(p, d) for p, d in zip(v.operands, rule) if isinstance(p, Value)]
            self._derivatives[v] = found
        return found

    def constants(self, v: Value) -> Named:
        """The numbers ``v``'s derivative formulas print by name: :data:`NAMED_CONSTANTS`, and
        ln c for each number c among ``v``'s operands that prints exactly (``3**x`` has the
        derivative ``v₂*ln(3)``)."""
        found = self._constants.get(v)
        if found is None:
            found = NAMED_CONSTANTS
            for p in v.operands:
                c = p if not isinstance(p, Value) else p.data if p.is_constant else math.nan
                named = _ln_name(c) if c > 0.0 else None
                if named is not None:
                    found = {**found, math.log(c): named}
            self._constants[v] = found
        return found

    def value_at(self, v: Value) -> Callable[[Rounder], float]:
        """``v``'s value recomputed from what its definition shows (``pi*0.3``)."""
        op = v.op
        assert op is not None
        return lambda rounded: float(
            op.evaluate(*(self.shown_value(p, rounded, NAMED_CONSTANTS) for p in self.stand_ins(v)))
        )

    def derivative_at(self, v: Value, position: int) -> Callable[[Rounder], float]:
        """The local derivative ∂v/∂parent[position] recomputed from what its formula shows."""
        return lambda rounded: self.shown_value(self.derivatives(v)[position][1], rounded, self.constants(v))

    def shown_value(self, d: Any, rounded: Rounder, named: Named) -> float:
        """``d`` (a rule result over the named leaves, or a number) evaluated from what its
        formula shows: each leaf's and each number's value rounded as printed, the numbers
        printed by name (``named``) exact."""

        def number(x: float) -> float:
            return x if x in named or -x in named else rounded(x)

        if not isinstance(d, Value):
            return number(float(d))
        values: dict[Value, float] = {}
        stack = [d]
        while stack:
            u = stack[-1]
            op = u.op
            if u in self._leaves or op is None:
                values[u] = rounded(u.data) if u in self._leaves else number(u.data)
            else:
                pending = [p for p in u.parents if p not in values]
                if pending:
                    stack.extend(pending)
                    continue
                operands = (values[p] if isinstance(p, Value) else number(p) for p in u.operands)
                values[u] = float(op.evaluate(*operands))
            stack.pop()
        return values[d]

    def leaves(self, style: str, numbers: bool, digits: Digits) -> dict[Value, str]:
        """How to print each named leaf: as its name or as its rounded value (cached)."""
        key = (style, numbers, digits)
        found = self._names.get(key)
        if found is None:
            printer = STYLES[style]
            if numbers:
                found = {leaf: printer.operand(v.data, digits) for v, leaf in self.leaf.items()}
            else:
                found = {leaf: printer.name(self.name(v)) for v, leaf in self.leaf.items()}
            self._names[key] = found
        return found


Printed = tuple[str, int]
"""(text, precedence) of something printed, as :meth:`Printer.expr` gives it."""


class Summand(NamedTuple):
    """One summand of a tangent or adjoint line as printed: ``text`` is added, or subtracted
    when ``minus`` (the formula's ``− v̄₇`` for a derivative −1)."""

    text: str
    minus: bool = False


def _unit(derivative: str) -> int:
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


def _alone(printed: Printed, printer: Printer, minus: bool, leading: bool) -> Summand:
    """A number or name that is a whole summand: a factor whose derivative is ±1, or a partial
    adjoint's value; subtracted (``−(−0.197)``) when the formula subtracts it."""
    if minus:
        text, precedence = printed
        return Summand(printer.paren(text) if precedence < ATOM else text, minus=True)
    return Summand(_operand(printed, printer, leading))


def _product(
    factor: Printed,
    derivative: Printed,
    unit: int,
    printer: Printer,
    derivative_first: bool,
    leading: bool,
) -> Summand:
    """``factor · derivative`` (or ``derivative · factor``) as a summand of a line.

    ``unit`` is the symbolic derivative's ±1 (see :func:`_unit`): the formula then shows
    just the factor, or subtracts it, and so do its numbers, whatever the numbers are
    (``v̄₉ = −v̄₁₀ = −(−0.197)``). Every other factor is shown, ±1 and 0 included.
    ``leading``: the summand begins the line.
    """
    if unit:
        return _alone(factor, printer, unit == -1, leading)
    times = r" \cdot " if printer.latex else TIMES
    d_text = printer.paren(derivative[0]) if derivative[1] < ATOM else derivative[0]
    if derivative_first:
        f_text = printer.paren(factor[0]) if factor[1] < ATOM else factor[0]
        return Summand(f"{d_text}{times}{f_text}")
    return Summand(f"{_operand(factor, printer, leading)}{times}{d_text}")


def _sum(summands: list[Summand], printer: Printer) -> str:
    """The summands joined with the formula's own ``+`` and ``−`` (a negative summand stays added)."""
    if not summands:
        return "0"
    first = summands[0]
    out = [f"{printer.minus}{first.text}" if first.minus else first.text]
    out += [f" {printer.minus if s.minus else '+'} {s.text}" for s in summands[1:]]
    return "".join(out)


def _fill(row: Row, g: Graph, digits: Digits, adjoint: bool, style: str) -> None:
    """Set a tangent/adjoint row's formula, substituted numbers and partial values.

    Tangent terms read ``∂vi/∂vk · v̇k`` and adjoint terms ``v̄i · ∂vi/∂vk``, as in the
    notes; adjoint rows with several terms also show each partial adjoint's value. The
    numbers mirror the formula term by term: each name replaced by its value, with the
    formula's operators, so that every line can be checked by hand.
    """
    terms = row.summands
    printer = STYLES[style]
    sym, num = g.leaves(style, False, digits), g.leaves(style, True, digits)
    symbolic: list[Summand] = []
    substituted: list[Summand] = []
    partial: list[Summand] = []
    for t in terms:
        leading = not symbolic
        if not t.factor:  # an output's seed
            symbolic.append(Summand("1"))
            substituted.append(Summand("1"))
            partial.append(Summand("1"))
            continue
        d_symbolic = printer.expr(t.derivative, sym, digits, t.named)
        d_number = printer.expr(t.derivative, num, digits, t.named)
        d_number = (d_number[0], min(d_number[1], d_symbolic[1]))
        unit = _unit(d_symbolic[0])
        symbolic.append(
            _product((printer.name(t.factor), ATOM), d_symbolic, unit, printer, not adjoint, leading)
        )
        substituted.append(
            _product(printer.number(t.factor_value, digits), d_number, unit, printer, not adjoint, leading)
        )
        shown = printer.number(-t.value if unit == -1 else t.value, digits)
        partial.append(_alone(shown, printer, unit == -1, leading))
    row.formula[style] = _sum(symbolic, printer)
    row.substituted[style] = _sum(substituted, printer)
    row.partials[style] = _sum(partial, printer) if adjoint and len(terms) > 1 else ""


def _render(table: Table, g: Graph, style: str) -> None:
    """Write every row of ``table`` in ``style`` with the table's digits."""
    digits = table.digits
    printer = STYLES[style]
    symbols, numbers = g.leaves(style, False, digits), g.leaves(style, True, digits)
    adjoint = table.kind == "adjoint"
    for row in table.rows:
        if row.definition is not None:
            row.formula[style] = printer.expr(row.definition, symbols, digits)[0]
            row.substituted[style] = printer.expr(row.definition, numbers, digits)[0]
        elif row.summands and not _is_seed_only(row):
            _fill(row, g, digits, adjoint, style)


def _is_seed_only(row: Row) -> bool:
    return len(row.summands) == 1 and not row.summands[0].factor and row.summands[0].value == 1.0


def _rounder(digits: Digits) -> Rounder:
    def rounded(x: float) -> float:
        return float(format_number(x, digits)) if math.isfinite(x) else x

    return rounded


def _last_digit(shown: str) -> float:
    """One unit in the last digit of a number as :func:`format_number` prints it."""
    mantissa, _, exponent = shown.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** ((int(exponent) if exponent else 0) - decimals)


def _agrees(recomputed: float, value: float, digits: Digits) -> bool:
    """Whether ``recomputed`` is the shown ``value`` to its last shown digit (±1 in that digit)."""
    shown = format_number(value, digits)
    if not math.isfinite(value) or not math.isfinite(recomputed):
        return shown == format_number(recomputed, digits)
    return abs(recomputed - float(shown)) <= _last_digit(shown) * (1.0 + 1e-9)


def mismatches(table: Table, digits: Digits) -> int:
    """How many lines of ``table``, shown with ``digits``, cannot be checked by hand.

    A line passes when recomputing it from what it shows (each operand, factor,
    constant and partial adjoint as printed, constants printed by name exact, see
    :data:`NAMED_CONSTANTS`) gives the result it shows to its last
    digit, give or take one unit there: a sum of rounded numbers can differ from
    the rounded sum by one unit, and exact agreement would need many more digits.
    """
    rounded = _rounder(digits)
    bad = 0
    for row in table.rows:
        try:
            if row.recompute is not None:
                bad += not _agrees(row.recompute(rounded), row.value, digits)
                continue
            terms = [t for t in row.summands if t.factor]
            if not terms:
                continue
            recomputed = []
            for t in terms:
                factor = rounded(t.factor_value)
                d = t.derivative_at(rounded) if t.derivative_at is not None else 0.0
                recomputed.append(0.0 if factor == 0.0 else factor * d)
            seeds = sum(t.value for t in row.summands if not t.factor)
            if table.kind == "adjoint" and len(row.summands) > 1:
                bad += any(not _agrees(r, t.value, digits) for r, t in zip(recomputed, terms))
                total = seeds + sum(rounded(t.value) for t in terms)
            else:
                total = seeds + sum(recomputed)
            bad += not _agrees(total, row.value, digits)
        except (ArithmeticError, ValueError):
            bad += 1
    return bad


def _choose_digits(table: Table, digits: int | str) -> Digits:
    if isinstance(digits, int):
        return digits
    if len(table.rows) > AUTO_DIGITS_MAX_ROWS:
        return AUTO_DIGITS[0]
    fewest = (len(table.rows) + 1, AUTO_DIGITS[0])
    for d in AUTO_DIGITS:
        bad = mismatches(table, d)
        if bad == 0:
            return d
        fewest = min(fewest, (bad, d))
    return fewest[1]


def as_outputs(outputs: Value | Sequence[Value], who: str) -> list[Value]:
    """``outputs`` as a list of Values: one Value or a non-empty list/tuple of them."""
    if isinstance(outputs, Value):
        return [outputs]
    if isinstance(outputs, (list, tuple)) and outputs and all(isinstance(o, Value) for o in outputs):
        return list(outputs)
    raise TypeError(f"{who} needs a Value or a non-empty list of Values, got {outputs!r}")


def check_digits(digits: object, who: str = "trace") -> int | str:
    """``digits`` as given if it is ``"auto"`` or an int from 1 to 15, else a ValueError."""
    if digits == "auto":
        return "auto"
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"{who}: digits must be 'auto' or an integer from 1 to 15, got {digits!r}")
    return digits


def describe(g: Graph, ynames: list[str], latex: bool = False) -> str:
    """The caption of a trace or diagram: each output's formula and the point, e.g.
    ``y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5``."""
    printer = LATEX if latex else TEXT
    names = {v: printer.name(g.input_name(v)) for v in g.inputs}
    outputs = []
    for y, out in zip(ynames, g.outputs):
        try:
            text = formula(out, names, number=printer.exact, latex=latex, max_length=300, minus=printer.minus)
        except ValueError:
            text = printer.name(g.name(out))
        outputs.append(f"{printer.name(y)} = {text}")
    point = ", ".join(f"{names[v]} = {printer.number(v.data, 15)[0]}" for v in g.inputs)
    at = r" \text{ at } " if latex else " at "
    return ", ".join(outputs) + (at + point if point else "")


def with_tangent(caption: str, x: str) -> str:
    """A caption for forward mode w.r.t. the input named ``x``: ``…; tangents w.r.t. x₁``."""
    return f"{caption}; tangents w.r.t. {text_name(x)}"


def trace(
    outputs: Value | Sequence[Value],
    *,
    wrt: Value | Sequence[Value] | None = None,
    digits: int | str = "auto",
    caption: bool | str = False,
) -> Trace:
    """The notes' forward, tangent and adjoint tables for ``outputs``.

    Nodes are numbered v₁…vₙ as in the notes (inputs first, see ``evaluation_order``);
    numbers in ops print inline (π, e and the derivative rules' constants such as
    ln 2 by name, see :data:`NAMED_CONSTANTS`), but an output that is itself a constant (a
    ``create_graph`` gradient that does not depend on the input, say) is numbered
    last, so its tables read ``v₁ = 1``, ``y = v₁ = 1``.
    ``wrt`` selects the inputs to run forward mode for (default: every input),
    one tangent table each. The adjoint table is reverse mode from the outputs
    (each seeded with 1, so several outputs give the gradient of their sum),
    listing each adjoint as the sum of its partial adjoints v̄ₖ→ᵢ = v̄ᵢ·∂vᵢ/∂vₖ in the
    order the reverse walk summed them.

    ``digits``: an int shows that many decimals (at least that many significant
    digits, see :func:`format_number`); ``"auto"`` (default) picks, per table, the
    fewest digits from 3 to 8 at which every line can be recomputed by hand from
    the numbers it shows (tables over 5000 rows use 3). ``caption``: True adds
    the expression and the point (``y = … at x₁ = 2, x₂ = 5``; for tangent tables
    also the input), a string sets it.

    >>> from scalargrad import Value
    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> t = trace(x1.log() + x1 * x2 - x2.sin())
    >>> print(t.lines(t.adjoint)[5])
    v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716
    """
    outs = as_outputs(outputs, "trace")
    wanted = check_digits(digits)
    if not isinstance(caption, (bool, str)):
        raise TypeError(f"trace: caption must be True, False or a string, got {caption!r}")
    g = Graph(outs)
    if wrt is None:
        targets = list(g.inputs)
    else:
        targets = [wrt] if isinstance(wrt, Value) else list(wrt)
        for t in targets:
            if not isinstance(t, Value) or t not in g.index or t.op is not None or t.is_constant:
                raise ValueError(f"wrt must be inputs of the traced graph, got {t!r}")
    ynames = g.output_names()
    with bulk():
        tables = [_forward_table(g, ynames)]
        tables += [_tangent_table(g, t, ynames) for t in targets]
        tables.append(_adjoint_table(g, ynames))
        digits_chosen = [_choose_digits(table, wanted) for table in tables]
    text_caption = latex_caption = None
    if caption:
        text_caption = caption if isinstance(caption, str) else describe(g, ynames)
        latex_caption = (
            rf"\text{{{_latex_escape(caption)}}}"
            if isinstance(caption, str)
            else describe(g, ynames, latex=True)
        )
    for table, chosen in zip(tables, digits_chosen):
        table.digits = chosen
        table.graph = g
        if text_caption is not None:
            table.caption = text_caption
            table.latex_caption = latex_caption
            if table.wrt is not None:
                table.caption = with_tangent(text_caption, table.wrt)
                table.latex_caption = rf"{latex_caption} \text{{; tangents w.r.t. }} {_latex_name(table.wrt)}"
    return Trace(tables, wanted, text_caption)


def _forward_table(g: Graph, ynames: list[str]) -> Table:
    rows = []
    for v in g.order:
        if v.op is None:
            rows.append(Row(g.name(v), v.data, label=v.label))
            continue
        rows.append(Row(g.name(v), v.data, definition=g.definition(v), recompute=g.value_at(v)))
    summary = []
    for y, out in zip(ynames, g.outputs):
        name = g.name(out)
        summary.append(Row(y, out.data, formula={"text": text_name(name), "latex": _latex_name(name)}))
    return Table("forward", "Forward evaluation trace", rows, summary)


def _tangent_table(g: Graph, wrt: Value, ynames: list[str]) -> Table:
    # The numbers are forward mode's own walk (so every value equals jvp's); the
    # table only writes out each term ∂vi/∂vk·v̇k. Zero tangents are structural: a
    # term whose tangent v̇k is 0 contributes 0, even where ∂vi/∂vk is infinite.
    tangent = tangents(g.outputs, {wrt: 1.0})
    rows = []
    for v in g.order:
        row = Row(g.name(v, DOT), tangent.get(v, 0.0))
        rows.append(row)
        if v.op is None:
            continue
        named = g.constants(v)
        for position, ((p, d), local) in enumerate(zip(g.derivatives(v), v.local_grads)):
            if p.is_constant:
                continue
            factor = tangent.get(p, 0.0)
            value = local * factor if factor else 0.0
            at = g.derivative_at(v, position)
            row.summands.append(Term(g.name(p, DOT), factor, d, value, derivative_at=at, named=named))
        if not row.summands:
            row.summands.append(Term("", 0.0, 0.0, 0.0))
    x = g.input_name(wrt)
    summary = []
    for y, out in zip(ynames, g.outputs):
        name = g.name(out, DOT)
        summary.append(
            Row(
                f"∂{y}/∂{x}",
                tangent.get(out, 0.0),
                formula={"text": text_name(name), "latex": _latex_name(name)},
            )
        )
    return Table("tangent", f"Forward mode AD trace w.r.t. {text_name(x)}", rows, summary, wrt=x)


def _adjoint_table(g: Graph, ynames: list[str]) -> Table:
    # The numbers are the one reverse walk's (so every value equals adjoints() and
    # backward to the last bit); the table writes out each node's partial adjoints
    # v̄k→i = v̄i·∂vi/∂vk in the order the walk summed them.
    node_to_grad: dict[Value, list[Partial]] = {}
    adjoint = adjoints(g.outputs, node_to_grad=node_to_grad)
    rows = []
    for v in reversed(g.order):
        row = Row(g.name(v, BAR), adjoint.get(v, 0.0))
        for child, position, value in node_to_grad.get(v, []):
            if child is None:
                row.summands.append(Term("", 1.0, 1.0, value))
                continue
            parent, d = g.derivatives(child)[position]
            assert parent is v
            name = g.partial_name(v, child)
            at = g.derivative_at(child, position)
            row.summands.append(
                Term(
                    g.name(child, BAR),
                    adjoint[child],
                    d,
                    value,
                    partial=name,
                    derivative_at=at,
                    named=g.constants(child),
                )
            )
        row.terms = [{"partial": t.partial or "seed", "value": json_number(t.value)} for t in row.summands]
        rows.append(row)
    what = ynames[0] if len(ynames) == 1 else "(" + " + ".join(ynames) + ")"
    summary = []
    for x in g.inputs:
        name = g.name(x, BAR)
        summary.append(
            Row(
                f"∂{what}/∂{g.input_name(x)}",
                adjoint[x],
                formula={"text": text_name(name), "latex": _latex_name(name)},
            )
        )
    return Table("adjoint", "Reverse mode AD trace", rows, summary)
