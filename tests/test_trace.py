"""The notes' evaluation traces, line by line (seeds/000: forward, forward mode, reverse mode)."""

import json
import math
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value
from scalargrad.core import evaluation_order
from scalargrad.notation.names import MINUS, SUBSCRIPTS, format_number
from scalargrad.notation.names import last_digit as _last_digit
from scalargrad.tables import Table, Trace, trace
from scalargrad.testing import ALL_OPS, GeneratedExpression, expressions_and_points


def notes_example() -> tuple[Value, Value, Value]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    return x1, x2, x1.log() + x1 * x2 - x2.sin()


def test_numbering_matches_the_notes() -> None:
    x1, x2, y = notes_example()
    order = evaluation_order(y)
    assert order[:2] == [x1, x2]
    assert [v.op.name for v in order[2:]] == ["log", "mul", "sin", "add", "sub"]  # type: ignore[union-attr]
    assert order[-1] is y


def test_forward_trace_line_by_line() -> None:
    _, _, y = notes_example()
    t = trace(y)
    assert t.lines(t.forward) == [
        "v₁ = x₁ = 2",
        "v₂ = x₂ = 5",
        "v₃ = ln(v₁) = ln(2) = 0.693",
        "v₄ = v₁*v₂ = 2*5 = 10",
        "v₅ = sin(v₂) = sin(5) = −0.959",
        "v₆ = v₃ + v₄ = 0.693 + 10 = 10.693",
        "v₇ = v₆ − v₅ = 10.693 − (−0.959) = 11.652",
        "y = v₇ = 11.652",
    ]


def test_tangent_trace_line_by_line() -> None:
    x1, _, y = notes_example()
    t = trace(y, wrt=x1)
    assert len(t.tangents) == 1
    assert t.lines(t.tangents[0]) == [
        "v̇₁ = 1",
        "v̇₂ = 0",
        "v̇₃ = (1/v₁)·v̇₁ = (1/2)·1 = 0.5",
        "v̇₄ = v₂·v̇₁ + v₁·v̇₂ = 5·1 + 2·0 = 5",
        "v̇₅ = cos(v₂)·v̇₂ = cos(5)·0 = 0",
        "v̇₆ = v̇₃ + v̇₄ = 0.5 + 5 = 5.5",
        "v̇₇ = v̇₆ − v̇₅ = 5.5 − 0 = 5.5",
        "∂y/∂x₁ = v̇₇ = 5.5",
    ]


def test_adjoint_trace_line_by_line() -> None:
    _, _, y = notes_example()
    t = trace(y)
    assert t.lines(t.adjoint) == [
        "v̄₇ = 1",
        "v̄₆ = v̄₇ = 1",
        "v̄₅ = −v̄₇ = −1",
        "v̄₄ = v̄₆ = 1",
        "v̄₃ = v̄₆ = 1",
        "v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716",
        "v̄₁ = v̄₄·v₂ + v̄₃·(1/v₁) = 1·5 + 1·(1/2) = 5 + 0.5 = 5.5",
        "∂y/∂x₁ = v̄₁ = 5.5",
        "∂y/∂x₂ = v̄₂ = 1.716",
    ]


def test_default_traces_every_input_and_text_has_titles() -> None:
    _, _, y = notes_example()
    t = trace(y)
    assert [tt.wrt for tt in t.tangents] == ["x1", "x2"]
    assert t.lines(t.tangents[1])[-1] == "∂y/∂x₂ = v̇₇ = 1.716"
    text = str(t)
    assert text.index("Forward evaluation trace") < text.index("w.r.t. x₁") < text.index("Reverse mode")
    assert "  v₃ = ln(v₁) = ln(2) = 0.693\n" in text


