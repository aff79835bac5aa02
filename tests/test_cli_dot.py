"""The command line with ``dot((x1, x2), (y1, y2))``: every mode takes it, the numbers are the
engine's, and a bad dot call is one line on stderr with exit status 2."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from test_dot_parser import parser_text

from scalargrad import OPS, Value, grad
from scalargrad.cli import main
from scalargrad.expr import ExpressionError, parse
from scalargrad.testing import DEFAULT_OPS, GeneratedExpression, expressions_and_points

Case = tuple[GeneratedExpression, list[float]]

NEURON = "tanh(dot((w1, w2), (x1, x2)) + b)"
VALUES = ["w1=1", "w2=2", "x1=0.3", "x2=-0.1", "b=0.5"]
_WITH_DOT = ["dot"] * 15 + [name for name in DEFAULT_OPS if name != "dot"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _argv(case: Case) -> tuple[list[str], list[str], list[float]]:
    """The CLI's expression and NAME=VALUE arguments for a generated case with a dot step,
    its variables and their values."""
    e, point = case
    assume("dot" in e.ops)
    text = parser_text(e)
    try:
        names = parse(text).names
    except ExpressionError as err:  # the generator can write past the parser's limits
        assume("too long" not in str(err) and "too large" not in str(err))
        raise
    values = [point[int(name[1:])] for name in names]
    return [text, *(f"{n}={v!r}" for n, v in zip(names, values))], list(names), values


def _engine(e: GeneratedExpression, point: list[float], names: list[str]) -> tuple[float, list[float]]:
    xs = [Value(x) for x in point]
    y = e(*xs)
    gradient = grad(y, xs)
    return y.data, [gradient[int(name[1:])] for name in names]


@given(expressions_and_points(1, 3, ops=_WITH_DOT, max_depth=3))
def test_the_traces_of_generated_dot_expressions_have_the_engines_numbers(case: Case) -> None:
    """JSON traces of an expression with dot calls: the value bit for bit, and the tangent and
    adjoint summaries the engine's gradient (forward and reverse mode agree with it)."""
    argv, names, _ = _argv(case)
    e, point = case
    value, gradient = _engine(e, point, names)
    out = _captured(["--format", "json", "--", *argv])
    data = json.loads(out)
    assert data["value"] == value
    adjoint = {row["node"]: row["value"] for row in data["trace"]["adjoint"]["summary"]}
    assert [adjoint[f"dy/d{n}"] for n in names] == pytest.approx(gradient, rel=1e-9, abs=1e-12)
    tangents = [table["summary"][0]["value"] for table in data["trace"]["tangents"]]
    assert tangents == pytest.approx(gradient, rel=1e-9, abs=1e-12)


@given(expressions_and_points(1, 3, ops=_WITH_DOT, max_depth=3))
def test_compiled_code_of_generated_dot_expressions_has_the_engines_numbers(case: Case) -> None:
    argv, names, _ = _argv(case)
    e, point = case
    value, gradient = _engine(e, point, names)
    data = json.loads(_captured(["--code", "--format", "json", "--", *argv]))
    assert data["value"] == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert [data["gradient"][n] for n in names] == pytest.approx(gradient, rel=1e-9, abs=1e-12)


@given(expressions_and_points(1, 3, ops=_WITH_DOT, max_depth=3))
def test_the_caption_of_a_dot_reads_back_as_its_sum_of_products(case: Case) -> None:
    """The caption prints a dot as its sum of products: pasted back, it is the function made of
    binary * and + (bit for bit), equal to the dot's up to rounding."""
    argv, _, _ = _argv(case)
    e, point = case
    caption = _captured(["--", *argv]).splitlines()[0]
    formula = caption.removeprefix("y = ").rpartition(" at ")[0]
    assume(not re.fullmatch(r"v[₀-₉]+", formula))  # over 300 characters, the caption names the node
    assert "dot(" not in formula
    again = parse(formula)
    value = again.evaluate({name: point[int(name[1:])] for name in again.names})
    expected = e.as_binary()(*point)
    assert value == expected or (math.isnan(value) and math.isnan(expected))
    assert value == pytest.approx(e(*point), rel=1e-9, abs=1e-12)


