"""Build each notebook NN_name.ipynb here from its percent-format source NN_name.py.

The .py files are the sources (ruff checks them); the .ipynb files are committed, output-free,
for the README, the docs and the tests. The format is jupytext's "percent" one: ``# %%`` starts
a code cell, ``# %% [markdown]`` a markdown cell whose lines are ``# ``-prefixed (``#`` alone for
an empty line); one blank line separates cells.

Run: python notebooks/build.py [--check] [NAME ...]       (needs nbformat; the notebook extra)
     python notebooks/build.py --from-ipynb NAME ...      (a notebook edited in Jupyter -> its .py)
``--check`` writes nothing and exits non-zero naming each .ipynb that is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
CODE, MARKDOWN = "# %%", "# %% [markdown]"
Cell = tuple[str, str]  # (cell type, source)


def sources() -> list[Path]:
    """The notebook sources, in order."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def read_py(text: str) -> list[Cell]:
    """The cells of a percent-format source; a line before the first marker is an error."""
    cells: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line in (CODE, MARKDOWN):
            cells.append(("code" if line == CODE else "markdown", []))
        elif not cells:
            if line.strip():
                raise ValueError(f"line {number}: text before the first {CODE!r}")
        elif cells[-1][0] == "markdown" and line.strip():
            if not (line == "#" or line.startswith("# ")):
                raise ValueError(f"line {number}: a markdown line must start with '# ': {line!r}")
            cells[-1][1].append(line[2:])
        else:
            cells[-1][1].append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def write_py(cells: list[Cell]) -> str:
    """The percent-format source of ``cells``; refuses a source that would not read back the same."""
    blocks = []
    for kind, source in cells:
        lines = source.split("\n")
        if kind == "markdown":
            if any(line != line.rstrip() for line in lines):
                raise ValueError(f"a markdown line ends in whitespace: {source!r}")
            lines = [f"# {line}".rstrip() for line in lines]
        if source != source.strip("\n") or any(line in (CODE, MARKDOWN) for line in lines):
            raise ValueError(f"a {kind} cell does not round-trip (blank edge line or marker): {source!r}")
        blocks.append("\n".join([MARKDOWN if kind == "markdown" else CODE, *lines]))
    return "\n\n".join(blocks) + "\n"


def make(name: str, cells: list[Cell]) -> nbformat.NotebookNode:
    """The notebook ``name`` of ``cells``, validated, without outputs; cell ids are stable."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
        cell["id"] = f"{name[:2]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def ipynb_text(source: Path) -> str:
    """The .ipynb text that ``source`` (a .py) builds, as ``nbformat.write`` would write it."""
    text = nbformat.writes(make(source.stem, read_py(source.read_text(encoding="utf-8"))))
    return text if text.endswith("\n") else text + "\n"


def stale() -> list[Path]:
    """Each .ipynb that differs from what its .py builds, or has no .py."""
    built = {source.with_suffix(".ipynb"): source for source in sources()}
    out = [p for p, s in built.items() if not p.exists() or p.read_text(encoding="utf-8") != ipynb_text(s)]
    return sorted(out + [p for p in HERE.glob("*.ipynb") if p not in built])


def from_ipynb(path: Path) -> Path:
    """Write the .py source of the notebook at ``path`` (outputs and cell metadata dropped)."""
    nb = nbformat.read(path, as_version=4)
    cells = [(c.cell_type, c.source) for c in nb.cells if c.cell_type in ("code", "markdown")]
    target = path.with_suffix(".py")
    target.write_text(write_py(cells), encoding="utf-8", newline="\n")
    return target


def main(args: list[str]) -> int:
    if args[:1] == ["--from-ipynb"]:
        for name in args[1:]:
            print("wrote", from_ipynb(HERE / f"{Path(name).stem}.ipynb").name)
        return 0
    if args[:1] == ["--check"]:
        bad = [p.name for p in stale()]
        for name in bad:
            print(f"{name} is out of date: run python notebooks/build.py", file=sys.stderr)
        return 1 if bad else 0
    known = {s.stem: s for s in sources()}
    unknown = [n for n in args if Path(n).stem not in known]
    if unknown:
        print(f"unknown notebook(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    for source in [known[Path(n).stem] for n in args] or list(known.values()):
        target = source.with_suffix(".ipynb")
        target.write_text(ipynb_text(source), encoding="utf-8", newline="\n")
        print("wrote", target.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
