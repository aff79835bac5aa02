"""scalargrad.codegen's layout: modules in layers with no import cycles, and the old location's names."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import scalargrad.codegen as codegen

LAYERS = ["errors", "forms", "templates", "program", "helpers", "emit", "backends", "callables", "compiler"]
"""The codegen modules in order: each imports only modules before it."""


def _codegen_imports(name: str) -> set[str]:
    tree = ast.parse((Path(codegen.__file__).parent / f"{name}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add((node.module or "").split(".")[0])
    return found


def test_every_codegen_module_is_in_a_layer() -> None:
    modules = {p.stem for p in Path(codegen.__file__).parent.glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS)


def test_each_codegen_module_imports_only_the_layers_before_it() -> None:
    for i, name in enumerate(LAYERS):
        assert _codegen_imports(name) <= set(LAYERS[:i]), name


def test_the_op_specific_tables_import_nothing() -> None:
    # forms.py is the boundary with scalargrad.ops: data only, ready to move into the ops' entries
    tree = ast.parse((Path(codegen.__file__).parent / "forms.py").read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_the_old_location_gives_the_same_objects_with_a_warning() -> None:
    old = importlib.import_module("scalargrad.compile")
    plot = importlib.import_module("scalargrad.plot")
    names = ["ArrayGradient", "CompileCheckError", "CompileError", "CompiledGradient", "MAX_NODES", "compile"]
    for name in [*names, "literal", "READABLE_NODES", "BLOCK", "plot"]:
        with pytest.warns(DeprecationWarning, match=f"import {name} from"):
            assert getattr(old, name) is getattr(plot if name == "plot" else codegen, name), name
    with pytest.warns(DeprecationWarning):
        assert old.VALUE is codegen.templates.VALUE