def _captured(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0, argv
    return out.getvalue()


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ([], "y = tanh(w₁*x₁ + w₂*x₂ + b) at w₁ = 1, w₂ = 2, x₁ = 0.3, x₂ = −0.1, b = 0.5"),
        ([], "  v₆ = v₁*v₃ + v₂*v₄ = 1*0.3 + 2*(−0.1) = 0.1"),
        ([], "  v̄₁ = v̄₆·v₃ = 0.712·0.3 = 0.213"),
        (["--format", "markdown"], "y = tanh(w₁*x₁ + w₂*x₂ + b)"),
        (["--format", "latex"], r"\tanh\left(w_{1} \cdot x_{1} + w_{2} \cdot x_{2} + b\right)"),
        (["--format", "latex-document"], r"\begin{document}"),
        (["--format", "html"], "<!DOCTYPE html>"),
        (["--no-share"], "  v₆ = v₁*v₃ + v₂*v₄ = 1*0.3 + 2*(−0.1) = 0.1"),
        (["--wrt", "x2"], "  ∂y/∂x₂ = v̇₈ = 1.423"),
        (["--code"], "def value_and_grad("),
        (["--steps", "forward"], "v₆ = v₁*v₃ + v₂*v₄"),
        (["--steps", "tangent", "--wrt", "x1"], "v̇₆"),
        (["--steps", "reverse"], "visit v₆"),
        (["--steps", "extend"], "visit v₆"),
    ],
)
def test_every_printing_mode_takes_a_dot(
    capsys: pytest.CaptureFixture[str], options: list[str], shown: str
) -> None:
    code, out, err = run(capsys, NEURON, *VALUES, *options)
    assert code == 0 and err == "", err
    assert shown in out


@pytest.mark.parametrize("kind", ["forward", "tangent", "adjoint", "extended"])
def test_every_diagram_of_a_dot_has_an_edge_from_each_operand(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    pytest.importorskip("graphviz")
    target = tmp_path / "g.dot"
    wrt = ["--wrt", "x1"] if kind == "tangent" else []
    code, _, err = run(capsys, NEURON, *VALUES, *wrt, "--draw", kind, "-o", str(target), "--no-trace")
    assert code == 0, err
    source = target.read_text(encoding="utf-8")
    for operand in ("v1", "v2", "v3", "v4"):
        assert f"{operand} -> v6" in source, (kind, operand)


def test_the_page_and_frames_of_a_dot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("graphviz")
    page, frames = tmp_path / "walk.html", tmp_path / "frames"
    code, _, err = run(capsys, NEURON, *VALUES, "--html", str(page), "--frames", str(frames), "--no-trace")
    assert code == 0, err
    assert page.stat().st_size > 0 and len(list(frames.glob("*.svg"))) == 8  # one per reverse step


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("dot((x,), (y, x))", "dot() at column 1 takes two sequences of equal lengths, got 1 and 2 items"),
        ("x + dot(x, (y,))", "dot() argument 1 at column 9 must be a tuple or list of expressions"),
        ("dot((), ())", "dot() argument 1 at column 5 is empty"),
        ("dot((x, y))", "dot() at column 1 takes exactly 2 arguments"),
    ],
)
def test_a_bad_dot_is_one_line_with_status_2(
    capsys: pytest.CaptureFixture[str], expression: str, message: str
) -> None:
    code, out, err = run(capsys, expression, "x=1", "y=2")
    assert code == 2 and out == ""
    assert err.startswith(f"scalargrad: error: {message}") and err.count("\n") == 1


def test_the_help_shows_how_to_call_dot(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name, op in OPS.items():
        if op.builtin and op.arity is None:
            assert f"{name}((x1, x2), (y1, y2)) is x1*y1 + x2*y2" in out
