"""The op methods of Value, generated from each op's definition, and the generic path of every op.

A built-in op gives its forward value and its derivatives as Python expressions over
``a``, ``b`` and ``out`` (see :mod:`scalargrad.ops`); :func:`builtin_op` turns them into
the hot Value methods (``__mul__``, ``tanh``, …), straight-line code that builds one
node, and :func:`method_source` shows that code. :func:`apply` is the path of every
other call (user-defined ops, ``OPS["mul"](2, x)``), and :func:`no_grad` swaps the
generated methods for ones that build no graph.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import linecache
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .op import ATOM, CHECKED, FLOAT_NAMESPACE, GRAPH_NAMESPACE, Op, OpDefinitionError, Rule, register
from .value import Value, constant, fan_node, leaf, node, operand_error, plain_number

_no_grad_depth = 0
_no_grad_lock = threading.Lock()
_GRAPH_METHODS: dict[str, Callable[..., Any]] = {}
_NO_GRAPH_METHODS: dict[str, Callable[..., Any]] = {}


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside ``with no_grad():`` ops on Values build no graph.

    Each op returns a new *leaf* Value (no parents, no label) holding the result,
    so code that reads ``.data`` or keeps computing keeps working; nothing is
    recorded for ``backward``. Use it to update parameters or evaluate a model
    without paying for a graph. It switches the op methods of :class:`Value`
    for the whole process (that is what keeps ops outside it at full speed), so
    other threads build no graph while it is active either. Nests.
    """
    global _no_grad_depth
    with _no_grad_lock:
        _no_grad_depth += 1
        if _no_grad_depth == 1:
            for name, fn in _NO_GRAPH_METHODS.items():
                setattr(Value, name, fn)
    try:
        yield
    finally:
        with _no_grad_lock:
            _no_grad_depth -= 1
            if _no_grad_depth == 0:
                for name, fn in _GRAPH_METHODS.items():
                    setattr(Value, name, fn)


def grad_enabled() -> bool:
    """False inside :func:`no_grad`: ops then make leaves, not nodes."""
    return _no_grad_depth == 0


def apply(op: Op, operands: tuple[Any, ...]) -> Any:
    """``op`` on Values or numbers: the generic path of every op (user-defined ones too)."""
    if op.arity is None:
        return _apply_variadic(op, operands)
    if len(operands) != op.arity:
        raise TypeError(
            f"{op.name} takes {op.arity} operand{'s' if op.arity > 1 else ''}, got {len(operands)}"
        )
    if op.builtin and type(operands[0]) is Value:  # the generated method: the fast path
        method: Callable[..., Any] = getattr(operands[0], op.methods[0])
        result = method(*operands[1:])
        if result is NotImplemented:
            raise operand_error(op.name, operands[1])
        return result
    floats = []
    values: list[Value | None] = []
    for x in operands:
        if isinstance(x, Value):
            floats.append(x.data)
            values.append(x)
            continue
        number = plain_number(x)
        if number is None:
            raise operand_error(op.name, x)
        floats.append(number)
        values.append(None)
    out = float(op.evaluate(*floats))
    if all(v is None for v in values):
        return out
    if not grad_enabled():
        return leaf(out)
    grads = checked_grads(op, op.rule(*floats, out))
    if op.arity == 1:
        return node(op, out, values[0], grads[0])  # type: ignore[arg-type]
    a, b = values
    if a is not None and b is not None:
        return node(op, out, a, grads[0], b, grads[1])
    if a is None:
        return node(op.with_constant[0], out, b, grads[1], None, floats[0])  # type: ignore[arg-type]
    return node(op.with_constant[1], out, a, grads[0], None, floats[1])


def _apply_variadic(op: Op, operands: tuple[Any, ...]) -> Any:
    """A variadic op (``dot``) on Values or numbers: one node whose :class:`Fan` holds them all.

    Its ``evaluate`` refuses a count of operands it does not take; a plain number
    among Values becomes a constant leaf, since a Fan's parents are all Values.
    """
    floats = []
    for x in operands:
        number = x.data if isinstance(x, Value) else plain_number(x)
        if number is None:
            raise operand_error(op.name, x)
        floats.append(number)
    out = float(op.evaluate(*floats))
    if not any(isinstance(x, Value) for x in operands):
        return out
    if not grad_enabled():
        return leaf(out)
    parents = tuple(x if isinstance(x, Value) else constant(f) for x, f in zip(operands, floats))
    return fan_node(op, out, parents, checked_grads(op, op.rule(*floats, out)))