def test_sigmoid_example_adjoint_table() -> None:
    # seeds/001: y = sigmoid(a*x + b) at x=2, a=3, b=1
    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    y = (a * x + b).sigmoid()
    t = trace(y)
    assert t.lines(t.adjoint) == [
        "v̄₆ = 1",
        "v̄₅ = v̄₆·(v₆*sigmoid(−v₅)) = 1·(0.999*sigmoid(−7)) = 0.00091",
        "v̄₄ = v̄₅ = 0.00091",
        "v̄₃ = v̄₅ = 0.00091",
        "v̄₂ = v̄₄·v₁ = 0.00091·3 = 0.0027",
        "v̄₁ = v̄₄·v₂ = 0.00091·2 = 0.0018",
        "∂y/∂a = v̄₁ = 0.0018",
        "∂y/∂x = v̄₂ = 0.0027",
        "∂y/∂b = v̄₃ = 0.00091",
    ]
    assert trace(y, digits=5).lines(trace(y, digits=5).forward)[-1] == "y = v₆ = 0.99909"


def test_constants_are_inline_and_not_numbered() -> None:
    x = Value(3.0, label="x")
    t = trace(2 * x**2)
    assert t.lines(t.forward) == [
        "v₁ = x = 3",
        "v₂ = v₁**2 = 3**2 = 9",
        "v₃ = 2*v₂ = 2*9 = 18",
        "y = v₃ = 18",
    ]
    assert t.lines(t.tangents[0])[1:3] == ["v̇₂ = (2*v₁)·v̇₁ = (2*3)·1 = 6", "v̇₃ = 2·v̇₂ = 2·6 = 12"]


def test_a_constant_output_is_numbered_and_traced() -> None:
    from scalargrad import grad

    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    g = grad(x1 + x2, x1, create_graph=True)  # d(x1 + x2)/dx1: the constant 1
    assert isinstance(g, Value) and g.is_constant
    t = trace(g)
    assert t.lines(t.forward) == ["v₁ = 1", "y = v₁ = 1"]
    assert t.tangents == []  # no inputs to differentiate against
    assert t.lines(t.adjoint) == ["v̄₁ = 1"]
    assert json.loads(t.to_json())["forward"]["summary"][0]["value"] == 1.0
    assert "v_{1}" in t.to_latex() and "<td" in t.to_html()
    with pytest.raises(ValueError, match="wrt must be inputs"):
        trace(g, wrt=g)
    # next to another output, the constant is numbered after the graph's own nodes
    both = trace([x1 * x2, g], wrt=x1)
    assert both.lines(both.forward)[-3:] == ["v₄ = 1", "y₁ = v₃ = 6", "y₂ = v₄ = 1"]
    assert both.lines(both.tangents[0])[-2:] == ["∂y₁/∂x₁ = v̇₃ = 3", "∂y₂/∂x₁ = v̇₄ = 0"]


def test_tangent_values_are_forward_modes_zero_tangents_are_structural() -> None:
    from scalargrad import jvp

    z, w = Value(0.0, label="z"), Value(1.0, label="w")
    y = z.sqrt() + w  # sqrt'(0) = inf, but z's tangent w.r.t. w is 0
    t = trace(y, wrt=w)
    assert t.lines(t.tangents[0]) == [
        "v̇₁ = 0",
        "v̇₂ = 1",
        "v̇₃ = inf·v̇₁ = inf·0 = 0",
        "v̇₄ = v̇₃ + v̇₂ = 0 + 1 = 1",
        "∂y/∂w = v̇₄ = 1",
    ]
    assert t.tangents[0].summary[0].value == jvp(y, {w: 1.0}) == 1.0
    assert t.to_dict()["tangents"][0]["summary"][0]["value"] == 1.0
    assert trace(y, wrt=z).tangents[0].summary[0].value == jvp(y, {z: 1.0}) == math.inf


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_every_tangent_row_equals_forward_mode(case: tuple[GeneratedExpression, list[float]]) -> None:
    from scalargrad import jvp
    from scalargrad.autodiff import tangents

    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    t = trace(y)
    order = evaluation_order(y)
    for x, table in zip([v for v in order if v.op is None], t.tangents):
        walk = tangents(y, {x: 1.0})
        assert [r.value for r in table.rows] == [walk.get(v, 0.0) for v in order]
        assert table.summary[0].value == jvp(y, {x: 1.0})


