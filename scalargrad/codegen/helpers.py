"""Writing the helpers out: how the source defines every name it reads besides its variables.

A float helper is the text of its one definition in :mod:`scalargrad.ops`, read with
:mod:`ast`; an array helper is a form from an op's entry (:attr:`~scalargrad.core.Op.forms`)
or one of the general forms of :mod:`scalargrad.codegen.forms`. A user-defined op has no
source: its functions are bound by name instead.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..core import OPS, Op
from ..core.op import FLOAT_NAMESPACE
from .errors import CompileError
from .forms import BUILTINS, CONSTANTS, NUMPY, TORCH, VARIADIC_VALUES
from .templates import CHECKED, user_defined


@dataclass(frozen=True)
class _Definition:
    """How the source gets one name it reads: imported from a module, or defined by source text.

    ``origin`` (module, attribute) is emitted as ``from module import attribute [as name]``;
    otherwise ``text`` (a ``def`` or an assignment) is emitted, after the definitions of
    ``needs``, the other names it reads (``math``, ``np`` and ``torch`` are modules).
    """

    text: str = ""
    needs: tuple[str, ...] = ()
    origin: tuple[str, str] | None = None
    annotated: bool = False


_MODULES = {
    "math": "import math",
    "operator": "import operator",
    "np": "import numpy as np",
    "torch": "import torch",
}
"""Module names a helper may read, and the import statement that binds each."""

_FROM = {"math": "math", "operator": "operator", "np": "numpy", "torch": "torch"}


def _free_names(node: ast.AST) -> tuple[str, ...]:
    """The names ``node`` reads that it does not bind itself and that are not Python's builtins, sorted.

    Type annotations do not count: the source is run with ``from __future__ import annotations``.
    """
    node = copy.deepcopy(node)
    bound: set[str] = set()
    loaded: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.FunctionDef):
            n.returns = None
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            n.annotation = None
            bound.add(n.arg)
        elif isinstance(n, ast.AnnAssign):
            n.annotation = ast.Constant(None)
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (loaded if isinstance(n.ctx, ast.Load) else bound).add(n.id)
    return tuple(sorted(name for name in loaded - bound if not hasattr(builtins, name)))


def _annotated(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.arg) and n.annotation is not None)
        or (isinstance(n, ast.FunctionDef) and n.returns is not None)
        for n in ast.walk(node)
    )


class _OpsSource(NamedTuple):
    """The module that fills the float namespace (:mod:`scalargrad.ops`), read as source."""

    text: str
    functions: dict[str, tuple[ast.FunctionDef, str]]  # its module-level functions and those of
    # the modules it imports them from (:mod:`scalargrad.floats`), each with its module's text
    bindings: dict[str, ast.expr]  # each FLOAT_NAMESPACE name it binds explicitly, and to what


def _bound(node: ast.Call, dicts: dict[str, ast.Dict]) -> Iterator[tuple[str, ast.expr]]:
    """The float names a call binds, and to what: the keywords of ``FLOAT_NAMESPACE.update(...)``
    (with its ``**dict`` literals), or the ``helpers={...}`` of an op's entry."""
    func = node.func
    updates = (
        isinstance(func, ast.Attribute)
        and func.attr == "update"
        and isinstance(func.value, ast.Name)
        and func.value.id == "FLOAT_NAMESPACE"
    )
    for keyword in node.keywords:
        if updates and keyword.arg is not None:
            yield keyword.arg, keyword.value
            continue
        entries = keyword.value
        if updates and isinstance(entries, ast.Name) and entries.id in dicts:  # **_SHARED
            entries = dicts[entries.id]
        elif not (keyword.arg == "helpers" and isinstance(entries, ast.Dict)):
            continue
        assert isinstance(entries, ast.Dict)
        for key, value in zip(entries.keys, entries.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield key.value, value


@functools.cache
def _ops_source() -> _OpsSource:
    """Parse :mod:`scalargrad.ops`: its functions, and the expressions it binds in the float namespace.

    Those are the keywords of ``FLOAT_NAMESPACE.update`` calls and the ``helpers={...}`` of
    each op's entry. The float helpers are written out from this text, so that the source's
    ``divide`` or checked ``log`` is the engine's own definition, not a copy of it; the
    functions ops imports from :mod:`scalargrad.floats` are read from that module's text.
    The module read last is ops, whose text and tree the bindings come from.
    """
    from .. import floats, ops

    functions: dict[str, tuple[ast.FunctionDef, str]] = {}
    for module in (floats, ops):  # ops' own definitions last: they win
        try:
            text = inspect.getsource(module)
        except OSError as e:  # installed without its .py files
            raise CompileError(
                f"compile writes its helpers out from {module.__name__}'s source: {e}"
            ) from None
        tree = ast.parse(text)
        functions.update((n.name, (n, text)) for n in tree.body if isinstance(n, ast.FunctionDef))
    dicts = {
        n.targets[0].id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Dict)
    }
    bindings: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            bindings.update(_bound(node, dicts))
    return _OpsSource(text, functions, bindings)