def checked_grads(op: Op, grads: Any) -> tuple[float, ...]:
    """An op's local derivatives as floats, or a TypeError naming the op (what its rule returned)."""
    try:
        return tuple(float(g) for g in grads)
    except (TypeError, ValueError):
        raise TypeError(f"{op.name}: its rule must return numbers, got {grads!r}") from None


# --------------------------------------------------------------------------- #
# Generating the methods of built-in ops                                       #
# --------------------------------------------------------------------------- #

_DUNDERS: dict[str, tuple[str, ...]] = {}
"""The operator methods of the built-in ops that have them, by op name, as each entry gives
them (``builtin_op(..., methods=("__mul__", "__rmul__"))``): filled as ops are defined."""


def _building(indent: str, form: str, da: str, b: str, db: str) -> str:
    """The lines of a generated method that make the node ``out`` (the same in every method)."""
    lines = [
        "v = _new(Value)",
        "v.data = out",
        "v.grad = 0.0",
        "v.label = None",
        f"v._op = {form}",
        "v._a = self",
        f"v._da = {da}",
        f"v._b = {b}",
        f"v._db = {db}",
        "return v",
    ]
    return "".join(f"{indent}{line}\n" for line in lines)


_UNARY_METHOD = '''\
def {method}(self):
    """{doc}"""
    a = self.data
    out = {value}
''' + _building("    ", "{op}", "{da}", "None", "0.0")

_BINARY_METHOD = (
    '''\
def {method}(self, other):
    """{doc}"""
    a = self.data
    if type(other) is Value:
        b = other.data
        out = {value}
'''
    + _building("        ", "{op}", "{da}", "other", "{db}")
    + """\
    b = other if type(other) is float else _number(other)
    if b is None:
        {refuse}
    out = {value}
"""
    + _building("    ", "{op}_NUMBER_SECOND", "{da}", "None", "b")
)

_REFLECTED_METHOD = '''\
def {method}(self, other):
    """{doc} (a plain number on the left)"""
    a = other if type(other) is float else _number(other)
    if a is None:
        return NotImplemented
    b = self.data
    out = {value}
''' + _building("    ", "{op}_NUMBER_FIRST", "{db}", "None", "a")

_NO_GRAPH_METHOD = '''\
def {method}(self{other}):
    """{doc} (inside no_grad: a leaf, no graph)"""
    a = {a}
    b = {b}
    if a is None or b is None:
        {refuse}
    return leaf({value})
'''

_SOURCES: dict[str, str] = {}
_generated = itertools.count()


