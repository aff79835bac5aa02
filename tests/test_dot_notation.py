"""The notes' notation for a dot node: its formula is the sum of products it is, and the
trace tables write it as one line per node whose numbers are forward mode's and reverse mode's.

Checked on hypothesis-drawn graphs with dot nodes against independent means: the same
function rebuilt from binary ``*`` and ``+`` nodes (same text, and the text re-evaluated by
Python gives that graph's value to the bit), :func:`scalargrad.jvp` and :func:`scalargrad.grad`.
"""

from __future__ import annotations

import ast
import json
import math
from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value
from scalargrad.core import OPS, constant, evaluation_order
from scalargrad.notation.formula import formula
from scalargrad.notation.names import BAR, DOT, MINUS, TIMES
from scalargrad.ops import dot
from scalargrad.tables import trace
from scalargrad.testing import GeneratedExpression, expressions_and_points

OPS_WITH_DOT = ["dot", "neg", "sub", "div", "pow", "sin", "exp", "log", "tanh", "atan2", "cbrt"]
CASES = expressions_and_points(max_inputs=3, ops=OPS_WITH_DOT, bound=1.5)
FINITE = st.floats(-4.0, 4.0, allow_nan=False).map(lambda x: round(x, 3))


def built(case: tuple[GeneratedExpression, list[float]]) -> tuple[Value, list[Value]]:
    """The drawn function on labelled inputs, if it has a dot node (else the case is skipped)."""
    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = f(*xs)
    assume(isinstance(y, Value) and any(is_dot(v) for v in evaluation_order(y)))
    return y, xs


def is_dot(v: Value) -> bool:
    return v.op is OPS["dot"]


def on_leaves(f: GeneratedExpression, xs: list[Value]) -> Any:
    """``f`` on ``xs`` with each constant a constant leaf, as a dot node keeps the numbers it is
    given: nothing folds, so ``f`` and ``f.as_binary()`` print alike even where a dot pairs two
    numbers (``0*0``, which a binary ``mul`` of two numbers would fold to ``0``)."""
    slots: list[Any] = list(xs)
    for kind, operands, value in f.steps:
        slots.append(constant(value) if kind == "const" else OPS[kind](*(slots[o] for o in operands)))
    return slots[-1]


NAMESPACE: dict[str, Any] = {
    **{op.symbol: op.evaluate for op in OPS.values() if op.notation == "call"},
    "pi": math.pi,
    "e": math.e,
}
"""What Python needs to evaluate a printed formula: each called op by the name it prints, π, e."""


def python_value(text: str, xs: list[Value]) -> float:
    return float(eval(text, {"__builtins__": {}}, {**NAMESPACE, **{x.label: x.data for x in xs}}))


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


# --------------------------------------------------------------------------- formulas


def test_a_dot_node_prints_as_its_sum_of_products() -> None:
    x1, x2, y1, y2, z = (
        Value(v, label=n) for v, n in [(1, "x1"), (2, "x2"), (3, "y1"), (-4, "y2"), (5, "z")]
    )
    d = dot([x1, x2], [y1, y2])
    assert str(d) == d.formula() == "x1*y1 + x2*y2"
    assert formula(d, latex=True) == r"x1 \cdot y1 + x2 \cdot y2"
    assert str(sg.tanh(d) * x1) == "tanh(x1*y1 + x2*y2)*x1"
    assert str(d * z) == "(x1*y1 + x2*y2)*z"
    assert str(z - d) == "z - (x1*y1 + x2*y2)"
    assert str(z * d) == "z*(x1*y1 + x2*y2)"
    assert str(dot([x1, 2.0, -x2], [x1, -z, x2])) == "x1*x1 + 2*(-z) + (-x2*x2)"
    assert str(dot([x1], [z]) * z) == "x1*z*z"  # one pair is a product, as mul prints it
    assert formula(dot([x1 + z], [y1 - y2]), latex=True) == r"\left(x1 + z\right) \cdot \left(y1 - y2\right)"


