"""What the generated code needs besides the ops: the general names of the array forms.

An op's own forms (its NumPy and PyTorch functions, the array versions of its derivative
helpers) are in its entry in :mod:`scalargrad.ops` (:attr:`~scalargrad.core.Op.forms`);
:mod:`scalargrad.codegen.helpers` reads them from the registry. What is here serves every
op: ``where`` and the logical functions the conditional expressions become, PyTorch's
``tensor`` and ``lift``, Python's builtins and the constants; and what the variadic ops'
value calls, by their notation (``sum_of_products``: its forms are in the ``dot`` entry).
Data only: this module imports nothing.
"""

BUILTINS = {"abs": abs, "min": min, "max": max, "float": float}
"""The builtins an op template may call (``abs(a)``): Python's own, so the source defines none of them."""

NUMPY: dict[str, str] = {name: f"np.{name}" for name in ("where", "logical_or", "logical_and", "logical_not")}
"""NumPy's version of the names every array form may read (conditions become ``where``)."""

TORCH: dict[str, str] = {
    **{name: f"lift(torch.{name})" for name in ("logical_or", "logical_and", "logical_not")},
    "tensor": '''\
def tensor(x):
    """x as a float64 tensor: tensors as they are, numbers converted."""
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)
''',
    "lift": '''\
def lift(fn):
    """The torch function fn, taking numbers too (as float64 tensors)."""
    return lambda *xs: fn(*(tensor(x) for x in xs))
''',
    "where": '''\
def where(c, x, y):
    """x where c is true, else y, per element."""
    return torch.where(tensor(c).bool(), tensor(x), tensor(y))
''',
}
"""PyTorch's (float64 tensors) version of the names every array form may read, as source."""

CONSTANTS = ("inf", "nan")
"""Numbers every form may read, from :mod:`math`; an op's own constants (``LN2``) are its helpers."""

VARIADIC_VALUES = {"dot": "sum_of_products"}
"""The float function a variadic op's value calls, by its notation, on the two halves of its
operands: a ``dot`` node of x1, x2, y1, y2 is ``sum_of_products([x1, x2], [y1, y2])``, the
engine's own function (:func:`scalargrad.ops.sum_of_products`), written out as it is."""