def test_values_agree_with_backward_on_a_mixed_graph() -> None:
    x, z = Value(-0.7, label="x"), Value(1.3, label="z")
    y = (x * z).tanh() / z.sqrt() + abs(x) ** 2 - (x - z).exp() * x.relu() + z.cos() * x.sigmoid()
    y.backward()
    t = trace(y)
    data = t.to_dict()
    grads = [row["value"] for row in data["adjoint"]["summary"]]
    assert grads == pytest.approx([x.grad, z.grad])
    assert data["forward"]["summary"][0]["value"] == y.data
    tangents = [tab["summary"][0]["value"] for tab in data["tangents"]]
    assert tangents == pytest.approx([x.grad, z.grad])


def test_shared_parent_has_one_term_per_use() -> None:
    x = Value(3.0, label="x")
    t = trace(x * x)
    assert t.lines(t.adjoint)[1] == "v̄₁ = v̄₂·v₁ + v̄₂·v₁ = 1·3 + 1·3 = 3 + 3 = 6"


def test_several_outputs() -> None:
    x = Value(2.0, label="x")
    t = trace([x * 3, x.exp()])
    assert t.lines(t.forward)[-2:] == ["y₁ = v₂ = 6", "y₂ = v₃ = 7.389"]
    assert t.lines(t.adjoint)[-1] == f"∂(y₁ + y₂)/∂x = v̄₁ = {format_number(3 + math.exp(2))}"


def test_rich_formats() -> None:
    _, _, y = notes_example()
    t = trace(y)
    latex = t._repr_latex_()
    assert r"\bar v_{2} &= \bar v_{5} \cdot \cos\left(v_{2}\right) + \bar v_{4} \cdot v_{1}" in latex
    assert r"\frac{\partial y}{\partial x_{1}} &= \bar v_{1} = 5.5" in latex
    md = t._repr_markdown_()
    assert "| $v_{3}$ | $\\ln\\left(v_{1}\\right) = \\ln\\left(2\\right)$ | $0.693$ |" in md
    page = t._repr_html_()
    assert page.count("<table") == 4 and "<td>v₃</td>" in page
    assert "ln(v₁) = ln(2)" in page


def test_to_dict_is_json_and_lines_match_text() -> None:
    _, _, y = notes_example()
    t = trace(y)
    data = json.loads(t.to_json())
    assert data["forward"]["rows"][2] == {
        "node": "v3",
        "value": math.log(2.0),
        "formula": "ln(v₁)",
        "substituted": "ln(2)",
        "line": "v₃ = ln(v₁) = ln(2) = 0.693",
    }
    v2 = data["adjoint"]["rows"][5]
    assert v2["node"] == "v2_bar"
    assert [term["partial"] for term in v2["terms"]] == ["v2_bar_to_5", "v2_bar_to_4"]
    assert v2["terms"][1]["value"] == 2.0


def test_non_finite_values_stay_json() -> None:
    x = Value(0.0, label="x")
    t = trace(x.sqrt())
    assert t.lines(t.adjoint)[1] == "v̄₁ = v̄₂·inf = 1·inf = inf"
    assert json.loads(t.to_json())["adjoint"]["summary"][0]["value"] == "inf"


def test_format_number() -> None:
    assert format_number(-0.9589242746631385) == "-0.959"
    assert format_number(1e-9) == "1e-09"
    assert format_number(1e20) == "1e+20"
    assert format_number(-1e-12, 3) == "-1e-12"
    assert format_number(float("nan")) == "nan"
    assert format_number(2.0004) == "2"
    assert format_number(123.45678, 1) == "123.5"


