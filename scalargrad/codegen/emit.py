"""Emitting the source: a program as a function's text, the module around it, and the callable run from it."""

from __future__ import annotations

import builtins
import itertools
import linecache
import re
import weakref
from collections.abc import Callable
from typing import Any

from ..core import Op
from .helpers import float_definition, module_source
from .program import Expr, Program
from .templates import VALUE, template, user_defined

_SUM_CHUNK = 64
"""Partial adjoints per statement: longer sums continue as ``vk_bar = vk_bar + ...``
(the same left-to-right additions), so that Python's compiler never meets a deeply
nested expression."""


def render(program: Program, array: bool, *, rounding: bool = False, header: str = "") -> tuple[str, str]:
    """The function's source and name: forward trace, reverse trace(s), return."""
    name = "value_and_grad" if program.hessian is None else "value_grad_hessian"
    if rounding:
        name += "_and_rounding"
    lines = [f"def {name}({', '.join(program.params)}):"]
    lines.extend(f"    {c}" for c in program.comments)
    if header:
        lines.append(f"    {header}")

    def expression(e: Expr) -> tuple[str, bool]:
        t = template(e.op, e.which, array)
        return t.fill(e.args), t.atomic

    lines.append("    # forward evaluation trace")
    for i, (target, e) in enumerate(program.forward):
        if i == program.split:
            lines.append(f"    {program.split_comment}")
        lines.append(f"    {target} = {expression(e)[0]}")
    for b in program.blocks:
        lines.append(f"    {b.comment}")
        if b.seed is None:
            continue
        lines.append(f"    {b.seed} = 1.0")
        for bar, terms in b.bars:
            rendered = []
            for child, f in terms:
                if f is None:
                    rendered.append(child)
                elif f == "-":
                    rendered.append(f"-{child}")
                elif isinstance(f, str):
                    rendered.append(f"{child} * {f}")
                else:
                    code, atomic = expression(f)
                    rendered.append(f"{child} * {code}" if atomic else f"{child} * ({code})")
            lines.extend(_sum(bar, rendered))
    result = f"{program.value}, [{', '.join(program.gradient)}]"
    if program.hessian is not None:
        result += ", [" + ", ".join(f"[{', '.join(row)}]" for row in program.hessian) + "]"
    if rounding:
        lines.append(
            "    # rounding: the sum over the nodes of |vk * vk_bar| bounds y's rounding error (times u)"
        )
        bounds = [f"abs({v} * {b})" for v, b in program.rounding]
        lines.extend(_sum("rounding", bounds or ["0.0"]))
        result += ", rounding"
    lines.append(f"    return {result}")
    return "\n".join(lines) + "\n", name


def _sum(target: str, terms: list[str]) -> list[str]:
    """``target = t1 + t2 + ...``, in chunks of :data:`_SUM_CHUNK` terms, left to right."""
    out = []
    for start in range(0, len(terms), _SUM_CHUNK):
        chunk = terms[start : start + _SUM_CHUNK]
        parts = [chunk[0]] if start == 0 else [target, _signed(chunk[0])]
        parts.extend(_signed(t) for t in chunk[1:])
        out.append(f"    {target} = {''.join(parts)}")
    return out


def _signed(term: str) -> str:
    """`` + term``, or `` - x`` for ``-x`` (x + (-y) and x - y are the same IEEE operation)."""
    return f" - {term[1:]}" if term.startswith("-") else f" + {term}"


_generated = itertools.count()


def define(source: str, name: str, namespace: dict[str, Any], kind: str) -> Callable[..., Any]:
    """Run the generated ``source``, a whole module, in a namespace holding ``namespace``; return ``name``.

    The callable is made from exactly the text that ``source`` shows (with none of this
    module's ``__future__`` flags), so the two cannot differ; tracebacks show its lines.
    """
    filename = f"<scalargrad {kind} #{next(_generated)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(namespace)
    code = builtins.compile(source, filename, "exec", dont_inherit=True)
    exec(code, scope)  # generated from op templates and scalargrad's own helper source only
    fn: Callable[..., Any] = scope[name]
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return fn


_SPECIAL = re.compile(r"\b(inf|nan)\b")


def read_names(program: Program, array: bool, function: str = "") -> set[str]:
    """The names the generated code reads besides its variables (``inf``, ``nan``: if ``function`` does)."""
    used = set(_SPECIAL.findall(function))
    seen: set[tuple[str, int]] = set()
    for _, e in program.forward:
        seen.add((e.op.name, VALUE))
    for b in program.blocks:
        for _, terms in b.bars:
            for _, f in terms:
                if isinstance(f, Expr):
                    seen.add((f.op.name, f.which))
    for op_name, i in seen:
        used |= template(program.ops[op_name], i, array).names
    return used


def _user_note(ops: dict[str, Op]) -> list[str]:
    """The source's first comment when it calls user-defined ops, which it cannot define."""
    users = sorted((op for op in ops.values() if user_defined(op)), key=lambda op: op.name)
    if not users:
        return []
    lines = [
        f"# NOT self-contained: it calls the user-defined op{'s' if len(users) > 1 else ''} "
        f"{', '.join(op.name for op in users)}, whose Python functions scalargrad cannot write out.",
        "# Bind these names first (the compiled object's user_functions has them: exec(source, dict(them))):",
    ]
    for op in users:
        operands = ", ".join(("a", "b")[: op.arity])
        partials = ", ".join(f"d/d{x}" for x in ("a", "b")[: op.arity])
        lines.append(
            f"#     user_{op.name}_value({operands}) -> its value, "
            f"user_{op.name}_rule({operands}, out) -> ({partials}{',' if op.arity == 1 else ''})"
        )
    return lines


def source_header(ops: dict[str, Op], what: str, needs: str) -> list[str]:
    """The source's first comment: what it computes, and that it runs on its own (or what it needs)."""
    note = _user_note(ops)
    first = f"# {what}, by scalargrad.compile"
    return [f"{first}.", *note] if note else [f"{first}: self-contained {needs}."]


def float_source(program: Program) -> tuple[str, str]:
    """The float form's whole source (helpers, then the function) and the function's name."""
    function, name = render(program, False)
    what = "The value and gradient" + (" and Hessian" if program.hessian is not None else "")
    header = source_header(program.ops, what, "plain Python")
    return module_source(function, read_names(program, False, function), float_definition, header), name
