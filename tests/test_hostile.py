"""Issue 21, engine side: wrong user ops, look-alike op names, LaTeX templates and damaged
pickles fail at once with a clear error, never silently or with a raw IndexError,
KeyError or AttributeError later. (Oversized networks: test_nn.py; ``wrt`` items that
are not Values: test_autodiff.py.)"""

from __future__ import annotations

import copy
import math
import pickle
import re
from pathlib import Path
from typing import Any

import pytest

import scalargrad as sg
from scalargrad import OPS, Value
from scalargrad.core import OpDefinitionError
from scalargrad.core import value as core_value
from scalargrad.expr import ExpressionError, parse


def at_five(wrong: Any) -> Any:
    """A derivative that is right (1.0) everywhere but at x = 5, where it returns ``wrong``."""

    def derivative(x: Any, out: Any) -> Any:
        return wrong if float(x) == 5.0 else 1.0

    return derivative


# --------------------------------------------------------------------------- #
# user ops are checked wherever they run, not only where define_op probes      #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("suffix", "wrong", "shown"),
    [
        ("string", "2.0", "returned '2.0' (str)"),
        ("pair", (1.0, 2.0), "got 2 at derivative(5.0, out=5.0): (1.0, 2.0) (tuple)"),
        ("empty", (), "got 0 at derivative(5.0, out=5.0): () (tuple)"),
        ("none", None, "returned None (NoneType)"),
        ("bool", True, "returned True (bool)"),
    ],
)
def test_a_wrong_derivative_away_from_the_probe_is_refused_where_it_runs(
    suffix: str, wrong: Any, shown: str
) -> None:
    op = sg.define_op(f"hostile_rule_{suffix}", lambda x: x, at_five(wrong))  # right at the probe
    with pytest.raises(OpDefinitionError, match=rf"^hostile_rule_{suffix}: ") as caught:
        op(Value(5.0))
    assert "derivative(5.0, out=5.0)" in str(caught.value) and shown in str(caught.value)
    y = Value(4.0)
    assert sg.grad(op(y), y) == 1.0  # elsewhere it still works


def test_a_binary_rule_must_return_a_pair_everywhere() -> None:
    op = sg.define_op(
        "hostile_binary_bare",
        lambda a, b: a + b,
        lambda a, b, out: 1.0 if float(a) == 5.0 else (1.0, 1.0),
        arity=2,
    )
    with pytest.raises(OpDefinitionError, match=r"hostile_binary_bare: derivative\(5\.0, 1\.0, out=6\.0\)"):
        op(Value(5.0), 1.0)
    assert op(Value(4.0), Value(1.0)).data == 5.0


def test_a_rule_wrong_only_on_values_is_refused_by_create_graph() -> None:
    op = sg.define_op(
        "hostile_rule_on_values", lambda x: x, lambda x, out: "one" if isinstance(x, Value) else 1.0
    )
    x = Value(3.0, label="x")
    y = op(x)
    assert sg.grad(y, x) == 1.0
    with pytest.raises(OpDefinitionError, match=r"hostile_rule_on_values: derivative\(3\.0, out=3\.0\)"):
        sg.grad(y, x, create_graph=True)


@pytest.mark.parametrize(
    ("suffix", "wrong", "shown"),
    [("string", "3.0", r"'3\.0' \(str\)"), ("value", Value(3.0), r"Value\(data=3\.0.*\(Value\)")],
)
def test_evaluate_must_return_a_real_number_wherever_it_runs(suffix: str, wrong: Any, shown: str) -> None:
    op = sg.define_op(f"hostile_value_{suffix}", lambda x: wrong if x == 5.0 else x, lambda x, out: 1.0)
    with pytest.raises(
        OpDefinitionError, match=rf"hostile_value_{suffix}: evaluate\(5\.0\) returned {shown}"
    ):
        op(Value(5.0))
    with pytest.raises(OpDefinitionError, match="must return a real number"):
        op(5.0)
    assert op(Value(4.0)).data == 4.0


def test_op_definition_errors_are_type_and_value_errors() -> None:
    assert issubclass(OpDefinitionError, TypeError) and issubclass(OpDefinitionError, ValueError)


# --------------------------------------------------------------------------- #
# op names: NFKC-normalised, ASCII only                                       #
# --------------------------------------------------------------------------- #


def test_names_equal_once_normalised_are_refused() -> None:
    sg.define_op("fi", lambda x: x * x, lambda x, out: 2 * x)
    with pytest.raises(OpDefinitionError, match=r"'ﬁ' reads as 'fi' .*NFKC.* the op 'fi'"):
        sg.define_op("ﬁ", lambda x: x**3, lambda x, out: 3 * x * x)
    with pytest.raises(OpDefinitionError, match=r"'ｓin' reads as 'sin'"):
        sg.define_op("ｓin", math.sin, lambda x, out: sg.cos(x))
    assert "ﬁ" not in OPS and "ｓin" not in OPS