@settings(max_examples=150, deadline=None)
@given(CASES)
def test_formula_is_that_of_the_function_built_from_binary_mul_and_add(
    case: tuple[GeneratedExpression, list[float]],
) -> None:
    f, point = case
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    y = on_leaves(f, xs)
    assume(any(is_dot(v) for v in evaluation_order(y)))
    binary = on_leaves(f.as_binary(), xs)
    assert not any(is_dot(v) for v in evaluation_order(binary))
    text = formula(y, max_length=2**62)
    assert text == str(y) == formula(binary, max_length=2**62)
    assert formula(y, latex=True, max_length=2**62) == formula(binary, latex=True, max_length=2**62)
    # the text is the binary graph's function: Python gives its value to the bit, and the
    # dot graph's (summed exactly) to rounding
    shown = python_value(text, xs)
    assert same(shown, binary.data)
    assert math.isclose(shown, y.data, rel_tol=1e-9, abs_tol=1e-9) or same(shown, y.data)


# --------------------------------------------------------------------------- tables


def plain(line: str) -> str:
    """A text table's side as Python: subscripts as digits, ``·`` as ``*``, ``−`` as ``-``."""
    digits = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
    return line.translate(digits).replace(TIMES, "*").replace(MINUS, "-")


def test_dot_lines_in_each_table() -> None:
    x1, x2, y1, y2 = (Value(v, label=n) for v, n in [(1.0, "x1"), (2.0, "x2"), (3.0, "y1"), (-4.0, "y2")])
    t = trace(sg.tanh(dot([x1, x2], [y1, y2])) * x1)
    assert t.lines(t.forward)[4] == "v₅ = v₁*v₃ + v₂*v₄ = 1*3 + 2*(−4) = −5"
    assert t.lines(t.tangents[0])[4] == "v̇₅ = v₃·v̇₁ + v₁·v̇₃ + v₄·v̇₂ + v₂·v̇₄ = 3·1 + 1·0 + (−4)·0 + 2·0 = 3"
    adjoint = t.lines(t.adjoint)
    assert adjoint[3:6] == [
        "v̄₄ = v̄₅·v₂ = 0.00018·2 = 0.00036",
        "v̄₃ = v̄₅·v₁ = 0.00018·1 = 0.00018",
        "v̄₂ = v̄₅·v₄ = 0.00018·(−4) = −0.00073",
    ]
    assert adjoint[6] == "v̄₁ = v̄₇·v₆ + v̄₅·v₃ = 1·(−0.99991) + 0.00018·3 = −0.99991 + 0.00054 = −0.99936"
    latex = t.to_latex()
    assert (
        r"v_{5} &= v_{1} \cdot v_{3} + v_{2} \cdot v_{4} = 1 \cdot 3 + 2 \cdot \left(-4\right) = -5" in latex
    )
    assert r"\bar v_{2} &= \bar v_{5} \cdot v_{4}" in latex


def test_a_pair_of_one_node_and_constants_in_the_tables() -> None:
    x = Value(0.0, label="x")
    folded = trace(dot([x, -1.0], [0.0, x]))  # x*0 + (-1*x): the second term's sign folds in
    assert folded.lines(folded.tangents[0])[1] == "v̇₂ = 0·v̇₁ − v̇₁ = 0·1 − 1 = −1"
    x = Value(3.0, label="x")
    t = trace(dot([x, 2.0], [x, x]))
    assert t.lines(t.forward)[1] == "v₂ = v₁*v₁ + 2*v₁ = 3*3 + 2*3 = 15"
    assert t.lines(t.tangents[0])[1] == "v̇₂ = v₁·v̇₁ + v₁·v̇₁ + 2·v̇₁ = 3·1 + 3·1 + 2·1 = 8"
    assert t.lines(t.adjoint)[1] == "v̄₁ = v̄₂·v₁ + v̄₂·v₁ + v̄₂·2 = 1·3 + 1·3 + 1·2 = 3 + 3 + 2 = 8"


FOLDED_SIGN = GeneratedExpression(1, [("const", (), 0.0), ("const", (), -1.0), ("dot", (0, 2, 1, 0), 0.0)])
"""``x0*0 + (-1*x0)``: its tangent line is ``0·v̇₁ − v̇₁``, a term's minus sign folded in."""


