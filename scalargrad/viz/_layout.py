"""A fixed layout in columns and bands, for diagrams whose shape is known in advance.

The extended graph is the forward graph and its mirror: every node belongs to the
column of a forward node, and to one of two bands, the forward graph above and
the adjoint graph below. Graphviz's ``dot`` decides on its own which cluster goes
on top and routes long edges around the outside, so these diagrams are placed
here instead and only their edges are routed by Graphviz (``neato`` with every
node pinned, ``splines=true``).

Node sizes are computed from the label text as Graphviz sizes boxes
(:func:`text_width`), so no two boxes overlap; columns are as wide as their widest
node, and the order within a column comes from a few barycentre sweeps (each node
moves towards the mean position of its neighbours), the usual way to keep edge
crossings down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Box", "place", "text_width"]

# Helvetica's advance widths (per 1000 em) for printable ASCII, as Graphviz sizes boxes with them.
_HELVETICA = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
        (
            278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
            556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
            1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
            667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
            333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
            556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
        ),
        strict=True,
    )
)


def text_width(text: str, fontsize: float) -> float:
    """``text``'s width in points at ``fontsize``, at least as Graphviz estimates it when it
    sizes a box: Helvetica's widths for ASCII; 0.556 em for a combining accent (the bar of
    v̄) and 0.833 em for any other character (subscripts, arrows, Greek), which Graphviz
    counts at most that wide."""
    em = 0.0
    for c in text:
        if c in _HELVETICA:
            em += _HELVETICA[c] / 1000
        elif "\u0300" <= c <= "\u036f":
            em += 0.556
        else:
            em += 0.833
    return em * fontsize


@dataclass
class Box:
    """A node to place: its id, the lines of its label, its column and band (0 above, 1 below)."""

    id: str
    lines: Sequence[str]
    column: int
    band: int

    def size(self, fontsize: float) -> tuple[float, float]:
        """(width, height) in points, with Graphviz's default margins around the text."""
        width = max(text_width(line, fontsize) for line in self.lines) + 18.0
        return max(width, 54.0), max(len(self.lines) * fontsize * 1.25 + 12.0, 36.0)


def place(
    boxes: Sequence[Box],
    edges: Sequence[tuple[str, str]],
    fontsize: float,
    column_gap: float = 28.0,
    row_gap: float = 18.0,
    band_gap: float = 48.0,
    sweeps: int = 6,
    above: dict[str, str] | None = None,
) -> dict[str, tuple[float, float]]:
    """Centre of each box in points (y up, as Graphviz has it), columns left to right and
    band 0 above band 1; within a column, boxes are ordered to keep edges short, and a box
    ``a`` with ``above[a] == b`` sits right above ``b`` when both share a column."""
    band = {b.id: b.band for b in boxes}
    neighbours: dict[str, list[str]] = {b.id: [] for b in boxes}
    for a, b in edges:
        if a in neighbours and b in neighbours and a != b:
            neighbours[a].append(b)
            neighbours[b].append(a)
    groups: dict[tuple[int, int], list[Box]] = {}
    for box in boxes:
        groups.setdefault((box.band, box.column), []).append(box)
    sizes = {b.id: b.size(fontsize) for b in boxes}

    def rows() -> dict[str, float]:
        """Each box's place in its band as a fraction (0 top … 1 bottom), bands one apart."""
        return {
            box.id: key[0] + (i + 0.5) / len(group)
            for key, group in groups.items()
            for i, box in enumerate(group)
        }

    for moving in (0, 1):  # the forward band by its own edges, then the adjoint band under it
        for _ in range(sweeps):
            at = rows()
            for key, group in groups.items():
                if key[0] != moving:
                    continue

                def centre(box: Box, at: dict[str, float] = at, moving: int = moving) -> float:
                    near = [n for n in neighbours[box.id] if band[n] <= moving]
                    return sum(at[n] for n in near) / len(near) if near else at[box.id]

                groups[key] = sorted(group, key=centre)

    if above:
        for key, group in groups.items():
            ids = {b.id for b in group}
            attached = {a: b for a, b in above.items() if a in ids and b in ids}
            stacked: list[Box] = []
            for box in group:
                if box.id not in attached:
                    stacked += [b for b in group if attached.get(b.id) == box.id] + [box]
            groups[key] = stacked
    width: dict[int, float] = {}
    for box in boxes:
        width[box.column] = max(width.get(box.column, 0.0), sizes[box.id][0])
    left: dict[int, float] = {}
    x = 0.0
    for column in sorted(width):
        left[column] = x
        x += width[column] + column_gap

    def height(group: list[Box]) -> float:
        return sum(sizes[b.id][1] for b in group) + row_gap * (len(group) - 1)

    band_height = {0: 0.0, 1: 0.0}
    for (which, _), group in groups.items():
        band_height[which] = max(band_height[which], height(group))
    found: dict[str, tuple[float, float]] = {}
    for (which, column), group in groups.items():
        # the forward band is centred on its middle row, the adjoint band hangs from its top
        top = (band_height[0] - height(group)) / 2 if which == 0 else band_height[0] + band_gap
        for box in group:
            h = sizes[box.id][1]
            found[box.id] = (left[column] + width[column] / 2, -(top + h / 2))
            top += h + row_gap
    return found
