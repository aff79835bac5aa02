"""Every notebook in notebooks/ executes without error (nbclient, a python3 kernel on this interpreter).

Skipped cleanly when the ``notebook`` extra (nbclient, nbformat, ipykernel) is not installed,
except under CI (the environment variable ``CI`` set), which installs every extra: there a
missing package fails. The notebooks are committed without outputs; this runs them headless,
cell by cell, and checks that each is exactly what notebooks/build.py builds from its .py source.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell

# Packages beyond the notebook extra that a notebook imports.
NEEDS = {
    "01_differentiation_methods.ipynb": ("graphviz", "ipywidgets"),
    "02_reverse_mode_by_graph_extension.ipynb": ("graphviz",),
    "03_training_an_mlp.ipynb": ("sklearn", "matplotlib"),
    "04_tensors_from_scalars.ipynb": ("numpy",),
    "05_property_based_testing.ipynb": ("hypothesis",),
    "06_the_gradient_as_code.ipynb": ("numpy", "matplotlib"),
    "07_watch_reverse_mode.ipynb": ("graphviz", "ipywidgets"),
}


def need(module: str) -> ModuleType:
    """``module``, imported; a missing one skips the test, or fails it under CI (``CI`` set)."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_notebooks_are_committed_without_outputs() -> None:
    assert PATHS, "no notebooks found"
    for path in PATHS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                    f"{path.name} has outputs; strip them (python notebooks/build.py)"
                )


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec "python3" that runs this interpreter, whatever other kernels are installed."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return root


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_executes(path: Path, kernel_dir: Path) -> None:
    nbclient = need("nbclient")
    nbformat = need("nbformat")
    need("ipykernel")
    for module in NEEDS.get(path.name, ()):
        need(module)
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(path, as_version=4)
    km = KernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    )
    client = nbclient.NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


def load_build() -> ModuleType:
    """notebooks/build.py as a module (it is a script, not part of the package)."""
    need("nbformat")
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def test_each_notebook_is_built_from_its_source() -> None:
    """Each committed .ipynb is exactly what build.py writes from its .py: edit the .py, not the .ipynb."""
    build = load_build()
    assert [s.with_suffix(".ipynb").name for s in build.sources()] == [p.name for p in PATHS]
    stale = [p.name for p in build.stale()]
    assert not stale, f"out of date: {stale}; run python notebooks/build.py"


def test_the_sources_are_in_canonical_percent_format() -> None:
    """Each .py reads back to the same cells and is written back byte for byte (no stray blank lines)."""
    build = load_build()
    for source in build.sources():
        text = source.read_text(encoding="utf-8")
        assert build.write_py(build.read_py(text)) == text, source.name


def test_the_percent_format_round_trips() -> None:
    """Markdown with LaTeX and empty lines, code with blank lines and comments, in order, both ways."""
    build = load_build()
    cells = [
        ("markdown", "# Title\n\n$$\\frac{\\partial y}{\\partial x} = \\bar v_1$$\n\n* a `# %%` mention"),
        ("code", "import math\n\n\ndef f(x):\n    # a comment\n    return math.sin(x)\n\nf(1.0)"),
        ("markdown", "one line"),
        ("code", "x = 1"),
    ]
    text = build.write_py(cells)
    assert text.startswith("# %% [markdown]\n# # Title\n#\n# $$") and text.endswith("x = 1\n")
    assert build.read_py(text) == cells
    nb = build.make("00_test", cells)
    assert [(c.cell_type, c.source) for c in nb.cells] == cells
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    for bad in [("code", "x = 1\n"), ("code", "# %%"), ("markdown", "%%"), ("markdown", "trailing  ")]:
        with pytest.raises(ValueError):
            build.write_py([bad])
    with pytest.raises(ValueError):
        build.read_py("x = 1\n# %%\n")
    with pytest.raises(ValueError):
        build.read_py("# %% [markdown]\nnot a comment\n")


def test_build_check_names_a_stale_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``build.py --check`` exits non-zero and names the .ipynb that is out of date, or has no .py."""
    build = load_build()
    (tmp_path / "01_a.py").write_text("# %%\nx = 1\n", encoding="utf-8")
    (tmp_path / "02_b.py").write_text("# %% [markdown]\n# B\n", encoding="utf-8")
    monkeypatch.setattr(build, "HERE", tmp_path)
    assert build.main([]) == 0
    assert build.main(["--check"]) == 0
    (tmp_path / "01_a.py").write_text("# %%\nx = 2\n", encoding="utf-8")
    (tmp_path / "03_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert [p.name for p in build.stale()] == ["01_a.ipynb", "03_orphan.ipynb"]
    assert build.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "01_a.ipynb is out of date" in err and "03_orphan.ipynb" in err and "02_b" not in err
    assert build.main(["01_a"]) == 0
    assert [p.name for p in build.stale()] == ["03_orphan.ipynb"]


# the distribution that provides each module the notebooks import
DISTRIBUTIONS = {"sklearn": "scikit-learn", "IPython": "ipykernel"}


def test_the_notebook_and_viz_extras_cover_every_notebook() -> None:
    """README: ``pip install -e ".[notebook,viz]"`` is enough to open (JupyterLab) and run the notebooks."""
    import configparser

    config = configparser.ConfigParser()
    config.read(NOTEBOOKS.parent / "setup.cfg", encoding="utf-8")
    extras = config["options.extras_require"]
    names = set()
    for extra in ("notebook", "viz"):
        for line in extras[extra].split():
            names.add(line.split(">")[0].split("=")[0].split("<")[0].strip().lower())
    needed = {"jupyterlab", "nbclient", "nbformat", "ipykernel"} | {m for ms in NEEDS.values() for m in ms}
    missing = sorted(m for m in needed if DISTRIBUTIONS.get(m, m).lower() not in names)
    assert not missing, f"the notebook/viz extras lack {missing}"