@settings(max_examples=100, deadline=None)
@given(CASES)
@example((FOLDED_SIGN, [0.0]))
def test_tables_write_a_dot_node_as_one_line_with_forward_and_reverse_modes_numbers(
    case: tuple[GeneratedExpression, list[float]],
) -> None:
    y, _ = built(case)
    t = trace(y, digits=15)
    order = evaluation_order(y)
    number = {v: i + 1 for i, v in enumerate(order)}
    for form in (t.to_text(), t.to_latex(), t.to_markdown(), t.to_html()):
        assert form
    data = json.loads(t.to_json())
    for table in t.tables:
        assert len(table.rows) == len(order)
        assert len(t.lines(table)) == len(order) + len(table.summary)
    assert len(data["forward"]["rows"]) == len(order)

    assert [r.value for r in t.forward.rows] == [v.data for v in order]
    inputs = [v for v in order if v.op is None and not v.is_constant]
    for x, table in zip(inputs, t.tangents):
        assert table.summary[0].value == sg.jvp(y, {x: 1.0})
    gradient = sg.grad(y, inputs)
    assert [r.value for r in t.adjoint.summary] == list(gradient)

    adjoint = {v: r.value for v, r in zip(reversed(order), t.adjoint.rows)}
    for v in order:
        if not is_dot(v):
            continue
        i = number[v]
        parents = v.parents
        n = len(parents) // 2
        # forward: the sum of products over the parents' names, read back to the value
        line = t.lines(t.forward)[i - 1]
        head, symbolic, *_ = line.split(" = ")
        assert head == f"v{i}".translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
        names = {f"v{number[p]}": p.data for p in parents if not p.is_constant}
        assert math.isclose(
            eval(plain(symbolic), {"__builtins__": {}}, names),
            v.data,
            rel_tol=1e-9,
            abs_tol=1e-9 * (1 + math.fsum(abs(a.data * b.data) for a, b in zip(parents[:n], parents[n:]))),
        )
        assert symbolic.count(" + ") == n - 1
        # forward mode: the product rule of each pair, read back with the tangents' values
        for table in t.tangents:
            tangent = {f"vd{number[u]}": r.value for u, r in zip(order, table.rows)}
            head, symbolic, *_ = t.lines(table)[i - 1].split(" = ")
            # one term per non-constant parent, joined by + or by − where a term's sign folds in
            terms = symbolic.split(" + ")
            terms = [part for term in terms for part in term.split(f" {MINUS} ")]
            assert len(terms) == sum(not p.is_constant for p in parents), symbolic
            scale = 1 + math.fsum(
                abs(d * tangent[f"vd{number[p]}"])
                for p, d in zip(parents, v.local_grads)
                if not p.is_constant
            )
            assert math.isclose(
                eval(plain(symbolic).replace(DOT, "d"), {"__builtins__": {}}, {**names, **tangent}),
                table.rows[i - 1].value,
                rel_tol=1e-9,
                abs_tol=1e-9 * scale,
            )
        # reverse: each parent's row has one partial adjoint per use, v̄ᵢ·(the other of its pair)
        for position, p in enumerate(parents):
            if p.is_constant:
                continue
            partner = parents[(position + n) % (2 * n)]
            row = t.adjoint.rows[len(order) - number[p]]
            factor = f"v{BAR}{i}"
            mine = [s for s in row.summands if s.factor == factor]
            assert len(mine) == sum(q is p for q in parents)
            assert any(s.value == adjoint[v] * partner.data for s in mine)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(FINITE, min_size=n, max_size=n), min_size=1, max_size=3),
            st.lists(st.lists(FINITE, min_size=1, max_size=3).map(tuple), min_size=n, max_size=n),
        )
    )
)
def test_adjoint_lines_of_a_matrix_product_read_as_the_notes(
    case: tuple[list[list[float]], list[Any]],
) -> None:
    """In Z = XW (one dot node per entry), X̄ᵢₖ = Σⱼ Z̄ᵢⱼ·Wₖⱼ: the row of Xᵢₖ has one partial
    adjoint per entry Zᵢⱼ of its row, v̄(Zᵢⱼ) times the node of Wₖⱼ, and sums to grad's."""
    rows, columns = case
    p = min(len(c) for c in columns)
    X = sg.array(rows, name="X")
    W = sg.array([list(c[:p]) for c in columns], name="W")
    Z = sg.matmul(X, W)
    weights = [[(-1.0) ** (i + j) * (i + 2 * j + 1) for j in range(p)] for i in range(len(rows))]
    y = sum((Z[i, j] * weights[i][j] for i in range(len(rows)) for j in range(p)), Value(0.0))
    t = trace(y)
    g = t.adjoint.graph
    assert g is not None
    row_of = {v: r for v, r in zip(reversed(g.order), t.adjoint.rows)}
    gradient = sg.grad(y, [x for line in X for x in line])
    for (i, k), x in zip([(i, k) for i in range(len(rows)) for k in range(len(columns))], gradient):
        row = row_of[X[i, k]]
        assert row.value == x
        expected = [(g.name(Z[i, j], BAR), g.leaf[W[k, j]]) for j in range(p)]
        assert sorted((s.factor, s.derivative.label) for s in row.summands) == sorted(
            (f, leaf.label) for f, leaf in expected
        )
        for s in row.summands:
            j = next(j for j in range(p) if g.name(Z[i, j], BAR) == s.factor)
            assert s.value == row_of[Z[i, j]].value * W[k, j].data
        assert t.lines(t.adjoint)[len(g.order) - g.index[X[i, k]]].count("·") >= 2 * p