def test_bad_arguments() -> None:
    x1, x2, y = notes_example()
    with pytest.raises(TypeError, match="trace needs a Value"):
        trace(2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        trace([])
    with pytest.raises(ValueError, match="wrt must be inputs"):
        trace(y, wrt=y)
    with pytest.raises(ValueError, match="wrt must be inputs"):
        trace(x1 * 2, wrt=x2)
    with pytest.raises(ValueError, match="digits"):
        trace(y, digits=0)


def test_deep_chain_is_iterative() -> None:
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):
        y = y * 1.0001
    t = trace(y)
    assert len(t.forward.rows) == 3001
    assert t.adjoint.summary[0].value == pytest.approx(1.0001**3000)


# --------------------------------------------------------------------------- #
# numbers a student can check, captions, formats, size                         #
# --------------------------------------------------------------------------- #


def test_auto_digits_make_every_line_checkable_by_hand() -> None:
    from scalargrad.tables import AUTO_DIGITS, mismatches

    x, a, b = Value(1.0, label="x"), Value(2.0, label="a"), Value(0.5, label="b")
    t = trace((a * x + b).tanh())
    for table in t.tables:
        assert mismatches(table, table.digits) == 0, table.kind
    # the default 3 digits could not be checked: 1 − 0.987*0.987 is 0.0258, not 0.0266
    assert mismatches(t.adjoint, AUTO_DIGITS[0]) > 0
    assert "v̄₅ = v̄₆·(1 − v₆*v₆) = 1·(1 − 0.9866*0.9866) = 0.0266" in t.lines(t.adjoint)
    # an explicit digits is kept as it is
    assert trace((a * x + b).tanh(), digits=3).adjoint.digits == 3
    # sigmoid's σ(x)·σ(−x) has no such cancellation: the notes' example checks at 3 digits
    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    sigmoid = trace((a * x + b).sigmoid())
    assert all(mismatches(table, AUTO_DIGITS[0]) == 0 for table in sigmoid.tables)


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_auto_digits_lines_recompute_from_what_they_show(
    case: tuple[GeneratedExpression, list[float]],
) -> None:
    from scalargrad.tables import AUTO_DIGITS, mismatches

    f, point = case
    y = f(*[Value(x, label=f"x{i}") for i, x in enumerate(point)])
    for table in trace(y).tables:
        # the fewest digits with the fewest lines that cannot be checked (none, where any works)
        counts = [mismatches(table, d) for d in AUTO_DIGITS]
        chosen = AUTO_DIGITS.index(table.digits)
        assert counts[chosen] == min(counts) and min(counts) not in counts[:chosen], (str(f), table.kind)


def test_captions_name_the_expression_the_point_and_the_input() -> None:
    _, _, y = notes_example()
    t = trace(y, caption=True)
    assert t.caption == "y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5"
    assert t.tangents[0].caption == t.caption + "; tangents w.r.t. x₁"
    assert str(t).splitlines()[:3] == [t.caption, "", "Forward evaluation trace"]
    assert t.to_markdown().splitlines()[0] == t.caption
    assert (
        r"y = \ln\left(x_{1}\right) + x_{1} \cdot x_{2} - \sin\left(x_{2}\right) \text{ at } x_{1} = 2"
        in (t.to_latex())
    )
    assert trace(y).caption is None and "(y =" not in str(trace(y))
    assert trace(y, caption="my example").forward.caption == "my example"


def test_latex_blocks_put_titles_above_the_rows() -> None:
    _, _, y = notes_example()
    blocks = trace(y, caption=True).latex_blocks()
    assert len(blocks) == 4
    for block in blocks:
        assert block.startswith("$$\\begin{gathered}\n\\textbf{") and block.endswith("\\end{gathered}$$")
        assert "\\begin{aligned}" in block
        assert block.isascii()
    document = trace(y).to_latex(document=True)
    assert document.startswith("\\documentclass{article}\n\\usepackage{amsmath}")
    assert document.rstrip().endswith("\\end{document}")