@functools.cache
def float_definition(name: str, read_by_code: bool) -> _Definition | None:
    """How the float source gets ``name``: from :mod:`math`, or as :mod:`scalargrad.ops` defines it.

    ``read_by_code``: a name the generated function reads, bound (as the engine binds it)
    to the checked function where there is one (``log`` is ``checked_log``); otherwise a
    name a helper reads (``_checked``), a function of ``ops`` by that name. None for a
    name of Python's builtins and for a user-defined op's functions (which it cannot write out).
    """
    if name.startswith("user_"):
        return None
    if name in _MODULES:
        return _Definition(text=_MODULES[name])
    ops = _ops_source()
    key = f"{CHECKED}{name}" if read_by_code and f"{CHECKED}{name}" in FLOAT_NAMESPACE else name
    node: ast.AST | None = ops.bindings.get(key) if read_by_code else None
    where = ops.text
    if node is None and (not read_by_code or name in VARIADIC_VALUES.values()):
        node, where = ops.functions.get(name, (None, where))  # a helper's helper, or sum_of_products
    if isinstance(node, ast.Name) and node.id in ops.functions:  # divide=_divide: its def, named divide
        node, where = ops.functions[node.id]
    if isinstance(node, ast.FunctionDef):
        text = ast.get_source_segment(where, node)
        assert text is not None
        text = text.replace(f"def {node.name}(", f"def {name}(", 1)
        return _Definition(text, _free_names(node), annotated=_annotated(node))
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math":
        return _Definition(origin=("math", node.attr))
    if isinstance(node, ast.expr):
        text = ast.get_source_segment(ops.text, node)
        assert text is not None
        return _Definition(f"{name} = {text}", _free_names(node), annotated=_annotated(node))
    if read_by_code and key in FLOAT_NAMESPACE and getattr(math, key, None) is FLOAT_NAMESPACE[key]:
        return _Definition(origin=("math", key))
    if read_by_code and (name in BUILTINS or name in ("inf", "nan")):
        return _Definition(origin=("math", name)) if name in ("inf", "nan") else None
    raise CompileError(
        f"compile cannot write out {name!r}: scalargrad.ops defines it in a form it cannot read"
    )


def array_forms(backend: str) -> dict[str, str]:
    """Every name's form in ``backend`` ("numpy" or "torch"): the general ones of
    :mod:`~scalargrad.codegen.forms`, then each built-in op's (:attr:`Op.forms`).

    Two ops that give one name must give it the same form (``inside_unit`` is asin's
    and acos's); a conflict is a :class:`CompileError` naming both.
    """
    forms = dict(NUMPY if backend == "numpy" else TORCH)
    owner = dict.fromkeys(forms, "scalargrad.codegen.forms")
    for op in OPS.values():
        for name, text in op.forms.get(backend, {}).items():
            if name in forms and forms[name] != text:
                raise CompileError(
                    f"two {backend} forms of {name!r}: the op {op.name!r}'s and {owner[name]}'s differ"
                )
            forms[name], owner[name] = text, f"the op {op.name!r}"
    return forms