def test_op_names_must_be_ascii_so_compiled_code_and_the_cli_can_write_them() -> None:
    with pytest.raises(OpDefinitionError, match=r"must be ASCII .* got 'café'"):
        sg.define_op("café", lambda x: x, lambda x, out: 1.0)
    with pytest.raises(OpDefinitionError, match=r"got 'ℌ' \(Python reads it as 'H'\)"):
        sg.define_op("ℌ", lambda x: x, lambda x, out: 1.0)
    assert "café" not in OPS and "ℌ" not in OPS


def test_compiled_code_of_a_user_op_agrees_with_the_engine() -> None:
    op = OPS.get("fi") or sg.define_op("fi", lambda x: x * x, lambda x, out: 2 * x)
    x = Value(2.0, label="x")
    y = op(op(x)) + x
    value, (gradient,) = sg.compile(y, [x])(2.0)
    assert (value, gradient) == (y.data, sg.grad(y, x))


def test_const_is_not_an_op_name() -> None:
    with pytest.raises(OpDefinitionError, match="constant leaves"):
        sg.define_op("const", lambda x: x, lambda x, out: 1.0)


# --------------------------------------------------------------------------- #
# latex= is a str.format template, checked at definition                      #
# --------------------------------------------------------------------------- #


def test_a_latex_template_with_single_braces_is_refused_at_definition() -> None:
    with pytest.raises(
        OpDefinitionError, match=r"hostile_latex_braces: latex=.*\(KeyError: 'f'\).*double literal"
    ):
        sg.define_op("hostile_latex_braces", lambda x: x, lambda x, out: 1.0, latex=r"\operatorname{f}({0})")
    assert "hostile_latex_braces" not in OPS


def test_latex_must_be_a_str_with_the_ops_arity() -> None:
    with pytest.raises(OpDefinitionError, match=r"hostile_latex_int: latex must be a str.*got int: 123"):
        sg.define_op("hostile_latex_int", lambda x: x, lambda x, out: 1.0, latex=123)  # type: ignore[arg-type]
    with pytest.raises(OpDefinitionError, match=r"IndexError"):
        sg.define_op("hostile_latex_arity", lambda x: x, lambda x, out: 1.0, latex="{0} + {1}")
    with pytest.raises(OpDefinitionError, match=r"AttributeError"):
        sg.define_op("hostile_latex_field", lambda x: x, lambda x, out: 1.0, latex="{0.real}")


def test_a_documented_latex_template_prints() -> None:
    op = sg.define_op(
        "hostile_latex_good",
        lambda a, b: a * b,
        lambda a, b, out: (b, a),
        arity=2,
        latex=r"\operatorname{{g}}\left({0}, {1}\right)",
    )
    x = Value(1.0, label="x")
    latex = sg.graph.formula(op(x, x.sin()), latex=True)
    assert latex == r"\operatorname{g}\left(x, \sin\left(x\right)\right)"


# --------------------------------------------------------------------------- #
# pickles: a loaded graph is a graph                                          #
# --------------------------------------------------------------------------- #


class Forged:
    """Pickles as a Value with the given fields: a hand-edited pickle, without the hex editor."""

    def __init__(self, fields: tuple[Any, ...] | None = None) -> None:
        self.fields = fields

    def __reduce__(self) -> tuple[Any, ...]:
        return (core_value._new, (Value,), (None, self.fields))


def fields(**changes: Any) -> tuple[Any, ...]:
    """A sin node's fields over a leaf, with ``changes``: data, grad, label, _op, _a, _da, _b, _db."""
    names = ("data", "grad", "label", "_op", "_a", "_da", "_b", "_db")
    base = dict(zip(names, (math.sin(1.0), 0.0, None, OPS["sin"], Forged(leaf_fields()), 0.5, None, 0.0)))
    base.update(changes)
    return tuple(base[n] for n in names)


def leaf_fields() -> tuple[Any, ...]:
    return (1.0, 0.0, "x", None, None, 0.0, None, 0.0)