def test_html_page_is_complete_and_styled() -> None:
    _, _, y = notes_example()
    page = trace(y, caption=True).to_html(document=True)
    assert page.startswith("<!DOCTYPE html>") and "<meta charset='utf-8'>" in page
    assert "border: 1px solid" in page and "padding" in page and page.rstrip().endswith("</html>")
    assert "<td class='value'>11.652</td>" in page  # the value in a cell of its own
    fragment = trace(y)._repr_html_()
    assert fragment.startswith("<style>") and "<!DOCTYPE" not in fragment


def test_printing_a_trace_visits_each_node_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """Formulas stop at named nodes: the work is linear in the graph, not quadratic."""
    from scalargrad.notation import formula as formula_module

    visited = [0]
    original = formula_module._printing_order

    def counting(value: Value, names: dict[Value, str]) -> list[Value]:
        order = original(value, names)
        visited[0] += len(order)
        return order

    monkeypatch.setattr(formula_module, "_printing_order", counting)
    for n in (500, 2000):
        visited[0] = 0
        x = Value(0.5, label="x")
        y = x
        for _ in range(n):
            y = (y * 1.0001).tanh()
        str(trace(y, digits=3))
        assert visited[0] <= 40 * (2 * n + 1), (n, visited[0])


def test_an_input_named_y_renames_the_output() -> None:
    x, y_in = Value(2.0, label="x"), Value(3.0, label="y")
    t = trace(x * y_in, caption=True)
    assert t.caption == "f = x*y at x = 2, y = 3"
    assert t.lines(t.adjoint)[-2:] == ["∂f/∂x = v̄₁ = 3", "∂f/∂y = v̄₂ = 2"]


# --------------------------------------------------------------------------- #
# lines recomputed from their text, names in LaTeX and JSON, number notation   #
# --------------------------------------------------------------------------- #


def recomputable_lines(t: Trace, tables: list[Table] | None = None) -> list[tuple[str, float, str]]:
    """(line, what its numbers give, the value shown) for each line with numbers to recompute.

    The numbers are read back from the text itself: the last side before the value (the
    substituted numbers, or the partial adjoints' values) parsed as an expression, with
    ``·`` a product and ``−`` a minus, named constants (``pi``, ``ln(2)``) exact.
    """
    from scalargrad.expr import parse

    out = []
    for table in t.tables if tables is None else tables:
        for line in t.lines(table):
            sides = line.split(" = ")
            if len(sides) < 4 or "inf" in line or "nan" in line:
                continue
            numbers = sides[-2].replace("·", "*").replace(MINUS, "-")
            out.append((line, float(parse(numbers).evaluate({})), sides[-1].replace(MINUS, "-")))
    return out


def shows(recomputed: float, shown: str) -> bool:
    """Whether ``recomputed`` is the number ``shown`` to its last digit, give or take one unit."""
    return abs(recomputed - float(shown)) <= _last_digit(shown) * (1 + 1e-9)


