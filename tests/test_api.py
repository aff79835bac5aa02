"""The public API: ``__all__`` is importable and complete, new names work, and every old
spelling still works for one release with a DeprecationWarning naming the new one."""

from __future__ import annotations

import importlib
import types
import warnings

import pytest

import scalargrad as sg

MOVED_TO_GRAPH = ["count_ops", "evaluation_order", "formula", "method_source", "topological_order"]


def test_all_is_importable_and_sorted_out() -> None:
    assert len(set(sg.__all__)) == len(sg.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no name in __all__ is a deprecated alias
        for name in sg.__all__:
            assert getattr(sg, name) is not None, name
        namespace: dict[str, object] = {}
        exec("from scalargrad import *", namespace)
    assert set(sg.__all__) <= set(namespace)


def test_all_is_complete() -> None:
    """Every public name the package defines is in ``__all__`` (submodules aside, but graph)."""
    public = {
        name
        for name, value in vars(sg).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public -= {"annotations", "warnings", "Any"}  # the module's own imports
    assert public - set(sg.__all__) == set()
    assert "graph" in sg.__all__ and isinstance(sg.graph, types.ModuleType)


def test_new_names() -> None:
    assert sg.CompileError is importlib.import_module("scalargrad.codegen").CompileError
    assert issubclass(sg.CompileError, ValueError)
    x = sg.Value(2.0, label="x")
    y = x * x
    assert sg.vjp(y, x, 1.0) == sg.grad(y, x) == 4.0
    assert sg.jvp(y, seed={x: 1.0}) == 4.0
    assert sg.hessian(y, {"x": x}) == {"x": {"x": 2.0}}
    assert sg.graph.formula(y) == "x*x"
    assert sg.graph.topological_order(y)[-1] is y
    assert sg.graph.count_ops(y) == {"mul": 1}
    assert [v.data for v in sg.graph.evaluation_order([y])] == [2.0, 4.0]
    assert "def" in sg.graph.method_source("sin")
    testing = pytest.importorskip("scalargrad.testing")
    assert "GeneratedExpression" in testing.__all__ and "Expression" not in testing.__all__
    numeric = importlib.import_module("scalargrad.numeric")
    assert {"Tolerance", "DEFAULT_TOLERANCE", "close"} <= set(numeric.__all__)


@pytest.mark.parametrize("name", MOVED_TO_GRAPH)
def test_top_level_graph_helpers_are_deprecated_aliases(name: str) -> None:
    assert name not in sg.__all__
    assert name not in vars(sg)  # reached through the module's __getattr__ only
    message = rf"scalargrad\.{name} is deprecated.*scalargrad\.graph\.{name}"
    with pytest.warns(DeprecationWarning, match=message):
        old = getattr(sg, name)
    assert old is getattr(sg.graph, name)
    with pytest.warns(DeprecationWarning, match=rf"scalargrad\.graph\.{name}"):
        exec(f"from scalargrad import {name}", {})


def test_unknown_attributes_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        sg.no_such_name  # noqa: B018
    assert not hasattr(sg, "no_such_name")


def test_jvp_tangents_keyword_is_deprecated() -> None:
    x = sg.Value(3.0)
    with pytest.warns(DeprecationWarning, match=r"jvp\(outputs, seed=\.\.\.\)"):
        assert sg.jvp(x * x, tangents={x: 1.0}) == 6.0


def test_testing_expression_is_a_deprecated_alias() -> None:
    testing = pytest.importorskip("scalargrad.testing")
    with pytest.warns(DeprecationWarning, match=r"testing\.Expression is deprecated.*GeneratedExpression"):
        old = testing.Expression
    assert old is testing.GeneratedExpression
    with pytest.warns(DeprecationWarning):
        exec("from scalargrad.testing import Expression", {})
    with pytest.raises(AttributeError):
        testing.no_such_name  # noqa: B018


def test_the_two_expression_classes_have_different_names() -> None:
    testing = pytest.importorskip("scalargrad.testing")
    expr = importlib.import_module("scalargrad.expr")
    assert expr.Expression.__name__ != testing.GeneratedExpression.__name__


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("scalargrad.trace", "Trace", "scalargrad.tables"),
        ("scalargrad.trace", "text_name", "scalargrad.notation.names"),
        ("scalargrad.trace", "Graph", "scalargrad.notation.numbering"),
        ("scalargrad.compile", "CompileError", "scalargrad.codegen"),
        ("scalargrad.compile", "plot", "scalargrad.plot"),
        ("scalargrad.steps", "Steps", "scalargrad.stepping"),
    ],
)
def test_old_module_paths_import_with_a_warning_naming_the_new_home(old: str, name: str, new: str) -> None:
    import importlib

    with pytest.warns(DeprecationWarning, match=f"import {name} from {new}"):
        exec(f"from {old} import {name} as found", namespace := {})
    assert namespace["found"] is getattr(importlib.import_module(new), name)


def test_a_name_the_old_module_never_had_is_an_error_naming_the_new_homes() -> None:
    import sys

    with pytest.raises(ImportError, match="no_such_name"):
        exec("from scalargrad.trace import no_such_name", {})
    with pytest.raises(AttributeError, match=r"moved to scalargrad\.notation\.names, .*scalargrad\.tables"):
        sys.modules["scalargrad.trace"].no_such_name  # noqa: B018


def test_the_functions_keep_their_names_beside_their_modules() -> None:
    import importlib

    tables, stepping, codegen = map(
        importlib.import_module, ("scalargrad.tables", "scalargrad.stepping", "scalargrad.codegen")
    )
    assert callable(sg.trace) and tables.trace is sg.trace
    assert callable(sg.steps) and stepping.steps is sg.steps
    assert callable(sg.compile) and codegen.compile is sg.compile
    assert codegen.CompileError is sg.CompileError


@pytest.mark.parametrize(
    "old", ["scalargrad.engine", "scalargrad.trace", "scalargrad.steps", "scalargrad.compile"]
)
def test_a_star_import_from_an_old_path_gives_its_old_names_with_a_warning(old: str) -> None:
    from scalargrad._deprecated import MOVED

    namespace: dict[str, object] = {}
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
        exec(f"from {old} import *", namespace)
    assert set(MOVED[old].public) <= namespace.keys()


def test_a_pickle_made_by_0_1_0_loads_with_a_warning() -> None:
    """tests/golden/graph_0.1.0.pickle is ``pickle.dumps([x, y])`` by scalargrad 0.1.0, with
    x = Value(2.0, label="x") and y = x.sin()*x + 2**x: its classes are named under
    ``scalargrad.engine``."""
    import math
    import pickle
    from pathlib import Path

    data = (Path(__file__).parent / "golden" / "graph_0.1.0.pickle").read_bytes()
    assert b"scalargrad.engine" in data
    with pytest.warns(DeprecationWarning, match="scalargrad.engine is deprecated"):
        x, y = pickle.loads(data)
    assert x.label == "x" and y.data == math.sin(2.0) * 2.0 + 4.0
    assert sg.grad(y, x) == pytest.approx(math.cos(2.0) * 2 + math.sin(2.0) + 4 * math.log(2))
