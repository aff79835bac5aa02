"""The core's layout: what it imports, what it knows, and what the old engine module still offers."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import pytest

import scalargrad.core
from scalargrad.core import OPS, Value, method_source, value
from scalargrad.core.methods import _SOURCES

CORE = Path(scalargrad.core.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """The modules ``path`` imports, relative ones as ``.name``."""
    found = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            found.update(alias.name for alias in n.names)
        elif isinstance(n, ast.ImportFrom):
            found.add("." * n.level + (n.module or ""))
    return found


def test_the_core_imports_only_itself_and_the_standard_library() -> None:
    for path in CORE.glob("*.py"):
        for module in imported_modules(path):
            if module.startswith("."):
                assert not module.startswith(".."), (path.name, module)
            else:
                assert module.split(".")[0] in sys.stdlib_module_names | {"__future__"}, (path.name, module)


def test_the_core_modules_import_each_other_without_a_cycle() -> None:
    graph = {
        path.stem: {m.lstrip(".") for m in imported_modules(path) if m.startswith(".")}
        for path in CORE.glob("*.py")
        if path.stem != "__init__"
    }
    done: set[str] = set()
    while len(done) < len(graph):
        ready = {m for m, needs in graph.items() if m not in done and needs <= done}
        assert ready, {m: graph[m] - done for m in graph if m not in done}
        done |= ready


def test_the_core_names_no_op_but_in_the_operator_table() -> None:
    """Ops are defined in scalargrad.ops; only the transitional name → operator table names them."""
    for path in CORE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        table = {
            id(c)
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "_DUNDERS" for t in n.targets)
            for c in ast.walk(n.value)
        }
        named = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in OPS and id(n) not in table
        ]
        assert not named, (path.name, named)


def test_every_generated_method_is_declared_for_type_checkers() -> None:
    tree = ast.parse(inspect.getsource(value))
    value_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Value")
    block = next(
        n for n in value_class.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    declared = {f.name for f in block.body if isinstance(f, ast.FunctionDef)}
    # the operators one by one (type checkers look them up on the class); the named methods
    # through a __getattr__ returning Callable[..., Value], so the core names no op
    operators = {name for name in _SOURCES if name.startswith("__")}
    assert operators <= declared, operators - declared
    assert "__getattr__" in declared and not (declared - operators - {"__getattr__"})


def test_generated_methods_show_their_source() -> None:
    for name in _SOURCES:
        assert inspect.getsource(getattr(Value, name)) == method_source(name)


def test_the_old_engine_module_offers_the_same_objects_with_a_warning() -> None:
    engine = importlib.import_module("scalargrad.engine")
    for name in (
        "Value",
        "OPS",
        "Op",
        "define_op",
        "no_grad",
        "accumulate_adjoints",
        "formula",
        "topological_order",
    ):
        with pytest.warns(DeprecationWarning, match=f"import {name} from scalargrad"):
            assert hasattr(engine, name), name
    with pytest.warns(DeprecationWarning):
        assert engine.Value is Value and engine.OPS is OPS and engine.define_op is scalargrad.core.define_op
    assert str(Value(2.0, label="x") * 3) == "x*3"