@pytest.mark.parametrize(
    ("make", "x", "line"),
    [
        (lambda x: 2**x, 10.0, "v̄₁ = v̄₂·(v₂*ln(2)) = 1·(1024*ln(2)) = 709.783"),
        (
            lambda x: 1000 * x.erf(),
            0.5,
            "v̄₁ = v̄₂·((2/sqrt(pi))*exp(−(v₁*v₁))) = 1000·((2/sqrt(pi))*exp(−(0.5*0.5))) = 878.783",
        ),
        (lambda x: 1000 * x.log2(), 1.0, "v̄₁ = v̄₂·(1/(v₁*ln(2))) = 1000·(1/(1*ln(2))) = 1442.695"),
        (lambda x: x.log10(), 0.001, "v̄₁ = v̄₂·(1/(v₁*ln(10))) = 1·(1/(0.001*ln(10))) = 434.294"),
        (lambda x: 3**x, 10.0, "v̄₁ = v̄₂·(v₂*ln(3)) = 1·(59049*ln(3)) = 64871.957"),
        (lambda x: 0.5**x, 3.0, "v̄₁ = v̄₂·(v₂*(−ln(2))) = 1·(0.125*(−ln(2))) = −0.087"),
    ],
)
def test_constants_of_derivative_rules_are_shown_so_lines_recompute(make: Any, x: float, line: str) -> None:
    """The rules' own constants (ln 2, ln 10, 2/√π, ln of a numeric base) are printed by name:
    rounded to the table's digits they gave ``1024*0.693 = 709.783``, which is 709.632."""
    from scalargrad.tables import AUTO_DIGITS, mismatches

    t = trace(make(Value(x, label="x")))
    assert line in t.lines(t.adjoint)
    assert t.adjoint.digits == AUTO_DIGITS[0] and mismatches(t.adjoint, AUTO_DIGITS[0]) == 0
    named = [(text, r, shown) for text, r, shown in recomputable_lines(t) if "ln(" in text or "pi" in text]
    assert len(named) == 2  # the tangent's line and the adjoint's
    for text, recomputed, shown in named:
        assert shows(recomputed, shown), text


def test_a_constant_shown_rounded_is_checked_as_shown() -> None:
    """A rule constant printed as a number is recomputed with its printed digits, so
    ``"auto"`` shows as many digits as the line needs to be checked."""
    import scalargrad as sg
    from scalargrad.tables import AUTO_DIGITS, mismatches

    hidden = sg.define_op("trace_test_hidden_constant", lambda x: 1.2345678 * x, lambda x, out: 1.2345678)
    t = trace(1000 * hidden(Value(1.0, label="x")))
    adjoint = t.adjoint
    assert mismatches(adjoint, AUTO_DIGITS[0]) == 1  # 1000·1.235 = 1235, not 1234.568
    assert adjoint.digits == AUTO_DIGITS[4]
    assert "v̄₁ = v̄₂·1.2345678 = 1000·1.2345678 = 1234.5678" in t.lines(adjoint)
    for text, recomputed, shown in recomputable_lines(t, [adjoint]):
        assert shows(recomputed, shown), text


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_checkable_lines_recompute_from_their_text(case: tuple[GeneratedExpression, list[float]]) -> None:
    """Where ``mismatches`` finds every line checkable, so is every line read back from its text."""
    from scalargrad.tables import mismatches

    f, point = case
    t = trace(f(*[Value(x, label=f"x{i}") for i, x in enumerate(point)]))
    checkable = [table for table in t.tables if mismatches(table, table.digits) == 0]
    for text, recomputed, shown in recomputable_lines(t, checkable):
        assert shows(recomputed, shown), (str(f), text)


def test_pi_and_e_print_by_name_in_the_tables() -> None:
    x = Value(0.3, label="x")
    t = trace((math.pi * x).sin() + math.e)
    assert t.lines(t.forward)[1:4] == [
        "v₂ = pi*v₁ = pi*0.3 = 0.942",
        "v₃ = sin(v₂) = sin(0.942) = 0.809",
        "v₄ = v₃ + e = 0.809 + e = 3.527",
    ]
    assert "v̄₁ = v̄₂·pi = 0.588·pi = 1.847" in t.lines(t.adjoint)
    assert r"v_{2} &= \pi \cdot v_{1} = \pi \cdot 0.3 = 0.942" in t.to_latex()
    near = trace(x * 3.14159, digits=5)
    assert near.lines(near.forward)[1] == "v₂ = v₁*3.14159 = 0.3*3.14159 = 0.94248"


