"""The notes' evaluation traces, line by line (seeds/000: forward, forward mode, reverse mode)."""

import json
import math

import pytest
from hypothesis import given

from scalargrad import Value
from scalargrad.engine import evaluation_order
from scalargrad.testing import ALL_OPS, Expression, expressions_and_points
from scalargrad.trace import format_number, trace


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
        "v̄₅ = v̄₆·(v₆*(1 − v₆)) = 1·(0.99909*(1 − 0.99909)) = 0.00091",
        "v̄₄ = v̄₅ = 0.00091",
        "v̄₃ = v̄₅ = 0.00091",
        "v̄₂ = v̄₄·v₁ = 0.00091·3 = 0.00273",
        "v̄₁ = v̄₄·v₂ = 0.00091·2 = 0.00182",
        "∂y/∂a = v̄₁ = 0.00182",
        "∂y/∂x = v̄₂ = 0.00273",
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
def test_every_tangent_row_equals_forward_mode(case: tuple[Expression, list[float]]) -> None:
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
    assert [term["partial"] for term in v2["terms"]] == ["v̄2→5", "v̄2→4"]  # names in the data are ASCII digits
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
    from scalargrad.trace import AUTO_DIGITS, mismatches

    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    t = trace((a * x + b).sigmoid())
    for table in t.tables:
        assert mismatches(table, table.digits) == 0, table.kind
    # the default 3 digits could not be checked: 0.999*(1 - 0.999)*2 is not 0.00182
    assert mismatches(t.adjoint, AUTO_DIGITS[0]) > 0
    assert "v̄₅ = v̄₆·(v₆*(1 − v₆)) = 1·(0.99909*(1 − 0.99909)) = 0.00091" in t.lines(t.adjoint)
    # an explicit digits is kept as it is
    assert trace((a * x + b).sigmoid(), digits=3).adjoint.digits == 3


@given(expressions_and_points(max_inputs=3, ops=ALL_OPS, bound=1.0))
def test_auto_digits_lines_recompute_from_what_they_show(case: tuple[Expression, list[float]]) -> None:
    from scalargrad.trace import AUTO_DIGITS, mismatches

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
    from scalargrad import engine

    visited = [0]
    original = engine._printing_order

    def counting(value: Value, names: dict[Value, str]) -> list[Value]:
        order = original(value, names)
        visited[0] += len(order)
        return order

    monkeypatch.setattr(engine, "_printing_order", counting)
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
