"""Old module paths, kept working for one release with a DeprecationWarning.

Release 0.2 split three large modules into layers and renamed the modules whose names were
hidden by the top-level functions of the same name (``scalargrad.trace`` the function hid
``scalargrad.trace`` the module). An old import such as ``from scalargrad.engine import
Value`` still works: the old path is a :class:`MovedModule` in :data:`sys.modules` that finds
the name in its new home and warns once per name where that is.

A proxy in :data:`sys.modules`, not a file, because importing a file ``scalargrad/trace.py``
would make the package attribute ``scalargrad.trace`` the module instead of the function.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import Any

MOVED: dict[str, tuple[str, ...]] = {
    "scalargrad.engine": (
        "scalargrad.core",
        "scalargrad.core.value",
        "scalargrad.core.op",
        "scalargrad.core.define",
        "scalargrad.core.methods",
        "scalargrad.core.walks",
        "scalargrad.notation.formula",
    ),
    "scalargrad.trace": (
        "scalargrad.notation.names",
        "scalargrad.notation.numbering",
        "scalargrad.tables",
    ),
    "scalargrad.steps": ("scalargrad.stepping",),
    "scalargrad.compile": (
        "scalargrad.codegen",
        "scalargrad.plot",
        "scalargrad.codegen.templates",
        "scalargrad.codegen.program",
    ),
}
"""Each old module path and the modules, searched in order, that now hold its names."""


class MovedModule(types.ModuleType):
    """A stand-in for a module that moved: attribute access finds the name in its new home."""

    def __init__(self, old: str, new: tuple[str, ...]) -> None:
        super().__init__(old, f"Deprecated: the names of {old} now live in {', '.join(new)}.")
        self.__new_homes = new

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        for home in self.__new_homes:
            module = importlib.import_module(home)
            if hasattr(module, name):
                warnings.warn(
                    f"{self.__name__} is deprecated and will be removed in the next release; "
                    f"import {name} from {home}",
                    DeprecationWarning,
                    stacklevel=2,
                )
                return getattr(module, name)
        homes = ", ".join(self.__new_homes)
        raise AttributeError(f"module {self.__name__!r} (moved to {homes}) has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for home in self.__new_homes:
            names.update(n for n in dir(importlib.import_module(home)) if not n.startswith("_"))
        return sorted(names)


def install_moved_modules() -> None:
    """Put a :class:`MovedModule` in :data:`sys.modules` under each old path of :data:`MOVED`."""
    for old, new in MOVED.items():
        sys.modules.setdefault(old, MovedModule(old, new))
