"""Build the documentation site into a folder: ``python docs/build_site.py [-o site]``.

The site is static HTML (Sphinx, warnings as errors) that works from any local server with
the network off: ``python -m http.server -d site``. It holds

* the pages in docs/*.md (Markdown, MyST), whose examples tests/test_docs.py runs as doctests;
* the notebooks of notebooks/, executed now, with their outputs (``--execute NAME`` runs only
  the notebooks named, the others are shown without outputs: tests/test_site.py runs one, as
  tests/test_notebooks.py runs them all);
* the API reference, generated from the docstrings;
* the gallery (docs/*.png, docs/*.gif, docs/adjoint.svg, made by docs/make_gallery.py);
* a step-through page (scalargrad.viz.write_walkthrough), embedded in the step-through page;
* the op table in the tour, made from the ops' entries (scalargrad.ops.table), so adding an op
  adds its row with no edit to the pages.

Needs the ``docs`` extra and, to run the notebooks, ``notebook`` and ``viz``
(``pip install -e ".[docs,notebook,viz]"``; ``test`` has the docs packages too) and KaTeX's
stylesheet and fonts from npm: ``npm install --prefix tests/js`` (CI does it). The pages are
staged in a temporary folder with what is generated, so the checkout stays as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
KATEX = ROOT / "tests" / "js" / "node_modules" / "katex" / "dist"


class SiteError(RuntimeError):
    """The site cannot be built (a missing component, or Sphinx reported a warning or error)."""


def notebooks() -> list[Path]:
    """The notebooks the site shows, in order."""
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


OP_TABLE = ("<!-- op-table -->", "<!-- /op-table -->")
"""The markers of the op table in docs/tour.md (and README.md), which the staged tour fills."""


def with_op_table(text: str) -> str:
    """``text`` with what stands between the op-table markers replaced by the table from OPS."""
    from scalargrad.ops import table

    start, end = OP_TABLE
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{table()}{end}{after}"


def stage(staging: Path, execute: Collection[str] | None = None) -> Path:
    """Copy the pages into ``staging/src`` with the notebooks, KaTeX and the step-through page.

    ``execute`` names the notebooks (by stem) the build runs; the others are marked
    ``execution_mode: off`` in their staged copy and shown without outputs. None runs all.
    """
    if not (KATEX / "katex.min.css").is_file():
        raise SiteError(f"KaTeX not found at {KATEX}: run `npm install --prefix tests/js`")
    names = [p.stem for p in notebooks()]
    unknown = sorted(set(execute or ()) - set(names))
    if unknown:
        raise SiteError(f"no such notebook: {', '.join(unknown)} (there are {', '.join(names)})")
    src = staging / "src"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("__pycache__", "_build", "*.py"))
    shutil.copy2(DOCS / "conf.py", src / "conf.py")
    tour = src / "tour.md"
    tour.write_text(with_op_table(tour.read_text(encoding="utf-8")), encoding="utf-8")
    (src / "notebooks").mkdir()
    for notebook in notebooks():
        staged = src / "notebooks" / notebook.name
        if execute is None or notebook.stem in execute:
            shutil.copy2(notebook, staged)
        else:  # myst-nb reads the execution mode from the notebook's metadata too
            nb = json.loads(notebook.read_text(encoding="utf-8"))
            nb.setdefault("metadata", {}).setdefault("mystnb", {})["execution_mode"] = "off"
            staged.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.symlink(ROOT / "examples", src / "examples")  # notebook 04 imports ../examples
    static = src / "_static" / "katex"
    static.mkdir(parents=True)
    shutil.copy2(KATEX / "katex.min.css", static / "katex.min.css")
    shutil.copytree(KATEX / "fonts", static / "fonts")
    extra = src / "_extra"
    extra.mkdir()
    from scalargrad import Value
    from scalargrad.viz.page import write_walkthrough

    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    write_walkthrough(x1.log() + x1 * x2 - x2.sin(), extra / "walkthrough.html")
    # the notebooks' kernel "python3" is this interpreter, whatever other kernels are installed
    kernel = staging / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return src


def build(
    out: str | Path, *, quiet: bool = True, execute: Collection[str] | None = None, jobs: str = "auto"
) -> Path:
    """Build the site into ``out`` (replaced if it exists) and return its path.

    ``execute``: the notebooks to run (see :func:`stage`), all by default; ``jobs``: Sphinx's
    ``-j``, the processes that read and write the pages (``auto``: one per CPU).
    """
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="scalargrad-docs-") as tmp:
        src = stage(Path(tmp), execute)
        if out.exists():
            shutil.rmtree(out)
        doctrees = str(Path(tmp) / "doctrees")
        args = ["-W", "--keep-going", "-j", jobs, "-b", "html", "-d", doctrees, str(src), str(out)]
        saved = {name: os.environ.get(name) for name in ("SCALARGRAD_ROOT", "JUPYTER_PATH")}
        os.environ["SCALARGRAD_ROOT"] = str(ROOT)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(Path(tmp) / "jupyter"), saved["JUPYTER_PATH"]])
        )
        try:
            status = build_main([*(["-q"] if quiet else []), *args])
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if status:
            raise SiteError(f"sphinx-build failed (status {status}); see the warnings above")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=str(ROOT / "site"), help="output folder (default: site/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Sphinx's progress")
    parser.add_argument(
        "--execute",
        action="append",
        metavar="NOTEBOOK",
        help="run only this notebook (its name without .ipynb; repeatable); the others are shown "
        "without outputs (default: run every notebook)",
    )
    parser.add_argument("--no-execute", action="store_true", help="run no notebook")
    parser.add_argument("-j", "--jobs", default="auto", help="Sphinx's processes (default: auto)")
    args = parser.parse_args(argv)
    execute = () if args.no_execute else args.execute
    started = time.perf_counter()
    try:
        out = build(args.out, quiet=not args.verbose, execute=execute, jobs=args.jobs)
    except SiteError as error:
        print(f"build_site: {error}", file=sys.stderr)
        return 1
    print(f"site built in {time.perf_counter() - started:.0f} s: {out}/index.html")
    print(f"view it with: python -m http.server -d {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