def read_back(text: str, *, exactly: bool) -> float:
    """A line's substituted numbers as Python reads them; ``exactly``: its top-level sum
    summed exactly (``math.fsum``), as a dot node sums its products."""
    tree = ast.parse(text, mode="eval").body
    if not exactly:
        return float(eval(text, {"__builtins__": {}}, dict(NAMESPACE)))
    terms: list[float] = []

    def collect(node: ast.expr, sign: float) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            collect(node.left, sign)
            collect(node.right, sign if isinstance(node.op, ast.Add) else -sign)
        else:
            terms.append(sign * eval(ast.unparse(node), {"__builtins__": {}}, dict(NAMESPACE)))

    collect(tree, 1.0)
    return math.fsum(terms)


ABSORBED = GeneratedExpression(
    1,
    [
        *[("const", (), -1.0), ("const", (), 0.1), ("exp", (0,), 0.0)],
        *[("mul", (0, 0), 0.0), ("neg", (4,), 0.0), ("dot", (0, 5, 3, 1, 2, 0), 0.0)],
    ],
)
"""``x0*(-1) + (-(x0*x0)*0.1) + exp(x0)*x0``: at x0 = 2.89e−51 the dot's exact sum is the middle
term, −8.36e−103, which a left-to-right sum absorbs (0.0)."""


@settings(max_examples=60, deadline=None)
@given(CASES)
@example((ABSORBED, [2.891488426506062e-51]))
def test_auto_digits_dot_lines_recompute_from_their_numbers(
    case: tuple[GeneratedExpression, list[float]],
) -> None:
    """Where ``digits="auto"`` finds a table checkable by hand, a dot node's line is: its
    substituted numbers, read back by Python, give the value shown to its last digit."""
    from scalargrad.notation.names import last_digit
    from scalargrad.tables import mismatches

    y, _ = built(case)
    t = trace(y)
    order = evaluation_order(y)
    dots = [i for i, v in enumerate(order) if is_dot(v)]
    for table in t.tables:
        if mismatches(table, table.digits):
            continue
        lines = t.lines(table)
        for i in dots:
            sides = lines[i].split(" = ")
            if len(sides) < 4 or "inf" in lines[i] or "nan" in lines[i]:
                continue
            shown = plain(sides[-1])
            recomputed = read_back(plain(sides[-2]), exactly=table is t.forward)
            assert abs(recomputed - float(shown)) <= last_digit(shown) * (1 + 1e-9), lines[i]
