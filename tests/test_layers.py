"""The package's shape: layers that import only downward, no cycles, files a student can read.

The imports are read with :mod:`ast` from the source, lazy imports inside functions included,
so the rule holds for what the code can do and not only for what importing it does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import scalargrad

PACKAGE = Path(scalargrad.__file__).parent
MAX_LINES = 750

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("scalargrad.core", "scalargrad.files", "scalargrad._deprecated")),
    ("notation", ("scalargrad.notation",)),
    (
        "ops and the differentiation API",
        ("scalargrad.ops", "scalargrad.floats", "scalargrad.autodiff", "scalargrad.graph"),
    ),
    (
        "tables, steps, checks and code generation",
        (
            "scalargrad.numeric",
            "scalargrad.opcheck",
            "scalargrad.arrays",
            "scalargrad.expr",
            "scalargrad.extension",
            "scalargrad.tables",
            "scalargrad.stepping",
            "scalargrad.codegen",
        ),
    ),
    ("uses", ("scalargrad.nn", "scalargrad.testing", "scalargrad.plot", "scalargrad.viz")),
    ("entry points", ("scalargrad.cli", "scalargrad.cli_options", "scalargrad.__main__", "scalargrad")),
]
"""From the bottom up; a module may import its own layer's modules and those below."""


def module_name(path: Path) -> str:
    parts = ("scalargrad", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    """The index in :data:`LAYERS` of the longest prefix that holds ``module``."""
    best, depth = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or (prefix != "scalargrad" and module.startswith(prefix + "."))
            if inside and prefix.count(".") > depth:
                best, depth = index, prefix.count(".")
    assert best is not None, f"{module} is in no layer of tests/test_layers.py: add it to LAYERS"
    return best


def imports(module: str) -> set[str]:
    """The scalargrad modules that ``module``'s source imports, anywhere in the file."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "scalargrad"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "scalargrad":
                continue
            submodules = {f"{target}.{a.name}" for a in node.names} & MODULES.keys()
            found |= submodules or {target}
    found.discard(module)
    return {m for m in found if m in MODULES}


GRAPH = {m: imports(m) for m in MODULES}


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer(module)


def test_nothing_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{m} ({LAYERS[layer(m)][0]}) imports {i} ({LAYERS[layer(i)][0]})"
        for m, targets in GRAPH.items()
        for i in sorted(targets)
        if layer(i) > layer(m)
    ]
    assert upward == []


def test_core_imports_only_the_standard_library_and_itself() -> None:
    for module, path in MODULES.items():
        if not module.startswith("scalargrad.core"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{module} imports from outside scalargrad.core"
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for name in names:
                outside = name.split(".")[0] in {"scalargrad", "numpy", "graphviz", "hypothesis"}
                assert not outside, (module, name)


def test_there_are_no_import_cycles() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH[m]):
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n) :], n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_no_file_is_longer_than_a_sitting() -> None:
    lines = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    long = {m: n for m, n in lines.items() if n > MAX_LINES}
    assert long == {}


def test_the_readme_draws_every_layer() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.partition("## Layout")[2].partition("\n## ")[0]
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix != "scalargrad":
                assert prefix.removeprefix("scalargrad.") in section, prefix
