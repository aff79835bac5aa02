"""Old module paths, kept working for one release with a DeprecationWarning.

After 0.1.0 the package was split into layers and the modules whose names were hidden by the
top-level functions of the same name were renamed (``scalargrad.trace`` the function hid
``scalargrad.trace`` the module). An old import such as ``from scalargrad.engine import
Value``, or ``from scalargrad.engine import *``, still works: the old path is a
:class:`MovedModule` in :data:`sys.modules` that finds each name in its new home and warns,
at every access, where that is. A pickle made by 0.1.0 names classes under the old paths, so
it loads too (with the warning); save it again to be rid of the warning before the old
paths go.

A proxy in :data:`sys.modules`, not a file, because importing a file ``scalargrad/trace.py``
would make the package attribute ``scalargrad.trace`` the module instead of the function.
For the same reason ``import scalargrad.trace as m`` gives the function, as it did in 0.1.0:
the modules are :mod:`scalargrad.tables`, :mod:`scalargrad.stepping` and
:mod:`scalargrad.codegen`.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import Any, NamedTuple


class Moved(NamedTuple):
    """An old module: the modules, searched in order, that now hold its names, and its old
    ``__all__`` (what ``from old import *`` gave)."""

    homes: tuple[str, ...]
    public: tuple[str, ...]


MOVED: dict[str, Moved] = {
    "scalargrad.engine": Moved(
        (
            "scalargrad.core",
            "scalargrad.core.value",
            "scalargrad.core.op",
            "scalargrad.core.define",
            "scalargrad.core.methods",
            "scalargrad.core.walks",
            "scalargrad.notation.formula",
        ),
        (
            "OPS",
            "Op",
            "OpDefinitionError",
            "Partial",
            "Value",
            "accumulate_adjoints",
            "accumulate_tangents",
            "count_ops",
            "define_op",
            "evaluation_order",
            "formula",
            "formula_parts",
            "method_source",
            "no_grad",
            "topological_order",
        ),
    ),
    "scalargrad.trace": Moved(
        ("scalargrad.notation.names", "scalargrad.notation.numbering", "scalargrad.tables"),
        ("Row", "Table", "Trace", "format_number", "text_name", "trace"),
    ),
    "scalargrad.steps": Moved(("scalargrad.stepping",), ("MODES", "Step", "Steps", "steps")),
    "scalargrad.compile": Moved(
        (
            "scalargrad.codegen",
            "scalargrad.plot",
            "scalargrad.codegen.templates",
            "scalargrad.codegen.program",
        ),
        (
            "BLOCK",
            "MAX_NODES",
            "READABLE_NODES",
            "ArrayGradient",
            "CompileCheckError",
            "CompileError",
            "CompiledGradient",
            "compile",
            "literal",
            "plot",
        ),
    ),
}
"""Each old module path, where its names are now, and what its star import gave."""


class MovedModule(types.ModuleType):
    """A stand-in for a module that moved: attribute access finds the name in its new home."""

    def __init__(self, old: str, moved: Moved) -> None:
        super().__init__(old, f"Deprecated: the names of {old} now live in {', '.join(moved.homes)}.")
        self.__moved = moved

    def __getattr__(self, name: str) -> Any:
        if name == "__all__":
            self.__warn(f"import its names from {', '.join(self.__moved.homes)}")
            return list(self.__moved.public)
        if name.startswith("__"):
            raise AttributeError(name)
        for home in self.__moved.homes:
            module = importlib.import_module(home)
            if hasattr(module, name):
                self.__warn(f"import {name} from {home}")
                return getattr(module, name)
        homes = ", ".join(self.__moved.homes)
        raise AttributeError(f"module {self.__name__!r} (moved to {homes}) has no attribute {name!r}")

    def __warn(self, advice: str) -> None:
        warnings.warn(
            f"{self.__name__} is deprecated and will be removed in the next release; {advice}",
            DeprecationWarning,
            stacklevel=3,
        )

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for home in self.__moved.homes:
            names.update(n for n in dir(importlib.import_module(home)) if not n.startswith("_"))
        return sorted(names)


def install_moved_modules() -> None:
    """Put a :class:`MovedModule` in :data:`sys.modules` under each old path of :data:`MOVED`."""
    for old, new in MOVED.items():
        sys.modules.setdefault(old, MovedModule(old, new))
