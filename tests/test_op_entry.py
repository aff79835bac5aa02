"""An op is one entry in scalargrad/ops.py: every list, namespace, export and table comes from it.

Adding a built-in op touches ops.py and the reference data of tests/test_op_reference.py
only; these tests say what is missing, by name, when an entry is incomplete.
"""

from __future__ import annotations

import builtins
import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import scalargrad as sg
from scalargrad import OPS, OpDefinitionError, Value, ops
from scalargrad.codegen.helpers import array_definition, array_forms
from scalargrad.codegen.templates import VALUE, template
from scalargrad.core.methods import _GRAPH_METHODS, _NO_GRAPH_METHODS, _SOURCES, builtin_op, check_namespaces
from scalargrad.core.op import FLOAT_NAMESPACE, GRAPH_NAMESPACE

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = {name: op for name, op in OPS.items() if op.builtin}
CALLS = sorted(name for name, op in BUILTIN.items() if op.notation == "call")


@pytest.fixture
def scratch() -> Iterator[None]:
    """Undo what a test's builtin_op registers: the op, its methods and namespace entries."""
    ops_before, float_before, graph_before = dict(OPS), dict(FLOAT_NAMESPACE), dict(GRAPH_NAMESPACE)
    sources_before = dict(_SOURCES)
    yield
    for name in set(_SOURCES) - set(sources_before):
        delattr(Value, name)
        _SOURCES.pop(name)
        _GRAPH_METHODS.pop(name, None)
        _NO_GRAPH_METHODS.pop(name, None)
    saved = ((OPS, ops_before), (FLOAT_NAMESPACE, float_before), (GRAPH_NAMESPACE, graph_before))
    for table, before in saved:
        table.clear()
        table.update(before)  # type: ignore[arg-type]


def test_every_op_is_bound_in_both_namespaces() -> None:
    for name, op in BUILTIN.items():
        assert GRAPH_NAMESPACE[name] is op, name
        assert callable(FLOAT_NAMESPACE.get(name, getattr(builtins, name, None))), name
    check_namespaces(OPS)  # every name each template reads is bound where the template runs


def test_exports_are_the_call_ops() -> None:
    """ops.__all__ (which scalargrad re-exports) lists every op written as a call; abs is Python's."""
    variadic = {name for name, op in BUILTIN.items() if op.arity is None}  # dot(xs, ys): a function
    wanted = set(CALLS) - {"abs"} | variadic
    missing = sorted(wanted - set(ops.__all__))
    assert not missing, f"add {', '.join(repr(n) for n in missing)} to __all__ in scalargrad/ops.py"
    assert set(ops.__all__) <= wanted, set(ops.__all__) - wanted
    assert set(ops.__all__) <= set(sg.__all__)
    for name in ops.__all__:
        assert getattr(sg, name) is (getattr(ops, name) if name in variadic else OPS[name]), name


def test_every_entry_has_a_table_row() -> None:
    table = ops.table()
    for name, op in BUILTIN.items():
        missing = f"{name}: give builtin_op(..., doc=(value, derivative, special points))"
        assert op.doc is not None and len(op.doc) == 3, missing
    for name in CALLS:
        assert f"`{name}(" in table, name
    assert table.count("\n") == len(BUILTIN) + 2


def test_the_site_puts_the_table_in_the_tour() -> None:
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "docs" / "build_site.py")
    assert spec is not None and spec.loader is not None
    build_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_site)
    tour = (ROOT / "docs" / "tour.md").read_text(encoding="utf-8")
    staged = build_site.with_op_table(tour)
    assert ops.table() in staged
    assert staged.startswith(tour[: tour.index("<!-- op-table -->")])


def test_every_name_an_array_form_reads_has_a_numpy_and_a_torch_form() -> None:
    for backend in ("numpy", "torch"):
        forms = array_forms(backend)  # raises if two entries give one name different forms
        for name, op in BUILTIN.items():
            if op.arity is None:  # a variadic op has no templates; tests/test_codegen*.py check its forms
                continue
            for which in (VALUE, *range(op.arity)):
                for read in sorted(template(op, which, True).names):
                    if read in ("abs", "min", "max", "float") and read not in forms:
                        continue
                    assert array_definition(backend, read) is not None, (
                        f"{name}: no {backend} form of {read!r}; give builtin_op(..., {backend}=...)"
                    )


def test_an_unknown_name_in_a_template_is_refused_where_the_op_is_defined(scratch: None) -> None:
    with pytest.raises(OpDefinitionError, match=r"gizmo: the derivative 0 'nosuchfn\(a\)' names 'nosuchfn'"):
        builtin_op("gizmo", "sin(a)", ("nosuchfn(a)",))
    with pytest.raises(OpDefinitionError, match=r"gizmo: the value 'whatsit\(a\)' names 'whatsit'"):
        builtin_op("gizmo", "whatsit(a)", ("1.0",))
    with pytest.raises(OpDefinitionError, match=r"gizmo: the derivative 0 '1\.0 /' is not a Python"):
        builtin_op("gizmo", "a", ("1.0 /",))
    assert "gizmo" not in OPS and not hasattr(Value, "gizmo")


def test_a_float_only_name_in_a_derivative_is_refused(scratch: None) -> None:
    """math.gamma is bound for floats but is no op: the rule (create_graph) could not use it."""
    op = builtin_op("gizmo", "gamma(a)", ("gamma(a) * digamma_free(a)",), helpers={"digamma_free": math.exp})
    with pytest.raises(OpDefinitionError, match=r"gizmo: the derivative 0 .* names 'gamma', which the rule"):
        check_namespaces({"gizmo": op})


def test_a_derivative_may_call_its_own_op(scratch: None) -> None:
    """As cbrt's derivative does: the op is in the rule's namespace once defined."""
    op = builtin_op("gizmo", "exp(a)", ("gizmo(a)",))
    check_namespaces({"gizmo": op})
    x = Value(0.5)
    first = sg.grad(op(x), x, create_graph=True)
    assert first.data == math.exp(0.5) and sg.grad(first, x) == math.exp(0.5)