def test_greek_and_other_names_keep_their_letters_in_latex_and_markdown() -> None:
    alpha, beta, e1, big = (Value(v, label=n) for v, n in ((2, "α"), (3, "β1"), (1, "é1"), (4, "Ωmax")))
    t = trace(alpha * beta + e1 * big, caption=True)
    latex, markdown = t.to_latex(), t.to_markdown()
    assert "?" not in latex and "?" not in markdown
    assert r"\alpha \cdot \beta_{1} + {\text{é}}_{1} \cdot \mathrm{{\Omega}max}" in latex
    assert r"v_{1} &= \alpha = 2" in latex and r"\frac{\partial y}{\partial \beta_{1}}" in latex
    assert r"| $v_{1}$ | $\alpha$ | $2$ |" in markdown
    assert t.lines(t.forward)[1] == "v₂ = β₁ = 3"  # subscripts as for ASCII letters
    odd = trace(Value(1.0, label="a~b|c<d>\\e") * 2, caption="50% & more_{x} ~ ^ | α").to_latex()
    assert r"\text{a\textasciitilde{}b\textbar{}c\textless{}d\textgreater{}\textbackslash{}e}" in odd
    assert r"\text{50\% \& more\_\{x\} \textasciitilde{} \textasciicircum{} \textbar{} $\alpha$}" in odd


def test_to_dict_node_names_are_ascii() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    data = trace(x * y).to_dict()
    nodes = [
        row["node"]
        for table in [data["forward"], *data["tangents"], data["adjoint"]]
        for row in table["rows"] + table["summary"]
    ]
    assert all(node.isascii() for node in nodes), nodes
    assert [row["node"] for row in data["tangents"][0]["rows"]] == ["v1_dot", "v2_dot", "v3_dot"]
    assert [row["node"] for row in data["adjoint"]["summary"]] == ["df/dx", "df/dy"]
    v1 = data["adjoint"]["rows"][2]
    assert v1["node"] == "v1_bar" and v1["terms"][0]["partial"] == "v1_bar_to_3"
    assert v1["line"] == "v̄₁ = v̄₃·v₂ = 1·3 = 3"  # the shown line keeps the notation


def test_exponents_print_the_minus_sign_and_latex_powers_of_ten() -> None:
    x = Value(0.00195, label="x")
    t = trace(x**2)
    assert "v₂ = v₁**2 = 0.00195**2 = 3.8025e−06" in t.lines(t.forward)
    assert "-" not in str(t)
    big = trace(Value(1.0, label="x") * 1e308 * 10, caption=True).to_latex()
    assert r"y = x \cdot \left(1 \times 10^{308}\right) \cdot 10 \text{ at } x = 1" in big
    assert "e+" not in big
    small = trace(1e-5 ** Value(2.0, label="x"), caption=True)
    assert small.caption == "y = 1e−05**x at x = 2"
    power = r"v_{2} &= \left(1 \times 10^{-5}\right)^{v_{1}} = \left(1 \times 10^{-5}\right)^{2}"
    assert power in small.to_latex()


def test_ln_pi_is_named_and_latex_operands_get_one_pair_of_parentheses() -> None:
    x = Value(2.0, label="x")
    text = str(trace(math.pi**x))
    assert "(v₂*ln(pi))·v̇₁ = (9.87*ln(pi))·1 = 11.298" in text
    small = Value(1e-5, label="x")
    latex = trace(small.log2(), digits=3).to_latex()
    assert r"\log_2\left(1 \times 10^{-5}\right)" in latex and r"\left(\left(" not in latex