def test_a_forged_pickle_that_is_a_graph_loads() -> None:
    v = pickle.loads(pickle.dumps(Forged(fields())))
    assert v.op is OPS["sin"] and v.parents[0].label == "x"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"data": "0.84"}, "data must be a float, got '0.84' (str)"),
        ({"grad": None}, "grad must be a float"),
        ({"label": 7}, "label must be a str or None"),
        ({"_op": len}, "_op must be a registered op, got <built-in function len>"),
        ({"_a": 3}, "_a must be a Value (a parent node), got 3 (int)"),
        ({"_da": "1"}, "_da must be a float"),
        ({"_b": Forged(leaf_fields())}, "_b must be None for an op with one parent"),
        ({"_op": OPS["mul"]}, "_b must be a Value (a parent node), got None"),
        ({"_op": None}, "_a must be None for a leaf"),
        (
            {"_op": OPS["mul"].with_constant[1], "_b": Forged(leaf_fields())},
            "_b must be None for an op with one parent",
        ),
    ],
)
def test_a_tampered_pickle_is_an_unpickling_error_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    data = pickle.dumps(Forged(fields(**changes)))
    with pytest.raises(
        pickle.UnpicklingError, match=rf"not a scalargrad graph: a Value's {re.escape(field)}"
    ):
        pickle.loads(data)


def test_a_pickled_cycle_is_refused() -> None:
    a, b = Forged(), Forged()
    a.fields = fields(_a=b)
    b.fields = fields(_a=a)
    with pytest.raises(
        pickle.UnpicklingError, match=r"_a must be a node loaded before this one \(the graph has a cycle\)"
    ):
        pickle.loads(pickle.dumps(a))
    selfish = Forged()
    selfish.fields = fields(_a=selfish)
    with pytest.raises(pickle.UnpicklingError, match="has a cycle"):
        pickle.loads(pickle.dumps(selfish))


def test_graphs_with_constants_and_number_operands_pickle_and_copy() -> None:
    x = Value(2.0, label="x")
    y = core_value.constant(3.0) * x + 2**x - x / 3
    for twin in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y), pickle.loads(pickle.dumps(y, protocol=0))):
        assert str(twin) == str(y) and twin.data == y.data
        assert [v.is_constant for v in sg.graph.topological_order(twin)] == [
            v.is_constant for v in sg.graph.topological_order(y)
        ]


def test_the_readme_warns_that_loading_a_pickle_runs_code() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Copying and saving graphs") :]
    section = section[: section.index("\n#", 1)]
    assert "never load one from an untrusted source" in section
    assert "UnpicklingError" in section


@pytest.mark.parametrize("symbol", ["\x1b[31m", "", " f", "a\nb", 5])
def test_a_symbol_must_be_visible_text(symbol: object) -> None:
    """issue 21: a user op's symbol prints as it is in formulas, tables and diagrams, so one
    that holds control characters (or is no string) is refused at definition."""
    with pytest.raises(sg.OpDefinitionError, match="symbol must be a non-empty string of visible"):
        sg.define_op("sym_check", lambda x: 2 * x, lambda x, out: 2.0, symbol=symbol)  # type: ignore[arg-type]
    assert "sym_check" not in sg.OPS


# --------------------------------------------------------------------------- #
# the expression parser's dot: its limits hold however dot is written          #
# --------------------------------------------------------------------------- #


def _dot_of(xs: list[str], ys: list[str]) -> str:
    return f"dot(({', '.join(xs)},), ({', '.join(ys)},))"


def _nested_dots(depth: int) -> str:
    """x·x·…·x as ``depth`` dots each inside the first operand of the next."""
    text = "x"
    for _ in range(depth):
        text = _dot_of([text], ["x"])
    return text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"dot(({','.join(['-x'] * 340)}), ({','.join(['y'] * 340)}))", "too large (more than 1000 parts)"),
        (_dot_of(["x"] * 700, ["y"] * 700), "too long"),
        (_dot_of(["x" + "+x" * 500], ["y"]), "too large (more than 1000 parts)"),
        (_nested_dots(120), "too many nested parentheses"),
        ("dot((x,)*400, (y,)*400)", "must be a tuple or list"),
        ("dot([x for x in y], [y])", "must be a tuple or list"),
        ("dot((x,), (y ** 100000,))", "exponent 100000 is too large"),
        ("dot((x.__class__,), (y,))", "not allowed: attribute access"),
        ("dot((_x,), (y,))", "names starting with '_'"),
        ("dot((x,), ((y, (x, y)),))", "not allowed: tuples"),
        ("dot(" * 120 + "x" + ")" * 120, "takes exactly 2 arguments"),
    ],
)
def test_the_parsers_limits_hold_with_dot(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_deeply_nested_dots_evaluate_and_differentiate_without_recursion() -> None:
    depth = 90  # two parentheses a level: Python's parser stops at 200 nested
    y, inputs = parse(_nested_dots(depth)).build({"x": 1.01})
    assert y.op is OPS["dot"] and y.data == pytest.approx(1.01 ** (depth + 1), rel=1e-12)
    assert sg.grad(y, inputs["x"]) == pytest.approx((depth + 1) * 1.01**depth, rel=1e-12)
