"""The input checks that the modules, losses, optimiser and compiled losses share.

Networks and losses take Values or plain numbers, in any ordered collection (a
list, a tuple, a generator, a NumPy array); these helpers say what counts as a
number and as a vector, so every function refuses the same things in the same words.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from ..core import Value

Scalar = Value | int | float
"""A Value or a plain number: inputs, targets and logits may be either."""


def as_index(x: object) -> int | None:
    """``x`` as an int if it is an integer (int, NumPy's integers: ``operator.index``), not a bool."""
    if isinstance(x, bool) or type(x).__name__ == "bool_":  # NumPy's bool_ as well
        return None
    try:
        return operator.index(x)  # type: ignore[arg-type]
    except TypeError:
        return None


def is_number(x: object) -> bool:
    """A real number (``numbers.Real``: int, float, Fraction, NumPy's scalars), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_vector(x: object) -> bool:
    """An ordered collection of items: not a number, string, Value, set or mapping."""
    unordered = isinstance(x, (AbstractSet, Mapping))
    scalar_like = isinstance(x, (Value, str, bytes, numbers.Number))
    return isinstance(x, Iterable) and not unordered and not scalar_like


def scalars(xs: object, what: str) -> list[Scalar]:
    """``xs`` as a list of Values and floats (real numbers converted), or a TypeError naming ``what``."""
    if not is_vector(xs):
        raise TypeError(f"{what} must be a sequence of Values or numbers, got {type(xs).__name__}: {xs!r}")
    assert isinstance(xs, Iterable)
    items: list[Scalar] = []
    for x in xs:
        if isinstance(x, Value):
            items.append(x)
        elif is_number(x):
            items.append(float(x))
        else:
            raise TypeError(f"{what} must contain Values or numbers, found {type(x).__name__}: {x!r}")
    return items