@functools.cache
def _array_definition(backend: str, name: str, registered: int) -> _Definition | None:
    if name.startswith("user_"):
        return None
    if name in _MODULES:
        return _Definition(text=_MODULES[name])
    if name in CONSTANTS:
        return float_definition(name, True)
    text = array_forms(backend).get(name)
    if text is None:
        if isinstance(FLOAT_NAMESPACE.get(name), float):  # an op's constant (LN2): as the float code has it
            return float_definition(name, True)
        return None
    if text.startswith("def "):
        return _Definition(text.rstrip("\n"), _free_names(ast.parse(text)))
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in _FROM:
        return _Definition(origin=(_FROM[node.value.id], node.attr))
    return _Definition(f"{name} = {text}", _free_names(node))


def array_definition(backend: str, name: str) -> _Definition | None:
    """How the ``backend`` ("numpy" or "torch") source gets ``name``; None if it has no form of it."""
    return _array_definition(backend, name, len(OPS))  # cached per registry size: ops may be added


def module_source(
    function: str,
    names: set[str],
    definition: Callable[[str, bool], _Definition | None],
    header: list[str],
) -> str:
    """The whole source: ``header`` comments, imports, the helpers that ``names`` need, then ``function``.

    Helpers are emitted in a fixed order: the names the function reads, sorted, each
    after the definitions it needs; functions (``def``) before assignments.
    ``definition(name, read_by_code)`` says how to get one name; a name it gives None
    for is Python's own.
    """
    imports: set[str] = set()
    from_imports: dict[str, list[str]] = {}
    texts: list[str] = []
    annotated = False
    done: set[str] = set()

    def add(name: str, read_by_code: bool) -> None:
        nonlocal annotated
        if name in done:
            return
        done.add(name)
        d = definition(name, read_by_code)
        if d is None:
            return
        if d.origin is not None:
            module, attribute = d.origin
            item = attribute if attribute == name else f"{attribute} as {name}"
            from_imports.setdefault(module, []).append(item)
            return
        if name in _MODULES:
            imports.add(d.text)
            return
        for need in d.needs:
            add(need, False)
        texts.append(d.text)
        annotated = annotated or d.annotated

    for name in sorted(names):
        add(name, True)
    lines = list(header)
    if annotated:  # the engine's helpers keep their type annotations, which need not be evaluated
        lines.append("from __future__ import annotations")
    if imports or from_imports:
        if annotated:
            lines.append("")
        lines.extend(sorted(imports))
        lines.extend(
            f"from {m} import {', '.join(sorted(items))}" for m, items in sorted(from_imports.items())
        )
    # the functions first, then the assignments, which may call them (log = _checked(...)) as the
    # module runs; a function's body runs only when called, so the functions' own order is free
    functions = [text for text in texts if text.startswith("def ")]
    assignments = [text for text in texts if not text.startswith("def ")]
    parts = ["\n".join(lines)] if lines else []
    parts.extend(functions)
    if assignments:
        parts.append("\n".join(assignments))
    parts.append(function.rstrip("\n"))
    return "\n\n\n".join(parts) + "\n"


def user_functions(ops: dict[str, Op]) -> dict[str, Callable[..., Any]]:
    """The functions the source calls for user-defined ops, by the names it calls them."""
    functions: dict[str, Callable[..., Any]] = {}
    for op in sorted(ops.values(), key=lambda op: op.name):
        if user_defined(op):
            functions[f"user_{op.name}_value"] = user_value(op)
            functions[f"user_{op.name}_rule"] = user_rule(op)
    return functions


def user_value(op: Op) -> Callable[..., float]:
    evaluate = op.evaluate

    def value(*xs: float) -> float:
        return float(evaluate(*xs))

    return value


def user_rule(op: Op) -> Callable[..., tuple[float, ...]]:
    rule = op.rule
    name = op.name

    def local_derivatives(*xs: float) -> tuple[float, ...]:
        try:
            return tuple(float(g) for g in rule(*xs))
        except (TypeError, ValueError):
            raise TypeError(f"{name}: its rule must return numbers, got {rule(*xs)!r}") from None

    return local_derivatives