@pytest.mark.parametrize(
    ("name", "text", "latex"),
    [
        ("x1", "x₁", "x_{1}"),
        ("X12", "X₁₂", "X_{12}"),
        ("w0", "w₀", "w_{0}"),
        ("v̄2→5", "v̄₂→₅", r"\bar v_{2 \to 5}"),
        ("B1,12", "B₁,₁₂", "B_{1,12}"),
        ("X11,1,3", "X₁₁,₁,₃", "X_{11,1,3}"),
        ("B̄1,12", "B̄₁,₁₂", r"\bar B_{1,12}"),
        ("W1_1,2", "W1₁,₂", r"\mathrm{W1}_{1,2}"),
        ("W̄1_1,2", "W̄1₁,₂", r"\bar{\mathrm{W1}}_{1,2}"),
        ("x1_2", "x1₂", r"\mathrm{x1}_{2}"),
        ("Wh1,12", "Wh₁,₁₂", r"\mathrm{Wh}_{1,12}"),
        ("α1,12", "α₁,₁₂", r"\alpha_{1,12}"),
        ("é1,12", "é₁,₁₂", r"{\text{é}}_{1,12}"),
        # names that are not entries' labels stay as written
        ("x_1", "x_1", r"\mathrm{x\_1}"),
        ("w_hidden", "w_hidden", r"\mathrm{w\_hidden}"),
        ("Wh12", "Wh12", r"\mathrm{Wh12}"),
        ("1,2", "1,2", r"\text{1,2}"),
        ("x,1", "x,1", r"\text{x,1}"),
        ("x1,", "x1,", r"\text{x1,}"),
        ("x_1,2", "x_1,2", r"\text{x\_1,2}"),
    ],
)
def test_names_and_array_entries_print_their_indices_as_subscripts(name: str, text: str, latex: str) -> None:
    """One rule for text and LaTeX: a letter and a number (x₁), or an array entry's label, its
    indices separated by commas (B₁,₁₂) or, after a name ending in a digit, by _ (W1₁,₂)."""
    from scalargrad.notation.names import latex_name as _latex_name
    from scalargrad.notation.names import text_name

    assert text_name(name) == text
    assert _latex_name(name) == latex


@given(st.from_regex(r"[a-zA-Zα_][a-zA-Z0-9α_]{0,6}", fullmatch=True))
def test_printed_identifiers_read_back_as_themselves(name: str) -> None:
    """The expression parser reads a printed name back as the name it printed, except the label
    of a vector entry of a name ending in a digit (x1_2 prints x1₂, read as x12, as x₁₂ is)."""
    from scalargrad.expr import ExpressionError, parse
    from scalargrad.notation.names import text_name

    assume(not name.startswith("_") and name not in ("pi", "e"))
    try:
        names = parse(name).names
    except ExpressionError:  # a keyword (if, in, ...)
        return
    printed = text_name(name)
    if re.fullmatch(r".*[0-9]_[0-9]+", name):
        assert printed == re.sub(r"_([0-9]+)$", lambda m: m.group(1).translate(SUBSCRIPTS), name)
        return
    assert parse(printed).names == names


def test_a_caption_with_entry_labels_reads_back_as_the_same_function() -> None:
    """w1_2 prints w1₂ everywhere in the caption, so the caption is still the same function."""
    from scalargrad.expr import parse

    e = parse("w1_2*w2_1 + sin(w1_2)")
    y, _ = e.build({"w1_2": 2.0, "w2_1": 3.0})
    caption = trace(y, caption=True).caption
    assert caption == "y = w1₂*w2₁ + sin(w1₂) at w1₂ = 2, w2₁ = 3"
    formula, _, point = caption.removeprefix("y = ").partition(" at ")
    values = dict(item.split(" = ") for item in point.split(", "))
    again = parse(formula)
    assert again.evaluate({k: float(v) for k, v in values.items()}) == y.data


@settings(max_examples=30, deadline=None)
@given(label=st.text(min_size=1, max_size=12), caption=st.text(max_size=20))
def test_user_text_cannot_reach_the_terminal_as_control_characters(label: str, caption: str) -> None:
    """issue 21: a label or caption with ESC, newlines or U+2028 prints them as escapes, so the
    text tables cannot recolour a terminal, move its cursor or break a line."""
    x = Value(2.0, label=label)
    for text in (
        str(trace(x.exp() * x, caption=caption or True)),
        sg.draw(x.exp(), caption=caption or True).source,
    ):
        lines = text.split("\n")
        for line in lines:
            assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in line if c != "\t"), (
                line
            )