def _generate(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Compile generated ``source`` defining ``name``; tracebacks and :mod:`inspect` show it."""
    filename = f"<scalargrad generated {name} #{next(_generated)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    defined: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace, defined)
    fn: Callable[..., Any] = defined[name]
    fn.__module__ = __name__
    return fn


def _constant_name(op: Op) -> str:
    return f"OP_{op.name.upper()}"


def _install_methods(op: Op) -> None:
    """Generate the Value methods of a built-in op from its source expressions."""
    assert op.source is not None
    value, derivatives = op.source
    namespace = FLOAT_NAMESPACE
    constant = _constant_name(op)
    namespace[constant] = op
    doc = (
        f"{op.name}: {op.symbol if op.notation != 'call' else op.name}; derivatives {', '.join(derivatives)}."
    )
    names = op.methods
    fields = {"value": value, "op": constant, "doc": doc, "da": derivatives[0]}
    # an operator method hands a foreign operand back to Python; a named method refuses it
    refuse = (
        "return NotImplemented" if names[0].startswith("__") else f"raise operand_error({op.name!r}, other)"
    )
    fields["refuse"] = refuse
    if op.arity == 1:
        sources = {names[0]: _UNARY_METHOD.format(method=names[0], **fields)}
        no_graph = {
            names[0]: _NO_GRAPH_METHOD.format(method=names[0], other="", a="self.data", b="0.0", **fields)
        }
    else:
        namespace[constant + "_NUMBER_FIRST"], namespace[constant + "_NUMBER_SECOND"] = op.with_constant
        fields["db"] = derivatives[1]
        sources = {names[0]: _BINARY_METHOD.format(method=names[0], **fields)}
        other = "other.data if type(other) is Value else _number(other)"
        no_graph = {
            names[0]: _NO_GRAPH_METHOD.format(
                method=names[0], other=", other", a="self.data", b=other, **fields
            )
        }
        if len(names) > 1:
            sources[names[1]] = _REFLECTED_METHOD.format(method=names[1], **fields)
            reflected = {**fields, "refuse": "return NotImplemented"}
            no_graph[names[1]] = _NO_GRAPH_METHOD.format(
                method=names[1], other=", other", a="_number(other)", b="self.data", **reflected
            )
    for method, source in sources.items():
        _SOURCES[method] = source
        fn = _generate(method, source, namespace)
        _GRAPH_METHODS[method] = fn
        setattr(Value, method, fn)
        _NO_GRAPH_METHODS[method] = _generate(method, no_graph[method], namespace)


def method_source(name: str) -> str:
    """The generated source of a Value method, e.g. ``method_source("__mul__")``.

    The hot methods are built from each op's definition at import time; this is
    the code they run, for reading (``print(method_source("tanh"))``).
    """
    try:
        return _SOURCES[name]
    except KeyError:
        raise LookupError(f"no generated method {name!r}; generated: {', '.join(sorted(_SOURCES))}") from None


def _rule_from_source(name: str, arity: int, derivatives: tuple[str, ...]) -> Rule:
    params = "a, out" if arity == 1 else "a, b, out"
    body = ", ".join(derivatives) + ("," if arity == 1 else "")
    source = f"def rule_{name}({params}):\n    return ({body})\n"
    return _generate(f"rule_{name}", source, GRAPH_NAMESPACE)


def _evaluator_from_source(name: str, arity: int, value: str) -> Callable[..., float]:
    params = "a" if arity == 1 else "a, b"
    return _generate(
        f"evaluate_{name}", f"def evaluate_{name}({params}):\n    return {value}\n", FLOAT_NAMESPACE
    )


_SLOTS = frozenset({"a", "b", "out"})


def _names(op: str, what: str, template: str) -> set[str]:
    """The names ``template`` reads besides its operands, parsed with :mod:`ast`."""
    try:
        tree = ast.parse(template, mode="eval")
    except SyntaxError as e:
        message = f"{op}: the {what} {template!r} is not a Python expression ({e.msg})"
        raise OpDefinitionError(message) from None
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - _SLOTS


def _unknown(op: str, what: str, template: str, name: str, where: str) -> OpDefinitionError:
    return OpDefinitionError(
        f"{op}: the {what} {template!r} names {name!r}, which {where}; define it first (an op, "
        f"or a helper of this entry: builtin_op(..., helpers={{{name!r}: ...}}))"
    )


def _templates(op: Op) -> list[tuple[str, str]]:
    """``op``'s templates with what each is: ``("value", "a + b")``, ``("derivative 0", "1.0")``, …"""
    assert op.source is not None
    value, derivatives = op.source
    return [("value", value), *((f"derivative {i}", d) for i, d in enumerate(derivatives))]


def check_namespaces(ops: Mapping[str, Op]) -> None:
    """Every name a built-in op's templates read is bound where the template runs, or a clear error.

    A value template runs on floats; a derivative template runs on floats (the hot
    methods) and as a rule (``create_graph``, trace tables), so it needs its names in
    both namespaces. :func:`builtin_op` refuses a name bound nowhere when the op is
    defined; a derivative may call an op defined after it (``sin`` and ``cos`` call
    each other), so :mod:`scalargrad.ops` calls this once all its ops are defined.
    """
    for op in ops.values():
        if op.source is None:
            continue
        for what, template in _templates(op):
            for name in sorted(_names(op.name, what, template)):
                if hasattr(builtins, name):
                    continue
                if name not in FLOAT_NAMESPACE:
                    raise _unknown(op.name, what, template, name, "is not bound for floats")
                if what != "value" and name not in GRAPH_NAMESPACE:
                    raise _unknown(
                        op.name, what, template, name,
                        "the rule cannot see (create_graph and the trace tables would raise NameError): "
                        "it is a float function, not an op or a graph helper",
                    )  # fmt: skip


def _called(value: str) -> str | None:
    """The function a value template calls at its top (``checked_log(a)``: ``log``), if any."""
    body = ast.parse(value, mode="eval").body
    if isinstance(body, ast.Call) and isinstance(body.func, ast.Name):
        return body.func.id.removeprefix(CHECKED)
    return None


_TORCH_FUNCTION = re.compile(r"torch\.\w+")


def _array_forms(
    name: str,
    value: str,
    by_library: dict[str, str | Mapping[str, str] | None],
    arrays: Mapping[str, str] | None,
) -> dict[str, dict[str, str]]:
    """The entry's array forms by library: ``numpy="np.arcsin"`` is the form of the function
    the value calls; a mapping gives forms by name; ``arrays`` are shared by every library.
    A torch function (``"torch.asin"``) is lifted, so that it takes numbers too."""
    forms: dict[str, dict[str, str]] = {}
    for library, given in by_library.items():
        table = dict(arrays or {})
        if isinstance(given, str):
            function = _called(value)
            if function is None:
                raise OpDefinitionError(
                    f"{name}: {library}={given!r} is the form of the function the value calls, but "
                    f"the value {value!r} calls none; give {library}={{name: form}}"
                )
            given = {function: given}
        for key, text in (given or {}).items():
            lifted = library == "torch" and _TORCH_FUNCTION.fullmatch(text) is not None
            table[key] = f"lift({text})" if lifted else text
        if table:
            forms[library] = table
    return forms


def builtin_op(
    name: str,
    value: str,
    derivatives: tuple[str, ...],
    *,
    symbol: str | None = None,
    notation: str = "call",
    precedence: int = ATOM,
    latex: str | None = None,
    domains: tuple[str, ...] | None = None,
    smooth: bool = True,
    methods: tuple[str, ...] | None = None,
    helpers: Mapping[str, Any] | None = None,
    graph_helpers: Mapping[str, Any] | None = None,
    numpy: str | Mapping[str, str] | None = None,
    torch: str | Mapping[str, str] | None = None,
    arrays: Mapping[str, str] | None = None,
    doc: tuple[str, str, str] | None = None,
) -> Op:
    """Define a built-in op from Python expressions: its whole entry (see :mod:`scalargrad.ops`).

    ``value`` computes the forward value from ``a`` (and ``b``); each of
    ``derivatives`` computes one local derivative from ``a``, ``b`` and ``out``.
    Names in them resolve to floats' functions in the generated hot methods and
    to scalargrad's functions in the rule, so one expression serves both.
    ``methods`` names the Value methods to generate: an operator and its reflected
    form (``("__mul__", "__rmul__")``), which hand a foreign operand back to Python,
    or by default the op's name, which refuses one.

    ``helpers`` binds the other names the templates read (functions on floats,
    constants) in both namespaces, ``graph_helpers`` the versions the rule uses
    instead where they differ; the op itself is bound under its name in the rule's
    namespace (and in the float one where nothing else is). ``numpy``, ``torch`` and
    ``arrays`` are the array forms for the code generator (see :attr:`Op.forms`),
    ``doc`` the op's row of the op table. A template that is no expression, or names
    a function bound nowhere, is an :class:`OpDefinitionError` here, before anything
    is registered.
    """
    arity = len(derivatives)
    helpers = dict(helpers or {})
    graph_helpers = {**helpers, **(graph_helpers or {})}
    for name_in, template in [("value", value), *((f"derivative {i}", d) for i, d in enumerate(derivatives))]:
        known = set(FLOAT_NAMESPACE) | set(helpers)
        if name_in != "value":  # a derivative may call the op itself, and (checked later) ops to come
            known |= set(GRAPH_NAMESPACE) | set(graph_helpers) | {name}
        for unknown in sorted(_names(name, name_in, template) - known):
            if not hasattr(builtins, unknown):
                raise _unknown(name, name_in, template, unknown, "is bound nowhere")
    forms = _array_forms(name, value, {"numpy": numpy, "torch": torch}, arrays)
    if methods is None:
        methods = (name,)
    op = Op(
        name,
        arity=arity,
        evaluate=_evaluator_from_source(name, arity, value),
        rule=_rule_from_source(name, arity, derivatives),
        symbol=symbol,
        notation=notation,
        precedence=precedence,
        latex=latex,
        domains=domains,
        smooth=smooth,
        builtin=True,
        source=(value, derivatives),
        methods=methods,
        forms=forms,
        doc=doc,
    )
    register(op)
    FLOAT_NAMESPACE.update(helpers)
    GRAPH_NAMESPACE.update(graph_helpers)
    GRAPH_NAMESPACE[name] = op
    if name not in FLOAT_NAMESPACE and not hasattr(builtins, name):
        FLOAT_NAMESPACE[name] = op.evaluate
    if methods[0].startswith("__"):
        _DUNDERS[name] = methods
    _install_methods(op)
    return op


Op._applying = apply
FLOAT_NAMESPACE.update(
    Value=Value, _new=object.__new__, _number=plain_number, leaf=leaf, operand_error=operand_error
)
